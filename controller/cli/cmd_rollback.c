// SPDX-License-Identifier: GPL-2.0-only
/* wardwall rollback: re-apply the generation before the current one (or --to N). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "policy.h"

static bool v_is_policy(const struct ww_generation *g)
{
	return !strcmp(g->action, "apply") || !strcmp(g->action, "rollback");
}

struct rollback_args {
	bool json, force;
	const char *to, *state_dir, *bpffs;
};

static const struct ww_opt rollback_opts[] = {
	WW_FLAG("--json", struct rollback_args, json),
	WW_FLAG("--force", struct rollback_args, force),
	WW_STR("--to", struct rollback_args, to, "GENERATION"),
	WW_STR("--state-dir", struct rollback_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct rollback_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_rollback(int argc, char **argv)
{
	struct rollback_args a = {0};
	struct ww_state *st = NULL;
	struct ww_generation cur, *hist = NULL;
	struct ww_policy *p = NULL;
	struct ww_diags d = {0};
	struct strbuf err = {0}, out = {0};
	unsigned long target = 0;
	size_t n = 0;
	int npos, e, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(rollback_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_rollback);
	/* An interrupted apply first: what is current must be true before going back from it. */
	ww_cli_recover(a.state_dir, a.bpffs);
	e = ww_state_open(a.state_dir, false, &st, &err);
	if (!e)
		e = ww_state_current(st, &cur);
	if (!e)
		e = ww_state_history(st, &hist, &n);
	if (e) {
		ww_errorf("rollback: %s", err.len ? sb_str(&err) : strerror(-e));
		goto out;
	}
	if (a.to) {
		target = strtoul(a.to, NULL, 10);
	} else {
		/* The generation applied before the current one; after a remove (nothing is
		 * current), the last one applied before it. */
		for (size_t i = 0; i < n; i++)
			if (v_is_policy(&hist[i]) && (!cur.gen || hist[i].gen < cur.gen))
				target = hist[i].gen;
	}
	if (!target) {
		bool any = false;
		for (size_t i = 0; i < n; i++)
			any = any || v_is_policy(&hist[i]);
		ww_errorf("rollback: no earlier generation to go back to%s",
			  any ? "" : " (nothing was ever applied)");
		goto out;
	}
	d.file = "generation";
	e = ww_state_policy(st, target, &p, &d);
	if (e) {
		ww_errorf("rollback: generation %lu: %s", target,
			  e == -ENOENT ? "no such generation" : strerror(-e));
		goto out;
	}
	ww_state_close(st);
	st = NULL;
	char src[32];
	snprintf(src, sizeof(src), "generation %lu", target);
	struct ww_apply_opts o = {.state_dir = a.state_dir, .source = src, .action = "rollback",
				  .restores = target, .force = a.force, .bpffs = a.bpffs};
	struct ww_apply_result r;
	e = ww_apply(p, &o, &r, &err);
	ww_recovery_say(&r.recovered);
	if (e) {
		ww_errorf("rollback to generation %lu: %s%s", target, sb_str(&err),
			  r.unrecorded ? "; the next wardwall command finishes recording it" : "");
		rc = r.unrecorded ? WW_EXIT_UNRECORDED
				  : e == -EINVAL ? WW_EXIT_INVALID : WW_EXIT_USAGE;
		goto out;
	}
	if (!a.json)
		printf("rolled back to generation %lu\n", target);
	ww_apply_report(p, &r, a.json, &out);
	fputs(sb_str(&out), stdout);
	rc = WW_EXIT_OK;
out:
	free(hist);
	ww_diags_free(&d);
	ww_policy_free(p);
	ww_state_close(st);
	sb_free(&err);
	sb_free(&out);
	return rc;
}

const struct ww_cmd ww_cmd_rollback = {
	"rollback", cmd_rollback, "re-apply the previous generation",
	rollback_opts, NULL, NULL,
};
