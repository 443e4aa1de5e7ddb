// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness for the XDP compiler: a valid policy is compiled into its map images
 * (xdp_compile.c), and random packets are decided twice: by a model of the XDP program's lookups
 * over those images — the same longest-prefix matches on the classification and rule tries, the
 * same walk of the decision lists, the same choice between lists and defaults as ww_decide in
 * bpf/wardwall.bpf.c — and by the reference evaluator (eval.c, what `wardwall query` says). The
 * verdict, the deciding flow (or the default), and the monitor-mode flows that observe the
 * packet (each counted once) must agree. The program itself runs on real packets in
 * tests/xdp/test_xdp_diff.c; this checks the compiler on the inputs a fuzzer finds.
 *
 * Packets come from a splitmix64 stream seeded by the input: addresses in, at the edges of and
 * around the policy's networks, protocols and keys from its services and their edges, times at
 * the edges of the flows' windows. abort() reports a disagreement.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_compile.h"
#include "eval.h"
#include "policy.h"

#define PACKETS 96
#define NOW	1780000000LL

/* ---- the model of the program's lookups ---- */

struct mcls {
	uint32_t zone, host, flags;
};

/* ww_cls4/ww_cls6: the longest prefix holding the address. */
static struct mcls m_classify(const struct ww_xdp_image *img, const struct ww_addr *a)
{
	struct mcls r = {0};
	int best = -1;

	for (size_t i = 0; i < img->ncls; i++) {
		const struct ww_xdp_cls *c = &img->cls[i];
		if (c->pfx.a.family != a->family || !ww_prefix_contains(&c->pfx, a) ||
		    (int)c->pfx.len <= best)
			continue;
		best = c->pfx.len;
		r.zone = c->val.zone_ep;
		r.host = c->val.host_ep;
		r.flags = c->val.flags;
	}
	return r;
}

/* ww_rules: the longest prefix (in bits of the key's data) matching the full 88-bit key. */
static const struct ww_xdp_rule *m_rule(const struct ww_xdp_image *img, const uint8_t *k)
{
	const struct ww_xdp_rule *best = NULL;

	for (size_t i = 0; i < img->nrules; i++) {
		const struct ww_xdp_rule *r = &img->rules[i];
		unsigned int bits = r->key.prefixlen;
		bool eq = bits <= 88;
		for (unsigned int b = 0; eq && b < bits; b++)
			eq = ((r->key.data[b / 8] ^ k[b / 8]) >> (7 - b % 8) & 1) == 0;
		if (eq && (!best || bits > best->key.prefixlen))
			best = r;
	}
	return best;
}

struct msearch {
	uint64_t now;
	uint32_t best_slot, best_order;
	int best_rank; /* 255: none */
	uint32_t obs[4 * WW_DLIST_MAX];
	size_t nobs;
};

/* ww_search: one (source endpoint, destination endpoint) list. */
static void m_search(const struct ww_xdp_image *img, uint32_t sep, uint32_t dep, int proto,
		     uint16_t key, struct msearch *s)
{
	uint8_t k[WW_RULE_DATA] = {0};
	uint32_t a = htonl(sep), b = htonl(dep);
	uint16_t kb = htons(key);

	if (!sep || !dep)
		return;
	memcpy(k, &a, 4);
	memcpy(k + 4, &b, 4);
	k[8] = (uint8_t)proto;
	memcpy(k + 9, &kb, 2);
	const struct ww_xdp_rule *r = m_rule(img, k);
	if (!r)
		return;
	if (r->dlist >= img->ndlists)
		abort(); /* a rule names a list the image does not have */
	const struct ww_xlist *l = &img->dlists[r->dlist];
	if (l->n > WW_DLIST_MAX)
		abort();
	for (uint32_t i = 0; i < l->n; i++) {
		const struct ww_xentry *e = &l->e[i];
		if (s->now < e->from_ns || s->now >= e->until_ns)
			continue;
		if (e->rank == WW_R_MONITOR) {
			s->obs[s->nobs++] = e->slot;
			continue;
		}
		if (e->rank < s->best_rank || (e->rank == s->best_rank && e->order < s->best_order)) {
			s->best_rank = e->rank;
			s->best_order = e->order;
			s->best_slot = e->slot;
		}
		break;
	}
}

struct mverdict {
	int verdict;   /* enum ww_xverdict */
	uint32_t slot; /* flow index, or WW_SLOT_DEFAULT */
	uint32_t obs[4 * WW_DLIST_MAX];
	size_t nobs;
};

/* decide(): the four lists, then the defaults. */
static void m_decide(const struct ww_xdp_image *img, const struct ww_packet *pkt,
		     struct mverdict *v)
{
	struct mcls cs = m_classify(img, &pkt->src), cd = m_classify(img, &pkt->dst);
	struct msearch s = {.now = (uint64_t)pkt->at * 1000000000ULL, .best_rank = 255};
	uint16_t key = pkt->key < 0 ? 0 : ww_proto_has_ports(pkt->proto) ? (uint16_t)pkt->key
										: (uint16_t)(pkt->key << 8);
	const struct ww_settings *st = &img->settings;

	if (cs.zone && cd.zone)
		m_search(img, cs.zone, cd.zone, pkt->proto, key, &s);
	if (cs.host && cd.zone)
		m_search(img, cs.host, cd.zone, pkt->proto, key, &s);
	if (cs.zone && cd.host)
		m_search(img, cs.zone, cd.host, pkt->proto, key, &s);
	if (cs.host && cd.host)
		m_search(img, cs.host, cd.host, pkt->proto, key, &s);
	memset(v, 0, sizeof(*v));
	if (s.best_rank == WW_R_DENY) {
		v->verdict = WW_XV_DENY;
		v->slot = s.best_slot;
		return;
	}
	memcpy(v->obs, s.obs, s.nobs * sizeof(*s.obs));
	v->nobs = s.nobs;
	if (s.best_rank == WW_R_ALLOW) {
		v->verdict = s.nobs ? WW_XV_MONITOR : WW_XV_ALLOW;
		v->slot = s.best_slot;
		return;
	}
	bool within = cs.zone && cs.zone == cd.zone;
	v->slot = WW_SLOT_DEFAULT;
	if (within ? st->within_allow : st->between_allow)
		v->verdict = s.nobs ? WW_XV_MONITOR : WW_XV_ALLOW;
	else if ((cs.flags | cd.flags) & WW_CLS_MONITOR)
		v->verdict = WW_XV_MONITOR;
	else
		v->verdict = WW_XV_DENY;
}

/* ---- random packets from the policy ---- */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

/* Every network of the policy, zones' and host groups'. */
static const struct ww_prefix *pick_net(const struct ww_policy *p, struct rng *r)
{
	size_t n = 0;

	for (size_t i = 0; i < p->nzones; i++) {
		n += p->zones[i].nnets;
		for (size_t h = 0; h < p->zones[i].nhosts; h++)
			n += p->zones[i].hosts[h].nnets;
	}
	if (!n)
		return NULL;
	size_t k = below(r, (uint32_t)n);
	for (size_t i = 0; i < p->nzones; i++) {
		const struct ww_zone *z = &p->zones[i];
		if (k < z->nnets)
			return &z->nets[k].pfx;
		k -= z->nnets;
		for (size_t h = 0; h < z->nhosts; h++) {
			if (k < z->hosts[h].nnets)
				return &z->hosts[h].nets[k].pfx;
			k -= z->hosts[h].nnets;
		}
	}
	return NULL;
}

static void pick_addr(const struct ww_policy *p, struct rng *r, int family, struct ww_addr *a)
{
	const struct ww_prefix *n = NULL;
	u128 max = family == WW_INET ? 0xffffffffu : ~(u128)0;

	a->family = (uint8_t)family;
	for (int tries = 0; tries < 4 && (!n || n->a.family != family); tries++)
		n = pick_net(p, r);
	if (!n || n->a.family != family || below(r, 8) == 0) {
		a->v = ((u128)rnd(r) << 64 | rnd(r)) & max;
		return;
	}
	u128 first = ww_prefix_first(n), last = ww_prefix_last(n);
	switch (below(r, 5)) {
	case 0:
		a->v = first;
		break;
	case 1:
		a->v = last;
		break;
	case 2: /* just outside */
		a->v = first ? first - 1 : last + 1;
		break;
	case 3:
		a->v = last < max ? last + 1 : first - 1;
		break;
	default:
		if (last - first + 1 == 0) /* ::/0 */
			a->v = (u128)rnd(r) << 64 | rnd(r);
		else
			a->v = first + ((u128)rnd(r) << 64 | rnd(r)) % (last - first + 1);
	}
	a->v &= max;
}

static void pick_service(const struct ww_policy *p, struct rng *r, struct ww_packet *pkt)
{
	static const int protos[] = {6, 17, 132, 1, 58, 47, 0, 255};
	const struct ww_term *t = NULL;

	if (p->nflows && below(r, 4)) {
		const struct ww_flow *f = &p->flows[below(r, (uint32_t)p->nflows)];
		if (f->nsvcs) {
			const struct ww_service *s = f->svcs[below(r, (uint32_t)f->nsvcs)];
			if (s->nterms)
				t = &s->terms[below(r, (uint32_t)s->nterms)];
		}
	}
	pkt->proto = t && t->proto != WW_PROTO_ANY ? t->proto
						   : protos[below(r, ARRAY_SIZE(protos))];
	/* ICMP in its own family only: the program sees icmp in IPv4, icmpv6 in IPv6. */
	if (pkt->proto == 1 || pkt->proto == 58)
		pkt->proto = pkt->src.family == WW_INET ? 1 : 58;
	unsigned int max = ww_proto_key_max(pkt->proto);
	if (!max) {
		pkt->key = -1;
		return;
	}
	int lo = t && t->proto == pkt->proto ? t->lo : (int)below(r, max + 1);
	int hi = t && t->proto == pkt->proto ? t->hi : lo;
	switch (below(r, 5)) {
	case 0:
		pkt->key = lo;
		break;
	case 1:
		pkt->key = hi;
		break;
	case 2:
		pkt->key = lo - 1;
		break;
	case 3:
		pkt->key = hi + 1;
		break;
	default:
		pkt->key = (int)below(r, max + 1);
	}
	if (pkt->key < 0 || pkt->key > (int)max)
		pkt->key = (int)below(r, max + 1);
}

static int64_t pick_time(const struct ww_policy *p, struct rng *r)
{
	if (p->nflows && below(r, 2)) {
		const struct ww_flow *f = &p->flows[below(r, (uint32_t)p->nflows)];
		int64_t edge = f->has_from ? f->valid_from : f->has_until ? f->valid_until : NOW;
		if (f->has_until && below(r, 2))
			edge = f->valid_until;
		/* Times the program can hold: nanoseconds in 64 bits. */
		if (edge > 0 && edge < 18000000000LL)
			return edge - 1 + below(r, 3);
	}
	return NOW;
}

/* ---- the comparison ---- */

static void fail(const struct ww_policy *p, const struct ww_packet *pkt, const char *what,
		 const struct mverdict *m, const struct ww_verdict *v)
{
	char a[64], b[64];

	fprintf(stderr,
		"fuzz_xdp: %s\npacket %s -> %s proto %d key %d at %lld\n"
		"xdp model: verdict %d flow %s, %zu observers\n"
		"query: %s flow %s, monitor %s\n",
		what, ww_addr_str(&pkt->src, a), ww_addr_str(&pkt->dst, b), pkt->proto, pkt->key,
		(long long)pkt->at, m->verdict,
		m->slot == WW_SLOT_DEFAULT ? "(default)"
		: m->slot < p->nflows	   ? p->flows[m->slot].id
					   : "(out of range)",
		m->nobs, ww_verdict_str(v->kind), v->flow ? v->flow->id : "(default)",
		v->monitor ? v->monitor->id : "(none)");
	abort();
}

static void compare(const struct ww_policy *p, const struct ww_xdp_image *img,
		    const struct ww_packet *pkt)
{
	struct mverdict m;
	struct ww_verdict v;
	static const int xv[] = {[WW_V_ALLOW] = WW_XV_ALLOW, [WW_V_DENY] = WW_XV_DENY,
				 [WW_V_MONITOR] = WW_XV_MONITOR};

	m_decide(img, pkt, &m);
	ww_evaluate(p, pkt, &v);
	if (m.verdict != xv[v.kind])
		fail(p, pkt, "the verdicts differ", &m, &v);
	if (v.flow ? m.slot != v.flow->index : m.slot != WW_SLOT_DEFAULT)
		fail(p, pkt, "the deciding flows differ", &m, &v);
	if (v.kind == WW_V_DENY)
		return; /* an enforced deny ends the search: nothing observes */
	/* The monitor-mode denies that match, each once: those the program counts. */
	struct ww_class cs, cd;
	ww_classify(p, &pkt->src, &cs);
	ww_classify(p, &pkt->dst, &cd);
	size_t want = 0;
	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (!ww_flow_active(f, pkt->at) || !ww_flow_matches(f, &cs, &cd, pkt->proto, pkt->key) ||
		    ww_flow_rank(f, cs.zone, cd.zone) != WW_RANK_MONITOR)
			continue;
		size_t seen = 0;
		for (size_t k = 0; k < m.nobs; k++)
			seen += m.obs[k] == i;
		if (seen != 1)
			fail(p, pkt,
			     seen ? "a monitor-mode flow observes twice"
				  : "a matching monitor-mode flow does not observe",
			     &m, &v);
		want++;
	}
	if (m.nobs != want)
		fail(p, pkt, "a flow observes that does not match", &m, &v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ww_diags d = {.file = "fuzz.json"};
	struct ww_policy *p = NULL;
	struct ww_xdp_image img;
	struct rng r = {0x9e3779b97f4a7c15ULL};

	if (ww_policy_parse("fuzz.json", (const char *)data, size, &d, &p)) {
		ww_diags_free(&d);
		return 0;
	}
	int e = ww_compile_xdp(p, &img, &d);
	if (e == -E2BIG) { /* over XDP's capacity: refused with a diagnostic */
		if (!d.nerrors)
			abort();
		goto out;
	}
	if (e)
		abort();
	for (size_t i = 0; i < size; i++) /* FNV-1a: the packets follow the input */
		r.s = (r.s ^ data[i]) * 0x100000001b3ULL;
	for (int i = 0; i < PACKETS; i++) {
		struct ww_packet pkt = {0};
		int family = below(&r, 2) ? WW_INET : WW_INET6;
		pick_addr(p, &r, family, &pkt.src);
		pick_addr(p, &r, family, &pkt.dst);
		pick_service(p, &r, &pkt);
		pkt.at = pick_time(p, &r);
		compare(p, &img, &pkt);
	}
	ww_xdp_image_free(&img);
out:
	ww_policy_free(p);
	ww_diags_free(&d);
	return 0;
}
