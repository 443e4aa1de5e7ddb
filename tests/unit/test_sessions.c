// SPDX-License-Identifier: GPL-2.0-only
/* sessions.c: which connections an apply cuts (the previous policy let them through, the new
 * one denies them). */
#include "sessions.h"
#include "unit.h"

#define FLOWS_A                                                                                    \
	", 'flows': ["                                                                             \
	"{'id': 'web', 'from': 'campus', 'to': 'campus/servers', 'services': ['https', 'ssh'],"    \
	" 'action': 'allow'},"                                                                     \
	"{'id': 'lab', 'from': 'lab', 'to': 'campus/db', 'services': ['https'], 'action': 'allow'}," \
	"{'id': 'icu', 'from': 'icu', 'to': 'campus/db', 'services': ['https'], 'action': 'deny'}]"
/* web narrowed to https; lab revoked; icu (monitor zone) unchanged. */
#define FLOWS_B                                                                                    \
	", 'flows': ["                                                                             \
	"{'id': 'web', 'from': 'campus', 'to': 'campus/servers', 'services': ['https'],"           \
	" 'action': 'allow'},"                                                                     \
	"{'id': 'icu', 'from': 'icu', 'to': 'campus/db', 'services': ['https'], 'action': 'deny'}]"

static bool cut(const struct ww_policy *a, const struct ww_policy *b, const char *src,
		const char *dst, int proto, int key)
{
	struct ww_addr s, d;

	assert_int_equal(ww_addr_parse(src, &s), 0);
	assert_int_equal(ww_addr_parse(dst, &d), 0);
	return ww_session_revoked(a, b, &s, &d, proto, key, 1800000000);
}

static void test_revoked(void **state)
{
	struct ww_policy *a = unit_parse_ok(UNIT_POL(FLOWS_A)), *b = unit_parse_ok(UNIT_POL(FLOWS_B));

	/* Narrowed: ssh goes, https stays. */
	assert_true(cut(a, b, "10.9.0.1", "10.1.0.5", WW_PROTO_TCP, 22));
	assert_false(cut(a, b, "10.9.0.1", "10.1.0.5", WW_PROTO_TCP, 443));
	assert_true(cut(a, b, "fd00:9::1", "fd00:1::5", WW_PROTO_TCP, 22));
	/* Revoked. */
	assert_true(cut(a, b, "10.2.0.1", "10.1.2.3", WW_PROTO_TCP, 443));
	/* Denied before: not apply's to cut (the previous policy did not let it through). */
	assert_false(cut(a, b, "10.2.0.1", "10.1.0.5", WW_PROTO_UDP, 53));
	/* A deny in a monitor zone passes, before and after: nothing to cut. */
	assert_false(cut(a, b, "10.3.0.1", "10.1.2.3", WW_PROTO_TCP, 443));
	/* No previous policy: nothing. */
	assert_false(cut(NULL, b, "10.2.0.1", "10.1.2.3", WW_PROTO_TCP, 443));
	ww_policy_free(a);
	ww_policy_free(b);
}

/* A validity window: at apply, what the new policy decides now counts. */
static void test_window(void **state)
{
	struct ww_policy *a = unit_parse_ok(UNIT_POL(FLOWS_A)),
			 *b = unit_parse_ok(UNIT_POL(
				 ", 'flows': [{'id': 'web', 'from': 'campus', 'to': 'campus/servers',"
				 " 'services': ['https', 'ssh'], 'action': 'allow', 'valid': {'until':"
				 " '2020-01-01T00:00:00Z'}}]"));

	assert_true(cut(a, b, "10.9.0.1", "10.1.0.5", WW_PROTO_TCP, 443));
	ww_policy_free(a);
	ww_policy_free(b);
}

UNIT_MAIN(cmocka_unit_test(test_revoked), cmocka_unit_test(test_window))
