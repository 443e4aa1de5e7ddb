/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3a, compile for nftables: the policy as one `table inet wardwall`.
 *
 * Per-packet work for a new connection is a fixed number of set lookups whatever the size of the
 * policy: the source address picks a source chain (interval map), the destination address picks
 * a pair chain (interval map), the protocol and port pick a decision chain (map or at most a few
 * compares), and the decision chain counts, logs and decides. When no flow decides, the zones of
 * the two addresses pick the default chain of that zone pair the same way. Established and
 * related packets are accepted by the first rule.
 */
#ifndef WW_NFT_COMPILE_H
#define WW_NFT_COMPILE_H

#include "model.h"
#include "nfr.h"

/* Counter names: "flow/<id>", "default/<zone>/<zone>" ("-" for no zone), "ct-invalid". */
#define WW_NFT_FLOW_PREFIX    "flow/"
#define WW_NFT_DEFAULT_PREFIX "default/"
/* NFLOG prefixes: "ww:<allow|deny|monitor>:<counter name>". */
#define WW_NFT_LOG_TAG "ww:"

/* Compiles p. Returns 0 and a sorted table in *out, or -ENOMEM. */
int ww_compile_nft(const struct ww_policy *p, struct nfr_table **out);

#endif
