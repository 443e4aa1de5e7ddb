/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4 for nftables: what must change in the kernel to go from the live table to the
 * compiled one, as one ordered batch (objects are created before anything refers to them and
 * deleted after nothing does). Content-addressed objects change by being created anew; the
 * stable-named flow maps (`fp4/<class>`, ...) change element by element.
 */
#ifndef WW_NFT_DIFF_H
#define WW_NFT_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "nfr.h"
#include "nft_nl.h"

enum ww_op { WW_ADD, WW_DEL, WW_CHANGE };

struct ww_nft_change {
	enum ww_op op;
	enum ww_objkind kind;
	const char *name; /* points into the live or the wanted table */
	/* A WW_CHANGE of a stable-named map (a flow map, nfr_set.cat): */
	bool elems;    /* only elements differ: the batch deletes and adds just those */
	bool recreate; /* its type differs: deleted and created again, its chains rewritten */
};

struct ww_nft_diff {
	struct ww_nft_change *v;
	size_t n, cap;
	/* The live table cannot be edited into the wanted one (a foreign base chain or a set of
	 * another type under one of wardwall's names): it is replaced whole, counters reset. */
	bool replace;
};

/* live may be NULL (no table). Both tables sorted. Returns 0 or -ENOMEM. */
int ww_nft_diff(const struct nfr_table *live, const struct nfr_table *want, struct ww_nft_diff *d);
void ww_nft_diff_free(struct ww_nft_diff *d);
size_t ww_nft_diff_count(const struct ww_nft_diff *d, enum ww_op op, enum ww_objkind kind);

/* Appends the diff's messages to b. Returns 0 or -errno. */
int ww_nft_diff_batch(const struct nfr_table *live, const struct nfr_table *want,
		      const struct ww_nft_diff *d, struct ww_nft_batch *b);

/* Appends the deletion of the live table, and of the other family's when live says there is
 * one. Returns 0 or -ENOMEM. */
int ww_nft_del_tables(struct ww_nft_batch *b, const struct nfr_table *live);

/* "chain dec-1a2b (flows a, b)": what an object is, in policy terms where possible. */
void ww_nft_describe(const struct nfr_table *t, enum ww_objkind kind, const char *name,
		     struct strbuf *out);

#endif
