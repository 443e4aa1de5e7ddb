// SPDX-License-Identifier: GPL-2.0-only
#include "watch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect.h"
#include "evlog.h"
#include "evsource.h"
#include "siem.h"

#define MAX_ZONE_COUNTS 1024 /* (detector, zone) alert counters; more are counted as zone "other"  \
			      */

struct zone_count {
	enum ww_detector det;
	char zone[WW_FLOW_ID_LEN];
	uint64_t n;
};

/* What each source zone's log budget refused, per tier (ww_logdrops.by_zone): at most
 * MAX_BUDGET_COUNTS (tier, zone) counters, the last one "other" for any beyond. */
#define MAX_BUDGET_COUNTS 512

struct budget_count {
	int tier;
	char zone[WW_FLOW_ID_LEN];
	uint64_t n;
};

struct ww_watch {
	pthread_t thread;
	pthread_mutex_t mu;
	struct ww_evsource *src;
	struct ww_detect *det;
	const struct ww_policy *policy; /* the one det classifies with */
	struct ww_evlog events, alerts;
	struct ww_siem *siem; /* NULL: no outputs */
	struct zone_count counts[MAX_ZONE_COUNTS];
	size_t ncounts;
	uint64_t dropped[2][2]; /* [tier][rate_limited, ring_full] */
	struct budget_count budget[MAX_BUDGET_COUNTS];
	size_t nbudget;
	struct strbuf line, text;
};

static void count_alert(struct ww_watch *w, const struct ww_alert *a)
{
	const char *z = a->src_zone;

	for (size_t i = 0; i < w->ncounts; i++)
		if (w->counts[i].det == a->det && !strcmp(w->counts[i].zone, z)) {
			w->counts[i].n++;
			return;
		}
	if (w->ncounts == MAX_ZONE_COUNTS)
		z = "other";
	if (w->ncounts < MAX_ZONE_COUNTS) {
		struct zone_count *c = &w->counts[w->ncounts++];
		c->det = a->det;
		snprintf(c->zone, sizeof(c->zone), "%s", z);
		c->n = 1;
	}
}

static void on_alert(const struct ww_alert *a, void *arg)
{
	struct ww_watch *w = arg;

	sb_reset(&w->line);
	ww_alert_print(a, true, &w->line);
	ww_evlog_append(&w->alerts, sb_str(&w->line), w->line.len);
	count_alert(w, a);
	sb_reset(&w->text);
	ww_alert_print(a, false, &w->text);
	ww_siem_send(w->siem, WW_SIEM_KIND_ALERT, sb_str(&w->line), sb_str(&w->text));
	fprintf(stderr, "wardwall: serve: %s", sb_str(&w->text));
}

/* The detector classifies with the applied policy: follow a new generation. */
static void follow_policy(struct ww_watch *w)
{
	const struct ww_policy *p = ww_evsource_names(w->src)->policy;

	if (p != w->policy) {
		ww_detect_policy(w->det, p);
		w->policy = p;
	}
}

static bool on_rec(const struct ww_logrec *r, void *arg)
{
	struct ww_watch *w = arg;

	pthread_mutex_lock(&w->mu);
	sb_reset(&w->line);
	ww_logrec_print(r, true, &w->line);
	ww_evlog_append(&w->events, sb_str(&w->line), w->line.len);
	if (w->siem) {
		sb_reset(&w->text);
		ww_logrec_print(r, false, &w->text);
		ww_siem_send(w->siem, WW_SIEM_KIND_EVENT, sb_str(&w->line), sb_str(&w->text));
	}
	follow_policy(w);
	ww_detect_feed(w->det, r);
	pthread_mutex_unlock(&w->mu);
	return false;
}

static void count_budget(struct ww_watch *w, int tier, const char *zone, uint64_t n)
{
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < w->nbudget; i++)
			if (w->budget[i].tier == tier && !strcmp(w->budget[i].zone, zone)) {
				w->budget[i].n += n;
				return;
			}
		if (w->nbudget < MAX_BUDGET_COUNTS - 1 ||
		    (pass && w->nbudget < MAX_BUDGET_COUNTS)) {
			struct budget_count *b = &w->budget[w->nbudget++];
			b->tier = tier;
			snprintf(b->zone, sizeof(b->zone), "%s", zone);
			b->n = n;
			return;
		}
		zone = "other";
	}
}

static void on_drops(const struct ww_logdrops *d, void *arg)
{
	struct ww_watch *w = arg;

	pthread_mutex_lock(&w->mu);
	sb_reset(&w->line);
	ww_logdrops_print(d, true, &w->line);
	ww_evlog_append(&w->events, sb_str(&w->line), w->line.len);
	if (w->siem) {
		sb_reset(&w->text);
		ww_logdrops_print(d, false, &w->text);
		ww_siem_send(w->siem, WW_SIEM_KIND_EVENT, sb_str(&w->line), sb_str(&w->text));
	}
	w->dropped[d->tier][0] += d->rate_limited;
	w->dropped[d->tier][1] += d->ring_full;
	for (size_t i = 0; i < d->nbz; i++)
		count_budget(w, d->tier, d->by_zone[i].counter, d->by_zone[i].n);
	pthread_mutex_unlock(&w->mu);
}

static void on_tick(int64_t now_ns, void *arg)
{
	struct ww_watch *w = arg;

	pthread_mutex_lock(&w->mu);
	follow_policy(w);
	ww_detect_tick(w->det, now_ns);
	pthread_mutex_unlock(&w->mu);
}

static void *run(void *arg)
{
	struct ww_watch *w = arg;
	int e = ww_evsource_run(w->src, -1);

	fprintf(stderr, "wardwall: serve: the event reader stopped: %s; no more detection\n",
		strerror(-e));
	return NULL;
}

int ww_watch_start(const char *state_dir, const char *bpffs, const struct ww_siem_cfg *siem,
		   struct ww_watch **out)
{
	struct ww_watch *w = calloc(1, sizeof(*w));
	struct ww_evsource_opts o = {.state_dir = state_dir,
				     .bpffs = bpffs,
				     .want_nft = true,
				     .want_xdp = true,
				     .on_rec = on_rec,
				     .on_drops = on_drops,
				     .on_tick = on_tick,
				     .who = "serve"};
	struct strbuf err = {0};
	struct ww_detect_cfg cfg;
	int e;

	if (!w)
		return -ENOMEM;
	pthread_mutex_init(&w->mu, NULL);
	o.arg = w;
	w->events.fd = w->alerts.fd = -1;
	if ((e = ww_evsource_open(&o, &w->src)))
		goto fail;
	const struct ww_policy *p = ww_evsource_names(w->src)->policy;
	if (p)
		cfg = p->detect;
	else
		ww_detect_cfg_default(&cfg);
	if ((e = ww_detect_new(&cfg, on_alert, w, &w->det))) {
		fprintf(stderr, "wardwall: serve: detectors: %s\n", strerror(-e));
		goto fail;
	}
	if ((e = ww_evlog_open(state_dir, WW_EVLOG_EVENTS, WW_EVLOG_EVENTS_MAX, WW_EVLOG_KEEP,
			       &w->events, &err)) ||
	    (e = ww_evlog_open(state_dir, WW_EVLOG_ALERTS, WW_EVLOG_ALERTS_MAX, WW_EVLOG_KEEP,
			       &w->alerts, &err))) {
		fprintf(stderr, "wardwall: serve: %s\n", sb_str(&err));
		goto fail;
	}
	follow_policy(w);
	if (!siem || !siem->n)
		siem = p ? &p->siem : NULL;
	if (siem && siem->n) {
		if ((e = ww_siem_start(siem, "serve", &w->siem, &err))) {
			fprintf(stderr, "wardwall: serve: %s\n", sb_str(&err));
			goto fail;
		}
		for (size_t i = 0; i < siem->n; i++) {
			const struct ww_siem_out *so = &siem->v[i];
			fprintf(stderr, "wardwall: serve: sending %s%s%s to %s as %s (queue %u)\n",
				so->alerts ? "alerts" : "", so->alerts && so->events ? " and " : "",
				so->events ? "events" : "", so->to, ww_siem_format_names[so->format],
				so->queue);
		}
	}
	struct ww_detect_stats st;
	ww_detect_get_stats(w->det, &st);
	fprintf(stderr,
		"wardwall: serve: detectors on (state for at most %zu sources and %zu talkers, "
		"%zu KiB); recording under %s\n",
		st.max_sources, st.max_talkers, st.bytes / 1024, w->events.path);
	if ((e = -pthread_create(&w->thread, NULL, run, w))) {
		fprintf(stderr, "wardwall: serve: thread: %s\n", strerror(-e));
		goto fail;
	}
	sb_free(&err);
	*out = w;
	return 0;
fail:
	ww_siem_stop(w->siem);
	ww_evsource_close(w->src);
	ww_detect_free(w->det);
	ww_evlog_close(&w->events);
	ww_evlog_close(&w->alerts);
	pthread_mutex_destroy(&w->mu);
	sb_free(&err);
	free(w);
	return e;
}

static void help(struct strbuf *out, const char *name, const char *type, const char *text)
{
	sb_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

void ww_watch_metrics(struct ww_watch *w, struct strbuf *out)
{
	static const char *const tiers[] = {"nftables", "xdp"};
	struct ww_detect_stats st;

	pthread_mutex_lock(&w->mu);
	ww_detect_get_stats(w->det, &st);
	help(out, "wardwall_alerts_total", "counter",
	     "Alerts raised by the detectors, by detector and source zone (never by address).");
	for (size_t i = 0; i < w->ncounts; i++)
		sb_addf(out, "wardwall_alerts_total{detector=\"%s\",zone=\"%s\"} %llu\n",
			ww_detector_name(w->counts[i].det), w->counts[i].zone,
			(unsigned long long)w->counts[i].n);
	help(out, "wardwall_detect_suppressed_total", "counter",
	     "Events over a detector's threshold during its cooldown (no new alert).");
	for (int d = 0; d < WW_DET_N; d++)
		sb_addf(out, "wardwall_detect_suppressed_total{detector=\"%s\"} %llu\n",
			ww_detector_name(d), (unsigned long long)st.suppressed[d]);
	help(out, "wardwall_detect_events_total", "counter", "Event records the detectors read.");
	sb_addf(out, "wardwall_detect_events_total %llu\n", (unsigned long long)st.events);
	help(out, "wardwall_detect_evicted_total", "counter",
	     "Detector state entries evicted because their table was full (least recent first).");
	sb_addf(out, "wardwall_detect_evicted_total{table=\"sources\"} %llu\n",
		(unsigned long long)st.evicted_sources);
	sb_addf(out, "wardwall_detect_evicted_total{table=\"talkers\"} %llu\n",
		(unsigned long long)st.evicted_talkers);
	help(out, "wardwall_detect_entries", "gauge",
	     "Detector state entries in use, and the bound.");
	sb_addf(out, "wardwall_detect_entries{table=\"sources\"} %zu\n", st.sources);
	sb_addf(out, "wardwall_detect_entries{table=\"talkers\"} %zu\n", st.talkers);
	help(out, "wardwall_detect_entries_max", "gauge", "The bound of each detector table.");
	sb_addf(out, "wardwall_detect_entries_max{table=\"sources\"} %zu\n", st.max_sources);
	sb_addf(out, "wardwall_detect_entries_max{table=\"talkers\"} %zu\n", st.max_talkers);
	help(out, "wardwall_events_recorded_total", "counter",
	     "Lines recorded under <state dir>/events, and lines that could not be written.");
	sb_addf(out, "wardwall_events_recorded_total{file=\"events\"} %llu\n",
		(unsigned long long)w->events.lines);
	sb_addf(out, "wardwall_events_recorded_total{file=\"alerts\"} %llu\n",
		(unsigned long long)w->alerts.lines);
	help(out, "wardwall_events_record_failed_total", "counter",
	     "Lines that could not be written under <state dir>/events.");
	sb_addf(out, "wardwall_events_record_failed_total %llu\n",
		(unsigned long long)(w->events.failed + w->alerts.failed));
	help(out, "wardwall_events_not_logged_total", "counter",
	     "Decisions the tiers meant to log that never reached wardwall (rate limit, ring "
	     "full).");
	for (int t = 0; t < 2; t++) {
		sb_addf(
		    out,
		    "wardwall_events_not_logged_total{tier=\"%s\",reason=\"rate_limited\"} %llu\n",
		    tiers[t], (unsigned long long)w->dropped[t][0]);
		if (t == 1)
			sb_addf(
			    out,
			    "wardwall_events_not_logged_total{tier=\"%s\",reason=\"ring_full\"} "
			    "%llu\n",
			    tiers[t], (unsigned long long)w->dropped[t][1]);
	}
	help(out, "wardwall_events_over_budget_total", "counter",
	     "Decisions not logged because their source zone's log budget was spent, by tier and "
	     "source zone (\"*\": a flow from several zones, nftables).");
	for (size_t i = 0; i < w->nbudget; i++) {
		sb_addf(out, "wardwall_events_over_budget_total{tier=\"%s\",zone=",
			tiers[w->budget[i].tier]);
		sb_add_json_str(out, w->budget[i].zone);
		sb_addf(out, "} %llu\n", (unsigned long long)w->budget[i].n);
	}
	ww_siem_metrics(w->siem, out);
	pthread_mutex_unlock(&w->mu);
}
