/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: the intent record that makes apply, rollback and remove crash-safe.
 *
 * "<state>/intent.json" is written (temp file, fsync, rename, fsync of the directory) before the
 * first change to the kernel, after the canonical policy is saved as generations/<gen>.json, and
 * removed once both tiers and the records (history line, `current`, counters, mark) agree. While
 * it exists and no process holds the state lock, an apply was interrupted (kill -9, power loss)
 * somewhere between those points: ww_recover() then finishes it (applies the saved policy again:
 * both tiers new, exactly one history line) or, when that fails, undoes it (the generation before
 * it, or nothing, as a new generation). apply, rollback and remove recover first under their own
 * lock; the commands that only read state call ww_recover() before reading; `restore` at boot
 * must call it too.
 *
 * Stop points: ww_stop_point(NAME) kills the process with SIGKILL when $WARDWALL_STOP_AT is NAME,
 * so tests interrupt an apply at every step boundary (docs/architecture.md lists them).
 */
#ifndef WW_INTENT_H
#define WW_INTENT_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"
#include "util.h"

struct ww_intent {
	char action[16];        /* apply, rollback, remove or restore (gen == prev: no new one) */
	unsigned long gen;      /* the generation (history line) it records */
	unsigned long prev;     /* the generation current before it (0: none) */
	char policy_sha256[65]; /* apply, rollback: the policy saved in generations/<gen>.json */
	char source[256];
	unsigned long restores; /* rollback: the generation re-applied */
	char bpffs[256];        /* the bpffs the XDP tier lives in ("": the default) */
	int pid;
	int64_t time;
};

/* Writes the intent record durably. The caller holds the state lock. Returns 0 or -errno. */
int ww_intent_begin(struct ww_state *st, const struct ww_intent *in);
/* Reads it: 1 when there is one (filled in), 0 when none, -errno (-EBADMSG: unreadable). */
int ww_intent_load(struct ww_state *st, struct ww_intent *in);
/* Removes it, durably: the apply is complete (or left nothing behind). Returns 0 or -errno. */
int ww_intent_end(struct ww_state *st);

/* What ww_recover found and did. */
struct ww_recovery {
	bool found;    /* an interrupted apply, rollback or remove */
	bool finished; /* rolled forward: the kernel and the records hold its generation */
	bool undone;   /* rolled back: the generation before it (or nothing), recorded anew */
	struct ww_intent intent;
	unsigned long gen; /* the generation current afterwards */
};

/*
 * Detects an interrupted apply, rollback or remove in the state directory and finishes or
 * undoes it, under the state lock; also cuts a torn last history line and removes stale
 * "*.tmp.<pid>" files of dead processes. Returns 0 (rec says what happened: nothing found when
 * there is no intent, when a live apply holds the lock, or when this user may not read the
 * state), or -errno with err saying why (the intent is kept, so the next command tries again).
 * state_dir and bpffs NULL: the defaults; the intent's own bpffs wins.
 */
int ww_recover(const char *state_dir, const char *bpffs, struct ww_recovery *rec,
	       struct strbuf *err);
/* The same, for a caller that already holds the lock on st. */
int ww_recover_locked(struct ww_state *st, const char *bpffs, struct ww_recovery *rec,
		      struct strbuf *err);

#endif
