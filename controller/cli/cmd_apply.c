// SPDX-License-Identifier: GPL-2.0-only
/* wardwall apply POLICY: enforce a policy, as one transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "json.h"
#include "policy.h"

static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};

static void report_json(const struct ww_policy *p, const struct ww_apply_result *r,
			const char *hash, struct strbuf *out)
{
	static const char *const ops[] = {"added", "removed", "rewritten"};
	static const char *const plural[] = {"tables", "counters", "limits", "maps", "chains"};
	struct ww_jw w = {.out = out, .compact = true};

	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "result", r->changed ? "applied" : "unchanged");
	ww_jw_u64(&w, "generation", r->gen);
	ww_jw_bool(&w, "recorded", r->recorded);
	ww_jw_obj(&w, "policy");
	ww_jw_str(&w, "name", p->name);
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
	ww_jw_numf(&w, "duration_ms", "%.1f", r->ms);
	ww_jw_end_obj(&w);
}

void ww_apply_report(const struct ww_policy *p, const struct ww_apply_result *r, bool json,
		     struct strbuf *out)
{
	static const char *const ops[] = {"added", "removed", "rewritten"};
	char hash[65];

	ww_policy_hash(p, hash);
	if (json) {
		report_json(p, r, hash, out);
		return;
	}
	if (!r->changed) {
		sb_addf(out, "no changes: the kernel already enforces %s (sha256 %.12s), generation %lu\n",
			p->name, hash, r->gen);
		return;
	}
	sb_addf(out, "applied %s (sha256 %.12s) as generation %lu in %.0f ms\n", p->name, hash,
		r->gen, r->ms);
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

int cmd_apply(int argc, char **argv)
{
	const char *state_dir = NULL, *bpffs = NULL;
	bool json = false, force = false;
	char *pos[1];
	int npos, rc;
	struct ww_opt opts[] = {{"--json", NULL, &json},
				{"--force", NULL, &force},
				{"--state-dir", &state_dir, NULL},
				{"--bpffs", &bpffs, NULL},
				{NULL, NULL, NULL}};
	struct ww_policy *p = NULL;
	struct ww_apply_result r;
	struct strbuf err = {0}, out = {0};

	if (ww_opts_parse(argc, argv, opts, pos, 1, &npos) || npos != 1)
		return ww_usage("apply");
	rc = ww_load_valid(pos[0], &p);
	if (rc)
		return rc;
	struct ww_apply_opts o = {.state_dir = state_dir, .source = pos[0], .action = "apply",
				  .force = force, .bpffs = bpffs};
	int e = ww_apply(p, &o, &r, &err);
	ww_recovery_say(&r.recovered);
	if (e && r.unrecorded) {
		ww_errorf("apply %s: %s; the next wardwall command finishes recording it", pos[0],
			  sb_str(&err));
		rc = WW_EXIT_UNRECORDED;
	} else if (e) {
		ww_errorf("apply %s: %s", pos[0], sb_str(&err));
		rc = e == -EINVAL ? WW_EXIT_INVALID : WW_EXIT_USAGE;
	} else {
		ww_apply_report(p, &r, json, &out);
		fputs(sb_str(&out), stdout);
		rc = WW_EXIT_OK;
	}
	sb_free(&err);
	sb_free(&out);
	ww_policy_free(p);
	return rc;
}
