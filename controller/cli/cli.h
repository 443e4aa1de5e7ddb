/* SPDX-License-Identifier: GPL-2.0-only */
/* The command line: one file per subcommand (cmd_*.c), dispatched from the table in main.c. */
#ifndef WW_CLI_H
#define WW_CLI_H

#include <stdbool.h>
#include <stdint.h>

struct ww_policy;

/* Exit codes shared by every subcommand (docs/cli.md). */
enum {
	WW_EXIT_OK = 0,
	WW_EXIT_INVALID = 1, /* the policy is invalid, or (plan) an error */
	WW_EXIT_USAGE = 2,   /* usage or system error; plan --detailed-exitcode: changes */
	WW_EXIT_UNRECORDED = 3, /* apply/rollback: the kernel changed, recording it failed */
};

struct ww_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
	const char *summary;
};

extern const struct ww_cmd ww_cmds[];

int cmd_check(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_apply(int argc, char **argv);
int cmd_plan(int argc, char **argv);
int cmd_rollback(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_confirm(int argc, char **argv);
int cmd_remove(int argc, char **argv);
int cmd_doctor(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_metrics(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_fleet(int argc, char **argv);
int cmd_alerts(int argc, char **argv);
int cmd_incident(int argc, char **argv);
int cmd_indicators(int argc, char **argv);
int cmd_learn(int argc, char **argv);

/* One option of a command. Options are matched exactly (no abbreviations): "--json",
 * "--at TIME" or "--at=TIME". */
struct ww_opt {
	const char *name; /* with the dashes */
	const char **arg; /* receives the argument, or NULL for a flag */
	bool *flag;
};

/*
 * Parses argv[1..] (argv[0] is the command). Positional arguments are collected in order into
 * pos (room for maxpos), their number in *npos. Prints what is wrong and returns -EINVAL on an
 * unknown option, a missing argument or too many positionals.
 */
int ww_opts_parse(int argc, char **argv, const struct ww_opt *opts, char **pos, int maxpos,
		  int *npos);

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
int ww_usage(const char *cmd);
/* Parses an RFC 3339 time or "now" for --now/--at; prints the error itself. */
int ww_time_arg(const char *opt, const char *s, int64_t *t);
/*
 * Loads a policy for a command that acts on it: it must be valid and its invariants must hold.
 * Diagnostics (warnings too) go to stderr. Returns WW_EXIT_OK with *out set, WW_EXIT_INVALID or
 * WW_EXIT_USAGE.
 */
int ww_load_valid(const char *path, struct ww_policy **out);

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
