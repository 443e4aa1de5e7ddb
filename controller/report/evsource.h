/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: the event stream of both tiers, as `wardwall events` and `wardwall serve`
 * read it: NFLOG (nftables) and the XDP ring buffer, decoded into records (events.h), and every
 * WW_EVSOURCE_TICK seconds what the rate limits kept from being logged. One process at a time
 * can hold a namespace's NFLOG group (nflog.h).
 */
#ifndef WW_EVSOURCE_H
#define WW_EVSOURCE_H

#include <stdbool.h>

#include "events.h"

#define WW_EVSOURCE_TICK 2 /* seconds between reports of what was not logged */

struct ww_evsource_opts {
	const char *state_dir, *bpffs;
	bool want_nft, want_xdp;
	/* Each record; returning true stops ww_evsource_run. */
	bool (*on_rec)(const struct ww_logrec *r, void *arg);
	/* What a tier did not log over the last interval (only when something was not). */
	void (*on_drops)(const struct ww_logdrops *d, void *arg);
	/* Every tick, after the names were refreshed (may be NULL). */
	void (*on_tick)(int64_t now_ns, void *arg);
	void *arg;
	const char *who; /* for messages: "events", "serve" */
};

struct ww_evsource;

/* Opens the tiers asked for (one missing is fine while the other is there), names from the
 * applied generation; says on stderr what it listens to. Returns 0 or -errno (said). */
int ww_evsource_open(const struct ww_evsource_opts *o, struct ww_evsource **out);
/* The names (applied policy) records are classified with; refreshed at every tick. */
const struct ww_lognames *ww_evsource_names(const struct ww_evsource *s);
/* Runs until stop_fd is readable (-1: never) or on_rec asks to stop. Returns 0 or -errno. */
int ww_evsource_run(struct ww_evsource *s, int stop_fd);
void ww_evsource_close(struct ww_evsource *s);

#endif
