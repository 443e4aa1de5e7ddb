/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: NIS2 Art. 23 incident records and the drafts of their reports
 * (docs/nis2-incident.md).
 *
 * An incident is opened when someone becomes aware of it (`aware`, which starts the 24 h / 72 h
 * clock) and covers a window from `since` until it is closed (or now). Records, under the state
 * directory:
 *   incidents/<id>/incident.json   id, title, aware, since, closed, user
 *   incidents/<id>/reports.jsonl   one line per report written: seq, stage, time, manifest
 *                                  sha256, directory
 * What happened while it was open is attached by time: alerts and events `serve` recorded,
 * quarantines added or lifted (quarantine-log.jsonl), generations applied (history.jsonl) and
 * evidence bundles exported (evidence/chain.jsonl) within the window.
 *
 * A report is a draft: it says what wardwall recorded and nothing more, lists its limits (what
 * was not logged, what the gateway cannot see), and leaves marked fields for what only a person
 * can say (suspected malice, cross-border impact, severity, root cause). It is written as a
 * bundle (incident.json, incident.html, evidence.pub, manifest.json, manifest.sig) signed with
 * the evidence key, each report's manifest chained to the incident's previous report, so
 * `wardwall evidence verify` checks one report or the incident's whole series.
 */
#ifndef WW_INCIDENT_H
#define WW_INCIDENT_H

#include <stdbool.h>
#include <stdint.h>

#include "detect.h"
#include "util.h"

#define WW_INC_DIR     "incidents"
#define WW_INC_FORMAT  "wardwall-incident-report/1"
#define WW_INC_TOP     20   /* sources and zone pairs listed, the busiest first */
#define WW_INC_SOURCES 4096 /* distinct sources counted, at most (the rest: sources_more) */
#define WW_INC_ID_LEN  16

struct ww_incident {
	char id[WW_INC_ID_LEN]; /* "inc-1" */
	char *title;
	int64_t aware, since, closed; /* unix seconds; closed 0: open */
	char user[64];
};
void ww_incident_clear(struct ww_incident *inc);

/* Opens a new incident (-EBUSY, naming it in err, while another is open). */
int ww_incident_open(const char *state_dir, const char *title, int64_t aware, int64_t since,
		     struct ww_incident *out, struct strbuf *err);
/* id NULL: the open one. -ENOENT when there is none. */
int ww_incident_close(const char *state_dir, const char *id, int64_t now, struct ww_incident *out,
		      struct strbuf *err);
/* id NULL: the open one, else the latest. */
int ww_incident_get(const char *state_dir, const char *id, struct ww_incident *out,
		    struct strbuf *err);
/* Every incident, oldest first. */
int ww_incident_list(const char *state_dir, struct ww_incident **out, size_t *n,
		     struct strbuf *err);

enum ww_inc_stage { WW_INC_EARLY, WW_INC_NOTIFICATION, WW_INC_FINAL, WW_INC_STAGES };
extern const char *const ww_inc_stage_names[]; /* "early-warning", "notification", "final" */

struct ww_inc_pair {
	char src[WW_FLOW_ID_LEN], dst[WW_FLOW_ID_LEN], verdict[8];
	uint64_t n;
};
struct ww_inc_source {
	char addr[48], zone[WW_FLOW_ID_LEN];
	uint64_t n;
	int64_t first_ns, last_ns;
	char services[8][16];
	size_t nservices;
	bool more_services;
};
struct ww_inc_quar {
	int64_t time;
	char event[8], id[16];
	char *target, *reason, *ticket;
	uint64_t blocked;
};
struct ww_inc_gen {
	unsigned long gen;
	int64_t time;
	char action[16], user[64], policy[72], sha256[65];
};
struct ww_inc_bundle {
	unsigned long seq;
	int64_t time;
	char manifest_sha256[65];
	char *dir;
};
struct ww_inc_tl {
	int64_t time_ns;
	char kind[12];
	char *text;
};

struct ww_inc_report {
	struct ww_incident inc;
	enum ww_inc_stage stage;
	unsigned long seq; /* of this report in the incident's series */
	int64_t generated; /* unix seconds */
	int64_t until;	   /* the window's end: closed, or generated */
	int64_t deadline;  /* of this stage (Art. 23(4)) */
	char hostname[256];
	/* recorded events in the window */
	uint64_t events, denied, monitored, allowed, not_logged;
	int64_t rec_first_ns, rec_last_ns; /* the first and last recorded line at all (0: none) */
	struct ww_inc_pair *pairs;	   /* busiest first */
	size_t npairs;
	struct ww_inc_source *sources; /* busiest first, WW_INC_TOP at most */
	size_t nsources, sources_total;
	bool sources_more; /* more than WW_INC_SOURCES distinct: the rest not counted */
	struct ww_alert *alerts;
	size_t nalerts;
	struct ww_inc_quar *quars;
	size_t nquars;
	struct ww_inc_gen *gens;
	size_t ngens;
	struct ww_inc_bundle *bundles; /* evidence exported in the window */
	size_t nbundles;
	struct ww_inc_tl *timeline; /* sorted by time */
	size_t ntimeline;
	char **zones; /* affected: named by alerts, quarantines or denied traffic */
	size_t nzones;
	char prev_sha256[65]; /* the incident's previous report ("" none) */
	char key_sha256[65];
};

/* Reads everything the report draws on. Returns 0 or -errno with err. */
int ww_inc_report_build(const char *state_dir, const struct ww_incident *inc,
			enum ww_inc_stage stage, int64_t now, struct ww_inc_report *r,
			struct strbuf *err);
void ww_inc_report_free(struct ww_inc_report *r);
/* incident.json (pretty JSON, policies/incident-report.schema.json) and incident.html. */
void ww_inc_report_json(const struct ww_inc_report *r, struct strbuf *out);
void ww_inc_report_html(const struct ww_inc_report *r, struct strbuf *out);
/*
 * Writes the bundle into dir (created; must not exist or be empty), signed with sk, chained to
 * the incident's previous report, and appends it to reports.jsonl. Sets r->key_sha256.
 * Returns 0 or -errno with err.
 */
int ww_inc_report_write(const char *state_dir, struct ww_inc_report *r, const uint8_t *sk,
			const char *dir, char manifest_sha256[65], struct strbuf *err);

#endif
