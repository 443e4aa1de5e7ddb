// SPDX-License-Identifier: GPL-2.0-only
/*
 * An incident report draft (incident.h) as incident.json and incident.html, and its signed
 * bundle. One model, two printers; both say the same things in the same order. The HTML is one
 * self-contained page (no scripts, no external assets): it prints and archives as is.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "evidence.h"
#include "incident.h"
#include "json.h"
#include "timeutil.h"

/* What only a person can say, by stage (Directive (EU) 2022/2555, Art. 23(3) and (4)). */
static const struct {
	const char *field, *asks;
	unsigned int stages; /* 1 << stage */
} person[] = {
    {"significant",
     "Is the incident significant: has it caused or can it cause severe operational disruption of "
     "the services or financial loss, or considerable damage to others? (Art. 23(3))",
     1 << WW_INC_EARLY},
    {"suspected_malicious",
     "Is the incident suspected of being caused by unlawful or malicious acts? (Art. 23(4)(a))",
     1 << WW_INC_EARLY | 1 << WW_INC_NOTIFICATION},
    {"cross_border_impact",
     "Could the incident have, or has it had, a cross-border impact? (Art. 23(4)(a), (d)(iv))", 7},
    {"patient_safety", "Were clinical services or patient safety affected, and how?", 7},
    {"severity_and_impact",
     "Initial assessment of the incident, including its severity and impact (Art. 23(4)(b))",
     1 << WW_INC_NOTIFICATION},
    {"description",
     "A detailed description of the incident, including its severity and impact "
     "(Art. 23(4)(d)(i))",
     1 << WW_INC_FINAL},
    {"threat_type_root_cause",
     "The type of threat or root cause that is likely to have triggered the incident "
     "(Art. 23(4)(d)(ii))",
     1 << WW_INC_FINAL},
    {"mitigation",
     "Applied and ongoing mitigation measures beyond those recorded below (Art. 23(4)(d)(iii))",
     1 << WW_INC_NOTIFICATION | 1 << WW_INC_FINAL},
};

static const char *const stage_titles[] = {"Early warning (within 24 hours)",
					   "Incident notification (within 72 hours)",
					   "Final report (within one month of the notification)"};

/* The limits of what wardwall knows, said in every report. */
static void limits(const struct ww_inc_report *r, char lines[8][512], size_t *n)
{
	char a[WW_TIME_MS_STRLEN], b[WW_TIME_MS_STRLEN], s[40];

	*n = 0;
	snprintf(lines[(*n)++], 512,
		 "Counts are the decisions the gateway logged. The kernel logs at most "
		 "enforcement.log_rate decisions a second per tier: %llu decisions in this window "
		 "were counted by the kernel but not logged, and appear in no count here.",
		 (unsigned long long)r->not_logged);
	snprintf(
	    lines[(*n)++], 512,
	    "wardwall sees only traffic that crosses the gateways it enforces on: traffic inside "
	    "a zone, on other paths, and the content of connections are not seen.");
	if (r->rec_first_ns)
		snprintf(
		    lines[(*n)++], 512,
		    "Events and alerts are what `wardwall serve` recorded: from %s to %s. Times "
		    "when serve did not run are not covered.%s",
		    ww_time_ms_str(r->rec_first_ns, a), ww_time_ms_str(r->rec_last_ns, b),
		    r->rec_first_ns > r->inc.since * 1000000000LL
			? " The window starts before the first recorded event: nothing is "
			  "known of that part."
			: "");
	else
		snprintf(
		    lines[(*n)++], 512,
		    "No events were recorded (is `wardwall serve` running?): the traffic, "
		    "indicators and alerts below are empty for that reason, not because nothing "
		    "happened.");
	snprintf(lines[(*n)++], 512,
		 "Alerts are what the detectors raised from the logged decisions: indications to "
		 "investigate, not a diagnosis.");
	snprintf(
	    lines[(*n)++], 512,
	    "Allowed connections are logged only for flows whose policy asks for it (\"log\"): "
	    "most allowed traffic does not appear here.");
	if (r->sources_more)
		snprintf(
		    lines[(*n)++], 512,
		    "More than %d distinct sources were denied: sources beyond the first %d were "
		    "not counted as indicators.",
		    WW_INC_SOURCES, WW_INC_SOURCES);
	if (!r->nbundles)
		snprintf(lines[(*n)++], 512,
			 "No evidence bundle was exported during the window (wardwall evidence "
			 "export); the window ends %s.",
			 ww_time_str(r->until, s));
}

static void alert_obj(struct ww_jw *w, const struct ww_alert *a)
{
	char t[WW_TIME_MS_STRLEN];
	struct strbuf act = {0};
	const char *list[WW_DETECT_LIST];
	char src[WW_ALERT_ADDR_STRLEN], dst[WW_ALERT_ADDR_STRLEN];

	ww_alert_addrs(a, src, dst);
	ww_jw_obj(w, NULL);
	ww_jw_str(w, "detector", ww_detector_name(a->det));
	ww_jw_str(w, "first_seen", ww_time_ms_str(a->first_ns, t));
	ww_jw_str(w, "last_seen", ww_time_ms_str(a->last_ns, t));
	ww_jw_str(w, "src", src);
	ww_jw_str(w, "src_zone", a->src_zone);
	ww_jw_str(w, "src_host", a->src_host[0] ? a->src_host : NULL);
	for (size_t i = 0; i < a->ndst_zones; i++)
		list[i] = a->dst_zones[i];
	ww_jw_strs(w, "dst_zones", list, a->ndst_zones);
	for (size_t i = 0; i < a->nservices; i++)
		list[i] = a->services[i];
	ww_jw_strs(w, "services", list, a->nservices);
	for (size_t i = 0; i < a->nflows; i++)
		list[i] = a->flows[i];
	ww_jw_strs(w, "flows", list, a->nflows);
	ww_jw_str(w, "dst", dst);
	ww_jw_str(w, "dst_host", a->dst_host[0] ? a->dst_host : NULL);
	ww_jw_u64(w, "count", a->count);
	ww_jw_u64(w, "targets", a->targets);
	ww_alert_action(a, &act);
	ww_jw_str(w, "suggested_action", sb_str(&act));
	ww_jw_end_obj(w);
	sb_free(&act);
}

static void json_header(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_str(w, "format", WW_INC_FORMAT);
	ww_jw_bool(w, "draft", true);
	ww_jw_obj(w, "incident");
	ww_jw_str(w, "id", r->inc.id);
	ww_jw_str(w, "title", r->inc.title);
	ww_jw_time(w, "aware", r->inc.aware);
	ww_jw_time(w, "since", r->inc.since);
	ww_jw_time(w, "closed", r->inc.closed);
	ww_jw_str(w, "opened_by", r->inc.user);
	ww_jw_end_obj(w);
	ww_jw_obj(w, "report");
	ww_jw_str(w, "stage", ww_inc_stage_names[r->stage]);
	ww_jw_u64(w, "seq", r->seq);
	ww_jw_time(w, "generated", r->generated);
	ww_jw_time(w, "deadline", r->deadline);
	ww_jw_obj(w, "window");
	ww_jw_time(w, "from", r->inc.since);
	ww_jw_time(w, "to", r->until);
	ww_jw_end_obj(w);
	ww_jw_str(w, "hostname", r->hostname);
	ww_jw_str(w, "previous_report_manifest_sha256", r->prev_sha256[0] ? r->prev_sha256 : NULL);
	ww_jw_end_obj(w);
}

static void json_to_complete(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_arr(w, "to_complete");
	for (size_t i = 0; i < ARRAY_SIZE(person); i++) {
		if (!(person[i].stages & (1u << r->stage)))
			continue;
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "field", person[i].field);
		ww_jw_str(w, "asks", person[i].asks);
		ww_jw_null(w, "value");
		ww_jw_str(w, "by", "a person: wardwall cannot know this");
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

static void json_timeline(struct ww_jw *w, const struct ww_inc_report *r)
{
	char t[WW_TIME_MS_STRLEN];

	ww_jw_arr(w, "timeline");
	for (size_t i = 0; i < r->ntimeline; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "time", ww_time_ms_str(r->timeline[i].time_ns, t));
		ww_jw_str(w, "kind", r->timeline[i].kind);
		ww_jw_str(w, "text", r->timeline[i].text);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

/* The zones, and each alert's two addresses as devices: its source and its target. */
static void json_affected(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_obj(w, "affected");
	ww_jw_strs(w, "zones", (const char *const *)r->zones, r->nzones);
	ww_jw_arr(w, "devices");
	for (size_t i = 0; i < r->nalerts; i++) {
		const struct ww_alert *a = &r->alerts[i];
		char src[WW_ALERT_ADDR_STRLEN], dst[WW_ALERT_ADDR_STRLEN];
		ww_alert_addrs(a, src, dst);
		for (int side = 0; side < 2; side++) {
			ww_jw_obj(w, NULL);
			ww_jw_str(w, "address", side ? dst : src);
			ww_jw_str(w, "zone",
				  side ? (a->ndst_zones ? a->dst_zones[0] : NULL) : a->src_zone);
			ww_jw_str(w, "host_group",
				  side ? (a->dst_host[0] ? a->dst_host : NULL)
				       : (a->src_host[0] ? a->src_host : NULL));
			ww_jw_str(w, "role", side ? "target" : "source");
			ww_jw_str(w, "alert", ww_detector_name(a->det));
			ww_jw_end_obj(w);
		}
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
}

static void json_indicators(struct ww_jw *w, const struct ww_inc_report *r)
{
	char t[WW_TIME_MS_STRLEN];

	ww_jw_obj(w, "indicators");
	ww_jw_arr(w, "denied_sources");
	for (size_t i = 0; i < r->nsources; i++) {
		const struct ww_inc_source *s = &r->sources[i];
		const char *svc[8];
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "address", s->addr);
		ww_jw_str(w, "zone", s->zone);
		ww_jw_u64(w, "denials", s->n);
		ww_jw_str(w, "first_seen", ww_time_ms_str(s->first_ns, t));
		ww_jw_str(w, "last_seen", ww_time_ms_str(s->last_ns, t));
		for (size_t k = 0; k < s->nservices; k++)
			svc[k] = s->services[k];
		ww_jw_strs(w, "services", svc, s->nservices);
		ww_jw_bool(w, "services_more", s->more_services);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_u64(w, "denied_sources_total", r->sources_total);
	ww_jw_bool(w, "denied_sources_more", r->sources_more);
	ww_jw_end_obj(w);
}

static void json_traffic(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_obj(w, "traffic");
	ww_jw_u64(w, "events", r->events);
	ww_jw_u64(w, "denied", r->denied);
	ww_jw_u64(w, "monitored", r->monitored);
	ww_jw_u64(w, "allowed", r->allowed);
	ww_jw_u64(w, "not_logged", r->not_logged);
	ww_jw_arr(w, "zone_pairs");
	for (size_t i = 0; i < r->npairs && i < WW_INC_TOP; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "from", r->pairs[i].src);
		ww_jw_str(w, "to", r->pairs[i].dst);
		ww_jw_str(w, "verdict", r->pairs[i].verdict);
		ww_jw_u64(w, "events", r->pairs[i].n);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
}

/* Quarantines and policy generations during the window. */
static void json_measures(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_obj(w, "measures");
	ww_jw_arr(w, "quarantines");
	for (size_t i = 0; i < r->nquars; i++) {
		const struct ww_inc_quar *q = &r->quars[i];
		ww_jw_obj(w, NULL);
		ww_jw_time(w, "time", q->time);
		ww_jw_str(w, "event", q->event);
		ww_jw_str(w, "id", q->id);
		ww_jw_str(w, "target", q->target);
		ww_jw_str(w, "reason", q->reason);
		ww_jw_str(w, "ticket", q->ticket);
		ww_jw_u64(w, "blocked_packets", q->blocked);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_arr(w, "generations");
	for (size_t i = 0; i < r->ngens; i++) {
		const struct ww_inc_gen *g = &r->gens[i];
		ww_jw_obj(w, NULL);
		ww_jw_u64(w, "generation", g->gen);
		ww_jw_time(w, "time", g->time);
		ww_jw_str(w, "action", g->action);
		ww_jw_str(w, "user", g->user);
		ww_jw_str(w, "policy", g->policy);
		ww_jw_str(w, "policy_sha256", g->sha256);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
}

static void json_evidence(struct ww_jw *w, const struct ww_inc_report *r)
{
	ww_jw_arr(w, "evidence");
	for (size_t i = 0; i < r->nbundles; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_u64(w, "seq", r->bundles[i].seq);
		ww_jw_time(w, "time", r->bundles[i].time);
		ww_jw_str(w, "manifest_sha256", r->bundles[i].manifest_sha256);
		ww_jw_str(w, "bundle", r->bundles[i].dir);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

void ww_inc_report_json(const struct ww_inc_report *r, struct strbuf *out)
{
	struct ww_jw w = {.out = out};
	char lim[8][512];
	const char *lp[8];
	size_t nlim;

	ww_jw_obj(&w, NULL);
	json_header(&w, r);
	json_to_complete(&w, r);
	json_timeline(&w, r);
	json_affected(&w, r);
	json_indicators(&w, r);
	ww_jw_arr(&w, "alerts");
	for (size_t i = 0; i < r->nalerts; i++)
		alert_obj(&w, &r->alerts[i]);
	ww_jw_end_arr(&w);
	json_traffic(&w, r);
	json_measures(&w, r);
	json_evidence(&w, r);
	limits(r, lim, &nlim);
	for (size_t i = 0; i < nlim; i++)
		lp[i] = lim[i];
	ww_jw_strs(&w, "limits", lp, nlim);
	ww_jw_end_obj(&w);
}

/* ---- HTML ---- */

static void td(struct strbuf *o, const char *cls, const char *s)
{
	sb_add(o, cls ? "<td class=\"" : "<td>");
	if (cls) {
		sb_add(o, cls);
		sb_add(o, "\">");
	}
	sb_add_html(o, s);
	sb_add(o, "</td>");
}

static void tdu(struct strbuf *o, uint64_t v)
{
	sb_addf(o, "<td class=\"n\">%llu</td>", (unsigned long long)v);
}

/* From the doctype to the title: the page's style and the banner saying it is a draft. */
static void html_head(const struct ww_inc_report *r, struct strbuf *o)
{
	char a[40];

	sb_add(o, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>");
	sb_add_html(o, r->inc.id);
	sb_add(o, " ");
	sb_add_html(o, ww_inc_stage_names[r->stage]);
	sb_add(o, ": ");
	sb_add_html(o, r->inc.title);
	sb_add(o, "</title>\n<style>body{font:14px/1.4 sans-serif;margin:2em;max-width:70em}"
		  "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #bbb;"
		  "padding:.2em .5em;text-align:left;vertical-align:top}td.n{text-align:right}"
		  ".mono{font-family:monospace}#draft{background:#fff3cd;border:2px solid #c90;"
		  "padding:.7em}.todo{background:#fde2e2;font-weight:bold}"
		  "#limits li{margin:.3em 0}</style></head><body>\n");
	sb_add(o, "<div id=\"draft\"><b>DRAFT</b> of the NIS2 Art. 23 ");
	sb_add_html(o, stage_titles[r->stage]);
	sb_addf(o, " for incident <b>");
	sb_add_html(o, r->inc.id);
	sb_add(o, "</b>. Deadline: <b id=\"deadline\">");
	sb_add_html(o, ww_time_str(r->deadline, a));
	sb_add(o, "</b>. wardwall filled in only what it recorded; the fields marked "
		  "<span class=\"todo\">TO BE COMPLETED BY A PERSON</span> are for you to answer "
		  "before it is submitted to the CSIRT or competent authority.</div>\n<h1>");
	sb_add_html(o, r->inc.title);
	sb_add(o, "</h1>\n");
}

static void html_incident(const struct ww_inc_report *r, struct strbuf *o)
{
	char a[40], b[40], window[512];

	sb_add(o, "<table id=\"incident\">");
	sb_add(o, "<tr><th>incident</th>");
	td(o, "mono", r->inc.id);
	sb_add(o, "</tr><tr><th>stage</th>");
	td(o, NULL, ww_inc_stage_names[r->stage]);
	sb_addf(o, "</tr><tr><th>report</th><td>%lu of the series", r->seq);
	if (r->prev_sha256[0]) {
		sb_add(o, ", after the report with manifest sha256 <span class=\"mono\">");
		sb_add_html(o, r->prev_sha256);
		sb_add(o, "</span>");
	}
	sb_add(o, "</td></tr><tr><th>aware since</th>");
	td(o, NULL, ww_time_str(r->inc.aware, a));
	sb_add(o, "</tr><tr><th>window</th>");
	snprintf(window, sizeof(window), "%s to %s%s", ww_time_str(r->inc.since, a),
		 ww_time_str(r->until, b), r->inc.closed ? " (closed)" : " (open: until now)");
	td(o, NULL, window);
	sb_add(o, "</tr><tr><th>generated</th>");
	td(o, NULL, ww_time_str(r->generated, a));
	sb_add(o, "</tr><tr><th>gateway</th>");
	td(o, "mono", r->hostname);
	sb_add(o, "</tr><tr><th>opened by</th>");
	td(o, NULL, r->inc.user);
	sb_add(o, "</tr></table>\n");
}

static void html_to_complete(const struct ww_inc_report *r, struct strbuf *o)
{
	sb_add(o, "<h2>To be completed by a person</h2>\n<table id=\"to-complete\">"
		  "<tr><th>field</th><th>question</th><th>answer</th></tr>");
	for (size_t i = 0; i < ARRAY_SIZE(person); i++) {
		if (!(person[i].stages & (1u << r->stage)))
			continue;
		sb_add(o, "<tr>");
		td(o, "mono", person[i].field);
		td(o, NULL, person[i].asks);
		sb_add(o, "<td class=\"todo\">TO BE COMPLETED BY A PERSON</td></tr>");
	}
	sb_add(o, "</table>\n");
}

/* The timeline, then the affected zones. */
static void html_timeline(const struct ww_inc_report *r, struct strbuf *o)
{
	char t[WW_TIME_MS_STRLEN];

	sb_add(o, "<h2>Timeline</h2>\n<table id=\"timeline\"><tr><th>time (UTC)</th><th>what</th>"
		  "<th></th></tr>");
	for (size_t i = 0; i < r->ntimeline; i++) {
		sb_add(o, "<tr>");
		td(o, "mono", ww_time_ms_str(r->timeline[i].time_ns, t));
		td(o, NULL, r->timeline[i].kind);
		td(o, NULL, r->timeline[i].text);
		sb_add(o, "</tr>");
	}
	sb_add(o, "</table>\n<h2>Affected</h2>\n<p id=\"zones\">Zones: ");
	for (size_t i = 0; i < r->nzones; i++) {
		sb_add(o, i ? ", " : "");
		sb_add_html(o, r->zones[i]);
	}
	if (!r->nzones)
		sb_add(o, "none recorded");
	sb_add(o, "</p>\n");
}

static void html_alert(const struct ww_alert *al, struct strbuf *o)
{
	char t[WW_TIME_MS_STRLEN], src[WW_ALERT_ADDR_STRLEN], dst[WW_ALERT_ADDR_STRLEN];
	struct strbuf l = {0}, act = {0};

	ww_alert_addrs(al, src, dst);
	sb_add(o, "<tr>");
	td(o, NULL, ww_detector_name(al->det));
	td(o, "mono", ww_time_ms_str(al->first_ns, t));
	td(o, "mono", ww_time_ms_str(al->last_ns, t));
	td(o, "mono", src);
	td(o, NULL, al->src_zone);
	for (size_t k = 0; k < al->ndst_zones; k++)
		sb_addf(&l, "%s%s", k ? ", " : "", al->dst_zones[k]);
	td(o, NULL, sb_str(&l));
	sb_reset(&l);
	for (size_t k = 0; k < al->nservices; k++)
		sb_addf(&l, "%s%s", k ? ", " : "", al->services[k]);
	td(o, "mono", sb_str(&l));
	tdu(o, al->count);
	ww_alert_action(al, &act);
	td(o, "mono", sb_str(&act));
	sb_add(o, "</tr>");
	sb_free(&l);
	sb_free(&act);
}

static void html_indicators(const struct ww_inc_report *r, struct strbuf *o)
{
	char t[WW_TIME_MS_STRLEN];

	sb_add(o, "<h2>Indicators: denied sources</h2>\n<table id=\"indicators\"><tr>"
		  "<th>address</th><th>zone</th><th>denials</th><th>first seen</th><th>last seen"
		  "</th><th>services</th></tr>");
	for (size_t i = 0; i < r->nsources; i++) {
		const struct ww_inc_source *s = &r->sources[i];
		struct strbuf l = {0};
		sb_add(o, "<tr>");
		td(o, "mono", s->addr);
		td(o, NULL, s->zone);
		tdu(o, s->n);
		td(o, "mono", ww_time_ms_str(s->first_ns, t));
		td(o, "mono", ww_time_ms_str(s->last_ns, t));
		for (size_t k = 0; k < s->nservices; k++)
			sb_addf(&l, "%s%s", k ? ", " : "", s->services[k]);
		if (s->more_services)
			sb_add(&l, ", ...");
		td(o, "mono", sb_str(&l));
		sb_add(o, "</tr>");
		sb_free(&l);
	}
	sb_addf(o, "</table><p>%zu distinct denied source%s in the window%s.</p>\n",
		r->sources_total, r->sources_total == 1 ? "" : "s",
		r->sources_more ? " (at least: the count stopped)" : "");
}

static void html_traffic(const struct ww_inc_report *r, struct strbuf *o)
{
	sb_addf(
	    o,
	    "<h2>Traffic the gateway logged</h2>\n<p id=\"traffic\">%llu events: %llu denied, "
	    "%llu monitored (would be denied), %llu allowed; <b>%llu not logged</b> (counted by "
	    "the kernel only).</p>\n<table id=\"pairs\"><tr><th>from</th><th>to</th><th>verdict"
	    "</th><th>events</th></tr>",
	    (unsigned long long)r->events, (unsigned long long)r->denied,
	    (unsigned long long)r->monitored, (unsigned long long)r->allowed,
	    (unsigned long long)r->not_logged);
	for (size_t i = 0; i < r->npairs && i < WW_INC_TOP; i++) {
		sb_add(o, "<tr>");
		td(o, NULL, r->pairs[i].src);
		td(o, NULL, r->pairs[i].dst);
		td(o, NULL, r->pairs[i].verdict);
		tdu(o, r->pairs[i].n);
		sb_add(o, "</tr>");
	}
	sb_add(o, "</table>\n");
}

/* Quarantines and policy generations during the window. */
static void html_measures(const struct ww_inc_report *r, struct strbuf *o)
{
	char a[40];

	sb_add(o, "<h2>Measures taken</h2>\n<table id=\"quarantines\"><tr><th>time</th>"
		  "<th>quarantine</th><th>target</th><th>reason</th><th>ticket</th><th>blocked "
		  "packets</th></tr>");
	for (size_t i = 0; i < r->nquars; i++) {
		const struct ww_inc_quar *q = &r->quars[i];
		char x[64];
		sb_add(o, "<tr>");
		td(o, "mono", ww_time_str(q->time, a));
		snprintf(x, sizeof(x), "%s %s", q->event, q->id);
		td(o, NULL, x);
		td(o, "mono", q->target);
		td(o, NULL, q->reason);
		td(o, NULL, q->ticket ? q->ticket : "");
		tdu(o, q->blocked);
		sb_add(o, "</tr>");
	}
	sb_add(o, "</table>\n<table id=\"generations\"><tr><th>time</th><th>generation</th>"
		  "<th>action</th><th>policy</th><th>by</th></tr>");
	for (size_t i = 0; i < r->ngens; i++) {
		const struct ww_inc_gen *g = &r->gens[i];
		sb_add(o, "<tr>");
		td(o, "mono", ww_time_str(g->time, a));
		sb_addf(o, "<td class=\"n\">%lu</td>", g->gen);
		td(o, NULL, g->action);
		td(o, NULL, g->policy);
		td(o, NULL, g->user);
		sb_add(o, "</tr>");
	}
	sb_add(o, "</table>\n");
}

/* The evidence bundles of the window, then what the report cannot say. */
static void html_evidence_limits(const struct ww_inc_report *r, struct strbuf *o)
{
	char a[40], lim[8][512];
	size_t nlim;

	sb_add(o, "<h2>Evidence bundles</h2>\n<table id=\"evidence\"><tr><th>seq</th>"
		  "<th>exported</th><th>manifest sha256</th><th>bundle</th></tr>");
	for (size_t i = 0; i < r->nbundles; i++) {
		sb_addf(o, "<tr><td class=\"n\">%lu</td>", r->bundles[i].seq);
		td(o, "mono", ww_time_str(r->bundles[i].time, a));
		td(o, "mono", r->bundles[i].manifest_sha256);
		td(o, "mono", r->bundles[i].dir);
		sb_add(o, "</tr>");
	}
	sb_add(o, "</table>\n<h2>What this report cannot say</h2>\n<ul id=\"limits\">");
	limits(r, lim, &nlim);
	for (size_t i = 0; i < nlim; i++) {
		sb_add(o, "<li>");
		sb_add_html(o, lim[i]);
		sb_add(o, "</li>");
	}
	sb_add(o, "</ul>\n");
}

void ww_inc_report_html(const struct ww_inc_report *r, struct strbuf *o)
{
	html_head(r, o);
	html_incident(r, o);
	html_to_complete(r, o);
	html_timeline(r, o);
	sb_add(o, "<h2>Alerts</h2>\n<table id=\"alerts\"><tr><th>detector</th><th>first "
		  "seen</th><th>last seen</th><th>source</th><th>zone</th><th>towards</th>"
		  "<th>services</th><th>events</th><th>suggested</th></tr>");
	for (size_t i = 0; i < r->nalerts; i++)
		html_alert(&r->alerts[i], o);
	sb_add(o, "</table>\n");
	html_indicators(r, o);
	html_traffic(r, o);
	html_measures(r, o);
	html_evidence_limits(r, o);
	sb_add(o, "</body></html>\n");
}

/* ---- the bundle ---- */

int ww_inc_report_write(const char *state_dir, struct ww_inc_report *r, const uint8_t *sk,
			const char *dir, char manifest_sha256[65], struct strbuf *err)
{
	struct ww_ev_file f[5] = {{.name = "incident.json"},
				  {.name = "incident.html"},
				  {.name = WW_EV_PUB},
				  {.name = WW_EV_MANIFEST},
				  {.name = WW_EV_SIG}};
	struct strbuf line = {0};
	char *log = NULL;
	FILE *lf;
	int e = 0;

	ww_ev_fingerprint(sk + 32, r->key_sha256);
	if (mkdir(dir, 0755) && (errno != EEXIST || rmdir(dir) || mkdir(dir, 0755))) {
		e = -errno;
		sb_addf(err, "%s: %s (give a new or empty directory)", dir, strerror(errno));
		return e;
	}
	ww_inc_report_json(r, &f[0].body);
	ww_inc_report_html(r, &f[1].body);
	ww_ev_pub_pem(sk + 32, &f[2].body);
	for (int i = 0; i < 3; i++)
		sha256_hex(sb_str(&f[i].body), f[i].body.len, f[i].sha256);
	/* The evidence manifest, so `wardwall evidence verify` checks a report and its series. */
	struct ww_ev_manifest m = {.seq = r->seq,
				   .time = r->generated,
				   .hostname = r->hostname,
				   .prev_sha256 = r->prev_sha256,
				   .key_sha256 = r->key_sha256};
	ww_ev_manifest_print(&m, f, 3, &f[3].body);
	sha256_hex(sb_str(&f[3].body), f[3].body.len, f[3].sha256);
	ww_ev_sign(sk, sb_str(&f[3].body), f[3].body.len, &f[4].body);
	for (int i = 0; i < 5 && !e; i++) {
		char *p = xstrdup_printf("%s/%s", dir, f[i].name);
		e = !p || f[i].body.oom ? -ENOMEM
					: write_file_atomic(p, f[i].body.s, f[i].body.len, 0644);
		if (e && e != -ENOMEM)
			sb_addf(err, "%s: %s", p, strerror(-e));
		free(p);
	}
	if (!e) {
		sb_addf(&line,
			"{\"seq\": %lu, \"stage\": \"%s\", \"time\": \"%s\", "
			"\"manifest_sha256\": \"%s\", \"dir\": ",
			r->seq, ww_inc_stage_names[r->stage],
			ww_time_str(r->generated, (char[40]){0}), f[3].sha256);
		sb_add_json_str(&line, dir);
		sb_add(&line, "}\n");
		log = xstrdup_printf("%s/%s/%s/reports.jsonl", state_dir, WW_INC_DIR, r->inc.id);
		if (!log || line.oom || !(lf = fopen(log, "a"))) {
			e = log && !line.oom ? -errno : -ENOMEM;
		} else {
			if (fputs(sb_str(&line), lf) < 0 || fflush(lf) || fsync(fileno(lf)))
				e = -EIO;
			if (fclose(lf) && !e)
				e = -EIO;
		}
		if (e)
			sb_addf(err, "%s: %s", log ? log : "reports.jsonl", strerror(-e));
	}
	if (!e)
		memcpy(manifest_sha256, f[3].sha256, 65);
	for (int i = 0; i < 5; i++)
		sb_free(&f[i].body);
	sb_free(&line);
	free(log);
	return e;
}
