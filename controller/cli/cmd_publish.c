// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall publish: check a fleet policy, sign it with the publisher's key, and write it with
 * its generation to etcd in one transaction that fails if anyone published meanwhile.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_fleet.h"
#include "etcd.h"
#include "evidence.h"
#include "json.h"
#include "policy.h"

/* The generation of the record now under KEY/policy (0: none). Read without verifying: a forged
 * number can only make this publish skip numbers, never be applied. */
static unsigned long current_generation(const struct ww_etcd_kv *kv)
{
	cJSON *rec = cJSON_ParseWithLength(kv->value, kv->vlen);
	cJSON *pl = cJSON_Parse(cJSON_GetStringValue(cJSON_GetObjectItem(rec, "payload"))
					? cJSON_GetStringValue(cJSON_GetObjectItem(rec, "payload"))
					: "null");
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(pl, "generation");
	unsigned long gen = cJSON_IsNumber(g) && g->valuedouble > 0 ? (unsigned long)g->valuedouble : 0;

	cJSON_Delete(rec);
	cJSON_Delete(pl);
	return gen;
}

struct publish_args {
	struct ww_fleet_conn conn;
	const char *sign_key, *base;
	struct ww_strlist canary;
	bool json;
};

static const struct ww_opt publish_opts[] = {
	WW_STR("--sign-key", struct publish_args, sign_key, "FILE", .required = true),
	WW_LIST("--canary", struct publish_args, canary, "GW[,GW...]"),
	WW_STR("--base", struct publish_args, base, "GEN"),
	WW_FLAG("--json", struct publish_args, json),
	WW_FLEET_OPTS(struct publish_args),
	WW_OPT_END,
};

/* Every --canary, each of which may list several (--canary a,b --canary c), copied into *out. */
static int canaries_split(const struct ww_strlist *l, char ***out, size_t *n)
{
	size_t cap = 0;

	for (size_t i = 0; i < l->n; i++) {
		char *list = strdup(l->v[i]), *save = NULL;
		if (!list)
			return -ENOMEM;
		for (char *c = strtok_r(list, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
			char *d = strdup(c);
			if (!d || VEC_PUSH(*out, *n, cap, d)) {
				free(d);
				free(list);
				return -ENOMEM;
			}
		}
		free(list);
	}
	return 0;
}

/* Every --canary names a gateway of the policy; says which does not. */
static bool canaries_known(const struct ww_policy *p, char **canaries, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!ww_gateway_find(p, canaries[i])) {
			ww_errorf("publish: --canary %s: the policy has no gateway \"%s\"", canaries[i],
				  canaries[i]);
			return false;
		}
	return true;
}

/* The generation now published: the larger of KEY/policy's and KEY/generation's (a record
 * replayed into KEY/policy must not pull the numbering back); *mod_rev is KEY/policy's
 * revision, for the compare-and-swap (0: none). */
static unsigned long published_generation(const struct ww_etcd_range *r, const char *kpol,
					  const char *kgen, int64_t *mod_rev)
{
	unsigned long cur = 0;

	for (size_t i = 0; i < r->n; i++) {
		unsigned long g = 0;
		if (!strcmp(r->kvs[i].key, kpol)) {
			g = current_generation(&r->kvs[i]);
			*mod_rev = r->kvs[i].mod_rev;
		} else if (!strcmp(r->kvs[i].key, kgen)) {
			g = strtoul(r->kvs[i].value, NULL, 10);
		}
		if (g > cur)
			cur = g;
	}
	return cur;
}

struct published {
	unsigned long gen;
	const char *name, *hash, *key;
	int64_t rev;
	char **canaries;
	size_t ncan;
};

static void print_published(const struct published *pb, bool json)
{
	struct strbuf out = {0};

	if (json) {
		struct ww_jw w = {.out = &out, .compact = true};
		ww_jw_obj(&w, NULL);
		ww_jw_bool(&w, "published", true);
		ww_jw_u64(&w, "generation", pb->gen);
		ww_jw_str(&w, "policy_sha256", pb->hash);
		ww_jw_str(&w, "key", pb->key);
		ww_jw_i64(&w, "revision", pb->rev);
		ww_jw_u64(&w, "canaries", pb->ncan);
		ww_jw_end_obj(&w);
	} else {
		sb_addf(&out, "published generation %lu of %s (policy sha256 %.12s) at %s, revision %lld",
			pb->gen, pb->name, pb->hash, pb->key, (long long)pb->rev);
		for (size_t i = 0; i < pb->ncan; i++)
			sb_addf(&out, "%s%s", i ? ", " : "; canaries first: ", pb->canaries[i]);
		sb_add(&out, "\n");
	}
	fputs(sb_str(&out), stdout);
	sb_free(&out);
}

/*
 * A compare that failed may have failed on this publish's own write: a request that timed out
 * while the cluster was electing a leader can still be committed, and the etcd client then sends
 * it again to the next member, which finds the key already changed. The record holds its
 * generation, time and signature, so the very same bytes at the key are this publish's.
 */
static bool landed_anyway(struct ww_etcd *e, const char *kpol, const struct strbuf *rec,
			  int64_t *rev)
{
	struct ww_etcd_range r = {0};
	struct strbuf err = {0};
	bool ours = !ww_etcd_get(e, kpol, false, &r, &err) && r.n == 1 &&
		    r.kvs[0].vlen == rec->len && !memcmp(r.kvs[0].value, sb_str(rec), rec->len);

	if (ours)
		*rev = r.kvs[0].mod_rev;
	ww_etcd_range_free(&r);
	sb_free(&err);
	return ours;
}

/*
 * The record at kpol and generation gen at kgen, in one compare-and-swap against kpol's
 * mod_revision as read; false (said on stderr) when etcd failed or another publisher came first.
 */
static bool write_record(struct ww_etcd *e, const char *kpol, int64_t mod_rev,
			 const struct strbuf *rec, const char *kgen, unsigned long gen, int64_t *rev)
{
	struct strbuf err = {0};
	char g[24];
	bool done = false;

	snprintf(g, sizeof(g), "%lu", gen);
	if (ww_etcd_cas(e, kpol, mod_rev, sb_str(rec), rec->len, kgen, g, strlen(g), &done, rev,
			&err)) {
		ww_errorf("publish: %s", sb_str(&err));
		sb_free(&err);
		return false;
	}
	sb_free(&err);
	if (!done && landed_anyway(e, kpol, rec, rev))
		done = true;
	if (!done)
		ww_errorf("publish: %s changed while publishing (another publisher): nothing written; "
			  "read the new generation and publish again",
			  kpol);
	return done;
}

static int cmd_publish(int argc, char **argv)
{
	struct publish_args a = {0};
	char *pos[1], **canaries = NULL, *text = NULL, *kpol = NULL, *kgen = NULL;
	size_t ncan = 0, len;
	struct strbuf err = {0}, rec = {0}, diags = {0};
	struct ww_policy *p = NULL;
	struct ww_etcd *e = NULL;
	struct ww_etcd_range r = {0};
	uint8_t sk[WW_EV_SK_BYTES];
	char hash[65];
	int npos, rc = WW_EXIT_USAGE, ret;

	if (ww_opts_parse(publish_opts, argc, argv, &a, pos, 1, &npos) || npos != 1) {
		ww_opts_free(publish_opts, &a);
		return ww_usage(&ww_cmd_publish);
	}
	ret = canaries_split(&a.canary, &canaries, &ncan);
	ww_opts_free(publish_opts, &a);
	if (ret) {
		ww_errorf("publish: %s", strerror(-ret));
		goto out;
	}
	if ((ret = read_file(pos[0], &text, &len))) {
		ww_errorf("%s: %s", pos[0], strerror(-ret));
		goto out;
	}
	ret = ww_fleet_policy(pos[0], text, len, ww_now(), &p, &diags);
	fputs(sb_str(&diags), stderr);
	if (ret) {
		ww_errorf("%s: not published: the policy is invalid (see 'wardwall check')", pos[0]);
		rc = WW_EXIT_INVALID;
		goto out;
	}
	if (!canaries_known(p, canaries, ncan))
		goto out;
	if (ww_ev_key_load(a.sign_key, sk, &err)) {
		ww_errorf("publish: %s", sb_str(&err));
		goto out;
	}
	ww_policy_hash(p, hash);
	kpol = ww_fleet_key(&a.conn, "policy");
	kgen = ww_fleet_key(&a.conn, "generation");
	if (!kpol || !kgen)
		goto out;
	/* KEY/policy and KEY/generation in one read. The generation is the larger of the two: a
	 * record replayed into KEY/policy must not pull the numbering back. */
	char *kpre = ww_fleet_key(&a.conn, "");
	if (!kpre || (ret = ww_fleet_connect(&a.conn, &e, &err)) ||
	    (ret = ww_etcd_get(e, kpre, true, &r, &err))) {
		free(kpre);
		ww_errorf("publish: %s", sb_str(&err));
		goto out;
	}
	free(kpre);
	int64_t mod_rev = 0;
	unsigned long cur = published_generation(&r, kpol, kgen, &mod_rev);
	if (a.base && strtoul(a.base, NULL, 10) != cur) {
		ww_errorf("publish: stale base: --base %s, but generation %lu is published at %s "
			  "(someone published meanwhile; review it, then publish on top of it)",
			  a.base, cur, kpol);
		goto out;
	}
	if ((ret = ww_fleet_env_sign(sk, cur + 1, ww_now(), canaries, ncan, text, len, hash, &rec)))
		goto out;
	int64_t rev = 0;
	if (!write_record(e, kpol, mod_rev, &rec, kgen, cur + 1, &rev))
		goto out;
	struct published pb = {.gen = cur + 1, .name = p->name, .hash = hash, .key = kpol,
			       .rev = rev, .canaries = canaries, .ncan = ncan};
	print_published(&pb, a.json);
	rc = WW_EXIT_OK;
out:
	memset(sk, 0, sizeof(sk));
	for (size_t i = 0; i < ncan; i++)
		free(canaries[i]);
	free(canaries);
	free(text);
	free(kpol);
	free(kgen);
	ww_etcd_range_free(&r);
	ww_etcd_close(e);
	ww_policy_free(p);
	sb_free(&err);
	sb_free(&rec);
	sb_free(&diags);
	return rc;
}

const struct ww_cmd ww_cmd_publish = {
	"publish", cmd_publish,
	"check, sign and publish a fleet policy to etcd (compare-and-swap on its generation)",
	publish_opts, "POLICY", NULL,
};
