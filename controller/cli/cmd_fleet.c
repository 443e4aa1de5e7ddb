// SPDX-License-Identifier: GPL-2.0-only
/* wardwall fleet status | part: what every gateway reports; what one gateway enforces. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fleet.h"
#include "fleet_status.h"
#include "policy.h"

static int part(int argc, char **argv)
{
	char *pos[2], *text = NULL, *out = NULL;
	struct strbuf diags = {0}, err = {0};
	struct ww_policy *p = NULL;
	size_t len;
	int npos, ret, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(NULL, argc, argv, NULL, pos, 2, &npos) || npos != 2)
		return ww_usage(&ww_cmd_fleet);
	if ((ret = read_file(pos[0], &text, &len))) {
		ww_errorf("%s: %s", pos[0], strerror(-ret));
		return WW_EXIT_USAGE;
	}
	ret = ww_fleet_policy(pos[0], text, len, ww_now(), &p, &diags);
	fputs(sb_str(&diags), stderr);
	if (ret) {
		ww_errorf("%s: invalid policy (see 'wardwall check')", pos[0]);
		rc = WW_EXIT_INVALID;
	} else if ((ret = ww_fleet_part(p, text, len, pos[1], &out, &err))) {
		ww_errorf("fleet part: %s", sb_str(&err));
	} else {
		printf("%s\n", out);
		rc = WW_EXIT_OK;
	}
	free(out);
	free(text);
	ww_policy_free(p);
	sb_free(&diags);
	sb_free(&err);
	return rc;
}

struct status_args {
	struct ww_fleet_conn conn;
	const char *pub;
	bool json, metrics;
};

static const struct ww_opt status_opts[] = {
	WW_FLAG("--json", struct status_args, json),
	WW_FLAG("--metrics", struct status_args, metrics),
	WW_STR("--publisher-key", struct status_args, pub, "FILE.pub"),
	WW_FLEET_OPTS(struct status_args),
	WW_OPT_END,
};

static int status(int argc, char **argv)
{
	struct status_args a = {0};
	struct ww_fleet_view v = {0};
	struct strbuf err = {0}, out = {0};
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(status_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_fleet);
	if (ww_fleet_view_read(&a.conn, a.pub, ww_now(), &v, &err)) {
		ww_errorf("fleet status: %s", sb_str(&err));
		goto out;
	}
	if (a.metrics)
		ww_fleet_view_metrics(&v, &out);
	else
		ww_fleet_view_print(&v, a.json, &out);
	fputs(sb_str(&out), stdout);
	/* like plan --detailed-exitcode: 0 converged everywhere, 1 not */
	rc = v.converged ? WW_EXIT_OK : WW_EXIT_INVALID;
out:
	ww_fleet_view_free(&v);
	sb_free(&err);
	sb_free(&out);
	return rc;
}

/* The verbs, in the order the usage line shows them. */
static const struct ww_cmd verbs[] = {
	{"status", status, NULL, status_opts, NULL, NULL},
	{"part", part, NULL, NULL, "POLICY GATEWAY", NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL},
};

static int cmd_fleet(int argc, char **argv)
{
	return ww_verbs_run(&ww_cmd_fleet, argc, argv);
}

const struct ww_cmd ww_cmd_fleet = {
	"fleet", cmd_fleet,
	"every gateway's generation, convergence, drift and last report; a gateway's part", NULL,
	NULL, verbs,
};
