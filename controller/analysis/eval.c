// SPDX-License-Identifier: GPL-2.0-only
#include "eval.h"

#include <stddef.h>

static void consider(const struct ww_net *n, const struct ww_zone *z, const struct ww_host *h,
		     const struct ww_addr *a, struct ww_class *best)
{
	if (!ww_prefix_contains(&n->pfx, a))
		return;
	if (best->net && best->net->pfx.len >= n->pfx.len)
		return;
	best->zone = z;
	best->host = h;
	best->net = n;
}

void ww_classify(const struct ww_policy *p, const struct ww_addr *a, struct ww_class *out)
{
	*out = (struct ww_class){0};
	for (size_t i = 0; i < p->nzones; i++) {
		const struct ww_zone *z = &p->zones[i];
		for (size_t k = 0; k < z->nnets; k++)
			consider(&z->nets[k], z, NULL, a, out);
		for (size_t h = 0; h < z->nhosts; h++)
			for (size_t k = 0; k < z->hosts[h].nnets; k++)
				consider(&z->hosts[h].nets[k], z, &z->hosts[h], a, out);
	}
}

bool ww_endpoint_matches(const struct ww_endpoint *e, const struct ww_class *c)
{
	if (!c->zone || e->zone != c->zone)
		return false;
	return !e->host || e->host == c->host;
}

bool ww_eplist_matches(const struct ww_eplist *l, const struct ww_class *c)
{
	if (l->all)
		return c->zone != NULL;
	for (size_t i = 0; i < l->n; i++)
		if (ww_endpoint_matches(&l->v[i], c))
			return true;
	return false;
}

bool ww_service_matches(const struct ww_service *s, int proto, int key)
{
	for (size_t i = 0; i < s->nterms; i++) {
		const struct ww_term *t = &s->terms[i];
		if (t->proto == WW_PROTO_ANY)
			return true;
		if (t->proto != proto)
			continue;
		/* A term over the whole key range matches even when the key is unknown. */
		if (t->lo == 0 && t->hi == ww_proto_key_max(proto))
			return true;
		if (key >= t->lo && key <= t->hi)
			return true;
	}
	return false;
}

bool ww_flow_matches(const struct ww_flow *f, const struct ww_class *src,
		     const struct ww_class *dst, int proto, int key)
{
	if (!ww_eplist_matches(&f->from, src) || !ww_eplist_matches(&f->to, dst))
		return false;
	for (size_t i = 0; i < f->nsvcs; i++)
		if (ww_service_matches(f->svcs[i], proto, key))
			return true;
	return false;
}

enum ww_rank ww_flow_rank(const struct ww_flow *f, const struct ww_zone *zs,
			  const struct ww_zone *zd)
{
	if (f->action == WW_ALLOW)
		return WW_RANK_ALLOW;
	if (f->mode == WW_MONITOR || (zs && zs->mode == WW_MONITOR) ||
	    (zd && zd->mode == WW_MONITOR))
		return WW_RANK_MONITOR;
	return WW_RANK_DENY;
}

enum ww_verdict_kind ww_default_verdict(const struct ww_policy *p, const struct ww_class *src,
					const struct ww_class *dst, bool *within)
{
	enum ww_action a;

	*within = src->zone && src->zone == dst->zone;
	a = *within ? p->defaults.within_zone : p->defaults.between_zones;
	if (a == WW_ALLOW)
		return WW_V_ALLOW;
	if ((src->zone && src->zone->mode == WW_MONITOR) ||
	    (dst->zone && dst->zone->mode == WW_MONITOR))
		return WW_V_MONITOR;
	return WW_V_DENY;
}

void ww_evaluate(const struct ww_policy *p, const struct ww_packet *pkt, struct ww_verdict *v)
{
	const struct ww_flow *first[3] = {NULL, NULL, NULL}; /* by rank */

	*v = (struct ww_verdict){0};
	ww_classify(p, &pkt->src, &v->src);
	ww_classify(p, &pkt->dst, &v->dst);
	v->within_zone = v->src.zone && v->src.zone == v->dst.zone;
	/* Flows are scanned in policy order, so among equal ranks the first one counts. */
	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (!ww_flow_active(f, pkt->at) ||
		    !ww_flow_matches(f, &v->src, &v->dst, pkt->proto, pkt->key))
			continue;
		enum ww_rank r = ww_flow_rank(f, v->src.zone, v->dst.zone);
		if (!first[r])
			first[r] = f;
	}
	if (first[WW_RANK_DENY]) {
		v->flow = first[WW_RANK_DENY];
		v->kind = WW_V_DENY;
		return;
	}
	v->monitor = first[WW_RANK_MONITOR];
	if (first[WW_RANK_ALLOW]) {
		v->flow = first[WW_RANK_ALLOW];
		v->kind = WW_V_ALLOW;
	} else {
		v->kind = ww_default_verdict(p, &v->src, &v->dst, &v->within_zone);
	}
	if (v->kind == WW_V_ALLOW && v->monitor)
		v->kind = WW_V_MONITOR;
}

const char *ww_verdict_str(enum ww_verdict_kind k)
{
	static const char *const s[] = {"allow", "deny", "monitor"};
	return s[k];
}
