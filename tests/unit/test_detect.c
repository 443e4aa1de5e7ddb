// SPDX-License-Identifier: GPL-2.0-only
/* The detectors (detect.h) over records made here, classified by the example hospital, and the
 * policy's "detect" section. */
#include "unit.h"

#include <arpa/inet.h>

#include "detect.h"
#include "evlog.h"
#include "policy.h"

#define SEC 1000000000LL

struct got {
	struct ww_alert v[128];
	size_t n;
};

static void on_alert(const struct ww_alert *a, void *arg)
{
	struct got *g = arg;

	assert_true(g->n < 128);
	g->v[g->n++] = *a;
}

/* A record as `wardwall events` decodes one: zones named, addresses v4. */
static struct ww_logrec rec(int64_t t, const char *verdict, const char *zs, const char *src,
			    const char *zd, const char *dst, uint8_t proto, uint16_t port)
{
	struct ww_logrec r = {.time_ns = t, .verdict = verdict};

	snprintf(r.flow, sizeof(r.flow), "default");
	snprintf(r.zone[0], sizeof(r.zone[0]), "%s", zs);
	snprintf(r.zone[1], sizeof(r.zone[1]), "%s", zd);
	r.t.family = 4;
	r.t.proto = proto;
	r.t.ports = true;
	r.t.sport = 40000;
	r.t.dport = port;
	inet_pton(AF_INET, src, r.t.src);
	inet_pton(AF_INET, dst, r.t.dst);
	return r;
}

static struct ww_detect *mk(const struct ww_policy *p, struct got *g)
{
	struct ww_detect *d;
	struct ww_detect_cfg cfg;

	ww_detect_cfg_default(&cfg);
	assert_int_equal(ww_detect_new(&cfg, on_alert, g, &d), 0);
	ww_detect_policy(d, p);
	return d;
}

/* A workstation touching 25 ports of one EHR server within a second: one scan alert, after the
 * hold, with every target counted; nothing else (workstations are not clinical). */
static void test_scan(void **state)
{
	struct ww_policy *p = unit_load_example();
	struct got g = {0};
	struct ww_detect *d = mk(p, &g);
	int64_t t0 = UNIT_NOW * SEC;

	for (int i = 0; i < 25; i++) {
		struct ww_logrec r = rec(t0 + i * 10000000LL, "deny", "workstations", "10.20.100.9",
					 "ehr", "10.20.2.10", 6, (uint16_t)(20 + i));
		ww_detect_feed(d, &r);
	}
	assert_int_equal(g.n, 0); /* held */
	ww_detect_tick(d, t0 + 4 * SEC);
	assert_int_equal(g.n, 0);
	ww_detect_tick(d, t0 + 20 * SEC);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].det, WW_DET_SCAN);
	assert_int_equal(g.v[0].count, 25);
	assert_int_equal(g.v[0].targets, 20); /* the threshold: the target set is bounded by it */
	assert_string_equal(g.v[0].src_zone, "workstations");
	assert_string_equal(g.v[0].dst_zones[0], "ehr");
	assert_int_equal(g.v[0].first_ns, t0);
	assert_int_equal(g.v[0].last_ns, t0 + 24 * 10000000LL);
	struct strbuf s = {0};
	ww_alert_action(&g.v[0], &s);
	assert_string_equal(sb_str(&s),
			    "wardwall quarantine add 10.20.100.9 --reason \"scan alert: "
			    "workstations -> ehr\"");
	/* The JSON line parses back to the same alert. */
	struct ww_alert back;
	sb_reset(&s);
	ww_alert_print(&g.v[0], true, &s);
	assert_int_equal(ww_alert_parse(sb_str(&s), &back), 0);
	assert_int_equal(back.count, 25);
	assert_int_equal(back.first_ns, g.v[0].first_ns);
	assert_int_equal(back.nservices, 4);
	assert_true(back.more_services);
	/* Within the cooldown: no second alert, counted as suppressed. */
	struct ww_logrec r =
	    rec(t0 + 30 * SEC, "deny", "workstations", "10.20.100.9", "ehr", "10.20.2.11", 6, 9999);
	for (int i = 0; i < 30; i++) {
		r.t.dport = (uint16_t)(1000 + i);
		ww_detect_feed(d, &r);
	}
	ww_detect_tick(d, INT64_MAX);
	assert_int_equal(g.n, 1);
	struct ww_detect_stats st;
	ww_detect_get_stats(d, &st);
	assert_true(st.suppressed[WW_DET_SCAN] > 0);
	sb_free(&s);
	ww_detect_free(d);
	ww_policy_free(p);
}

/* biomed -> ehr on 445 and 3389: one lateral alert naming both services; guest -> ehr (not
 * clinical) none; workstations -> infusion (life-critical) one. */
static void test_lateral(void **state)
{
	struct ww_policy *p = unit_load_example();
	struct got g = {0};
	struct ww_detect *d = mk(p, &g);
	int64_t t0 = UNIT_NOW * SEC;
	struct ww_logrec r[] = {
	    rec(t0, "deny", "biomed", "10.20.4.50", "ehr", "10.20.2.10", 6, 445),
	    rec(t0 + SEC, "deny", "biomed", "10.20.4.50", "ehr", "10.20.2.10", 6, 3389),
	    rec(t0, "deny", "guest", "172.16.0.5", "ehr", "10.20.2.10", 6, 445),
	    rec(t0, "deny", "workstations", "10.20.100.7", "infusion", "10.20.40.9", 6, 22),
	    rec(t0, "allow", "biomed", "10.20.4.51", "ehr", "10.20.2.10", 6, 2575)};

	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		ww_detect_feed(d, &r[i]);
	ww_detect_tick(d, INT64_MAX);
	assert_int_equal(g.n, 2);
	const struct ww_alert *b = g.v[0].src_zone[0] == 'b' ? &g.v[0] : &g.v[1];
	const struct ww_alert *w = b == &g.v[0] ? &g.v[1] : &g.v[0];
	assert_int_equal(b->det, WW_DET_LATERAL);
	assert_int_equal(b->count, 2);
	assert_int_equal(b->nservices, 2);
	assert_string_equal(b->services[0], "tcp/445");
	assert_string_equal(b->services[1], "tcp/3389");
	assert_int_equal(w->det, WW_DET_LATERAL);
	assert_string_equal(w->dst_zones[0], "infusion");
	ww_detect_free(d);
	ww_policy_free(p);
}

/* bms is in monitor mode: a new (source, destination, service) alerts once; the same again does
 * not; a denial (not monitor) does not count. */
static void test_new_talker_and_flood(void **state)
{
	struct ww_policy *p = unit_load_example();
	struct got g = {0};
	struct ww_detect *d = mk(p, &g);
	int64_t t0 = UNIT_NOW * SEC;
	struct ww_logrec r =
	    rec(t0, "monitor", "bms", "10.20.60.20", "mgmt", "10.20.200.30", 6, 8080);

	for (int i = 0; i < 3; i++)
		ww_detect_feed(d, &r);
	ww_detect_tick(d, INT64_MAX);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].det, WW_DET_NEW_TALKER);
	assert_int_equal(g.v[0].count, 1);
	/* Flood: 20/s over 10 s = 200 denials from one source. */
	g.n = 0;
	for (int i = 0; i < 250; i++) {
		struct ww_logrec f = rec(t0 + 100 * SEC + i * 10000000LL, "deny", "guest",
					 "172.16.3.3", "internet", "198.51.100.1", 17, 53);
		ww_detect_feed(d, &f);
	}
	ww_detect_tick(d, INT64_MAX);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.v[0].det, WW_DET_FLOOD);
	assert_int_equal(g.v[0].count, 250);
	ww_detect_free(d);
	ww_policy_free(p);
}

/* The per-source table is bounded: 100 sources through a table of 16 evict 84, and an open alert
 * of an evicted source is emitted first, not lost. */
static void test_bounded(void **state)
{
	struct got g = {0};
	struct ww_detect *d;
	struct ww_detect_cfg cfg;
	struct ww_detect_stats st;
	int64_t t0 = UNIT_NOW * SEC;

	ww_detect_cfg_default(&cfg);
	cfg.max_sources = 16;
	cfg.scan_targets = 2;
	assert_int_equal(ww_detect_new(&cfg, on_alert, &g, &d), 0);
	for (int i = 0; i < 100; i++) {
		char a[32];
		snprintf(a, sizeof(a), "10.20.100.%d", i + 1);
		for (int k = 0; k < 2; k++) {
			struct ww_logrec r = rec(t0 + i * 1000, "deny", "workstations", a, "ehr",
						 "10.20.2.10", 6, (uint16_t)(80 + k));
			ww_detect_feed(d, &r);
		}
	}
	ww_detect_get_stats(d, &st);
	assert_int_equal(st.sources, 16);
	assert_int_equal(st.evicted_sources, 84);
	assert_int_equal(g.n, 84); /* emitted at eviction */
	ww_detect_tick(d, INT64_MAX);
	assert_int_equal(g.n, 100);
	ww_detect_free(d);
}

/* The "detect" section: parsed, checked with a location, canonical only when changed. */
static void test_policy_section(void **state)
{
	const char *base = "{" UNIT_HDR "'zones': {'a': {'networks': '10.0.0.0/8'}}, 'flows': []";
	char *t = xstrdup_printf("%s, 'detect': {'scan': {'targets': 30, 'window': 120}, "
				 "'lateral': {'min_criticality': 'life-critical'}, "
				 "'new_talker': {'enabled': false}, 'cooldown': 60}}",
				 base);
	char *j0 = unit_json(t);
	struct ww_policy *p = unit_parse_ok(j0);
	free(j0);
	assert_int_equal(p->detect.scan_targets, 30);
	assert_int_equal(p->detect.scan_window, 120);
	assert_int_equal(p->detect.lateral_min_crit, WW_CRIT_LIFE);
	assert_false(p->detect.new_talker);
	assert_true(p->detect.flood);
	assert_int_equal(p->detect.cooldown, 60);
	struct strbuf s = {0};
	ww_policy_print_canonical(p, &s);
	assert_non_null(strstr(sb_str(&s), "\"detect\": {\"scan\": {\"enabled\": true, "
					   "\"targets\": 30, \"window\": 120}"));
	struct ww_policy *q = unit_parse_ok(sb_str(&s));
	struct strbuf s2 = {0};
	ww_policy_print_canonical(q, &s2);
	assert_string_equal(sb_str(&s), sb_str(&s2));
	ww_policy_free(p);
	ww_policy_free(q);
	free(t);
	/* All defaults: the same canonical form as no section. */
	t = xstrdup_printf("%s, 'detect': {'scan': {'targets': 20}}}", base);
	j0 = unit_json(t);
	p = unit_parse_ok(j0);
	free(j0);
	sb_reset(&s);
	ww_policy_print_canonical(p, &s);
	assert_null(strstr(sb_str(&s), "detect"));
	ww_policy_free(p);
	free(t);
	t = xstrdup_printf("%s, 'detect': {'scan': {'targets': 999}}}", base);
	char *j = unit_json(t);
	assert_true(assert_first_error(j, "out-of-range", "/detect/scan/targets", NULL) > 0);
	free(j);
	free(t);
	sb_free(&s);
	sb_free(&s2);
}

/* A recorded event line reads back into the record it was printed from. */
static void test_logrec_round_trip(void **state)
{
	struct ww_logrec r = rec(UNIT_NOW * SEC + 123000000LL, "monitor", "bms", "10.20.60.20",
				 "mgmt", "10.20.200.30", 6, 8080),
			 back;
	struct strbuf s = {0};

	snprintf(r.host[1], sizeof(r.host[1]), "mgmt/siem");
	ww_logrec_print(&r, true, &s);
	assert_int_equal(ww_logrec_parse(sb_str(&s), &back), 0);
	assert_int_equal(back.time_ns, r.time_ns);
	assert_string_equal(back.verdict, "monitor");
	assert_string_equal(back.zone[0], "bms");
	assert_string_equal(back.host[1], "mgmt/siem");
	assert_int_equal(back.t.dport, 8080);
	assert_memory_equal(back.t.dst, r.t.dst, 4);
	assert_int_equal(ww_logrec_parse("{\"type\": \"dropped\"}", &back), -ENOENT);
	sb_free(&s);
}

UNIT_MAIN(cmocka_unit_test(test_scan), cmocka_unit_test(test_lateral),
	  cmocka_unit_test(test_new_talker_and_flood), cmocka_unit_test(test_bounded),
	  cmocka_unit_test(test_policy_section), cmocka_unit_test(test_logrec_round_trip))
