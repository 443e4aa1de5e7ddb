// SPDX-License-Identifier: GPL-2.0-only
#include "nft_compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decision.h"
#include "nft_bridge.h"

/* A decision chain made for a decision list: the name, and when it logs, the source zone whose
 * budget its log rules spend (the same list from another zone is another chain). */
struct dec_made {
	char *name;
	const struct ww_zone *zone;
	bool logs;
};

struct cctx {
	const struct ww_policy *p;
	struct ww_classes cls;
	struct ww_pairidx ix;
	struct ww_dtable dt;
	struct nfr_table *t;
	struct strset names; /* chains and sets already in t */
	struct dec_made *dec; /* [dlist id] decision chain, made on first use */
	size_t ndec;
	/* The source zone of the chains being built (NULL: no zone): their log rules spend its
	 * log budget, the limit object WW_NFT_LOG_LIMIT of that zone. */
	const struct ww_zone *zsrc;
	bool *budget; /* [zone index + 1, 0: no zone] its limit object is in t */
	/* source_index: destinations of each source endpoint, intervals of each class */
	size_t *adj_start, *iv_start;
	ww_ep_t *adj, *scratch;
	const struct ww_interval **iv_by_cls;
	bool *mark;
	bool *own; /* [flow] names the host group whose source chain is being built */
	/* The service boxes of the source chain being built (class_boxes): those of destination
	 * class cd in family fam are box[cb[cd][fam].at ..+ cb[cd][fam].n). */
	struct dbox *box;
	size_t nbox, boxcap;
	struct cbox {
		size_t at, n;
	} (*cb)[2];
	struct nfr_chain guards; /* the source chain's rules towards catch-all zones */
	bool rejects; /* some decision chain goes to the reject chain */
	bool counts_only; /* ww_compile_nft_counts: no source chains */
	int err;
};

static char *xdup(struct cctx *c, const char *s)
{
	char *r = strdup(s);

	if (!r)
		c->err = -ENOMEM;
	return r;
}

/* prefix then s, malloc'ed (NULL: no memory): printf costs more, a hundred thousand times. */
static char *prefixed(const char *prefix, const char *s)
{
	size_t a = strlen(prefix), b = strlen(s);
	char *r = malloc(a + b + 1);

	if (r) {
		memcpy(r, prefix, a);
		memcpy(r + a, s, b + 1);
	}
	return r;
}

/* "<prefix>-<12 hex digits of the body's sha256>": equal content, equal name. */
static char *content_name(struct cctx *c, const char *prefix, const struct strbuf *body)
{
	char hex[65];
	char *r;

	sha256_hex(sb_str(body), body->len, hex);
	r = xstrdup_printf("%s-%.12s", prefix, hex);
	if (!r)
		c->err = -ENOMEM;
	return r;
}

/* Gives back what a vector's growth reserved beyond its n elements, once it is complete: a
 * chain of one rule holds eight otherwise (25k decision and pair chains at 100k flows). */
static void trim(void *arrp, size_t n, size_t *cap, size_t elem)
{
	void **arr = arrp;
	void *p = n && n < *cap ? realloc(*arr, n * elem) : NULL;

	if (p) {
		*arr = p;
		*cap = n;
	}
}

/* Adds chain ch (taking ownership) unless a chain of that name exists; frees it then. */
static void add_chain(struct cctx *c, struct nfr_chain *ch)
{
	int r = c->err ? 0 : strset_add(&c->names, ch->name);

	if (r < 0)
		c->err = r;
	if (r > 0)
		trim(&ch->rules, ch->nrules, &ch->cap, sizeof(*ch->rules));
	if (r <= 0 || VEC_PUSH(c->t->chains, c->t->nchains, c->t->chcap, *ch)) {
		if (r > 0)
			c->err = -ENOMEM;
		nfr_chain_clear(ch);
	}
	memset(ch, 0, sizeof(*ch));
}

static void add_set(struct cctx *c, struct nfr_set *s)
{
	int r = c->err ? 0 : strset_add(&c->names, s->name);

	if (r < 0)
		c->err = r;
	if (r > 0)
		trim(&s->elems, s->nelems, &s->cap, sizeof(*s->elems));
	if (r <= 0 || VEC_PUSH(c->t->sets, c->t->nsets, c->t->scap, *s)) {
		if (r > 0)
			c->err = -ENOMEM;
		nfr_set_clear(s);
	}
	memset(s, 0, sizeof(*s));
}

static void push_rule(struct cctx *c, struct nfr_chain *ch, struct nfr_rule *r)
{
	if (VEC_PUSH(ch->rules, ch->nrules, ch->cap, *r)) {
		c->err = -ENOMEM;
		nfr_rule_clear(r);
	}
	memset(r, 0, sizeof(*r));
}

static void push_elem(struct cctx *c, struct nfr_set *s, u128 lo, u128 hi, enum nfr_vkind vk,
		      const char *chain)
{
	struct nfr_elem *last = s->nelems ? &s->elems[s->nelems - 1] : NULL;

	/* Adjacent intervals with the same verdict merge, as nft would merge them. */
	if (s->interval && last && last->hi + 1 == lo && last->v.kind == vk &&
	    (!chain || !strcmp(last->v.chain, chain))) {
		last->hi = hi;
		return;
	}
	struct nfr_elem e = {.lo = lo, .hi = hi, .v = {vk, chain ? xdup(c, chain) : NULL}};
	if (VEC_PUSH(s->elems, s->nelems, s->cap, e)) {
		free(e.v.chain);
		c->err = -ENOMEM;
	}
}

/* Names a finished vmap after its content and adds it; returns a malloc'ed copy of its name. */
static const char *finish_map(struct cctx *c, struct nfr_set *s, const char *prefix)
{
	struct strbuf body = {0};

	nfr_set_body(s, &body);
	s->name = content_name(c, prefix, &body);
	sb_free(&body);
	if (!s->name) {
		nfr_set_clear(s);
		return NULL;
	}
	char *keep = xdup(c, s->name);
	add_set(c, s); /* frees s if a set of that name (and so that content) exists */
	return keep;
}

static const char *finish_chain(struct cctx *c, struct nfr_chain *ch, const char *prefix)
{
	struct strbuf body = {0};
	char *keep;

	nfr_chain_body(ch, &body);
	ch->name = content_name(c, prefix, &body);
	sb_free(&body);
	if (!ch->name) {
		nfr_chain_clear(ch);
		return NULL;
	}
	keep = xdup(c, ch->name);
	add_chain(c, ch);
	return keep;
}

/* ---- decision chains ---- */

/* The log budget of the source zone being compiled: its limit object, added on first use. */
static char *log_budget(struct cctx *c)
{
	const struct ww_zone *z = c->zsrc;
	size_t i = z ? (size_t)(z - c->p->zones) + 1 : 0;
	char *name = xstrdup_printf(WW_NFT_LOG_LIMIT_FMT, z ? z->name : "-", c->p->enf.log_rate);

	if (!name || c->budget[i])
		return name;
	/* The rate is in the name: a new rate is a new object, and the rules using it change.
	 * The burst is one second's worth, as in the XDP tier's token buckets. */
	struct nfr_limit lim = {
	    .name = xdup(c, name), .rate = c->p->enf.log_rate, .burst = c->p->enf.log_rate};
	if (!lim.name || VEC_PUSH(c->t->limits, c->t->nlimits, c->t->lcap, lim))
		free(lim.name), c->err = -ENOMEM;
	c->budget[i] = true;
	return name;
}

static void log_stmt(struct cctx *c, struct nfr_rule *r, const char *verdict, const char *counter)
{
	r->limit = log_budget(c);
	r->log_prefix = xstrdup_printf(WW_NFT_LOG_TAG "%s:%s", verdict, counter);
	r->log_group = c->p->enf.log_group;
	if (!r->log_prefix || !r->limit)
		c->err = -ENOMEM;
}

/* Count (and maybe log) then decide; two rules when logging, since a limit stops its rule.
 * vk NV_GOTO: a rejecting deny, to the reject chain. */
static void decide_rules(struct cctx *c, struct nfr_chain *ch, const struct ww_flow *f,
			 const char *counter, const char *verdict, bool log, enum nfr_vkind vk)
{
	struct nfr_rule r = {0};

	if (f && (f->has_from || f->has_until)) {
		r.has_from = f->has_from;
		r.from = f->valid_from;
		r.has_until = f->has_until;
		r.until = f->valid_until;
	}
	r.counter = xdup(c, counter);
	if (log && vk == NV_NONE) {
		log_stmt(c, &r, verdict, counter);
		push_rule(c, ch, &r);
		return;
	}
	if (log) {
		struct nfr_rule v = {.has_from = r.has_from, .from = r.from,
				     .has_until = r.has_until, .until = r.until,
				     .v = {vk, vk == NV_GOTO ? xdup(c, WW_NFT_REJECT_CHAIN) : NULL}};
		log_stmt(c, &r, verdict, counter);
		push_rule(c, ch, &r);
		push_rule(c, ch, &v);
		return;
	}
	r.v.kind = vk;
	if (vk == NV_GOTO)
		r.v.chain = xdup(c, WW_NFT_REJECT_CHAIN);
	push_rule(c, ch, &r);
}

/* The name of flow f's counter, "flow/<id>": the table's first counters are the flows', in
 * policy order, until nfr_table_sort. */
static const char *flow_counter(const struct cctx *c, const struct ww_flow *f)
{
	return c->t->counters[f - c->p->flows].name;
}

static const char *dec_chain(struct cctx *c, uint32_t id)
{
	static const char *const vnames[] = {"deny", "monitor", "allow"};
	const struct ww_dlist *l = &c->dt.v[id];
	struct nfr_chain ch = {0};
	struct dec_made *m = id < c->ndec ? &c->dec[id] : NULL;
	bool logs = false;

	if (m && m->name && (!m->logs || m->zone == c->zsrc))
		return m->name;
	if (id >= c->ndec) {
		/* Geometric growth: the table grows with every new list (it was quadratic). */
		size_t n = c->dt.n > 2 * c->ndec ? c->dt.n : 2 * c->ndec;
		struct dec_made *v = realloc(c->dec, n * sizeof(*v));
		if (!v) {
			c->err = -ENOMEM;
			return NULL;
		}
		memset(v + c->ndec, 0, (n - c->ndec) * sizeof(*v));
		c->dec = v;
		c->ndec = n;
	}
	for (size_t i = 0; i < l->n; i++) {
		const struct ww_flow *f = &c->p->flows[l->v[i].flow];
		enum ww_log lg = ww_flow_log(c->p, f);
		bool allow = l->v[i].rank == WW_RANK_ALLOW;
		const char *counter = flow_counter(c, f);
		/* A monitor entry only counts and logs; evaluation goes on past it. A rejecting
		 * deny counts and logs as a deny, then the reject chain answers. */
		bool reject = l->v[i].rank == WW_RANK_DENY && f->reject;
		bool log = lg == WW_LOG_ALL || (!allow && lg == WW_LOG_DENY);
		logs |= log;
		decide_rules(c, &ch, f, counter, vnames[l->v[i].rank], log,
			     reject			       ? NV_GOTO
			     : l->v[i].rank == WW_RANK_DENY    ? NV_DROP
			     : l->v[i].rank == WW_RANK_MONITOR ? NV_NONE
							       : NV_ACCEPT);
		if (reject)
			c->rejects = true;
	}
	m = &c->dec[id];
	free(m->name);
	*m = (struct dec_made){(char *)finish_chain(c, &ch, "dec"), c->zsrc, logs};
	return m->name;
}

/* The answer of "action": "reject" (nfr.h, WW_NFT_REJECT_CHAIN): the reset or the ICMP error
 * under one shared limit, so that a host flooding what it may not reach gets at most a few
 * answers a second and the rest is dropped. The limit is matched after the protocol, so that
 * a TCP packet over the limit never takes the ICMP rule. */
static void reject_chain(struct cctx *c)
{
	struct nfr_chain ch = {.name = xdup(c, WW_NFT_REJECT_CHAIN)};
	struct nfr_limit lim = {.name = xdup(c, WW_NFT_REJECT_LIMIT), .rate = WW_NFT_REJECT_RATE,
				.burst = WW_NFT_REJECT_BURST};
	struct nfr_rule r[] = {
		{.key = NK_L4PROTO, .lo = 6, .hi = 6, .limit = xdup(c, WW_NFT_REJECT_LIMIT),
		 .v = {NV_REJECT_RST, NULL}},
		{.key = NK_L4PROTO, .lo = 6, .hi = 6, .v = {NV_DROP, NULL}},
		{.limit = xdup(c, WW_NFT_REJECT_LIMIT), .v = {NV_REJECT_ADMIN, NULL}},
		{.v = {NV_DROP, NULL}},
	};

	if (VEC_PUSH(c->t->limits, c->t->nlimits, c->t->lcap, lim))
		free(lim.name), c->err = -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(r); i++)
		push_rule(c, &ch, &r[i]);
	add_chain(c, &ch);
}

/* ---- pair chains (towards catch-all zones) ---- */

/* Up to this many keys a pair chain compares directly; beyond, it looks them up in a map. */
#define INLINE_MAX 8


static enum nfr_key proto_key(int proto)
{
	switch (proto) {
	case WW_PROTO_TCP:
		return NK_TCP_DPORT;
	case WW_PROTO_UDP:
		return NK_UDP_DPORT;
	case WW_PROTO_SCTP:
		return NK_SCTP_DPORT;
	case WW_PROTO_ICMP:
		return NK_ICMP_TYPE;
	case WW_PROTO_ICMPV6:
		return NK_ICMPV6_TYPE;
	default:
		return NK_NONE;
	}
}

/* Emits a key -> decision dispatch: compares when few, else a map. */
static void dispatch(struct cctx *c, struct nfr_chain *ch, enum nfr_key key, const u128 *lo,
		     const u128 *hi, const uint32_t *ids, size_t n, const char *mapprefix)
{
	if (n == 0)
		return;
	if (n <= INLINE_MAX) {
		for (size_t i = 0; i < n; i++) {
			const char *dec = dec_chain(c, ids[i]);
			struct nfr_rule r = {.key = key, .lo = (uint32_t)lo[i], .hi = (uint32_t)hi[i],
					     .v = {NV_GOTO, dec ? xdup(c, dec) : NULL}};
			push_rule(c, ch, &r);
		}
		return;
	}
	bool interval = false;
	for (size_t i = 0; i < n; i++)
		interval |= lo[i] != hi[i];
	struct nfr_set s = {.key = key, .vmap = true, .interval = interval};
	for (size_t i = 0; i < n; i++) {
		const char *dec = dec_chain(c, ids[i]);
		if (dec)
			push_elem(c, &s, lo[i], hi[i], NV_GOTO, dec);
	}
	const char *name = finish_map(c, &s, mapprefix);
	struct nfr_rule r = {.key = key, .set = name ? (char *)name : NULL, .vmap = true};
	push_rule(c, ch, &r);
}

static const char *pair_chain(struct cctx *c, const struct ww_atom *a, size_t n)
{
	u128 *lo = malloc((n + 1) * sizeof(*lo)), *hi = malloc((n + 1) * sizeof(*hi));
	uint32_t *ids = malloc((n + 1) * sizeof(*ids));
	u128 plo[256 + 1], phi[256 + 1];
	uint32_t pids[256 + 1];
	size_t np = 0;
	struct nfr_chain ch = {0};
	const char *name = NULL;

	if (!lo || !hi || !ids) {
		c->err = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < n;) {
		size_t j = i, k = 0;
		int proto = a[i].proto;
		while (j < n && a[j].proto == proto)
			j++;
		if (proto == WW_PROTO_ANY) {
			i = j;
			continue;
		}
		/* A protocol decided alike over its whole key range needs no port. */
		if (j - i == 1 || proto_key(proto) == NK_NONE) {
			if (a[i].dlist != WW_DLIST_NONE) {
				plo[np] = phi[np] = (u128)proto;
				pids[np++] = a[i].dlist;
			}
			i = j;
			continue;
		}
		for (size_t q = i; q < j; q++)
			if (a[q].dlist != WW_DLIST_NONE) {
				lo[k] = a[q].lo;
				hi[k] = a[q].hi;
				ids[k++] = a[q].dlist;
			}
		char prefix[8];
		snprintf(prefix, sizeof(prefix), "p%d", proto);
		dispatch(c, &ch, proto_key(proto), lo, hi, ids, k, prefix);
		i = j;
	}
	dispatch(c, &ch, NK_L4PROTO, plo, phi, pids, np, "proto");
	const struct ww_atom *any = &a[n - 1];
	if (any->proto == WW_PROTO_ANY && any->dlist != WW_DLIST_NONE) {
		const char *dec = dec_chain(c, any->dlist);
		struct nfr_rule r = {.v = {NV_GOTO, dec ? xdup(c, dec) : NULL}};
		push_rule(c, &ch, &r);
	}
	name = finish_chain(c, &ch, "pair");
out:
	free(lo);
	free(hi);
	free(ids);
	return name;
}

/* ---- flow maps ---- */

/*
 * The flows from one source class are elements of its flow maps, keyed on the destination
 * address and the service: FK_PORT `ip daddr . meta l4proto . th dport` (tcp, udp and sctp cut
 * by port), FK_ICMP `ip daddr . icmp type` (ICMP, or ICMPv6 in the IPv6 maps, cut by type) and
 * FK_PROTO `ip daddr . meta l4proto` (whole protocols). A destination's protocol is in exactly
 * one kind, so the elements of a class never overlap, as the kernel's interval sets require.
 */
enum fkind { FK_PORT, FK_ICMP, FK_PROTO, FK_NKINDS };

/* A service box: protocols plo-phi, and for FK_PORT and FK_ICMP the ports or types qlo-qhi. */
struct fbox {
	uint8_t kind, plo, phi;
	uint16_t qlo, qhi;
	uint32_t dlist;
};

/* A service box of a destination class in family fam (0 IPv4, 1 IPv6), and what its element
 * holds (decision_key): equal boxes with equal keys at neighbouring addresses are one element. */
struct dbox {
	uint8_t fam;
	struct fbox b;
	uint64_t dkey;
};

static void push_box(struct cctx *c, struct fbox **v, size_t *n, size_t *cap, struct fbox b)
{
	if (b.dlist != WW_DLIST_NONE && VEC_PUSH(*v, *n, *cap, b))
		c->err = -ENOMEM;
}

/*
 * The atoms of a class pair (ww_atoms_build: per protocol named, its key range cut where the
 * flows differ; then every other protocol) as the service boxes of family fam. A protocol
 * decided alike over its whole key range needs no port: it is a whole-protocol box. ICMP cut
 * by type is an FK_ICMP box in the IPv4 maps only, and ICMPv6 in the IPv6 maps only: the other
 * family's packets never carry it (nft's `icmp type` would match an IPv6 packet whose next
 * header is 1; such packets go to the defaults here).
 */
static size_t service_boxes(struct cctx *c, const struct ww_atom *a, size_t n, int fam,
			    struct fbox **v, size_t *cap)
{
	bool named[256] = {0};
	size_t nb = 0;

	for (size_t i = 0, j; i < n; i = j) {
		int proto = a[i].proto;
		for (j = i; j < n && a[j].proto == proto; j++)
			;
		if (proto == WW_PROTO_ANY)
			break;
		named[proto] = true;
		if (j - i == 1 || !ww_proto_key_max(proto)) {
			push_box(c, v, &nb, cap,
				 (struct fbox){FK_PROTO, proto, proto, 0, 0, a[i].dlist});
			continue;
		}
		if (ww_proto_has_types(proto) && proto != (fam ? WW_PROTO_ICMPV6 : WW_PROTO_ICMP))
			continue;
		for (size_t q = i; q < j; q++)
			push_box(c, v, &nb, cap,
				 (struct fbox){ww_proto_has_ports(proto) ? FK_PORT : FK_ICMP, proto,
					       proto, a[q].lo, a[q].hi, a[q].dlist});
	}
	const struct ww_atom *any = n ? &a[n - 1] : NULL;
	if (any && any->proto == WW_PROTO_ANY)
		for (unsigned int lo = 0, hi; lo < 256; lo = hi + 1) {
			for (; lo < 256 && named[lo]; lo++)
				;
			for (hi = lo; hi + 1 < 256 && !named[hi + 1]; hi++)
				;
			if (lo < 256)
				push_box(c, v, &nb, cap,
					 (struct fbox){FK_PROTO, lo, hi, 0, 0, any->dlist});
		}
	return nb;
}

/* Is a piece of x the same element as one of y at another address: family, box, what the
 * element holds? (Fields, not bytes: padding is not compared.) */
static bool same_element(const struct dbox *x, const struct dbox *y)
{
	return x->fam == y->fam && x->b.kind == y->b.kind && x->b.plo == y->b.plo &&
	       x->b.phi == y->b.phi && x->b.qlo == y->b.qlo && x->b.qhi == y->b.qhi &&
	       x->dkey == y->dkey;
}

static size_t dbox_hash(const struct dbox *x)
{
	uint64_t h = x->dkey ^ ((uint64_t)x->fam << 56 | (uint64_t)x->b.kind << 48 |
				(uint64_t)x->b.plo << 40 | (uint64_t)x->b.phi << 32 |
				(uint64_t)x->b.qlo << 16 | x->b.qhi);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (size_t)h;
}

/* The order of a class's boxes: by kind, then as nft orders a map's elements at one address
 * (nfr_elem_cmp: the protocol, then the port or type), so that the maps are built sorted. */
static int box_cmp(const void *x, const void *y)
{
	const struct fbox *a = x, *b = y;

	if (a->kind != b->kind)
		return a->kind < b->kind ? -1 : 1;
	if (a->plo != b->plo)
		return a->plo < b->plo ? -1 : 1;
	return a->qlo < b->qlo ? -1 : a->qlo > b->qlo;
}

/* The flow of a decision list a map element says by itself (one flow, deny or allow, at all
 * times, not logged, not rejecting), else NULL: the list needs its decision chain. */
static const struct ww_flow *simple_flow(struct cctx *c, uint32_t id)
{
	const struct ww_dlist *l = &c->dt.v[id];
	const struct ww_flow *f = l->n == 1 ? &c->p->flows[l->v[0].flow] : NULL;
	enum ww_log lg = f ? ww_flow_log(c->p, f) : WW_LOG_NONE;

	if (!f || f->has_from || f->has_until || l->v[0].rank == WW_RANK_MONITOR)
		return NULL;
	if (l->v[0].rank == WW_RANK_DENY)
		return f->reject || lg != WW_LOG_NONE ? NULL : f;
	return lg == WW_LOG_ALL ? NULL : f;
}

/*
 * What the element of decision list id holds, as a number: the flow and its verdict for a simple
 * decision, else the decision chain (named after its content: "dec-" and 12 hex digits). Two
 * lists that make the same element get the same key, so their pieces merge.
 */
static uint64_t decision_key(struct cctx *c, uint32_t id)
{
	const struct ww_flow *f = simple_flow(c, id);
	const char *dec;

	if (f)
		return 1ULL << 63 | (uint64_t)c->dt.v[id].v[0].rank << 32 |
		       (uint64_t)(f - c->p->flows);
	dec = dec_chain(c, id);
	return dec ? strtoull(dec + strlen("dec-"), NULL, 16) : 0;
}

/* The maps of one kind and family: verdicts, and the counters of the simple decisions. */
struct fmaps {
	struct nfr_set v, cnt;
};

static const enum nfr_key cat_keys[2][FK_NKINDS][NFR_CAT_MAX] = {
	{{NK_DADDR4, NK_L4PROTO, NK_TH_DPORT}, {NK_DADDR4, NK_ICMP_TYPE}, {NK_DADDR4, NK_L4PROTO}},
	{{NK_DADDR6, NK_L4PROTO, NK_TH_DPORT}, {NK_DADDR6, NK_ICMPV6_TYPE}, {NK_DADDR6, NK_L4PROTO}},
};

static struct nfr_cat cat_of(int fam, int kind)
{
	struct nfr_cat k = {.n = kind == FK_PORT ? 3 : 2};

	memcpy(k.f, cat_keys[fam][kind], sizeof(k.f));
	return k;
}

/* Adds the element of box x at interval iv to maps m; *vi and *ci say where it is in the
 * verdicts and the counters (SIZE_MAX: none). */
static void push_piece(struct cctx *c, struct fmaps *m, const struct ww_interval *iv,
		       const struct dbox *x, size_t *vi, size_t *ci)
{
	struct nfr_elem e = {.lo = iv->lo, .hi = iv->hi};
	const struct ww_flow *f = simple_flow(c, x->b.dlist);

	if (x->b.kind == FK_ICMP) {
		e.clo[0] = x->b.qlo, e.chi[0] = x->b.qhi;
	} else {
		e.clo[0] = x->b.plo, e.chi[0] = x->b.phi;
		e.clo[1] = x->b.qlo, e.chi[1] = x->b.qhi;
	}
	*ci = SIZE_MAX;
	if (f) {
		struct nfr_elem k = e;
		k.obj = xdup(c, flow_counter(c, f));
		*ci = m->cnt.nelems;
		if (!k.obj || VEC_PUSH(m->cnt.elems, m->cnt.nelems, m->cnt.cap, k))
			free(k.obj), c->err = -ENOMEM;
		e.v.kind = c->dt.v[x->b.dlist].v[0].rank == WW_RANK_DENY ? NV_DROP : NV_ACCEPT;
	} else {
		const char *dec = dec_chain(c, x->b.dlist);
		e.v = (struct nfr_verdict){NV_GOTO, dec ? xdup(c, dec) : NULL};
	}
	*vi = m->v.nelems;
	if (VEC_PUSH(m->v.elems, m->v.nelems, m->v.cap, e))
		free(e.v.chain), c->err = -ENOMEM;
}

/* The last element made of a box key, which the piece of the next address range may extend. */
struct run {
	const struct dbox *k; /* NULL: a free slot */
	size_t vi, ci;
};

/*
 * Adds the piece of box x at interval iv: it extends the last element of the same box and key
 * when that ends just before iv (a zone's addresses and its host groups' become one range where
 * the host groups' own flows do not cut them), else it is a new element. Intervals come in
 * address order, so a run's last element is the only one iv can extend.
 */
static void add_piece(struct cctx *c, struct fmaps (*m)[FK_NKINDS], struct run *runs,
		      size_t mask, const struct ww_interval *iv, const struct dbox *x)
{
	struct fmaps *fm = &m[x->fam][x->b.kind];
	size_t i = dbox_hash(x) & mask;

	while (runs[i].k && !same_element(runs[i].k, x))
		i = (i + 1) & mask;
	if (runs[i].k && fm->v.elems[runs[i].vi].hi + 1 == iv->lo) {
		fm->v.elems[runs[i].vi].hi = iv->hi;
		if (runs[i].ci != SIZE_MAX)
			fm->cnt.elems[runs[i].ci].hi = iv->hi;
		return;
	}
	runs[i].k = x;
	push_piece(c, fm, iv, x, &runs[i].vi, &runs[i].ci);
}

/* Adds a finished map under "<prefix><fam>/<class>" with the rule that uses it (a lookup of
 * the verdict, or counting through the object map); an empty map adds nothing. */
static void flow_map_rule(struct cctx *c, struct nfr_chain *ch, struct nfr_set *s,
			  const char *prefix, int fam, const char *cls)
{
	if (!s->nelems) {
		nfr_set_clear(s);
		return;
	}
	struct nfr_rule r = {.cat = s->cat};
	s->name = xstrdup_printf("%s%d/%s", prefix, fam ? 6 : 4, cls);
	if (s->objmap)
		r.counter_map = s->name ? xdup(c, s->name) : NULL;
	else
		r.set = s->name ? xdup(c, s->name) : NULL, r.vmap = true;
	if (!s->name)
		c->err = -ENOMEM;
	add_set(c, s);
	push_rule(c, ch, &r);
}

static int iv_addr_cmp(const void *x, const void *y)
{
	const struct ww_interval *a = *(const struct ww_interval *const *)x;
	const struct ww_interval *b = *(const struct ww_interval *const *)y;

	return a < b ? -1 : a > b; /* the flattened intervals are in address order */
}

/* The address ranges of the destinations dst[0..nd) that have boxes, in address order. */
static const struct ww_interval **dest_intervals(struct cctx *c, const ww_ep_t *dst, size_t nd,
						 size_t *n)
{
	const struct ww_interval **v = NULL;
	size_t cap = 0;

	*n = 0;
	for (size_t k = 0; k < nd && !c->err; k++) {
		ww_ep_t cd = dst[k];
		if (!c->cb[cd][0].n && !c->cb[cd][1].n)
			continue;
		for (size_t i = c->iv_start[cd]; i < c->iv_start[cd + 1]; i++)
			if (VEC_PUSH(v, *n, cap, c->iv_by_cls[i]))
				c->err = -ENOMEM;
	}
	if (*n > 1)
		qsort(v, *n, sizeof(*v), iv_addr_cmp);
	return v;
}

/*
 * The flow maps of the source chain of cls, and their rules in ch: each range of the
 * destinations dst[0..nd) times each box of its class (class_boxes), neighbours merged. The
 * ranges are walked in address order and each class's boxes are in element order, so the maps
 * come out sorted (nfr_table_sort finds nothing to do) with no sort of their elements.
 */
static void flow_maps(struct cctx *c, struct nfr_chain *ch, const char *cls, const ww_ep_t *dst,
		      size_t nd)
{
	static const char *const vp[FK_NKINDS] = {"fp", "fi", "fl"}, *const cp[FK_NKINDS] = {
									   "cp", "ci", "cl"};
	struct fmaps m[2][FK_NKINDS];
	size_t niv, nr = 4;

	while (nr < 2 * c->nbox)
		nr *= 2;
	struct run *runs = calloc(nr, sizeof(*runs));
	const struct ww_interval **iv = dest_intervals(c, dst, nd, &niv);
	if (!runs)
		c->err = -ENOMEM;
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < FK_NKINDS; k++)
			m[f][k] = (struct fmaps){
			    .v = {.cat = cat_of(f, k), .vmap = true, .interval = true},
			    .cnt = {.cat = cat_of(f, k), .objmap = true, .interval = true}};
	for (size_t i = 0; i < niv && !c->err; i++) {
		const struct cbox *b = &c->cb[iv[i]->cls][iv[i]->family != WW_INET];
		for (size_t q = b->at; q < b->at + b->n && !c->err; q++)
			add_piece(c, m, runs, nr - 1, iv[i], &c->box[q]);
	}
	free(iv);
	free(runs);
	for (int f = 0; f < 2; f++)
		for (int k = 0; k < FK_NKINDS; k++) {
			flow_map_rule(c, ch, &m[f][k].cnt, cp[k], f, cls);
			flow_map_rule(c, ch, &m[f][k].v, vp[k], f, cls);
		}
}

/* ---- source chains ---- */

static char *from_name(const struct ww_policy *p, ww_ep_t ep)
{
	char buf[WW_EP_STRLEN];

	return xstrdup_printf("from/%s", ww_ep_name(p, ep, buf));
}

/* Adds class cd to the destinations of the source chain being built, once. */
static void add_dest(struct cctx *c, ww_ep_t cd, ww_ep_t *dst, size_t *n)
{
	if (c->cls.nonempty[cd] && !c->mark[cd]) {
		c->mark[cd] = true;
		dst[(*n)++] = cd;
	}
}

/* Marks (or unmarks) the flows that name host group ep itself towards class cd. */
static void mark_own(struct cctx *c, ww_ep_t ep, ww_ep_t cd, bool on)
{
	const struct ww_policy *p = c->p;
	const struct ww_zone *zd = ww_class_of(p, cd).zone;
	ww_ep_t d[2] = {zd ? zd->ep : 0, cd > p->nzones ? cd : 0};

	for (int k = 0; ep > p->nzones && k < 2; k++) {
		const struct ww_pairlist *l = d[k] ? ww_pairidx_get(&c->ix, ep, d[k]) : NULL;
		for (size_t i = 0; l && i < l->n; i++)
			c->own[l->flows[i]] = on;
	}
}

/*
 * A host group's chain falls back to its zone's, which decides every box no flow of the host
 * group's own is in exactly as the host group's chain would (same flows, same zones): only the
 * boxes with one of its own flows need elements of their own. Keeps those of v[0..n).
 */
static size_t own_boxes(struct cctx *c, struct fbox *v, size_t n)
{
	size_t m = 0;

	for (size_t i = 0; i < n; i++) {
		const struct ww_dlist *l = &c->dt.v[v[i].dlist];
		bool own = false;
		for (size_t k = 0; k < l->n && !own; k++)
			own = c->own[l->v[k].flow];
		if (own)
			v[m++] = v[i];
	}
	return m;
}

/*
 * A zone whose addresses are many ranges once the zones inside it are cut out (the internet
 * zone holds 0.0.0.0/0 and ::/0 minus every other zone) would put each of its flows in the flow
 * maps once per range, and the kernel's concatenated sets cut every range that is not a prefix
 * into prefixes, field by field: a few such zones made most of the maps' size (10k flows: 850k
 * prefixes for 135k elements). Such a zone is reached through a set of its ranges instead.
 */
#define CATCH_ALL_RANGES 8

static bool catch_all(const struct cctx *c, ww_ep_t cd)
{
	return cd <= c->p->nzones && c->iv_start[cd + 1] - c->iv_start[cd] > CATCH_ALL_RANGES;
}

/* The set "in4/<zone>" (or in6) of the ranges of zone class cd, made once; its name. */
static char *zone_ranges_set(struct cctx *c, ww_ep_t cd, int fam)
{
	char *name = xstrdup_printf("in%d/%s", fam ? 6 : 4, ww_class_of(c->p, cd).zone->name);
	struct nfr_set s = {.key = fam ? NK_DADDR6 : NK_DADDR4, .interval = true};

	if (!name || strset_has(&c->names, name))
		return name;
	for (size_t i = c->iv_start[cd]; i < c->iv_start[cd + 1]; i++) {
		const struct ww_interval *iv = c->iv_by_cls[i];
		if ((iv->family == WW_INET) == (fam == 0))
			push_elem(c, &s, iv->lo, iv->hi, NV_NONE, NULL);
	}
	if (!s.nelems) {
		nfr_set_clear(&s);
		free(name);
		return NULL;
	}
	s.name = xdup(c, name);
	add_set(c, &s);
	return name;
}

/* `ip daddr @in4/<zone> goto pair-…` (and ip6) for catch-all class cd: the pair chain holds
 * every flow of the class pair (a host group's own and its zone's: the chain does not fall back). */
static void guard_rules(struct cctx *c, ww_ep_t cd, const struct ww_atom *atoms, size_t na)
{
	const char *pair = pair_chain(c, atoms, na);

	for (int fam = 0; fam < 2 && pair; fam++) {
		char *set = zone_ranges_set(c, cd, fam);
		if (!set)
			continue;
		struct nfr_rule r = {.key = fam ? NK_DADDR6 : NK_DADDR4, .set = set,
				     .v = {NV_GOTO, xdup(c, pair)}};
		push_rule(c, &c->guards, &r);
	}
	free((char *)pair);
}

/* The service boxes of destination class cd for source endpoint ep, appended to c->box (in
 * cb[cd]), with what each one's element holds; or its guard rules when cd is a catch-all zone. */
static void class_boxes(struct cctx *c, ww_ep_t ep, ww_ep_t cd)
{
	const struct ww_policy *p = c->p;
	struct fbox *box = NULL;
	size_t bcap = 0;
	uint32_t *flows;
	struct ww_atom *atoms;
	size_t na;
	long nf = ww_class_pair_flows(p, &c->ix, ep, cd, &flows);

	memset(c->cb[cd], 0, sizeof(c->cb[cd]));
	if (nf <= 0) {
		if (nf < 0)
			c->err = (int)nf;
		return;
	}
	c->err = ww_atoms_build(p, flows, (size_t)nf, c->zsrc, ww_class_of(p, cd).zone, &c->dt,
				&atoms, &na);
	free(flows);
	if (!c->err && catch_all(c, cd)) {
		guard_rules(c, cd, atoms, na);
		free(atoms);
		return;
	}
	mark_own(c, ep, cd, true);
	for (int fam = 0; fam < 2 && !c->err; fam++) {
		size_t nb = service_boxes(c, atoms, na, fam, &box, &bcap);
		nb = ep > p->nzones ? own_boxes(c, box, nb) : nb;
		if (nb > 1)
			qsort(box, nb, sizeof(*box), box_cmp);
		c->cb[cd][fam].at = c->nbox;
		for (size_t b = 0; b < nb && !c->err; b++) {
			struct dbox x = {.fam = fam, .b = box[b], .dkey = decision_key(c, box[b].dlist)};
			if (VEC_PUSH(c->box, c->nbox, c->boxcap, x))
				c->err = -ENOMEM;
		}
		c->cb[cd][fam].n = c->nbox - c->cb[cd][fam].at;
	}
	mark_own(c, ep, cd, false);
	if (!c->err)
		free(atoms);
	free(box);
}

/*
 * The chain for packets from source endpoint ep (a zone, or a host with flows of its own): its
 * flow maps, keyed on the destination and the service, over the destination classes ep's own
 * flows name (a zone: its own addresses and its hosts'; a host: its own). A host's chain covers
 * its own flows and its zone's (the flows of the class pair) and falls back to the zone's chain
 * for other destinations. The work is proportional to ep's destinations, not to the number of
 * zones, and the kernel objects are a fixed number of maps per source class.
 */
static void source_chain(struct cctx *c, ww_ep_t ep, bool zone_chain_exists)
{
	const struct ww_policy *p = c->p;
	const struct ww_zone *zs = ww_ep_zone(p, ep);
	struct nfr_chain ch = {0};
	ww_ep_t *dst = c->scratch;
	size_t nd = 0;
	char buf[WW_EP_STRLEN];

	c->zsrc = zs;
	c->nbox = 0;
	for (size_t i = c->adj_start[ep]; i < c->adj_start[ep + 1]; i++) {
		ww_ep_t d = c->adj[i];
		add_dest(c, d, dst, &nd);
		if (d <= p->nzones)
			for (size_t h = 0; h < p->zones[d - 1].nhosts; h++)
				add_dest(c, p->zones[d - 1].hosts[h].ep, dst, &nd);
	}
	for (size_t k = 0; k < nd; k++) {
		c->mark[dst[k]] = false;
		if (!c->err)
			class_boxes(c, ep, dst[k]);
	}
	ch.name = from_name(p, ep);
	if (!c->err)
		flow_maps(c, &ch, ww_ep_name(p, ep, buf), dst, nd);
	for (size_t i = 0; i < c->guards.nrules; i++)
		push_rule(c, &ch, &c->guards.rules[i]);
	c->guards.nrules = 0;
	if (ep > p->nzones && zone_chain_exists) {
		struct nfr_rule r = {.v = {NV_GOTO, from_name(p, zs->ep)}};
		push_rule(c, &ch, &r);
	}
	if (!ch.name)
		c->err = -ENOMEM;
	add_chain(c, &ch);
}

/* The indexes source_chain walks: each source endpoint's destination endpoints (from the pair
 * index) and each class's intervals. */
static int source_index(struct cctx *c)
{
	size_t ne = ww_nendpoints(c->p) + 2;

	c->adj_start = calloc(ne, sizeof(*c->adj_start));
	c->iv_start = calloc(ne, sizeof(*c->iv_start));
	c->adj = calloc(c->ix.n + 1, sizeof(*c->adj));
	c->iv_by_cls = calloc(c->cls.niv + 1, sizeof(*c->iv_by_cls));
	c->mark = calloc(ne, sizeof(*c->mark));
	c->scratch = calloc(ne, sizeof(*c->scratch));
	c->own = calloc(c->p->nflows + 1, sizeof(*c->own));
	c->cb = calloc(ne, sizeof(*c->cb));
	if (!c->adj_start || !c->iv_start || !c->adj || !c->iv_by_cls || !c->mark || !c->scratch ||
	    !c->own || !c->cb)
		return -ENOMEM;
	/* Counting sort: counts at [x + 1], prefix sums, then fill from [x]. */
	for (size_t i = 0; i < c->ix.cap; i++)
		if (c->ix.v[i].src)
			c->adj_start[c->ix.v[i].src + 1]++;
	for (size_t i = 0; i < c->cls.niv; i++)
		c->iv_start[c->cls.iv[i].cls + 1]++;
	for (size_t e = 1; e < ne; e++) {
		c->adj_start[e] += c->adj_start[e - 1];
		c->iv_start[e] += c->iv_start[e - 1];
	}
	size_t *fa = calloc(ne, sizeof(size_t));
	size_t *fi = fa ? (size_t *)calloc(ne, sizeof(size_t)) : NULL;
	if (!fa || !fi) {
		free(fa);
		return -ENOMEM;
	}
	for (size_t i = 0; i < c->ix.cap; i++)
		if (c->ix.v[i].src) {
			ww_ep_t s = c->ix.v[i].src;
			c->adj[c->adj_start[s] + fa[s]++] = c->ix.v[i].dst;
		}
	for (size_t i = 0; i < c->cls.niv; i++) {
		ww_ep_t k = c->cls.iv[i].cls;
		c->iv_by_cls[c->iv_start[k] + fi[k]++] = &c->cls.iv[i];
	}
	free(fa);
	free(fi);
	return 0;
}

/* ---- classification and defaults ---- */

static char *zname(const struct ww_zone *z)
{
	return z ? z->name : "-";
}

/* The default chain "def/<src>/<dst>" with its counter "default/<src>/<dst>"; src or dst is a
 * zone name, "-" (no zone) or WW_NFT_OTHER (any other zone). kind is the verdict. */
static void default_chain(struct cctx *c, const char *src, const char *dst,
			  enum ww_verdict_kind k)
{
	enum ww_log lg = c->p->defaults.log;
	struct nfr_chain ch = {0};
	char *counter = xstrdup_printf(WW_NFT_DEFAULT_PREFIX "%s/%s", src, dst);
	struct nfr_counter cnt = {.name = counter};

	if (!counter) {
		c->err = -ENOMEM;
		return;
	}
	decide_rules(c, &ch, NULL, counter, ww_verdict_str(k),
		     lg == WW_LOG_ALL || (k != WW_V_ALLOW && lg == WW_LOG_DENY),
		     k == WW_V_DENY ? NV_DROP : NV_ACCEPT);
	ch.name = xstrdup_printf("def/%s/%s", src, dst);
	if (!ch.name)
		c->err = -ENOMEM;
	add_chain(c, &ch);
	if (VEC_PUSH(c->t->counters, c->t->ncounters, c->t->ccap, cnt)) {
		free(counter);
		c->err = -ENOMEM;
	}
}

/* Adds a rule "<key> @<set> goto <chain>" (or "vmap @<set>" when chain is NULL) for a finished
 * set, named after its content; an empty set adds nothing. */
static void set_rule(struct cctx *c, struct nfr_chain *ch, struct nfr_set *s, const char *prefix,
		     const char *chain)
{
	enum nfr_key k = s->key;
	bool vmap = s->vmap;

	if (!s->nelems) {
		nfr_set_clear(s);
		return;
	}
	const char *m = finish_map(c, s, prefix);
	struct nfr_rule r = {.key = k, .set = (char *)m, .vmap = vmap};
	if (chain)
		r.v = (struct nfr_verdict){NV_GOTO, xdup(c, chain)};
	push_rule(c, ch, &r);
}

/*
 * The default stage of source zone zs (NULL: no zone), O(its own address ranges):
 *   dz/<zs>: ip daddr @zn4-… goto def/<zs>/<zs>          (within the zone)
 *            ip daddr @mz4-… goto def/<zs>/_monitor      (to a zone in monitor mode)
 *            goto def/<zs>/_other                          (any other zone, or none)
 * The verdict of a zone pair only depends on whether it is within one zone and on the monitor
 * mode of either zone (ww_default_verdict), so no chain per zone pair is needed; every default
 * is counted per source zone. iv[0..niv) are the intervals of zs; mon[2] the names of the sets
 * of the monitor zones' ranges (NULL: none).
 */
static void zone_default_chain(struct cctx *c, const struct ww_zone *zs,
			       const struct ww_interval *const *iv, size_t niv,
			       const char *const mon[2])
{
	const struct ww_policy *p = c->p;
	struct nfr_chain ch = {0};
	struct ww_class a = {.zone = zs}, none = {0};
	bool within;

	c->zsrc = zs;

	if (zs) {
		struct nfr_set s4 = {.key = NK_DADDR4, .interval = true};
		struct nfr_set s6 = {.key = NK_DADDR6, .interval = true};
		struct ww_class b = {.zone = zs};
		char *in = xstrdup_printf("def/%s/%s", zs->name, zs->name);
		for (size_t i = 0; i < niv && !c->err; i++)
			push_elem(c, iv[i]->family == WW_INET ? &s4 : &s6, iv[i]->lo, iv[i]->hi,
				  NV_NONE, NULL);
		if (in) {
			set_rule(c, &ch, &s4, "zn4", in);
			set_rule(c, &ch, &s6, "zn6", in);
		} else {
			c->err = -ENOMEM;
			nfr_set_clear(&s4), nfr_set_clear(&s6);
		}
		free(in);
		default_chain(c, zs->name, zs->name, ww_default_verdict(p, &a, &b, &within));
	}
	/* Between zones, a zone in monitor mode at either end makes a default deny a monitor:
	 * towards the monitor zones when the source is not in monitor mode itself (a source in
	 * monitor mode monitors all it sends). */
	enum ww_verdict_kind k = ww_default_verdict(p, &a, &none, &within);
	bool tomon = false;
	for (int f = 0; f < 2 && k == WW_V_DENY; f++)
		if (mon[f]) {
			struct nfr_rule r = {.key = f ? NK_DADDR6 : NK_DADDR4, .set = xdup(c, mon[f]),
					     .v = {NV_GOTO, xstrdup_printf("def/%s/" WW_NFT_MONITOR,
									  zname(zs))}};
			push_rule(c, &ch, &r);
			tomon = true;
		}
	if (tomon)
		default_chain(c, zname(zs), WW_NFT_MONITOR, WW_V_MONITOR);
	struct nfr_rule r = {.v = {NV_GOTO, xstrdup_printf("def/%s/" WW_NFT_OTHER, zname(zs))}};
	push_rule(c, &ch, &r);
	default_chain(c, zname(zs), WW_NFT_OTHER, k);
	ch.name = xstrdup_printf("dz/%s", zname(zs));
	if (!ch.name)
		c->err = -ENOMEM;
	add_chain(c, &ch);
}

/* An interval with its zone, ordered by zone then by address (the intervals' own order). */
struct zone_iv {
	const struct ww_zone *zone;
	const struct ww_interval *iv;
};

static int zone_iv_cmp(const void *a, const void *b)
{
	const struct zone_iv *x = a, *y = b;

	if (x->zone != y->zone)
		return x->zone < y->zone ? -1 : 1;
	return x->iv < y->iv ? -1 : x->iv > y->iv;
}

/* The default stage: a chain per zone (and one for no zone), with its defaults within the zone,
 * towards the zones in monitor mode and towards the others. Linear in zones and intervals. */
static void defaults(struct cctx *c)
{
	const struct ww_policy *p = c->p;
	struct nfr_set mon4 = {.key = NK_DADDR4, .interval = true};
	struct nfr_set mon6 = {.key = NK_DADDR6, .interval = true};
	const char *mon[2] = {NULL, NULL};
	struct zone_iv *by = calloc(c->cls.niv + 1, sizeof(*by));
	bool *done = calloc(p->nzones + 1, sizeof(*done));

	if (!by || !done) {
		free(by);
		free(done);
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < c->cls.niv; i++)
		by[i] = (struct zone_iv){ww_class_of(p, c->cls.iv[i].cls).zone, &c->cls.iv[i]};
	for (size_t i = 0; p->defaults.between_zones != WW_ALLOW && i < c->cls.niv && !c->err; i++)
		if (by[i].zone->mode == WW_MONITOR)
			push_elem(c, by[i].iv->family == WW_INET ? &mon4 : &mon6, by[i].iv->lo,
				  by[i].iv->hi, NV_NONE, NULL);
	for (int f = 0; f < 2; f++) {
		struct nfr_set *m = f ? &mon6 : &mon4;
		if (m->nelems)
			mon[f] = finish_map(c, m, f ? "mz6" : "mz4");
		else
			nfr_set_clear(m);
	}
	/* Intervals grouped by zone (stable: address order within a zone). */
	qsort(by, c->cls.niv, sizeof(*by), zone_iv_cmp);
	const struct ww_interval **iv = calloc(c->cls.niv + 1, sizeof(*iv));
	if (!iv)
		c->err = -ENOMEM;
	for (size_t i = 0, j; iv && i < c->cls.niv && !c->err; i = j) {
		for (j = i; j < c->cls.niv && by[j].zone == by[i].zone; j++)
			iv[j - i] = by[j].iv;
		done[by[i].zone - p->zones] = true;
		zone_default_chain(c, by[i].zone, iv, j - i, mon);
	}
	/* Zones without an address of their own still have their defaults. */
	for (size_t z = 0; z < p->nzones && !c->err; z++)
		if (!done[z])
			zone_default_chain(c, &p->zones[z], NULL, 0, mon);
	zone_default_chain(c, NULL, NULL, 0, mon);
	free(iv);
	free(by);
	free(done);
	free((char *)mon[0]);
	free((char *)mon[1]);
}

static void classify_chain(struct cctx *c)
{
	const struct ww_policy *p = c->p;
	size_t ne = ww_nendpoints(p) + 1;
	bool *src = calloc(ne, sizeof(*src));
	struct nfr_set f4 = {.key = NK_SADDR4, .vmap = true, .interval = true};
	struct nfr_set f6 = {.key = NK_SADDR6, .vmap = true, .interval = true};
	struct nfr_set z4 = {.key = NK_SADDR4, .vmap = true, .interval = true};
	struct nfr_set z6 = {.key = NK_SADDR6, .vmap = true, .interval = true};
	struct nfr_chain ch = {.name = xdup(c, "classify")};

	if (!src) {
		c->err = -ENOMEM;
		return;
	}
	/* The endpoints that flows leave from: one pass over the pair index. */
	for (size_t i = 0; i < c->ix.cap; i++)
		if (c->ix.v[i].src)
			src[c->ix.v[i].src] = true;
	for (ww_ep_t ep = 1; ep < ne && !c->err && !c->counts_only; ep++)
		if (src[ep])
			source_chain(c, ep, src[ww_ep_zone(p, ep)->ep]);
	for (size_t i = 0; i < c->cls.niv && !c->err; i++) {
		const struct ww_interval *iv = &c->cls.iv[i];
		const struct ww_zone *z = ww_class_of(p, iv->cls).zone;
		ww_ep_t from = src[iv->cls] ? iv->cls : src[z->ep] ? z->ep : 0;
		char *t;
		if (from) {
			t = from_name(p, from);
			if (t)
				push_elem(c, iv->family == WW_INET ? &f4 : &f6, iv->lo, iv->hi,
					  NV_JUMP, t);
			free(t);
		}
		t = xstrdup_printf("dz/%s", z->name);
		if (t)
			push_elem(c, iv->family == WW_INET ? &z4 : &z6, iv->lo, iv->hi, NV_GOTO, t);
		free(t);
	}
	struct nfr_set *maps[4] = {&f4, &f6, &z4, &z6};
	static const char *const prefixes[4] = {"src4", "src6", "zone4", "zone6"};
	for (int m = 0; m < 4 && !c->err; m++) {
		if (!maps[m]->nelems) {
			nfr_set_clear(maps[m]);
			continue;
		}
		enum nfr_key k = maps[m]->key;
		const char *name = finish_map(c, maps[m], prefixes[m]);
		struct nfr_rule r = {.key = k, .set = (char *)name, .vmap = true};
		push_rule(c, &ch, &r);
	}
	struct nfr_rule r = {.v = {NV_GOTO, xdup(c, "dz/-")}};
	push_rule(c, &ch, &r);
	add_chain(c, &ch);
	defaults(c);
	free(src);
}

static void base_chain(struct cctx *c, const char *name, enum nfr_hook hook)
{
	const struct ww_policy *p = c->p;
	struct nfr_chain ch = {.name = xdup(c, name), .hook = hook};
	struct nfr_rule r = {.ct_state = NFR_CT_ESTABLISHED | NFR_CT_RELATED, .v = {NV_ACCEPT, NULL}};

	push_rule(c, &ch, &r);
	r = (struct nfr_rule){.ct_state = NFR_CT_INVALID, .counter = xdup(c, "ct-invalid"),
			      .v = {NV_DROP, NULL}};
	push_rule(c, &ch, &r);
	if (hook == NH_FORWARD && p->enf.nifaces) {
		r = (struct nfr_rule){.not_ifaces = true, .v = {NV_RETURN, NULL}};
		push_rule(c, &ch, &r);
	}
	if (hook != NH_FORWARD) {
		/* The machine's own loopback and IPv6 neighbour discovery are never filtered. */
		r = (struct nfr_rule){.v = {NV_ACCEPT, NULL}};
		if (hook == NH_INPUT)
			r.iifname = xdup(c, "lo");
		else
			r.oifname = xdup(c, "lo");
		push_rule(c, &ch, &r);
		r = (struct nfr_rule){.key = NK_ICMPV6_TYPE, .set = xdup(c, "nd6"),
				      .v = {NV_ACCEPT, NULL}};
		push_rule(c, &ch, &r);
	}
	r = (struct nfr_rule){.v = {NV_JUMP, xdup(c, "classify")}};
	push_rule(c, &ch, &r);
	add_chain(c, &ch);
}

static int compile(const struct ww_policy *p, bool counts_only, struct nfr_table **out)
{
	struct cctx c = {.p = p, .counts_only = counts_only};
	int err;

	c.t = calloc(1, sizeof(*c.t));
	c.budget = calloc(p->nzones + 1, sizeof(*c.budget));
	if (!c.t || !c.budget) {
		free(c.t);
		free(c.budget);
		return -ENOMEM;
	}
	err = ww_classes_build(p, &c.cls);
	if (!err)
		err = ww_pairidx_build(p, &c.ix);
	if (!err)
		err = source_index(&c);
	if (err)
		goto out;
	c.t->comment = xdup(&c, "managed by wardwall: do not edit, see wardwall plan");
	for (size_t i = 0; i < p->nflows && !c.err; i++) {
		struct nfr_counter cnt = {.name = prefixed(WW_NFT_FLOW_PREFIX, p->flows[i].id)};
		if (!cnt.name || VEC_PUSH(c.t->counters, c.t->ncounters, c.t->ccap, cnt)) {
			free(cnt.name);
			c.err = -ENOMEM;
		}
	}
	struct nfr_counter inv = {.name = xdup(&c, "ct-invalid")};
	if (VEC_PUSH(c.t->counters, c.t->ncounters, c.t->ccap, inv))
		free(inv.name), c.err = -ENOMEM;
	if (p->enf.mode == WW_GATEWAY && p->enf.nifaces) {
		struct nfr_set s = {.name = xdup(&c, "ifaces"), .key = NK_IFNAME};
		for (size_t i = 0; i < p->enf.nifaces; i++) {
			struct nfr_elem e = {.ifname = xdup(&c, p->enf.ifaces[i])};
			if (VEC_PUSH(s.elems, s.nelems, s.cap, e))
				free(e.ifname), c.err = -ENOMEM;
		}
		add_set(&c, &s);
	}
	if (p->enf.mode == WW_HOST) {
		/* router and neighbour solicitation and advertisement */
		struct nfr_set s = {.name = xdup(&c, "nd6"), .key = NK_ICMPV6_TYPE};
		for (unsigned int t = 133; t <= 136; t++) {
			struct nfr_elem e = {.lo = t, .hi = t};
			if (VEC_PUSH(s.elems, s.nelems, s.cap, e))
				c.err = -ENOMEM;
		}
		add_set(&c, &s);
	}
	classify_chain(&c);
	if (p->enf.mode == WW_BRIDGE) {
		if (!c.err)
			c.err = ww_nft_bridge_entry(p, c.t);
	} else if (p->enf.mode == WW_GATEWAY) {
		base_chain(&c, "gw_forward", NH_FORWARD);
	} else {
		base_chain(&c, "host_input", NH_INPUT);
		base_chain(&c, "host_output", NH_OUTPUT);
	}
	if (c.rejects)
		reject_chain(&c);
	err = c.err;
out:
	for (size_t i = 0; i < c.ndec; i++)
		free(c.dec[i].name);
	free(c.dec);
	free(c.budget);
	free(c.adj_start);
	free(c.iv_start);
	free(c.adj);
	free(c.scratch);
	free(c.iv_by_cls);
	free(c.mark);
	free(c.own);
	free(c.box);
	free(c.cb);
	nfr_chain_clear(&c.guards);
	strset_free(&c.names);
	ww_dtable_free(&c.dt);
	ww_pairidx_free(&c.ix);
	ww_classes_free(&c.cls);
	if (err) {
		nfr_table_free(c.t);
		return err;
	}
	nfr_table_sort(c.t);
	*out = c.t;
	return 0;
}

int ww_compile_nft(const struct ww_policy *p, struct nfr_table **out)
{
	return compile(p, false, out);
}

int ww_compile_nft_counts(const struct ww_policy *p, struct nfr_table **out)
{
	return compile(p, true, out);
}
