/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The readback's decoders (nft_read.c), internal to controller/nft/: each turns one nf_tables
 * message, as the kernel dumps it, into IR and appends it to the table in its context. Shared
 * with nft_replay.c, which runs the same decoders over a batch (the linearizer's check).
 */
#ifndef WW_NFT_DECODE_H
#define WW_NFT_DECODE_H

#include <libmnl/libmnl.h>
#include <libnftnl/set.h>
#include <stdbool.h>

#include "nfr.h"

struct rctx {
	struct nfr_table *t;
	enum nfr_family family; /* of the table read: chains and expressions are decoded for it */
	struct strbuf *raw; /* raw dump mode */
	bool found;
	int err;
};

/* mnl callbacks: data is a struct rctx; failures set its err (objects not wardwall's table's
 * are skipped). rule_cb appends to the chain the rule names, which must be in the sorted table. */
int ww_nftd_table_cb(const struct nlmsghdr *nlh, void *data);
int ww_nftd_chain_cb(const struct nlmsghdr *nlh, void *data);
int ww_nftd_obj_cb(const struct nlmsghdr *nlh, void *data);
int ww_nftd_rule_cb(const struct nlmsghdr *nlh, void *data);
int ww_nftd_set_cb(const struct nlmsghdr *nlh, void *data);

/* Elements of one set, collected raw (interval starts and ends) and rebuilt once all are in.
 * An element of a concatenation is whole: its fields from key, c[] to key_end, cend[]. */
struct raw_elem {
	u128 key, key_end;
	uint32_t c[NFR_CAT_MAX - 1], cend[NFR_CAT_MAX - 1];
	bool end;
	struct nfr_verdict v;
	char *ifname;
	char *obj; /* an object map's counter */
};

/* Frees what a raw element owns. */
void ww_nftd_raw_free(struct raw_elem *r);
/* Whether two raw elements have the same key (the kernel's identity of an element). */
bool ww_nftd_raw_same_key(const struct raw_elem *a, const struct raw_elem *b);

struct elems_ctx {
	struct rctx *c;
	struct nfr_set *set;
	struct raw_elem *v;
	size_t n, cap;
};

/* nftnl_set_elem_foreach callback: data is a struct elems_ctx whose set is already known. */
int ww_nftd_elem_cb(struct nftnl_set_elem *e, void *data);
/* Appends the collected elements to ec->set as [lo, hi] pairs and frees them. */
void ww_nftd_rebuild(struct elems_ctx *ec);

#endif
