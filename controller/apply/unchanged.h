/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: an identical apply recognised from the policy file's bytes, without parsing,
 * analysing or compiling it (docs/nftables.md, "An identical apply").
 *
 * A full apply that leaves the kernel holding policy P under a valid mark (nft_mark.h) records
 * <state dir>/apply-source.json: the sha256 of the file's bytes and its path, the diagnostics
 * its analysis printed and when it ran, P's name and hash, the sizes of the compiled table, the
 * mark's ruleset generation and the sha256 of counters.json as that apply wrote it. A later
 * apply of the same bytes from the same path is a no-op when, all at once:
 *   - no apply is under way or interrupted (no intent), the current generation is P and the
 *     fail-closed policy is on disk (a full no-op would write neither);
 *   - the mark matches this boot, namespace, ruleset generation and binary, names P, and is the
 *     very mark the record was written with (so nothing committed since, by anyone);
 *   - XDP is off in P and nothing of wardwall's is pinned (a full apply would remove it);
 *     with XDP on the maps carry no generation the kernel advances on every write, so the full
 *     apply reads and compares them as always;
 *   - the analysis cannot say anything else now: every validity window's boundary was already
 *     in the past when it ran (then every comparison with the time gives the same answer
 *     later; a policy with a boundary still to come is not recorded), and the time is not
 *     before that run;
 *   - in host mode, no SSH session the policy could lock out is asking (SSH_CONNECTION set
 *     without --force: the full apply's guard evaluates it).
 * The no-op then does what a full one does when nothing changed: the counter snapshot when one
 * is due (snapshot.h: the newest is an hour old; the counters of counters.json, read by name)
 * and the report, with the recorded diagnostics.
 */
#ifndef WW_UNCHANGED_H
#define WW_UNCHANGED_H

#include <stdint.h>

#include "apply.h"
#include "nfr.h"
#include "state.h"

/* The policy file as the command read it (apply only). */
struct ww_apply_source {
	char sha256[65];   /* of its bytes */
	const char *diags; /* what its analysis printed ("" for nothing) */
	int64_t now;	   /* the time the analysis ran at (ww_now) */
};

/* What an identical apply reports instead of parsing: the policy's name and hash and the
 * analysis's diagnostics, to print as the full apply would have. */
struct ww_unchanged {
	char *name;
	char policy_sha256[65];
	char *diags;
};
void ww_unchanged_free(struct ww_unchanged *u);

/*
 * Whether applying the file at o->source whose bytes hash to sha256, at time now (ww_now),
 * would change nothing (see above): 1 with r and u filled and the snapshot taken, else 0 (a
 * full apply decides, and says what went wrong if anything did).
 */
int ww_apply_unchanged(const struct ww_apply_opts *o, const char sha256[65], int64_t now,
		       struct ww_apply_result *r, struct ww_unchanged *u);

/*
 * After an apply under st: records o->src for the next identical apply when the mark now names
 * p (whose hash is hash) at ruleset generation genid (mark_holds), else forgets any record (also
 * when o->src is NULL, with XDP on, or with a validity window boundary after src->now).
 * want: the compiled table. Without a record the next apply is a full one: nothing to report.
 */
void ww_apply_source_note(struct ww_state *st, const struct ww_policy *p, const char *hash,
			  const struct ww_apply_source *src, const char *source, bool mark_holds,
			  uint32_t genid, const struct nfr_table *want, bool xdp);

#endif
