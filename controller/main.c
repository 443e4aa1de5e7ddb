// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "timeutil.h"

#ifndef WW_VERSION
#define WW_VERSION "0.0.0"
#endif

const struct ww_cmd ww_cmds[] = {
	{"check", cmd_check, "check [--json] [--now TIME] POLICY",
	 "validate and analyse a policy; never touches the kernel"},
	{"query", cmd_query, "query [--json] [--at TIME] POLICY SRC DST PROTO[/PORT]",
	 "what the policy decides for one connection, and why"},
	{"show", cmd_show, "show --canonical POLICY", "print the canonical form of a policy"},
	{NULL, NULL, NULL, NULL},
};

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
	if (ww_time_parse(s, t)) {
		ww_errorf("%s: \"%s\" is not an RFC 3339 time such as 2026-03-10T08:00:00Z", opt, s);
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

static void help(FILE *f)
{
	fprintf(f, "usage: wardwall COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct ww_cmd *c = ww_cmds; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->summary);
	fprintf(f, "\n'wardwall help COMMAND' shows a command's usage. Exit codes: 0 success, "
		   "1 invalid policy, 2 usage or system error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return WW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		printf("wardwall %s\n", WW_VERSION);
		return WW_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2)
			for (const struct ww_cmd *c = ww_cmds; c->name; c++)
				if (!strcmp(c->name, argv[2])) {
					printf("usage: wardwall %s\n  %s\n", c->usage, c->summary);
					return WW_EXIT_OK;
				}
		help(stdout);
		return WW_EXIT_OK;
	}
	for (const struct ww_cmd *c = ww_cmds; c->name; c++)
		if (!strcmp(c->name, argv[1]))
			return c->run(argc - 1, argv + 1);
	ww_errorf("unknown command \"%s\" (see 'wardwall help')", argv[1]);
	return WW_EXIT_USAGE;
}
