// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall confirm: keep the change an `apply --confirm` made. With --guard, the detached
 * process (or systemd timer) that rolls it back at its deadline unless it was confirmed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "confirm.h"
#include "timeutil.h"

struct confirm_args {
	bool json, guard;
	const char *gen, *state_dir, *bpffs;
};

static const struct ww_opt confirm_opts[] = {
	WW_FLAG("--json", struct confirm_args, json),
	WW_FLAG("--guard", struct confirm_args, guard),
	WW_STR("--generation", struct confirm_args, gen, "N"),
	WW_STR("--state-dir", struct confirm_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct confirm_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_confirm(int argc, char **argv)
{
	int npos;
	struct confirm_args a = {0};
	struct strbuf out = {0}, err = {0};
	struct ww_pending pd;
	char tb[WW_TIME_STRLEN];
	int e, rc = WW_EXIT_OK;

	/* --guard and --generation come together (the guard's own command line). */
	if (ww_opts_parse(confirm_opts, argc, argv, &a, NULL, 0, &npos) || a.guard != !!a.gen)
		return ww_usage(&ww_cmd_confirm);
	if (a.guard) {
		bool rolled_back;
		char *end;
		unsigned long g = strtoul(a.gen, &end, 10);
		if (*end || !g)
			return ww_usage(&ww_cmd_confirm);
		e = ww_confirm_guard_wait(a.state_dir, a.bpffs, g, &rolled_back, &out, &err);
		/* The guard's standard output goes nowhere; its standard error is confirm.log. */
		fputs(sb_str(&out), stderr);
		if (e) {
			ww_errorf("confirm --guard: generation %lu: rolling back failed: %s", g,
				  err.len ? sb_str(&err) : strerror(-e));
			rc = WW_EXIT_USAGE;
		}
		goto out;
	}
	e = ww_pending_claim(a.state_dir, &pd);
	if (e == -ENOENT) {
		if (a.json)
			sb_add(&out, "{\"result\": \"nothing\", \"generation\": null}\n");
		else
			sb_add(&out, "nothing to confirm: no change is waiting for confirmation\n");
	} else if (e) {
		ww_errorf("confirm: %s/pending.json: %s", ww_state_dir_of(a.state_dir),
			  strerror(-e));
		rc = WW_EXIT_USAGE;
	} else if (a.json) {
		sb_addf(&out, "{\"result\": \"confirmed\", \"generation\": %lu, \"deadline\": \"%s\"}\n",
			pd.gen, ww_time_str(pd.deadline, tb));
	} else {
		sb_addf(&out, "confirmed generation %lu (its rollback at %s is cancelled)\n", pd.gen,
			ww_time_str(pd.deadline, tb));
	}
	fputs(sb_str(&out), stdout);
out:
	sb_free(&out);
	sb_free(&err);
	return rc;
}

const struct ww_cmd ww_cmd_confirm = {
	"confirm", cmd_confirm,
	"keep the change of an apply --confirm (else it is rolled back at its deadline)",
	confirm_opts, NULL, NULL,
};
