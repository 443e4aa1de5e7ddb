// SPDX-License-Identifier: GPL-2.0-only
/* wardwall metrics: the Prometheus exposition, for node_exporter's textfile collector. */
#include <stdio.h>

#include "cli.h"
#include "collect.h"
#include "metrics.h"
#include "quarantine.h"

int cmd_metrics(int argc, char **argv)
{
	const char *state_dir = NULL, *bpffs = NULL;
	struct ww_opt opts[] = {{"--state-dir", &state_dir, NULL},
				{"--bpffs", &bpffs, NULL},
				{NULL, NULL, NULL}};
	struct ww_collect c;
	struct strbuf err = {0}, out = {0};
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos))
		return ww_usage("metrics");
	ww_cli_recover(state_dir, bpffs);
	if (ww_collect(state_dir, bpffs, &c, &err)) {
		ww_errorf("metrics: %s", sb_str(&err));
	} else {
		ww_metrics_print(&c, &out);
		ww_quar_metrics(state_dir, bpffs, ww_now(), &out);
		fputs(sb_str(&out), stdout);
		ww_collect_free(&c);
		rc = WW_EXIT_OK;
	}
	sb_free(&err);
	sb_free(&out);
	return rc;
}
