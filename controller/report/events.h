/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: the decisions both tiers log, as one record in policy terms, and the count of
 * those the rate limits kept from being logged.
 *
 * nftables: NFLOG messages (nflog.h) with the prefix "ww:<verdict>:<counter>" (nft_compile.h).
 * XDP: struct ww_event records from the ring buffer ww_events (bpf/wardwall.h), whose flow and
 * zones are stable slots, named through the pinned registries ww_flow_slots and ww_zone_slots.
 * Host groups, and for nftables the zones, come from classifying the addresses with the applied
 * generation's policy (eval.h): the record names what the policy calls them.
 */
#ifndef WW_EVENTS_H
#define WW_EVENTS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "xdp_tier.h"
#include "model.h"
#include "nflog.h"
#include "nfr.h"
#include "util.h"
#include "wardwall.h"

enum ww_tier { WW_TIER_NFT, WW_TIER_XDP };

/* One logged decision. Strings are never NULL. */
struct ww_logrec {
	int64_t time_ns; /* unix ns */
	enum ww_tier tier;
	const char *verdict;	      /* "allow", "deny", "monitor" */
	char flow[WW_FLOW_ID_LEN];    /* the deciding flow's id, or "default"; "?": unknown */
	char zone[2][WW_FLOW_ID_LEN]; /* source, destination: a zone, "-" for none, "?": unknown */
	char host[2][WW_EP_STRLEN];   /* "zone/host", or "" when the address is in no host group */
	char ifname[2][IF_NAMESIZE];  /* in, out; "" when none or gone */
	struct ww_tuple t;
};

struct ww_slot_name {
	uint32_t slot;
	char name[WW_FLOW_ID_LEN];
};

/* What names slots and addresses: the applied policy and the XDP slot registries. */
struct ww_lognames {
	unsigned long gen;	    /* the generation `policy` is; 0: none recorded */
	struct ww_policy *policy;   /* NULL: none recorded, or unreadable */
	struct ww_slot_name *flows; /* sorted by slot */
	size_t nflows;
	char zones[WW_ZONE_SLOTS][WW_FLOW_ID_LEN]; /* "": unknown slot */
};

/*
 * Loads the applied policy again when the recorded generation changed (state_dir as for
 * ww_state_open), and with x, reads the slot registries. Returns 0 or -errno; a missing or
 * unreadable record only leaves policy NULL.
 */
int ww_lognames_refresh(struct ww_lognames *n, const char *state_dir, struct ww_xdp *x);
void ww_lognames_free(struct ww_lognames *n);

/* Fills r from an NFLOG message; false if the message is not wardwall's ("ww:" prefix). */
bool ww_logrec_from_nflog(const struct ww_lognames *n, const struct ww_nflog_msg *m,
			  struct ww_logrec *r);
/* Fills r from a ring buffer record; false if a slot is not in n (refresh it, then retry: a
 * second false leaves "?" where names are missing, and r is still usable). */
bool ww_logrec_from_xdp(const struct ww_lognames *n, const struct ww_event *e, struct ww_logrec *r);
/* Does r involve zone z (either side)? */
bool ww_logrec_has_zone(const struct ww_logrec *r, const char *z);

/* One line, text or JSON, with its newline. */
void ww_logrec_print(const struct ww_logrec *r, bool json, struct strbuf *out);

/* "2026-03-10T08:00:00.123Z" into buf (at least WW_TIME_MS_STRLEN). */
#define WW_TIME_MS_STRLEN 40
char *ww_time_ms_str(int64_t ns, char *buf);

/* ---- what was not logged ---- */

struct ww_logdrop_counter {
	char *counter;
	uint64_t n;
};

/* Decisions a tier meant to log that never reached us, over one interval. */
struct ww_logdrops {
	int64_t time_ns;
	enum ww_tier tier;
	unsigned int interval; /* seconds */
	uint64_t rate_limited; /* over the log rate limit */
	uint64_t ring_full;    /* xdp: the ring buffer was full */
	bool overflow; /* nftables: our socket's buffer overflowed (counted in rate_limited) */
	struct ww_logdrop_counter *by_counter; /* nftables: per counter, sorted by name */
	size_t nby;
	/* Per source zone, whose log budget refused them ("-": no zone), sorted by name. XDP: the
	 * budgets' own counts; nftables: by the budget the counter's logging rules spend, "*"
	 * when they spend several zones' (a flow from several zones counts in one counter). */
	struct ww_logdrop_counter *by_zone;
	size_t nbz, bzcap;
};

/* Adds n to zone's entry of d->by_zone (made when absent). Returns 0 or -ENOMEM. */
int ww_logdrops_add_zone(struct ww_logdrops *d, const char *zone, uint64_t n);
/* Sorts d->by_zone by name, once every zone is added. */
void ww_logdrops_sort_zones(struct ww_logdrops *d);

void ww_logdrops_print(const struct ww_logdrops *d, bool json, struct strbuf *out);
void ww_logdrops_clear(struct ww_logdrops *d);

/*
 * The nftables estimate. A logging rule counts the packet (its named counter) before its limit
 * decides whether the packet is logged, so over an interval
 *     not logged = increase of the counter - messages received with that counter in the prefix,
 * for every counter that only logging rules of our group use. The counters are read after the
 * messages they count have been queued to us (the log statement sends at once, with queue
 * threshold 1), so the estimate can only be low at one reading — a packet counted in the
 * instant before the read but received after it — and what it missed shows at the next.
 */
struct ww_logacct {
	struct ww_logacct_entry *v;
	size_t n, cap;
};

/* A message with counter name `counter` was received. */
void ww_logacct_received(struct ww_logacct *a, const char *counter);
/*
 * Compares the counters of `live` (rules logging to `group`) with what was received since the
 * last call; the first call for a counter only takes its baseline. Fills d->by_counter and
 * d->rate_limited with what was not logged since the last call. Returns 0 or -ENOMEM.
 */
int ww_logacct_tick(struct ww_logacct *a, const struct nfr_table *live, uint16_t group,
		    struct ww_logdrops *d);
void ww_logacct_free(struct ww_logacct *a);

/* The NFLOG group live's rules log to, or -1 when none logs (or live is NULL). */
int ww_nft_log_group(const struct nfr_table *live);

#endif
