// SPDX-License-Identifier: GPL-2.0-only
/* wardwall apply POLICY: enforce a policy, as one transaction. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "apply.h"
#include "cli.h"
#include "policy.h"

static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};

void ww_apply_report(const struct ww_policy *p, const struct ww_apply_result *r, bool json,
		     struct strbuf *out)
{
	static const char *const ops[] = {"added", "removed", "rewritten"};
	char hash[65];

	ww_policy_hash(p, hash);
	if (json) {
		sb_addf(out, "{\"result\": \"%s\", \"generation\": %lu, \"recorded\": %s, "
			     "\"policy\": {\"name\": ",
			r->changed ? "applied" : "unchanged", r->gen, r->recorded ? "true" : "false");
		sb_add_json_str(out, p->name);
		sb_addf(out, ", \"sha256\": \"%s\"}, \"nftables\": {\"read\": \"%s\", "
			     "\"replaced\": %s, \"messages\": %zu, \"chains\": %zu, \"maps\": %zu, "
			     "\"counters\": %zu",
			hash, r->vouched ? "generation-unchanged" : "kernel",
			r->replaced ? "true" : "false", r->messages, r->nchains, r->nsets,
			r->ncounters);
		for (int op = 0; op < 3; op++) {
			sb_addf(out, ", \"%s\": {", ops[op]);
			for (int k = 1; k < 5; k++)
				sb_addf(out, "%s\"%ss\": %zu", k > 1 ? ", " : "", kinds[k],
					r->counts[op][k]);
			sb_add(out, "}");
		}
		sb_addf(out, "}, \"xdp\": {\"enabled\": %s, \"switched\": %s, \"removed\": %s, "
			     "\"attached\": %zu, \"rules\": %zu, \"lists\": %zu, \"prefixes\": %zu}",
			r->xdp ? "true" : "false", r->xdp_switched ? "true" : "false",
			r->xdp_removed ? "true" : "false", r->xdp_attached, r->xdp_rules,
			r->xdp_lists, r->xdp_cls);
		sb_addf(out, ", \"duration_ms\": %.1f}\n", r->ms);
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
