// SPDX-License-Identifier: GPL-2.0-only
/* wardwall metrics: the Prometheus exposition, for node_exporter's textfile collector. */
#include <stdio.h>

#include "cli.h"
#include "collect.h"
#include "metrics.h"
#include "quarantine.h"

struct metrics_args {
	const char *state_dir, *bpffs;
};

static const struct ww_opt metrics_opts[] = {
	WW_STR("--state-dir", struct metrics_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct metrics_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_metrics(int argc, char **argv)
{
	struct metrics_args a = {0};
	struct ww_collect c;
	struct strbuf err = {0}, out = {0};
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(metrics_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_metrics);
	ww_cli_recover(a.state_dir, a.bpffs);
	if (ww_collect_counts(a.state_dir, a.bpffs, &c, &err)) {
		ww_errorf("metrics: %s", sb_str(&err));
	} else {
		ww_metrics_print(&c, &out);
		ww_quar_metrics(a.state_dir, a.bpffs, ww_now(), &out);
		fputs(sb_str(&out), stdout);
		ww_collect_free(&c);
		rc = WW_EXIT_OK;
	}
	sb_free(&err);
	sb_free(&out);
	return rc;
}

const struct ww_cmd ww_cmd_metrics = {
	"metrics", cmd_metrics, "Prometheus metrics on stdout (textfile collector)", metrics_opts,
	NULL, NULL,
};
