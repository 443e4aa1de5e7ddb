// SPDX-License-Identifier: GPL-2.0-only
/* policy_diff.c: what plan says changed between two policies, here the settings of
 * "enforcement" (every one of which changes what the kernel holds). */
#include "unit.h"

#include "policy_diff.h"

#define P(enf) "{" UNIT_HDR "'zones': {'a': {'networks': '10.1.0.0/16'}}" enf "}"

/* The one item of old -> new, which must be a change of "enforcement"; its detail. */
static char *enforcement_change(const char *old, const char *new)
{
	struct ww_policy *a = unit_parse_ok(old), *b = unit_parse_ok(new);
	struct ww_pdiff d;
	char *detail;

	assert_int_equal(ww_policy_diff(a, b, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.v[0].kind, "enforcement");
	assert_int_equal(d.v[0].op, WW_PD_CHANGED);
	assert_false(d.v[0].enforcement_neutral);
	detail = strdup(d.v[0].detail);
	ww_pdiff_free(&d);
	ww_policy_free(a);
	ww_policy_free(b);
	return detail;
}

static void test_enforcement(void **state)
{
	struct ww_policy *a = unit_parse_ok(P("")),
			 *b = unit_parse_ok(P(", 'enforcement': {'mark_bits': '0xFFFF0000'}"));
	struct ww_pdiff d;
	char *s;

	/* The default written out is no change. */
	assert_int_equal(ww_policy_diff(a, b, &d), 0);
	assert_int_equal(d.n, 0);
	ww_pdiff_free(&d);
	ww_policy_free(a);
	ww_policy_free(b);
	s = enforcement_change(P(""), P(", 'enforcement': {'mark_bits': '0x0000ff00'}"));
	assert_string_equal(s, "mark_bits");
	free(s);
	s = enforcement_change(P(", 'enforcement': {'log_rate': 5, 'mark_bits': '0xff'}"),
			       P(", 'enforcement': {'log_rate': 6, 'mark_bits': '0xff00'}"));
	assert_string_equal(s, "log_rate, mark_bits");
	free(s);
}

UNIT_MAIN(cmocka_unit_test(test_enforcement))
