// SPDX-License-Identifier: GPL-2.0-only
#include "nfr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void nfr_rule_clear(struct nfr_rule *r)
{
	free(r->iifname);
	free(r->oifname);
	free(r->set);
	free(r->counter_map);
	free(r->counter);
	free(r->limit);
	free(r->log_prefix);
	free(r->v.chain);
	free(r->foreign);
	memset(r, 0, sizeof(*r));
}

void nfr_set_clear(struct nfr_set *s)
{
	for (size_t i = 0; i < s->nelems; i++) {
		free(s->elems[i].ifname);
		free(s->elems[i].v.chain);
		free(s->elems[i].obj);
	}
	free(s->elems);
	free(s->name);
	free(s->foreign);
	memset(s, 0, sizeof(*s));
}

void nfr_chain_clear(struct nfr_chain *c)
{
	for (size_t i = 0; i < c->nrules; i++)
		nfr_rule_clear(&c->rules[i]);
	free(c->rules);
	free(c->name);
	free(c->foreign);
	memset(c, 0, sizeof(*c));
}

void nfr_table_free(struct nfr_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->ncounters; i++)
		free(t->counters[i].name);
	free(t->counters);
	for (size_t i = 0; i < t->nlimits; i++)
		free(t->limits[i].name);
	free(t->limits);
	for (size_t i = 0; i < t->nsets; i++)
		nfr_set_clear(&t->sets[i]);
	free(t->sets);
	for (size_t i = 0; i < t->nchains; i++)
		nfr_chain_clear(&t->chains[i]);
	free(t->chains);
	free(t->comment);
	free(t);
}

static int name_cmp(const void *a, const void *b)
{
	/* Every object struct starts with its name. */
	return strcmp(*(char *const *)a, *(char *const *)b);
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

/* By every field's low end, then high end: the boxes of a concatenated set are disjoint, so the
 * low ends alone order them; the high ends only make the order total whatever the input. */
int nfr_elem_cmp(const struct nfr_elem *x, const struct nfr_elem *y)
{
	int c = CMP(x->lo, y->lo);

	if (x->ifname || y->ifname)
		return strcmp(x->ifname ? x->ifname : "", y->ifname ? y->ifname : "");
	for (unsigned int i = 0; !c && i < NFR_CAT_MAX - 1; i++)
		c = CMP(x->clo[i], y->clo[i]);
	if (!c)
		c = CMP(x->hi, y->hi);
	for (unsigned int i = 0; !c && i < NFR_CAT_MAX - 1; i++)
		c = CMP(x->chi[i], y->chi[i]);
	return c;
}

static int elem_cmp(const void *a, const void *b)
{
	return nfr_elem_cmp(a, b);
}

/* Sorts unless already sorted (the compiler builds its flow maps in order: a look at each
 * element instead of a sort of a million); qsort wants a valid pointer even for nothing. */
static void sort(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	const char *p = v;
	size_t i = 1;

	while (i < n && cmp(p + (i - 1) * size, p + i * size) <= 0)
		i++;
	if (i < n)
		qsort(v, n, size, cmp);
}

void nfr_table_sort(struct nfr_table *t)
{
	sort(t->counters, t->ncounters, sizeof(*t->counters), name_cmp);
	sort(t->limits, t->nlimits, sizeof(*t->limits), name_cmp);
	sort(t->sets, t->nsets, sizeof(*t->sets), name_cmp);
	sort(t->chains, t->nchains, sizeof(*t->chains), name_cmp);
	for (size_t i = 0; i < t->nsets; i++)
		sort(t->sets[i].elems, t->sets[i].nelems, sizeof(*t->sets[i].elems), elem_cmp);
}

struct nfr_chain *nfr_chain_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->chains, t->nchains, sizeof(*t->chains), name_cmp);
}

struct nfr_set *nfr_set_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->sets, t->nsets, sizeof(*t->sets), name_cmp);
}

struct nfr_counter *nfr_counter_find(const struct nfr_table *t, const char *name)
{
	return bsearch(&name, t->counters, t->ncounters, sizeof(*t->counters), name_cmp);
}

unsigned int nfr_key_len(enum nfr_key k)
{
	switch (k) {
	case NK_SADDR4:
	case NK_DADDR4:
	case NK_MARK:
		return 4;
	case NK_SADDR6:
	case NK_DADDR6:
	case NK_IFNAME:
		return 16;
	case NK_TCP_DPORT:
	case NK_UDP_DPORT:
	case NK_SCTP_DPORT:
	case NK_TH_DPORT:
	case NK_PROTOCOL:
		return 2;
	case NK_ICMP_TYPE:
	case NK_ICMPV6_TYPE:
	case NK_L4PROTO:
		return 1;
	default:
		return 0;
	}
}

u128 nfr_key_max(enum nfr_key k)
{
	unsigned int len = nfr_key_len(k);

	return len >= 16 ? ~(u128)0 : (((u128)1 << (8 * len)) - 1);
}

static const char *key_expr(enum nfr_key k)
{
	static const char *const s[] = {
		[NK_SADDR4] = "ip saddr",       [NK_DADDR4] = "ip daddr",
		[NK_SADDR6] = "ip6 saddr",      [NK_DADDR6] = "ip6 daddr",
		[NK_TCP_DPORT] = "tcp dport",   [NK_UDP_DPORT] = "udp dport",
		[NK_SCTP_DPORT] = "sctp dport", [NK_ICMP_TYPE] = "icmp type",
		[NK_ICMPV6_TYPE] = "icmpv6 type", [NK_L4PROTO] = "meta l4proto",
		[NK_IFNAME] = "iifname",        [NK_PROTOCOL] = "meta protocol",
		[NK_TH_DPORT] = "th dport",     [NK_MARK] = "meta mark",
	};
	return s[k];
}

const char *nfr_family_str(enum nfr_family f)
{
	return f == NFR_BRIDGE ? "bridge" : "inet";
}

const char *nfr_key_type(enum nfr_key k)
{
	static const char *const s[] = {
		[NK_SADDR4] = "ipv4_addr",     [NK_DADDR4] = "ipv4_addr",
		[NK_SADDR6] = "ipv6_addr",     [NK_DADDR6] = "ipv6_addr",
		[NK_TCP_DPORT] = "inet_service", [NK_UDP_DPORT] = "inet_service",
		[NK_SCTP_DPORT] = "inet_service", [NK_ICMP_TYPE] = "icmp_type",
		[NK_ICMPV6_TYPE] = "icmpv6_type", [NK_L4PROTO] = "inet_proto",
		[NK_IFNAME] = "ifname",        [NK_PROTOCOL] = "ether_type",
		[NK_TH_DPORT] = "inet_service", [NK_MARK] = "mark",
	};
	return s[k];
}

static bool is_addr(enum nfr_key k)
{
	return k == NK_SADDR4 || k == NK_DADDR4 || k == NK_SADDR6 || k == NK_DADDR6;
}

/* A number in decimal, without printf: render writes a million of them at 100k flows. */
static void dec_render(unsigned long long v, struct strbuf *out)
{
	char buf[24], *e = buf + sizeof(buf), *q = e;

	do
		*--q = (char)('0' + v % 10);
	while (v /= 10);
	sb_addn(out, q, (size_t)(e - q));
}

/* A mark as nft prints one: 0x and 8 hex digits (0x00010000), without printf, as dec_render. */
static void mark_render(uint32_t v, struct strbuf *out)
{
	char buf[10] = "0x";

	for (int i = 0; i < 8; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
	sb_addn(out, buf, sizeof(buf));
}

/* An address as inet_ntop writes it (dotted quad, or RFC 5952 for IPv6). */
static void addr_render(enum nfr_key k, u128 v, struct strbuf *out)
{
	char buf[WW_PREFIX_STRLEN];

	if (nfr_key_len(k) != 4) {
		struct ww_addr a = {.family = WW_INET6, .v = v};
		sb_add(out, ww_addr_str(&a, buf));
		return;
	}
	for (int i = 3; i >= 0; i--) {
		dec_render((unsigned int)(v >> (8 * i)) & 0xff, out);
		if (i)
			sb_addn(out, ".", 1);
	}
}

static void value_render(enum nfr_key k, u128 v, struct strbuf *out)
{
	if (is_addr(k)) {
		addr_render(k, v, out);
	} else if (k == NK_PROTOCOL) {
		if (v == NFR_ETH_IP || v == NFR_ETH_IP6)
			sb_add(out, v == NFR_ETH_IP ? "ip" : "ip6");
		else
			sb_addf(out, "0x%04x", (unsigned int)v);
	} else if (k == NK_MARK) {
		mark_render((uint32_t)v, out);
	} else {
		dec_render((unsigned int)v, out);
	}
}

static unsigned int popcount128(u128 v)
{
	return (unsigned int)(__builtin_popcountll((uint64_t)v) +
			      __builtin_popcountll((uint64_t)(v >> 64)));
}

/* An address range that is exactly one prefix prints as the prefix, as nft does: its size less
 * one is a host mask (2^k - 1) and its start is aligned on it. */
static void range_render(enum nfr_key k, u128 lo, u128 hi, struct strbuf *out)
{
	u128 m = hi - lo;

	if (is_addr(k) && lo < hi && !(m & (m + 1)) && !(lo & m)) {
		addr_render(k, lo, out);
		sb_addn(out, "/", 1);
		dec_render(8 * nfr_key_len(k) - popcount128(m), out);
		return;
	}
	value_render(k, lo, out);
	if (hi != lo) {
		sb_add(out, "-");
		value_render(k, hi, out);
	}
}

/*
 * The names nft prints for a protocol and an ICMP type in a concatenated set's element, so that
 * render reads as `nft list` does. nft takes protocol names from /etc/protocols; these are
 * netbase's (the first name of each number), fixed here because render must not depend on the
 * machine: content-addressed names hash it. ICMP names are nft's own (datatype.c, proto.c).
 */
static const char *const proto_names[256] = {
	[0] = "ip",                [1] = "icmp",              [2] = "igmp",
	[3] = "ggp",               [4] = "ipencap",           [5] = "st",
	[6] = "tcp",               [8] = "egp",               [9] = "igp",
	[12] = "pup",              [17] = "udp",              [20] = "hmp",
	[22] = "xns-idp",          [27] = "rdp",              [29] = "iso-tp4",
	[33] = "dccp",             [36] = "xtp",              [37] = "ddp",
	[38] = "idpr-cmtp",        [41] = "ipv6",             [43] = "ipv6-route",
	[44] = "ipv6-frag",        [45] = "idrp",             [46] = "rsvp",
	[47] = "gre",              [50] = "esp",              [51] = "ah",
	[57] = "skip",             [58] = "ipv6-icmp",        [59] = "ipv6-nonxt",
	[60] = "ipv6-opts",        [73] = "rspf",             [81] = "vmtp",
	[88] = "eigrp",            [89] = "ospf",             [93] = "ax.25",
	[94] = "ipip",             [97] = "etherip",          [98] = "encap",
	[103] = "pim",             [108] = "ipcomp",          [112] = "vrrp",
	[115] = "l2tp",            [124] = "isis",            [132] = "sctp",
	[133] = "fc",              [135] = "mobility-header", [136] = "udplite",
	[137] = "mpls-in-ip",      [138] = "manet",           [139] = "hip",
	[140] = "shim6",           [141] = "wesp",            [142] = "rohc",
	[143] = "ethernet",
};
static const char *const icmp_names[256] = {
	[0] = "echo-reply",               [3] = "destination-unreachable",
	[4] = "source-quench",            [5] = "redirect",
	[8] = "echo-request",             [9] = "router-advertisement",
	[10] = "router-solicitation",     [11] = "time-exceeded",
	[12] = "parameter-problem",       [13] = "timestamp-request",
	[14] = "timestamp-reply",         [15] = "info-request",
	[16] = "info-reply",              [17] = "address-mask-request",
	[18] = "address-mask-reply",
};
static const char *const icmpv6_names[256] = {
	[1] = "destination-unreachable",  [2] = "packet-too-big",
	[3] = "time-exceeded",            [4] = "parameter-problem",
	[128] = "echo-request",           [129] = "echo-reply",
	[130] = "mld-listener-query",     [131] = "mld-listener-report",
	[132] = "mld-listener-done",      [133] = "nd-router-solicit",
	[134] = "nd-router-advert",       [135] = "nd-neighbor-solicit",
	[136] = "nd-neighbor-advert",     [137] = "nd-redirect",
	[138] = "router-renumbering",     [141] = "ind-neighbor-solicit",
	[142] = "ind-neighbor-advert",    [143] = "mld2-listener-report",
};

/* A concatenation's field 1.. (a protocol, a port, an ICMP type): a single value by its name
 * where nft prints one, a range as numbers, as nft does. */
static void field_render(enum nfr_key k, uint32_t lo, uint32_t hi, struct strbuf *out)
{
	const char *const *names = NULL;

	if (k == NK_L4PROTO)
		names = proto_names;
	else if (k == NK_ICMP_TYPE)
		names = icmp_names;
	else if (k == NK_ICMPV6_TYPE)
		names = icmpv6_names;
	if (names && lo == hi && lo < 256 && names[lo])
		sb_add(out, names[lo]);
	else
		range_render(k, lo, hi, out);
}

/* "ip daddr . meta l4proto . th dport" (what), "ipv4_addr . inet_proto . inet_service" (type). */
static void cat_render(const struct nfr_cat *c, const char *(*name)(enum nfr_key),
		       struct strbuf *out)
{
	for (unsigned int i = 0; i < c->n; i++)
		sb_addf(out, "%s%s", i ? " . " : "", name(c->f[i]));
}

/* A rule's concatenation: as cat_render, the mark with its mask (`meta mark & 0x00ff0000`).
 * nft lists a mask of every bit as the bare `meta mark` (it still sends the bitwise), so render
 * does too: the text of a rule read back is the text nft lists. */
static void cat_rule_render(const struct nfr_cat *c, struct strbuf *out)
{
	for (unsigned int i = 0; i < c->n; i++) {
		if (i)
			sb_add(out, " . ");
		sb_add(out, key_expr(c->f[i]));
		if (c->f[i] == NK_MARK && c->mark_mask != UINT32_MAX) {
			sb_add(out, " & ");
			mark_render(c->mark_mask, out);
		}
	}
}

/* An element's key: an interface name, a value or range, or a concatenation's fields. */
static void elem_key_render(const struct nfr_set *s, const struct nfr_elem *e, struct strbuf *out)
{
	if (e->ifname) {
		sb_addf(out, "\"%s\"", e->ifname);
		return;
	}
	range_render(s->cat.n ? s->cat.f[0] : s->key, e->lo, e->hi, out);
	for (unsigned int i = 1; i < s->cat.n; i++) {
		sb_add(out, " . ");
		field_render(s->cat.f[i], e->clo[i - 1], e->chi[i - 1], out);
	}
}

static void verdict_render(const struct nfr_verdict *v, struct strbuf *out)
{
	switch (v->kind) {
	case NV_ACCEPT:
		sb_add(out, "accept");
		break;
	case NV_DROP:
		sb_add(out, "drop");
		break;
	case NV_RETURN:
		sb_add(out, "return");
		break;
	case NV_JUMP:
		sb_add(out, "jump ");
		sb_add(out, v->chain);
		break;
	case NV_GOTO:
		sb_add(out, "goto ");
		sb_add(out, v->chain);
		break;
	case NV_REJECT_RST:
		sb_add(out, "reject with tcp reset");
		break;
	case NV_REJECT_ADMIN:
		sb_add(out, "reject with icmpx admin-prohibited");
		break;
	case NV_NONE:
		break;
	}
}

static void sep(struct strbuf *out)
{
	if (out->len && out->s[out->len - 1] != '\t' && out->s[out->len - 1] != '\n')
		sb_add(out, " ");
}

void nfr_rule_render(const struct nfr_rule *r, struct strbuf *out)
{
	nfr_rule_render_fam(r, NFR_INET, out);
}

/* The network protocol of a mark-keyed concatenation's ICMP field, in the bridge family
 * (`meta protocol ip`), as for a bare `icmp type`: no address brings it, and nft's own would
 * read the link header's ether type. nft lists it away; the netlink side writes it. */
static void mark_cat_dependency(const struct nfr_cat *c, enum nfr_family f, struct strbuf *out)
{
	for (unsigned int i = 1; f == NFR_BRIDGE && c->n && c->f[0] == NK_MARK && i < c->n; i++)
		if (c->f[i] == NK_ICMP_TYPE || c->f[i] == NK_ICMPV6_TYPE) {
			sep(out);
			sb_add(out,
			       c->f[i] == NK_ICMP_TYPE ? "meta protocol ip" : "meta protocol ip6");
		}
}

/* A match on the key: a value or range, a set, a verdict map, or a concatenation's lookup. */
static void key_render(const struct nfr_rule *r, enum nfr_family f, struct strbuf *out)
{
	if (r->cat.n) {
		mark_cat_dependency(&r->cat, f, out);
		/* No other dependency is written: nft adds `meta nfproto` (inet) or `meta
		 * protocol` (bridge) for the address and `meta l4proto icmp` for an ICMP type
		 * itself, the same expressions the netlink side writes. */
		if (!r->set)
			return;
		sep(out);
		cat_rule_render(&r->cat, out);
		sb_addf(out, " %s@%s", r->vmap ? "vmap " : "", r->set);
		return;
	}
	if (!r->key)
		return;
	sep(out);
	/* nft's own dependency for a bare `icmp type` in the bridge family is the ether type in the
	 * link header, which reads a VLAN tag's type instead; the compiler writes `meta protocol`,
	 * as for addresses, and says so. */
	if (f == NFR_BRIDGE && (r->key == NK_ICMP_TYPE || r->key == NK_ICMPV6_TYPE))
		sb_add(out, r->key == NK_ICMP_TYPE ? "meta protocol ip " : "meta protocol ip6 ");
	sb_addf(out, "%s ", key_expr(r->key));
	if (r->set)
		sb_addf(out, "%s@%s", r->vmap ? "vmap " : "", r->set);
	else
		range_render(r->key, r->lo, r->hi, out);
}

static void matches_render(const struct nfr_rule *r, enum nfr_family f, struct strbuf *out)
{
	if (r->ct_state) {
		static const char *const names[] = {"invalid", "established", "related"};
		bool first = true;
		sb_add(out, "ct state ");
		for (int b = 0; b < 3; b++)
			if (r->ct_state & (1u << b)) {
				sb_addf(out, "%s%s", first ? "" : ",", names[b]);
				first = false;
			}
	}
	if (r->not_ifaces) {
		sep(out);
		sb_add(out, "iifname != @ifaces oifname != @ifaces");
	}
	if (r->iifname) {
		sep(out);
		sb_addf(out, "iifname \"%s\"", r->iifname);
	}
	if (r->oifname) {
		sep(out);
		sb_addf(out, "oifname \"%s\"", r->oifname);
	}
	key_render(r, f, out);
	if (r->has_from) {
		sep(out);
		sb_addf(out, "meta time >= %lld", (long long)r->from);
	}
	if (r->has_until) {
		sep(out);
		sb_addf(out, "meta time < %lld", (long long)r->until);
	}
}

void nfr_rule_render_fam(const struct nfr_rule *r, enum nfr_family f, struct strbuf *out)
{
	size_t start = out->len;

	if (r->foreign) {
		sb_addf(out, "# not written by wardwall: %s", r->foreign);
		return;
	}
	matches_render(r, f, out);
	if (r->counter_map && r->cat.n) {
		sep(out);
		sb_add(out, "counter name ");
		cat_rule_render(&r->cat, out);
		sb_addf(out, " map @%s", r->counter_map);
	}
	if (r->set_mark) {
		/* After a counter map, before the named counter, where the netlink side writes
		 * it (576db37). nft lists it as `& (keep | or) | or`, the same bits: or is within
		 * ~keep. */
		sep(out);
		sb_add(out, "meta mark set meta mark & ");
		mark_render(r->mark_keep, out);
		if (r->mark_or) {
			sb_add(out, " | ");
			mark_render(r->mark_or, out);
		}
	}
	if (r->counter) {
		sep(out);
		sb_addf(out, "counter name \"%s\"", r->counter);
	}
	if (r->limit) {
		sep(out);
		sb_addf(out, "limit name \"%s\"", r->limit);
	}
	if (r->log_prefix) {
		sep(out);
		sb_addf(out, "log prefix \"%s\" group %u", r->log_prefix, r->log_group);
	}
	if (r->v.kind) {
		if (out->len > start)
			sb_add(out, " ");
		verdict_render(&r->v, out);
	}
}

/* The body of a set not foreign, each line after indent: render writes it in place, without a
 * copy to indent (the flow maps are most of a table's text). */
static void set_body_indented(const struct nfr_set *s, const char *indent, struct strbuf *out)
{
	sb_add(out, indent);
	if (s->cat.n && s->cat.f[0] == NK_MARK && !s->objmap) {
		/* A mark-keyed verdict map is declared as its rules' key (`typeof meta mark .
		 * meta l4proto . th dport`). nft 1.0.6 cannot parse `typeof ... : counter`: the
		 * counters' object map names the types (`type mark . inet_proto . ...`). */
		sb_add(out, "typeof ");
		cat_render(&s->cat, key_expr, out);
	} else if (s->cat.n) {
		sb_add(out, "type ");
		cat_render(&s->cat, nfr_key_type, out);
	} else {
		sb_add(out, "type ");
		sb_add(out, nfr_key_type(s->key));
	}
	sb_add(out, s->vmap ? " : verdict\n" : s->objmap ? " : counter\n" : "\n");
	if (s->interval) {
		sb_add(out, indent);
		sb_add(out, "flags interval\n");
	}
	if (!s->nelems)
		return;
	sb_add(out, indent);
	sb_add(out, "elements = { ");
	for (size_t i = 0; i < s->nelems; i++) {
		const struct nfr_elem *e = &s->elems[i];
		if (i) {
			sb_add(out, ",\n");
			sb_add(out, indent);
			sb_add(out, "\t     ");
		}
		elem_key_render(s, e, out);
		if (s->vmap) {
			sb_add(out, " : ");
			verdict_render(&e->v, out);
		} else if (s->objmap) {
			sb_add(out, " : \"");
			sb_add(out, e->obj ? e->obj : "");
			sb_add(out, "\"");
		}
	}
	sb_add(out, " }\n");
}

void nfr_set_body(const struct nfr_set *s, struct strbuf *out)
{
	if (s->foreign)
		sb_addf(out, "# not written by wardwall: %s\n", s->foreign);
	else
		set_body_indented(s, "", out);
}

static void indented(const char *body, const char *indent, struct strbuf *out)
{
	for (const char *p = body; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sb_add(out, indent);
		sb_addn(out, p, n);
		sb_add(out, "\n");
		p += n + (nl != NULL);
	}
}

void nfr_set_render(const struct nfr_set *s, const char *indent, struct strbuf *out)
{
	struct strbuf body = {0};
	char *in2 = xstrdup_printf("%s\t", indent);

	sb_addf(out, "%s%s %s {\n", indent, s->vmap || s->objmap ? "map" : "set", s->name);
	if (s->foreign) {
		/* A foreign set's text may hold newlines of its own: each line is indented. */
		nfr_set_body(s, &body);
		indented(sb_str(&body), in2 ? in2 : "\t", out);
	} else {
		set_body_indented(s, in2 ? in2 : "\t", out);
	}
	sb_addf(out, "%s}\n", indent);
	free(in2);
	sb_free(&body);
}

void nfr_chain_body(const struct nfr_chain *c, struct strbuf *out)
{
	nfr_chain_body_fam(c, NFR_INET, out);
}

void nfr_chain_body_fam(const struct nfr_chain *c, enum nfr_family f, struct strbuf *out)
{
	static const char *const hooks[] = {"", "forward", "input", "output", "forward"};

	if (c->foreign)
		sb_addf(out, "# not written by wardwall: %s\n", c->foreign);
	if (c->hook == NH_BR_FORWARD) {
		/* The bridge family's "filter" is -200. */
		sb_add(out, "type filter hook forward priority ");
		if (c->prio == -200)
			sb_add(out, "filter");
		else
			sb_addf(out, "filter %c %d", c->prio < -200 ? '-' : '+', abs(c->prio + 200));
		sb_add(out, "; policy accept;\n");
	} else if (c->hook) {
		sb_addf(out, "type filter hook %s priority ", hooks[c->hook]);
		if (c->prio == 0)
			sb_add(out, "filter");
		else
			sb_addf(out, "filter %c %d", c->prio < 0 ? '-' : '+', abs(c->prio));
		sb_add(out, "; policy accept;\n");
	}
	for (size_t i = 0; i < c->nrules; i++) {
		nfr_rule_render_fam(&c->rules[i], f, out);
		sb_add(out, "\n");
	}
}

void nfr_chain_render(const struct nfr_chain *c, enum nfr_family f, const char *indent,
		      struct strbuf *out)
{
	struct strbuf body = {0};
	char *in2 = xstrdup_printf("%s\t", indent);

	nfr_chain_body_fam(c, f, &body);
	sb_addf(out, "%schain %s {\n", indent, c->name);
	indented(sb_str(&body), in2 ? in2 : "\t", out);
	sb_addf(out, "%s}\n", indent);
	free(in2);
	sb_free(&body);
}

void nfr_table_render(const struct nfr_table *t, struct strbuf *out)
{
	sb_addf(out, "table %s " WW_NFT_TABLE " {\n", nfr_family_str(t->family));
	if (t->comment)
		sb_addf(out, "\tcomment \"%s\"\n", t->comment);
	for (size_t i = 0; i < t->ncounters; i++)
		sb_addf(out, "\tcounter %s {\n\t}\n", t->counters[i].name);
	for (size_t i = 0; i < t->nlimits; i++)
		sb_addf(out, "\tlimit %s {\n\t\trate %llu/second burst %u packets\n\t}\n",
			t->limits[i].name, (unsigned long long)t->limits[i].rate,
			t->limits[i].burst);
	for (size_t i = 0; i < t->nsets; i++)
		nfr_set_render(&t->sets[i], "\t", out);
	for (size_t i = 0; i < t->nchains; i++)
		nfr_chain_render(&t->chains[i], t->family, "\t", out);
	sb_add(out, "}\n");
}
