// SPDX-License-Identifier: GPL-2.0-only
/*
 * The Prometheus text exposition of a collection. Labels carry names only (flows, zones, tiers,
 * reasons), never addresses: a metrics store is not the place for patient-network addresses.
 */
#include "metrics.h"

#include <string.h>

#include "nft_compile.h"

#ifndef WW_VERSION
#define WW_VERSION "0.0.0"
#endif

static void label_value(struct strbuf *out, const char *v)
{
	sb_add(out, "\"");
	for (const char *p = v ? v : ""; *p; p++) {
		if (*p == '\\' || *p == '"')
			sb_addf(out, "\\%c", *p);
		else if (*p == '\n')
			sb_add(out, "\\n");
		else
			sb_addn(out, p, 1);
	}
	sb_add(out, "\"");
}

static void label(struct strbuf *out, const char *name, const char *v, bool first)
{
	sb_addf(out, "%s%s=", first ? "" : ",", name);
	label_value(out, v);
}

static void eplist_names(const struct ww_eplist *l, struct strbuf *out)
{
	if (l->all) {
		sb_add(out, "*");
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sb_add(out, ",");
		sb_add(out, l->v[i].zone->name);
		if (l->v[i].host)
			sb_addf(out, "/%s", l->v[i].host->name);
	}
}

static void help(struct strbuf *out, const char *name, const char *type, const char *text)
{
	sb_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, text, name, type);
}

static void flow_series(const struct ww_collect *c, struct strbuf *out, bool bytes)
{
	static const char *const tiers[2] = {"nftables", "xdp"};

	for (size_t i = 0; i < c->nflows; i++) {
		const struct ww_flow_stat *f = &c->flows[i];
		const struct ww_tier_count *t[2] = {&f->nft, &f->xdp};
		struct strbuf from = {0}, to = {0};
		if (f->flow) {
			eplist_names(&f->flow->from, &from);
			eplist_names(&f->flow->to, &to);
		}
		for (int k = 0; k < 2; k++) {
			if (!t[k]->present)
				continue;
			sb_addf(out, "wardwall_flow_%s_total{", bytes ? "bytes" : "packets");
			label(out, "flow", f->id, true);
			label(out, "from", sb_str(&from), false);
			label(out, "to", sb_str(&to), false);
			label(out, "action", f->flow ? ww_flow_action_str(f->flow) : "", false);
			label(out, "tier", tiers[k], false);
			sb_addf(out, "} %llu\n",
				(unsigned long long)(bytes ? t[k]->bytes : t[k]->packets));
		}
		sb_free(&from);
		sb_free(&to);
	}
}

static void default_series(const struct ww_collect *c, struct strbuf *out, bool bytes)
{
	static const char *const verdicts[] = {"allow", "deny", "monitor"};
	static const char *const tiers[2] = {"nftables", "xdp"};

	for (size_t i = 0; i < c->ndefaults; i++) {
		const struct ww_default_stat *d = &c->defaults[i];
		const struct ww_tier_count *t[2] = {&d->nft, &d->xdp};
		for (int k = 0; k < 2; k++) {
			if (!t[k]->present)
				continue;
			sb_addf(out, "wardwall_default_%s_total{", bytes ? "bytes" : "packets");
			label(out, "from", d->src, true);
			label(out, "to", d->dst, false);
			label(out, "verdict", verdicts[d->verdict], false);
			label(out, "tier", tiers[k], false);
			sb_addf(out, "} %llu\n",
				(unsigned long long)(bytes ? t[k]->bytes : t[k]->packets));
		}
	}
}

void ww_metrics_print(const struct ww_collect *c, struct strbuf *out)
{
	help(out, "wardwall_build_info", "gauge", "The wardwall build serving these metrics.");
	sb_add(out, "wardwall_build_info{version=");
	label_value(out, WW_VERSION);
	sb_add(out, "} 1\n");
	help(out, "wardwall_up", "gauge", "1 when the kernel state could be read.");
	sb_add(out, "wardwall_up 1\n");
	help(out, "wardwall_flow_packets_total", "counter",
	     "Packets decided by a flow (nftables: connection-opening packets; xdp: every packet "
	     "of the flow's connections).");
	flow_series(c, out, false);
	help(out, "wardwall_flow_bytes_total", "counter", "Bytes of the packets counted above.");
	flow_series(c, out, true);
	help(out, "wardwall_default_packets_total", "counter",
	     "Packets decided by the defaults, per source zone: within one zone (from = to), to any "
	     "zone in monitor mode (to=\"_monitor\"), to any other (to=\"_other\"); \"-\": no "
	     "zone.");
	default_series(c, out, false);
	help(out, "wardwall_default_bytes_total", "counter", "Bytes of the packets counted above.");
	default_series(c, out, true);
	help(out, "wardwall_nftables_ct_invalid_packets_total", "counter",
	     "Packets dropped by nftables as invalid connection state.");
	sb_addf(out, "wardwall_nftables_ct_invalid_packets_total %llu\n",
		(unsigned long long)c->ct_invalid);
	if (c->has_xdp) {
		/* Each family adds up to something: the packets seen, the packets the program let
		 * through or dropped outside the policy per reason, the events per outcome. */
		help(out, "wardwall_xdp_seen_packets_total", "counter",
		     "Packets seen by the XDP program.");
		sb_addf(out, "wardwall_xdp_seen_packets_total %llu\n",
			(unsigned long long)c->xdp_stats[WW_S_PACKETS]);
		help(out, "wardwall_xdp_packets_total", "counter",
		     "Packets the XDP program passed or dropped outside the policy, by reason, or "
		     "decided from its connection table.");
		for (int s = WW_S_PACKETS + 1; s < WW_S_EVENTS; s++)
			sb_addf(out, "wardwall_xdp_packets_total{reason=\"%s\"} %llu\n",
				ww_xdp_stat_name(s), (unsigned long long)c->xdp_stats[s]);
		help(out, "wardwall_xdp_events_total", "counter",
		     "Decisions the XDP program logged to its event ring, or could not log.");
		static const struct {
			int stat;
			const char *result;
		} ev[] = {{WW_S_EVENTS, "sent"},
			  {WW_S_EVENTS_RATE, "rate_limited"},
			  {WW_S_EVENTS_FULL, "ring_full"}};
		for (size_t i = 0; i < ARRAY_SIZE(ev); i++)
			sb_addf(out, "wardwall_xdp_events_total{result=\"%s\"} %llu\n", ev[i].result,
				(unsigned long long)c->xdp_stats[ev[i].stat]);
		help(out, "wardwall_xdp_generation", "gauge",
		     "The XDP generation the program enforces (kernel-side number).");
		sb_addf(out, "wardwall_xdp_generation %llu\n", (unsigned long long)c->xs.generation);
		help(out, "wardwall_xdp_interfaces", "gauge", "Interfaces with wardwall's XDP program.");
		size_t n = 0;
		for (size_t i = 0; i < c->xs.nlinks; i++)
			n += c->xs.links[i].present;
		sb_addf(out, "wardwall_xdp_interfaces %zu\n", n);
	}
	help(out, "wardwall_generation", "gauge", "The applied generation (0: none recorded).");
	sb_addf(out, "wardwall_generation %lu\n", c->gen.gen);
	help(out, "wardwall_confirm_pending", "gauge",
	     "1 while a change of apply --confirm waits for wardwall confirm.");
	sb_addf(out, "wardwall_confirm_pending %d\n", c->pending ? 1 : 0);
	help(out, "wardwall_confirm_deadline_timestamp_seconds", "gauge",
	     "When the pending change is rolled back unless confirmed (unix time; 0: none).");
	sb_addf(out, "wardwall_confirm_deadline_timestamp_seconds %lld\n",
		(long long)(c->pending ? c->pending_deadline : 0));
	help(out, "wardwall_apply_timestamp_seconds", "gauge",
	     "When the applied generation was applied (unix time).");
	sb_addf(out, "wardwall_apply_timestamp_seconds %lld\n", (long long)c->gen.time);
	help(out, "wardwall_drift", "gauge",
	     "1 when the kernel differs from the applied generation (or nothing is recorded but "
	     "something is enforced), 0 when they are equal.");
	bool drift = c->gen.gen ? !ww_collect_in_sync(c) : c->live != NULL;
	sb_addf(out, "wardwall_drift %d\n", drift ? 1 : 0);
	help(out, "wardwall_drift_objects", "gauge",
	     "nftables objects that differ from the applied generation.");
	sb_addf(out, "wardwall_drift_objects %zu\n", c->drift_known ? c->drift.n : 0);
}
