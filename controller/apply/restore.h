/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: restore, the boot path. Re-enforces the current generation recorded in the
 * state directory (both tiers, as one apply), and when that cannot be done, enforces what the
 * generation's enforcement.on_failure asks for: the fail-closed policy (failsafe.h) or nothing.
 */
#ifndef WW_RESTORE_H
#define WW_RESTORE_H

#include "apply.h"
#include "intent.h"

enum ww_restore_outcome {
	WW_RESTORED,        /* the current generation is enforced */
	WW_RESTORE_NOTHING, /* no generation is current (never applied, or removed) */
	WW_FAILED_CLOSED,   /* the fail-closed policy is enforced */
	WW_FAILED_OPEN,     /* on_failure "open": the kernel was left as it was */
};

struct ww_restore_result {
	enum ww_restore_outcome outcome;
	unsigned long gen;          /* the current generation (0: none, or unreadable) */
	char policy_name[72];       /* of what is enforced now */
	char policy_sha256[65];
	bool builtin;               /* WW_FAILED_CLOSED with the built-in fail-closed policy */
	struct ww_apply_result apply; /* of the generation, or of the fail-closed policy */
	struct ww_recovery recovery;  /* an interrupted change finished or undone first */
	size_t quarantines;           /* WW_RESTORED: the quarantines in force again */
	bool quarantine_failed;       /* WW_RESTORED, but re-applying them failed (reason) */
	double ms;                  /* the whole restore */
};

/*
 * Restores. Returns 0 (WW_RESTORED or WW_RESTORE_NOTHING) or -errno when the generation could
 * not be enforced; then reason says why (the generation's problem, and what was done instead)
 * and r->outcome what is enforced now. A failure of the fail-closed policy itself is said in
 * reason too. Calls ww_recover() first, and re-applies the quarantines in force at now
 * (ww_quarantine_restore) over a restored generation: a failure there is said in reason with
 * r->quarantine_failed, and 0 is returned (the generation holds).
 */
int ww_restore(const char *state_dir, const char *bpffs, int64_t now, struct ww_restore_result *r,
	       struct strbuf *reason);

/* "restored", "nothing", "fail-closed", "fail-open" */
const char *ww_restore_outcome_str(enum ww_restore_outcome o);

#endif
