// SPDX-License-Identifier: GPL-2.0-only
/*
 * Incident records, and what a report draws on (incident.h). Everything here is read from
 * wardwall's own records; nothing is inferred beyond them.
 */
#include "incident.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "evidence.h"
#include "evlog.h"
#include "json.h"
#include "state.h"
#include "timeutil.h"

const char *const ww_inc_stage_names[] = {"early-warning", "notification", "final"};

void ww_incident_clear(struct ww_incident *inc)
{
	free(inc->title);
	memset(inc, 0, sizeof(*inc));
}

static char *inc_path(const char *state_dir, const char *id, const char *file)
{
	if (!id)
		return xstrdup_printf("%s/%s", state_dir, WW_INC_DIR);
	if (!file)
		return xstrdup_printf("%s/%s/%s", state_dir, WW_INC_DIR, id);
	return xstrdup_printf("%s/%s/%s/%s", state_dir, WW_INC_DIR, id, file);
}

static int read_text(const char *path, char **out)
{
	FILE *f = fopen(path, "r");
	struct strbuf sb = {0};
	char buf[4096];
	size_t n;

	if (!f)
		return -errno;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_addn(&sb, buf, n);
	fclose(f);
	if (sb.oom) {
		sb_free(&sb);
		return -ENOMEM;
	}
	*out = sb_steal(&sb);
	return 0;
}

static int time_member(const cJSON *o, const char *key, int64_t *t)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	*t = 0;
	if (cJSON_IsNull(m) || !m)
		return 0;
	return cJSON_IsString(m) ? ww_time_parse(m->valuestring, t) : -EINVAL;
}

static int inc_load(const char *state_dir, const char *id, struct ww_incident *inc,
		    struct strbuf *err)
{
	char *path = inc_path(state_dir, id, "incident.json"), *text = NULL;
	cJSON *o = NULL;
	const cJSON *m;
	int e;

	memset(inc, 0, sizeof(*inc));
	if (!path)
		return -ENOMEM;
	if ((e = read_text(path, &text))) {
		sb_addf(err, "%s: %s", path, e == -ENOENT ? "no such incident" : strerror(-e));
		goto out;
	}
	o = cJSON_Parse(text);
	m = cJSON_GetObjectItemCaseSensitive(o, "title");
	e = -EINVAL;
	if (!cJSON_IsString(m) || time_member(o, "aware", &inc->aware) ||
	    time_member(o, "since", &inc->since) || time_member(o, "closed", &inc->closed) ||
	    !(inc->title = strdup(m->valuestring))) {
		sb_addf(err, "%s: not an incident record", path);
		goto out;
	}
	snprintf(inc->id, sizeof(inc->id), "%s", id);
	m = cJSON_GetObjectItemCaseSensitive(o, "user");
	snprintf(inc->user, sizeof(inc->user), "%s", cJSON_IsString(m) ? m->valuestring : "");
	e = 0;
out:
	if (e)
		ww_incident_clear(inc);
	cJSON_Delete(o);
	free(text);
	free(path);
	return e;
}

static int inc_save(const char *state_dir, const struct ww_incident *inc, struct strbuf *err)
{
	struct strbuf sb = {0};
	struct ww_jw w = {.out = &sb};
	char *path = inc_path(state_dir, inc->id, "incident.json");
	int e;

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "id", inc->id);
	ww_jw_str(&w, "title", inc->title);
	ww_jw_time(&w, "aware", inc->aware);
	ww_jw_time(&w, "since", inc->since);
	ww_jw_time(&w, "closed", inc->closed);
	ww_jw_str(&w, "user", inc->user);
	ww_jw_end_obj(&w);
	e = !path || sb.oom ? -ENOMEM : write_file_atomic(path, sb.s, sb.len, 0644);
	if (e)
		sb_addf(err, "%s: %s", path ? path : "incident.json", strerror(-e));
	free(path);
	sb_free(&sb);
	return e;
}

static int cmp_ids(const void *a, const void *b)
{
	unsigned long x = strtoul(*(char *const *)a + 4, NULL, 10);
	unsigned long y = strtoul(*(char *const *)b + 4, NULL, 10);

	return x < y ? -1 : x > y;
}

/*
 * After opening path failed (errno): 0 where it does not exist, nothing recorded yet; else
 * -errno, said in err. Frees path.
 */
static int open_failed(char *path, struct strbuf *err)
{
	int e = errno == ENOENT ? 0 : -errno;

	if (e)
		sb_addf(err, "%s: %s", path, strerror(-e));
	free(path);
	return e;
}

/* The incident ids, "inc-1" upwards, in order. */
static int inc_ids(const char *state_dir, char ***out, size_t *n, struct strbuf *err)
{
	char *path = inc_path(state_dir, NULL, NULL);
	DIR *d = path ? opendir(path) : NULL;
	struct dirent *de;
	size_t cap = 0;
	int e = 0;

	*out = NULL;
	*n = 0;
	if (!path)
		return -ENOMEM;
	if (!d)
		return open_failed(path, err);
	while ((de = readdir(d))) {
		char *end, *s;
		if (strncmp(de->d_name, "inc-", 4) || strtoul(de->d_name + 4, &end, 10) == 0 ||
		    *end)
			continue;
		if (!(s = strdup(de->d_name)) || VEC_PUSH(*out, *n, cap, s)) {
			free(s);
			e = -ENOMEM;
			break;
		}
	}
	closedir(d);
	free(path);
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), cmp_ids);
	return e;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int ww_incident_list(const char *state_dir, struct ww_incident **out, size_t *n, struct strbuf *err)
{
	char **ids;
	size_t nids, cap = 0;
	int e = inc_ids(state_dir, &ids, &nids, err);

	*out = NULL;
	*n = 0;
	for (size_t i = 0; !e && i < nids; i++) {
		struct ww_incident inc;
		if (!(e = inc_load(state_dir, ids[i], &inc, err)) && VEC_PUSH(*out, *n, cap, inc)) {
			ww_incident_clear(&inc);
			e = -ENOMEM;
		}
	}
	strv_free(ids, nids);
	if (e) {
		for (size_t i = 0; i < *n; i++)
			ww_incident_clear(&(*out)[i]);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return e;
}

int ww_incident_get(const char *state_dir, const char *id, struct ww_incident *out,
		    struct strbuf *err)
{
	struct ww_incident *v;
	size_t n;
	int e;

	if (id)
		return inc_load(state_dir, id, out, err);
	if ((e = ww_incident_list(state_dir, &v, &n, err)))
		return e;
	e = -ENOENT;
	for (size_t i = n; i-- > 0;)
		if (e && !v[i].closed) {
			*out = v[i];
			memset(&v[i], 0, sizeof(v[i]));
			e = 0;
		}
	if (e && n) {
		*out = v[n - 1];
		memset(&v[n - 1], 0, sizeof(v[n - 1]));
		e = 0;
	}
	for (size_t i = 0; i < n; i++)
		ww_incident_clear(&v[i]);
	free(v);
	if (e)
		sb_add(err, "no incident recorded (wardwall incident open --title ...)");
	return e;
}

int ww_incident_open(const char *state_dir, const char *title, int64_t aware, int64_t since,
		     struct ww_incident *out, struct strbuf *err)
{
	struct ww_incident *v, inc = {0};
	size_t n;
	unsigned long next = 1;
	char *dir = NULL, *top = inc_path(state_dir, NULL, NULL);
	const char *u = getenv("SUDO_USER");
	int e;

	if (!top)
		return -ENOMEM;
	if ((e = ww_incident_list(state_dir, &v, &n, err))) {
		free(top);
		return e;
	}
	for (size_t i = 0; i < n; i++) {
		if (!v[i].closed && !e) {
			sb_addf(
			    err,
			    "%s (\"%s\") is still open: close it first (wardwall incident close "
			    "%s)",
			    v[i].id, v[i].title, v[i].id);
			e = -EBUSY;
		}
		unsigned long k = strtoul(v[i].id + 4, NULL, 10);
		if (k >= next)
			next = k + 1;
		ww_incident_clear(&v[i]);
	}
	free(v);
	if (e)
		goto out;
	snprintf(inc.id, sizeof(inc.id), "inc-%lu", next);
	if (!(inc.title = strdup(title))) {
		e = -ENOMEM;
		goto out;
	}
	inc.aware = aware;
	inc.since = since;
	if (!u)
		u = getenv("USER");
	snprintf(inc.user, sizeof(inc.user), "%s", u ? u : "");
	dir = inc_path(state_dir, inc.id, NULL);
	if (!dir) {
		e = -ENOMEM;
		goto out;
	}
	if ((mkdir(top, 0755) && errno != EEXIST) || mkdir(dir, 0755)) {
		e = -errno;
		sb_addf(err, "%s: %s", dir, strerror(errno));
		goto out;
	}
	if ((e = inc_save(state_dir, &inc, err)))
		goto out;
	*out = inc;
	memset(&inc, 0, sizeof(inc));
out:
	ww_incident_clear(&inc);
	free(dir);
	free(top);
	return e;
}

int ww_incident_close(const char *state_dir, const char *id, int64_t now, struct ww_incident *out,
		      struct strbuf *err)
{
	struct ww_incident inc;
	int e = ww_incident_get(state_dir, id, &inc, err);

	if (e)
		return e;
	if (inc.closed) {
		sb_addf(err, "%s is closed already (%s)", inc.id, id ? "" : "no incident is open");
		ww_incident_clear(&inc);
		return -ENOENT;
	}
	inc.closed = now;
	if ((e = inc_save(state_dir, &inc, err))) {
		ww_incident_clear(&inc);
		return e;
	}
	*out = inc;
	return 0;
}

/* ---- what a report draws on ---- */

struct collect {
	struct ww_inc_report *r;
	int64_t from_ns, to_ns;
	size_t cap_pairs, cap_alerts;
	/* sources: open addressing over WW_INC_SOURCES * 2 slots */
	struct ww_inc_source *src;
	size_t nsrc;
	int32_t *slot;
	int e;
};

static int64_t line_time(const char *line)
{
	const char *p = strstr(line, "\"time\": \"");
	char buf[40];
	int64_t ns;

	if (!p)
		p = strstr(line, "\"last_seen\": \"");
	if (!p)
		return 0;
	p = strchr(p + 6, ':') + 3;
	size_t n = strcspn(p, "\"");
	if (n >= sizeof(buf))
		return 0;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return ww_time_ms_parse(buf, &ns) ? 0 : ns;
}

static void add_service(struct ww_inc_source *s, const char *svc)
{
	for (size_t i = 0; i < s->nservices; i++)
		if (!strcmp(s->services[i], svc))
			return;
	if (s->nservices == 8) {
		s->more_services = true;
		return;
	}
	snprintf(s->services[s->nservices++], sizeof(s->services[0]), "%s", svc);
}

static struct ww_inc_source *source(struct collect *c, const char *addr)
{
	size_t nslots = WW_INC_SOURCES * 2;
	size_t h = fnv1a64(addr, strlen(addr), FNV1A64_INIT) % nslots;

	for (;; h = (h + 1) % nslots) {
		int32_t i = c->slot[h];
		if (i < 0)
			break;
		if (!strcmp(c->src[i].addr, addr))
			return &c->src[i];
	}
	if (c->nsrc == WW_INC_SOURCES) {
		c->r->sources_more = true;
		return NULL;
	}
	c->slot[h] = (int32_t)c->nsrc;
	struct ww_inc_source *s = &c->src[c->nsrc++];
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	return s;
}

static void count_pair(struct collect *c, const struct ww_logrec *rec)
{
	struct ww_inc_report *r = c->r;

	for (size_t i = 0; i < r->npairs; i++) {
		struct ww_inc_pair *p = &r->pairs[i];
		if (!strcmp(p->src, rec->zone[0]) && !strcmp(p->dst, rec->zone[1]) &&
		    !strcmp(p->verdict, rec->verdict)) {
			p->n++;
			return;
		}
	}
	if (r->npairs == 4096)
		return;
	struct ww_inc_pair p = {.n = 1};
	snprintf(p.src, sizeof(p.src), "%s", rec->zone[0]);
	snprintf(p.dst, sizeof(p.dst), "%s", rec->zone[1]);
	snprintf(p.verdict, sizeof(p.verdict), "%s", rec->verdict);
	if (VEC_PUSH(r->pairs, r->npairs, c->cap_pairs, p))
		c->e = -ENOMEM;
}

static int on_event(const char *line, void *arg)
{
	struct collect *c = arg;
	struct ww_inc_report *r = c->r;
	struct ww_logrec rec;
	int64_t t = line_time(line);
	int e;

	if (t && (!r->rec_first_ns || t < r->rec_first_ns))
		r->rec_first_ns = t;
	if (t > r->rec_last_ns)
		r->rec_last_ns = t;
	if (t < c->from_ns || t > c->to_ns)
		return 0;
	e = ww_logrec_parse(line, &rec);
	if (e == -ENOENT) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *ty = cJSON_GetObjectItemCaseSensitive(o, "type");
		if (cJSON_IsString(ty) && !strcmp(ty->valuestring, "dropped")) {
			const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "rate_limited");
			const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "ring_full");
			r->not_logged += (uint64_t)(cJSON_IsNumber(a) ? a->valuedouble : 0) +
					 (uint64_t)(cJSON_IsNumber(b) ? b->valuedouble : 0);
		}
		cJSON_Delete(o);
		return 0;
	}
	if (e)
		return 0;
	r->events++;
	if (!strcmp(rec.verdict, "deny"))
		r->denied++;
	else if (!strcmp(rec.verdict, "monitor"))
		r->monitored++;
	else
		r->allowed++;
	count_pair(c, &rec);
	if (!strcmp(rec.verdict, "allow") || !rec.t.family)
		return c->e;
	struct strbuf sb = {0};
	ww_logrec_print(&rec, true, &sb);
	cJSON *o = cJSON_Parse(sb_str(&sb));
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(o, "src");
	const cJSON *proto = cJSON_GetObjectItemCaseSensitive(o, "proto");
	const cJSON *dport = cJSON_GetObjectItemCaseSensitive(o, "dport");
	struct ww_inc_source *s = cJSON_IsString(src) ? source(c, src->valuestring) : NULL;
	if (s) {
		char svc[16];
		if (!s->n || rec.time_ns < s->first_ns)
			s->first_ns = rec.time_ns;
		if (rec.time_ns > s->last_ns)
			s->last_ns = rec.time_ns;
		s->n++;
		snprintf(s->zone, sizeof(s->zone), "%s", rec.zone[0]);
		if (cJSON_IsNumber(dport))
			snprintf(svc, sizeof(svc), "%s/%d",
				 cJSON_IsString(proto) ? proto->valuestring : "?",
				 (int)dport->valuedouble);
		else
			snprintf(svc, sizeof(svc), "%s",
				 cJSON_IsString(proto) ? proto->valuestring : "?");
		add_service(s, svc);
	}
	cJSON_Delete(o);
	sb_free(&sb);
	return c->e;
}

static int on_alert_line(const char *line, void *arg)
{
	struct collect *c = arg;
	struct ww_inc_report *r = c->r;
	struct ww_alert a;

	if (ww_alert_parse(line, &a) || a.last_ns < c->from_ns || a.first_ns > c->to_ns)
		return 0;
	if (VEC_PUSH(r->alerts, r->nalerts, c->cap_alerts, a))
		return c->e = -ENOMEM;
	return 0;
}

static int cmp_pair(const void *a, const void *b)
{
	const struct ww_inc_pair *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->src, y->src);
}

static int cmp_src(const void *a, const void *b)
{
	const struct ww_inc_source *x = a, *y = b;

	return x->n != y->n ? (x->n < y->n ? 1 : -1) : strcmp(x->addr, y->addr);
}

static int cmp_tl(const void *a, const void *b)
{
	const struct ww_inc_tl *x = a, *y = b;

	return x->time_ns < y->time_ns ? -1 : x->time_ns > y->time_ns;
}

static int add_tl(struct ww_inc_report *r, size_t *cap, int64_t t_ns, const char *kind,
		  const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static int add_tl(struct ww_inc_report *r, size_t *cap, int64_t t_ns, const char *kind,
		  const char *fmt, ...)
{
	struct ww_inc_tl x = {.time_ns = t_ns};
	va_list ap;

	va_start(ap, fmt);
	x.text = xstrdup_vprintf(fmt, ap);
	va_end(ap);
	snprintf(x.kind, sizeof(x.kind), "%s", kind);
	if (!x.text || VEC_PUSH(r->timeline, r->ntimeline, *cap, x)) {
		free(x.text);
		return -ENOMEM;
	}
	return 0;
}

static int add_zone(struct ww_inc_report *r, size_t *cap, const char *z)
{
	char *s;

	if (!*z || !strcmp(z, "-") || !strcmp(z, "?"))
		return 0;
	for (size_t i = 0; i < r->nzones; i++)
		if (!strcmp(r->zones[i], z))
			return 0;
	if (!(s = strdup(z)) || VEC_PUSH(r->zones, r->nzones, *cap, s)) {
		free(s);
		return -ENOMEM;
	}
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int read_quarantines(const char *state_dir, struct collect *c, struct strbuf *err)
{
	struct ww_inc_report *r = c->r;
	char *path = xstrdup_printf("%s/quarantine-log.jsonl", state_dir), *line = NULL;
	size_t cap = 0, len = 0;
	FILE *f = path ? fopen(path, "r") : NULL;
	int e = 0;

	if (!path)
		return -ENOMEM;
	if (!f)
		return open_failed(path, err);
	while (!e && getline(&line, &len, f) > 0) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(o, "quarantine"), *m;
		struct ww_inc_quar x = {0};
		if (!o || !q || time_member(o, "time", &x.time) || x.time < r->inc.since ||
		    x.time > r->until) {
			cJSON_Delete(o);
			continue;
		}
		m = cJSON_GetObjectItemCaseSensitive(o, "event");
		snprintf(x.event, sizeof(x.event), "%s", cJSON_IsString(m) ? m->valuestring : "?");
		m = cJSON_GetObjectItemCaseSensitive(q, "id");
		snprintf(x.id, sizeof(x.id), "%s", cJSON_IsString(m) ? m->valuestring : "?");
		m = cJSON_GetObjectItemCaseSensitive(o, "blocked_packets");
		x.blocked = cJSON_IsNumber(m) ? (uint64_t)m->valuedouble : 0;
		m = cJSON_GetObjectItemCaseSensitive(q, "target");
		x.target = strdup(cJSON_IsString(m) ? m->valuestring : "?");
		m = cJSON_GetObjectItemCaseSensitive(q, "reason");
		x.reason = strdup(cJSON_IsString(m) ? m->valuestring : "");
		m = cJSON_GetObjectItemCaseSensitive(q, "ticket");
		x.ticket = cJSON_IsString(m) ? strdup(m->valuestring) : NULL;
		if (!x.target || !x.reason || VEC_PUSH(r->quars, r->nquars, cap, x)) {
			free(x.target);
			free(x.reason);
			free(x.ticket);
			e = -ENOMEM;
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	free(path);
	return e;
}

/* The incident's previous report: its manifest, and this report's place in the series. */
static int read_reports(const char *state_dir, struct ww_inc_report *r, int64_t *notified)
{
	char *path = inc_path(state_dir, r->inc.id, "reports.jsonl"), *line = NULL;
	size_t len = 0;
	FILE *f = path ? fopen(path, "r") : NULL;

	r->seq = 1;
	*notified = 0;
	if (!path)
		return -ENOMEM;
	free(path);
	if (!f)
		return errno == ENOENT ? 0 : -errno;
	while (getline(&line, &len, f) > 0) {
		cJSON *o = cJSON_Parse(line);
		const cJSON *seq = cJSON_GetObjectItemCaseSensitive(o, "seq");
		const cJSON *sha = cJSON_GetObjectItemCaseSensitive(o, "manifest_sha256");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "stage");
		int64_t t;
		if (cJSON_IsNumber(seq) && cJSON_IsString(sha)) {
			r->seq = (unsigned long)seq->valuedouble + 1;
			snprintf(r->prev_sha256, sizeof(r->prev_sha256), "%s", sha->valuestring);
			if (cJSON_IsString(st) && !strcmp(st->valuestring, "notification") &&
			    !time_member(o, "time", &t) && !*notified)
				*notified = t;
		}
		cJSON_Delete(o);
	}
	free(line);
	fclose(f);
	return 0;
}

static int64_t plus_month(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	tm.tm_mon += 1;
	return (int64_t)timegm(&tm);
}

/* The report's deadline: 24 hours, 72 hours, or a month after the notification. */
static int64_t stage_deadline(enum ww_inc_stage stage, const struct ww_incident *inc,
			      int64_t notified)
{
	return stage == WW_INC_EARLY ? inc->aware + 24 * 3600
	       : stage == WW_INC_NOTIFICATION
		   ? inc->aware + 72 * 3600
		   : plus_month(notified ? notified : inc->aware + 72 * 3600);
}

/* Events and alerts of the window: zone pairs, alerts, and the most denied sources. */
static int read_events(const char *state_dir, struct collect *c, struct strbuf *err)
{
	struct ww_inc_report *r = c->r;
	int e;

	c->src = calloc(WW_INC_SOURCES, sizeof(*c->src));
	c->slot = malloc(WW_INC_SOURCES * 2 * sizeof(*c->slot));
	if (!c->src || !c->slot)
		return -ENOMEM;
	memset(c->slot, 0xff, WW_INC_SOURCES * 2 * sizeof(*c->slot));
	e = ww_evlog_read(state_dir, WW_EVLOG_EVENTS, WW_EVLOG_KEEP, on_event, c);
	if (!e)
		e = ww_evlog_read(state_dir, WW_EVLOG_ALERTS, WW_EVLOG_KEEP, on_alert_line, c);
	if (e) {
		sb_addf(err, "%s/%s: %s", state_dir, WW_EVLOG_DIR, strerror(-e));
		return e;
	}
	if ((e = c->e))
		return e;
	if (r->npairs > 1)
		qsort(r->pairs, r->npairs, sizeof(*r->pairs), cmp_pair);
	if (c->nsrc > 1)
		qsort(c->src, c->nsrc, sizeof(*c->src), cmp_src);
	r->sources_total = c->nsrc;
	r->nsources = c->nsrc < WW_INC_TOP ? c->nsrc : WW_INC_TOP;
	if (r->nsources && !(r->sources = malloc(r->nsources * sizeof(*r->sources))))
		return -ENOMEM;
	if (r->nsources)
		memcpy(r->sources, c->src, r->nsources * sizeof(*r->sources));
	return 0;
}

/* The policy generations applied or rolled back during the window. */
static int read_generations(const char *state_dir, struct ww_inc_report *r, struct strbuf *err)
{
	struct ww_state *st = NULL;
	struct ww_generation *hist = NULL;
	size_t nhist = 0, cap = 0;
	int e;

	if ((e = ww_state_open(state_dir, false, &st, err)) ||
	    (e = ww_state_history(st, &hist, &nhist))) {
		if (!err->len)
			sb_addf(err, "%s: history: %s", state_dir, strerror(-e));
		goto out;
	}
	for (size_t i = 0; i < nhist; i++) {
		const struct ww_generation *g = &hist[i];
		if (g->time < r->inc.since || g->time > r->until)
			continue;
		struct ww_inc_gen x = {.gen = g->gen, .time = g->time};
		snprintf(x.action, sizeof(x.action), "%s", g->action);
		snprintf(x.user, sizeof(x.user), "%s", g->user);
		snprintf(x.policy, sizeof(x.policy), "%s", g->policy_name);
		snprintf(x.sha256, sizeof(x.sha256), "%s", g->policy_sha256);
		if (VEC_PUSH(r->gens, r->ngens, cap, x)) {
			e = -ENOMEM;
			goto out;
		}
	}
out:
	free(hist);
	ww_state_close(st);
	return e;
}

/* The evidence bundles exported during the window. */
static int read_bundles(const char *state_dir, struct ww_inc_report *r, struct strbuf *err)
{
	struct ww_ev_record *chain = NULL;
	size_t nchain = 0, cap = 0;
	int e;

	if ((e = ww_ev_chain_load(state_dir, &chain, &nchain, err)))
		goto out;
	for (size_t i = 0; i < nchain; i++) {
		if (chain[i].time < r->inc.since || chain[i].time > r->until)
			continue;
		struct ww_inc_bundle b = {.seq = chain[i].seq, .time = chain[i].time};
		memcpy(b.manifest_sha256, chain[i].manifest_sha256, 65);
		if (!(b.dir = strdup(chain[i].bundle ? chain[i].bundle : "")) ||
		    VEC_PUSH(r->bundles, r->nbundles, cap, b)) {
			free(b.dir);
			e = -ENOMEM;
			goto out;
		}
	}
out:
	ww_ev_records_free(chain, nchain);
	return e;
}

/* The timeline and the zones concerned, from what was read, each sorted. */
static int timeline_and_zones(struct ww_inc_report *r)
{
	const struct ww_incident *inc = &r->inc;
	size_t captl = 0, capz = 0;
	int e;

	e = add_tl(r, &captl, inc->aware * 1000000000LL, "aware",
		   "%s opened: \"%s\" (awareness: the Art. 23 clock starts)", inc->id, inc->title);
	for (size_t i = 0; !e && i < r->nalerts; i++) {
		struct strbuf t = {0};
		const struct ww_alert *a = &r->alerts[i];
		ww_alert_print(a, false, &t);
		if (t.len && t.s[t.len - 1] == '\n')
			t.s[--t.len] = '\0';
		/* the text starts with its last time: the timeline has its own */
		const char *sp = strchr(sb_str(&t), ' ');
		e = add_tl(r, &captl, a->first_ns, "alert", "%s", sp ? sp + 1 : sb_str(&t));
		sb_free(&t);
		if (!e)
			e = add_zone(r, &capz, a->src_zone);
		for (size_t k = 0; !e && k < a->ndst_zones; k++)
			e = add_zone(r, &capz, a->dst_zones[k]);
	}
	for (size_t i = 0; !e && i < r->nquars; i++) {
		const struct ww_inc_quar *q = &r->quars[i];
		e = add_tl(r, &captl, q->time * 1000000000LL, "quarantine",
			   "quarantine %s %s %s: %s%s%s (%llu packets blocked)", q->event, q->id,
			   q->target, q->reason, q->ticket ? ", ticket " : "",
			   q->ticket ? q->ticket : "", (unsigned long long)q->blocked);
	}
	for (size_t i = 0; !e && i < r->ngens; i++) {
		const struct ww_inc_gen *g = &r->gens[i];
		e = add_tl(r, &captl, g->time * 1000000000LL, "policy",
			   "%s of generation %lu (policy \"%s\", sha256 %.16s) by %s", g->action,
			   g->gen, g->policy, g->sha256, g->user[0] ? g->user : "?");
	}
	for (size_t i = 0; !e && i < r->nbundles; i++)
		e = add_tl(r, &captl, r->bundles[i].time * 1000000000LL, "evidence",
			   "evidence bundle %lu exported to %s (manifest sha256 %.16s)",
			   r->bundles[i].seq, r->bundles[i].dir, r->bundles[i].manifest_sha256);
	if (!e && inc->closed)
		e = add_tl(r, &captl, inc->closed * 1000000000LL, "closed", "%s closed", inc->id);
	for (size_t i = 0; !e && i < r->npairs; i++)
		if (strcmp(r->pairs[i].verdict, "allow")) {
			e = add_zone(r, &capz, r->pairs[i].src);
			if (!e)
				e = add_zone(r, &capz, r->pairs[i].dst);
		}
	if (e)
		return e;
	if (r->ntimeline > 1)
		qsort(r->timeline, r->ntimeline, sizeof(*r->timeline), cmp_tl);
	if (r->nzones > 1)
		qsort(r->zones, r->nzones, sizeof(*r->zones), cmp_str);
	return 0;
}

int ww_inc_report_build(const char *state_dir, const struct ww_incident *inc,
			enum ww_inc_stage stage, int64_t now, struct ww_inc_report *r,
			struct strbuf *err)
{
	struct collect c = {.r = r};
	int64_t notified;
	int e;

	memset(r, 0, sizeof(*r));
	r->inc = *inc;
	if (!(r->inc.title = strdup(inc->title)))
		return -ENOMEM;
	r->stage = stage;
	r->generated = now;
	r->until = inc->closed ? inc->closed : now;
	if (gethostname(r->hostname, sizeof(r->hostname) - 1))
		snprintf(r->hostname, sizeof(r->hostname), "-");
	c.from_ns = inc->since * 1000000000LL;
	c.to_ns = r->until * 1000000000LL + 999999999LL;
	if ((e = read_reports(state_dir, r, &notified)))
		goto out;
	r->deadline = stage_deadline(stage, inc, notified);
	if ((e = read_events(state_dir, &c, err)) || (e = read_quarantines(state_dir, &c, err)) ||
	    (e = read_generations(state_dir, r, err)) || (e = read_bundles(state_dir, r, err)))
		goto out;
	e = timeline_and_zones(r);
out:
	if (e == -ENOMEM && !err->len)
		sb_add(err, "out of memory");
	free(c.src);
	free(c.slot);
	if (e)
		ww_inc_report_free(r);
	return e;
}

void ww_inc_report_free(struct ww_inc_report *r)
{
	ww_incident_clear(&r->inc);
	free(r->pairs);
	free(r->sources);
	free(r->alerts);
	for (size_t i = 0; i < r->nquars; i++) {
		free(r->quars[i].target);
		free(r->quars[i].reason);
		free(r->quars[i].ticket);
	}
	free(r->quars);
	free(r->gens);
	for (size_t i = 0; i < r->nbundles; i++)
		free(r->bundles[i].dir);
	free(r->bundles);
	for (size_t i = 0; i < r->ntimeline; i++)
		free(r->timeline[i].text);
	free(r->timeline);
	strv_free(r->zones, r->nzones);
	memset(r, 0, sizeof(*r));
}
