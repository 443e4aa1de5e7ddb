// SPDX-License-Identifier: GPL-2.0-only
/* wardwall render POLICY: the nftables ruleset the policy compiles to, as nft text for review. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "json.h"
#include "nft_compile.h"
#include "policy.h"

struct render_args {
	bool json;
};

static const struct ww_opt render_opts[] = {
	WW_FLAG("--json", struct render_args, json),
	WW_OPT_END,
};

static int cmd_render(int argc, char **argv)
{
	char *pos[1];
	struct render_args a = {0};
	int npos, err, rc = WW_EXIT_USAGE;
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	struct nfr_table *t = NULL;
	struct strbuf out = {0};

	if (ww_opts_parse(render_opts, argc, argv, &a, pos, 1, &npos) || npos != 1)
		return ww_usage(&ww_cmd_render);
	d.file = pos[0];
	err = ww_policy_load(pos[0], &d, &p);
	if (err == -EINVAL) {
		ww_diags_print(&d, &out);
		fputs(sb_str(&out), stderr);
		const char *ptr = NULL;
		for (size_t i = 0; i < d.n && !ptr; i++)
			if (d.v[i].sev == WW_ERROR)
				ptr = d.v[i].ptr;
		ww_error_json("invalid-policy", "invalid policy", pos[0], ptr, &d);
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
	if (a.json) {
		/* The same text, as one string, with the table's size. */
		struct strbuf text = {0};
		nfr_table_render(t, &text);
		struct ww_jw w = {.out = &out, .compact = true};
		ww_jw_obj(&w, NULL);
		char table[32];
		snprintf(table, sizeof(table), "%s wardwall", nfr_family_str(t->family));
		ww_jw_str(&w, "table", table);
		ww_jw_u64(&w, "chains", t->nchains);
		ww_jw_u64(&w, "maps", t->nsets);
		ww_jw_u64(&w, "counters", t->ncounters);
		ww_jw_str(&w, "ruleset", sb_str(&text));
		ww_jw_end_obj(&w);
		sb_free(&text);
	} else {
		sb_addf(&out, "# wardwall render %s: load with `nft -f` (it replaces nothing else)\n",
			pos[0]);
		nfr_table_render(t, &out);
	}
	fputs(sb_str(&out), stdout);
	rc = WW_EXIT_OK;
out:
	sb_free(&out);
	nfr_table_free(t);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}

const struct ww_cmd ww_cmd_render = {
	"render", cmd_render,
	"print the nftables ruleset a policy compiles to",
	render_opts, "POLICY", NULL,
};
