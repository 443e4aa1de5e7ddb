// SPDX-License-Identifier: GPL-2.0-only
/*
 * Every comparison goes through the canonical printer, so two policies that print the same
 * mean the same: a flow is unchanged when its canonical meaning and the terms of the services it
 * names are unchanged, wherever it stands in the file.
 */
#include "policy_diff.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static int add(struct ww_pdiff *d, const char *kind, enum ww_pd_op op, const char *name,
	       char *detail, bool neutral)
{
	struct ww_pd_item it = {kind, op, strdup(name), detail, neutral};

	if (!it.name || VEC_PUSH(d->v, d->n, d->cap, it)) {
		free(it.name);
		free(detail);
		return -ENOMEM;
	}
	return 0;
}

/* Appends "what" to a comma-separated list. */
static void note(struct strbuf *sb, const char *what)
{
	sb_addf(sb, "%s%s", sb->len ? ", " : "", what);
}

static char *text_of(void (*print)(const void *, struct strbuf *), const void *x)
{
	struct strbuf sb = {0};

	print(x, &sb);
	return sb.oom ? (sb_free(&sb), NULL) : sb_steal(&sb);
}

struct flowctx {
	const struct ww_policy *p;
	const struct ww_flow *f;
};

/* The terms of the services c's flow names: a service redefined under the same name changes
 * what the flow means. Services are taken in name order, as the canonical form lists them. */
static void service_terms(const struct flowctx *c, struct strbuf *out)
{
	struct ww_term *t;
	const struct ww_service *prev = NULL;

	for (size_t done = 0; done < c->f->nsvcs; done++) {
		const struct ww_service *s = NULL;
		for (size_t i = 0; i < c->f->nsvcs; i++) {
			const struct ww_service *x = c->f->svcs[i];
			if ((!prev || strcmp(x->name, prev->name) > 0) &&
			    (!s || strcmp(x->name, s->name) < 0))
				s = x;
		}
		prev = s;
		long n = ww_service_normalize(s, &t);
		if (n < 0) {
			out->oom = true;
			return;
		}
		sb_addf(out, " %s:", s->name);
		for (long k = 0; k < n; k++)
			sb_addf(out, " %d/%u-%u", t[k].proto, t[k].lo, t[k].hi);
		free(t);
	}
}

static void flow_meaning(const void *x, struct strbuf *out)
{
	const struct flowctx *c = x;

	ww_flow_print_canonical(c->p, c->f, true, out);
	service_terms(c, out);
}

static void flow_full(const void *x, struct strbuf *out)
{
	const struct flowctx *c = x;

	ww_flow_print_canonical(c->p, c->f, false, out);
}

/* Everything: the whole canonical flow (a JSON object, so it never runs into what follows)
 * and its services' terms. Equal, neither the meaning nor the rest changed. */
static void flow_all(const void *x, struct strbuf *out)
{
	flow_full(x, out);
	service_terms(x, out);
}

/* Which parts of a flow's meaning differ, by printing each part alone. */
static char *flow_parts(const struct ww_flow *fa, const struct ww_policy *b,
			const struct ww_flow *fb)
{
	struct strbuf sb = {0};
	struct ww_flow x = *fa, y = *fb;
	static const char *const parts[] = {"from", "to", "services", "action", "mode", "valid",
					    "log"};

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		/* Copy every part of the new flow onto the old one except part i: if the result
		 * prints like the new flow, part i is the difference. */
		struct ww_flow m = y;
		switch (i) {
		case 0:
			m.from = x.from;
			break;
		case 1:
			m.to = x.to;
			break;
		case 2:
			m.svcs = x.svcs, m.nsvcs = x.nsvcs;
			break;
		case 3:
			m.action = x.action;
			break;
		case 4:
			m.mode = x.mode;
			break;
		case 5:
			m.has_from = x.has_from, m.valid_from = x.valid_from;
			m.has_until = x.has_until, m.valid_until = x.valid_until;
			break;
		case 6:
			m.log = x.log;
			break;
		}
		/* Endpoints and services print by name, so either policy can print them. */
		struct flowctx cm = {b, &m}, cy = {b, &y};
		char *tm = text_of(flow_meaning, &cm), *ty = text_of(flow_meaning, &cy);
		if (tm && ty && strcmp(tm, ty))
			note(&sb, parts[i]);
		free(tm);
		free(ty);
	}
	if (!sb.len)
		note(&sb, "service terms");
	return sb.oom ? (sb_free(&sb), NULL) : sb_steal(&sb);
}

/* A flow that prints differently: a change of meaning (which parts), else of its description,
 * owner, ticket or controls. */
static int flow_changed(struct ww_pdiff *d, const struct flowctx *ca, const struct flowctx *cb)
{
	char *ma = text_of(flow_meaning, ca), *mb = text_of(flow_meaning, cb);
	int err = 0;

	if (!ma || !mb)
		err = -ENOMEM;
	else if (strcmp(ma, mb))
		err = add(d, "flow", WW_PD_CHANGED, cb->f->id, flow_parts(ca->f, cb->p, cb->f),
			  false);
	else
		err = add(d, "flow", WW_PD_CHANGED, cb->f->id,
			  strdup("description, owner, ticket or controls"), true);
	free(ma), free(mb);
	return err;
}

static int diff_flows(const struct ww_policy *a, const struct ww_policy *b, struct ww_pdiff *d)
{
	int err = 0;

	for (size_t i = 0; i < b->nflows && !err; i++) {
		const struct ww_flow *fb = &b->flows[i];
		const struct ww_flow *fa = a ? ww_flow_find(a, fb->id) : NULL;
		if (!fa) {
			err = add(d, "flow", WW_PD_ADDED, fb->id, NULL, false);
			continue;
		}
		struct flowctx ca = {a, fa}, cb = {b, fb};
		char *aa = text_of(flow_all, &ca), *ab = text_of(flow_all, &cb);
		if (!aa || !ab)
			err = -ENOMEM;
		else if (strcmp(aa, ab)) /* what changed, then (unchanged flows print once) */
			err = flow_changed(d, &ca, &cb);
		free(aa), free(ab);
	}
	for (size_t i = 0; a && i < a->nflows && !err; i++)
		if (!ww_flow_find(b, a->flows[i].id))
			err = add(d, "flow", WW_PD_REMOVED, a->flows[i].id, NULL, false);
	return err;
}

static bool has_net(const struct ww_net *v, size_t n, const struct ww_prefix *p)
{
	for (size_t i = 0; i < n; i++)
		if (!ww_prefix_cmp(&v[i].pfx, p))
			return true;
	return false;
}

static void nets_delta(const struct ww_net *a, size_t na, const struct ww_net *b, size_t nb,
		       const char *who, struct strbuf *sb)
{
	char buf[WW_PREFIX_STRLEN];

	for (size_t i = 0; i < nb; i++)
		if (!has_net(a, na, &b[i].pfx)) {
			struct strbuf x = {0};
			sb_addf(&x, "%s+%s", who, ww_prefix_str(&b[i].pfx, true, buf));
			note(sb, sb_str(&x));
			sb_free(&x);
		}
	for (size_t i = 0; i < na; i++)
		if (!has_net(b, nb, &a[i].pfx)) {
			struct strbuf x = {0};
			sb_addf(&x, "%s-%s", who, ww_prefix_str(&a[i].pfx, true, buf));
			note(sb, sb_str(&x));
			sb_free(&x);
		}
}

static int diff_zones(const struct ww_policy *a, const struct ww_policy *b, struct ww_pdiff *d)
{
	int err = 0;

	for (size_t i = 0; i < b->nzones && !err; i++) {
		const struct ww_zone *zb = &b->zones[i], *za = a ? ww_zone_find(a, zb->name) : NULL;
		struct strbuf sb = {0};
		if (!za) {
			err = add(d, "zone", WW_PD_ADDED, zb->name, NULL, false);
			continue;
		}
		nets_delta(za->nets, za->nnets, zb->nets, zb->nnets, "", &sb);
		for (size_t h = 0; h < zb->nhosts; h++) {
			const struct ww_host *hb = &zb->hosts[h], *ha = ww_host_find(za, hb->name);
			char who[WW_NAME_MAX + 3];
			snprintf(who, sizeof(who), "%s ", hb->name);
			if (!ha) {
				struct strbuf x = {0};
				sb_addf(&x, "host %s added", hb->name);
				note(&sb, sb_str(&x));
				sb_free(&x);
			} else {
				nets_delta(ha->nets, ha->nnets, hb->nets, hb->nnets, who, &sb);
			}
		}
		for (size_t h = 0; h < za->nhosts; h++)
			if (!ww_host_find(zb, za->hosts[h].name)) {
				struct strbuf x = {0};
				sb_addf(&x, "host %s removed", za->hosts[h].name);
				note(&sb, sb_str(&x));
				sb_free(&x);
			}
		if (za->mode != zb->mode)
			note(&sb, zb->mode == WW_MONITOR ? "now in monitor mode" : "now enforced");
		bool neutral = !sb.len;
		if (za->crit != zb->crit || za->untrusted != zb->untrusted ||
		    (za->description ? 1 : 0) != (zb->description ? 1 : 0) ||
		    (za->description && strcmp(za->description, zb->description)))
			note(&sb, "description, criticality or trust");
		if (sb.len)
			err = add(d, "zone", WW_PD_CHANGED, zb->name, sb_steal(&sb), neutral);
		sb_free(&sb);
	}
	for (size_t i = 0; a && i < a->nzones && !err; i++)
		if (!ww_zone_find(b, a->zones[i].name))
			err = add(d, "zone", WW_PD_REMOVED, a->zones[i].name, NULL, false);
	return err;
}

static int diff_settings(const struct ww_policy *a, const struct ww_policy *b, struct ww_pdiff *d)
{
	struct strbuf sb = {0};
	int err = 0;

	if (!a)
		return 0;
	if (a->defaults.between_zones != b->defaults.between_zones)
		note(&sb, "between_zones");
	if (a->defaults.within_zone != b->defaults.within_zone)
		note(&sb, "within_zone");
	if (a->defaults.log != b->defaults.log)
		note(&sb, "log");
	if (sb.len)
		err = add(d, "defaults", WW_PD_CHANGED, "defaults", sb_steal(&sb), false);
	sb_reset(&sb);
	bool ifaces = a->enf.nifaces != b->enf.nifaces;
	for (size_t i = 0; i < a->enf.nifaces && !ifaces; i++)
		ifaces = strcmp(a->enf.ifaces[i], b->enf.ifaces[i]);
	if (a->enf.mode != b->enf.mode)
		note(&sb, "mode");
	if (ifaces)
		note(&sb, "interfaces");
	if (a->enf.xdp != b->enf.xdp)
		note(&sb, "xdp");
	if (a->enf.log_group != b->enf.log_group)
		note(&sb, "log_group");
	if (a->enf.log_rate != b->enf.log_rate)
		note(&sb, "log_rate");
	if (a->enf.mark_mask != b->enf.mark_mask)
		note(&sb, "mark_bits");
	if (!err && sb.len)
		err = add(d, "enforcement", WW_PD_CHANGED, "enforcement", sb_steal(&sb), false);
	sb_free(&sb);
	return err;
}

int ww_policy_diff(const struct ww_policy *old, const struct ww_policy *new, struct ww_pdiff *d)
{
	int err;

	memset(d, 0, sizeof(*d));
	err = diff_zones(old, new, d);
	if (!err)
		err = diff_flows(old, new, d);
	if (!err)
		err = diff_settings(old, new, d);
	if (err)
		ww_pdiff_free(d);
	return err;
}

void ww_pdiff_free(struct ww_pdiff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].name);
		free(d->v[i].detail);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

const char *ww_pd_op_str(enum ww_pd_op op)
{
	static const char *const s[] = {"added", "removed", "changed"};
	return s[op];
}
