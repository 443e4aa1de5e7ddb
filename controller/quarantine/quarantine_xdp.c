// SPDX-License-Identifier: GPL-2.0-only
/*
 * The quarantine overlay in the XDP tier: the pinned maps ww_quar4, ww_quar6 (the targets),
 * ww_quar_keep (id, kept flow slot) and ww_quar_stats (bpf/wardwall.h). A sync writes what must
 * be there first and deletes what must not after, so no packet meets a moment without the
 * quarantines that stay.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xdp_tier.h"
#include "quarantine.h"
#include "wardwall.h"

static bool in_force(const struct ww_quarantine *q, int64_t now)
{
	return !q->until || q->until > now;
}

static int slot_of(struct ww_xdp *x, const char *id, uint32_t *slot)
{
	char key[WW_FLOW_ID_LEN] = {0};
	int fd = ww_xdp_fd(x, "ww_flow_slots");

	strncpy(key, id, WW_FLOW_ID_LEN - 1);
	return fd < 0 ? fd : bpf_map_lookup_elem(fd, key, slot) ? -errno : 0;
}

/* Deletes every key of fd that want() refuses. */
static int prune(int fd, size_t ksz, bool (*want)(const void *key, void *arg), void *arg)
{
	uint8_t *keys = NULL, cur[64], nxt[64];
	size_t n = 0, cap = 0;
	void *prev = NULL;

	while (bpf_map_get_next_key(fd, prev, nxt) == 0) {
		if (!want(nxt, arg)) {
			if (n == cap) {
				size_t nc = cap ? cap * 2 : 64;
				uint8_t *v = realloc(keys, nc * ksz);
				if (!v) {
					free(keys);
					return -ENOMEM;
				}
				keys = v, cap = nc;
			}
			memcpy(keys + n++ * ksz, nxt, ksz);
		}
		memcpy(cur, nxt, ksz);
		prev = cur;
	}
	for (size_t i = 0; i < n; i++)
		bpf_map_delete_elem(fd, keys + i * ksz);
	free(keys);
	return 0;
}

struct wanted {
	const struct ww_quar_list *l;
	int64_t now;
	int family;
	struct ww_quar_keep_key *keep;
	size_t nkeep;
};

static bool want_pfx(const void *key, void *arg)
{
	const struct wanted *w = arg;
	const uint32_t *plen = key;
	const uint8_t *addr = (const uint8_t *)key + 4;

	for (size_t i = 0; i < w->l->n; i++) {
		const struct ww_quarantine *q = &w->l->v[i];
		if (!in_force(q, w->now))
			continue;
		for (size_t j = 0; j < q->npfx; j++) {
			uint8_t b[16];
			if (q->pfx[j].a.family != w->family || q->pfx[j].len != *plen)
				continue;
			ww_addr_bytes(w->family, q->pfx[j].a.v, b);
			if (!memcmp(b, addr, w->family == WW_INET ? 4 : 16))
				return true;
		}
	}
	return false;
}

static bool want_keep(const void *key, void *arg)
{
	const struct wanted *w = arg;

	for (size_t i = 0; i < w->nkeep; i++)
		if (!memcmp(&w->keep[i], key, sizeof(w->keep[i])))
			return true;
	return false;
}

int ww_quar_xdp_sync(const struct ww_quar_list *l, const struct ww_quar_kctx *k, int64_t now,
		     struct strbuf *err)
{
	struct ww_xdp *x = NULL;
	struct wanted w = {.l = l, .now = now};
	size_t cap = 0;
	int e, f4, f6, fk;
	uint8_t one = 1;

	e = ww_xdp_open(k->bpffs, false, &x, err);
	if (e == -ENOENT && !k->xdp)
		return 0; /* no XDP tier here */
	if (e)
		return e;
	f4 = ww_xdp_fd(x, "ww_quar4");
	f6 = ww_xdp_fd(x, "ww_quar6");
	fk = ww_xdp_fd(x, "ww_quar_keep");
	if (f4 < 0 || f6 < 0 || fk < 0) {
		sb_add(err, "XDP: the pinned program has no quarantine maps (apply the policy again "
			    "with this wardwall to load it)");
		ww_xdp_close(x);
		return -ENOENT;
	}
	for (size_t i = 0; i < l->n && !e; i++) {
		const struct ww_quarantine *q = &l->v[i];
		struct ww_quar_val v = {.id = q->id,
					.until_ns = q->until ? (uint64_t)q->until * 1000000000ull
							     : ~0ull};
		if (!in_force(q, now))
			continue;
		for (size_t j = 0; j < q->nkeep && !e; j++) {
			struct ww_quar_keep_key kk = {.id = q->id};
			if (slot_of(x, q->keep[j].id, &kk.slot))
				continue; /* a flow XDP never counted has no slot: nothing to keep */
			if (bpf_map_update_elem(fk, &kk, &one, BPF_ANY))
				e = -errno;
			else if (VEC_PUSH(w.keep, w.nkeep, cap, kk))
				e = -ENOMEM;
		}
		for (size_t j = 0; j < q->npfx && !e; j++) {
			const struct ww_prefix *p = &q->pfx[j];
			struct ww_lpm6 key = {.prefixlen = p->len};
			ww_addr_bytes(p->a.family, p->a.v, key.addr);
			if (bpf_map_update_elem(p->a.family == WW_INET ? f4 : f6, &key, &v, BPF_ANY))
				e = -errno;
		}
	}
	if (!e) {
		w.family = WW_INET;
		e = prune(f4, sizeof(struct ww_lpm4), want_pfx, &w);
	}
	if (!e) {
		w.family = WW_INET6;
		e = prune(f6, sizeof(struct ww_lpm6), want_pfx, &w);
	}
	if (!e)
		e = prune(fk, sizeof(struct ww_quar_keep_key), want_keep, &w);
	if (e)
		sb_addf(err, "XDP: writing the quarantine maps: %s", strerror(-e));
	free(w.keep);
	ww_xdp_close(x);
	return e;
}

int ww_quar_xdp_counter(const char *bpffs, unsigned int id, uint64_t *packets)
{
	struct ww_xdp *x = NULL;
	struct strbuf err = {0};
	int n = libbpf_num_possible_cpus(), fd, e;
	uint32_t key = id;

	*packets = 0;
	e = ww_xdp_open(bpffs, false, &x, &err);
	sb_free(&err);
	if (e)
		return e;
	fd = ww_xdp_fd(x, "ww_quar_stats");
	struct ww_count *v = n > 0 ? calloc((size_t)n, sizeof(*v)) : NULL;
	if (fd < 0 || !v) {
		e = fd < 0 ? fd : -ENOMEM;
	} else if (bpf_map_lookup_elem(fd, &key, v)) {
		e = -errno;
	} else {
		for (int c = 0; c < n; c++)
			*packets += v[c].packets;
	}
	free(v);
	ww_xdp_close(x);
	return e;
}

/* Deletes the XDP connection entries with an address of the target whose flow is not kept. */
int ww_quar_xdp_cut(const struct ww_quarantine *q, const struct ww_quar_kctx *k,
		    unsigned long *cut)
{
	struct ww_xdp *x = NULL;
	struct strbuf err = {0};
	struct ww_ct_key cur, nxt, *del = NULL;
	size_t n = 0, cap = 0;
	uint32_t *kept = NULL;
	size_t nkept = 0, kcap = 0;
	void *prev = NULL;
	int fd, e;

	*cut = 0;
	e = ww_xdp_open(k->bpffs, false, &x, &err);
	sb_free(&err);
	if (e)
		return e == -ENOENT ? 0 : e;
	fd = ww_xdp_fd(x, "ww_ct");
	for (size_t i = 0; i < q->nkeep; i++) {
		uint32_t s;
		if (!slot_of(x, q->keep[i].id, &s) && VEC_PUSH(kept, nkept, kcap, s))
			e = -ENOMEM;
	}
	while (!e && fd >= 0 && bpf_map_get_next_key(fd, prev, &nxt) == 0) {
		struct ww_ct_val v;
		struct ww_addr s = {.family = nxt.family}, d = {.family = nxt.family};
		s.v = ww_addr_from_bytes(nxt.family, nxt.src);
		d.v = ww_addr_from_bytes(nxt.family, nxt.dst);
		if ((ww_quar_covers(q, &s) || ww_quar_covers(q, &d)) &&
		    !bpf_map_lookup_elem(fd, &nxt, &v)) {
			bool keep = false;
			for (size_t i = 0; i < nkept && !keep; i++)
				keep = kept[i] == v.slot;
			if (!keep && VEC_PUSH(del, n, cap, nxt))
				e = -ENOMEM;
		}
		cur = nxt;
		prev = &cur;
	}
	for (size_t i = 0; i < n; i++)
		if (!bpf_map_delete_elem(fd, &del[i]))
			(*cut)++;
	free(del);
	free(kept);
	ww_xdp_close(x);
	return e;
}
