// SPDX-License-Identifier: GPL-2.0-only
/* Where and when validity windows end access (window_ends.h). */
#include "window_ends.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "util.h"

/* Does the policy deny, at t, what list l (or, with no entry deciding, the default) covers? */
static bool denies(const struct ww_policy *p, const struct ww_dlist *l, ww_ep_t cs, ww_ep_t cd,
		   int64_t t)
{
	const struct ww_dentry *e = ww_dlist_decide(p, l, t, NULL);
	struct ww_class a, b;
	bool within;

	if (e)
		return e->rank == WW_RANK_DENY;
	a = ww_class_of(p, cs);
	b = ww_class_of(p, cd);
	return ww_default_verdict(p, &a, &b, &within) == WW_V_DENY;
}

static int i64_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

/* The boundaries of the windowed entries of l, sorted, each once. */
static size_t boundaries(const struct ww_policy *p, const struct ww_dlist *l, int64_t *b)
{
	size_t n = 0, k = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct ww_flow *f = &p->flows[l->v[i].flow];
		if (f->has_from)
			b[n++] = f->valid_from;
		if (f->has_until)
			b[n++] = f->valid_until;
	}
	qsort(b, n, sizeof(*b), i64_cmp);
	for (size_t i = 0; i < n; i++)
		if (!k || b[k - 1] != b[i])
			b[k++] = b[i];
	return k;
}

/* The windowed flow of l with a boundary at t (for the report). */
static uint32_t flow_at(const struct ww_policy *p, const struct ww_dlist *l, int64_t t)
{
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_flow *f = &p->flows[l->v[i].flow];
		if ((f->has_from && f->valid_from == t) || (f->has_until && f->valid_until == t))
			return l->v[i].flow;
	}
	return 0;
}

struct ectx {
	const struct ww_policy *p;
	int64_t now;
	struct ww_window_end *v;
	size_t n, cap;
	int64_t *b;
	size_t bcap;
};

/* The regions of one atom at boundary t: a named protocol is one; "any" is one per run of
 * protocol numbers no other atom of the pair names (atoms cover the service space). */
static int push_atom(struct ectx *c, const struct ww_atom *atoms, size_t na, size_t a,
		     struct ww_window_end w)
{
	uint8_t named[256] = {0};

	if (atoms[a].proto != WW_PROTO_ANY) {
		w.plo = w.phi = (uint8_t)atoms[a].proto;
		return VEC_PUSH(c->v, c->n, c->cap, w) ? -ENOMEM : 0;
	}
	for (size_t i = 0; i < na; i++)
		if (atoms[i].proto >= 0 && atoms[i].proto < 256)
			named[atoms[i].proto] = 1;
	w.lo = 0;
	w.hi = 65535;
	for (unsigned int lo = 0; lo < 256;) {
		unsigned int hi = lo;
		if (named[lo]) {
			lo++;
			continue;
		}
		while (hi + 1 < 256 && !named[hi + 1])
			hi++;
		w.plo = (uint8_t)lo;
		w.phi = (uint8_t)hi;
		if (VEC_PUSH(c->v, c->n, c->cap, w))
			return -ENOMEM;
		lo = hi + 1;
	}
	return 0;
}

static int pair(struct ectx *c, struct ww_pairidx *ix, struct ww_dtable *dt, ww_ep_t cs,
		ww_ep_t cd)
{
	const struct ww_policy *p = c->p;
	uint32_t *flows = NULL;
	struct ww_atom *atoms = NULL;
	size_t na = 0;
	long nf = ww_class_pair_flows(p, ix, cs, cd, &flows);
	int e = nf < 0 ? (int)nf : 0;

	if (!e)
		e = ww_atoms_build(p, flows, (size_t)nf, ww_class_of(p, cs).zone,
				   ww_class_of(p, cd).zone, dt, &atoms, &na);
	for (size_t a = 0; !e && a < na; a++) {
		if (atoms[a].dlist == WW_DLIST_NONE)
			continue;
		const struct ww_dlist *l = &dt->v[atoms[a].dlist];
		if (vec_reserve(&c->b, &c->bcap, 2 * l->n + 1, sizeof(*c->b))) {
			e = -ENOMEM;
			break;
		}
		size_t nb = boundaries(p, l, c->b);
		for (size_t i = 0; !e && i < nb; i++) {
			int64_t t = c->b[i], until = 0;
			if (denies(p, l, cs, cd, t - 1) || !denies(p, l, cs, cd, t))
				continue;
			for (size_t j = i + 1; j < nb && !until; j++)
				if (!denies(p, l, cs, cd, c->b[j]))
					until = c->b[j];
			if (until && until <= c->now)
				continue;
			struct ww_window_end w = {.src = cs,
						  .dst = cd,
						  .proto = atoms[a].proto,
						  .lo = atoms[a].lo,
						  .hi = atoms[a].hi,
						  .from = t,
						  .until = until,
						  .flow = flow_at(p, l, t)};
			e = push_atom(c, atoms, na, a, w);
		}
	}
	free(flows);
	free(atoms);
	return e;
}

/* The classes an endpoint list stands for: every non-empty class some endpoint of it matches. */
static size_t classes_of(const struct ww_policy *p, const struct ww_classes *c,
			 const struct ww_eplist *l, ww_ep_t *out)
{
	size_t n = 0, ne = ww_nendpoints(p);

	for (ww_ep_t ep = 1; ep <= ne; ep++) {
		struct ww_class k = ww_class_of(p, ep);
		if (c->nonempty[ep] && (l->all ? k.zone != NULL : ww_eplist_matches(l, &k)))
			out[n++] = ep;
	}
	return n;
}

int ww_window_ends(const struct ww_policy *p, const struct ww_classes *c, int64_t now,
		   struct ww_window_end **out, size_t *n)
{
	struct ectx x = {.p = p, .now = now};
	struct ww_pairidx ix = {0};
	struct ww_dtable dt = {0};
	size_t ne = ww_nendpoints(p) + 1;
	ww_ep_t *from = calloc(ne, sizeof(*from)), *to = calloc(ne, sizeof(*to));
	uint8_t *seen = calloc(ne * ne, 1);
	int e = from && to && seen ? ww_pairidx_build(p, &ix) : -ENOMEM;

	*out = NULL;
	*n = 0;
	for (size_t i = 0; !e && i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (!f->has_from && !f->has_until)
			continue;
		size_t nfrom = classes_of(p, c, &f->from, from), nto = classes_of(p, c, &f->to, to);
		for (size_t a = 0; !e && a < nfrom; a++)
			for (size_t b = 0; !e && b < nto; b++) {
				uint8_t *s = &seen[(size_t)from[a] * ne + to[b]];
				if (*s)
					continue;
				*s = 1;
				e = pair(&x, &ix, &dt, from[a], to[b]);
			}
	}
	free(from);
	free(to);
	free(seen);
	free(x.b);
	ww_pairidx_free(&ix);
	ww_dtable_free(&dt);
	if (e) {
		free(x.v);
		return e;
	}
	*out = x.v;
	*n = x.n;
	return 0;
}
