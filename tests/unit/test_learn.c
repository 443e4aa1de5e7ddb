// SPDX-License-Identifier: GPL-2.0-only
/*
 * Learning (learn.h) over a state directory written here: an applied generation of UNIT_ZONES
 * (icu in monitor mode) and recorded would-be denials. What is proposed, what is left out, and
 * that the proposal parses back with only the learned additions.
 */
#include "unit.h"

#include <cjson/cJSON.h>
#include <sys/stat.h>

#include "learn.h"
#include "state.h"

static void event(const char *dir, const char *verdict, const char *zs, const char *src,
		  const char *hs, const char *zd, const char *dst, const char *hd, int dport)
{
	char *p = xstrdup_printf("%s/events/events.jsonl", dir);
	FILE *f = fopen(p, "a");

	assert_non_null(f);
	fprintf(
	    f,
	    "{\"type\": \"event\", \"time\": \"2026-12-07T10:00:01.000Z\", \"tier\": \"nftables\", "
	    "\"verdict\": \"%s\", \"flow\": \"default\", \"src_zone\": \"%s\", \"dst_zone\": "
	    "\"%s\", "
	    "\"src_host\": %s%s%s, \"dst_host\": %s%s%s, \"proto\": \"tcp\", \"src\": \"%s\", "
	    "\"dst\": \"%s\", \"sport\": 40000, \"dport\": %d, \"in\": \"a\", \"out\": \"b\"}\n",
	    verdict, zs, zd, hs ? "\"" : "", hs ? hs : "null", hs ? "\"" : "", hd ? "\"" : "",
	    hd ? hd : "null", hd ? "\"" : "", src, dst, dport);
	fclose(f);
	free(p);
}

static void test_learn(void **st)
{
	char d[] = "/tmp/ww-unit-learn.XXXXXX";
	char *pol = unit_json(UNIT_POL(", 'flows': [{'from': 'campus/servers', 'to': 'icu', "
				       "'services': 'https', 'action': 'allow'}]"));
	struct ww_policy *p = unit_parse_ok(pol), *q;
	struct ww_state *s;
	struct ww_learn_result r;
	struct strbuf err = {0};
	unsigned long gen;

	assert_non_null(mkdtemp(d));
	assert_int_equal(ww_state_open(d, true, &s, &err), 0);
	assert_int_equal(ww_state_record(s, p, "apply", "unit", 0, &gen), 0);
	ww_state_close(s);
	char *ev = xstrdup_printf("%s/events", d);
	assert_int_equal(mkdir(ev, 0755), 0);
	free(ev);
	/* icu (monitor) to campus/db twice, from the pump host group to lab, and one in enforce */
	event(d, "monitor", "icu", "10.3.0.5", NULL, "campus", "10.1.2.3", "campus/db", 5432);
	event(d, "monitor", "icu", "10.3.0.5", NULL, "campus", "10.1.2.3", "campus/db", 5432);
	event(d, "monitor", "icu", "10.3.0.9", "icu/pump", "lab", "10.2.0.8", NULL, 8443);
	event(d, "monitor", "icu", "10.3.0.5", NULL, "-", "192.0.2.1", NULL, 443);
	event(d, "deny", "lab", "10.2.0.8", NULL, "campus", "10.1.2.3", "campus/db", 22);

	assert_int_equal(ww_learn(d, "icu", 0, 1796637700, &r, &err), 0);
	assert_int_equal(r.records, 5);
	assert_int_equal(r.used, 3);
	assert_int_equal(r.skipped_unzoned, 1);
	assert_int_equal(r.nflows, 2);
	assert_string_equal(r.flows[0].from, "icu/learned-1");
	assert_string_equal(r.flows[0].to, "campus/db");
	assert_int_equal(r.flows[0].n, 2);
	assert_string_equal(r.flows[1].from, "icu/pump");
	assert_string_equal(r.flows[1].to, "lab/learned-2");
	q = unit_parse_ok(r.policy);
	assert_int_equal(q->nflows, p->nflows + 2);
	assert_non_null(ww_flow_find(q, "learned-icu-1"));
	cJSON *o = cJSON_Parse(r.policy);
	cJSON *svc = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(o, "services"), "learned-tcp-5432");
	assert_non_null(svc);
	cJSON_Delete(o);
	ww_policy_free(q);
	ww_learn_result_free(&r);

	sb_reset(&err);
	assert_int_equal(ww_learn(d, "nosuch", 0, 1796637700, &r, &err), -ENOENT);
	assert_non_null(strstr(sb_str(&err), "nosuch"));
	rm_tree(d);
	ww_policy_free(p);
	free(pol);
	sb_free(&err);
}

UNIT_MAIN(cmocka_unit_test(test_learn))
