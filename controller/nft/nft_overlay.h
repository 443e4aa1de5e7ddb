/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: the overlay tables' netlink builder. An overlay is a small nftables table of
 * its own beside wardwall's (`table inet wardwall_quarantine`, `table inet wardwall_windows`),
 * so that apply's reading, diffing and generation mark of `table inet wardwall` never see it;
 * its owner rebuilds it whole in one transaction (create, delete, create: atomic whether or not
 * it exists). The cost depends on the overlay, never on the policy.
 *
 * Messages go into one batch (struct ww_ovl); an error is kept in it (the first one) and every
 * later call does nothing, so a builder checks once, at the end. Matches (ww_ovl_m_*) add to a
 * rule and set *err on failure.
 */
#ifndef WW_NFT_OVERLAY_H
#define WW_NFT_OVERLAY_H

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "model.h"
#include "util.h"

#define WW_OVL_BUF (4u << 20)

struct ww_ovl {
	const char *table; /* inet family */
	int prio;          /* of its base chains */
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq, seq0, last; /* last: the last message that asks for an acknowledgement */
	int err;
};

/* Starts a batch for table (base chains at prio). Returns 0 or -ENOMEM. */
int ww_ovl_qb_init(struct ww_ovl *q, const char *table, int prio);
void ww_ovl_qb_end(struct ww_ovl *q);
/* The messages so far, after the batch begin (for ww_nft_batch_append: another transaction
 * sends them). */
const void *ww_ovl_body(const struct ww_ovl *q, size_t *len);
void ww_ovl_qb_free(struct ww_ovl *q);
/* Sends the batch and waits for every acknowledgement. Returns 0 or -errno (err says which
 * message the kernel refused). */
int ww_ovl_run(struct ww_ovl *q, struct strbuf *err);
/* Deletes table whether or not it exists, in one transaction (create, then delete). */
int ww_ovl_table_delete(const char *table, struct strbuf *err);

/* The next message's header (NULL when the batch failed or is full); ww_ovl_next closes it. */
struct nlmsghdr *ww_ovl_hdr(struct ww_ovl *q, int type, int flags);
void ww_ovl_next(struct ww_ovl *q);
/* NFT_MSG_NEWTABLE or NFT_MSG_DELTABLE of the table. */
void ww_ovl_table_msg(struct ww_ovl *q, int type, int flags);
/* A chain; hook >= 0: a filter base chain on that hook, policy accept, at q->prio. */
void ww_ovl_chain_msg(struct ww_ovl *q, const char *name, int hook);

struct nftnl_rule *ww_ovl_rule_new(const struct ww_ovl *q, const char *chain);
/* Adds rule r (freed) unless err or r is NULL, which fail the batch. */
void ww_ovl_rule_msg(struct ww_ovl *q, struct nftnl_rule *r, int err);

void ww_ovl_x_add(struct nftnl_rule *r, struct nftnl_expr *e, int *err);
struct nftnl_expr *ww_ovl_x_meta(uint32_t key);
struct nftnl_expr *ww_ovl_x_cmp(const void *data, uint32_t len);
struct nftnl_expr *ww_ovl_x_payload(uint32_t base, uint32_t off, uint32_t len);
/* meta nfproto ipv4|ipv6 (family WW_INET or WW_INET6). */
void ww_ovl_m_nfproto(struct nftnl_rule *r, int family, int *err);
/* The source (dst false) or destination address within prefix p. */
void ww_ovl_m_addr(struct nftnl_rule *r, const struct ww_prefix *p, bool dst, int *err);
/* The protocol and its key range: destination port (sport false) or source port, or ICMP type
 * (the reverse direction takes any type). */
void ww_ovl_m_term(struct nftnl_rule *r, const struct ww_term *t, bool sport, int *err);
/* ct state established,related. */
void ww_ovl_m_established(struct nftnl_rule *r, int *err);
/* meta time >= from (unix seconds), and < until unless until is 0. */
void ww_ovl_m_time(struct nftnl_rule *r, int64_t from, int64_t until, int *err);
/* A verdict (NF_DROP, NF_ACCEPT, NFT_RETURN, NFT_JUMP to chain...). */
void ww_ovl_s_verdict(struct nftnl_rule *r, int verdict, const char *chain, int *err);

/* ---- verdict maps keyed on a concatenation of ranges ---- */

#define WW_OVL_KEY_MAX 64 /* bytes: 16 registers of 4 */

/* The conntrack key (NFT_CT_SRC_IP, NFT_CT_PROTOCOL, NFT_CT_PROTO_DST...) of the connection's
 * original direction into register dreg (an NFT_REG32_*): the same value for every packet of a
 * connection, whichever its direction. */
void ww_ovl_m_ct_orig(struct nftnl_rule *r, uint32_t key, uint32_t dreg, int *err);
/* Looks the key at sreg (NFT_REG32_*) up in verdict map set (id: its set id in this batch)
 * and takes the verdict of the element found; none found: the rule does not match. */
void ww_ovl_s_vmap(struct nftnl_rule *r, const char *set, uint32_t id, uint32_t sreg, int *err);
/*
 * NFT_MSG_NEWSET of a verdict map with interval keys concatenated from nfields fields of the
 * given lengths in bytes (each padded to 4 in the key, as registers hold them); keytype: nft's
 * type id of the concatenation (what `nft list` shows). id: its set id in this batch.
 */
void ww_ovl_vmap_msg(struct ww_ovl *q, const char *name, uint32_t id, uint32_t keytype,
		     const uint8_t *fields, size_t nfields);
/* One element: the keys from key to key_end (keylen bytes each, inclusive), verdict jump. */
struct ww_ovl_elem {
	uint8_t key[WW_OVL_KEY_MAX], key_end[WW_OVL_KEY_MAX];
	const char *jump;
};
/* NFT_MSG_NEWSETELEM messages adding v[0..n) to map set (as many messages as needed). */
void ww_ovl_elems_msg(struct ww_ovl *q, const char *set, uint32_t keylen,
		      const struct ww_ovl_elem *v, size_t n);

#endif
