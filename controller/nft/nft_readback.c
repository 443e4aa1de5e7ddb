// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inverse of nft_compile.c: walks classify -> from/<source> -> its flow maps (and the dec-*
 * chains they go to) and def/<zone>/<zone>, turning map elements and rules back into facts.
 */
#include "nft_readback.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

struct svc {
	int proto;
	uint16_t lo, hi;
	const char *dec;
};

static int key_proto(enum nfr_key k)
{
	switch (k) {
	case NK_TCP_DPORT:
		return WW_PROTO_TCP;
	case NK_UDP_DPORT:
		return WW_PROTO_UDP;
	case NK_SCTP_DPORT:
		return WW_PROTO_SCTP;
	case NK_ICMP_TYPE:
		return WW_PROTO_ICMP;
	case NK_ICMPV6_TYPE:
		return WW_PROTO_ICMPV6;
	default:
		return -2;
	}
}

/* A pair chain as (protocol, key range, decision chain) pieces. */
static size_t pair_pieces(const struct nfr_table *t, const struct nfr_chain *c, struct svc **out,
			  size_t *unexplained)
{
	struct svc *v = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < c->nrules; i++) {
		const struct nfr_rule *r = &c->rules[i];
		int proto = key_proto(r->key);
		if (r->key == NK_L4PROTO && !r->set && r->v.kind == NV_GOTO) {
			struct svc s = {(int)r->lo, 0, (uint16_t)ww_proto_key_max((int)r->lo),
					r->v.chain};
			if (VEC_PUSH(v, n, cap, s))
				break;
		} else if (r->key == NK_L4PROTO && r->set && r->vmap) {
			const struct nfr_set *s = nfr_set_find(t, r->set);
			for (size_t k = 0; s && k < s->nelems; k++)
				for (u128 pr = s->elems[k].lo; pr <= s->elems[k].hi; pr++) {
					struct svc x = {(int)pr, 0, (uint16_t)ww_proto_key_max((int)pr),
							s->elems[k].v.chain};
					if (VEC_PUSH(v, n, cap, x))
						break;
				}
		} else if (proto >= 0 && !r->set && r->v.kind == NV_GOTO) {
			struct svc s = {proto, (uint16_t)r->lo, (uint16_t)r->hi, r->v.chain};
			if (VEC_PUSH(v, n, cap, s))
				break;
		} else if (proto >= 0 && r->set && r->vmap) {
			const struct nfr_set *s = nfr_set_find(t, r->set);
			for (size_t k = 0; s && k < s->nelems; k++) {
				struct svc x = {proto, (uint16_t)s->elems[k].lo, (uint16_t)s->elems[k].hi,
						s->elems[k].v.chain};
				if (VEC_PUSH(v, n, cap, x))
					break;
			}
		} else if (!r->key && r->v.kind == NV_GOTO) {
			struct svc s = {-1, 0, 0, r->v.chain};
			if (VEC_PUSH(v, n, cap, s))
				break;
		} else {
			(*unexplained)++;
		}
	}
	*out = v;
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

/* The facts of flow map m (its counters in the object map named "c" + m's name after the 'f'). */
static int flow_map_facts(const struct nfr_table *t, const char *ep, const struct nfr_set *m,
			  struct ww_readback *rb)
{
	char *cname = strdup(m->name);
	const struct nfr_set *cm = NULL;
	const struct nfr_elem **cnt;
	struct entry ent[64];
	int err = 0;

	if (!cname)
		return -ENOMEM;
	cname[0] = 'c';
	cm = nfr_set_find(t, cname);
	free(cname);
	cnt = by_key(cm);
	if (cm && cm->nelems && !cnt)
		return -ENOMEM;
	for (size_t k = 0; k < m->nelems && !err; k++) {
		const struct nfr_elem *el = &m->elems[k];
		size_t ne = elem_entries(t, el, cnt, cm ? cm->nelems : 0, ent, ARRAY_SIZE(ent),
					 &rb->unexplained);
		for (size_t e = 0; e < ne && !err; e++) {
			struct ww_rb_fact f = {
				.from = ep,
				.dst = {(uint8_t)family_of(m->cat.f[0]), el->lo, el->hi},
				.counter = ent[e].counter,
				.verdict = ent[e].verdict,
				.has_from = ent[e].has_from,
				.has_until = ent[e].has_until,
				.valid_from = ent[e].from,
				.valid_until = ent[e].until};
			elem_service(m, el, &f);
			err = push_fact(rb, &f);
		}
	}
	free(cnt);
	return err;
}

/* The facts of `ip daddr @in4/<zone> goto pair-…` (nft_compile.c: guard_rules): every range of
 * the set times every piece of the pair chain and entry of its decision chain. */
static int guard_facts(const struct nfr_table *t, const char *ep, const struct nfr_rule *r,
		       struct ww_readback *rb)
{
	const struct nfr_set *s = nfr_set_find(t, r->set);
	const struct nfr_chain *pc = nfr_chain_find(t, r->v.chain);
	struct svc *pieces = NULL;
	struct entry ent[64];
	size_t np;
	int err = 0;

	if (!s || !pc) {
		rb->unexplained++;
		return 0;
	}
	np = pair_pieces(t, pc, &pieces, &rb->unexplained);
	for (size_t k = 0; k < s->nelems && !err; k++)
		for (size_t q = 0; q < np && !err; q++) {
			const struct nfr_chain *dc =
				pieces[q].dec ? nfr_chain_find(t, pieces[q].dec) : NULL;
			size_t ne = dc ? dec_entries(dc, ent, ARRAY_SIZE(ent), &rb->unexplained) : 0;
			rb->unexplained += !dc;
			for (size_t e = 0; e < ne && !err; e++) {
				struct ww_rb_fact f = {
					.from = ep,
					.dst = {(uint8_t)family_of(r->key), s->elems[k].lo, s->elems[k].hi},
					.proto = pieces[q].proto,
					.lo = pieces[q].lo,
					.hi = pieces[q].hi,
					.counter = ent[e].counter,
					.verdict = ent[e].verdict,
					.has_from = ent[e].has_from,
					.has_until = ent[e].has_until,
					.valid_from = ent[e].from,
					.valid_until = ent[e].until};
				err = push_fact(rb, &f);
			}
		}
	free(pieces);
	return err;
}

static int facts_of_source(const struct nfr_table *t, const struct nfr_chain *from,
			   struct ww_readback *rb)
{
	const char *ep = from->name + strlen("from/");
	int err = 0;

	for (size_t i = 0; i < from->nrules && !err; i++) {
		const struct nfr_rule *r = &from->rules[i];
		const struct nfr_set *m = r->set && r->vmap && r->cat.n ? nfr_set_find(t, r->set)
									: NULL;
		if (m && m->vmap && m->cat.n == r->cat.n && m->name[0] == 'f')
			err = flow_map_facts(t, ep, m, rb);
		else if ((r->key == NK_DADDR4 || r->key == NK_DADDR6) && r->set && !r->vmap &&
			 r->v.kind == NV_GOTO)
			err = guard_facts(t, ep, r, rb);
		else if (!(r->counter_map && r->cat.n) && !(r->v.kind == NV_GOTO && !r->key))
			rb->unexplained++; /* not a counter map, nor the host chain's fallback */
	}
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
	int err = 0;

	memset(rb, 0, sizeof(*rb));
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
			err = facts ? facts_of_source(t, c, rb) : 0;
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
