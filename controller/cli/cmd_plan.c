// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall plan POLICY: what apply would change, in policy terms, and any drift.
 *
 * Three states are compared: the policy given (compiled), the live table (read over netlink),
 * and the last applied generation (recorded, compiled again). Live vs recorded is drift: state
 * in the kernel that no applied policy explains. Recorded vs given, as policies, says what
 * changes in policy terms. Live vs given, as kernel objects, is the work apply would do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_diff.h"
#include "cli.h"
#include "confirm.h"
#include "json.h"
#include "nft_compile.h"
#include "xdp_compile.h"
#include "xdp_tier.h"
#include "nft_mark.h"
#include "nft_nl.h"
#include "policy.h"
#include "policy_diff.h"
#include "quarantine.h"
#include "state.h"
#include "timeutil.h"

struct plan {
	struct ww_policy *want_p, *applied_p;
	char applied_sha256[65]; /* of applied_p's file's bytes (ww_state_policy_sha) */
	struct nfr_table *want, *live, *applied;
	struct ww_generation gen;
	struct ww_pdiff pd;
	struct ww_nft_diff work, drift;
	bool unrecorded; /* a table exists but no generation is recorded */
	/* The XDP tier: the program, its links per interface, every map of the active
	 * generation (ww_xdp_same compares their content and the generation's slot). */
	struct {
		bool want, applied, present; /* asked for by the policy / the record; pinned */
		bool work_maps, work_links;  /* apply would switch a generation / change links */
		bool remove;                 /* apply would remove it (the policy turns it off) */
		bool drift_maps, drift_links, drift_unexplained;
	} xdp;
	bool pending;    /* a change waits for `wardwall confirm` */
	struct ww_pending pend;
};

/* Whether the mark vouches that the table is the applied generation (nft_mark.h). */
static bool plan_vouched(const struct plan *pl, const char *state_dir, struct ww_nft *nft,
			 uint32_t *genid)
{
	if (!ww_nft_mark_vouches(nft, state_dir, pl->gen.policy_sha256, genid))
		return false;
	/* The saved file's bytes are its canonical text: their hash is the policy's. */
	return !strcmp(pl->applied_sha256, pl->gen.policy_sha256);
}

static bool xdp_drift(const struct plan *pl)
{
	return pl->xdp.drift_maps || pl->xdp.drift_links || pl->xdp.drift_unexplained;
}

static bool xdp_work(const struct plan *pl)
{
	return pl->xdp.work_maps || pl->xdp.work_links || pl->xdp.remove;
}

static void xdp_drift_text(const struct plan *pl, struct strbuf *out)
{
	if (pl->xdp.drift_unexplained)
		sb_add(out, "  xdp: wardwall's XDP program is pinned but no applied generation asks "
			    "for it\n");
	if (pl->xdp.drift_maps)
		sb_addf(out, "  xdp: %s\n",
			pl->xdp.present ? "the active generation's maps differ from generation's policy"
					: "the program and its maps are missing from the kernel");
	if (pl->xdp.drift_links)
		sb_add(out, "  xdp: the links do not match the policy's interfaces (one is detached, "
			    "missing, extra or in another mode)\n");
}

/* Lines of a that are not in b, each with a prefix, for showing how a chain differs. */
static void lines_not_in(const char *a, const char *b, const char *prefix, struct strbuf *out)
{
	for (const char *p = a; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		bool found = false;
		for (const char *q = b; *q && !found;) {
			const char *ql = strchr(q, '\n');
			size_t m = ql ? (size_t)(ql - q) : strlen(q);
			found = m == n && !strncmp(p, q, n);
			q += m + (ql != NULL);
		}
		if (!found) {
			sb_addf(out, "%s", prefix);
			sb_addn(out, p, n);
			sb_add(out, "\n");
		}
		p += n + (nl != NULL);
	}
}

static void drift_detail(const struct plan *pl, const struct ww_nft_change *c, struct strbuf *out)
{
	const struct nfr_table *exp = pl->applied, *live = pl->live;
	struct strbuf a = {0}, b = {0};

	if (c->kind == WW_OBJ_CHAIN && c->op != WW_ADD) {
		const struct nfr_chain *lc = nfr_chain_find(live, c->name);
		const struct nfr_chain *ec = exp ? nfr_chain_find(exp, c->name) : NULL;
		if (lc)
			nfr_chain_body(lc, &a);
		if (ec)
			nfr_chain_body(ec, &b);
	} else if (c->kind == WW_OBJ_SET && c->op != WW_ADD) {
		const struct nfr_set *ls = nfr_set_find(live, c->name);
		const struct nfr_set *es = exp ? nfr_set_find(exp, c->name) : NULL;
		if (ls)
			nfr_set_body(ls, &a);
		if (es)
			nfr_set_body(es, &b);
	}
	lines_not_in(sb_str(&a), sb_str(&b), "      + ", out);
	lines_not_in(sb_str(&b), sb_str(&a), "      - ", out);
	sb_free(&a);
	sb_free(&b);
}

static const char *drift_verb(enum ww_op op)
{
	/* The drift diff goes from live to expected: an ADD is missing from the kernel. */
	return op == WW_ADD ? "missing from the kernel" : op == WW_DEL ? "not explained by any policy"
								    : "differs from the policy";
}

static void print_text(const struct plan *pl, const char *file, struct strbuf *out)
{
	static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};
	static const char *const ops[] = {"+", "-", "~"};
	char hash[65], tb[WW_TIME_STRLEN];

	ww_policy_hash(pl->want_p, hash);
	sb_addf(out, "plan for %s (%s, sha256 %.12s)\n", file, pl->want_p->name, hash);
	if (pl->gen.gen)
		sb_addf(out, "applied: generation %lu (%s, sha256 %.12s, %s by %s)\n", pl->gen.gen,
			pl->gen.policy_name, pl->gen.policy_sha256, ww_time_str(pl->gen.time, tb),
			pl->gen.user);
	else
		sb_addf(out, "applied: nothing recorded\n");
	if (pl->pending)
		sb_addf(out, "pending: generation %lu is rolled back to %lu at %s unless `wardwall "
			     "confirm`\n",
			pl->pend.gen, pl->pend.previous, ww_time_str(pl->pend.deadline, tb));
	if (pl->unrecorded) {
		sb_addf(out, "drift: table %s " WW_NFT_TABLE
			     " exists but no applied generation explains it\n",
			nfr_family_str(pl->live->family));
		xdp_drift_text(pl, out);
	} else if (xdp_drift(pl) && !pl->drift.n && !pl->drift.replace) {
		sb_addf(out, "drift: the XDP tier differs from generation %lu:\n", pl->gen.gen);
		xdp_drift_text(pl, out);
	} else if (pl->drift.n || pl->drift.replace) {
		sb_addf(out, "drift: %zu object%s of the kernel %s from generation %lu:\n",
			pl->drift.n, pl->drift.n == 1 ? "" : "s", pl->drift.n == 1 ? "differs" : "differ",
			pl->gen.gen);
		for (size_t i = 0; i < pl->drift.n; i++) {
			struct strbuf w = {0};
			const struct ww_nft_change *c = &pl->drift.v[i];
			ww_nft_describe(c->op == WW_ADD ? pl->applied : pl->live, c->kind, c->name, &w);
			sb_addf(out, "  %s: %s\n", sb_str(&w), drift_verb(c->op));
			drift_detail(pl, c, out);
			sb_free(&w);
		}
		xdp_drift_text(pl, out);
	} else if (pl->live || pl->xdp.present) {
		sb_add(out, "drift: none\n");
	}
	size_t real = 0;
	for (size_t i = 0; i < pl->pd.n; i++) {
		const struct ww_pd_item *it = &pl->pd.v[i];
		if (!real++)
			sb_add(out, "changes:\n");
		sb_addf(out, "  %s %s %s", ops[it->op], it->kind, it->name);
		if (it->detail)
			sb_addf(out, ": %s", it->detail);
		sb_add(out, it->enforcement_neutral ? " (no effect on enforcement)\n" : "\n");
	}
	if (pl->xdp.remove)
		sb_add(out, "xdp: apply removes the XDP program from every interface (the policy "
			    "turns XDP off)\n");
	else if (pl->xdp.work_maps || pl->xdp.work_links)
		sb_addf(out, "xdp:%s%s\n",
			pl->xdp.work_maps ? " a new generation is switched in" : "",
			pl->xdp.work_links ? (pl->xdp.work_maps ? "; links change" : " links change")
					   : "");
	if (!pl->work.n && !pl->work.replace) {
		sb_add(out, real || xdp_work(pl) ? "nftables: nothing to change\n"
						 : "no changes: the kernel already enforces this policy\n");
		return;
	}
	if (!real && pl->gen.gen && !pl->unrecorded)
		sb_add(out, "changes: none in the policy; apply repairs the drift above\n");
	sb_add(out, "kernel:");
	if (pl->work.replace && pl->live && pl->live->family != pl->want->family) {
		sb_addf(out, " table %s " WW_NFT_TABLE " is deleted and table %s " WW_NFT_TABLE
			     " created in the same transaction (the mode changes; counters restart)\n",
			nfr_family_str(pl->live->family), nfr_family_str(pl->want->family));
		return;
	}
	if (pl->work.replace) {
		sb_add(out, " the table is replaced whole (its counters restart)\n");
		return;
	}
	for (int op = 0; op < 3; op++)
		for (int k = 0; k < 5; k++) {
			size_t n = ww_nft_diff_count(&pl->work, (enum ww_op)op, (enum ww_objkind)k);
			if (n)
				sb_addf(out, " %s%zu %s%s", ops[op], n, kinds[k], n == 1 ? "" : "s");
		}
	sb_add(out, "\n");
}

static void print_json(const struct plan *pl, struct strbuf *out)
{
	static const char *const plural[] = {"tables", "counters", "limits", "maps", "chains"};
	static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};
	static const char *const ops[] = {"added", "removed", "changed"};
	struct ww_jw w = {.out = out, .compact = true};
	char hash[65], tb[WW_TIME_STRLEN];

	ww_policy_hash(pl->want_p, hash);
	ww_jw_obj(&w, NULL);
	ww_jw_obj(&w, "policy");
	ww_jw_str(&w, "name", pl->want_p->name);
	ww_jw_str(&w, "sha256", hash);
	ww_jw_end_obj(&w);
	ww_jw_str(&w, "nftables_read",
		  pl->live && pl->live == pl->applied ? "generation-unchanged" : "kernel");
	if (pl->gen.gen) {
		ww_jw_obj(&w, "applied");
		ww_jw_u64(&w, "generation", pl->gen.gen);
		ww_jw_str(&w, "name", pl->gen.policy_name);
		ww_jw_str(&w, "sha256", pl->gen.policy_sha256);
		ww_jw_str(&w, "time", ww_time_str(pl->gen.time, tb));
		ww_jw_str(&w, "user", pl->gen.user);
		ww_jw_end_obj(&w);
	} else {
		ww_jw_null(&w, "applied");
	}
	ww_jw_arr(&w, "changes");
	for (size_t i = 0; i < pl->pd.n; i++) {
		const struct ww_pd_item *it = &pl->pd.v[i];
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "kind", it->kind);
		ww_jw_str(&w, "op", ops[it->op]);
		ww_jw_str(&w, "name", it->name);
		if (it->detail)
			ww_jw_str(&w, "detail", it->detail);
		ww_jw_bool(&w, "enforcement", !it->enforcement_neutral);
		ww_jw_end_obj(&w);
	}
	ww_jw_end_arr(&w);
	ww_jw_obj(&w, "drift");
	ww_jw_bool(&w, "unrecorded_table", pl->unrecorded);
	ww_jw_bool(&w, "replace", pl->drift.replace);
	ww_jw_obj(&w, "xdp");
	ww_jw_bool(&w, "maps", pl->xdp.drift_maps);
	ww_jw_bool(&w, "links", pl->xdp.drift_links);
	ww_jw_bool(&w, "unexplained", pl->xdp.drift_unexplained);
	ww_jw_end_obj(&w);
	ww_jw_arr(&w, "objects");
	for (size_t i = 0; i < pl->drift.n; i++) {
		const struct ww_nft_change *c = &pl->drift.v[i];
		struct strbuf what = {0}, det = {0};
		ww_nft_describe(c->op == WW_ADD ? pl->applied : pl->live, c->kind, c->name, &what);
		drift_detail(pl, c, &det);
		ww_jw_obj(&w, NULL);
		ww_jw_str(&w, "kind", kinds[c->kind]);
		ww_jw_str(&w, "name", c->name);
		ww_jw_str(&w, "what", sb_str(&what));
		ww_jw_str(&w, "state",
			  c->op == WW_ADD ? "missing" : c->op == WW_DEL ? "unexplained" : "differs");
		ww_jw_str(&w, "detail", sb_str(&det));
		ww_jw_end_obj(&w);
		sb_free(&what);
		sb_free(&det);
	}
	ww_jw_end_arr(&w);
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "kernel");
	ww_jw_bool(&w, "replace", pl->work.replace);
	for (int op = 0; op < 3; op++) {
		ww_jw_obj(&w, ops[op]);
		for (int k = 1; k < 5; k++)
			ww_jw_u64(&w, plural[k],
				  ww_nft_diff_count(&pl->work, (enum ww_op)op, (enum ww_objkind)k));
		ww_jw_end_obj(&w);
	}
	ww_jw_end_obj(&w);
	ww_jw_obj(&w, "xdp");
	ww_jw_bool(&w, "switch", pl->xdp.work_maps);
	ww_jw_bool(&w, "links", pl->xdp.work_links);
	ww_jw_bool(&w, "remove", pl->xdp.remove);
	ww_jw_end_obj(&w);
	ww_jw_bool(&w, "changed", pl->work.n || pl->work.replace || xdp_work(pl));
	if (pl->pending) {
		ww_jw_obj(&w, "rollback_deadline");
		ww_jw_u64(&w, "generation", pl->pend.gen);
		ww_jw_u64(&w, "previous", pl->pend.previous);
		ww_jw_str(&w, "deadline", ww_time_str(pl->pend.deadline, tb));
		ww_jw_end_obj(&w);
	} else {
		ww_jw_null(&w, "rollback_deadline");
	}
	ww_jw_end_obj(&w);
}

/* Does the kernel's XDP tier hold p exactly (active maps, links)? */
static int xdp_compare(struct ww_xdp *x, const struct ww_policy *p, bool *maps, bool *links,
		       struct strbuf *err)
{
	struct ww_xdp_image img = {0};
	struct ww_diags d = {0};
	bool same = false, ok = false;
	int e = ww_compile_xdp(p, &img, &d);

	ww_diags_free(&d);
	if (!e && x)
		e = ww_xdp_same(x, &img, p, &same, err);
	if (!e && x)
		e = ww_xdp_links_ok(x, p, &ok, err);
	ww_xdp_image_free(&img);
	*maps = !same;
	*links = !ok;
	return e;
}

static int plan_xdp(struct plan *pl, const char *bpffs, struct strbuf *err)
{
	struct ww_xdp *x = NULL;
	int e;

	pl->xdp.want = pl->want_p->enf.xdp != WW_XDP_OFF;
	pl->xdp.applied = pl->applied_p && pl->applied_p->enf.xdp != WW_XDP_OFF;
	e = ww_xdp_open(bpffs, false, &x, err);
	/* Nothing pinned; or no usable bpffs at all (ip netns exec mounts a fresh /sys), which
	 * matters only when a policy here asks for XDP. */
	if (e == -ENOENT || (e && !pl->xdp.want && !pl->xdp.applied)) {
		sb_reset(err);
		x = NULL;
		e = 0;
	}
	if (e)
		return e;
	pl->xdp.present = x != NULL;
	if (pl->xdp.want)
		e = xdp_compare(x, pl->want_p, &pl->xdp.work_maps, &pl->xdp.work_links, err);
	else
		pl->xdp.remove = pl->xdp.present;
	if (!e && pl->xdp.applied)
		e = xdp_compare(x, pl->applied_p, &pl->xdp.drift_maps, &pl->xdp.drift_links, err);
	else if (!e)
		pl->xdp.drift_unexplained = pl->xdp.present;
	ww_xdp_close(x);
	return e;
}

static int plan_build(struct plan *pl, const char *state_dir, const char *bpffs,
		      struct strbuf *err)
{
	pl->pending = !ww_pending_load(state_dir, &pl->pend);
	struct ww_state *st = NULL;
	struct ww_nft *nft = NULL;
	struct ww_diags d = {.file = "generation"};
	uint32_t genid;
	int e;

	e = ww_compile_nft(pl->want_p, &pl->want);
	if (!e)
		e = ww_state_open(state_dir, false, &st, err);
	if (!e) {
		e = ww_state_current(st, &pl->gen);
		if (e == -EBADMSG) {
			sb_addf(err, "%s/current names a generation the history does not have",
				ww_state_dir(st));
			goto out;
		}
	}
	if (!e && pl->gen.gen) {
		e = ww_state_policy_sha(st, pl->gen.gen, &pl->applied_p, &d, pl->applied_sha256);
		if (e)
			sb_addf(err, "generation %lu: %s", pl->gen.gen, strerror(-e));
		if (!e)
			e = ww_compile_nft(pl->applied_p, &pl->applied);
	}
	if (!e)
		e = ww_nft_open(&nft);
	/* While the mark vouches for it (nft_mark.h), the table is the applied one compiled. */
	if (!e && pl->applied && plan_vouched(pl, state_dir, nft, &genid))
		pl->live = pl->applied;
	else if (!e)
		e = ww_nft_read(nft, &pl->live, &genid, err);
	if (!e)
		e = ww_policy_diff(pl->applied_p, pl->want_p, &pl->pd);
	if (!e)
		e = ww_nft_diff(pl->live, pl->want, &pl->work);
	if (!e && pl->live && !pl->applied)
		pl->unrecorded = true;
	else if (!e && pl->applied && pl->live)
		e = ww_nft_diff(pl->live, pl->applied, &pl->drift);
	else if (!e && pl->applied && !pl->live)
		e = ww_nft_diff(NULL, pl->applied, &pl->drift);
	if (!e)
		e = plan_xdp(pl, bpffs, err);
	if (e && !err->len)
		sb_addf(err, "%s", strerror(-e));
out:
	ww_diags_free(&d);
	ww_nft_close(nft);
	ww_state_close(st);
	return e;
}

struct plan_args {
	bool json, detailed;
	const char *state_dir, *bpffs;
};

static const struct ww_opt plan_opts[] = {
	WW_FLAG("--json", struct plan_args, json),
	WW_FLAG("--detailed-exitcode", struct plan_args, detailed),
	WW_STR("--state-dir", struct plan_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct plan_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_plan(int argc, char **argv)
{
	struct plan_args a = {0};
	struct plan pl = {0};
	struct strbuf err = {0}, out = {0};
	char *pos[1];
	int npos, rc;

	if (ww_opts_parse(plan_opts, argc, argv, &a, pos, 1, &npos) || npos != 1)
		return ww_usage(&ww_cmd_plan);
	rc = ww_load_valid(pos[0], &pl.want_p);
	if (rc) /* with --detailed-exitcode, 2 means "changes": every error is 1 */
		return a.detailed ? WW_EXIT_INVALID : rc;
	ww_cli_recover(a.state_dir, a.bpffs);
	if (plan_build(&pl, a.state_dir, a.bpffs, &err)) {
		ww_errorf("plan %s: %s", pos[0], sb_str(&err));
		rc = a.detailed ? WW_EXIT_INVALID : WW_EXIT_USAGE;
	} else {
		if (a.json)
			print_json(&pl, &out);
		else
			print_text(&pl, pos[0], &out);
		/* Quarantines are a runtime overlay in their own table: shown, never drift. */
		ww_quar_report_into(a.state_dir, NULL, ww_now(), a.json, &out);
		fputs(sb_str(&out), stdout);
		rc = a.detailed && (pl.work.n || pl.work.replace || xdp_work(&pl)) ? 2 : WW_EXIT_OK;
	}
	sb_free(&err);
	sb_free(&out);
	ww_pdiff_free(&pl.pd);
	ww_nft_diff_free(&pl.work);
	ww_nft_diff_free(&pl.drift);
	nfr_table_free(pl.want);
	if (pl.live != pl.applied)
		nfr_table_free(pl.live);
	nfr_table_free(pl.applied);
	ww_policy_free(pl.want_p);
	ww_policy_free(pl.applied_p);
	return rc;
}

const struct ww_cmd ww_cmd_plan = {
	"plan", cmd_plan, "what apply would change in the kernel, in policy terms, and any drift",
	plan_opts, "POLICY", NULL,
};
