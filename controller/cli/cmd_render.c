// SPDX-License-Identifier: GPL-2.0-only
/* wardwall render POLICY: the nftables ruleset the policy compiles to, as nft text for review. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "nft_compile.h"
#include "policy.h"

int cmd_render(int argc, char **argv)
{
	char *pos[1];
	int npos, err, rc = WW_EXIT_USAGE;
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	struct nfr_table *t = NULL;
	struct strbuf out = {0};

	if (ww_opts_parse(argc, argv, NULL, pos, 1, &npos) || npos != 1)
		return ww_usage("render");
	d.file = pos[0];
	err = ww_policy_load(pos[0], &d, &p);
	if (err == -EINVAL) {
		ww_diags_print(&d, &out);
		fputs(sb_str(&out), stderr);
		rc = WW_EXIT_INVALID;
		goto out;
	}
	if (err) {
		ww_errorf("%s: %s", pos[0], strerror(-err));
		goto out;
	}
	err = ww_compile_nft(p, &t);
	if (err) {
		ww_errorf("%s: compiling for nftables: %s", pos[0], strerror(-err));
		goto out;
	}
	sb_addf(&out, "# wardwall render %s: load with `nft -f` (it replaces nothing else)\n",
		pos[0]);
	nfr_table_render(t, &out);
	fputs(sb_str(&out), stdout);
	rc = WW_EXIT_OK;
out:
	sb_free(&out);
	nfr_table_free(t);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}
