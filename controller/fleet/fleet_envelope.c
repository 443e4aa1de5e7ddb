// SPDX-License-Identifier: GPL-2.0-only
#include "fleet.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "diag.h"
#include "evidence.h"
#include "policy.h"
#include "timeutil.h"

int ww_fleet_env_sign(const uint8_t *sk, unsigned long generation, int64_t now,
		      char *const *canaries, size_t ncanaries, const char *policy, size_t len,
		      const char *policy_sha256, struct strbuf *out)
{
	struct strbuf payload = {0}, sig = {0};
	uint8_t pk[WW_EV_PK_BYTES];
	char fp[65], when[32];
	char *text = strndup(policy, len);

	if (!text)
		return -ENOMEM;
	memcpy(pk, sk + 32, sizeof(pk)); /* libsodium's secret key ends with the public key */
	ww_ev_fingerprint(pk, fp);
	ww_time_str(now, when);
	sb_addf(&payload, "{\"wardwall_fleet\": 1, \"generation\": %lu, \"published\": \"%s\", "
			  "\"publisher\": \"%s\", \"canaries\": [",
		generation, when, fp);
	for (size_t i = 0; i < ncanaries; i++) {
		sb_add(&payload, i ? ", " : "");
		sb_add_json_str(&payload, canaries[i]);
	}
	sb_addf(&payload, "], \"policy_sha256\": \"%s\", \"policy\": ", policy_sha256);
	sb_add_json_str(&payload, text);
	sb_add(&payload, "}");
	free(text);
	ww_ev_sign(sk, sb_str(&payload), payload.len, &sig);
	if (sig.len && sig.s[sig.len - 1] == '\n')
		sig.s[--sig.len] = '\0';
	sb_add(out, "{\"payload\": ");
	sb_add_json_str(out, sb_str(&payload));
	sb_addf(out, ", \"signature\": \"%s\"}\n", sb_str(&sig));
	int ret = payload.oom || sig.oom || out->oom ? -ENOMEM : 0;
	sb_free(&payload);
	sb_free(&sig);
	return ret;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

int ww_fleet_env_verify(const uint8_t *pk, const char *text, size_t len, struct ww_fleet_env *e,
			struct strbuf *err)
{
	cJSON *rec = cJSON_ParseWithLength(text, len), *pl = NULL;
	const char *payload = jstr(rec, "payload"), *sig = jstr(rec, "signature"), *s;
	const cJSON *gen, *can;
	int ret = -EPROTO;

	memset(e, 0, sizeof(*e));
	if (!payload || !sig) {
		sb_add(err, "not a signed wardwall fleet record (no payload and signature)");
		goto out;
	}
	if (ww_ev_verify_sig(pk, payload, strlen(payload), sig)) {
		sb_add(err, "the signature does not verify against the pinned publisher key: "
			    "refusing a policy nobody with that key signed");
		ret = -EBADMSG;
		goto out;
	}
	pl = cJSON_Parse(payload);
	gen = cJSON_GetObjectItemCaseSensitive(pl, "generation");
	can = cJSON_GetObjectItemCaseSensitive(pl, "canaries");
	s = jstr(pl, "policy");
	if (!cJSON_IsNumber(gen) || gen->valuedouble < 1 || !s || !cJSON_IsArray(can) ||
	    !jstr(pl, "policy_sha256") || strlen(jstr(pl, "policy_sha256")) != 64 ||
	    !jstr(pl, "publisher") || strlen(jstr(pl, "publisher")) != 64) {
		sb_add(err, "a signed record without generation, canaries, policy or hashes");
		goto out;
	}
	e->generation = (unsigned long)gen->valuedouble;
	if (jstr(pl, "published"))
		ww_time_parse(jstr(pl, "published"), &e->published);
	memcpy(e->publisher, jstr(pl, "publisher"), 65);
	memcpy(e->policy_sha256, jstr(pl, "policy_sha256"), 65);
	ret = -ENOMEM;
	if (!(e->policy = strdup(s)))
		goto out;
	e->policy_len = strlen(s);
	size_t cap = 0;
	for (const cJSON *c = can->child; c; c = c->next) {
		char *d = cJSON_IsString(c) ? strdup(c->valuestring) : NULL;
		if (!d || VEC_PUSH(e->canaries, e->ncanaries, cap, d)) {
			free(d);
			goto out;
		}
	}
	sha256_hex(text, len, e->record_sha256);
	ret = 0;
out:
	cJSON_Delete(rec);
	cJSON_Delete(pl);
	if (ret)
		ww_fleet_env_free(e);
	return ret;
}

void ww_fleet_env_free(struct ww_fleet_env *e)
{
	for (size_t i = 0; i < e->ncanaries; i++)
		free(e->canaries[i]);
	free(e->canaries);
	free(e->policy);
	memset(e, 0, sizeof(*e));
}

bool ww_fleet_env_is_canary(const struct ww_fleet_env *e, const char *name)
{
	for (size_t i = 0; i < e->ncanaries; i++)
		if (!strcmp(e->canaries[i], name))
			return true;
	return false;
}

int ww_fleet_policy(const char *name, const char *text, size_t len, int64_t now,
		    struct ww_policy **out, struct strbuf *diags)
{
	struct ww_diags d = {.file = name};
	struct ww_policy *p = NULL;
	int err = ww_policy_parse(name, text, len, &d, &p);

	if (!err)
		err = ww_analyse(p, now, &d, NULL);
	if (!err && d.nerrors)
		err = -EINVAL;
	ww_diags_sort(&d);
	ww_diags_print(&d, diags);
	ww_diags_free(&d);
	if (err)
		ww_policy_free(p);
	else
		*out = p;
	return err;
}
