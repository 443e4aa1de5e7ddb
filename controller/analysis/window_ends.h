/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3, analysis: where and when a validity window ends access (docs/incident.md,
 * "Sessions"). A window's boundary (an allow's end, a deny's start) can turn what the policy
 * decides from allow into deny; a connection opened before it must end then. Worked out from the
 * decision lists (decision.h), so the answer is the policy's own: a connection that another flow
 * still allows after the boundary is not in any region.
 */
#ifndef WW_WINDOW_ENDS_H
#define WW_WINDOW_ENDS_H

#include <stddef.h>
#include <stdint.h>

#include "decision.h"
#include "model.h"

/*
 * From `from` until `until` (0: from then on) the policy denies connections from class src to
 * class dst of protocol proto with key (destination port or ICMP type) in [lo, hi], and just
 * before `from` it let them through (allow, or monitor).
 */
struct ww_window_end {
	ww_ep_t src, dst;
	int proto; /* a protocol number: every protocol at once ("any") is not cut */
	uint16_t lo, hi;
	int64_t from, until;
	uint32_t flow; /* the flow whose window begins or ends at from (index into p->flows) */
};

/*
 * The regions still in force or ahead at now (until 0 or after now), over the classes of c.
 * *out is malloc'ed. Returns 0 or -ENOMEM.
 */
int ww_window_ends(const struct ww_policy *p, const struct ww_classes *c, int64_t now,
		   struct ww_window_end **out, size_t *n);

/* The prefixes of class ep (its flattened intervals). *out is malloc'ed. Returns 0 or -ENOMEM. */
int ww_class_prefixes(const struct ww_classes *c, ww_ep_t ep, struct ww_prefix **out, size_t *n);

#endif
