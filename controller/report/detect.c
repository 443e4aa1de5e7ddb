// SPDX-License-Identifier: GPL-2.0-only
#include "detect.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evlog.h"

const char *ww_detector_name(enum ww_detector d)
{
	static const char *const s[] = {"scan", "lateral", "new_talker", "flood"};
	return d < WW_DET_N ? s[d] : "?";
}

/* ---- a bounded table with least-recently-seen eviction ---- */

#define KEYLEN 40

struct node {
	uint8_t key[KEYLEN];
	uint32_t hnext;	     /* next in the bucket, index + 1 (0: end) */
	uint32_t prev, next; /* recency list, index + 1: prev is more recent */
};

struct lru {
	uint32_t cap, n, nb;
	uint32_t *bucket; /* index + 1 of a chain's first node */
	struct node *node;
	uint32_t head, tail; /* most and least recent, index + 1 */
	size_t vsize;
	uint8_t *vals;
};

static int lru_init(struct lru *t, uint32_t cap, size_t vsize)
{
	t->cap = cap;
	for (t->nb = 16; t->nb < 2 * cap; t->nb *= 2)
		;
	t->vsize = vsize;
	t->bucket = calloc(t->nb, sizeof(*t->bucket));
	t->node = calloc(cap, sizeof(*t->node));
	t->vals = vsize ? calloc(cap, vsize) : NULL;
	return t->bucket && t->node && (!vsize || t->vals) ? 0 : -ENOMEM;
}

static void lru_free(struct lru *t)
{
	free(t->bucket);
	free(t->node);
	free(t->vals);
}

static size_t lru_bytes(const struct lru *t)
{
	return t->nb * sizeof(*t->bucket) + t->cap * (sizeof(*t->node) + t->vsize);
}

static uint32_t lru_hash(const struct lru *t, const uint8_t *key)
{
	return (uint32_t)fnv1a64(key, KEYLEN, FNV1A64_INIT) & (t->nb - 1);
}

static void *lru_val(struct lru *t, uint32_t i)
{
	return t->vals + (size_t)i * t->vsize;
}

static void list_unlink(struct lru *t, uint32_t i)
{
	struct node *x = &t->node[i];

	if (x->prev)
		t->node[x->prev - 1].next = x->next;
	else
		t->head = x->next;
	if (x->next)
		t->node[x->next - 1].prev = x->prev;
	else
		t->tail = x->prev;
	x->prev = x->next = 0;
}

static void list_front(struct lru *t, uint32_t i)
{
	struct node *x = &t->node[i];

	x->prev = 0;
	x->next = t->head;
	if (t->head)
		t->node[t->head - 1].prev = i + 1;
	t->head = i + 1;
	if (!t->tail)
		t->tail = i + 1;
}

/* The entry of key, made most recent; -1 when absent. */
static long lru_find(struct lru *t, const uint8_t *key)
{
	for (uint32_t k = t->bucket[lru_hash(t, key)]; k; k = t->node[k - 1].hnext)
		if (!memcmp(t->node[k - 1].key, key, KEYLEN)) {
			list_unlink(t, k - 1);
			list_front(t, k - 1);
			return (long)(k - 1);
		}
	return -1;
}

/* A new entry for key (absent), its value zeroed; when full, the least recent entry is reused
 * and *evicted says which it was (its value still readable until this returns: the caller's
 * before_evict ran first). */
static uint32_t lru_insert(struct lru *t, const uint8_t *key, bool *evicted,
			   void (*before_evict)(void *arg, uint32_t i), void *arg)
{
	uint32_t i;

	*evicted = false;
	if (t->n < t->cap) {
		i = t->n++;
	} else {
		i = t->tail - 1;
		if (before_evict)
			before_evict(arg, i);
		list_unlink(t, i);
		uint32_t *p = &t->bucket[lru_hash(t, t->node[i].key)];
		while (*p != i + 1)
			p = &t->node[*p - 1].hnext;
		*p = t->node[i].hnext;
		*evicted = true;
	}
	memcpy(t->node[i].key, key, KEYLEN);
	uint32_t h = lru_hash(t, key);
	t->node[i].hnext = t->bucket[h];
	t->bucket[h] = i + 1;
	list_front(t, i);
	if (t->vsize)
		memset(lru_val(t, i), 0, t->vsize);
	return i;
}

/* ---- per-source state ---- */

struct pend {
	bool open;
	int64_t open_ns, quiet_until_ns;
	struct ww_alert a;
};

struct source {
	int64_t scan_start;
	uint64_t scan_n; /* denials in the scan window */
	int64_t scan_first;
	uint32_t ntargets;
	uint32_t targets[WW_DETECT_TARGETS_MAX]; /* hashes of (destination, port) */
	int64_t flood_start;
	uint64_t flood_n;
	struct pend p[WW_DET_N];
};

struct open_ref {
	uint32_t src;
	enum ww_detector det;
};

struct ww_detect {
	struct ww_detect_cfg cfg;
	const struct ww_policy *policy;
	ww_alert_cb cb;
	void *arg;
	struct lru sources, talkers;
	struct open_ref *open; /* open alerts, at most max_sources * WW_DET_N */
	size_t nopen;
	struct ww_detect_stats st;
};

int ww_detect_new(const struct ww_detect_cfg *cfg, ww_alert_cb cb, void *arg,
		  struct ww_detect **out)
{
	struct ww_detect *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->cfg = *cfg;
	if (d->cfg.scan_targets > WW_DETECT_TARGETS_MAX)
		d->cfg.scan_targets = WW_DETECT_TARGETS_MAX;
	d->cb = cb;
	d->arg = arg;
	d->open = calloc((size_t)cfg->max_sources * WW_DET_N, sizeof(*d->open));
	if (!d->open || lru_init(&d->sources, cfg->max_sources, sizeof(struct source)) ||
	    lru_init(&d->talkers, cfg->max_sources * 16, 0)) {
		ww_detect_free(d);
		return -ENOMEM;
	}
	d->st.max_sources = cfg->max_sources;
	d->st.max_talkers = (size_t)cfg->max_sources * 16;
	d->st.bytes = sizeof(*d) + lru_bytes(&d->sources) + lru_bytes(&d->talkers) +
		      (size_t)cfg->max_sources * WW_DET_N * sizeof(*d->open);
	*out = d;
	return 0;
}

void ww_detect_free(struct ww_detect *d)
{
	if (!d)
		return;
	lru_free(&d->sources);
	lru_free(&d->talkers);
	free(d->open);
	free(d);
}

void ww_detect_policy(struct ww_detect *d, const struct ww_policy *p)
{
	d->policy = p;
}

void ww_detect_get_stats(const struct ww_detect *d, struct ww_detect_stats *s)
{
	*s = d->st;
	s->sources = d->sources.n;
	s->talkers = d->talkers.n;
}

static void emit(struct ww_detect *d, size_t k)
{
	struct open_ref r = d->open[k];
	struct source *s = lru_val(&d->sources, r.src);
	struct pend *p = &s->p[r.det];

	p->open = false;
	d->open[k] = d->open[--d->nopen];
	d->st.alerts[r.det]++;
	if (d->cb)
		d->cb(&p->a, d->arg);
}

void ww_detect_tick(struct ww_detect *d, int64_t now_ns)
{
	for (size_t k = 0; k < d->nopen;) {
		const struct source *s = lru_val(&d->sources, d->open[k].src);
		const struct pend *p = &s->p[d->open[k].det];
		if (now_ns == INT64_MAX || now_ns - p->open_ns >= WW_DETECT_HOLD * 1000000000LL)
			emit(d, k); /* the last one moved into k */
		else
			k++;
	}
}

/* A source about to be evicted: its open alerts go out now, with what they gathered. */
static void before_evict(void *arg, uint32_t i)
{
	struct ww_detect *d = arg;

	for (size_t k = 0; k < d->nopen;)
		if (d->open[k].src == i)
			emit(d, k);
		else
			k++;
	d->st.evicted_sources++;
}

static void service_str(const struct ww_tuple *t, char *buf, size_t len)
{
	char pb[8];
	const char *p = ww_proto_str(t->proto, pb);

	if (t->ports)
		snprintf(buf, len, "%s/%u", p, t->dport);
	else if (t->icmp)
		snprintf(buf, len, "%s/%u", p, t->type);
	else
		snprintf(buf, len, "%s", p);
}

static void list_add(char (*v)[WW_FLOW_ID_LEN], size_t *n, bool *more, const char *s)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i], s))
			return;
	if (*n < WW_DETECT_LIST)
		snprintf(v[(*n)++], WW_FLOW_ID_LEN, "%s", s);
	else
		*more = true;
}

static void svc_add(struct ww_alert *a, const char *s)
{
	for (size_t i = 0; i < a->nservices; i++)
		if (!strcmp(a->services[i], s))
			return;
	if (a->nservices < WW_DETECT_LIST)
		snprintf(a->services[a->nservices++], sizeof(a->services[0]), "%s", s);
	else
		a->more_services = true;
}

/* What one record adds to an alert. */
static void alert_add(struct ww_alert *a, const struct ww_logrec *r)
{
	char svc[16];

	if (!a->count) {
		a->first_ns = r->time_ns;
		a->family = r->t.family;
		memcpy(a->src, r->t.src, 16);
		memcpy(a->dst, r->t.dst, 16);
		snprintf(a->src_zone, sizeof(a->src_zone), "%s", r->zone[0]);
		snprintf(a->src_host, sizeof(a->src_host), "%s", r->host[0]);
		snprintf(a->dst_host, sizeof(a->dst_host), "%s", r->host[1]);
	}
	a->count++;
	if (r->time_ns > a->last_ns)
		a->last_ns = r->time_ns;
	list_add(a->dst_zones, &a->ndst_zones, &a->more_dst_zones, r->zone[1]);
	list_add(a->flows, &a->nflows, &a->more_flows, r->flow);
	service_str(&r->t, svc, sizeof(svc));
	svc_add(a, svc);
}

/* A detector's condition held for record r of source i: open an alert or add to the open one. */
static void trigger(struct ww_detect *d, uint32_t i, enum ww_detector det,
		    const struct ww_logrec *r)
{
	struct source *s = lru_val(&d->sources, i);
	struct pend *p = &s->p[det];

	if (p->open) {
		alert_add(&p->a, r);
		if (det == WW_DET_SCAN)
			p->a.targets = s->ntargets > p->a.targets ? s->ntargets : p->a.targets;
		return;
	}
	if (r->time_ns < p->quiet_until_ns) {
		d->st.suppressed[det]++;
		return;
	}
	p->open = true;
	p->open_ns = r->time_ns;
	p->quiet_until_ns = r->time_ns + (int64_t)d->cfg.cooldown * 1000000000LL;
	memset(&p->a, 0, sizeof(p->a));
	p->a.det = det;
	alert_add(&p->a, r);
	if (det == WW_DET_SCAN || det == WW_DET_FLOOD) {
		/* What crossed the threshold is the window so far. */
		p->a.first_ns = det == WW_DET_SCAN ? s->scan_first : s->flood_start;
		p->a.count = det == WW_DET_SCAN ? s->scan_n : s->flood_n;
		p->a.targets = s->ntargets;
	} else {
		p->a.targets = 1;
	}
	d->open[d->nopen++] = (struct open_ref){i, det};
}

static const struct ww_zone *zone_of(const struct ww_detect *d, const char *name)
{
	return d->policy ? ww_zone_find(d->policy, name) : NULL;
}

static bool clinical(const struct ww_detect *d, const struct ww_zone *z)
{
	return z && !z->untrusted && z->crit >= d->cfg.lateral_min_crit;
}

void ww_detect_feed(struct ww_detect *d, const struct ww_logrec *r)
{
	uint8_t key[KEYLEN] = {0};
	bool denied = !strcmp(r->verdict, "deny") || !strcmp(r->verdict, "monitor");
	bool evicted;

	d->st.events++;
	ww_detect_tick(d, r->time_ns);
	if (!denied || !r->t.family)
		return;
	key[0] = r->t.family;
	memcpy(key + 1, r->t.src, 16);
	long li = lru_find(&d->sources, key);
	uint32_t i =
	    li >= 0 ? (uint32_t)li : lru_insert(&d->sources, key, &evicted, before_evict, d);
	struct source *s = lru_val(&d->sources, i);
	int64_t now = r->time_ns;

	if (d->cfg.scan) {
		if (!s->scan_n ||
		    now - s->scan_start > (int64_t)d->cfg.scan_window * 1000000000LL) {
			s->scan_start = s->scan_first = now;
			s->scan_n = 0;
			s->ntargets = 0;
		}
		s->scan_n++;
		uint8_t tk[20];
		memcpy(tk, r->t.dst, 16);
		uint16_t port = r->t.ports ? r->t.dport : r->t.icmp ? r->t.type : 0;
		memcpy(tk + 16, &port, 2);
		tk[18] = r->t.proto;
		tk[19] = 0;
		uint32_t h = (uint32_t)fnv1a64(tk, sizeof(tk), FNV1A64_INIT);
		bool seen = false;
		for (uint32_t k = 0; k < s->ntargets && !seen; k++)
			seen = s->targets[k] == h;
		if (!seen && s->ntargets < d->cfg.scan_targets)
			s->targets[s->ntargets++] = h;
		if (s->ntargets >= d->cfg.scan_targets)
			trigger(d, i, WW_DET_SCAN, r);
	}
	if (d->cfg.flood) {
		if (!s->flood_n ||
		    now - s->flood_start > (int64_t)d->cfg.flood_window * 1000000000LL) {
			s->flood_start = now;
			s->flood_n = 0;
		}
		s->flood_n++;
		if (s->flood_n >= (uint64_t)d->cfg.flood_rate * d->cfg.flood_window)
			trigger(d, i, WW_DET_FLOOD, r);
	}
	const struct ww_zone *zs = zone_of(d, r->zone[0]), *zd = zone_of(d, r->zone[1]);
	if (d->cfg.lateral && zs && zd && zs != zd &&
	    ((clinical(d, zs) && clinical(d, zd)) || zd->crit == WW_CRIT_LIFE))
		trigger(d, i, WW_DET_LATERAL, r);
	if (d->cfg.new_talker && !strcmp(r->verdict, "monitor") &&
	    ((zs && zs->mode == WW_MONITOR) || (zd && zd->mode == WW_MONITOR))) {
		uint8_t tk[KEYLEN] = {0};
		tk[0] = r->t.family;
		tk[1] = r->t.proto;
		uint16_t port = r->t.ports ? r->t.dport : r->t.icmp ? r->t.type : 0;
		memcpy(tk + 2, &port, 2);
		memcpy(tk + 4, r->t.src, 16);
		memcpy(tk + 20, r->t.dst, 16);
		if (lru_find(&d->talkers, tk) < 0) {
			lru_insert(&d->talkers, tk, &evicted, NULL, NULL);
			d->st.evicted_talkers += evicted;
			trigger(d, i, WW_DET_NEW_TALKER, r);
		}
	}
}

/* ---- printing and parsing ---- */

static void addr_str(uint8_t family, const uint8_t *a, char *buf, size_t len)
{
	if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, a, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void ww_alert_addrs(const struct ww_alert *a, char src[WW_ALERT_ADDR_STRLEN],
		    char dst[WW_ALERT_ADDR_STRLEN])
{
	addr_str(a->family, a->src, src, WW_ALERT_ADDR_STRLEN);
	addr_str(a->family, a->dst, dst, WW_ALERT_ADDR_STRLEN);
}

void ww_alert_action(const struct ww_alert *a, struct strbuf *out)
{
	char s[WW_ALERT_ADDR_STRLEN];

	addr_str(a->family, a->src, s, sizeof(s));
	sb_addf(out, "wardwall quarantine add %s --reason \"%s alert: %s", s,
		ww_detector_name(a->det), a->src_host[0] ? a->src_host : a->src_zone);
	sb_addf(out, " -> %s%s\"", a->ndst_zones ? a->dst_zones[0] : "?",
		a->ndst_zones > 1 || a->more_dst_zones ? " and others" : "");
}

static void json_list(struct strbuf *out, const char *key, const char (*v)[WW_FLOW_ID_LEN],
		      size_t n, bool more)
{
	sb_addf(out, ", \"%s\": [", key);
	for (size_t i = 0; i < n; i++) {
		sb_add(out, i ? ", " : "");
		sb_add_json_str(out, v[i]);
	}
	sb_addf(out, "], \"%s_more\": %s", key, more ? "true" : "false");
}

static void text_list(struct strbuf *out, const char (*v)[WW_FLOW_ID_LEN], size_t n, bool more)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "%s%s", i ? "," : "", v[i]);
	if (more)
		sb_add(out, ",...");
}

void ww_alert_print(const struct ww_alert *a, bool json, struct strbuf *out)
{
	char f[WW_TIME_MS_STRLEN], l[WW_TIME_MS_STRLEN];
	char s[WW_ALERT_ADDR_STRLEN], d[WW_ALERT_ADDR_STRLEN];
	char svc[WW_DETECT_LIST][WW_FLOW_ID_LEN];
	struct strbuf act = {0};

	ww_time_ms_str(a->first_ns, f);
	ww_time_ms_str(a->last_ns, l);
	ww_alert_addrs(a, s, d);
	for (size_t i = 0; i < a->nservices; i++)
		snprintf(svc[i], sizeof(svc[i]), "%s", a->services[i]);
	ww_alert_action(a, &act);
	if (json) {
		sb_addf(out,
			"{\"type\": \"alert\", \"detector\": \"%s\", \"first_seen\": \"%s\", "
			"\"last_seen\": \"%s\", \"src\": \"%s\", \"src_zone\": ",
			ww_detector_name(a->det), f, l, s);
		sb_add_json_str(out, a->src_zone);
		sb_add(out, ", \"src_host\": ");
		if (a->src_host[0])
			sb_add_json_str(out, a->src_host);
		else
			sb_add(out, "null");
		json_list(out, "dst_zones", a->dst_zones, a->ndst_zones, a->more_dst_zones);
		json_list(out, "flows", a->flows, a->nflows, a->more_flows);
		json_list(out, "services", (const char(*)[WW_FLOW_ID_LEN])svc, a->nservices,
			  a->more_services);
		sb_addf(out, ", \"dst\": \"%s\", \"dst_host\": ", d);
		if (a->dst_host[0])
			sb_add_json_str(out, a->dst_host);
		else
			sb_add(out, "null");
		sb_addf(out, ", \"count\": %llu, \"targets\": %u, \"action\": ",
			(unsigned long long)a->count, a->targets);
		sb_add_json_str(out, sb_str(&act));
		sb_add(out, "}\n");
	} else {
		sb_addf(out, "%s ALERT %-10s %s (%s) -> ", l, ww_detector_name(a->det), s,
			a->src_host[0] ? a->src_host : a->src_zone);
		text_list(out, a->dst_zones, a->ndst_zones, a->more_dst_zones);
		sb_addf(out, " %llu event%s, %u target%s, ", (unsigned long long)a->count,
			a->count == 1 ? "" : "s", a->targets, a->targets == 1 ? "" : "s");
		text_list(out, (const char(*)[WW_FLOW_ID_LEN])svc, a->nservices, a->more_services);
		sb_add(out, " by ");
		text_list(out, a->flows, a->nflows, a->more_flows);
		sb_addf(out, ", since %s; suggested: %s\n", f, sb_str(&act));
	}
	sb_free(&act);
}

static int parse_list(const cJSON *o, const char *key, char (*v)[WW_FLOW_ID_LEN], size_t *n,
		      bool *more, size_t width)
{
	char mk[48];
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, key), *x;

	snprintf(mk, sizeof(mk), "%s_more", key);
	*n = 0;
	if (!cJSON_IsArray(a))
		return -EINVAL;
	cJSON_ArrayForEach(x, a)
	{
		if (!cJSON_IsString(x) || *n >= WW_DETECT_LIST)
			return -EINVAL;
		snprintf((char *)v + *n * width, width, "%s", x->valuestring);
		(*n)++;
	}
	*more = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, mk));
	return 0;
}

int ww_alert_parse(const char *line, struct ww_alert *a)
{
	cJSON *o = cJSON_Parse(line);
	const cJSON *x;
	int e = -EINVAL;

	memset(a, 0, sizeof(*a));
	if (!o)
		return -EINVAL;
	x = cJSON_GetObjectItemCaseSensitive(o, "detector");
	for (int k = 0; cJSON_IsString(x) && k < WW_DET_N; k++)
		if (!strcmp(x->valuestring, ww_detector_name(k)))
			a->det = k, e = 0;
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "first_seen"),
		    *l = cJSON_GetObjectItemCaseSensitive(o, "last_seen"),
		    *s = cJSON_GetObjectItemCaseSensitive(o, "src"),
		    *d = cJSON_GetObjectItemCaseSensitive(o, "dst"),
		    *sz = cJSON_GetObjectItemCaseSensitive(o, "src_zone"),
		    *sh = cJSON_GetObjectItemCaseSensitive(o, "src_host"),
		    *dh = cJSON_GetObjectItemCaseSensitive(o, "dst_host"),
		    *c = cJSON_GetObjectItemCaseSensitive(o, "count"),
		    *t = cJSON_GetObjectItemCaseSensitive(o, "targets");
	if (e || !cJSON_IsString(f) || !cJSON_IsString(l) || !cJSON_IsString(s) ||
	    !cJSON_IsString(d) || !cJSON_IsString(sz) || !cJSON_IsNumber(c) || !cJSON_IsNumber(t) ||
	    ww_time_ms_parse(f->valuestring, &a->first_ns) ||
	    ww_time_ms_parse(l->valuestring, &a->last_ns)) {
		e = -EINVAL;
		goto out;
	}
	a->family = strchr(s->valuestring, ':') ? 6 : 4;
	if (inet_pton(a->family == 6 ? AF_INET6 : AF_INET, s->valuestring, a->src) != 1 ||
	    inet_pton(a->family == 6 ? AF_INET6 : AF_INET, d->valuestring, a->dst) != 1) {
		e = -EINVAL;
		goto out;
	}
	snprintf(a->src_zone, sizeof(a->src_zone), "%s", sz->valuestring);
	if (cJSON_IsString(sh))
		snprintf(a->src_host, sizeof(a->src_host), "%s", sh->valuestring);
	if (cJSON_IsString(dh))
		snprintf(a->dst_host, sizeof(a->dst_host), "%s", dh->valuestring);
	a->count = (uint64_t)c->valuedouble;
	a->targets = (uint32_t)t->valuedouble;
	e = parse_list(o, "dst_zones", a->dst_zones, &a->ndst_zones, &a->more_dst_zones,
		       WW_FLOW_ID_LEN);
	if (!e)
		e = parse_list(o, "flows", a->flows, &a->nflows, &a->more_flows, WW_FLOW_ID_LEN);
	if (!e)
		e = parse_list(o, "services", (char(*)[WW_FLOW_ID_LEN])a->services, &a->nservices,
			       &a->more_services, sizeof(a->services[0]));
out:
	cJSON_Delete(o);
	return e;
}
