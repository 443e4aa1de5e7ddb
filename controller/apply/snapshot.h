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

/*
 * The file holds at most WW_SNAPSHOTS_KEEP snapshots (WARDWALL_SNAPSHOTS overrides it, at least
 * 2): an append past it drops, one at a time, the snapshot whose loss matters least (the gap
 * to the one before it is the smallest for how far back it lies), never the oldest or the
 * newest, so that what is kept still spans the whole history, denser towards now (docs/cli.md,
 * "stats"). A comparison that would have used a dropped snapshot uses the one before it: it
 * counts traffic from earlier on, so "no traffic since" stays true where it is said.
 */
#define WW_SNAPSHOTS_KEEP 32
size_t ww_snapshot_keep(void);
/* An apply that changed nothing takes a snapshot only when the newest is at least this many
 * seconds old (WARDWALL_SNAPSHOT_INTERVAL overrides it; 0: every time). */
#define WW_SNAPSHOT_INTERVAL 3600
/* Whether such an apply takes one at time now (also when the clock went back). */
bool ww_snapshot_due(const char *state_dir, int64_t now);
/* The time of the last snapshot in the file, 0 when there is none. */
int64_t ww_snapshot_newest(const char *state_dir);

/* Appends one snapshot: n flows with their nftables and XDP packet counts, then trims the file
 * (above); appenders take turns (a lock on the file). */
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
