// SPDX-License-Identifier: GPL-2.0-only
/* What the allowed-traffic counters say about a zone's allow flows (learn.h, docs/learn.md). */
#include "learn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect.h"
#include "snapshot.h"

/* Does the endpoint list name zone z: z itself, a host group of z, or "*"? */
static bool names_zone(const struct ww_eplist *l, const struct ww_zone *z)
{
	if (l->all)
		return true;
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].zone == z || (l->v[i].host && l->v[i].host->zone == z))
			return true;
	return false;
}

static int push_allowed(struct ww_learn_counters *out, size_t *cap, const struct ww_flow_usage *u)
{
	struct ww_learn_allowed a = {.state = u->state,
				     .packets = u->packets,
				     .total = u->total,
				     .nft = u->f->nft.packets,
				     .xdp = u->f->xdp.packets,
				     .why = u->why};

	snprintf(a.id, sizeof(a.id), "%s", u->f->id);
	return VEC_PUSH(out->v, out->n, *cap, a) ? -ENOMEM : 0;
}

int ww_learn_counters(const char *state_dir, const char *bpffs, const char *zone, int64_t since,
		      struct ww_learn_counters *out, struct strbuf *err)
{
	struct ww_collect c = {0};
	struct ww_flow_usage *u = NULL;
	size_t cap = 0;
	int e;

	memset(out, 0, sizeof(*out));
	if ((e = ww_collect(state_dir, bpffs, &c, err)))
		return e;
	const struct ww_zone *z = c.applied ? ww_zone_find(c.applied, zone) : NULL;
	if (!z) {
		sb_addf(err, "zone \"%s\" is not in the applied policy", zone);
		e = -ENOENT;
		goto out;
	}
	if (!c.live && !c.has_xdp) {
		sb_add(err, "neither tier holds wardwall's rules here: no counters to read");
		e = -ENOENT;
		goto out;
	}
	if (!(u = calloc(c.nflows + 1, sizeof(*u)))) {
		e = -ENOMEM;
		goto out;
	}
	ww_snapshot_usage(state_dir, &c, since, u, &out->snapshot, err);
	for (size_t i = 0; i < c.nflows && !e; i++) {
		const struct ww_flow *f = c.flows[i].flow;
		if (f && f->action == WW_ALLOW &&
		    (names_zone(&f->from, z) || names_zone(&f->to, z)))
			e = push_allowed(out, &cap, &u[i]);
	}
out:
	if (e)
		ww_learn_counters_free(out);
	free(u);
	ww_collect_free(&c);
	return e;
}

void ww_learn_counters_free(struct ww_learn_counters *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}
