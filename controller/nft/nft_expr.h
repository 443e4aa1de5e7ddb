/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4 for nftables: the libnftnl expressions wardwall writes, one call each, appended to a
 * rule in order. The linearizer (nft_batch.c) and doctor's probe (doctor_nft.c) both build with
 * these, so the probe asks the kernel for exactly the expressions an apply sends.
 *
 * Register convention: every load (meta, payload) writes NFT_REG_1, every comparison and lookup
 * reads it; a verdict goes to NFT_REG_VERDICT. Each call returns false when out of memory (the
 * rule keeps what was appended before: free it).
 */
#ifndef WW_NFT_EXPR_H
#define WW_NFT_EXPR_H

#include <stdbool.h>
#include <stdint.h>

struct nftnl_rule;
struct nftnl_expr;

/* A new expression of type name appended to r; NULL when out of memory. */
struct nftnl_expr *ww_nx_add(struct nftnl_rule *r, const char *name);

bool ww_nx_meta(struct nftnl_rule *r, uint32_t key);
bool ww_nx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len);
bool ww_nx_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len);
bool ww_nx_cmp_u8(struct nftnl_rule *r, uint8_t v); /* == v, one byte */
/* The register looked up in set (a vmap: its verdict decides), or its absence (inv). */
bool ww_nx_lookup(struct nftnl_rule *r, const char *set, bool vmap, bool inv);
/* An immediate verdict (NF_ACCEPT, NFT_JUMP, ...); chain for a jump or goto, else NULL. */
bool ww_nx_verdict(struct nftnl_rule *r, int code, const char *chain);
/* meta iifname/oifname (key) == name, zero padded to IFNAMSIZ as nft does. */
bool ww_nx_ifname_eq(struct nftnl_rule *r, uint32_t key, const char *name);
/* meta time compared (op) with ns nanoseconds since the epoch, in network byte order. */
bool ww_nx_time_cmp(struct nftnl_rule *r, uint32_t op, uint64_t ns);
/* ct state & mask != 0 (mask: the NF_CT_STATE_BIT bits, host byte order as nft sends them). */
bool ww_nx_ct_state(struct nftnl_rule *r, uint32_t mask);
/* reject with tcp reset (tcp_reset), else reject with icmpx admin-prohibited. */
bool ww_nx_reject(struct nftnl_rule *r, bool tcp_reset);
/* log to NFLOG group with prefix. */
bool ww_nx_log(struct nftnl_rule *r, const char *prefix, uint16_t group);
/* A reference to the named stateful object (counter, limit) of type NFT_OBJECT_*. */
bool ww_nx_objref(struct nftnl_rule *r, uint32_t type, const char *name);

#endif
