/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 2, analysis: what changes between two policies, in the policy's own terms. */
#ifndef WW_POLICY_DIFF_H
#define WW_POLICY_DIFF_H

#include <stddef.h>

#include "model.h"
#include "util.h"

enum ww_pd_op { WW_PD_ADDED, WW_PD_REMOVED, WW_PD_CHANGED };

struct ww_pd_item {
	const char *kind; /* "flow", "zone", "service", "defaults", "enforcement" */
	enum ww_pd_op op;
	char *name;
	char *detail; /* what changed, e.g. "services, valid"; NULL for added/removed */
	bool enforcement_neutral; /* only metadata changed (owner, ticket, ...) */
};

struct ww_pdiff {
	struct ww_pd_item *v;
	size_t n, cap;
};

/* Compares old (may be NULL: nothing applied) with new. Returns 0 or -ENOMEM. */
int ww_policy_diff(const struct ww_policy *old, const struct ww_policy *new, struct ww_pdiff *d);
void ww_pdiff_free(struct ww_pdiff *d);

const char *ww_pd_op_str(enum ww_pd_op op);

#endif
