// SPDX-License-Identifier: GPL-2.0-only
#include "restore.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "failsafe.h"
#include "quarantine.h"
#include "policy.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

const char *ww_restore_outcome_str(enum ww_restore_outcome o)
{
	static const char *const s[] = {"restored", "nothing", "fail-closed", "fail-open"};

	return s[o];
}

static void name_policy(struct ww_restore_result *r, const struct ww_policy *p)
{
	snprintf(r->policy_name, sizeof(r->policy_name), "%s", p->name);
	ww_policy_hash(p, r->policy_sha256);
}

/*
 * The current generation's policy, checked against the sha256 the history recorded for it.
 * Returns 0 with *out set (or NULL: nothing current), or -errno with why.
 */
static int load_current(const char *state_dir, struct ww_restore_result *r,
			struct ww_policy **out, struct strbuf *why)
{
	struct ww_state *st = NULL;
	struct ww_generation cur;
	struct ww_diags d = {.file = NULL};
	struct ww_policy *p = NULL;
	char hash[65], file[64];
	int e = ww_state_open(state_dir, false, &st, why);

	*out = NULL;
	if (e)
		return e;
	e = ww_state_current(st, &cur);
	if (e) {
		sb_addf(why, "%s: the current generation is not in the history (%s)",
			ww_state_dir(st), strerror(-e));
		goto out;
	}
	r->gen = cur.gen;
	if (!cur.gen)
		goto out;
	snprintf(file, sizeof(file), "generation %lu", cur.gen);
	d.file = file;
	e = ww_state_policy(st, cur.gen, &p, &d);
	if (e) {
		/* The errors only, on one line, for the journal. */
		struct strbuf m = {0};
		for (size_t i = 0; i < d.n; i++)
			if (d.v[i].sev == WW_ERROR)
				sb_addf(&m, "%s%s: %s", m.len ? "; " : "", d.v[i].ptr[0] ? d.v[i].ptr : "/",
					d.v[i].msg);
		sb_addf(why, "%s/generations/%lu.json: %s", ww_state_dir(st), cur.gen,
			e == -EINVAL && m.len ? sb_str(&m) : strerror(-e));
		sb_free(&m);
		goto out;
	}
	ww_policy_hash(p, hash);
	if (strcmp(hash, cur.policy_sha256)) {
		sb_addf(why, "%s/generations/%lu.json: its sha256 %.12s is not the %.12s the history "
			     "recorded (the file was changed)",
			ww_state_dir(st), cur.gen, hash, cur.policy_sha256);
		e = -EBADMSG;
		goto out;
	}
	*out = p;
	p = NULL;
out:
	ww_policy_free(p);
	ww_diags_free(&d);
	ww_state_close(st);
	return e;
}

/* The generation could not be enforced: what on_failure asks for, from the fail-closed policy
 * saved by the last apply (which carries on_failure), else the built-in one. */
static void fail_safe(const char *state_dir, const char *bpffs, struct ww_restore_result *r,
		      struct strbuf *reason)
{
	struct ww_policy *fs = NULL;
	struct strbuf why = {0}, err = {0};
	const char *env = getenv("WARDWALL_STATE_DIR");
	int e = ww_failsafe_load(state_dir ? state_dir : env && *env ? env : WW_STATE_DIR, &fs,
				 &r->builtin, &why);

	if (e) {
		sb_addf(reason, "; the fail-closed policy could not be loaded either (%s)",
			strerror(-e));
		r->outcome = WW_FAILED_OPEN;
		goto out;
	}
	if (fs->enf.on_failure == WW_FAIL_OPEN) {
		sb_add(reason, "; enforcement.on_failure is \"open\": the kernel was left as it was");
		r->outcome = WW_FAILED_OPEN;
		goto out;
	}
	struct ww_apply_opts o = {.state_dir = state_dir, .source = "fail-closed",
				  .action = "fail-closed", .force = true, .bpffs = bpffs,
				  .failsafe = true};
	e = ww_apply(fs, &o, &r->apply, &err);
	name_policy(r, fs);
	if (e) {
		sb_addf(reason, "; enforcing the fail-closed policy failed too: %s", sb_str(&err));
		r->outcome = WW_FAILED_OPEN;
		goto out;
	}
	r->outcome = WW_FAILED_CLOSED;
	if (r->builtin)
		sb_addf(reason, "; enforcing the built-in fail-closed policy (no forwarded traffic "
				"at all), since %s",
			sb_str(&why));
	else
		sb_addf(reason, "; enforcing the fail-closed policy: only the %zu management "
				"flow%s",
			fs->nflows, fs->nflows == 1 ? "" : "s");
out:
	ww_policy_free(fs);
	sb_free(&why);
	sb_free(&err);
}

int ww_restore(const char *state_dir, const char *bpffs, int64_t now, struct ww_restore_result *r,
	       struct strbuf *reason)
{
	struct ww_policy *p = NULL;
	struct strbuf err = {0};
	double t0 = now_ms();
	int e;

	memset(r, 0, sizeof(*r));
	/* An apply, rollback or remove that a crash or power loss interrupted is finished or
	 * undone first (intent.h): what is current is only known afterwards. */
	e = ww_recover(state_dir, bpffs, &r->recovery, &err);
	if (e) {
		sb_addf(reason, "recovering an interrupted change: %s", sb_str(&err));
		fail_safe(state_dir, bpffs, r, reason);
		goto out;
	}
	e = load_current(state_dir, r, &p, reason);
	if (!e && !p) {
		r->outcome = WW_RESTORE_NOTHING;
		goto out;
	}
	if (!e) {
		struct ww_apply_opts o = {.state_dir = state_dir, .source = "restore",
					  .action = "restore", .force = true, .bpffs = bpffs,
					  .gen = r->gen, .restore = true};
		e = ww_apply(p, &o, &r->apply, &err);
		if (e)
			sb_addf(reason, "generation %lu: %s", r->gen, sb_str(&err));
	}
	/* Quarantines in force go back over the generation, with what remains of their time. A
	 * failure here leaves the generation enforced and is said, not failed closed: the policy
	 * itself holds, and `wardwall quarantine restore` can be run again. */
	if (!e) {
		sb_reset(&err);
		int q = ww_quarantine_restore(state_dir, bpffs, now,
					      &r->quarantines, &err);
		if (q) {
			r->quarantine_failed = true;
			sb_addf(reason, "the generation is enforced, but re-applying the "
					"quarantines failed: %s",
				sb_str(&err));
		}
	}
	if (e) {
		fail_safe(state_dir, bpffs, r, reason);
		goto out;
	}
	r->outcome = WW_RESTORED;
	name_policy(r, p);
out:
	r->ms = now_ms() - t0;
	ww_policy_free(p);
	sb_free(&err);
	return e;
}
