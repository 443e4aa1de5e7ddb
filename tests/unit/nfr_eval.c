// SPDX-License-Identifier: GPL-2.0-only
/* nf_tables walking one packet through a compiled table (nfr_eval.h): test code only. */
#include "nfr_eval.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"
#include "model.h"

/* nf_tables' limit of nested jumps (NFT_JUMP_STACK_SIZE). */
#define JUMP_STACK 16
/* Rules evaluated before a walk is taken for a loop (no real table comes near it). */
#define MAX_RULES 100000

/* A set's elements by field 0: ord sorted by lo, pmax[i] the largest hi of ord[0..i], so that a
 * lookup finds the last element starting at or before the key and walks back only while some
 * element further back can still reach it (interval stabbing). */
struct set_index {
	size_t *ord;
	u128 *pmax;
};

struct nfr_eval {
	const struct nfr_table *t;
	struct set_index *ix; /* [set index] */
};

struct walk {
	struct nfr_eval *e;
	const struct nfr_pkt *p;
	uint32_t mark;
	struct nfr_result *res;
	struct strbuf *why;
};

static int ord_cmp(const void *x, const void *y, void *set)
{
	const struct nfr_set *s = set;
	const struct nfr_elem *a = &s->elems[*(const size_t *)x];
	const struct nfr_elem *b = &s->elems[*(const size_t *)y];

	return a->lo < b->lo ? -1 : a->lo > b->lo;
}

static u128 hi_of(u128 lo, u128 hi)
{
	return hi > lo ? hi : lo; /* a single key's element may leave hi 0 */
}

static int index_set(const struct nfr_set *s, struct set_index *x)
{
	x->ord = malloc((s->nelems + 1) * sizeof(*x->ord));
	x->pmax = malloc((s->nelems + 1) * sizeof(*x->pmax));
	if (!x->ord || !x->pmax)
		return -ENOMEM;
	for (size_t i = 0; i < s->nelems; i++)
		x->ord[i] = i;
	qsort_r(x->ord, s->nelems, sizeof(*x->ord), ord_cmp, (void *)s);
	for (size_t i = 0; i < s->nelems; i++) {
		const struct nfr_elem *el = &s->elems[x->ord[i]];
		u128 h = hi_of(el->lo, el->hi);
		x->pmax[i] = i && x->pmax[i - 1] > h ? x->pmax[i - 1] : h;
	}
	return 0;
}

int nfr_eval_new(const struct nfr_table *t, struct nfr_eval **out)
{
	struct nfr_eval *e = calloc(1, sizeof(*e));

	if (!e)
		return -ENOMEM;
	e->t = t;
	e->ix = calloc(t->nsets + 1, sizeof(*e->ix));
	if (!e->ix) {
		free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->nsets; i++)
		if (index_set(&t->sets[i], &e->ix[i])) {
			nfr_eval_free(e);
			return -ENOMEM;
		}
	*out = e;
	return 0;
}

void nfr_eval_free(struct nfr_eval *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->t->nsets; i++) {
		free(e->ix[i].ord);
		free(e->ix[i].pmax);
	}
	free(e->ix);
	free(e);
}

static int fail(struct walk *w, int err, const char *fmt, ...)
{
	va_list ap;

	if (w->why) {
		va_start(ap, fmt);
		sb_vaddf(w->why, fmt, ap);
		va_end(ap);
	}
	return err;
}

/* The value of key k in the packet; false when the packet has no such field. */
static bool field(const struct walk *w, enum nfr_key k, uint32_t mark_mask, u128 *v)
{
	const struct nfr_pkt *p = w->p;
	bool v4 = p->family == WW_INET, v6 = p->family == WW_INET6;

	switch (k) {
	case NK_SADDR4:
	case NK_SADDR6:
		*v = p->saddr;
		return k == NK_SADDR4 ? v4 : v6;
	case NK_DADDR4:
	case NK_DADDR6:
		*v = p->daddr;
		return k == NK_DADDR4 ? v4 : v6;
	case NK_TCP_DPORT:
	case NK_UDP_DPORT:
	case NK_SCTP_DPORT:
	case NK_TH_DPORT:
		*v = (u128)p->key;
		if (p->key < 0)
			return false;
		return k == NK_TH_DPORT	   ? ww_proto_has_ports(p->l4proto)
		       : k == NK_TCP_DPORT ? p->l4proto == WW_PROTO_TCP
		       : k == NK_UDP_DPORT ? p->l4proto == WW_PROTO_UDP
					   : p->l4proto == WW_PROTO_SCTP;
	case NK_ICMP_TYPE:
		*v = (u128)p->key;
		return v4 && p->l4proto == WW_PROTO_ICMP && p->key >= 0;
	case NK_ICMPV6_TYPE:
		*v = (u128)p->key;
		return v6 && p->l4proto == WW_PROTO_ICMPV6 && p->key >= 0;
	case NK_L4PROTO:
		*v = (u128)p->l4proto;
		return true;
	case NK_PROTOCOL:
		*v = v4 ? NFR_ETH_IP : NFR_ETH_IP6;
		return true;
	case NK_MARK:
		*v = w->mark & mark_mask;
		return true;
	default:
		return false;
	}
}

static bool elem_has(const struct nfr_elem *el, const u128 *v, unsigned int n)
{
	if (v[0] < el->lo || v[0] > hi_of(el->lo, el->hi))
		return false;
	for (unsigned int i = 1; i < n; i++)
		if (v[i] < el->clo[i - 1] || v[i] > hi_of(el->clo[i - 1], el->chi[i - 1]))
			return false;
	return true;
}

/* The element of set s holding key v[0..n), or NULL. */
static const struct nfr_elem *set_get(const struct nfr_eval *e, const struct nfr_set *s,
				      const u128 *v, unsigned int n)
{
	const struct set_index *x = &e->ix[s - e->t->sets];
	size_t lo = 0, hi = s->nelems; /* the first in ord starting after v[0] */

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->elems[x->ord[mid]].lo <= v[0])
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i-- > 0 && x->pmax[i] >= v[0];)
		if (elem_has(&s->elems[x->ord[i]], v, n))
			return &s->elems[x->ord[i]];
	return NULL;
}

/* Looks key v[0..n) up in the set named name; 1 and *hit when there, 0 when not, or -errno. */
static int lookup(struct walk *w, const char *name, const struct nfr_cat *cat, const u128 *v,
		  unsigned int n, const struct nfr_elem **hit)
{
	const struct nfr_set *s = nfr_set_find(w->e->t, name);

	if (!s)
		return fail(w, -ENOENT, "no set \"%s\"", name);
	if (s->foreign)
		return fail(w, -EINVAL, "set \"%s\" is foreign", name);
	if (s->cat.n != (cat ? cat->n : 0) || (cat && memcmp(s->cat.f, cat->f, sizeof(cat->f))))
		return fail(w, -EINVAL, "set \"%s\": its key is not the rule's", name);
	*hit = set_get(w->e, s, v, n);
	return *hit != NULL;
}

/* The values of concatenation c's fields; false when the packet lacks one. */
static bool cat_values(const struct walk *w, const struct nfr_cat *c, u128 *v)
{
	for (unsigned int i = 0; i < c->n; i++)
		if (!field(w, c->f[i], i == 0 ? c->mark_mask : 0, &v[i]))
			return false;
	return true;
}

/* Does rule r's key match (1, with *hit its element for a set), not (0), or -errno? */
static int key_match(struct walk *w, const struct nfr_rule *r, const struct nfr_elem **hit)
{
	u128 v[NFR_CAT_MAX];

	*hit = NULL;
	if (r->cat.n) {
		if (!r->set)
			return 1; /* only counts through counter_map */
		if (r->cat.n > NFR_CAT_MAX)
			return fail(w, -EINVAL, "a concatenation of %u fields", r->cat.n);
		return cat_values(w, &r->cat, v) ? lookup(w, r->set, &r->cat, v, r->cat.n, hit) : 0;
	}
	if (!r->key)
		return 1;
	if (r->key == NK_IFNAME || r->key > NK_MARK)
		return fail(w, -EINVAL, "a match on key %d", (int)r->key);
	if (!field(w, r->key, 0, &v[0]))
		return 0;
	if (r->set)
		return lookup(w, r->set, NULL, v, 1, hit);
	return v[0] >= r->lo && v[0] <= (r->hi > r->lo ? r->hi : r->lo);
}

static int count(struct walk *w, const char *name)
{
	struct nfr_result *res = w->res;

	if (!nfr_counter_find(w->e->t, name))
		return fail(w, -ENOENT, "no counter \"%s\"", name);
	if (res->ncounters == NFR_EVAL_MAX_COUNTERS)
		return fail(w, -ELOOP, "more than %d counters", NFR_EVAL_MAX_COUNTERS);
	res->counters[res->ncounters++] = name;
	return 0;
}

/* The counter an object map names for the packet, counted (none on a miss). */
static int count_map(struct walk *w, const struct nfr_rule *r)
{
	const struct nfr_set *s = nfr_set_find(w->e->t, r->counter_map);
	const struct nfr_elem *hit;
	u128 v[NFR_CAT_MAX];
	int rc;

	if (s && !s->objmap)
		return fail(w, -EINVAL, "set \"%s\" is not an object map", r->counter_map);
	if (!cat_values(w, &r->cat, v))
		return 0;
	rc = lookup(w, r->counter_map, &r->cat, v, r->cat.n, &hit);
	if (rc <= 0)
		return rc;
	if (!hit->obj)
		return fail(w, -EINVAL, "set \"%s\": an element without a counter", r->counter_map);
	return count(w, hit->obj);
}

/* The statements of a matching rule, in nft's order. */
static int statements(struct walk *w, const struct nfr_rule *r)
{
	int rc = 0;

	if (r->counter_map)
		rc = count_map(w, r);
	if (!rc && r->set_mark)
		w->mark = (w->mark & r->mark_keep) | r->mark_or;
	if (!rc && r->counter)
		rc = count(w, r->counter);
	/* A limit passes: the model never runs out of tokens. */
	if (!rc && r->log_prefix && w->res->nlogs < NFR_EVAL_MAX_COUNTERS)
		w->res->logs[w->res->nlogs++] = r->log_prefix;
	return rc;
}

/* Evaluates rule r: *v is its verdict when it matches and has one, else NULL. */
static int rule_eval(struct walk *w, const struct nfr_rule *r, const struct nfr_verdict **v)
{
	const struct nfr_elem *hit;
	int rc;

	*v = NULL;
	if (r->foreign)
		return fail(w, -EINVAL, "a rule not written by wardwall: %s", r->foreign);
	/* A new connection on a filtered interface, not the loopback. */
	if (r->ct_state || r->not_ifaces || r->iifname || r->oifname)
		return 0;
	rc = key_match(w, r, &hit);
	if (rc <= 0)
		return rc;
	if ((r->has_from && w->p->now < r->from) || (r->has_until && w->p->now >= r->until))
		return 0;
	rc = statements(w, r);
	if (rc)
		return rc;
	if (r->vmap && !hit)
		return fail(w, -EINVAL, "a verdict map without a set");
	if (r->vmap)
		*v = &hit->v;
	else if (r->v.kind)
		*v = &r->v;
	return 0;
}

static void step(struct walk *w, const struct nfr_chain *ch, size_t rule)
{
	struct nfr_result *res = w->res;

	if (res->nsteps < NFR_EVAL_MAX_STEPS)
		res->steps[res->nsteps++] = (struct nfr_step){ch->name, rule};
}

static int walk(struct walk *w, const struct nfr_chain *ch)
{
	struct {
		const struct nfr_chain *ch;
		size_t next;
	} stack[JUMP_STACK];
	size_t sp = 0, i = 0, n = 0;

	for (;;) {
		const struct nfr_verdict *v = NULL;
		if (i < ch->nrules) {
			int rc = rule_eval(w, &ch->rules[i], &v);
			if (rc)
				return fail(w, rc, " (chain \"%s\", rule %zu)", ch->name, i);
			if (++n > MAX_RULES)
				return fail(w, -ELOOP, "no end after %d rules", MAX_RULES);
			i++;
			if (!v || v->kind == NV_NONE)
				continue;
			step(w, ch, i - 1);
		} else {
			step(w, ch, SIZE_MAX); /* the end of the chain */
		}
		if (!v || v->kind == NV_RETURN) {
			if (!sp) {
				w->res->verdict = NV_ACCEPT; /* the base chain's policy */
				return 0;
			}
			sp--;
			ch = stack[sp].ch, i = stack[sp].next;
			continue;
		}
		if (v->kind != NV_JUMP && v->kind != NV_GOTO) {
			w->res->verdict = v->kind;
			return 0;
		}
		const struct nfr_chain *to = v->chain ? nfr_chain_find(w->e->t, v->chain) : NULL;
		if (!to)
			return fail(w, -ENOENT, "no chain \"%s\" (from chain \"%s\", rule %zu)",
				    v->chain ? v->chain : "(null)", ch->name, i - 1);
		if (v->kind == NV_JUMP) {
			if (sp == JUMP_STACK)
				return fail(w, -ELOOP, "more than %d nested jumps", JUMP_STACK);
			stack[sp].ch = ch, stack[sp].next = i;
			sp++;
		}
		ch = to, i = 0;
	}
}

int nfr_eval_packet(struct nfr_eval *e, const char *base, const struct nfr_pkt *p,
		    struct nfr_result *res, struct strbuf *why)
{
	struct walk w = {.e = e, .p = p, .mark = p->mark, .res = res, .why = why};
	const struct nfr_chain *ch = nfr_chain_find(e->t, base);
	int rc;

	memset(res, 0, sizeof(*res));
	if (!ch)
		return fail(&w, -ENOENT, "no base chain \"%s\"", base);
	rc = walk(&w, ch);
	res->mark = w.mark;
	return rc;
}

void nfr_result_path(const struct nfr_result *res, struct strbuf *out)
{
	for (size_t i = 0; i < res->nsteps; i++) {
		const struct nfr_step *s = &res->steps[i];
		if (s->rule == SIZE_MAX)
			sb_addf(out, "%s%s#end", i ? " " : "", s->chain);
		else
			sb_addf(out, "%s%s#%zu", i ? " " : "", s->chain, s->rule);
	}
}
