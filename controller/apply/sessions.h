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

#include <stdbool.h>
#include <stdint.h>

#include "model.h"
#include "nft_overlay.h"
#include "util.h"

struct ww_sessions_cut {
	unsigned long checked; /* conntrack entries looked at */
	unsigned long cut;     /* deleted: allowed by the previous policy, denied by the new one */
	size_t window_ends;    /* places where a window's end is enforced (ww_window_table_sync) */
};

/* A connection never cut: the SSH session the command runs in (SSH_CONNECTION), so that an
 * apply forced past the lockout check finishes and records what it did. */
struct ww_session_spare {
	bool set;
	struct ww_addr client, server;
	unsigned int cport, sport;
};
/* From $SSH_CONNECTION ("client-ip client-port server-ip server-port"); unset when absent. */
void ww_session_spare_env(struct ww_session_spare *s);

/*
 * Deletes the conntrack entries old allows (or passes in monitor mode) and p denies at now,
 * except spare (may be NULL). old NULL: nothing to compare with, nothing is cut. Returns 0 or
 * -errno (err says why); entries gone meanwhile count as cut.
 */
int ww_sessions_cut_revoked(const struct ww_policy *old, const struct ww_policy *p, int64_t now,
			    const struct ww_session_spare *spare, struct ww_sessions_cut *res,
			    struct strbuf *err);

/*
 * Window ends, in the nftables tier (sessions_nft.c): table inet wardwall_windows holds, for
 * every place and time where a validity window's boundary turns the policy's decision into deny
 * (window_ends.h), an element of a verdict map keyed on the connection's original tuple whose
 * chain drops the packets of established connections there from that moment, both directions,
 * in the kernel. Rebuilt whole by every apply: the table deleted and, when there is something
 * to end, made again.
 *
 * ww_window_table_build builds those messages without sending them (apply appends them to its
 * own transaction: ww_nft_batch_append of ww_ovl_body(&m->q)); m->nregions: how many places.
 * Free m with ww_window_msgs_free (also after a failure). ww_window_table_sync builds and sends
 * them as a transaction of their own; *nregions as above. Both return 0 or -errno (err says why).
 */
#define WW_WINDOWS_TABLE "wardwall_windows"
struct ww_window_msgs {
	struct ww_ovl q;
	size_t nregions;
	bool built;
};
int ww_window_table_build(const struct ww_policy *p, int64_t now, struct ww_window_msgs *m,
			  struct strbuf *err);
void ww_window_msgs_free(struct ww_window_msgs *m);
int ww_window_table_sync(const struct ww_policy *p, int64_t now, size_t *nregions,
			 struct strbuf *err);
/* Deletes it (wardwall remove). Missing is fine. */
int ww_window_table_clear(struct strbuf *err);

/* What p and old decide for one connection in its opening direction: would it be cut? */
bool ww_session_revoked(const struct ww_policy *old, const struct ww_policy *p,
			const struct ww_addr *src, const struct ww_addr *dst, int proto, int key,
			int64_t now);

#endif
