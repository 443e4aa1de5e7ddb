// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft_batch.c's flow-map shapes (issue 12) without a kernel: the tables of tests/unit/flowmap.h
 * (the IR the render tests write by hand) linearized into one batch and replayed through the
 * readback's decoders (ww_nft_batch_replay) must render the same text; element deletions and an
 * addition likewise; what nfr.h does not allow is refused as such. The class-keyed layout's maps
 * (keyed on `meta mark & mask . ...`) and set-mark rules likewise, field by field. The same
 * shapes against the kernel and nft itself: tests/suites/39-nft-flowmap-netlink.sh.
 */
#include "unit.h"

#include "flowmap.h"
#include "nft_nl.h"

static struct nfr_table *tables(enum nfr_family fam, bool changed)
{
	static const struct fm_el p4[] = {
	    {"10.1.0.0/24", 6, 6, 443, 443, "accept", "flow/f1"},
	    {"10.2.0.5", 17, 17, 2000, 2010, "drop", "flow/f2"},
	    {"10.3.0.0-10.3.0.127", 6, 6, 22, 22, "goto dec-3fa9c2e1d0b4", NULL},
	    {"0.0.0.0/0", 6, 17, 5000, 5000, "drop", "flow/f5"},
	};
	static const struct fm_el p4b[] = {
	    {"10.1.0.0/24", 6, 6, 443, 443, "accept", "flow/f1"},
	    {"10.2.0.5", 17, 17, 2005, 2020, "accept", "flow/f2"},
	    {"10.3.0.0-10.3.0.127", 6, 6, 22, 22, "goto dec-3fa9c2e1d0b4", NULL},
	};
	static const struct fm_el i4[] = {{"10.1.0.0/24", 8, 8, 0, 0, "accept", "flow/f1"}};
	static const struct fm_el l6[] = {
	    {"fd00:1::3", 47, 47, 0, 0, "jump dec-3fa9c2e1d0b4", "flow/f6"}};
	static const struct fm_el i6[] = {{"::/0", 1, 4, 0, 0, "drop", "flow/f2"}};
	struct nfr_table *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->family = fam;
	fm_dec(t, "dec-3fa9c2e1d0b4", "flow/f3", "accept");
	fm_maps(t, "ward-01", FM_P4, changed ? p4b : p4,
		changed ? ARRAY_SIZE(p4b) : ARRAY_SIZE(p4));
	fm_maps(t, "ward-01", FM_I4, i4, ARRAY_SIZE(i4));
	fm_maps(t, "ward-01", FM_L6, l6, ARRAY_SIZE(l6));
	fm_maps(t, "ward-01", FM_I6, i6, ARRAY_SIZE(i6));
	fm_counter(t, "flow/f5"); /* kept after the change: a counter outlives its flow's element */
	nfr_table_sort(t);
	return t;
}

static char *render(const struct nfr_table *t)
{
	struct strbuf sb = {0};

	nfr_table_render(t, &sb);
	assert_false(sb.oom);
	return sb_steal(&sb);
}

/* The batch's messages applied to *t; returns the replay's verdict. */
static int replay(struct nfr_table **t, struct ww_nft_batch *b)
{
	struct strbuf bytes = {0}, err = {0};
	int e = ww_nft_batch_bytes(b, &bytes);

	if (!e)
		e = ww_nft_batch_replay(t, bytes.s, bytes.len, &err);
	if (e)
		print_message("replay: %s\n", sb_str(&err));
	sb_free(&bytes);
	sb_free(&err);
	ww_nft_batch_free(b);
	return e;
}

static struct ww_nft_batch *whole(const struct nfr_table *t)
{
	struct ww_nft_batch *b;

	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	ww_nft_batch_family(b, t->family);
	assert_int_equal(ww_nft_add_table(b, NULL), 0);
	for (size_t i = 0; i < t->ncounters; i++)
		assert_int_equal(ww_nft_add_counter(b, &t->counters[i], "counter"), 0);
	for (size_t i = 0; i < t->nchains; i++)
		assert_int_equal(ww_nft_add_chain(b, &t->chains[i], "chain"), 0);
	for (size_t i = 0; i < t->nsets; i++)
		assert_int_equal(ww_nft_add_set(b, &t->sets[i], "set"), 0);
	for (size_t i = 0; i < t->nchains; i++)
		assert_int_equal(ww_nft_add_rules(b, &t->chains[i], "rules"), 0);
	return b;
}

/* A set with exactly the elements of a that b lacks (shallow copies). */
static struct nfr_set minus(const struct nfr_set *a, const struct nfr_set *b)
{
	struct nfr_set d = *a;

	d.elems = calloc(a->nelems + 1, sizeof(*d.elems));
	assert_non_null(d.elems);
	d.nelems = 0;
	for (size_t i = 0; i < a->nelems; i++) {
		bool found = false;
		for (size_t k = 0; b && k < b->nelems && !found; k++)
			found =
			    !memcmp(a->elems[i].clo, b->elems[k].clo, sizeof(a->elems[i].clo)) &&
			    !memcmp(a->elems[i].chi, b->elems[k].chi, sizeof(a->elems[i].chi)) &&
			    a->elems[i].lo == b->elems[k].lo && a->elems[i].hi == b->elems[k].hi;
		if (!found)
			d.elems[d.nelems++] = a->elems[i];
	}
	return d;
}

static void round_trip(enum nfr_family fam)
{
	struct nfr_table *want = tables(fam, false), *next = tables(fam, true), *t = NULL;
	struct ww_nft_batch *b;
	char *a, *g;

	assert_int_equal(replay(&t, whole(want)), 0);
	assert_non_null(t);
	a = render(want), g = render(t);
	assert_string_equal(g, a);
	free(a), free(g);

	/* Deletions first, then additions (one overlaps a deleted element). */
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	ww_nft_batch_family(b, fam);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < want->nsets; i++) {
			const struct nfr_set *n = nfr_set_find(next, want->sets[i].name);
			struct nfr_set d =
			    pass ? minus(n, &want->sets[i]) : minus(&want->sets[i], n);
			if (d.nelems)
				assert_int_equal(pass ? ww_nft_add_elems(b, &d, d.name)
						      : ww_nft_del_elems(b, &d, d.name),
						 0);
			free(d.elems);
		}
	assert_int_equal(replay(&t, b), 0);
	a = render(next), g = render(t);
	assert_string_equal(g, a);
	free(a), free(g);
	nfr_table_free(t);
	nfr_table_free(want);
	nfr_table_free(next);
}

static void inet_round_trip(void **state)
{
	(void)state;
	round_trip(NFR_INET);
}

static void bridge_round_trip(void **state)
{
	(void)state;
	round_trip(NFR_BRIDGE);
}

/* Concatenations nfr.h does not allow, and element deletions an interval set cannot say. */
static void refusals(void **state)
{
	struct nfr_set bad = {.name = "x", .cat = {{NK_L4PROTO, NK_DADDR4}, 2}, .vmap = true};
	struct nfr_set pair = {.name = "y", .cat = {{NK_DADDR4, NK_TCP_DPORT}, 2}};
	struct nfr_set plain = {.name = "z", .key = NK_DADDR4, .interval = true};
	struct nfr_rule r = {.cat = {{NK_DADDR4, NK_SADDR4}, 2}, .set = "x", .vmap = true};
	struct nfr_chain c = {.name = "c", .rules = &r, .nrules = 1};
	struct ww_nft_batch *b;

	(void)state;
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	assert_int_equal(ww_nft_add_set(b, &bad, "x"), -EINVAL);
	assert_int_equal(ww_nft_add_set(b, &pair, "y"), -EINVAL);
	assert_int_equal(ww_nft_del_elems(b, &plain, "z"), -EINVAL);
	assert_int_equal(ww_nft_add_rules(b, &c, "c"), -EINVAL);
	assert_int_equal(ww_nft_batch_count(b), 0);
	ww_nft_batch_free(b);
}

/* ---- the class-keyed layout: maps keyed on the mark's class bits, the set-mark rules ---- */

static void push_rule(struct nfr_chain *c, struct nfr_rule r)
{
	assert_int_equal(VEC_PUSH(c->rules, c->nrules, c->cap, r), 0);
}

/* A set of kind 'v' (verdict map) or 'c' (counter map) keyed on cat, with the one element e. */
static void mark_set(struct nfr_table *t, const char *name, struct nfr_cat cat, char kind,
		     struct nfr_elem e)
{
	struct nfr_set s = {.name = strdup(name), .cat = cat, .interval = true};

	s.cat.mark_mask = 0; /* a set's elements hold the masked values */
	s.vmap = kind == 'v';
	s.objmap = kind == 'c';
	assert_int_equal(VEC_PUSH(s.elems, s.nelems, s.cap, e), 0);
	assert_int_equal(VEC_PUSH(t->sets, t->nsets, t->scap, s), 0);
}

/* A mark-keyed verdict map and its counters' map (class . proto . port), an ICMPv6 one, the
 * chain that looks them up at two levels (host bits and zone bits), and set-mark rules: alone,
 * and one after a match and a counter, before a verdict. */
static struct nfr_table *mark_table(enum nfr_family fam)
{
	struct nfr_table *t = calloc(1, sizeof(*t));
	struct nfr_cat cat = {.f = {NK_MARK, NK_L4PROTO, NK_TH_DPORT}, .n = 3};
	struct nfr_cat icmp = {.f = {NK_MARK, NK_ICMPV6_TYPE}, .n = 2, .mark_mask = 0xffff0000};
	struct nfr_elem e = {.lo = 0x00010000, .hi = 0x00010000};
	struct nfr_rule r;
	struct nfr_chain *c;

	assert_non_null(t);
	t->family = fam;
	fm_counter(t, "flow/m1");
	fm_dec(t, "dec-5b1e0c2a9d44", "flow/m1", "accept");
	e.clo[0] = e.chi[0] = 17;
	e.clo[1] = 2000, e.chi[1] = 2010;
	e.v.kind = NV_DROP;
	mark_set(t, "fp/w", cat, 'v', e);
	e.v.kind = NV_NONE;
	e.obj = strdup("flow/m1");
	mark_set(t, "cp/w", cat, 'c', e);
	e = (struct nfr_elem){.lo = 0x02010000, .hi = 0x02010000, .clo = {128}, .chi = {128}};
	e.v = (struct nfr_verdict){NV_GOTO, strdup("dec-5b1e0c2a9d44")};
	mark_set(t, "fi6/w", icmp, 'v', e);
	c = fm_chain(t, "from/w");
	for (int level = 0; level < 2; level++) {
		cat.mark_mask = level ? 0x00ff0000 : 0xffff0000;
		push_rule(c, (struct nfr_rule){.cat = cat, .counter_map = strdup("cp/w")});
		push_rule(c, (struct nfr_rule){.cat = cat, .set = strdup("fp/w"), .vmap = true});
	}
	push_rule(c, (struct nfr_rule){.cat = icmp, .set = strdup("fi6/w"), .vmap = true});
	c = fm_chain(t, "to/w");
	r = (struct nfr_rule){.set_mark = true, .mark_keep = 0x0000ffff, .mark_or = 0x02010000};
	push_rule(c, r);
	r = (struct nfr_rule){.key = NK_DADDR4, .lo = 0x0a000001, .hi = 0x0a000001};
	r.counter = strdup("flow/m1");
	r.set_mark = true;
	r.mark_keep = 0xff00ffff;
	r.v.kind = NV_ACCEPT;
	push_rule(c, r);
	nfr_table_sort(t);
	return t;
}

/* What the render does not say (nfr.c may not know NK_MARK): every field of the mark's shapes. */
static void same_marks(const struct nfr_table *w, const struct nfr_table *g)
{
	assert_int_equal(g->nsets, w->nsets);
	assert_int_equal(g->nchains, w->nchains);
	for (size_t i = 0; i < w->nsets; i++) {
		const struct nfr_set *a = &w->sets[i], *b = nfr_set_find(g, a->name);
		assert_non_null(b);
		assert_true(a->vmap == b->vmap && a->objmap == b->objmap && b->interval);
		assert_int_equal(b->cat.n, a->cat.n);
		assert_memory_equal(b->cat.f, a->cat.f, sizeof(a->cat.f[0]) * a->cat.n);
		assert_int_equal(b->nelems, 1);
		assert_true(b->elems[0].lo == a->elems[0].lo && b->elems[0].hi == a->elems[0].hi);
		assert_memory_equal(b->elems[0].clo, a->elems[0].clo, sizeof(a->elems[0].clo));
		assert_memory_equal(b->elems[0].chi, a->elems[0].chi, sizeof(a->elems[0].chi));
	}
	for (size_t i = 0; i < w->nchains; i++) {
		const struct nfr_chain *a = &w->chains[i], *b = nfr_chain_find(g, a->name);
		assert_non_null(b);
		assert_int_equal(b->nrules, a->nrules);
		for (size_t k = 0; k < a->nrules; k++) {
			const struct nfr_rule *x = &a->rules[k], *y = &b->rules[k];
			assert_null(y->foreign);
			assert_int_equal(y->cat.n, x->cat.n);
			assert_int_equal(y->cat.mark_mask, x->cat.mark_mask);
			assert_int_equal(y->set_mark, x->set_mark);
			assert_int_equal(y->mark_keep, x->mark_keep);
			assert_int_equal(y->mark_or, x->mark_or);
			assert_int_equal(y->key, x->key);
			assert_int_equal(y->v.kind, x->v.kind);
		}
	}
}

static void mark_round_trip(void **state)
{
	for (int f = NFR_INET; f <= NFR_BRIDGE; f++) {
		struct nfr_table *want = mark_table((enum nfr_family)f), *t = NULL;
		char *a, *g;

		(void)state;
		assert_int_equal(replay(&t, whole(want)), 0);
		assert_non_null(t);
		same_marks(want, t);
		a = render(want), g = render(t);
		assert_string_equal(g, a);
		free(a), free(g);
		nfr_table_free(t);
		nfr_table_free(want);
	}
}

/* The mark only as a concatenation's first field; a set-mark's bits to set outside those kept. */
static void mark_refusals(void **state)
{
	struct nfr_set late = {.name = "x", .cat = {.f = {NK_L4PROTO, NK_MARK}, .n = 2}};
	struct nfr_rule r = {.cat = {.f = {NK_DADDR4, NK_MARK}, .n = 2}, .set = "x", .vmap = true};
	struct nfr_rule m = {.set_mark = true, .mark_keep = 0x0001ffff, .mark_or = 0x00010000};
	struct nfr_chain c = {.name = "c", .rules = &r, .nrules = 1};
	struct ww_nft_batch *b;

	(void)state;
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	assert_int_equal(ww_nft_add_set(b, &late, "x"), -EINVAL);
	assert_int_equal(ww_nft_add_rules(b, &c, "c"), -EINVAL);
	c.rules = &m;
	assert_int_equal(ww_nft_add_rules(b, &c, "c"), -EINVAL);
	assert_int_equal(ww_nft_batch_count(b), 0);
	ww_nft_batch_free(b);
}

/* Deleting an element a map does not have: the kernel refuses it, so does the replay. */
static void delete_missing(void **state)
{
	struct nfr_table *t = NULL, *want = tables(NFR_INET, false);
	const struct nfr_set *s = nfr_set_find(want, "fp4/ward-01");
	struct nfr_set one = *s;
	struct ww_nft_batch *b;

	(void)state;
	assert_int_equal(replay(&t, whole(want)), 0);
	one.nelems = 1;
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	assert_int_equal(ww_nft_del_elems(b, &one, one.name), 0);
	assert_int_equal(ww_nft_del_elems(b, &one, one.name), 0);
	assert_int_equal(replay(&t, b), -ENOENT);
	nfr_table_free(t);
	nfr_table_free(want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(inet_round_trip),
	    cmocka_unit_test(bridge_round_trip),
	    cmocka_unit_test(refusals),
	    cmocka_unit_test(delete_missing),
	    cmocka_unit_test(mark_round_trip),
	    cmocka_unit_test(mark_refusals),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
