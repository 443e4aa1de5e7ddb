// SPDX-License-Identifier: GPL-2.0-only
#include "xdp_compile.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"

/* Decision entries carry the analysis's rank as it is (x.e[i].rank = rank): the program's
 * ranks must be the same numbers. */
_Static_assert(WW_R_DENY == (int)WW_RANK_DENY && WW_R_MONITOR == (int)WW_RANK_MONITOR &&
		       WW_R_ALLOW == (int)WW_RANK_ALLOW,
	       "enum ww_xrank (bpf/wardwall.h) and enum ww_rank (eval.h) disagree");

struct xctx {
	const struct ww_policy *p;
	struct ww_xdp_image *img;
	struct ww_diags *d;
	struct ww_dtable dt;
	size_t rcap, ccap, lcap;
	int err;
};

static void add_cls(struct xctx *c, const struct ww_net *n, const struct ww_zone *z,
		    const struct ww_host *h)
{
	struct ww_xdp_cls x = {.pfx = n->pfx};

	x.val.zone_ep = z->ep;
	x.val.host_ep = h ? h->ep : 0;
	x.val.zone_slot = (__u16)z->ep; /* zones are numbered 1.. by name: mapped to slots later */
	x.val.flags = z->mode == WW_MONITOR ? WW_CLS_MONITOR : 0;
	if (VEC_PUSH(c->img->cls, c->img->ncls, c->ccap, x))
		c->err = -ENOMEM;
}

static void add_rule(struct xctx *c, ww_ep_t s, ww_ep_t d, int proto, unsigned int len,
		     unsigned int key, uint32_t dlist)
{
	struct ww_xdp_rule r = {.dlist = dlist};
	uint32_t a = htonl(s), b = htonl(d);
	uint16_t k = htons((uint16_t)key);

	r.key.prefixlen = len;
	memcpy(r.key.data + WW_RULE_SRC_EP, &a, 4);
	memcpy(r.key.data + WW_RULE_DST_EP, &b, 4);
	if (len > WW_RULE_PREFIX_ANY)
		r.key.data[WW_RULE_PROTO] = (uint8_t)proto;
	/* add_range only makes aligned blocks: no bits set past the prefix */
	if (len > WW_RULE_PREFIX_PROTO)
		memcpy(r.key.data + WW_RULE_KEY, &k, 2);
	if (VEC_PUSH(c->img->rules, c->img->nrules, c->rcap, r))
		c->err = -ENOMEM;
}

/* [lo, hi] of a `bits`-wide key as the fewest aligned blocks, each one trie entry. */
static void add_range(struct xctx *c, ww_ep_t s, ww_ep_t d, int proto, unsigned int bits,
		      unsigned int lo, unsigned int hi, unsigned int shift, uint32_t dlist)
{
	while (lo <= hi && !c->err) {
		unsigned int size = 1, n = 0;
		/* Grow the block while lo stays aligned and the block stays inside [lo, hi]. */
		while (n < bits && !(lo & (size * 2 - 1)) && lo + size * 2 - 1 <= hi) {
			size *= 2;
			n++;
		}
		add_rule(c, s, d, proto, WW_RULE_PREFIX_PROTO + bits - n, lo << shift, dlist);
		if (lo + size - 1 >= hi)
			break;
		lo += size;
	}
}

/* The XDP decision list for interned list id; returns its index in the image. */
static long xdp_dlist(struct xctx *c, uint32_t id, long *map, ww_ep_t s, ww_ep_t d)
{
	const struct ww_dlist *l = &c->dt.v[id];
	struct ww_xlist x = {0};

	if (map[id] >= 0)
		return map[id];
	if (l->n > WW_DLIST_MAX) {
		struct strbuf sb = {0};
		char a[WW_EP_STRLEN], b[WW_EP_STRLEN];
		for (size_t i = 0; i < l->n && i < 10; i++)
			sb_addf(&sb, "%s\"%s\"", i ? ", " : "", c->p->flows[l->v[i].flow].id);
		ww_err(c->d, "xdp-capacity", c->p->flows[l->v[0].flow].ptr,
		       "XDP: %zu flows overlap for %s -> %s (%s); at most %d may, counting "
		       "windowed and monitor-mode flows",
		       l->n, ww_ep_name(c->p, s, a), ww_ep_name(c->p, d, b), sb_str(&sb),
		       WW_DLIST_MAX);
		sb_free(&sb);
		c->err = -E2BIG;
		return -1;
	}
	x.n = (uint32_t)l->n;
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_flow *f = &c->p->flows[l->v[i].flow];
		enum ww_log lg = ww_flow_log(c->p, f);
		bool allow = l->v[i].rank == WW_RANK_ALLOW;
		x.e[i].slot = l->v[i].flow;
		x.e[i].order = l->v[i].flow;
		x.e[i].rank = l->v[i].rank;
		x.e[i].flags = (lg == WW_LOG_ALL || (!allow && lg == WW_LOG_DENY)) ? WW_LOG : 0;
		if (l->v[i].rank == WW_RANK_DENY && f->reject)
			x.e[i].flags |= WW_REJECT;
		x.e[i].from_ns = f->has_from ? (__u64)f->valid_from * 1000000000ULL : 0;
		x.e[i].until_ns = f->has_until ? (__u64)f->valid_until * 1000000000ULL : ~0ULL;
	}
	/* Grown geometrically: one realloc per list was quadratic in copies at many pairs. */
	if (vec_reserve(&c->img->dlists, &c->lcap, c->img->ndlists + 1, sizeof(x))) {
		c->err = -ENOMEM;
		return -1;
	}
	c->img->dlists[c->img->ndlists] = x;
	map[id] = (long)c->img->ndlists++;
	return map[id];
}

static void pair_rules(struct xctx *c, const struct ww_pairlist *pl, long **map, size_t *mapn)
{
	const struct ww_policy *p = c->p;
	struct ww_atom *a;
	size_t na;

	c->err = ww_atoms_build(p, pl->flows, pl->n, ww_ep_zone(p, pl->src), ww_ep_zone(p, pl->dst),
				&c->dt, &a, &na);
	if (c->err)
		return;
	if (*mapn < c->dt.n) {
		long *m = realloc(*map, c->dt.cap * sizeof(*m));
		if (!m) {
			c->err = -ENOMEM;
			free(a);
			return;
		}
		for (size_t i = *mapn; i < c->dt.cap; i++)
			m[i] = -1;
		*map = m;
		*mapn = c->dt.cap;
	}
	for (size_t i = 0; i < na && !c->err;) {
		size_t j = i;
		while (j < na && a[j].proto == a[i].proto)
			j++;
		for (size_t k = i; k < j && !c->err; k++) {
			if (a[k].dlist == WW_DLIST_NONE)
				continue;
			long x = xdp_dlist(c, a[k].dlist, *map, pl->src, pl->dst);
			if (x < 0)
				break;
			int proto = a[k].proto;
			if (proto == WW_PROTO_ANY)
				add_rule(c, pl->src, pl->dst, 0, WW_RULE_PREFIX_ANY, 0,
					 (uint32_t)x);
			else if (j - i == 1 || !ww_proto_key_max(proto))
				add_rule(c, pl->src, pl->dst, proto, WW_RULE_PREFIX_PROTO, 0,
					 (uint32_t)x);
			else if (ww_proto_has_ports(proto))
				add_range(c, pl->src, pl->dst, proto, 16, a[k].lo, a[k].hi, 0,
					  (uint32_t)x);
			else
				add_range(c, pl->src, pl->dst, proto, 8, a[k].lo, a[k].hi, 8,
					  (uint32_t)x);
		}
		i = j;
	}
	free(a);
}

int ww_compile_xdp(const struct ww_policy *p, struct ww_xdp_image *img, struct ww_diags *d)
{
	struct xctx c = {.p = p, .img = img, .d = d};
	struct ww_pairidx ix;
	long *map = NULL;
	size_t mapn = 0;

	memset(img, 0, sizeof(*img));
	if (p->nzones > WW_MAX_ZONES) {
		ww_err(d, "xdp-capacity", "/zones", "XDP: %zu zones, at most %d", p->nzones,
		       WW_MAX_ZONES);
		return -E2BIG;
	}
	if (p->nflows > WW_MAX_FLOWS) {
		ww_err(d, "xdp-capacity", "/flows", "XDP: %zu flows, at most %d", p->nflows,
		       WW_MAX_FLOWS);
		return -E2BIG;
	}
	for (size_t i = 0; i < p->nzones; i++) {
		const struct ww_zone *z = &p->zones[i];
		for (size_t k = 0; k < z->nnets; k++)
			add_cls(&c, &z->nets[k], z, NULL);
		for (size_t h = 0; h < z->nhosts; h++)
			for (size_t k = 0; k < z->hosts[h].nnets; k++)
				add_cls(&c, &z->hosts[h].nets[k], z, &z->hosts[h]);
	}
	if (!c.err)
		c.err = ww_pairidx_build(p, &ix);
	if (c.err)
		goto out;
	for (size_t i = 0; i < ix.cap && !c.err; i++)
		if (ix.v[i].src)
			pair_rules(&c, &ix.v[i], &map, &mapn);
	ww_pairidx_free(&ix);
	img->settings.between_allow = p->defaults.between_zones == WW_ALLOW;
	img->settings.within_allow = p->defaults.within_zone == WW_ALLOW;
	img->settings.log_default_deny = p->defaults.log != WW_LOG_NONE;
	img->settings.log_default_allow = p->defaults.log == WW_LOG_ALL;
	img->settings.hook = p->enf.mode == WW_HOST     ? WW_HOOK_HOST
			     : p->enf.mode == WW_BRIDGE ? WW_HOOK_BRIDGE
							: WW_HOOK_GATEWAY;
	img->settings.log_rate = p->enf.log_rate;
out:
	free(map);
	ww_dtable_free(&c.dt);
	if (c.err) {
		ww_xdp_image_free(img);
		return c.err;
	}
	ww_xdp_image_sort(img);
	return 0;
}

void ww_xdp_image_free(struct ww_xdp_image *img)
{
	free(img->cls);
	free(img->rules);
	free(img->dlists);
	memset(img, 0, sizeof(*img));
}

static int cls_cmp(const void *a, const void *b)
{
	return ww_prefix_cmp(&((const struct ww_xdp_cls *)a)->pfx,
			     &((const struct ww_xdp_cls *)b)->pfx);
}

static int rule_cmp(const void *a, const void *b)
{
	const struct ww_xdp_rule *x = a, *y = b;
	int r = memcmp(x->key.data, y->key.data, WW_RULE_DATA);

	if (r)
		return r;
	return x->key.prefixlen < y->key.prefixlen ? -1 : x->key.prefixlen > y->key.prefixlen;
}

void ww_xdp_image_sort(struct ww_xdp_image *img)
{
	qsort(img->cls, img->ncls, sizeof(*img->cls), cls_cmp);
	qsort(img->rules, img->nrules, sizeof(*img->rules), rule_cmp);
}
