// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence, incidents: the NIS2 Art. 23 report drafts (incident.h) written in the window are
 * signed into the evidence chain. Each is embedded in evidence.json byte for byte (its
 * incident.json as a JSON string) with its sha256, incident, sequence number and stage, so
 * that the bundle's manifest and signature cover it and the next bundle's link chains it; and
 * `evidence verify` checks that each embedded report still hashes to the sha256 listed beside
 * it and says what that sha256, incident and stage claim (docs/evidence.md "Incident reports").
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "incident.h"
#include "timeutil.h"

static char *read_at(const char *dir, const char *name, size_t *len)
{
	char *p = xstrdup_printf("%s/%s", dir, name), *text = NULL;

	if (!p || read_file(p, &text, len))
		text = NULL;
	free(p);
	return text;
}

/* The sha256 the report's own manifest lists for incident.json, into out; false if none. */
static bool listed_sha256(const char *manifest, size_t len, char out[65])
{
	cJSON *m = cJSON_ParseWithLength(manifest, len);
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(m, "files"), *f;
	bool found = false;

	cJSON_ArrayForEach(f, files)
	{
		const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f, "name");
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(f, "sha256");
		if (cJSON_IsString(nm) && !strcmp(nm->valuestring, "incident.json") &&
		    cJSON_IsString(sh) && strlen(sh->valuestring) == 64) {
			memcpy(out, sh->valuestring, 65);
			found = true;
		}
	}
	cJSON_Delete(m);
	return found;
}

/* Reads report x from its directory: its manifest must be the one reports.jsonl recorded, and
 * its incident.json the one that manifest lists; else x->problem says what is wrong. */
static void read_report(struct ww_ev_incident *x, const char *dir)
{
	size_t mlen = 0, jlen = 0;
	char *m = read_at(dir, "manifest.json", &mlen), got[65], listed[65];

	if (!m) {
		x->problem = xstrdup_printf("%s/manifest.json: cannot be read", dir);
		return;
	}
	sha256_hex(m, mlen, got);
	if (strcmp(got, x->manifest_sha256))
		x->problem = xstrdup_printf("%s/manifest.json: sha256 %.16s... is not the %.16s... "
					    "recorded when it was written",
					    dir, got, x->manifest_sha256);
	else if (!listed_sha256(m, mlen, listed))
		x->problem = xstrdup_printf("%s/manifest.json: lists no incident.json", dir);
	else if (!(x->json = read_at(dir, "incident.json", &jlen)))
		x->problem = xstrdup_printf("%s/incident.json: cannot be read", dir);
	else if (sha256_hex(x->json, jlen, x->sha256), strcmp(x->sha256, listed))
		x->problem = xstrdup_printf("%s/incident.json: changed after it was signed", dir);
	if (x->problem) {
		free(x->json);
		x->json = NULL;
	}
	free(m);
}

/* One line of incidents/<id>/reports.jsonl: added to ev when written in [from, ev->time). */
static int add_report(struct ww_evidence *ev, size_t *cap, const char *id, const char *line,
		      int64_t from)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stage");
	const cJSON *tm = cJSON_GetObjectItemCaseSensitive(o, "time");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(o, "manifest_sha256");
	const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "dir");
	struct ww_ev_incident x = {0};
	int e = 0;

	if (!cJSON_IsNumber(seq) || !cJSON_IsString(st) || !cJSON_IsString(tm) ||
	    !cJSON_IsString(sh) || strlen(sh->valuestring) != 64 || !cJSON_IsString(dir) ||
	    ww_time_parse(tm->valuestring, &x.time) || x.time < from || x.time >= ev->time)
		goto out;
	snprintf(x.incident, sizeof(x.incident), "%s", id);
	snprintf(x.stage, sizeof(x.stage), "%s", st->valuestring);
	memcpy(x.manifest_sha256, sh->valuestring, 65);
	x.seq = (unsigned long)seq->valuedouble;
	read_report(&x, dir->valuestring);
	if (VEC_PUSH(ev->incidents, ev->nincidents, *cap, x)) {
		free(x.json);
		free(x.problem);
		e = -ENOMEM;
	}
out:
	cJSON_Delete(o);
	return e;
}

int ww_ev_incidents_build(struct ww_evidence *ev, const char *state_dir)
{
	struct ww_incident *inc = NULL;
	struct strbuf err = {0};
	size_t n = 0, cap = 0;
	int64_t from = ev->base ? ev->base->time : 0;
	int e = 0;

	if (ww_incident_list(state_dir, &inc, &n, &err)) {
		sb_free(&err);
		return 0; /* no incidents recorded */
	}
	const char *sd = state_dir ? state_dir : getenv("WARDWALL_STATE_DIR");
	for (size_t i = 0; i < n && !e; i++) {
		char *path =
		    xstrdup_printf("%s/%s/%s/reports.jsonl", sd && *sd ? sd : "/var/lib/wardwall",
				   WW_INC_DIR, inc[i].id);
		FILE *f = path ? fopen(path, "r") : NULL;
		char *line = NULL;
		size_t len = 0;
		while (f && !e && getline(&line, &len, f) > 0)
			e = add_report(ev, &cap, inc[i].id, line, from);
		if (f)
			fclose(f);
		free(line);
		free(path);
	}
	for (size_t i = 0; i < n; i++)
		ww_incident_clear(&inc[i]);
	free(inc);
	sb_free(&err);
	return e;
}

void ww_ev_incidents_free(struct ww_evidence *ev)
{
	for (size_t i = 0; i < ev->nincidents; i++) {
		free(ev->incidents[i].json);
		free(ev->incidents[i].problem);
	}
	free(ev->incidents);
	ev->incidents = NULL;
	ev->nincidents = 0;
}

void ww_ev_incidents_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_arr(w, "incident_reports");
	for (size_t i = 0; i < ev->nincidents; i++) {
		const struct ww_ev_incident *x = &ev->incidents[i];
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "incident", x->incident);
		ww_jw_u64(w, "seq", x->seq);
		ww_jw_str(w, "stage", x->stage);
		ww_jw_time(w, "written", x->time);
		ww_jw_str(w, "report_manifest_sha256", x->manifest_sha256);
		ww_jw_str(w, "sha256", x->json ? x->sha256 : NULL);
		ww_jw_str(w, "report", x->json);
		ww_jw_str(w, "problem", x->problem);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

void ww_ev_incidents_html(const struct ww_evidence *ev, struct strbuf *o)
{
	char tb[WW_TIME_STRLEN];

	sb_add(o, "<h2>Incident reports</h2>\n");
	if (!ev->nincidents) {
		sb_add(o, "<p>No NIS2 incident report was written in the window.</p>\n");
		return;
	}
	sb_add(o, "<p>The report drafts of <code>wardwall incident report</code> written in the "
		  "window, signed into this bundle: each one's <code>incident.json</code> is in "
		  "<code>evidence.json</code> (<code>incident_reports</code>), byte for byte.</p>\n"
		  "<table id=\"incident-reports\"><tr><th>incident</th><th>report</th>"
		  "<th>stage</th><th>written</th><th>incident.json sha256</th></tr>\n");
	for (size_t i = 0; i < ev->nincidents; i++) {
		const struct ww_ev_incident *x = &ev->incidents[i];
		sb_add(o, "<tr><td>");
		sb_add_html(o, x->incident);
		sb_addf(o, "</td><td class=\"n\">%lu</td><td>", x->seq);
		sb_add_html(o, x->stage);
		sb_addf(o, "</td><td>%s</td><td class=\"mono\">", ww_time_str(x->time, tb));
		if (x->json) {
			sb_add(o, x->sha256);
		} else {
			sb_add(o, "not included: ");
			sb_add_html(o, x->problem ? x->problem : "");
		}
		sb_add(o, "</td></tr>\n");
	}
	sb_add(o, "</table>\n");
}

/* One embedded report of a bundle's evidence.json: the failures it adds to bad. */
static int verify_report(const char *dir, const cJSON *r, struct strbuf *out, struct strbuf *bad)
{
	const cJSON *inc = cJSON_GetObjectItemCaseSensitive(r, "incident");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(r, "seq");
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(r, "stage");
	const cJSON *sh = cJSON_GetObjectItemCaseSensitive(r, "sha256");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(r, "report");
	char got[65];

	if (!cJSON_IsString(inc) || !cJSON_IsNumber(seq) || !cJSON_IsString(st)) {
		sb_addf(bad,
			"%s/evidence.json: an incident report without incident, seq and stage\n",
			dir);
		return 1;
	}
	if (!cJSON_IsString(body)) { /* recorded, but could not be read at the export */
		sb_addf(out, "  incident %s report %d (%s): not included at the export\n",
			inc->valuestring, seq->valueint, st->valuestring);
		return 0;
	}
	sha256_hex(body->valuestring, strlen(body->valuestring), got);
	cJSON *j = cJSON_Parse(body->valuestring);
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(j, "format");
	const cJSON *rep = cJSON_GetObjectItemCaseSensitive(j, "report");
	const cJSON *jst = cJSON_GetObjectItemCaseSensitive(rep, "stage");
	const cJSON *jseq = cJSON_GetObjectItemCaseSensitive(rep, "seq");
	int fails = 0;
	if (!cJSON_IsString(sh) || strcmp(got, sh->valuestring)) {
		sb_addf(bad,
			"%s/evidence.json: incident %s report %d: its sha256 is %.16s..., "
			"not the %.16s... listed beside it\n",
			dir, inc->valuestring, seq->valueint, got,
			cJSON_IsString(sh) ? sh->valuestring : "(none)");
		fails++;
	} else if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, WW_INC_FORMAT) ||
		   !cJSON_IsString(jst) || strcmp(jst->valuestring, st->valuestring) ||
		   !cJSON_IsNumber(jseq) || jseq->valueint != seq->valueint) {
		sb_addf(bad,
			"%s/evidence.json: incident %s report %d: not a %s report of stage %s\n",
			dir, inc->valuestring, seq->valueint, WW_INC_FORMAT, st->valuestring);
		fails++;
	} else {
		sb_addf(out, "  incident %s report %d (%s), incident.json sha256 %s\n",
			inc->valuestring, seq->valueint, st->valuestring, got);
	}
	cJSON_Delete(j);
	return fails;
}

int ww_ev_incidents_verify(const char *dir, struct strbuf *out, struct strbuf *bad)
{
	size_t len = 0;
	char *text = read_at(dir, "evidence.json", &len);
	cJSON *j = text ? cJSON_ParseWithLength(text, len) : NULL;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "incident_reports"), *r;
	int fails = 0;

	if (cJSON_IsArray(v) && cJSON_GetArraySize(v))
		sb_addf(out, "  %d incident report%s signed into bundle %s:\n",
			cJSON_GetArraySize(v), cJSON_GetArraySize(v) == 1 ? "" : "s", dir);
	cJSON_ArrayForEach(r, v) fails += verify_report(dir, r, out, bad);
	cJSON_Delete(j);
	free(text);
	return fails;
}
