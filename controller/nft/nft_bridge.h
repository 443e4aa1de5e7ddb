/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3a, compile for nftables, bridge mode: the entry of `table bridge wardwall`.
 *
 * The classification, source, pair, decision and default chains are the same as in the inet
 * table (nft_compile.c builds them); only the way in differs. The bridge family's forward hook
 * sees every frame a bridge forwards between two of its ports, ARP and other non-IP frames
 * included, so the base chain sends only IPv4 and IPv6 on to be judged, and lets through what
 * the XDP tier lets through unjudged too: multicast, broadcast, IPv6 link-local destinations and
 * neighbour discovery, which a link needs and which never leaves it.
 */
#ifndef WW_NFT_BRIDGE_H
#define WW_NFT_BRIDGE_H

#include "model.h"
#include "nfr.h"

#define WW_NFT_BRIDGE_BASE "br_forward"
#define WW_NFT_BRIDGE_IP   "br_ip"
#define WW_NFT_BRIDGE_PRIO (-200) /* the bridge family's "filter" */

/*
 * Adds to t (a table whose "classify" chain nft_compile.c builds) the bridge mode's sets
 * (ifaces, link4, link6, nd6) and chains (br_forward on the bridge forward hook, br_ip), and
 * sets t->family. Names must not already be in t. Returns 0 or -ENOMEM; on failure t may hold
 * part of them (the caller frees the whole table).
 */
int ww_nft_bridge_entry(const struct ww_policy *p, struct nfr_table *t);

#endif
