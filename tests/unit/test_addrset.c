// SPDX-License-Identifier: GPL-2.0-only
/* addrset.c: the built-in address sets and prefix-list subtraction. */
#include "unit.h"

#include "addr.h"
#include "addrset.h"

struct out {
	struct ww_prefix v[8192];
	size_t n;
};

static void collect(const struct ww_prefix *p, void *arg)
{
	struct out *o = arg;

	assert_true(o->n < ARRAY_SIZE(o->v));
	o->v[o->n++] = *p;
}

static struct ww_prefix P(const char *s)
{
	struct ww_prefix p, canon;
	const char *why;

	assert_int_equal(ww_prefix_parse(s, true, &p, &why, &canon), 0);
	return p;
}

static void assert_out(const struct out *o, const char *const *want, size_t n)
{
	char buf[WW_PREFIX_STRLEN];

	for (size_t i = 0; i < o->n && i < n; i++)
		assert_string_equal(ww_prefix_str(&o->v[i], false, buf), want[i]);
	assert_int_equal(o->n, n);
}

/* Every entry of every table parses, and no entry lies inside another (the table says so). */
static void test_tables(void **state)
{
	for (size_t i = 0; ww_addrsets[i]; i++) {
		struct out o = {0};
		assert_int_equal(ww_addrset_each(ww_addrsets[i], collect, &o), 0);
		assert_true(o.n > 0);
		for (size_t a = 0; a < o.n; a++)
			for (size_t b = 0; b < o.n; b++)
				assert_true(a == b || !ww_prefix_covers(&o.v[a], &o.v[b]));
		assert_ptr_equal(ww_addrset_find(ww_addrsets[i]->name), ww_addrsets[i]);
	}
	assert_null(ww_addrset_find("RFC1918"));
	assert_null(ww_addrset_find("rfc"));
}

static void test_subtract_hole(void **state)
{
	struct ww_prefix plus[] = {P("10.0.0.0/8")}, minus[] = {P("10.128.0.0/9"), P("10.1.0.0/16")};
	static const char *const want[] = {"10.0.0.0/16", "10.2.0.0/15", "10.4.0.0/14",
					   "10.8.0.0/13", "10.16.0.0/12", "10.32.0.0/11",
					   "10.64.0.0/10"};
	struct out o = {0};

	assert_int_equal(ww_prefix_subtract(plus, 1, minus, 2, collect, &o), 0);
	assert_out(&o, want, ARRAY_SIZE(want));
}

/* The union of overlapping and adjacent networks is merged first; families stay apart. */
static void test_subtract_union_and_families(void **state)
{
	struct ww_prefix plus[] = {P("10.0.1.0/24"), P("10.0.0.0/24"), P("10.0.0.128/25"),
				   P("fd00::/64")};
	struct ww_prefix minus[] = {P("::/0")};
	static const char *const want[] = {"10.0.0.0/23"};
	struct out o = {0};

	assert_int_equal(ww_prefix_subtract(plus, 4, minus, 1, collect, &o), 0);
	assert_out(&o, want, ARRAY_SIZE(want));
}

static void test_subtract_everything(void **state)
{
	struct ww_prefix plus[] = {P("10.50.0.0/24")}, minus[] = {P("10.50.0.0/23")};
	struct out o = {0};

	assert_int_equal(ww_prefix_subtract(plus, 1, minus, 1, collect, &o), 0);
	assert_int_equal(o.n, 0);
	assert_int_equal(ww_prefix_subtract(plus, 1, NULL, 0, collect, &o), 0);
	assert_int_equal(o.n, 1);
}

/* The internet as a hospital means it: an address is in the result exactly when it is in no
 * special-purpose range, checked at every range edge. */
static void test_internet(void **state)
{
	struct out sp = {0}, o = {0};
	struct ww_prefix plus[] = {P("0.0.0.0/0"), P("::/0")};

	assert_int_equal(ww_addrset_each(ww_addrset_find("special-purpose"), collect, &sp), 0);
	assert_int_equal(ww_prefix_subtract(plus, 2, sp.v, sp.n, collect, &o), 0);
	for (size_t i = 0; i < sp.n; i++) {
		u128 edges[] = {ww_prefix_first(&sp.v[i]) - 1, ww_prefix_first(&sp.v[i]),
				ww_prefix_last(&sp.v[i]), ww_prefix_last(&sp.v[i]) + 1};
		for (size_t e = 0; e < ARRAY_SIZE(edges); e++) {
			struct ww_addr a = {.family = sp.v[i].a.family, .v = edges[e]};
			if (a.family == WW_INET && a.v > 0xffffffffu)
				continue;
			bool special = false, inet = false;
			for (size_t k = 0; k < sp.n; k++)
				special |= ww_prefix_contains(&sp.v[k], &a);
			for (size_t k = 0; k < o.n; k++)
				inet |= ww_prefix_contains(&o.v[k], &a);
			assert_true(special != inet);
		}
	}
}

UNIT_MAIN(cmocka_unit_test(test_tables), cmocka_unit_test(test_subtract_hole),
	  cmocka_unit_test(test_subtract_union_and_families),
	  cmocka_unit_test(test_subtract_everything), cmocka_unit_test(test_internet))
