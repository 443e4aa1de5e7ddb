/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3a, compile for nftables: the policy as one `table inet wardwall`.
 *
 * Per-packet work for a new connection is a fixed number of set lookups whatever the size of the
 * policy: the destination address writes its class (zone, or host group that flows name) into
 * the mark's class bits (enforcement.mark_bits) through a chain per class; the source address
 * picks a source chain (interval maps); there, the destination's class, the protocol and the
 * port (or ICMP type) are one key into the source's flow maps, which count the flow (an object
 * map of counters) and decide (a verdict map), or send the packet to a decision chain when the
 * decision needs more (a time window, a log, a monitor, a reject, several flows in order). When
 * no flow decides, the source zone's default chain tests the destination against its own zone
 * and the zones in monitor mode. Established and related packets are accepted by the first
 * rule. Kernel objects: chains and maps grow with the zones and host groups, elements and
 * counters with the flows (one element a flow and service piece, whatever the destination's
 * address ranges).
 */
#ifndef WW_NFT_COMPILE_H
#define WW_NFT_COMPILE_H

#include "model.h"
#include "nfr.h"

/*
 * Counter names: "flow/<id>", "ct-invalid", and for the defaults (packets no flow decides),
 * always per source zone ("-": no zone):
 *   "default/<zone>/<zone>"     within one zone
 *   "default/<zone>/_monitor"   to any zone in monitor mode, from a zone not in monitor mode,
 *                               when the default between zones is deny (it becomes a monitor)
 *   "default/<zone>/_other"     to any other zone, or none
 * so that the default stage is O(zones), never a chain or counter per zone pair. "_other" and
 * "_monitor" can never be zone names (those start with a letter or digit).
 */
#define WW_NFT_FLOW_PREFIX    "flow/"
#define WW_NFT_DEFAULT_PREFIX "default/"
#define WW_NFT_OTHER          "_other"
#define WW_NFT_MONITOR        "_monitor"
/* NFLOG prefixes: "ww:<allow|deny|monitor>:<counter name>". */
#define WW_NFT_LOG_TAG "ww:"
/*
 * Log budgets: one limit object per source zone, "log/<zone>/<rate>" ("log/-/<rate>": an address
 * in no zone), enforcement.log_rate packets a second with a burst of one second's worth. Every
 * log rule of a chain a packet from that zone reaches (its decision chains, its default chains)
 * spends that zone's budget, so a flood from one zone cannot use up another zone's. Made only
 * for zones with a log rule.
 */
#define WW_NFT_LOG_LIMIT_PREFIX "log/"
#define WW_NFT_LOG_LIMIT_FMT	WW_NFT_LOG_LIMIT_PREFIX "%s/%u"

/* Compiles p. Returns 0 and a sorted table in *out, or -ENOMEM. */
int ww_compile_nft(const struct ww_policy *p, struct nfr_table **out);
/*
 * What counting needs of p's table, a fraction of the work at 100k flows: every counter, the
 * classification and the default stage, but no source chains, flow maps or decision chains.
 * Not a table to load: for reading counters and decoding the defaults (ww_readback_defaults).
 */
int ww_compile_nft_counts(const struct ww_policy *p, struct nfr_table **out);

#endif
