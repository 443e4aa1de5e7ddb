/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The controller's own records under /var/lib/wardwall (or --state-dir, or WARDWALL_STATE_DIR):
 *   lock                  held by apply, rollback and remove: one writer at a time
 *   generations/N.json    the canonical policy of generation N
 *   generations/N.quarantine.json, N.flow-ids   what a quarantine reads of it (quarantine.h)
 *   history.jsonl         one line per apply, rollback or remove, each carrying the sha256 of
 *                         the line before it, so the history is tamper-evident
 *   current               the generation the kernel should hold (0: none)
 *   nft-mark.json         the ruleset generation wardwall last left (nft_mark.h)
 *   intent.json           present only while an apply, rollback or remove runs, or after one
 *                         was interrupted (intent.h)
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
/*
 * The same, and sha256: the sha256 of the file's bytes. The file is the canonical text
 * (ww_state_save_policy), so when this equals a policy hash recorded by this binary (the mark,
 * the history), the policy parsed is the one that hash names, without printing it again
 * (a canonical print is about a second at 100k flows). A file written otherwise (by another
 * binary, or edited) only fails to match: the caller then does what it does for any mismatch.
 */
int ww_state_policy_sha(struct ww_state *s, unsigned long gen, struct ww_policy **out,
			struct ww_diags *d, char sha256[65]);
/* Records an apply or rollback of p as a new generation, or (p NULL) a remove. */
int ww_state_record(struct ww_state *s, const struct ww_policy *p, const char *action,
		    const char *source, unsigned long restores, unsigned long *gen);
/* The generation number of the history's last line (0: none). */
int ww_state_last_gen(struct ww_state *s, unsigned long *last);
/* Writes p's canonical form as generations/<gen>.json (durably); forget removes it. text: p's
 * canonical text when the caller has it (ww_policy_print_canonical), or NULL. */
int ww_state_save_policy(struct ww_state *s, unsigned long gen, const struct ww_policy *p,
			 const struct strbuf *text);
void ww_state_forget_policy(struct ww_state *s, unsigned long gen);
/*
 * The second half of ww_state_record, for an apply that saved its policy first (intent.h):
 * appends history line gen (0: the next) unless the history has it already — an interrupted
 * apply's line is never written twice — then writes `current`. -ESTALE when gen is not the
 * next line. Stop points "history-appended" and "current-written". policy_sha256: p's
 * ww_policy_hash when the caller has it, or NULL.
 */
int ww_state_record_gen(struct ww_state *s, const struct ww_policy *p, const char *policy_sha256,
			const char *action, const char *source, unsigned long restores,
			unsigned long gen);
/* Cuts a last history line that a crash left without its newline. Returns 0 or -errno. */
int ww_state_repair_history(struct ww_state *s);
/* Removes "*.tmp.<pid>" files of processes that no longer run (write_file_atomic leftovers). */
void ww_state_clean_tmp(struct ww_state *s);
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
