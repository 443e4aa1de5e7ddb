// SPDX-License-Identifier: GPL-2.0-only
/*
 * The inverse of nft_compile.c: walks classify -> from/<source> -> pair-* -> dec-* and
 * def/<zone>/<zone>, turning map elements and rules back into facts.
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

static int facts_of_source(const struct nfr_table *t, const struct nfr_chain *from,
			   struct ww_readback *rb)
{
	const char *ep = from->name + strlen("from/");
	struct entry ent[64];
	int err = 0;

	for (size_t i = 0; i < from->nrules && !err; i++) {
		const struct nfr_rule *r = &from->rules[i];
		if (r->key != NK_DADDR4 && r->key != NK_DADDR6) {
			if (!(r->v.kind == NV_GOTO && !r->key)) /* the host chain's fallback */
				rb->unexplained++;
			continue;
		}
		const struct nfr_set *m = r->set ? nfr_set_find(t, r->set) : NULL;
		for (size_t k = 0; m && k < m->nelems && !err; k++) {
			const struct nfr_elem *el = &m->elems[k];
			const struct nfr_chain *pc = el->v.chain ? nfr_chain_find(t, el->v.chain) : NULL;
			struct svc *pieces = NULL;
			if (!pc) {
				rb->unexplained++;
				continue;
			}
			size_t np = pair_pieces(t, pc, &pieces, &rb->unexplained);
			for (size_t q = 0; q < np && !err; q++) {
				const struct nfr_chain *dc =
					pieces[q].dec ? nfr_chain_find(t, pieces[q].dec) : NULL;
				if (!dc) {
					rb->unexplained++;
					continue;
				}
				size_t ne = dec_entries(dc, ent, ARRAY_SIZE(ent), &rb->unexplained);
				for (size_t e = 0; e < ne && !err; e++) {
					struct ww_rb_fact f = {
						.from = ep,
						.dst = {(uint8_t)family_of(r->key), el->lo, el->hi},
						.proto = pieces[q].proto,
						.lo = pieces[q].lo,
						.hi = pieces[q].hi,
						.counter = ent[e].counter,
						.verdict = ent[e].verdict,
						.has_from = ent[e].has_from,
						.has_until = ent[e].has_until,
						.valid_from = ent[e].from,
						.valid_until = ent[e].until};
					if (VEC_PUSH(rb->facts, rb->nfacts, rb->fcap, f))
						rb_err(rb, &err);
				}
			}
			free(pieces);
		}
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
