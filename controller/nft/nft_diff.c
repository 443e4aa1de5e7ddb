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
	struct ww_nft_change c = {.op = op, .kind = kind, .name = name};

	return VEC_PUSH(d->v, d->n, d->cap, c);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* The same type of set: key (each field of a concatenation), data, flags. Names of a key's
 * direction (saddr, daddr) do not count: a set only has a type. */
static bool same_type(const struct nfr_set *a, const struct nfr_set *b)
{
	if (a->cat.n != b->cat.n || a->vmap != b->vmap || a->objmap != b->objmap ||
	    a->interval != b->interval)
		return false;
	if (!a->cat.n)
		return !strcmp(nfr_key_type(a->key), nfr_key_type(b->key));
	for (unsigned int i = 0; i < a->cat.n; i++)
		if (strcmp(nfr_key_type(a->cat.f[i]), nfr_key_type(b->cat.f[i])))
			return false;
	return true;
}

/* The same key (nfr_elem_cmp: every field) and the same data (verdict, counter). */
static bool same_elem(const struct nfr_elem *x, const struct nfr_elem *y)
{
	return !nfr_elem_cmp(x, y) && x->v.kind == y->v.kind && same_str(x->v.chain, y->v.chain) &&
	       same_str(x->obj, y->obj);
}

/* Equal field by field: then their texts are too (the common case, and cheap at 100k). */
static bool same_elems(const struct nfr_set *a, const struct nfr_set *b)
{
	if (!same_type(a, b) || a->nelems != b->nelems || a->foreign || b->foreign)
		return false;
	for (size_t i = 0; i < a->nelems; i++)
		if (!same_elem(&a->elems[i], &b->elems[i]))
			return false;
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

/*
 * A flow map (keyed on a concatenation) has a stable name, `fp4/<class>`: when its flows change,
 * the same map changes, element by element, and when its type changes it is made again. Every
 * other set is named after its content, so the same name with another content is drift: its
 * elements are rewritten, or the table replaced when the type differs.
 */
static int on_set(struct ww_nft_diff *d, const void *l, const void *w)
{
	const struct nfr_set *a = l, *b = w;
	bool stable = b && b->cat.n;
	struct ww_nft_change c = {.op = WW_CHANGE, .kind = WW_OBJ_SET, .name = b ? b->name : NULL};

	if (!a || !b)
		return push(d, a ? WW_DEL : WW_ADD, WW_OBJ_SET, a ? a->name : b->name);
	if (a->foreign || (!same_type(a, b) && !stable)) {
		d->replace = true;
		return 0;
	}
	if (!same_type(a, b))
		c.recreate = true;
	else if (same_set(a, b))
		return 0;
	else
		c.elems = stable;
	return VEC_PUSH(d->v, d->n, d->cap, c);
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

static bool refers_to(const struct nfr_chain *c, const char *set)
{
	for (size_t i = 0; i < c->nrules; i++)
		if (same_str(c->rules[i].set, set) || same_str(c->rules[i].counter_map, set))
			return true;
	return false;
}

static bool listed(const struct ww_nft_diff *d, enum ww_objkind kind, const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == kind && !strcmp(d->v[i].name, name))
			return true;
	return false;
}

/* A map made again can only be deleted once no rule looks it up: each live chain that does and
 * stays is rewritten (emptied first, filled again after the map is back), changed or not. */
static int rewrite_referrers(const struct nfr_table *live, const struct nfr_table *want,
			     struct ww_nft_diff *d)
{
	size_t n = d->n;
	int err = 0;

	for (size_t k = 0; k < n && !err; k++)
		for (size_t i = 0; d->v[k].recreate && i < live->nchains && !err; i++) {
			const struct nfr_chain *w = nfr_chain_find(want, live->chains[i].name);
			if (w && refers_to(&live->chains[i], d->v[k].name) &&
			    !listed(d, WW_OBJ_CHAIN, w->name))
				err = push(d, WW_CHANGE, WW_OBJ_CHAIN, w->name);
		}
	return err;
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
	if (!err && !d->replace)
		err = rewrite_referrers(live, want, d);
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
			bool counts = same_str(r->counter_map, name); /* a flow map's counters */
			if (!counts && !same_str(r->set, name))
				continue;
			if (!strncmp(cn, "from/", 5))
				sb_addf(out, " (%s of flows from %s)", counts ? "counters" : "destinations",
					cn + 5);
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
 * something still refers to it. Counters and chains come first (map elements count in the ones
 * and go to the others); every chain that changes or goes is emptied next, since rules refer to
 * everything else and nothing to rules; then maps are made, chains filled. A flow map's elements
 * are deleted before its new ones are added (the kernel refuses an element overlapping one still
 * there) and before the counters and chains they name are deleted.
 */
enum step {
	ADD_COUNTER,
	ADD_LIMIT,
	DECLARE_CHAIN,
	FLUSH_CHAIN,
	DROP_SET,
	ADD_SET,
	FILL_CHAIN,
	REFILL_CHAIN,
	DEL_ELEMS,
	ADD_ELEMS,
	REWRITE_SET,
	DEL_SET,
	DEL_CHAIN,
	DEL_COUNTER,
	DEL_LIMIT,
	NSTEPS
};

static bool in_step(enum step s, const struct ww_nft_change *c)
{
	bool set = c->kind == WW_OBJ_SET, chain = c->kind == WW_OBJ_CHAIN;

	switch (s) {
	case ADD_COUNTER:
		return c->op == WW_ADD && c->kind == WW_OBJ_COUNTER;
	case ADD_LIMIT:
		return c->op == WW_ADD && c->kind == WW_OBJ_LIMIT;
	case DECLARE_CHAIN:
	case FILL_CHAIN:
		return c->op == WW_ADD && chain;
	case FLUSH_CHAIN:
		return c->op != WW_ADD && chain;
	case DROP_SET:
		return set && c->recreate;
	case ADD_SET:
		return set && (c->op == WW_ADD || c->recreate);
	case REFILL_CHAIN:
		return c->op == WW_CHANGE && chain;
	case DEL_ELEMS:
	case ADD_ELEMS:
		return set && c->elems;
	case REWRITE_SET:
		return set && c->op == WW_CHANGE && !c->elems && !c->recreate;
	case DEL_SET:
		return c->op == WW_DEL && set;
	case DEL_CHAIN:
		return c->op == WW_DEL && chain;
	case DEL_COUNTER:
		return c->op == WW_DEL && c->kind == WW_OBJ_COUNTER;
	case DEL_LIMIT:
		return c->op == WW_DEL && c->kind == WW_OBJ_LIMIT;
	default:
		return false;
	}
}

/*
 * The elements of set `from` that set `to` does not have, key and data alike, into *out: a set
 * like `from` whose elements are shallow copies (out->elems alone is to be freed). Both sorted.
 * (live, want): what to delete; (want, live): what to add. A changed verdict or counter is both.
 */
static int elems_missing(const struct nfr_set *from, const struct nfr_set *to, struct nfr_set *out)
{
	size_t k = 0;

	*out = *from;
	out->elems = NULL;
	out->nelems = out->cap = 0;
	for (size_t i = 0; i < from->nelems; i++) {
		const struct nfr_elem *e = &from->elems[i];
		while (k < to->nelems && nfr_elem_cmp(&to->elems[k], e) < 0)
			k++;
		if (k < to->nelems && same_elem(&to->elems[k], e))
			continue;
		if (VEC_PUSH(out->elems, out->nelems, out->cap, *e)) {
			free(out->elems);
			return -ENOMEM;
		}
	}
	return 0;
}

/* DEL_ELEMS (add false) and ADD_ELEMS: the elements of one flow map that differ. */
static int edit_elems(const struct nfr_table *live, const struct nfr_table *want, const char *n,
		      bool add, struct ww_nft_batch *b, const char *what)
{
	const struct nfr_set *l = nfr_set_find(live, n), *w = nfr_set_find(want, n);
	struct nfr_set x;
	int err;

	if (!l || !w)
		return -ENOENT;
	err = add ? elems_missing(w, l, &x) : elems_missing(l, w, &x);
	if (!err && x.nelems)
		err = add ? ww_nft_add_elems(b, &x, what) : ww_nft_del_elems(b, &x, what);
	free(x.elems);
	return err;
}

static int emit(enum step s, const struct ww_nft_change *c, const struct nfr_table *live,
		const struct nfr_table *want, struct ww_nft_batch *b, struct strbuf *w)
{
	/* What goes is described as it is, what comes as it will be. */
	bool gone = s == FLUSH_CHAIN || s == DROP_SET || s == DEL_ELEMS || s >= DEL_SET;
	const char *n = c->name;
	int err;

	what(gone ? live : want, c->kind, n, w);
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
	case FLUSH_CHAIN:
		return ww_nft_flush_chain(b, n, sb_str(w));
	case DROP_SET:
	case DEL_SET:
		return ww_nft_del_set(b, n, sb_str(w));
	case ADD_SET:
		return ww_nft_add_set(b, nfr_set_find(want, n), sb_str(w));
	case FILL_CHAIN:
	case REFILL_CHAIN:
		return ww_nft_add_rules(b, nfr_chain_find(want, n), sb_str(w));
	case DEL_ELEMS:
	case ADD_ELEMS:
		return edit_elems(live, want, n, s == ADD_ELEMS, b, sb_str(w));
	case REWRITE_SET:
		err = ww_nft_flush_set(b, n, sb_str(w));
		return err ? err : ww_nft_add_elems(b, nfr_set_find(want, n), sb_str(w));
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
			if (in_step(s, &d->v[i]))
				err = emit(s, &d->v[i], live, want, b, &w);
	sb_free(&w);
	return err;
}
