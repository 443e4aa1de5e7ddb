// SPDX-License-Identifier: GPL-2.0-only
/* wardwall remove: delete wardwall's table and XDP objects (quarantines stay: docs/incident.md). */
#include <stdio.h>

#include "apply.h"
#include "cli.h"
#include "json.h"
#include "quarantine.h"

/* Quarantines are not the policy's: an isolated machine stays isolated when the policy goes.
 * How many are in force (the text says so, with how to lift them). */
static size_t quarantines_stay(const char *state_dir, bool json)
{
	struct ww_state *s = NULL;
	struct ww_quar_list l = {0};
	struct strbuf err = {0};
	int64_t now = ww_now();
	size_t n = 0;

	if (!ww_state_open(state_dir, false, &s, &err) && !ww_quar_load(ww_state_dir(s), &l, &err))
		for (size_t i = 0; i < l.n; i++)
			n += !l.v[i].until || l.v[i].until > now;
	if (n && !json)
		printf("%zu quarantine%s stay%s in force (table inet " WW_QUAR_TABLE
		       "; the XDP part comes back with the next apply): `wardwall quarantine list`, "
		       "`wardwall quarantine remove ID` lifts one\n",
		       n, n == 1 ? "" : "s", n == 1 ? "s" : "");
	ww_quar_list_free(&l);
	ww_state_close(s);
	sb_free(&err);
	return n;
}

struct remove_args {
	bool json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt remove_opts[] = {
	WW_FLAG("--json", struct remove_args, json),
	WW_STR("--state-dir", struct remove_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct remove_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_remove(int argc, char **argv)
{
	struct remove_args a = {0};
	struct strbuf err = {0};
	bool nft, xdp;
	int npos;

	if (ww_opts_parse(remove_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_remove);
	if (ww_remove(a.state_dir, a.bpffs, &nft, &xdp, &err)) {
		ww_errorf("remove: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	if (a.json) {
		struct strbuf o = {0};
		struct ww_jw w = {.out = &o, .compact = true};
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "result", nft || xdp ? "removed" : "nothing");
		ww_jw_bool(&w, "nftables", nft);
		ww_jw_bool(&w, "xdp", xdp);
		ww_jw_u64(&w, "quarantines_in_force", quarantines_stay(a.state_dir, true));
		ww_jw_end_obj(&w);
		fputs(sb_str(&o), stdout);
		sb_free(&o);
		sb_free(&err);
		return WW_EXIT_OK;
	}
	if (nft)
		printf("removed wardwall's nftables table\n");
	if (xdp)
		printf("removed wardwall's XDP program, links and maps\n");
	if (!nft && !xdp)
		printf("nothing to remove\n");
	quarantines_stay(a.state_dir, false);
	sb_free(&err);
	return WW_EXIT_OK;
}

const struct ww_cmd ww_cmd_remove = {
	"remove", cmd_remove,
	"delete wardwall's table",
	remove_opts, NULL, NULL,
};
