/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: what `wardwall serve` does besides answering /metrics: it reads the event
 * stream of both tiers (evsource.h), records every record and every count of what was not
 * logged (evlog.h, events.jsonl), runs the detectors (detect.h) over it and records their alerts
 * (alerts.jsonl, and one line each on stderr), and hands events and alerts to the SIEM outputs
 * (siem.h). Counters for /metrics are kept by detector and zone, never by address.
 */
#ifndef WW_WATCH_H
#define WW_WATCH_H

#include "model.h"
#include "util.h"

struct ww_watch;

/* Starts the reader thread. siem: the SIEM outputs from the command line; NULL or none: those of
 * the policy applied when serve starts. Returns 0 or -errno (said on stderr). */
int ww_watch_start(const char *state_dir, const char *bpffs, const struct ww_siem_cfg *siem,
		   struct ww_watch **out);
/* Appends its series to a Prometheus exposition (thread-safe). */
void ww_watch_metrics(struct ww_watch *w, struct strbuf *out);

#endif
