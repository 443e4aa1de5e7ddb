// SPDX-License-Identifier: GPL-2.0-only
/*
 * A gateway's part is cut from the policy's own JSON rather than printed from the model, so that
 * it is an ordinary policy the parser reads with the same diagnostics; the model only says which
 * flows concern the gateway (flows keep their input position in f->index).
 */
#include "fleet.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classmark.h"
#include "eval.h"

static bool serves_zone(const struct ww_gateway *g, const struct ww_zone *z)
{
	for (size_t k = 0; z && k < g->nzones; k++)
		if (g->zones[k] == z)
			return true;
	return false;
}

static bool serves(const struct ww_gateway *g, const struct ww_eplist *l)
{
	if (l->all)
		return true;
	for (size_t i = 0; i < l->n; i++)
		for (size_t k = 0; k < g->nzones; k++)
			if (l->v[i].zone == g->zones[k])
				return true;
	return false;
}

int ww_fleet_part(const struct ww_policy *p, const char *text, size_t len, const char *gw,
		  char **out, struct strbuf *err)
{
	const char *const *hookmodes = ww_hookmode_names;
	static const char *const xdps[] = {"off", "native", "generic"};
	const struct ww_gateway *g = ww_gateway_find(p, gw);
	cJSON *root, *enf, *flows, *ifs;
	char ms[WW_MARK_STRLEN];
	bool *keep = NULL;
	int ret = -ENOMEM;

	if (!g) {
		sb_addf(err, "the policy has no gateway \"%s\"%s", gw,
			p->ngws ? "" : " (it has no \"gateways\" section)");
		return -ENOENT;
	}
	root = cJSON_ParseWithLength(text, len);
	if (!root) {
		sb_add(err, "the policy text does not parse");
		return -EINVAL;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(root, "gateways");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "invariants");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "$schema");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "enforcement");
	enf = cJSON_AddObjectToObject(root, "enforcement");
	ifs = enf ? cJSON_AddArrayToObject(enf, "interfaces") : NULL;
	if (!ifs || !cJSON_AddStringToObject(enf, "mode", hookmodes[g->mode]) ||
	    !cJSON_AddStringToObject(enf, "xdp", xdps[g->xdp]) ||
	    !cJSON_AddNumberToObject(enf, "log_group", p->enf.log_group) ||
	    !cJSON_AddNumberToObject(enf, "log_rate", p->enf.log_rate))
		goto out;
	/* Every part writes classes into the same mark bits, and its restore fails the way the
	 * policy says; both written only when not the default, as in the canonical form. */
	if (p->enf.mark_mask != WW_MARK_DEFAULT &&
	    !cJSON_AddStringToObject(enf, "mark_bits", ww_mark_str(p->enf.mark_mask, ms)))
		goto out;
	if (p->enf.on_failure == WW_FAIL_OPEN &&
	    !cJSON_AddStringToObject(enf, "on_failure", "open"))
		goto out;
	for (size_t i = 0; i < g->nifaces; i++) {
		cJSON *s = cJSON_CreateString(g->ifaces[i]);
		if (!s || !cJSON_AddItemToArray(ifs, s)) {
			cJSON_Delete(s);
			goto out;
		}
	}
	flows = cJSON_GetObjectItemCaseSensitive(root, "flows");
	if (cJSON_IsArray(flows)) {
		int n = cJSON_GetArraySize(flows);
		keep = calloc((size_t)n + 1, sizeof(*keep));
		if (!keep)
			goto out;
		for (size_t i = 0; i < p->nflows; i++) {
			const struct ww_flow *f = &p->flows[i];
			if (f->index < (size_t)n)
				keep[f->index] = serves(g, &f->from) || serves(g, &f->to);
		}
		for (int i = n - 1; i >= 0; i--)
			if (!keep[i])
				cJSON_DeleteItemFromArray(flows, i);
	}
	/* The probes from or to a zone it serves: the connections its own apply must not break
	 * (each is allowed by a flow the part keeps; the others' probes belong to their gateway). */
	cJSON *probes = cJSON_GetObjectItemCaseSensitive(root, "probes");
	if (cJSON_IsArray(probes) && (size_t)cJSON_GetArraySize(probes) == p->nprobes) {
		for (size_t i = p->nprobes; i-- > 0;) {
			struct ww_class from, to;
			ww_classify(p, &p->probes[i].from, &from);
			ww_classify(p, &p->probes[i].to, &to);
			if (!serves_zone(g, from.zone) && !serves_zone(g, to.zone))
				cJSON_DeleteItemFromArray(probes, (int)i);
		}
	}
	*out = cJSON_Print(root);
	ret = *out ? 0 : -ENOMEM;
out:
	free(keep);
	cJSON_Delete(root);
	return ret;
}
