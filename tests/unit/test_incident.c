// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incident records and report drafts (incident.h) over a state directory written here: recorded
 * events and alerts in and out of the window, a not-logged count, a quarantine; what the report
 * counts, leaves out, says it cannot know, its deadlines, and its signed series.
 */
#include "unit.h"

#include <sys/stat.h>

#include "evidence.h"
#include "incident.h"

#define T0 1796637600LL /* 2026-12-07T10:00:00Z */

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ww-unit-incident.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

static void append(const char *dir, const char *name, const char *line)
{
	char *p = xstrdup_printf("%s/%s", dir, name);
	FILE *f = fopen(p, "a");

	assert_non_null(f);
	fputs(line, f);
	fclose(f);
	free(p);
}

static void event(const char *dir, const char *time, const char *verdict, const char *src,
		  int dport)
{
	char line[1024];

	snprintf(
	    line, sizeof(line),
	    "{\"type\": \"event\", \"time\": \"%s\", \"tier\": \"nftables\", \"verdict\": \"%s\", "
	    "\"flow\": \"default\", \"src_zone\": \"biomed\", \"dst_zone\": \"ehr\", \"src_host\": "
	    "null, \"dst_host\": \"ehr/his-app\", \"proto\": \"tcp\", \"src\": \"%s\", \"dst\": "
	    "\"10.20.2.10\", \"sport\": 40000, \"dport\": %d, \"in\": \"a\", \"out\": \"b\"}\n",
	    time, verdict, src, dport);
	append(dir, "events/events.jsonl", line);
}

static char *state(void)
{
	char *d = tmpdir(), *ev = xstrdup_printf("%s/events", d);

	assert_int_equal(mkdir(ev, 0755), 0);
	free(ev);
	event(d, "2026-12-07T09:00:00.000Z", "deny", "10.20.4.9", 22); /* before the window */
	event(d, "2026-12-07T10:00:01.000Z", "deny", "10.20.4.2", 445);
	event(d, "2026-12-07T10:00:02.000Z", "deny", "10.20.4.2", 3389);
	event(d, "2026-12-07T10:00:03.000Z", "monitor", "10.20.4.3", 445);
	event(d, "2026-12-07T10:00:04.000Z", "allow", "10.20.4.4", 2575);
	append(d, "events/events.jsonl",
	       "{\"type\": \"dropped\", \"time\": \"2026-12-07T10:00:04.000Z\", \"tier\": \"xdp\", "
	       "\"interval\": 2, \"rate_limited\": 1000, \"ring_full\": 7}\n");
	append(
	    d, "events/alerts.jsonl",
	    "{\"type\": \"alert\", \"detector\": \"lateral\", \"first_seen\": "
	    "\"2026-12-07T10:00:01.000Z\", \"last_seen\": \"2026-12-07T10:00:02.000Z\", \"src\": "
	    "\"10.20.4.2\", \"src_zone\": \"biomed\", \"src_host\": null, \"dst_zones\": "
	    "[\"ehr\"], "
	    "\"dst_zones_more\": false, \"flows\": [\"default\"], \"flows_more\": false, "
	    "\"services\": [\"tcp/445\", \"tcp/3389\"], \"services_more\": false, \"dst\": "
	    "\"10.20.2.10\", \"dst_host\": \"ehr/his-app\", \"count\": 2, \"targets\": 1, "
	    "\"action\": \"wardwall quarantine add 10.20.4.2 --reason x\"}\n");
	append(
	    d, "quarantine-log.jsonl",
	    "{\"time\": \"2026-12-07T10:01:00Z\", \"event\": \"add\", \"blocked_packets\": 0, "
	    "\"quarantine\": {\"id\": \"q1\", \"target\": \"10.20.4.2\", \"reason\": \"lateral\", "
	    "\"ticket\": \"INC-1\"}}\n");
	return d;
}

static void test_records(void **st)
{
	char *d = state();
	struct ww_incident a, b, c;
	struct strbuf err = {0};

	assert_int_equal(ww_incident_open(d, "Lateral movement", T0 + 30, T0, &a, &err), 0);
	assert_string_equal(a.id, "inc-1");
	assert_int_equal(ww_incident_open(d, "again", T0 + 40, T0, &b, &err), -EBUSY);
	assert_non_null(strstr(sb_str(&err), "inc-1"));
	sb_reset(&err);
	assert_int_equal(ww_incident_close(d, NULL, T0 + 3600, &c, &err), 0);
	assert_int_equal(c.closed, T0 + 3600);
	ww_incident_clear(&c);
	assert_int_equal(ww_incident_open(d, "second", T0 + 7200, T0 + 7200, &b, &err), 0);
	assert_string_equal(b.id, "inc-2");
	assert_int_equal(ww_incident_get(d, "inc-1", &c, &err), 0);
	assert_string_equal(c.title, "Lateral movement");
	ww_incident_clear(&a);
	ww_incident_clear(&b);
	ww_incident_clear(&c);
	sb_free(&err);
	rm_tree(d);
	free(d);
}

static void test_report(void **st)
{
	char *d = state(), *kd = xstrdup_printf("%s/keys", d), *kp, fp[65], sha[65];
	struct ww_incident inc;
	struct ww_inc_report r;
	struct strbuf err = {0}, js = {0}, out = {0}, bad = {0}, warn = {0};
	uint8_t sk[WW_EV_SK_BYTES];
	bool unchecked;

	assert_int_equal(ww_incident_open(d, "Lateral movement", T0 + 30, T0, &inc, &err), 0);
	assert_int_equal(ww_inc_report_build(d, &inc, WW_INC_EARLY, T0 + 600, &r, &err), 0);
	/* the window: since T0 until now; the 09:00 denial is outside it */
	assert_int_equal(r.events, 4);
	assert_int_equal(r.denied, 2);
	assert_int_equal(r.monitored, 1);
	assert_int_equal(r.allowed, 1);
	assert_int_equal(r.not_logged, 1007);
	assert_int_equal(r.sources_total, 2); /* allowed traffic names no indicator */
	assert_string_equal(r.sources[0].addr, "10.20.4.2");
	assert_int_equal(r.sources[0].n, 2);
	assert_int_equal(r.nalerts, 1);
	assert_int_equal(r.nquars, 1);
	assert_int_equal(r.deadline, T0 + 30 + 24 * 3600);
	assert_int_equal(r.seq, 1);
	ww_inc_report_json(&r, &js);
	assert_non_null(strstr(sb_str(&js), "\"field\": \"suspected_malicious\""));
	assert_non_null(strstr(sb_str(&js),
			       "1007 decisions in this window were counted by the kernel "
			       "but not logged"));
	assert_null(strstr(sb_str(&js), "10.20.4.9"));

	assert_int_equal(ww_ev_keygen(kd, false, fp, &err), 0);
	kp = xstrdup_printf("%s/evidence.key", kd);
	assert_int_equal(ww_ev_key_load(kp, sk, &err), 0);
	char *b1 = xstrdup_printf("%s/r1", d), *b2 = xstrdup_printf("%s/r2", d);
	assert_int_equal(ww_inc_report_write(d, &r, sk, b1, sha, &err), 0);
	ww_inc_report_free(&r);
	/* the next report follows it, and the final one is due a month after the notification */
	assert_int_equal(ww_inc_report_build(d, &inc, WW_INC_NOTIFICATION, T0 + 7200, &r, &err), 0);
	assert_int_equal(r.seq, 2);
	assert_string_equal(r.prev_sha256, sha);
	assert_int_equal(ww_inc_report_write(d, &r, sk, b2, sha, &err), 0);
	ww_inc_report_free(&r);
	assert_int_equal(ww_inc_report_build(d, &inc, WW_INC_FINAL, T0 + 9000, &r, &err), 0);
	assert_int_equal(r.deadline, T0 + 7200 + 31 * 86400); /* 2027-01-07T12:00:00Z */
	ww_inc_report_free(&r);
	const char *bundles[] = {b1, b2};
	assert_int_equal(ww_evidence_verify(bundles, 2, NULL, &out, &bad, &warn, &unchecked), 0);
	assert_false(unchecked);

	free(b1);
	free(b2);
	free(kp);
	free(kd);
	ww_incident_clear(&inc);
	sb_free(&err);
	sb_free(&js);
	sb_free(&out);
	sb_free(&bad);
	sb_free(&warn);
	rm_tree(d);
	free(d);
}

UNIT_MAIN(cmocka_unit_test(test_records), cmocka_unit_test(test_report))
