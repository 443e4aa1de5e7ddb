// SPDX-License-Identifier: GPL-2.0-only
#include "terms.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct tv {
	struct ww_term *v;
	size_t n, cap;
	bool oom;
};

static void push(struct tv *t, int proto, unsigned lo, unsigned hi)
{
	struct ww_term x = {.proto = proto, .lo = (uint16_t)lo, .hi = (uint16_t)hi};

	if (VEC_PUSH(t->v, t->n, t->cap, x))
		t->oom = true;
}

static int term_cmp(const void *a, const void *b)
{
	const struct ww_term *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorts and merges overlapping or adjacent ranges of one protocol. */
static void normalize(struct tv *t)
{
	size_t k = 0;

	if (!t->n)
		return;
	qsort(t->v, t->n, sizeof(*t->v), term_cmp);
	for (size_t i = 0; i < t->n; i++) {
		if (k && t->v[k - 1].proto == t->v[i].proto &&
		    (unsigned)t->v[i].lo <= (unsigned)t->v[k - 1].hi + 1) {
			if (t->v[i].hi > t->v[k - 1].hi)
				t->v[k - 1].hi = t->v[i].hi;
			continue;
		}
		t->v[k++] = t->v[i];
	}
	t->n = k;
}

long ww_terms_subtract(const struct ww_term *plus, size_t nplus, const struct ww_term *minus,
		       size_t nminus, struct ww_term **out)
{
	struct tv p = {0}, m = {0}, r = {0};
	bool any_minus = false;

	*out = NULL;
	for (size_t i = 0; i < nminus; i++) {
		if (minus[i].proto == WW_PROTO_ANY)
			any_minus = true;
		else
			push(&m, minus[i].proto, minus[i].lo, minus[i].hi);
	}
	for (size_t i = 0; i < nplus && !any_minus; i++) {
		if (plus[i].proto != WW_PROTO_ANY) {
			push(&p, plus[i].proto, plus[i].lo, plus[i].hi);
		} else if (!m.n) {
			push(&p, WW_PROTO_ANY, 0, 0);
		} else {
			for (int proto = 0; proto < 256; proto++)
				push(&p, proto, 0, ww_proto_key_max(proto));
		}
	}
	normalize(&p);
	normalize(&m);
	/* A lone any term beside others is still everything. */
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i].proto == WW_PROTO_ANY) {
			p.v[0] = p.v[i];
			p.n = 1;
			break;
		}
	for (size_t i = 0; i < p.n && !p.oom && !m.oom; i++) {
		unsigned lo = p.v[i].lo, hi = p.v[i].hi;
		bool gone = false;
		for (size_t j = 0; j < m.n && !gone; j++) {
			if (m.v[j].proto != p.v[i].proto || m.v[j].hi < lo || m.v[j].lo > hi)
				continue;
			if (m.v[j].lo > lo)
				push(&r, p.v[i].proto, lo, m.v[j].lo - 1u);
			if (m.v[j].hi >= hi)
				gone = true;
			else
				lo = m.v[j].hi + 1u;
		}
		if (!gone)
			push(&r, p.v[i].proto, lo, hi);
	}
	free(p.v);
	free(m.v);
	if (p.oom || m.oom || r.oom) {
		free(r.v);
		return -ENOMEM;
	}
	*out = r.v;
	return (long)r.n;
}
