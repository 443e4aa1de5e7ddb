// SPDX-License-Identifier: GPL-2.0-only
/*
 * The fleet bundle (fleet_evidence.h). Each gateway's bundle is checked here as `evidence verify`
 * checks one, and what its signed evidence.json says (the policy hash it enforces, whether its
 * kernel is in sync) is compared with the part of the published generation cut for it: the
 * status records are the agents' word, the bundles are signed.
 */
#include "fleet_evidence.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "etcd.h"
#include "fleet_status.h"
#include "json.h"
#include "policy.h"
#include "timeutil.h"

static const char *const gw_files[] = {"evidence.json", WW_EV_PUB, WW_EV_MANIFEST, WW_EV_SIG};

/* One gateway in the bundle. */
struct gw {
	char *name;
	const struct ww_fleet_gw *st; /* its status, or NULL (never reported, or not now) */
	char part_sha256[65];	      /* its part of the published generation, "" unknown */
	/* its bundle */
	bool bundle; /* one is under KEY/evidence/NAME */
	bool valid;  /* its files and signature verify */
	unsigned long seq, claimed_gen;
	char manifest_sha256[65], key_sha256[65], policy_sha256[65];
	const char *key; /* "pinned", "not-pinned" (none in the keys given: not checked),
			    "carried" (checked with the key it carries) */
	bool in_sync, shows_published;
	char time[WW_TIME_STRLEN];
	struct strbuf problem, why;
	bool converged, accounted;
};

static void gw_free(struct gw *g)
{
	free(g->name);
	sb_free(&g->problem);
	sb_free(&g->why);
}

static struct gw *gw_get(struct gw **v, size_t *n, size_t *cap, const char *name)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*v)[i].name, name))
			return &(*v)[i];
	struct gw g = {.name = strdup(name)};
	if (!g.name || VEC_PUSH(*v, *n, *cap, g)) {
		free(g.name);
		return NULL;
	}
	return &(*v)[*n - 1];
}

static int gw_cmp(const void *a, const void *b)
{
	return strcmp(((const struct gw *)a)->name, ((const struct gw *)b)->name);
}

/* The policy text inside a record, verified or not (the caller says which). malloc'ed. */
static char *record_policy(const char *rec, size_t len)
{
	cJSON *r = cJSON_ParseWithLength(rec, len);
	const char *p = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(r, "payload"));
	cJSON *pl = p ? cJSON_Parse(p) : NULL;
	const char *t = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(pl, "policy"));
	char *out = t ? strdup(t) : NULL;

	cJSON_Delete(pl);
	cJSON_Delete(r);
	return out;
}

/* Every gateway's part of the published policy, hashed as the agent hashes what it applies. */
static void parts(struct gw *gws, size_t n, const char *text, int64_t now)
{
	struct strbuf diags = {0}, err = {0};
	struct ww_policy *whole = NULL;

	if (!text || ww_fleet_policy("published policy", text, strlen(text), now, &whole, &diags))
		goto out;
	for (size_t i = 0; i < n; i++) {
		if (!whole->ngws) {
			ww_policy_hash(whole, gws[i].part_sha256);
			continue;
		}
		char *part = NULL;
		struct ww_policy *pp = NULL;
		struct ww_diags d = {.file = "part"};
		if (!ww_fleet_part(whole, text, strlen(text), gws[i].name, &part, &err) &&
		    !ww_policy_parse("part", part, strlen(part), &d, &pp))
			ww_policy_hash(pp, gws[i].part_sha256);
		ww_diags_free(&d);
		ww_policy_free(pp);
		free(part);
		sb_reset(&err);
	}
out:
	ww_policy_free(whole);
	sb_free(&diags);
	sb_free(&err);
}

static int write_in(const char *dir, const char *name, const void *data, size_t len,
		    struct strbuf *err)
{
	char *p = xstrdup_printf("%s/%s", dir, name);
	int e = p ? write_file_atomic(p, data, len, 0644) : -ENOMEM;

	if (e && p)
		sb_addf(err, "%s: %s", p, strerror(-e));
	free(p);
	return e;
}

static const char *str_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
	return cJSON_GetStringValue(b ? cJSON_GetObjectItemCaseSensitive(x, b) : x);
}

/*
 * Writes the gateway's bundle from its etcd value into gwdir and checks it: files, signature
 * (pinned key or the one it carries), and what its signed evidence.json says.
 */
static int gw_bundle(struct gw *g, const struct ww_etcd_kv *kv, const char *gwdir,
		     const char *gateway_keys, struct strbuf *err)
{
	cJSON *v = cJSON_ParseWithLength(kv->value, kv->vlen), *ej = NULL;
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(v, "files");
	uint8_t pk[WW_EV_PK_BYTES];
	bool pinned = false;
	struct strbuf out = {0}, bad = {0}, warn = {0};
	int e = 0;

	g->bundle = true;
	g->claimed_gen =
	    (unsigned long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(v, "generation"));
	if (!cJSON_IsObject(files)) {
		sb_add(&g->problem, "its record under KEY/evidence/ is not a bundle");
		goto out;
	}
	if (mkdir(gwdir, 0755) && errno != EEXIST) {
		e = -errno;
		sb_addf(err, "%s: %s", gwdir, strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_SIZE(gw_files); i++) {
		const char *b = str_at(files, gw_files[i], NULL);
		uint8_t *raw = b ? malloc(strlen(b) / 4 * 3 + 3) : NULL;
		size_t n = 0;
		if (!b) {
			sb_addf(&g->problem, "%s%s missing from its record",
				g->problem.len ? "; " : "", gw_files[i]);
			continue;
		}
		if (!raw) {
			e = -ENOMEM;
			goto out;
		}
		if (ww_ev_unbase64(b, strlen(b), raw, strlen(b) / 4 * 3 + 3, &n))
			sb_addf(&g->problem, "%s%s is not base64 in its record",
				g->problem.len ? "; " : "", gw_files[i]);
		else
			e = write_in(gwdir, gw_files[i], raw, n, err);
		free(raw);
		if (e)
			goto out;
	}
	if (gateway_keys) {
		char *kf = xstrdup_printf("%s/%s.pub", gateway_keys, g->name);
		struct strbuf kerr = {0};
		if (kf && !ww_ev_pub_load(kf, pk, &kerr))
			pinned = true;
		else
			sb_addf(&g->problem, "%sno pinned key: %s", g->problem.len ? "; " : "",
				kerr.len ? sb_str(&kerr) : "out of memory");
		free(kf);
		sb_free(&kerr);
	}
	g->key = pinned ? "pinned" : gateway_keys ? "not-pinned" : "carried";
	if (gateway_keys && !pinned)
		goto out; /* a bundle whose key is not the one pinned proves nothing */
	bool unchecked;
	const char *one[1] = {gwdir};
	int fails = ww_evidence_verify(one, 1, pinned ? pk : NULL, &out, &bad, &warn, &unchecked);
	if (fails < 0) {
		e = fails;
		goto out;
	}
	g->valid = fails == 0;
	if (fails)
		sb_addf(&g->problem, "%sits bundle does not verify: %s", g->problem.len ? "; " : "",
			sb_str(&bad));
	while (g->problem.len && g->problem.s[g->problem.len - 1] == '\n')
		g->problem.s[--g->problem.len] = '\0';
	/* what it signed */
	char *text = NULL, *mf = xstrdup_printf("%s/%s", gwdir, WW_EV_MANIFEST);
	size_t len;
	if (mf && !read_file(mf, &text, &len))
		sha256_hex(text, len, g->manifest_sha256);
	free(mf);
	free(text);
	text = NULL;
	char *jf = xstrdup_printf("%s/evidence.json", gwdir);
	if (jf && !read_file(jf, &text, &len))
		ej = cJSON_ParseWithLength(text, len);
	free(jf);
	free(text);
	const char *s = str_at(ej, "policy", "sha256");
	snprintf(g->policy_sha256, sizeof(g->policy_sha256), "%s", s ? s : "");
	s = str_at(ej, "bundle", "key_sha256");
	snprintf(g->key_sha256, sizeof(g->key_sha256), "%s", s ? s : "");
	s = str_at(ej, "generated", NULL);
	snprintf(g->time, sizeof(g->time), "%s", s ? s : "");
	g->seq = (unsigned long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ej, "bundle"), "seq"));
	g->in_sync = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(ej, "kernel"), "in_sync"));
out:
	cJSON_Delete(ej);
	cJSON_Delete(v);
	sb_free(&out);
	sb_free(&bad);
	sb_free(&warn);
	return e;
}

/* Why a gateway is not fully accounted for, into g->why ("" when it is). */
static void judge(struct gw *g, const struct ww_fleet_view *v, const char *kevid)
{
	const struct ww_fleet_gw *s = g->st;
	struct strbuf *w = &g->why;

	g->converged = s && s->converged;
	if (s && !s->expected)
		sb_add(w, "not named by the published policy; ");
	if (!s || !s->reported) {
		sb_add(w, "no live status: its agent is not running or cannot reach etcd (its "
			  "lease expired); ");
	} else if (!s->converged) {
		if (s->generation != v->generation)
			sb_addf(w, "enforces generation %lu, %lu is published (state %s); ",
				s->generation, v->generation, s->state ? s->state : "?");
		else if (s->drift)
			sb_addf(w, "its kernel differs from generation %lu (drift); ",
				s->generation);
		else
			sb_addf(w, "state %s; ", s->state ? s->state : "?");
		if (s->last_error)
			sb_addf(w, "its last error: %s; ", s->last_error);
	}
	if (!g->bundle) {
		sb_addf(w, "no evidence bundle at %s%s; ", kevid, g->name);
	} else {
		if (g->problem.len)
			sb_addf(w, "%s; ", sb_str(&g->problem));
		if (g->valid) {
			g->shows_published = *g->part_sha256 && g->in_sync &&
					     !strcmp(g->policy_sha256, g->part_sha256);
			if (!g->in_sync)
				sb_add(w, "its signed evidence shows its kernel differs from its "
					  "policy; ");
			else if (!g->shows_published)
				sb_addf(w,
					"its signed evidence (bundle %lu, %s) shows policy %.12s, "
					"not its part of generation %lu (%.12s); ",
					g->seq, g->time, g->policy_sha256, v->generation,
					*g->part_sha256 ? g->part_sha256 : "unknown");
		}
	}
	if (w->len > 1 && w->s[w->len - 2] == ';')
		w->s[w->len -= 2] = '\0';
	g->accounted = !w->len;
}

static void fleet_json(const struct ww_fleet_view *v, const struct gw *gws, size_t n,
		       const char *fp, const char *publisher_fp, const char *record_sha256,
		       const char *gateway_keys, int64_t now, const struct ww_fleet_ev_result *res,
		       struct strbuf *out)
{
	struct ww_jw w = {.out = out};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "format", WW_FLEET_EVIDENCE_FORMAT);
	ww_jw_time(&w, "generated", now);
	ww_jw_str(&w, "record_key", v->key);
	ww_jw_i64(&w, "revision", v->revision);
	ww_jw_str(&w, "exporter_key_sha256", fp);
	ww_jw_obj(&w, "published");
	ww_jw_u64(&w, "generation", v->generation);
	ww_jw_str(&w, "policy", v->policy_name);
	ww_jw_str(&w, "policy_sha256", *v->policy_sha256 ? v->policy_sha256 : NULL);
	ww_jw_time(&w, "published", v->published);
	ww_jw_str(&w, "record", v->record ? "policy.record" : NULL);
	ww_jw_str(&w, "record_sha256", v->record ? record_sha256 : NULL);
	ww_jw_str(&w, "signature",
		  !v->verified	    ? "not-checked"
		  : v->signature_ok ? "valid"
				    : "INVALID");
	ww_jw_str(&w, "publisher_key_sha256", publisher_fp);
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "summary");
	ww_jw_u64(&w, "gateways", n);
	ww_jw_u64(&w, "expected", res->nexpected);
	ww_jw_u64(&w, "reported", res->nreported);
	ww_jw_u64(&w, "converged", res->nconverged);
	ww_jw_u64(&w, "evidence_of_published", res->nevidence);
	ww_jw_bool(&w, "complete",
		   res->nexpected && res->nevidence == res->nexpected &&
		       res->nconverged == res->nexpected && !res->gaps.len && v->verified &&
		       v->signature_ok);
	ww_jw_str(&w, "gateway_keys", gateway_keys ? "pinned" : "carried by each bundle");
	ww_jw_end_obj(&w);
	ww_jw_arr(&w, "gateways");
	for (size_t i = 0; i < n; i++) {
		const struct gw *g = &gws[i];
		const struct ww_fleet_gw *s = g->st;
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "name", g->name);
		ww_jw_bool(&w, "expected", s && s->expected);
		ww_jw_bool(&w, "reported", s && s->reported);
		ww_jw_bool(&w, "converged", g->converged);
		ww_jw_bool(&w, "accounted", g->accounted);
		ww_jw_str(&w, "why", g->why.len ? sb_str(&g->why) : NULL);
		ww_jw_str(&w, "part_sha256", *g->part_sha256 ? g->part_sha256 : NULL);
		if (s && s->reported) {
			ww_jw_obj(&w, "status"); /* the agent's word: not signed */
			ww_jw_u64(&w, "generation", s->generation);
			ww_jw_str(&w, "state", s->state);
			ww_jw_str(&w, "health", s->health);
			ww_jw_bool(&w, "drift", s->drift);
			ww_jw_u64(&w, "refused_generation", s->refused_generation);
			ww_jw_str(&w, "part_sha256", s->part_sha256);
			ww_jw_numf(&w, "age_s", "%.1f", s->age_s);
			ww_jw_str(&w, "last_error", s->last_error);
			ww_jw_end_obj(&w);
		} else {
			ww_jw_null(&w, "status");
		}
		if (g->bundle) {
			char dir[300];
			snprintf(dir, sizeof(dir), "gateways/%s", g->name);
			ww_jw_obj(&w, "evidence");
			ww_jw_str(&w, "bundle", dir);
			ww_jw_bool(&w, "valid", g->valid);
			ww_jw_str(&w, "key", g->key);
			ww_jw_str(&w, "key_sha256", *g->key_sha256 ? g->key_sha256 : NULL);
			ww_jw_str(&w, "manifest_sha256",
				  *g->manifest_sha256 ? g->manifest_sha256 : NULL);
			ww_jw_u64(&w, "seq", g->seq);
			ww_jw_str(&w, "generated", *g->time ? g->time : NULL);
			ww_jw_u64(&w, "generation_claimed", g->claimed_gen);
			ww_jw_str(&w, "policy_sha256", *g->policy_sha256 ? g->policy_sha256 : NULL);
			ww_jw_bool(&w, "kernel_in_sync", g->in_sync);
			ww_jw_bool(&w, "shows_published", g->shows_published);
			ww_jw_str(&w, "problem", g->problem.len ? sb_str(&g->problem) : NULL);
			ww_jw_end_obj(&w);
		} else {
			ww_jw_null(&w, "evidence");
		}
		ww_jw_end_obj(&w);
	}
	ww_jw_end_arr(&w);
	ww_jw_strs(&w, "limits",
		   (const char *const[]){
		       "status records are each agent's word, not signed; what a gateway's "
		       "bundle shows is signed by that gateway's key",
		       "a gateway's bundle is from the time it says (after its last generation, "
		       "or its last periodic export), not from the time of this export",
		       "fleet bundles are not chained; each gateway's bundles are, in its own "
		       "state directory"},
		   3);
	ww_jw_end_obj(&w);
}

static void manifest(const char *fp, int64_t now, const char *const *names,
		     const struct strbuf *bodies, size_t n, struct strbuf *out)
{
	struct ww_jw w = {.out = out};
	char host[256] = "";

	gethostname(host, sizeof(host) - 1);
	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "format", WW_MANIFEST_FORMAT);
	ww_jw_str(&w, "kind", "fleet");
	ww_jw_u64(&w, "seq", 1);
	ww_jw_time(&w, "time", now);
	ww_jw_str(&w, "hostname", host);
	ww_jw_null(&w, "previous_manifest_sha256");
	ww_jw_str(&w, "key_sha256", fp);
	ww_jw_arr(&w, "files");
	for (size_t i = 0; i < n; i++) {
		char sum[65];
		sha256_hex(bodies[i].s ? bodies[i].s : "", bodies[i].len, sum);
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "name", names[i]);
		ww_jw_str(&w, "sha256", sum);
		ww_jw_u64(&w, "bytes", bodies[i].len);
		ww_jw_end_obj(&w);
	}
	ww_jw_end_arr(&w);
	ww_jw_end_obj(&w);
}

/* One export, between its steps. */
struct fexport {
	const struct ww_fleet_ev_opts *o;
	char *kevid;		/* KEY/evidence/ */
	struct ww_fleet_view v; /* the status records and the published record */
	struct ww_etcd_range r; /* KEY/evidence/NAME: each gateway's last bundle */
	struct gw *gws;		/* every gateway either names, sorted by name */
	size_t ngws, cap;
	char rsum[65]; /* the published record's sha256, "" without one */
};

static int fetch(struct fexport *x, struct strbuf *err)
{
	struct ww_etcd *e = NULL;
	int ret;

	if (!(ret = ww_fleet_connect(x->o->conn, &e, err)) &&
	    !(ret = ww_fleet_view_fetch(x->o->conn, e, x->o->publisher_pk, x->o->now, &x->v, err)))
		ret = ww_etcd_get(e, x->kevid, true, &x->r, err);
	ww_etcd_close(e);
	return ret;
}

/* The gateways: those with a status record and those with a bundle, each with its part of the
 * published generation. */
static int gather(struct fexport *x)
{
	const struct ww_fleet_view *v = &x->v;
	char *policy = NULL;

	for (size_t i = 0; i < v->ngws; i++)
		if (!gw_get(&x->gws, &x->ngws, &x->cap, v->gws[i].name))
			return -ENOMEM;
	for (size_t i = 0; i < x->r.n; i++)
		if (!gw_get(&x->gws, &x->ngws, &x->cap, x->r.kvs[i].key + strlen(x->kevid)))
			return -ENOMEM;
	if (x->ngws > 1)
		qsort(x->gws, x->ngws, sizeof(*x->gws), gw_cmp);
	for (size_t i = 0; i < x->ngws; i++)
		for (size_t k = 0; k < v->ngws; k++)
			if (!strcmp(x->gws[i].name, v->gws[k].name))
				x->gws[i].st = &v->gws[k];
	if (v->record) {
		sha256_hex(v->record, v->record_len, x->rsum);
		policy = record_policy(v->record, v->record_len);
	}
	parts(x->gws, x->ngws, policy, x->o->now);
	free(policy);
	return 0;
}

/* Each gateway's bundle under partial/gateways/NAME, checked. */
static int write_gateways(struct fexport *x, const char *partial, struct strbuf *err)
{
	char *gdir = xstrdup_printf("%s/gateways", partial);
	int ret = 0;

	if (!gdir)
		return -ENOMEM;
	if (mkdir(partial, 0755) || mkdir(gdir, 0755)) {
		ret = -errno;
		sb_addf(err, "%s: %s", partial, strerror(errno));
	}
	for (size_t i = 0; i < x->r.n && !ret; i++) {
		const char *name = x->r.kvs[i].key + strlen(x->kevid);
		struct gw *g = gw_get(&x->gws, &x->ngws, &x->cap, name);
		char *d = g ? xstrdup_printf("%s/%s", gdir, g->name) : NULL;
		ret = d ? gw_bundle(g, &x->r.kvs[i], d, x->o->gateway_keys, err) : -ENOMEM;
		free(d);
	}
	free(gdir);
	return ret;
}

/* Judges every gateway into res: the counts and the gaps. */
static void tally(struct fexport *x, struct ww_fleet_ev_result *res)
{
	const struct ww_fleet_view *v = &x->v;

	for (size_t i = 0; i < x->ngws; i++) {
		struct gw *g = &x->gws[i];
		judge(g, v, x->kevid);
		res->nexpected += g->st && g->st->expected;
		res->nreported += g->st && g->st->reported;
		res->nconverged += g->converged;
		res->nevidence += g->shows_published;
		if (g->why.len)
			sb_addf(&res->gaps, "%s: %s\n", g->name, sb_str(&g->why));
	}
	res->ngws = x->ngws;
	res->generation = v->generation;
	res->signature = !v->verified ? "not-checked" : v->signature_ok ? "valid" : "INVALID";
}

/* fleet.json, the exporter's key, the published record, the manifest and its signature. */
static int write_summary(struct fexport *x, const char *partial, struct ww_fleet_ev_result *res,
			 struct strbuf *err)
{
	const struct ww_fleet_ev_opts *o = x->o;
	const char *names[4] = {"fleet.json", WW_EV_PUB, "policy.record", NULL};
	size_t nf = x->v.record ? 3 : 2;
	struct strbuf bodies[4] = {{0}}, msig = {0};
	char fp[65], pfp[65];
	int ret = -ENOMEM;

	ww_ev_fingerprint(o->sk + 32, fp);
	if (o->publisher_pk)
		ww_ev_fingerprint(o->publisher_pk, pfp);
	fleet_json(&x->v, x->gws, x->ngws, fp, o->publisher_pk ? pfp : NULL, x->rsum,
		   o->gateway_keys, o->now, res, &bodies[0]);
	ww_ev_pub_pem(o->sk + 32, &bodies[1]);
	if (x->v.record)
		sb_addn(&bodies[2], x->v.record, x->v.record_len);
	manifest(fp, o->now, names, bodies, nf, &bodies[3]);
	sha256_hex(sb_str(&bodies[3]), bodies[3].len, res->manifest_sha256);
	ww_ev_sign(o->sk, sb_str(&bodies[3]), bodies[3].len, &msig);
	for (size_t i = 0; i < 4; i++)
		if (bodies[i].oom)
			goto out;
	ret = 0;
	for (size_t i = 0; i < nf && !ret; i++)
		ret = write_in(partial, names[i], sb_str(&bodies[i]), bodies[i].len, err);
	if (!ret)
		ret = write_in(partial, WW_EV_MANIFEST, sb_str(&bodies[3]), bodies[3].len, err);
	if (!ret)
		ret = write_in(partial, WW_EV_SIG, sb_str(&msig), msig.len, err);
out:
	for (size_t i = 0; i < 4; i++)
		sb_free(&bodies[i]);
	sb_free(&msig);
	return ret;
}

int ww_fleet_evidence_export(const struct ww_fleet_ev_opts *o, struct ww_fleet_ev_result *res,
			     struct strbuf *err)
{
	struct fexport x = {.o = o, .kevid = ww_fleet_key(o->conn, "evidence/")};
	char *partial = ww_ev_partial_dir(o->out);
	int ret = -ENOMEM;

	memset(res, 0, sizeof(*res));
	if (!x.kevid || !partial)
		goto out;
	if ((ret = ww_ev_dir_ready(o->out, err)) || (ret = fetch(&x, err)) || (ret = gather(&x)))
		goto out;
	rm_tree(partial);
	if ((ret = write_gateways(&x, partial, err)))
		goto out;
	tally(&x, res);
	if (!(ret = write_summary(&x, partial, res, err)))
		ret = ww_ev_bundle_place(o->out, err);
out:
	if (ret && partial)
		rm_tree(partial);
	if (ret)
		sb_free(&res->gaps);
	for (size_t i = 0; i < x.ngws; i++)
		gw_free(&x.gws[i]);
	free(x.gws);
	ww_etcd_range_free(&x.r);
	ww_fleet_view_free(&x.v);
	free(x.kevid);
	free(partial);
	return ret;
}

/* The published record in dir: the bytes fleet.json (f) pins, signed by the publisher. Returns
 * the number of failures. */
static int verify_record(const char *dir, const cJSON *f, const uint8_t *publisher_pk,
			 struct strbuf *out, struct strbuf *bad, struct strbuf *warn)
{
	const char *rsum = str_at(f, "published", "record_sha256");
	char *rp = xstrdup_printf("%s/policy.record", dir), *text = NULL, got[65];
	size_t len;
	int fails = 0;

	if (!rp || read_file(rp, &text, &len)) {
		sb_addf(bad, "%s/policy.record: missing\n", dir);
		free(rp);
		return 1;
	}
	sha256_hex(text, len, got);
	cJSON *rec = cJSON_ParseWithLength(text, len);
	const char *pl = str_at(rec, "payload", NULL), *sig = str_at(rec, "signature", NULL);
	if (!rsum || strcmp(got, rsum)) {
		sb_addf(bad, "%s/policy.record: not the record fleet.json names\n", dir);
		fails++;
	} else if (!publisher_pk) {
		sb_addf(warn,
			"%s/policy.record: the publisher's signature was not checked: pass "
			"--publisher-key\n",
			dir);
	} else if (!pl || !sig || ww_ev_verify_sig(publisher_pk, pl, strlen(pl), sig)) {
		sb_addf(bad, "%s/policy.record: not signed by the publisher key given\n", dir);
		fails++;
	} else {
		sb_addf(out, "ok %s/policy.record: generation %.0f, signed by the publisher\n", dir,
			cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(
			    cJSON_GetObjectItemCaseSensitive(f, "published"), "generation")));
	}
	cJSON_Delete(rec);
	free(rp);
	free(text);
	return fails;
}

/*
 * The bundle of gateway name under dir/gateways: its manifest is the one fleet.json pins (want),
 * it verifies, with its pinned key under gateway_keys when given. Returns the number of
 * failures, or -errno.
 */
static int verify_gateway(const char *dir, const char *name, const char *want,
			  const char *gateway_keys, struct strbuf *out, struct strbuf *bad)
{
	char *gd = xstrdup_printf("%s/gateways/%s", dir, name);
	char *mf = gd ? xstrdup_printf("%s/%s", gd, WW_EV_MANIFEST) : NULL, *text = NULL;
	char got[65] = "";
	uint8_t pk[WW_EV_PK_BYTES];
	bool pinned = false;
	size_t len;
	int fails = 0;

	if (!gd || !mf) {
		fails = -ENOMEM;
		goto out;
	}
	if (!read_file(mf, &text, &len))
		sha256_hex(text, len, got);
	free(text);
	if (want && strcmp(got, want)) {
		sb_addf(bad, "%s: its manifest is not the one fleet.json pins (changed)\n", gd);
		fails++;
	}
	if (gateway_keys) {
		char *kf = xstrdup_printf("%s/%s.pub", gateway_keys, name);
		struct strbuf kerr = {0};
		pinned = kf && !ww_ev_pub_load(kf, pk, &kerr);
		if (!pinned) {
			sb_addf(bad, "%s: no pinned key: %s\n", gd, sb_str(&kerr));
			fails++;
		}
		free(kf);
		sb_free(&kerr);
	}
	if (!gateway_keys || pinned) {
		struct strbuf o2 = {0}, w2 = {0};
		bool unchecked;
		const char *one[1] = {gd};
		int n = ww_evidence_verify(one, 1, pinned ? pk : NULL, &o2, bad, &w2, &unchecked);
		if (n < 0)
			fails = n;
		else if (n)
			fails += n;
		else
			sb_addf(out, "ok %s: gateway %s's bundle, signed by %s\n", gd, name,
				pinned ? "its pinned key"
				       : "the key it carries (pass --gateway-keys to know whose)");
		sb_free(&o2);
		sb_free(&w2);
	}
out:
	free(gd);
	free(mf);
	return fails;
}

/* A bundle under gateways/ that fleet.json (its gateways gws) does not pin proves nothing: said
 * in warn. */
static void warn_unpinned(const char *dir, const cJSON *gws, struct strbuf *warn)
{
	char *gd = xstrdup_printf("%s/gateways", dir);
	DIR *d = gd ? opendir(gd) : NULL;
	struct dirent *de;

	while (d && (de = readdir(d))) {
		bool pinned = *de->d_name == '.';
		for (const cJSON *g = cJSON_IsArray(gws) ? gws->child : NULL; g && !pinned;
		     g = g->next)
			pinned = cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(g, "evidence")) &&
				 str_at(g, "name", NULL) &&
				 !strcmp(str_at(g, "name", NULL), de->d_name);
		if (!pinned)
			sb_addf(warn, "%s/%s: not in fleet.json: not covered by the signature\n",
				gd, de->d_name);
	}
	if (d)
		closedir(d);
	free(gd);
}

int ww_fleet_evidence_verify(const char *dir, const uint8_t *publisher_pk, const char *gateway_keys,
			     struct strbuf *out, struct strbuf *bad, struct strbuf *warn)
{
	char *text = NULL, *p = xstrdup_printf("%s/fleet.json", dir);
	size_t len;
	cJSON *f = NULL;
	int fails = 0;

	if (!p)
		return -ENOMEM;
	if (read_file(p, &text, &len)) {
		free(p);
		return 0; /* not a fleet bundle */
	}
	f = cJSON_ParseWithLength(text, len);
	free(text);
	if (!f || strcmp(str_at(f, "format", NULL) ? str_at(f, "format", NULL) : "",
			 WW_FLEET_EVIDENCE_FORMAT)) {
		sb_addf(bad, "%s: not a %s summary\n", p, WW_FLEET_EVIDENCE_FORMAT);
		fails++;
		goto out;
	}
	if (str_at(f, "published", "record"))
		fails += verify_record(dir, f, publisher_pk, out, bad, warn);
	/* every gateway bundle it names, and only those */
	const cJSON *gws = cJSON_GetObjectItemCaseSensitive(f, "gateways");
	for (const cJSON *g = cJSON_IsArray(gws) ? gws->child : NULL; g; g = g->next) {
		const char *name = str_at(g, "name", NULL);
		const cJSON *ev = cJSON_GetObjectItemCaseSensitive(g, "evidence");
		if (!name || !cJSON_IsObject(ev) || strchr(name, '/') || *name == '.')
			continue;
		int n = verify_gateway(dir, name, str_at(ev, "manifest_sha256", NULL),
				       gateway_keys, out, bad);
		if (n < 0) {
			fails = n;
			goto out;
		}
		fails += n;
	}
	warn_unpinned(dir, gws, warn);
out:
	cJSON_Delete(f);
	free(p);
	return fails;
}
