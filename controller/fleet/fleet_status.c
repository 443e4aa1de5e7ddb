// SPDX-License-Identifier: GPL-2.0-only
#include "fleet_status.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "etcd.h"
#include "evidence.h"
#include "policy.h"
#include "timeutil.h"

static char *sdup(const cJSON *o, const char *k)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, k));
	return s ? strdup(s) : NULL;
}

static struct ww_fleet_gw *gw_get(struct ww_fleet_view *v, const char *name, size_t *cap)
{
	for (size_t i = 0; i < v->ngws; i++)
		if (!strcmp(v->gws[i].name, name))
			return &v->gws[i];
	struct ww_fleet_gw g = {.name = strdup(name)};
	if (!g.name || VEC_PUSH(v->gws, v->ngws, *cap, g)) {
		free(g.name);
		return NULL;
	}
	return &v->gws[v->ngws - 1];
}

static int gw_cmp(const void *a, const void *b)
{
	return strcmp(((const struct ww_fleet_gw *)a)->name, ((const struct ww_fleet_gw *)b)->name);
}

static void read_record(struct ww_fleet_view *v, const struct ww_etcd_kv *kv, const uint8_t *pk,
			size_t *cap)
{
	free(v->record);
	v->record = malloc(kv->vlen + 1);
	if (v->record) {
		memcpy(v->record, kv->value, kv->vlen + 1);
		v->record_len = kv->vlen;
	}
	cJSON *rec = cJSON_ParseWithLength(kv->value, kv->vlen);
	cJSON *pl = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "payload"))
					? cJSON_GetStringValue(cJSON_GetObjectItem(rec, "payload"))
					: "null");
	const char *sig = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "signature"));
	const char *text = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "policy"));
	const char *sha = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "policy_sha256"));
	const char *when = cJSON_GetStringValue(cJSON_GetObjectItem(pl, "published"));

	v->generation = (unsigned long)cJSON_GetNumberValue(cJSON_GetObjectItem(pl, "generation"));
	if (v->generation > (1UL << 52))
		v->generation = 0; /* NaN or nonsense */
	if (sha && strlen(sha) == 64)
		memcpy(v->policy_sha256, sha, 65);
	if (when)
		ww_time_parse(when, &v->published);
	if (pk) {
		const char *p = cJSON_GetStringValue(cJSON_GetObjectItem(rec, "payload"));
		v->verified = true;
		v->signature_ok = p && sig && !ww_ev_verify_sig(pk, p, strlen(p), sig);
	}
	/* the gateways the policy names are the ones expected to report */
	struct ww_diags d = {0};
	struct ww_policy *pol = NULL;
	if (text && !ww_policy_parse("published", text, strlen(text), &d, &pol)) {
		v->policy_name = strdup(pol->name);
		for (size_t i = 0; i < pol->ngws; i++) {
			struct ww_fleet_gw *g = gw_get(v, pol->gws[i].name, cap);
			if (g)
				g->expected = true;
		}
	}
	ww_policy_free(pol);
	ww_diags_free(&d);
	cJSON_Delete(pl);
	cJSON_Delete(rec);
}

int ww_fleet_view_read(const struct ww_fleet_conn *c, const char *pub, int64_t now,
		       struct ww_fleet_view *v, struct strbuf *err)
{
	struct ww_etcd *e = NULL;
	uint8_t pk[WW_EV_PK_BYTES];
	int ret;

	memset(v, 0, sizeof(*v));
	if ((pub && (ret = ww_ev_pub_load(pub, pk, err))) || (ret = ww_fleet_connect(c, &e, err)))
		return ret;
	ret = ww_fleet_view_fetch(c, e, pub ? pk : NULL, now, v, err);
	ww_etcd_close(e);
	return ret;
}

int ww_fleet_view_fetch(const struct ww_fleet_conn *c, struct ww_etcd *e, const uint8_t *pk,
			int64_t now, struct ww_fleet_view *v, struct strbuf *err)
{
	struct ww_etcd_range r = {0};
	char *kpol = ww_fleet_key(c, "policy"), *kst = ww_fleet_key(c, "status/");
	char *kfrom = ww_fleet_key(c, "generation"), *kend = ww_fleet_key(c, "status0");
	size_t cap = 0;
	int ret = -ENOMEM;
	struct timespec ts;

	memset(v, 0, sizeof(*v));
	if (!kpol || !kst || !kfrom || !kend)
		goto out;
	/* the records and statuses, not the evidence bundles (KEY/evidence/ sorts before) */
	if ((ret = ww_etcd_get_range(e, kfrom, kend, &r, err)))
		goto out;
	v->key = strdup(kpol);
	v->revision = r.revision;
	for (size_t i = 0; i < r.n; i++)
		if (!strcmp(r.kvs[i].key, kpol))
			read_record(v, &r.kvs[i], pk, &cap);
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	for (size_t i = 0; i < r.n; i++) {
		if (strncmp(r.kvs[i].key, kst, strlen(kst)))
			continue;
		cJSON *s = cJSON_ParseWithLength(r.kvs[i].value, r.kvs[i].vlen);
		struct ww_fleet_gw *g = s ? gw_get(v, r.kvs[i].key + strlen(kst), &cap) : NULL;
		if (g) {
			g->reported = true;
			g->generation = (unsigned long)cJSON_GetNumberValue(
				cJSON_GetObjectItem(s, "generation"));
			g->refused_generation = (unsigned long)cJSON_GetNumberValue(
				cJSON_GetObjectItem(s, "refused_generation"));
			g->state = sdup(s, "state");
			g->health = sdup(s, "health");
			g->last_error = sdup(s, "last_error");
			g->evidence_error = sdup(s, "evidence_error");
			g->policy_sha256 = sdup(s, "policy_sha256");
			g->part_sha256 = sdup(s, "part_sha256");
			g->drift = cJSON_IsTrue(cJSON_GetObjectItem(s, "drift"));
			g->apply_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "apply_ms"));
			g->enforced_at_ms = (int64_t)cJSON_GetNumberValue(
				cJSON_GetObjectItem(s, "enforced_at_ms"));
			g->prepare_ms = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "prepare_ms"));
			double es = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "evidence_seq"));
			g->evidence_seq = es == es && es > 0 ? (unsigned long)es : 0;
			double po = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "probes_ok"));
			g->probes_ok = po == po && po > 0 ? (unsigned long)po : 0;
			g->seen_at_ms = (int64_t)cJSON_GetNumberValue(
				cJSON_GetObjectItem(s, "seen_at_ms"));
			if (g->prepare_ms != g->prepare_ms)
				g->prepare_ms = 0; /* an older agent: absent */
			double upd = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "updated_ms"));
			g->age_s = upd == upd ? (double)(ms - (int64_t)upd) / 1000.0 : -1;
		}
		cJSON_Delete(s);
	}
	/* a policy without gateways: whoever reports is a gateway */
	bool any_expected = false;
	for (size_t i = 0; i < v->ngws; i++)
		any_expected |= v->gws[i].expected;
	v->converged = v->generation > 0 && (!v->verified || v->signature_ok);
	for (size_t i = 0; i < v->ngws; i++) {
		struct ww_fleet_gw *g = &v->gws[i];
		if (!any_expected)
			g->expected = true;
		g->converged = g->reported && g->generation == v->generation && g->state &&
			       !strcmp(g->state, "converged") && !g->drift &&
			       (!g->policy_sha256 || !strcmp(g->policy_sha256, v->policy_sha256));
		v->nconverged += g->converged;
		if (g->expected && !g->converged)
			v->converged = false;
	}
	if (v->ngws > 1)
		qsort(v->gws, v->ngws, sizeof(*v->gws), gw_cmp);
	(void)now;
	ret = 0;
out:
	ww_etcd_range_free(&r);
	free(kpol);
	free(kst);
	free(kfrom);
	free(kend);
	return ret;
}

void ww_fleet_view_print(const struct ww_fleet_view *v, bool json, struct strbuf *out)
{
	char when[WW_TIME_STRLEN];

	if (json) {
		sb_add(out, "{\"key\": ");
		sb_add_json_str(out, v->key ? v->key : "");
		sb_addf(out, ", \"revision\": %lld, \"generation\": %lu, \"policy_sha256\": \"%s\", "
			     "\"policy\": ",
			(long long)v->revision, v->generation, v->policy_sha256);
		if (v->policy_name)
			sb_add_json_str(out, v->policy_name);
		else
			sb_add(out, "null");
		sb_addf(out, ", \"published\": %s%s%s, \"signature\": \"%s\", \"converged\": %s, "
			     "\"gateways_converged\": %zu, \"gateways\": [",
			v->published ? "\"" : "", v->published ? ww_time_str(v->published, when) : "null",
			v->published ? "\"" : "",
			!v->verified ? "not-checked" : v->signature_ok ? "valid" : "INVALID",
			v->converged ? "true" : "false", v->nconverged);
		for (size_t i = 0; i < v->ngws; i++) {
			const struct ww_fleet_gw *g = &v->gws[i];
			sb_add(out, i ? ", {\"name\": " : "{\"name\": ");
			sb_add_json_str(out, g->name);
			sb_addf(out, ", \"expected\": %s, \"reported\": %s, \"generation\": %lu, "
				     "\"converged\": %s, \"state\": ",
				g->expected ? "true" : "false", g->reported ? "true" : "false",
				g->generation, g->converged ? "true" : "false");
			sb_add_json_str(out, g->state ? g->state : "missing");
			sb_addf(out, ", \"health\": ");
			sb_add_json_str(out, g->health ? g->health : "unknown");
			sb_addf(out, ", \"drift\": %s, \"refused_generation\": %lu, \"age_s\": %.1f, "
				     "\"probes_ok\": %lu, \"evidence_seq\": %lu, \"seen_at_ms\": %lld, \"prepare_ms\": %.1f, "
				     "\"apply_ms\": %.1f, \"enforced_at_ms\": %lld, \"last_error\": ",
				g->drift ? "true" : "false", g->refused_generation,
				g->reported ? g->age_s : -1.0, g->probes_ok, g->evidence_seq, (long long)g->seen_at_ms,
				g->prepare_ms,
				g->apply_ms, (long long)g->enforced_at_ms);
			if (g->last_error)
				sb_add_json_str(out, g->last_error);
			else
				sb_add(out, "null");
			sb_add(out, ", \"evidence_error\": ");
			if (g->evidence_error)
				sb_add_json_str(out, g->evidence_error);
			else
				sb_add(out, "null");
			sb_add(out, "}");
		}
		sb_add(out, "]}\n");
		return;
	}
	if (!v->generation) {
		sb_addf(out, "nothing published at %s\n", v->key ? v->key : "?");
	} else {
		sb_addf(out, "%s: generation %lu of %s (sha256 %.12s), published %s, signature %s\n",
			v->key, v->generation, v->policy_name ? v->policy_name : "?",
			v->policy_sha256, v->published ? ww_time_str(v->published, when) : "?",
			!v->verified ? "not checked (give --publisher-key)"
			: v->signature_ok ? "valid"
					  : "INVALID");
	}
	sb_addf(out, "%zu of %zu gateways converged\n\n", v->nconverged, v->ngws);
	sb_addf(out, "%-16s %-10s %-12s %-9s %-6s %-8s %s\n", "GATEWAY", "GENERATION", "STATE",
		"HEALTH", "DRIFT", "AGE", "LAST ERROR");
	for (size_t i = 0; i < v->ngws; i++) {
		const struct ww_fleet_gw *g = &v->gws[i];
		char gen[24] = "-", age[24] = "-";
		if (g->reported) {
			snprintf(gen, sizeof(gen), "%lu%s", g->generation,
				 g->converged ? "" : g->generation == v->generation ? "!" : "*");
			snprintf(age, sizeof(age), "%.0fs", g->age_s);
		}
		sb_addf(out, "%-16s %-10s %-12s %-9s %-6s %-8s %s\n", g->name, gen,
			g->reported ? g->state : "missing", g->health ? g->health : "-",
			g->reported ? (g->drift ? "yes" : "no") : "-", age,
			g->last_error ? g->last_error
			: g->expected || !v->generation ? ""
							 : "(not named by the published policy)");
	}
}

void ww_fleet_view_metrics(const struct ww_fleet_view *v, struct strbuf *out)
{
	sb_add(out, "# HELP wardwall_fleet_generation The generation published to etcd.\n"
		    "# TYPE wardwall_fleet_generation gauge\n");
	sb_addf(out, "wardwall_fleet_generation %lu\n", v->generation);
	sb_add(out, "# HELP wardwall_fleet_gateways_converged Gateways enforcing the published "
		    "generation without drift.\n# TYPE wardwall_fleet_gateways_converged gauge\n");
	sb_addf(out, "wardwall_fleet_gateways_converged %zu\n", v->nconverged);
	sb_add(out, "# HELP wardwall_fleet_gateway_generation The generation a gateway enforces "
		    "(absent: no live report).\n# TYPE wardwall_fleet_gateway_generation gauge\n");
	for (size_t i = 0; i < v->ngws; i++)
		if (v->gws[i].reported)
			sb_addf(out, "wardwall_fleet_gateway_generation{gateway=\"%s\"} %lu\n",
				v->gws[i].name, v->gws[i].generation);
	sb_add(out, "# HELP wardwall_fleet_gateway_converged 1 when the gateway enforces the "
		    "published generation without drift.\n"
		    "# TYPE wardwall_fleet_gateway_converged gauge\n");
	for (size_t i = 0; i < v->ngws; i++)
		sb_addf(out, "wardwall_fleet_gateway_converged{gateway=\"%s\"} %d\n",
			v->gws[i].name, v->gws[i].converged);
	sb_add(out, "# HELP wardwall_fleet_gateway_drift 1 when the kernel differs from the "
		    "gateway's generation.\n# TYPE wardwall_fleet_gateway_drift gauge\n");
	for (size_t i = 0; i < v->ngws; i++)
		if (v->gws[i].reported)
			sb_addf(out, "wardwall_fleet_gateway_drift{gateway=\"%s\"} %d\n",
				v->gws[i].name, v->gws[i].drift);
	sb_add(out, "# HELP wardwall_fleet_gateway_report_age_seconds Since the gateway's last "
		    "status report.\n# TYPE wardwall_fleet_gateway_report_age_seconds gauge\n");
	for (size_t i = 0; i < v->ngws; i++)
		if (v->gws[i].reported)
			sb_addf(out, "wardwall_fleet_gateway_report_age_seconds{gateway=\"%s\"} %.1f\n",
				v->gws[i].name, v->gws[i].age_s);
}

void ww_fleet_view_free(struct ww_fleet_view *v)
{
	for (size_t i = 0; i < v->ngws; i++) {
		struct ww_fleet_gw *g = &v->gws[i];
		free(g->name), free(g->state), free(g->health), free(g->last_error);
		free(g->policy_sha256), free(g->part_sha256), free(g->evidence_error);
	}
	free(v->gws);
	free(v->key);
	free(v->record);
	free(v->policy_name);
	memset(v, 0, sizeof(*v));
}
