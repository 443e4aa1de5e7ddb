// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions end when validity windows end, in the nftables tier (sessions.h): the overlay table
 * inet wardwall_windows, rebuilt by every apply from the policy's decisions (window_ends.h).
 *
 *   chain forward|input|output  (filter hooks, priority filter - 5: after the quarantine
 *                                overlay, before wardwall's own table)
 *       meta nfproto ipv4 ct state established,related ip saddr S ip daddr D tcp dport P
 *           meta time >= FROM [meta time < UNTIL] drop          (the opening direction)
 *       ... ip saddr D ip daddr S tcp sport P ... drop           (its replies)
 *
 * wardwall's own table accepts the packets of an established connection before any flow is
 * looked at; these rules drop them from the moment the policy denies such a connection, in the
 * kernel, whether or not anything of wardwall runs then. New connections are the policy's own
 * business (its time-matched rules).
 */
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_overlay.h"
#include "sessions.h"
#include "window_ends.h"

static void end_rules(struct ww_ovl *q, const char *base, const struct ww_window_end *w,
		      const struct ww_prefix *src, size_t ns, const struct ww_prefix *dst,
		      size_t nd)
{
	struct ww_term t = {.proto = w->proto, .lo = w->lo, .hi = w->hi};

	for (size_t a = 0; a < ns; a++)
		for (size_t b = 0; b < nd; b++) {
			if (src[a].a.family != dst[b].a.family)
				continue;
			for (int rev = 0; rev < 2; rev++) {
				struct nftnl_rule *r = ww_ovl_rule_new(q, base);
				int err = 0;
				if (r) {
					ww_ovl_m_nfproto(r, src[a].a.family, &err);
					ww_ovl_m_established(r, &err);
					ww_ovl_m_addr(r, rev ? &dst[b] : &src[a], false, &err);
					ww_ovl_m_addr(r, rev ? &src[a] : &dst[b], true, &err);
					ww_ovl_m_term(r, &t, rev, &err);
					ww_ovl_m_time(r, w->from, w->until, &err);
					ww_ovl_s_verdict(r, NF_DROP, NULL, &err);
				}
				ww_ovl_rule_msg(q, r, err);
			}
		}
}

int ww_window_table_sync(const struct ww_policy *p, int64_t now, size_t *nregions,
			 struct strbuf *err)
{
	static const struct {
		const char *name;
		int hook;
	} bases[] = {{"forward", NF_INET_FORWARD}, {"input", NF_INET_LOCAL_IN},
		     {"output", NF_INET_LOCAL_OUT}};
	struct ww_classes c = {0};
	struct ww_window_end *w = NULL;
	struct ww_prefix **src = NULL, **dst = NULL;
	size_t n = 0, *ns = NULL, *nd = NULL;
	struct ww_ovl q;
	int e;

	*nregions = 0;
	e = ww_classes_build(p, &c);
	if (!e)
		e = ww_window_ends(p, &c, now, &w, &n);
	if (!e && n) {
		src = calloc(n, sizeof(*src)), dst = calloc(n, sizeof(*dst));
		ns = calloc(n, sizeof(*ns)), nd = calloc(n, sizeof(*nd));
		if (!src || !dst || !ns || !nd)
			e = -ENOMEM;
	}
	for (size_t i = 0; !e && i < n; i++) {
		e = ww_class_prefixes(&c, w[i].src, &src[i], &ns[i]);
		if (!e)
			e = ww_class_prefixes(&c, w[i].dst, &dst[i], &nd[i]);
	}
	if (!e)
		e = ww_ovl_qb_init(&q, WW_WINDOWS_TABLE, -5);
	if (e) {
		sb_addf(err, "window ends: %s", strerror(-e));
		goto out;
	}
	ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	ww_ovl_table_msg(&q, NFT_MSG_DELTABLE, 0);
	if (n) {
		ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			ww_ovl_chain_msg(&q, bases[b].name, bases[b].hook);
			for (size_t i = 0; i < n; i++)
				end_rules(&q, bases[b].name, &w[i], src[i], ns[i], dst[i], nd[i]);
		}
	}
	if (q.err) {
		e = q.err;
		sb_addf(err, "window ends: building the transaction: %s", strerror(-e));
	} else {
		ww_ovl_qb_end(&q);
		e = ww_ovl_run(&q, err);
	}
	ww_ovl_qb_free(&q);
	if (!e)
		*nregions = n;
out:
	for (size_t i = 0; i < n && src && dst; i++) {
		free(src[i]);
		free(dst[i]);
	}
	free(src);
	free(dst);
	free(ns);
	free(nd);
	free(w);
	ww_classes_free(&c);
	return e;
}

int ww_window_table_clear(struct strbuf *err)
{
	struct ww_ovl q;
	int e = ww_ovl_qb_init(&q, WW_WINDOWS_TABLE, -5);

	if (e)
		return e;
	ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	ww_ovl_table_msg(&q, NFT_MSG_DELTABLE, 0);
	ww_ovl_qb_end(&q);
	e = q.err ? q.err : ww_ovl_run(&q, err);
	ww_ovl_qb_free(&q);
	return e;
}
