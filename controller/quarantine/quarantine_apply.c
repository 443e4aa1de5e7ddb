// SPDX-License-Identifier: GPL-2.0-only
/* Quarantines into both tiers, and back after a reboot (ww_quarantine_restore). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine.h"
#include "state.h"

int ww_quar_enforce(const struct ww_quar_list *want, const struct ww_quar_list *was,
		    const struct ww_quar_kctx *k, int64_t now, struct strbuf *err)
{
	struct strbuf undo = {0};
	int e = ww_quar_nft_sync(want, k, now, err);

	if (e)
		return e;
	e = ww_quar_xdp_sync(want, k, now, err);
	if (e) {
		/* Both tiers or neither: put nftables and the XDP maps back as they were. */
		ww_quar_nft_sync(was, k, now, &undo);
		ww_quar_xdp_sync(was, k, now, &undo);
		if (undo.len)
			sb_addf(err, "; putting the previous quarantines back: %s", sb_str(&undo));
	}
	sb_free(&undo);
	return e;
}

int ww_quar_kctx_of(const struct ww_policy *p, const char *bpffs, struct ww_quar_kctx *k)
{
	k->bpffs = bpffs;
	k->xdp = p->enf.xdp != WW_XDP_OFF;
	k->log_group = p->enf.log_group;
	k->log_rate = p->enf.log_rate;
	return 0;
}

/* Drops (and logs) the quarantines whose time is over; *changed says whether any was. */
int ww_quar_expire(const char *dir, struct ww_quar_list *l, const struct ww_quar_kctx *k,
		   int64_t now, bool *changed, struct strbuf *err)
{
	size_t j = 0;
	int e = 0;

	*changed = false;
	for (size_t i = 0; i < l->n; i++) {
		struct ww_quarantine *q = &l->v[i];
		if (!q->until || q->until > now) {
			l->v[j++] = *q;
			continue;
		}
		uint64_t a = 0, b = 0;
		ww_quar_nft_counter(q->id, &a);
		ww_quar_xdp_counter(k->bpffs, q->id, &b);
		if (!e)
			e = ww_quar_log(dir, "expire", q, a + b, now, NULL, err);
		ww_quarantine_clear(q);
		*changed = true;
	}
	l->n = j;
	return e;
}

int ww_quarantine_restore(const char *state_dir, const char *bpffs, int64_t now, size_t *kept,
			  struct strbuf *err)
{
	struct ww_state *s = NULL;
	struct ww_quar_list l = {0}, none = {0};
	struct ww_policy *p = NULL;
	struct ww_quar_kctx k = {0};
	unsigned long gen = 0;
	bool changed = false;
	int e, lockfd = -1;

	*kept = 0;
	if ((e = ww_state_open(state_dir, false, &s, err)))
		return e;
	if ((e = ww_quar_lock(ww_state_dir(s), &lockfd, err)) ||
	    (e = ww_quar_load(ww_state_dir(s), &l, err)))
		goto out;
	if (!l.n)
		goto out;
	if ((e = ww_quar_policy(s, NULL, 0, &p, &gen, err)))
		goto out;
	ww_quar_kctx_of(p, bpffs, &k);
	if ((e = ww_quar_expire(ww_state_dir(s), &l, &k, now, &changed, err)))
		goto out;
	/* After a reboot the table and maps are empty: rebuild them from the records. */
	if ((e = ww_quar_enforce(&l, &none, &k, now, err)))
		goto out;
	if (changed && (e = ww_quar_save(ww_state_dir(s), &l, err)))
		goto out;
	*kept = l.n;
out:
	ww_quar_unlock(lockfd);
	ww_policy_free(p);
	ww_quar_list_free(&l);
	ww_state_close(s);
	return e;
}

int ww_quar_xdp_reload(const char *state_dir, const char *bpffs, int64_t now, size_t *n,
		       struct strbuf *err)
{
	struct ww_quar_list l = {0};
	struct ww_quar_kctx k = {.bpffs = bpffs, .xdp = true};
	int e, lockfd = -1;

	*n = 0;
	e = ww_quar_lock(state_dir, &lockfd, err);
	if (!e)
		e = ww_quar_load(state_dir, &l, err);
	for (size_t i = 0; !e && i < l.n; i++)
		*n += !l.v[i].until || l.v[i].until > now;
	if (!e && *n)
		e = ww_quar_xdp_sync(&l, &k, now, err);
	ww_quar_unlock(lockfd);
	ww_quar_list_free(&l);
	return e;
}
