// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall alerts [--since TIME] [--json] [--state-dir DIR]: the detectors (detect.h) run again
 * over the events `wardwall serve` recorded (<state dir>/events/events.jsonl and its rotated
 * files, oldest first), with the applied policy's `detect` settings and zones; prints the
 * alerts whose last event is at or after TIME (default: all). Replaying from the oldest record
 * gives the same alerts serve raised, whatever TIME is: new_talker needs what was seen before.
 * With --siem, the printed alerts are also sent to that SIEM output (a backfill); the command
 * waits for their delivery (at most DRAIN_MS) and fails if any is left undelivered.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "detect.h"
#include "evlog.h"
#include "siem.h"
#include "siem_args.h"
#include "state.h"
#include "timeutil.h"

#define DRAIN_MS 15000

struct replay {
	struct ww_detect *det;
	struct ww_siem *siem;
	struct strbuf jline;
	int64_t since_ns;
	bool json;
	size_t printed;
	uint64_t lines, bad;
	struct strbuf out;
	/* What the tiers did not log since since_ns, by tier and source zone (the "zones" of the
	 * recorded "dropped" lines): the detectors never saw it. */
	struct unlogged {
		char tier[16], zone[WW_FLOW_ID_LEN];
		uint64_t n;
	} * unlogged;
	size_t nunlogged, ucap;
};

/* A recorded "dropped" line (events.h, ww_logdrops_print): adds its zones to r->unlogged. */
static void note_dropped(struct replay *r, const char *line)
{
	cJSON *j = cJSON_Parse(line);
	const cJSON *tier = cJSON_GetObjectItemCaseSensitive(j, "tier");
	const cJSON *tm = cJSON_GetObjectItemCaseSensitive(j, "time");
	const cJSON *zones = cJSON_GetObjectItemCaseSensitive(j, "zones"), *z;
	char tb[40], *ms;
	int64_t t;

	/* "2026-11-29T08:39:55.245Z": the milliseconds left out. */
	snprintf(tb, sizeof(tb), "%s", cJSON_IsString(tm) ? tm->valuestring : "");
	if ((ms = strchr(tb, '.')))
		strcpy(ms, "Z");
	if (!cJSON_IsString(tier) || ww_time_parse(tb, &t) || t * 1000000000LL < r->since_ns) {
		cJSON_Delete(j);
		return;
	}
	cJSON_ArrayForEach(z, zones)
	{
		struct unlogged *u = NULL;
		for (size_t i = 0; i < r->nunlogged && !u; i++)
			if (!strcmp(r->unlogged[i].tier, tier->valuestring) &&
			    !strcmp(r->unlogged[i].zone, z->string))
				u = &r->unlogged[i];
		if (!u) {
			struct unlogged x = {0};
			snprintf(x.tier, sizeof(x.tier), "%s", tier->valuestring);
			snprintf(x.zone, sizeof(x.zone), "%s", z->string);
			if (VEC_PUSH(r->unlogged, r->nunlogged, r->ucap, x))
				break;
			u = &r->unlogged[r->nunlogged - 1];
		}
		u->n += cJSON_IsNumber(z) ? (uint64_t)z->valuedouble : 0;
	}
	cJSON_Delete(j);
}

/* What the detectors did not see, on stderr: "nftables: guest 1995; xdp: guest 1997". */
static void print_unlogged(const struct replay *r, const char *since_s)
{
	if (!r->nunlogged)
		return;
	fprintf(stderr,
		"wardwall: alerts: decisions the tiers did not log%s%s (the detectors did "
		"not see them), by the source zone whose log budget refused them:",
		since_s ? " since " : "", since_s ? since_s : "");
	for (size_t i = 0; i < r->nunlogged; i++)
		fprintf(stderr, "%s %s %llu (%s)", i ? "," : "", r->unlogged[i].zone,
			(unsigned long long)r->unlogged[i].n, r->unlogged[i].tier);
	fputc('\n', stderr);
}

static void on_alert(const struct ww_alert *a, void *arg)
{
	struct replay *r = arg;

	if (a->last_ns < r->since_ns)
		return;
	sb_reset(&r->out);
	ww_alert_print(a, r->json, &r->out);
	fputs(sb_str(&r->out), stdout);
	r->printed++;
	if (r->siem) {
		sb_reset(&r->jline);
		sb_reset(&r->out);
		ww_alert_print(a, true, &r->jline);
		ww_alert_print(a, false, &r->out);
		ww_siem_send(r->siem, WW_SIEM_KIND_ALERT, sb_str(&r->jline), sb_str(&r->out));
	}
}

static int on_line(const char *line, void *arg)
{
	struct replay *r = arg;
	struct ww_logrec rec;
	int e = ww_logrec_parse(line, &rec);

	r->lines++;
	if (e == -ENOENT) { /* a "dropped" line */
		note_dropped(r, line);
		return 0;
	}
	if (e) {
		r->bad++;
		return 0;
	}
	ww_detect_feed(r->det, &rec);
	return 0;
}

/* Waits for the replayed alerts' delivery to the SIEM output `to`: -EIO, said, when any is
 * left undelivered. */
static int drain_siem(struct replay *r, const char *to)
{
	struct ww_siem_stats ss;
	uint64_t left = ww_siem_drain(r->siem, DRAIN_MS);

	ww_siem_get_stats(r->siem, 0, &ss);
	if (left || ss.dropped[WW_SIEM_KIND_ALERT]) {
		ww_errorf("alerts: %s: %llu of %zu alerts not delivered (%llu dropped, queue "
			  "full; %llu still queued after %d s; %llu attempts failed)",
			  to, (unsigned long long)(left + ss.dropped[WW_SIEM_KIND_ALERT]),
			  r->printed, (unsigned long long)ss.dropped[WW_SIEM_KIND_ALERT],
			  (unsigned long long)left, DRAIN_MS / 1000,
			  (unsigned long long)ss.failures);
		return -EIO;
	}
	fprintf(stderr, "wardwall: alerts: %llu alert%s sent to %s\n",
		(unsigned long long)ss.sent[WW_SIEM_KIND_ALERT],
		ss.sent[WW_SIEM_KIND_ALERT] == 1 ? "" : "s", to);
	return 0;
}

struct alerts_args {
	struct replay r; /* --json goes straight to the replay */
	const char *since_s, *state_dir;
	struct ww_siem_args sa;
};

static const struct ww_opt alerts_opts[] = {
	WW_FLAG("--json", struct alerts_args, r.json),
	WW_STR("--since", struct alerts_args, since_s, "TIME"),
	WW_STR("--state-dir", struct alerts_args, state_dir, "DIR"),
	WW_SIEM_OPTS(struct alerts_args),
	WW_OPT_END,
};

/* The backfill's SIEM output, if --siem: alerts only (an events-only output would get nothing). */
static int siem_start(struct ww_siem_cfg *siem, struct replay *r)
{
	struct strbuf err = {0};
	int e = 0;

	if (!siem->n)
		return 0;
	siem->v[0].events = false;
	if (!siem->v[0].alerts) {
		ww_errorf("alerts: --siem-send events: alerts sends alerts only");
		return -EINVAL;
	}
	if ((e = ww_siem_start(siem, "alerts", &r->siem, &err)))
		ww_errorf("alerts: %s", sb_str(&err));
	sb_free(&err);
	return e;
}

/* The applied policy (*p, NULL if none) and its detect settings, else the defaults. */
static void applied_detect(struct ww_state *st, struct ww_detect_cfg *cfg, struct ww_policy **p)
{
	struct ww_generation gen;

	ww_detect_cfg_default(cfg);
	if (!ww_state_current(st, &gen) && gen.gen) {
		struct ww_diags d = {.file = "generation"};
		if (!ww_state_policy(st, gen.gen, p, &d))
			*cfg = (*p)->detect;
		ww_diags_free(&d);
	}
	if (!*p)
		fprintf(stderr, "wardwall: alerts: no applied policy: lateral and new_talker need "
				"its zones and stay quiet\n");
}

/* Replays the recorded events of the state directory through the detectors into r. */
static int replay(struct ww_state *st, const struct ww_detect_cfg *cfg, const struct ww_policy *p,
		  struct replay *r)
{
	int e;

	if ((e = ww_detect_new(cfg, on_alert, r, &r->det))) {
		ww_errorf("alerts: %s", strerror(-e));
		return e;
	}
	ww_detect_policy(r->det, p);
	e = ww_evlog_read(ww_state_dir(st), WW_EVLOG_EVENTS, WW_EVLOG_KEEP, on_line, r);
	if (e < 0) {
		ww_errorf("alerts: %s/%s/%s: %s", ww_state_dir(st), WW_EVLOG_DIR, WW_EVLOG_EVENTS,
			  strerror(-e));
		return e;
	}
	ww_detect_tick(r->det, INT64_MAX);
	fflush(stdout);
	return 0;
}

static int cmd_alerts(int argc, char **argv)
{
	struct alerts_args a = {0};
	struct replay *r = &a.r;
	struct ww_siem_cfg siem = {0};
	struct ww_detect_cfg cfg;
	struct ww_policy *p = NULL;
	struct ww_state *st = NULL;
	struct strbuf err = {0};
	int npos, rc = WW_EXIT_USAGE;
	int64_t since = 0;

	if (ww_opts_parse(alerts_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_alerts);
	if (a.since_s && ww_time_arg("--since", a.since_s, &since))
		return WW_EXIT_USAGE;
	r->since_ns = since * 1000000000LL;
	if (ww_siem_args_cfg("alerts", &a.sa, &siem))
		return WW_EXIT_USAGE;
	if (siem_start(&siem, r))
		goto out;
	if (ww_state_open(a.state_dir, false, &st, &err)) {
		ww_errorf("alerts: %s", sb_str(&err));
		goto out;
	}
	applied_detect(st, &cfg, &p);
	if (replay(st, &cfg, p, r) || (r->siem && drain_siem(r, siem.v[0].to)))
		goto out;
	if (!r->lines)
		fprintf(stderr,
			"wardwall: alerts: no recorded events under %s/%s (does `wardwall "
			"serve` run?)\n",
			ww_state_dir(st), WW_EVLOG_DIR);
	print_unlogged(r, a.since_s);
	if (r->bad)
		fprintf(stderr, "wardwall: alerts: %llu recorded line%s could not be read\n",
			(unsigned long long)r->bad, r->bad == 1 ? "" : "s");
	rc = WW_EXIT_OK;
out:
	ww_siem_stop(r->siem);
	ww_siem_cfg_clear(&siem);
	sb_free(&r->jline);
	ww_detect_free(r->det);
	ww_policy_free(p);
	ww_state_close(st);
	sb_free(&err);
	sb_free(&r->out);
	free(r->unlogged);
	return rc;
}

const struct ww_cmd ww_cmd_alerts = {
	"alerts", cmd_alerts,
	"what the detectors raise over the events serve recorded (scan, lateral, new talker, flood)",
	alerts_opts, NULL, NULL,
};
