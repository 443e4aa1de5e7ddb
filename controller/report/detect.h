/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: detectors over the event stream (the decoded records `wardwall events`
 * prints, events.h). Pure computation: records in, alerts out through a callback; no I/O.
 *
 *   scan        one source address denied towards >= scan.targets distinct (address, port)
 *               targets within scan.window seconds
 *   lateral     a denied attempt from one clinical zone (criticality >= lateral.min_criticality)
 *               into another, or from any other zone towards a life-critical zone
 *   new_talker  in a monitor-mode zone, a (source, destination, service) never seen before
 *   flood       >= flood.rate x flood.window denials from one source within flood.window seconds
 *
 * "Denied" counts deny and monitor verdicts alike (monitor: would be denied). An alert opens when
 * its detector's threshold is crossed, gathers what follows for WW_DETECT_HOLD seconds (counts,
 * targets, last seen), and is then emitted once; the same detector does not alert again for that
 * source until `cooldown` seconds after it opened (what it sees meanwhile is counted in
 * ww_detect_stats.suppressed).
 *
 * Memory is bounded: at most max_sources per-source entries (each WW_DETECT_ENTRY_BYTES) and
 * max_sources * 16 known (source, destination, service) triples; when a table is full the least
 * recently seen entry is evicted and counted (ww_detect_stats.evicted_*). An evicted source's
 * open alerts are emitted first, so no alert is lost; its partial counts restart.
 */
#ifndef WW_DETECT_H
#define WW_DETECT_H

#include <stdbool.h>
#include <stdint.h>

#include "events.h"
#include "model.h"
#include "util.h"

#define WW_DETECT_HOLD 5 /* seconds an open alert gathers before it is emitted */
#define WW_DETECT_LIST 4 /* zones, flows and services named in an alert, at most */

enum ww_detector { WW_DET_SCAN, WW_DET_LATERAL, WW_DET_NEW_TALKER, WW_DET_FLOOD, WW_DET_N };

const char *ww_detector_name(enum ww_detector d);

struct ww_alert {
	enum ww_detector det;
	int64_t first_ns, last_ns; /* first and last event counted */
	uint8_t family;
	uint8_t src[16];
	char src_zone[WW_FLOW_ID_LEN];
	char src_host[WW_EP_STRLEN];
	uint64_t count;	  /* events counted */
	uint32_t targets; /* distinct (destination, port) targets (scan: in its window) */
	/* Up to WW_DETECT_LIST each; more_*: there were others. */
	char dst_zones[WW_DETECT_LIST][WW_FLOW_ID_LEN];
	size_t ndst_zones;
	bool more_dst_zones;
	char flows[WW_DETECT_LIST][WW_FLOW_ID_LEN]; /* deciding flows, "default" */
	size_t nflows;
	bool more_flows;
	char services[WW_DETECT_LIST][16]; /* "tcp/445", "icmp/8", "gre" */
	size_t nservices;
	bool more_services;
	/* new_talker, lateral: the first destination seen. */
	uint8_t dst[16];
	char dst_host[WW_EP_STRLEN];
};

/* An alert's address as its lines print it: inet_ntop's form, "?" for an unknown family. */
#define WW_ALERT_ADDR_STRLEN 48
void ww_alert_addrs(const struct ww_alert *a, char src[WW_ALERT_ADDR_STRLEN],
		    char dst[WW_ALERT_ADDR_STRLEN]);
/* One line, text or JSON (with "type": "alert"), with its newline; and the suggested action. */
void ww_alert_print(const struct ww_alert *a, bool json, struct strbuf *out);
void ww_alert_action(const struct ww_alert *a, struct strbuf *out);
/* One line of ww_alert_print(json) back into an alert. Returns 0 or -EINVAL. */
int ww_alert_parse(const char *line, struct ww_alert *a);

struct ww_detect_stats {
	uint64_t events;		 /* records fed */
	uint64_t alerts[WW_DET_N];	 /* emitted */
	uint64_t suppressed[WW_DET_N];	 /* events over a threshold during a cooldown */
	uint64_t evicted_sources;	 /* per-source entries evicted (table full) */
	uint64_t evicted_talkers;	 /* known triples forgotten (table full) */
	size_t sources, talkers;	 /* entries in use */
	size_t max_sources, max_talkers; /* the bounds */
	size_t bytes;			 /* memory the tables take (fixed at creation) */
};

struct ww_detect;

typedef void (*ww_alert_cb)(const struct ww_alert *a, void *arg);

/* A detector set with the policy's `detect` settings (p may be NULL: the defaults). Zones and
 * criticality come from the policy the records are classified with (ww_detect_policy()).
 * Returns 0 or -ENOMEM. */
int ww_detect_new(const struct ww_detect_cfg *cfg, ww_alert_cb cb, void *arg,
		  struct ww_detect **out);
/* The policy whose zones name the records (NULL: none; lateral and new_talker then stay quiet).
 * It must outlive the next ww_detect_feed(); called when the applied generation changes. */
void ww_detect_policy(struct ww_detect *d, const struct ww_policy *p);
/* One record. May emit alerts whose hold has passed by r->time_ns. */
void ww_detect_feed(struct ww_detect *d, const struct ww_logrec *r);
/* Emits the open alerts whose hold has passed by now_ns; all of them with now_ns = INT64_MAX. */
void ww_detect_tick(struct ww_detect *d, int64_t now_ns);
void ww_detect_get_stats(const struct ww_detect *d, struct ww_detect_stats *s);
void ww_detect_free(struct ww_detect *d);

#endif
