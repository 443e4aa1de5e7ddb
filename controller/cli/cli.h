/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line: one file per subcommand (cmd_*.c), dispatched from the table in main.c. */
#ifndef WW_CLI_H
#define WW_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ww_policy;

/* Exit codes shared by every subcommand (docs/cli.md). */
enum {
	WW_EXIT_OK = 0,
	WW_EXIT_INVALID = 1, /* the policy is invalid, or (plan) an error */
	WW_EXIT_USAGE = 2,   /* usage or system error; plan --detailed-exitcode: changes */
	WW_EXIT_UNRECORDED = 3, /* apply/rollback: the kernel changed, recording it failed */
};

/*
 * One option of a command, declared once: the parser and the usage line both come from the
 * command's table (as xdp-tools' DEFINE_OPTION). Options are matched exactly (no
 * abbreviations): "--json", "--at TIME" or "--at=TIME"; "--" ends them. The value goes to the
 * member at off in the command's own options struct: a bool (flag), a const char * (the last
 * one given wins) or a struct ww_strlist (every one given, in order).
 */
enum ww_opt_type { WW_OPT_FLAG, WW_OPT_STR, WW_OPT_LIST };

struct ww_opt {
	const char *name; /* with the dashes */
	enum ww_opt_type type;
	size_t off;
	const char *metavar; /* the argument in the usage line ("DIR"); NULL for a flag */
	bool required;       /* a value must be given (the usage line shows it without [ ]) */
};

/* Every value of a repeated option, in order; the strings point into argv. */
struct ww_strlist {
	const char **v;
	size_t n;
};

/*
 * Table entries, type-checked: the member must be a bool, a const char *, a ww_strlist. The
 * member may be nested (conn.endpoints). Extra designated fields follow: .required = true.
 */
#define WW_OPT_OFF(T, m, type) (offsetof(T, m) + 0 * sizeof(_Generic(((T *)0)->m, type: 1)))
#define WW_FLAG(opt, T, m, ...)                                                                   \
	{.name = opt, .type = WW_OPT_FLAG, .off = WW_OPT_OFF(T, m, bool), __VA_ARGS__}
#define WW_STR(opt, T, m, meta, ...)                                                              \
	{.name = opt, .type = WW_OPT_STR, .off = WW_OPT_OFF(T, m, const char *), .metavar = meta,  \
	 __VA_ARGS__}
#define WW_LIST(opt, T, m, meta, ...)                                                             \
	{.name = opt, .type = WW_OPT_LIST, .off = WW_OPT_OFF(T, m, struct ww_strlist),             \
	 .metavar = meta, __VA_ARGS__}
#define WW_OPT_END {.name = NULL}

struct ww_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
	const struct ww_opt *opts;  /* NULL: none */
	const char *args;           /* the positionals as the usage line shows them ("POLICY") */
	const struct ww_cmd *verbs; /* a command of verbs ("evidence export"): their table */
};

/* The commands, one file each (cmd_*.c), in the order `wardwall help` lists them. */
extern const struct ww_cmd *const ww_cmds[];
extern const struct ww_cmd ww_cmd_check, ww_cmd_query, ww_cmd_render, ww_cmd_show, ww_cmd_plan,
	ww_cmd_apply, ww_cmd_confirm, ww_cmd_rollback, ww_cmd_restore, ww_cmd_stats,
	ww_cmd_metrics, ww_cmd_serve, ww_cmd_events, ww_cmd_alerts, ww_cmd_incident,
	ww_cmd_indicators, ww_cmd_learn, ww_cmd_evidence, ww_cmd_quarantine, ww_cmd_publish,
	ww_cmd_agent, ww_cmd_fleet, ww_cmd_remove, ww_cmd_doctor;

/*
 * Runs the verb argv[1] of a command of verbs (cmd->verbs) with argv[1..]; an unknown or
 * missing verb is a usage error that lists the verbs.
 */
int ww_verbs_run(const struct ww_cmd *cmd, int argc, char **argv);

/*
 * Parses argv[1..] (argv[0] is the command) with the option table opts (NULL: none) into the
 * struct at out. Positional arguments are collected in order into pos (room for maxpos), their
 * number in *npos. Prints what is wrong and returns -EINVAL on an unknown option, a missing
 * argument, a required option not given or too many positionals; -ENOMEM. Free the lists with
 * ww_opts_free, also after a failure.
 */
int ww_opts_parse(const struct ww_opt *opts, int argc, char **argv, void *out, char **pos,
		  int maxpos, int *npos);
void ww_opts_free(const struct ww_opt *opts, void *out);

/* "wardwall: <message>\n" on stderr; with --json also ww_error_json("error", message). */
void ww_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* With --json on the command line (main() says so), a failure is also one JSON object on stdout,
 * as Terraform's -json: {"error": {"message", "code", "location": {"file", "pointer"} or null},
 * "diagnostics"?: [...]}. Does nothing without --json. */
void ww_cli_json_errors(bool on);
struct ww_diags;
void ww_error_json(const char *code, const char *message, const char *file, const char *ptr,
		   const struct ww_diags *d);
/* Prints the usage line of a command to stderr and returns WW_EXIT_USAGE. */
int ww_usage(const struct ww_cmd *cmd);
/* "usage: wardwall <command> <options generated from its table> <args>\n" (verbs: each one). */
void ww_usage_line(const struct ww_cmd *cmd, struct strbuf *out);
/* Parses an RFC 3339 time or "now" for --now/--at; prints the error itself. */
int ww_time_arg(const char *opt, const char *s, int64_t *t);
/*
 * Loads a policy for a command that acts on it: it must be valid and its invariants must hold.
 * Diagnostics (warnings too) go to stderr. Returns WW_EXIT_OK with *out set, WW_EXIT_INVALID or
 * WW_EXIT_USAGE.
 */
int ww_load_valid(const char *path, struct ww_policy **out);
/* ww_load_valid of the len bytes of text read from path (NULL: read path now), analysed at
 * now; *diags (diags may be NULL) gets a copy of the diagnostics printed, or NULL. */
int ww_load_valid_text(const char *path, const char *text, size_t len, int64_t now,
		       struct ww_policy **out, char **diags);

/*
 * Finishes or undoes an apply that was interrupted (intent.h) before a command reads state, and
 * says so on stderr. A failure is a warning: the command goes on with what is there.
 */
void ww_cli_recover(const char *state_dir, const char *bpffs);
struct ww_recovery;
/* What a recovery did, on stderr (nothing when nothing was found). */
void ww_recovery_say(const struct ww_recovery *rec);

/* The current time, or WARDWALL_NOW from the environment (tests pin time with it). */
int64_t ww_now(void);

#endif
