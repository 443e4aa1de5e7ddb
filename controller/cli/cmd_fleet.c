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

	if (ww_opts_parse(argc, argv, NULL, pos, 2, &npos) || npos != 2)
		return ww_usage("fleet");
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

static int status(int argc, char **argv)
{
	struct ww_fleet_conn conn = {0};
	const char *pub = NULL;
	bool json = false, metrics = false;
	struct ww_opt opts[] = {WW_FLEET_OPTS(conn),
				{"--publisher-key", &pub, NULL},
				{"--json", NULL, &json},
				{"--metrics", NULL, &metrics},
				{NULL, NULL, NULL}};
	struct ww_fleet_view v = {0};
	struct strbuf err = {0}, out = {0};
	int npos, rc = WW_EXIT_USAGE;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos) || !conn.endpoints)
		return ww_usage("fleet");
	if (ww_fleet_view_read(&conn, pub, ww_now(), &v, &err)) {
		ww_errorf("fleet status: %s", sb_str(&err));
		goto out;
	}
	if (metrics)
		ww_fleet_view_metrics(&v, &out);
	else
		ww_fleet_view_print(&v, json, &out);
	fputs(sb_str(&out), stdout);
	/* like plan --detailed-exitcode: 0 converged everywhere, 1 not */
	rc = v.converged ? WW_EXIT_OK : WW_EXIT_INVALID;
out:
	ww_fleet_view_free(&v);
	sb_free(&err);
	sb_free(&out);
	return rc;
}

int cmd_fleet(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "status"))
		return status(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "part"))
		return part(argc - 1, argv + 1);
	return ww_usage("fleet");
}
