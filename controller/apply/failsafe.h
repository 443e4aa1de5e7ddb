/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: the fail-closed policy, what `restore` enforces when the last generation
 * cannot be (docs/operations.md). It is a policy like any other, derived from the applied one:
 * the same zones and interfaces, only the flows marked "management", every default deny, every
 * zone enforcing (no monitor mode), no invariants, no XDP. Every apply saves it beside the
 * generations as <state dir>/failsafe.json, so that it survives a corrupt generation.
 */
#ifndef WW_FAILSAFE_H
#define WW_FAILSAFE_H

#include <stdbool.h>

#include "model.h"
#include "util.h"

#define WW_FAILSAFE_FILE "failsafe.json"

/* The fail-closed policy of p into *out (untouched on failure). Returns 0 or -errno. */
int ww_failsafe_policy(const struct ww_policy *p, struct ww_policy **out);

/* Writes p's fail-closed policy to <state_dir>/failsafe.json (atomically). Returns 0 or -errno. */
int ww_failsafe_save(const char *state_dir, const struct ww_policy *p);
/* Whether <state_dir>/failsafe.json exists (readable or not). */
bool ww_failsafe_exists(const char *state_dir);

/*
 * The fail-closed policy saved in state_dir. When it is missing or unreadable (why says so), the
 * built-in one: a single zone holding every address and every default deny, so that all
 * forwarded traffic is dropped; *builtin tells which. Returns 0 or -ENOMEM.
 */
int ww_failsafe_load(const char *state_dir, struct ww_policy **out, bool *builtin,
		     struct strbuf *why);

#endif
