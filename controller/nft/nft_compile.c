// SPDX-License-Identifier: GPL-2.0-only
#include "nft_compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classmark.h"
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
	/* source_index: destinations of each source endpoint */
	size_t *adj_start;
	ww_ep_t *adj, *scratch;
	bool *mark;
	bool *own;     /* [flow] names the host whose source chain is being built */
	bool *dst_own; /* [flow] names the destination host whose boxes are being built */
	bool *dest;    /* [ep] a host some flow names as its destination: a class of its own */
	/* The mark's class bits (enforcement.mark_bits): the zone field and the host field. */
	uint32_t zmask, hmask;
	/* The service boxes of the source chain being built (class_boxes): those of destination
	 * class cd are box[cb[cd].at ..+ cb[cd].n). */
	struct fbox *box;
	size_t nbox, boxcap;
	struct cbox {
		size_t at, n;
	} *cb;
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

/* ---- flow maps ---- */

/*
 * The flows from one source class are elements of its flow maps, keyed on the class of the
 * destination, which the classify chain writes into the mark's class bits (class_mark), and on
 * the service: FK_PORT `meta mark & M . meta l4proto . th dport` (tcp, udp and sctp cut by
 * port), FK_ICMP4 `meta mark & M . icmp type` and FK_ICMP6 `meta mark & M . icmpv6 type` (cut by
 * type) and FK_PROTO `meta mark & M . meta l4proto` (whole protocols). A protocol is in exactly
 * one kind for a class, so the elements never overlap, as the kernel's interval sets require.
 * A flow is one element per service box, whatever its destination's address ranges and
 * families: the kernel's cost of loading a map grows with its elements.
 */
enum fkind { FK_PORT, FK_ICMP4, FK_ICMP6, FK_PROTO, FK_NKINDS };

/* A service box: protocols plo-phi, and for FK_PORT and the ICMP kinds the ports or types
 * qlo-qhi. */
struct fbox {
	uint8_t kind, plo, phi;
	uint16_t qlo, qhi;
	uint32_t dlist;
};

/*
 * The value of destination class cd in the mark's class bits: its zone's number in the zone
 * field (the policy's order, from 1; 0 is no class) and, for a host, its number in its zone
 * (from 1) in the host field. A host no flow names as its destination is classified as its
 * zone (classify_dest).
 */
static uint32_t class_mark(const struct cctx *c, ww_ep_t cd)
{
	return ww_mark_ep(c->p, c->zmask | c->hmask, cd);
}

static void push_box(struct cctx *c, struct fbox **v, size_t *n, size_t *cap, struct fbox b)
{
	if (b.dlist != WW_DLIST_NONE && VEC_PUSH(*v, *n, *cap, b))
		c->err = -ENOMEM;
}

/*
 * The atoms of a class pair (ww_atoms_build: per protocol named, its key range cut where the
 * flows differ; then every other protocol) as service boxes. A protocol decided alike over its
 * whole key range needs no port: it is a whole-protocol box. ICMP cut by type is keyed on `icmp
 * type` (IPv4 packets only) and ICMPv6 on `icmpv6 type` (IPv6 only): nft's `icmp type` alone
 * would match an IPv6 packet whose next header is 1.
 */
static size_t service_boxes(struct cctx *c, const struct ww_atom *a, size_t n, struct fbox **v,
			    size_t *cap)
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
		uint8_t kind = ww_proto_has_ports(proto)   ? FK_PORT
			       : proto == WW_PROTO_ICMP ? FK_ICMP4
							: FK_ICMP6;
		for (size_t q = i; q < j; q++)
			push_box(c, v, &nb, cap,
				 (struct fbox){kind, proto, proto, a[q].lo, a[q].hi, a[q].dlist});
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

/* The order of a class's boxes: by kind, then as nft orders a map's elements of one class
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

/* The maps of one kind: verdicts, and the counters of the simple decisions; whether they hold
 * elements of host classes and of zone classes (which rules look them up). */
struct fmaps {
	struct nfr_set v, cnt;
	bool host, zone;
};

static const enum nfr_key cat_keys[FK_NKINDS][NFR_CAT_MAX] = {
	{NK_MARK, NK_L4PROTO, NK_TH_DPORT},
	{NK_MARK, NK_ICMP_TYPE},
	{NK_MARK, NK_ICMPV6_TYPE},
	{NK_MARK, NK_L4PROTO},
};

static struct nfr_cat cat_of(int kind)
{
	struct nfr_cat k = {.n = kind == FK_PORT ? 3 : 2};

	memcpy(k.f, cat_keys[kind], sizeof(k.f));
	return k;
}

/* Adds the element of box b for the destination class of mark value cv to maps m. */
static void push_piece(struct cctx *c, struct fmaps *m, uint32_t cv, const struct fbox *b)
{
	struct nfr_elem e = {.lo = cv, .hi = cv};
	const struct ww_flow *f = simple_flow(c, b->dlist);

	if (b->kind == FK_ICMP4 || b->kind == FK_ICMP6) {
		e.clo[0] = b->qlo, e.chi[0] = b->qhi;
	} else {
		e.clo[0] = b->plo, e.chi[0] = b->phi;
		e.clo[1] = b->qlo, e.chi[1] = b->qhi;
	}
	if (f) {
		struct nfr_elem k = e;
		k.obj = xdup(c, flow_counter(c, f));
		if (!k.obj || VEC_PUSH(m->cnt.elems, m->cnt.nelems, m->cnt.cap, k))
			free(k.obj), c->err = -ENOMEM;
		e.v.kind = c->dt.v[b->dlist].v[0].rank == WW_RANK_DENY ? NV_DROP : NV_ACCEPT;
	} else {
		const char *dec = dec_chain(c, b->dlist);
		e.v = (struct nfr_verdict){NV_GOTO, dec ? xdup(c, dec) : NULL};
	}
	if (VEC_PUSH(m->v.elems, m->v.nelems, m->v.cap, e))
		free(e.v.chain), c->err = -ENOMEM;
	if (cv & c->hmask)
		m->host = true;
	else
		m->zone = true;
}

/* Adds the finished maps m of kind k as "<prefix>/<class>" (none when empty); *vn and *cn get
 * the names of the verdicts' and the counters' (NULL: none). */
static void add_flow_maps(struct cctx *c, struct fmaps *m, int kind, const char *cls, char **vn,
			  char **cn)
{
	static const char *const vp[FK_NKINDS] = {"fp", "fi4", "fi6", "fl"};
	static const char *const cp[FK_NKINDS] = {"cp", "ci4", "ci6", "cl"};

	*vn = *cn = NULL;
	if (!m->v.nelems) {
		nfr_set_clear(&m->v);
		nfr_set_clear(&m->cnt);
		return;
	}
	*vn = xstrdup_printf("%s/%s", vp[kind], cls);
	m->v.name = *vn ? xdup(c, *vn) : NULL;
	if (m->cnt.nelems) {
		*cn = xstrdup_printf("%s/%s", cp[kind], cls);
		m->cnt.name = *cn ? xdup(c, *cn) : NULL;
		if (!*cn)
			c->err = -ENOMEM;
		add_set(c, &m->cnt);
	} else {
		nfr_set_clear(&m->cnt);
	}
	if (!*vn)
		c->err = -ENOMEM;
	add_set(c, &m->v);
}

/*
 * Adds the flow maps m[] and the rules that look them up: every kind by the host and zone fields
 * first (a packet to a host that flows name as their destination: its elements hold every flow
 * of its boxes, its zone's included), then every kind by the zone field alone (the zone's
 * elements, for any address of the zone). A host's protocol may be in another kind than its
 * zone's (cut by port for one, whole for the other): no zone lookup comes before a host lookup.
 * A packet to a zone's own address has no host field: the first lookups find the zone's
 * elements. Each lookup counts through the object map, then decides.
 */
static void flow_map_rules(struct cctx *c, struct nfr_chain *ch, struct fmaps *m, const char *cls)
{
	char *vn[FK_NKINDS], *cn[FK_NKINDS];

	for (int k = 0; k < FK_NKINDS; k++)
		add_flow_maps(c, &m[k], k, cls, &vn[k], &cn[k]);
	for (int lvl = 0; lvl < 2; lvl++)
		for (int k = 0; k < FK_NKINDS; k++) {
			struct nfr_cat key = cat_of(k);
			if (!vn[k] || !(lvl ? m[k].zone : m[k].host))
				continue;
			key.mark_mask = lvl ? c->zmask : c->zmask | c->hmask;
			if (cn[k]) {
				struct nfr_rule r = {.cat = key, .counter_map = xdup(c, cn[k])};
				push_rule(c, ch, &r);
			}
			struct nfr_rule r = {.cat = key, .set = xdup(c, vn[k]), .vmap = true};
			push_rule(c, ch, &r);
		}
	for (int k = 0; k < FK_NKINDS; k++)
		free(vn[k]), free(cn[k]);
}

/* A destination class with its value in the mark. */
struct dest {
	uint32_t cv;
	ww_ep_t cd;
};

static int dest_cmp(const void *x, const void *y)
{
	const struct dest *a = x, *b = y;

	return a->cv < b->cv ? -1 : a->cv > b->cv;
}

/*
 * The flow maps of the source chain of cls, and their rules in ch: each destination class of
 * dst[0..nd) times each of its boxes (class_boxes). The classes are walked in the order of their
 * mark values and each class's boxes are in element order, so the maps come out sorted.
 */
static void flow_maps(struct cctx *c, struct nfr_chain *ch, const char *cls, const ww_ep_t *dst,
		      size_t nd)
{
	struct fmaps m[FK_NKINDS];
	struct dest *d = calloc(nd + 1, sizeof(*d));
	size_t n = 0;

	if (!d) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t k = 0; k < nd; k++)
		if (c->cb[dst[k]].n)
			d[n++] = (struct dest){class_mark(c, dst[k]), dst[k]};
	qsort(d, n, sizeof(*d), dest_cmp);
	for (int k = 0; k < FK_NKINDS; k++)
		m[k] = (struct fmaps){.v = {.cat = cat_of(k), .vmap = true, .interval = true},
				      .cnt = {.cat = cat_of(k), .objmap = true, .interval = true}};
	for (size_t i = 0; i < n && !c->err; i++) {
		const struct cbox *b = &c->cb[d[i].cd];
		for (size_t q = b->at; q < b->at + b->n && !c->err; q++)
			push_piece(c, &m[c->box[q].kind], d[i].cv, &c->box[q]);
	}
	free(d);
	flow_map_rules(c, ch, m, cls);
}

/* ---- source chains ---- */

static char *from_name(const struct ww_policy *p, ww_ep_t ep)
{
	char buf[WW_EP_STRLEN];

	return xstrdup_printf("from/%s", ww_ep_name(p, ep, buf));
}

/* Adds class cd to the destinations of the source chain being built, once. A zone is one even
 * when its host groups hold all its addresses: their classes fall back to the zone's. */
static void add_dest(struct cctx *c, ww_ep_t cd, ww_ep_t *dst, size_t *n)
{
	if ((cd <= c->p->nzones || c->cls.nonempty[cd]) && !c->mark[cd]) {
		c->mark[cd] = true;
		dst[(*n)++] = cd;
	}
}

/* Marks (or unmarks) in flag[] the flows of the pair index from a to b (none when either is 0). */
static void mark_pair(struct cctx *c, bool *flag, ww_ep_t a, ww_ep_t b, bool on)
{
	const struct ww_pairlist *l = a && b ? ww_pairidx_get(&c->ix, a, b) : NULL;

	for (size_t i = 0; l && i < l->n; i++)
		flag[l->flows[i]] = on;
}

/* Marks (or unmarks) the flows that name source host ep itself (towards class cd or its zone),
 * and those that name destination host cd itself (from ep or its zone). */
static void mark_named(struct cctx *c, ww_ep_t ep, ww_ep_t cd, bool on)
{
	const struct ww_policy *p = c->p;
	const struct ww_zone *zd = ww_class_of(p, cd).zone, *zs = ww_ep_zone(p, ep);

	if (ep > p->nzones) {
		mark_pair(c, c->own, ep, zd ? zd->ep : 0, on);
		mark_pair(c, c->own, ep, cd > p->nzones ? cd : 0, on);
	}
	if (cd > p->nzones) {
		mark_pair(c, c->dst_own, ep, cd, on);
		mark_pair(c, c->dst_own, ep > p->nzones && zs ? zs->ep : 0, cd, on);
	}
}

/*
 * A host's source chain falls back to its zone's, and a host's class to its zone's (the lookups
 * by the zone field), which decide every box no flow naming the host is in exactly as the
 * host's elements would (same flows, same zones). So a box needs an element of its own only
 * when a flow of its list names the destination host (a host class), and in a host's chain
 * when one names the source host too, or when the host has flows of its own towards the
 * destination's zone or host (own_dst): then its chain's zone lookups hold that host's own
 * flows, which are not the whole list at the destination host, and only the host lookup can
 * say the list (a deny towards the destination host from the source's zone cuts a monitor of
 * the source host towards the destination's zone). Keeps those of v[0..n).
 */
static size_t own_boxes(struct cctx *c, struct fbox *v, size_t n, bool src_host, bool dst_host,
			bool own_dst)
{
	size_t m = 0;

	if (!src_host && !dst_host)
		return n;
	for (size_t i = 0; i < n; i++) {
		const struct ww_dlist *l = &c->dt.v[v[i].dlist];
		bool s = !src_host || (dst_host && own_dst), d = !dst_host;
		for (size_t k = 0; k < l->n && !(s && d); k++) {
			s |= c->own[l->v[k].flow];
			d |= c->dst_own[l->v[k].flow];
		}
		if (s && d)
			v[m++] = v[i];
	}
	return m;
}

/* The service boxes of destination class cd for source endpoint ep, appended to c->box (in
 * cb[cd]). */
static void class_boxes(struct cctx *c, ww_ep_t ep, ww_ep_t cd)
{
	const struct ww_policy *p = c->p;
	struct fbox *box = NULL;
	size_t bcap = 0, nb;
	uint32_t *flows;
	struct ww_atom *atoms;
	size_t na;
	long nf = ww_class_pair_flows(p, &c->ix, ep, cd, &flows);
	const struct ww_zone *zd = ww_class_of(p, cd).zone;

	c->cb[cd] = (struct cbox){0};
	if (nf <= 0) {
		if (nf < 0)
			c->err = (int)nf;
		return;
	}
	c->err = ww_atoms_build(p, flows, (size_t)nf, c->zsrc, zd, &c->dt, &atoms, &na);
	free(flows);
	if (c->err)
		return;
	mark_named(c, ep, cd, true);
	nb = service_boxes(c, atoms, na, &box, &bcap);
	bool own_dst = ep > p->nzones && cd > p->nzones &&
		       ((zd && ww_pairidx_get(&c->ix, ep, zd->ep)) || ww_pairidx_get(&c->ix, ep, cd));
	nb = own_boxes(c, box, nb, ep > p->nzones, cd > p->nzones, own_dst);
	mark_named(c, ep, cd, false);
	if (nb > 1)
		qsort(box, nb, sizeof(*box), box_cmp);
	c->cb[cd].at = c->nbox;
	for (size_t b = 0; b < nb && !c->err; b++)
		if (VEC_PUSH(c->box, c->nbox, c->boxcap, box[b]))
			c->err = -ENOMEM;
	c->cb[cd].n = c->nbox - c->cb[cd].at;
	free(atoms);
	free(box);
}

/*
 * The chain for packets from source endpoint ep (a zone, or a host with flows of its own): its
 * flow maps, keyed on the destination's class and the service, over the classes ep's flows name
 * (and for a host, the hosts its zone's flows name: their elements may need its own flows too).
 * A host's chain covers its own flows and its zone's (the flows of the class pair) and falls
 * back to the zone's chain for the rest. The work is proportional to ep's destinations, not to
 * the number of zones, and the kernel objects are a fixed number of maps per source class.
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
	for (size_t i = c->adj_start[ep]; i < c->adj_start[ep + 1]; i++)
		add_dest(c, c->adj[i], dst, &nd);
	for (size_t i = c->adj_start[zs->ep];
	     ep > p->nzones && i < c->adj_start[zs->ep + 1]; i++)
		if (c->adj[i] > p->nzones)
			add_dest(c, c->adj[i], dst, &nd);
	for (size_t k = 0; k < nd; k++) {
		c->mark[dst[k]] = false;
		if (!c->err)
			class_boxes(c, ep, dst[k]);
	}
	ch.name = from_name(p, ep);
	if (!c->err)
		flow_maps(c, &ch, ww_ep_name(p, ep, buf), dst, nd);
	if (ep > p->nzones && zone_chain_exists) {
		struct nfr_rule r = {.v = {NV_GOTO, from_name(p, zs->ep)}};
		push_rule(c, &ch, &r);
	}
	if (!ch.name)
		c->err = -ENOMEM;
	add_chain(c, &ch);
}

/* The indexes source_chain walks: each source endpoint's destination endpoints (from the pair
 * index), and the hosts that flows name as their destination. */
static int source_index(struct cctx *c)
{
	size_t ne = ww_nendpoints(c->p) + 2;

	c->adj_start = calloc(ne, sizeof(*c->adj_start));
	c->adj = calloc(c->ix.n + 1, sizeof(*c->adj));
	c->mark = calloc(ne, sizeof(*c->mark));
	c->dest = calloc(ne, sizeof(*c->dest));
	c->scratch = calloc(ne, sizeof(*c->scratch));
	c->own = calloc(c->p->nflows + 1, sizeof(*c->own));
	c->dst_own = calloc(c->p->nflows + 1, sizeof(*c->dst_own));
	c->cb = calloc(ne, sizeof(*c->cb));
	if (!c->adj_start || !c->adj || !c->mark || !c->dest || !c->scratch || !c->own ||
	    !c->dst_own || !c->cb)
		return -ENOMEM;
	/* Counting sort: counts at [x + 1], prefix sums, then fill from [x]. */
	for (size_t i = 0; i < c->ix.cap; i++)
		if (c->ix.v[i].src) {
			c->adj_start[c->ix.v[i].src + 1]++;
			c->dest[c->ix.v[i].dst] = c->ix.v[i].dst > c->p->nzones;
		}
	for (size_t e = 1; e < ne; e++)
		c->adj_start[e] += c->adj_start[e - 1];
	size_t *fa = calloc(ne, sizeof(size_t));
	if (!fa)
		return -ENOMEM;
	for (size_t i = 0; i < c->ix.cap; i++)
		if (c->ix.v[i].src) {
			ww_ep_t s = c->ix.v[i].src;
			c->adj[c->adj_start[s] + fa[s]++] = c->ix.v[i].dst;
		}
	free(fa);
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

/* "to/<class>": `meta mark set meta mark & ~M | <class_mark>`, made once; its name. */
static char *to_chain(struct cctx *c, ww_ep_t cd)
{
	char buf[WW_EP_STRLEN];
	char *name = xstrdup_printf("to/%s", ww_ep_name(c->p, cd, buf));

	if (!name || strset_has(&c->names, name))
		return name;
	struct nfr_chain ch = {.name = xdup(c, name)};
	struct nfr_rule r = {.set_mark = true, .mark_keep = ~(c->zmask | c->hmask),
			     .mark_or = class_mark(c, cd)};
	push_rule(c, &ch, &r);
	add_chain(c, &ch);
	return name;
}

/*
 * The destination stage of classify: the mark's class bits cleared, then each address of a zone
 * sent to "to/<class>", which writes its class there: a host's own when some flow names the host
 * as its destination, else its zone's. The flow maps look the class up (flow_maps). Linear in
 * the address ranges; one chain per zone and named host.
 */
static void classify_dest(struct cctx *c, struct nfr_chain *ch)
{
	struct nfr_set d4 = {.key = NK_DADDR4, .vmap = true, .interval = true};
	struct nfr_set d6 = {.key = NK_DADDR6, .vmap = true, .interval = true};
	struct nfr_rule clr = {.set_mark = true, .mark_keep = ~(c->zmask | c->hmask)};

	push_rule(c, ch, &clr);
	for (size_t i = 0; i < c->cls.niv && !c->err; i++) {
		const struct ww_interval *iv = &c->cls.iv[i];
		const struct ww_zone *z = ww_class_of(c->p, iv->cls).zone;
		if (!z)
			continue;
		char *t = to_chain(c, c->dest[iv->cls] ? iv->cls : z->ep);
		if (t)
			push_elem(c, iv->family == WW_INET ? &d4 : &d6, iv->lo, iv->hi, NV_JUMP, t);
		else
			c->err = -ENOMEM;
		free(t);
	}
	set_rule(c, ch, &d4, "dst4", NULL);
	set_rule(c, ch, &d6, "dst6", NULL);
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
	classify_dest(c, &ch);
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

/* The mark's class bits (enforcement.mark_bits): the zone field and the host field (classmark.h).
 * -ERANGE when they cannot number the policy's classes (check refuses such a policy first:
 * mark-bits-too-few). */
static int mark_fields(struct cctx *c)
{
	if (!ww_mark_fits(c->p))
		return -ERANGE;
	c->zmask = ww_mark_zone_bits(c->p->enf.mark_mask);
	c->hmask = ww_mark_host_bits(c->p->enf.mark_mask);
	return 0;
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
	err = mark_fields(&c);
	if (!err)
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
	free(c.adj);
	free(c.scratch);
	free(c.mark);
	free(c.dest);
	free(c.own);
	free(c.dst_own);
	free(c.box);
	free(c.cb);
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
