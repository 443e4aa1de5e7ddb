// SPDX-License-Identifier: GPL-2.0-only
/* wardwall remove: delete wardwall's table (and nothing else). */
#include <stdio.h>

#include "apply.h"
#include "cli.h"
#include "json.h"

int cmd_remove(int argc, char **argv)
{
	const char *state_dir = NULL, *bpffs = NULL;
	bool json = false;
	struct ww_opt opts[] = {{"--json", NULL, &json},
				{"--state-dir", &state_dir, NULL},
				{"--bpffs", &bpffs, NULL},
				{NULL, NULL, NULL}};
	struct strbuf err = {0};
	bool nft, xdp;
	int npos;

	if (ww_opts_parse(argc, argv, opts, NULL, 0, &npos))
		return ww_usage("remove");
	if (ww_remove(state_dir, bpffs, &nft, &xdp, &err)) {
		ww_errorf("remove: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	if (json) {
		struct strbuf o = {0};
		struct ww_jw w = {.out = &o, .compact = true};
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "result", nft || xdp ? "removed" : "nothing");
		ww_jw_bool(&w, "nftables", nft);
		ww_jw_bool(&w, "xdp", xdp);
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
	sb_free(&err);
	return WW_EXIT_OK;
}
