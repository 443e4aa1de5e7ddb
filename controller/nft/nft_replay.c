// SPDX-License-Identifier: GPL-2.0-only
/*
 * The linearizer's independent check: a batch's messages applied to a table the way nf_tables
 * would, each decoded by the readback's decoders (nft_decode.h). The fuzzer (tests/fuzz/fuzz_nft.c)
 * compares the result with the compiled table. Nothing here talks to the kernel.
 */
#include <errno.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_decode.h"
#include "nft_nl.h"

struct id_name {
	uint32_t id;
	char *name;
};

struct pending {
	char *set;
	struct elems_ctx ec;
};

struct replay {
	struct rctx c;
	struct id_name *ids; /* sets new in the batch, by NFTA_SET_ID */
	size_t nids, icap;
	struct pending *pend; /* elements, rebuilt into intervals at the end */
	size_t npend, pcap;
	struct strbuf *err;
	size_t msgno;
};

static int rp_fail(struct replay *r, int e, const char *fmt, const char *name)
{
	sb_addf(r->err, "message %zu: ", r->msgno);
	sb_addf(r->err, fmt, name ? name : "(none)");
	return e;
}

static bool verdict_refers(const struct nfr_verdict *v, const char *chain)
{
	return (v->kind == NV_JUMP || v->kind == NV_GOTO) && v->chain && !strcmp(v->chain, chain);
}

static bool eq(const char *a, const char *name)
{
	return a && !strcmp(a, name);
}

/* Does rule x name this chain, set or object? */
static bool rule_refers(const struct nfr_rule *x, const char *name, bool chain, bool set)
{
	if (chain)
		return verdict_refers(&x->v, name);
	if (set)
		return eq(x->set, name) || eq(x->counter_map, name);
	return eq(x->counter, name) || eq(x->limit, name);
}

/* Does anything in the table, or an element not yet rebuilt, name this chain, set or object?
 * Elements name chains (a verdict) and counters (an object map's). */
static bool referenced(const struct replay *r, const char *name, bool chain, bool set)
{
	const struct nfr_table *t = r->c.t;

	for (size_t k = 0; k < t->nchains; k++)
		for (size_t i = 0; i < t->chains[k].nrules; i++)
			if (rule_refers(&t->chains[k].rules[i], name, chain, set))
				return true;
	for (size_t k = 0; !set && k < t->nsets; k++)
		for (size_t i = 0; i < t->sets[k].nelems; i++)
			if (chain ? verdict_refers(&t->sets[k].elems[i].v, name)
				  : eq(t->sets[k].elems[i].obj, name))
				return true;
	for (size_t k = 0; !set && k < r->npend; k++)
		for (size_t i = 0; i < r->pend[k].ec.n; i++)
			if (chain ? verdict_refers(&r->pend[k].ec.v[i].v, name)
				  : eq(r->pend[k].ec.v[i].obj, name))
				return true;
	return false;
}

static struct pending *pending_of(struct replay *r, const char *set)
{
	struct pending p = {0};

	for (size_t i = 0; i < r->npend; i++)
		if (!strcmp(r->pend[i].set, set))
			return &r->pend[i];
	p.set = strdup(set);
	if (!p.set || VEC_PUSH(r->pend, r->npend, r->pcap, p)) {
		free(p.set);
		return NULL;
	}
	return &r->pend[r->npend - 1];
}

static void pending_drop(struct pending *p)
{
	for (size_t i = 0; i < p->ec.n; i++)
		ww_nftd_raw_free(&p->ec.v[i]);
	free(p->ec.v);
	memset(&p->ec, 0, sizeof(p->ec));
}

/* The rule just appended to chain ch may only name what exists. */
static int rp_rule_refs(struct replay *r, const struct nfr_rule *x)
{
	const struct nfr_table *t = r->c.t;

	if (x->foreign)
		return rp_fail(r, -EINVAL, "a rule wardwall does not write: %s", x->foreign);
	if (x->set && !nfr_set_find(t, x->set))
		return rp_fail(r, -ENOENT, "a rule looks up set %s, which does not exist", x->set);
	if (x->counter_map) {
		const struct nfr_set *m = nfr_set_find(t, x->counter_map);
		if (!m)
			return rp_fail(r, -ENOENT,
				       "a rule counts through map %s, which does not exist",
				       x->counter_map);
		if (!m->objmap)
			return rp_fail(r, -EINVAL, "a rule counts through %s, not an object map",
				       x->counter_map);
	}
	if (x->counter && !nfr_counter_find(t, x->counter))
		return rp_fail(r, -ENOENT, "a rule names counter %s, which does not exist",
			       x->counter);
	if (x->limit) {
		bool found = false;
		for (size_t i = 0; i < t->nlimits && !found; i++)
			found = !strcmp(t->limits[i].name, x->limit);
		if (!found)
			return rp_fail(r, -ENOENT, "a rule names limit %s, which does not exist",
				       x->limit);
	}
	if ((x->v.kind == NV_JUMP || x->v.kind == NV_GOTO) && !nfr_chain_find(t, x->v.chain))
		return rp_fail(r, -ENOENT, "a rule jumps to chain %s, which does not exist",
			       x->v.chain);
	return 0;
}

/*
 * libnftnl writes an objref's names (the object's, or its map's) without a terminating NUL (the
 * kernel takes the attribute's length), while its parser reads it as a C string, as the kernel
 * dumps it: a copy of the rule message with that name NUL-terminated, as a dump has it.
 */
static struct nlmsghdr *rule_as_dumped(const struct nlmsghdr *nlh)
{
	size_t cap = nlh->nlmsg_len * 2 + 256;
	struct nlmsghdr *c = malloc(cap);
	const struct nlattr *a, *el, *x, *d;

	if (!c)
		return NULL;
	memcpy(c, nlh, sizeof(*nlh) + sizeof(struct nfgenmsg));
	c->nlmsg_len = (uint32_t)MNL_ALIGN(sizeof(*nlh) + sizeof(struct nfgenmsg));
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS) {
			mnl_attr_put(c, a->nla_type, mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
			continue;
		}
		struct nlattr *n1 = mnl_attr_nest_start(c, NFTA_RULE_EXPRESSIONS);
		mnl_attr_for_each_nested(el, a) {
			struct nlattr *n2 = mnl_attr_nest_start(c, mnl_attr_get_type(el));
			bool objref = false;
			mnl_attr_for_each_nested(x, el)
				if (mnl_attr_get_type(x) == NFTA_EXPR_NAME)
					objref = mnl_attr_get_payload_len(x) >= 6 &&
						 !memcmp(mnl_attr_get_payload(x), "objref", 6);
			mnl_attr_for_each_nested(x, el) {
				if (!objref || mnl_attr_get_type(x) != NFTA_EXPR_DATA) {
					mnl_attr_put(c, x->nla_type, mnl_attr_get_payload_len(x),
						     mnl_attr_get_payload(x));
					continue;
				}
				struct nlattr *n3 = mnl_attr_nest_start(c, NFTA_EXPR_DATA);
				mnl_attr_for_each_nested(d, x) {
					uint16_t len = mnl_attr_get_payload_len(d);
					const char *p = mnl_attr_get_payload(d);
					uint16_t at = mnl_attr_get_type(d);
					if ((at == NFTA_OBJREF_IMM_NAME ||
					     at == NFTA_OBJREF_SET_NAME) &&
					    (!len || p[len - 1])) {
						char name[512];
						snprintf(name, sizeof(name), "%.*s", (int)len, p);
						mnl_attr_put_strz(c, at, name);
					} else {
						mnl_attr_put(c, d->nla_type, len, p);
					}
				}
				mnl_attr_nest_end(c, n3);
			}
			mnl_attr_nest_end(c, n2);
		}
		mnl_attr_nest_end(c, n1);
	}
	return c;
}

static int rp_newrule(struct replay *r, const struct nlmsghdr *msg)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nlmsghdr *nlh = rule_as_dumped(msg);
	const char *cn;
	struct nfr_chain *ch;
	int e;

	if (!nr || !nlh) {
		nftnl_rule_free(nr);
		free(nlh);
		return -ENOMEM;
	}
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0) {
		e = rp_fail(r, -EINVAL, "a rule that does not parse%s", "");
		goto out;
	}
	cn = nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN);
	ch = cn ? nfr_chain_find(r->c.t, cn) : NULL;
	if (!ch) {
		e = rp_fail(r, -ENOENT, "a rule for chain %s, which does not exist", cn);
		goto out;
	}
	size_t before = ch->nrules;
	ww_nftd_rule_cb(nlh, &r->c);
	if (r->c.err)
		e = r->c.err;
	else if (ch->nrules != before + 1)
		e = rp_fail(r, -EINVAL, "a rule for chain %s was not decoded", cn);
	else
		e = rp_rule_refs(r, &ch->rules[before]);
out:
	nftnl_rule_free(nr);
	free(nlh);
	return e;
}

static int rp_delrule(struct replay *r, const struct nlmsghdr *nlh)
{
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct nfr_chain *ch;
	int e = 0;

	if (!nr)
		return -ENOMEM;
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0 || nftnl_rule_is_set(nr, NFTNL_RULE_HANDLE)) {
		e = rp_fail(r, -EINVAL, "a rule deletion wardwall does not write%s", "");
	} else if (!(ch = nfr_chain_find(r->c.t, nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN)))) {
		e = rp_fail(r, -ENOENT, "flushing chain %s, which does not exist",
			    nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
	} else {
		for (size_t i = 0; i < ch->nrules; i++)
			nfr_rule_clear(&ch->rules[i]);
		ch->nrules = 0;
	}
	nftnl_rule_free(nr);
	return e;
}

static int rp_newchain(struct replay *r, const struct nlmsghdr *nlh)
{
	size_t before = r->c.t->nchains;

	ww_nftd_chain_cb(nlh, &r->c);
	if (r->c.err || r->c.t->nchains == before)
		return r->c.err ? r->c.err : rp_fail(r, -EINVAL, "a chain not decoded%s", "");
	struct nfr_chain *x = &r->c.t->chains[before];
	if (x->foreign)
		return rp_fail(r, -EINVAL, "a chain wardwall does not write: %s", x->foreign);
	/* An existing chain is updated, not duplicated: the new copy holds nothing more. */
	for (size_t i = 0; i < before; i++)
		if (!strcmp(r->c.t->chains[i].name, x->name)) {
			nfr_chain_clear(x);
			r->c.t->nchains--;
			return 0;
		}
	nfr_table_sort(r->c.t);
	return 0;
}

static int rp_delchain(struct replay *r, const char *name)
{
	struct nfr_table *t = r->c.t;
	struct nfr_chain *ch = name ? nfr_chain_find(t, name) : NULL;

	if (!ch)
		return rp_fail(r, -ENOENT, "deleting chain %s, which does not exist", name);
	if (ch->nrules)
		return rp_fail(r, -EBUSY, "deleting chain %s, which still has rules", name);
	if (referenced(r, name, true, false))
		return rp_fail(r, -EBUSY, "deleting chain %s, which is still jumped to", name);
	size_t i = (size_t)(ch - t->chains);
	nfr_chain_clear(ch);
	memmove(&t->chains[i], &t->chains[i + 1], (t->nchains - i - 1) * sizeof(*ch));
	t->nchains--;
	return 0;
}

static int rp_newset(struct replay *r, const struct nlmsghdr *nlh)
{
	struct nftnl_set *s = nftnl_set_alloc();
	size_t before = r->c.t->nsets;
	struct id_name in = {0};

	if (!s)
		return -ENOMEM;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0) {
		nftnl_set_free(s);
		return rp_fail(r, -EINVAL, "a set that does not parse%s", "");
	}
	if (nftnl_set_is_set(s, NFTNL_SET_ID)) {
		in.id = nftnl_set_get_u32(s, NFTNL_SET_ID);
		in.name = strdup(nftnl_set_get_str(s, NFTNL_SET_NAME));
		if (!in.name || VEC_PUSH(r->ids, r->nids, r->icap, in)) {
			free(in.name);
			nftnl_set_free(s);
			return -ENOMEM;
		}
	}
	nftnl_set_free(s);
	ww_nftd_set_cb(nlh, &r->c);
	if (r->c.err || r->c.t->nsets == before)
		return r->c.err ? r->c.err : rp_fail(r, -EINVAL, "a set not decoded%s", "");
	struct nfr_set *x = &r->c.t->sets[before];
	if (x->foreign)
		return rp_fail(r, -EINVAL, "a set wardwall does not write: %s", x->foreign);
	for (size_t i = 0; i < before; i++)
		if (!strcmp(r->c.t->sets[i].name, x->name)) {
			nfr_set_clear(x);
			r->c.t->nsets--;
			return rp_fail(r, -EEXIST, "set %s is created twice", r->c.t->sets[i].name);
		}
	nfr_table_sort(r->c.t);
	return 0;
}

/* The set a set or element message names, by name or by the id of a set new in the batch. */
static struct nfr_set *rp_set_of(struct replay *r, struct nftnl_set *s, const char **name)
{
	*name = nftnl_set_is_set(s, NFTNL_SET_NAME) ? nftnl_set_get_str(s, NFTNL_SET_NAME) : NULL;
	if (!*name && nftnl_set_is_set(s, NFTNL_SET_ID))
		for (size_t i = 0; i < r->nids; i++)
			if (r->ids[i].id == nftnl_set_get_u32(s, NFTNL_SET_ID))
				*name = r->ids[i].name;
	return *name ? nfr_set_find(r->c.t, *name) : NULL;
}

/*
 * libnftnl numbers the elements of a message it builds 1, 2, 3... as attribute types, which the
 * kernel ignores, while its parser wants every one to be NFTA_LIST_ELEM (as dumps have them):
 * a copy of the message with the types as a dump has them.
 */
static struct nlmsghdr *elems_as_dumped(const struct nlmsghdr *nlh)
{
	struct nlmsghdr *c = malloc(nlh->nlmsg_len);
	struct nlattr *a, *x;

	if (!c)
		return NULL;
	memcpy(c, nlh, nlh->nlmsg_len);
	mnl_attr_for_each(a, c, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == NFTA_SET_ELEM_LIST_ELEMENTS)
			mnl_attr_for_each_nested(x, a)
				x->nla_type = (uint16_t)((x->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM);
	return c;
}

/* Whether element e of set (rebuilt) has raw element k's key. */
static bool elem_has_key(const struct nfr_set *set, const struct nfr_elem *e,
			 const struct raw_elem *k)
{
	if (set->key == NK_IFNAME)
		return !strcmp(e->ifname ? e->ifname : "", k->ifname ? k->ifname : "");
	if (!set->cat.n)
		return e->lo == k->key;
	return e->lo == k->key && e->hi == k->key_end && !memcmp(e->clo, k->c, sizeof(e->clo)) &&
	       !memcmp(e->chi, k->cend, sizeof(e->chi));
}

/* Deletes the element whose key k has, from those added in this batch or those the set had;
 * false when neither has it. */
static bool delete_elem(struct nfr_set *set, struct pending *p, const struct raw_elem *k)
{
	for (size_t i = 0; i < p->ec.n; i++)
		if (ww_nftd_raw_same_key(&p->ec.v[i], k)) {
			ww_nftd_raw_free(&p->ec.v[i]);
			p->ec.v[i] = p->ec.v[--p->ec.n];
			return true;
		}
	for (size_t i = 0; i < set->nelems; i++)
		if (elem_has_key(set, &set->elems[i], k)) {
			struct nfr_elem *e = &set->elems[i];
			free(e->ifname), free(e->v.chain), free(e->obj);
			memmove(e, e + 1, (set->nelems - i - 1) * sizeof(*e));
			set->nelems--;
			return true;
		}
	return false;
}

/*
 * A deletion: without elements, a flush of the set; with, exactly those (keys only, as the
 * kernel identifies them). A plain interval set's elements are starts and ends wardwall never
 * deletes one by one (ww_nft_del_elems refuses them).
 */
static int rp_elems_del(struct replay *r, struct nftnl_set *s, struct nfr_set *set,
			struct pending *p)
{
	struct elems_ctx dc = {.c = &r->c, .set = set};
	int e = 0;

	if (nftnl_set_elem_foreach(s, ww_nftd_elem_cb, &dc) < 0)
		e = rp_fail(r, -EINVAL, "a deleted element of set %s that does not decode",
			    set->name);
	else if (dc.n && set->interval && !set->cat.n)
		e = rp_fail(r, -EINVAL, "deleting single elements of interval set %s", set->name);
	for (size_t i = 0; !e && i < dc.n; i++)
		if (!delete_elem(set, p, &dc.v[i]))
			e = rp_fail(r, -ENOENT, "deleting an element set %s does not have",
				    set->name);
	if (!e && !dc.n) {
		for (size_t i = 0; i < set->nelems; i++)
			free(set->elems[i].ifname), free(set->elems[i].v.chain),
			    free(set->elems[i].obj);
		set->nelems = 0;
		pending_drop(p);
	}
	for (size_t i = 0; i < dc.n; i++)
		ww_nftd_raw_free(&dc.v[i]);
	free(dc.v);
	return e;
}

/* The data of the elements just added, p->ec.v[from..]: a verdict only in a verdict map, to a
 * chain that exists; a counter only in an object map, one that exists. */
static int rp_elems_check(struct replay *r, const struct nfr_set *set, const struct pending *p,
			  size_t from)
{
	for (size_t i = from; i < p->ec.n; i++) {
		const struct raw_elem *x = &p->ec.v[i];
		if (x->v.kind && !set->vmap)
			return rp_fail(r, -EINVAL, "an element with a verdict in set %s",
				       set->name);
		if ((x->v.kind == NV_JUMP || x->v.kind == NV_GOTO) &&
		    !nfr_chain_find(r->c.t, x->v.chain))
			return rp_fail(r, -ENOENT,
				       "an element jumps to chain %s, which does not exist",
				       x->v.chain);
		if (x->obj && !set->objmap)
			return rp_fail(r, -EINVAL, "an element names an object in set %s",
				       set->name);
		if (set->objmap && !x->end && !x->obj)
			return rp_fail(r, -EINVAL, "an element without its counter in map %s",
				       set->name);
		if (x->obj && !nfr_counter_find(r->c.t, x->obj))
			return rp_fail(r, -ENOENT,
				       "an element names counter %s, which does not exist", x->obj);
	}
	return 0;
}

static int rp_setelems(struct replay *r, const struct nlmsghdr *msg, bool add)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh = elems_as_dumped(msg);
	const char *name = NULL;
	struct nfr_set *set;
	struct pending *p;
	int e = 0;

	if (!s || !nlh) {
		nftnl_set_free(s);
		free(nlh);
		return -ENOMEM;
	}
	if (nftnl_set_elems_nlmsg_parse(nlh, s) < 0) {
		e = rp_fail(r, -EINVAL, "elements that do not parse%s", "");
		goto out;
	}
	set = rp_set_of(r, s, &name);
	if (!set) {
		e = rp_fail(r, -ENOENT, "elements of set %s, which does not exist", name);
		goto out;
	}
	p = pending_of(r, set->name);
	if (!p) {
		e = -ENOMEM;
		goto out;
	}
	if (!add) {
		e = rp_elems_del(r, s, set, p);
		goto out;
	}
	size_t before = p->ec.n;
	p->ec.c = &r->c;
	p->ec.set = set;
	if (nftnl_set_elem_foreach(s, ww_nftd_elem_cb, &p->ec) < 0)
		e = rp_fail(r, -EINVAL, "an element of set %s that does not decode", set->name);
	else
		e = rp_elems_check(r, set, p, before);
out:
	nftnl_set_free(s);
	free(nlh);
	return e;
}

static int rp_delset(struct replay *r, const char *name)
{
	struct nfr_table *t = r->c.t;
	struct nfr_set *set = name ? nfr_set_find(t, name) : NULL;

	if (!set)
		return rp_fail(r, -ENOENT, "deleting set %s, which does not exist", name);
	if (referenced(r, name, false, true))
		return rp_fail(r, -EBUSY, "deleting set %s, which a rule still looks up", name);
	for (size_t i = 0; i < r->npend; i++)
		if (!strcmp(r->pend[i].set, name))
			pending_drop(&r->pend[i]);
	size_t i = (size_t)(set - t->sets);
	nfr_set_clear(set);
	memmove(&t->sets[i], &t->sets[i + 1], (t->nsets - i - 1) * sizeof(*set));
	t->nsets--;
	return 0;
}

static int rp_newobj(struct replay *r, const struct nlmsghdr *nlh)
{
	size_t nc = r->c.t->ncounters, nl = r->c.t->nlimits;

	ww_nftd_obj_cb(nlh, &r->c);
	if (r->c.err)
		return r->c.err;
	if (r->c.t->ncounters == nc && r->c.t->nlimits == nl)
		return rp_fail(r, -EINVAL, "an object wardwall does not write%s", "");
	/* An existing object is left as it is (the kernel ignores a create without EXCL). */
	if (r->c.t->ncounters > nc) {
		for (size_t i = 0; i < nc; i++)
			if (!strcmp(r->c.t->counters[i].name, r->c.t->counters[nc].name)) {
				free(r->c.t->counters[nc].name);
				r->c.t->ncounters--;
				break;
			}
	} else {
		for (size_t i = 0; i < nl; i++)
			if (!strcmp(r->c.t->limits[i].name, r->c.t->limits[nl].name)) {
				free(r->c.t->limits[nl].name);
				r->c.t->nlimits--;
				break;
			}
	}
	nfr_table_sort(r->c.t);
	return 0;
}

static int rp_delobj(struct replay *r, const struct nlmsghdr *nlh)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nfr_table *t = r->c.t;
	const char *name;
	int e = -ENOENT;

	if (!o)
		return -ENOMEM;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0 || !(name = nftnl_obj_get_str(o, NFTNL_OBJ_NAME))) {
		nftnl_obj_free(o);
		return rp_fail(r, -EINVAL, "an object deletion that does not parse%s", "");
	}
	if (referenced(r, name, false, false)) {
		e = rp_fail(r, -EBUSY, "deleting object %s, which a rule still names", name);
		nftnl_obj_free(o);
		return e;
	}
	uint32_t type = nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE);
	for (size_t i = 0; type == NFT_OBJECT_COUNTER && i < t->ncounters && e; i++)
		if (!strcmp(t->counters[i].name, name)) {
			free(t->counters[i].name);
			memmove(&t->counters[i], &t->counters[i + 1],
				(t->ncounters - i - 1) * sizeof(*t->counters));
			t->ncounters--;
			e = 0;
		}
	for (size_t i = 0; type == NFT_OBJECT_LIMIT && i < t->nlimits && e; i++)
		if (!strcmp(t->limits[i].name, name)) {
			free(t->limits[i].name);
			memmove(&t->limits[i], &t->limits[i + 1],
				(t->nlimits - i - 1) * sizeof(*t->limits));
			t->nlimits--;
			e = 0;
		}
	if (e)
		e = rp_fail(r, -ENOENT, "deleting object %s, which does not exist", name);
	nftnl_obj_free(o);
	return e;
}

static const char *msg_name(const struct nlmsghdr *nlh, int attr)
{
	const struct nlattr *a;

	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg))
		if (mnl_attr_get_type(a) == attr && !mnl_attr_validate(a, MNL_TYPE_NUL_STRING))
			return mnl_attr_get_str(a);
	return NULL;
}

static int rp_message(struct replay *r, const struct nlmsghdr *nlh)
{
	uint16_t type = nlh->nlmsg_type;

	if (type == NFNL_MSG_BATCH_BEGIN || type == NFNL_MSG_BATCH_END)
		return 0;
	if (type >> 8 != NFNL_SUBSYS_NFTABLES)
		return rp_fail(r, -EINVAL, "a message of another subsystem%s", "");
	type &= 0xff;
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	enum nfr_family fam = g->nfgen_family == NFPROTO_BRIDGE ? NFR_BRIDGE : NFR_INET;
	if (g->nfgen_family != NFPROTO_BRIDGE && g->nfgen_family != NFPROTO_INET)
		return rp_fail(r, -EINVAL, "a message for a family other than inet and bridge%s",
			       "");
	if (type == NFT_MSG_NEWTABLE) {
		if (r->c.t && r->c.t->family != fam)
			return rp_fail(r, -EINVAL, "a second table, of family %s",
				       nfr_family_str(fam));
		if (!r->c.t && !(r->c.t = calloc(1, sizeof(*r->c.t))))
			return -ENOMEM;
		r->c.t->family = r->c.family = fam;
		free(r->c.t->comment);
		r->c.t->comment = NULL;
		r->c.found = false;
		ww_nftd_table_cb(nlh, &r->c);
		return r->c.found ? 0 : rp_fail(r, -EINVAL, "a table other than %s", WW_NFT_TABLE);
	}
	if (!r->c.t || r->c.t->family != fam)
		return rp_fail(r, -ENOENT, "table %s wardwall does not exist", nfr_family_str(fam));
	switch (type) {
	case NFT_MSG_DELTABLE:
		nfr_table_free(r->c.t);
		r->c.t = NULL;
		for (size_t i = 0; i < r->npend; i++)
			pending_drop(&r->pend[i]);
		return 0;
	case NFT_MSG_NEWCHAIN:
		return rp_newchain(r, nlh);
	case NFT_MSG_DELCHAIN:
		return rp_delchain(r, msg_name(nlh, NFTA_CHAIN_NAME));
	case NFT_MSG_NEWRULE:
		return rp_newrule(r, nlh);
	case NFT_MSG_DELRULE:
		return rp_delrule(r, nlh);
	case NFT_MSG_NEWSET:
		return rp_newset(r, nlh);
	case NFT_MSG_DELSET:
		return rp_delset(r, msg_name(nlh, NFTA_SET_NAME));
	case NFT_MSG_NEWSETELEM:
	case NFT_MSG_DELSETELEM:
		return rp_setelems(r, nlh, type == NFT_MSG_NEWSETELEM);
	case NFT_MSG_NEWOBJ:
		return rp_newobj(r, nlh);
	case NFT_MSG_DELOBJ:
		return rp_delobj(r, nlh);
	default:
		return rp_fail(r, -EINVAL, "a message type wardwall does not send%s", "");
	}
}

int ww_nft_batch_replay(struct nfr_table **t, const void *buf, size_t len, struct strbuf *err)
{
	struct replay r = {.c = {.t = *t, .family = *t ? (*t)->family : NFR_INET}, .err = err};
	const struct nlmsghdr *nlh = buf;
	int left = (int)len, e = 0;

	for (; !e && mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left)) {
		r.msgno++;
		e = rp_message(&r, nlh);
	}
	if (!e && left)
		e = rp_fail(&r, -EINVAL, "%s bytes after the last whole message", "trailing");
	/* Elements are rebuilt into intervals once all of them are in, as a dump reads them. */
	for (size_t i = 0; i < r.npend; i++) {
		struct nfr_set *s = !e && r.c.t ? nfr_set_find(r.c.t, r.pend[i].set) : NULL;
		if (s && r.pend[i].ec.n) {
			r.pend[i].ec.set = s;
			r.pend[i].ec.c = &r.c;
			ww_nftd_rebuild(&r.pend[i].ec); /* frees the raw elements */
		} else {
			pending_drop(&r.pend[i]);
		}
		free(r.pend[i].set);
	}
	free(r.pend);
	for (size_t i = 0; i < r.nids; i++)
		free(r.ids[i].name);
	free(r.ids);
	if (!e && r.c.err)
		e = r.c.err;
	if (r.c.t)
		nfr_table_sort(r.c.t);
	*t = r.c.t;
	return e;
}
