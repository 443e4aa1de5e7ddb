// SPDX-License-Identifier: GPL-2.0-only
#include "decision.h"
#include "util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* flattening                                                                                  */

struct lbl {
	struct ww_prefix pfx;
	ww_ep_t cls;
};

static int lbl_cmp(const void *a, const void *b)
{
	const struct lbl *x = a, *y = b;

	if (x->pfx.a.family != y->pfx.a.family)
		return x->pfx.a.family < y->pfx.a.family ? -1 : 1;
	if (x->pfx.a.v != y->pfx.a.v)
		return x->pfx.a.v < y->pfx.a.v ? -1 : 1;
	return (int)x->pfx.len - (int)y->pfx.len; /* enclosing prefixes first */
}

struct flat {
	struct ww_interval *v;
	size_t n, cap;
	int err;
};

static void emit(struct flat *f, uint8_t family, u128 lo, u128 hi, ww_ep_t cls)
{
	if (f->n && f->v[f->n - 1].family == family && f->v[f->n - 1].cls == cls &&
	    f->v[f->n - 1].hi + 1 == lo) {
		f->v[f->n - 1].hi = hi;
		return;
	}
	struct ww_interval iv = {.family = family, .lo = lo, .hi = hi, .cls = cls};
	if (VEC_PUSH(f->v, f->n, f->cap, iv))
		f->err = -ENOMEM;
}

int ww_flatten(const struct ww_policy *p, struct ww_interval **out, size_t *nout)
{
	struct lbl *v = NULL, **stack = NULL;
	size_t n = 0, cap = 0, sp = 0;
	struct flat f = {0};

	for (size_t i = 0; i < p->nzones; i++) {
		const struct ww_zone *z = &p->zones[i];
		for (size_t k = 0; k < z->nnets; k++)
			if (VEC_PUSH(v, n, cap, ((struct lbl){z->nets[k].pfx, z->ep})))
				goto oom;
		for (size_t h = 0; h < z->nhosts; h++)
			for (size_t k = 0; k < z->hosts[h].nnets; k++)
				if (VEC_PUSH(v, n, cap,
					     ((struct lbl){z->hosts[h].nets[k].pfx, z->hosts[h].ep})))
					goto oom;
	}
	if (n)
		qsort(v, n, sizeof(*v), lbl_cmp);
	stack = malloc((n ? n : 1) * sizeof(*stack));
	if (!stack)
		goto oom;
	/*
	 * Prefixes nest or are disjoint, so a sweep with a stack of enclosing prefixes labels every
	 * address with the innermost one. `cur` is the first address not yet emitted; `done` marks
	 * that the top of the address space was emitted (cur would wrap).
	 */
	u128 cur = 0;
	bool done = false;
	uint8_t fam = 0;
	for (size_t i = 0; i <= n; i++) {
		bool newfam = i == n || v[i].pfx.a.family != fam;
		while (sp > 0 && (newfam || ww_prefix_last(&stack[sp - 1]->pfx) < v[i].pfx.a.v)) {
			struct lbl *top = stack[--sp];
			u128 last = ww_prefix_last(&top->pfx);
			if (!done && cur <= last)
				emit(&f, fam, cur, last, top->cls);
			if (last == (fam == WW_INET ? (u128)UINT32_MAX : ~(u128)0))
				done = true;
			else
				cur = last + 1;
		}
		if (i == n)
			break;
		if (newfam) {
			fam = v[i].pfx.a.family;
			cur = 0;
			done = false;
		}
		if (sp > 0 && cur < v[i].pfx.a.v)
			emit(&f, fam, cur, v[i].pfx.a.v - 1, stack[sp - 1]->cls);
		cur = v[i].pfx.a.v;
		stack[sp++] = &v[i];
	}
	free(stack);
	free(v);
	if (f.err) {
		free(f.v);
		return f.err;
	}
	*out = f.v;
	*nout = f.n;
	return 0;
oom:
	free(stack);
	free(v);
	free(f.v);
	return -ENOMEM;
}

int ww_classes_build(const struct ww_policy *p, struct ww_classes *c)
{
	size_t ne = ww_nendpoints(p) + 1;
	int err;

	memset(c, 0, sizeof(*c));
	err = ww_flatten(p, &c->iv, &c->niv);
	if (err)
		return err;
	c->nonempty = calloc(ne, sizeof(*c->nonempty));
	c->first = calloc(ne, sizeof(*c->first));
	if (!c->nonempty || !c->first) {
		ww_classes_free(c);
		return -ENOMEM;
	}
	for (size_t i = c->niv; i-- > 0;) {
		c->nonempty[c->iv[i].cls] = true;
		c->first[c->iv[i].cls] = i;
	}
	return 0;
}

void ww_classes_free(struct ww_classes *c)
{
	free(c->iv);
	free(c->nonempty);
	free(c->first);
	memset(c, 0, sizeof(*c));
}

struct ww_class ww_class_of(const struct ww_policy *p, ww_ep_t cls)
{
	struct ww_class c = {0};

	if (cls == 0 || cls > ww_nendpoints(p))
		return c;
	if (cls <= p->nzones) {
		c.zone = &p->zones[cls - 1];
	} else {
		c.host = p->host_by_ep[cls - p->nzones - 1];
		c.zone = c.host->zone;
	}
	return c;
}

/* ------------------------------------------------------------------------------------------ */
/* endpoint-pair index                                                                         */

static size_t pair_slot(const struct ww_pairidx *ix, ww_ep_t s, ww_ep_t d)
{
	uint64_t k = ((uint64_t)s << 32) | d;

	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	return (size_t)k & (ix->cap - 1);
}

static struct ww_pairlist *pair_get_or_add(struct ww_pairidx *ix, ww_ep_t s, ww_ep_t d)
{
	size_t i;

	if ((ix->n + 1) * 2 > ix->cap) {
		struct ww_pairidx g = {.cap = ix->cap ? ix->cap * 2 : 64};
		g.v = calloc(g.cap, sizeof(*g.v));
		if (!g.v)
			return NULL;
		for (size_t k = 0; k < ix->cap; k++) {
			if (!ix->v[k].src)
				continue;
			i = pair_slot(&g, ix->v[k].src, ix->v[k].dst);
			while (g.v[i].src)
				i = (i + 1) & (g.cap - 1);
			g.v[i] = ix->v[k];
		}
		g.n = ix->n;
		free(ix->v);
		*ix = g;
	}
	i = pair_slot(ix, s, d);
	while (ix->v[i].src && (ix->v[i].src != s || ix->v[i].dst != d))
		i = (i + 1) & (ix->cap - 1);
	if (!ix->v[i].src) {
		ix->v[i].src = s;
		ix->v[i].dst = d;
		ix->n++;
	}
	return &ix->v[i];
}

const struct ww_pairlist *ww_pairidx_get(const struct ww_pairidx *ix, ww_ep_t s, ww_ep_t d)
{
	size_t i;

	if (!ix->cap)
		return NULL;
	i = pair_slot(ix, s, d);
	while (ix->v[i].src) {
		if (ix->v[i].src == s && ix->v[i].dst == d)
			return &ix->v[i];
		i = (i + 1) & (ix->cap - 1);
	}
	return NULL;
}

static size_t eplist_eps(const struct ww_policy *p, const struct ww_eplist *l, ww_ep_t *out)
{
	if (l->all) {
		for (size_t i = 0; i < p->nzones; i++)
			out[i] = p->zones[i].ep;
		return p->nzones;
	}
	for (size_t i = 0; i < l->n; i++)
		out[i] = l->v[i].host ? l->v[i].host->ep : l->v[i].zone->ep;
	return l->n;
}

int ww_pairidx_build(const struct ww_policy *p, struct ww_pairidx *ix)
{
	size_t maxe = p->nzones;
	ww_ep_t *a, *b;

	memset(ix, 0, sizeof(*ix));
	for (size_t i = 0; i < p->nflows; i++) {
		if (p->flows[i].from.n > maxe)
			maxe = p->flows[i].from.n;
		if (p->flows[i].to.n > maxe)
			maxe = p->flows[i].to.n;
	}
	a = malloc((maxe + 1) * sizeof(*a));
	b = malloc((maxe + 1) * sizeof(*b));
	if (!a || !b)
		goto oom;
	for (size_t i = 0; i < p->nflows; i++) {
		size_t na = eplist_eps(p, &p->flows[i].from, a);
		size_t nb = eplist_eps(p, &p->flows[i].to, b);
		for (size_t x = 0; x < na; x++)
			for (size_t y = 0; y < nb; y++) {
				struct ww_pairlist *l = pair_get_or_add(ix, a[x], b[y]);
				if (!l || VEC_PUSH(l->flows, l->n, l->cap, (uint32_t)i))
					goto oom;
			}
	}
	free(a);
	free(b);
	return 0;
oom:
	free(a);
	free(b);
	ww_pairidx_free(ix);
	return -ENOMEM;
}

void ww_pairidx_free(struct ww_pairidx *ix)
{
	for (size_t i = 0; i < ix->cap; i++)
		free(ix->v[i].flows);
	free(ix->v);
	memset(ix, 0, sizeof(*ix));
}

/* qsort, but by insertion for the few elements sorted for one class pair at a time (a handful
 * of flows and terms), where qsort's setup costs more than the sort. Stable, as glibc's merge
 * sort. */
static void sort_few(void *v, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	char *a = v, tmp[32];

	if (n > 16 || size > sizeof(tmp)) {
		if (n > 1)
			qsort(v, n, size, cmp);
		return;
	}
	for (size_t i = 1; i < n; i++) {
		size_t j = i;
		memcpy(tmp, a + i * size, size);
		for (; j > 0 && cmp(a + (j - 1) * size, tmp) > 0; j--)
			memcpy(a + j * size, a + (j - 1) * size, size);
		memcpy(a + j * size, tmp, size);
	}
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

long ww_class_pair_flows(const struct ww_policy *p, const struct ww_pairidx *ix, ww_ep_t cs,
			 ww_ep_t cd, uint32_t **out)
{
	const struct ww_pairlist *l[4];
	ww_ep_t s[2], d[2];
	size_t ns = 0, nd = 0, nl = 0, total = 0, n = 0;
	uint32_t *v;

	s[ns++] = ww_class_of(p, cs).zone ? ww_class_of(p, cs).zone->ep : 0;
	if (cs > p->nzones)
		s[ns++] = cs;
	d[nd++] = ww_class_of(p, cd).zone ? ww_class_of(p, cd).zone->ep : 0;
	if (cd > p->nzones)
		d[nd++] = cd;
	for (size_t i = 0; i < ns; i++)
		for (size_t k = 0; k < nd; k++)
			if (s[i] && d[k] && (l[nl] = ww_pairidx_get(ix, s[i], d[k])))
				total += l[nl++]->n;
	*out = NULL;
	if (!total)
		return 0;
	v = malloc(total * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < nl; i++) {
		memcpy(v + n, l[i]->flows, l[i]->n * sizeof(*v));
		n += l[i]->n;
	}
	if (nl > 1) {
		sort_few(v, n, sizeof(*v), u32_cmp);
		size_t u = 0;
		for (size_t i = 0; i < n; i++)
			if (!u || v[u - 1] != v[i])
				v[u++] = v[i];
		n = u;
	}
	*out = v;
	return (long)n;
}

/* ------------------------------------------------------------------------------------------ */
/* decision lists                                                                              */

void ww_dtable_free(struct ww_dtable *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].v);
	free(t->v);
	free(t->slots);
	free(t->fp);
	free(t->pt);
	memset(t, 0, sizeof(*t));
}

static bool dlist_eq(const struct ww_dlist *a, const struct ww_dentry *v, size_t n)
{
	if (a->n != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (a->v[i].flow != v[i].flow || a->v[i].rank != v[i].rank)
			return false;
	return true;
}

static int dtable_rehash(struct ww_dtable *t, size_t nslots)
{
	uint32_t *s = calloc(nslots, sizeof(*s));

	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++) {
		size_t k = t->v[i].hash & (nslots - 1);
		while (s[k])
			k = (k + 1) & (nslots - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(t->slots);
	t->slots = s;
	t->nslots = nslots;
	return 0;
}

/* Interns v (copied). Returns the id or -ENOMEM. */
static long dtable_intern(struct ww_dtable *t, const struct ww_dentry *v, size_t n)
{
	uint64_t h = fnv1a64(v, n * sizeof(*v), FNV1A64_INIT);
	size_t k;

	if ((t->n + 1) * 2 > t->nslots && dtable_rehash(t, t->nslots ? t->nslots * 2 : 256))
		return -ENOMEM;
	for (k = h & (t->nslots - 1); t->slots[k]; k = (k + 1) & (t->nslots - 1)) {
		struct ww_dlist *l = &t->v[t->slots[k] - 1];
		if (l->hash == h && dlist_eq(l, v, n))
			return (long)(t->slots[k] - 1);
	}
	struct ww_dlist l = {.n = n, .hash = h};
	l.v = malloc(n * sizeof(*l.v));
	if (!l.v)
		return -ENOMEM;
	memcpy(l.v, v, n * sizeof(*l.v));
	if (VEC_PUSH(t->v, t->n, t->cap, l)) {
		free(l.v);
		return -ENOMEM;
	}
	t->slots[k] = (uint32_t)t->n;
	return (long)(t->n - 1);
}

static int dentry_cmp(const void *a, const void *b)
{
	const struct ww_dentry *x = a, *y = b;

	if (x->rank != y->rank)
		return x->rank < y->rank ? -1 : 1;
	return x->flow < y->flow ? -1 : x->flow > y->flow;
}

static bool windowed(const struct ww_flow *f)
{
	return f->has_from || f->has_until;
}

/* Packs flow f's terms after dt->pt. */
static int pack_flow(const struct ww_flow *f, struct ww_dtable *dt, struct ww_fpack *x)
{
	x->off = (uint32_t)dt->npt;
	for (size_t s = 0; s < f->nsvcs; s++)
		for (size_t k = 0; k < f->svcs[s]->nterms; k++) {
			const struct ww_term *t = &f->svcs[s]->terms[k];
			struct ww_pterm y = {t->proto, t->lo, t->hi};
			if (t->proto == WW_PROTO_ANY)
				x->any = true;
			else if (VEC_PUSH(dt->pt, dt->npt, dt->ptcap, y))
				return -ENOMEM;
		}
	x->n = (uint32_t)dt->npt - x->off;
	x->windowed = windowed(f);
	x->rank = (uint8_t)ww_flow_rank(f, NULL, NULL);
	return 0;
}

/* The flows as ww_atoms_build reads them, all packed on its first call: in policy order, a walk
 * the processor prefetches, where a flow met first in some class pair is a cache miss. */
static int pack_flows(const struct ww_policy *p, struct ww_dtable *dt)
{
	if (dt->fp)
		return 0;
	dt->fp = calloc(p->nflows + 1, sizeof(*dt->fp));
	if (!dt->fp)
		return -ENOMEM;
	for (size_t i = 0; i < p->nflows; i++)
		if (pack_flow(&p->flows[i], dt, &dt->fp[i])) {
			free(dt->fp);
			dt->fp = NULL;
			return -ENOMEM;
		}
	return 0;
}

/* ww_flow_rank of a packed flow between zones zs and zd: a zone in monitor mode at either end
 * makes a deny a monitor. */
static uint8_t pack_rank(const struct ww_fpack *x, const struct ww_zone *zs,
			 const struct ww_zone *zd)
{
	bool zmon = (zs && zs->mode == WW_MONITOR) || (zd && zd->mode == WW_MONITOR);

	return x->rank == WW_RANK_DENY && zmon ? WW_RANK_MONITOR : x->rank;
}

/* Builds and interns the decision list of the flows marked in `on` (packed in dt already);
 * WW_DLIST_NONE if none. */
static long make_dlist(const uint32_t *flows, size_t n, const bool *on, const struct ww_zone *zs,
		       const struct ww_zone *zd, struct ww_dentry *scratch, struct ww_dtable *dt)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (on[i])
			scratch[m++] = (struct ww_dentry){
				.flow = flows[i], .rank = pack_rank(&dt->fp[flows[i]], zs, zd)};
	if (!m)
		return WW_DLIST_NONE;
	sort_few(scratch, m, sizeof(*scratch), dentry_cmp);
	for (size_t i = 0; i < m; i++)
		if (scratch[i].rank != WW_RANK_MONITOR && !dt->fp[scratch[i].flow].windowed) {
			m = i + 1;
			break;
		}
	return dtable_intern(dt, scratch, m);
}

struct tref {
	int proto;
	uint32_t lo, hi;
	uint32_t flow; /* local index */
};

static int tref_cmp(const void *a, const void *b)
{
	const struct tref *x = a, *y = b;

	return x->proto != y->proto ? (x->proto < y->proto ? -1 : 1) : 0;
}

int ww_atoms_build(const struct ww_policy *p, const uint32_t *flows, size_t n,
		   const struct ww_zone *zs, const struct ww_zone *zd, struct ww_dtable *dt,
		   struct ww_atom **out, size_t *nout)
{
	struct tref *t = NULL;
	size_t nt = 0, tcap = 0, na = 0, acap = 0, nb = 0, bcap = 0;
	struct ww_atom *atoms = NULL;
	struct ww_dentry *scratch = NULL;
	bool *any = calloc(n ? n : 1, sizeof(*any)), *on = calloc(n ? n : 1, sizeof(*on));
	uint32_t *bounds = NULL;
	long id;

	scratch = malloc((n ? n : 1) * sizeof(*scratch));
	if (!any || !on || !scratch)
		goto oom;
	if (pack_flows(p, dt))
		goto oom;
	for (size_t i = 0; i < n; i++) {
		const struct ww_fpack *f = &dt->fp[flows[i]];
		any[i] = f->any;
		for (size_t k = f->off; k < f->off + f->n; k++) {
			const struct ww_pterm *x = &dt->pt[k];
			if (VEC_PUSH(t, nt, tcap, ((struct tref){x->proto, x->lo, x->hi, (uint32_t)i})))
				goto oom;
		}
	}
	sort_few(t, nt, sizeof(*t), tref_cmp);
	for (size_t i = 0; i < nt;) {
		size_t j = i;
		int proto = t[i].proto;
		uint32_t max = ww_proto_key_max(proto);
		while (j < nt && t[j].proto == proto)
			j++;
		/* Elementary intervals: every term starts or ends on a boundary. */
		nb = 0;
		if (VEC_PUSH(bounds, nb, bcap, 0u) || VEC_PUSH(bounds, nb, bcap, max + 1))
			goto oom;
		for (size_t k = i; k < j; k++)
			if (VEC_PUSH(bounds, nb, bcap, t[k].lo) ||
			    VEC_PUSH(bounds, nb, bcap, t[k].hi + 1))
				goto oom;
		sort_few(bounds, nb, sizeof(*bounds), u32_cmp);
		size_t u = 0;
		for (size_t k = 0; k < nb; k++)
			if (!u || bounds[u - 1] != bounds[k])
				bounds[u++] = bounds[k];
		for (size_t b = 0; b + 1 < u; b++) {
			uint32_t lo = bounds[b], hi = bounds[b + 1] - 1;
			memcpy(on, any, n * sizeof(*on));
			for (size_t k = i; k < j; k++)
				if (t[k].lo <= lo && hi <= t[k].hi)
					on[t[k].flow] = true;
			id = make_dlist(flows, n, on, zs, zd, scratch, dt);
			if (id < 0 && id != (long)WW_DLIST_NONE)
				goto oom;
			if (na && atoms[na - 1].proto == proto && atoms[na - 1].dlist == (uint32_t)id &&
			    atoms[na - 1].hi + 1u == lo) {
				atoms[na - 1].hi = (uint16_t)hi;
				continue;
			}
			struct ww_atom a = {proto, (uint16_t)lo, (uint16_t)hi, (uint32_t)id};
			if (VEC_PUSH(atoms, na, acap, a))
				goto oom;
		}
		i = j;
	}
	id = make_dlist(flows, n, any, zs, zd, scratch, dt);
	if (id < 0 && id != (long)WW_DLIST_NONE)
		goto oom;
	if (VEC_PUSH(atoms, na, acap, ((struct ww_atom){WW_PROTO_ANY, 0, 0, (uint32_t)id})))
		goto oom;
	free(t);
	free(any);
	free(on);
	free(scratch);
	free(bounds);
	*out = atoms;
	*nout = na;
	return 0;
oom:
	free(t);
	free(any);
	free(on);
	free(scratch);
	free(bounds);
	free(atoms);
	return -ENOMEM;
}

const struct ww_dentry *ww_dlist_decide(const struct ww_policy *p, const struct ww_dlist *l,
					int64_t t, const struct ww_dentry **observer)
{
	if (observer)
		*observer = NULL;
	for (size_t i = 0; i < l->n; i++) {
		if (!ww_flow_active(&p->flows[l->v[i].flow], t))
			continue;
		if (l->v[i].rank != WW_RANK_MONITOR)
			return &l->v[i];
		if (observer && !*observer)
			*observer = &l->v[i];
	}
	return NULL;
}

bool ww_service_overlaps_atom(const struct ww_service *s, const struct ww_atom *a,
			      const struct ww_atom *atoms, size_t natoms)
{
	for (size_t i = 0; i < s->nterms; i++) {
		const struct ww_term *x = &s->terms[i];
		if (x->proto == WW_PROTO_ANY)
			return true;
		if (a->proto != WW_PROTO_ANY) {
			if (x->proto == a->proto && x->lo <= a->hi && a->lo <= x->hi)
				return true;
			continue;
		}
		bool named = false;
		for (size_t k = 0; k < natoms && !named; k++)
			named = atoms[k].proto == x->proto;
		if (!named)
			return true;
	}
	return false;
}
