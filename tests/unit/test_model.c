// SPDX-License-Identifier: GPL-2.0-only
/* model.c: lookups, names and the small vocabularies of the policy model. */
#include "unit.h"

static void test_protocols(void **state)
{
	static const struct {
		const char *name;
		int proto;
	} named[] = {{"any", WW_PROTO_ANY}, {"icmp", 1}, {"tcp", 6},  {"udp", 17}, {"icmpv6", 58},
		     {"sctp", 132},	    {"gre", 47}, {"esp", 50}, {"ah", 51}};
	char buf[8];
	int proto;

	for (size_t i = 0; i < ARRAY_SIZE(named); i++) {
		assert_int_equal(ww_proto_parse(named[i].name, &proto), 0);
		assert_int_equal(proto, named[i].proto);
		assert_string_equal(ww_proto_str(named[i].proto, buf), named[i].name);
	}
	assert_int_equal(ww_proto_parse("0", &proto), 0);
	assert_int_equal(proto, 0);
	assert_int_equal(ww_proto_parse("255", &proto), 0);
	assert_int_equal(proto, 255);
	assert_int_equal(ww_proto_parse("6", &proto), 0);
	assert_int_equal(proto, WW_PROTO_TCP);
	assert_string_equal(ww_proto_str(255, buf), "255");
	assert_string_equal(ww_proto_str(0, buf), "0");
	proto = 99;
	assert_int_equal(ww_proto_parse("256", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse("-1", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse("", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse("TCP", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse("tc", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse("6x", &proto), -EINVAL);
	assert_int_equal(ww_proto_parse(" 6", &proto), -EINVAL);
	assert_int_equal(proto, 99);
}

static void test_keys(void **state)
{
	assert_true(ww_proto_has_ports(WW_PROTO_TCP));
	assert_true(ww_proto_has_ports(WW_PROTO_UDP));
	assert_true(ww_proto_has_ports(WW_PROTO_SCTP));
	assert_false(ww_proto_has_ports(WW_PROTO_ICMP));
	assert_true(ww_proto_has_types(WW_PROTO_ICMP));
	assert_true(ww_proto_has_types(WW_PROTO_ICMPV6));
	assert_false(ww_proto_has_types(WW_PROTO_ANY));
	assert_int_equal(ww_proto_key_max(WW_PROTO_TCP), 65535);
	assert_int_equal(ww_proto_key_max(WW_PROTO_ICMPV6), 255);
	assert_int_equal(ww_proto_key_max(47), 0);
	assert_int_equal(ww_proto_key_max(WW_PROTO_ANY), 0);
}

static void test_words(void **state)
{
	assert_string_equal(ww_action_str(WW_ALLOW), "allow");
	assert_string_equal(ww_action_str(WW_DENY), "deny");
	assert_string_equal(ww_crit_str(WW_CRIT_UNSET), "");
	assert_string_equal(ww_crit_str(WW_CRIT_LIFE), "life-critical");
	assert_string_equal(ww_crit_str(WW_CRIT_MEDIUM), "medium");
	assert_string_equal(ww_log_str(WW_LOG_NONE), "none");
	assert_string_equal(ww_log_str(WW_LOG_DENY), "deny");
	assert_string_equal(ww_log_str(WW_LOG_ALL), "all");
}

static void test_lookups_and_names(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{" UNIT_HDR "'defaults': {'log': 'none'}, 'zones': {'b': {'networks': "
	    "['10.2.0.0/16'], 'hosts': {'y': '10.2.0.2', 'x': '10.2.0.1'}}, 'a': {'networks': "
	    "['10.1.0.0/16'], 'hosts': {'z': '10.1.0.1'}}}, 'flows': [{'id': 'f', 'from': 'a', "
	    "'to': 'b', 'services': 'ssh', 'action': 'allow'}, {'id': 'g', 'from': 'a', 'to': "
	    "'b', 'services': 'ssh', 'action': 'deny', 'log': true}]}");
	char buf[WW_EP_STRLEN];

	/* Ids: zones by name, then hosts zone by zone, by name. */
	assert_int_equal(ww_nendpoints(p), 5);
	assert_string_equal(ww_ep_name(p, 1, buf), "a");
	assert_string_equal(ww_ep_name(p, 2, buf), "b");
	assert_string_equal(ww_ep_name(p, 3, buf), "a/z");
	assert_string_equal(ww_ep_name(p, 4, buf), "b/x");
	assert_string_equal(ww_ep_name(p, 5, buf), "b/y");
	assert_string_equal(ww_ep_name(p, 0, buf), "-");
	assert_string_equal(ww_ep_name(p, 6, buf), "-");
	assert_ptr_equal(ww_ep_zone(p, 5), ww_zone_find(p, "b"));
	assert_ptr_equal(ww_ep_zone(p, 2), ww_zone_find(p, "b"));
	assert_null(ww_ep_zone(p, 6));
	assert_null(ww_host_find(ww_zone_find(p, "a"), "x"));
	assert_int_equal(ww_host_find(ww_zone_find(p, "b"), "y")->ep, 5);
	/* The effective log setting: the flow's own, else the defaults'. */
	assert_int_equal(ww_flow_log(p, ww_flow_find(p, "f")), WW_LOG_NONE);
	assert_int_equal(ww_flow_log(p, ww_flow_find(p, "g")), WW_LOG_ALL);
	ww_policy_free(p);
	ww_policy_free(NULL);
}

UNIT_MAIN(cmocka_unit_test(test_protocols), cmocka_unit_test(test_keys),
	  cmocka_unit_test(test_words), cmocka_unit_test(test_lookups_and_names))
