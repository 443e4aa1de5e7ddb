// SPDX-License-Identifier: GPL-2.0-only
#include "model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void eplist_free(struct ww_eplist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].ptr);
	free(l->v);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void nets_free(struct ww_net *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].ptr);
	free(v);
}

static void service_clear(struct ww_service *s)
{
	for (size_t j = 0; j < s->nterms; j++)
		free(s->terms[j].ptr);
	free(s->terms);
	free(s->name);
	free(s->ptr);
	free(s->description);
}

void ww_zone_clear(struct ww_zone *z)
{
	for (size_t j = 0; j < z->nhosts; j++) {
		free(z->hosts[j].name);
		free(z->hosts[j].ptr);
		nets_free(z->hosts[j].nets, z->hosts[j].nnets);
	}
	free(z->hosts);
	nets_free(z->nets, z->nnets);
	strv_free(z->spec_nets, z->nspec_nets);
	strv_free(z->spec_except, z->nspec_except);
	free(z->name);
	free(z->ptr);
	free(z->description);
}

void ww_policy_free(struct ww_policy *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ngroups; i++) {
		free(p->groups[i].name);
		free(p->groups[i].ptr);
		free(p->groups[i].zones);
	}
	free(p->groups);
	for (size_t i = 0; i < p->nzones; i++)
		ww_zone_clear(&p->zones[i]);
	free(p->zones);
	for (size_t i = 0; i < p->nsvcs; i++)
		service_clear(&p->svcs[i]);
	free(p->svcs);
	for (size_t i = 0; i < p->nnarrowed; i++) {
		service_clear(p->narrowed[i]);
		free(p->narrowed[i]);
	}
	free(p->narrowed);
	for (size_t i = 0; i < p->nflows; i++) {
		struct ww_flow *f = &p->flows[i];
		free(f->id);
		free(f->ptr);
		eplist_free(&f->from);
		eplist_free(&f->to);
		for (size_t j = 0; j < f->nsvcs; j++)
			free(f->svc_ptrs[j]);
		free(f->svc_ptrs);
		free(f->svcs);
		free(f->owner);
		free(f->ticket);
		free(f->description);
		for (size_t j = 0; j < f->ncontrols; j++)
			free(f->controls[j]);
		free(f->controls);
		strv_free(f->spec_svcs, f->nspec_svcs);
		strv_free(f->except_svcs, f->nexcept_svcs);
	}
	free(p->flows);
	for (size_t i = 0; i < p->ninvs; i++) {
		struct ww_invariant *v = &p->invs[i];
		free(v->id);
		free(v->ptr);
		free(v->description);
		strv_free(v->spec_svcs, v->nspec_svcs);
		strv_free(v->except_svcs, v->nexcept_svcs);
		eplist_free(&v->from);
		eplist_free(&v->to);
		eplist_free(&v->except);
	}
	free(p->invs);
	for (size_t i = 0; i < p->nprobes; i++) {
		free(p->probes[i].id);
		free(p->probes[i].ptr);
		free(p->probes[i].description);
		free(p->probes[i].netns);
	}
	free(p->probes);
	for (size_t i = 0; i < p->enf.nifaces; i++)
		free(p->enf.ifaces[i]);
	free(p->enf.ifaces);
	for (size_t i = 0; i < p->ngws; i++) {
		struct ww_gateway *g = &p->gws[i];
		for (size_t k = 0; k < g->nifaces; k++)
			free(g->ifaces[k]);
		free(g->ifaces);
		free(g->zones);
		free(g->name);
		free(g->ptr);
	}
	free(p->gws);
	ww_siem_cfg_clear(&p->siem);
	free(p->host_by_ep);
	free(p->flow_by_id);
	free(p->file);
	free(p->name);
	free(p->description);
	free(p);
}

static int name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* Zones, hosts and services are kept sorted by name, their first member, so bsearch finds them.
 * An empty array may be NULL, which bsearch must not be given. */
struct ww_zone *ww_zone_find(const struct ww_policy *p, const char *name)
{
	return p->nzones ? bsearch(name, p->zones, p->nzones, sizeof(*p->zones), name_cmp)
			  : NULL;
}

const struct ww_group *ww_group_find(const struct ww_policy *p, const char *name)
{
	return p->ngroups ? bsearch(name, p->groups, p->ngroups, sizeof(*p->groups), name_cmp)
			  : NULL;
}

struct ww_host *ww_host_find(const struct ww_zone *z, const char *name)
{
	return z->nhosts ? bsearch(name, z->hosts, z->nhosts, sizeof(*z->hosts), name_cmp)
			  : NULL;
}

struct ww_service *ww_service_find(const struct ww_policy *p, const char *name)
{
	return p->nsvcs ? bsearch(name, p->svcs, p->nsvcs, sizeof(*p->svcs), name_cmp) : NULL;
}

struct ww_flow *ww_flow_find(const struct ww_policy *p, const char *id)
{
	if (p->flow_by_id) {
		size_t lo = 0, hi = p->nflow_by_id;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(p->flow_by_id[mid]->id, id);
			while (!c && mid > 0 && !strcmp(p->flow_by_id[mid - 1]->id, id))
				mid--; /* a duplicate id (an invalid policy): the first, as a scan finds */
			if (!c)
				return p->flow_by_id[mid];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		return NULL;
	}
	for (size_t i = 0; i < p->nflows; i++)
		if (!strcmp(p->flows[i].id, id))
			return &p->flows[i];
	return NULL;
}

const struct ww_zone *ww_ep_zone(const struct ww_policy *p, ww_ep_t ep)
{
	if (ep == 0 || ep > ww_nendpoints(p))
		return NULL;
	if (ep <= p->nzones)
		return &p->zones[ep - 1];
	return p->host_by_ep[ep - p->nzones - 1]->zone;
}

char *ww_ep_name(const struct ww_policy *p, ww_ep_t ep, char *buf)
{
	if (ep == 0 || ep > ww_nendpoints(p))
		snprintf(buf, WW_EP_STRLEN, "-");
	else if (ep <= p->nzones)
		snprintf(buf, WW_EP_STRLEN, "%s", p->zones[ep - 1].name);
	else {
		const struct ww_host *h = p->host_by_ep[ep - p->nzones - 1];
		snprintf(buf, WW_EP_STRLEN, "%s/%s", h->zone->name, h->name);
	}
	return buf;
}

bool ww_flow_active(const struct ww_flow *f, int64_t t)
{
	return (!f->has_from || t >= f->valid_from) && (!f->has_until || t < f->valid_until);
}

enum ww_log ww_flow_log(const struct ww_policy *p, const struct ww_flow *f)
{
	return f->log >= 0 ? (enum ww_log)f->log : p->defaults.log;
}

const char *const ww_hookmode_names[3] = {"gateway", "host", "bridge"};

const char *ww_action_str(enum ww_action a)
{
	return a == WW_ALLOW ? "allow" : "deny";
}

const char *ww_flow_action_str(const struct ww_flow *f)
{
	return f->reject ? "reject" : ww_action_str(f->action);
}

const char *ww_crit_str(enum ww_crit c)
{
	static const char *const s[] = {"", "low", "medium", "high", "life-critical"};
	return s[c];
}

void ww_detect_cfg_default(struct ww_detect_cfg *c)
{
	*c = (struct ww_detect_cfg){.scan = true,
				    .lateral = true,
				    .new_talker = true,
				    .flood = true,
				    .scan_targets = 20,
				    .scan_window = 60,
				    .lateral_min_crit = WW_CRIT_HIGH,
				    .flood_rate = 20,
				    .flood_window = 10,
				    .max_sources = 4096,
				    .cooldown = 300};
}

bool ww_detect_cfg_is_default(const struct ww_detect_cfg *c)
{
	struct ww_detect_cfg d;

	ww_detect_cfg_default(&d);
	return !memcmp(c, &d, sizeof(d));
}

const char *ww_log_str(enum ww_log l)
{
	static const char *const s[] = {"none", "deny", "all"};
	return s[l];
}

static const struct {
	const char *name;
	int proto;
} protos[] = {
	{"any", WW_PROTO_ANY},       {"icmp", WW_PROTO_ICMP}, {"tcp", WW_PROTO_TCP},
	{"udp", WW_PROTO_UDP},       {"icmpv6", WW_PROTO_ICMPV6}, {"sctp", WW_PROTO_SCTP},
	{"gre", 47},                 {"esp", 50},             {"ah", 51},
};

const char *ww_proto_str(int proto, char *buf)
{
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (protos[i].proto == proto)
			return protos[i].name;
	snprintf(buf, 8, "%d", proto);
	return buf;
}

int ww_proto_parse(const char *s, int *proto)
{
	char *end;
	long v;

	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
		if (!strcmp(protos[i].name, s)) {
			*proto = protos[i].proto;
			return 0;
		}
	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (*end || v < 0 || v > 255)
		return -EINVAL;
	*proto = (int)v;
	return 0;
}

struct ww_gateway *ww_gateway_find(const struct ww_policy *p, const char *name)
{
	for (size_t i = 0; i < p->ngws; i++)
		if (!strcmp(p->gws[i].name, name))
			return &p->gws[i];
	return NULL;
}
