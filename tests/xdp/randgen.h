/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Random valid policies and random packets for the differential test (test_xdp_diff.c): zones
 * with nested v4/v6 prefixes and host groups, services with ports, ranges, ICMP types and other
 * protocols, allow and deny flows, monitor zones and flows, windows active or not; packets from
 * the policy's prefixes and their edges, from around them and from anywhere, some behind VLAN
 * tags, IPv6 extension headers or as first fragments. One splitmix64 stream per policy, so a
 * policy and its packets are reproduced from the seed and the policy's index.
 */
#ifndef WW_TEST_XDP_RANDGEN_H
#define WW_TEST_XDP_RANDGEN_H

#include "xdp.h"

#define MAX_ZONES     5
#define MAX_NETS      3
#define MAX_HOSTS     3
#define MAX_HOST_NETS 2
#define MAX_SVCS      6
#define MAX_FLOWS     24

/* ---- random numbers: splitmix64, one stream per policy ---- */

struct rng {
	uint64_t s;
};

static inline uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

static inline bool chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

static inline u128 rnd128(struct rng *r)
{
	return (u128)rnd(r) << 64 | rnd(r);
}

/* ---- the generated policy, as far as packets need it ---- */

struct gterm {
	int proto; /* WW_PROTO_ANY or a number */
	unsigned int lo, hi;
};

struct gen {
	struct rng r;
	int64_t now;
	struct ww_prefix pfx[MAX_ZONES * (MAX_NETS + MAX_HOSTS * MAX_HOST_NETS)];
	size_t npfx;
	struct gterm terms[MAX_SVCS * 3 * 3 + 8];
	size_t nterms;
};

static inline u128 host_mask(const struct ww_prefix *p)
{
	unsigned int bits = ww_family_bits(p->a.family) - p->len;

	return bits >= 128 ? ~(u128)0 : ((u128)1 << bits) - 1;
}

static inline bool pfx_taken(const struct gen *g, const struct ww_prefix *p)
{
	for (size_t i = 0; i < g->npfx; i++)
		if (!ww_prefix_cmp(&g->pfx[i], p))
			return true;
	return false;
}

/* A random prefix of family f: inside an existing one (nesting), or somewhere in the test's
 * address space, now and then the whole family. */
static inline struct ww_prefix rnd_prefix(struct gen *g, int f)
{
	struct ww_prefix p = {.a.family = (uint8_t)f};
	unsigned int bits = ww_family_bits(f);
	size_t same[ARRAY_SIZE(g->pfx)], ns = 0;

	for (size_t i = 0; i < g->npfx; i++)
		if (g->pfx[i].a.family == f && g->pfx[i].len < bits)
			same[ns++] = i;
	if (ns && chance(&g->r, 45)) {
		const struct ww_prefix *o = &g->pfx[same[below(&g->r, (uint32_t)ns)]];
		p.len = (uint8_t)(o->len + 1 + below(&g->r, bits - o->len));
		if (p.len < bits && chance(&g->r, 50)) /* stay near the outer one: more overlap */
			p.len = (uint8_t)(o->len + 1 + below(&g->r, (bits - o->len) / 4 + 1));
		p.a.v = o->a.v | (rnd128(&g->r) & host_mask(o));
	} else if (chance(&g->r, 4)) {
		p.len = 0;
		p.a.v = 0;
		return p;
	} else if (f == WW_INET) {
		p.len = (uint8_t)(8 + below(&g->r, 25)); /* inside 10.0.0.0/8 */
		p.a.v = 0x0a000000u | (rnd(&g->r) & 0x00ffffffu);
	} else {
		p.len = (uint8_t)(16 + below(&g->r, 113)); /* inside fd00::/16 */
		p.a.v = (u128)0xfd00 << 112 | (rnd128(&g->r) & (~(u128)0 >> 16));
	}
	p.a.v &= ~host_mask(&p);
	return p;
}

/* A random sub-prefix of p, strictly longer; false if p is a single address. */
static inline bool sub_prefix(struct gen *g, const struct ww_prefix *p, struct ww_prefix *out)
{
	unsigned int bits = ww_family_bits(p->a.family);

	if (p->len >= bits)
		return false;
	*out = *p;
	out->len = (uint8_t)(p->len + 1 + below(&g->r, bits - p->len));
	out->a.v = p->a.v | (rnd128(&g->r) & host_mask(p));
	out->a.v &= ~host_mask(out);
	return true;
}

static inline void add_pfx_json(struct strbuf *sb, const struct ww_prefix *p, bool first)
{
	char buf[WW_PREFIX_STRLEN];

	sb_addf(sb, "%s\"%s\"", first ? "" : ", ", ww_prefix_str(p, false, buf));
}

static inline void add_time(struct strbuf *sb, const char *key, int64_t t, bool comma)
{
	char buf[WW_TIME_STRLEN];

	sb_addf(sb, "%s\"%s\": \"%s\"", comma ? ", " : "", key, ww_time_str(t, buf));
}

/* A window, active at g->now or not; some bounds far ahead, near the language's limit (windows
 * must end before 2200), where nanoseconds need most of 64 bits. */
#define FAR 7258118399LL /* 2199-12-31T23:59:59Z */
static inline void add_window(struct gen *g, struct strbuf *sb)
{
	int64_t h = 3600, y = 365 * 24 * h, now = g->now;

	sb_add(sb, ", \"valid\": {");
	switch (below(&g->r, 8)) {
	case 0: /* active */
		add_time(sb, "from", now - h - below(&g->r, (uint32_t)y), false);
		add_time(sb, "until", now + h + below(&g->r, (uint32_t)y), true);
		break;
	case 1: /* active, open-ended */
		add_time(sb, "from", now - h - below(&g->r, (uint32_t)y), false);
		break;
	case 2:
		add_time(sb, "until", now + h + below(&g->r, (uint32_t)y), false);
		break;
	case 3: /* over */
		add_time(sb, "from", now - 2 * y, false);
		add_time(sb, "until", now - h - below(&g->r, (uint32_t)y), true);
		break;
	case 4: /* to come */
		add_time(sb, "from", now + h + below(&g->r, (uint32_t)y), false);
		if (chance(&g->r, 50))
			add_time(sb, "until", now + 2 * y, true);
		break;
	case 5: /* active until far ahead */
		add_time(sb, "from", now - y, false);
		add_time(sb, "until", FAR - below(&g->r, (uint32_t)y), true);
		break;
	case 6: /* from far ahead */
		add_time(sb, "from", FAR - 1 - below(&g->r, (uint32_t)y), false);
		break;
	default: /* from the epoch */
		add_time(sb, "from", below(&g->r, 2), false);
		add_time(sb, "until", FAR, true);
		break;
	}
	sb_add(sb, "}");
}

/* Interesting ports and types, so that ranges overlap and packets hit their edges. */
static inline unsigned int rnd_key(struct gen *g, unsigned int max)
{
	static const unsigned int ports[] = {1, 22, 53, 80, 443, 1000, 1024, 8000, 8080, 65535};
	static const unsigned int types[] = {0, 3, 8, 11, 128, 129, 133, 255};

	if (max == 65535) {
		unsigned int base = ports[below(&g->r, ARRAY_SIZE(ports))];
		return chance(&g->r, 50) ? base : (base + below(&g->r, 64)) % 65536;
	}
	return chance(&g->r, 50) ? types[below(&g->r, ARRAY_SIZE(types))] : below(&g->r, 256);
}

static inline void add_term(struct gen *g, struct strbuf *sb, bool first)
{
	static const int others[] = {47, 50, 51, 0, 2, 41, 89, 253};
	unsigned int x = below(&g->r, 100), max;
	int proto;

	proto = x < 28	 ? WW_PROTO_TCP
		: x < 46 ? WW_PROTO_UDP
		: x < 54 ? WW_PROTO_SCTP
		: x < 66 ? WW_PROTO_ICMP
		: x < 78 ? WW_PROTO_ICMPV6
		: x < 82 ? WW_PROTO_ANY
			 : others[below(&g->r, ARRAY_SIZE(others))];
	if (proto == WW_PROTO_ANY)
		sb_addf(sb, "%s{\"proto\": \"any\"}", first ? "" : ", ");
	else if (chance(&g->r, 30))
		sb_addf(sb, "%s{\"proto\": %d", first ? "" : ", ", proto);
	else
		sb_addf(sb, "%s{\"proto\": \"%d\"", first ? "" : ", ", proto);
	max = ww_proto_key_max(proto);
	if (proto == WW_PROTO_ANY)
		return;
	if (!max || chance(&g->r, 30)) {
		sb_add(sb, "}");
		g->terms[g->nterms++] = (struct gterm){proto, 0, max};
		return;
	}
	sb_addf(sb, ", \"%s\": [", max == 65535 ? "ports" : "types");
	unsigned int n = 1 + below(&g->r, 3);
	for (unsigned int i = 0; i < n; i++) {
		unsigned int lo = rnd_key(g, max), hi = lo;
		if (max == 65535 && lo == 0)
			lo = hi = 1;
		if (chance(&g->r, 50))
			hi = lo + below(&g->r, chance(&g->r, 50) ? 8 : 2000);
		if (hi > max)
			hi = max;
		if (lo == hi)
			sb_addf(sb, "%s%u", i ? ", " : "", lo);
		else
			sb_addf(sb, "%s\"%u-%u\"", i ? ", " : "", lo, hi);
		g->terms[g->nterms++] = (struct gterm){proto, lo, hi};
	}
	sb_add(sb, "]}");
}

struct gzone {
	char name[8];
	size_t nhosts;
};

static inline void add_endpoints(struct gen *g, struct strbuf *sb, const struct gzone *z, size_t nz)
{
	char seen[MAX_ZONES * (MAX_HOSTS + 1)][32];
	size_t n = 1 + below(&g->r, 2), k = 0;

	if (chance(&g->r, 10)) {
		sb_add(sb, "\"*\"");
		return;
	}
	sb_add(sb, "[");
	for (size_t i = 0; i < n; i++) {
		const struct gzone *x = &z[below(&g->r, (uint32_t)nz)];
		char ep[32];
		bool dup = false;
		if (x->nhosts && chance(&g->r, 50))
			snprintf(ep, sizeof(ep), "%s/h%u", x->name,
				 below(&g->r, (uint32_t)x->nhosts));
		else
			snprintf(ep, sizeof(ep), "%s", x->name);
		for (size_t j = 0; j < k && !dup; j++)
			dup = !strcmp(seen[j], ep);
		if (dup)
			continue;
		snprintf(seen[k++], sizeof(seen[0]), "%s", ep);
		sb_addf(sb, "%s\"%s\"", k > 1 ? ", " : "", ep);
	}
	sb_add(sb, "]");
}

static const char *const builtin[] = {"any", "ping", "dns", "https", "icmp", "ssh"};

/* A flow's services: one or two of the policy's and the built-ins; in dense policies often
 * "any", so that many flows share the same atoms. */
static inline void add_services(struct gen *g, struct strbuf *sb, size_t nsvc, bool dense)
{
	size_t ns = 1 + below(&g->r, 2), nall = nsvc + ARRAY_SIZE(builtin);
	size_t a = below(&g->r, (uint32_t)nall);

	sb_add(sb, ", \"services\": [");
	if (dense && chance(&g->r, 40))
		ns = 0, sb_add(sb, "\"any\"");
	for (size_t k = 0; k < ns; k++, a = (a + 1 + below(&g->r, 3)) % nall) {
		if (a < nsvc)
			sb_addf(sb, "%s\"s%zu\"", k ? ", " : "", a);
		else
			sb_addf(sb, "%s\"%s\"", k ? ", " : "", builtin[a - nsvc]);
	}
}

/* A random valid policy as JSON text. */
static inline char *gen_policy(struct gen *g)
{
	struct gzone zones[MAX_ZONES];
	size_t nz = 2 + below(&g->r, MAX_ZONES - 1), nsvc = 2 + below(&g->r, MAX_SVCS - 1);
	size_t nflows = 2 + below(&g->r, MAX_FLOWS / 2 - 1);
	/* A third of the policies are dense: many flows between few zones, many of them monitor
	 * or windowed (which never end a decision list), so lists grow to the program's limit. */
	bool dense = chance(&g->r, 33);
	unsigned int p_deny = 40, p_monitor = 30, p_window = 25;
	struct strbuf sb = {0};

	if (dense) {
		nz = 2 + below(&g->r, 2);
		nflows = MAX_FLOWS / 2 + below(&g->r, MAX_FLOWS / 2 + 1);
		p_deny = 50;
		p_monitor = 70;
		p_window = 70;
	}

	g->npfx = g->nterms = 0;
	sb_addf(&sb,
		"{\"wardwall\": 1, \"name\": \"diff\", \"defaults\": {\"between_zones\": "
		"\"%s\", \"within_zone\": \"%s\", \"log\": \"%s\"},\n",
		chance(&g->r, 30) ? "allow" : "deny", chance(&g->r, 40) ? "allow" : "deny",
		chance(&g->r, 50) ? "deny" : "none");
	/* Bridge mode judges like gateway mode (the machine's own addresses pass). */
	int mode = chance(&g->r, 70) ? 0 : chance(&g->r, 50) ? 1 : 2;
	sb_addf(&sb, "\"enforcement\": {\"mode\": \"%s\"%s},\n\"zones\": {",
		(const char *[]){"gateway", "host", "bridge"}[mode],
		mode == 2 ? ", \"interfaces\": [\"port-1\"]" : "");
	for (size_t i = 0; i < nz; i++) {
		struct gzone *z = &zones[i];
		size_t first = g->npfx, nn = 1 + below(&g->r, MAX_NETS);
		snprintf(z->name, sizeof(z->name), "z%zu", i);
		sb_addf(&sb, "%s\n \"%s\": {%s\"networks\": [", i ? "," : "", z->name,
			chance(&g->r, 20) ? "\"mode\": \"monitor\", " : "");
		for (size_t k = 0; k < nn; k++) {
			struct ww_prefix p;
			int tries = 0;
			do
				p = rnd_prefix(g, chance(&g->r, 50) ? WW_INET : WW_INET6);
			while (pfx_taken(g, &p) && ++tries < 20);
			if (tries >= 20)
				continue;
			add_pfx_json(&sb, &p, g->npfx == first);
			g->pfx[g->npfx++] = p;
		}
		if (g->npfx == first) { /* every try collided: a fresh /32 */
			struct ww_prefix p = {.a = {WW_INET, 0x0b000000u + (uint32_t)i}, .len = 32};
			add_pfx_json(&sb, &p, true);
			g->pfx[g->npfx++] = p;
		}
		sb_add(&sb, "]");
		size_t nets_end = g->npfx, nh = below(&g->r, MAX_HOSTS + 1);
		z->nhosts = 0;
		for (size_t h = 0; h < nh; h++) {
			size_t hfirst = g->npfx, hn = 1 + below(&g->r, MAX_HOST_NETS);
			struct strbuf hs = {0};
			for (size_t k = 0; k < hn; k++) {
				const struct ww_prefix *o =
				    &g->pfx[first + below(&g->r, (uint32_t)(nets_end - first))];
				struct ww_prefix p;
				int tries = 0;
				bool ok;
				while ((ok = sub_prefix(g, o, &p)) && pfx_taken(g, &p) &&
				       ++tries < 20)
					;
				if (!ok || tries >= 20)
					continue;
				add_pfx_json(&hs, &p, g->npfx == hfirst);
				g->pfx[g->npfx++] = p;
			}
			if (g->npfx > hfirst) {
				sb_addf(&sb, "%s\"h%zu\": [%s]",
					z->nhosts ? ", " : ", \"hosts\": {", z->nhosts,
					sb_str(&hs));
				z->nhosts++;
			}
			sb_free(&hs);
		}
		sb_add(&sb, z->nhosts ? "}}" : "}");
	}
	sb_add(&sb, "},\n\"services\": {");
	for (size_t i = 0; i < nsvc; i++) {
		size_t nt = 1 + below(&g->r, 3);
		sb_addf(&sb, "%s\n \"s%zu\": [", i ? "," : "", i);
		for (size_t k = 0; k < nt; k++)
			add_term(g, &sb, k == 0);
		sb_add(&sb, "]");
	}
	/* The built-ins flows may name, for the packets' keys. */
	g->terms[g->nterms++] = (struct gterm){WW_PROTO_ICMP, 8, 8};
	g->terms[g->nterms++] = (struct gterm){WW_PROTO_ICMPV6, 128, 128};
	g->terms[g->nterms++] = (struct gterm){WW_PROTO_UDP, 53, 53};
	g->terms[g->nterms++] = (struct gterm){WW_PROTO_TCP, 443, 443};
	g->terms[g->nterms++] = (struct gterm){WW_PROTO_TCP, 22, 22};
	sb_add(&sb, "},\n\"flows\": [");
	for (size_t i = 0; i < nflows; i++) {
		bool deny = chance(&g->r, p_deny);
		sb_addf(&sb, "%s\n {\"id\": \"f%zu\", \"from\": ", i ? "," : "", i);
		add_endpoints(g, &sb, zones, nz);
		sb_add(&sb, ", \"to\": ");
		add_endpoints(g, &sb, zones, nz);
		add_services(g, &sb, nsvc, dense);
		sb_addf(&sb, "], \"action\": \"%s\"", deny ? "deny" : "allow");
		if (chance(&g->r, deny ? p_monitor : 5))
			sb_add(&sb, ", \"mode\": \"monitor\"");
		if (chance(&g->r, p_window))
			add_window(g, &sb);
		if (chance(&g->r, 10))
			sb_addf(&sb, ", \"log\": %s", chance(&g->r, 50) ? "true" : "false");
		sb_add(&sb, "}");
	}
	sb_add(&sb, "\n]}\n");
	return sb_steal(&sb);
}

/* ---- packets ---- */

static inline void rnd_addr(struct gen *g, int f, uint8_t *out)
{
	unsigned int x = below(&g->r, 100);
	struct ww_addr a = {.family = (uint8_t)f};
	size_t same[ARRAY_SIZE(g->pfx)], ns = 0;

	for (size_t i = 0; i < g->npfx; i++)
		if (g->pfx[i].a.family == f)
			same[ns++] = i;
	if (ns && x < 80) {
		const struct ww_prefix *p = &g->pfx[same[below(&g->r, (uint32_t)ns)]];
		unsigned int e = below(&g->r, 10);
		a.v = ww_prefix_first(p);
		/* The edges of prefixes are where off-by-ones live. */
		if (e == 0)
			a.v = ww_prefix_last(p);
		else if (e == 1 && p->len)
			a.v = ww_prefix_first(p) - 1;
		else if (e == 2 && ww_prefix_last(p) != (f == WW_INET ? 0xffffffffu : ~(u128)0))
			a.v = ww_prefix_last(p) + 1;
		else if (e > 3)
			a.v |= rnd128(&g->r) & host_mask(p);
	} else if (x < 90) {
		a.v = f == WW_INET ? 0x0a000000u | (rnd(&g->r) & 0x00ffffffu)
				   : (u128)0xfd00 << 112 | (rnd128(&g->r) & (~(u128)0 >> 16));
	} else if (x < 92) {
		a.v = f == WW_INET ? 0x7f000001u : 1; /* this machine's lo */
	} else {
		a.v = rnd128(&g->r);
	}
	if (f == WW_INET)
		a.v &= 0xffffffffu;
	ww_addr_bytes(f, a.v, out);
}

/* Extension header numbers the program walks in IPv6: never a transport protocol there. */
static inline bool v6_exthdr(int proto)
{
	return proto == 0 || proto == 43 || proto == 44 || proto == 51 || proto == 60;
}

static inline void rnd_packet(struct gen *g, struct xpkt *p)
{
	static const int protos[] = {IPPROTO_TCP,    IPPROTO_TCP,    IPPROTO_TCP,  IPPROTO_UDP,
				     IPPROTO_UDP,    IPPROTO_SCTP,   IPPROTO_ICMP, IPPROTO_ICMP,
				     IPPROTO_ICMPV6, IPPROTO_ICMPV6, 47,	   -1};
	int f = chance(&g->r, 50) ? WW_INET : WW_INET6;

	memset(p, 0, sizeof(*p));
	p->family = f == WW_INET ? 4 : 6;
	rnd_addr(g, f, p->src);
	rnd_addr(g, f, p->dst);
	do {
		p->proto = protos[below(&g->r, ARRAY_SIZE(protos))];
		if (p->proto < 0)
			p->proto = (int)below(&g->r, 256);
	} while (p->family == 6 && v6_exthdr(p->proto));
	/* Wrappings the program must see through: tags, extension headers, first fragments. */
	if (chance(&g->r, 10))
		p->vlan[0] = chance(&g->r, 50) ? 0x8100 : 0x88a8;
	if (p->vlan[0] && chance(&g->r, 30))
		p->vlan[1] = 0x8100;
	if (p->family == 6 && chance(&g->r, 15)) {
		static const uint8_t ext[] = {0, 43, 60, 44, 51};
		p->nexts = 1 + (int)below(&g->r, 6);
		for (int i = 0; i < p->nexts; i++)
			p->exts[i] = ext[below(&g->r, ARRAY_SIZE(ext))];
		p->v6frag = chance(&g->r, 50) ? 1 : 0; /* offset 0: a first fragment, or whole */
	}
	if (p->family == 4 && chance(&g->r, 5))
		p->frag = 0x2000; /* more fragments, offset 0 */
	p->sport = (uint16_t)(1024 + below(&g->r, 64512));
	if (ww_proto_has_ports(p->proto) || xt_is_icmp(p->proto)) {
		unsigned int max = ww_proto_key_max(p->proto), k;
		/* Mostly the edges of the policy's terms of this protocol, else anything. */
		const struct gterm *t = &g->terms[below(&g->r, (uint32_t)g->nterms)];
		if (chance(&g->r, 70) && t->proto == p->proto) {
			unsigned int e = below(&g->r, 4);
			k = e == 0 ? t->lo - 1 : e == 1 ? t->lo : e == 2 ? t->hi : t->hi + 1;
			if (k > max)
				k = t->lo;
		} else if (chance(&g->r, 50)) {
			k = rnd_key(g, max);
		} else {
			k = below(&g->r, max + 1);
		}
		if (ww_proto_has_ports(p->proto))
			p->dport = (uint16_t)k;
		else
			p->type = (uint8_t)k;
		p->code = (uint8_t)below(&g->r, 4);
	}
}

#endif
