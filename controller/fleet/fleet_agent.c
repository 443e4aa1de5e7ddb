// SPDX-License-Identifier: GPL-2.0-only
/*
 * The agent: watch KEY/ (the policy record and every gateway's status), verify a new record
 * against the pinned publisher key, hold back until the canaries report it enforced, apply this
 * gateway's part with ww_apply (one transaction), and keep KEY/status/NAME up to date under a
 * lease. It logs one line per decision on stderr (the journal, under systemd).
 *
 * What it holds survives a restart: STATE/fleet/NAME.record is the signed record now enforced
 * and NAME.prev the one before (what a halted canary returns to). A record is written there only
 * after the kernel took it, so an agent killed mid-apply finds either the old record with the
 * old ruleset, or the old record with the new ruleset; it re-applies what it holds, then
 * whatever etcd has, and converges either way.
 *
 * Evidence: after each generation it enforces (and every evidence_every seconds), the agent
 * exports an evidence bundle of its kernel as `evidence export` does (chained in its state
 * directory, signed with its own key, STATE/keys/evidence.key, made at first start) and puts its
 * files under KEY/evidence/NAME, outside the range it watches, for `evidence export --fleet`.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "collect.h"
#include "confirm.h"
#include "etcd.h"
#include "evidence.h"
#include "fleet.h"
#include "policy.h"
#include "probe_run.h"
#include "state.h"
#include "timeutil.h"

struct agent {
	const struct ww_agent_opts *o;
	struct ww_etcd *e;
	char *kpol, *kstat, *kstat_prefix, *kwatch, *kwatch_end, *kevid, *dir, *keydir, *f_rec,
		*f_prev;
	int64_t lease;
	int64_t next_keepalive;
	/* what the kernel enforces */
	struct ww_fleet_env held, prev;
	char *held_text, *prev_text;
	size_t held_len, prev_len;
	char part_sha256[65];
	/* the newest record in etcd */
	char *latest;
	size_t latest_len;
	bool latest_dirty, statuses_dirty;
	int64_t latest_seen_ms; /* when the watch (or a read) brought it */
	/* status */
	char state[24];
	unsigned long refused_gen;
	struct strbuf last_error;
	bool drift, status_dirty, etcd_down;
	double apply_ms, prepare_ms; /* ww_apply; check and cut before it */
	size_t probes_ok;	     /* probes that connected after its last apply */
	int64_t enforced_at_ms, seen_at_ms; /* of the generation enforced */
	int64_t last_report;
	/* evidence */
	bool evidence_due;
	int64_t next_evidence;	/* monotonic ms */
	unsigned long evidence_seq;
	struct strbuf evidence_error;
	/* a bundle exported but not yet put (etcd away, a role without the key) */
	struct strbuf ev_pending;
	unsigned long ev_pending_seq;
	int64_t next_put, put_backoff; /* monotonic ms */
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void logf_(struct agent *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void logf_(struct agent *a, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "wardwall agent %s: ", a->o->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void set_state(struct agent *a, const char *state, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_state(struct agent *a, const char *state, const char *fmt, ...)
{
	va_list ap;

	if (state != a->state)
		snprintf(a->state, sizeof(a->state), "%s", state);
	if (fmt) {
		sb_reset(&a->last_error);
		va_start(ap, fmt);
		sb_vaddf(&a->last_error, fmt, ap);
		va_end(ap);
		logf_(a, "%s: %s", state, sb_str(&a->last_error));
	}
	a->status_dirty = true;
}

/* ---- status ---------------------------------------------------------------------------------- */

static void status_json(struct agent *a, struct strbuf *out)
{
	char when[WW_TIME_STRLEN];
	bool healthy = !strcmp(a->state, "converged") && !a->drift && !a->last_error.len;

	sb_add(out, "{\"name\": ");
	sb_add_json_str(out, a->o->name);
	sb_addf(out, ", \"generation\": %lu, \"record_sha256\": \"%s\", \"policy_sha256\": \"%s\", "
		     "\"part_sha256\": \"%s\", \"state\": \"%s\", \"refused_generation\": %lu, "
		     "\"drift\": %s, \"health\": \"%s\", \"last_error\": ",
		a->held.generation, a->held.record_sha256, a->held.policy_sha256, a->part_sha256,
		a->state, a->refused_gen, a->drift ? "true" : "false",
		healthy ? "ok" : !strcmp(a->state, "converged") ? "degraded" : "failing");
	if (a->last_error.len)
		sb_add_json_str(out, sb_str(&a->last_error));
	else
		sb_add(out, "null");
	sb_addf(out, ", \"probes_ok\": %zu, \"evidence_seq\": %lu, \"evidence_error\": ",
		a->probes_ok, a->evidence_seq);
	if (a->evidence_error.len)
		sb_add_json_str(out, sb_str(&a->evidence_error));
	else
		sb_add(out, "null");
	sb_addf(out, ", \"seen_at_ms\": %lld, \"prepare_ms\": %.1f, \"apply_ms\": %.1f, "
		     "\"enforced_at_ms\": %lld, \"updated\": \"%s\", \"updated_ms\": %lld, "
		     "\"pid\": %d}",
		(long long)a->seen_at_ms, a->prepare_ms, a->apply_ms, (long long)a->enforced_at_ms,
		ww_time_str(time(NULL), when), (long long)now_ms(), (int)getpid());
}

static int report(struct agent *a)
{
	struct strbuf s = {0}, err = {0};
	int ret;

	if (!a->e || !a->lease)
		return -ENOTCONN;
	status_json(a, &s);
	ret = ww_etcd_put(a->e, a->kstat, sb_str(&s), s.len, a->lease, &err);
	if (ret)
		logf_(a, "cannot report status: %s", sb_str(&err));
	else
		a->status_dirty = false, a->last_report = mono_ms();
	sb_free(&s);
	sb_free(&err);
	return ret;
}

/* ---- holding records locally ----------------------------------------------------------------- */

static int save(struct agent *a, const char *file, const char *text, size_t len)
{
	int ret = write_file_atomic(file, text, len, 0600);

	if (ret)
		logf_(a, "%s: %s", file, strerror(-ret));
	return ret;
}

static void load_held(struct agent *a)
{
	struct strbuf err = {0};
	char *t;
	size_t n;

	if (!read_file(a->f_rec, &t, &n)) {
		if (ww_fleet_env_verify(a->o->pk, t, n, &a->held, &err)) {
			logf_(a, "%s: %s: not held", a->f_rec, sb_str(&err));
			free(t);
		} else {
			a->held_text = t, a->held_len = n;
		}
	}
	sb_reset(&err);
	if (!read_file(a->f_prev, &t, &n)) {
		if (ww_fleet_env_verify(a->o->pk, t, n, &a->prev, &err))
			free(t);
		else
			a->prev_text = t, a->prev_len = n;
	}
	sb_free(&err);
}

/* ---- applying a record ----------------------------------------------------------------------- */

/* This gateway's part of env's policy, applied. Returns 0 or -errno, said in a->last_error. */
static int enforce(struct agent *a, const struct ww_fleet_env *env)
{
	struct strbuf diags = {0}, err = {0}, out = {0};
	struct ww_policy *whole = NULL, *part = NULL;
	struct ww_apply_result r = {0};
	char *part_text = NULL, src[96];
	int64_t t_start = mono_ms();
	int ret;

	ret = ww_fleet_policy("published policy", env->policy, env->policy_len, time(NULL), &whole,
			      &diags);
	if (ret) {
		set_state(a, "failed", "generation %lu is not a valid policy here: %s",
			  env->generation, sb_str(&diags));
		goto out;
	}
	if (whole->ngws) {
		if ((ret = ww_fleet_part(whole, env->policy, env->policy_len, a->o->name, &part_text,
					 &err))) {
			set_state(a, "failed", "generation %lu: %s", env->generation, sb_str(&err));
			goto out;
		}
		struct ww_diags d = {.file = "part"};
		ret = ww_policy_parse("part", part_text, strlen(part_text), &d, &part);
		ww_diags_free(&d);
		if (ret) {
			set_state(a, "failed", "generation %lu: this gateway's part does not parse",
				  env->generation);
			goto out;
		}
	}
	snprintf(src, sizeof(src), "fleet generation %lu", env->generation);
	struct ww_apply_opts ao = {.state_dir = a->o->state_dir, .bpffs = a->o->bpffs,
				   .source = src, .action = "apply"};
	const struct ww_policy *mine = part ? part : whole;
	/* what a failed probe rolls back to: the generation the kernel has now */
	unsigned long previous = 0;
	struct ww_state *st = NULL;
	struct ww_generation cur;
	if (!ww_state_open(a->o->state_dir, false, &st, &err) && !ww_state_current(st, &cur))
		previous = cur.gen;
	ww_state_close(st);
	sb_reset(&err);
	int64_t t0 = mono_ms();
	a->prepare_ms = (double)(t0 - t_start);
	ret = ww_apply(mine, &ao, &r, &err);
	a->apply_ms = (double)(mono_ms() - t0);
	if (ret) {
		set_state(a, "failed", "generation %lu: apply failed, the kernel is unchanged: %s",
			  env->generation, sb_str(&err));
		goto out;
	}
	if (r.recovered.found)
		previous = r.recovered.gen;
	/* The health probes of this gateway's part, for real, after the change (as apply does):
	 * one that fails puts back what the kernel had, at once. */
	a->probes_ok = 0;
	if (r.changed && mine->nprobes) {
		const struct ww_probe *bad = NULL;
		sb_reset(&err);
		int pe = ww_probes_run(mine, &bad, &err);
		if (pe && bad) {
			struct strbuf rerr = {0};
			int re = ww_rollback_to(a->o->state_dir, a->o->bpffs, previous, NULL, &rerr);
			set_state(a, "failed",
				  "generation %lu: probe \"%s\" failed after the apply: %s; %s%s",
				  env->generation, bad->id, sb_str(&err),
				  re ? "ROLLING BACK FAILED: " : previous ? "rolled back" :
				  "removed (nothing before)", re ? sb_str(&rerr) : "");
			sb_free(&rerr);
			ret = -EHOSTUNREACH;
			goto out;
		}
		a->probes_ok = mine->nprobes;
	}
	ww_policy_hash(part ? part : whole, a->part_sha256);
	a->enforced_at_ms = now_ms();
	ww_apply_report(part ? part : whole, &r, false, &out);
	logf_(a, "generation %lu: %s", env->generation, sb_str(&out));
out:
	free(part_text);
	ww_policy_free(part);
	ww_policy_free(whole);
	sb_free(&diags);
	sb_free(&err);
	sb_free(&out);
	return ret;
}

/* Is the kernel what the held generation compiles to? Read back, not assumed. */
static void check_drift(struct agent *a)
{
	struct ww_collect c = {0};
	struct strbuf err = {0};

	if (!a->held.generation)
		return;
	if (ww_collect(a->o->state_dir, a->o->bpffs, &c, &err)) {
		a->drift = true;
	} else {
		bool d = !ww_collect_in_sync(&c) || strcmp(c.gen.policy_sha256, a->part_sha256);
		if (d != a->drift)
			a->status_dirty = true;
		a->drift = d;
	}
	ww_collect_free(&c);
	sb_free(&err);
}

/* Takes env (and its text) as the held record; the previous one becomes prev. */
static void hold(struct agent *a, struct ww_fleet_env *env, char *text, size_t len)
{
	if (a->held.generation) {
		save(a, a->f_prev, a->held_text, a->held_len);
		ww_fleet_env_free(&a->prev);
		free(a->prev_text);
		a->prev = a->held, a->prev_text = a->held_text, a->prev_len = a->held_len;
	}
	save(a, a->f_rec, text, len);
	a->held = *env, a->held_text = text, a->held_len = len;
	memset(env, 0, sizeof(*env));
}

/* ---- evidence -------------------------------------------------------------------------------- */

/* Makes this gateway's evidence key at first start, as `evidence keygen` would. */
static void evidence_key(struct agent *a)
{
	struct strbuf err = {0};
	char fp[65], *kfile = xstrdup_printf("%s/evidence.key", a->keydir);
	struct stat st;

	if (kfile && stat(kfile, &st) && errno == ENOENT) {
		mkdir(a->keydir, 0700);
		if (ww_ev_keygen(a->keydir, false, fp, &err))
			logf_(a, "no evidence key: %s", sb_str(&err));
		else
			logf_(a, "made this gateway's evidence key %s (sha256 %s)", kfile, fp);
	}
	free(kfile);
	sb_free(&err);
}

/* Puts the bundle waiting in ev_pending; when etcd refuses or is away, again later (5 s,
 * doubling to 5 min): never a new export for each try. */
static void put_evidence(struct agent *a)
{
	struct strbuf err = {0};

	if (!a->ev_pending.len || mono_ms() < a->next_put)
		return;
	sb_reset(&a->evidence_error);
	if (a->e && !ww_etcd_put(a->e, a->kevid, sb_str(&a->ev_pending), a->ev_pending.len, 0,
				 &err)) {
		a->evidence_seq = a->ev_pending_seq;
		logf_(a, "evidence bundle %lu (generation %lu) at %s", a->ev_pending_seq,
		      a->held.generation, a->kevid);
		sb_free(&a->ev_pending);
	} else {
		a->put_backoff = a->put_backoff ? a->put_backoff * 2 : 5000;
		if (a->put_backoff > 300000)
			a->put_backoff = 300000;
		a->next_put = mono_ms() + a->put_backoff;
		sb_addf(&a->evidence_error, "evidence bundle %lu not put at %s: %s (again in %lld s)",
			a->ev_pending_seq, a->kevid, a->e ? sb_str(&err) : "etcd unreachable",
			(long long)(a->put_backoff / 1000));
		logf_(a, "%s", sb_str(&a->evidence_error));
	}
	a->status_dirty = true;
	sb_free(&err);
}

/*
 * Exports a bundle of what the kernel holds and puts it under KEY/evidence/NAME:
 * {"gateway", "generation", "time", "manifest_sha256", "files": {NAME: BASE64}}. A failure is
 * reported in the status (evidence_error), never in the enforcement.
 */
static void evidence(struct agent *a)
{
	static const char *const names[] = {"evidence.json", WW_EV_PUB, WW_EV_MANIFEST, WW_EV_SIG};
	struct ww_ev_export_opts eo = {.state_dir = a->o->state_dir, .bpffs = a->o->bpffs,
				       .formats = WW_EV_F_JSON};
	struct ww_ev_export x;
	struct strbuf said = {0}, err = {0}, v = {0};
	char when[WW_TIME_STRLEN];

	a->evidence_due = false;
	a->next_evidence = a->o->evidence_every > 0 ? mono_ms() + a->o->evidence_every * 1000LL
						    : INT64_MAX;
	if (ww_evidence_export(&eo, &x, &said, &err)) {
		sb_reset(&a->evidence_error);
		sb_addf(&a->evidence_error, "evidence export: %s", sb_str(&err));
		logf_(a, "%s", sb_str(&a->evidence_error));
		a->status_dirty = true;
		/* the state lock held by a local apply or export, a full disk: again soon */
		a->next_evidence = mono_ms() + 5000;
		goto out;
	}
	if (said.len)
		logf_(a, "evidence: %s", sb_str(&said));
	sb_add(&v, "{\"gateway\": ");
	sb_add_json_str(&v, a->o->name);
	sb_addf(&v, ", \"generation\": %lu, \"seq\": %lu, \"time\": \"%s\", "
		    "\"manifest_sha256\": \"%s\", \"files\": {",
		a->held.generation, x.w.seq, ww_time_str(x.ev.time, when), x.w.manifest_sha256);
	int ret = 0;
	for (size_t i = 0; i < ARRAY_SIZE(names) && !ret; i++) {
		char *p = xstrdup_printf("%s/%s", x.dir, names[i]), *body = NULL;
		size_t len = 0;
		ret = p ? read_file(p, &body, &len) : -ENOMEM;
		if (!ret) {
			sb_addf(&v, "%s\"%s\": \"", i ? ", " : "", names[i]);
			ww_ev_base64(body, len, &v);
			sb_add(&v, "\"");
		} else {
			sb_addf(&err, "%s: %s", p ? p : names[i], strerror(-ret));
		}
		free(p);
		free(body);
	}
	sb_add(&v, "}}");
	if (ret || v.oom) {
		sb_reset(&a->evidence_error);
		sb_addf(&a->evidence_error, "evidence bundle %lu: %s", x.w.seq,
			err.len ? sb_str(&err) : strerror(ENOMEM));
		a->status_dirty = true;
	} else {
		/* a newer bundle replaces one still waiting to be put */
		sb_free(&a->ev_pending);
		a->ev_pending = v, a->ev_pending_seq = x.w.seq;
		memset(&v, 0, sizeof(v));
		a->next_put = 0, a->put_backoff = 0;
		put_evidence(a);
	}
	ww_ev_export_free(&x);
out:
	sb_free(&said);
	sb_free(&err);
	sb_free(&v);
}

/* ---- the rollout --------------------------------------------------------------------------- */

/* What the canaries say of generation gen: 1 every one enforces it, 0 not yet, -1 one refused
 * it (*who names it). Read from their status records. */
static int canaries(struct agent *a, const struct ww_fleet_env *env, char **who)
{
	struct ww_etcd_range r = {0};
	struct strbuf err = {0};
	int verdict = 1;

	if (ww_etcd_get(a->e, a->kstat_prefix, true, &r, &err)) {
		sb_free(&err);
		return 0;
	}
	for (size_t i = 0; i < env->ncanaries && verdict >= 0; i++) {
		char *k = xstrdup_printf("%s%s", a->kstat_prefix, env->canaries[i]);
		bool found = false;
		for (size_t j = 0; k && j < r.n && !found; j++) {
			if (strcmp(r.kvs[j].key, k))
				continue;
			found = true;
			cJSON *s = cJSON_ParseWithLength(r.kvs[j].value, r.kvs[j].vlen);
			double g = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "generation"));
			double rg = cJSON_GetNumberValue(cJSON_GetObjectItem(s, "refused_generation"));
			const char *st = cJSON_GetStringValue(cJSON_GetObjectItem(s, "state"));
			if ((unsigned long)rg == env->generation) {
				verdict = -1;
				*who = strdup(env->canaries[i]);
			} else if ((unsigned long)g != env->generation || !st ||
				   strcmp(st, "converged")) {
				verdict = 0;
			}
			cJSON_Delete(s);
		}
		if (!found)
			verdict = 0;
		free(k);
	}
	ww_etcd_range_free(&r);
	sb_free(&err);
	return verdict;
}

/* A canary that enforces a generation another canary refused returns to the one before. */
static void roll_back(struct agent *a, const char *who)
{
	unsigned long bad = a->held.generation;
	struct ww_fleet_env env;
	struct strbuf err = {0};

	if (!a->prev.generation || ww_fleet_env_verify(a->o->pk, a->prev_text, a->prev_len, &env,
						       &err)) {
		set_state(a, "halted", "rollout of generation %lu halted (canary %s failed), and "
				       "no previous generation is held to return to",
			  bad, who);
		a->refused_gen = bad;
		sb_free(&err);
		return;
	}
	if (enforce(a, &env)) {
		ww_fleet_env_free(&env);
		a->refused_gen = bad;
		return;
	}
	/* the held record becomes the previous one again */
	char *text = a->prev_text;
	size_t len = a->prev_len;
	a->prev_text = NULL;
	ww_fleet_env_free(&a->prev);
	save(a, a->f_rec, text, len);
	ww_fleet_env_free(&a->held);
	free(a->held_text);
	a->held = env, a->held_text = text, a->held_len = len;
	a->refused_gen = bad;
	set_state(a, "rolled-back", "generation %lu rolled back to %lu: canary %s failed", bad,
		  a->held.generation, who);
	a->evidence_due = true;
	sb_free(&err);
}

static void evaluate(struct agent *a)
{
	struct ww_fleet_env env = {0};
	struct strbuf err = {0};
	char *who = NULL;

	if (!a->latest)
		return;
	if (a->latest_dirty) {
		a->latest_dirty = false;
		int ret = ww_fleet_env_verify(a->o->pk, a->latest, a->latest_len, &env, &err);
		if (ret) {
			set_state(a, a->held.generation ? a->state : "refused",
				  "refused the record at %s: %s", a->kpol, sb_str(&err));
			a->status_dirty = true;
			goto out;
		}
		if (env.generation < a->held.generation) {
			set_state(a, a->state, "refused generation %lu: older than generation %lu, "
					       "which this gateway enforces (a replayed record)",
				  env.generation, a->held.generation);
			goto out;
		}
		if (env.generation == a->held.generation &&
		    strcmp(env.record_sha256, a->held.record_sha256)) {
			set_state(a, a->state, "refused a second, different record for generation "
					       "%lu",
				  env.generation);
			goto out;
		}
		ww_fleet_env_free(&env);
	}
	/* the newest record verified; is it ours to apply now? */
	if ((ww_fleet_env_verify(a->o->pk, a->latest, a->latest_len, &env, &err)))
		goto out;
	bool canary = ww_fleet_env_is_canary(&env, a->o->name);
	if (env.generation == a->held.generation) {
		if (canary && env.ncanaries > 1 && a->refused_gen != env.generation &&
		    canaries(a, &env, &who) < 0)
			roll_back(a, who);
		goto out;
	}
	if (env.generation < a->held.generation || env.generation == a->refused_gen)
		goto out;
	if (!canary && env.ncanaries) {
		int v = canaries(a, &env, &who);
		if (v < 0) {
			if (strcmp(a->state, "halted"))
				set_state(a, "halted", "rollout of generation %lu halted: canary %s "
						       "failed it; generation %lu stays enforced",
					  env.generation, who, a->held.generation);
			goto out;
		}
		if (v == 0) {
			if (strcmp(a->state, "waiting"))
				set_state(a, "waiting", NULL);
			logf_(a, "generation %lu: waiting for the canaries", env.generation);
			goto out;
		}
	}
	set_state(a, "applying", NULL);
	report(a);
	a->seen_at_ms = a->latest_seen_ms;
	if (enforce(a, &env)) {
		a->refused_gen = env.generation;
		goto out;
	}
	char *text = malloc(a->latest_len + 1);
	if (!text)
		goto out;
	memcpy(text, a->latest, a->latest_len);
	text[a->latest_len] = '\0';
	hold(a, &env, text, a->latest_len);
	sb_reset(&a->last_error);
	check_drift(a);
	set_state(a, "converged", NULL);
	a->evidence_due = true;
out:
	free(who);
	ww_fleet_env_free(&env);
	sb_free(&err);
}

/* ---- etcd ------------------------------------------------------------------------------------ */

static void on_kv(struct agent *a, const struct ww_etcd_kv *kv, bool deleted)
{
	if (!strcmp(kv->key, a->kpol)) {
		if (deleted) {
			logf_(a, "%s was deleted: generation %lu stays enforced", a->kpol,
			      a->held.generation);
			return;
		}
		char *c = malloc(kv->vlen + 1);
		if (!c)
			return;
		memcpy(c, kv->value, kv->vlen + 1);
		free(a->latest);
		a->latest = c, a->latest_len = kv->vlen, a->latest_dirty = true;
		a->latest_seen_ms = now_ms();
	} else if (!strncmp(kv->key, a->kstat_prefix, strlen(a->kstat_prefix))) {
		a->statuses_dirty = true;
		if (deleted && !strcmp(kv->key, a->kstat))
			a->status_dirty = true; /* our own record expired: write it again */
	}
}

static void on_event(void *ctx, const struct ww_etcd_event *ev)
{
	on_kv(ctx, &ev->kv, ev->deleted);
}

static void pause_ms(struct agent *a, int ms)
{
	for (int i = 0; i < ms / 50 && !*a->o->stop; i++)
		usleep(50000);
}

/*
 * Keeps the status lease alive (every ttl/3), and reads the kernel back now and then: drift
 * shows without a publish. Sets *end when this session should end: the client moved on to
 * another member (the watch must follow it there), or the lease expired. Returns 0 or -errno.
 */
static int keepalive(struct agent *a, const char *watch_url, bool *end, struct strbuf *err)
{
	int64_t ttl = 0;
	int ret;

	if ((ret = ww_etcd_lease_keepalive(a->e, a->lease, &ttl, err)))
		return ret;
	a->next_keepalive = mono_ms() + a->o->ttl * 1000 / 3;
	if (watch_url && strcmp(watch_url, ww_etcd_endpoint(a->e))) {
		logf_(a, "%s did not answer: watching from %s", watch_url, ww_etcd_endpoint(a->e));
		*end = true; /* the next session reads afresh and watches there */
		return 0;
	}
	if (ttl <= 0) {
		logf_(a, "the status lease expired: a new one");
		a->lease = 0;
		*end = true;
		return 0;
	}
	if (mono_ms() - a->last_report > 30000) {
		check_drift(a);
		a->status_dirty = true;
	}
	return 0;
}

/*
 * Follows the watch until a stop, or until the session should end (returns 0), or something
 * breaks (returns -errno).
 */
static int watch(struct agent *a, struct ww_etcd_watch *w, struct strbuf *err)
{
	/* A member cut off by the network cannot tell us it lost the leader: the stream just goes
	 * quiet. The keepalives notice (they time out and move on to the next member); the watch
	 * then follows them there. */
	char *watch_url = strdup(ww_etcd_endpoint(a->e));
	bool end = false;
	int ret = 0;

	while (!*a->o->stop) {
		ret = ww_etcd_watch_poll(w, 1000, on_event, a, err);
		if (ret == -ESTALE) {
			logf_(a, "%s: reading afresh", sb_str(err));
			ret = 0;
			break;
		}
		if (ret)
			break;
		if (a->latest_dirty || (a->statuses_dirty && strcmp(a->state, "converged")) ||
		    (a->statuses_dirty && a->latest && a->held.ncanaries > 1))
			evaluate(a);
		a->statuses_dirty = false;
		if (mono_ms() >= a->next_keepalive &&
		    ((ret = keepalive(a, watch_url, &end, err)) || end))
			break;
		if (a->status_dirty && (ret = report(a)))
			break;
		/* after the status: evidence never delays a gateway reporting it converged */
		if (!a->o->no_evidence && (a->evidence_due || mono_ms() >= a->next_evidence))
			evidence(a);
		put_evidence(a);
		if (a->status_dirty && (ret = report(a)))
			break;
	}
	free(watch_url);
	return ret;
}

/* One connection's life: lease, read, watch until something breaks. */
static void session(struct agent *a)
{
	struct strbuf err = {0};
	struct ww_etcd_range r = {0};
	struct ww_etcd_watch *w = NULL;
	int ret;

	if (!a->e && (ret = ww_fleet_connect(a->o->conn, &a->e, &err)))
		goto down;
	if (!a->lease) {
		if ((ret = ww_etcd_lease_grant(a->e, a->o->ttl, &a->lease, &err)))
			goto down;
		a->next_keepalive = mono_ms() + a->o->ttl * 1000 / 3;
		a->status_dirty = true;
	}
	if ((ret = ww_etcd_get_range(a->e, a->kwatch, a->kwatch_end, &r, &err)))
		goto down;
	if (a->etcd_down)
		logf_(a, "etcd reachable again at %s", ww_etcd_endpoint(a->e));
	a->etcd_down = false;
	for (size_t i = 0; i < r.n; i++)
		on_kv(a, &r.kvs[i], false);
	evaluate(a);
	report(a);
	if (!a->o->no_evidence && (a->evidence_due || mono_ms() >= a->next_evidence))
		evidence(a), report(a);
	if (a->o->once)
		goto out;
	if ((ret = ww_etcd_watch_range(a->e, a->kwatch, a->kwatch_end, r.revision + 1, &w,
				       &err)) ||
	    (ret = watch(a, w, &err)))
		goto down;
	goto out;
down:
	if (!a->etcd_down)
		logf_(a, "etcd unreachable (%s): generation %lu stays enforced (fail-static); "
			 "retrying",
		      sb_str(&err), a->held.generation);
	a->etcd_down = true;
	/* a member that lost the cluster may have lost our lease too: ask again */
	if (ret == -EPERM)
		a->lease = 0;
	pause_ms(a, 500);
out:
	ww_etcd_watch_stop(w);
	ww_etcd_range_free(&r);
	sb_free(&err);
}

int ww_agent_run(const struct ww_agent_opts *o, struct strbuf *err)
{
	struct agent a = {.o = o};
	const char *dir = o->state_dir ? o->state_dir : getenv("WARDWALL_STATE_DIR");
	int ret = -ENOMEM;

	snprintf(a.state, sizeof(a.state), "starting");
	a.kpol = ww_fleet_key(o->conn, "policy");
	a.kstat_prefix = ww_fleet_key(o->conn, "status/");
	a.kstat = a.kstat_prefix ? xstrdup_printf("%s%s", a.kstat_prefix, o->name) : NULL;
	/* What it reads and watches: KEY/generation, KEY/policy and KEY/status/, not the
	 * evidence under KEY/evidence/ (which sorts before them). */
	a.kwatch = ww_fleet_key(o->conn, "generation");
	a.kwatch_end = ww_fleet_key(o->conn, "status0"); /* '0' follows '/' */
	a.kevid = ww_fleet_key(o->conn, "evidence/");
	if (a.kevid) {
		char *k = xstrdup_printf("%s%s", a.kevid, o->name);
		free(a.kevid);
		a.kevid = k;
	}
	a.dir = xstrdup_printf("%s/fleet", dir && *dir ? dir : WW_STATE_DIR);
	a.keydir = xstrdup_printf("%s/keys", dir && *dir ? dir : WW_STATE_DIR);
	a.f_rec = a.dir ? xstrdup_printf("%s/%s.record", a.dir, o->name) : NULL;
	a.f_prev = a.dir ? xstrdup_printf("%s/%s.prev", a.dir, o->name) : NULL;
	if (!a.kpol || !a.kwatch || !a.kwatch_end || !a.kevid || !a.keydir || !a.kstat ||
	    !a.f_rec || !a.f_prev)
		goto out;
	struct ww_state *st = NULL;
	if ((ret = ww_state_open(o->state_dir, false, &st, err)))
		goto out;
	ww_state_close(st);
	if (mkdir(a.dir, 0700) && errno != EEXIST) {
		ret = -errno;
		sb_addf(err, "%s: %s", a.dir, strerror(errno));
		goto out;
	}
	ret = -ENOMEM;
	if (!o->no_evidence)
		evidence_key(&a);
	load_held(&a);
	if (a.held.generation) {
		/* whatever a killed predecessor left, the kernel holds this record again */
		logf_(&a, "holding generation %lu: enforcing it before asking etcd",
		      a.held.generation);
		if (!enforce(&a, &a.held)) {
			check_drift(&a);
			set_state(&a, "converged", NULL);
		}
	}
	while (!*o->stop) {
		session(&a);
		if (o->once)
			break;
	}
	ret = 0;
out:
	ww_etcd_close(a.e);
	ww_fleet_env_free(&a.held);
	ww_fleet_env_free(&a.prev);
	free(a.held_text);
	free(a.prev_text);
	free(a.latest);
	free(a.kpol);
	free(a.kwatch);
	free(a.kwatch_end);
	free(a.kevid);
	free(a.keydir);
	free(a.kstat_prefix);
	free(a.kstat);
	free(a.dir);
	free(a.f_rec);
	free(a.f_prev);
	sb_free(&a.last_error);
	sb_free(&a.evidence_error);
	sb_free(&a.ev_pending);
	return ret;
}
