// SPDX-License-Identifier: GPL-2.0-only
/* wardwall apply POLICY: enforce a policy, as one transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "apply.h"
#include "cli.h"
#include "confirm.h"
#include "json.h"
#include "policy.h"
#include "probe_run.h"
#include "timeutil.h"
#include "unchanged.h"

static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};

static void report_json(const char *name, const struct ww_apply_result *r, const char *hash,
			struct strbuf *out)
{
	static const char *const ops[] = {"added", "removed", "rewritten"};
	static const char *const plural[] = {"tables", "counters", "limits", "maps", "chains"};
	struct ww_jw w = {.out = out, .compact = true};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "result", r->changed ? "applied" : "unchanged");
	ww_jw_u64(&w, "generation", r->gen);
	ww_jw_bool(&w, "recorded", r->recorded);
	ww_jw_bool(&w, "parsed", !r->unparsed);
	ww_jw_obj(&w, "policy");
	ww_jw_str(&w, "name", name);
	ww_jw_str(&w, "sha256", hash);
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "nftables");
	ww_jw_str(&w, "read", r->vouched ? "generation-unchanged" : "kernel");
	ww_jw_bool(&w, "replaced", r->replaced);
	ww_jw_u64(&w, "messages", r->messages);
	ww_jw_u64(&w, "chains", r->nchains);
	ww_jw_u64(&w, "maps", r->nsets);
	ww_jw_u64(&w, "counters", r->ncounters);
	for (int op = 0; op < 3; op++) {
		ww_jw_obj(&w, ops[op]);
		for (int k = 1; k < 5; k++)
			ww_jw_u64(&w, plural[k], r->counts[op][k]);
		ww_jw_end_obj(&w);
	}
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "xdp");
	ww_jw_bool(&w, "enabled", r->xdp);
	ww_jw_bool(&w, "switched", r->xdp_switched);
	ww_jw_bool(&w, "removed", r->xdp_removed);
	ww_jw_u64(&w, "attached", r->xdp_attached);
	ww_jw_u64(&w, "rules", r->xdp_rules);
	ww_jw_u64(&w, "lists", r->xdp_lists);
	ww_jw_u64(&w, "prefixes", r->xdp_cls);
	ww_jw_end_obj(&w);
	ww_jw_u64(&w, "probes_ok", r->probes_ok);
	if (r->confirm_deadline) {
		ww_jw_time(&w, "rollback_deadline", r->confirm_deadline);
		ww_jw_str(&w, "rollback_guard", r->confirm_guard);
	} else {
		ww_jw_null(&w, "rollback_deadline");
	}
	ww_jw_obj(&w, "sessions");
	ww_jw_u64(&w, "checked", r->sessions.checked);
	ww_jw_u64(&w, "cut", r->sessions.cut);
	ww_jw_u64(&w, "window_ends", r->sessions.window_ends);
	if (r->sessions_err[0])
		ww_jw_str(&w, "error", r->sessions_err);
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "quarantines");
	ww_jw_u64(&w, "xdp_written", r->quarantines);
	if (r->quarantine_err[0])
		ww_jw_str(&w, "error", r->quarantine_err);
	ww_jw_end_obj(&w);
	ww_jw_numf(&w, "duration_ms", "%.1f", r->ms);
	ww_jw_end_obj(&w);
}

/* The report of policy `name` (sha256 hash, with nprobes probes). */
static void report_as(const char *name, const char *hash, size_t nprobes,
		      const struct ww_apply_result *r, bool json, struct strbuf *out)
{
	static const char *const ops[] = {"added", "removed", "rewritten"};

	if (json) {
		report_json(name, r, hash, out);
		return;
	}
	if (r->confirm_deadline) {
		char tb[WW_TIME_STRLEN];
		sb_addf(out, "commit confirmed: rolled back at %s unless `wardwall confirm` (%s)\n",
			ww_time_str(r->confirm_deadline, tb), r->confirm_guard);
	}
	if (r->probes_ok)
		sb_addf(out, "probes: %zu of %zu connected after the change\n", r->probes_ok,
			nprobes);
	if (!r->changed) {
		sb_addf(
		    out,
		    "no changes: the kernel already enforces %s (sha256 %.12s), generation %lu\n",
		    name, hash, r->gen);
		return;
	}
	sb_addf(out, "applied %s (sha256 %.12s) as generation %lu in %.0f ms\n", name, hash, r->gen,
		r->ms);
	sb_addf(out, "  nftables: %zu chains, %zu maps, %zu counters; one transaction of %zu "
		     "messages%s\n",
		r->nchains, r->nsets, r->ncounters, r->messages,
		r->replaced ? " (table replaced whole: counters restart)" : "");
	if (r->xdp)
		sb_addf(out, "  xdp: %s; %zu rule entries, %zu decision lists, %zu prefixes%s%zu "
			     "interface%s newly attached\n",
			r->xdp_switched ? "new generation switched in" : "generation unchanged",
			r->xdp_rules, r->xdp_lists, r->xdp_cls, "; ", r->xdp_attached,
			r->xdp_attached == 1 ? "" : "s");
	if (r->xdp_removed)
		sb_add(out, "  xdp: removed (the policy no longer asks for it)\n");
	if (r->sessions_err[0])
		sb_addf(out, "  sessions: WARNING: connections the new policy denies were not cut: "
			     "%s\n",
			r->sessions_err);
	else if (r->sessions.cut)
		sb_addf(out, "  sessions: %lu connection%s the new policy denies cut (of %lu)\n",
			r->sessions.cut, r->sessions.cut == 1 ? "" : "s", r->sessions.checked);
	if (r->quarantine_err[0])
		sb_addf(out, "  quarantines: WARNING: not written again into the XDP maps: %s\n",
			r->quarantine_err);
	if (!r->sessions_err[0] && r->sessions.window_ends)
		sb_addf(out, "  sessions: established connections end with their windows at %zu "
			     "place%s (table inet " WW_WINDOWS_TABLE ")\n",
			r->sessions.window_ends, r->sessions.window_ends == 1 ? "" : "s");
	for (int op = 0; op < 3; op++) {
		bool any = false;
		for (int k = 1; k < 5; k++)
			if (r->counts[op][k]) {
				sb_addf(out, "%s%zu %s%s", any ? ", " : "  ", r->counts[op][k], kinds[k],
					r->counts[op][k] == 1 ? "" : "s");
				any = true;
			}
		if (any)
			sb_addf(out, " %s\n", ops[op]);
	}
}

void ww_apply_report(const struct ww_policy *p, const struct ww_apply_result *r, bool json,
		     struct strbuf *out)
{
	char hash[65];

	/* The apply hashed p already (a canonical print: seconds at 100k flows). */
	if (r->policy_sha256[0])
		memcpy(hash, r->policy_sha256, sizeof(hash));
	else
		ww_policy_hash(p, hash);
	report_as(p->name, hash, p->nprobes, r, json, out);
}

/* "90", "90s", "5m", "1h": seconds, 1 s to 24 h. */
static int duration_arg(const char *s, int64_t *secs)
{
	char *end;
	long v = strtol(s, &end, 10);
	long mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 : 0;

	if (end == s || !mul || v <= 0 || v * mul > 86400) {
		ww_errorf("--confirm: \"%s\" is not a duration from 1s to 24h (e.g. 90s, 5m, 1h)", s);
		return -EINVAL;
	}
	*secs = v * mul;
	return 0;
}

/* A probe failed after the change: back to what was there before, at once. */
static int probe_failed(const struct ww_policy *p, const char *source, const char *state_dir,
			const char *bpffs, unsigned long previous, const struct ww_probe *pr,
			const char *why, bool json)
{
	struct strbuf err = {0};
	struct ww_apply_result rr;
	char a[WW_PREFIX_STRLEN], b[WW_PREFIX_STRLEN];
	int e = ww_rollback_to(state_dir, bpffs, previous, &rr, &err);

	ww_addr_str(&pr->from, a);
	ww_addr_str(&pr->to, b);
	/* Not ww_errorf: with --json the object below says it all. */
	fprintf(stderr,
		"wardwall: apply %s: probe \"%s\" (%s -> %s tcp/%u%s%s) failed after the change: "
		"%s; %s\n",
		source, pr->id, a, b, pr->port, pr->netns ? " in netns " : "",
		pr->netns ? pr->netns : "", why,
		e ? "ROLLING BACK FAILED" : previous ? "rolled back" : "removed (nothing before)");
	if (e)
		fprintf(stderr, "wardwall: rollback to generation %lu: %s\n", previous,
			sb_str(&err));
	if (json) {
		struct strbuf o = {0};
		struct ww_jw w = {.out = &o, .compact = true};
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "result", "rolled-back");
		ww_jw_str(&w, "probe", pr->id);
		ww_jw_str(&w, "reason", why);
		ww_jw_u64(&w, "generation", previous);
		ww_jw_bool(&w, "rollback_ok", !e);
		ww_jw_numf(&w, "rollback_ms", "%.1f", rr.ms);
		ww_jw_end_obj(&w);
		fputs(sb_str(&o), stdout);
		sb_free(&o);
	}
	sb_free(&err);
	(void)p;
	return WW_EXIT_USAGE;
}

/*
 * The file's bytes first: an identical apply is recognised by them without parsing
 * (unchanged.h: *same, with r and u filled); anything else is parsed from the very bytes that
 * were hashed (*p, with src saying what they were and *diags what the analysis printed).
 * Returns WW_EXIT_OK or the exit code of an unreadable or invalid policy.
 */
static int load_policy(const char *path, const char *state_dir, const char *bpffs, bool force,
		       struct ww_apply_source *src, char **diags, struct ww_policy **p, bool *same,
		       struct ww_apply_result *r, struct ww_unchanged *u)
{
	struct ww_apply_opts q = {
	    .state_dir = state_dir, .source = path, .force = force, .bpffs = bpffs};
	struct ww_diags rd = {.file = path};
	char *text = NULL;
	size_t len = 0;
	int rc = WW_EXIT_OK;

	src->now = ww_now();
	if (!ww_policy_read(path, &rd, &text, &len)) {
		sha256_hex(text, len, src->sha256);
		*same = ww_apply_unchanged(&q, src->sha256, src->now, r, u) == 1;
	}
	ww_diags_free(&rd);
	if (*same)
		fputs(u->diags, stderr);
	else
		rc = ww_load_valid_text(path, text, len, src->now, p, diags);
	src->diags = *diags;
	free(text);
	return rc;
}

struct apply_args {
	bool json, force;
	const char *confirm, *state_dir, *bpffs;
};

static const struct ww_opt apply_opts[] = {
	WW_FLAG("--json", struct apply_args, json),
	WW_FLAG("--force", struct apply_args, force),
	WW_STR("--confirm", struct apply_args, confirm, "DURATION"),
	WW_STR("--state-dir", struct apply_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct apply_args, bpffs, "DIR"),
	WW_OPT_END,
};

/* What a rollback goes back to: the generation before this apply, or, while a change is on
 * probation (*pending, its record in pd), the one before that change. */
static unsigned long rollback_target(const char *state_dir, struct ww_pending *pd, bool *pending)
{
	struct ww_state *st = NULL;
	struct ww_generation cur;
	struct strbuf err = {0};
	unsigned long previous = 0;

	if (!ww_state_open(state_dir, false, &st, &err) && !ww_state_current(st, &cur))
		previous = cur.gen;
	ww_state_close(st);
	sb_free(&err);
	*pending = !ww_pending_load(state_dir, pd);
	return *pending ? pd->previous : previous;
}

/*
 * apply --confirm: the pending record and the guard that rolls the change back to previous at
 * the deadline, both said in r. If they cannot be arranged, the change is rolled back now and
 * WW_EXIT_USAGE returned.
 */
static int arm_confirm(const struct apply_args *a, const char *source, unsigned long previous,
		       int64_t confirm_s, struct ww_apply_result *r)
{
	struct ww_pending np = {.gen = r->gen, .previous = previous,
				.deadline = (int64_t)time(NULL) + confirm_s};
	struct strbuf err = {0};
	char self[4096];
	ssize_t n;
	int e;

	snprintf(np.guard, sizeof(np.guard), "starting");
	/* The record first: the guard exits at once when it finds none. */
	e = ww_pending_save(a->state_dir, &np);
	/* The program's real path: a systemd unit resolving /proc/self/exe would find systemd. */
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[n > 0 ? n : 0] = '\0';
	if (!e && n <= 0)
		e = -errno;
	if (!e)
		e = ww_confirm_guard_start(self, a->state_dir, a->bpffs, &np, &err);
	if (!e)
		e = ww_pending_save(a->state_dir, &np);
	if (e) {
		ww_errorf("apply %s: cannot arrange the rollback at the deadline (%s): rolling "
			  "back now",
			  source, err.len ? sb_str(&err) : strerror(-e));
		ww_pending_claim(a->state_dir, &np);
		sb_reset(&err);
		if (ww_rollback_to(a->state_dir, a->bpffs, previous, NULL, &err))
			ww_errorf("rollback to generation %lu: %s", previous, sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	r->confirm_deadline = np.deadline;
	snprintf(r->confirm_guard, sizeof(r->confirm_guard), "%s", np.guard);
	sb_free(&err);
	return WW_EXIT_OK;
}

static int cmd_apply(int argc, char **argv)
{
	char *pos[1];
	int npos, rc;
	struct apply_args a = {0};
	struct ww_policy *p = NULL;
	struct ww_apply_result r;
	struct ww_pending pd = {0};
	struct strbuf err = {0}, out = {0};
	int64_t confirm_s = 0;
	unsigned long previous;
	bool pending;

	if (ww_opts_parse(apply_opts, argc, argv, &a, pos, 1, &npos) || npos != 1)
		return ww_usage(&ww_cmd_apply);
	if (a.confirm && duration_arg(a.confirm, &confirm_s))
		return WW_EXIT_USAGE;
	struct ww_apply_source src = {0};
	struct ww_unchanged u = {0};
	char *diags = NULL;
	bool same = false;
	rc = load_policy(pos[0], a.state_dir, a.bpffs, a.force, &src, &diags, &p, &same, &r, &u);
	if (rc)
		goto out;
	previous = rollback_target(a.state_dir, &pd, &pending);
	struct ww_apply_opts o = {.state_dir = a.state_dir,
				  .source = pos[0],
				  .action = "apply",
				  .force = a.force,
				  .bpffs = a.bpffs,
				  .src = &src};
	int e = same ? 0 : ww_apply(p, &o, &r, &err);
	ww_recovery_say(&r.recovered);
	if (e && r.unrecorded) {
		ww_errorf("apply %s: %s; the next wardwall command finishes recording it", pos[0],
			  sb_str(&err));
		rc = WW_EXIT_UNRECORDED;
		goto out;
	} else if (e) {
		ww_errorf("apply %s: %s", pos[0], sb_str(&err));
		rc = e == -EINVAL ? WW_EXIT_INVALID : WW_EXIT_USAGE;
		goto out;
	}
	/* An interrupted change finished or undone first moved what was current. */
	if (r.recovered.found && !pending)
		previous = r.recovered.gen;
	if (r.changed && p->nprobes) {
		const struct ww_probe *bad = NULL;
		sb_reset(&err);
		e = ww_probes_run(p, &bad, &err);
		if (e && bad) {
			rc = probe_failed(p, pos[0], a.state_dir, a.bpffs, previous, bad,
					  sb_str(&err), a.json);
			if (pending)
				ww_pending_claim(a.state_dir, &pd);
			goto out;
		}
		r.probes_ok = p->nprobes;
	}
	if (confirm_s && (r.changed || r.recorded) && r.gen != previous) {
		if ((rc = arm_confirm(&a, pos[0], previous, confirm_s, &r)))
			goto out;
	} else if (pending && !confirm_s) {
		/* A plain apply on top of a change on probation keeps it: an implicit confirm. */
		if (!ww_pending_claim(a.state_dir, &pd) && !a.json)
			sb_addf(&out, "confirmed generation %lu, which was waiting for confirmation\n",
				pd.gen);
	}
	if (same)
		report_as(u.name, u.policy_sha256, 0, &r, a.json, &out);
	else
		ww_apply_report(p, &r, a.json, &out);
	fputs(sb_str(&out), stdout);
	rc = WW_EXIT_OK;
out:
	sb_free(&err);
	sb_free(&out);
	ww_policy_free(p);
	ww_unchanged_free(&u);
	free(diags);
	return rc;
}

const struct ww_cmd ww_cmd_apply = {
	"apply", cmd_apply,
	"enforce a policy: one atomic transaction, nothing if unchanged; probes; commit confirmed",
	apply_opts, "POLICY", NULL,
};
