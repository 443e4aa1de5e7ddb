// SPDX-License-Identifier: GPL-2.0-only
/* events.c: a quarantine's drops are named alike in both tiers ("quarantine/q<id>"); the
 * nftables estimate of what was not logged, by counter and by the source zone whose log
 * budget refused it. */
#include <stdlib.h>
#include <string.h>

#include "events.h"
#include "unit.h"
#include "wardwall.h"

static void test_quarantine_names(void **state)
{
	struct ww_lognames *n = calloc(1, sizeof(*n));
	struct ww_event e = {.slot = WW_SLOT_QUARANTINE | 3, .verdict = WW_XV_DENY, .family = 4,
			     .proto = 6, .sport = 40000, .dport = 443};
	struct ww_nflog_msg m = {.prefix = "ww:deny:quarantine/q3"};
	struct ww_logrec r;

	assert_non_null(n);
	ww_logrec_from_xdp(n, &e, &r);
	assert_string_equal(r.verdict, "deny");
	assert_string_equal(r.flow, "quarantine/q3");
	e.slot = WW_SLOT_QUARANTINE | 1023; /* the last id is not the default's slot */
	ww_logrec_from_xdp(n, &e, &r);
	assert_string_equal(r.flow, "quarantine/q1023");
	e.slot = WW_SLOT_DEFAULT;
	ww_logrec_from_xdp(n, &e, &r);
	assert_string_equal(r.flow, "default");
	assert_true(ww_logrec_from_nflog(n, &m, &r));
	assert_string_equal(r.verdict, "deny");
	assert_string_equal(r.flow, "quarantine/q3");
	free(n);
}

/* One logging rule: counter, the log budget it spends, NFLOG group 7. */
static void log_rule(struct nfr_chain *ch, const char *counter, const char *limit)
{
	struct nfr_rule r = {.counter = strdup(counter),
			     .limit = strdup(limit),
			     .log_prefix = strdup("ww:deny:x"),
			     .log_group = 7};

	ch->rules = realloc(ch->rules, (ch->nrules + 1) * sizeof(*ch->rules));
	assert_non_null(ch->rules);
	ch->rules[ch->nrules++] = r;
}

/* flow/x logs under guest's budget only, flow/y under guest's and lab's (a flow from two
 * zones): x's drops are guest's, y's are shown under "*". */
static void test_drops_by_zone(void **state)
{
	struct nfr_table *t = calloc(1, sizeof(*t));
	struct ww_logacct a = {0};
	struct ww_logdrops d = {.tier = WW_TIER_NFT};
	struct strbuf out = {0};

	assert_non_null(t);
	t->chains = calloc(2, sizeof(*t->chains));
	t->counters = calloc(2, sizeof(*t->counters));
	assert_non_null(t->chains);
	assert_non_null(t->counters);
	t->nchains = t->ncounters = 2;
	t->chains[0].name = strdup("dec-1");
	t->chains[1].name = strdup("dec-2");
	log_rule(&t->chains[0], "flow/x", "log/guest/5");
	log_rule(&t->chains[0], "flow/y", "log/guest/5");
	log_rule(&t->chains[1], "flow/y", "log/lab/5");
	t->counters[0].name = strdup("flow/x");
	t->counters[1].name = strdup("flow/y");
	assert_int_equal(ww_logacct_tick(&a, t, 7, &d), 0); /* the baselines */
	assert_int_equal(d.nbz, 0);
	t->counters[0].packets = 10;
	t->counters[1].packets = 4;
	ww_logacct_received(&a, "flow/x");
	ww_logacct_received(&a, "flow/x");
	assert_int_equal(ww_logacct_tick(&a, t, 7, &d), 0);
	assert_int_equal(d.rate_limited, 12);
	assert_int_equal(d.nbz, 2);
	assert_string_equal(d.by_zone[0].counter, "*");
	assert_int_equal(d.by_zone[0].n, 4);
	assert_string_equal(d.by_zone[1].counter, "guest");
	assert_int_equal(d.by_zone[1].n, 8);
	ww_logdrops_print(&d, true, &out);
	assert_non_null(strstr(sb_str(&out), "\"zones\": {\"*\": 4, \"guest\": 8}}"));
	sb_reset(&out);
	ww_logdrops_print(&d, false, &out);
	assert_non_null(strstr(sb_str(&out), "; over the budget of source zone * 4, guest 8\n"));
	sb_free(&out);
	ww_logdrops_clear(&d);
	ww_logacct_free(&a);
	nfr_table_free(t);
}

UNIT_MAIN(cmocka_unit_test(test_quarantine_names), cmocka_unit_test(test_drops_by_zone))
