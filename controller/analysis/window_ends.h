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
	int proto;	  /* a protocol number, or WW_PROTO_ANY: the protocols plo..phi */
	uint8_t plo, phi; /* the protocol numbers covered: proto itself, or, for "any", one run of
			     the numbers no other service of the pair names */
	uint16_t lo, hi;  /* key range of proto (port or ICMP type); for "any" 0..65535 */
	int64_t from, until;
	uint32_t flow; /* the flow whose window begins or ends at from (index into p->flows) */
};

/*
 * The regions still in force or ahead at now (until 0 or after now), over the classes of c.
 * *out is malloc'ed. Returns 0 or -ENOMEM.
 */
int ww_window_ends(const struct ww_policy *p, const struct ww_classes *c, int64_t now,
		   struct ww_window_end **out, size_t *n);

#endif
