// SPDX-License-Identifier: GPL-2.0-only
/* window_ends.c: where and when a validity window's boundary turns the decision into deny. */
#include "window_ends.h"
#include "unit.h"

/* 2030-01-01T00:00:00Z and an hour later. */
#define T0 1893456000
#define T1 1893459600

static struct ww_window_end *ends(const struct ww_policy *p, int64_t now, size_t *n)
{
	struct ww_classes c;
	struct ww_window_end *w = NULL;

	assert_int_equal(ww_classes_build(p, &c), 0);
	assert_int_equal(ww_window_ends(p, &c, now, &w, n), 0);
	ww_classes_free(&c);
	return w;
}

/* A vendor window on ssh and https; https is also allowed for good by another flow: only ssh
 * ends, at the window's end, from then on; for each class of lab (its own addresses and its host
 * group scope). */
static void test_allow_window_ends(void **state)
{
	struct ww_policy *p = unit_parse_ok(UNIT_POL(
		", 'flows': ["
		"{'id': 'vendor', 'from': 'lab', 'to': 'campus/db', 'services': ['ssh', 'https'],"
		" 'action': 'allow', 'valid': {'from': '2029-12-31T00:00:00Z', 'until': "
		"'2030-01-01T00:00:00Z'}},"
		"{'id': 'web', 'from': 'lab', 'to': 'campus/db', 'services': ['https'], 'action': "
		"'allow'}]"));
	size_t n;
	struct ww_window_end *w = ends(p, T0 - 60, &n);

	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(w[i].proto, WW_PROTO_TCP);
		assert_int_equal(w[i].lo, 22);
		assert_int_equal(w[i].hi, 22);
		assert_int_equal(w[i].from, T0);
		assert_int_equal(w[i].until, 0);
		assert_string_equal(p->flows[w[i].flow].id, "vendor");
		struct ww_class s = ww_class_of(p, w[i].src), d = ww_class_of(p, w[i].dst);
		assert_string_equal(s.zone->name, "lab");
		assert_string_equal(d.host->name, "db");
	}
	assert_true(ww_class_of(p, w[0].src).host || ww_class_of(p, w[1].src).host);
	free(w);
	/* Still in force long after (a connection opened before may live on). */
	w = ends(p, T1, &n);
	assert_int_equal(n, 2);
	free(w);
	ww_policy_free(p);
}

/* A deny window (maintenance freeze) begins: what was allowed ends at its start, until its end. */
static void test_deny_window_begins(void **state)
{
	struct ww_policy *p = unit_parse_ok(UNIT_POL(
		", 'flows': ["
		"{'id': 'freeze', 'from': 'lab', 'to': 'campus/db', 'services': ['https'],"
		" 'action': 'deny', 'valid': {'from': '2030-01-01T00:00:00Z', 'until': "
		"'2030-01-01T01:00:00Z'}},"
		"{'id': 'web', 'from': 'lab', 'to': 'campus/db', 'services': ['https'], 'action': "
		"'allow'}]"));
	size_t n;
	struct ww_window_end *w = ends(p, T0 - 60, &n);

	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(w[i].lo, 443);
		assert_int_equal(w[i].from, T0);
		assert_int_equal(w[i].until, T1);
	}
	free(w);
	/* Over: nothing left to end. */
	w = ends(p, T1 + 1, &n);
	assert_int_equal(n, 0);
	free(w);
	ww_policy_free(p);
}

/* Monitor mode observes: a zone in monitor mode never ends a connection. */
static void test_monitor_zone(void **state)
{
	struct ww_policy *p = unit_parse_ok(UNIT_POL(
		", 'flows': [{'id': 'pump', 'from': 'icu', 'to': 'campus/db', 'services': ['https'],"
		" 'action': 'allow', 'valid': {'until': '2030-01-01T00:00:00Z'}}]"));
	size_t n;
	struct ww_window_end *w = ends(p, T0 - 60, &n);

	assert_int_equal(n, 0);
	free(w);
	ww_policy_free(p);
}

/* A window on every protocol ("any") while https stays allowed by another flow: the regions are
 * the protocols no other service of the pair names, as runs (0-5, 7-255), every key, plus tcp
 * except 443; never tcp/443. */
static void test_any_window(void **state)
{
	struct ww_policy *p = unit_parse_ok(UNIT_POL(
		", 'flows': ["
		"{'id': 'vendor', 'from': 'lab', 'to': 'campus/db', 'services': ['any'],"
		" 'action': 'allow', 'valid': {'until': '2030-01-01T00:00:00Z'}},"
		"{'id': 'web', 'from': 'lab', 'to': 'campus/db', 'services': ['https'], 'action': "
		"'allow'}]"));
	size_t n, any = 0, tcp = 0;
	struct ww_window_end *w = ends(p, T0 - 60, &n);

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(w[i].from, T0);
		if (w[i].proto == WW_PROTO_ANY) {
			any++;
			assert_true((w[i].plo == 0 && w[i].phi == 5) ||
				    (w[i].plo == 7 && w[i].phi == 255));
			assert_int_equal(w[i].lo, 0);
			assert_int_equal(w[i].hi, 65535);
		} else {
			tcp++;
			assert_int_equal(w[i].proto, WW_PROTO_TCP);
			assert_int_equal(w[i].plo, WW_PROTO_TCP);
			assert_true(w[i].hi < 443 || w[i].lo > 443);
		}
	}
	assert_int_equal(any % 2, 0); /* both runs, for each class pair */
	assert_true(any > 0 && tcp > 0);
	free(w);
	ww_policy_free(p);
}

UNIT_MAIN(cmocka_unit_test(test_allow_window_ends), cmocka_unit_test(test_deny_window_begins),
	  cmocka_unit_test(test_monitor_zone), cmocka_unit_test(test_any_window))
