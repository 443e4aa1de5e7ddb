/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report -> stage 1: learning a zone's flows from what monitor mode let through
 * (docs/learn.md). Input: the records `wardwall serve` kept (events.jsonl) with verdict
 * "monitor" that touch the zone (either side), at or after `since`; the applied policy, which
 * named them. Output: that policy with what those records need added, and nothing else:
 *   - a host group "learned-N" for each address seen that is in a zone but in no host group
 *     (flows name zones and host groups, never addresses: this keeps the proposal to exactly the
 *     devices seen);
 *   - a service "learned-PROTO-PORT" (or -TYPE, or the protocol alone) for each service seen;
 *   - one allow flow "learned-ZONE-N" per (from, to), its services sorted, its description
 *     saying how many connections were seen and when (the evidence of what was seen).
 * The proposal is parsed and analysed as `check` would before it is returned: one that check
 * would refuse is never written. Nothing is applied.
 */
#ifndef WW_LEARN_H
#define WW_LEARN_H

#include <stdint.h>

#include "diag.h"
#include "snapshot.h"
#include "util.h"

struct ww_learned {
	char from[80], to[80]; /* endpoints as the proposal names them */
	char **services;       /* "tcp/8080" */
	size_t nservices;
	uint64_t *counts; /* per service */
	uint64_t n;
	int64_t first_ns, last_ns;
	char id[64];
};

struct ww_learn_result {
	struct ww_learned *flows;
	size_t nflows;
	uint64_t records, used, skipped_unzoned; /* read, learned from, addresses in no zone */
	char *policy;				 /* the proposal, JSON text */
};

/*
 * Learns zone's flows from the records under state_dir since since_ns. Returns 0, -ENOENT (no
 * policy applied, or no such zone: err says which), -EINVAL (the proposal would not pass
 * check: its diagnostics in err), or -errno.
 */
int ww_learn(const char *state_dir, const char *zone, int64_t since_ns, int64_t now,
	     struct ww_learn_result *res, struct strbuf *err);
void ww_learn_result_free(struct ww_learn_result *res);

/*
 * The allowed-traffic side (learn_counters.c): what the kernel's counters (both tiers, as
 * `stats` reads them) say about each allow flow of the applied policy that names the zone on
 * either side (the zone, one of its host groups, or "*"). Traffic since `since` (unix seconds)
 * is measured against the latest counter snapshot taken at or before it (snapshot.h: apply and
 * `stats --record` take them), as `stats --unused` does:
 *   WW_USAGE_USED    confirmed by traffic (packets: how many since);
 *   WW_USAGE_UNUSED  no traffic since: a candidate to narrow or remove;
 *   WW_USAGE_UNKNOWN no snapshot before `since` and a counter older than it.
 * Counters count connection-opening packets in the nftables tier and every packet in the XDP
 * tier; they say nothing of addresses or ports within a flow.
 */
struct ww_learn_allowed {
	char id[64];
	enum ww_usage state;
	uint64_t packets;  /* since (see above) */
	uint64_t total;	   /* since each counter started */
	uint64_t nft, xdp; /* total, per tier */
	const char *why;   /* static */
};

struct ww_learn_counters {
	struct ww_learn_allowed *v; /* sorted by flow id */
	size_t n;
	int64_t snapshot; /* the snapshot compared with, unix seconds; 0: none */
};

/* Returns 0, -ENOENT (no such zone applied, or no rules of either tier here: err says which),
 * or another -errno from reading the kernel (err says what). */
int ww_learn_counters(const char *state_dir, const char *bpffs, const char *zone, int64_t since,
		      struct ww_learn_counters *out, struct strbuf *err);
void ww_learn_counters_free(struct ww_learn_counters *c);

#endif
