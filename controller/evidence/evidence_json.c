// SPDX-License-Identifier: GPL-2.0-only
/*
 * evidence.json: the model as data, field by field as docs/evidence.md describes it and
 * policies/evidence.schema.json constrains it. Keys come out in a fixed order; nothing here
 * decides anything the model has not.
 */
#include "evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_compile.h"
#include "quarantine.h"

static void count_json(struct ww_jw *w, const char *key, const struct ww_ev_count *c)
{
	if (!c->present) {
		ww_jw_null(w, key);
		return;
	}
	ww_jw_obj(w, key);
	ww_jw_u64(w, "packets", c->packets);
	ww_jw_u64(w, "bytes", c->bytes);
	ww_jw_time(w, "since", c->since);
	ww_jw_u64(w, "window_packets", c->win_packets);
	ww_jw_u64(w, "window_bytes", c->win_bytes);
	ww_jw_bool(w, "baseline", c->baseline);
	ww_jw_bool(w, "reset", c->reset);
	ww_jw_end_obj(w);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The distinct non-empty values of a flow field, sorted. */
static void distinct(struct ww_jw *w, const char *key, const struct ww_policy *p, bool ticket)
{
	const char **v = calloc(p->nflows + 1, sizeof(*v));
	size_t n = 0;

	for (size_t i = 0; v && i < p->nflows; i++) {
		const char *s = ticket ? p->flows[i].ticket : p->flows[i].owner;
		bool dup = false;
		for (size_t k = 0; s && k < n && !dup; k++)
			dup = !strcmp(v[k], s);
		if (s && *s && !dup)
			v[n++] = s;
	}
	if (v)
		qsort(v, n, sizeof(*v), cmp_str);
	else
		w->out->oom = true;
	ww_jw_strs(w, key, v, n);
	free(v);
}

static void where_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_obj(w, "where");
	ww_jw_str(w, "hostname", ev->hostname);
	ww_jw_obj(w, "kernel");
	ww_jw_str(w, "sysname", ev->uts.sysname);
	ww_jw_str(w, "release", ev->uts.release);
	ww_jw_str(w, "version", ev->uts.version);
	ww_jw_str(w, "machine", ev->uts.machine);
	ww_jw_end_obj(w);
	ww_jw_str(w, "wardwall_version", ev->version);
	ww_jw_end_obj(w);
}

static void policy_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	const struct ww_collect *c = ev->c;
	const struct ww_policy *p = c->applied;

	if (!c->gen.gen) {
		ww_jw_null(w, "policy");
	} else {
		ww_jw_obj(w, "policy");
		ww_jw_str(w, "sha256",
			  *ev->policy_sha256 ? ev->policy_sha256 : c->gen.policy_sha256);
		ww_jw_str(w, "name", p ? p->name : c->gen.policy_name);
		ww_jw_str(w, "description", p ? p->description : NULL);
		ww_jw_u64(w, "generation", c->gen.gen);
		ww_jw_time(w, "applied", c->gen.time);
		ww_jw_str(w, "applied_by", c->gen.user);
		ww_jw_str(w, "action", c->gen.action);
		ww_jw_str(w, "source", *c->gen.source ? c->gen.source : NULL);
		ww_jw_bool(w, "matches_record", ev->policy_matches_record);
		ww_jw_u64(w, "zones", p ? p->nzones : 0);
		ww_jw_u64(w, "flows", p ? p->nflows : 0);
		ww_jw_u64(w, "invariants", p ? p->ninvs : 0);
		if (p) {
			distinct(w, "owners", p, false);
			distinct(w, "tickets", p, true);
		} else {
			ww_jw_strs(w, "owners", NULL, 0);
			ww_jw_strs(w, "tickets", NULL, 0);
		}
		ww_jw_end_obj(w);
	}
	ww_jw_obj(w, "history");
	ww_jw_bool(w, "verified", ev->history_ok);
	ww_jw_str(w, "error", ev->history_err);
	ww_jw_arr(w, "events");
	for (size_t i = 0; i < ev->nhistory; i++) {
		const struct ww_generation *g = &ev->history[i];
		ww_jw_obj(w, NULL);
		ww_jw_u64(w, "generation", g->gen);
		ww_jw_time(w, "time", g->time);
		ww_jw_str(w, "user", g->user);
		ww_jw_str(w, "action", g->action);
		ww_jw_str(w, "policy_sha256", *g->policy_sha256 ? g->policy_sha256 : NULL);
		ww_jw_str(w, "policy_name", *g->policy_name ? g->policy_name : NULL);
		if (g->restores)
			ww_jw_u64(w, "restores", g->restores);
		else
			ww_jw_null(w, "restores");
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
}

static void kernel_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	const struct ww_collect *c = ev->c;

	ww_jw_obj(w, "kernel");
	ww_jw_bool(w, "in_sync", ev->in_sync);
	ww_jw_obj(w, "nftables");
	ww_jw_bool(w, "present", c->live != NULL);
	ww_jw_str(w, "mode", !c->live ? NULL : ww_rb_mode(&c->rb));
	ww_jw_strs(w, "interfaces", (const char *const *)c->rb.ifaces, c->rb.nifaces);
	ww_jw_str(w, "sha256", *ev->nft_sha256 ? ev->nft_sha256 : NULL);
	ww_jw_str(w, "expected_sha256", *ev->nft_expected_sha256 ? ev->nft_expected_sha256 : NULL);
	ww_jw_u64(w, "chains", c->live ? c->live->nchains : 0);
	ww_jw_u64(w, "maps", c->live ? c->live->nsets : 0);
	ww_jw_u64(w, "counters", c->live ? c->live->ncounters : 0);
	ww_jw_u64(w, "unexplained", c->rb.unexplained);
	ww_jw_u64(w, "ct_invalid", c->ct_invalid);
	ww_jw_end_obj(w);
	ww_jw_obj(w, "xdp");
	ww_jw_bool(w, "present", c->has_xdp);
	ww_jw_str(w, "program_tag", c->has_xdp && *c->xs.prog_tag ? c->xs.prog_tag : NULL);
	if (c->has_xdp && c->xs.prog_id)
		ww_jw_u64(w, "program_id", c->xs.prog_id);
	else
		ww_jw_null(w, "program_id");
	ww_jw_bool(w, "installed", c->has_xdp && c->xs.valid);
	if (c->has_xdp && c->xs.valid)
		ww_jw_u64(w, "generation", c->xs.generation);
	else
		ww_jw_null(w, "generation");
	ww_jw_arr(w, "links");
	for (size_t i = 0; c->has_xdp && i < c->xs.nlinks; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "interface", c->xs.links[i].ifname);
		ww_jw_str(w, "mode", c->xs.links[i].generic ? "generic" : "native");
		ww_jw_bool(w, "attached", c->xs.links[i].present);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_str(w, "maps_sha256", *ev->xdp_maps_sha256 ? ev->xdp_maps_sha256 : NULL);
	ww_jw_u64(w, "classifications", ev->xdp_ncls);
	ww_jw_u64(w, "rules", ev->xdp_nrules);
	ww_jw_u64(w, "decision_lists", ev->xdp_ndlists);
	if (c->xdp_same < 0)
		ww_jw_null(w, "matches_applied");
	else
		ww_jw_bool(w, "matches_applied", c->xdp_same);
	ww_jw_obj(w, "stats");
	for (int s = 0; c->has_xdp && s < WW_S_MAX; s++)
		ww_jw_u64(w, ww_xdp_stat_name(s), c->xdp_stats[s]);
	ww_jw_end_obj(w);
	ww_jw_end_obj(w);
	ww_jw_obj(w, "drift");
	ww_jw_bool(w, "known", c->drift_known);
	ww_jw_bool(w, "equal", ev->in_sync);
	ww_jw_arr(w, "differences");
	for (size_t i = 0; i < ev->ndrift; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "op", ev->drift[i].op);
		ww_jw_str(w, "kind", ev->drift[i].kind);
		ww_jw_str(w, "name", ev->drift[i].name);
		ww_jw_str(w, "what", ev->drift[i].what);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
	ww_jw_end_obj(w);
}

static void flow_json(const struct ww_evidence *ev, const struct ww_ev_flow *f, struct ww_jw *w)
{
	const struct ww_flow *p = f->flow;
	char ids[16][64];
	size_t nids = ww_ev_flow_mappings(ev, f, ids, ARRAY_SIZE(ids));

	ww_jw_obj(w, NULL);
	ww_jw_str(w, "id", f->st->id);
	ww_jw_bool(w, "in_policy", p != NULL);
	ww_jw_bool(w, "in_kernel", f->nft.present || f->xdp.present);
	ww_jw_str(w, "action", p ? ww_flow_action_str(p) : NULL);
	ww_jw_str(w, "mode", p ? (p->mode == WW_MONITOR ? "monitor" : "enforce") : NULL);
	ww_jw_str(w, "owner", p ? p->owner : NULL);
	ww_jw_str(w, "ticket", p ? p->ticket : NULL);
	ww_jw_str(w, "description", p ? p->description : NULL);
	ww_jw_strs(w, "controls", p ? (const char *const *)p->controls : NULL,
		   p ? p->ncontrols : 0);
	ww_jw_arr(w, "mappings");
	for (size_t i = 0; i < nids; i++)
		ww_jw_str(w, NULL, ids[i]);
	ww_jw_end_arr(w);
	ww_jw_arr(w, "zone_pairs");
	for (size_t i = 0; i < f->npairs; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "from", f->pairs[i].src);
		ww_jw_str(w, "to", f->pairs[i].dst);
		ww_jw_str(w, "verdict", ww_ev_verdict_name(f->pairs[i].verdict));
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_str(w, "source_zone", f->src_zone);
	ww_jw_str(w, "destination_zone", f->dst_zone);
	ww_jw_time(w, "valid_from", f->valid_from);
	ww_jw_time(w, "valid_until", f->valid_until);
	count_json(w, "nftables", &f->nft);
	count_json(w, "xdp", &f->xdp);
	ww_jw_end_obj(w);
}

/* Window packets that passed only in monitor mode, per tier: null for a tier not loaded. */
static void passed_json(const struct ww_evidence *ev, struct ww_jw *w, const uint64_t *passed)
{
	ww_jw_obj(w, "passed_packets");
	for (int t = 0; t < WW_EV_NTIERS; t++) {
		const char *k = t == WW_EV_NFT ? "nftables" : "xdp";
		if (ev->tiers[t].present)
			ww_jw_u64(w, k, passed ? passed[t] : 0);
		else
			ww_jw_null(w, k);
	}
	ww_jw_end_obj(w);
}

static void matrix_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	static const char *const tiers[] = {"nftables", "xdp"};

	ww_jw_obj(w, "matrix");
	ww_jw_strs(w, "zones", ev->zones, ev->nzones);
	for (int t = 0; t < WW_EV_NTIERS; t++) {
		if (!ev->tiers[t].present) {
			ww_jw_null(w, tiers[t]);
			continue;
		}
		ww_jw_arr(w, tiers[t]);
		for (size_t s = 0; s < ev->nzones; s++)
			for (size_t d = 0; d < ev->nzones; d++) {
				const struct ww_ev_cell *c = ww_ev_cell(ev, t, s, d);
				uint64_t any = 0;
				for (int k = 0; k < WW_EV_NKINDS; k++)
					any |= c->exact[k] | c->shared[k];
				if (!any)
					continue;
				ww_jw_obj(w, NULL);
				ww_jw_str(w, "from", ev->zones[s]);
				ww_jw_str(w, "to", ev->zones[d]);
				for (int k = 0; k < WW_EV_NKINDS; k++)
					ww_jw_u64(w, ww_ev_kind_name(k), c->exact[k]);
				for (int k = 0; k < WW_EV_NKINDS; k++) {
					char key[32];
					snprintf(key, sizeof(key), "shared_%s", ww_ev_kind_name(k));
					ww_jw_u64(w, key, c->shared[k]);
				}
				ww_jw_end_obj(w);
			}
		ww_jw_end_arr(w);
	}
	ww_jw_end_obj(w);
}

static void ranks_json(struct ww_jw *w, const char *key, const struct ww_ev_rank *r, size_t n,
		       bool pairs)
{
	ww_jw_arr(w, key);
	for (size_t i = 0; i < n; i++) {
		ww_jw_obj(w, NULL);
		if (pairs) {
			ww_jw_str(w, "from", r[i].a);
			ww_jw_str(w, "to", r[i].b);
		} else {
			ww_jw_str(w, "zone", r[i].a);
		}
		ww_jw_u64(w, "packets", r[i].packets);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

static void denied_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	static const char *const tiers[] = {"nftables", "xdp"};

	ww_jw_obj(w, "denied");
	for (int t = 0; t < WW_EV_NTIERS; t++) {
		const struct ww_ev_denied *d = &ev->tiers[t].denied;
		if (!ev->tiers[t].present) {
			ww_jw_null(w, tiers[t]);
			continue;
		}
		ww_jw_obj(w, tiers[t]);
		ww_jw_u64(w, "total", d->total);
		ww_jw_u64(w, "mixed", d->mixed);
		ranks_json(w, "by_source_zone", d->src, d->nsrc, false);
		ranks_json(w, "by_destination_zone", d->dst, d->ndst, false);
		ranks_json(w, "by_zone_pair", d->pairs, d->npairs, true);
		ww_jw_obj(w, "unattributed");
		ww_jw_u64(w, "source", d->unattributed_src);
		ww_jw_u64(w, "destination", d->unattributed_dst);
		ww_jw_u64(w, "zone_pair", d->unattributed_pairs);
		ww_jw_end_obj(w);
		ww_jw_end_obj(w);
	}
	ww_jw_strs(w, "notes", ww_ev_limits, 2);
	ww_jw_end_obj(w);
}

/* Incident actions (docs/incident.md): who quarantined what, when, why, under which ticket,
 * what was kept, what the kernel holds and how many packets it blocked. */
static void quarantines_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_obj(w, "quarantines");
	ww_jw_arr(w, "recorded");
	for (size_t i = 0; i < ev->nquar; i++) {
		const struct ww_quar_status *s = &ev->quar[i];
		char id[16];
		snprintf(id, sizeof(id), "q%u", s->q.id);
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "id", id);
		ww_jw_str(w, "target", s->q.target);
		ww_jw_str(w, "user", s->q.user);
		ww_jw_time(w, "created", s->q.created);
		if (s->q.until)
			ww_jw_time(w, "until", s->q.until);
		else
			ww_jw_null(w, "until");
		ww_jw_str(w, "reason", s->q.reason);
		ww_jw_str(w, "ticket", s->q.ticket);
		ww_jw_bool(w, "strict", s->q.strict);
		ww_jw_arr(w, "kept");
		for (size_t k = 0; k < s->q.nkeep; k++) {
			ww_jw_obj(w, NULL);
			ww_jw_str(w, "flow", s->q.keep[k].id);
			ww_jw_str(w, "why", s->q.keep[k].why);
			ww_jw_end_obj(w);
		}
		ww_jw_end_arr(w);
		ww_jw_bool(w, "expired", s->expired);
		ww_jw_bool(w, "in_nftables", s->nft);
		ww_jw_bool(w, "in_xdp", s->xdp);
		ww_jw_u64(w, "blocked_nftables", s->nft_packets);
		ww_jw_u64(w, "blocked_xdp", s->xdp_packets);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_strs(w, "log", (const char *const *)ev->quar_log, ev->nquar_log);
	ww_jw_end_obj(w);
}

/* The window the counters cover, and how its start was chosen. */
static void window_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_obj(w, "window");
	ww_jw_time(w, "start", ev->start);
	ww_jw_time(w, "end", ev->time);
	if (ev->start)
		ww_jw_i64(w, "seconds", ev->time - ev->start);
	else
		ww_jw_null(w, "seconds");
	ww_jw_time(w, "since_requested", ev->since);
	ww_jw_str(w, "basis", ev->basis);
	if (ev->base)
		ww_jw_u64(w, "base_seq", ev->base->seq);
	else
		ww_jw_null(w, "base_seq");
	ww_jw_end_obj(w);
}

/* Each zone pair's default, with its counters. */
static void defaults_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_arr(w, "defaults");
	for (size_t i = 0; i < ev->ndefaults; i++) {
		const struct ww_ev_default *d = &ev->defaults[i];
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "from", d->st->src);
		ww_jw_str(w, "to", d->st->dst);
		ww_jw_str(w, "verdict", ww_ev_verdict_name(d->st->verdict));
		count_json(w, "nftables", &d->nft);
		count_json(w, "xdp", &d->xdp);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
}

/* The detectors' alerts of the window, by detector and source zone. */
static void alerts_json(const struct ww_evidence *ev, struct ww_jw *w)
{
	ww_jw_obj(w, "alerts");
	ww_jw_bool(w, "recorded", ev->alerts.recorded);
	ww_jw_u64(w, "total", ev->alerts.total);
	ww_jw_arr(w, "by");
	for (size_t i = 0; i < ev->alerts.nby; i++) {
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "detector", ev->alerts.by[i].detector);
		ww_jw_str(w, "zone", ev->alerts.by[i].zone);
		ww_jw_u64(w, "alerts", ev->alerts.by[i].n);
		ww_jw_end_obj(w);
	}
	ww_jw_end_arr(w);
	ww_jw_end_obj(w);
}

void ww_evidence_json(const struct ww_evidence *ev, struct strbuf *out)
{
	const struct ww_collect *c = ev->c;
	struct ww_jw w = {.out = out};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "format", WW_EVIDENCE_FORMAT);
	ww_jw_time(&w, "generated", ev->time);
	ww_jw_obj(&w, "bundle");
	ww_jw_u64(&w, "seq", ev->seq);
	ww_jw_str(&w, "previous_manifest_sha256", *ev->prev_sha256 ? ev->prev_sha256 : NULL);
	ww_jw_str(&w, "key_sha256", ev->key_sha256);
	ww_jw_end_obj(&w);
	where_json(ev, &w);
	window_json(ev, &w);
	policy_json(ev, &w);
	kernel_json(ev, &w);
	ww_jw_arr(&w, "flows");
	for (size_t i = 0; i < ev->nflows; i++)
		flow_json(ev, &ev->flows[i], &w);
	ww_jw_end_arr(&w);
	defaults_json(ev, &w);
	matrix_json(ev, &w);
	denied_json(ev, &w);
	alerts_json(ev, &w);
	ww_ev_incidents_json(ev, &w);
	ww_jw_obj(&w, "monitor");
	ww_jw_strs(&w, "zones", ev->monitor_zones, ev->nmonitor_zones);
	ww_jw_strs(&w, "flows", ev->monitor_flows, ev->nmonitor_flows);
	ww_jw_u64(&w, "default_zone_pairs", ev->monitor_default_pairs);
	passed_json(ev, &w, ev->monitored);
	ww_jw_end_obj(&w);
	ww_jw_arr(&w, "invariants");
	for (size_t i = 0; i < ev->ninv; i++) {
		const struct ww_invariant *iv = &c->applied->invs[i];
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "id", iv->id);
		ww_jw_str(&w, "expect", ww_action_str(iv->expect));
		ww_jw_str(&w, "description", iv->description);
		ww_jw_bool(&w, "holds", ev->inv[i].holds);
		ww_jw_bool(&w, "monitor_only", ev->inv[i].monitor_only);
		ww_jw_u64(&w, "violations", ev->inv[i].violations);
		ww_jw_str(&w, "detail", ev->inv[i].detail);
		const struct ww_ev_monitor_inv *m = ev->minv ? &ev->minv[i] : NULL;
		ww_jw_bool(&w, "enforced", m && m->enforced);
		ww_jw_strs(&w, "monitor_zones", m ? m->zones : NULL, m ? m->nzones : 0);
		ww_jw_strs(&w, "monitor_flows", m ? m->flows : NULL, m ? m->nflows : 0);
		passed_json(ev, &w, m ? m->passed : NULL);
		ww_jw_end_obj(&w);
	}
	ww_jw_end_arr(&w);
	ww_jw_arr(&w, "mappings");
	for (size_t i = 0; i < ww_ev_nmappings; i++) {
		struct strbuf why = {0};
		enum ww_ev_status st = ww_ev_mapping_status(ev, i, &why);
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "id", ww_ev_mappings[i].id);
		ww_jw_str(&w, "title", ww_ev_mappings[i].title);
		ww_jw_str(&w, "what", ww_ev_mappings[i].what);
		ww_jw_bool(&w, "met", st == WW_EV_MET);
		ww_jw_str(&w, "status", ww_ev_status_name(st));
		ww_jw_str(&w, "because", sb_str(&why));
		ww_jw_end_obj(&w);
		sb_free(&why);
	}
	ww_jw_end_arr(&w);
	quarantines_json(ev, &w);
	ww_jw_strs(&w, "limits", ww_ev_limits, ww_ev_nlimits);
	ww_jw_end_obj(&w);
}
