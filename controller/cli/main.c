// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <linux/capability.h>

#include "cli.h"
#include "json.h"
#include "util.h"

/* libbpf's own warnings (a probe that needs CAP_BPF, ...) only with WARDWALL_DEBUG: wardwall
 * says what failed itself; the XDP loader collects the verifier's log on its own. */
static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return getenv("WARDWALL_DEBUG") ? vfprintf(stderr, fmt, ap) : 0;
}

/* The commands that read or write the kernel, for the hint after a failure without rights. */
static bool kernel_cmd(const char *name)
{
	static const char *const k[] = {"show",   "plan",  "apply",  "rollback", "remove",
					"stats",  "metrics", "serve", "events",  "evidence"};

	for (size_t i = 0; i < ARRAY_SIZE(k); i++)
		if (!strcmp(name, k[i]))
			return true;
	return false;
}

#ifndef WW_VERSION
#define WW_VERSION "0.0.0"
#endif

const struct ww_cmd *const ww_cmds[] = {
	&ww_cmd_check,	    &ww_cmd_query,     &ww_cmd_render,	 &ww_cmd_show,	  &ww_cmd_plan,
	&ww_cmd_apply,	    &ww_cmd_confirm,   &ww_cmd_rollback, &ww_cmd_restore, &ww_cmd_stats,
	&ww_cmd_metrics,    &ww_cmd_serve,     &ww_cmd_events,	 &ww_cmd_alerts,  &ww_cmd_incident,
	&ww_cmd_indicators, &ww_cmd_learn,     &ww_cmd_evidence, &ww_cmd_quarantine,
	&ww_cmd_publish,    &ww_cmd_agent,     &ww_cmd_fleet,	 &ww_cmd_remove,  &ww_cmd_doctor,
	NULL,
};

static void help(FILE *f)
{
	fprintf(f, "usage: wardwall COMMAND [OPTIONS]\n\ncommands:\n");
	for (const struct ww_cmd *const *c = ww_cmds; *c; c++)
		fprintf(f, "  %-10s %s\n", (*c)->name, (*c)->summary);
	fprintf(f, "\n'wardwall help COMMAND' shows a command's usage. Exit codes: 0 success, "
		   "1 invalid policy, 2 usage or system error, 3 the kernel changed but recording it "
		   "failed.\n");
}

static const struct ww_cmd *find_cmd(const char *name)
{
	for (const struct ww_cmd *const *c = ww_cmds; *c; c++)
		if (!strcmp((*c)->name, name))
			return *c;
	return NULL;
}

/* The usage line and summary on stdout: asked for, so not an error. */
static int print_help(const struct ww_cmd *c)
{
	struct strbuf sb = {0};

	ww_usage_line(c, &sb);
	printf("%s  %s\n", sb_str(&sb), c->summary);
	sb_free(&sb);
	return WW_EXIT_OK;
}

/* --version --json: WW_VERSION is "<release> <commit>". */
static void version_json(void)
{
	char release[32];
	const char *sp = strchr(WW_VERSION, ' ');
	struct strbuf o = {0};
	struct ww_jw w = {.out = &o, .compact = true};

	snprintf(release, sizeof(release), "%.*s",
		 sp ? (int)(sp - WW_VERSION) : (int)strlen(WW_VERSION), WW_VERSION);
	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "version", release);
	ww_jw_str(&w, "commit", sp ? sp + 1 : "");
	ww_jw_end_obj(&w);
	fputs(sb_str(&o), stdout);
	sb_free(&o);
}

int main(int argc, char **argv)
{
	const struct ww_cmd *c;

	if (argc < 2) {
		help(stderr);
		return WW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
		if (argc > 2 && !strcmp(argv[2], "--json"))
			version_json();
		else
			printf("wardwall %s\n", WW_VERSION);
		return WW_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc == 2) {
			help(stdout);
			return WW_EXIT_OK;
		}
		c = find_cmd(argv[2]);
		if (!c) {
			ww_errorf("help: unknown command \"%s\" (see 'wardwall help')", argv[2]);
			return WW_EXIT_USAGE;
		}
		return print_help(c);
	}
	c = find_cmd(argv[1]);
	if (!c) {
		ww_errorf("unknown command \"%s\" (see 'wardwall help')", argv[1]);
		return WW_EXIT_USAGE;
	}
	/* With --json, failures are JSON objects on stdout too (before the options are parsed:
	 * a usage error is one). */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--json"))
			ww_cli_json_errors(true);
	/* `wardwall apply --help` as well as `wardwall help apply` */
	for (int i = 2; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
			return print_help(c);
	libbpf_set_print(libbpf_quiet);
	int rc = c->run(argc - 1, argv + 1);
	bool net = ww_has_cap(CAP_NET_ADMIN), bpf = ww_has_cap(CAP_BPF);
	if (rc && kernel_cmd(c->name) && (!net || !bpf))
		ww_errorf("hint: %s reads the kernel's ruleset and BPF objects: run it as root, or "
			  "with CAP_NET_ADMIN and CAP_BPF (this process lacks %s%s%s)",
			  c->name, net ? "" : "CAP_NET_ADMIN", !net && !bpf ? " and " : "",
			  bpf ? "" : "CAP_BPF");
	return rc;
}
