// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall alerts [--since TIME] [--json] [--state-dir DIR]: the detectors (detect.h) run again
 * over the events `wardwall serve` recorded (<state dir>/events/events.jsonl and its rotated
 * files, oldest first), with the applied policy's `detect` settings and zones; prints the
 * alerts whose last event is at or after TIME (default: all). Replaying from the oldest record
 * gives the same alerts serve raised, whatever TIME is: new_talker needs what was seen before.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "evlog.h"
#include "state.h"

struct replay {
	struct ww_detect *det;
	int64_t since_ns;
	bool json;
	size_t printed;
	uint64_t lines, bad;
	struct strbuf out;
};

static void on_alert(const struct ww_alert *a, void *arg)
{
	struct replay *r = arg;

	if (a->last_ns < r->since_ns)
		return;
	sb_reset(&r->out);
	ww_alert_print(a, r->json, &r->out);
	fputs(sb_str(&r->out), stdout);
	r->printed++;
}

static int on_line(const char *line, void *arg)
{
	struct replay *r = arg;
	struct ww_logrec rec;
	int e = ww_logrec_parse(line, &rec);

	r->lines++;
	if (e == -ENOENT) /* a "dropped" line */
		return 0;
	if (e) {
		r->bad++;
		return 0;
	}
	ww_detect_feed(r->det, &rec);
	return 0;
}

int cmd_alerts(int argc, char **argv)
{
	const char *state_dir = NULL, *since_s = NULL;
	struct replay r = {0};
	struct ww_opt opts[] = {{"--json", NULL, &r.json},
				{"--since", &since_s, NULL},
				{"--state-dir", &state_dir, NULL},
				{NULL, NULL, NULL}};
	struct ww_detect_cfg cfg;
	struct ww_policy *p = NULL;
	struct ww_state *st = NULL;
	struct strbuf err = {0};
	int npos, e, rc = WW_EXIT_USAGE;
	int64_t since = 0;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos))
		return ww_usage("alerts");
	if (since_s && ww_time_arg("--since", since_s, &since))
		return WW_EXIT_USAGE;
	r.since_ns = since * 1000000000LL;
	ww_detect_cfg_default(&cfg);
	if (ww_state_open(state_dir, false, &st, &err)) {
		ww_errorf("alerts: %s", sb_str(&err));
		goto out;
	}
	struct ww_generation gen;
	if (!ww_state_current(st, &gen) && gen.gen) {
		struct ww_diags d = {.file = "generation"};
		if (!ww_state_policy(st, gen.gen, &p, &d))
			cfg = p->detect;
		ww_diags_free(&d);
	}
	if (!p)
		fprintf(stderr, "wardwall: alerts: no applied policy: lateral and new_talker need "
				"its zones and stay quiet\n");
	if ((e = ww_detect_new(&cfg, on_alert, &r, &r.det))) {
		ww_errorf("alerts: %s", strerror(-e));
		goto out;
	}
	ww_detect_policy(r.det, p);
	e = ww_evlog_read(ww_state_dir(st), WW_EVLOG_EVENTS, WW_EVLOG_KEEP, on_line, &r);
	if (e < 0) {
		ww_errorf("alerts: %s/%s/%s: %s", ww_state_dir(st), WW_EVLOG_DIR, WW_EVLOG_EVENTS,
			  strerror(-e));
		goto out;
	}
	ww_detect_tick(r.det, INT64_MAX);
	fflush(stdout);
	if (!r.lines)
		fprintf(stderr,
			"wardwall: alerts: no recorded events under %s/%s (does `wardwall "
			"serve` run?)\n",
			ww_state_dir(st), WW_EVLOG_DIR);
	if (r.bad)
		fprintf(stderr, "wardwall: alerts: %llu recorded line%s could not be read\n",
			(unsigned long long)r.bad, r.bad == 1 ? "" : "s");
	rc = WW_EXIT_OK;
out:
	ww_detect_free(r.det);
	ww_policy_free(p);
	ww_state_close(st);
	sb_free(&err);
	sb_free(&r.out);
	return rc;
}
