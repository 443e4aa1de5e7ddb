// SPDX-License-Identifier: GPL-2.0-only
#include "nft_diff.h"

#include <errno.h>
#include <libnftnl/object.h>
#include <linux/netfilter/nf_tables.h>
#include <stdlib.h>
#include <string.h>

#include "nft_compile.h"

static int push(struct ww_nft_diff *d, enum ww_op op, enum ww_objkind kind, const char *name)
{
	struct ww_nft_change c = {op, kind, name};

	return VEC_PUSH(d->v, d->n, d->cap, c);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Equal field by field: then their texts are too (the common case, and cheap at 100k). */
static bool same_elems(const struct nfr_set *a, const struct nfr_set *b)
{
	if (strcmp(nfr_key_type(a->key), nfr_key_type(b->key)) || a->vmap != b->vmap ||
	    a->interval != b->interval ||
	    a->nelems != b->nelems || a->foreign || b->foreign)
		return false;
	for (size_t i = 0; i < a->nelems; i++) {
		const struct nfr_elem *x = &a->elems[i], *y = &b->elems[i];
		if (x->lo != y->lo || x->hi != y->hi || !same_str(x->ifname, y->ifname) ||
		    x->v.kind != y->v.kind || !same_str(x->v.chain, y->v.chain))
			return false;
	}
	return true;
}

static bool same_set(const struct nfr_set *a, const struct nfr_set *b)
{
	struct strbuf x = {0}, y = {0};
	bool eq;

	if (same_elems(a, b))
		return true;
	/* Otherwise as nft would print them, which is what equality means here. */
	nfr_set_body(a, &x);
	nfr_set_body(b, &y);
	eq = !x.oom && !y.oom && !strcmp(sb_str(&x), sb_str(&y));
	sb_free(&x);
	sb_free(&y);
	return eq;
}

static bool same_chain(const struct nfr_chain *a, const struct nfr_chain *b)
{
	struct strbuf x = {0}, y = {0};
	bool eq;

	nfr_chain_body(a, &x);
	nfr_chain_body(b, &y);
	eq = !x.oom && !y.oom && !strcmp(sb_str(&x), sb_str(&y));
	sb_free(&x);
	sb_free(&y);
	return eq;
}

/*
 * Merge-walks two name-sorted arrays of objects (each struct starts with its name): calls back
 * with (live, NULL), (NULL, want) or (live, want) for each name.
 */
static int walk(const void *live, size_t nlive, const void *want, size_t nwant, size_t size,
		int (*fn)(struct ww_nft_diff *d, const void *l, const void *w), struct ww_nft_diff *d)
{
	size_t i = 0, k = 0;
	int err = 0;

	while (!err && (i < nlive || k < nwant)) {
		const void *l = i < nlive ? (const char *)live + i * size : NULL;
		const void *w = k < nwant ? (const char *)want + k * size : NULL;
		int c = !l ? 1 : !w ? -1 : strcmp(*(char *const *)l, *(char *const *)w);
		err = fn(d, c <= 0 ? l : NULL, c >= 0 ? w : NULL);
		i += c <= 0;
		k += c >= 0;
	}
	return err;
}

static int on_counter(struct ww_nft_diff *d, const void *l, const void *w)
{
	const struct nfr_counter *a = l, *b = w;

	if (a && b)
		return 0;
	return push(d, a ? WW_DEL : WW_ADD, WW_OBJ_COUNTER, a ? a->name : b->name);
}

static int on_limit(struct ww_nft_diff *d, const void *l, const void *w)
{
	const struct nfr_limit *a = l, *b = w;

	if (a && b) {
		/* A limit's parameters are in its name; a mismatch is drift a batch cannot edit. */
		if (a->rate != b->rate || a->burst != b->burst)
			d->replace = true;
		return 0;
	}
	return push(d, a ? WW_DEL : WW_ADD, WW_OBJ_LIMIT, a ? a->name : b->name);
}

static int on_set(struct ww_nft_diff *d, const void *l, const void *w)
{
	const struct nfr_set *a = l, *b = w;

	if (!a || !b)
		return push(d, a ? WW_DEL : WW_ADD, WW_OBJ_SET, a ? a->name : b->name);
	if (a->foreign || strcmp(nfr_key_type(a->key), nfr_key_type(b->key)) || a->vmap != b->vmap ||
	    a->interval != b->interval) {
		d->replace = true;
		return 0;
	}
	return same_set(a, b) ? 0 : push(d, WW_CHANGE, WW_OBJ_SET, b->name);
}

static int on_chain(struct ww_nft_diff *d, const void *l, const void *w)
{
	const struct nfr_chain *a = l, *b = w;

	if (!a || !b)
		return push(d, a ? WW_DEL : WW_ADD, WW_OBJ_CHAIN, a ? a->name : b->name);
	if (a->foreign || a->hook != b->hook || a->prio != b->prio) {
		d->replace = true;
		return 0;
	}
	return same_chain(a, b) ? 0 : push(d, WW_CHANGE, WW_OBJ_CHAIN, b->name);
}

int ww_nft_diff(const struct nfr_table *live, const struct nfr_table *want, struct ww_nft_diff *d)
{
	static const struct nfr_table empty = {0};
	int err = 0;

	memset(d, 0, sizeof(*d));
	if (!live) {
		err = push(d, WW_ADD, WW_OBJ_TABLE, WW_NFT_TABLE);
		live = &empty;
	}
	/* A change of mode between bridge and the others moves the policy to the other family's
	 * table: the old one is deleted and the new one created in the same transaction. A
	 * wardwall table in each family is drift of its own, cleared the same way. */
	if (live != &empty && (live->family != want->family || live->other_family))
		d->replace = true;
	if (!err)
		err = walk(live->counters, live->ncounters, want->counters, want->ncounters,
			   sizeof(*want->counters), on_counter, d);
	if (!err)
		err = walk(live->limits, live->nlimits, want->limits, want->nlimits,
			   sizeof(*want->limits), on_limit, d);
	if (!err)
		err = walk(live->sets, live->nsets, want->sets, want->nsets, sizeof(*want->sets),
			   on_set, d);
	if (!err)
		err = walk(live->chains, live->nchains, want->chains, want->nchains,
			   sizeof(*want->chains), on_chain, d);
	return err ? -ENOMEM : 0;
}

void ww_nft_diff_free(struct ww_nft_diff *d)
{
	free(d->v);
	memset(d, 0, sizeof(*d));
}

size_t ww_nft_diff_count(const struct ww_nft_diff *d, enum ww_op op, enum ww_objkind kind)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += d->v[i].op == op && d->v[i].kind == kind;
	return n;
}

/* With referrers, a map is also named by the chain that looks it up: that scans every rule,
 * so the batch (one description per message) does without, and errors and plan add it. */
static void describe(const struct nfr_table *t, enum ww_objkind kind, const char *name,
		     bool referrers, struct strbuf *out)
{
	static const char *const kinds[] = {"table", "counter", "limit", "map", "chain"};
	const struct nfr_chain *c = kind == WW_OBJ_CHAIN ? nfr_chain_find(t, name) : NULL;
	const char *fp = WW_NFT_FLOW_PREFIX;
	size_t n = 0;

	if (kind == WW_OBJ_COUNTER && !strncmp(name, fp, strlen(fp))) {
		sb_addf(out, "counter of flow \"%s\"", name + strlen(fp));
		return;
	}
	sb_addf(out, "%s %s", kinds[kind], name);
	/* A map is known by the chain that looks it up: "destinations from zone infusion". */
	for (size_t k = 0; referrers && kind == WW_OBJ_SET && k < t->nchains; k++)
		for (size_t i = 0; i < t->chains[k].nrules; i++) {
			const struct nfr_rule *r = &t->chains[k].rules[i];
			const char *cn = t->chains[k].name;
			if (!r->set || strcmp(r->set, name))
				continue;
			if (!strncmp(cn, "from/", 5))
				sb_addf(out, " (destinations of flows from %s)", cn + 5);
			else if (!strncmp(cn, "dz/", 3))
				sb_addf(out, " (default verdicts from zone %s)", cn + 3);
			else if (!strcmp(cn, "classify"))
				sb_add(out, " (the zones and sources of addresses)");
			else
				sb_addf(out, " (used by chain %s)", cn);
			k = t->nchains;
			break;
		}
	for (size_t i = 0; c && i < c->nrules; i++) {
		const char *cn = c->rules[i].counter;
		if (!cn || strncmp(cn, fp, strlen(fp)))
			continue;
		bool dup = false;
		for (size_t k = 0; k < i && !dup; k++)
			dup = c->rules[k].counter && !strcmp(c->rules[k].counter, cn);
		if (!dup)
			sb_addf(out, "%s\"%s\"", n++ ? ", " : " (flow ", cn + strlen(fp));
	}
	if (n)
		sb_add(out, ")");
}

void ww_nft_describe(const struct nfr_table *t, enum ww_objkind kind, const char *name,
		     struct strbuf *out)
{
	describe(t, kind, name, true, out);
}

static const char *what(const struct nfr_table *t, enum ww_objkind kind, const char *name,
			struct strbuf *sb)
{
	sb_reset(sb);
	describe(t, kind, name, false, sb);
	return sb_str(sb);
}

int ww_nft_del_tables(struct ww_nft_batch *b, const struct nfr_table *live)
{
	int err;

	ww_nft_batch_family(b, live->family);
	err = ww_nft_del_table(b);
	if (!err && live->other_family) {
		ww_nft_batch_family(b, live->family == NFR_INET ? NFR_BRIDGE : NFR_INET);
		err = ww_nft_del_table(b);
	}
	return err;
}

static int full(const struct nfr_table *live, const struct nfr_table *want, struct ww_nft_batch *b)
{
	struct strbuf w = {0};
	int err = 0;

	if (live)
		err = ww_nft_del_tables(b, live);
	ww_nft_batch_family(b, want->family);
	if (!err)
		err = ww_nft_add_table(b, want->comment);
	for (size_t i = 0; i < want->ncounters && !err; i++)
		err = ww_nft_add_counter(b, &want->counters[i],
					 what(want, WW_OBJ_COUNTER, want->counters[i].name, &w));
	for (size_t i = 0; i < want->nlimits && !err; i++)
		err = ww_nft_add_limit(b, &want->limits[i], want->limits[i].name);
	for (size_t i = 0; i < want->nchains && !err; i++)
		err = ww_nft_add_chain(b, &want->chains[i],
				       what(want, WW_OBJ_CHAIN, want->chains[i].name, &w));
	for (size_t i = 0; i < want->nsets && !err; i++)
		err = ww_nft_add_set(b, &want->sets[i], what(want, WW_OBJ_SET, want->sets[i].name, &w));
	for (size_t i = 0; i < want->nchains && !err; i++)
		err = ww_nft_add_rules(b, &want->chains[i],
				       what(want, WW_OBJ_CHAIN, want->chains[i].name, &w));
	sb_free(&w);
	return err;
}

/*
 * The order of a batch: nothing is referred to before it exists, nothing is deleted while
 * something still refers to it. Chains are declared before maps whose elements jump to them,
 * and emptied before any of them is deleted.
 */
enum step {
	ADD_COUNTER,
	ADD_LIMIT,
	DECLARE_CHAIN,
	ADD_SET,
	FILL_CHAIN,
	REWRITE_CHAIN,
	REWRITE_SET,
	EMPTY_CHAIN,
	DEL_SET,
	DEL_CHAIN,
	DEL_COUNTER,
	DEL_LIMIT,
	NSTEPS
};

static const struct {
	enum ww_op op;
	enum ww_objkind kind;
} step_of[NSTEPS] = {
	[ADD_COUNTER] = {WW_ADD, WW_OBJ_COUNTER},  [ADD_LIMIT] = {WW_ADD, WW_OBJ_LIMIT},
	[DECLARE_CHAIN] = {WW_ADD, WW_OBJ_CHAIN},  [ADD_SET] = {WW_ADD, WW_OBJ_SET},
	[FILL_CHAIN] = {WW_ADD, WW_OBJ_CHAIN},     [REWRITE_CHAIN] = {WW_CHANGE, WW_OBJ_CHAIN},
	[REWRITE_SET] = {WW_CHANGE, WW_OBJ_SET},   [EMPTY_CHAIN] = {WW_DEL, WW_OBJ_CHAIN},
	[DEL_SET] = {WW_DEL, WW_OBJ_SET},          [DEL_CHAIN] = {WW_DEL, WW_OBJ_CHAIN},
	[DEL_COUNTER] = {WW_DEL, WW_OBJ_COUNTER}, [DEL_LIMIT] = {WW_DEL, WW_OBJ_LIMIT},
};

static int emit(enum step s, const char *n, const struct nfr_table *live,
		const struct nfr_table *want, struct ww_nft_batch *b, struct strbuf *w)
{
	const struct nfr_table *t = step_of[s].op == WW_DEL ? live : want;
	int err;

	what(t, step_of[s].kind, n, w);
	switch (s) {
	case ADD_COUNTER:
		return ww_nft_add_counter(b, nfr_counter_find(want, n), sb_str(w));
	case ADD_LIMIT:
		for (size_t k = 0; k < want->nlimits; k++)
			if (!strcmp(want->limits[k].name, n))
				return ww_nft_add_limit(b, &want->limits[k], sb_str(w));
		return -ENOENT;
	case DECLARE_CHAIN:
		return ww_nft_add_chain(b, nfr_chain_find(want, n), sb_str(w));
	case ADD_SET:
		return ww_nft_add_set(b, nfr_set_find(want, n), sb_str(w));
	case FILL_CHAIN:
		return ww_nft_add_rules(b, nfr_chain_find(want, n), sb_str(w));
	case REWRITE_CHAIN:
		err = ww_nft_flush_chain(b, n, sb_str(w));
		return err ? err : ww_nft_add_rules(b, nfr_chain_find(want, n), sb_str(w));
	case REWRITE_SET:
		err = ww_nft_flush_set(b, n, sb_str(w));
		return err ? err : ww_nft_add_elems(b, nfr_set_find(want, n), sb_str(w));
	case EMPTY_CHAIN:
		return ww_nft_flush_chain(b, n, sb_str(w));
	case DEL_SET:
		return ww_nft_del_set(b, n, sb_str(w));
	case DEL_CHAIN:
		return ww_nft_del_chain(b, n, sb_str(w));
	case DEL_COUNTER:
		return ww_nft_del_obj(b, NFT_OBJECT_COUNTER, n, sb_str(w));
	case DEL_LIMIT:
		return ww_nft_del_obj(b, NFT_OBJECT_LIMIT, n, sb_str(w));
	default:
		return -EINVAL;
	}
}

int ww_nft_diff_batch(const struct nfr_table *live, const struct nfr_table *want,
		      const struct ww_nft_diff *d, struct ww_nft_batch *b)
{
	struct strbuf w = {0};
	int err = 0;

	if (d->replace || !live)
		return full(live, want, b);
	ww_nft_batch_family(b, want->family);
	for (enum step s = 0; s < NSTEPS && !err; s++)
		for (size_t i = 0; i < d->n && !err; i++)
			if (d->v[i].op == step_of[s].op && d->v[i].kind == step_of[s].kind)
				err = emit(s, d->v[i].name, live, want, b, &w);
	sb_free(&w);
	return err;
}
