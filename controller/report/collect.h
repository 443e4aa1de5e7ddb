/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: one read of everything the kernel holds that stats, metrics and evidence
 * show — counters of both tiers, the decoded ruleset, the XDP state, and whether all of it
 * equals what the applied generation compiles to. Counts and enforcement come from the
 * kernel; the recorded policy only lends names (a flow's zones, owner, controls).
 */
#ifndef WW_COLLECT_H
#define WW_COLLECT_H

#include <stdbool.h>
#include <stdint.h>

#include "nft_diff.h"
#include "xdp_tier.h"
#include "nfr.h"
#include "nft_readback.h"
#include "state.h"

struct ww_tier_count {
	bool present;
	uint64_t packets, bytes;
	int64_t since; /* unix seconds the counter started at, 0: unknown */
};

struct ww_flow_stat {
	char *id;
	const struct ww_flow *flow; /* in the applied policy, or NULL if the kernel has a flow the
				       record does not */
	struct ww_tier_count nft, xdp;
};

struct ww_default_stat {
	char *src, *dst; /* zone names, "-" for no zone */
	enum ww_rb_verdict verdict;
	struct ww_tier_count nft, xdp;
};

struct ww_collect {
	int64_t time;
	struct ww_generation gen;  /* gen.gen == 0: nothing recorded */
	struct ww_policy *applied; /* the recorded generation's policy, or NULL */
	char applied_sha256[65];   /* of its file's bytes (ww_state_policy_sha) */
	struct nfr_table *live;    /* NULL: no table */
	struct ww_readback rb;
	struct nfr_table *expected; /* the applied generation, compiled */
	struct ww_nft_diff drift;  /* live vs expected (names point into both) */
	bool drift_known;
	bool has_xdp;
	struct ww_xdp *xdp;
	struct ww_xdp_state xs;
	uint64_t xdp_stats[WW_S_MAX];
	int xdp_same; /* -1: not applicable, 0: differs, 1: equal */
	int xdp_links; /* -1: not applicable, 0: the links differ from the policy's interfaces, 1: equal */
	struct ww_flow_stat *flows;
	size_t nflows;
	struct ww_default_stat *defaults;
	size_t ndefaults;
	uint64_t ct_invalid;
	uint32_t genid; /* the nftables ruleset generation live was read at */
	bool vouched;	/* live was not read back: it is expected, as the mark vouches (only its
			   counters were read; ww_collect_vouched) */
	/* A change of `apply --confirm` waiting for `wardwall confirm` (confirm.h) */
	bool pending;
	unsigned long pending_gen, pending_previous;
	int64_t pending_deadline;
};

/*
 * Reads everything into c: one generation, never a mix. A read during which an apply, rollback
 * or remove was under way (its intent record, intent.h, held by a live process), a commit
 * happened, or the applied or XDP generation moved is read again, for up to
 * WW_COLLECT_SETTLE_MS. Returns 0, -EAGAIN when the kernel was still between two generations
 * then (err says why), or another -errno.
 */
#define WW_COLLECT_SETTLE_MS 10000
int ww_collect(const char *state_dir, const char *bpffs, struct ww_collect *c, struct strbuf *err);
/*
 * ww_collect, except that while the mark vouches for the table (nft_mark.h: the ruleset
 * generation is still the one wardwall's own commit of the applied generation left) the table
 * is taken as that generation compiles to and only its counters are read from the kernel
 * (c->vouched). For show; evidence reads everything back.
 */
int ww_collect_vouched(const char *state_dir, const char *bpffs, struct ww_collect *c,
		       struct strbuf *err);
/* ww_collect_vouched for the counts only (stats, metrics, serve): c->rb holds the hook, the
 * interfaces and the defaults, no zones and no facts (ww_readback_defaults). */
int ww_collect_counts(const char *state_dir, const char *bpffs, struct ww_collect *c,
		      struct strbuf *err);
/*
 * Reads the counters of both tiers again into c (a collection of ww_collect or
 * ww_collect_vouched), keeping what only a commit or an apply changes: the table, its
 * readback, the drift, the XDP state. Returns 0; 1 when that structure is no longer current
 * (an apply under way, or the nftables ruleset generation, the XDP generation or the applied
 * generation moved: collect again; c is left whole); or -errno.
 */
int ww_collect_refresh(const char *state_dir, struct ww_collect *c, struct strbuf *err);
void ww_collect_free(struct ww_collect *c);

/* Is the kernel exactly what the applied generation compiles to (both tiers)? */
bool ww_collect_in_sync(const struct ww_collect *c);

/* ww_stat names for ww_stats entries ("truncated", "not_ip"...). */
const char *ww_xdp_stat_name(int stat);

#endif
