// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall stats: per-flow and default counters of both tiers, as the kernel holds them.
 *   --watch N       refresh every N seconds, like top
 *   --record        also append a snapshot of the counters to the state directory
 *   --unused SINCE  flows with no traffic since SINCE, a date or an RFC 3339 time (the periodic
 *                   rule review of CIR 6.8),
 *                   decided from the snapshots (apply and --record take them)
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "collect.h"
#include "quarantine.h"
#include "snapshot.h"
#include "timeutil.h"

static void human(uint64_t v, char *buf)
{
	static const char units[] = " KMGTP";
	double d = (double)v;
	int u = 0;

	while (d >= 1000 && u < 5) {
		d /= 1000;
		u++;
	}
	if (u)
		snprintf(buf, 16, "%.1f%c", d, units[u]);
	else
		snprintf(buf, 16, "%llu", (unsigned long long)v);
}

static void tier_json(const struct ww_tier_count *t, struct strbuf *out)
{
	char tb[WW_TIME_STRLEN];

	if (!t->present) {
		sb_add(out, "null");
		return;
	}
	sb_addf(out, "{\"packets\": %llu, \"bytes\": %llu, \"since\": ",
		(unsigned long long)t->packets, (unsigned long long)t->bytes);
	if (t->since)
		sb_addf(out, "\"%s\"}", ww_time_str(t->since, tb));
	else
		sb_add(out, "null}");
}

static const char *const verdicts[] = {"allow", "deny", "monitor"};

/* stats --json: one object; flows and defaults one per line. */
static void stats_json(const struct ww_collect *c, struct strbuf *out)
{
	char tb[WW_TIME_STRLEN];

	sb_addf(out, "{\"time\": \"%s\", \"generation\": %lu, \"in_sync\": %s, ",
		ww_time_str(c->time, tb), c->gen.gen, ww_collect_in_sync(c) ? "true" : "false");
	if (c->pending)
		sb_addf(out, "\"pending_confirm\": {\"generation\": %lu, \"previous\": %lu, "
			     "\"deadline\": \"%s\"}, \"flows\": [",
			c->pending_gen, c->pending_previous,
			ww_time_str(c->pending_deadline, tb));
	else
		sb_add(out, "\"pending_confirm\": null, \"flows\": [");
	for (size_t i = 0; i < c->nflows; i++) {
		const struct ww_flow_stat *f = &c->flows[i];
		sb_add(out, i ? ",\n  {\"id\": " : "\n  {\"id\": ");
		sb_add_json_str(out, f->id);
		sb_addf(out, ", \"action\": \"%s\", \"nftables\": ",
			f->flow ? ww_flow_action_str(f->flow) : "unknown");
		tier_json(&f->nft, out);
		sb_add(out, ", \"xdp\": ");
		tier_json(&f->xdp, out);
		sb_add(out, "}");
	}
	sb_add(out, "],\n\"defaults\": [");
	bool first = true;
	for (size_t i = 0; i < c->ndefaults; i++) {
		const struct ww_default_stat *d = &c->defaults[i];
		if (!d->nft.packets && !d->xdp.packets)
			continue;
		sb_add(out, first ? "\n  {\"from\": " : ",\n  {\"from\": ");
		first = false;
		sb_add_json_str(out, d->src);
		sb_add(out, ", \"to\": ");
		sb_add_json_str(out, d->dst);
		sb_addf(out, ", \"verdict\": \"%s\", \"nftables\": ", verdicts[d->verdict]);
		tier_json(&d->nft, out);
		sb_add(out, ", \"xdp\": ");
		tier_json(&d->xdp, out);
		sb_add(out, "}");
	}
	sb_addf(out, "],\n\"nftables_ct_invalid\": %llu", (unsigned long long)c->ct_invalid);
	if (c->has_xdp) {
		sb_add(out, ",\n\"xdp\": {");
		for (int s = 0; s < WW_S_MAX; s++)
			sb_addf(out, "%s\"%s\": %llu", s ? ", " : "", ww_xdp_stat_name(s),
				(unsigned long long)c->xdp_stats[s]);
		sb_add(out, "}");
	}
	sb_add(out, "}\n");
}

/* stats: a header, one line per flow, the defaults that counted, the drop counters. */
static void stats_text(const struct ww_collect *c, struct strbuf *out)
{
	char tb[WW_TIME_STRLEN], a[16], b[16], x[16], y[16];

	sb_addf(out, "wardwall stats at %s: ", ww_time_str(c->time, tb));
	if (c->gen.gen)
		sb_addf(out, "generation %lu (%s), %s\n", c->gen.gen, c->gen.policy_name,
			ww_collect_in_sync(c) ? "kernel in sync" : "KERNEL DIFFERS (see plan)");
	else
		sb_add(out, "no generation recorded\n");
	if (c->pending)
		sb_addf(out, "PENDING CONFIRM: generation %lu is rolled back to %lu at %s unless "
			     "`wardwall confirm`\n",
			c->pending_gen, c->pending_previous, ww_time_str(c->pending_deadline, tb));
	sb_addf(out, "%-32s %-7s %10s %10s %10s %10s  %s\n", "FLOW", "ACTION", "NFT PKTS", "NFT BYTES",
		"XDP PKTS", "XDP BYTES", "COUNTING SINCE");
	for (size_t i = 0; i < c->nflows; i++) {
		const struct ww_flow_stat *f = &c->flows[i];
		human(f->nft.packets, a);
		human(f->nft.bytes, b);
		human(f->xdp.packets, x);
		human(f->xdp.bytes, y);
		int64_t since = f->nft.since ? f->nft.since : f->xdp.since;
		sb_addf(out, "%-32s %-7s %10s %10s %10s %10s  %s\n", f->id,
			f->flow ? ww_flow_action_str(f->flow) : "?", f->nft.present ? a : "-",
			f->nft.present ? b : "-", f->xdp.present ? x : "-", f->xdp.present ? y : "-",
			since ? ww_time_str(since, tb) : "unknown");
	}
	bool any = false;
	for (size_t i = 0; i < c->ndefaults; i++) {
		const struct ww_default_stat *d = &c->defaults[i];
		if (!d->nft.packets && !d->xdp.packets)
			continue;
		if (!any)
			sb_add(out, "\ndefaults (zone pairs with traffic):\n");
		any = true;
		human(d->nft.packets, a);
		human(d->xdp.packets, x);
		char pair[2 * WW_NAME_MAX + 8];
		snprintf(pair, sizeof(pair), "%s -> %s", d->src, d->dst);
		sb_addf(out, "  %-40s %-7s nft %8s pkts   xdp %8s pkts\n", pair, verdicts[d->verdict],
			a, x);
	}
	sb_addf(out, "\nnftables: %llu packets dropped as invalid connection state\n",
		(unsigned long long)c->ct_invalid);
	if (c->has_xdp) {
		sb_add(out, "xdp:");
		for (int s = 0; s < WW_S_MAX; s++)
			sb_addf(out, " %s %llu%s", ww_xdp_stat_name(s),
				(unsigned long long)c->xdp_stats[s], s + 1 < WW_S_MAX ? "," : "\n");
	}
}

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

struct stats_args {
	bool json, record;
	const char *watch, *unused, *state_dir, *bpffs;
};

static const struct ww_opt stats_opts[] = {
	WW_FLAG("--json", struct stats_args, json),
	WW_STR("--watch", struct stats_args, watch, "N"),
	WW_FLAG("--record", struct stats_args, record),
	WW_STR("--unused", struct stats_args, unused, "SINCE"),
	WW_STR("--state-dir", struct stats_args, state_dir, "DIR"),
	WW_STR("--bpffs", struct stats_args, bpffs, "DIR"),
	WW_OPT_END,
};

static int cmd_stats(int argc, char **argv)
{
	struct stats_args a = {0};
	struct strbuf err = {0}, out = {0};
	int npos, rc = WW_EXIT_OK;
	long interval = 0;
	int64_t since = 0;

	if (ww_opts_parse(stats_opts, argc, argv, &a, NULL, 0, &npos))
		return ww_usage(&ww_cmd_stats);
	ww_cli_recover(a.state_dir, a.bpffs);
	if (a.watch) {
		char *end;
		interval = strtol(a.watch, &end, 10);
		if (*end || interval < 1 || interval > 3600) {
			ww_errorf("stats: --watch takes seconds, 1-3600");
			return WW_EXIT_USAGE;
		}
	}
	if (a.unused && ww_time_arg("--unused", a.unused, &since))
		return WW_EXIT_USAGE;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	do {
		struct ww_collect c;
		sb_reset(&out);
		if (ww_collect_counts(a.state_dir, a.bpffs, &c, &err)) {
			ww_errorf("stats: %s", sb_str(&err));
			rc = WW_EXIT_USAGE;
			break;
		}
		if (a.record && ww_snapshot_record(a.state_dir, &c, &err)) {
			ww_errorf("stats: %s", sb_str(&err));
			rc = WW_EXIT_USAGE;
		}
		if (a.unused)
			rc = ww_snapshot_unused(a.state_dir, &c, since, a.json, &out, &err) ? WW_EXIT_USAGE
											 : rc;
		else if (a.json)
			stats_json(&c, &out);
		else
			stats_text(&c, &out);
		if (!a.unused) /* each quarantine's own counters */
			ww_quar_report_into(a.state_dir, a.bpffs, ww_now(), a.json, &out);
		ww_collect_free(&c);
		if (interval)
			fputs("\033[H\033[2J", stdout); /* home and clear, like top */
		fputs(sb_str(&out), stdout);
		fflush(stdout);
		for (long s = 0; interval && s < interval && !stop; s++)
			sleep(1);
	} while (interval && !stop);
	sb_free(&err);
	sb_free(&out);
	return rc;
}

const struct ww_cmd ww_cmd_stats = {
	"stats", cmd_stats, "per-flow and default counters of both tiers; unused flows",
	stats_opts, NULL, NULL,
};
