// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall learn --zone Z [--since TIME] [--out FILE] [--state-dir DIR]: the flows zone Z
 * needs, learned from what monitor mode let through (learn.h, docs/learn.md), as the applied
 * policy plus those flows: a proposal that `check` accepts, for an engineer to review. Nothing
 * is applied. The proposal goes to FILE (or standard output), what was seen to standard error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "events.h"
#include "learn.h"
#include "timeutil.h"
#include "util.h"

struct learn_args {
	const char *zone, *since_s, *out, *sd, *bpffs;
};

static const struct ww_opt learn_opts[] = {
    WW_STR("--zone", struct learn_args, zone, "ZONE"),
    WW_STR("--since", struct learn_args, since_s, "TIME"),
    WW_STR("--out", struct learn_args, out, "FILE"),
    WW_STR("--state-dir", struct learn_args, sd, "DIR"),
    WW_STR("--bpffs", struct learn_args, bpffs, "DIR"),
    WW_OPT_END,
};

/* What the allowed-traffic counters say about the zone's allow flows (learn.h), on stderr. */
static void print_allowed(const struct learn_args *a, int64_t since)
{
	struct ww_learn_counters lc;
	struct strbuf err = {0};
	char t1[WW_TIME_STRLEN], t2[WW_TIME_STRLEN];

	if (ww_learn_counters(a->sd, a->bpffs, a->zone, since, &lc, &err)) {
		fprintf(stderr,
			"  allowed-traffic counters not read (%s): learned from would-be denials "
			"only\n",
			sb_str(&err));
		sb_free(&err);
		return;
	}
	if (lc.snapshot)
		fprintf(
		    stderr,
		    "  %zu allow flow%s naming zone %s, by their counters since the snapshot of "
		    "%s (the last at or before %s):\n",
		    lc.n, lc.n == 1 ? "" : "s", a->zone, ww_time_str(lc.snapshot, t1),
		    ww_time_str(since, t2));
	else
		fprintf(
		    stderr,
		    "  %zu allow flow%s naming zone %s, by their counters since each started (no "
		    "snapshot at or before %s):\n",
		    lc.n, lc.n == 1 ? "" : "s", a->zone, ww_time_str(since, t2));
	for (size_t i = 0; i < lc.n; i++) {
		const struct ww_learn_allowed *l = &lc.v[i];
		if (l->state == WW_USAGE_USED)
			fprintf(stderr, "    %s: confirmed by traffic, %llu packets since (%s)\n",
				l->id, (unsigned long long)l->packets, l->why);
		else if (l->state == WW_USAGE_UNUSED)
			fprintf(stderr,
				"    %s: no traffic since (%s): a candidate to narrow or remove\n",
				l->id, l->why);
		else
			fprintf(
			    stderr,
			    "    %s: cannot tell (%llu packets since its counters started, before "
			    "the date)\n",
			    l->id, (unsigned long long)l->total);
	}
	ww_learn_counters_free(&lc);
	sb_free(&err);
}

static int cmd_learn(int argc, char **argv)
{
	struct learn_args a = {0};
	struct ww_learn_result res;
	struct strbuf err = {0};
	int64_t since = 0;
	int npos, e;

	if (ww_opts_parse(learn_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_learn);
	if (!a.zone) {
		ww_errorf("learn: --zone ZONE is required (a zone in monitor mode)");
		return WW_EXIT_USAGE;
	}
	if (a.since_s && ww_time_arg("--since", a.since_s, &since))
		return WW_EXIT_USAGE;
	if ((e = ww_learn(a.sd, a.zone, since * 1000000000LL, ww_now(), &res, &err))) {
		ww_errorf("learn: %s", sb_str(&err));
		sb_free(&err);
		return e == -EINVAL ? WW_EXIT_INVALID : WW_EXIT_USAGE;
	}
	if (a.out) {
		size_t n = strlen(res.policy);
		char *t = malloc(n + 2);
		if (t) {
			memcpy(t, res.policy, n);
			t[n] = '\n';
		}
		e = t ? write_file_atomic(a.out, t, n + 1, 0644) : -ENOMEM;
		free(t);
		if (e) {
			ww_errorf("learn: %s: %s", a.out, strerror(-e));
			ww_learn_result_free(&res);
			return WW_EXIT_USAGE;
		}
	} else {
		printf("%s\n", res.policy);
	}
	fprintf(stderr,
		"wardwall: learn: zone %s: %llu recorded record%s read, %llu would-be denial%s "
		"learned from, %zu flow%s proposed%s%s\n",
		a.zone, (unsigned long long)res.records, res.records == 1 ? "" : "s",
		(unsigned long long)res.used, res.used == 1 ? "" : "s", res.nflows,
		res.nflows == 1 ? "" : "s", a.out ? " in " : "", a.out ? a.out : "");
	for (size_t i = 0; i < res.nflows; i++) {
		const struct ww_learned *l = &res.flows[i];
		char t1[WW_TIME_MS_STRLEN], t2[WW_TIME_MS_STRLEN];
		fprintf(stderr, "  %s: %s -> %s", l->id, l->from, l->to);
		for (size_t k = 0; k < l->nservices; k++)
			fprintf(stderr, "%s%s %llu", k ? "," : "", l->services[k],
				(unsigned long long)l->counts[k]);
		fprintf(stderr, " (from %s to %s)\n", ww_time_ms_str(l->first_ns, t1),
			ww_time_ms_str(l->last_ns, t2));
	}
	if (res.skipped_unzoned)
		fprintf(
		    stderr,
		    "  %llu record%s with an address in no zone left out: a flow cannot name it "
		    "(add it to a zone first)\n",
		    (unsigned long long)res.skipped_unzoned, res.skipped_unzoned == 1 ? "" : "s");
	if (!res.used)
		fprintf(stderr,
			"  nothing learned: no would-be denials of zone %s were recorded "
			"(is the zone in monitor mode, and does `wardwall serve` run?)\n",
			a.zone);
	print_allowed(&a, since);
	fprintf(stderr, "  nothing is applied: review the proposal, set the zone's \"mode\" to "
			"\"enforce\" when it is complete, then wardwall plan and apply\n");
	ww_learn_result_free(&res);
	sb_free(&err);
	return WW_EXIT_OK;
}

const struct ww_cmd ww_cmd_learn = {
	"learn", cmd_learn,
	"propose the flows a monitor-mode zone needs, from what it was seen doing (check accepts it)",
	learn_opts, NULL, NULL,
};
