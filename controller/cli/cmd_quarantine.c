// SPDX-License-Identifier: GPL-2.0-only
/* wardwall quarantine add|list|remove: isolate a device or zone now (docs/incident.md). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "json.h"
#include "policy.h"
#include "quarantine.h"
#include "state.h"
#include "timeutil.h"

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

/* This process's CPU time so far (user and system): what the work cost, whatever the load. */
static double cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* "90s", "30m", "2h", "1d": seconds. */
static int duration_parse(const char *s, int64_t *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || v <= 0 || end[0] == '\0' || end[1] != '\0')
		return -EINVAL;
	switch (*end) {
	case 's': *out = v; break;
	case 'm': *out = v * 60; break;
	case 'h': *out = v * 3600; break;
	case 'd': *out = v * 86400; break;
	default: return -EINVAL;
	}
	return *out > 0 && *out < 100LL * 365 * 86400 ? 0 : -EINVAL;
}

/* The --keep flows as given, copied into q (which owns them). Returns 0 or -ENOMEM. */
static int keeps_copy(const struct ww_strlist *keep, struct ww_quarantine *q)
{
	size_t cap = 0;

	for (size_t i = 0; i < keep->n; i++) {
		char *d = strdup(keep->v[i]);
		if (!d || VEC_PUSH(q->keep_given, q->nkeep_given, cap, d)) {
			free(d);
			return -ENOMEM;
		}
	}
	return 0;
}

static void print_one(const struct ww_quarantine *q, int64_t now, uint64_t nft, uint64_t xdp)
{
	char tb[40], pb[WW_PREFIX_STRLEN];

	printf("q%u  %s  (", q->id, q->target);
	for (size_t i = 0; i < q->npfx; i++)
		printf("%s%s", i ? " " : "", ww_prefix_str(&q->pfx[i], true, pb));
	printf(")\n    since %s by %s", ww_time_str(q->created, tb), q->user ? q->user : "?");
	if (q->until)
		printf(", %s %s", q->until > now ? "until" : "expired", ww_time_str(q->until, tb));
	else
		printf(", until removed");
	printf("\n    reason: %s%s%s\n", q->reason ? q->reason : "", q->ticket ? "  ticket: " : "",
	       q->ticket ? q->ticket : "");
	printf("    kept:");
	if (!q->nkeep)
		printf(" nothing");
	for (size_t i = 0; i < q->nkeep; i++)
		printf("%s %s (%s)", i ? "," : "", q->keep[i].id, q->keep[i].why);
	printf("%s\n    blocked: %llu packets (nftables %llu, XDP %llu)\n",
	       q->strict ? "  [strict]" : "", (unsigned long long)(nft + xdp),
	       (unsigned long long)nft, (unsigned long long)xdp);
}

struct q_list_args {
	bool json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt q_list_opts[] = {
	WW_FLAG("--json", struct q_list_args, json),
	WW_STR("--state-dir", struct q_list_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct q_list_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int q_list(int argc, char **argv)
{
	struct q_list_args args = {0};
	struct ww_state *s = NULL;
	struct ww_quar_list l = {0};
	struct strbuf err = {0}, o = {0};
	int64_t now = ww_now();
	int npos, rc = WW_EXIT_OK;

	if (ww_opts_parse(q_list_opts, argc, argv, &args, NULL, 0, &npos))
		return ww_usage(&ww_cmd_quarantine);
	if (ww_state_open(args.state_dir, false, &s, &err) || ww_quar_load(ww_state_dir(s), &l, &err)) {
		ww_errorf("quarantine list: %s", sb_str(&err));
		rc = WW_EXIT_USAGE;
		goto out;
	}
	if (args.json)
		sb_add(&o, "{\"quarantines\": [");
	for (size_t i = 0; i < l.n; i++) {
		uint64_t a = 0, b = 0;
		ww_quar_nft_counter(l.v[i].id, &a);
		ww_quar_xdp_counter(args.bpffs, l.v[i].id, &b);
		if (args.json) {
			sb_add(&o, i ? ",\n  {\"record\": " : "\n  {\"record\": ");
			ww_quarantine_json(&l.v[i], now, &o);
			sb_addf(&o, ", \"blocked\": {\"nftables\": %llu, \"xdp\": %llu}}",
				(unsigned long long)a, (unsigned long long)b);
		} else {
			print_one(&l.v[i], now, a, b);
		}
	}
	if (args.json)
		printf("%s\n]}\n", sb_str(&o));
	else if (!l.n)
		printf("no quarantines\n");
out:
	sb_free(&o);
	sb_free(&err);
	ww_quar_list_free(&l);
	ww_state_close(s);
	return rc;
}

struct q_remove_args {
	bool json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt q_remove_opts[] = {
	WW_FLAG("--json", struct q_remove_args, json),
	WW_STR("--state-dir", struct q_remove_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct q_remove_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int q_remove(int argc, char **argv)
{
	struct q_remove_args args = {0};
	struct ww_state *s = NULL;
	struct ww_quar_list l = {0}, was = {0};
	struct ww_policy *p = NULL;
	struct ww_quar_kctx k = {0};
	struct strbuf err = {0};
	char *pos[1];
	unsigned int id;
	unsigned long gen;
	int64_t now = ww_now();
	int npos, rc = WW_EXIT_USAGE, lockfd = -1;

	if (ww_opts_parse(q_remove_opts, argc, argv, &args, pos, 1, &npos) || npos != 1)
		return ww_usage(&ww_cmd_quarantine);
	if (ww_quar_id_parse(pos[0], &id)) {
		ww_errorf("quarantine remove: \"%s\" is not a quarantine id (q1, q2, ...)", pos[0]);
		return WW_EXIT_USAGE;
	}
	if (ww_state_open(args.state_dir, false, &s, &err) ||
	    ww_quar_lock(ww_state_dir(s), &lockfd, &err) ||
	    ww_quar_load(ww_state_dir(s), &l, &err) || ww_quar_load(ww_state_dir(s), &was, &err))
		goto fail;
	struct ww_quarantine *q = ww_quar_find(&l, id);
	if (!q) {
		ww_errorf("quarantine remove: no quarantine %s (see `wardwall quarantine list`)",
			  pos[0]);
		goto out;
	}
	if (ww_quar_policy(s, NULL, 0, &p, &gen, &err))
		goto fail;
	ww_quar_kctx_of(p, args.bpffs, &k);
	uint64_t a = 0, b = 0;
	ww_quar_nft_counter(id, &a);
	ww_quar_xdp_counter(args.bpffs, id, &b);
	struct ww_quarantine gone = *q;
	*q = l.v[--l.n];
	if (ww_quar_enforce(&l, &was, &k, now, &err)) {
		l.v[l.n++] = gone; /* freed with the list */
		goto fail;
	}
	if (ww_quar_save(ww_state_dir(s), &l, &err) ||
	    ww_quar_log(ww_state_dir(s), "remove", &gone, a + b, now, NULL, &err)) {
		ww_quarantine_clear(&gone);
		goto fail;
	}
	if (args.json)
		printf("{\"removed\": \"q%u\", \"blocked\": {\"nftables\": %llu, \"xdp\": %llu}}\n",
		       id, (unsigned long long)a, (unsigned long long)b);
	else
		printf("removed q%u (%s): it blocked %llu packets\n", id, gone.target,
		       (unsigned long long)(a + b));
	ww_quarantine_clear(&gone);
	rc = WW_EXIT_OK;
	goto out;
fail:
	ww_errorf("quarantine remove: %s", sb_str(&err));
out:
	ww_quar_unlock(lockfd);
	ww_policy_free(p);
	ww_quar_list_free(&l);
	ww_quar_list_free(&was);
	ww_state_close(s);
	sb_free(&err);
	return rc;
}

/* --dry-run: what the quarantine would break, against the whole applied policy. */
static int dry_run(struct ww_state *s, unsigned long gen, struct ww_quarantine *q, bool json)
{
	struct ww_diags d = {0};
	struct ww_policy *full = NULL;
	struct strbuf o = {0};
	struct ww_quar_nbreaks nb = {0};
	int e = ww_state_policy(s, gen, &full, &d);

	ww_diags_free(&d);
	if (e) {
		ww_errorf("quarantine add --dry-run: cannot load generation %lu: %s", gen,
			  strerror(-e));
		return WW_EXIT_USAGE;
	}
	ww_quar_breaks(full, q, json, &o, &nb);
	if (json) {
		struct strbuf r = {0};
		ww_quarantine_json(q, ww_now(), &r);
		printf("{\"dry_run\": true, \"quarantine\": %s, \"breaks\": [%s], \"flows\": %zu, "
		       "\"invariants\": %zu, \"probes\": %zu}\n",
		       sb_str(&r), sb_str(&o), nb.flows, nb.invariants, nb.probes);
		sb_free(&r);
	} else {
		print_one(q, ww_now(), 0, 0);
		printf("%s", sb_str(&o));
		printf("dry run: %zu flow(s), %zu must-allow invariant(s) and %zu health probe(s) "
		       "would stop; nothing changed\n",
		       nb.flows, nb.invariants, nb.probes);
	}
	sb_free(&o);
	ww_policy_free(full);
	return WW_EXIT_OK;
}

struct q_add_args {
	bool json, strict, dry, force;
	struct ww_strlist keep;
	const char *until, *dur, *reason, *ticket, *state_dir, *bpffs;
};

static const struct ww_opt q_add_opts[] = {
	WW_LIST("--keep", struct q_add_args, keep, "FLOW"),
	WW_STR("--until", struct q_add_args, until, "TIME"),
	WW_STR("--for", struct q_add_args, dur, "DURATION"),
	WW_STR("--reason", struct q_add_args, reason, "TEXT"),
	WW_STR("--ticket", struct q_add_args, ticket, "ID"),
	WW_FLAG("--strict", struct q_add_args, strict),
	WW_FLAG("--dry-run", struct q_add_args, dry),
	WW_FLAG("--force", struct q_add_args, force),
	WW_FLAG("--json", struct q_add_args, json),
	WW_STR("--state-dir", struct q_add_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct q_add_args, bpffs, "DIR"),
	WW_OPT_END,
};

/* The quarantine's record from the options: until when, why, by whom. Says what is wrong;
 * returns 0, -EINVAL or -ENOMEM. */
static int q_record(const struct q_add_args *args, const char *target, int64_t now,
		    struct ww_quarantine *q)
{
	char user[64];

	if (!args->dry && (!args->reason || !*args->reason)) {
		ww_errorf("quarantine add: --reason is required (it goes into the evidence)");
		return -EINVAL;
	}
	if (args->until && args->dur) {
		ww_errorf("quarantine add: --until and --for exclude each other");
		return -EINVAL;
	}
	if (args->until && (ww_time_arg("--until", args->until, &q->until) || q->until <= now)) {
		if (q->until && q->until <= now)
			ww_errorf("quarantine add: --until %s is not in the future", args->until);
		return -EINVAL;
	}
	if (args->dur) {
		int64_t secs;
		if (duration_parse(args->dur, &secs)) {
			ww_errorf("quarantine add: --for \"%s\": expected a duration such as 90s, 30m, "
				  "2h or 1d",
				  args->dur);
			return -EINVAL;
		}
		q->until = now + secs;
	}
	ww_user_name(user, sizeof(user));
	q->target = strdup(target);
	q->reason = strdup(args->reason ? args->reason : "");
	q->ticket = args->ticket ? strdup(args->ticket) : NULL;
	q->user = strdup(user);
	q->strict = args->strict;
	q->created = now;
	if (!q->target || !q->reason || (args->ticket && !q->ticket) || !q->user)
		return -ENOMEM;
	return 0;
}

/* The next free quarantine id (1-1023, taken in turn), l->next moved past it; 0 when all are
 * in force. */
static unsigned int next_id(struct ww_quar_list *l)
{
	unsigned int id;

	for (unsigned int tries = 0; ww_quar_find(l, l->next) || !l->next || l->next >= 1024;
	     tries++) {
		if (tries > 1024)
			return 0;
		l->next = l->next >= 1023 ? 1 : l->next + 1;
	}
	id = l->next;
	l->next = id >= 1023 ? 1 : id + 1;
	return id;
}

/* The log line's members for what an add breaks: `"forced": B, "breaks": [...]`. */
static void breaks_member(const struct ww_policy *p, const struct ww_quarantine *q, bool forced,
			  struct strbuf *o)
{
	struct ww_quar_nbreaks nb;

	sb_addf(o, "\"forced\": %s, \"breaks\": [", forced ? "true" : "false");
	ww_quar_breaks(p, q, true, o, &nb);
	sb_add(o, "]");
}

/* A must-allow invariant or a health probe would break: what stops, and the refusal, on stderr
 * and in the quarantine log (event "refuse"). */
static void refuse_breaks(const char *dir, const struct ww_policy *p, const struct ww_quarantine *q,
			  const struct strbuf *br, const struct ww_quar_nbreaks *nb, int64_t now)
{
	struct strbuf m = {0}, err = {0};

	fprintf(stderr, "%s", sb_str(br));
	ww_errorf("quarantine add: refused: %zu must-allow invariant(s) and %zu health probe(s) "
		  "would break (keep the flows that carry them with --keep, or --force)",
		  nb->invariants, nb->probes);
	breaks_member(p, q, false, &m);
	if (m.oom || ww_quar_log(dir, "refuse", q, 0, now, sb_str(&m), &err))
		ww_errorf("quarantine add: the refusal is not recorded: %s",
			  m.oom ? strerror(ENOMEM) : sb_str(&err));
	sb_free(&m);
	sb_free(&err);
}

/* What an add did: the quarantine in force, how fast, what it cut and stopped. */
struct added {
	const struct ww_quarantine *q;
	int64_t now;
	double enforced_ms, enforced_cpu_ms, total_ms;
	unsigned long cut_ct, cut_xdp;
	const struct strbuf *stopped;
};

static void print_added(const struct added *a, bool json)
{
	if (json) {
		struct strbuf r = {0};
		ww_quarantine_json(a->q, a->now, &r);
		printf("{\"quarantine\": %s, \"enforced_ms\": %.3f, \"cut\": {\"conntrack\": %lu, "
		       "\"xdp\": %lu}, \"total_ms\": %.3f, \"enforced_cpu_ms\": %.3f}\n",
		       sb_str(&r), a->enforced_ms, a->cut_ct, a->cut_xdp, a->total_ms,
		       a->enforced_cpu_ms);
		sb_free(&r);
	} else {
		print_one(a->q, a->now, 0, 0);
		printf("in force after %.1f ms; cut %lu conntrack and %lu XDP connection(s)\n",
		       a->enforced_ms, a->cut_ct, a->cut_xdp);
		if (a->stopped->len)
			printf("stopped (not kept):\n%s", sb_str(a->stopped));
	}
}

/* The list l recorded, or, when that fails, the kernel put back as was (not recorded: not
 * enforced either). */
static int save_or_undo(const char *dir, struct ww_quar_list *l, struct ww_quar_list *was,
			const struct ww_quar_kctx *k, int64_t now, struct strbuf *err)
{
	struct strbuf undo = {0};
	int e = ww_quar_save(dir, l, err);

	if (e) {
		ww_quar_enforce(was, l, k, now, &undo);
		sb_free(&undo);
	}
	return e;
}

/* Established sessions end now that new packets of them are dropped; a failure is said, the
 * quarantine stays. */
static void cut_sessions(const struct ww_quarantine *q, const struct ww_quar_kctx *k,
			 unsigned long *ct, unsigned long *xdp)
{
	struct strbuf err = {0};

	if (ww_quar_cut(q, k, ct, xdp, &err))
		ww_errorf("quarantine add: q%u is in force, but cutting its sessions failed: %s",
			  q->id, sb_str(&err));
	sb_free(&err);
}

static int q_add(int argc, char **argv)
{
	struct q_add_args args = {0};
	struct timespec t0;
	struct ww_state *s = NULL;
	struct ww_quar_list l = {0}, was = {0};
	struct ww_policy *p = NULL;
	struct ww_quar_kctx k = {0};
	struct ww_quarantine q = {0};
	struct strbuf err = {0}, br = {0}, rec = {0};
	char *pos[1];
	unsigned long gen = 0, cut_ct = 0, cut_xdp = 0;
	int64_t now = ww_now();
	struct ww_quar_nbreaks nb;
	int npos, rc = WW_EXIT_USAGE;
	double enforced_ms, enforced_cpu_ms;
	int lockfd = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (ww_opts_parse(q_add_opts, argc, argv, &args, pos, 1, &npos) || npos != 1) {
		ww_opts_free(q_add_opts, &args);
		return ww_usage(&ww_cmd_quarantine);
	}
	int e = keeps_copy(&args.keep, &q);
	ww_opts_free(q_add_opts, &args);
	if (e) {
		ww_errorf("quarantine add: %s", strerror(-e));
		goto out;
	}
	e = q_record(&args, pos[0], now, &q);
	if (e == -ENOMEM)
		goto oom;
	if (e)
		goto out;
	if (ww_state_open(args.state_dir, false, &s, &err) ||
	    (!args.dry && ww_quar_lock(ww_state_dir(s), &lockfd, &err)) ||
	    ww_quar_policy(s, (const char *const *)q.keep_given, q.nkeep_given, &p, &gen, &err))
		goto fail;
	q.generation = gen;
	if (ww_quar_resolve(p, q.target, &q, &err))
		goto fail;
	if (ww_quar_keep(p, &q))
		goto oom;
	if (args.dry) {
		rc = dry_run(s, gen, &q, args.json);
		goto out;
	}
	/* The proof before it takes effect: the cut-down policy has every invariant and probe. */
	if (ww_quar_breaks(p, &q, false, &br, &nb))
		goto oom;
	if ((nb.invariants || nb.probes) && !args.force) {
		refuse_breaks(ww_state_dir(s), p, &q, &br, &nb, now);
		rc = WW_EXIT_INVALID;
		goto out;
	}
	ww_quar_kctx_of(p, args.bpffs, &k);
	bool expired;
	if (ww_quar_load(ww_state_dir(s), &l, &err) || ww_quar_load(ww_state_dir(s), &was, &err) ||
	    ww_quar_expire(ww_state_dir(s), &l, &k, now, &expired, &err))
		goto fail;
	q.id = next_id(&l);
	if (!q.id) {
		ww_errorf("quarantine add: 1023 quarantines in force: remove some first");
		goto out;
	}
	if (VEC_PUSH(l.v, l.n, l.cap, q))
		goto oom;
	memset(&q, 0, sizeof(q)); /* the list owns it now */
	struct ww_quarantine *nq = &l.v[l.n - 1];
	if (ww_quar_enforce(&l, &was, &k, now, &err))
		goto fail;
	enforced_ms = ms_since(&t0);
	enforced_cpu_ms = cpu_ms();
	if (save_or_undo(ww_state_dir(s), &l, &was, &k, now, &err))
		goto fail;
	breaks_member(p, nq, nb.invariants || nb.probes, &rec); /* an override is recorded */
	if (ww_quar_log(ww_state_dir(s), "add", nq, 0, now, sb_str(&rec), &err))
		goto fail;
	cut_sessions(nq, &k, &cut_ct, &cut_xdp);
	struct added ad = {.q = nq, .now = now, .enforced_ms = enforced_ms,
			   .enforced_cpu_ms = enforced_cpu_ms, .total_ms = ms_since(&t0),
			   .cut_ct = cut_ct, .cut_xdp = cut_xdp, .stopped = &br};
	print_added(&ad, args.json);
	rc = WW_EXIT_OK;
	goto out;
oom:
	sb_add(&err, strerror(ENOMEM));
fail:
	ww_errorf("quarantine add: %s", sb_str(&err));
out:
	ww_quar_unlock(lockfd);
	ww_quarantine_clear(&q);
	ww_policy_free(p);
	ww_quar_list_free(&l);
	ww_quar_list_free(&was);
	ww_state_close(s);
	sb_free(&err);
	sb_free(&br);
	sb_free(&rec);
	return rc;
}

/* Re-applies the recorded quarantines (after a reboot, or a table deleted by hand). */
struct q_restore_args {
	bool json;
	const char *state_dir, *bpffs;
};

static const struct ww_opt q_restore_opts[] = {
	WW_FLAG("--json", struct q_restore_args, json),
	WW_STR("--state-dir", struct q_restore_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct q_restore_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int q_restore(int argc, char **argv)
{
	struct q_restore_args args = {0};
	struct strbuf err = {0};
	size_t kept;
	int npos;

	if (ww_opts_parse(q_restore_opts, argc, argv, &args, NULL, 0, &npos))
		return ww_usage(&ww_cmd_quarantine);
	if (ww_quarantine_restore(args.state_dir, args.bpffs, ww_now(), &kept, &err)) {
		ww_errorf("quarantine restore: %s", sb_str(&err));
		sb_free(&err);
		return WW_EXIT_USAGE;
	}
	if (args.json) {
		struct ww_jw w = {.out = &err, .compact = true};
		sb_reset(&err);
		ww_jw_obj(&w, NULL);
		ww_jw_u64(&w, "quarantines", kept);
		ww_jw_end_obj(&w);
		fputs(sb_str(&err), stdout);
	} else {
		printf("%zu quarantine(s) in force\n", kept);
	}
	sb_free(&err);
	return WW_EXIT_OK;
}

/* The verbs, in the order the usage line shows them. */
static const struct ww_cmd verbs[] = {
	{"add", q_add, NULL, q_add_opts, "TARGET", NULL},
	{"list", q_list, NULL, q_list_opts, NULL, NULL},
	{"remove", q_remove, NULL, q_remove_opts, "ID", NULL},
	{"restore", q_restore, NULL, q_restore_opts, NULL, NULL},
	{NULL, NULL, NULL, NULL, NULL, NULL},
};

static int cmd_quarantine(int argc, char **argv)
{
	return ww_verbs_run(&ww_cmd_quarantine, argc, argv);
}

const struct ww_cmd ww_cmd_quarantine = {
	"quarantine", cmd_quarantine,
	"isolate an address, prefix, host group or zone now, in both tiers (docs/incident.md)",
	NULL, NULL, verbs,
};
