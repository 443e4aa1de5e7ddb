// SPDX-License-Identifier: GPL-2.0-only
/* A zone's flows learned from its would-be denials (learn.h). */
#include "learn.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "evlog.h"
#include "policy.h"
#include "state.h"
#include "events.h"

struct seen {
	char from[80], to[80];				 /* "zone/host" or an address */
	char zfrom[WW_FLOW_ID_LEN], zto[WW_FLOW_ID_LEN]; /* the zones */
	bool from_addr, to_addr;			 /* an address in no host group */
	char svc[24];					 /* "tcp/8080" */
	uint64_t n;
	int64_t first_ns, last_ns;
};

struct lctx {
	const char *zone;
	int64_t since_ns;
	struct seen *v;
	size_t n, cap;
	uint64_t records, used, unzoned;
	int e;
};

static void endpoint(const struct ww_logrec *r, int side, char out[80], bool *addr)
{
	const uint8_t *a = side ? r->t.dst : r->t.src;

	*addr = !r->host[side][0];
	if (!*addr) {
		snprintf(out, 80, "%s", r->host[side]);
		return;
	}
	inet_ntop(r->t.family == 6 ? AF_INET6 : AF_INET, a, out, 80);
}

static int on_line(const char *line, void *arg)
{
	struct lctx *c = arg;
	struct ww_logrec r;
	struct seen s = {0};
	char pb[8];

	c->records++;
	if (ww_logrec_parse(line, &r) || strcmp(r.verdict, "monitor") || r.time_ns < c->since_ns ||
	    !r.t.family || (strcmp(r.zone[0], c->zone) && strcmp(r.zone[1], c->zone)))
		return 0;
	if (!strcmp(r.zone[0], "-") || !strcmp(r.zone[1], "-") || !strcmp(r.zone[0], "?") ||
	    !strcmp(r.zone[1], "?")) {
		c->unzoned++;
		return 0;
	}
	endpoint(&r, 0, s.from, &s.from_addr);
	endpoint(&r, 1, s.to, &s.to_addr);
	snprintf(s.zfrom, sizeof(s.zfrom), "%s", r.zone[0]);
	snprintf(s.zto, sizeof(s.zto), "%s", r.zone[1]);
	if (r.t.ports)
		snprintf(s.svc, sizeof(s.svc), "%s/%u", ww_proto_str(r.t.proto, pb), r.t.dport);
	else if (r.t.icmp)
		snprintf(s.svc, sizeof(s.svc), "%s/%u", ww_proto_str(r.t.proto, pb), r.t.type);
	else
		snprintf(s.svc, sizeof(s.svc), "%s", ww_proto_str(r.t.proto, pb));
	c->used++;
	for (size_t i = 0; i < c->n; i++) {
		struct seen *x = &c->v[i];
		if (!strcmp(x->from, s.from) && !strcmp(x->to, s.to) && !strcmp(x->svc, s.svc)) {
			x->n++;
			if (r.time_ns < x->first_ns)
				x->first_ns = r.time_ns;
			if (r.time_ns > x->last_ns)
				x->last_ns = r.time_ns;
			return 0;
		}
	}
	s.n = 1;
	s.first_ns = s.last_ns = r.time_ns;
	if (VEC_PUSH(c->v, c->n, c->cap, s))
		return c->e = -ENOMEM;
	return 0;
}

/* "tcp/8080" as a service of the policy language, and its name. */
static cJSON *service_json(const char *svc, char name[40])
{
	char proto[16] = "";
	const char *slash = strchr(svc, '/');
	cJSON *terms = cJSON_CreateArray(), *t = cJSON_CreateObject();
	size_t n = slash ? (size_t)(slash - svc) : strlen(svc);

	snprintf(proto, sizeof(proto), "%.*s", (int)n, svc);
	snprintf(name, 40, "learned-%s%s%s", proto, slash ? "-" : "", slash ? slash + 1 : "");
	cJSON_AddStringToObject(t, "proto", proto);
	if (slash) {
		cJSON *v = cJSON_CreateArray();
		cJSON_AddItemToArray(v, cJSON_CreateNumber(atoi(slash + 1)));
		cJSON_AddItemToObject(
		    t, strcmp(proto, "icmp") && strcmp(proto, "icmpv6") ? "ports" : "types", v);
	}
	cJSON_AddItemToArray(terms, t);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "description", "learned by wardwall learn");
	cJSON_AddItemToObject(o, "terms", terms);
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The host group of an address seen in no host group: found or made in its zone. */
static const char *address_host(cJSON *zones, const char *zone, const char *addr,
				unsigned int *next, char out[80])
{
	cJSON *z = cJSON_GetObjectItemCaseSensitive(zones, zone), *hosts, *h;

	if (!z)
		return NULL;
	if (!(hosts = cJSON_GetObjectItemCaseSensitive(z, "hosts")))
		cJSON_AddItemToObject(z, "hosts", hosts = cJSON_CreateObject());
	cJSON_ArrayForEach(h, hosts)
	{
		if (strncmp(h->string, "learned-", 8))
			continue;
		const cJSON *p = cJSON_IsArray(h) ? h->child : h;
		if (cJSON_IsString(p) && !strcmp(p->valuestring, addr)) {
			snprintf(out, 80, "%s/%s", zone, h->string);
			return out;
		}
	}
	char name[32];
	do
		snprintf(name, sizeof(name), "learned-%u", (*next)++);
	while (cJSON_GetObjectItemCaseSensitive(hosts, name));
	cJSON_AddItemToObject(hosts, name, cJSON_CreateString(addr));
	snprintf(out, 80, "%s/%s", zone, name);
	return out;
}

void ww_learn_result_free(struct ww_learn_result *res)
{
	for (size_t i = 0; i < res->nflows; i++) {
		for (size_t k = 0; k < res->flows[i].nservices; k++)
			free(res->flows[i].services[k]);
		free(res->flows[i].services);
		free(res->flows[i].counts);
	}
	free(res->flows);
	free(res->policy);
	memset(res, 0, sizeof(*res));
}

/* The applied generation's policy, which must have zone. */
static int applied_policy(struct ww_state *st, const char *zone, struct ww_generation *gen,
			  struct ww_policy **p, struct ww_diags *d, struct strbuf *err)
{
	int e;

	if ((e = ww_state_current(st, gen)) || !gen->gen) {
		sb_add(err,
		       "no policy applied: learning names what it saw with the applied policy");
		return -ENOENT;
	}
	if ((e = ww_state_policy(st, gen->gen, p, d))) {
		sb_addf(err, "generation %lu: %s", gen->gen, strerror(-e));
		return e;
	}
	if (!ww_zone_find(*p, zone)) {
		sb_addf(err, "zone \"%s\" is not in the applied policy (generation %lu)", zone,
			gen->gen);
		return -ENOENT;
	}
	return 0;
}

/* The applied policy's canonical text, to which the proposal only adds, as JSON. */
static int read_canonical(struct ww_state *st, unsigned long gen, cJSON **root, struct strbuf *err)
{
	char *path = xstrdup_printf("%s/generations/%lu.json", ww_state_dir(st), gen), *text;
	FILE *f = path ? fopen(path, "r") : NULL;
	struct strbuf sb = {0};
	char buf[8192];
	size_t nr;
	int e = 0;

	if (!f) {
		e = path ? -errno : -ENOMEM;
		sb_addf(err, "%s: %s", path ? path : "generation", strerror(-e));
		free(path);
		return e;
	}
	while ((nr = fread(buf, 1, sizeof(buf), f)) > 0)
		sb_addn(&sb, buf, nr);
	fclose(f);
	text = sb_steal(&sb);
	*root = text ? cJSON_Parse(text) : NULL;
	if (!*root) {
		sb_addf(err, "%s: cannot be read back", path);
		e = -EINVAL;
	}
	free(path);
	free(text);
	return e;
}

/* Addresses seen in no host group become host groups of their zone. */
static void name_addresses(cJSON *zones, struct lctx *c)
{
	unsigned int next_host = 1;

	for (size_t i = 0; i < c->n; i++) {
		struct seen *s = &c->v[i];
		char ep[80];
		if (s->from_addr && address_host(zones, s->zfrom, s->from, &next_host, ep))
			snprintf(s->from, sizeof(s->from), "%s", ep);
		if (s->to_addr && address_host(zones, s->zto, s->to, &next_host, ep))
			snprintf(s->to, sizeof(s->to), "%s", ep);
	}
}

/* One learned flow per (from, to), with the services seen between them and their counts. */
static int group_flows(const struct lctx *c, struct ww_learn_result *res)
{
	size_t cap = 0;

	for (size_t i = 0; i < c->n; i++) {
		const struct seen *s = &c->v[i];
		struct ww_learned *l = NULL;
		for (size_t k = 0; k < res->nflows && !l; k++)
			if (!strcmp(res->flows[k].from, s->from) &&
			    !strcmp(res->flows[k].to, s->to))
				l = &res->flows[k];
		if (!l) {
			struct ww_learned x = {.first_ns = s->first_ns, .last_ns = s->last_ns};
			snprintf(x.from, sizeof(x.from), "%s", s->from);
			snprintf(x.to, sizeof(x.to), "%s", s->to);
			if (VEC_PUSH(res->flows, res->nflows, cap, x))
				return -ENOMEM;
			l = &res->flows[res->nflows - 1];
		}
		char **sv = realloc(l->services, (l->nservices + 1) * sizeof(*sv));
		uint64_t *cv = sv ? realloc(l->counts, (l->nservices + 1) * sizeof(*cv)) : NULL;
		if (sv)
			l->services = sv;
		if (cv)
			l->counts = cv;
		if (!sv || !cv || !(sv[l->nservices] = strdup(s->svc)))
			return -ENOMEM;
		cv[l->nservices++] = s->n;
		l->n += s->n;
		if (s->first_ns < l->first_ns)
			l->first_ns = s->first_ns;
		if (s->last_ns > l->last_ns)
			l->last_ns = s->last_ns;
	}
	return 0;
}

/* Flow k's id: learned-<zone>-<n>, unused by the policy and by the flows before it. */
static void flow_id(const struct ww_policy *p, const char *zone, struct ww_learn_result *res,
		    size_t k)
{
	struct ww_learned *l = &res->flows[k];
	int idn = 1;

	do
		snprintf(l->id, sizeof(l->id), "learned-%s-%d", zone, idn++);
	while (ww_flow_find(p, l->id));
	for (size_t j = 0; j < k; j++)
		if (!strcmp(res->flows[j].id, l->id))
			snprintf(l->id, sizeof(l->id), "learned-%s-%zu", zone, k + 1 + p->nflows);
}

/* Learned flow l as a flow of the policy language; its services are added to services. */
static cJSON *flow_json(const struct ww_learned *l, const char *zone, cJSON *services)
{
	struct strbuf desc = {0};
	char t1[WW_TIME_MS_STRLEN], t2[WW_TIME_MS_STRLEN];
	cJSON *fl = cJSON_CreateObject(), *svcs = cJSON_CreateArray();
	char *sorted[64];
	size_t ns = l->nservices < 64 ? l->nservices : 64;

	for (size_t j = 0; j < ns; j++)
		sorted[j] = l->services[j];
	qsort(sorted, ns, sizeof(*sorted), cmp_str);
	sb_addf(&desc,
		"wardwall learn, zone %s: %llu connection%s seen in monitor mode (would have "
		"been denied) from %s to %s:",
		zone, (unsigned long long)l->n, l->n == 1 ? "" : "s",
		ww_time_ms_str(l->first_ns, t1), ww_time_ms_str(l->last_ns, t2));
	for (size_t j = 0; j < ns; j++) {
		char name[40];
		cJSON *so = service_json(sorted[j], name);
		for (size_t m = 0; m < l->nservices; m++)
			if (!strcmp(l->services[m], sorted[j]))
				sb_addf(&desc, " %s %llu", sorted[j],
					(unsigned long long)l->counts[m]);
		if (!cJSON_GetObjectItemCaseSensitive(services, name))
			cJSON_AddItemToObject(services, name, so);
		else
			cJSON_Delete(so);
		cJSON_AddItemToArray(svcs, cJSON_CreateString(name));
	}
	cJSON_AddStringToObject(fl, "id", l->id);
	cJSON_AddStringToObject(fl, "description", sb_str(&desc));
	cJSON_AddStringToObject(fl, "from", l->from);
	cJSON_AddStringToObject(fl, "to", l->to);
	cJSON_AddItemToObject(fl, "services", svcs);
	cJSON_AddStringToObject(fl, "action", "allow");
	sb_free(&desc);
	return fl;
}

/* What check would say: a proposal it refuses is not one. */
static int check_proposal(const char *out, int64_t now, struct ww_diags *d2, struct ww_policy **q,
			  struct strbuf *err)
{
	int e = ww_policy_parse("proposal", out, strlen(out), d2, q);

	if (!e)
		e = ww_analyse(*q, now, d2, NULL);
	if (e || d2->nerrors) {
		struct strbuf m = {0};
		ww_diags_sort(d2);
		ww_diags_print(d2, &m);
		sb_addf(err, "the proposal would not pass check (nothing written):\n%s",
			sb_str(&m));
		sb_free(&m);
		return -EINVAL;
	}
	return 0;
}

int ww_learn(const char *state_dir, const char *zone, int64_t since_ns, int64_t now,
	     struct ww_learn_result *res, struct strbuf *err)
{
	struct lctx c = {.zone = zone, .since_ns = since_ns};
	struct ww_state *st = NULL;
	struct ww_generation gen;
	struct ww_policy *p = NULL, *q = NULL;
	struct ww_diags d = {.file = "generation"}, d2 = {.file = "proposal"};
	cJSON *root = NULL, *services, *flows;
	char *out;
	int e;

	memset(res, 0, sizeof(*res));
	if ((e = ww_state_open(state_dir, false, &st, err)))
		return e;
	if ((e = applied_policy(st, zone, &gen, &p, &d, err)))
		goto out;
	e = ww_evlog_read(ww_state_dir(st), WW_EVLOG_EVENTS, WW_EVLOG_KEEP, on_line, &c);
	if (e || (e = c.e)) {
		sb_addf(err, "%s/%s: %s", ww_state_dir(st), WW_EVLOG_DIR, strerror(-e));
		goto out;
	}
	res->records = c.records;
	res->used = c.used;
	res->skipped_unzoned = c.unzoned;
	if ((e = read_canonical(st, gen.gen, &root, err)))
		goto out;
	if (!(services = cJSON_GetObjectItemCaseSensitive(root, "services")))
		cJSON_AddItemToObject(root, "services", services = cJSON_CreateObject());
	if (!(flows = cJSON_GetObjectItemCaseSensitive(root, "flows")))
		cJSON_AddItemToObject(root, "flows", flows = cJSON_CreateArray());
	/* Endpoints first (addresses become host groups), then one flow per (from, to). */
	name_addresses(cJSON_GetObjectItemCaseSensitive(root, "zones"), &c);
	if ((e = group_flows(&c, res)))
		goto out;
	for (size_t k = 0; k < res->nflows; k++) {
		flow_id(p, zone, res, k);
		cJSON_AddItemToArray(flows, flow_json(&res->flows[k], zone, services));
	}
	if (!(out = cJSON_Print(root))) {
		e = -ENOMEM;
		goto out;
	}
	if ((e = check_proposal(out, now, &d2, &q, err))) {
		free(out);
		goto out;
	}
	res->policy = out;
out:
	if (e)
		ww_learn_result_free(res);
	free(c.v);
	cJSON_Delete(root);
	ww_policy_free(p);
	ww_policy_free(q);
	ww_diags_free(&d);
	ww_diags_free(&d2);
	ww_state_close(st);
	return e;
}
