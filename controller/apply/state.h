/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's own records under /var/lib/wardwall (or --state-dir, or WARDWALL_STATE_DIR):
 *   lock                  held by apply, rollback and remove: one writer at a time
 *   generations/N.json    the canonical policy of generation N
 *   history.jsonl         one line per apply, rollback or remove, each carrying the sha256 of
 *                         the line before it, so the history is tamper-evident
 *   current               the generation the kernel should hold (0: none)
 *   nft-mark.json         the ruleset generation wardwall last left (nft_mark.h)
 * The kernel is the truth about what is enforced; these records say what was intended.
 */
#ifndef WW_STATE_H
#define WW_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"
#include "util.h"

#define WW_STATE_DIR "/var/lib/wardwall"

struct ww_state;

struct ww_generation {
	unsigned long gen;
	int64_t time;
	char user[64];
	char action[16]; /* apply, rollback, remove */
	char policy_sha256[65];
	char policy_name[72];
	char source[256];
	unsigned long restores; /* rollback: the generation whose policy it re-applied */
};

/* Opens (creating) the state directory; with lock, takes the writer lock or fails with
 * -EBUSY naming the holder in err. Returns 0 or -errno. */
int ww_state_open(const char *dir, bool lock, struct ww_state **out, struct strbuf *err);
void ww_state_close(struct ww_state *s);
const char *ww_state_dir(const struct ww_state *s);

/* The current generation: 0 and gen->gen == 0 when nothing is applied. */
int ww_state_current(struct ww_state *s, struct ww_generation *gen);
/* All recorded events, oldest first. */
int ww_state_history(struct ww_state *s, struct ww_generation **out, size_t *n);
/* Loads generation gen's policy. */
int ww_state_policy(struct ww_state *s, unsigned long gen, struct ww_policy **out,
		    struct ww_diags *d);
/* Records an apply or rollback of p as a new generation, or (p NULL) a remove. */
int ww_state_record(struct ww_state *s, const struct ww_policy *p, const char *action,
		    const char *source, unsigned long restores, unsigned long *gen);
/*
 * When each counter started counting ("counters.json": name -> unix seconds). Names are
 * "nft:<counter>" and "xdp:<flow id>". ww_state_counters_update sets `now` for names not yet
 * known among `present` and forgets names not in `present`. Loaded names come sorted;
 * ww_state_counter_since searches them (0: unknown).
 */
int ww_state_counters_load(struct ww_state *s, char ***names, int64_t **since, size_t *n);
int ww_state_counters_update(struct ww_state *s, const char *const *present, size_t n,
			     int64_t now);
int64_t ww_state_counter_since(char **names, int64_t *since, size_t n, const char *name);

/* Verifies the history's hash chain; returns 0, or -EBADMSG with the broken line in err. */
int ww_state_verify_history(struct ww_state *s, struct strbuf *err);

#endif
