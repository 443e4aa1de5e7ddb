// SPDX-License-Identifier: GPL-2.0-only
#include "apply.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "xdp_tier.h"
#include "nft_compile.h"
#include "xdp_compile.h"
#include "eval.h"
#include "failsafe.h"
#include "intent.h"
#include "nft_mark.h"
#include "nft_nl.h"
#include "policy.h"
#include "quarantine.h"
#include "sessions.h"
#include "snapshot.h"
#include "unchanged.h"

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/*
 * In host mode, refuse a policy that would deny a new connection like the SSH session this
 * command runs in: the operator could not log in again. (The session itself is spared by the cut
 * of revoked connections, cut_revoked_sessions, so that the apply finishes; it ends when it
 * closes.) SSH_CONNECTION is "client-ip client-port server-ip server-port".
 */
static int lockout_guard(const struct ww_policy *p, const struct ww_apply_opts *o,
			 struct strbuf *err)
{
	const char *ssh = getenv("SSH_CONNECTION");
	char cip[64], sip[64];
	int sport;
	struct ww_packet pkt = {.proto = WW_PROTO_TCP, .at = (int64_t)time(NULL)};
	struct ww_verdict v;

	if (o->force || p->enf.mode != WW_HOST || !ssh ||
	    sscanf(ssh, "%63s %*d %63s %d", cip, sip, &sport) != 3 ||
	    ww_addr_parse(cip, &pkt.src) || ww_addr_parse(sip, &pkt.dst))
		return 0;
	pkt.key = sport;
	ww_evaluate(p, &pkt, &v);
	if (v.kind != WW_V_DENY)
		return 0;
	sb_addf(err,
		"refusing to apply: this SSH session (%s -> %s tcp/%d) could not reconnect, it "
		"would be denied by %s%s%s; allow it in the policy or use --force",
		cip, sip, sport, v.flow ? "flow \"" : "the default", v.flow ? v.flow->id : "",
		v.flow ? "\"" : "");
	return -EINVAL;
}

/* A test hook (WARDWALL_FAULT=nft-invalid-element): one element that the kernel must refuse, so
 * tests can watch a real transaction abort. */
static int inject_fault(struct ww_nft_batch *b, const struct nfr_table *want)
{
	const char *f = getenv("WARDWALL_FAULT");

	if (!f || strcmp(f, "nft-invalid-element") || !want->nsets)
		return 0;
	for (size_t i = 0; i < want->nsets; i++) {
		if (!want->sets[i].vmap)
			continue;
		struct nfr_elem e = {.lo = 0, .hi = 0, .v = {NV_GOTO, "wardwall-fault-no-such-chain"}};
		struct nfr_set s = want->sets[i];
		s.elems = &e;
		s.nelems = 1;
		char *what = xstrdup_printf("map %s: element injected by WARDWALL_FAULT (goto "
					    "wardwall-fault-no-such-chain)",
					    s.name);
		int r = what ? ww_nft_add_elems(b, &s, what) : -ENOMEM;
		free(what);
		return r;
	}
	return 0;
}

/* Undoes a committed nftables change: the table back to what it was (before may be NULL). */
static int revert_nft(struct ww_nft *nft, const struct nfr_table *before, struct strbuf *err)
{
	struct nfr_table *now = NULL;
	struct ww_nft_diff d = {0};
	struct ww_nft_batch *b = NULL;
	uint32_t genid;
	int e = ww_nft_read(nft, &now, &genid, err);

	if (!e && !before && now) {
		e = ww_nft_batch_new(&b, genid);
		if (!e)
			e = ww_nft_del_tables(b, now);
	} else if (!e && before) {
		e = ww_nft_diff(now, before, &d);
		if (!e)
			e = ww_nft_batch_new(&b, genid);
		if (!e)
			e = ww_nft_diff_batch(now, before, &d, b);
	}
	if (!e && b)
		e = ww_nft_batch_commit(nft, b, err);
	ww_nft_batch_free(b);
	ww_nft_diff_free(&d);
	nfr_table_free(now);
	return e;
}

/*
 * After an apply: the generation now holding exactly the policy `hash` (our commit's, checked
 * to be the one current, or the one just read and found in order), or no mark when that cannot
 * be said. keep: leave the mark as it is (it still holds, or e failed). Returns whether a mark
 * naming `hash` holds now, and sets *marked to its generation.
 */
static bool mark_kernel(struct ww_state *st, struct ww_nft *nft, const struct ww_nft_mark *here,
			const char *hash, uint32_t genid, bool committed, bool keep,
			uint32_t *marked)
{
	struct ww_nft_mark m = *here;
	uint32_t now;

	if (keep) {
		*marked = here->genid;
		return false;
	}
	if (!here->boot_id[0] || ww_nft_genid(nft, &now) ||
	    now != (committed ? ww_nft_genid_next(genid) : genid)) {
		ww_nft_mark_clear(ww_state_dir(st));
		return false;
	}
	m.genid = now;
	snprintf(m.policy_sha256, sizeof(m.policy_sha256), "%s", hash);
	if (ww_nft_mark_save(ww_state_dir(st), &m)) {
		ww_nft_mark_clear(ww_state_dir(st));
		return false;
	}
	*marked = now;
	return true;
}

/* A generation's policy as saved, read once per apply: the mark's check, the cut of revoked
 * sessions and the window ends after a revert all want the current one. */
struct prev_policy {
	unsigned long gen; /* 0: not read */
	int err;	   /* of reading it */
	struct ww_policy *p;
	char sha256[65]; /* of the file's bytes (ww_state_policy_sha) */
};

static const struct ww_policy *prev_policy(struct ww_state *st, struct prev_policy *pp,
					   unsigned long gen)
{
	struct ww_diags d = {.file = "generation"};

	if (pp->gen != gen) {
		ww_policy_free(pp->p);
		pp->p = NULL;
		pp->gen = gen;
		pp->err = ww_state_policy_sha(st, gen, &pp->p, &d, pp->sha256);
		ww_diags_free(&d);
	}
	return pp->err ? NULL : pp->p;
}

/*
 * The live table as the mark vouches for it (see nft_mark.h), without reading the kernel: when
 * the marked policy is p itself, *same; when it is the current generation's, that policy
 * compiled into *live. Returns 1 (vouched), 0 (read the kernel instead) or -errno.
 */
static int vouched_live(struct ww_state *st, struct prev_policy *pp, const struct ww_nft_mark *mark,
			const char *hash, struct nfr_table **live, bool *same)
{
	struct ww_generation cur;
	const struct ww_policy *prev;

	*same = !strcmp(mark->policy_sha256, hash);
	if (*same)
		return 1;
	if (ww_state_current(st, &cur) || !cur.gen || strcmp(cur.policy_sha256, mark->policy_sha256))
		return 0;
	prev = prev_policy(st, pp, cur.gen);
	/* The saved file's bytes are its canonical text: their hash is the policy's. */
	if (!prev || strcmp(pp->sha256, mark->policy_sha256))
		return 0;
	return ww_compile_nft(prev, live) ? 0 : 1;
}

/* The XDP side of an apply, before the nftables commit: compile, load, compare, prepare, attach. */
static int xdp_before(const struct ww_policy *p, const struct ww_apply_opts *o,
		      struct ww_xdp **xp, struct ww_xdp_txn *t, struct ww_apply_result *r,
		      struct strbuf *err)
{
	struct ww_xdp_image img = {0};
	struct ww_diags d = {.file = o->source};
	bool same = false, links = false;
	int e;

	e = ww_compile_xdp(p, &img, &d);
	if (e) {
		struct strbuf m = {0};
		ww_diags_print(&d, &m);
		sb_addf(err, "compiling for XDP: %s", m.len ? sb_str(&m) : strerror(-e));
		sb_free(&m);
		ww_diags_free(&d);
		return e;
	}
	r->xdp_rules = img.nrules;
	r->xdp_lists = img.ndlists;
	r->xdp_cls = img.ncls;
	e = ww_xdp_open(o->bpffs, true, xp, err);
	if (!e)
		e = ww_xdp_same(*xp, &img, p, &same, err);
	if (!e && !same)
		e = ww_xdp_prepare(*xp, &img, p, t, err);
	if (!e)
		ww_stop_point("xdp-prepared");
	if (!e)
		e = ww_xdp_attach(*xp, p, t, err);
	if (!e)
		ww_stop_point("xdp-attached");
	/* Interfaces the policy drops keep their links until ww_xdp_finish, after the switch. */
	if (!e)
		e = ww_xdp_links_attached(*xp, p, &links);
	if (!e && !links) {
		sb_add(err, "XDP: the interfaces' links do not match the policy after attaching");
		e = -EIO;
	}
	r->xdp_attached = t->nattached;
	ww_xdp_image_free(&img);
	ww_diags_free(&d);
	return e;
}

/*
 * Sessions end when access ends: once the kernel holds p, the connections the previous
 * generation let through and p denies are cut (sessions.h). Not fatal when it fails (the kernel
 * holds p already): the result says so, and apply's report with it.
 */
static void cut_revoked_sessions(struct ww_state *st, struct prev_policy *pp,
				 const struct ww_policy *p, struct ww_apply_result *r)
{
	struct ww_generation g;
	const struct ww_policy *old;
	struct strbuf err = {0};
	struct ww_session_spare spare;

	if (ww_state_current(st, &g) || !g.gen || !strcmp(g.action, "remove"))
		return; /* nothing enforced before: nothing revoked */
	ww_session_spare_env(&spare); /* this command's own SSH session finishes it */
	if (!(old = prev_policy(st, pp, g.gen)))
		sb_addf(&err, "the previous generation %lu cannot be read", g.gen);
	else
		ww_sessions_cut_revoked(old, p, (int64_t)time(NULL), &spare, &r->sessions, &err);
	if (err.len)
		snprintf(r->sessions_err, sizeof(r->sessions_err), "%s", sb_str(&err));
	sb_free(&err);
}

/*
 * Window ends in the nftables tier: the overlay table of the places and times where a validity
 * window's end turns p's decision into deny (sessions.h), rebuilt in a transaction of its own
 * when the policy's own had nothing to send (append_windows puts it in that one otherwise).
 * *committed: it was (the ruleset generation moved once more). A failure is reported like a
 * failed cut: the kernel holds p already.
 */
static void enforce_window_ends(const struct ww_policy *p, struct ww_apply_result *r,
				bool *committed)
{
	struct strbuf err = {0};

	*committed = !ww_window_table_sync(p, (int64_t)time(NULL), &r->sessions.window_ends, &err);
	if (!*committed && !r->sessions_err[0])
		snprintf(r->sessions_err, sizeof(r->sessions_err), "%s", sb_str(&err));
	sb_free(&err);
}

/*
 * Quarantines hold in the XDP tier too when its maps are new (after `remove` or a reboot): their
 * XDP part written again from the records (quarantine.h). A failure is reported, not fatal.
 */
static void reload_quarantines(struct ww_state *st, const struct ww_apply_opts *o,
			       struct ww_apply_result *r)
{
	struct strbuf err = {0};

	if (ww_quar_xdp_reload(ww_state_dir(st), o->bpffs, (int64_t)time(NULL), &r->quarantines,
			       &err))
		snprintf(r->quarantine_err, sizeof(r->quarantine_err), "%s", sb_str(&err));
	sb_free(&err);
}

/* Counters that appear now start counting now; those kept keep their start. */
static int record_counters(struct ww_state *st, const struct ww_policy *p,
			   const struct nfr_table *want, bool xdp)
{
	size_t n = want->ncounters + (xdp ? p->nflows : 0);
	char **names = calloc(n + 1, sizeof(*names));
	size_t k = 0;
	int e = 0;

	if (!names)
		return -ENOMEM;
	for (size_t i = 0; i < want->ncounters && !e; i++)
		if (!(names[k++] = xstrdup_printf("nft:%s", want->counters[i].name)))
			e = -ENOMEM;
	for (size_t i = 0; xdp && i < p->nflows && !e; i++)
		if (!(names[k++] = xstrdup_printf("xdp:%s", p->flows[i].id)))
			e = -ENOMEM;
	if (!e)
		e = ww_state_counters_update(st, (const char *const *)names, k, (int64_t)time(NULL));
	for (size_t i = 0; i < k; i++)
		free(names[i]);
	free(names);
	return e;
}

/* One apply's working state, shared by its steps (ww_apply_locked). */
struct run {
	struct ww_state *st;
	const struct ww_policy *p;
	const struct ww_apply_opts *o;
	struct ww_apply_result *r;
	struct strbuf *err;
	struct ww_nft *nft;
	struct nfr_table *want, *live;
	struct ww_nft_diff d;
	struct ww_xdp *xdp;
	struct ww_xdp_txn txn;
	struct ww_nft_mark here; /* the ruleset generation now, and this process */
	struct ww_intent in;
	struct prev_policy prev; /* the current generation's policy, read when needed */
	struct strbuf canon;	 /* p's canonical text, printed once: its hash, the files written */
	char hash[65];
	uint32_t genid;	    /* the ruleset generation live was read at */
	bool same;	    /* the mark vouches that the kernel holds exactly p */
	bool intent;	    /* an intent record is on disk */
	bool nft_committed; /* a transaction changed the table */
	bool windows_committed; /* the window-ends table's transaction too (enforce_window_ends) */
	struct ww_window_msgs win; /* the window-end table's messages, for the nftables batch */
	bool win_built;		   /* win holds them */
	bool windows_in_main;	   /* they were committed with the policy's own transaction */
};

/* The intent, before the kernel changes: the policy saved as the generation it will be, and
 * what was current. An interrupted apply is finished from these (intent.h). The fail-closed
 * policy has none: it is no generation, and the next restore enforces it again anyway. */
static int begin_intent(struct run *x)
{
	const struct ww_apply_opts *o = x->o;
	struct ww_intent *in = &x->in;
	struct ww_generation cur;
	int e;

	if (o->failsafe)
		return 0;
	e = ww_state_current(x->st, &cur);
	if (e == -EBADMSG)
		e = 0;
	if (!e && !o->gen)
		e = ww_state_last_gen(x->st, &in->gen);
	if (!e) {
		in->gen = o->gen ? o->gen : in->gen + 1;
		in->prev = cur.gen;
		snprintf(in->action, sizeof(in->action), "%s", o->action ? o->action : "apply");
		snprintf(in->policy_sha256, sizeof(in->policy_sha256), "%s", x->hash);
		snprintf(in->source, sizeof(in->source), "%s", o->source ? o->source : "");
		snprintf(in->bpffs, sizeof(in->bpffs), "%s", o->bpffs ? o->bpffs : "");
		in->restores = o->restores;
		in->pid = (int)getpid();
		in->time = (int64_t)time(NULL);
		/* A restore re-enforces a generation whose file is there already (and checked). */
		if (!o->restore)
			e = ww_state_save_policy(x->st, in->gen, x->p, &x->canon);
	}
	if (!e)
		e = ww_intent_begin(x->st, in);
	if (e) {
		sb_addf(x->err, "recording the intent under %s: %s", ww_state_dir(x->st),
			strerror(-e));
		return e;
	}
	x->intent = true;
	ww_stop_point("intent");
	return 0;
}

/* The kernel refused the transaction: its reason for each refused message, and what each
 * refused map is for, from the objects the commit found refused (by sequence number). */
static void explain_refusal(struct run *x, const struct ww_nft_batch *b, int e)
{
	const struct ww_nft_refused *v;
	size_t n = b ? ww_nft_batch_refused(b, &v) : 0;
	char *k = strdup(sb_str(x->err));

	sb_reset(x->err);
	sb_addf(x->err, "the kernel refused the transaction, nothing was changed: %s", k ? k : "");
	free(k);
	for (size_t i = 0; i < n; i++) {
		bool seen = false;
		if (v[i].kind != WW_OBJ_SET || !nfr_set_find(x->want, v[i].name))
			continue;
		for (size_t k2 = 0; k2 < i && !seen; k2++)
			seen = v[k2].kind == WW_OBJ_SET && !strcmp(v[k2].name, v[i].name);
		if (seen)
			continue;
		sb_add(x->err, "; ");
		ww_nft_describe(x->want, WW_OBJ_SET, v[i].name, x->err);
	}
	/* The bridge family's `ct state` needs the kernel's connection tracking for bridges;
	 * without it every rule using it is refused with EPROTO. */
	if (e == -EPROTO && x->want->family == NFR_BRIDGE)
		sb_add(x->err, "; bridge mode needs connection tracking in the bridge family "
			       "(Linux 5.3 or later with CONFIG_NF_CONNTRACK_BRIDGE, module "
			       "nf_conntrack_bridge): `wardwall doctor` checks it");
}

/*
 * The window-end table (sessions.h) goes into the policy's own transaction: one atomic commit,
 * the policy and the ends of its windows together. Built once, appended to each attempt's batch;
 * when it cannot be built, the apply goes on without it and says so (sessions.error).
 */
static int append_windows(struct run *x, struct ww_nft_batch *b)
{
	struct strbuf err = {0};
	size_t len;

	if (!x->win_built) {
		if (ww_window_table_build(x->p, (int64_t)time(NULL), &x->win, &err)) {
			if (!x->r->sessions_err[0])
				snprintf(x->r->sessions_err, sizeof(x->r->sessions_err), "%s",
					 sb_str(&err));
			ww_window_msgs_free(&x->win);
			sb_free(&err);
			return 0;
		}
		x->win_built = true;
	}
	sb_free(&err);
	const void *m = ww_ovl_body(&x->win.q, &len);
	return ww_nft_batch_append(b, m, len, WW_WINDOWS_TABLE, "table inet " WW_WINDOWS_TABLE);
}

/* After revert_nft: the window-end table of the policy the kernel holds again (the current
 * generation's; none when nothing was applied), as the policy's transaction had replaced it. */
static void windows_back(struct run *x)
{
	struct ww_generation g;
	const struct ww_policy *old = NULL;
	struct strbuf err = {0};
	size_t n;

	if (!ww_state_current(x->st, &g) && g.gen && strcmp(g.action, "remove") &&
	    (old = prev_policy(x->st, &x->prev, g.gen)))
		ww_window_table_sync(old, (int64_t)time(NULL), &n, &err);
	else
		ww_window_table_clear(&err);
	sb_free(&err);
}

/* The nftables tier: know the live table (vouched for by the mark wardwall's own last commit
 * left, or read back), diff it against the wanted one and commit the difference as one batch
 * guarded by the ruleset generation; when someone else committed meanwhile (-ERESTART), all
 * over again, at most three times. */
static int commit_nft(struct run *x)
{
	struct ww_apply_result *r = x->r;
	struct ww_nft_batch *b = NULL;
	struct ww_nft_mark mark;
	int e = ww_nft_open(&x->nft);

	if (e) {
		sb_addf(x->err, "netlink: %s", strerror(-e));
		return e;
	}
	bool vouched = !ww_nft_mark_here(x->nft, &x->here) &&
		       !ww_nft_mark_load(ww_state_dir(x->st), &mark) &&
		       ww_nft_mark_matches(&mark, &x->here);
	for (int attempt = 0;; attempt++) {
		if (attempt == 0 && vouched) {
			e = vouched_live(x->st, &x->prev, &mark, x->hash, &x->live, &x->same);
			if (e < 0)
				return e;
			vouched = e == 1;
			x->genid = x->here.genid;
			e = 0;
		}
		r->vouched = vouched && attempt == 0;
		if (r->vouched && x->same)
			break; /* the kernel holds exactly p: nothing to read, nothing to send */
		e = r->vouched ? 0 : ww_nft_read(x->nft, &x->live, &x->genid, x->err);
		if (!e)
			e = ww_nft_diff(x->live, x->want, &x->d);
		if (e)
			return e;
		if (!x->d.n && !x->d.replace)
			break;
		e = ww_nft_batch_new(&b, x->genid);
		if (!e)
			e = ww_nft_diff_batch(x->live, x->want, &x->d, b);
		if (!e)
			e = append_windows(x, b);
		if (!e)
			e = inject_fault(b, x->want);
		if (e) {
			sb_addf(x->err, "building the transaction: %s", strerror(-e));
			ww_nft_batch_free(b);
			return e;
		}
		r->messages = ww_nft_batch_count(b);
		e = ww_nft_batch_commit(x->nft, b, x->err);
		if (e && (e != -ERESTART || attempt == 3))
			explain_refusal(x, b, e);
		ww_nft_batch_free(b);
		b = NULL;
		if (e != -ERESTART || attempt == 3)
			break;
		/* Someone changed the ruleset between our read and our commit: start over. */
		sb_reset(x->err);
		nfr_table_free(x->live);
		x->live = NULL;
		ww_nft_diff_free(&x->d);
	}
	if (!e) {
		x->nft_committed = x->d.n > 0 || x->d.replace;
		x->windows_in_main = x->nft_committed && x->win_built;
		if (x->windows_in_main)
			r->sessions.window_ends = x->win.nregions;
		ww_stop_point("nft-committed");
	}
	return e;
}

/* The XDP tier after the nftables commit: switch to the new generation with one map write
 * (if that fails, nftables goes back to the table it had), drop links and counter slots the
 * policy no longer has; or remove XDP when the policy no longer asks for it. */
static int switch_xdp(struct run *x)
{
	struct ww_apply_result *r = x->r;
	int e;

	if (x->xdp && x->txn.prepared) {
		e = ww_xdp_switch(x->xdp, &x->txn, x->err);
		if (e) {
			if (x->nft_committed && revert_nft(x->nft, x->live, x->err)) {
				sb_add(x->err, "; reverting nftables failed too: run `wardwall plan`");
				r->changed = true; /* the intent stays: the next command sorts it out */
			} else if (x->windows_in_main) {
				windows_back(x);
			}
			return e;
		}
		r->xdp_switched = true;
		ww_stop_point("xdp-switched");
	}
	if (x->xdp) {
		ww_xdp_finish(x->xdp, x->p, x->err);
		ww_stop_point("xdp-finished");
		reload_quarantines(x->st, x->o, r);
	}
	if (!r->xdp) {
		e = ww_xdp_remove(x->o->bpffs, &r->xdp_removed, x->err);
		if (e) {
			r->changed = x->nft_committed; /* keep the intent when the kernel moved */
			return e;
		}
		ww_stop_point("xdp-removed");
	}
	return 0;
}

/* What changed, recorded: the history line and `current` (when the kernel changed or the
 * record does not name this policy; a restore re-enforces the current one), the fail-closed
 * policy, the counters' start times and a snapshot (when nothing changed, only when one is due:
 * snapshot.h), the ruleset mark; then the intent goes.
 * An error here leaves the kernel changed and r->unrecorded set. */
static int record(struct run *x)
{
	struct ww_apply_result *r = x->r;
	struct ww_state *st = x->st;
	struct ww_generation cur;
	unsigned long last = 0;
	int e = ww_state_current(st, &cur);

	if (e == -EBADMSG)
		e = 0;
	if (!e)
		e = ww_state_last_gen(st, &last);
	if (!e && x->o->restore) {
		r->gen = cur.gen;
	} else if (!e && (r->changed || strcmp(cur.policy_sha256, x->hash) || !cur.gen ||
			  last >= x->in.gen)) {
		/* last >= in.gen: an interrupted run of this apply wrote its history line
		 * already, and `current` must follow it even when the kernel needed nothing. */
		e = ww_state_record_gen(st, x->p, x->hash, x->o->action, x->o->source,
					x->o->restores, x->in.gen);
		r->recorded = !e;
		r->gen = x->in.gen;
	} else if (!e) {
		r->gen = cur.gen;
		ww_state_forget_policy(st, x->in.gen); /* nothing new: no generation to keep */
	}
	/* What restore falls back to if this generation ever cannot be enforced (failsafe.h):
	 * written with every new generation, and when missing; a no-op apply leaves it (at 10k
	 * flows it costs 50-75 ms). */
	if (!e && (r->recorded || !ww_failsafe_exists(ww_state_dir(st))))
		e = ww_failsafe_save(ww_state_dir(st), x->p);
	if (!e)
		e = record_counters(st, x->p, x->want, r->xdp);
	if (!e)
		ww_stop_point("counters-written");
	if (!e && (r->changed || ww_snapshot_due(ww_state_dir(st), (int64_t)time(NULL)))) {
		/* Counters as they are now when the table was not read (vouched for). When there
		 * was none before (a first apply), every counter was made by its commit, at zero:
		 * the wanted table's counters are that (reading 100k of them back cost 0.4-0.6 s). */
		struct nfr_table *counters = NULL;
		struct strbuf ignored = {0};
		const struct nfr_table *snap = !x->live && !r->vouched ? x->want : x->live;
		if (r->vouched && ww_nft_read_counters(x->nft, x->want, &counters, &ignored))
			counters = NULL;
		ww_snapshot_live(ww_state_dir(st), r->vouched ? counters : snap, x->xdp);
		nfr_table_free(counters);
		sb_free(&ignored);
	}
	if (e) {
		sb_addf(x->err, "the kernel has the new policy, but recording it under %s failed: %s",
			ww_state_dir(st), strerror(-e));
		r->unrecorded = true;
	}
	/* The window table's transaction is wardwall's too: the mark follows both. */
	bool keep = r->vouched && x->same, holds;
	uint32_t marked = 0;
	holds = mark_kernel(st, x->nft, &x->here, x->hash,
			    x->windows_committed && x->nft_committed ? ww_nft_genid_next(x->genid)
								     : x->genid,
			    x->nft_committed || x->windows_committed, e || keep, &marked);
	if (!e)
		ww_apply_source_note(st, x->p, x->hash, x->o->src, x->o->source, holds || keep,
				     marked, x->want, r->xdp);
	if (!e) {
		ww_stop_point("marked");
		e = ww_intent_end(st);
		x->intent = false;
		if (e) {
			sb_addf(x->err,
				"the kernel has the new policy, but clearing %s/intent.json "
				"failed: %s",
				ww_state_dir(st), strerror(-e));
			r->unrecorded = true;
		}
	}
	return e;
}

int ww_apply_locked(struct ww_state *st, const struct ww_policy *p, const struct ww_apply_opts *o,
		    struct ww_apply_result *r, struct strbuf *err)
{
	struct run x = {.st = st, .p = p, .o = o, .r = r, .err = err};
	double t0 = now_ms();
	int e;

	memset(r, 0, sizeof(*r));
	r->xdp = p->enf.xdp != WW_XDP_OFF;
	e = lockout_guard(p, o, err);
	if (e)
		return e;
	e = ww_compile_nft(p, &x.want);
	if (e) {
		sb_addf(err, "compiling for nftables: %s", strerror(-e));
		goto out;
	}
	r->nchains = x.want->nchains;
	r->nsets = x.want->nsets;
	r->ncounters = x.want->ncounters;
	ww_policy_print_canonical(p, &x.canon);
	if (x.canon.oom) {
		e = -ENOMEM;
		sb_addf(err, "printing the policy: %s", strerror(-e));
		goto out;
	}
	sha256_hex(x.canon.s, x.canon.len, x.hash);
	memcpy(r->policy_sha256, x.hash, sizeof(r->policy_sha256));
	e = begin_intent(&x);
	/* XDP first: everything it needs is built and attached, but not switched in, before
	 * the nftables transaction; a failure there leaves both tiers as they were. */
	if (!e && r->xdp)
		e = xdp_before(p, o, &x.xdp, &x.txn, r, err);
	if (!e)
		e = commit_nft(&x);
	if (!e)
		e = switch_xdp(&x);
	if (e)
		goto out;
	r->changed = x.nft_committed || r->xdp_switched || r->xdp_attached || r->xdp_removed;
	if (x.nft_committed || r->xdp_switched)
		cut_revoked_sessions(st, &x.prev, p, r);
	/* The window-end table went with the policy's transaction; when that had nothing to send
	 * (the table was already right), it is rebuilt in a transaction of its own. */
	if (!(r->vouched && x.same) && !x.windows_in_main)
		enforce_window_ends(p, r, &x.windows_committed);
	r->replaced = x.d.replace;
	for (size_t i = 0; i < x.d.n; i++)
		r->counts[x.d.v[i].op][x.d.v[i].kind]++;
	if (o->failsafe)
		ww_nft_mark_clear(ww_state_dir(st));
	else
		e = record(&x);
out:
	if (e && x.xdp && !r->xdp_switched)
		ww_xdp_abort(x.xdp, &x.txn);
	/* Failed with the kernel as it was: the intent and its generation go. Failed after the
	 * kernel changed: the intent stays, and the next command finishes the apply. */
	if (e && x.intent && !r->changed && !r->unrecorded && !x.nft_committed) {
		if (!o->restore)
			ww_state_forget_policy(st, x.in.gen);
		ww_intent_end(st);
	}
	r->ms = now_ms() - t0;
	ww_xdp_txn_free(&x.txn);
	sb_free(&x.canon);
	ww_policy_free(x.prev.p);
	ww_window_msgs_free(&x.win);
	ww_xdp_close(x.xdp);
	ww_nft_diff_free(&x.d);
	nfr_table_free(x.live);
	nfr_table_free(x.want);
	ww_nft_close(x.nft);
	return e;
}

int ww_apply(const struct ww_policy *p, const struct ww_apply_opts *o, struct ww_apply_result *r,
	     struct strbuf *err)
{
	struct ww_state *st = NULL;
	struct ww_recovery rec;
	int e;

	memset(r, 0, sizeof(*r));
	e = lockout_guard(p, o, err);
	if (e)
		return e;
	e = ww_state_open(o->state_dir, true, &st, err);
	if (e)
		return e;
	/* An apply interrupted before this one is finished first, so history stays in order.
	 * Not under the fail-closed policy: the state it falls back from may be what is broken. */
	memset(&rec, 0, sizeof(rec));
	e = o->failsafe ? 0 : ww_recover_locked(st, o->bpffs, &rec, err);
	if (!e) {
		r->recovered = rec;
		e = ww_apply_locked(st, p, o, r, err);
		r->recovered = rec;
	}
	ww_state_close(st);
	return e;
}

int ww_remove_locked(struct ww_state *st, const char *bpffs, unsigned long gen, bool *changed,
		     bool *xdp_changed, struct strbuf *err)
{
	struct ww_nft *nft = NULL;
	struct nfr_table *live = NULL;
	struct ww_nft_batch *b = NULL;
	struct ww_generation cur;
	struct ww_intent in = {.pid = (int)getpid(), .time = (int64_t)time(NULL)};
	uint32_t genid;
	int e;

	*changed = false;
	*xdp_changed = false;
	e = ww_state_current(st, &cur);
	if (e == -EBADMSG)
		e = 0;
	if (!e && !gen)
		e = ww_state_last_gen(st, &gen), gen++;
	if (!e) {
		in.gen = gen;
		in.prev = cur.gen;
		snprintf(in.action, sizeof(in.action), "remove");
		snprintf(in.bpffs, sizeof(in.bpffs), "%s", bpffs ? bpffs : "");
		e = ww_intent_begin(st, &in);
	}
	if (e) {
		sb_addf(err, "recording the intent under %s: %s", ww_state_dir(st), strerror(-e));
		return e;
	}
	ww_stop_point("remove-intent");
	e = ww_nft_open(&nft);
	if (!e)
		e = ww_nft_read(nft, &live, &genid, err);
	if (!e && live) {
		e = ww_nft_batch_new(&b, genid);
		if (!e)
			e = ww_nft_del_tables(b, live);
		if (!e)
			e = ww_nft_batch_commit(nft, b, err);
		*changed = !e;
	}
	ww_nft_mark_clear(ww_state_dir(st));
	if (!e)
		e = ww_window_table_clear(err); /* window ends of no policy: none */
	if (!e)
		ww_stop_point("remove-nft-deleted");
	if (!e)
		e = ww_xdp_remove(bpffs, xdp_changed, err);
	if (!e)
		ww_stop_point("remove-xdp-removed");
	if (!e) {
		if (ww_state_current(st, &cur) || cur.gen || *changed || *xdp_changed)
			e = ww_state_record_gen(st, NULL, NULL, "remove", NULL, 0, gen);
	}
	if (!e)
		e = ww_intent_end(st);
	else if (!*changed && !*xdp_changed)
		ww_intent_end(st); /* nothing was removed: nothing to finish later */
	ww_nft_batch_free(b);
	nfr_table_free(live);
	ww_nft_close(nft);
	return e;
}

int ww_remove(const char *state_dir, const char *bpffs, bool *changed, bool *xdp_changed,
	      struct strbuf *err)
{
	struct ww_state *st = NULL;
	struct ww_recovery rec;
	int e;

	*changed = *xdp_changed = false;
	e = ww_state_open(state_dir, true, &st, err);
	if (e)
		return e;
	e = ww_recover_locked(st, bpffs, &rec, err);
	if (!e)
		e = ww_remove_locked(st, bpffs, 0, changed, xdp_changed, err);
	ww_state_close(st);
	return e;
}
