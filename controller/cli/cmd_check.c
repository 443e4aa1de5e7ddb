// SPDX-License-Identifier: GPL-2.0-only
/* wardwall check: validate and analyse a policy. Never touches the kernel. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "cli.h"
#include "policy.h"

static void summary_json(const struct ww_policy *p, const struct ww_diags *d,
			 const struct ww_inv_result *res, struct strbuf *out)
{
	sb_addf(out, "{\n\"file\": ");
	sb_add_json_str(out, d->file);
	sb_addf(out, ",\n\"valid\": %s,\n\"errors\": %zu,\n\"warnings\": %zu,\n",
		d->nerrors ? "false" : "true", d->nerrors, d->nwarnings);
	if (p) {
		char hash[65];
		ww_policy_hash(p, hash);
		sb_add(out, "\"policy\": {\"name\": ");
		sb_add_json_str(out, p->name);
		sb_addf(out, ", \"sha256\": \"%s\", \"zones\": %zu, \"hosts\": %zu, \"flows\": %zu, "
			     "\"invariants\": %zu},\n",
			hash, p->nzones, p->nhosts, p->nflows, p->ninvs);
		sb_add(out, "\"invariants\": [");
		for (size_t i = 0; i < p->ninvs; i++) {
			sb_add(out, i ? ", {\"id\": " : "{\"id\": ");
			sb_add_json_str(out, p->invs[i].id);
			sb_addf(out, ", \"holds\": %s, \"monitor_only\": %s, \"violations\": %zu",
				res[i].holds ? "true" : "false", res[i].monitor_only ? "true" : "false",
				res[i].violations);
			if (res[i].detail) {
				sb_add(out, ", \"detail\": ");
				sb_add_json_str(out, res[i].detail);
			}
			sb_add(out, "}");
		}
		sb_add(out, "],\n");
	}
	sb_add(out, "\"diagnostics\": ");
	ww_diags_json(d, out);
	sb_add(out, "\n}\n");
}

struct check_args {
	bool json;
	const char *now;
};

static const struct ww_opt check_opts[] = {
	WW_FLAG("--json", struct check_args, json),
	WW_STR("--now", struct check_args, now, "TIME"),
	WW_OPT_END,
};

static int cmd_check(int argc, char **argv)
{
	struct check_args a = {0};
	char *pos[1];
	int npos, err, rc;
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	struct ww_inv_result *res = NULL;
	struct strbuf out = {0};
	int64_t now = ww_now();

	if (ww_opts_parse(check_opts, argc, argv, &a, pos, 1, &npos) || npos != 1)
		return ww_usage(&ww_cmd_check);
	if (a.now && ww_time_arg("--now", a.now, &now))
		return WW_EXIT_USAGE;
	d.file = pos[0];
	err = ww_policy_load(pos[0], &d, &p);
	if (err && err != -EINVAL) {
		ww_errorf("%s: %s", pos[0], strerror(-err));
		ww_diags_free(&d);
		return WW_EXIT_USAGE;
	}
	if (p) {
		res = calloc(p->ninvs ? p->ninvs : 1, sizeof(*res));
		err = res ? ww_analyse(p, now, &d, res) : -ENOMEM;
		if (err) {
			ww_errorf("%s: analysis failed: %s", pos[0], strerror(-err));
			rc = WW_EXIT_USAGE;
			goto out;
		}
	}
	ww_diags_sort(&d);
	if (a.json) {
		summary_json(p, &d, res, &out);
	} else {
		ww_diags_print(&d, &out);
		if (d.nerrors)
			sb_addf(&out, "%s: invalid: %zu error%s, %zu warning%s\n", pos[0], d.nerrors,
				d.nerrors == 1 ? "" : "s", d.nwarnings, d.nwarnings == 1 ? "" : "s");
		else
			sb_addf(&out,
				"%s: valid: %zu zones, %zu hosts, %zu flows, %zu invariant%s proved; "
				"%zu warning%s\n",
				pos[0], p->nzones, p->nhosts, p->nflows, p->ninvs,
				p->ninvs == 1 ? "" : "s", d.nwarnings, d.nwarnings == 1 ? "" : "s");
	}
	fputs(sb_str(&out), stdout);
	rc = d.nerrors ? WW_EXIT_INVALID : WW_EXIT_OK;
out:
	sb_free(&out);
	if (p)
		ww_inv_results_free(res, p->ninvs);
	free(res);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}

const struct ww_cmd ww_cmd_check = {
	"check", cmd_check, "validate and analyse a policy; never touches the kernel",
	check_opts, "POLICY", NULL,
};
