/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4 (and 5) for XDP: the pinned program, maps and links under <bpffs>/wardwall, and
 * generations switched by one map write. See bpf/wardwall.h for the layouts.
 *
 * An apply with XDP goes: prepare (new inner maps filled into the inactive slot; nothing
 * enforces them yet), attach (links on interfaces new to the policy), then — once the nftables
 * transaction has committed — switch (one write to ww_active), then finish (drop links and
 * counter slots the policy no longer has). abort undoes prepare and attach.
 *
 * By stage: xdp_load.c (open, load, pin, remove), xdp_gen.c (counter slots, prepare, switch,
 * finish), xdp_link.c (attach, links_ok) and xdp_read.c (read, counters); xdp_int.h holds what
 * they share.
 */
#ifndef WW_XDP_TIER_H
#define WW_XDP_TIER_H

#include <stdbool.h>
#include <stdint.h>

#include "xdp_compile.h"
#include "model.h"
#include "util.h"

#define WW_BPFFS_DEFAULT "/sys/fs/bpf"

struct ww_xdp;

/* The bpffs mount to use: bpffs if given, else $WARDWALL_BPFFS, else /sys/fs/bpf. */
const char *ww_bpffs(const char *bpffs);
/*
 * When bpffs is WW_BPFFS_DEFAULT and no BPF file system is mounted there, mounts one (mode 0700)
 * and sets *mounted; any other directory is left to the caller. Returns 0 or -errno (err says).
 */
int ww_bpffs_ensure(const char *bpffs, bool *mounted, struct strbuf *err);

/*
 * Opens wardwall's pinned objects. With load, loads the program (creating and pinning what is
 * missing, keeping pinned maps so counters survive); without, only opens what is pinned and
 * returns -ENOENT when nothing is. Returns 0 or -errno, with err saying why.
 */
int ww_xdp_open(const char *bpffs, bool load, struct ww_xdp **out, struct strbuf *err);
void ww_xdp_close(struct ww_xdp *x);

struct ww_xdp_txn {
	bool prepared;
	int new_slot;
	char **attached; /* interfaces this transaction attached, for abort */
	size_t nattached;
	bool prog_replaced;
};

/* Is the kernel's active generation already img (after slot mapping)? */
int ww_xdp_same(struct ww_xdp *x, const struct ww_xdp_image *img, const struct ww_policy *p,
		bool *same, struct strbuf *err);
/* Are exactly the policy's interfaces attached, in its mode, to the current program? */
int ww_xdp_links_ok(struct ww_xdp *x, const struct ww_policy *p, bool *ok, struct strbuf *err);
/* Is each of the policy's interfaces attached, in its mode? Links the policy no longer lists
 * may remain (ww_xdp_finish detaches them after the switch). */
int ww_xdp_links_attached(struct ww_xdp *x, const struct ww_policy *p, bool *ok);

int ww_xdp_prepare(struct ww_xdp *x, const struct ww_xdp_image *img, const struct ww_policy *p,
		   struct ww_xdp_txn *t, struct strbuf *err);
int ww_xdp_attach(struct ww_xdp *x, const struct ww_policy *p, struct ww_xdp_txn *t,
		  struct strbuf *err);
int ww_xdp_switch(struct ww_xdp *x, struct ww_xdp_txn *t, struct strbuf *err);
/* After the switch: detach interfaces the policy no longer lists, free counter slots. */
int ww_xdp_finish(struct ww_xdp *x, const struct ww_policy *p, struct strbuf *err);
void ww_xdp_abort(struct ww_xdp *x, struct ww_xdp_txn *t);
void ww_xdp_txn_free(struct ww_xdp_txn *t);

/* Detaches every link and unpins everything under <bpffs>/wardwall. *changed: there was some. */
int ww_xdp_remove(const char *bpffs, bool *changed, struct strbuf *err);

/* ---- readback ---- */

struct ww_xdp_link {
	char ifname[16];
	uint32_t ifindex;
	bool generic;  /* attached in generic (skb) mode */
	bool present;  /* the interface exists and the link is attached to it */
	bool detached; /* the interface exists, but the link was detached from it */
	uint32_t prog_id;
};

struct ww_xdp_state {
	bool valid;    /* a generation is installed */
	uint32_t slot;
	uint64_t generation;
	char prog_tag[17];
	uint32_t prog_id;
	struct ww_xdp_link *links;
	size_t nlinks;
	struct ww_xdp_image img; /* the active generation, slots as the kernel has them */
	size_t nflow_slots, nzone_slots;
};

int ww_xdp_read(struct ww_xdp *x, struct ww_xdp_state *s, struct strbuf *err);
void ww_xdp_state_free(struct ww_xdp_state *s);

/* Counters of the flow with id (summed over CPUs); false if it has no slot. */
bool ww_xdp_flow_counter(struct ww_xdp *x, const char *id, uint64_t *packets, uint64_t *bytes);
/* Default counters of a zone pair (NULL or "-": no zone), summed over CPUs. */
bool ww_xdp_default_counter(struct ww_xdp *x, const char *src, const char *dst, uint64_t *packets,
			    uint64_t *bytes);
int ww_xdp_stats(struct ww_xdp *x, uint64_t *stats /* [WW_S_MAX] */);
/* The events each source zone's log budget refused (bpf/wardwall.h, ww_log_budget), by zone
 * slot, summed over CPUs. Returns 0, -ENOENT (the pinned program has no such map) or -ENOMEM. */
int ww_xdp_log_dropped(struct ww_xdp *x, uint64_t *dropped /* [WW_ZONE_SLOTS] */);
int ww_xdp_ringbuf_fd(struct ww_xdp *x);
/* The fd of the program ("prog") or of a map by its name in bpf/wardwall.bpf.c ("ww_ct"), or
 * -ENOENT; for tests and tools. The handle keeps ownership. */
int ww_xdp_fd(struct ww_xdp *x, const char *name);

#endif
