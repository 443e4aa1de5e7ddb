// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inverse of nft_compile.c: walks classify -> from/<source> -> its flow maps (and the dec-*
 * chains they go to) and def/<zone>/<zone>, turning map elements and rules back into facts.
 */
#include "nft_readback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "classmark.h"
#include "nft_compile.h"

static void rb_err(struct ww_readback *rb, int *err)
{
	(void)rb;
	*err = -ENOMEM;
}

static struct ww_rb_zone *zone_get(struct ww_readback *rb, const char *name, int *err)
{
	for (size_t i = 0; i < rb->nzones; i++)
		if (!strcmp(rb->zones[i].name, name))
			return &rb->zones[i];
	struct ww_rb_zone z = {.name = strdup(name)};
	if (!z.name || VEC_PUSH(rb->zones, rb->nzones, rb->zcap, z)) {
		free(z.name);
		rb_err(rb, err);
		return NULL;
	}
	return &rb->zones[rb->nzones - 1];
}

static int family_of(enum nfr_key k)
{
	return k == NK_SADDR4 || k == NK_DADDR4 ? WW_INET : WW_INET6;
}

/* A decision chain's entries, in order: each counter with its verdict and window. */
struct entry {
	const char *counter;
	enum ww_rb_verdict verdict;
	bool has_from, has_until;
	int64_t from, until;
};

static size_t dec_entries(const struct nfr_chain *c, struct entry *out, size_t max,
			  size_t *unexplained)
{
	size_t n = 0;

	for (size_t i = 0; i < c->nrules && n < max; i++) {
		const struct nfr_rule *r = &c->rules[i];
		if (!r->counter) {
			(*unexplained)++;
			continue;
		}
		struct entry e = {.counter = r->counter, .has_from = r->has_from,
				  .has_until = r->has_until, .from = r->from, .until = r->until};
		enum nfr_vkind vk = r->v.kind;
		/* A logged decision is two rules: count and log, then the verdict alone. */
		if (vk == NV_NONE && i + 1 < c->nrules && !c->rules[i + 1].counter &&
		    c->rules[i + 1].v.kind != NV_NONE &&
		    c->rules[i + 1].has_from == r->has_from && c->rules[i + 1].from == r->from &&
		    c->rules[i + 1].has_until == r->has_until && c->rules[i + 1].until == r->until)
			vk = c->rules[++i].v.kind;
		bool rejects = vk == NV_GOTO && !strcmp(c->rules[i].v.chain, WW_NFT_REJECT_CHAIN);
		e.verdict = vk == NV_DROP || rejects ? WW_RB_DENY
			    : vk == NV_NONE	      ? WW_RB_MONITOR
			    : r->log_prefix && strstr(r->log_prefix, ":monitor:") ? WW_RB_MONITOR
						      : WW_RB_ALLOW;
		out[n++] = e;
	}
	return n;
}

/* The key of a flow map's element, fields in order: what its counter's element shares. */
static int elem_key_cmp(const void *a, const void *b)
{
	const struct nfr_elem *x = *(const struct nfr_elem *const *)a,
			      *y = *(const struct nfr_elem *const *)b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	for (int i = 0; i < NFR_CAT_MAX - 1; i++)
		if (x->clo[i] != y->clo[i])
			return x->clo[i] < y->clo[i] ? -1 : 1;
	return 0;
}

/* s's elements by key (NULL when s is NULL or has none). */
static const struct nfr_elem **by_key(const struct nfr_set *s)
{
	const struct nfr_elem **v = s && s->nelems ? calloc(s->nelems, sizeof(*v)) : NULL;

	for (size_t i = 0; v && i < s->nelems; i++)
		v[i] = &s->elems[i];
	if (v)
		qsort(v, s->nelems, sizeof(*v), elem_key_cmp);
	return v;
}

/* The service of a flow map's element (nft_compile.c: flow_maps): a port map's protocol and
 * port range, an ICMP map's type range, or a protocol map's protocol (-1 for a range of
 * protocols, the protocols no flow of the pair names). */
static void elem_service(const struct nfr_set *m, const struct nfr_elem *e, struct ww_rb_fact *f)
{
	enum nfr_key k = m->cat.f[1];

	if (m->cat.n == 3) {
		f->proto = (int)e->clo[0];
		f->lo = (uint16_t)e->clo[1], f->hi = (uint16_t)e->chi[1];
	} else if (k == NK_ICMP_TYPE || k == NK_ICMPV6_TYPE) {
		f->proto = k == NK_ICMP_TYPE ? WW_PROTO_ICMP : WW_PROTO_ICMPV6;
		f->lo = (uint16_t)e->clo[0], f->hi = (uint16_t)e->chi[0];
	} else if (e->clo[0] == e->chi[0]) {
		f->proto = (int)e->clo[0];
		f->lo = 0, f->hi = (uint16_t)ww_proto_key_max(f->proto);
	} else {
		f->proto = -1;
		f->lo = f->hi = 0;
	}
}

/* The decision entries of a flow map element: its decision chain's, or its own verdict with the
 * counter the counter map names for the same key. */
static size_t elem_entries(const struct nfr_table *t, const struct nfr_elem *e,
			   const struct nfr_elem **cnt, size_t ncnt, struct entry *out, size_t max,
			   size_t *unexplained)
{
	if (e->v.kind == NV_GOTO) {
		const struct nfr_chain *dc = nfr_chain_find(t, e->v.chain);
		if (dc)
			return dec_entries(dc, out, max, unexplained);
	} else if (e->v.kind == NV_ACCEPT || e->v.kind == NV_DROP) {
		const struct nfr_elem **c =
			cnt ? bsearch(&e, cnt, ncnt, sizeof(*cnt), elem_key_cmp) : NULL;
		if (c && (*c)->obj) {
			out[0] = (struct entry){
				.counter = (*c)->obj,
				.verdict = e->v.kind == NV_DROP ? WW_RB_DENY : WW_RB_ALLOW};
			return 1;
		}
	}
	(*unexplained)++;
	return 0;
}

static int push_fact(struct ww_readback *rb, const struct ww_rb_fact *f)
{
	const struct ww_rb_fact *l = rb->nfacts ? &rb->facts[rb->nfacts - 1] : NULL;

	/* The protocols no flow names come as several ranges: "any" once. */
	if (l && f->proto < 0 && l->proto < 0 && l->from == f->from &&
	    l->dst.family == f->dst.family && l->dst.lo == f->dst.lo && l->dst.hi == f->dst.hi &&
	    !strcmp(l->counter, f->counter) && l->verdict == f->verdict)
		return 0;
	return VEC_PUSH(rb->facts, rb->nfacts, rb->fcap, *f) ? -ENOMEM : 0;
}

/* The counter map of flow map m: "c" + m's name after the 'f' (NULL: none, or no memory). */
static const struct nfr_set *counter_map_of(const struct nfr_table *t, const struct nfr_set *m)
{
	char *cname = strdup(m->name);
	const struct nfr_set *cm;

	if (!cname)
		return NULL;
	cname[0] = 'c';
	cm = nfr_set_find(t, cname);
	free(cname);
	return cm;
}

/* A destination class the classify chain writes into the mark (nft_compile.c: classify_dest):
 * its value and one of its address ranges. */
struct cls_range {
	uint32_t v;
	struct ww_rb_range r;
};

struct classes {
	struct cls_range *v;
	size_t n, cap;
	uint32_t zmask, hmask; /* the mark's zone and host fields */
};

static int cls_cmp(const void *a, const void *b)
{
	const struct cls_range *x = a, *y = b;

	return x->v < y->v ? -1 : x->v > y->v;
}

/* The classes of the destination maps of classify: `ip daddr vmap @dst4-…` to "to/<class>",
 * whose one rule sets the class bits; the fields from the rule that clears them. */
static int dest_classes(const struct nfr_table *t, struct classes *k)
{
	const struct nfr_chain *cl = nfr_chain_find(t, "classify");

	for (size_t i = 0; cl && i < cl->nrules; i++) {
		const struct nfr_rule *r = &cl->rules[i];
		const struct nfr_set *s = r->set && r->vmap ? nfr_set_find(t, r->set) : NULL;
		if (r->set_mark && !r->mark_or) {
			k->zmask = ww_mark_zone_bits(~r->mark_keep);
			k->hmask = ww_mark_host_bits(~r->mark_keep);
		}
		if (!s || (r->key != NK_DADDR4 && r->key != NK_DADDR6))
			continue;
		for (size_t e = 0; e < s->nelems; e++) {
			const struct nfr_elem *el = &s->elems[e];
			const struct nfr_chain *to =
				el->v.kind == NV_JUMP && !strncmp(el->v.chain, "to/", 3)
					? nfr_chain_find(t, el->v.chain)
					: NULL;
			if (!to || to->nrules != 1 || !to->rules[0].set_mark)
				continue;
			struct cls_range x = {to->rules[0].mark_or,
					      {(uint8_t)family_of(r->key), el->lo, el->hi}};
			if (VEC_PUSH(k->v, k->n, k->cap, x))
				return -ENOMEM;
		}
	}
	if (k->n > 1)
		qsort(k->v, k->n, sizeof(*k->v), cls_cmp);
	return 0;
}

/* The first range of class v in k (k->n: none). */
static size_t cls_first(const struct classes *k, uint32_t v)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (k->v[mid].v < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What a host class's elements cover of one protocol in a source chain: key lo-hi, or the whole
 * protocol. A zone's element decides for the host's addresses only where they do not. */
struct hcov {
	uint32_t v;
	int proto;
	uint16_t lo, hi;
};

static int hcov_cmp(const void *a, const void *b)
{
	const struct hcov *x = a, *y = b;

	if (x->v != y->v)
		return x->v < y->v ? -1 : 1;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The host classes of k (those with a host field), each once, as keys "zone field << 32 | class"
 * in order: a zone's hosts are one run (host_run). */
static uint64_t *host_classes(const struct classes *k, size_t *n)
{
	uint64_t *v = calloc(k->n + 1, sizeof(*v));

	*n = 0;
	for (size_t i = 0; v && i < k->n; i++)
		if ((k->v[i].v & k->hmask) && (!*n || (uint32_t)v[*n - 1] != k->v[i].v))
			v[(*n)++] = (uint64_t)(k->v[i].v & k->zmask) << 32 | k->v[i].v;
	if (v && *n > 1)
		qsort(v, *n, sizeof(*v), u64_cmp);
	return v;
}

/* The first of the hosts of zone class z in hosts[0..n) (host_classes); n: none. */
static size_t host_run(const uint64_t *hosts, size_t n, uint32_t z)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hosts[mid] >> 32 < z)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* What the host classes' elements of source chain from cover, sorted (hcov_cmp). */
static int host_cover(const struct nfr_table *t, const struct nfr_chain *from,
		      const struct classes *k, struct hcov **out, size_t *n)
{
	size_t cap = 0;

	*out = NULL, *n = 0;
	for (size_t i = 0; i < from->nrules; i++) {
		const struct nfr_rule *r = &from->rules[i];
		const struct nfr_set *m = r->vmap && r->cat.n && r->cat.f[0] == NK_MARK &&
						  (r->cat.mark_mask & k->hmask)
					      ? nfr_set_find(t, r->set)
					      : NULL;
		for (size_t e = 0; m && e < m->nelems; e++) {
			struct ww_rb_fact f = {0};
			uint32_t v = (uint32_t)m->elems[e].lo;
			if (!(v & k->hmask))
				continue;
			elem_service(m, &m->elems[e], &f);
			int plo = f.proto >= 0 ? f.proto : (int)m->elems[e].clo[0];
			int phi = f.proto >= 0 ? f.proto : (int)m->elems[e].chi[0];
			for (int p = plo; p <= phi; p++) {
				struct hcov h = {v, p, f.proto >= 0 ? f.lo : 0,
						 f.proto >= 0 ? f.hi : (uint16_t)ww_proto_key_max(p)};
				if (VEC_PUSH(*out, *n, cap, h))
					return -ENOMEM;
			}
		}
	}
	if (*n > 1)
		qsort(*out, *n, sizeof(**out), hcov_cmp);
	return 0;
}

/* The facts of f (its service and source set) with each entry, over every range of class v (of
 * f->dst.family only when that is set: an ICMP map keyed by type holds one family's packets). */
static int class_facts(struct ww_readback *rb, const struct classes *k, uint32_t v,
		       const struct ww_rb_fact *f, const struct entry *ent, size_t ne)
{
	int err = 0;

	for (size_t i = cls_first(k, v); i < k->n && k->v[i].v == v && !err; i++)
		for (size_t e = 0; e < ne && (!f->dst.family || f->dst.family == k->v[i].r.family) &&
				   !err;
		     e++) {
			struct ww_rb_fact x = *f;
			x.dst = k->v[i].r;
			x.counter = ent[e].counter;
			x.verdict = ent[e].verdict;
			x.has_from = ent[e].has_from;
			x.has_until = ent[e].has_until;
			x.valid_from = ent[e].from;
			x.valid_until = ent[e].until;
			err = push_fact(rb, &x);
		}
	return err;
}

/* The facts a zone's element f makes for its host class hv: the parts of f's key range that no
 * element of hv covers (cov[0..nc), sorted). A range of protocols ("any other") holds there too. */
static int host_facts(struct ww_readback *rb, const struct classes *k, uint32_t hv,
		      const struct ww_rb_fact *f, const struct hcov *cov, size_t nc,
		      const struct entry *ent, size_t ne)
{
	struct hcov key = {hv, f->proto, 0, 0};
	size_t lo = 0, hi = nc;
	unsigned int at = f->lo;
	int err = 0;

	if (f->proto < 0)
		return class_facts(rb, k, hv, f, ent, ne);
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (hcov_cmp(&cov[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < nc && cov[i].v == hv && cov[i].proto == f->proto && !err; i++) {
		if (cov[i].hi < at)
			continue;
		if (cov[i].lo > f->hi)
			break;
		if (cov[i].lo > at) {
			struct ww_rb_fact x = *f;
			x.lo = (uint16_t)at, x.hi = (uint16_t)(cov[i].lo - 1);
			err = class_facts(rb, k, hv, &x, ent, ne);
		}
		at = cov[i].hi + 1u;
	}
	if (!err && at <= f->hi) {
		struct ww_rb_fact x = *f;
		x.lo = (uint16_t)at;
		err = class_facts(rb, k, hv, &x, ent, ne);
	}
	return err;
}

/* The facts of mark-keyed flow map m of source ep: each element over its class's ranges, and a
 * zone's element also over its hosts' ranges where their own elements do not decide. */
static int mark_map_facts(const struct nfr_table *t, const char *ep, const struct nfr_set *m,
			  const struct classes *k, const uint64_t *hosts, size_t nhosts,
			  const struct hcov *cov, size_t nc, struct ww_readback *rb)
{
	const struct nfr_set *cm = counter_map_of(t, m);
	const struct nfr_elem **cnt = by_key(cm);
	struct entry ent[64];
	int err = 0;

	if (cm && cm->nelems && !cnt)
		return -ENOMEM;
	for (size_t i = 0; i < m->nelems && !err; i++) {
		const struct nfr_elem *el = &m->elems[i];
		uint32_t v = (uint32_t)el->lo;
		struct ww_rb_fact f = {.from = ep};
		size_t ne = elem_entries(t, el, cnt, cm ? cm->nelems : 0, ent, ARRAY_SIZE(ent),
					 &rb->unexplained);
		elem_service(m, el, &f);
		if (m->cat.f[1] == NK_ICMP_TYPE || m->cat.f[1] == NK_ICMPV6_TYPE)
			f.dst.family = m->cat.f[1] == NK_ICMP_TYPE ? WW_INET : WW_INET6;
		err = class_facts(rb, k, v, &f, ent, ne);
		for (size_t h = v & k->hmask ? nhosts : host_run(hosts, nhosts, v);
		     h < nhosts && hosts[h] >> 32 == v && !err; h++)
			err = host_facts(rb, k, (uint32_t)hosts[h], &f, cov, nc, ent, ne);
	}
	free(cnt);
	return err;
}

/* Was the map of rule r looked up by an earlier rule of chain c (a host lookup, then a zone
 * lookup of the same map)? */
static bool seen_before(const struct nfr_chain *c, size_t r)
{
	for (size_t i = 0; i < r; i++)
		if (c->rules[i].set && !strcmp(c->rules[i].set, c->rules[r].set))
			return true;
	return false;
}

static int facts_of_source(const struct nfr_table *t, const struct nfr_chain *from,
			   const struct classes *k, const uint64_t *hosts, size_t nhosts,
			   struct ww_readback *rb)
{
	const char *ep = from->name + strlen("from/");
	struct hcov *cov;
	size_t nc;
	int err = host_cover(t, from, k, &cov, &nc);

	for (size_t i = 0; i < from->nrules && !err; i++) {
		const struct nfr_rule *r = &from->rules[i];
		const struct nfr_set *m = r->set && r->vmap && r->cat.n ? nfr_set_find(t, r->set)
									: NULL;
		if (m && m->vmap && m->cat.n == r->cat.n && m->name[0] == 'f' &&
		    r->cat.f[0] == NK_MARK && m->cat.f[0] == NK_MARK) {
			if (!seen_before(from, i))
				err = mark_map_facts(t, ep, m, k, hosts, nhosts, cov, nc, rb);
		} else if (!(r->counter_map && r->cat.n) && !(r->v.kind == NV_GOTO && !r->key)) {
			rb->unexplained++; /* not a counter map, nor the host chain's fallback */
		}
	}
	free(cov);
	return err;
}

const char *ww_rb_mode(const struct ww_readback *rb)
{
	switch (rb->hook) {
	case NH_FORWARD:
		return "gateway";
	case NH_INPUT:
	case NH_OUTPUT:
		return "host";
	case NH_BR_FORWARD:
		return "bridge";
	default:
		return NULL;
	}
}

static int readback(const struct nfr_table *t, bool facts, struct ww_readback *rb)
{
	const struct nfr_chain *cl = nfr_chain_find(t, "classify");
	struct classes k = {0};
	uint64_t *hosts = NULL;
	size_t nhosts = 0;
	int err = 0;

	memset(rb, 0, sizeof(*rb));
	if (facts) {
		err = dest_classes(t, &k);
		hosts = err ? NULL : host_classes(&k, &nhosts);
		if (!err && !hosts)
			err = -ENOMEM;
	}
	for (size_t i = 0; i < t->nchains; i++)
		if (t->chains[i].hook)
			rb->hook = t->chains[i].hook;
	const struct nfr_set *ifs = nfr_set_find(t, "ifaces");
	if (ifs && ifs->nelems) {
		rb->ifaces = calloc(ifs->nelems, sizeof(*rb->ifaces));
		for (size_t i = 0; rb->ifaces && i < ifs->nelems; i++)
			rb->ifaces[rb->nifaces++] = strdup(ifs->elems[i].ifname ? ifs->elems[i].ifname
										  : "");
	}
	/* Zones: the default stage's source maps send every zone address to dz/<zone>. */
	for (size_t i = 0; facts && cl && i < cl->nrules && !err; i++) {
		const struct nfr_rule *r = &cl->rules[i];
		const struct nfr_set *m = r->set ? nfr_set_find(t, r->set) : NULL;
		for (size_t k = 0; m && k < m->nelems && !err; k++) {
			const struct nfr_elem *el = &m->elems[k];
			if (el->v.kind != NV_GOTO || strncmp(el->v.chain, "dz/", 3))
				continue;
			struct ww_rb_zone *z = zone_get(rb, el->v.chain + 3, &err);
			struct ww_rb_range rg = {(uint8_t)family_of(r->key), el->lo, el->hi};
			if (z && VEC_PUSH(z->ranges, z->n, z->cap, rg))
				rb_err(rb, &err);
		}
	}
	for (size_t i = 0; i < t->nchains && !err; i++) {
		const struct nfr_chain *c = &t->chains[i];
		if (!strncmp(c->name, "from/", 5)) {
			err = facts ? facts_of_source(t, c, &k, hosts, nhosts, rb) : 0;
		} else if (!strncmp(c->name, "def/", 4)) {
			struct entry e;
			const char *a = c->name + 4, *slash = strchr(a, '/');
			if (!slash || dec_entries(c, &e, 1, &rb->unexplained) != 1) {
				rb->unexplained++;
				continue;
			}
			struct ww_rb_default d = {.src = strndup(a, (size_t)(slash - a)),
						  .dst = strdup(slash + 1),
						  .verdict = e.verdict,
						  .counter = e.counter};
			if (!d.src || !d.dst || VEC_PUSH(rb->defaults, rb->ndefaults, rb->dcap, d)) {
				free(d.src), free(d.dst);
				rb_err(rb, &err);
			}
		}
	}
	free(k.v);
	free(hosts);
	if (err)
		ww_readback_free(rb);
	return err;
}

int ww_readback(const struct nfr_table *t, struct ww_readback *rb)
{
	return readback(t, true, rb);
}

int ww_readback_defaults(const struct nfr_table *t, struct ww_readback *rb)
{
	return readback(t, false, rb);
}

void ww_readback_free(struct ww_readback *rb)
{
	for (size_t i = 0; i < rb->nzones; i++) {
		free(rb->zones[i].name);
		free(rb->zones[i].ranges);
	}
	free(rb->zones);
	free(rb->facts);
	for (size_t i = 0; i < rb->ndefaults; i++) {
		free(rb->defaults[i].src);
		free(rb->defaults[i].dst);
	}
	free(rb->defaults);
	for (size_t i = 0; i < rb->nifaces; i++)
		free(rb->ifaces[i]);
	free(rb->ifaces);
	memset(rb, 0, sizeof(*rb));
}

const char *ww_rb_zone_of(const struct ww_readback *rb, const struct ww_rb_range *r)
{
	for (size_t i = 0; i < rb->nzones; i++)
		for (size_t k = 0; k < rb->zones[i].n; k++) {
			const struct ww_rb_range *z = &rb->zones[i].ranges[k];
			if (z->family == r->family && z->lo <= r->lo && r->hi <= z->hi)
				return rb->zones[i].name;
		}
	return NULL;
}

size_t ww_rb_zones_overlapping(const struct ww_readback *rb, const struct ww_rb_range *r,
			       const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < rb->nzones; i++)
		for (size_t k = 0; k < rb->zones[i].n; k++) {
			const struct ww_rb_range *z = &rb->zones[i].ranges[k];
			if (z->family == r->family && z->lo <= r->hi && r->lo <= z->hi) {
				if (n < max)
					out[n] = rb->zones[i].name;
				n++;
				break;
			}
		}
	return n;
}
