// SPDX-License-Identifier: GPL-2.0-only
/*
 * report.html: the model as one self-contained page for people (no scripts, no external assets;
 * it prints and archives as is). The zone matrix is a heat map: green for allowed, red for
 * denied, amber for monitored traffic in the window, on a logarithmic scale.
 */
#include "evidence.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine.h"
#include "timeutil.h"

static void escf(struct strbuf *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void escf(struct strbuf *o, const char *fmt, ...)
{
	struct strbuf t = {0};
	va_list ap;

	va_start(ap, fmt);
	sb_vaddf(&t, fmt, ap);
	va_end(ap);
	sb_add_html(o, sb_str(&t));
	sb_free(&t);
}

static const char *tstr(int64_t t, char *buf)
{
	return t ? ww_time_str(t, buf) : "unknown";
}

static void num(struct strbuf *o, uint64_t v)
{
	/* Thousands separated by a thin space, so large counts stay readable. */
	char b[32], r[48];
	int n = snprintf(b, sizeof(b), "%llu", (unsigned long long)v), k = 0;

	for (int i = 0; i < n; i++) {
		if (i && (n - i) % 3 == 0) {
			memcpy(r + k, "\xe2\x80\x89", 3);
			k += 3;
		}
		r[k++] = b[i];
	}
	r[k] = '\0';
	sb_add(o, r);
}

static const char style[] =
    "<style>\n"
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1d2330;"
    "margin:0;background:#f4f6f9}\n"
    "main{max-width:1200px;margin:0 auto;padding:24px}\n"
    "h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px "
    "solid #d5dae3;padding-bottom:4px}\n"
    ".sub{color:#5a6376}\n"
    ".banner{padding:12px 16px;border-radius:6px;margin:16px 0;font-weight:600}\n"
    ".ok{background:#e2f4e6;color:#155724;border:1px solid #9fd5ab}\n"
    ".bad{background:#fbe3e4;color:#7a1c22;border:1px solid #eba7ac}\n"
    ".warn{background:#fff4d6;color:#6b4a00;border:1px solid #f0cf7a}\n"
    ".grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:12px}\n"
    ".card{background:#fff;border:1px solid #d5dae3;border-radius:6px;padding:10px 14px}\n"
    ".card h3{font-size:14px;margin:0 0 6px}\n"
    "dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}\n"
    "dt{color:#5a6376}dd{margin:0;overflow-wrap:anywhere}\n"
    "code,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}\n"
    "table{border-collapse:collapse;background:#fff;width:100%}\n"
    "th,td{border:1px solid #d5dae3;padding:3px 6px;text-align:left;vertical-align:top}\n"
    "th{background:#eceff4;font-weight:600}\n"
    "td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}\n"
    "table.hm{width:auto}table.hm td{width:54px;height:34px;text-align:center;"
    "vertical-align:middle;font-size:11px;padding:1px}\n"
    "table.hm th.col{writing-mode:vertical-rl;transform:rotate(180deg);white-space:nowrap;"
    "padding:6px 2px;font-size:12px}\n"
    "table.hm th.row{white-space:nowrap;font-size:12px}\n"
    ".a{color:#0b5d1e;display:block}.d{color:#8b1219;display:block}.m{color:#7a5200;"
    "display:block}\n"
    ".legend span{display:inline-block;padding:2px 8px;margin-right:8px;border-radius:3px;"
    "border:1px solid #ccc}\n"
    ".met{color:#155724;font-weight:600}.notmet{color:#7a1c22;font-weight:600}"
    ".notenf{color:#7a5200;font-weight:600}\n"
    ".small{font-size:12px;color:#5a6376}\n"
    "</style>\n";

static void dl_row(struct strbuf *o, const char *k, const char *v, bool mono)
{
	sb_add(o, "<dt>");
	sb_add_html(o, k);
	sb_add(o, mono ? "</dt><dd class=\"mono\">" : "</dt><dd>");
	sb_add_html(o, v && *v ? v : "none");
	sb_add(o, "</dd>\n");
}

static void summary(const struct ww_evidence *ev, struct strbuf *o)
{
	const struct ww_collect *c = ev->c;
	char tb[WW_TIME_STRLEN], b[256];

	sb_add(o, "<div class=\"grid\">\n<div class=\"card\"><h3>Policy</h3><dl>\n");
	dl_row(o, "name", c->gen.gen ? c->gen.policy_name : NULL, false);
	dl_row(o, "sha256", *ev->policy_sha256 ? ev->policy_sha256 : c->gen.policy_sha256, true);
	snprintf(b, sizeof(b), "%lu (%s %s by %s)", c->gen.gen, c->gen.action,
		 tstr(c->gen.time, tb), c->gen.user);
	dl_row(o, "generation", c->gen.gen ? b : NULL, false);
	snprintf(b, sizeof(b), "%zu event%s, hash chain %s", ev->nhistory,
		 ev->nhistory == 1 ? "" : "s", ev->history_ok ? "verified" : "BROKEN");
	dl_row(o, "history", b, false);
	sb_add(o, "</dl></div>\n<div class=\"card\"><h3>Kernel</h3><dl>\n");
	dl_row(o, "nftables sha256", ev->nft_sha256, true);
	dl_row(o, "expected sha256", ev->nft_expected_sha256, true);
	snprintf(b, sizeof(b), "%zu chains, %zu maps, %zu counters", c->live ? c->live->nchains : 0,
		 c->live ? c->live->nsets : 0, c->live ? c->live->ncounters : 0);
	dl_row(o, "nftables", c->live ? b : "no table", false);
	if (c->has_xdp) {
		snprintf(b, sizeof(b), "tag %s, id %u, generation %llu", c->xs.prog_tag,
			 c->xs.prog_id, (unsigned long long)c->xs.generation);
		dl_row(o, "XDP program", b, true);
		struct strbuf l = {0};
		for (size_t i = 0; i < c->xs.nlinks; i++)
			sb_addf(&l, "%s%s (%s%s)", i ? ", " : "", c->xs.links[i].ifname,
				c->xs.links[i].generic ? "generic" : "native",
				c->xs.links[i].present ? "" : ", gone");
		dl_row(o, "XDP links", sb_str(&l), false);
		sb_free(&l);
		dl_row(o, "XDP maps sha256", ev->xdp_maps_sha256, true);
	} else {
		dl_row(o, "XDP", "nothing pinned", false);
	}
	sb_add(o, "</dl></div>\n<div class=\"card\"><h3>Bundle and chain</h3><dl>\n");
	snprintf(b, sizeof(b), "%lu", ev->seq);
	dl_row(o, "sequence", b, false);
	dl_row(o, "previous manifest", *ev->prev_sha256 ? ev->prev_sha256 : "none: first bundle",
	       true);
	dl_row(o, "signing key sha256", ev->key_sha256, true);
	dl_row(o, "host", ev->hostname, false);
	snprintf(b, sizeof(b), "%s %s %s", ev->uts.sysname, ev->uts.release, ev->uts.machine);
	dl_row(o, "kernel", b, false);
	dl_row(o, "wardwall", ev->version, false);
	sb_add(o, "</dl></div>\n</div>\n");
}

/* log2(1 + v), linear between powers of two: close enough for a colour, and no libm. */
static double lg(uint64_t v)
{
	double x = (double)v + 1, r = 0;

	while (x >= 2) {
		x /= 2;
		r += 1;
	}
	return r + (x - 1);
}

/* The colour of a count: hue by kind, lightness by log scale against the largest cell. */
static void shade(struct strbuf *o, int hue, int sat, uint64_t v, uint64_t max)
{
	double t = max ? lg(v) / lg(max) : 0;
	int light = (int)(93 - 45 * t);

	sb_addf(o, "hsl(%d,%d%%,%d%%)", hue, sat, light);
}

/* Flows whose one counter covers several zone pairs: counted once here, in no cell (a cell would
 * show them in every pair they cover, as if each pair had seen them all). */
static void spanning(const struct ww_evidence *ev, int tier, struct strbuf *o)
{
	bool any = false;

	for (size_t i = 0; i < ev->nflows; i++) {
		const struct ww_ev_flow *f = &ev->flows[i];
		const struct ww_ev_count *n = tier == WW_EV_NFT ? &f->nft : &f->xdp;
		if (f->npairs < 2 || !n->present || !n->win_packets)
			continue;
		if (!any)
			sb_add(
			    o,
			    "<p class=\"small\">+ flows spanning several zone pairs, counted once "
			    "(one counter: the pair each packet took is not known):</p>\n"
			    "<table class=\"spanning\" style=\"width:auto\"><tr><th>flow</th>"
			    "<th>verdict</th><th>zone pairs</th><th>window packets</th></tr>\n");
		any = true;
		sb_add(o, "<tr><td class=\"mono\">");
		sb_add_html(o, f->st->id);
		sb_add(o, "</td><td>");
		sb_add_html(o, ww_ev_verdict_name(f->pairs[0].verdict));
		sb_addf(o, "</td><td class=\"n\">%zu</td><td class=\"n\">", f->npairs);
		num(o, n->win_packets);
		sb_add(o, "</td></tr>\n");
	}
	if (any)
		sb_add(o, "</table>\n");
}

static void heatmap(const struct ww_evidence *ev, int tier, struct strbuf *o)
{
	static const char *const names[] = {"nftables", "XDP"};
	uint64_t max = 0;

	for (size_t s = 0; s < ev->nzones; s++)
		for (size_t d = 0; d < ev->nzones; d++) {
			const struct ww_ev_cell *c = ww_ev_cell(ev, tier, s, d);
			for (int k = 0; k < WW_EV_NKINDS; k++)
				if (c->exact[k] > max)
					max = c->exact[k];
		}
	sb_addf(o,
		"<h3>%s tier</h3>\n<table class=\"hm\" aria-label=\"zone matrix %s\">\n"
		"<tr><th>from \\ to</th>",
		names[tier], names[tier]);
	for (size_t d = 0; d < ev->nzones; d++) {
		sb_add(o, "<th class=\"col\">");
		sb_add_html(o, ev->zones[d]);
		sb_add(o, "</th>");
	}
	sb_add(o, "</tr>\n");
	for (size_t s = 0; s < ev->nzones; s++) {
		sb_add(o, "<tr><th class=\"row\">");
		sb_add_html(o, ev->zones[s]);
		sb_add(o, "</th>");
		for (size_t d = 0; d < ev->nzones; d++) {
			const struct ww_ev_cell *c = ww_ev_cell(ev, tier, s, d);
			uint64_t v[WW_EV_NKINDS];
			int kinds = 0;
			for (int k = 0; k < WW_EV_NKINDS; k++) {
				v[k] = c->exact[k];
				kinds += v[k] > 0;
			}
			sb_add(o, "<td style=\"background:");
			static const int hue[] = {135, 0, 40}, sat[] = {50, 70, 90};
			if (!kinds) {
				sb_add(o, "#fafbfc");
			} else if (kinds == 1) {
				for (int k = 0; k < WW_EV_NKINDS; k++)
					if (v[k])
						shade(o, hue[k], sat[k], v[k], max);
			} else {
				/* Several kinds: diagonal bands, one per kind. */
				sb_add(o, "linear-gradient(135deg");
				int i = 0;
				for (int k = 0; k < WW_EV_NKINDS; k++) {
					if (!v[k])
						continue;
					sb_add(o, ",");
					shade(o, hue[k], sat[k], v[k], max);
					sb_addf(o, " %d%%,", i * 100 / kinds);
					shade(o, hue[k], sat[k], v[k], max);
					sb_addf(o, " %d%%", (i + 1) * 100 / kinds);
					i++;
				}
				sb_add(o, ")");
			}
			sb_add(o, "\" title=\"");
			escf(o, "%s \xe2\x86\x92 %s: %llu allowed, %llu denied, %llu monitored",
			     ev->zones[s], ev->zones[d], (unsigned long long)v[WW_EV_ALLOWED],
			     (unsigned long long)v[WW_EV_DENIED],
			     (unsigned long long)v[WW_EV_MONITORED]);
			uint64_t sh = c->shared[0] + c->shared[1] + c->shared[2];
			if (sh)
				sb_add_html(
				    o, "; + a flow spanning several zone pairs also counted here: "
				       "its packets are listed once, below the matrix");
			sb_add(o, "\">");
			static const char *const cls[] = {"a", "d", "m"};
			for (int k = 0; k < WW_EV_NKINDS; k++)
				if (v[k]) {
					sb_addf(o, "<span class=\"%s\">", cls[k]);
					num(o, v[k]);
					sb_add(o, "</span>");
				}
			if (sh)
				sb_add(o, "<span class=\"small\">+</span>");
			sb_add(o, "</td>");
		}
		sb_add(o, "</tr>\n");
	}
	sb_add(o, "</table>\n");
	spanning(ev, tier, o);
}

static void count_cells(struct strbuf *o, const struct ww_ev_count *c)
{
	if (!c->present) {
		sb_add(o, "<td class=\"n\">\xe2\x80\x94</td><td class=\"n\">\xe2\x80\x94</td>"
			  "<td class=\"n\">\xe2\x80\x94</td>");
		return;
	}
	sb_add(o, "<td class=\"n\">");
	num(o, c->win_packets);
	if (c->reset)
		sb_add(o, " \xe2\x86\xba");
	sb_add(o, "</td><td class=\"n\">");
	num(o, c->win_bytes);
	sb_add(o, "</td><td class=\"n\">");
	num(o, c->packets);
	sb_add(o, "</td>");
}

static void flows(const struct ww_evidence *ev, struct strbuf *o)
{
	bool xdp = ev->tiers[WW_EV_XDP].present;

	sb_add(o, "<table>\n<tr><th rowspan=\"2\">flow</th><th rowspan=\"2\">action</th>"
		  "<th rowspan=\"2\">zone pairs</th><th rowspan=\"2\">owner / ticket</th>"
		  "<th rowspan=\"2\">mappings</th><th colspan=\"3\">nftables</th>");
	if (xdp)
		sb_add(o, "<th colspan=\"3\">XDP</th>");
	sb_add(o, "</tr>\n<tr><th>window pkts</th><th>window bytes</th><th>total pkts</th>");
	if (xdp)
		sb_add(o, "<th>window pkts</th><th>window bytes</th><th>total pkts</th>");
	sb_add(o, "</tr>\n");
	for (size_t i = 0; i < ev->nflows; i++) {
		const struct ww_ev_flow *f = &ev->flows[i];
		char ids[16][64];
		size_t nids = ww_ev_flow_mappings(ev, f, ids, ARRAY_SIZE(ids));
		sb_add(o, "<tr><td class=\"mono\">");
		sb_add_html(o, f->st->id);
		sb_add(o, "</td><td>");
		sb_add_html(o, f->flow ? ww_flow_action_str(f->flow) : "not in policy");
		sb_add(o, "</td><td>");
		for (size_t k = 0; k < f->npairs && k < 6; k++)
			escf(o, "%s%s\xe2\x86\x92%s", k ? ", " : "", f->pairs[k].src,
			     f->pairs[k].dst);
		if (f->npairs > 6)
			sb_addf(o, " and %zu more", f->npairs - 6);
		if (!f->npairs)
			sb_add(o, "<span class=\"small\">none in the kernel</span>");
		if (f->has_window) {
			char a[WW_TIME_STRLEN], b[WW_TIME_STRLEN];
			sb_add(o, "<br><span class=\"small\">valid ");
			escf(o, "%s \xe2\x80\x93 %s",
			     f->valid_from ? ww_time_str(f->valid_from, a) : "",
			     f->valid_until ? ww_time_str(f->valid_until, b) : "");
			sb_add(o, "</span>");
		}
		sb_add(o, "</td><td>");
		sb_add_html(o, f->flow && f->flow->owner ? f->flow->owner : "");
		sb_add(o, "<br><span class=\"small\">");
		sb_add_html(o, f->flow && f->flow->ticket ? f->flow->ticket : "");
		sb_add(o, "</span></td><td class=\"small\">");
		for (size_t k = 0; k < nids; k++) {
			sb_add_html(o, ids[k]);
			sb_add(o, " ");
		}
		sb_add(o, "</td>");
		count_cells(o, &f->nft);
		if (xdp)
			count_cells(o, &f->xdp);
		sb_add(o, "</tr>\n");
	}
	sb_add(o, "</table>\n<p class=\"small\">\xe2\x86\xba: the counter restarted inside the "
		  "window; the window holds what it counted since.</p>\n");
}

static void ranking(struct strbuf *o, const char *title, const struct ww_ev_rank *r, size_t n,
		    bool pairs, uint64_t unattributed)
{
	sb_addf(o, "<div class=\"card\"><h3>%s</h3><table>\n", title);
	for (size_t i = 0; i < n && i < 10; i++) {
		sb_add(o, "<tr><td>");
		if (pairs)
			escf(o, "%s \xe2\x86\x92 %s", r[i].a, r[i].b);
		else
			sb_add_html(o, r[i].a);
		sb_add(o, "</td><td class=\"n\">");
		num(o, r[i].packets);
		sb_add(o, "</td></tr>\n");
	}
	if (!n)
		sb_add(o, "<tr><td>no denials in the window</td><td></td></tr>\n");
	if (unattributed) {
		sb_add(o, "<tr><td class=\"small\">not attributable to one</td><td class=\"n\">");
		num(o, unattributed);
		sb_add(o, "</td></tr>\n");
	}
	sb_add(o, "</table></div>\n");
}

static void denials(const struct ww_evidence *ev, struct strbuf *o)
{
	static const char *const names[] = {"nftables", "XDP"};

	for (int t = 0; t < WW_EV_NTIERS; t++) {
		const struct ww_ev_denied *d = &ev->tiers[t].denied;
		if (!ev->tiers[t].present)
			continue;
		sb_addf(o, "<p>%s: ", names[t]);
		num(o, d->total);
		sb_add(o, " packets denied in the window");
		if (d->mixed) {
			sb_add(o, ", and ");
			num(o, d->mixed);
			sb_add(o,
			       " counted by flows that deny in some zone pairs and only monitor in "
			       "others");
		}
		sb_add(o, ".</p>\n<div class=\"grid\">\n");
		ranking(o, "by source zone", d->src, d->nsrc, false, d->unattributed_src);
		ranking(o, "by destination zone", d->dst, d->ndst, false, d->unattributed_dst);
		ranking(o, "by zone pair", d->pairs, d->npairs, true, d->unattributed_pairs);
		sb_add(o, "</div>\n");
	}
	sb_add(o, "<ul class=\"small\">");
	for (size_t i = 0; i < 2; i++) {
		sb_add(o, "<li>");
		sb_add_html(o, ww_ev_limits[i]);
		sb_add(o, "</li>");
	}
	sb_add(o, "</ul>\n");
}

/* What differs between the kernel and the applied generation. */
static void drift(const struct ww_evidence *ev, struct strbuf *o)
{
	const struct ww_collect *c = ev->c;

	sb_add(o, "<h2>Drift</h2>\n");
	if (ev->in_sync) {
		sb_addf(o,
			"<p>None: the kernel's nftables table (and XDP maps, where used) equal "
			"generation %lu compiled again.</p>\n",
			c->gen.gen);
	} else if (!ev->ndrift) {
		sb_add(o, "<p>Unknown: no applied generation to compare with.</p>\n");
	} else {
		sb_add(o, "<table><tr><th>what</th><th>object</th><th>description</th></tr>\n");
		for (size_t i = 0; i < ev->ndrift; i++) {
			sb_add(o, "<tr><td>");
			sb_add_html(o, ev->drift[i].op);
			sb_add(o, "</td><td class=\"mono\">");
			escf(o, "%s %s", ev->drift[i].kind, ev->drift[i].name);
			sb_add(o, "</td><td>");
			sb_add_html(o, ev->drift[i].what);
			sb_add(o, "</td></tr>\n");
		}
		sb_add(o,
		       "</table>\n<p class=\"small\">missing: in the applied generation, not in "
		       "the kernel; unexplained: in the kernel, in no policy; differs: both, with "
		       "other contents.</p>\n");
	}
}

/* Each invariant of the applied policy: proven, violated, or holding only by monitor mode. */
static void invariants(const struct ww_evidence *ev, struct strbuf *o)
{
	const struct ww_collect *c = ev->c;

	sb_add(o, "<h2>Invariants</h2>\n");
	if (!ev->ninv)
		sb_add(o, "<p>The applied policy states no invariants.</p>\n");
	else
		sb_add(o, "<table><tr><th>invariant</th><th>expect</th><th>result</th>"
			  "<th>detail</th></tr>\n");
	for (size_t i = 0; i < ev->ninv; i++) {
		const struct ww_invariant *iv = &c->applied->invs[i];
		sb_add(o, "<tr><td class=\"mono\">");
		sb_add_html(o, iv->id);
		sb_add(o, "</td><td>");
		sb_add_html(o, ww_action_str(iv->expect));
		const struct ww_ev_monitor_inv *m = ev->minv ? &ev->minv[i] : NULL;
		bool notenf = ev->inv[i].holds && m && !m->enforced;
		sb_addf(o, "</td><td class=\"%s\">%s</td><td>",
			notenf		   ? "notenf"
			: ev->inv[i].holds ? "met"
					   : "notmet",
			notenf		   ? "not enforced"
			: ev->inv[i].holds ? "proven"
					   : "violated");
		if (notenf) {
			struct strbuf why = {0};
			sb_add(&why, "Holds on paper only because of monitor mode: ");
			ww_ev_monitor_why(ev, m->zones, m->nzones, m->flows, m->nflows, m->passed,
					  &why);
			sb_add(&why, ". ");
			sb_add_html(o, sb_str(&why));
			sb_free(&why);
		}
		sb_add_html(o, ev->inv[i].detail ? ev->inv[i].detail : iv->description);
		sb_add(o, "</td></tr>\n");
	}
	if (ev->ninv)
		sb_add(o, "</table>\n");
}

/* The NIS2 measures (ww_ev_mappings) and what this bundle shows of each. */
static void nis2(const struct ww_evidence *ev, struct strbuf *o)
{
	sb_add(o, "<h2>NIS2 and Implementing Regulation (EU) 2024/2690</h2>\n<table><tr><th>"
		  "measure</th><th>what this bundle shows</th><th>result</th></tr>\n");
	for (size_t i = 0; i < ww_ev_nmappings; i++) {
		struct strbuf why = {0};
		enum ww_ev_status st = ww_ev_mapping_status(ev, i, &why);
		sb_add(o, "<tr><td>");
		sb_add_html(o, ww_ev_mappings[i].title);
		sb_add(o, "<br><span class=\"small mono\">");
		sb_add_html(o, ww_ev_mappings[i].id);
		sb_add(o, "</span></td><td>");
		sb_add_html(o, ww_ev_mappings[i].what);
		sb_addf(o, "</td><td><span class=\"%s\">%s</span><br><span class=\"small\">",
			st == WW_EV_MET		   ? "met"
			: st == WW_EV_NOT_ENFORCED ? "notenf"
						   : "notmet",
			st == WW_EV_MET		   ? "shown"
			: st == WW_EV_NOT_ENFORCED ? "not enforced"
						   : "not shown");
		sb_add_html(o, sb_str(&why));
		sb_add(o, "</span></td></tr>\n");
		sb_free(&why);
	}
	sb_add(o, "</table>\n");
}

/* The generations of history.jsonl, and whether its hash chain holds. */
static void history(const struct ww_evidence *ev, struct strbuf *o)
{
	char tb[WW_TIME_STRLEN];

	sb_add(o, "<h2>History of the enforced policy</h2>\n");
	sb_addf(o, "<p>Hash chain of history.jsonl: <span class=\"%s\">%s</span>",
		ev->history_ok ? "met" : "notmet", ev->history_ok ? "verified" : "BROKEN");
	if (ev->history_err) {
		sb_add(o, " (");
		sb_add_html(o, ev->history_err);
		sb_add(o, ")");
	}
	sb_add(o, "</p>\n<table><tr><th>generation</th><th>time</th><th>user</th><th>action</th>"
		  "<th>policy</th><th>sha256</th></tr>\n");
	for (size_t i = 0; i < ev->nhistory; i++) {
		const struct ww_generation *g = &ev->history[i];
		sb_addf(o, "<tr><td class=\"n\">%lu</td><td>%s</td><td>", g->gen,
			tstr(g->time, tb));
		sb_add_html(o, g->user);
		sb_add(o, "</td><td>");
		sb_add_html(o, g->action);
		if (g->restores)
			sb_addf(o, " (of %lu)", g->restores);
		sb_add(o, "</td><td>");
		sb_add_html(o, g->policy_name);
		sb_add(o, "</td><td class=\"mono\">");
		sb_add_html(o, g->policy_sha256);
		sb_add(o, "</td></tr>\n");
	}
	sb_add(o, "</table>\n");
}

/* The limits of the evidence, and how to check the bundle without wardwall. */
static void limits_and_checking(struct strbuf *o)
{
	sb_add(o, "<h2>What this bundle does not show</h2>\n<ul>\n");
	for (size_t i = 0; i < ww_ev_nlimits; i++) {
		sb_add(o, "<li>");
		sb_add_html(o, ww_ev_limits[i]);
		sb_add(o, "</li>\n");
	}
	sb_add(o,
	       "</ul>\n<h2>Checking this bundle</h2>\n<p>manifest.json lists the sha256 of "
	       "every file; manifest.sig is its Ed25519 signature (base64). Without wardwall:</p>"
	       "\n<pre class=\"mono\">sha256sum evidence.json oscal.json report.html evidence.pub"
	       "\nbase64 -d manifest.sig &gt; sig.bin\nopenssl pkeyutl -verify -pubin -inkey "
	       "evidence.pub -rawin -in manifest.json -sigfile sig.bin</pre>\n<p>Compare the "
	       "key's sha256 with the one you were given, not only with the one in the bundle. "
	       "With wardwall: <code>wardwall evidence verify --key evidence.pub BUNDLE...</code> "
	       "(in chain order) also checks the chain.</p>\n");
}

/* Incident actions (docs/incident.md): the quarantines recorded, with what each tier holds of
 * them and what they blocked, then the quarantine log's lines of the window. */
static void quarantines(const struct ww_evidence *ev, struct strbuf *o)
{
	char tb[WW_TIME_STRLEN];

	sb_add(o, "<h2>Quarantines</h2>\n");
	if (!ev->nquar)
		sb_add(o, "<p>None recorded now.</p>\n");
	else
		sb_add(o, "<table id=\"quarantines\"><tr><th>id</th><th>target</th><th>by</th>"
			  "<th>since</th><th>until</th><th>reason</th><th>ticket</th><th>kept</th>"
			  "<th>held by</th><th>blocked (packets)</th></tr>\n");
	for (size_t i = 0; i < ev->nquar; i++) {
		const struct ww_quar_status *s = &ev->quar[i];
		sb_addf(o, "<tr><td>q%u</td><td>", s->q.id);
		sb_add_html(o, s->q.target);
		sb_add(o, "</td><td>");
		sb_add_html(o, s->q.user ? s->q.user : "");
		sb_addf(o, "</td><td>%s</td><td>", ww_time_str(s->q.created, tb));
		if (s->q.until)
			sb_addf(o, "%s%s", ww_time_str(s->q.until, tb),
				s->expired ? " (over)" : "");
		else
			sb_add(o, "removed by hand");
		sb_add(o, "</td><td>");
		sb_add_html(o, s->q.reason ? s->q.reason : "");
		sb_add(o, "</td><td>");
		sb_add_html(o, s->q.ticket ? s->q.ticket : "none");
		sb_add(o, "</td><td>");
		for (size_t k = 0; k < s->q.nkeep; k++) {
			sb_add(o, k ? ", " : "");
			sb_add_html(o, s->q.keep[k].id);
			escf(o, " (%s)", s->q.keep[k].why);
		}
		if (!s->q.nkeep)
			sb_add(o, "nothing");
		sb_addf(o, "%s</td><td>%s%s%s</td><td class=\"n\">", s->q.strict ? " [strict]" : "",
			s->nft ? "nftables" : "", s->nft && s->xdp ? ", " : "",
			s->xdp ? "XDP" : (s->nft ? "" : "neither"));
		num(o, s->nft_packets + s->xdp_packets);
		sb_add(o, "</td></tr>\n");
	}
	if (ev->nquar)
		sb_add(o, "</table>\n");
	if (!ev->nquar_log) {
		sb_add(o, "<p>No quarantine was added, removed or ended in the window.</p>\n");
		return;
	}
	sb_add(o, "<table id=\"quarantine-log\"><tr><th>time</th><th>event</th><th>id</th>"
		  "<th>target</th><th>by</th><th>reason</th><th>ticket</th><th>blocked "
		  "(packets)</th></tr>\n");
	for (size_t i = 0; i < ev->nquar_log; i++) {
		cJSON *j = cJSON_Parse(ev->quar_log[i]);
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(j, "quarantine");
		const char *f[] = {
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "time")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "event")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "id")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "target")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "user")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "reason")),
		    cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(q, "ticket"))};
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(j, "blocked_packets");
		sb_add(o, "<tr>");
		for (size_t k = 0; k < sizeof(f) / sizeof(f[0]); k++) {
			sb_add(o, "<td>");
			sb_add_html(o, f[k] ? f[k] : "");
			sb_add(o, "</td>");
		}
		sb_add(o, "<td class=\"n\">");
		num(o, cJSON_IsNumber(b) ? (uint64_t)b->valuedouble : 0);
		sb_add(o, "</td></tr>\n");
		cJSON_Delete(j);
	}
	sb_add(o, "</table>\n");
}

/* The verdict banner (in sync, in sync in monitor mode, drift) and, with drift, the monitor
 * mode banner beside it. */
static void banners(const struct ww_evidence *ev, struct strbuf *o)
{
	const struct ww_collect *c = ev->c;

	if (ev->in_sync && ww_ev_monitoring(ev)) {
		struct strbuf why = {0};
		ww_ev_monitor_why(ev, ev->monitor_zones, ev->nmonitor_zones, ev->monitor_flows,
				  ev->nmonitor_flows, ev->monitored, &why);
		sb_addf(o,
			"<div class=\"banner warn\" id=\"verdict\">In sync, in MONITOR MODE: the "
			"kernel is exactly generation %lu of the policy, but not all of it is "
			"enforced (",
			c->gen.gen);
		sb_add_html(o, sb_str(&why));
		sb_add(o, ").</div>\n");
		sb_free(&why);
	} else if (ev->in_sync)
		sb_addf(o,
			"<div class=\"banner ok\" id=\"verdict\">In sync: the kernel enforces "
			"exactly generation %lu of the policy.</div>\n",
			c->gen.gen);
	else
		sb_addf(o,
			"<div class=\"banner bad\" id=\"verdict\">DRIFT: the kernel differs from "
			"the applied policy (%zu difference%s, listed below).</div>\n",
			ev->ndrift, ev->ndrift == 1 ? "" : "s");
	if (!ev->in_sync && ww_ev_monitoring(ev)) {
		struct strbuf why = {0};
		ww_ev_monitor_why(ev, ev->monitor_zones, ev->nmonitor_zones, ev->monitor_flows,
				  ev->nmonitor_flows, ev->monitored, &why);
		sb_add(o, "<div class=\"banner warn\" id=\"monitor\">MONITOR MODE: ");
		sb_add_html(o, sb_str(&why));
		sb_add(o, ".</div>\n");
		sb_free(&why);
	}
}

/* The detectors' alerts in the window, by detector and source zone (never by address). */
static void alerts(const struct ww_evidence *ev, struct strbuf *o)
{
	sb_add(o, "<h2>Alerts of the detectors</h2>\n");
	if (!ev->alerts.recorded)
		sb_add(o, "<p>No alerts are recorded on this host (<code>wardwall serve</code> "
			  "records them; see docs/detect.md).</p>\n");
	else if (!ev->alerts.total)
		sb_add(o, "<p>None in the window.</p>\n");
	else {
		sb_addf(
		    o,
		    "<p>%llu alert%s in the window (addresses: <code>wardwall alerts "
		    "--since</code> on the host).</p>\n<table style=\"width:auto\" "
		    "id=\"alerts\"><tr><th>detector</th><th>source zone</th><th>alerts</th></tr>\n",
		    (unsigned long long)ev->alerts.total, ev->alerts.total == 1 ? "" : "s");
		for (size_t i = 0; i < ev->alerts.nby; i++) {
			sb_add(o, "<tr><td>");
			sb_add_html(o, ev->alerts.by[i].detector);
			sb_add(o, "</td><td>");
			sb_add_html(o, ev->alerts.by[i].zone);
			sb_addf(o, "</td><td class=\"n\">%llu</td></tr>\n",
				(unsigned long long)ev->alerts.by[i].n);
		}
		sb_add(o, "</table>\n");
	}
}

void ww_evidence_html(const struct ww_evidence *ev, struct strbuf *o)
{
	const struct ww_collect *c = ev->c;
	char a[WW_TIME_STRLEN], b[WW_TIME_STRLEN];
	bool any = false;

	sb_add(o,
	       "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>");
	escf(o, "wardwall evidence %lu: %s on %s", ev->seq,
	     c->gen.gen ? c->gen.policy_name : "no policy", ev->hostname);
	sb_addf(o, "</title>\n%s</head>\n<body>\n<main>\n<h1>", style);
	escf(o, "Network segmentation evidence: %s", c->gen.gen ? c->gen.policy_name : "no policy");
	sb_add(o, "</h1>\n<div class=\"sub\">");
	escf(o, "host %s \xc2\xb7 exported %s \xc2\xb7 window %s to %s (%s) \xc2\xb7 bundle %lu",
	     ev->hostname, ww_time_str(ev->time, a), tstr(ev->start, b), a, ev->basis, ev->seq);
	sb_add(o, "</div>\n");
	banners(ev, o);
	summary(ev, o);
	sb_add(
	    o,
	    "<h2>Zone to zone traffic in the window</h2>\n<p class=\"legend small\">"
	    "<span style=\"background:hsl(135,50%,60%)\">allowed</span>"
	    "<span style=\"background:hsl(0,70%,60%)\">denied</span>"
	    "<span style=\"background:hsl(40,90%,60%)\">monitored (would be denied)</span>"
	    "darker: more packets (log scale); + a flow spanning several zone pairs also counted "
	    "there: its packets are listed once, below the matrix, not in every cell. Rows are "
	    "sources, columns destinations; \xe2\x80\x9c-\xe2\x80\x9d "
	    "is an address in no zone.</p>\n");
	for (int t = 0; t < WW_EV_NTIERS; t++)
		if (ev->tiers[t].present) {
			heatmap(ev, t, o);
			any = true;
		}
	if (!any)
		sb_add(o, "<p>Nothing is loaded in the kernel: no counters.</p>\n");
	sb_add(o, "<h2>Most denied</h2>\n");
	denials(ev, o);
	alerts(ev, o);
	quarantines(ev, o);
	ww_ev_incidents_html(ev, o);
	sb_add(o, "<h2>Flows</h2>\n");
	flows(ev, o);
	drift(ev, o);
	invariants(ev, o);
	nis2(ev, o);
	history(ev, o);
	limits_and_checking(o);
	sb_add(o, "</main>\n</body>\n</html>\n");
}
