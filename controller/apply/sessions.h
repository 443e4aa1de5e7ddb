/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 4, apply: sessions end when access ends (docs/incident.md, "Sessions").
 *
 * nftables accepts the packets of an established connection before any flow is looked at, so a
 * connection a new policy revokes or narrows would go on until it closes by itself. After the
 * kernel holds the new policy, apply asks the model, for every conntrack entry, what the previous
 * policy and the new one decide for it as a new connection (its opening direction, at now), and
 * deletes through ctnetlink the entries that the previous policy let through (allow or monitor)
 * and the new one denies. The next packet of such a session is judged by the new policy as new,
 * and dropped. Entries the previous policy already denied are none of apply's business (traffic
 * wardwall does not filter, such as another interface's), and the first apply cuts nothing.
 *
 * The XDP tier needs nothing of this: its connection entries carry the generation that allowed
 * them, and the first packet under a new generation is decided again (bpf/wardwall.h).
 */
#ifndef WW_SESSIONS_H
#define WW_SESSIONS_H

#include <stdint.h>

#include "model.h"
#include "util.h"

struct ww_sessions_cut {
	unsigned long checked; /* conntrack entries looked at */
	unsigned long cut;     /* deleted: allowed by the previous policy, denied by the new one */
};

/*
 * Deletes the conntrack entries old allows (or passes in monitor mode) and p denies at now.
 * old NULL: nothing to compare with, nothing is cut. Returns 0 or -errno (err says why); entries
 * gone meanwhile count as cut.
 */
int ww_sessions_cut_revoked(const struct ww_policy *old, const struct ww_policy *p, int64_t now,
			    struct ww_sessions_cut *res, struct strbuf *err);

/* What p and old decide for one connection in its opening direction: would it be cut? */
bool ww_session_revoked(const struct ww_policy *old, const struct ww_policy *p,
			const struct ww_addr *src, const struct ww_addr *dst, int proto, int key,
			int64_t now);

#endif
