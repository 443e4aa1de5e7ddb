/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4 for nftables: the libnftnl expressions wardwall writes, one call each, appended to a
 * rule in order. The linearizer (nft_batch.c) and doctor's probe (doctor_nft.c) both build with
 * these, so the probe asks the kernel for exactly the expressions an apply sends.
 *
 * Register convention: every load (meta, payload) writes NFT_REG_1, every comparison and lookup
 * reads it; a verdict goes to NFT_REG_VERDICT. A concatenation is the exception: its fields are
 * loaded into consecutive 32-bit registers from NFT_REG_1 on (the _to variants, with the register
 * ww_nx_reg names) and looked up together from NFT_REG_1. Each call returns false when out of
 * memory (the rule keeps what was appended before: free it).
 */
#ifndef WW_NFT_EXPR_H
#define WW_NFT_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfr.h"

struct nftnl_rule;
struct nftnl_expr;
struct nftnl_set;

/* A new expression of type name appended to r; NULL when out of memory. */
struct nftnl_expr *ww_nx_add(struct nftnl_rule *r, const char *name);

bool ww_nx_meta(struct nftnl_rule *r, uint32_t key);
bool ww_nx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len);

/* The register nft names for the 32-bit register word `word` (0: the first) of a concatenation:
 * a word starting a 128-bit register is named by that register (NFT_REG_1 + word / 4), any
 * other by its 32-bit number (NFT_REG32_00 + word), as nft writes them, so that `nft list`
 * and `nft --debug=netlink` show the same rule. */
uint32_t ww_nx_reg(unsigned int word);
/* Its inverse: the word a register names, -1 for NFT_REG_VERDICT and anything else. */
int ww_nx_reg_word(uint32_t reg);
bool ww_nx_meta_to(struct nftnl_rule *r, uint32_t key, uint32_t dreg);
bool ww_nx_payload_to(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		      uint32_t dreg);
/* byteorder reg = hton(reg, size, len): what nft 1.0 puts after a host-order field (meta
 * l4proto: size 2, len 1) in a concatenation. */
bool ww_nx_hton(struct nftnl_rule *r, uint32_t reg, uint32_t size, uint32_t len);
/* bitwise reg = (reg & mask) ^ flip on one 32-bit word (host byte order, as meta mark and ct state
 * hold it), with nft 1.0's NFTA_BITWISE_OP (a boolean operation). */
bool ww_nx_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t mask, uint32_t flip);
/* meta set key with reg (`meta mark set ...`). */
bool ww_nx_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg);
/* objref through an object map: the object set maps the key at NFT_REG_1 to (none: the rule
 * goes on). */
bool ww_nx_objref_map(struct nftnl_rule *r, const char *set);

/* A field's width in bytes in a concatenation (th dport: 2, the mark: 4), before its padding
 * to 4. */
unsigned int ww_nx_field_len(enum nfr_key k);
/*
 * A set keyed on a concatenation of n fields of lens[i] bytes each (each padded to 4 in the key,
 * as registers hold them): NFTNL_SET_DESC_CONCAT and the key length. Returns the key length, 0
 * when n is 0 or larger than a key holds. Shared by the linearizer and the overlay tables.
 */
uint32_t ww_nx_set_concat(struct nftnl_set *s, const uint8_t *lens, size_t n);
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
