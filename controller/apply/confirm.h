/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: commit confirmed. An `apply --confirm DURATION` leaves a pending record
 * (<state dir>/pending.json); unless `wardwall confirm` removes it before its deadline, the
 * previous generation is re-applied. The rollback does not depend on the applying process: a
 * systemd transient timer when systemd runs the machine and the state directory is the system
 * one, a detached guard process (`wardwall confirm --guard`) otherwise. Whoever acts on the
 * record first claims it by renaming it (one atomic rename), so a confirm and a rollback at the
 * deadline can never both happen.
 */
#ifndef WW_CONFIRM_H
#define WW_CONFIRM_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "apply.h"

struct ww_pending {
	unsigned long gen;      /* the generation on probation */
	unsigned long previous; /* what the rollback re-applies (0: nothing was applied: remove) */
	int64_t deadline;       /* unix seconds */
	char guard[96];         /* "process 1234" or "systemd timer wardwall-confirm-7" */
};

/* The state directory actually used for dir (NULL: $WARDWALL_STATE_DIR or the default). */
const char *ww_state_dir_of(const char *dir);

/* The pending record: 0, -ENOENT when there is none, -EBADMSG when unreadable. */
int ww_pending_load(const char *state_dir, struct ww_pending *out);
int ww_pending_save(const char *state_dir, const struct ww_pending *pd);
/*
 * Claims the pending record (for a confirm, or for the rollback at the deadline): renames it
 * away and returns 0 with *pd as it was, or -ENOENT when someone else claimed it first.
 */
int ww_pending_claim(const char *state_dir, struct ww_pending *pd);

/*
 * Re-applies generation target (0: removes wardwall's table and XDP), recorded as a rollback.
 * r may be NULL. Returns 0 or -errno (err says).
 */
int ww_rollback_to(const char *state_dir, const char *bpffs, unsigned long target,
		   struct ww_apply_result *r, struct strbuf *err);

/*
 * Starts what rolls back at pd's deadline without this process: writes its name into
 * pd->guard. self is this program's path (for the guard and the timer to run). Returns 0 or
 * -errno (err says).
 */
int ww_confirm_guard_start(const char *self, const char *state_dir, const char *bpffs,
			   struct ww_pending *pd, struct strbuf *err);

/*
 * The guard's work: waits until the pending record of generation gen is gone (confirmed, or
 * replaced) or its deadline has passed; then claims it and rolls back. *rolled_back tells
 * which happened. Returns 0 or -errno (err says).
 */
int ww_confirm_guard_wait(const char *state_dir, const char *bpffs, unsigned long gen,
			  bool *rolled_back, struct strbuf *out, struct strbuf *err);

/*
 * For restore at boot: a change still on probation (generation current) lost its guard or timer
 * with the machine. Past its deadline it is rolled back now (as the guard would have); before
 * it, a new guard is started for the time that remains (pd->guard names it). *what is "none" (no
 * pending change of generation current), "rolled-back" or "guarded"; out says it for the log.
 * Returns 0 or -errno (err says).
 */
int ww_confirm_resume(const char *self, const char *state_dir, const char *bpffs,
		      unsigned long current, struct ww_pending *pd, const char **what,
		      struct strbuf *out, struct strbuf *err);

#endif
