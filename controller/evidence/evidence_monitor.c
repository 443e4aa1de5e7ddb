// SPDX-License-Identifier: GPL-2.0-only
/*
 * Evidence, monitor mode: what passed that the policy would deny. A zone in monitor mode turns
 * every deny touching it into a count and a log line, and a deny flow in monitor mode only
 * observes; the analysis counts such verdicts as denials (docs/policy.md, monitor mode), so an
 * invariant can "hold" while the traffic it forbids passes. The bundle must say so: such an
 * invariant is not enforced, and so is every measure that rests on it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "evidence.h"
#include "nft_compile.h"

void ww_ev_names(const char *const *v, size_t n, struct strbuf *out)
{
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "%s%s", i ? ", " : "", v[i]);
}

bool ww_ev_monitoring(const struct ww_evidence *ev)
{
	return ev->nmonitor_zones || ev->nmonitor_flows;
}

/* Does the endpoint list reach zone z? */
static bool eplist_has_zone(const struct ww_eplist *l, const char *z)
{
	if (l->all)
		return strcmp(z, "-") != 0; /* "*" is every zone, not "no zone" */
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].zone->name, z))
			return true;
	return false;
}

/* Do two endpoint lists share a zone? */
static bool eplists_meet(const struct ww_policy *p, const struct ww_eplist *a,
			 const struct ww_eplist *b)
{
	for (size_t i = 0; i < p->nzones; i++)
		if (eplist_has_zone(a, p->zones[i].name) && eplist_has_zone(b, p->zones[i].name))
			return true;
	return false;
}

static bool listed(const char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

/* Does default d, counted per source zone (compile_nft.h), cover a zone pair the invariant
 * reaches? "<z>/_other" covers z with every other zone, "<z>/_monitor" z with every zone in
 * monitor mode; such a default counts whole, as a flow over several pairs does. */
static bool default_reaches(const struct ww_evidence *ev, const struct ww_invariant *iv,
			    const struct ww_default_stat *d)
{
	const struct ww_policy *p = ev->c->applied;
	bool other = !strcmp(d->dst, WW_NFT_OTHER), mon = !strcmp(d->dst, WW_NFT_MONITOR);

	if (!eplist_has_zone(&iv->from, d->src))
		return false;
	if (!other && !mon)
		return eplist_has_zone(&iv->to, d->dst);
	for (size_t i = 0; mon && i < ev->nmonitor_zones; i++)
		if (strcmp(ev->monitor_zones[i], d->src) &&
		    eplist_has_zone(&iv->to, ev->monitor_zones[i]))
			return true;
	for (size_t i = 0; other && i < p->nzones; i++)
		if (strcmp(p->zones[i].name, d->src) && eplist_has_zone(&iv->to, p->zones[i].name))
			return true;
	return false;
}

static const struct ww_ev_count *count_of(const struct ww_ev_count *nft,
					  const struct ww_ev_count *xdp, int t)
{
	return t == WW_EV_NFT ? nft : xdp;
}

/* The monitored window packets between the invariant's zones: defaults that only monitor
 * (touching one of its monitor zones), and flows with a monitored zone pair in its reach. */
static void inv_passed(const struct ww_evidence *ev, const struct ww_invariant *iv,
		       struct ww_ev_monitor_inv *m)
{
	for (int t = 0; t < WW_EV_NTIERS; t++) {
		uint64_t n = 0;
		for (size_t i = 0; i < ev->ndefaults; i++) {
			const struct ww_default_stat *d = ev->defaults[i].st;
			const struct ww_ev_count *c =
			    count_of(&ev->defaults[i].nft, &ev->defaults[i].xdp, t);
			if (d->verdict != WW_RB_MONITOR || !c->present)
				continue;
			if (!default_reaches(ev, iv, d))
				continue;
			/* Towards "_monitor", a monitor zone the invariant reaches is at the
			 * other end (default_reaches). */
			if (listed(m->zones, m->nzones, d->src) ||
			    listed(m->zones, m->nzones, d->dst) || !strcmp(d->dst, WW_NFT_MONITOR))
				n += c->win_packets;
		}
		for (size_t i = 0; i < ev->nflows; i++) {
			const struct ww_ev_flow *f = &ev->flows[i];
			const struct ww_ev_count *c = count_of(&f->nft, &f->xdp, t);
			bool reach = false;
			for (size_t k = 0; k < f->npairs && !reach; k++)
				reach = f->pairs[k].verdict == WW_RB_MONITOR &&
					eplist_has_zone(&iv->from, f->pairs[k].src) &&
					eplist_has_zone(&iv->to, f->pairs[k].dst);
			if (reach && c->present)
				n += c->win_packets; /* once, however many pairs it covers */
		}
		m->passed[t] = n;
	}
}

int ww_ev_monitor_build(struct ww_evidence *ev)
{
	const struct ww_policy *p = ev->c->applied;
	size_t cap = 0;

	for (size_t i = 0; i < ev->ndefaults; i++)
		if (ev->defaults[i].st->verdict == WW_RB_MONITOR) {
			for (int t = 0; t < WW_EV_NTIERS; t++) {
				const struct ww_ev_count *c =
				    count_of(&ev->defaults[i].nft, &ev->defaults[i].xdp, t);
				ev->monitored[t] += c->present ? c->win_packets : 0;
			}
		}
	for (size_t i = 0; i < ev->nflows; i++) {
		const struct ww_ev_flow *f = &ev->flows[i];
		bool mon = false;
		for (size_t k = 0; k < f->npairs && !mon; k++)
			mon = f->pairs[k].verdict == WW_RB_MONITOR;
		for (int t = 0; mon && t < WW_EV_NTIERS; t++) {
			const struct ww_ev_count *c = count_of(&f->nft, &f->xdp, t);
			ev->monitored[t] += c->present ? c->win_packets : 0;
		}
	}
	if (!p)
		return 0;
	for (size_t i = 0; i < p->nzones; i++)
		if (p->zones[i].mode == WW_MONITOR &&
		    VEC_PUSH(ev->monitor_zones, ev->nmonitor_zones, cap, p->zones[i].name))
			return -ENOMEM;
	/* The kernel counts defaults per source zone, not per pair: the pairs come from the
	 * policy. Within a zone in monitor mode, and between zones one of which is. */
	size_t nz = p->nzones, nm = ev->nmonitor_zones, quiet = nz - nm;
	if (p->defaults.within_zone != WW_ALLOW)
		ev->monitor_default_pairs += nm;
	if (p->defaults.between_zones != WW_ALLOW && nm)
		ev->monitor_default_pairs += nz * (nz - 1) - (quiet ? quiet * (quiet - 1) : 0);
	cap = 0;
	for (size_t i = 0; i < p->nflows; i++)
		if (p->flows[i].action == WW_DENY && p->flows[i].mode == WW_MONITOR &&
		    VEC_PUSH(ev->monitor_flows, ev->nmonitor_flows, cap, p->flows[i].id))
			return -ENOMEM;
	if (!ev->ninv)
		return 0;
	ev->minv = calloc(ev->ninv, sizeof(*ev->minv));
	if (!ev->minv)
		return -ENOMEM;
	for (size_t i = 0; i < ev->ninv; i++) {
		const struct ww_invariant *iv = &p->invs[i];
		struct ww_ev_monitor_inv *m = &ev->minv[i];
		size_t zc = 0, fc = 0;
		m->enforced = ev->inv[i].holds && !ev->inv[i].monitor_only;
		if (!ev->inv[i].monitor_only)
			continue;
		for (size_t k = 0; k < ev->nmonitor_zones; k++) {
			const char *z = ev->monitor_zones[k];
			if ((eplist_has_zone(&iv->from, z) || eplist_has_zone(&iv->to, z)) &&
			    VEC_PUSH(m->zones, m->nzones, zc, z))
				return -ENOMEM;
		}
		for (size_t k = 0; k < ev->nmonitor_flows; k++) {
			const struct ww_flow *f = ww_flow_find(p, ev->monitor_flows[k]);
			if (f && eplists_meet(p, &f->from, &iv->from) &&
			    eplists_meet(p, &f->to, &iv->to) &&
			    VEC_PUSH(m->flows, m->nflows, fc, f->id))
				return -ENOMEM;
		}
		inv_passed(ev, iv, m);
	}
	return 0;
}

void ww_ev_monitor_free(struct ww_evidence *ev)
{
	for (size_t i = 0; ev->minv && i < ev->ninv; i++) {
		free(ev->minv[i].zones);
		free(ev->minv[i].flows);
	}
	free(ev->minv);
	free(ev->monitor_zones);
	free(ev->monitor_flows);
}
