// SPDX-License-Identifier: GPL-2.0-only
/* wardwall show --canonical POLICY: the normalized policy. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "policy.h"

int cmd_show(int argc, char **argv)
{
	bool canonical = false;
	char *pos[1];
	int npos, err, rc = WW_EXIT_USAGE;
	struct ww_opt opts[] = {{"--canonical", NULL, &canonical}, {NULL, NULL, NULL}};
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	struct strbuf out = {0};

	if (ww_opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1 || !canonical)
		return ww_usage("show");
	d.file = pos[0];
	err = ww_policy_load(pos[0], &d, &p);
	if (err == -EINVAL) {
		ww_diags_print(&d, &out);
		fputs(sb_str(&out), stderr);
		rc = WW_EXIT_INVALID;
	} else if (err) {
		ww_errorf("%s: %s", pos[0], strerror(-err));
	} else {
		ww_policy_print_canonical(p, &out);
		fputs(sb_str(&out), stdout);
		rc = WW_EXIT_OK;
	}
	sb_free(&out);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}
