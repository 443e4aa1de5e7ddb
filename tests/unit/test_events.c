// SPDX-License-Identifier: GPL-2.0-only
/* events.c: a quarantine's drops are named alike in both tiers ("quarantine/q<id>"). */
#include <stdlib.h>

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

UNIT_MAIN(cmocka_unit_test(test_quarantine_names))
