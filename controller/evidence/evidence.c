// SPDX-License-Identifier: GPL-2.0-only
/*
 * The evidence model: one collection of the kernel (collect.c) and the previous exports' records
 * turned into windows, a zone matrix, rankings of denials and a control mapping. The printers
 * only format what is decided here, so evidence.json, oscal.json and report.html never disagree.
 */
#include "evidence.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "nft_compile.h"
#include "policy.h"
#include "quarantine.h"
#include "timeutil.h"

#ifndef WW_VERSION
#define WW_VERSION "0.0.0"
#endif

/* ---- names ---- */

const char *ww_ev_verdict_name(enum ww_rb_verdict v)
{
	static const char *const s[] = {"allow", "deny", "monitor"};
	return (unsigned int)v < ARRAY_SIZE(s) ? s[v] : "?";
}

const char *ww_ev_kind_name(enum ww_ev_kind k)
{
	static const char *const s[] = {"allowed", "denied", "monitored"};
	return (unsigned int)k < ARRAY_SIZE(s) ? s[k] : "?";
}

static enum ww_ev_kind kind_of(enum ww_rb_verdict v)
{
	return v == WW_RB_DENY	    ? WW_EV_DENIED
	       : v == WW_RB_MONITOR ? WW_EV_MONITORED
				    : WW_EV_ALLOWED;
}

/* ---- control ids and mappings ---- */

const char *ww_ev_control_id(const char *control, char *buf, size_t n)
{
	const char *p = control;
	size_t k = 0;
	bool sep = false;

	if (n < 2) {
		if (n)
			buf[0] = '\0';
		return buf;
	}
	/* The first word names the text ("NIS2", "CIR", "ISO"): prefix-<the rest, dotted>. */
	while (*p == ' ')
		p++;
	if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')) && k + 2 < n) {
		buf[k++] = 'x'; /* an OSCAL token starts with a letter */
		buf[k++] = '-';
	}
	for (; *p && *p != ' ' && k + 1 < n; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9'))
			buf[k++] = ch;
	}
	while (*p == ' ')
		p++;
	/* "Art." and "Article" say nothing the number does not. */
	if (!strncasecmp(p, "art.", 4))
		p += 4;
	else if (!strncasecmp(p, "article", 7))
		p += 7;
	if (*p && k + 1 < n)
		buf[k++] = '-';
	bool first = true;
	for (; *p && k + 1 < n; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
		if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9')) {
			if (sep && !first && k + 2 < n)
				buf[k++] = '.';
			buf[k++] = ch;
			sep = false;
			first = false;
		} else {
			sep = true;
		}
	}
	if (k && (buf[k - 1] == '-' || buf[k - 1] == '.'))
		k--;
	buf[k] = '\0';
	return buf;
}

const struct ww_ev_mapping ww_ev_mappings[] = {
    {"nis2-21.2.a", "NIS2 Art. 21(2)(a)",
     "Security policy: the applied policy is identified by its sha256, with its owners, tickets "
     "and history of applies and rollbacks, and the kernel is compared with it."},
    {"nis2-21.2.b", "NIS2 Art. 21(2)(b)",
     "Incident handling: denials per zone pair and the most-denied zones over the window, what "
     "an Art. 23 report needs to say which segments were probed."},
    {"nis2-21.2.e", "NIS2 Art. 21(2)(e)",
     "Security in maintenance: every change of the enforced policy is in a hash-chained history, "
     "and the kernel's ruleset is shown equal to the last recorded change (or where it is not)."},
    {"nis2-21.2.f", "NIS2 Art. 21(2)(f)",
     "Assessing effectiveness: per-flow counters of the kernel over a stated window and proofs "
     "of the policy's invariants."},
    {"nis2-21.2.i", "NIS2 Art. 21(2)(i)",
     "Access control: only the declared flows pass between zones; the defaults deny the rest."},
    {"cir-3.2", "CIR 2024/2690 Annex 3.2",
     "Logging and monitoring: inbound and outbound traffic counted per flow and per zone pair; "
     "configuration changes in a tamper-evident history; exports chained and signed."},
    {"cir-6.3", "CIR 2024/2690 Annex 6.3",
     "Secure network configuration, enforced and monitored: the live ruleset's digest and drift "
     "verdict against the applied generation."},
    {"cir-6.7", "CIR 2024/2690 Annex 6.7",
     "Network security: connections that are not needed are blocked (default deny between "
     "zones); vendor connections limited in time by validity windows."},
    {"cir-6.8", "CIR 2024/2690 Annex 6.8",
     "Segmentation: zones with only the traffic that is necessary between and within them, "
     "shown as a zone-to-zone matrix of allowed and denied traffic."},
    {"cir-7", "CIR 2024/2690 Annex 7",
     "Effectiveness: what is measured (kernel counters), how (this export), when (the window) and "
     "by whom (the host, the signing key)."},
    {"cir-11", "CIR 2024/2690 Annex 11",
     "Access control: least privilege between zones, third-party access limited in scope and "
     "time."},
};
const size_t ww_ev_nmappings = ARRAY_SIZE(ww_ev_mappings);

const char *const ww_ev_limits[] = {
    "The kernel keeps no per-address counters: denials are counted per flow and per default "
    "(per zone, not per zone pair), so no source or destination address can be named from "
    "this bundle.",
    "XDP ring-buffer events (logged decisions) are not retained by wardwall and are not in "
    "this bundle; logged packets go to the NFLOG group and the XDP event ring for a log "
    "collector to keep.",
    "A flow that covers several zone pairs has one counter, and so has a default between "
    "zones: its packets are shown as shared between those pairs in the matrix and as "
    "unattributed in the rankings.",
    "The drift verdict and the digests describe the kernel at the moment of the export, not "
    "over the whole window; earlier exports and the history cover earlier moments.",
    "The invariants are proven on the applied policy; the drift verdict is what ties that "
    "proof to the kernel.",
    "Traffic that does not pass this host's hooks (a path around the firewall) is not seen.",
    "The signature shows who exported the bundle (the holder of the key) and that it has not "
    "changed since; it does not show that the kernel or the state directory were not altered "
    "before the export.",
};
const size_t ww_ev_nlimits = ARRAY_SIZE(ww_ev_limits);

static bool invariants_hold(const struct ww_evidence *ev, size_t *failed)
{
	*failed = 0;
	for (size_t i = 0; i < ev->ninv; i++)
		*failed += !ev->inv[i].holds;
	return !*failed;
}

static bool defaults_deny_between(const struct ww_evidence *ev, size_t *open)
{
	*open = 0;
	for (size_t i = 0; i < ev->ndefaults; i++) {
		const struct ww_default_stat *d = ev->defaults[i].st;
		if (strcmp(d->src, d->dst) && d->verdict == WW_RB_ALLOW)
			(*open)++;
	}
	return ev->ndefaults && !*open;
}

/* What passed in monitor mode, as the end of a sentence: "zones in monitor mode: bms; 12 packets
 * passed in the window that the policy would deny". */
void ww_ev_monitor_why(const struct ww_evidence *ev, const char *const *zones, size_t nzones,
		       const char *const *flows, size_t nflows, const uint64_t *passed,
		       struct strbuf *why)
{
	if (nzones) {
		sb_addf(why, "zone%s in monitor mode: ", nzones == 1 ? "" : "s");
		ww_ev_names(zones, nzones, why);
	}
	if (nflows) {
		sb_addf(why, "%sdeny flow%s in monitor mode: ", nzones ? "; " : "",
			nflows == 1 ? "" : "s");
		ww_ev_names(flows, nflows, why);
	}
	for (int t = 0; t < WW_EV_NTIERS; t++)
		if (ev->tiers[t].present)
			sb_addf(why,
				"; %llu packet%s passed in the window that the policy would deny "
				"(%s)",
				(unsigned long long)passed[t], passed[t] == 1 ? "" : "s",
				t == WW_EV_NFT ? "nftables" : "XDP");
}

const char *ww_ev_status_name(enum ww_ev_status s)
{
	return s == WW_EV_MET ? "met" : s == WW_EV_NOT_ENFORCED ? "not-enforced" : "not-met";
}

bool ww_ev_mapping_met(const struct ww_evidence *ev, size_t i, struct strbuf *why)
{
	return ww_ev_mapping_status(ev, i, why) == WW_EV_MET;
}

/* One function a control (ww_ev_mappings): its status, and why on why. */

/* nis2-21.2.a: the applied policy is recorded and its history verifies. */
static enum ww_ev_status st_recorded(const struct ww_evidence *ev, struct strbuf *why)
{
	const struct ww_collect *c = ev->c;
	bool met = c->applied && ev->history_ok && ev->policy_matches_record;

	if (met)
		sb_addf(why,
			"generation %lu of policy %s (sha256 %.12s) is recorded and its "
			"history verifies",
			c->gen.gen, c->applied->name, ev->policy_sha256);
	else if (!c->applied)
		sb_add(why, "no applied policy is recorded in the state directory");
	else if (!ev->history_ok)
		sb_addf(why, "the history does not verify: %s",
			ev->history_err ? ev->history_err : "?");
	else
		sb_add(why, "the recorded policy does not hash to its history entry");
	return met ? WW_EV_MET : WW_EV_NOT_MET;
}

/* nis2-21.2.b, cir-3.2: the kernel's counters were read, and the history verifies. */
static enum ww_ev_status st_counted(const struct ww_evidence *ev, struct strbuf *why)
{
	bool counted = ev->c->live != NULL;

	sb_add(why, counted ? "the kernel's counters were read"
			    : "no nftables table: nothing "
			      "was counted");
	if (!ev->history_ok)
		sb_add(why, "; the history does not verify");
	return counted && ev->history_ok ? WW_EV_MET : WW_EV_NOT_MET;
}

/* nis2-21.2.e, cir-6.3: the kernel equals the applied generation. */
static enum ww_ev_status st_in_sync(const struct ww_evidence *ev, struct strbuf *why)
{
	const struct ww_collect *c = ev->c;

	if (ev->in_sync)
		sb_addf(why, "the kernel equals generation %lu", c->gen.gen);
	else
		sb_addf(why, "%s",
			!c->gen.gen	  ? "no generation is recorded"
			: !c->drift_known ? "the kernel could not be compared"
					  : "the kernel differs from the applied "
					    "generation (drift)");
	return ev->in_sync ? WW_EV_MET : WW_EV_NOT_MET;
}

/* nis2-21.2.f, cir-7: the counters cover a known window. */
static enum ww_ev_status st_window(const struct ww_evidence *ev, struct strbuf *why)
{
	bool counted = ev->c->live != NULL, met = counted && ev->start;

	if (met)
		sb_addf(why, "counters cover %lld seconds (%s)", (long long)(ev->time - ev->start),
			ev->basis);
	else
		sb_add(why, counted ? "the window's start is unknown" : "nothing was counted");
	return met ? WW_EV_MET : WW_EV_NOT_MET;
}

/* cir-6.7: every zone pair without a flow is denied by default, and the kernel does it. */
static enum ww_ev_status st_default_deny(const struct ww_evidence *ev, struct strbuf *why)
{
	size_t open;
	bool deny = defaults_deny_between(ev, &open);

	if (!ev->in_sync) {
		sb_add(why, "the kernel differs from the applied generation");
	} else if (!deny) {
		sb_addf(why, "%zu zone pairs are allowed by default", open);
	} else if (ev->monitor_default_pairs) {
		/* Denied on paper; in the kernel, monitor mode lets it pass. */
		sb_addf(why,
			"every zone pair without a flow is denied by default, but %zu zone "
			"pair%s only monitor%s (",
			ev->monitor_default_pairs, ev->monitor_default_pairs == 1 ? "" : "s",
			ev->monitor_default_pairs == 1 ? "s" : "");
		ww_ev_monitor_why(ev, ev->monitor_zones, ev->nmonitor_zones, NULL, 0, ev->monitored,
				  why);
		sb_add(why, ")");
		return WW_EV_NOT_ENFORCED;
	} else {
		sb_add(why, "every zone pair without a flow is denied by default");
	}
	return ev->in_sync && deny ? WW_EV_MET : WW_EV_NOT_MET;
}

/* nis2-21.2.i, cir-6.8, cir-11: segmentation as proven and as enforced. */
static enum ww_ev_status st_segmentation(const struct ww_evidence *ev, struct strbuf *why)
{
	const struct ww_collect *c = ev->c;
	size_t bad;
	bool hold = invariants_hold(ev, &bad);

	if (!c->applied) {
		sb_add(why, "no applied policy");
	} else if (!ev->in_sync) {
		sb_add(why, "the kernel differs from the applied generation");
	} else if (!hold) {
		sb_addf(why, "%zu invariant%s fail%s", bad, bad == 1 ? "" : "s", bad == 1 ? "s" : "");
	} else if (ww_ev_monitoring(ev)) {
		size_t ne = 0;
		for (size_t k = 0; k < ev->ninv; k++)
			ne += ev->minv && !ev->minv[k].enforced;
		sb_addf(why, "the kernel is the policy, but not all of it is enforced: ");
		if (ne)
			sb_addf(why, "%zu of %zu invariant%s hold%s only in monitor mode; ", ne,
				ev->ninv, ev->ninv == 1 ? "" : "s", ne == 1 ? "s" : "");
		ww_ev_monitor_why(ev, ev->monitor_zones, ev->nmonitor_zones, ev->monitor_flows,
				  ev->nmonitor_flows, ev->monitored, why);
		return WW_EV_NOT_ENFORCED;
	} else {
		sb_addf(why, "the kernel enforces the policy and its %zu invariant%s hold%s",
			ev->ninv, ev->ninv == 1 ? "" : "s", ev->ninv == 1 ? "s" : "");
	}
	return ev->in_sync && hold && c->applied ? WW_EV_MET : WW_EV_NOT_MET;
}

enum ww_ev_status ww_ev_mapping_status(const struct ww_evidence *ev, size_t i, struct strbuf *why)
{
	const char *id = i < ww_ev_nmappings ? ww_ev_mappings[i].id : "";
	struct strbuf tmp = {0};
	enum ww_ev_status st;

	if (!why)
		why = &tmp;
	if (!strcmp(id, "nis2-21.2.a"))
		st = st_recorded(ev, why);
	else if (!strcmp(id, "nis2-21.2.b") || !strcmp(id, "cir-3.2"))
		st = st_counted(ev, why);
	else if (!strcmp(id, "nis2-21.2.e") || !strcmp(id, "cir-6.3"))
		st = st_in_sync(ev, why);
	else if (!strcmp(id, "nis2-21.2.f") || !strcmp(id, "cir-7"))
		st = st_window(ev, why);
	else if (!strcmp(id, "cir-6.7"))
		st = st_default_deny(ev, why);
	else
		st = st_segmentation(ev, why);
	sb_free(&tmp);
	return st;
}

static size_t add_id(const char **ids, size_t n, size_t max, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return n;
	if (n < max)
		ids[n++] = id;
	return n;
}

size_t ww_ev_flow_derived(const struct ww_evidence *ev, const struct ww_ev_flow *f,
			  const char **ids, size_t max)
{
	size_t n = 0;
	bool deny = f->flow ? f->flow->action == WW_DENY : false;

	for (size_t i = 0; i < f->npairs; i++)
		deny |= f->pairs[i].verdict == WW_RB_DENY;
	n = add_id(ids, n, max, "cir-6.8");
	if (deny)
		n = add_id(ids, n, max, "cir-6.7");
	if (f->has_window) {
		n = add_id(ids, n, max, "cir-6.7");
		n = add_id(ids, n, max, "cir-11");
	}
	if (f->flow && ev->c->applied) {
		enum ww_log l = ww_flow_log(ev->c->applied, f->flow);
		if (l == WW_LOG_ALL || (l == WW_LOG_DENY && f->flow->action == WW_DENY))
			n = add_id(ids, n, max, "cir-3.2");
	}
	return n;
}

size_t ww_ev_flow_mappings(const struct ww_evidence *ev, const struct ww_ev_flow *f,
			   char (*ids)[64], size_t max)
{
	const char *derived[8];
	size_t nd = ww_ev_flow_derived(ev, f, derived, ARRAY_SIZE(derived)), n = 0;

	for (size_t i = 0; f->flow && i < f->flow->ncontrols + nd && n < max; i++) {
		if (i < f->flow->ncontrols)
			ww_ev_control_id(f->flow->controls[i], ids[n], sizeof(ids[n]));
		else
			snprintf(ids[n], sizeof(ids[n]), "%s", derived[i - f->flow->ncontrols]);
		bool dup = !*ids[n];
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(ids[k], ids[n]);
		n += !dup;
	}
	for (size_t i = 0; !f->flow && i < nd && n < max; i++)
		snprintf(ids[n++], sizeof(ids[0]), "%s", derived[i]);
	return n;
}

/* ---- the window ---- */

const struct ww_ev_record *ww_ev_base(const struct ww_ev_record *chain, size_t n, int64_t since,
				      const char **basis)
{
	*basis = "counter-start";
	if (!n)
		return NULL;
	if (!since) {
		*basis = "previous-export";
		return &chain[n - 1];
	}
	for (size_t i = n; i-- > 0;)
		if (chain[i].time <= since) {
			*basis = "export-at-or-before-since";
			return &chain[i];
		}
	return NULL;
}

static const struct ww_ev_snap *snap_find(const struct ww_ev_record *r, const char *name)
{
	for (size_t i = 0; r && i < r->nsnaps; i++)
		if (!strcmp(r->snaps[i].name, name))
			return &r->snaps[i];
	return NULL;
}

void ww_ev_count_window(const struct ww_ev_record *base, const char *name,
			const struct ww_tier_count *now, struct ww_ev_count *out)
{
	const struct ww_ev_snap *s = snap_find(base, name);
	uint64_t bp = s ? s->packets : 0, bb = s ? s->bytes : 0;

	memset(out, 0, sizeof(*out));
	out->present = now->present;
	out->packets = now->packets;
	out->bytes = now->bytes;
	out->since = now->since;
	if (!now->present)
		return;
	out->win_packets = now->packets;
	out->win_bytes = now->bytes;
	if (!base)
		return;
	bool restarted = now->packets < bp || now->bytes < bb ||
			 (s && s->since && now->since && s->since != now->since) ||
			 (s && now->since > base->time);
	if (restarted) {
		out->reset = true;
		return;
	}
	out->baseline = true;
	out->win_packets -= bp;
	out->win_bytes -= bb;
}

/* ---- building ---- */

static const char *zone_ref(const struct ww_evidence *ev, const char *name, size_t len)
{
	for (size_t i = 0; i < ev->nzones; i++)
		if (strlen(ev->zones[i]) == len && !strncmp(ev->zones[i], name, len))
			return ev->zones[i];
	return "-";
}

static size_t zone_index(const struct ww_evidence *ev, const char *name)
{
	for (size_t i = 0; i < ev->nzones; i++)
		if (!strcmp(ev->zones[i], name))
			return i;
	return ev->nzones; /* not an axis: callers skip it */
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int pair_cmp(const void *a, const void *b)
{
	const struct ww_ev_pair *x = a, *y = b;
	int r = strcmp(x->src, y->src);

	if (!r)
		r = strcmp(x->dst, y->dst);
	return r ? r : (int)x->verdict - (int)y->verdict;
}

static int flow_cmp(const void *a, const void *b)
{
	const struct ww_ev_flow *x = a, *y = b;
	return strcmp(x->st->id, y->st->id);
}

static int rank_cmp(const void *a, const void *b)
{
	const struct ww_ev_rank *x = a, *y = b;
	int r;

	if (x->packets != y->packets)
		return x->packets > y->packets ? -1 : 1;
	r = strcmp(x->a, y->a);
	return r ? r : strcmp(x->b ? x->b : "", y->b ? y->b : "");
}

/* Whether zone z holds addresses of r, and how many (modulo 2^128). */
static bool overlap(const struct ww_rb_zone *z, const struct ww_rb_range *r, u128 *n)
{
	bool any = false;

	*n = 0;
	for (size_t k = 0; k < z->n; k++) {
		const struct ww_rb_range *p = &z->ranges[k];
		u128 lo = p->lo > r->lo ? p->lo : r->lo, hi = p->hi < r->hi ? p->hi : r->hi;
		if (p->family != r->family || lo > hi)
			continue;
		*n += hi - lo + 1;
		any = true;
	}
	return any;
}

/* Whether some of r is in no zone. Zones do not overlap in the kernel's classification. */
static bool unzoned(const struct ww_readback *rb, const struct ww_rb_range *r)
{
	u128 covered = 0, n;

	for (size_t i = 0; i < rb->nzones; i++)
		if (overlap(&rb->zones[i], r, &n))
			covered += n;
	return covered != r->hi - r->lo + 1;
}

static int push_pair(struct ww_ev_flow *f, size_t *cap, struct ww_ev_pair p)
{
	for (size_t k = 0; k < f->npairs; k++)
		if (!strcmp(f->pairs[k].src, p.src) && !strcmp(f->pairs[k].dst, p.dst) &&
		    f->pairs[k].verdict == p.verdict)
			return 0;
	return VEC_PUSH(f->pairs, f->npairs, *cap, p);
}

/* The kernel's facts in the order of their counters' names (then as read): a flow finds its
 * own by binary search, not by a scan of all (flows x facts at 100k flows). */
struct fact_index {
	const struct ww_rb_fact **v;
	size_t n;
};

static int fact_cmp(const void *a, const void *b)
{
	const struct ww_rb_fact *x = *(const struct ww_rb_fact *const *)a;
	const struct ww_rb_fact *y = *(const struct ww_rb_fact *const *)b;
	int r = strcmp(x->counter, y->counter);

	return r ? r : (x < y ? -1 : x > y);
}

static int fact_index_build(const struct ww_readback *rb, struct fact_index *ix)
{
	ix->n = rb->nfacts;
	ix->v = calloc(ix->n + 1, sizeof(*ix->v));
	if (!ix->v)
		return -ENOMEM;
	for (size_t i = 0; i < ix->n; i++)
		ix->v[i] = &rb->facts[i];
	qsort(ix->v, ix->n, sizeof(*ix->v), fact_cmp);
	return 0;
}

/* The first fact whose counter is `counter`, as an index into ix (ix->n: none). */
static size_t fact_first(const struct fact_index *ix, const char *counter)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(ix->v[mid]->counter, counter) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The zone pairs the kernel's facts give a flow, each once. */
static int flow_pairs(struct ww_evidence *ev, const struct fact_index *ix, struct ww_ev_flow *f)
{
	const struct ww_readback *rb = &ev->c->rb;
	char counter[320]; /* nft object names are at most 256 bytes */
	size_t cap = 0;

	snprintf(counter, sizeof(counter), "%s%s", WW_NFT_FLOW_PREFIX, f->st->id);
	for (size_t i = fact_first(ix, counter); i < ix->n && !strcmp(ix->v[i]->counter, counter);
	     i++) {
		const struct ww_rb_fact *x = ix->v[i];
		if (x->has_from || x->has_until)
			f->has_window = true;
		if (x->has_from)
			f->valid_from = x->valid_from;
		if (x->has_until)
			f->valid_until = x->valid_until;
		/* Interval sets merge adjacent ranges: one destination range may span zones. */
		const char *src = zone_ref(ev, x->from, strcspn(x->from, "/"));
		u128 n;
		for (size_t z = 0; z < rb->nzones; z++) {
			if (!overlap(&rb->zones[z], &x->dst, &n))
				continue;
			const char *name = rb->zones[z].name;
			struct ww_ev_pair p = {src, zone_ref(ev, name, strlen(name)), x->verdict};
			if (push_pair(f, &cap, p))
				return -ENOMEM;
		}
		if (unzoned(rb, &x->dst) &&
		    push_pair(f, &cap, (struct ww_ev_pair){src, "-", x->verdict}))
			return -ENOMEM;
	}
	if (f->npairs)
		qsort(f->pairs, f->npairs, sizeof(*f->pairs), pair_cmp);
	for (size_t k = 0; k < f->npairs; k++) {
		if (!k) {
			f->src_zone = f->pairs[0].src;
			f->dst_zone = f->pairs[0].dst;
			continue;
		}
		if (f->src_zone && strcmp(f->src_zone, f->pairs[k].src))
			f->src_zone = NULL;
		if (f->dst_zone && strcmp(f->dst_zone, f->pairs[k].dst))
			f->dst_zone = NULL;
	}
	if (!f->npairs && f->flow && (f->flow->has_from || f->flow->has_until)) {
		/* Not in the kernel (yet, or any more): the window the policy gives. */
		f->has_window = true;
		f->valid_from = f->flow->has_from ? f->flow->valid_from : 0;
		f->valid_until = f->flow->has_until ? f->flow->valid_until : 0;
	}
	return 0;
}

static int zones_of(struct ww_evidence *ev)
{
	const struct ww_collect *c = ev->c;
	bool none = false;

	ev->zones = calloc(c->rb.nzones + 1, sizeof(*ev->zones));
	if (!ev->zones)
		return -ENOMEM;
	for (size_t i = 0; i < c->rb.nzones; i++)
		ev->zones[ev->nzones++] = c->rb.zones[i].name;
	qsort(ev->zones, ev->nzones, sizeof(*ev->zones), str_cmp);
	for (size_t i = 0; i < c->ndefaults; i++)
		none |= !strcmp(c->defaults[i].src, "-") || !strcmp(c->defaults[i].dst, "-");
	for (size_t i = 0; i < c->rb.nfacts && !none; i++)
		none |= unzoned(&c->rb, &c->rb.facts[i].dst);
	if (none)
		ev->zones[ev->nzones++] = "-";
	return 0;
}

static int rank_add(struct ww_ev_rank **v, size_t *n, size_t *cap, const char *a, const char *b,
		    uint64_t packets)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].a, a) && !strcmp((*v)[i].b ? (*v)[i].b : "", b ? b : "")) {
			(*v)[i].packets += packets;
			return 0;
		}
	struct ww_ev_rank r = {a, b, packets};
	return VEC_PUSH(*v, *n, *cap, r);
}

static const struct ww_ev_count *tier_count(const struct ww_ev_count *nft,
					    const struct ww_ev_count *xdp, int tier)
{
	return tier == WW_EV_NFT ? nft : xdp;
}

/* One counter's window packets into a tier's matrix and rankings. */
static int tier_add(struct ww_evidence *ev, struct ww_ev_tier *t, const struct ww_ev_pair *pairs,
		    size_t npairs, const char *src_zone, const char *dst_zone, uint64_t packets,
		    size_t *caps)
{
	struct ww_ev_denied *d = &t->denied;
	size_t ndeny = 0;
	int e = 0;

	for (size_t k = 0; k < npairs; k++) {
		size_t s = zone_index(ev, pairs[k].src), x = zone_index(ev, pairs[k].dst);
		enum ww_ev_kind kind = kind_of(pairs[k].verdict);
		if (s < ev->nzones && x < ev->nzones) {
			struct ww_ev_cell *cell = &t->cells[s * ev->nzones + x];
			if (npairs == 1)
				cell->exact[kind] += packets;
			else
				cell->shared[kind] += packets;
		}
		ndeny += pairs[k].verdict == WW_RB_DENY;
	}
	if (!ndeny || !packets)
		return 0;
	if (ndeny < npairs) {
		d->mixed += packets;
		return 0;
	}
	d->total += packets;
	if (src_zone)
		e = rank_add(&d->src, &d->nsrc, &caps[0], src_zone, NULL, packets);
	else
		d->unattributed_src += packets;
	if (!e && dst_zone)
		e = rank_add(&d->dst, &d->ndst, &caps[1], dst_zone, NULL, packets);
	else if (!e)
		d->unattributed_dst += packets;
	if (!e && npairs == 1)
		e = rank_add(&d->pairs, &d->npairs, &caps[2], pairs[0].src, pairs[0].dst, packets);
	else if (!e)
		d->unattributed_pairs += packets;
	return e;
}

/* Is zone z (an axis of the matrix) in monitor mode? The kernel says so: its default towards
 * other zones only monitors (compile_nft.h). */
static bool zone_monitors(const struct ww_evidence *ev, const char *z)
{
	for (size_t i = 0; i < ev->ndefaults; i++) {
		const struct ww_default_stat *d = ev->defaults[i].st;
		if (d->verdict == WW_RB_MONITOR && !strcmp(d->dst, WW_NFT_OTHER) &&
		    zone_ref(ev, d->src, strlen(d->src)) == z)
			return true;
	}
	return false;
}

/*
 * A default's counter, always per source zone (compile_nft.h): "<zone>/<zone>" is one zone pair;
 * "<zone>/_other" (every other zone) and "<zone>/_monitor" (every zone in monitor mode) cover
 * several, whose packets are then shared as a flow's over several pairs are.
 */
static int default_add(struct ww_evidence *ev, struct ww_ev_tier *tr,
		       const struct ww_default_stat *st, uint64_t packets, size_t *caps)
{
	bool od = !strcmp(st->dst, WW_NFT_OTHER), om = !strcmp(st->dst, WW_NFT_MONITOR);
	const char *src = zone_ref(ev, st->src, strlen(st->src));
	const char *dst = od || om ? NULL : zone_ref(ev, st->dst, strlen(st->dst));
	struct ww_ev_pair *pairs;
	size_t n = 0;
	int e;

	if (!od && !om) {
		struct ww_ev_pair p = {src, dst, st->verdict};
		return tier_add(ev, tr, &p, 1, src, dst, packets, caps);
	}
	pairs = calloc(ev->nzones + 1, sizeof(*pairs));
	if (!pairs)
		return -ENOMEM;
	for (size_t z = 0; z < ev->nzones; z++) {
		const char *o = ev->zones[z];
		if ((o == src && strcmp(o, "-")) || (om && !zone_monitors(ev, o)))
			continue;
		pairs[n++] = (struct ww_ev_pair){src, o, st->verdict};
	}
	/* The destination of "_monitor" is known when one zone is in monitor mode. */
	e = tier_add(ev, tr, pairs, n, src, om && n == 1 ? pairs[0].dst : NULL, packets, caps);
	free(pairs);
	return e;
}

static int build_tiers(struct ww_evidence *ev)
{
	size_t nz = ev->nzones;
	int e = 0;

	ev->tiers[WW_EV_NFT].present = ev->c->live != NULL;
	ev->tiers[WW_EV_XDP].present = ev->c->has_xdp;
	for (int t = 0; t < WW_EV_NTIERS && !e; t++) {
		struct ww_ev_tier *tr = &ev->tiers[t];
		size_t caps[3] = {0, 0, 0};
		if (!tr->present)
			continue;
		tr->cells = calloc(nz ? nz * nz : 1, sizeof(*tr->cells));
		if (!tr->cells)
			return -ENOMEM;
		for (size_t i = 0; i < ev->ndefaults && !e; i++) {
			const struct ww_ev_default *d = &ev->defaults[i];
			const struct ww_ev_count *n = tier_count(&d->nft, &d->xdp, t);
			if (n->present)
				e = default_add(ev, tr, d->st, n->win_packets, caps);
		}
		for (size_t i = 0; i < ev->nflows && !e; i++) {
			const struct ww_ev_flow *f = &ev->flows[i];
			const struct ww_ev_count *n = tier_count(&f->nft, &f->xdp, t);
			if (!n->present)
				continue;
			if (!f->npairs && f->flow && f->flow->action == WW_DENY && n->win_packets) {
				/* Counted, but the kernel says nowhere where: all unattributed. */
				tr->denied.total += n->win_packets;
				tr->denied.unattributed_src += n->win_packets;
				tr->denied.unattributed_dst += n->win_packets;
				tr->denied.unattributed_pairs += n->win_packets;
				continue;
			}
			e = tier_add(ev, tr, f->pairs, f->npairs, f->src_zone, f->dst_zone,
				     n->win_packets, caps);
		}
		if (tr->denied.nsrc)
			qsort(tr->denied.src, tr->denied.nsrc, sizeof(*tr->denied.src), rank_cmp);
		if (tr->denied.ndst)
			qsort(tr->denied.dst, tr->denied.ndst, sizeof(*tr->denied.dst), rank_cmp);
		if (tr->denied.npairs)
			qsort(tr->denied.pairs, tr->denied.npairs, sizeof(*tr->denied.pairs),
			      rank_cmp);
	}
	return e;
}

const struct ww_ev_cell *ww_ev_cell(const struct ww_evidence *ev, int tier, size_t src, size_t dst)
{
	if (tier < 0 || tier >= WW_EV_NTIERS || !ev->tiers[tier].present || src >= ev->nzones ||
	    dst >= ev->nzones)
		return NULL;
	return &ev->tiers[tier].cells[src * ev->nzones + dst];
}

static void add_line(struct strbuf *lines, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_line(struct strbuf *lines, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(lines, fmt, ap);
	va_end(ap);
	sb_add(lines, "\n");
}

/* The active XDP maps as text, one entry a line, in the (sorted) order the kernel read gives. */
static void xdp_digest(struct ww_evidence *ev)
{
	const struct ww_xdp_image *img = &ev->c->xs.img;
	struct strbuf s = {0};
	char pb[WW_PREFIX_STRLEN];

	for (size_t i = 0; i < img->ncls; i++) {
		const struct ww_xdp_cls *x = &img->cls[i];
		add_line(&s, "cls %s zone_ep %u host_ep %u zone_slot %u flags %u",
			 ww_prefix_str(&x->pfx, true, pb), x->val.zone_ep, x->val.host_ep,
			 x->val.zone_slot, x->val.flags);
	}
	for (size_t i = 0; i < img->nrules; i++) {
		const struct ww_xdp_rule *r = &img->rules[i];
		sb_addf(&s, "rule %u", r->key.prefixlen);
		for (int k = 0; k < WW_RULE_DATA; k++)
			sb_addf(&s, "%s%02x", k ? "" : " ", r->key.data[k]);
		add_line(&s, " dlist %u", r->dlist);
	}
	for (size_t i = 0; i < img->ndlists; i++) {
		const struct ww_xlist *l = &img->dlists[i];
		sb_addf(&s, "dlist %zu:", i);
		for (uint32_t k = 0; k < l->n && k < WW_DLIST_MAX; k++)
			sb_addf(&s, " [slot %u order %u rank %u flags %u from %llu until %llu]",
				l->e[k].slot, l->e[k].order, l->e[k].rank, l->e[k].flags,
				(unsigned long long)l->e[k].from_ns,
				(unsigned long long)l->e[k].until_ns);
		sb_add(&s, "\n");
	}
	const struct ww_settings *st = &img->settings;
	add_line(&s,
		 "settings generation %llu between_allow %u within_allow %u log_deny %u "
		 "log_allow %u hook %u log_rate %u",
		 (unsigned long long)st->generation, st->between_allow, st->within_allow,
		 st->log_default_deny, st->log_default_allow, st->hook, st->log_rate);
	sha256_hex(sb_str(&s), s.len, ev->xdp_maps_sha256);
	ev->xdp_ncls = img->ncls;
	ev->xdp_nrules = img->nrules;
	ev->xdp_ndlists = img->ndlists;
	sb_free(&s);
}

static int build_drift(struct ww_evidence *ev)
{
	static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};
	static const char *const ops[] = {"missing", "unexplained", "differs"};
	const struct ww_collect *c = ev->c;
	size_t n = (c->drift_known ? c->drift.n + c->drift.replace : 0) + (c->xdp_same == 0);
	size_t k = 0;

	if (!n)
		return 0;
	ev->drift = calloc(n, sizeof(*ev->drift));
	if (!ev->drift)
		return -ENOMEM;
	for (size_t i = 0; c->drift_known && i < c->drift.n; i++) {
		const struct ww_nft_change *ch = &c->drift.v[i];
		struct strbuf w = {0};
		/* The drift goes from live to expected: an ADD is missing from the kernel. */
		ww_nft_describe(ch->op == WW_ADD ? c->expected : c->live, ch->kind, ch->name, &w);
		ev->drift[k++] =
		    (struct ww_ev_drift){ops[ch->op], kinds[ch->kind], ch->name, sb_steal(&w)};
	}
	if (c->drift_known && c->drift.replace)
		ev->drift[k++] = (struct ww_ev_drift){
		    "differs", "table", WW_NFT_TABLE,
		    strdup("the live table cannot be edited into the applied generation (a "
			   "foreign base chain or a set of another type): apply would replace it "
			   "whole")};
	if (c->xdp_same == 0)
		ev->drift[k++] = (struct ww_ev_drift){
		    "differs", "xdp", "active generation",
		    strdup(c->has_xdp ? "the XDP maps differ from the applied generation"
				      : "the applied generation asks for XDP, and nothing is "
					"pinned")};
	ev->ndrift = k;
	for (size_t i = 0; i < k; i++)
		if (!ev->drift[i].what)
			return -ENOMEM;
	return 0;
}

static void history_of(struct ww_evidence *ev, const char *state_dir)
{
	struct ww_state *st = NULL;
	struct strbuf err = {0};

	ev->history_ok = false;
	if (ww_state_open(state_dir, false, &st, &err)) {
		ev->history_err = sb_steal(&err);
		return;
	}
	if (ww_state_history(st, &ev->history, &ev->nhistory))
		sb_add(&err, "history.jsonl cannot be read");
	else if (!ww_state_verify_history(st, &err))
		ev->history_ok = true;
	if (!ev->history_ok)
		ev->history_err = sb_steal(&err);
	sb_free(&err);
	ww_state_close(st);
}

struct quar_log_window {
	struct ww_evidence *ev;
	size_t cap;
};

/* One line of the quarantine log, kept as written when its time is in the window. */
static int quar_log_line(void *ctx, const char *line, cJSON **j, size_t lineno)
{
	struct quar_log_window *w = ctx;
	const cJSON *tj = *j ? cJSON_GetObjectItemCaseSensitive(*j, "time") : NULL;
	int64_t t = 0;

	if (cJSON_IsString(tj))
		ww_time_parse(tj->valuestring, &t);
	if (t < w->ev->start)
		return 0;
	char *d = strdup(line);
	if (!d || VEC_PUSH(w->ev->quar_log, w->ev->nquar_log, w->cap, d))
		free(d);
	return 0;
}

/* The quarantines, and the quarantine log's lines of the window (since its start). */
static void quarantines_of(struct ww_evidence *ev, const struct ww_ev_opts *o)
{
	struct strbuf err = {0};
	struct quar_log_window w = {.ev = ev};
	char *path = xstrdup_printf("%s/quarantine-log.jsonl", o->state_dir);

	ww_quar_status(o->state_dir, o->bpffs, ev->time, &ev->quar, &ev->nquar, &err);
	sb_free(&err);
	if (path)
		ww_jsonl_each(path, quar_log_line, &w);
	free(path);
}

/* The sha256 of a table as `render` prints it. */
static void table_digest(const struct nfr_table *t, char out[65])
{
	struct strbuf r = {0};

	nfr_table_render(t, &r);
	sha256_hex(sb_str(&r), r.len, out);
	sb_free(&r);
}

/* Each flow's counters in the window, and the zone pairs it serves. */
static int flows_of(struct ww_evidence *ev)
{
	const struct ww_collect *c = ev->c;
	struct fact_index ix = {0};
	char name[256];
	int e = 0;

	if (c->nflows && !(ev->flows = calloc(c->nflows, sizeof(*ev->flows))))
		return -ENOMEM;
	e = fact_index_build(&c->rb, &ix);
	for (size_t i = 0; !e && i < c->nflows; i++) {
		struct ww_ev_flow *f = &ev->flows[ev->nflows++];
		f->st = &c->flows[i];
		f->flow = c->flows[i].flow;
		snprintf(name, sizeof(name), "nft:flow/%s", f->st->id);
		ww_ev_count_window(ev->base, name, &f->st->nft, &f->nft);
		snprintf(name, sizeof(name), "xdp:flow/%s", f->st->id);
		ww_ev_count_window(ev->base, name, &f->st->xdp, &f->xdp);
		e = flow_pairs(ev, &ix, f);
	}
	free(ix.v);
	if (!e && ev->nflows)
		qsort(ev->flows, ev->nflows, sizeof(*ev->flows), flow_cmp);
	return e;
}

/* Each zone pair's default counters in the window. */
static int defaults_of(struct ww_evidence *ev)
{
	const struct ww_collect *c = ev->c;
	char name[256];

	if (c->ndefaults && !(ev->defaults = calloc(c->ndefaults, sizeof(*ev->defaults))))
		return -ENOMEM;
	for (size_t i = 0; i < c->ndefaults; i++) {
		struct ww_ev_default *d = &ev->defaults[ev->ndefaults++];
		d->st = &c->defaults[i];
		snprintf(name, sizeof(name), "nft:default/%s/%s", d->st->src, d->st->dst);
		ww_ev_count_window(ev->base, name, &d->st->nft, &d->nft);
		snprintf(name, sizeof(name), "xdp:default/%s/%s", d->st->src, d->st->dst);
		ww_ev_count_window(ev->base, name, &d->st->xdp, &d->xdp);
	}
	return 0;
}

/* The window starts at the base export, or when the earliest counter started. */
static int64_t window_start(const struct ww_evidence *ev)
{
	const struct ww_collect *c = ev->c;
	int64_t start = 0;

	if (ev->base)
		return ev->base->time;
	for (size_t i = 0; i < c->nflows; i++) {
		int64_t s = c->flows[i].nft.since ? c->flows[i].nft.since : c->flows[i].xdp.since;
		if (s && (!start || s < start))
			start = s;
	}
	for (size_t i = 0; i < c->ndefaults; i++) {
		int64_t s = c->defaults[i].nft.since;
		if (s && (!start || s < start))
			start = s;
	}
	return start;
}

/* The applied policy's invariants, proved again at the time of the export. */
static int invariants_of(struct ww_evidence *ev)
{
	const struct ww_policy *p = ev->c->applied;
	struct ww_diags d = {0};
	int e = 0;

	if (!p || !p->ninvs)
		return 0;
	ev->inv = calloc(p->ninvs, sizeof(*ev->inv));
	if (!ev->inv)
		e = -ENOMEM;
	else if (!(e = ww_analyse(p, ev->time, &d, ev->inv)))
		ev->ninv = p->ninvs;
	ww_diags_free(&d);
	return e;
}

int ww_evidence_build(const struct ww_collect *c, const struct ww_ev_opts *o,
		      struct ww_evidence *ev)
{
	int e;

	memset(ev, 0, sizeof(*ev));
	ev->c = c;
	ev->time = c->time;
	ev->since = o->since;
	ev->version = WW_VERSION;
	if (gethostname(ev->hostname, sizeof(ev->hostname) - 1))
		snprintf(ev->hostname, sizeof(ev->hostname), "unknown");
	uname(&ev->uts);
	ev->seq = o->nchain ? o->chain[o->nchain - 1].seq + 1 : 1;
	if (o->nchain)
		memcpy(ev->prev_sha256, o->chain[o->nchain - 1].manifest_sha256, 65);
	ev->base = ww_ev_base(o->chain, o->nchain, o->since, &ev->basis);
	if (c->applied) {
		ww_policy_hash(c->applied, ev->policy_sha256);
		ev->policy_matches_record = !strcmp(ev->policy_sha256, c->gen.policy_sha256);
	}
	history_of(ev, o->state_dir);
	if (c->live)
		table_digest(c->live, ev->nft_sha256);
	if (c->expected)
		table_digest(c->expected, ev->nft_expected_sha256);
	if (c->has_xdp && c->xs.valid)
		xdp_digest(ev);
	ev->in_sync = ww_collect_in_sync(c);
	e = build_drift(ev);
	if (!e)
		e = zones_of(ev);
	if (!e)
		e = flows_of(ev);
	if (!e)
		e = defaults_of(ev);
	ev->start = window_start(ev);
	quarantines_of(ev, o);
	if (!e)
		e = build_tiers(ev);
	if (!e)
		e = invariants_of(ev);
	if (!e)
		e = ww_ev_monitor_build(ev);
	if (!e)
		e = ww_ev_alerts_build(ev, o->state_dir);
	if (!e)
		e = ww_ev_incidents_build(ev, o->state_dir);
	if (e)
		ww_evidence_free(ev);
	return e;
}

void ww_evidence_free(struct ww_evidence *ev)
{
	if (!ev)
		return;
	ww_quar_status_free(ev->quar, ev->nquar);
	for (size_t i = 0; i < ev->nquar_log; i++)
		free(ev->quar_log[i]);
	free(ev->quar_log);
	free(ev->history);
	free(ev->history_err);
	for (size_t i = 0; i < ev->ndrift; i++)
		free(ev->drift[i].what);
	free(ev->drift);
	for (size_t i = 0; i < ev->nflows; i++)
		free(ev->flows[i].pairs);
	free(ev->flows);
	free(ev->defaults);
	free(ev->zones);
	for (int t = 0; t < WW_EV_NTIERS; t++) {
		free(ev->tiers[t].cells);
		free(ev->tiers[t].denied.src);
		free(ev->tiers[t].denied.dst);
		free(ev->tiers[t].denied.pairs);
	}
	ww_ev_monitor_free(ev);
	free(ev->alerts.by);
	ww_ev_incidents_free(ev);
	if (ev->inv)
		ww_inv_results_free(ev->inv, ev->c && ev->c->applied ? ev->c->applied->ninvs : 0);
	free(ev->inv); /* ww_inv_results_free frees the details only */
	memset(ev, 0, sizeof(*ev));
}

/* ---- snapshots for the chain ---- */

static int snap_push(struct ww_ev_snap **v, size_t *n, size_t *cap, const char *fmt, const char *a,
		     const char *b, const struct ww_ev_count *x)
{
	if (!x->present || (!x->packets && !x->bytes))
		return 0;
	struct ww_ev_snap s = {.packets = x->packets, .bytes = x->bytes, .since = x->since};
	s.name = b ? xstrdup_printf(fmt, a, b) : xstrdup_printf(fmt, a);
	if (!s.name || VEC_PUSH(*v, *n, *cap, s)) {
		free(s.name);
		return -ENOMEM;
	}
	return 0;
}

int ww_evidence_snaps(const struct ww_evidence *ev, struct ww_ev_snap **out, size_t *n)
{
	struct ww_ev_snap *v = NULL;
	size_t k = 0, cap = 0;
	int e = 0;

	for (size_t i = 0; i < ev->nflows && !e; i++) {
		const struct ww_ev_flow *f = &ev->flows[i];
		e = snap_push(&v, &k, &cap, "nft:flow/%s", f->st->id, NULL, &f->nft);
		if (!e)
			e = snap_push(&v, &k, &cap, "xdp:flow/%s", f->st->id, NULL, &f->xdp);
	}
	for (size_t i = 0; i < ev->ndefaults && !e; i++) {
		const struct ww_ev_default *d = &ev->defaults[i];
		e = snap_push(&v, &k, &cap, "nft:default/%s/%s", d->st->src, d->st->dst, &d->nft);
		if (!e)
			e = snap_push(&v, &k, &cap, "xdp:default/%s/%s", d->st->src, d->st->dst,
				      &d->xdp);
	}
	if (e) {
		for (size_t i = 0; i < k; i++)
			free(v[i].name);
		free(v);
		return e;
	}
	*out = v;
	*n = k;
	return 0;
}
