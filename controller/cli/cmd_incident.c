// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall incident open --title TEXT [--aware TIME] [--since TIME]
 * wardwall incident close [ID]
 * wardwall incident list [--json]
 * wardwall incident report --stage early-warning|notification|final [--id ID] [--out DIR]
 *                          [--key FILE] [--json]
 * (each with [--state-dir DIR]): NIS2 Art. 23 incident records and the drafts of their
 * reports (incident.h, docs/nis2-incident.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "evidence.h"
#include "incident.h"
#include "state.h"
#include "timeutil.h"

static int state_dir_of(const char *arg, struct ww_state **st, const char *what)
{
	struct strbuf err = {0};
	int e = ww_state_open(arg, false, st, &err);

	if (e)
		ww_errorf("incident %s: %s", what, sb_str(&err));
	sb_free(&err);
	return e;
}

static void say_incident(const struct ww_incident *inc, bool json)
{
	char a[40], b[40], c[40];

	if (json) {
		struct strbuf sb = {0};
		printf("{\"id\": \"%s\", \"title\": ", inc->id);
		sb_add_json_str(&sb, inc->title);
		printf("%s, \"aware\": \"%s\", \"since\": \"%s\", \"closed\": %s%s%s}\n",
		       sb_str(&sb), ww_time_str(inc->aware, a), ww_time_str(inc->since, b),
		       inc->closed ? "\"" : "", inc->closed ? ww_time_str(inc->closed, c) : "null",
		       inc->closed ? "\"" : "");
		sb_free(&sb);
		return;
	}
	printf("%-8s %-6s aware %s, window from %s%s%s: %s\n", inc->id,
	       inc->closed ? "closed" : "open", ww_time_str(inc->aware, a),
	       ww_time_str(inc->since, b), inc->closed ? " to " : "",
	       inc->closed ? ww_time_str(inc->closed, c) : "", inc->title);
}

struct inc_open_args {
	bool json;
	const char *title, *aware_s, *since_s, *sd;
};

static const struct ww_opt inc_open_opts[] = {
	WW_STR("--title", struct inc_open_args, title, "TEXT"),
	WW_STR("--aware", struct inc_open_args, aware_s, "TIME"),
	WW_STR("--since", struct inc_open_args, since_s, "TIME"),
	WW_STR("--state-dir", struct inc_open_args, sd, "DIR"),
	WW_FLAG("--json", struct inc_open_args, json),
	WW_OPT_END,
};

static int inc_open(int argc, char **argv)
{
	struct inc_open_args a = {0};
	struct ww_state *st = NULL;
	struct ww_incident inc;
	struct strbuf err = {0};
	int64_t aware = ww_now(), since;
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(inc_open_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_incident);
	if (!a.title || !*a.title) {
		ww_errorf("incident open: --title TEXT is required");
		return WW_EXIT_USAGE;
	}
	if ((a.aware_s && ww_time_arg("--aware", a.aware_s, &aware)))
		return WW_EXIT_USAGE;
	since = aware;
	if (a.since_s && ww_time_arg("--since", a.since_s, &since))
		return WW_EXIT_USAGE;
	if (since > aware) {
		ww_errorf("incident open: --since %s is after --aware: the window must include the "
			  "moment of awareness",
			  a.since_s);
		return WW_EXIT_USAGE;
	}
	if (state_dir_of(a.sd, &st, "open"))
		return WW_EXIT_USAGE;
	if (ww_incident_open(ww_state_dir(st), a.title, aware, since, &inc, &err)) {
		ww_errorf("incident open: %s", sb_str(&err));
	} else {
		char d[40];
		say_incident(&inc, a.json);
		if (!a.json)
			printf(
			    "early warning due by %s (24 h), notification by %s (72 h): wardwall "
			    "incident report --stage early-warning\n",
			    ww_time_str(aware + 24 * 3600, d),
			    ww_time_str(aware + 72 * 3600, (char[40]){0}));
		ww_incident_clear(&inc);
		rc = WW_EXIT_OK;
	}
	ww_state_close(st);
	sb_free(&err);
	return rc;
}

struct inc_close_args {
	const char *sd;
};

static const struct ww_opt inc_close_opts[] = {
	WW_STR("--state-dir", struct inc_close_args, sd, "DIR"),
	WW_OPT_END,
};

static int inc_close(int argc, char **argv)
{
	char *pos[1];
	struct inc_close_args a = {0};
	struct ww_state *st = NULL;
	struct ww_incident inc;
	struct strbuf err = {0};
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(inc_close_opts, argc, argv, &a, pos, 1, &npos))
		return ww_usage(&ww_cmd_incident);
	if (state_dir_of(a.sd, &st, "close"))
		return WW_EXIT_USAGE;
	if (ww_incident_close(ww_state_dir(st), npos ? pos[0] : NULL, ww_now(), &inc, &err)) {
		ww_errorf("incident close: %s", sb_str(&err));
	} else {
		say_incident(&inc, false);
		ww_incident_clear(&inc);
		rc = WW_EXIT_OK;
	}
	ww_state_close(st);
	sb_free(&err);
	return rc;
}

struct inc_list_args {
	bool json;
	const char *sd;
};

static const struct ww_opt inc_list_opts[] = {
	WW_STR("--state-dir", struct inc_list_args, sd, "DIR"),
	WW_FLAG("--json", struct inc_list_args, json),
	WW_OPT_END,
};

static int inc_list(int argc, char **argv)
{
	struct inc_list_args a = {0};
	struct ww_state *st = NULL;
	struct ww_incident *v = NULL;
	struct strbuf err = {0};
	size_t n = 0;
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(inc_list_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_incident);
	if (state_dir_of(a.sd, &st, "list"))
		return WW_EXIT_USAGE;
	if (ww_incident_list(ww_state_dir(st), &v, &n, &err)) {
		ww_errorf("incident list: %s", sb_str(&err));
	} else {
		for (size_t i = 0; i < n; i++)
			say_incident(&v[i], a.json);
		rc = WW_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		ww_incident_clear(&v[i]);
	free(v);
	ww_state_close(st);
	sb_free(&err);
	return rc;
}

struct inc_report_args {
	bool json;
	const char *stage_s, *id, *out, *key, *sd;
};

static const struct ww_opt inc_report_opts[] = {
	WW_STR("--stage", struct inc_report_args, stage_s, "early-warning|notification|final"),
	WW_STR("--id", struct inc_report_args, id, "ID"),
	WW_STR("--out", struct inc_report_args, out, "DIR"),
	WW_STR("--key", struct inc_report_args, key, "FILE"),
	WW_STR("--state-dir", struct inc_report_args, sd, "DIR"),
	WW_FLAG("--json", struct inc_report_args, json),
	WW_OPT_END,
};

static int inc_report(int argc, char **argv)
{
	struct inc_report_args a = {0};
	struct ww_state *st = NULL;
	struct ww_incident inc = {0};
	struct ww_inc_report r = {0};
	struct strbuf err = {0}, sb = {0};
	uint8_t sk[WW_EV_SK_BYTES];
	char *keyp = NULL, *outp = NULL, sha[65], d[40];
	int npos, stage = -1, rc = WW_EXIT_USAGE;
	bool built = false;

	if (ww_opts_parse(inc_report_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_incident);
	for (int i = 0; a.stage_s && i < WW_INC_STAGES; i++)
		if (!strcmp(a.stage_s, ww_inc_stage_names[i]))
			stage = i;
	if (stage < 0) {
		ww_errorf(
		    "incident report: --stage takes early-warning, notification or final%s%s%s",
		    a.stage_s ? ", not \"" : "", a.stage_s ? a.stage_s : "", a.stage_s ? "\"" : "");
		return WW_EXIT_USAGE;
	}
	if (state_dir_of(a.sd, &st, "report"))
		return WW_EXIT_USAGE;
	keyp = a.key ? strdup(a.key) : xstrdup_printf("%s/keys/evidence.key", ww_state_dir(st));
	if (!keyp || ww_ev_key_load(keyp, sk, &err)) {
		ww_errorf("incident report: %s (a report is signed with the evidence key: wardwall "
			  "evidence keygen)",
			  err.len ? sb_str(&err) : strerror(ENOMEM));
		goto out;
	}
	if (ww_incident_get(ww_state_dir(st), a.id, &inc, &err)) {
		ww_errorf("incident report: %s", sb_str(&err));
		goto out;
	}
	if (ww_inc_report_build(ww_state_dir(st), &inc, (enum ww_inc_stage)stage, ww_now(), &r,
				&err)) {
		ww_errorf("incident report: %s", sb_str(&err));
		goto out;
	}
	built = true;
	outp = a.out ? strdup(a.out)
		   : xstrdup_printf("%s/%s/%s/%lu-%s", ww_state_dir(st), WW_INC_DIR, inc.id, r.seq,
				    ww_inc_stage_names[stage]);
	if (!outp || ww_inc_report_write(ww_state_dir(st), &r, sk, outp, sha, &err)) {
		ww_errorf("incident report: %s", err.len ? sb_str(&err) : strerror(ENOMEM));
		goto out;
	}
	if (a.json) {
		ww_inc_report_json(&r, &sb);
		fputs(sb_str(&sb), stdout);
	} else {
		printf("wrote %s: incident.json, incident.html (DRAFT %s %lu of %s, due by %s)\n",
		       outp, ww_inc_stage_names[stage], r.seq, inc.id, ww_time_str(r.deadline, d));
		printf(
		    "  %zu alert%s, %llu logged events (%llu not logged), %zu denied source%s, %zu "
		    "quarantine event%s, %zu generation%s applied, %zu evidence bundle%s\n",
		    r.nalerts, r.nalerts == 1 ? "" : "s", (unsigned long long)r.events,
		    (unsigned long long)r.not_logged, r.sources_total,
		    r.sources_total == 1 ? "" : "s", r.nquars, r.nquars == 1 ? "" : "s", r.ngens,
		    r.ngens == 1 ? "" : "s", r.nbundles, r.nbundles == 1 ? "" : "s");
		printf("  manifest sha256 %s, signed by key %s; verify: wardwall evidence verify "
		       "%s\n",
		       sha, r.key_sha256, outp);
		printf(
		    "  to be completed by a person before it is submitted: see \"to_complete\"\n");
	}
	rc = WW_EXIT_OK;
out:
	if (built)
		ww_inc_report_free(&r);
	ww_incident_clear(&inc);
	ww_state_close(st);
	free(keyp);
	free(outp);
	sb_free(&err);
	sb_free(&sb);
	return rc;
}

/* The verbs, in the order the usage line shows them. */
static const struct ww_cmd verbs[] = {
	{"open", inc_open, NULL, inc_open_opts, NULL, NULL},
	{"close", inc_close, NULL, inc_close_opts, "[ID]", NULL},
	{"list", inc_list, NULL, inc_list_opts, NULL, NULL},
	{"report", inc_report, NULL, inc_report_opts, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL},
};

static int cmd_incident(int argc, char **argv)
{
	return ww_verbs_run(&ww_cmd_incident, argc, argv);
}

const struct ww_cmd ww_cmd_incident = {
	"incident", cmd_incident,
	"NIS2 Art. 23 incident records; drafts of the 24 h, 72 h and final reports, signed", NULL,
	NULL, verbs,
};
