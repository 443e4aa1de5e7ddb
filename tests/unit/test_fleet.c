// SPDX-License-Identifier: GPL-2.0-only
/*
 * fleet_part.c and fleet_envelope.c, the parts that need no etcd: a gateway's part of a policy,
 * and the signed record (verified, tampered with, signed by another key).
 */
#include <sodium.h>

#include "unit.h"

#include "evidence.h"
#include "fleet.h"

#define FLEET_POLICY(enf)                                                                          \
	"{" UNIT_HDR                                                                               \
	"'zones': {'a': {'networks': '10.1.0.0/16'}, 'b': {'networks': '10.2.0.0/16'},"            \
	" 'c': {'networks': '10.3.0.0/16'}},"                                                      \
	" 'flows': [{'id': 'a-b', 'from': 'a', 'to': 'b', 'services': ['https'], 'action': "       \
	"'allow'},"                                                                                \
	"  {'id': 'c-c', 'from': 'c', 'to': 'c', 'services': ['ssh'], 'action': 'allow'},"         \
	"  {'id': 'all-c', 'from': '*', 'to': 'c', 'services': ['ntp'], 'action': 'allow'}],"      \
	" 'invariants': [{'id': 'no-b-a', 'expect': 'deny', 'from': 'b', 'to': 'a'}],"             \
	" 'enforcement': {'log_rate': 7" enf "},"                                                  \
	" 'gateways': {'g1': {'interfaces': ['e1'], 'zones': ['a', 'b']},"                         \
	"  'g2': {'mode': 'host', 'zones': ['c']}}}"
static const char fleet_policy[] =
    FLEET_POLICY(", 'mark_bits': '0x0000FFF0', 'on_failure': 'open'");

static void test_part(void **state)
{
	char *text = unit_json(fleet_policy), *part = NULL;
	struct ww_policy *p = unit_parse_ok(text), *q;
	struct strbuf err = {0};

	assert_int_equal(p->ngws, 2);
	assert_int_equal(ww_fleet_part(p, text, strlen(text), "g1", &part, &err), 0);
	q = unit_parse_ok(part);
	/* a-b and the "*" flow; c-c is none of g1's business; no invariants, no gateways */
	assert_int_equal(q->nflows, 2);
	assert_non_null(ww_flow_find(q, "a-b"));
	assert_non_null(ww_flow_find(q, "all-c"));
	assert_int_equal(q->ninvs, 0);
	assert_int_equal(q->ngws, 0);
	assert_int_equal(q->enf.nifaces, 1);
	assert_string_equal(q->enf.ifaces[0], "e1");
	assert_int_equal(q->enf.log_rate, 7);
	assert_int_equal(q->enf.mark_mask, 0xfff0);
	assert_int_equal(q->enf.on_failure, WW_FAIL_OPEN); /* a gateway's restore leaves its kernel */
	ww_policy_free(q);
	free(part);
	assert_int_equal(ww_fleet_part(p, text, strlen(text), "g2", &part, &err), 0);
	q = unit_parse_ok(part);
	assert_int_equal(q->nflows, 2);
	assert_null(ww_flow_find(q, "a-b"));
	assert_int_equal(q->enf.mode, WW_HOST);
	assert_int_equal(q->enf.mark_mask, 0xfff0);
	ww_policy_free(q);
	free(part);
	assert_int_equal(ww_fleet_part(p, text, strlen(text), "g3", &part, &err), -ENOENT);
	assert_non_null(strstr(sb_str(&err), "no gateway \"g3\""));
	sb_free(&err);
	ww_policy_free(p);
	free(text);
}

/* The default mask and on_failure are not written into a part (as in the canonical form): the
 * part is read with the defaults. */
static void test_part_default_mark(void **state)
{
	char *text = unit_json(FLEET_POLICY("")), *part = NULL;
	struct ww_policy *p = unit_parse_ok(text), *q;
	struct strbuf err = {0};

	assert_int_equal(ww_fleet_part(p, text, strlen(text), "g1", &part, &err), 0);
	assert_null(strstr(part, "mark_bits"));
	assert_null(strstr(part, "on_failure"));
	q = unit_parse_ok(part);
	assert_int_equal(q->enf.mark_mask, 0xffff0000u);
	assert_int_equal(q->enf.on_failure, WW_FAIL_CLOSED);
	ww_policy_free(q);
	free(part);
	ww_policy_free(p);
	free(text);
}

static void test_envelope(void **state)
{
	uint8_t pk[WW_EV_PK_BYTES], sk[WW_EV_SK_BYTES], pk2[WW_EV_PK_BYTES], sk2[WW_EV_SK_BYTES];
	char *canaries[] = {"g1"};
	const char *policy = "{\"wardwall\": 1}";
	struct strbuf rec = {0}, other = {0}, err = {0};
	struct ww_fleet_env e;

	assert_int_equal(sodium_init() >= 0, 1);
	crypto_sign_keypair(pk, sk);
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(ww_fleet_env_sign(sk, 7, UNIT_NOW, canaries, 1, policy, strlen(policy),
					   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					   &rec),
			 0);
	assert_int_equal(ww_fleet_env_verify(pk, sb_str(&rec), rec.len, &e, &err), 0);
	assert_int_equal(e.generation, 7);
	assert_string_equal(e.policy, policy);
	assert_true(ww_fleet_env_is_canary(&e, "g1"));
	assert_false(ww_fleet_env_is_canary(&e, "g2"));
	ww_fleet_env_free(&e);
	/* another key */
	assert_int_equal(ww_fleet_env_verify(pk2, sb_str(&rec), rec.len, &e, &err), -EBADMSG);
	/* the generation changed in the signed text */
	char *t = strdup(sb_str(&rec)), *g = strstr(t, "\\\"generation\\\": 7");
	assert_non_null(g);
	g[strlen("\\\"generation\\\": ")] = '9';
	sb_reset(&err);
	assert_int_equal(ww_fleet_env_verify(pk, t, strlen(t), &e, &err), -EBADMSG);
	assert_non_null(strstr(sb_str(&err), "does not verify"));
	/* signed by the other key: valid for it only */
	ww_fleet_env_sign(sk2, 8, UNIT_NOW, NULL, 0, policy, strlen(policy),
			  "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", &other);
	assert_int_equal(ww_fleet_env_verify(pk, sb_str(&other), other.len, &e, &err), -EBADMSG);
	assert_int_equal(ww_fleet_env_verify(pk2, sb_str(&other), other.len, &e, &err), 0);
	ww_fleet_env_free(&e);
	/* not a record at all */
	assert_int_equal(ww_fleet_env_verify(pk, "{}", 2, &e, &err), -EPROTO);
	free(t);
	sb_free(&rec);
	sb_free(&other);
	sb_free(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_part),
	    cmocka_unit_test(test_part_default_mark),
	    cmocka_unit_test(test_envelope),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
