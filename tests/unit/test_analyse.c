// SPDX-License-Identifier: GPL-2.0-only
/* analyse.c: check warnings, shadowed and redundant flows, invariant proofs. */
#define UNIT_FAULTY_MALLOC
#include "unit.h"

#include "analyse.h"

/*
 * guest: untrusted; icu: life-critical, with host pump; bms: monitor mode; srv with host api.
 * Endpoint ids: bms 1, guest 2, icu 3, srv 4, icu/pump 5, srv/api 6.
 */
#define ZONES                                                                                      \
	"'zones': {'guest': {'untrusted': true, 'networks': ['172.16.0.0/16', 'fd00:172::/48']}, " \
	"'icu': {'criticality': 'life-critical', 'networks': ['10.3.0.0/16', 'fd00:3::/48'], "     \
	"'hosts': {'pump': '10.3.0.9'}}, 'bms': {'mode': 'monitor', 'networks': "                  \
	"['10.6.0.0/16']}, "                                                                       \
	"'srv': {'networks': ['10.1.0.0/16'], 'hosts': {'api': '10.1.0.10'}}}"
#define POL(rest)  "{" UNIT_HDR ZONES rest "}"
#define FLOWS(...) POL(", 'flows': [" __VA_ARGS__ "]")

struct analysis {
	struct ww_policy *p;
	struct ww_diags d;
	struct ww_inv_result *res;
};

static void analysis_free(struct analysis *a)
{
	if (a->p)
		ww_inv_results_free(a->res, a->p->ninvs);
	free(a->res);
	ww_policy_free(a->p);
	ww_diags_free(&a->d);
}

static struct analysis analyse_at(const char *text, int64_t now, const char *file, int line)
{
	struct analysis a = {.p = unit_parse_ok_at(text, file, line)};

	a.d.file = "unit.json";
	a.res = calloc(a.p->ninvs + 1, sizeof(*a.res));
	_assert_int_equal((LargestIntegralType)ww_analyse(a.p, now, &a.d, a.res), 0, file, line);
	return a;
}
#define analyse(text) analyse_at(text, UNIT_NOW, __FILE__, __LINE__)

/* Asserts that a diagnostic with this code and pointer exists, with this message. */
static void has_diag_at(const struct ww_diags *d, const char *code, const char *ptr,
			const char *msg, const char *file, int line)
{
	const struct ww_diag *x = unit_find_diag(d, code, ptr);

	if (!x) {
		print_message("# no %s at %s among:\n", code, ptr);
		unit_dump_diags(d);
		_fail(file, line);
	}
	if (msg)
		unit_str_eq(x->msg, msg, file, line);
}
#define has_diag(d, code, ptr, msg) has_diag_at(d, code, ptr, msg, __FILE__, __LINE__)
#define no_diag(d, code)	    assert_int_equal(unit_count_diags(d, code), 0)

/* ---- usage, exposure, windows ---- */

static void test_unused_zone_and_service(void **state)
{
	struct analysis a = analyse(POL(
	    ", 'services': {'pump-api': [{'proto': 'tcp', 'ports': [8443]}], 'spare': [{'proto': "
	    "'udp'}], 'inv-only': [{'proto': 'udp', 'ports': [9]}]}, 'flows': [{'id': 'f', "
	    "'from': 'icu/pump', 'to': '*', 'services': 'pump-api', 'action': 'allow'}, {'id': "
	    "'g', 'from': 'srv/api', 'to': 'icu', 'services': 'ssh', 'action': 'allow'}], "
	    "'invariants': [{'id': 'i', 'expect': 'deny', 'from': 'guest', 'to': 'bms', "
	    "'service': 'inv-only'}]"));

	/* Every zone is named ("*" names all): none is unused. */
	no_diag(&a.d, "unused-zone");
	has_diag(&a.d, "unused-service", "/services/spare",
		 "service \"spare\" is defined but never used");
	/* An invariant's service is used; unused built-ins are no news. */
	assert_int_equal(unit_count_diags(&a.d, "unused-service"), 1);
	assert_int_equal(a.d.nerrors, 0);
	analysis_free(&a);

	a = analyse(FLOWS("{'id': 'f', 'from': 'srv/api', 'to': 'icu', 'services': 'ssh', "
			  "'action': 'allow'}"));
	has_diag(&a.d, "unused-zone", "/zones/bms",
		 "no flow uses zone \"bms\": only the defaults apply to it");
	has_diag(&a.d, "unused-zone", "/zones/guest", NULL);
	/* Naming a host uses its zone. */
	assert_int_equal(unit_count_diags(&a.d, "unused-zone"), 2);
	assert_int_equal(a.d.nwarnings, 2);
	analysis_free(&a);
}

static void test_critical_exposure(void **state)
{
	struct analysis a = analyse(FLOWS(
	    "{'id': 'x', 'from': 'guest', 'to': 'icu/pump', 'services': 'https', 'action': "
	    "'allow'}, {'id': 'y', 'from': '*', 'to': 'icu', 'services': 'ssh', 'action': "
	    "'allow'}, {'id': 'z', 'from': 'guest', 'to': 'icu', 'services': 'dns', 'action': "
	    "'deny'}, {'id': 'w', 'from': 'srv', 'to': ['bms', 'icu'], 'services': 'ntp', "
	    "'action': 'allow'}, {'id': 'v', 'from': ['srv', 'guest'], 'to': 'bms', 'services': "
	    "'ntp', 'action': 'allow'}"));

	has_diag(&a.d, "critical-exposure", "/flows/0",
		 "flow \"x\" allows untrusted zone \"guest\" into life-critical zone \"icu\"");
	has_diag(&a.d, "critical-exposure", "/flows/1",
		 "flow \"y\" allows untrusted zone \"guest\" into life-critical zone \"icu\"");
	/* Denying is not exposing; trusted sources and other targets are fine. */
	assert_int_equal(unit_count_diags(&a.d, "critical-exposure"), 2);
	analysis_free(&a);

	/* A zone holding the default route is untrusted. */
	a = analyse("{" UNIT_HDR "'zones': {'wan': {'networks': ['0.0.0.0/0']}, 'icu': "
		    "{'criticality': 'life-critical', 'networks': ['10.3.0.0/16']}}, 'flows': "
		    "[{'id': 'in', 'from': 'wan', 'to': 'icu', 'services': 'https', 'action': "
		    "'allow', 'mode': 'monitor'}]}");
	has_diag(&a.d, "critical-exposure", "/flows/0",
		 "flow \"in\" allows untrusted zone \"wan\" into life-critical zone \"icu\"");
	has_diag(&a.d, "monitor-allow", "/flows/0",
		 "flow \"in\": monitor mode has no effect on an allow flow");
	analysis_free(&a);
}

static void test_expired_window(void **state)
{
	struct analysis a = analyse(FLOWS(
	    "{'id': 'old', 'from': 'srv', 'to': 'icu', 'services': 'https', 'action': 'allow', "
	    "'valid': {'until': '2026-11-29T12:00:00Z'}}, {'id': 'last-second', 'from': 'srv', "
	    "'to': 'icu', 'services': 'ssh', 'action': 'allow', 'valid': {'until': "
	    "'2026-11-29T12:00:01Z'}}, {'id': 'long-ago', 'from': 'srv', 'to': 'icu', "
	    "'services': 'dns', 'action': 'deny', 'valid': {'from': '2020-01-01T00:00:00Z', "
	    "'until': '2021-01-01T00:00:00+01:00'}}, {'id': 'future', 'from': 'srv', 'to': "
	    "'icu', 'services': 'ntp', 'action': 'allow', 'valid': {'from': "
	    "'2030-01-01T00:00:00Z'}}"));

	/* [from, until): a window ending now is over. */
	has_diag(&a.d, "expired-window", "/flows/0",
		 "flow \"old\" expired at 2026-11-29T12:00:00Z: it no longer allows or denies "
		 "anything");
	has_diag(&a.d, "expired-window", "/flows/2",
		 "flow \"long-ago\" expired at 2020-12-31T23:00:00Z: it no longer allows or denies "
		 "anything");
	assert_int_equal(unit_count_diags(&a.d, "expired-window"), 2);
	/* An expired flow decided in its time: it is not shadowed. */
	no_diag(&a.d, "shadowed-flow");
	no_diag(&a.d, "redundant-flow");
	analysis_free(&a);
}

/* ---- shadowing and redundancy ---- */

static void test_shadowed_flow(void **state)
{
	struct analysis a = analyse(FLOWS(
	    "{'id': 'deny-all', 'from': 'guest', 'to': 'srv', 'services': 'any', 'action': "
	    "'deny'}, {'id': 'web', 'from': 'guest', 'to': 'srv', 'services': 'https', 'action': "
	    "'allow'}"));

	has_diag(&a.d, "shadowed-flow", "/flows/1",
		 "flow \"web\" never decides anything: \"deny-all\" decides all of its traffic "
		 "first");
	assert_int_equal(unit_count_diags(&a.d, "shadowed-flow"), 1);
	no_diag(&a.d, "redundant-flow");
	analysis_free(&a);

	/* Shadowed by two flows, one of each action: both named. */
	a = analyse(FLOWS("{'id': 'no-ssh', 'from': 'guest', 'to': 'srv', 'services': 'ssh', "
			  "'action': 'deny'}, {'id': 'web', 'from': 'guest', 'to': 'srv/api', "
			  "'services': 'https', 'action': 'allow'}, {'id': 'remote', 'from': "
			  "'guest', 'to': 'srv/api', 'services': ['ssh', 'https'], 'action': "
			  "'allow'}"));
	has_diag(&a.d, "shadowed-flow", "/flows/2",
		 "flow \"remote\" never decides anything: \"no-ssh\" and \"web\" decide all of its "
		 "traffic first");
	analysis_free(&a);
}

static void test_redundant_flow(void **state)
{
	struct analysis a = analyse(
	    FLOWS("{'id': 'all', 'from': 'guest', 'to': 'srv', 'services': 'any', 'action': "
		  "'allow'}, {'id': 'web', 'from': 'guest', 'to': 'srv/api', 'services': 'https', "
		  "'action': 'allow'}"));

	has_diag(&a.d, "redundant-flow", "/flows/1",
		 "flow \"web\" is redundant: \"all\" already allows all of its traffic");
	no_diag(&a.d, "shadowed-flow");
	analysis_free(&a);

	a = analyse(FLOWS("{'id': 's', 'from': 'srv', 'to': 'icu', 'services': 'ssh', 'action': "
			  "'allow'}, {'id': 'h', 'from': 'srv', 'to': 'icu', 'services': 'https', "
			  "'action': 'allow'}, {'id': 'both', 'from': 'srv', 'to': 'icu', "
			  "'services': ['ssh', 'https'], 'action': 'allow'}"));
	has_diag(&a.d, "redundant-flow", "/flows/2",
		 "flow \"both\" is redundant: \"s\" and \"h\" already allow all of its traffic");
	assert_int_equal(unit_count_diags(&a.d, "redundant-flow"), 1);
	analysis_free(&a);

	/* Two denies, the second for a part of the first's traffic. */
	a = analyse(FLOWS("{'id': 'd1', 'from': '*', 'to': 'icu', 'services': 'any', 'action': "
			  "'deny'}, {'id': 'd2', 'from': 'guest', 'to': 'icu/pump', 'services': "
			  "'ssh', 'action': 'deny'}"));
	has_diag(&a.d, "redundant-flow", "/flows/1",
		 "flow \"d2\" is redundant: \"d1\" already denies all of its traffic");
	analysis_free(&a);
}

static void test_not_shadowed(void **state)
{
	/* A windowed deny leaves the allow to decide outside the window; a flow that is only
	 * partly covered decides the rest; the first of two equal flows decides. */
	struct analysis a = analyse(FLOWS(
	    "{'id': 'freeze', 'from': 'guest', 'to': 'srv', 'services': 'any', 'action': "
	    "'deny', 'valid': {'from': '2026-12-24T00:00:00Z', 'until': "
	    "'2026-12-27T00:00:00Z'}}, {'id': 'web', 'from': 'guest', 'to': 'srv', 'services': "
	    "'https', 'action': 'allow'}, {'id': 'ssh', 'from': 'guest', 'to': 'srv/api', "
	    "'services': ['ssh', 'https'], 'action': 'deny'}, {'id': 'all', 'from': 'srv', "
	    "'to': 'icu', 'services': ['ssh', 'rdp'], 'action': 'allow'}, {'id': 'part', 'from': "
	    "'srv', 'to': 'icu', 'services': ['ssh', 'https'], 'action': 'allow'}"));

	no_diag(&a.d, "shadowed-flow");
	no_diag(&a.d, "redundant-flow");
	analysis_free(&a);
}

static void test_empty_flow(void **state)
{
	/* Host groups h1 and h2 cover all of g: g's own addresses are none. */
	struct analysis a = analyse(
	    "{" UNIT_HDR "'zones': {'z': {'networks': ['10.0.0.0/30'], 'hosts': {'g': "
	    "'10.0.0.0/31', 'h1': '10.0.0.0', 'h2': '10.0.0.1'}}, 'y': {'networks': "
	    "['10.1.0.0/16']}}, 'flows': [{'id': 'f', 'from': 'z/g', 'to': 'y', 'services': "
	    "'ssh', 'action': 'allow'}, {'id': 'b', 'from': 'y', 'to': 'z/g', 'services': 'ssh', "
	    "'action': 'allow'}]}");

	has_diag(&a.d, "empty-flow", "/flows/0",
		 "flow \"f\" matches no address: its \"from\" side has none of its own");
	has_diag(&a.d, "empty-flow", "/flows/1",
		 "flow \"b\" matches no address: its \"to\" side has none of its own");
	no_diag(&a.d, "shadowed-flow");
	analysis_free(&a);
}

/* ---- invariants ---- */

static void test_invariant_violated(void **state)
{
	struct analysis a = analyse(
	    POL(", 'flows': [{'id': 'ok', 'from': 'guest', 'to': 'srv', 'services': 'https', "
		"'action': 'allow'}, {'id': 'bad', 'from': 'guest', 'to': 'icu/pump', 'services': "
		"'https', 'action': 'allow'}], 'invariants': [{'id': 'no-guest', 'expect': 'deny', "
		"'from': 'guest', 'to': 'icu'}]"));
	const char *msg = "invariant \"no-guest\" (expect deny) is violated: guest -> icu/pump "
			  "tcp/443 (e.g. 172.16.0.0 -> 10.3.0.9) is allowed by flow \"bad\"";

	has_diag(&a.d, "invariant-violated", "/invariants/0", msg);
	assert_int_equal(a.d.nerrors, 1);
	assert_false(a.res[0].holds);
	assert_false(a.res[0].monitor_only);
	assert_int_equal(a.res[0].violations, 1);
	assert_string_equal(a.res[0].detail, msg);
	analysis_free(&a);
}

static void test_invariant_violated_by_several(void **state)
{
	struct analysis a = analyse(
	    POL(", 'defaults': {'between_zones': 'allow'}, 'flows': [{'id': 'a1', 'from': 'guest', "
		"'to': 'icu', 'services': 'ssh', 'action': 'allow'}, {'id': 'a2', 'from': 'guest', "
		"'to': 'icu/pump', 'services': 'https', 'action': 'allow'}, {'id': 'd', 'from': "
		"'guest', 'to': 'icu', 'services': 'dns', 'action': 'deny'}], 'invariants': "
		"[{'id': 'closed', 'expect': 'deny', 'from': 'guest', 'to': 'icu'}]"));

	/* Everything but dns passes: a1, a2 and the default are to blame, each named once. */
	const struct ww_diag *x = unit_find_diag(&a.d, "invariant-violated", "/invariants/0");
	assert_non_null(x);
	assert_non_null(strstr(x->msg, "is allowed by flow \"a1\", flow \"a2\" and the default ("));
	assert_false(a.res[0].holds);
	assert_true(a.res[0].violations > 3);
	analysis_free(&a);
}

static void test_invariant_violated_by_default(void **state)
{
	struct analysis a = analyse(POL(", 'defaults': {'between_zones': 'allow'}, 'invariants': "
					"[{'id': 'no-guest', 'expect': 'deny', 'from': 'guest', "
					"'to': 'icu'}]"));

	/* One atom (everything), two destination classes (icu's own addresses and pump). */
	has_diag(&a.d, "invariant-violated", "/invariants/0",
		 "invariant \"no-guest\" (expect deny) is violated: guest -> icu gre (e.g. "
		 "172.16.0.0 -> 10.3.0.0) is allowed by the default (2 cases in all)");
	assert_int_equal(a.res[0].violations, 2);
	analysis_free(&a);
}

/* The counterexample of an "everything else" atom must be a packet of that atom. */
static void test_invariant_example_protocol(void **state)
{
	struct analysis a = analyse(
	    "{" UNIT_HDR "'defaults': {'between_zones': 'allow'}, 'zones': {'a': {'networks': "
	    "['10.1.0.0/16']}, 'b': {'networks': ['10.2.0.0/16']}}, 'services': {'gre': "
	    "[{'proto': 47}]}, 'flows': [{'id': 'no-gre', 'from': 'a', 'to': 'b', 'services': "
	    "'gre', 'action': 'deny'}], 'invariants': [{'id': 'i', 'expect': 'deny', 'from': "
	    "'a', 'to': 'b'}]}");

	/* gre is denied by its flow: the example must be another protocol. */
	has_diag(&a.d, "invariant-violated", "/invariants/0",
		 "invariant \"i\" (expect deny) is violated: a -> b 0 (e.g. 10.1.0.0 -> 10.2.0.0) "
		 "is allowed by the default");
	analysis_free(&a);

	a = analyse("{" UNIT_HDR "'defaults': {'between_zones': 'allow'}, 'zones': {'a': "
		    "{'networks': ['10.1.0.0/16']}, 'b': {'networks': ['10.2.0.0/16']}}, "
		    "'services': {'ipsec': [{'proto': 'esp'}, {'proto': 'ah'}]}, 'invariants': "
		    "[{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': 'ipsec'}]}");
	/* With a service, the example is one of its protocols. */
	has_diag(&a.d, "invariant-violated", "/invariants/0",
		 "invariant \"i\" (expect deny) is violated: a -> b esp (e.g. 10.1.0.0 -> "
		 "10.2.0.0) is allowed by the default");
	analysis_free(&a);
}

static void test_invariant_holds(void **state)
{
	struct analysis a = analyse(POL(
	    ", 'flows': [{'id': 'web', 'from': 'guest', 'to': 'srv/api', 'services': 'https', "
	    "'action': 'allow'}, {'id': 'pump', 'from': 'icu/pump', 'to': 'srv/api', 'services': "
	    "'https', 'action': 'allow'}], 'invariants': [{'id': 'no-guest', 'expect': 'deny', "
	    "'from': 'guest', 'to': ['icu', 'srv'], 'except': 'srv/api'}, {'id': 'guest-web', "
	    "'expect': 'deny', 'from': 'guest', 'to': ['icu', 'srv'], 'service': 'ssh'}, {'id': "
	    "'reach', "
	    "'expect': 'allow', 'from': 'icu/pump', 'to': 'srv/api', 'service': 'https'}]"));

	assert_int_equal(a.d.nerrors, 0);
	no_diag(&a.d, "invariant-monitor-only");
	for (size_t i = 0; i < 3; i++) {
		assert_true(a.res[i].holds);
		assert_false(a.res[i].monitor_only);
		assert_int_equal(a.res[i].violations, 0);
		assert_null(a.res[i].detail);
	}
	analysis_free(&a);
}

static void test_invariant_monitor_only(void **state)
{
	struct analysis a = analyse(
	    POL(", 'invariants': [{'id': 'no-bms', 'expect': 'deny', 'from': 'guest', 'to': "
		"'bms'}, {'id': 'no-icu', 'expect': 'deny', 'from': 'guest', 'to': 'icu'}]"));
	const char *msg = "invariant \"no-bms\" holds, but is not enforced yet: guest -> bms gre "
			  "(e.g. 172.16.0.0 -> 10.6.0.0) passes in monitor mode";

	/* Into a monitor zone, the default deny only monitors. */
	has_diag(&a.d, "invariant-monitor-only", "/invariants/0", msg);
	assert_int_equal(a.d.nerrors, 0);
	assert_true(a.res[0].holds);
	assert_true(a.res[0].monitor_only);
	assert_string_equal(a.res[0].detail, msg);
	assert_true(a.res[1].holds);
	assert_false(a.res[1].monitor_only);
	analysis_free(&a);

	/* A deny flow in monitor mode, into an enforcing zone. */
	a = analyse(
	    POL(", 'flows': [{'id': 'watch', 'from': 'guest', 'to': 'icu', 'services': "
		"'ssh', 'action': 'deny', 'mode': 'monitor'}], 'defaults': {'between_zones': "
		"'allow'}, 'invariants': [{'id': 'no-ssh', 'expect': 'deny', 'from': 'guest', "
		"'to': 'icu/pump', 'service': 'ssh'}]"));
	has_diag(&a.d, "invariant-monitor-only", "/invariants/0",
		 "invariant \"no-ssh\" holds, but is not enforced yet: guest -> icu/pump tcp/22 "
		 "(e.g. 172.16.0.0 -> 10.3.0.9) passes in monitor mode");
	assert_true(a.res[0].monitor_only);
	analysis_free(&a);
}

static void test_invariant_expect_allow(void **state)
{
	/* Monitor is not allow: an allowed connection that a monitor-mode deny would deny breaks an
	 * "allow" invariant (the deny is to blame); without the allow, the default denies. */
	struct analysis a = analyse(POL(
	    ", 'flows': [{'id': 'w', 'from': 'icu/pump', 'to': 'srv/api', 'services': 'https', "
	    "'action': 'deny', 'mode': 'monitor'}, {'id': 'ok', 'from': 'icu', 'to': 'srv', "
	    "'services': 'https', 'action': 'allow'}], 'invariants': [{'id': 'reach', 'expect': "
	    "'allow', 'from': 'icu/pump', 'to': 'srv/api', 'service': 'https'}, {'id': "
	    "'reach-ssh', 'expect': 'allow', 'from': 'icu', 'to': 'srv', 'service': 'ssh'}, "
	    "{'id': 'watched', 'expect': 'allow', 'from': 'icu/pump', 'to': 'srv/api', "
	    "'service': 'ssh'}]"));

	has_diag(
	    &a.d, "invariant-violated", "/invariants/0",
	    "invariant \"reach\" (expect allow) is violated: icu/pump -> srv/api tcp/443 (e.g. "
	    "10.3.0.9 -> 10.1.0.10) is not allowed by flow \"w\"");
	has_diag(&a.d, "invariant-violated", "/invariants/1",
		 "invariant \"reach-ssh\" (expect allow) is violated: icu -> srv tcp/22 (e.g. "
		 "10.3.0.0 -> 10.1.0.0) is not allowed by the default (4 cases in all)");
	assert_int_equal(a.res[1].violations, 4);
	has_diag(
	    &a.d, "invariant-violated", "/invariants/2",
	    "invariant \"watched\" (expect allow) is violated: icu/pump -> srv/api tcp/22 (e.g. "
	    "10.3.0.9 -> 10.1.0.10) is not allowed by the default");
	analysis_free(&a);
}

/* Windows: the proof covers now and every later instant, not the past. */
static void test_invariant_windows(void **state)
{
	struct analysis a = analyse(POL(
	    ", 'flows': [{'id': 'later', 'from': 'guest', 'to': 'icu', 'services': 'ssh', "
	    "'action': 'allow', 'valid': {'from': '2027-01-01T00:00:00Z', 'until': "
	    "'2027-01-02T00:00:00Z'}}, {'id': 'past', 'from': 'guest', 'to': 'icu', 'services': "
	    "'https', 'action': 'allow', 'valid': {'until': '2026-11-29T12:00:00Z'}}], "
	    "'invariants': [{'id': 'no-guest', 'expect': 'deny', 'from': 'guest', 'to': 'icu', "
	    "'service': 'https'}, {'id': 'no-ssh', 'expect': 'deny', 'from': 'guest', 'to': "
	    "'icu/pump'}]"));

	/* https was allowed until now: over. */
	assert_true(a.res[0].holds);
	/* ssh will be allowed for a day. */
	has_diag(&a.d, "invariant-violated", "/invariants/1",
		 "invariant \"no-ssh\" (expect deny) is violated: guest -> icu/pump tcp/22 (e.g. "
		 "172.16.0.0 -> 10.3.0.9) at 2027-01-01T00:00:00Z is allowed by flow \"later\"");
	assert_int_equal(a.res[1].violations, 1);
	analysis_free(&a);

	/* The same policy analysed during the ssh window, and after it. */
	const char *text = POL(", 'flows': [{'id': 'later', 'from': 'guest', 'to': 'icu', "
			       "'services': 'ssh', 'action': 'allow', 'valid': {'from': "
			       "'2027-01-01T00:00:00Z', 'until': '2027-01-02T00:00:00Z'}}], "
			       "'invariants': [{'id': 'no-ssh', 'expect': 'deny', 'from': 'guest', "
			       "'to': 'icu/pump'}]");
	a = analyse_at(text, unit_time("2027-01-01T12:00:00Z"), __FILE__, __LINE__);
	has_diag(&a.d, "invariant-violated", "/invariants/0",
		 "invariant \"no-ssh\" (expect deny) is violated: guest -> icu/pump tcp/22 (e.g. "
		 "172.16.0.0 -> 10.3.0.9) at 2027-01-01T12:00:00Z is allowed by flow \"later\"");
	analysis_free(&a);
	a = analyse_at(text, unit_time("2027-01-02T00:00:00Z"), __FILE__, __LINE__);
	assert_true(a.res[0].holds);
	has_diag(&a.d, "expired-window", "/flows/0", NULL);
	analysis_free(&a);
}

/* No packet goes between an IPv4-only and an IPv6-only class: nothing to prove there, and an
 * example is always of one family. */
static void test_invariant_families(void **state)
{
	struct analysis a = analyse(
	    "{" UNIT_HDR "'defaults': {'between_zones': 'allow'}, 'zones': {'v4': {'networks': "
	    "['10.1.0.0/16']}, 'v6': {'mode': 'monitor', 'networks': ['fd00:2::/48']}, 'dual': "
	    "{'networks': ['10.3.0.0/16', 'fd00:3::/48']}}, 'flows': [{'id': 'x', 'from': 'v4', "
	    "'to': 'v6', 'services': 'ssh', 'action': 'allow'}], 'invariants': [{'id': 'apart', "
	    "'expect': 'deny', 'from': 'v4', 'to': 'v6'}, {'id': 'watched', 'expect': 'deny', "
	    "'from': 'v4', 'to': 'v6', 'service': 'https'}, {'id': 'six', 'expect': 'deny', "
	    "'from': 'dual', 'to': 'v6'}]}");

	assert_true(a.res[0].holds);
	assert_int_equal(a.res[0].violations, 0);
	assert_true(a.res[1].holds);
	assert_false(a.res[1].monitor_only);
	has_diag(&a.d, "invariant-violated", "/invariants/2",
		 "invariant \"six\" (expect deny) is violated: dual -> v6 gre (e.g. fd00:3:: -> "
		 "fd00:2::) is allowed by the default");
	assert_int_equal(a.d.nerrors, 1);
	analysis_free(&a);
}

static void test_example(void **state)
{
	struct analysis a = {.p = unit_load_example()};

	a.res = calloc(a.p->ninvs, sizeof(*a.res));
	assert_int_equal(ww_analyse(a.p, UNIT_NOW, &a.d, a.res), 0);
	assert_int_equal(a.d.nerrors, 0);
	assert_int_equal(a.d.nwarnings, 3);
	assert_int_equal(unit_count_diags(&a.d, "invariant-monitor-only"), 3);
	for (size_t i = 0; i < a.p->ninvs; i++) {
		assert_true(a.res[i].holds);
		assert_int_equal(a.res[i].violations, 0);
	}
	/* Everything from guest to bms only passes because bms is in monitor mode. */
	assert_true(a.res[0].monitor_only);
	assert_false(a.res[1].monitor_only);
	assert_true(a.res[2].monitor_only);
	assert_false(a.res[3].monitor_only);
	assert_true(a.res[4].monitor_only);
	has_diag(&a.d, "invariant-monitor-only", "/invariants/0",
		 "invariant \"guest-isolated\" holds, but is not enforced yet: guest -> bms gre "
		 "(e.g. 172.16.0.0 -> 10.20.60.0) passes in monitor mode");
	analysis_free(&a);

	/* Results may be left out. */
	struct ww_diags d = {0};
	struct ww_policy *p = unit_load_example();
	assert_int_equal(ww_analyse(p, UNIT_NOW, &d, NULL), 0);
	assert_int_equal(d.nwarnings, 3);
	ww_diags_free(&d);
	ww_policy_free(p);
}

/* A break in the example, as an engineer might introduce it. */
static void test_example_broken(void **state)
{
	char *text, *json;
	size_t len;

	assert_int_equal(read_file(UNIT_EXAMPLE, &text, &len), 0);
	struct strbuf sb = {0};
	const char *at = strstr(text, "\"flows\": [");
	assert_non_null(at);
	at += strlen("\"flows\": [");
	sb_addn(&sb, text, (size_t)(at - text));
	sb_add(&sb, "{\"id\": \"oops\", \"from\": \"guest\", \"to\": \"identity/dc\", "
		    "\"services\": [\"https\"], \"action\": \"allow\"},");
	sb_add(&sb, at);
	json = sb_steal(&sb);
	struct analysis a = {0};
	a.d.file = "broken.json";
	assert_int_equal(ww_policy_parse("broken.json", json, strlen(json), &a.d, &a.p), 0);
	a.res = calloc(a.p->ninvs, sizeof(*a.res));
	assert_int_equal(ww_analyse(a.p, UNIT_NOW, &a.d, a.res), 0);
	has_diag(&a.d, "invariant-violated", "/invariants/0",
		 "invariant \"guest-isolated\" (expect deny) is violated: guest -> identity/dc "
		 "tcp/443 (e.g. 172.16.0.0 -> 10.20.1.10) is allowed by flow \"oops\"");
	assert_int_equal(a.d.nerrors, 1);
	assert_false(a.res[0].holds);
	analysis_free(&a);
	free(json);
	free(text);
}

static char *diags_text(const struct ww_diags *d)
{
	struct strbuf sb = {0};

	ww_diags_print(d, &sb);
	return sb_steal(&sb);
}

/* Whichever allocation fails, analysis returns -ENOMEM, or says that a diagnostic was lost, or
 * gets by without it and says exactly what it says otherwise; it never crashes, and never proves
 * an invariant it could not check. */
static void test_out_of_memory(void **state)
{
	UNIT_REQUIRE_FAULTS();
	struct ww_policy *p = unit_load_example();
	struct ww_diags d0 = {0};
	size_t nomem = 0;
	long n;

	/* The example, with guests let out to every zone: "guest-isolated" breaks. */
	ww_flow_find(p, "guest-to-internet")->to.all = true;
	assert_int_equal(ww_analyse(p, UNIT_NOW, &d0, NULL), 0);
	assert_true(d0.nerrors > 0);
	char *want = diags_text(&d0);
	for (n = 1;; n++) {
		struct ww_diags d = {0};
		struct ww_inv_result res[5] = {{0}};
		unit_fail_alloc(n);
		int err = ww_analyse(p, UNIT_NOW, &d, res);
		long counted = unit_fail_alloc(0);
		ww_inv_results_free(res, p->ninvs);
		if (err) {
			assert_int_equal(err, -ENOMEM);
			nomem++;
		} else if (!d.oom) {
			char *got = diags_text(&d);
			assert_string_equal(got, want);
			free(got);
		}
		ww_diags_free(&d);
		if (counted < n)
			break;
	}
	assert_true(n > 100);
	assert_true(nomem > 50);
	free(want);
	ww_diags_free(&d0);
	ww_policy_free(p);
}

static void test_key_str(void **state)
{
	char buf[32];

	assert_string_equal(ww_key_str(WW_PROTO_TCP, 443, 443, buf), "tcp/443");
	assert_string_equal(ww_key_str(WW_PROTO_TCP, 1000, 2000, buf), "tcp/1000-2000");
	assert_string_equal(ww_key_str(WW_PROTO_TCP, 0, 65535, buf), "tcp");
	assert_string_equal(ww_key_str(WW_PROTO_UDP, 1, 65535, buf), "udp/1-65535");
	assert_string_equal(ww_key_str(WW_PROTO_ICMP, 8, 8, buf), "icmp/8");
	assert_string_equal(ww_key_str(WW_PROTO_ICMPV6, 0, 255, buf), "icmpv6");
	assert_string_equal(ww_key_str(47, 0, 0, buf), "gre");
	assert_string_equal(ww_key_str(200, 0, 0, buf), "200");
	assert_string_equal(ww_key_str(WW_PROTO_ANY, 0, 0, buf), "any");
}

UNIT_MAIN(cmocka_unit_test(test_unused_zone_and_service), cmocka_unit_test(test_critical_exposure),
	  cmocka_unit_test(test_expired_window), cmocka_unit_test(test_shadowed_flow),
	  cmocka_unit_test(test_redundant_flow), cmocka_unit_test(test_not_shadowed),
	  cmocka_unit_test(test_empty_flow), cmocka_unit_test(test_invariant_violated),
	  cmocka_unit_test(test_invariant_violated_by_several),
	  cmocka_unit_test(test_invariant_violated_by_default),
	  cmocka_unit_test(test_invariant_example_protocol), cmocka_unit_test(test_invariant_holds),
	  cmocka_unit_test(test_invariant_monitor_only),
	  cmocka_unit_test(test_invariant_expect_allow), cmocka_unit_test(test_invariant_windows),
	  cmocka_unit_test(test_invariant_families), cmocka_unit_test(test_example),
	  cmocka_unit_test(test_example_broken), cmocka_unit_test(test_out_of_memory),
	  cmocka_unit_test(test_key_str))
