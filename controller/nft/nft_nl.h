/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stages 4 and 5 for nftables: the only code that talks to nf_tables, through libnftnl and
 * libmnl. nft_batch.c linearizes the IR into one batch transaction; nft_read.c dumps wardwall's
 * table and delinearizes it back into the IR.
 */
#ifndef WW_NFT_NL_H
#define WW_NFT_NL_H

#include <stddef.h>
#include <stdint.h>

#include "nfr.h"
#include "util.h"

struct ww_nft;

/* Opens a netlink socket to nf_tables in the current network namespace. Returns 0 or -errno. */
int ww_nft_open(struct ww_nft **out);
void ww_nft_close(struct ww_nft *n);

/* The current ruleset generation. */
int ww_nft_genid(struct ww_nft *n, uint32_t *genid);

/*
 * Reads wardwall's table, `table inet wardwall` or `table bridge wardwall` (its family in
 * (*out)->family; with both, the inet one, and other_family set): *out is NULL when there is none. *genid is the generation
 * the whole read belongs to (the read is retried if the ruleset changes while it runs).
 * Counters carry their values. Returns 0 or -errno (message in err).
 */
int ww_nft_read(struct ww_nft *n, struct nfr_table **out, uint32_t *genid, struct strbuf *err);

/* The counters of the table named in names (a compiled table), with their values; a counter
 * the kernel does not have is left out. */
int ww_nft_read_counters(struct ww_nft *n, const struct nfr_table *names, struct nfr_table **out,
			 struct strbuf *err);
/* The counters of t (read at ruleset generation genid) read again into it, while the ruleset
 * generation is still genid before and after: no commit changed the table meanwhile, only
 * packets moved its counters. Returns 0, 1 (the generation moved: read the table again; t's
 * counters may be half updated) or -errno. */
int ww_nft_refresh_counters(struct ww_nft *n, struct nfr_table *t, uint32_t genid,
			    struct strbuf *err);

/* Debugging aid: every attribute of the table's sets and rules as libnftnl prints them. */
int ww_nft_dump_raw(struct ww_nft *n, struct strbuf *out);

/* ---- one transaction ---- */

struct ww_nft_batch;

/* The kinds of object a batch message is about. */
enum ww_objkind { WW_OBJ_TABLE, WW_OBJ_COUNTER, WW_OBJ_LIMIT, WW_OBJ_SET, WW_OBJ_CHAIN };

/* A new batch that the kernel refuses (-ERESTART) if the ruleset is no longer at genid. */
int ww_nft_batch_new(struct ww_nft_batch **out, uint32_t genid);
void ww_nft_batch_free(struct ww_nft_batch *b);
size_t ww_nft_batch_count(const struct ww_nft_batch *b);
/* The family of the table the messages appended from now on are about (a new batch: inet).
 * A change of mode deletes the table of one family and creates the other's in one batch. */
void ww_nft_batch_family(struct ww_nft_batch *b, enum nfr_family f);

/* Each call appends messages and returns 0 or -ENOMEM. `what` names the object for errors. */
int ww_nft_add_table(struct ww_nft_batch *b, const char *comment);
int ww_nft_del_table(struct ww_nft_batch *b);
int ww_nft_add_counter(struct ww_nft_batch *b, const struct nfr_counter *c, const char *what);
int ww_nft_add_limit(struct ww_nft_batch *b, const struct nfr_limit *l, const char *what);
int ww_nft_del_obj(struct ww_nft_batch *b, int type, const char *name, const char *what);
int ww_nft_add_set(struct ww_nft_batch *b, const struct nfr_set *s, const char *what);
int ww_nft_add_elems(struct ww_nft_batch *b, const struct nfr_set *s, const char *what);
/* Deletes from set s->name exactly the elements listed in s (keys only; data ignored). */
int ww_nft_del_elems(struct ww_nft_batch *b, const struct nfr_set *s, const char *what);
int ww_nft_flush_set(struct ww_nft_batch *b, const char *name, const char *what);
int ww_nft_del_set(struct ww_nft_batch *b, const char *name, const char *what);
int ww_nft_add_chain(struct ww_nft_batch *b, const struct nfr_chain *c, const char *what);
int ww_nft_add_rules(struct ww_nft_batch *b, const struct nfr_chain *c, const char *what);
int ww_nft_flush_chain(struct ww_nft_batch *b, const char *name, const char *what);
int ww_nft_del_chain(struct ww_nft_batch *b, const char *name, const char *what);

/*
 * Appends netlink messages built elsewhere (an overlay table's, nft_overlay.h: ww_ovl_body),
 * so that they commit in this transaction, all or nothing with the rest: each is copied,
 * renumbered into this batch and stripped of its acknowledgement request (the batch's last
 * message asks for it). name and what name them in errors (and in ww_nft_batch_refused, as a
 * table). Returns 0, -E2BIG (a message larger than a batch page takes) or -ENOMEM.
 */
int ww_nft_batch_append(struct ww_nft_batch *b, const void *msgs, size_t len, const char *name,
			const char *what);

/*
 * Sends the batch as one transaction and waits for the verdict. On failure the kernel changed
 * nothing; err names the object whose message failed and the kernel's reason. Returns 0,
 * -ERESTART (the ruleset changed since the batch's genid) or another -errno.
 */
int ww_nft_batch_commit(struct ww_nft *n, struct ww_nft_batch *b, struct strbuf *err);

/* An object whose message the kernel refused, found by the message's sequence number. */
struct ww_nft_refused {
	enum ww_objkind kind;
	const char *name; /* owned by the batch */
};

/* The objects the last ww_nft_batch_commit saw refused, in batch order (*v: the batch's). */
size_t ww_nft_batch_refused(const struct ww_nft_batch *b, const struct ww_nft_refused **v);

/* ---- the linearizer's independent check (tests, fuzzing) ---- */

/* The batch's messages as they would be sent, from the batch begin on, without the batch end:
 * appended to out. Returns 0 or -ENOMEM. */
int ww_nft_batch_bytes(struct ww_nft_batch *b, struct strbuf *out);

/*
 * Applies the messages of a batch (as ww_nft_batch_bytes gives them) to *t the way nf_tables
 * would, decoding each with the readback's decoders (nft_read.c): what the kernel would hold
 * after the commit, read back. *t NULL: no table yet; it is NULL again after a table deletion.
 * A message the kernel would refuse (an object that does not exist or exists twice, a deletion
 * of something still referred to, a rule or set wardwall does not write) stops the replay:
 * returns -ENOENT, -EEXIST, -EBUSY or -EINVAL with err naming the message; 0 on success.
 */
int ww_nft_batch_replay(struct nfr_table **t, const void *buf, size_t len, struct strbuf *err);

#endif
