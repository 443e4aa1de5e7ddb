// SPDX-License-Identifier: GPL-2.0-only
/*
 * "gateways": { NAME: { "mode", "interfaces", "zones", "xdp" } }. Each gateway is one enforcement
 * point; the agent of that name enforces the part of the policy that concerns its zones
 * (fleet_part.c). An interface name identifies one link of the site, so two gateways may not
 * claim the same one: both would filter it, or an operator would believe one of them does.
 */
#include "policy_gateways.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy_json.h"
#include "util.h"

struct gctx {
	struct ww_policy *p;
	struct ww_diags *d;
	bool *oom;
};

static char *kp(struct gctx *c, const char *base, const char *key)
{
	char *s = ww_ptr_key(base, key);

	if (!s)
		*c->oom = true;
	return s;
}

static char *ip(struct gctx *c, const char *base, size_t i)
{
	char *s = ww_ptr_idx(base, i);

	if (!s)
		*c->oom = true;
	return s;
}

static bool keyword(struct gctx *c, const cJSON *j, const char *ptr, const char *const *words,
		    size_t n, int *out)
{
	if (!cJSON_IsString(j)) {
		ww_err(c->d, "wrong-type", ptr, "expected a string");
		return false;
	}
	return ww_keyword(c->d, j, ptr, words, n, out);
}

static void push_str(struct gctx *c, char ***v, size_t *n, size_t *cap, const char *s)
{
	char *d = strdup(s);

	if (!d || VEC_PUSH(*v, *n, *cap, d))
		free(d), *c->oom = true;
}

static void parse_ifaces(struct gctx *c, struct ww_gateway *g, const cJSON *j, const char *ptr)
{
	size_t i = 0, cap = 0;

	if (!cJSON_IsArray(j)) {
		ww_err(c->d, "wrong-type", ptr, "expected an array of interface names");
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		char *xp = ip(c, ptr, i);
		bool seen = false;

		if (!cJSON_IsString(x)) {
			ww_err(c->d, "wrong-type", xp, "expected an interface name");
		} else if (!ww_ifname_valid(x->valuestring)) {
			ww_err(c->d, "invalid-interface", xp,
			       "\"%s\" is not a valid interface name (1-15 characters, no '/', ':' or "
			       "spaces)",
			       x->valuestring);
		} else {
			for (size_t k = 0; k < g->nifaces && !seen; k++)
				seen = !strcmp(g->ifaces[k], x->valuestring);
			if (seen)
				ww_err(c->d, "duplicate-interface", xp,
				       "interface \"%s\" is listed twice", x->valuestring);
			else
				push_str(c, &g->ifaces, &g->nifaces, &cap, x->valuestring);
		}
		free(xp);
	}
}

static int zoneptr_cmp(const void *a, const void *b)
{
	return strcmp((*(struct ww_zone *const *)a)->name, (*(struct ww_zone *const *)b)->name);
}

static void parse_zones(struct gctx *c, struct ww_gateway *g, const cJSON *j, const char *ptr)
{
	size_t i = 0, cap = 0;

	if (!cJSON_IsArray(j) || !j->child) {
		ww_err(c->d, cJSON_IsArray(j) ? "empty-list" : "wrong-type", ptr,
		       "expected a non-empty array of the zones this gateway serves");
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		char *xp = ip(c, ptr, i);
		struct ww_zone *z = cJSON_IsString(x) ? ww_zone_find(c->p, x->valuestring) : NULL;
		bool seen = false;

		if (!cJSON_IsString(x)) {
			ww_err(c->d, "wrong-type", xp, "expected a zone name");
		} else if (!z) {
			const char **names = calloc(c->p->nzones + 1, sizeof(*names));
			for (size_t k = 0; names && k < c->p->nzones; k++)
				names[k] = c->p->zones[k].name;
			ww_diag_add(c->d, WW_ERROR, "unknown-zone", xp,
				    names ? suggest(x->valuestring, names, c->p->nzones) : NULL,
				    "unknown zone \"%s\"", x->valuestring);
			free(names);
		} else {
			for (size_t k = 0; k < g->nzones && !seen; k++)
				seen = g->zones[k] == z;
			if (seen)
				ww_err(c->d, "duplicate-entry", xp, "zone \"%s\" is listed twice",
				       z->name);
			else if (VEC_PUSH(g->zones, g->nzones, cap, z))
				*c->oom = true;
		}
		free(xp);
	}
	if (g->nzones > 1)
		qsort(g->zones, g->nzones, sizeof(*g->zones), zoneptr_cmp);
}

/* The "enforcement" settings every gateway's part is given (fleet_part.c). */
static bool is_fleet_setting(const char *key)
{
	return !strcmp(key, "log_group") || !strcmp(key, "log_rate") || !strcmp(key, "mark_bits");
}

static void parse_gateway(struct gctx *c, struct ww_gateway *g, const cJSON *j)
{
	static const char *const known[] = {"mode", "interfaces", "zones", "xdp", "description"};
	static const char *const xdps[] = {"off", "native", "generic"};
	const cJSON *m;
	int v;

	g->mode = WW_GATEWAY;
	g->xdp = WW_XDP_OFF;
	if (!cJSON_IsObject(j)) {
		ww_err(c->d, "wrong-type", g->ptr, "expected a gateway object");
		return;
	}
	for (m = j->child; m; m = m->next) {
		bool found = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(*known) && !found; i++)
			found = !strcmp(m->string, known[i]);
		for (const cJSON *prev = j->child; found && prev != m; prev = prev->next)
			if (!strcmp(prev->string, m->string)) {
				char *mp = kp(c, g->ptr, m->string);
				ww_err(c->d, "duplicate-key", mp, "\"%s\" is given more than once",
				       m->string);
				free(mp);
				break;
			}
		if (!found && is_fleet_setting(m->string)) {
			char *mp = kp(c, g->ptr, m->string);
			ww_err(c->d, "fleet-setting", mp,
			       "\"%s\" is set once for every gateway: move it into \"enforcement\"",
			       m->string);
			free(mp);
		} else if (!found) {
			char *mp = kp(c, g->ptr, m->string);
			ww_diag_add(c->d, WW_ERROR, "unknown-field", mp,
				    suggest(m->string, known, sizeof(known) / sizeof(*known)),
				    "unknown field \"%s\"", m->string);
			free(mp);
		}
	}
	char *mp = kp(c, g->ptr, "mode");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "mode")) && keyword(c, m, mp, ww_hookmode_names, 3, &v))
		g->mode = (enum ww_hookmode)v;
	free(mp);
	mp = kp(c, g->ptr, "xdp");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "xdp")) && keyword(c, m, mp, xdps, 3, &v))
		g->xdp = (enum ww_xdp_mode)v;
	free(mp);
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "description")) && !cJSON_IsString(m)) {
		mp = kp(c, g->ptr, "description");
		ww_err(c->d, "wrong-type", mp, "expected a string");
		free(mp);
	}
	mp = kp(c, g->ptr, "interfaces");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "interfaces")))
		parse_ifaces(c, g, m, mp);
	free(mp);
	mp = kp(c, g->ptr, "zones");
	if ((m = cJSON_GetObjectItemCaseSensitive(j, "zones")))
		parse_zones(c, g, m, mp);
	else
		ww_err(c->d, "missing-field", g->ptr,
		       "missing \"zones\": the zones this gateway serves");
	free(mp);
	if (g->mode == WW_BRIDGE && g->nifaces == 0) {
		mp = kp(c, g->ptr, cJSON_GetObjectItemCaseSensitive(j, "interfaces") ? "interfaces"
										      : "mode");
		ww_err(c->d, "bridge-needs-ports", mp,
		       "bridge mode filters the frames a bridge forwards between the ports named in "
		       "\"interfaces\": list them");
		free(mp);
	}
	if (g->xdp != WW_XDP_OFF && g->nifaces == 0) {
		mp = kp(c, g->ptr, "xdp");
		ww_err(c->d, "xdp-needs-interfaces", mp,
		       "XDP enforcement needs the interfaces to attach to: list them in "
		       "\"interfaces\"");
		free(mp);
	}
}

static int gw_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_gateway *)a)->name, ((const struct ww_gateway *)b)->name);
}

/* Across the section: an interface claimed by one gateway only; every zone served somewhere. */
static void check_fleet(struct gctx *c)
{
	const struct ww_policy *p = c->p;

	for (size_t i = 0; i < p->ngws; i++)
		for (size_t k = 0; k < p->gws[i].nifaces; k++)
			for (size_t j = 0; j < i; j++)
				for (size_t l = 0; l < p->gws[j].nifaces; l++) {
					if (strcmp(p->gws[i].ifaces[k], p->gws[j].ifaces[l]))
						continue;
					char *a = kp(c, p->gws[i].ptr, "interfaces");
					char *xp = ip(c, a, k);
					ww_err(c->d, "duplicate-interface", xp,
					       "interface \"%s\" is already served by gateway "
					       "\"%s\"",
					       p->gws[i].ifaces[k], p->gws[j].name);
					free(xp);
					free(a);
				}
	for (size_t z = 0; z < p->nzones; z++) {
		bool served = false;
		for (size_t i = 0; i < p->ngws && !served; i++)
			for (size_t k = 0; k < p->gws[i].nzones && !served; k++)
				served = p->gws[i].zones[k] == &p->zones[z];
		if (!served)
			ww_err(c->d, "zone-not-served", p->zones[z].ptr,
			       "zone \"%s\" is served by no gateway: add it to the \"zones\" of one "
			       "in \"gateways\"",
			       p->zones[z].name);
	}
}

void ww_gateways_parse(struct ww_policy *p, const cJSON *root, struct ww_diags *d, bool *oom)
{
	static const char *const per_gw[] = {"mode", "interfaces", "xdp"};
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "gateways");
	const cJSON *enf = cJSON_GetObjectItemCaseSensitive(root, "enforcement");
	struct gctx c = {.p = p, .d = d, .oom = oom};
	size_t n = 0, cap = 0;

	if (!j)
		return;
	if (!cJSON_IsObject(j) || !j->child) {
		ww_err(d, cJSON_IsObject(j) ? "empty-list" : "wrong-type", "/gateways",
		       "expected an object of one or more gateways by name");
		return;
	}
	for (size_t i = 0; cJSON_IsObject(enf) && i < sizeof(per_gw) / sizeof(*per_gw); i++)
		if (cJSON_GetObjectItemCaseSensitive(enf, per_gw[i])) {
			char *mp = kp(&c, "/enforcement", per_gw[i]);
			ww_err(d, "per-gateway-setting", mp,
			       "with \"gateways\", \"%s\" is set per gateway: move it into each "
			       "gateway",
			       per_gw[i]);
			free(mp);
		}
	for (const cJSON *m = j->child; m; m = m->next) {
		char *gp = kp(&c, "/gateways", m->string);
		bool dup = false;
		for (const cJSON *prev = j->child; prev != m && !dup; prev = prev->next)
			dup = !strcmp(prev->string, m->string);
		if (dup) {
			ww_err(d, "duplicate-key", gp, "gateway \"%s\" is defined twice", m->string);
		} else if (!ww_name_ok(m->string, WW_NAME_MAX, false)) {
			ww_err(d, "invalid-name", gp,
			       "gateway name \"%s\" is invalid: use 1-%d letters, digits, '-', '_', "
			       "starting with a letter or digit",
			       m->string, WW_NAME_MAX);
		} else {
			struct ww_gateway g = {.name = strdup(m->string), .ptr = gp};
			gp = NULL;
			if (!g.name)
				*oom = true;
			parse_gateway(&c, &g, m);
			if (VEC_PUSH(p->gws, n, cap, g)) {
				*oom = true;
				free(g.name), free(g.ptr), free(g.zones);
				for (size_t k = 0; k < g.nifaces; k++)
					free(g.ifaces[k]);
				free(g.ifaces);
			}
			p->ngws = n;
		}
		free(gp);
	}
	if (n > 1)
		qsort(p->gws, n, sizeof(*p->gws), gw_cmp);
	check_fleet(&c);
}
