// SPDX-License-Identifier: GPL-2.0-only
/*
 * Analysis works on the finite decision structures of decision.h, so its answers hold over all
 * addresses, ports and times, not over samples: two addresses of one class, two keys of one
 * atom, two instants of one time slice are decided identically.
 */
#include "analyse.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "probes.h"
#include "timeutil.h"

struct actx {
	const struct ww_policy *p;
	struct ww_diags *d;
	int64_t now;
	struct ww_classes cls;
	struct ww_pairidx ix;
	struct ww_dtable dt;
	bool *decides;   /* [flow] decides some packet at some time */
	uint64_t *seen;  /* visited class pairs, open-addressed set of (cs << 32 | cd) + 1 */
	size_t nseen, seencap;
	size_t *first_in[2]; /* [IPv4, IPv6][ep]: first interval of class ep, or SIZE_MAX */
	bool *mark;          /* [ep] scratch for eplist_classes(), all false between uses */
};

char *ww_key_str(int proto, unsigned int lo, unsigned int hi, char *buf)
{
	char pb[8];
	const char *ps = ww_proto_str(proto, pb);
	unsigned int max = proto == WW_PROTO_ANY ? 0 : ww_proto_key_max(proto);

	if (!max || (lo == 0 && hi == max))
		snprintf(buf, 32, "%s", ps);
	else if (lo == hi)
		snprintf(buf, 32, "%s/%u", ps, lo);
	else
		snprintf(buf, 32, "%s/%u-%u", ps, lo, hi);
	return buf;
}

/* ---- address families ---- */

static int index_families(struct actx *c)
{
	size_t ne = ww_nendpoints(c->p) + 1;

	for (int f = 0; f < 2; f++) {
		c->first_in[f] = malloc(ne * sizeof(*c->first_in[f]));
		if (!c->first_in[f])
			return -ENOMEM;
		for (size_t e = 0; e < ne; e++)
			c->first_in[f][e] = SIZE_MAX;
	}
	for (size_t i = c->cls.niv; i-- > 0;)
		c->first_in[c->cls.iv[i].family == WW_INET6][c->cls.iv[i].cls] = i;
	return 0;
}

/* The family of the packets between classes cs and cd (IPv4 first), or -1: there are none, as
 * when one is IPv4-only and the other IPv6-only. */
static int common_family(const struct actx *c, ww_ep_t cs, ww_ep_t cd)
{
	for (int f = 0; f < 2; f++)
		if (c->first_in[f][cs] != SIZE_MAX && c->first_in[f][cd] != SIZE_MAX)
			return f;
	return -1;
}

/* ---- time slices ---- */

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Start instants of the slices in which a list's decision is constant, from `from` on. */
static size_t slices(const struct ww_policy *p, const struct ww_dlist *l, int64_t from,
		     int64_t *out)
{
	size_t n = 0;

	out[n++] = from;
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_flow *f = &p->flows[l->v[i].flow];
		if (f->has_from && f->valid_from > from)
			out[n++] = f->valid_from;
		if (f->has_until && f->valid_until > from)
			out[n++] = f->valid_until;
	}
	qsort(out, n, sizeof(*out), i64_cmp);
	return n;
}

/* ---- unused, exposure, windows ---- */

/* The first zone (in policy order) that l names and that has property want, or NULL: O(l), or
 * O(zones) for "*". */
static const struct ww_zone *eplist_first_zone(const struct ww_policy *p, const struct ww_eplist *l,
					       bool (*want)(const struct ww_zone *))
{
	const struct ww_zone *best = NULL;

	for (size_t i = 0; l->all && i < p->nzones; i++)
		if (want(&p->zones[i]))
			return &p->zones[i];
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_zone *z = l->v[i].zone;
		if (want(z) && (!best || z < best))
			best = z;
	}
	return best;
}

static bool zone_life_critical(const struct ww_zone *z)
{
	return z->crit == WW_CRIT_LIFE;
}

static bool zone_untrusted(const struct ww_zone *z)
{
	return z->untrusted;
}

/* Linear in zones and endpoints: each flow marks the zones it names. */
static void check_usage(struct actx *c)
{
	const struct ww_policy *p = c->p;
	bool *used = calloc(p->nzones + 1, sizeof(*used)), all = false;

	if (!used)
		return; /* warnings only: nothing to say without memory */
	for (size_t f = 0; f < p->nflows && !all; f++)
		for (int side = 0; side < 2 && !all; side++) {
			const struct ww_eplist *l = side ? &p->flows[f].to : &p->flows[f].from;
			all = l->all;
			for (size_t i = 0; i < l->n; i++)
				used[l->v[i].zone - p->zones] = true;
		}
	for (size_t i = 0; i < p->nzones && !all; i++)
		if (!used[i])
			ww_warn(c->d, "unused-zone", p->zones[i].ptr,
				"no flow uses zone \"%s\": only the defaults apply to it",
				p->zones[i].name);
	free(used);
	for (size_t i = 0; i < p->nsvcs; i++)
		if (!p->svcs[i].builtin && !p->svcs[i].referenced)
			ww_warn(c->d, "unused-service", p->svcs[i].ptr,
				"service \"%s\" is defined but never used", p->svcs[i].name);
}

static void check_flows(struct actx *c)
{
	const struct ww_policy *p = c->p;
	char tb[WW_TIME_STRLEN];

	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (f->has_until && f->valid_until <= c->now)
			ww_warn(c->d, "expired-window", f->ptr,
				"flow \"%s\" expired at %s: it no longer allows or denies anything",
				f->id, ww_time_str(f->valid_until, tb));
		if (f->action == WW_ALLOW && f->mode == WW_MONITOR)
			ww_warn(c->d, "monitor-allow", f->ptr,
				"flow \"%s\": monitor mode has no effect on an allow flow", f->id);
		if (f->action != WW_ALLOW)
			continue;
		/* Life-critical devices must not be reachable from untrusted networks. */
		const struct ww_zone *crit = eplist_first_zone(p, &f->to, zone_life_critical);
		const struct ww_zone *untr =
		    crit ? eplist_first_zone(p, &f->from, zone_untrusted) : NULL;
		if (crit && untr)
			ww_warn(c->d, "critical-exposure", f->ptr,
				"flow \"%s\" allows untrusted zone \"%s\" into life-critical zone "
				"\"%s\"",
				f->id, untr->name, crit->name);
	}
}

/* ---- shadowing ---- */

/* The slot of a class pair key in a table of cap (a power of two) slots. The key's low bits
 * are the destination only: the bits are mixed first (splitmix64's finalizer), else every
 * pair of one destination probes the same run of slots (quadratic at 10,000 zones). */
static size_t seen_slot(uint64_t key, size_t cap)
{
	key ^= key >> 30;
	key *= 0xbf58476d1ce4e5b9ULL;
	key ^= key >> 27;
	key *= 0x94d049bb133111ebULL;
	key ^= key >> 31;
	return (size_t)key & (cap - 1);
}

static bool seen_add(struct actx *c, ww_ep_t cs, ww_ep_t cd, int *err)
{
	uint64_t key = (((uint64_t)cs << 32) | cd) + 1;
	size_t i;

	if ((c->nseen + 1) * 2 > c->seencap) {
		size_t ncap = c->seencap ? c->seencap * 2 : 1024;
		uint64_t *s = calloc(ncap, sizeof(*s));
		if (!s) {
			*err = -ENOMEM;
			return false;
		}
		for (size_t k = 0; k < c->seencap; k++) {
			if (!c->seen[k])
				continue;
			i = seen_slot(c->seen[k], ncap);
			while (s[i])
				i = (i + 1) & (ncap - 1);
			s[i] = c->seen[k];
		}
		free(c->seen);
		c->seen = s;
		c->seencap = ncap;
	}
	i = seen_slot(key, c->seencap);
	while (c->seen[i]) {
		if (c->seen[i] == key)
			return false;
		i = (i + 1) & (c->seencap - 1);
	}
	c->seen[i] = key;
	c->nseen++;
	return true;
}

/* Marks every flow of list l that decides at some instant (over all time). */
static void mark_deciders(struct actx *c, const struct ww_dlist *l, int64_t *tbuf)
{
	size_t ns = slices(c->p, l, INT64_MIN, tbuf);

	for (size_t s = 0; s < ns; s++) {
		const struct ww_dentry *obs, *e = ww_dlist_decide(c->p, l, tbuf[s], &obs);
		if (e)
			c->decides[e->flow] = true;
		if (obs)
			c->decides[obs->flow] = true;
	}
}

struct pairview {
	uint32_t *flows;
	size_t nflows;
	struct ww_atom *atoms;
	size_t natoms;
};

static void pairview_free(struct pairview *v)
{
	free(v->flows);
	free(v->atoms);
	memset(v, 0, sizeof(*v));
}

static int pairview_build(struct actx *c, ww_ep_t cs, ww_ep_t cd, struct pairview *v)
{
	long n = ww_class_pair_flows(c->p, &c->ix, cs, cd, &v->flows);

	if (n < 0)
		return (int)n;
	v->nflows = (size_t)n;
	return ww_atoms_build(c->p, v->flows, v->nflows, ww_class_of(c->p, cs).zone,
			      ww_class_of(c->p, cd).zone, &c->dt, &v->atoms, &v->natoms);
}

static int visit_pair(struct actx *c, ww_ep_t cs, ww_ep_t cd, int64_t **tbuf, size_t *tcap)
{
	struct pairview v = {0};
	int err = 0;

	if (!cs || !cd || !seen_add(c, cs, cd, &err))
		return err;
	err = pairview_build(c, cs, cd, &v);
	for (size_t a = 0; !err && a < v.natoms; a++) {
		if (v.atoms[a].dlist == WW_DLIST_NONE)
			continue;
		const struct ww_dlist *l = &c->dt.v[v.atoms[a].dlist];
		if (vec_reserve(tbuf, tcap, 2 * l->n + 1, sizeof(**tbuf)))
			err = -ENOMEM;
		else
			mark_deciders(c, l, *tbuf);
	}
	pairview_free(&v);
	return err;
}

/* Adds the classes an endpoint stands for (a host, or a zone's own addresses and all its hosts)
 * that are not marked yet. */
static size_t ep_classes(const struct actx *c, ww_ep_t ep, ww_ep_t *out, bool *mark)
{
	const struct ww_policy *p = c->p;
	size_t n = 0;

#define ADD(e)                                                                                     \
	do {                                                                                       \
		if (c->cls.nonempty[e] && !mark[e]) {                                              \
			mark[e] = true;                                                            \
			out[n++] = e;                                                              \
		}                                                                                  \
	} while (0)
	if (ep > p->nzones) {
		ADD(ep);
		return n;
	}
	const struct ww_zone *z = &p->zones[ep - 1];
	ADD(ep);
	for (size_t h = 0; h < z->nhosts; h++)
		ADD(z->hosts[h].ep);
#undef ADD
	return n;
}

/* out has room for every class; returns how many it holds, each once. The marks are cleared
 * again: the scratch array is allocated once, so that no allocation can fail here and make a
 * side look empty (an invariant would then hold vacuously). */
static size_t eplist_classes(const struct actx *c, const struct ww_eplist *l, ww_ep_t *out)
{
	size_t n = 0;

	if (l->all)
		for (size_t z = 0; z < c->p->nzones; z++)
			n += ep_classes(c, c->p->zones[z].ep, out + n, c->mark);
	else
		for (size_t i = 0; i < l->n; i++)
			n += ep_classes(c, l->v[i].host ? l->v[i].host->ep : l->v[i].zone->ep,
					out + n, c->mark);
	for (size_t i = 0; i < n; i++)
		c->mark[out[i]] = false;
	return n;
}

static size_t endpoint_classes(const struct actx *c, ww_ep_t ep, ww_ep_t *out)
{
	size_t n = ep_classes(c, ep, out, c->mark);

	for (size_t i = 0; i < n; i++)
		c->mark[out[i]] = false;
	return n;
}

/* Who decides the traffic of flow fi that it does not: up to 3 flows, for the message. */
static int shadowers(struct actx *c, size_t fi, ww_ep_t *cls_s, size_t ns, ww_ep_t *cls_d,
		     size_t nd, uint32_t *who, size_t *nwho)
{
	const struct ww_flow *f = &c->p->flows[fi];
	int err = 0;

	*nwho = 0;
	for (size_t i = 0; i < ns && !err; i++)
		for (size_t k = 0; k < nd && !err; k++) {
			struct pairview v = {0};
			err = pairview_build(c, cls_s[i], cls_d[k], &v);
			for (size_t a = 0; !err && a < v.natoms; a++) {
				bool matches = false;
				for (size_t s = 0; s < f->nsvcs && !matches; s++)
					matches = ww_service_overlaps_atom(f->svcs[s], &v.atoms[a],
									   v.atoms, v.natoms);
				if (!matches || v.atoms[a].dlist == WW_DLIST_NONE)
					continue;
				const struct ww_dlist *l = &c->dt.v[v.atoms[a].dlist];
				for (size_t e = 0; e < l->n; e++) {
					uint32_t g = l->v[e].flow;
					if (g == fi)
						break;
					bool dup = false;
					for (size_t q = 0; q < *nwho && !dup; q++)
						dup = who[q] == g;
					if (!dup && *nwho < 3 && c->decides[g])
						who[(*nwho)++] = g;
				}
			}
			pairview_free(&v);
		}
	return err;
}

static int check_shadowing(struct actx *c)
{
	const struct ww_policy *p = c->p;
	size_t ne = ww_nendpoints(p) + 1;
	ww_ep_t *cs = malloc(ne * sizeof(*cs)), *cd = malloc(ne * sizeof(*cd));
	int64_t *tbuf = NULL;
	size_t tcap = 0;
	int err = 0;

	if (!cs || !cd) {
		err = -ENOMEM;
		goto out;
	}
	/* First each endpoint pair at its most natural class pair: most flows decide there. */
	for (size_t i = 0; i < c->ix.cap && !err; i++) {
		const struct ww_pairlist *l = &c->ix.v[i];
		if (!l->src)
			continue;
		size_t ns = endpoint_classes(c, l->src, cs), nd = endpoint_classes(c, l->dst, cd);
		if (ns && nd)
			err = visit_pair(c, cs[0], cd[0], &tbuf, &tcap);
	}
	for (size_t fi = 0; fi < p->nflows && !err; fi++) {
		const struct ww_flow *f = &p->flows[fi];
		size_t ns = eplist_classes(c, &f->from, cs), nd = eplist_classes(c, &f->to, cd);
		for (size_t i = 0; i < ns && !c->decides[fi] && !err; i++)
			for (size_t k = 0; k < nd && !c->decides[fi] && !err; k++)
				err = visit_pair(c, cs[i], cd[k], &tbuf, &tcap);
		if (err || c->decides[fi])
			continue;
		if (!ns || !nd) {
			ww_warn(c->d, "empty-flow", f->ptr,
				"flow \"%s\" matches no address: its %s side has none of its own", f->id,
				ns ? "\"to\"" : "\"from\"");
			continue;
		}
		uint32_t who[3];
		size_t nwho;
		err = shadowers(c, fi, cs, ns, cd, nd, who, &nwho);
		if (err)
			break;
		struct strbuf sb = {0};
		bool same = nwho > 0;
		for (size_t q = 0; q < nwho; q++) {
			sb_addf(&sb, "%s\"%s\"", q ? (q + 1 == nwho ? " and " : ", ") : "",
				p->flows[who[q]].id);
			same = same && p->flows[who[q]].action == f->action;
		}
		const char *verb = f->action == WW_ALLOW ? (nwho == 1 ? "allows" : "allow")
							 : (nwho == 1 ? "denies" : "deny");
		if (same)
			ww_warn(c->d, "redundant-flow", f->ptr,
				"flow \"%s\" is redundant: %s already %s all of its traffic", f->id,
				sb_str(&sb), verb);
		else if (nwho)
			ww_warn(c->d, "shadowed-flow", f->ptr,
				"flow \"%s\" never decides anything: %s %s all of its traffic first",
				f->id, sb_str(&sb), nwho == 1 ? "decides" : "decide");
		else
			ww_warn(c->d, "shadowed-flow", f->ptr,
				"flow \"%s\" never decides anything: other flows decide all of its traffic "
				"first",
				f->id);
		if (sb.oom)
			c->d->oom = true; /* the message lost flow names */
		sb_free(&sb);
	}
out:
	free(cs);
	free(cd);
	free(tbuf);
	return err;
}

/* ---- invariants ---- */

static bool excluded(const struct ww_policy *p, const struct ww_eplist *except, ww_ep_t cls)
{
	struct ww_class c = ww_class_of(p, cls);

	return ww_eplist_matches(except, &c);
}

/* Can protocol pr stand for an ANY atom: no atom names it, and the service (if any) covers it? */
static bool unnamed_fits(int pr, const struct ww_service *svc, const struct ww_atom *atoms,
			 size_t n)
{
	struct ww_atom a = {.proto = pr, .lo = 0, .hi = (uint16_t)ww_proto_key_max(pr)};

	for (size_t k = 0; k < n; k++)
		if (atoms[k].proto == pr)
			return false;
	return !svc || ww_service_overlaps_atom(svc, &a, NULL, 0);
}

/* A protocol the atoms do not name, for an example packet of an ANY atom: gre reads better than
 * protocol 0, but only when no atom of its own decides it differently. */
static int unnamed_proto(const struct ww_service *svc, const struct ww_atom *atoms, size_t n)
{
	if (unnamed_fits(47, svc, atoms, n))
		return 47;
	for (int pr = 0; pr < 256; pr++)
		if (unnamed_fits(pr, svc, atoms, n))
			return pr;
	return 47;
}

struct inv_acc {
	size_t violations, monitors;
	uint32_t flows[5];
	size_t nflows;
	bool by_default;
	struct strbuf example, monitor_example;
};

static void note_flow(struct inv_acc *a, const struct ww_dentry *e)
{
	if (!e) {
		a->by_default = true;
		return;
	}
	for (size_t i = 0; i < a->nflows; i++)
		if (a->flows[i] == e->flow)
			return;
	if (a->nflows < 5)
		a->flows[a->nflows++] = e->flow;
}

static void describe(struct actx *c, struct strbuf *sb, ww_ep_t cs, ww_ep_t cd, int fam,
		     const struct ww_atom *at, const struct ww_atom *atoms, size_t natoms,
		     const struct ww_service *svc, int64_t t, bool windowed)
{
	const struct ww_policy *p = c->p;
	char a1[WW_EP_STRLEN], a2[WW_EP_STRLEN], kb[32], x1[WW_PREFIX_STRLEN],
		x2[WW_PREFIX_STRLEN], tb[WW_TIME_STRLEN];
	const struct ww_interval *is = &c->cls.iv[c->first_in[fam][cs]],
				 *id = &c->cls.iv[c->first_in[fam][cd]];
	struct ww_addr as = {.family = is->family, .v = is->lo},
		       ad = {.family = id->family, .v = id->lo};
	unsigned int lo = at->lo, hi = at->hi;
	int proto = at->proto;

	if (proto == WW_PROTO_ANY)
		proto = unnamed_proto(svc, atoms, natoms), lo = 0, hi = ww_proto_key_max(proto);
	/* The whole atom is decided alike, so narrow the example to what the invariant names. */
	for (size_t i = 0; svc && i < svc->nterms; i++) {
		const struct ww_term *x = &svc->terms[i];
		if (x->proto == proto && x->lo <= hi && lo <= x->hi) {
			lo = lo > x->lo ? lo : x->lo;
			hi = hi < x->hi ? hi : x->hi;
			break;
		}
	}
	sb_addf(sb, "%s -> %s %s (e.g. %s -> %s)", ww_ep_name(p, cs, a1), ww_ep_name(p, cd, a2),
		ww_key_str(proto, lo, hi, kb), ww_addr_str(&as, x1), ww_addr_str(&ad, x2));
	if (windowed)
		sb_addf(sb, " at %s", ww_time_str(t, tb));
}

static int prove(struct actx *c, const struct ww_invariant *inv, struct ww_inv_result *res)
{
	const struct ww_policy *p = c->p;
	size_t ne = ww_nendpoints(p) + 1;
	ww_ep_t *cs = malloc(ne * sizeof(*cs)), *cd = malloc(ne * sizeof(*cd));
	int64_t *tbuf = NULL;
	size_t tcap = 0, ns, nd;
	struct inv_acc acc = {0};
	int err = 0;

	if (!cs || !cd) {
		err = -ENOMEM;
		goto out;
	}
	ns = eplist_classes(c, &inv->from, cs);
	nd = eplist_classes(c, &inv->to, cd);
	for (size_t i = 0; i < ns && !err; i++)
		for (size_t k = 0; k < nd && !err; k++) {
			struct pairview v = {0};
			int fam = common_family(c, cs[i], cd[k]);
			if (fam < 0 || excluded(p, &inv->except, cd[k]))
				continue;
			struct ww_class scl = ww_class_of(p, cs[i]), dcl = ww_class_of(p, cd[k]);
			bool within;
			enum ww_verdict_kind dflt = ww_default_verdict(p, &scl, &dcl, &within);
			err = pairview_build(c, cs[i], cd[k], &v);
			for (size_t a = 0; !err && a < v.natoms; a++) {
				const struct ww_atom *at = &v.atoms[a];
				if (inv->svc && !ww_service_overlaps_atom(inv->svc, at, v.atoms, v.natoms))
					continue;
				static const struct ww_dlist empty = {0};
				const struct ww_dlist *l =
					at->dlist == WW_DLIST_NONE ? &empty : &c->dt.v[at->dlist];
				if (vec_reserve(&tbuf, &tcap, 2 * l->n + 1, sizeof(*tbuf))) {
					err = -ENOMEM;
					break;
				}
				size_t nsl = slices(p, l, c->now, tbuf);
				for (size_t s = 0; s < nsl; s++) {
					const struct ww_dentry *obs,
						*e = ww_dlist_decide(p, l, tbuf[s], &obs);
					enum ww_verdict_kind got = !e ? dflt
								   : e->rank == WW_RANK_DENY ? WW_V_DENY
											      : WW_V_ALLOW;
					/* A monitor-mode deny counts as the policy denying. */
					if (got == WW_V_ALLOW && obs)
						got = WW_V_MONITOR, e = obs;
					bool bad = inv->expect == WW_DENY ? got == WW_V_ALLOW
									  : got != WW_V_ALLOW;
					if (bad) {
						if (!acc.violations++)
							describe(c, &acc.example, cs[i], cd[k], fam,
								 at, v.atoms, v.natoms, inv->svc,
								 tbuf[s], nsl > 1);
						note_flow(&acc, e);
					} else if (got == WW_V_MONITOR) {
						if (!acc.monitors++)
							describe(c, &acc.monitor_example, cs[i],
								 cd[k], fam, at, v.atoms, v.natoms,
								 inv->svc, tbuf[s], nsl > 1);
					}
				}
			}
			pairview_free(&v);
		}
	if (err)
		goto out;
	res->violations = acc.violations;
	res->holds = acc.violations == 0;
	res->monitor_only = res->holds && acc.monitors > 0;
	struct strbuf msg = {0};
	if (!res->holds) {
		sb_addf(&msg, "invariant \"%s\" (expect %s) is violated: %s is %s by ", inv->id,
			ww_action_str(inv->expect), sb_str(&acc.example),
			inv->expect == WW_DENY ? "allowed" : "not allowed");
		for (size_t q = 0; q < acc.nflows; q++)
			sb_addf(&msg, "%sflow \"%s\"", q ? ", " : "", p->flows[acc.flows[q]].id);
		if (acc.by_default)
			sb_addf(&msg, "%sthe default", acc.nflows ? " and " : "");
		if (acc.violations > 1)
			sb_addf(&msg, " (%zu cases in all)", acc.violations);
		ww_err(c->d, "invariant-violated", inv->ptr, "%s", sb_str(&msg));
	} else if (res->monitor_only) {
		sb_addf(&msg,
			"invariant \"%s\" holds, but is not enforced yet: %s passes in monitor mode",
			inv->id, sb_str(&acc.monitor_example));
		ww_warn(c->d, "invariant-monitor-only", inv->ptr, "%s", sb_str(&msg));
	}
	/* A truncated message is a lost diagnostic, like one ww_diag_add() could not format. */
	if (msg.oom || acc.example.oom || acc.monitor_example.oom)
		c->d->oom = true;
	res->detail = msg.len ? sb_steal(&msg) : NULL;
	sb_free(&msg);
out:
	sb_free(&acc.example);
	sb_free(&acc.monitor_example);
	free(cs);
	free(cd);
	free(tbuf);
	return err;
}

int ww_analyse(const struct ww_policy *p, int64_t now, struct ww_diags *d,
	       struct ww_inv_result *res)
{
	struct actx c = {.p = p, .d = d, .now = now};
	int err;

	err = ww_classes_build(p, &c.cls);
	if (err)
		return err;
	err = index_families(&c);
	if (err)
		goto out;
	c.mark = calloc(ww_nendpoints(p) + 1, sizeof(*c.mark));
	if (!c.mark) {
		err = -ENOMEM;
		goto out;
	}
	err = ww_pairidx_build(p, &c.ix);
	if (err)
		goto out;
	c.decides = calloc(p->nflows ? p->nflows : 1, sizeof(*c.decides));
	if (!c.decides) {
		err = -ENOMEM;
		goto out;
	}
	check_usage(&c);
	check_flows(&c);
	err = check_shadowing(&c);
	for (size_t i = 0; i < p->ninvs && !err; i++) {
		struct ww_inv_result r = {0};
		err = prove(&c, &p->invs[i], &r);
		if (res)
			res[i] = r;
		else
			free(r.detail);
	}
	if (!err)
		ww_probes_check(p, now, d);
out:
	free(c.decides);
	free(c.seen);
	free(c.first_in[0]);
	free(c.first_in[1]);
	free(c.mark);
	ww_dtable_free(&c.dt);
	ww_pairidx_free(&c.ix);
	ww_classes_free(&c.cls);
	return err;
}

void ww_inv_results_free(struct ww_inv_result *res, size_t n)
{
	for (size_t i = 0; res && i < n; i++)
		free(res[i].detail);
}
