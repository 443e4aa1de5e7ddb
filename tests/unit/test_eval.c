// SPDX-License-Identifier: GPL-2.0-only
/* eval.c: the reference evaluator, rule by rule. */
#include "unit.h"

#define TCP    WW_PROTO_TCP
#define UDP    WW_PROTO_UDP
#define SCTP   WW_PROTO_SCTP
#define ICMP   WW_PROTO_ICMP
#define ICMPV6 WW_PROTO_ICMPV6
#define ALLOW  WW_V_ALLOW
#define DENY   WW_V_DENY
#define MON    WW_V_MONITOR

/* The zones: UNIT_ZONES (unit.h). */
#define POL(rest)  UNIT_POL(rest)
#define FLOWS(...) POL(", 'flows': [" __VA_ARGS__ "]")

/* ---- classification ---- */

static void class_is_at(const struct ww_policy *p, const char *addr, const char *zone,
			const char *host, const char *net, const char *file, int line)
{
	struct ww_addr a = unit_addr_at(addr, file, line);
	struct ww_class c;
	char buf[WW_PREFIX_STRLEN];

	ww_classify(p, &a, &c);
	unit_str_eq(c.zone ? c.zone->name : NULL, zone, file, line);
	unit_str_eq(c.host ? c.host->name : NULL, host, file, line);
	unit_str_eq(c.net ? ww_prefix_str(&c.net->pfx, false, buf) : NULL, net, file, line);
}
#define class_is(p, addr, zone, host, net) class_is_at(p, addr, zone, host, net, __FILE__, __LINE__)

static void test_classify_longest_prefix_v4(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));

	class_is(p, "10.9.9.9", "campus", NULL, "10.0.0.0/8");
	class_is(p, "10.0.0.0", "campus", NULL, "10.0.0.0/8");
	class_is(p, "10.255.255.255", "campus", NULL, "10.0.0.0/8");
	class_is(p, "10.1.0.0", "campus", "servers", "10.1.0.0/16");
	class_is(p, "10.1.2.2", "campus", "servers", "10.1.0.0/16");
	class_is(p, "10.1.2.3", "campus", "db", "10.1.2.3/32");
	class_is(p, "10.1.2.4", "campus", "servers", "10.1.0.0/16");
	class_is(p, "10.1.9.0", "dmz", NULL, "10.1.9.0/24");
	class_is(p, "10.1.9.255", "dmz", NULL, "10.1.9.0/24");
	class_is(p, "10.1.10.0", "campus", "servers", "10.1.0.0/16");
	class_is(p, "10.1.8.255", "campus", "servers", "10.1.0.0/16");
	class_is(p, "10.2.0.6", "lab", NULL, "10.2.0.0/16");
	class_is(p, "10.2.0.7", "lab", "scope", "10.2.0.7/32");
	class_is(p, "10.3.0.9", "icu", "pump", "10.3.0.9/32");
	class_is(p, "10.3.255.255", "icu", NULL, "10.3.0.0/16");
	class_is(p, "10.4.0.0", "campus", NULL, "10.0.0.0/8");
	class_is(p, "11.0.0.0", NULL, NULL, NULL);
	class_is(p, "9.255.255.255", NULL, NULL, NULL);
	ww_policy_free(p);
}

static void test_classify_longest_prefix_v6(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));

	class_is(p, "fd00:ffff::1", "campus", NULL, "fd00::/16");
	class_is(p, "fd00:1::1", "campus", "servers", "fd00:1::/32");
	class_is(p, "fd00:1::3", "campus", "db", "fd00:1::3/128");
	class_is(p, "fd00:1:9::1", "dmz", NULL, "fd00:1:9::/48");
	class_is(p, "fd00:1:a::1", "campus", "servers", "fd00:1::/32");
	class_is(p, "fd00:2::7", "lab", "scope", "fd00:2::7/128");
	class_is(p, "fd00:2:0:1::7", "lab", NULL, "fd00:2::/32");
	class_is(p, "fd00:3::9", "icu", NULL, "fd00:3::/32"); /* pump has no IPv6 address */
	class_is(p, "fd01::", NULL, NULL, NULL);
	class_is(p, "::ffff:10.1.2.3", NULL, NULL, NULL); /* v4-mapped is IPv6, not 10.1.2.3 */
	ww_policy_free(p);
}

/* The default route holds what no other zone does; the families stay apart. */
static void test_classify_default_route(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{" UNIT_HDR
	    "'zones': {'wan': {'networks': ['0.0.0.0/0'], 'hosts': {'top': '255.255.255.255', "
	    "'zero': '0.0.0.0'}}, 'lan': {'networks': ['10.0.0.0/8', '::/0'], 'hosts': {'top': "
	    "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'}}}}");

	class_is(p, "8.8.8.8", "wan", NULL, "0.0.0.0/0");
	class_is(p, "255.255.255.254", "wan", NULL, "0.0.0.0/0");
	class_is(p, "255.255.255.255", "wan", "top", "255.255.255.255/32");
	class_is(p, "0.0.0.0", "wan", "zero", "0.0.0.0/32");
	class_is(p, "10.0.0.1", "lan", NULL, "10.0.0.0/8");
	class_is(p, "2001:db8::1", "lan", NULL, "::/0");
	class_is(p, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "lan", "top",
		 "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	ww_policy_free(p);
}

/* ---- which flows match ---- */

static void test_zone_flow_covers_its_hosts(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS("{'id': 'to-lab', 'from': 'campus', 'to': 'lab', "
						  "'services': 'ssh', 'action': 'allow'}"));

	/* From the zone's own addresses and from every host group of it. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 22, ALLOW, "to-lab");
	assert_verdict(p, "10.1.0.1", "10.2.0.1", TCP, 22, ALLOW, "to-lab");
	assert_verdict(p, "10.1.2.3", "10.2.0.7", TCP, 22, ALLOW, "to-lab");
	assert_verdict(p, "fd00:1::3", "fd00:2::7", TCP, 22, ALLOW, "to-lab");
	/* Not from a zone nested in its networks: that is another zone. */
	assert_verdict(p, "10.1.9.1", "10.2.0.1", TCP, 22, DENY, NULL);
	assert_verdict(p, "fd00:1:9::1", "fd00:2::1", TCP, 22, DENY, NULL);
	/* Not the other way. */
	assert_verdict(p, "10.2.0.1", "10.9.0.1", TCP, 22, DENY, NULL);
	ww_policy_free(p);
}

static void test_host_flow_covers_only_the_host(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'db', 'from': 'lab/scope', 'to': ['campus/db', 'dmz'], 'services': 'https', "
	    "'action': 'allow'}"));

	assert_verdict(p, "10.2.0.7", "10.1.2.3", TCP, 443, ALLOW, "db");
	assert_verdict(p, "fd00:2::7", "fd00:1::3", TCP, 443, ALLOW, "db");
	assert_verdict(p, "10.2.0.7", "10.1.9.9", TCP, 443, ALLOW, "db");
	/* The rest of lab, and the host group db sits in, are not the host. */
	assert_verdict(p, "10.2.0.8", "10.1.2.3", TCP, 443, DENY, NULL);
	assert_verdict(p, "10.2.0.7", "10.1.2.4", TCP, 443, DENY, NULL);
	assert_verdict(p, "10.2.0.7", "10.9.0.1", TCP, 443, DENY, NULL);
	ww_policy_free(p);
}

static void test_nested_host_group_flow(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    FLOWS("{'id': 'srv', 'from': 'lab', 'to': 'campus/servers', 'services': 'any', "
		  "'action': 'allow'}"));

	/* db is its own host group, even inside servers' prefix. */
	assert_verdict(p, "10.2.0.1", "10.1.2.4", UDP, 53, ALLOW, "srv");
	assert_verdict(p, "10.2.0.1", "10.1.2.3", UDP, 53, DENY, NULL);
	ww_policy_free(p);
}

static void test_wildcard_is_every_zone_not_unzoned(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    FLOWS("{'id': 'all', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'allow'}"));

	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 1, ALLOW, "all");
	assert_verdict(p, "10.1.2.3", "10.2.0.1", TCP, 1, ALLOW, "all");
	assert_verdict(p, "10.3.0.9", "10.2.0.1", TCP, 1, ALLOW, "all");
	assert_verdict(p, "10.2.0.7", "10.2.0.1", TCP, 1, ALLOW, "all");
	assert_verdict(p, "fd00:3::1", "fd00:2::1", TCP, 1, ALLOW, "all");
	assert_verdict(p, "192.168.0.1", "10.2.0.1", TCP, 1, DENY, NULL);
	assert_verdict(p, "2001:db8::1", "fd00:2::1", TCP, 1, DENY, NULL);
	ww_policy_free(p);
}

/* ---- ranking ---- */

static void test_deny_beats_allow_in_any_order(void **state)
{
	struct ww_policy *a = unit_parse_ok(FLOWS(
	    "{'id': 'allow', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'deny', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny'}"));
	struct ww_policy *b = unit_parse_ok(FLOWS(
	    "{'id': 'deny', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny'}, "
	    "{'id': 'allow', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': "
	    "'allow'}"));

	assert_verdict(a, "10.9.0.1", "10.2.0.1", TCP, 22, DENY, "deny");
	assert_verdict(b, "10.9.0.1", "10.2.0.1", TCP, 22, DENY, "deny");
	assert_verdict(a, "fd00::1", "fd00:2::1", TCP, 22, DENY, "deny");
	assert_verdict(a, "10.9.0.1", "10.2.0.1", TCP, 23, ALLOW, "allow");
	assert_verdict(b, "10.9.0.1", "10.2.0.1", TCP, 23, ALLOW, "allow");
	/* More specific endpoints do not outrank a deny either. */
	struct ww_policy *c = unit_parse_ok(
	    FLOWS("{'id': 'deny', 'from': '*', 'to': '*', 'services': 'any', 'action': 'deny'}, "
		  "{'id': 'allow', 'from': 'campus/db', 'to': 'lab/scope', 'services': 'ssh', "
		  "'action': 'allow'}"));
	assert_verdict(c, "10.1.2.3", "10.2.0.7", TCP, 22, DENY, "deny");
	ww_policy_free(a);
	ww_policy_free(b);
	ww_policy_free(c);
}

static void test_ties_go_to_the_first(void **state)
{
	struct ww_policy *a = unit_parse_ok(FLOWS(
	    "{'id': 'a1', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}, "
	    "{'id': 'a2', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'd1', 'from': 'campus', 'to': 'lab', 'services': 'https', 'action': 'deny'}, "
	    "{'id': 'd2', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny', "
	    "'owner': 'x'}"));
	struct ww_policy *b = unit_parse_ok(FLOWS(
	    "{'id': 'a2', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'a1', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}, "
	    "{'id': 'd2', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny'}, "
	    "{'id': 'd1', 'from': 'campus', 'to': 'lab', 'services': 'https', 'action': 'deny'}"));

	/* Both denies match tcp/443: the first in the policy decides. */
	assert_verdict(a, "10.9.0.1", "10.2.0.1", TCP, 443, DENY, "d1");
	assert_verdict(b, "10.9.0.1", "10.2.0.1", TCP, 443, DENY, "d2");
	/* A deny listed after two matching allows still decides. */
	assert_verdict(a, "10.9.0.1", "10.2.0.1", TCP, 22, DENY, "d2");
	ww_policy_free(a);
	ww_policy_free(b);

	/* Two allows: the first in the policy. */
	a = unit_parse_ok(FLOWS(
	    "{'id': 'a1', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}, "
	    "{'id': 'a2', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'allow'}"));
	b = unit_parse_ok(FLOWS(
	    "{'id': 'a2', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'a1', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}"));
	assert_verdict(a, "10.9.0.1", "10.2.0.1", TCP, 22, ALLOW, "a1");
	assert_verdict(b, "10.9.0.1", "10.2.0.1", TCP, 22, ALLOW, "a2");
	assert_verdict(a, "10.9.0.1", "10.2.0.1", UDP, 22, ALLOW, "a2");
	ww_policy_free(a);
	ww_policy_free(b);
}

/* Asserts the verdict, the deciding flow and the monitor-mode deny that observed (NULL: none). */
#define assert_verdict_m(p, src, dst, proto, key, kind, flow, mon)                                 \
	do {                                                                                       \
		struct ww_verdict v_ = unit_eval(p, src, dst, proto, key);                         \
		unit_verdict_is(&v_, kind, flow, __FILE__, __LINE__);                              \
		unit_str_eq(v_.monitor ? v_.monitor->id : NULL, mon, __FILE__, __LINE__);          \
	} while (0)

/*
 * A deny flow in monitor mode decides nothing: it observes, and the connection is decided as if
 * it were absent. The verdict is monitor when the connection passes but would be denied without
 * monitor mode; monitor mode never lets through what would be denied without it.
 */
static void test_monitor_flow(void **state)
{
	struct ww_policy *a = unit_parse_ok(FLOWS(
	    "{'id': 'allow', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'watch', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
	    "'mode': 'monitor'}"));
	struct ww_policy *b = unit_parse_ok(FLOWS(
	    "{'id': 'watch', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
	    "'mode': 'monitor'}, "
	    "{'id': 'deny', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny'}, "
	    "{'id': 'watch2', 'from': '*', 'to': '*', 'services': 'any', 'action': 'deny', "
	    "'mode': 'monitor'}, "
	    "{'id': 'watch3', 'from': 'lab', 'to': 'campus', 'services': 'ssh', 'action': 'deny', "
	    "'mode': 'monitor'}"));

	/* Allowed by a flow and watched: passes as monitor; the allow decides. */
	assert_verdict_m(a, "10.9.0.1", "10.2.0.1", TCP, 22, MON, "allow", "watch");
	assert_verdict_m(a, "fd00::1", "fd00:2::1", TCP, 22, MON, "allow", "watch");
	assert_verdict_m(a, "10.9.0.1", "10.2.0.1", TCP, 80, ALLOW, "allow", NULL);
	/* An enforced deny decides, wherever it stands; nothing is reported as observing. */
	assert_verdict_m(b, "10.9.0.1", "10.2.0.1", TCP, 22, DENY, "deny", NULL);
	/* Denied by the default anyway: a deny, observed by the first monitor flow. */
	assert_verdict_m(b, "10.2.0.1", "10.9.0.1", TCP, 22, DENY, NULL, "watch2");
	assert_verdict_m(b, "10.2.0.1", "10.9.0.1", UDP, 53, DENY, NULL, "watch2");
	/* Monitor mode on an allow changes nothing. */
	struct ww_policy *c = unit_parse_ok(FLOWS(
	    "{'id': 'm', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow', "
	    "'mode': 'monitor'}"));
	assert_verdict_m(c, "10.9.0.1", "10.2.0.1", TCP, 22, ALLOW, "m", NULL);
	ww_policy_free(a);
	ww_policy_free(b);
	ww_policy_free(c);

	/* Allowed by the default and watched: monitor, decided by the default. */
	a = unit_parse_ok(POL(", 'defaults': {'between_zones': 'allow'}, 'flows': [{'id': 'watch', "
			      "'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
			      "'mode': 'monitor'}]"));
	assert_verdict_m(a, "10.9.0.1", "10.2.0.1", TCP, 22, MON, NULL, "watch");
	assert_verdict_m(a, "10.9.0.1", "10.2.0.1", TCP, 23, ALLOW, NULL, NULL);
	ww_policy_free(a);
}

static void test_monitor_zone(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'into', 'from': 'campus', 'to': 'icu', 'services': 'ssh', 'action': 'deny'}, "
	    "{'id': 'out', 'from': 'icu/pump', 'to': 'lab', 'services': 'any', 'action': 'deny'}, "
	    "{'id': 'ok', 'from': 'lab', 'to': 'icu', 'services': 'https', 'action': 'allow'}, "
	    "{'id': 'no', 'from': 'lab', 'to': 'icu', 'services': 'https', 'action': 'deny'}, "
	    "{'id': 'hard', 'from': 'lab', 'to': 'campus', 'services': 'any', 'action': 'deny'}"));

	/* A deny into or out of a monitor zone (or one of its hosts) only observes, and the default
	 * deny touching the zone is monitor too: the connection passes. */
	assert_verdict_m(p, "10.9.0.1", "10.3.0.1", TCP, 22, MON, NULL, "into");
	assert_verdict_m(p, "10.9.0.1", "10.3.0.9", TCP, 22, MON, NULL, "into");
	assert_verdict_m(p, "10.9.0.1", "fd00:3::1", TCP, 22, MON, NULL, "into");
	assert_verdict_m(p, "10.3.0.9", "10.2.0.1", UDP, 1, MON, NULL, "out");
	/* Allowed, and a deny would have denied it: monitor, decided by the allow. */
	assert_verdict_m(p, "10.2.0.1", "10.3.0.1", TCP, 443, MON, "ok", "no");
	/* Nothing would deny it but the default: monitor, decided by the default. */
	assert_verdict_m(p, "10.2.0.1", "10.3.0.1", TCP, 80, MON, NULL, NULL);
	/* Elsewhere a deny is a deny. */
	assert_verdict_m(p, "10.2.0.1", "10.9.0.1", TCP, 443, DENY, "hard", NULL);
	ww_policy_free(p);
}

/* A deny's rank depends on the zones of the packet it decides, not only on the flow. */
static void test_rank_function(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'al', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'de', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny'}, "
	    "{'id': 'mo', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny', "
	    "'mode': 'monitor', 'owner': 'x'}"));
	const struct ww_zone *campus = ww_zone_find(p, "campus"), *icu = ww_zone_find(p, "icu");

	assert_int_equal(ww_flow_rank(&p->flows[0], campus, icu), WW_RANK_ALLOW);
	assert_int_equal(ww_flow_rank(&p->flows[1], campus, campus), WW_RANK_DENY);
	assert_int_equal(ww_flow_rank(&p->flows[1], icu, campus), WW_RANK_MONITOR);
	assert_int_equal(ww_flow_rank(&p->flows[1], campus, icu), WW_RANK_MONITOR);
	assert_int_equal(ww_flow_rank(&p->flows[1], NULL, NULL), WW_RANK_DENY);
	assert_int_equal(ww_flow_rank(&p->flows[2], campus, campus), WW_RANK_MONITOR);
	assert_string_equal(ww_verdict_str(WW_V_ALLOW), "allow");
	assert_string_equal(ww_verdict_str(WW_V_DENY), "deny");
	assert_string_equal(ww_verdict_str(WW_V_MONITOR), "monitor");
	ww_policy_free(p);
}

/* ---- validity windows: [from, until) ---- */

static void test_window_boundaries(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'win', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow', "
	    "'valid': {'from': '2027-01-12T08:00:00Z', 'until': '2027-01-12T10:00:00Z'}}, "
	    "{'id': 'late', 'from': 'campus', 'to': 'lab', 'services': 'https', 'action': 'allow', "
	    "'valid': {'from': '2027-01-12T08:00:00+01:00'}}, "
	    "{'id': 'early', 'from': 'campus', 'to': 'lab', 'services': 'http', 'action': 'allow', "
	    "'valid': {'until': '2027-01-12T10:00:00Z'}}"));
	int64_t from = unit_time("2027-01-12T08:00:00Z"), until = unit_time("2027-01-12T10:00:00Z");
	int64_t from2 = unit_time("2027-01-12T07:00:00Z");

	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, from - 1, DENY, NULL);
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, from, ALLOW, "win");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, until - 1, ALLOW, "win");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, until, DENY, NULL);
	/* Open-ended windows. */
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 443, from2 - 1, DENY, NULL);
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 443, from2, ALLOW, "late");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 443, INT64_MAX, ALLOW, "late");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 80, 0, ALLOW, "early");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 80, until - 1, ALLOW, "early");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 80, until, DENY, NULL);

	const struct ww_flow *f = &p->flows[0];
	assert_false(ww_flow_active(f, from - 1));
	assert_true(ww_flow_active(f, from));
	assert_true(ww_flow_active(f, until - 1));
	assert_false(ww_flow_active(f, until));
	ww_policy_free(p);
}

/* An inactive flow does not rank at all: outside its window the next flow decides. */
static void test_window_deny_over_allow(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'allow', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'freeze', 'from': '*', 'to': 'lab', 'services': 'any', 'action': 'deny', "
	    "'valid': {'from': '2026-12-24T00:00:00Z', 'until': '2026-12-27T00:00:00Z'}}"));

	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, unit_time("2026-12-23T23:59:59Z"),
			 ALLOW, "allow");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, unit_time("2026-12-24T00:00:00Z"),
			 DENY, "freeze");
	assert_verdict_t(p, "10.9.0.1", "10.2.0.1", TCP, 22, unit_time("2026-12-27T00:00:00Z"),
			 ALLOW, "allow");
	ww_policy_free(p);
}

/* ---- defaults ---- */

static void default_is_at(const struct ww_policy *p, const char *src, const char *dst,
			  enum ww_verdict_kind kind, bool within, const char *file, int line)
{
	struct ww_verdict v = unit_eval_at(p, src, dst, TCP, 9, UNIT_NOW, file, line);

	unit_verdict_is(&v, kind, NULL, file, line);
	_assert_int_equal(v.within_zone, within, file, line);
}
#define default_is(p, src, dst, kind, within)                                                      \
	default_is_at(p, src, dst, kind, within, __FILE__, __LINE__)

static void test_defaults_within_and_between(void **state)
{
	struct ww_policy *p =
	    unit_parse_ok(POL(", 'defaults': {'within_zone': 'allow', 'between_zones': 'deny'}"));

	default_is(p, "10.9.0.1", "10.9.0.2", ALLOW, true);
	/* A host group belongs to its zone: zone <-> host and host <-> host are within. */
	default_is(p, "10.9.0.1", "10.1.2.3", ALLOW, true);
	default_is(p, "10.1.0.1", "10.1.2.3", ALLOW, true);
	default_is(p, "fd00:1::3", "fd00::1", ALLOW, true);
	default_is(p, "10.2.0.7", "10.2.0.8", ALLOW, true);
	/* A zone nested in another's networks is another zone. */
	default_is(p, "10.9.0.1", "10.2.0.1", DENY, false);
	default_is(p, "10.1.0.1", "10.1.9.1", DENY, false);
	/* Unzoned counts as between, even unzoned to unzoned. */
	default_is(p, "192.168.0.1", "10.9.0.1", DENY, false);
	default_is(p, "10.9.0.1", "192.168.0.1", DENY, false);
	default_is(p, "192.168.0.1", "192.168.0.2", DENY, false);
	default_is(p, "2001:db8::1", "2001:db8::2", DENY, false);
	ww_policy_free(p);

	p = unit_parse_ok(POL(", 'defaults': {'within_zone': 'deny', 'between_zones': 'allow'}"));
	default_is(p, "10.9.0.1", "10.9.0.2", DENY, true);
	default_is(p, "10.9.0.1", "10.2.0.1", ALLOW, false);
	default_is(p, "192.168.0.1", "192.168.0.2", ALLOW, false);
	ww_policy_free(p);
	/* Without "defaults": deny both ways. */
	p = unit_parse_ok(POL(""));
	default_is(p, "10.9.0.1", "10.9.0.2", DENY, true);
	default_is(p, "10.9.0.1", "10.2.0.1", DENY, false);
	ww_policy_free(p);
}

static void test_defaults_monitor_zone(void **state)
{
	struct ww_policy *p =
	    unit_parse_ok(POL(", 'defaults': {'within_zone': 'deny', 'between_zones': 'deny'}"));

	/* A default deny touching a monitor zone, from either side, is monitor. */
	default_is(p, "10.9.0.1", "10.3.0.1", MON, false);
	default_is(p, "10.3.0.9", "10.9.0.1", MON, false);
	default_is(p, "10.3.0.1", "10.3.0.9", MON, true);
	default_is(p, "192.168.0.1", "10.3.0.1", MON, false);
	default_is(p, "10.3.0.1", "192.168.0.1", MON, false);
	default_is(p, "fd00:3::1", "fd00::1", MON, false);
	default_is(p, "10.9.0.1", "10.2.0.1", DENY, false);
	ww_policy_free(p);
	/* A default allow stays allow. */
	p = unit_parse_ok(POL(", 'defaults': {'within_zone': 'allow', 'between_zones': 'allow'}"));
	default_is(p, "10.9.0.1", "10.3.0.1", ALLOW, false);
	default_is(p, "10.3.0.1", "10.3.0.2", ALLOW, true);
	ww_policy_free(p);
}

static void test_default_verdict_function(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(", 'defaults': {'within_zone': 'allow'}"));
	struct ww_class none = {0}, campus = {.zone = ww_zone_find(p, "campus")};
	struct ww_class icu = {.zone = ww_zone_find(p, "icu")};
	bool within = true;

	assert_int_equal(ww_default_verdict(p, &none, &none, &within), WW_V_DENY);
	assert_false(within);
	assert_int_equal(ww_default_verdict(p, &campus, &campus, &within), WW_V_ALLOW);
	assert_true(within);
	assert_int_equal(ww_default_verdict(p, &campus, &icu, &within), WW_V_MONITOR);
	assert_false(within);
	assert_int_equal(ww_default_verdict(p, &none, &icu, &within), WW_V_MONITOR);
	ww_policy_free(p);
}

/* ---- services ---- */

static void test_icmp_types(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'services': {'u': [{'proto': 'icmp', 'types': ['3-4']}, {'proto': 'icmpv6', "
	    "'types': [1]}]}, 'flows': ["
	    "{'id': 'ping', 'from': 'campus', 'to': 'lab', 'services': 'ping', 'action': 'allow'}, "
	    "{'id': 'icmp', 'from': 'lab', 'to': 'campus', 'services': 'icmp', 'action': 'allow'}, "
	    "{'id': 'unreach', 'from': 'campus', 'to': 'lab', 'services': 'u', 'action': "
	    "'allow'}]"));

	/* ping: ICMP echo request (8) and ICMPv6 echo request (128) only. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 8, ALLOW, "ping");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 0, DENY, NULL);
	assert_verdict(p, "fd00::1", "fd00:2::1", ICMPV6, 128, ALLOW, "ping");
	assert_verdict(p, "fd00::1", "fd00:2::1", ICMPV6, 129, DENY, NULL);
	assert_verdict(p, "fd00::1", "fd00:2::1", ICMPV6, 8, DENY, NULL);
	/* A type that is not known cannot match a list of types... */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, -1, DENY, NULL);
	/* ...but a service of all types matches it. */
	assert_verdict(p, "10.2.0.1", "10.9.0.1", ICMP, -1, ALLOW, "icmp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", ICMP, 0, ALLOW, "icmp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", ICMP, 255, ALLOW, "icmp");
	assert_verdict(p, "fd00:2::1", "fd00::1", ICMPV6, 135, ALLOW, "icmp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", TCP, 8, DENY, NULL);
	/* Type ranges. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 2, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 3, ALLOW, "unreach");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 4, ALLOW, "unreach");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 5, DENY, NULL);
	assert_verdict(p, "fd00::1", "fd00:2::1", ICMPV6, 1, ALLOW, "unreach");
	ww_policy_free(p);
}

static void test_any_service(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'any', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}"));

	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 1, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 65535, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, -1, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", UDP, 53, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", ICMP, 8, ALLOW, "any");
	assert_verdict(p, "fd00::1", "fd00:2::1", ICMPV6, 128, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 47, -1, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 0, -1, ALLOW, "any");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 255, -1, ALLOW, "any");
	ww_policy_free(p);
}

static void test_port_ranges(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'services': {'alt': [{'proto': 'tcp', 'ports': ['8000-8080', 9000]}], "
	    "'alltcp': [{'proto': 'tcp'}], 'sig': [{'proto': 'sctp', 'ports': ['2905-2906']}], "
	    "'gre': [{'proto': 47}], 'top': [{'proto': 'udp', 'ports': ['65535']}]}, 'flows': ["
	    "{'id': 'alt', 'from': 'campus', 'to': 'lab', 'services': 'alt', 'action': 'allow'}, "
	    "{'id': 'alltcp', 'from': 'lab', 'to': 'campus', 'services': 'alltcp', "
	    "'action': 'allow'}, "
	    "{'id': 'sig', 'from': 'campus', 'to': 'lab', 'services': ['sig', 'gre', 'top'], "
	    "'action': 'allow'}]"));

	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 7999, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 8000, ALLOW, "alt");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 8040, ALLOW, "alt");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 8080, ALLOW, "alt");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 8081, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 9000, ALLOW, "alt");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, 8999, DENY, NULL);
	/* Ports belong to their protocol. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", UDP, 8000, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", SCTP, 8000, DENY, NULL);
	/* An unknown port matches only a service of all ports. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", TCP, -1, DENY, NULL);
	assert_verdict(p, "10.2.0.1", "10.9.0.1", TCP, -1, ALLOW, "alltcp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", TCP, 0, ALLOW, "alltcp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", TCP, 65535, ALLOW, "alltcp");
	assert_verdict(p, "10.2.0.1", "10.9.0.1", UDP, 1, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", SCTP, 2904, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", SCTP, 2905, ALLOW, "sig");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", SCTP, 2906, ALLOW, "sig");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", SCTP, 2907, DENY, NULL);
	assert_verdict(p, "10.9.0.1", "10.2.0.1", UDP, 65535, ALLOW, "sig");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", UDP, 65534, DENY, NULL);
	/* Other protocols by number, whatever the key. */
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 47, -1, ALLOW, "sig");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 47, 0, ALLOW, "sig");
	assert_verdict(p, "10.9.0.1", "10.2.0.1", 50, -1, DENY, NULL);
	ww_policy_free(p);
}

static void test_service_matches_function(void **state)
{
	struct ww_term t[] = {
	    {WW_PROTO_TCP, 22, 22, NULL}, {WW_PROTO_UDP, 0, 65535, NULL}, {50, 0, 0, NULL}};
	struct ww_service s = {.terms = t, .nterms = 3};

	assert_true(ww_service_matches(&s, TCP, 22));
	assert_false(ww_service_matches(&s, TCP, 23));
	assert_false(ww_service_matches(&s, TCP, -1));
	assert_true(ww_service_matches(&s, UDP, -1));
	assert_true(ww_service_matches(&s, UDP, 7));
	assert_true(ww_service_matches(&s, 50, -1));
	assert_false(ww_service_matches(&s, 51, -1));
	s.nterms = 0;
	assert_false(ww_service_matches(&s, TCP, 22));
}

static void test_endpoint_matches_function(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));
	const struct ww_zone *campus = ww_zone_find(p, "campus"), *lab = ww_zone_find(p, "lab");
	const struct ww_host *db = ww_host_find(campus, "db");
	struct ww_endpoint ez = {.zone = (struct ww_zone *)campus};
	struct ww_endpoint eh = {.zone = (struct ww_zone *)campus, .host = (struct ww_host *)db};
	struct ww_class c_db = {.zone = campus, .host = db}, c_campus = {.zone = campus};
	struct ww_class c_lab = {.zone = lab}, c_none = {0};
	struct ww_eplist all = {.all = true}, two = {.v = (struct ww_endpoint[]){ez, eh}, .n = 2};

	assert_true(ww_endpoint_matches(&ez, &c_db));
	assert_true(ww_endpoint_matches(&ez, &c_campus));
	assert_false(ww_endpoint_matches(&ez, &c_lab));
	assert_false(ww_endpoint_matches(&ez, &c_none));
	assert_true(ww_endpoint_matches(&eh, &c_db));
	assert_false(ww_endpoint_matches(&eh, &c_campus));
	assert_true(ww_eplist_matches(&all, &c_lab));
	assert_false(ww_eplist_matches(&all, &c_none));
	assert_true(ww_eplist_matches(&two, &c_campus));
	assert_false(ww_eplist_matches(&two, &c_lab));
	ww_policy_free(p);
}

static void test_verdict_fields(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'f', 'from': 'campus', 'to': 'campus', 'services': 'ssh', 'action': 'allow'}"));
	struct ww_verdict v = unit_eval(p, "10.1.2.3", "10.9.0.1", TCP, 22);

	assert_int_equal(v.kind, ALLOW);
	assert_ptr_equal(v.flow, &p->flows[0]);
	assert_true(v.within_zone);
	assert_string_equal(v.src.zone->name, "campus");
	assert_string_equal(v.src.host->name, "db");
	assert_null(v.dst.host);
	assert_int_equal(v.dst.net->pfx.len, 8);
	ww_policy_free(p);
}

/* ---- the example policy, as a hospital would query it ---- */

static void test_example(void **state)
{
	struct ww_policy *p = unit_load_example();
	int64_t t = unit_time("2027-01-12T09:00:00Z");

	assert_verdict(p, "10.20.100.5", "10.20.2.10", TCP, 443, ALLOW, "ws-to-ehr");
	assert_verdict(p, "fd00:20:100::5", "fd00:20:2::30", TCP, 443, ALLOW, "ws-to-ehr");
	assert_verdict(p, "10.20.100.5", "10.20.2.20", TCP, 443, DENY, NULL);
	assert_verdict(p, "172.16.4.4", "10.20.2.10", TCP, 443, DENY, "guest-no-clinical");
	assert_verdict(p, "172.16.4.4", "8.8.8.8", TCP, 443, ALLOW, "guest-to-internet");
	assert_verdict(p, "172.16.4.4", "8.8.8.8", TCP, 22, DENY, NULL);
	assert_verdict(p, "172.16.4.4", "10.20.60.10", TCP, 22, MON, NULL);
	assert_verdict(p, "10.20.200.10", "10.20.60.10", TCP, 22, ALLOW, "admin-jump");
	assert_verdict(p, "10.20.60.5", "10.20.60.10", UDP, 47808, ALLOW, "bms-controllers");
	assert_verdict(p, "10.20.60.5", "10.20.1.20", UDP, 123, ALLOW, "time-sync");
	assert_verdict(p, "10.20.40.7", "10.20.4.10", TCP, 8443, ALLOW, "pumps-to-server");
	assert_verdict(p, "10.20.40.7", "10.20.42.7", TCP, 8443, DENY, "no-device-lateral");
	assert_verdict(p, "10.20.40.7", "1.1.1.1", TCP, 443, DENY, "devices-offline");
	assert_verdict(p, "10.20.200.20", "10.20.4.10", ICMP, 8, ALLOW, "siem-poll");
	assert_verdict(p, "10.20.200.20", "10.20.4.10", ICMP, 0, DENY, NULL);
	assert_verdict(p, "10.20.250.3", "10.20.10.11", TCP, 22, DENY, NULL);
	assert_verdict_t(p, "10.20.250.3", "10.20.10.11", TCP, 22, t, ALLOW, "vendor-ct-window");
	assert_verdict_t(p, "10.20.250.3", "10.20.10.12", TCP, 22, t, DENY, NULL);
	assert_verdict_t(p, "10.20.250.16", "10.20.10.11", TCP, 22, t, DENY, NULL);
	assert_verdict_t(p, "10.20.250.3", "10.20.10.11", TCP, 22,
			 unit_time("2027-01-12T10:00:00Z"), DENY, NULL);
	ww_policy_free(p);
}

UNIT_MAIN(cmocka_unit_test(test_classify_longest_prefix_v4),
	  cmocka_unit_test(test_classify_longest_prefix_v6),
	  cmocka_unit_test(test_classify_default_route),
	  cmocka_unit_test(test_zone_flow_covers_its_hosts),
	  cmocka_unit_test(test_host_flow_covers_only_the_host),
	  cmocka_unit_test(test_nested_host_group_flow),
	  cmocka_unit_test(test_wildcard_is_every_zone_not_unzoned),
	  cmocka_unit_test(test_deny_beats_allow_in_any_order),
	  cmocka_unit_test(test_ties_go_to_the_first), cmocka_unit_test(test_monitor_flow),
	  cmocka_unit_test(test_monitor_zone), cmocka_unit_test(test_rank_function),
	  cmocka_unit_test(test_window_boundaries), cmocka_unit_test(test_window_deny_over_allow),
	  cmocka_unit_test(test_defaults_within_and_between),
	  cmocka_unit_test(test_defaults_monitor_zone),
	  cmocka_unit_test(test_default_verdict_function), cmocka_unit_test(test_icmp_types),
	  cmocka_unit_test(test_any_service), cmocka_unit_test(test_port_ranges),
	  cmocka_unit_test(test_service_matches_function),
	  cmocka_unit_test(test_endpoint_matches_function), cmocka_unit_test(test_verdict_fields),
	  cmocka_unit_test(test_example))
