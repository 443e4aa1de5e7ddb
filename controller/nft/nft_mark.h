/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The mark: which ruleset generation of which network namespace holds exactly what wardwall
 * wrote (or last read and found in order), compiled from which policy by which binary.
 *
 * Every committed nf_tables transaction in a network namespace advances its ruleset generation,
 * whoever commits it and whatever table it touches. So while the namespace (its cookie, in
 * this boot) and the generation are the recorded ones, nothing has changed the ruleset since,
 * and `apply` can trust the table to be what the recorded policy compiles to instead of reading
 * it back: a no-op apply compiles only, a change is diffed against the recorded policy. Any
 * other commit (nft, firewalld, Docker, a reboot, another namespace) breaks the match and the
 * table is read as always. `plan`, `show`, `stats`, `metrics` and `serve` trust it too (only
 * counters are read then: packets move them without a commit); the evidence always reads the
 * kernel.
 *
 * The mark lives in <state dir>/nft-mark.json.
 */
#ifndef WW_NFT_MARK_H
#define WW_NFT_MARK_H

#include <stdbool.h>
#include <stdint.h>

#include "nft_sock.h"

struct ww_nft_mark {
	char boot_id[40];          /* /proc/sys/kernel/random/boot_id */
	uint64_t netns_cookie;     /* SO_NETNS_COOKIE of the netlink socket */
	uint32_t genid;            /* the ruleset generation */
	char binary_sha256[65];    /* of the wardwall binary that compiled the table */
	char policy_sha256[65];    /* the policy the table was compiled from */
};

/* Where n is now: boot, namespace, current generation and this binary (policy left empty).
 * Returns 0 or -errno (no mark can be trusted then). */
int ww_nft_mark_here(struct ww_nft *n, struct ww_nft_mark *m);
/* Whether the recorded mark m describes the place `here` (all but the policy). */
bool ww_nft_mark_matches(const struct ww_nft_mark *m, const struct ww_nft_mark *here);

/* Whether state_dir's mark matches the place n is in and names the policy policy_sha256: the
 * table is then exactly what that policy compiles to; *genid: the generation now. */
bool ww_nft_mark_vouches(struct ww_nft *n, const char *state_dir, const char *policy_sha256,
			 uint32_t *genid);

/* Reads the mark of state_dir: 0, -ENOENT (none) or -EBADMSG (unreadable). */
int ww_nft_mark_load(const char *state_dir, struct ww_nft_mark *m);
/* Records m (written atomically); ww_nft_mark_clear forgets it. */
int ww_nft_mark_save(const char *state_dir, const struct ww_nft_mark *m);
void ww_nft_mark_clear(const char *state_dir);

/* The generation a commit made on top of genid produces (the kernel skips 0). */
uint32_t ww_nft_genid_next(uint32_t genid);

#endif
