// SPDX-License-Identifier: GPL-2.0-only
/*
 * Quarantines in reports (show, stats, plan, metrics, evidence): the records of the state
 * directory, each with what the kernel holds of it (the nftables counter exists only with its
 * rules, in the same transaction; the XDP tries are read) and the packets it blocked.
 */
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_tier.h"
#include "state.h"
#include "quarantine.h"
#include "timeutil.h"
#include "wardwall.h"

static bool xdp_holds(struct ww_xdp *x, unsigned int id)
{
	static const char *const maps[] = {"ww_quar4", "ww_quar6"};
	uint8_t cur[24], nxt[24];

	for (int m = 0; x && m < 2; m++) {
		int fd = ww_xdp_fd(x, maps[m]);
		void *prev = NULL;
		struct ww_quar_val v;
		while (fd >= 0 && bpf_map_get_next_key(fd, prev, nxt) == 0) {
			if (!bpf_map_lookup_elem(fd, nxt, &v) && v.id == id)
				return true;
			memcpy(cur, nxt, sizeof(cur));
			prev = cur;
		}
	}
	return false;
}

int ww_quar_status(const char *state_dir, const char *bpffs, int64_t now,
		   struct ww_quar_status **out, size_t *n, struct strbuf *err)
{
	struct ww_quar_list l = {0};
	struct ww_xdp *x = NULL;
	struct strbuf xe = {0};
	int e;

	*out = NULL;
	*n = 0;
	if ((e = ww_quar_load(state_dir, &l, err)))
		return e;
	if (!l.n)
		return 0;
	*out = calloc(l.n, sizeof(**out));
	if (!*out) {
		ww_quar_list_free(&l);
		return -ENOMEM;
	}
	ww_xdp_open(bpffs, false, &x, &xe);
	sb_free(&xe);
	for (size_t i = 0; i < l.n; i++) {
		struct ww_quar_status *s = &(*out)[i];
		s->q = l.v[i];
		s->expired = s->q.until && s->q.until <= now;
		s->nft = ww_quar_nft_counter(s->q.id, &s->nft_packets) == 0;
		s->xdp = xdp_holds(x, s->q.id);
		ww_quar_xdp_counter(bpffs, s->q.id, &s->xdp_packets);
	}
	*n = l.n;
	free(l.v); /* the records moved into *out */
	ww_xdp_close(x);
	return 0;
}

void ww_quar_status_free(struct ww_quar_status *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++)
		ww_quarantine_clear(&s[i].q);
	free(s);
}

void ww_quar_status_print(const struct ww_quar_status *s, size_t n, int64_t now, bool json,
			  struct strbuf *out)
{
	char tb[40];

	if (json) {
		sb_add(out, "\"quarantines\": [");
		for (size_t i = 0; i < n; i++) {
			sb_add(out, i ? ",\n  {\"record\": " : "\n  {\"record\": ");
			ww_quarantine_json(&s[i].q, now, out);
			sb_addf(out, ", \"in_kernel\": {\"nftables\": %s, \"xdp\": %s}, \"blocked\": "
				     "{\"nftables\": %llu, \"xdp\": %llu}}",
				s[i].nft ? "true" : "false", s[i].xdp ? "true" : "false",
				(unsigned long long)s[i].nft_packets,
				(unsigned long long)s[i].xdp_packets);
		}
		sb_add(out, n ? "\n]" : "]");
		return;
	}
	if (!n)
		return;
	sb_addf(out, "runtime overlay (quarantines, not drift): %zu recorded\n", n);
	for (size_t i = 0; i < n; i++) {
		const struct ww_quar_status *x = &s[i];
		sb_addf(out, "  q%u %s: since %s by %s", x->q.id, x->q.target,
			ww_time_str(x->q.created, tb), x->q.user ? x->q.user : "?");
		if (x->q.until)
			sb_addf(out, ", %s %s", x->expired ? "expired" : "until",
				ww_time_str(x->q.until, tb));
		sb_addf(out, "; reason: %s", x->q.reason ? x->q.reason : "");
		if (x->q.ticket)
			sb_addf(out, " (%s)", x->q.ticket);
		sb_addf(out, "\n    in the kernel: nftables %s, XDP %s; blocked: nftables %llu, XDP "
			     "%llu packets; kept:",
			x->nft ? "yes" : "no", x->xdp ? "yes" : "no",
			(unsigned long long)x->nft_packets, (unsigned long long)x->xdp_packets);
		for (size_t k = 0; k < x->q.nkeep; k++)
			sb_addf(out, " %s", x->q.keep[k].id);
		sb_add(out, x->q.nkeep ? "\n" : " nothing\n");
	}
}

void ww_quar_status_metrics(const struct ww_quar_status *s, size_t n, struct strbuf *out)
{
	size_t active = 0;

	for (size_t i = 0; i < n; i++)
		active += !s[i].expired;
	sb_add(out, "# HELP wardwall_quarantines Quarantines in force (runtime overlay).\n"
		    "# TYPE wardwall_quarantines gauge\n");
	sb_addf(out, "wardwall_quarantines %zu\n", active);
	if (!n)
		return;
	sb_add(out, "# HELP wardwall_quarantine_blocked_packets_total Packets dropped by a "
		    "quarantine.\n# TYPE wardwall_quarantine_blocked_packets_total counter\n");
	for (size_t i = 0; i < n; i++)
		for (int t = 0; t < 2; t++) {
			sb_addf(out, "wardwall_quarantine_blocked_packets_total{id=\"q%u\",target=",
				s[i].q.id);
			sb_add_json_str(out, s[i].q.target);
			sb_addf(out, ",tier=\"%s\"} %llu\n", t ? "xdp" : "nftables",
				(unsigned long long)(t ? s[i].xdp_packets : s[i].nft_packets));
		}
}

int ww_quar_report(const char *state_dir, const char *bpffs, int64_t now, bool json,
		   struct strbuf *out)
{
	struct ww_state *st = NULL;
	struct ww_quar_status *s = NULL;
	struct strbuf err = {0};
	size_t n = 0;
	int e = ww_state_open(state_dir, false, &st, &err);

	if (!e)
		e = ww_quar_status(ww_state_dir(st), bpffs, now, &s, &n, &err);
	if (!e)
		ww_quar_status_print(s, n, now, json, out);
	else if (json)
		sb_add(out, "\"quarantines\": null");
	ww_quar_status_free(s, n);
	ww_state_close(st);
	sb_free(&err);
	return e;
}

int ww_quar_report_into(const char *state_dir, const char *bpffs, int64_t now, bool json,
			struct strbuf *out)
{
	struct strbuf q = {0};
	size_t end = out->len;
	int e = ww_quar_report(state_dir, bpffs, now, json, &q);

	if (!json) {
		sb_add(out, sb_str(&q));
	} else {
		/* Inside the object: before its closing brace (and the newline after it). */
		while (end && out->s[end - 1] != '}')
			end--;
		if (end) {
			char *tail = strdup(out->s + end - 1);
			out->len = end - 1;
			out->s[out->len] = '\0';
			sb_addf(out, ",\n%s", sb_str(&q));
			sb_add(out, tail ? tail : "}\n");
			free(tail);
		}
	}
	sb_free(&q);
	return e;
}

void ww_quar_metrics(const char *state_dir, const char *bpffs, int64_t now, struct strbuf *out)
{
	struct ww_state *st = NULL;
	struct ww_quar_status *s = NULL;
	struct strbuf err = {0};
	size_t n = 0;

	if (!ww_state_open(state_dir, false, &st, &err) &&
	    !ww_quar_status(ww_state_dir(st), bpffs, now, &s, &n, &err))
		ww_quar_status_metrics(s, n, out);
	ww_quar_status_free(s, n);
	ww_state_close(st);
	sb_free(&err);
}
