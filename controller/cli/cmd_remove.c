// SPDX-License-Identifier: GPL-2.0-only
/* wardwall remove: delete wardwall's table (and nothing else). */
#include <stdio.h>

#include "apply.h"
#include "cli.h"

int cmd_remove(int argc, char **argv)
{
	const char *state_dir = NULL, *bpffs = NULL;
	struct ww_opt opts[] = {{"--state-dir", &state_dir, NULL},
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
	if (nft)
		printf("removed wardwall's nftables table\n");
	if (xdp)
		printf("removed wardwall's XDP program, links and maps\n");
	if (!nft && !xdp)
		printf("nothing to remove\n");
	sb_free(&err);
	return WW_EXIT_OK;
}
