// SPDX-License-Identifier: GPL-2.0-only
/* Helpers every subcommand shares: options, messages, times, loading a policy. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyse.h"
#include "cli.h"
#include "intent.h"
#include "policy.h"
#include "timeutil.h"

void ww_errorf(const char *fmt, ...)
{
	va_list ap;

	fputs("wardwall: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int ww_opts_parse(int argc, char **argv, const struct ww_opt *opts, char **pos, int maxpos,
		  int *npos)
{
	bool rest = false;

	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (rest || a[0] != '-' || !a[1]) {
			if (*npos >= maxpos) {
				ww_errorf("%s: unexpected argument \"%s\"", argv[0], a);
				return -EINVAL;
			}
			pos[(*npos)++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--")) {
			rest = true;
			continue;
		}
		const char *eq = strchr(a, '=');
		size_t nl = eq ? (size_t)(eq - a) : strlen(a);
		const struct ww_opt *o = opts;
		for (; o && o->name; o++)
			if (strlen(o->name) == nl && !strncmp(o->name, a, nl))
				break;
		if (!o || !o->name) {
			ww_errorf("%s: unknown option \"%.*s\"", argv[0], (int)nl, a);
			return -EINVAL;
		}
		if (!o->arg) {
			if (eq) {
				ww_errorf("%s: %s takes no argument", argv[0], o->name);
				return -EINVAL;
			}
			*o->flag = true;
		} else if (eq) {
			*o->arg = eq + 1;
		} else if (i + 1 < argc) {
			*o->arg = argv[++i];
		} else {
			ww_errorf("%s: %s needs an argument", argv[0], o->name);
			return -EINVAL;
		}
	}
	return 0;
}

int ww_usage(const char *cmd)
{
	for (const struct ww_cmd *c = ww_cmds; c->name; c++)
		if (!strcmp(c->name, cmd))
			fprintf(stderr, "usage: wardwall %s\n", c->usage);
	return WW_EXIT_USAGE;
}

int ww_time_arg(const char *opt, const char *s, int64_t *t)
{
	if (!strcmp(s, "now")) {
		*t = (int64_t)time(NULL);
		return 0;
	}
	const char *given = s;
	char day[32];
	unsigned y, m, d;
	char end;

	/* A bare date is that day's start, UTC (a review "since 2026-01-01"). */
	if (strlen(s) == 10 && sscanf(s, "%4u-%2u-%2u%c", &y, &m, &d, &end) == 3) {
		snprintf(day, sizeof(day), "%sT00:00:00Z", s);
		s = day;
	}
	if (ww_time_parse(s, t)) {
		ww_errorf("%s: \"%s\" is not a date or time: write an RFC 3339 time such as "
			  "2026-03-10T08:00Z or 2026-03-10T09:00+01:00, a date such as 2026-03-10 "
			  "(its start, UTC), or \"now\"",
			  opt, given);
		return -EINVAL;
	}
	return 0;
}

int64_t ww_now(void)
{
	const char *env = getenv("WARDWALL_NOW");
	int64_t t;

	if (env && *env && !ww_time_parse(env, &t))
		return t;
	return (int64_t)time(NULL);
}

int ww_load_valid(const char *path, struct ww_policy **out)
{
	struct ww_diags d = {.file = path};
	struct ww_policy *p = NULL;
	struct strbuf msg = {0};
	int err, rc = WW_EXIT_OK;

	err = ww_policy_load(path, &d, &p);
	if (!err)
		err = ww_analyse(p, ww_now(), &d, NULL);
	ww_diags_sort(&d);
	ww_diags_print(&d, &msg);
	fputs(sb_str(&msg), stderr);
	if (err == -EINVAL || d.nerrors) {
		ww_errorf("%s: invalid policy: %zu error%s (see 'wardwall check')", path, d.nerrors,
			  d.nerrors == 1 ? "" : "s");
		rc = WW_EXIT_INVALID;
	} else if (err) {
		ww_errorf("%s: %s", path, strerror(-err));
		rc = WW_EXIT_USAGE;
	}
	sb_free(&msg);
	ww_diags_free(&d);
	if (rc)
		ww_policy_free(p);
	else
		*out = p;
	return rc;
}

void ww_recovery_say(const struct ww_recovery *rec)
{
	const struct ww_intent *in = &rec->intent;

	if (!rec->found)
		return;
	if (rec->finished)
		ww_errorf("finished the %s of generation %lu that was interrupted (pid %d): generation "
			  "%lu is current",
			  in->action, in->gen, in->pid, rec->gen);
	else if (rec->undone)
		ww_errorf("could not finish the %s of generation %lu that was interrupted (pid %d): "
			  "undone, generation %lu is current",
			  in->action, in->gen, in->pid, rec->gen);
}

void ww_cli_recover(const char *state_dir, const char *bpffs)
{
	struct ww_recovery rec;
	struct strbuf err = {0};

	if (ww_recover(state_dir, bpffs, &rec, &err))
		ww_errorf("warning: %s", sb_str(&err));
	else
		ww_recovery_say(&rec);
	sb_free(&err);
}
