// SPDX-License-Identifier: GPL-2.0-only
#include "unchanged.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "failsafe.h"
#include "intent.h"
#include "json.h"
#include "nft_mark.h"
#include "nft_nl.h"
#include "snapshot.h"
#include "timeutil.h"
#include "wardwall.h"
#include "xdp_tier.h"

/* <state dir>/apply-source.json, as written by ww_apply_source_note. */
struct rec {
	char *path, *name, *diags;
	char sha256[65], policy_sha256[65], counters_sha256[65];
	uint32_t genid;
	int64_t time, until; /* the analysis ran at time; its text holds until then (0: always) */
	size_t nchains, nsets, ncounters;
	int family;
	bool host;
};

static void rec_free(struct rec *r)
{
	free(r->path);
	free(r->name);
	free(r->diags);
}

void ww_unchanged_free(struct ww_unchanged *u)
{
	free(u->name);
	free(u->diags);
	memset(u, 0, sizeof(*u));
}

static char *rec_path(const char *dir)
{
	return xstrdup_printf("%s/apply-source.json", dir);
}

/* The sha256 of counters.json's bytes ("" when it cannot be read). */
static void counters_sha256(const char *dir, char out[65])
{
	char *path = xstrdup_printf("%s/counters.json", dir), *text = NULL;
	size_t len = 0;

	out[0] = '\0';
	if (path && !read_file(path, &text, &len))
		sha256_hex(text, len, out);
	free(path);
	free(text);
}

static bool get_str(const cJSON *o, const char *key, char **dup, char *fixed, size_t size)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsString(v))
		return false;
	if (dup)
		return (*dup = strdup(v->valuestring)) != NULL;
	if (strlen(v->valuestring) >= size)
		return false;
	memcpy(fixed, v->valuestring, strlen(v->valuestring) + 1);
	return true;
}

static bool get_num(const cJSON *o, const char *key, double *v)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!cJSON_IsNumber(n) || n->valuedouble < 0)
		return false;
	*v = n->valuedouble;
	return true;
}

/* Reads the record: 0, or -ENOENT / -EBADMSG (no usable record). */
static int rec_load(const char *dir, struct rec *r)
{
	char *path = rec_path(dir), *text = NULL;
	double genid, t, un, ch, ms, co, fam;
	cJSON *o;
	int e = path ? read_file(path, &text, NULL) : -ENOMEM;

	free(path);
	memset(r, 0, sizeof(*r));
	if (e)
		return e;
	o = cJSON_Parse(text);
	free(text);
	const cJSON *host = cJSON_GetObjectItemCaseSensitive(o, "host");
	bool ok =
	    get_str(o, "path", &r->path, NULL, 0) && get_str(o, "name", &r->name, NULL, 0) &&
	    get_str(o, "diagnostics", &r->diags, NULL, 0) &&
	    get_str(o, "sha256", NULL, r->sha256, sizeof(r->sha256)) &&
	    get_str(o, "policy_sha256", NULL, r->policy_sha256, sizeof(r->policy_sha256)) &&
	    get_str(o, "counters_sha256", NULL, r->counters_sha256, sizeof(r->counters_sha256)) &&
	    get_num(o, "genid", &genid) && genid <= UINT32_MAX && get_num(o, "time", &t) &&
	    get_num(o, "until", &un) && get_num(o, "chains", &ch) && get_num(o, "maps", &ms) &&
	    get_num(o, "counters", &co) && get_num(o, "family", &fam) && cJSON_IsBool(host);
	cJSON_Delete(o);
	if (!ok) {
		rec_free(r);
		return -EBADMSG;
	}
	r->genid = (uint32_t)genid;
	r->time = (int64_t)t;
	r->until = (int64_t)un;
	r->nchains = (size_t)ch;
	r->nsets = (size_t)ms;
	r->ncounters = (size_t)co;
	r->family = (int)fam;
	r->host = cJSON_IsTrue(host);
	return 0;
}

/* The first validity window boundary of p after now (0: none): until then, every comparison
 * of a time from now on with p's boundaries answers as it does at now. */
static int64_t next_boundary(const struct ww_policy *p, int64_t now)
{
	int64_t t = 0;

	for (size_t i = 0; i < p->nflows; i++) {
		const struct ww_flow *f = &p->flows[i];
		if (f->has_from && f->valid_from > now && (!t || f->valid_from < t))
			t = f->valid_from;
		if (f->has_until && f->valid_until > now && (!t || f->valid_until < t))
			t = f->valid_until;
	}
	return t;
}

void ww_apply_source_note(struct ww_state *st, const struct ww_policy *p, const char *hash,
			  const struct ww_apply_source *src, const char *source, bool mark_holds,
			  uint32_t genid, const struct nfr_table *want, bool xdp)
{
	char *path = rec_path(ww_state_dir(st)), csum[65];
	struct strbuf out = {0};
	struct ww_jw w = {.out = &out};
	int e;

	if (!path)
		return;
	unlink(path); /* first: a failure below leaves no record, never a stale one */
	/* The analysis names the time only as the start of an invariant's time slice (" at
	 * <now>"): a text that holds it would not be said again word for word later. */
	char tb[WW_TIME_STRLEN];
	if (!src || !source || !mark_holds || xdp ||
	    (src->diags && strstr(src->diags, ww_time_str(src->now, tb)))) {
		free(path);
		return;
	}
	counters_sha256(ww_state_dir(st), csum);
	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "path", source);
	ww_jw_str(&w, "sha256", src->sha256);
	ww_jw_str(&w, "policy_sha256", hash);
	ww_jw_str(&w, "name", p->name);
	ww_jw_u64(&w, "genid", genid);
	ww_jw_i64(&w, "time", src->now);
	ww_jw_i64(&w, "until", next_boundary(p, src->now));
	ww_jw_str(&w, "diagnostics", src->diags ? src->diags : "");
	ww_jw_u64(&w, "chains", want->nchains);
	ww_jw_u64(&w, "maps", want->nsets);
	ww_jw_u64(&w, "counters", want->ncounters);
	ww_jw_u64(&w, "family", (uint64_t)want->family);
	ww_jw_bool(&w, "host", p->enf.mode == WW_HOST);
	ww_jw_str(&w, "counters_sha256", csum);
	ww_jw_end_obj(&w);
	e = out.oom || !csum[0] ? -ENOMEM : write_file_atomic(path, out.s, out.len, 0640);
	if (e)
		unlink(path);
	sb_free(&out);
	free(path);
}

/* The snapshot a no-op apply takes when one is due (snapshot.h): the nftables counters
 * counters.json names, read by name. counters.json must be the one the recorded apply wrote
 * (r->counters_sha256) whether or not a snapshot is due: a full apply would write it again. */
static int snapshot(const char *dir, struct ww_nft *nft, const struct rec *r)
{
	struct ww_state *st = NULL;
	struct nfr_table names = {.family = (enum nfr_family)r->family}, *got = NULL;
	struct strbuf err = {0};
	char **cn = NULL, csum[65];
	int64_t *since = NULL;
	size_t n = 0;
	int e;

	counters_sha256(dir, csum);
	if (strcmp(csum, r->counters_sha256))
		return -ESTALE;
	if (!ww_snapshot_due(dir, (int64_t)time(NULL)))
		return 0;
	e = ww_state_open(dir, false, &st, &err);
	if (!e)
		e = ww_state_counters_load(st, &cn, &since, &n);
	names.counters = calloc(n + 1, sizeof(*names.counters));
	if (!e && !names.counters)
		e = -ENOMEM;
	for (size_t i = 0; !e && i < n; i++)
		if (!strncmp(cn[i], "nft:", 4))
			names.counters[names.ncounters++].name = cn[i] + 4;
	if (!e)
		e = ww_nft_read_counters(nft, &names, &got, &err);
	if (!e)
		ww_snapshot_live(dir, got, NULL);
	nfr_table_free(got);
	free(names.counters);
	for (size_t i = 0; i < n; i++)
		free(cn[i]);
	free(cn);
	free(since);
	ww_state_close(st);
	sb_free(&err);
	return e;
}

/* Whether anything of wardwall's is pinned under bpffs (a full apply would remove it). */
static bool xdp_pinned(const char *bpffs)
{
	char *root = xstrdup_printf("%s/%s", ww_bpffs(bpffs), WW_PIN_DIR);
	struct stat sb;
	bool there = !root || stat(root, &sb) == 0 || errno != ENOENT;

	free(root);
	return there;
}

/* The kernel as the record says: the mark it was written with still matches. */
static bool kernel_as_recorded(struct ww_nft *nft, const char *dir, const struct rec *r)
{
	struct ww_nft_mark here, mark;

	return !ww_nft_mark_here(nft, &here) && !ww_nft_mark_load(dir, &mark) &&
	       ww_nft_mark_matches(&mark, &here) && mark.genid == r->genid &&
	       !strcmp(mark.policy_sha256, r->policy_sha256);
}

/* The state directory as the record says: nothing under way, current is the recorded policy. */
static bool state_as_recorded(struct ww_state *st, const struct rec *r, unsigned long *gen)
{
	struct ww_intent in;
	struct ww_generation cur;

	ww_state_clean_tmp(st);
	if (ww_intent_load(st, &in) != 0 || ww_state_current(st, &cur) || !cur.gen ||
	    !strcmp(cur.action, "remove") || strcmp(cur.policy_sha256, r->policy_sha256) ||
	    !ww_failsafe_exists(ww_state_dir(st)))
		return false;
	*gen = cur.gen;
	return true;
}

static double mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int ww_apply_unchanged(const struct ww_apply_opts *o, const char sha256[65], int64_t now,
		       struct ww_apply_result *r, struct ww_unchanged *u)
{
	double t0 = mono_ms();
	struct ww_state *st = NULL;
	struct ww_nft *nft = NULL;
	struct strbuf err = {0};
	struct rec rc = {0};
	unsigned long gen = 0;
	bool ok;

	memset(r, 0, sizeof(*r));
	memset(u, 0, sizeof(*u));
	if (!o->source || ww_state_open(o->state_dir, true, &st, &err)) {
		sb_free(&err);
		return 0;
	}
	ok = !rec_load(ww_state_dir(st), &rc) && !strcmp(rc.sha256, sha256) &&
	     !strcmp(rc.path, o->source) && now >= rc.time && (!rc.until || now < rc.until) &&
	     !(rc.host && !o->force && getenv("SSH_CONNECTION")) && !xdp_pinned(o->bpffs) &&
	     state_as_recorded(st, &rc, &gen) && !ww_nft_open(&nft) &&
	     kernel_as_recorded(nft, ww_state_dir(st), &rc) &&
	     !snapshot(ww_state_dir(st), nft, &rc);
	if (ok) {
		r->gen = gen;
		r->vouched = true;
		r->unparsed = true;
		r->nchains = rc.nchains;
		r->nsets = rc.nsets;
		r->ncounters = rc.ncounters;
		memcpy(u->policy_sha256, rc.policy_sha256, sizeof(u->policy_sha256));
		u->name = rc.name, rc.name = NULL;
		u->diags = rc.diags, rc.diags = NULL;
		r->ms = mono_ms() - t0;
	}
	ww_nft_close(nft);
	rec_free(&rc);
	ww_state_close(st);
	sb_free(&err);
	return ok;
}
