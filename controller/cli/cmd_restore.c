// SPDX-License-Identifier: GPL-2.0-only
/* wardwall restore: re-enforce the current generation (the boot path), or fail closed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "confirm.h"
#include "json.h"
#include "restore.h"

/* A change on probation at boot (confirm.h): what became of it. */
struct resumed {
	const char *what; /* "none", "rolled-back", "guarded" */
	struct ww_pending pd;
	struct strbuf said;
};

static void report(const struct ww_restore_result *r, const struct resumed *c, const char *reason,
		   bool json, struct strbuf *out)
{
	if (json) {
		struct ww_jw w = {.out = out, .compact = true};
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "result", ww_restore_outcome_str(r->outcome));
		ww_jw_u64(&w, "generation", r->gen);
		if (r->outcome == WW_RESTORED || r->outcome == WW_FAILED_CLOSED) {
			ww_jw_obj(&w, "enforcing");
			ww_jw_str(&w, "name", r->policy_name);
			ww_jw_str(&w, "sha256", r->policy_sha256);
			ww_jw_bool(&w, "fail_closed", r->outcome == WW_FAILED_CLOSED);
			ww_jw_bool(&w, "builtin", r->builtin);
			ww_jw_bool(&w, "changed", r->apply.changed);
			ww_jw_bool(&w, "xdp", r->apply.xdp);
			ww_jw_end_obj(&w);
		} else {
			ww_jw_null(&w, "enforcing");
		}
		if (r->recovery.found) {
			ww_jw_obj(&w, "recovered");
			ww_jw_str(&w, "action", r->recovery.intent.action);
			ww_jw_u64(&w, "generation", r->recovery.intent.gen);
			ww_jw_bool(&w, "finished", r->recovery.finished);
			ww_jw_end_obj(&w);
		}
		if (r->outcome == WW_RESTORED)
			ww_jw_u64(&w, "quarantines", r->quarantines);
		if (strcmp(c->what, "none")) {
			ww_jw_obj(&w, "confirm");
			ww_jw_str(&w, "action", c->what);
			ww_jw_u64(&w, "generation", c->pd.gen);
			ww_jw_u64(&w, "previous", c->pd.previous);
			ww_jw_time(&w, "deadline", c->pd.deadline);
			ww_jw_end_obj(&w);
		}
		ww_jw_str(&w, "reason", *reason ? reason : NULL);
		ww_jw_numf(&w, "duration_ms", "%.1f", r->ms);
		ww_jw_end_obj(&w);
		return;
	}
	if (r->recovery.found)
		sb_addf(out, "an interrupted %s of generation %lu was %s first\n",
			r->recovery.intent.action, r->recovery.intent.gen,
			r->recovery.finished ? "finished" : "undone");
	switch (r->outcome) {
	case WW_RESTORED:
		sb_addf(out, "enforcing generation %lu, %s (sha256 %.12s)%s in %.0f ms\n", r->gen,
			r->policy_name, r->policy_sha256,
			r->apply.changed ? ": restored" : ": the kernel already had it", r->ms);
		if (r->quarantines)
			sb_addf(out, "%zu quarantine(s) in force\n", r->quarantines);
		sb_add(out, sb_str(&c->said));
		break;
	case WW_RESTORE_NOTHING:
		sb_add(out, "nothing to restore: no generation is current (never applied, or "
			    "removed)\n");
		break;
	case WW_FAILED_CLOSED:
		sb_addf(out, "enforcing %s (sha256 %.12s): FAIL-CLOSED\n", r->policy_name,
			r->policy_sha256);
		break;
	case WW_FAILED_OPEN:
		sb_add(out, "enforcing nothing new: FAIL-OPEN\n");
		break;
	}
}

struct restore_args {
	bool json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt restore_opts[] = {
	WW_FLAG("--json", struct restore_args, json),
	WW_STR("--state-dir", struct restore_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct restore_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_restore(int argc, char **argv)
{
	int npos;
	struct restore_args a = {0};
	struct ww_restore_result r;
	struct strbuf reason = {0}, out = {0};

	if (ww_opts_parse(restore_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_restore);
	struct resumed c = {.what = "none"};
	int e = ww_restore(a.state_dir, a.bpffs, ww_now(), &r, &reason);
	/* The reason goes to standard error as well: under systemd, that is the journal. */
	/* Not ww_errorf: with --json the report below is the one object, and carries the reason. */
	if (e || r.quarantine_failed)
		fprintf(stderr, "wardwall: restore: %s\n", sb_str(&reason));
	if (!e && r.outcome == WW_RESTORED) {
		/* The program's real path, for the guard or the timer to run. */
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		struct strbuf err = {0};
		self[n > 0 ? n : 0] = '\0';
		e = n > 0 ? ww_confirm_resume(self, a.state_dir, a.bpffs, r.gen, &c.pd, &c.what,
					      &c.said, &err)
			  : -errno;
		if (e) {
			/* The generation holds; the change on probation is the operator's now. */
			fprintf(stderr,
				"wardwall: restore: generation %lu was waiting for `wardwall confirm`, "
				"and arranging its rollback failed: %s; confirm it or run `wardwall "
				"rollback`\n",
				r.gen, err.len ? sb_str(&err) : strerror(-e));
		}
		sb_free(&err);
	}
	report(&r, &c, sb_str(&reason), a.json, &out);
	fputs(sb_str(&out), stdout);
	sb_free(&reason);
	sb_free(&out);
	sb_free(&c.said);
	return e ? WW_EXIT_USAGE : WW_EXIT_OK;
}

const struct ww_cmd ww_cmd_restore = {
	"restore", cmd_restore,
	"re-enforce the current generation (at boot); fail closed if it cannot be",
	restore_opts, NULL, NULL,
};
