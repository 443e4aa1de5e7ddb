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
#include "json.h"
#include "policy.h"
#include "timeutil.h"

/* Set once by main() from the command line, before the command runs (the command line's only
 * process-wide setting): failures are JSON objects on stdout too. */
static bool json_errors;

void ww_cli_json_errors(bool on)
{
	json_errors = on;
}

void ww_error_json(const char *code, const char *message, const char *file, const char *ptr,
		   const struct ww_diags *d)
{
	struct strbuf o = {0};
	struct ww_jw w = {.out = &o, .compact = true};

	if (!json_errors)
		return;
	ww_jw_obj(&w, NULL);
	ww_jw_obj(&w, "error");
	ww_jw_str(&w, "message", message);
	ww_jw_str(&w, "code", code);
	if (file || ptr) {
		ww_jw_obj(&w, "location");
		ww_jw_str(&w, "file", file);
		ww_jw_str(&w, "pointer", ptr);
		ww_jw_end_obj(&w);
	} else {
		ww_jw_null(&w, "location");
	}
	ww_jw_end_obj(&w);
	if (d) { /* the diagnostics as check --json prints them, as the last member */
		sb_add(&o, ", \"diagnostics\": ");
		ww_diags_json(d, &o);
	}
	ww_jw_end_obj(&w);
	fflush(stdout);
	fputs(sb_str(&o), stdout);
	sb_free(&o);
}

void ww_errorf(const char *fmt, ...)
{
	struct strbuf m = {0};
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&m, fmt, ap);
	va_end(ap);
	fprintf(stderr, "wardwall: %s\n", sb_str(&m));
	ww_error_json("error", sb_str(&m), NULL, NULL, NULL);
	sb_free(&m);
}

static const struct ww_opt *opt_find(const struct ww_opt *opts, const char *a, size_t nl)
{
	for (const struct ww_opt *o = opts; o && o->name; o++)
		if (strlen(o->name) == nl && !strncmp(o->name, a, nl))
			return o;
	return NULL;
}

/* Stores one option's value (v: NULL for a flag) in out. */
static int opt_set(const struct ww_opt *o, void *out, const char *v, int argc)
{
	char *m = (char *)out + o->off;

	switch (o->type) {
	case WW_OPT_FLAG:
		*(bool *)m = true;
		return 0;
	case WW_OPT_STR:
		*(const char **)m = v;
		return 0;
	case WW_OPT_LIST: {
		struct ww_strlist *l = (struct ww_strlist *)m;
		/* A list never holds more values than argv has words. */
		if (!l->v && !(l->v = calloc((size_t)argc, sizeof(*l->v))))
			return -ENOMEM;
		l->v[l->n++] = v;
		return 0;
	}
	}
	return -EINVAL;
}

/* Every required option was given. */
static int opts_required(const struct ww_opt *opts, const void *out, const char *cmd)
{
	for (const struct ww_opt *o = opts; o && o->name; o++) {
		const char *m = (const char *)out + o->off;
		bool given = o->type == WW_OPT_FLAG   ? *(const bool *)m
			     : o->type == WW_OPT_STR ? *(const char *const *)m != NULL
						     : ((const struct ww_strlist *)m)->n > 0;
		if (o->required && !given) {
			ww_errorf("%s: %s is required", cmd, o->name);
			return -EINVAL;
		}
	}
	return 0;
}

int ww_opts_parse(const struct ww_opt *opts, int argc, char **argv, void *out, char **pos,
		  int maxpos, int *npos)
{
	bool rest = false;

	*npos = 0;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
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
		const struct ww_opt *o = opt_find(opts, a, nl);
		if (!o) {
			ww_errorf("%s: unknown option \"%.*s\"", argv[0], (int)nl, a);
			return -EINVAL;
		}
		if (o->type == WW_OPT_FLAG && eq) {
			ww_errorf("%s: %s takes no argument", argv[0], o->name);
			return -EINVAL;
		}
		if (o->type != WW_OPT_FLAG) {
			if (eq) {
				v = eq + 1;
			} else if (i + 1 < argc) {
				v = argv[++i];
			} else {
				ww_errorf("%s: %s needs an argument", argv[0], o->name);
				return -EINVAL;
			}
		}
		if (opt_set(o, out, v, argc)) {
			ww_errorf("%s: out of memory", argv[0]);
			return -ENOMEM;
		}
	}
	return opts_required(opts, out, argv[0]);
}

void ww_opts_free(const struct ww_opt *opts, void *out)
{
	for (const struct ww_opt *o = opts; o && o->name; o++)
		if (o->type == WW_OPT_LIST) {
			struct ww_strlist *l = (struct ww_strlist *)((char *)out + o->off);
			free(l->v);
			memset(l, 0, sizeof(*l));
		}
}

static void usage_form(const char *prefix, const struct ww_cmd *c, struct strbuf *out)
{
	sb_addf(out, "%s%s", prefix, c->name);
	for (const struct ww_opt *o = c->opts; o && o->name; o++) {
		const char *open = o->required ? "" : "[", *close = o->required ? "" : "]";
		if (o->type == WW_OPT_FLAG)
			sb_addf(out, " %s%s%s", open, o->name, close);
		else
			sb_addf(out, " %s%s %s%s%s", open, o->name, o->metavar, close,
				o->type == WW_OPT_LIST ? "..." : "");
	}
	if (c->args && *c->args)
		sb_addf(out, " %s", c->args);
}

void ww_usage_line(const struct ww_cmd *cmd, struct strbuf *out)
{
	sb_add(out, "usage: wardwall ");
	if (!cmd->verbs) {
		usage_form("", cmd, out);
	} else {
		char *prefix = xstrdup_printf("%s ", cmd->name);
		for (const struct ww_cmd *v = cmd->verbs; v->name; v++) {
			if (v != cmd->verbs)
				sb_add(out, " | ");
			usage_form(prefix ? prefix : "", v, out);
		}
		free(prefix);
	}
	sb_add(out, "\n");
}

int ww_usage(const struct ww_cmd *cmd)
{
	struct strbuf sb = {0};

	ww_usage_line(cmd, &sb);
	fputs(sb_str(&sb), stderr);
	/* With --json, the usage line is the error object's message (without its line break). */
	if (sb.len)
		sb.s[sb.len - 1] = '\0';
	ww_error_json("usage", sb_str(&sb), NULL, NULL, NULL);
	sb_free(&sb);
	return WW_EXIT_USAGE;
}

int ww_verbs_run(const struct ww_cmd *cmd, int argc, char **argv)
{
	struct strbuf names = {0};

	for (const struct ww_cmd *v = cmd->verbs; argc >= 2 && v->name; v++)
		if (!strcmp(argv[1], v->name))
			return v->run(argc - 1, argv + 1);
	if (argc >= 2) {
		for (const struct ww_cmd *v = cmd->verbs; v->name; v++)
			sb_addf(&names, "%s%s", v == cmd->verbs ? "" : ", ", v->name);
		ww_errorf("%s: unknown verb \"%s\" (%s)", cmd->name, argv[1], sb_str(&names));
		sb_free(&names);
	}
	return ww_usage(cmd);
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

int ww_load_valid_text(const char *path, const char *text, size_t len, int64_t now,
		       struct ww_policy **out, char **diags)
{
	struct ww_diags d = {.file = path};
	struct ww_policy *p = NULL;
	struct strbuf msg = {0};
	int err, rc = WW_EXIT_OK;

	err = text ? ww_policy_parse(path, text, len, &d, &p) : ww_policy_load(path, &d, &p);
	if (!err)
		err = ww_analyse(p, now, &d, NULL);
	ww_diags_sort(&d);
	ww_diags_print(&d, &msg);
	fputs(sb_str(&msg), stderr);
	if (diags)
		*diags = strdup(sb_str(&msg));
	if (err == -EINVAL || d.nerrors) {
		char *m = xstrdup_printf("%s: invalid policy: %zu error%s (see 'wardwall check')",
					 path, d.nerrors, d.nerrors == 1 ? "" : "s");
		const char *ptr = NULL;
		for (size_t i = 0; i < d.n && !ptr; i++)
			if (d.v[i].sev == WW_ERROR)
				ptr = d.v[i].ptr;
		fprintf(stderr, "wardwall: %s\n", m ? m : path);
		ww_error_json("invalid-policy", m ? m : path, path, ptr, &d);
		free(m);
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

int ww_load_valid(const char *path, struct ww_policy **out)
{
	return ww_load_valid_text(path, NULL, 0, ww_now(), out, NULL);
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
