// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions end when validity windows end, in the nftables tier (sessions.h): the overlay table
 * inet wardwall_windows, rebuilt by every apply from the policy's decisions (window_ends.h).
 *
 *   map w4 { type ipv4_addr . ipv4_addr . inet_proto . inet_service : verdict; flags interval
 *            elements = { S-S' . D-D' . P-P' . K-K' : jump t<FROM>[-<UNTIL>], ... } }
 *   map w6 { the same with ipv6_addr }
 *   chain t<FROM>[-<UNTIL>]   meta time >= FROM [meta time < UNTIL] drop   (one rule a window
 *                             of the place; one chain per distinct list of windows)
 *   chain forward|input|output (filter hooks, priority filter - 5: after the quarantine overlay,
 *                               before wardwall's own table)
 *       ct state established,related meta nfproto ipv4
 *           ct original ip saddr . ct original ip daddr . ct protocol . ct original proto-dst
 *           vmap @w4
 *       the same for ipv6, vmap @w6
 *
 * The key is the connection's original tuple, so one element matches both directions of a
 * connection, and the cost per packet is one map lookup (two rules a hook, one per family), then
 * the place's time rules (one for each window that ends there: nearly always one), whatever the
 * number of windowed flows. A place is a source class, a destination class, a protocol range and
 * a key range: the port, or for ICMP and ICMPv6 the type (the tuple's key is type then code:
 * type T is T*256..T*256+255), or the whole range for a protocol without ports; a window on a
 * flow of every protocol ("any") is the protocols the pair's other services do not name, as
 * ranges, with every key. The places are disjoint (classes partition the addresses, atoms the
 * services), so each packet meets at most one element.
 *
 * wardwall's own table accepts the packets of an established connection before any flow is
 * looked at; these rules drop them from the moment the policy denies such a connection, in the
 * kernel, whether or not anything of wardwall runs then. New connections are the policy's own
 * business (its time-matched rules, which log them).
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

/* nft's type ids, for the maps' key type as `nft list` prints it (concatenated 6 bits each). */
#define TYPE_IPADDR	   7
#define TYPE_IP6ADDR	   8
#define TYPE_INET_PROTOCOL 12
#define TYPE_INET_SERVICE  13
#define CONCAT_TYPE(a)	   ((((((a) << 6) | (a)) << 6) | TYPE_INET_PROTOCOL) << 6 | TYPE_INET_SERVICE)

/* The windows that end at one place: its chain's rules. */
struct wchain {
	const struct ww_window_end *const *w; /* sorted by from */
	size_t n;
	char name[64];
};

/* Everything of one rebuild. */
struct wtable {
	const struct ww_classes *c;
	size_t *cls_first, *cls_iv; /* the intervals of each class: cls_iv[cls_first[ep]..] */
	struct wchain *ch;
	size_t nch, chcap;
	struct ww_ovl_elem *e4, *e6;
	size_t n4, n6, cap4, cap6;
};

static int region_cmp(const void *a, const void *b)
{
	const struct ww_window_end *x = *(const struct ww_window_end *const *)a,
				   *y = *(const struct ww_window_end *const *)b;
	int64_t kx[] = {x->src, x->dst, x->plo, x->phi, x->lo, x->hi, x->from};
	int64_t ky[] = {y->src, y->dst, y->plo, y->phi, y->lo, y->hi, y->from};

	for (size_t i = 0; i < sizeof(kx) / sizeof(kx[0]); i++)
		if (kx[i] != ky[i])
			return kx[i] < ky[i] ? -1 : 1;
	return 0;
}

static bool same_place(const struct ww_window_end *x, const struct ww_window_end *y)
{
	return x->src == y->src && x->dst == y->dst && x->plo == y->plo && x->phi == y->phi &&
	       x->lo == y->lo && x->hi == y->hi;
}

/* The chain for the windows w[0..n) of one place: an existing one with the same times, or a
 * new one. Returns its index, or -ENOMEM. */
static long chain_for(struct wtable *t, const struct ww_window_end *const *w, size_t n)
{
	for (size_t i = 0; i < t->nch; i++) {
		bool same = t->ch[i].n == n;
		for (size_t k = 0; same && k < n; k++)
			same = t->ch[i].w[k]->from == w[k]->from &&
			       t->ch[i].w[k]->until == w[k]->until;
		if (same)
			return (long)i;
	}
	struct wchain c = {.w = w, .n = n};
	int len = snprintf(c.name, sizeof(c.name), "t%lld", (long long)w[0]->from);
	if (w[0]->until)
		len += snprintf(c.name + len, sizeof(c.name) - (size_t)len, "-%lld",
				(long long)w[0]->until);
	if (n > 1) /* more windows at one place: the first names it, the index tells them apart */
		snprintf(c.name + len, sizeof(c.name) - (size_t)len, "+%zu", t->nch);
	if (VEC_PUSH(t->ch, t->nch, t->chcap, c))
		return -ENOMEM;
	return (long)t->nch - 1;
}

/* The intervals of each class, bucketed (one pass over the flattened address space). */
static int class_buckets(struct wtable *t, size_t nep)
{
	const struct ww_classes *c = t->c;

	t->cls_first = calloc(nep + 2, sizeof(*t->cls_first));
	t->cls_iv = calloc(c->niv + 1, sizeof(*t->cls_iv));
	if (!t->cls_first || !t->cls_iv)
		return -ENOMEM;
	for (size_t i = 0; i < c->niv; i++)
		t->cls_first[c->iv[i].cls + 1]++;
	for (size_t ep = 1; ep <= nep + 1; ep++)
		t->cls_first[ep] += t->cls_first[ep - 1];
	size_t *fill = calloc(nep + 1, sizeof(*fill));
	if (!fill)
		return -ENOMEM;
	for (size_t i = 0; i < c->niv; i++) {
		ww_ep_t k = c->iv[i].cls;
		t->cls_iv[t->cls_first[k] + fill[k]++] = i;
	}
	free(fill);
	return 0;
}

/* Writes v (len bytes, big-endian as the kernel compares) into a key field padded to 4. */
static size_t put_field(uint8_t *key, size_t at, const uint8_t *v, size_t len)
{
	memcpy(key + at, v, len);
	return at + ((len + 3) & ~(size_t)3);
}

/* The key range of a place's service in the tuple's proto-dst (network order). */
static void key_range(const struct ww_window_end *w, uint16_t *lo, uint16_t *hi)
{
	if (w->proto == WW_PROTO_ANY || !ww_proto_key_max(w->proto)) {
		*lo = 0, *hi = 65535;
	} else if (ww_proto_has_types(w->proto)) {
		*lo = (uint16_t)(w->lo << 8), *hi = (uint16_t)(w->hi << 8 | 0xff);
	} else {
		*lo = w->lo, *hi = w->hi;
	}
}

/* The elements of one place: every source interval times every destination interval of the
 * same family, jumping to chain ch. */
static int place_elems(struct wtable *t, const struct ww_window_end *w, const char *ch)
{
	const struct ww_classes *c = t->c;
	uint16_t klo, khi;

	key_range(w, &klo, &khi);
	uint8_t kb[2][2] = {{(uint8_t)(klo >> 8), (uint8_t)klo},
			    {(uint8_t)(khi >> 8), (uint8_t)khi}};
	for (size_t a = t->cls_first[w->src]; a < t->cls_first[w->src + 1]; a++)
		for (size_t b = t->cls_first[w->dst]; b < t->cls_first[w->dst + 1]; b++) {
			const struct ww_interval *s = &c->iv[t->cls_iv[a]],
						 *d = &c->iv[t->cls_iv[b]];
			if (s->family != d->family)
				continue;
			bool v4 = s->family == WW_INET;
			size_t alen = v4 ? 4 : 16;
			if (w->plo == w->phi && w->plo == (v4 ? WW_PROTO_ICMPV6 : WW_PROTO_ICMP))
				continue; /* "ping" names both: each family has its own */
			struct ww_ovl_elem e = {.jump = ch};
			uint8_t sa[2][16], da[2][16];
			ww_addr_bytes(s->family, s->lo, sa[0]);
			ww_addr_bytes(s->family, s->hi, sa[1]);
			ww_addr_bytes(d->family, d->lo, da[0]);
			ww_addr_bytes(d->family, d->hi, da[1]);
			for (int end = 0; end < 2; end++) {
				uint8_t *k = end ? e.key_end : e.key;
				size_t at = put_field(k, 0, sa[end], alen);
				at = put_field(k, at, da[end], alen);
				at = put_field(k, at, end ? &w->phi : &w->plo, 1);
				put_field(k, at, kb[end], 2);
			}
			if (v4 ? VEC_PUSH(t->e4, t->n4, t->cap4, e)
			       : VEC_PUSH(t->e6, t->n6, t->cap6, e))
				return -ENOMEM;
		}
	return 0;
}

/* Places, chains and elements from the regions w[0..n) (sorted in place through idx). */
static int build(struct wtable *t, const struct ww_window_end **idx, size_t n)
{
	qsort(idx, n, sizeof(*idx), region_cmp);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		while (j < n && same_place(idx[i], idx[j]))
			j++;
		long ch = chain_for(t, idx + i, j - i);
		if (ch < 0)
			return (int)ch;
		int e = place_elems(t, idx[i], t->ch[ch].name);
		if (e)
			return e;
		i = j;
	}
	return 0;
}

static void time_chain(struct ww_ovl *q, const struct wchain *c)
{
	ww_ovl_chain_msg(q, c->name, -1);
	for (size_t k = 0; k < c->n; k++) {
		struct nftnl_rule *r = ww_ovl_rule_new(q, c->name);
		int err = 0;
		if (r) {
			ww_ovl_m_time(r, c->w[k]->from, c->w[k]->until, &err);
			ww_ovl_s_verdict(r, NF_DROP, NULL, &err);
		}
		ww_ovl_rule_msg(q, r, err);
	}
}

/* In each base chain, per family: established packets looked up by their connection's
 * original tuple. */
static void lookup_rule(struct ww_ovl *q, const char *base, bool v4)
{
	struct nftnl_rule *r = ww_ovl_rule_new(q, base);
	int err = 0;

	if (r) {
		ww_ovl_m_established(r, &err);
		ww_ovl_m_nfproto(r, v4 ? WW_INET : WW_INET6, &err);
		ww_ovl_m_ct_orig(r, v4 ? NFT_CT_SRC_IP : NFT_CT_SRC_IP6, NFT_REG32_00, &err);
		ww_ovl_m_ct_orig(r, v4 ? NFT_CT_DST_IP : NFT_CT_DST_IP6,
				 v4 ? NFT_REG32_01 : NFT_REG32_04, &err);
		ww_ovl_m_ct_orig(r, NFT_CT_PROTOCOL, v4 ? NFT_REG32_02 : NFT_REG32_08, &err);
		ww_ovl_m_ct_orig(r, NFT_CT_PROTO_DST, v4 ? NFT_REG32_03 : NFT_REG32_09, &err);
		ww_ovl_s_vmap(r, v4 ? "w4" : "w6", v4 ? 1 : 2, NFT_REG32_00, &err);
	}
	ww_ovl_rule_msg(q, r, err);
}

/* The whole table into q: time chains, maps and their elements, base chains. */
static void table_msgs(struct ww_ovl *q, const struct wtable *t)
{
	static const struct {
		const char *name;
		int hook;
	} bases[] = {{"forward", NF_INET_FORWARD},
		     {"input", NF_INET_LOCAL_IN},
		     {"output", NF_INET_LOCAL_OUT}};
	static const uint8_t f4[] = {4, 4, 1, 2}, f6[] = {16, 16, 1, 2};

	ww_ovl_table_msg(q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	for (size_t i = 0; i < t->nch; i++)
		time_chain(q, &t->ch[i]);
	ww_ovl_vmap_msg(q, "w4", 1, CONCAT_TYPE(TYPE_IPADDR), f4, 4);
	ww_ovl_vmap_msg(q, "w6", 2, CONCAT_TYPE(TYPE_IP6ADDR), f6, 4);
	ww_ovl_elems_msg(q, "w4", 16, t->e4, t->n4);
	ww_ovl_elems_msg(q, "w6", 40, t->e6, t->n6);
	for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
		ww_ovl_chain_msg(q, bases[b].name, bases[b].hook);
		lookup_rule(q, bases[b].name, true);
		lookup_rule(q, bases[b].name, false);
	}
}

static void wtable_free(struct wtable *t)
{
	free(t->cls_first);
	free(t->cls_iv);
	free(t->ch);
	free(t->e4);
	free(t->e6);
}

int ww_window_table_build(const struct ww_policy *p, int64_t now, struct ww_window_msgs *m,
			  struct strbuf *err)
{
	struct ww_classes c = {0};
	struct ww_window_end *w = NULL;
	const struct ww_window_end **idx = NULL;
	struct wtable t = {.c = &c};
	size_t n = 0;
	int e;

	memset(m, 0, sizeof(*m));
	e = ww_classes_build(p, &c);
	if (!e)
		e = ww_window_ends(p, &c, now, &w, &n);
	if (!e && n && !(idx = calloc(n, sizeof(*idx))))
		e = -ENOMEM;
	for (size_t i = 0; !e && i < n; i++)
		idx[i] = &w[i];
	if (!e && n && !(e = class_buckets(&t, ww_nendpoints(p))))
		e = build(&t, idx, n);
	if (!e && !(e = ww_ovl_qb_init(&m->q, WW_WINDOWS_TABLE, -5))) {
		m->built = true;
		ww_ovl_table_msg(&m->q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		ww_ovl_table_msg(&m->q, NFT_MSG_DELTABLE, 0);
		if (n)
			table_msgs(&m->q, &t);
		e = m->q.err;
	}
	if (e)
		sb_addf(err, "window ends: building the transaction: %s", strerror(-e));
	else
		m->nregions = n;
	wtable_free(&t);
	free(idx);
	free(w);
	ww_classes_free(&c);
	return e;
}

void ww_window_msgs_free(struct ww_window_msgs *m)
{
	if (m->built)
		ww_ovl_qb_free(&m->q);
	memset(m, 0, sizeof(*m));
}

int ww_window_table_sync(const struct ww_policy *p, int64_t now, size_t *nregions,
			 struct strbuf *err)
{
	struct ww_window_msgs m;
	int e = ww_window_table_build(p, now, &m, err);

	*nregions = 0;
	if (!e) {
		ww_ovl_qb_end(&m.q);
		e = ww_ovl_run(&m.q, err);
	}
	if (!e)
		*nregions = m.nregions;
	ww_window_msgs_free(&m);
	return e;
}

int ww_window_table_clear(struct strbuf *err)
{
	return ww_ovl_table_delete(WW_WINDOWS_TABLE, err);
}
