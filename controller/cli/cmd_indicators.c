// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall indicators export [--since TIME] [--until TIME] [--format stix|csv]
 *                            [--identity NAME] [--out FILE] [--state-dir DIR]
 * The alerts `wardwall serve` recorded (<state dir>/events/alerts.jsonl) whose events fall in
 * the window, as a STIX 2.1 bundle or CSV for the sector's CSIRT or ISAC (stix.h,
 * docs/indicators.md). The identity is the reporting organisation: by default the applied
 * policy's name.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "evlog.h"
#include "state.h"
#include "stix.h"

struct collect {
	int64_t from_ns, to_ns;
	struct ww_alert *v;
	size_t n, cap;
	uint64_t bad;
};

static int on_line(const char *line, void *arg)
{
	struct collect *c = arg;
	struct ww_alert a;

	if (ww_alert_parse(line, &a)) {
		c->bad++;
		return 0;
	}
	if (a.last_ns < c->from_ns || a.first_ns > c->to_ns)
		return 0;
	return VEC_PUSH(c->v, c->n, c->cap, a);
}

/* The reporting organisation without --identity: the applied policy's name (*p holds that
 * policy), else the host name (in host). */
static const char *default_identity(struct ww_state *st, struct ww_policy **p, char *host,
				    size_t hostlen)
{
	struct ww_generation gen;

	if (!ww_state_current(st, &gen) && gen.gen) {
		struct ww_diags d = {.file = "generation"};
		int e = ww_state_policy(st, gen.gen, p, &d);
		ww_diags_free(&d);
		if (!e && (*p)->name)
			return (*p)->name;
	}
	gethostname(host, hostlen - 1);
	return host;
}

struct indicators_args {
	const char *since_s, *until_s, *format, *identity, *out, *sd;
};

static const struct ww_opt indicators_opts[] = {
	WW_STR("--since", struct indicators_args, since_s, "TIME"),
	WW_STR("--until", struct indicators_args, until_s, "TIME"),
	WW_STR("--format", struct indicators_args, format, "stix|csv"),
	WW_STR("--identity", struct indicators_args, identity, "NAME"),
	WW_STR("--out", struct indicators_args, out, "FILE"),
	WW_STR("--state-dir", struct indicators_args, sd, "DIR"),
	WW_OPT_END,
};

static int cmd_indicators(int argc, char **argv)
{
	struct indicators_args a = {.format = "stix"};
	char *pos[1];
	struct collect c = {.to_ns = INT64_MAX};
	struct ww_state *st = NULL;
	struct ww_policy *p = NULL;
	struct strbuf err = {0}, sb = {0};
	char host[256] = "";
	int npos, e, rc = WW_EXIT_USAGE;
	int64_t t;

	if (ww_opts_parse(indicators_opts, argc, argv, &a, pos, 1, &npos))
		return ww_usage(&ww_cmd_indicators);
	if (npos != 1 || strcmp(pos[0], "export")) {
		ww_errorf("indicators: the subcommand is export");
		return ww_usage(&ww_cmd_indicators);
	}
	if (strcmp(a.format, "stix") && strcmp(a.format, "csv")) {
		ww_errorf("indicators export: --format takes stix or csv, not \"%s\"", a.format);
		return WW_EXIT_USAGE;
	}
	if (a.since_s) {
		if (ww_time_arg("--since", a.since_s, &t))
			return WW_EXIT_USAGE;
		c.from_ns = t * 1000000000LL;
	}
	if (a.until_s) {
		if (ww_time_arg("--until", a.until_s, &t))
			return WW_EXIT_USAGE;
		c.to_ns = t * 1000000000LL + 999999999LL;
	}
	if (ww_state_open(a.sd, false, &st, &err)) {
		ww_errorf("indicators export: %s", sb_str(&err));
		goto out;
	}
	e = ww_evlog_read(ww_state_dir(st), WW_EVLOG_ALERTS, WW_EVLOG_KEEP, on_line, &c);
	if (e) {
		ww_errorf("indicators export: %s/%s/%s: %s", ww_state_dir(st), WW_EVLOG_DIR,
			  WW_EVLOG_ALERTS, strerror(e < 0 ? -e : ENOMEM));
		goto out;
	}
	if (c.bad)
		ww_errorf(
		    "indicators export: warning: %llu recorded alert line%s could not be read",
		    (unsigned long long)c.bad, c.bad == 1 ? "" : "s");
	if (!a.identity)
		a.identity = default_identity(st, &p, host, sizeof(host));
	if (!strcmp(a.format, "csv")) {
		ww_indicators_csv(c.v, c.n, &sb);
	} else {
		struct ww_stix_opts so = {.identity = a.identity, .now = ww_now()};
		if ((e = ww_stix_bundle(c.v, c.n, &so, &sb))) {
			ww_errorf("indicators export: %s", strerror(-e));
			goto out;
		}
	}
	if (a.out) {
		if ((e = write_file_atomic(a.out, sb.s, sb.len, 0644))) {
			ww_errorf("indicators export: %s: %s", a.out, strerror(-e));
			goto out;
		}
		fprintf(stderr,
			"wardwall: indicators export: %zu alert%s as %s into %s (identity "
			"\"%s\")\n",
			c.n, c.n == 1 ? "" : "s", a.format, a.out, a.identity);
	} else {
		fputs(sb_str(&sb), stdout);
	}
	rc = WW_EXIT_OK;
out:
	free(c.v);
	ww_policy_free(p);
	ww_state_close(st);
	sb_free(&err);
	sb_free(&sb);
	return rc;
}

const struct ww_cmd ww_cmd_indicators = {
	"indicators", cmd_indicators,
	"the recorded alerts as STIX 2.1 or CSV indicators for the sector's CSIRT or ISAC",
	indicators_opts, "export", NULL,
};
