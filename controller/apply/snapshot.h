/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Counter snapshots (<state dir>/snapshots.jsonl): the per-flow packet counts of both tiers at
 * an instant. Kernel counters only grow, so "no traffic since D" is provable only against a
 * snapshot taken at or before D; apply and `stats --record` take them.
 */
#ifndef WW_SNAPSHOT_H
#define WW_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "collect.h"
#include "util.h"

/* Appends one snapshot: n flows with their nftables and XDP packet counts. */
int ww_snapshot_append(const char *state_dir, int64_t time, const char *const *ids,
		       const uint64_t *nft, const uint64_t *xdp, size_t n, struct strbuf *err);
/* Appends a snapshot of the flow counters of live (counters named flow/<id>; NULL: none) and
 * of xdp (may be NULL), taken now; a failure is not reported (a snapshot is a convenience). */
void ww_snapshot_live(const char *state_dir, const struct nfr_table *live, struct ww_xdp *xdp);
/* Appends a snapshot of a collection. */
int ww_snapshot_record(const char *state_dir, const struct ww_collect *c, struct strbuf *err);
/* How a flow was used since a date (the order is the order stats --unused prints in). */
enum ww_usage { WW_USAGE_UNUSED, WW_USAGE_USED, WW_USAGE_UNKNOWN };

struct ww_flow_usage {
	const struct ww_flow_stat *f; /* in the collection */
	enum ww_usage state;
	/* Packets (both tiers) since the snapshot taken at or before the date; without one,
	 * since the counter started (then state is USED only if it started after the date). */
	uint64_t packets;
	uint64_t total;	 /* since the counter started */
	const char *why; /* a static phrase, "" when unknown */
};

/*
 * For each flow c->flows[i], u[i]: had it traffic since `since`? Compared with the latest
 * snapshot taken at or before since (its time in *snap_time, 0: none, then from the counters'
 * start times). Returns 0.
 */
int ww_snapshot_usage(const char *state_dir, const struct ww_collect *c, int64_t since,
		      struct ww_flow_usage *u, int64_t *snap_time, struct strbuf *err);
/* Which flows of c had no traffic since `since`, which did, and which cannot be told. */
int ww_snapshot_unused(const char *state_dir, const struct ww_collect *c, int64_t since,
		       bool json, struct strbuf *out, struct strbuf *err);

#endif
