/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The flow-map layout's shapes (docs/LAYOUT of issue 12: `fp4/<class>` and its counters'
 * `cp4/<class>`, ...) written by hand in the IR, for the tests of render (test_nfr.c) and of the
 * diff (test_nft_diff.c) while the compiler does not emit them yet. Everything is allocated as
 * the compiler would, so nfr_table_free frees it.
 */
#ifndef WW_TEST_FLOWMAP_H
#define WW_TEST_FLOWMAP_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "nfr.h"
#include "util.h"

/* The kinds of flow map and their keys: ports (tcp, udp, sctp), ICMP types, whole protocols;
 * keyed on the destination's address, or on its class in the mark (FM_M*: round 3 of issue 12,
 * one map for both families but ICMP's; the rules' mask is fm_mark_rules'). */
enum fm_kind { FM_P4, FM_I4, FM_L4, FM_P6, FM_I6, FM_L6, FM_MP, FM_MI4, FM_MI6, FM_ML };
static const struct {
	const char *prefix; /* the verdict map's; the counters' is 'c' + prefix + 1 */
	struct nfr_cat cat;
} fm_kinds[] = {
    [FM_P4] = {"fp4", {{NK_DADDR4, NK_L4PROTO, NK_TH_DPORT}, 3}},
    [FM_I4] = {"fi4", {{NK_DADDR4, NK_ICMP_TYPE}, 2}},
    [FM_L4] = {"fl4", {{NK_DADDR4, NK_L4PROTO}, 2}},
    [FM_P6] = {"fp6", {{NK_DADDR6, NK_L4PROTO, NK_TH_DPORT}, 3}},
    [FM_I6] = {"fi6", {{NK_DADDR6, NK_ICMPV6_TYPE}, 2}},
    [FM_L6] = {"fl6", {{NK_DADDR6, NK_L4PROTO}, 2}},
    [FM_MP] = {"fp", {{NK_MARK, NK_L4PROTO, NK_TH_DPORT}, 3, 0xffff0000}},
    [FM_MI4] = {"fi4", {{NK_MARK, NK_ICMP_TYPE}, 2, 0xffff0000}},
    [FM_MI6] = {"fi6", {{NK_MARK, NK_ICMPV6_TYPE}, 2, 0xffff0000}},
    [FM_ML] = {"fl", {{NK_MARK, NK_L4PROTO}, 2, 0xffff0000}},
};

/* One flow's piece: a destination ("10.1.0.0/24", "10.2.0.5" or "10.3.0.0-10.3.0.127"; a class
 * in the mark for FM_M*: "0x00010000" or "0x00010000-0x00020000"),
 * fields 1 and 2 as ranges, a verdict ("accept", "drop", "goto dec-…") and the counter of a
 * simple decision (NULL: the decision chain counts). */
struct fm_el {
	const char *dst;
	uint32_t lo1, hi1, lo2, hi2;
	const char *verdict;
	const char *counter;
};

static inline void fm_dst(const char *s, struct nfr_elem *e)
{
	char buf[WW_PREFIX_STRLEN];
	const char *dash = strchr(s, '-');
	struct ww_prefix p;
	const char *why;

	if (!strncmp(s, "0x", 2)) {
		char *end;
		e->lo = e->hi = strtoul(s, &end, 16);
		if (*end == '-')
			e->hi = strtoul(end + 1, &end, 16);
		if (*end)
			abort();
		return;
	}
	if (dash) {
		struct ww_addr a, b;
		snprintf(buf, sizeof(buf), "%.*s", (int)(dash - s), s);
		if (ww_addr_parse(buf, &a) || ww_addr_parse(dash + 1, &b))
			abort();
		e->lo = a.v;
		e->hi = b.v;
		return;
	}
	if (ww_prefix_parse(s, true, &p, &why, NULL))
		abort();
	e->lo = ww_prefix_first(&p);
	e->hi = ww_prefix_last(&p);
}

static inline void fm_verdict(const char *s, struct nfr_verdict *v)
{
	if (!strcmp(s, "accept"))
		v->kind = NV_ACCEPT;
	else if (!strcmp(s, "drop"))
		v->kind = NV_DROP;
	else if (!strncmp(s, "goto ", 5))
		*v = (struct nfr_verdict){NV_GOTO, strdup(s + 5)};
	else if (!strncmp(s, "jump ", 5))
		*v = (struct nfr_verdict){NV_JUMP, strdup(s + 5)};
	else
		abort();
}

static inline struct nfr_set *fm_set(struct nfr_table *t, char *name, enum fm_kind k)
{
	struct nfr_set s = {.name = name, .cat = fm_kinds[k].cat, .interval = true};

	if (VEC_PUSH(t->sets, t->nsets, t->scap, s))
		abort();
	return &t->sets[t->nsets - 1];
}

static inline struct nfr_chain *fm_chain(struct nfr_table *t, const char *name)
{
	struct nfr_chain c = {.name = strdup(name)};

	for (size_t i = 0; i < t->nchains; i++)
		if (!strcmp(t->chains[i].name, name)) {
			free(c.name);
			return &t->chains[i];
		}
	if (VEC_PUSH(t->chains, t->nchains, t->chcap, c))
		abort();
	return &t->chains[t->nchains - 1];
}

static inline void fm_counter(struct nfr_table *t, const char *name)
{
	struct nfr_counter c = {.name = strdup(name)};

	for (size_t i = 0; i < t->ncounters; i++)
		if (!strcmp(t->counters[i].name, name)) {
			free(c.name);
			return;
		}
	if (VEC_PUSH(t->counters, t->ncounters, t->ccap, c))
		abort();
}

/* A rule of chain c looking the packet's key up in map (vmap, or the counters' object map). */
static inline void fm_rule(struct nfr_chain *c, enum fm_kind k, const char *map, bool counters)
{
	struct nfr_rule r = {.cat = fm_kinds[k].cat};

	if (counters)
		r.counter_map = strdup(map);
	else
		r.set = strdup(map), r.vmap = true;
	if (VEC_PUSH(c->rules, c->nrules, c->cap, r))
		abort();
}

/* Chain from/<cls>'s rules looking its FM_M* maps of kind k up with the class bits mask (the
 * zone's or the host group's level: fm_maps added the first level's, fm_kinds' mask). */
static inline void fm_mark_rules(struct nfr_table *t, const char *cls, enum fm_kind k,
				 uint32_t mask)
{
	char *fname = xstrdup_printf("%s/%s", fm_kinds[k].prefix, cls);
	char *cname = xstrdup_printf("c%s/%s", fm_kinds[k].prefix + 1, cls);
	char *from = xstrdup_printf("from/%s", cls);
	struct nfr_chain *ch = fm_chain(t, from);
	bool counted = false;

	for (size_t i = 0; i < t->nsets; i++)
		counted |= !strcmp(t->sets[i].name, cname);
	if (counted)
		fm_rule(ch, k, cname, true);
	fm_rule(ch, k, fname, false);
	ch->rules[ch->nrules - 1].cat.mark_mask = mask;
	if (counted)
		ch->rules[ch->nrules - 2].cat.mark_mask = mask;
	free(fname);
	free(cname);
	free(from);
}

/* `meta mark set meta mark & keep | bits` at the end of chain name (made if need be). */
static inline void fm_set_mark(struct nfr_table *t, const char *name, uint32_t keep, uint32_t bits)
{
	struct nfr_chain *c = fm_chain(t, name);
	struct nfr_rule r = {.set_mark = true, .mark_keep = keep, .mark_or = bits};

	if (VEC_PUSH(c->rules, c->nrules, c->cap, r))
		abort();
}

/* A decision chain: counts the flow and decides (`counter name "flow/f3" accept`); one that
 * exists already is kept. */
static inline void fm_dec(struct nfr_table *t, const char *name, const char *counter,
			  const char *verdict)
{
	struct nfr_chain *c = fm_chain(t, name);
	struct nfr_rule r = {.counter = strdup(counter)};

	if (c->nrules) {
		free(r.counter);
		return;
	}
	fm_counter(t, counter);
	fm_verdict(verdict, &r.v);
	if (VEC_PUSH(c->rules, c->nrules, c->cap, r))
		abort();
}

/*
 * The maps of kind k for source class cls ("ward-01"), with the elements els, and the two rules
 * of chain from/<cls> that use them (counters first, as in the layout); the counters the
 * elements name. Chains a verdict goes to are the caller's. The table must be sorted after.
 */
static inline void fm_maps(struct nfr_table *t, const char *cls, enum fm_kind k,
			   const struct fm_el *els, size_t n)
{
	char *fname = xstrdup_printf("%s/%s", fm_kinds[k].prefix, cls);
	char *cname = xstrdup_printf("c%s/%s", fm_kinds[k].prefix + 1, cls);
	char *from = xstrdup_printf("from/%s", cls);
	struct nfr_set *f = fm_set(t, fname, k), *c;
	size_t ncounted = 0;

	for (size_t i = 0; i < n; i++) {
		struct nfr_elem e = {.clo = {els[i].lo1, els[i].lo2},
				     .chi = {els[i].hi1, els[i].hi2}};
		fm_dst(els[i].dst, &e);
		fm_verdict(els[i].verdict, &e.v);
		if (VEC_PUSH(f->elems, f->nelems, f->cap, e))
			abort();
		ncounted += els[i].counter != NULL;
	}
	f->vmap = true;
	c = ncounted ? fm_set(t, cname, k) : NULL;
	for (size_t i = 0; c && i < n; i++) {
		struct nfr_elem e = {.clo = {els[i].lo1, els[i].lo2},
				     .chi = {els[i].hi1, els[i].hi2}};
		if (!els[i].counter)
			continue;
		fm_dst(els[i].dst, &e);
		e.obj = strdup(els[i].counter);
		fm_counter(t, els[i].counter);
		if (VEC_PUSH(c->elems, c->nelems, c->cap, e))
			abort();
	}
	if (c)
		c->objmap = true;
	else
		free(cname);
	struct nfr_chain *ch = fm_chain(t, from);
	if (c)
		fm_rule(ch, k, cname, true);
	fm_rule(ch, k, fname, false);
	free(from);
}

/* The elements the diff tests change (test_nft_diff, and tests/nft/test_nft_flowdiff against the
 * kernel): a flow of tcp 443 to dst, a decision chain, a flow whose verdict varies. */
#define EL_A(dst, port)                                                                            \
	{                                                                                          \
		dst, 6, 6, port, port, "accept", "flow/a"                                          \
	}
#define EL_B                                                                                       \
	{                                                                                          \
		"10.2.0.5", 17, 17, 53, 53, "goto dec-b", NULL                                     \
	}
#define EL_C(v)                                                                                    \
	{                                                                                          \
		"10.3.0.0/16", 6, 6, 22, 22, v, "flow/c"                                           \
	}

#endif
