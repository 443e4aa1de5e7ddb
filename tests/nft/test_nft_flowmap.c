// SPDX-License-Identifier: GPL-2.0-only
/*
 * The flow-map layout's netlink shapes (issue 12) against the real kernel and nft: concatenated
 * interval verdict maps, counter maps and sets, their elements, the rules that look them up and
 * count through them (controller/nft/nft_batch.c, nft_read.c, nft_replay.c); with "mark", the
 * class-keyed layout's: maps keyed on `meta mark & mask . ...` and the `meta mark set` rules.
 *
 * expected_table() is the IR of tests/nft/flowmaps.nft (with "mark": tests/nft/markmaps.nft),
 * written by hand a second time.
 * tests/suites/39-nft-flowmap-netlink.sh runs this program in a network namespace of its own:
 *
 *   check FAMILY [mark] [changed]
 *                           reads wardwall's table (ww_nft_read) and compares it with the IR,
 *                           field by field (after `nft -f flowmaps.nft`, and after commit)
 *   commit FAMILY           writes the IR as one batch (table, counters, chains, sets, rules)
 *   change FAMILY           deletes elements of three maps and adds one overlapping a deleted
 *                           one, in one batch (ww_nft_del_elems first, then ww_nft_add_elems)
 *   render FAMILY           prints the IR as nfr_table_render writes it (no kernel)
 *   sets FAMILY             prints every attribute of the table's sets, a line each
 *   replay FAMILY           no kernel: the commit's and the change's batches replayed
 *                           (ww_nft_batch_replay) must give the same IR
 *
 * Each comparison prints "PASS what" or "FAIL what :: detail" (tests/e2e/tap.sh's report). The
 * kernel modes refuse to run in the namespace named by WW_NFT_OUTER_NS (the suite's own).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "addr.h"
#include "nfr.h"
#include "nft_nl.h"

static int failures;

static void report(bool ok, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void report(bool ok, const char *what, const char *fmt, ...)
{
	va_list ap;

	if (ok) {
		printf("PASS %s\n", what);
		return;
	}
	failures++;
	printf("FAIL %s :: ", what);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

/* ---- the expected IR ---- */

static char *xs(const char *s)
{
	char *r = s ? strdup(s) : NULL;

	if (s && !r)
		abort(); /* a test program: out of memory ends it */
	return r;
}

/* "10.1.0.0/24", "10.3.0.0-10.3.0.127" or a host: its first and last address. */
static void addr_range(const char *s, u128 *lo, u128 *hi)
{
	char buf[128];
	const char *dash = strchr(s, '-'), *why;
	struct ww_prefix p, canon;

	snprintf(buf, sizeof(buf), "%.*s", dash ? (int)(dash - s) : (int)strlen(s), s);
	if (ww_prefix_parse(buf, true, &p, &why, &canon))
		abort();
	*lo = ww_prefix_first(&p);
	*hi = ww_prefix_last(&p);
	if (dash) {
		struct ww_addr a;
		if (ww_addr_parse(dash + 1, &a))
			abort();
		*hi = a.v;
	}
}

static struct nfr_set *add_set(struct nfr_table *t, const char *name, enum nfr_key f0,
			       enum nfr_key f1, enum nfr_key f2, char kind)
{
	struct nfr_set s = {
	    .name = xs(name), .interval = true, .vmap = kind == 'v', .objmap = kind == 'c'};

	s.cat = (struct nfr_cat){.f = {f0, f1, f2}, .n = f2 ? 3 : 2};
	if (VEC_PUSH(t->sets, t->nsets, t->scap, s))
		abort();
	return &t->sets[t->nsets - 1];
}

/* One element: field 0 from lo to hi, then "lo-hi" of the other fields; data: "accept", "drop",
 * "goto CHAIN", "jump CHAIN", a counter's name ("flow/...") or NULL (a set). */
static void add_elem_at(struct nfr_set *s, u128 lo, u128 hi, uint32_t l1, uint32_t h1, uint32_t l2,
			uint32_t h2, const char *data)
{
	struct nfr_elem e = {.lo = lo, .hi = hi, .clo = {l1, l2}, .chi = {h1, h2}};

	if (data && !strcmp(data, "accept"))
		e.v.kind = NV_ACCEPT;
	else if (data && !strcmp(data, "drop"))
		e.v.kind = NV_DROP;
	else if (data && (!strncmp(data, "goto ", 5) || !strncmp(data, "jump ", 5)))
		e.v = (struct nfr_verdict){data[0] == 'g' ? NV_GOTO : NV_JUMP, xs(data + 5)};
	else if (data)
		e.obj = xs(data);
	if (VEC_PUSH(s->elems, s->nelems, s->cap, e))
		abort();
}

/* One element whose field 0 is an address range ("10.1.0.0/24", "10.3.0.0-10.3.0.127"). */
static void add_elem(struct nfr_set *s, const char *addr, uint32_t l1, uint32_t h1, uint32_t l2,
		     uint32_t h2, const char *data)
{
	u128 lo, hi;

	addr_range(addr, &lo, &hi);
	add_elem_at(s, lo, hi, l1, h1, l2, h2, data);
}

static struct nfr_chain *add_chain(struct nfr_table *t, const char *name)
{
	struct nfr_chain c = {.name = xs(name)};

	if (VEC_PUSH(t->chains, t->nchains, t->chcap, c))
		abort();
	return &t->chains[t->nchains - 1];
}

static void add_rule(struct nfr_chain *c, struct nfr_rule r)
{
	if (VEC_PUSH(c->rules, c->nrules, c->cap, r))
		abort();
}

#define V4  NK_DADDR4
#define V6  NK_DADDR6
#define P   NK_L4PROTO
#define D   NK_TH_DPORT
#define DEC "dec-3fa9c2e1d0b4"

/* The counter rule and the verdict rule of one kind of map (LAYOUT: cp4 then fp4, ...). */
static void map_rules(struct nfr_chain *c, const char *kind, const char *class, struct nfr_cat cat)
{
	char m[64];

	snprintf(m, sizeof(m), "c%s/%s", kind, class);
	add_rule(c, (struct nfr_rule){.cat = cat, .counter_map = xs(m)});
	snprintf(m, sizeof(m), "f%s/%s", kind, class);
	add_rule(c, (struct nfr_rule){.cat = cat, .set = xs(m), .vmap = true});
}

static void expected_maps4(struct nfr_table *t, bool changed)
{
	struct nfr_set *s = add_set(t, "fp4/ward-01", V4, P, D, 'v');
	add_elem(s, "10.1.0.0/24", 6, 6, 443, 443, "accept");
	if (!changed)
		add_elem(s, "10.2.0.5", 17, 17, 2000, 2010, "drop");
	else /* overlaps the deleted element: the batch must delete first */
		add_elem(s, "10.2.0.5", 17, 17, 2005, 2020, "accept");
	add_elem(s, "10.3.0.0-10.3.0.127", 6, 6, 22, 22, "goto " DEC);
	add_elem(s, "10.4.0.1-10.4.0.9", 132, 132, 1, 65535, "jump " DEC);
	if (!changed)
		add_elem(s, "0.0.0.0/0", 6, 17, 0, 0, "drop");
	s = add_set(t, "cp4/ward-01", V4, P, D, 'c');
	add_elem(s, "10.1.0.0/24", 6, 6, 443, 443, "flow/f1");
	if (!changed)
		add_elem(s, "10.2.0.5", 17, 17, 2000, 2010, "flow/f2");
	s = add_set(t, "fi4/ward-01", V4, NK_ICMP_TYPE, NK_NONE, 'v');
	add_elem(s, "10.1.0.0/24", 8, 8, 0, 0, "accept");
	add_elem(s, "10.1.0.0/24", 0, 3, 0, 0, "drop");
	add_elem(s, "255.255.255.255", 255, 255, 0, 0, "drop");
	s = add_set(t, "ci4/ward-01", V4, NK_ICMP_TYPE, NK_NONE, 'c');
	add_elem(s, "10.1.0.0/24", 8, 8, 0, 0, "flow/f1");
	s = add_set(t, "fl4/ward-01", V4, P, NK_NONE, 'v');
	add_elem(s, "10.1.0.0/24", 47, 47, 0, 0, "accept");
	add_elem(s, "0.0.0.0/0", 50, 51, 0, 0, "drop");
	s = add_set(t, "cl4/ward-01", V4, P, NK_NONE, 'c');
	add_elem(s, "10.1.0.0/24", 47, 47, 0, 0, "flow/f2");
	s = add_set(t, "sl4/x", V4, P, NK_NONE, 's');
	add_elem(s, "10.9.0.0/16", 1, 255, 0, 0, NULL);
}

static void expected_maps6(struct nfr_table *t, bool changed)
{
	struct nfr_set *s = add_set(t, "fp6/ward-01", V6, P, D, 'v');
	add_elem(s, "2001:db8::/64", 6, 6, 443, 443, "accept");
	add_elem(s, "2001:db8:1::1", 17, 17, 53, 53, "goto " DEC);
	add_elem(s, "::/0", 6, 6, 1, 442, "drop"); /* disjoint from 443 */
	add_elem(s, "::/0", 17, 17, 1000, 1999, "drop");
	s = add_set(t, "cp6/ward-01", V6, P, D, 'c');
	add_elem(s, "2001:db8::/64", 6, 6, 443, 443, "flow/f1");
	s = add_set(t, "fi6/ward-01", V6, NK_ICMPV6_TYPE, NK_NONE, 'v');
	add_elem(s, "2001:db8::/64", 128, 128, 0, 0, "accept");
	if (!changed)
		add_elem(s, "2001:db8::/64", 1, 4, 0, 0, "drop");
	s = add_set(t, "ci6/ward-01", V6, NK_ICMPV6_TYPE, NK_NONE, 'c');
	add_elem(s, "2001:db8::/64", 128, 128, 0, 0, "flow/f2");
	s = add_set(t, "fl6/ward-01", V6, P, NK_NONE, 'v');
	add_elem(s, "2001:db8::/64", 47, 47, 0, 0, "accept");
	s = add_set(t, "cl6/ward-01", V6, P, NK_NONE, 'c');
	add_elem(s, "2001:db8::/64", 47, 47, 0, 0, "flow/f1");
}

/* ---- the class-keyed layout: tests/nft/markmaps.nft ---- */

#define M    NK_MARK
#define ZONE 0x00010000u /* ward-01 in the zone field */
#define HOST 0x02010000u /* ward-01/printer: host 2 of ward-01 */
#define DECM "dec-5b1e0c2a9d44"

/* A mark-keyed map's element: the class value, then the other fields. */
static void add_mark(struct nfr_set *s, uint32_t class, uint32_t l1, uint32_t h1, uint32_t l2,
		     uint32_t h2, const char *data)
{
	add_elem_at(s, class, class, l1, h1, l2, h2, data);
}

/* A plain interval verdict map keyed on an address (of type key: a set's type has no direction,
 * the reader says NK_SADDR4 or NK_SADDR6). */
static struct nfr_set *add_vmap(struct nfr_table *t, const char *name, enum nfr_key key)
{
	struct nfr_set s = {.name = xs(name), .key = key, .interval = true, .vmap = true};

	if (VEC_PUSH(t->sets, t->nsets, t->scap, s))
		abort();
	return &t->sets[t->nsets - 1];
}

static struct nfr_rule set_mark_rule(uint32_t keep, uint32_t bits)
{
	return (struct nfr_rule){.set_mark = true, .mark_keep = keep, .mark_or = bits};
}

static void expected_mark_maps(struct nfr_table *t, bool changed)
{
	struct nfr_set *s = add_set(t, "fp/ward-02", M, P, D, 'v');
	add_mark(s, ZONE, 6, 6, 443, 443, "accept");
	if (!changed)
		add_mark(s, ZONE, 17, 17, 2000, 2010, "drop");
	else /* overlaps the deleted element: the batch must delete first */
		add_mark(s, ZONE, 17, 17, 2005, 2020, "accept");
	add_mark(s, HOST, 17, 17, 53, 53, "goto " DECM);
	add_mark(s, HOST, 17, 17, 22, 22, "drop");
	add_mark(s, ZONE, 6, 17, 0, 0, "drop");
	s = add_set(t, "cp/ward-02", M, P, D, 'c');
	add_mark(s, ZONE, 6, 6, 443, 443, "flow/m1");
	if (!changed)
		add_mark(s, ZONE, 17, 17, 2000, 2010, "flow/m2");
	s = add_set(t, "fi4/ward-02", M, NK_ICMP_TYPE, NK_NONE, 'v');
	add_mark(s, ZONE, 8, 8, 0, 0, "drop");
	if (!changed)
		add_mark(s, HOST, 0, 3, 0, 0, "accept");
	s = add_set(t, "ci4/ward-02", M, NK_ICMP_TYPE, NK_NONE, 'c');
	add_mark(s, ZONE, 8, 8, 0, 0, "flow/m2");
	s = add_set(t, "fi6/ward-02", M, NK_ICMPV6_TYPE, NK_NONE, 'v');
	add_mark(s, ZONE, 128, 128, 0, 0, "accept");
	s = add_set(t, "ci6/ward-02", M, NK_ICMPV6_TYPE, NK_NONE, 'c');
	add_mark(s, ZONE, 128, 128, 0, 0, "flow/m1");
	s = add_set(t, "fl/ward-02", M, P, NK_NONE, 'v');
	add_mark(s, ZONE, 47, 47, 0, 0, "accept");
	add_mark(s, HOST, 50, 51, 0, 0, "drop");
	s = add_set(t, "cl/ward-02", M, P, NK_NONE, 'c');
	add_mark(s, ZONE, 47, 47, 0, 0, "flow/m1");
}

/* The chains that write the class into the mark: classify clears the class bits and jumps by
 * destination to the class's chain, which sets them. */
static void expected_classify(struct nfr_table *t)
{
	struct nfr_set *s = add_vmap(t, "dst4", NK_SADDR4);
	struct nfr_chain *c;

	add_elem(s, "10.1.0.0-10.1.1.255", 0, 0, 0, 0, "jump to/ward-01");
	add_elem(s, "10.1.2.0/24", 0, 0, 0, 0, "jump to/ward-01/printer");
	s = add_vmap(t, "dst6", NK_SADDR6);
	add_elem(s, "2001:db8:1::/48", 0, 0, 0, 0, "jump to/ward-01");
	c = add_chain(t, "to/ward-01");
	add_rule(c, set_mark_rule(0x0000ffff, ZONE));
	c = add_chain(t, "to/ward-01/printer");
	add_rule(c, set_mark_rule(0x0000ffff, HOST));
	c = add_chain(t, "order");
	struct nfr_rule r = set_mark_rule(0xff00ffff, 0x00030000);
	r.key = NK_DADDR4;
	r.lo = r.hi = 0x0a090909;
	r.counter = xs("flow/m3");
	r.v.kind = NV_ACCEPT;
	add_rule(c, r);
	c = add_chain(t, "classify");
	add_rule(c, set_mark_rule(0x0000ffff, 0));
	add_rule(c, (struct nfr_rule){.key = NK_DADDR4, .set = xs("dst4"), .vmap = true});
	add_rule(c, (struct nfr_rule){.key = NK_DADDR6, .set = xs("dst6"), .vmap = true});
}

/* The counter rule and the verdict rule of one kind of mark-keyed map, at the level mask. */
static void mark_rules(struct nfr_chain *c, const char *kind, uint32_t mask, enum nfr_key f1,
		       enum nfr_key f2)
{
	struct nfr_cat cat = {.f = {M, f1, f2}, .n = f2 ? 3 : 2, .mark_mask = mask};

	map_rules(c, kind, "ward-02", cat);
}

static struct nfr_table *expected_marks(enum nfr_family f, bool changed)
{
	static const char *const counters[] = {"flow/m1", "flow/m2", "flow/m3"};
	struct nfr_table *t = calloc(1, sizeof(*t));
	struct nfr_chain *c;

	if (!t)
		abort();
	t->family = f;
	for (size_t i = 0; i < ARRAY_SIZE(counters); i++) {
		struct nfr_counter k = {.name = xs(counters[i])};
		if (VEC_PUSH(t->counters, t->ncounters, t->ccap, k))
			abort();
	}
	c = add_chain(t, DECM);
	add_rule(c, (struct nfr_rule){.counter = xs("flow/m3"), .v = {NV_ACCEPT, NULL}});
	expected_classify(t);
	expected_mark_maps(t, changed);
	c = add_chain(t, "from/ward-02");
	mark_rules(c, "p", 0xffff0000, P, D);
	mark_rules(c, "p", 0x00ff0000, P, D);
	mark_rules(c, "i4", 0xffff0000, NK_ICMP_TYPE, NK_NONE);
	mark_rules(c, "i6", 0xffff0000, NK_ICMPV6_TYPE, NK_NONE);
	mark_rules(c, "l", 0xffff0000, P, NK_NONE);
	nfr_table_sort(t);
	return t;
}

/* Which hand-written table the modes work on: flowmaps.nft, or markmaps.nft ("mark"). */
static bool mark_layout;

/* tests/nft/flowmaps.nft (or markmaps.nft) as IR; changed: after the change batch. */
static struct nfr_table *expected_table(enum nfr_family f, bool changed)
{
	if (mark_layout)
		return expected_marks(f, changed);

	struct nfr_table *t = calloc(1, sizeof(*t));
	struct nfr_counter c1 = {.name = xs("flow/f1")}, c2 = {.name = xs("flow/f2")};
	struct nfr_chain *c;

	if (!t || VEC_PUSH(t->counters, t->ncounters, t->ccap, c1) ||
	    VEC_PUSH(t->counters, t->ncounters, t->ccap, c2))
		abort();
	t->family = f;
	c = add_chain(t, DEC);
	add_rule(c, (struct nfr_rule){.counter = xs("flow/f1"), .v = {NV_ACCEPT, NULL}});
	expected_maps4(t, changed);
	expected_maps6(t, changed);
	c = add_chain(t, "from/ward-01");
	map_rules(c, "p4", "ward-01", (struct nfr_cat){.f = {V4, P, D}, .n = 3});
	map_rules(c, "i4", "ward-01", (struct nfr_cat){.f = {V4, NK_ICMP_TYPE}, .n = 2});
	map_rules(c, "l4", "ward-01", (struct nfr_cat){.f = {V4, P}, .n = 2});
	map_rules(c, "p6", "ward-01", (struct nfr_cat){.f = {V6, P, D}, .n = 3});
	map_rules(c, "i6", "ward-01", (struct nfr_cat){.f = {V6, NK_ICMPV6_TYPE}, .n = 2});
	map_rules(c, "l6", "ward-01", (struct nfr_cat){.f = {V6, P}, .n = 2});
	add_rule(c,
		 (struct nfr_rule){.cat = {{V4, P}, 2}, .set = xs("sl4/x"), .v = {NV_DROP, NULL}});
	c = add_chain(t, "from/ward-01/printer");
	add_rule(c, (struct nfr_rule){
			.cat = {{NK_SADDR4, P, D}, 3}, .set = xs("fp4/ward-01"), .vmap = true});
	add_rule(c, (struct nfr_rule){.v = {NV_GOTO, xs("from/ward-01")}});
	nfr_table_sort(t);
	return t;
}

/* ---- comparing two tables, field by field ---- */

static void hex128(struct strbuf *o, u128 v)
{
	sb_addf(o, "%016llx%016llx", (unsigned long long)(v >> 64), (unsigned long long)v);
}

static void describe_cat(struct strbuf *o, const struct nfr_cat *c)
{
	sb_add(o, " cat=[");
	for (unsigned int i = 0; i < c->n && i < NFR_CAT_MAX; i++)
		sb_addf(o, "%s%d", i ? "," : "", c->f[i]);
	sb_addf(o, "] mask=%08x", c->mark_mask);
}

static void describe_verdict(struct strbuf *o, const struct nfr_verdict *v)
{
	sb_addf(o, " v=%d/%s", v->kind, v->chain ? v->chain : "-");
}

#define S(x) ((x) ? (x) : "-")

static void describe_rule(struct strbuf *o, const struct nfr_rule *r)
{
	sb_addf(o, "ct=%u notif=%d iif=%s oif=%s key=%d lo=%u hi=%u set=%s vmap=%d", r->ct_state,
		r->not_ifaces, S(r->iifname), S(r->oifname), r->key, r->lo, r->hi, S(r->set),
		r->vmap);
	describe_cat(o, &r->cat);
	sb_addf(o, " setmark=%d keep=%08x or=%08x", r->set_mark, r->mark_keep, r->mark_or);
	sb_addf(o, " cmap=%s from=%d/%lld until=%d/%lld counter=%s limit=%s log=%s/%u",
		S(r->counter_map), r->has_from, (long long)r->from, r->has_until,
		(long long)r->until, S(r->counter), S(r->limit), S(r->log_prefix), r->log_group);
	describe_verdict(o, &r->v);
	sb_addf(o, " foreign=%s", S(r->foreign));
}

static void describe_elem(struct strbuf *o, const struct nfr_elem *e)
{
	hex128(o, e->lo);
	sb_add(o, "-");
	hex128(o, e->hi);
	for (unsigned int i = 0; i < NFR_CAT_MAX - 1; i++)
		sb_addf(o, " . %u-%u", e->clo[i], e->chi[i]);
	sb_addf(o, " if=%s obj=%s", S(e->ifname), S(e->obj));
	describe_verdict(o, &e->v);
}

static void describe_set(struct strbuf *o, const struct nfr_set *s)
{
	sb_addf(o, "key=%d vmap=%d objmap=%d interval=%d nelems=%zu foreign=%s", s->key, s->vmap,
		s->objmap, s->interval, s->nelems, S(s->foreign));
	describe_cat(o, &s->cat);
}

/* Adds to diff what differs between want's and got's description of part. */
static void differ(struct strbuf *diff, const char *part, const struct strbuf *w,
		   const struct strbuf *g)
{
	if (strcmp(sb_str(w), sb_str(g)))
		sb_addf(diff, "%s%s: want {%s}, got {%s}", diff->len ? "; " : "", part, sb_str(w),
			sb_str(g));
}

static int elem_order(const void *a, const void *b)
{
	struct strbuf x = {0}, y = {0};
	int c;

	describe_elem(&x, a);
	describe_elem(&y, b);
	c = strcmp(sb_str(&x), sb_str(&y));
	sb_free(&x);
	sb_free(&y);
	return c;
}

/* Elements in one order whatever nfr_table_sort makes of a concatenation's keys. */
static void sort_all(struct nfr_table *t)
{
	nfr_table_sort(t);
	for (size_t i = 0; i < t->nsets; i++)
		if (t->sets[i].nelems > 1)
			qsort(t->sets[i].elems, t->sets[i].nelems, sizeof(struct nfr_elem),
			      elem_order);
}

/* One report per set: its kind and key, then each element. */
static void compare_set(const char *stage, const struct nfr_set *w, const struct nfr_set *g)
{
	struct strbuf a = {0}, b = {0}, diff = {0};
	char label[256];

	describe_set(&a, w);
	describe_set(&b, g);
	differ(&diff, "set", &a, &b);
	for (size_t i = 0; !diff.len && i < w->nelems; i++) {
		sb_reset(&a), sb_reset(&b);
		describe_elem(&a, &w->elems[i]);
		describe_elem(&b, &g->elems[i]);
		differ(&diff, "element", &a, &b);
	}
	snprintf(label, sizeof(label), "%s: set %s (%zu elements)", stage, w->name, w->nelems);
	report(!diff.len, label, "%s", sb_str(&diff));
	sb_free(&a);
	sb_free(&b);
	sb_free(&diff);
}

/* One report per chain: its hook, then each rule. */
static void compare_chain(const char *stage, const struct nfr_chain *w, const struct nfr_chain *g)
{
	struct strbuf a = {0}, b = {0}, diff = {0};
	char label[256];

	sb_addf(&a, "hook=%d prio=%d nrules=%zu foreign=%s", w->hook, w->prio, w->nrules,
		S(w->foreign));
	sb_addf(&b, "hook=%d prio=%d nrules=%zu foreign=%s", g->hook, g->prio, g->nrules,
		S(g->foreign));
	differ(&diff, "chain", &a, &b);
	for (size_t i = 0; !diff.len && i < w->nrules; i++) {
		sb_reset(&a), sb_reset(&b);
		describe_rule(&a, &w->rules[i]);
		describe_rule(&b, &g->rules[i]);
		differ(&diff, "rule", &a, &b);
	}
	snprintf(label, sizeof(label), "%s: chain %s (%zu rules)", stage, w->name, w->nrules);
	report(!diff.len, label, "%s", sb_str(&diff));
	sb_free(&a);
	sb_free(&b);
	sb_free(&diff);
}

/* Every object of want in got, equal, and nothing more in got. */
static void compare(const char *stage, struct nfr_table *want, struct nfr_table *got)
{
	char label[128];

	snprintf(label, sizeof(label), "%s: table %s wardwall", stage,
		 nfr_family_str(want->family));
	report(got && got->family == want->family && !got->other_family, label, "%s",
	       got ? "another family" : "no table");
	if (!got)
		return;
	sort_all(want);
	sort_all(got);
	snprintf(label, sizeof(label), "%s: as many counters, sets and chains", stage);
	report(want->ncounters == got->ncounters && want->nsets == got->nsets &&
		   want->nchains == got->nchains,
	       label, "want %zu, %zu, %zu; got %zu, %zu, %zu", want->ncounters, want->nsets,
	       want->nchains, got->ncounters, got->nsets, got->nchains);
	struct strbuf wr = {0}, gr = {0};
	nfr_table_render(want, &wr);
	nfr_table_render(got, &gr);
	snprintf(label, sizeof(label), "%s: the same render text (nfr_table_render)", stage);
	report(!strcmp(sb_str(&wr), sb_str(&gr)), label, "want\n%s\ngot\n%s", sb_str(&wr),
	       sb_str(&gr));
	sb_free(&wr);
	sb_free(&gr);
	for (size_t i = 0; i < want->ncounters; i++)
		if (!nfr_counter_find(got, want->counters[i].name))
			report(false, want->counters[i].name, "counter missing");
	for (size_t i = 0; i < want->nsets; i++) {
		const struct nfr_set *g = nfr_set_find(got, want->sets[i].name);
		if (g)
			compare_set(stage, &want->sets[i], g);
		else
			report(false, want->sets[i].name, "set missing");
	}
	for (size_t i = 0; i < want->nchains; i++) {
		const struct nfr_chain *g = nfr_chain_find(got, want->chains[i].name);
		if (g)
			compare_chain(stage, &want->chains[i], g);
		else
			report(false, want->chains[i].name, "chain missing");
	}
}

/* ---- batches ---- */

/* The whole table, as a cold apply writes it: chains before the maps that jump to them, rules
 * last. */
static int full_batch(const struct nfr_table *t, uint32_t genid, struct ww_nft_batch **out)
{
	struct ww_nft_batch *b;
	int e = ww_nft_batch_new(&b, genid);

	if (e)
		return e;
	ww_nft_batch_family(b, t->family);
	e = ww_nft_add_table(b, NULL);
	for (size_t i = 0; !e && i < t->ncounters; i++)
		e = ww_nft_add_counter(b, &t->counters[i], "counter");
	for (size_t i = 0; !e && i < t->nchains; i++)
		e = ww_nft_add_chain(b, &t->chains[i], "chain");
	for (size_t i = 0; !e && i < t->nsets; i++)
		e = ww_nft_add_set(b, &t->sets[i], t->sets[i].name);
	for (size_t i = 0; !e && i < t->nchains; i++)
		e = ww_nft_add_rules(b, &t->chains[i], t->chains[i].name);
	if (e)
		ww_nft_batch_free(b);
	else
		*out = b;
	return e;
}

static bool elem_in(const struct nfr_elem *e, const struct nfr_set *s)
{
	for (size_t i = 0; i < s->nelems; i++)
		if (!elem_order(e, &s->elems[i]))
			return true;
	return false;
}

/* The elements of a that b does not have, as a set like a (elements shallow copies). */
static struct nfr_set minus(const struct nfr_set *a, const struct nfr_set *b)
{
	struct nfr_set d = *a;

	d.elems = calloc(a->nelems + 1, sizeof(*d.elems));
	d.nelems = 0;
	if (!d.elems)
		abort();
	for (size_t i = 0; i < a->nelems; i++)
		if (!elem_in(&a->elems[i], b))
			d.elems[d.nelems++] = a->elems[i];
	return d;
}

/* From table from to table to, whose sets differ only in elements: every deletion first (an
 * element added may overlap one deleted: the kernel refuses overlaps within a map), then the
 * additions. */
static int change_batch(const struct nfr_table *from, const struct nfr_table *to, uint32_t genid,
			struct ww_nft_batch **out)
{
	struct ww_nft_batch *b;
	int e = ww_nft_batch_new(&b, genid);

	if (e)
		return e;
	ww_nft_batch_family(b, to->family);
	for (int pass = 0; pass < 2 && !e; pass++)
		for (size_t i = 0; i < to->nsets && !e; i++) {
			const struct nfr_set *f = nfr_set_find(from, to->sets[i].name);
			struct nfr_set d = pass ? minus(&to->sets[i], f) : minus(f, &to->sets[i]);
			if (d.nelems)
				e = pass ? ww_nft_add_elems(b, &d, d.name)
					 : ww_nft_del_elems(b, &d, d.name);
			free(d.elems);
		}
	if (e)
		ww_nft_batch_free(b);
	else
		*out = b;
	return e;
}

/* ---- modes ---- */

static enum nfr_family family_arg(const char *s)
{
	if (!strcmp(s, "inet"))
		return NFR_INET;
	if (!strcmp(s, "bridge"))
		return NFR_BRIDGE;
	fprintf(stderr, "test_nft_flowmap: family %s: inet or bridge\n", s);
	exit(2);
}

/* A batch's messages replayed onto *t; the replay's verdict reported under what. */
static void replay(struct nfr_table **t, struct ww_nft_batch *b, const char *what)
{
	struct strbuf bytes = {0}, err = {0};
	int e = ww_nft_batch_bytes(b, &bytes);

	if (!e)
		e = ww_nft_batch_replay(t, bytes.s, bytes.len, &err);
	report(!e, what, "%s (%s)", strerror(-e), sb_str(&err));
	sb_free(&bytes);
	sb_free(&err);
}

static void mode_replay(enum nfr_family f)
{
	struct nfr_table *base = expected_table(f, false), *changed = expected_table(f, true);
	struct nfr_table *t = NULL;
	struct ww_nft_batch *b;

	report(!full_batch(base, 1, &b), "replay: the table's batch builds", "failed");
	replay(&t, b, "replay: the table's batch replays");
	ww_nft_batch_free(b);
	compare("replay of the table", base, t);
	report(!change_batch(base, changed, 1, &b), "replay: the change's batch builds", "failed");
	replay(&t, b, "replay: the change's batch replays");
	ww_nft_batch_free(b);
	compare("replay of the change", changed, t);

	/* Deleting what is not there anymore: the kernel refuses it, so must the replay. */
	struct strbuf bytes = {0}, err = {0};
	report(!change_batch(base, changed, 1, &b) && !ww_nft_batch_bytes(b, &bytes),
	       "replay: again", "failed");
	report(ww_nft_batch_replay(&t, bytes.s, bytes.len, &err) == -ENOENT,
	       "replay: deleting elements a map no longer has is refused", "%s", sb_str(&err));
	sb_free(&bytes);
	sb_free(&err);
	ww_nft_batch_free(b);

	struct nfr_set plain = {.name = "p", .key = NK_DADDR4, .interval = true};
	report(!ww_nft_batch_new(&b, 1) && ww_nft_del_elems(b, &plain, "p") == -EINVAL,
	       "deleting single intervals of a plain interval set is refused", "accepted");
	ww_nft_batch_free(b);
	nfr_table_free(t);
	nfr_table_free(base);
	nfr_table_free(changed);
}

/* The kernel modes run only in a namespace other than the suite's own. */
static void refuse_outer_namespace(void)
{
	const char *outer = getenv("WW_NFT_OUTER_NS");
	struct stat st;

	if (!outer || stat("/proc/self/ns/net", &st) ||
	    (unsigned long)st.st_ino == strtoul(outer, NULL, 10)) {
		fprintf(stderr, "test_nft_flowmap: refusing to touch this network namespace "
				"(run it through tests/suites/39-nft-flowmap-netlink.sh)\n");
		exit(2);
	}
}

/* The kernel's side: check reads and compares; commit and change write a batch. */
static int mode_kernel(const char *mode, enum nfr_family f, bool changed)
{
	bool check = !strcmp(mode, "check"), commit = !strcmp(mode, "commit");
	struct nfr_table *want = expected_table(f, check ? changed : !commit), *got = NULL;
	struct nfr_table *base = commit || check ? NULL : expected_table(f, false);
	struct ww_nft_batch *b = NULL;
	struct strbuf err = {0};
	struct ww_nft *n = NULL;
	uint32_t genid;
	int e;

	refuse_outer_namespace();
	e = ww_nft_open(&n);
	if (!e)
		e = ww_nft_genid(n, &genid);
	if (!e && !strcmp(mode, "sets")) {
		/* Every attribute of the sets, one line each set (ww_nft_dump_raw's), for the
		 * suite to compare with nft's own: what `nft list` does not show (user data). */
		struct strbuf raw = {0};
		e = ww_nft_dump_raw(n, &raw);
		bool rule = false; /* in a rule's lines, which go on to the next set's */
		for (char *l = raw.s, *nl; !e && l && *l; l = nl) {
			nl = strchr(l, '\n');
			if (nl)
				*nl++ = 0;
			if (!strncmp(l, "rule ", 5) || !strncmp(l, "set ", 4))
				rule = !strncmp(l, "rule ", 5);
			if (!rule)
				printf("%s%s ", l != raw.s && !strncmp(l, "set ", 4) ? "\n" : "",
				       l);
		}
		printf("\n");
		sb_free(&raw);
	} else if (!e && check) {
		e = ww_nft_read(n, &got, &genid, &err);
		if (!e)
			compare(changed ? "read after the change" : "read", want, got);
	} else if (!e) {
		e = commit ? full_batch(want, genid, &b) : change_batch(base, want, genid, &b);
		if (!e)
			e = ww_nft_batch_commit(n, b, &err);
		report(!e,
		       commit ? "commit: the kernel takes the table's batch"
			      : "change: the kernel takes deletions, then an overlapping addition",
		       "%s", err.len ? sb_str(&err) : strerror(-e));
	}
	if (e && check)
		fprintf(stderr, "test_nft_flowmap %s: %s %s\n", mode, strerror(-e), sb_str(&err));
	ww_nft_batch_free(b);
	nfr_table_free(got);
	nfr_table_free(base);
	nfr_table_free(want);
	sb_free(&err);
	ww_nft_close(n);
	return e ? 1 : 0;
}

static void mode_render(enum nfr_family f)
{
	struct nfr_table *t = expected_table(f, false);
	struct strbuf out = {0};

	nfr_table_render(t, &out);
	fputs(sb_str(&out), stdout);
	sb_free(&out);
	nfr_table_free(t);
}

int main(int argc, char **argv)
{
	bool changed = false;

	if (argc < 3) {
		fprintf(
		    stderr,
		    "usage: test_nft_flowmap check|commit|change|sets|render|replay inet|bridge "
		    "[mark] [changed]\n");
		return 2;
	}
	enum nfr_family f = family_arg(argv[2]);
	for (int i = 3; i < argc; i++) {
		if (!strcmp(argv[i], "mark"))
			mark_layout = true;
		else if (!strcmp(argv[i], "changed"))
			changed = true;
		else
			return 2;
	}
	if (!strcmp(argv[1], "render"))
		mode_render(f);
	else if (!strcmp(argv[1], "replay"))
		mode_replay(f);
	else if (!strcmp(argv[1], "check") || !strcmp(argv[1], "commit") ||
		 !strcmp(argv[1], "change") || !strcmp(argv[1], "sets"))
		failures += mode_kernel(argv[1], f, changed);
	else
		return 2;
	return failures ? 1 : 0;
}
