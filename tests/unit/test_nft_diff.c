// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft_diff.c: live table vs wanted table, as the changes one batch makes. The tables come from
 * the real compiler (nft_compile.c) on inline policies, and the flow maps the compiler does not
 * emit yet are written by hand (flowmap.h); no kernel is involved. A batch is proven by replaying
 * it onto the live table the way nf_tables would (ww_nft_batch_replay, which refuses what the
 * kernel refuses): the result must be the wanted table.
 */
#include "unit.h"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "flowmap.h"
#include "nft_compile.h"
#include "nft_diff.h"

#define FLOW_A "{'id': 'a', 'from': 'lab', 'to': 'campus/db', 'services': 'ssh', 'action': 'allow'}"
#define FLOW_B                                                                                     \
	"{'id': 'b', 'from': 'dmz', 'to': 'campus/servers', 'services': 'https', 'action': 'allow'}"

static struct nfr_table *compile_at(const char *text, const char *file, int line)
{
	struct ww_policy *p = unit_parse_ok_at(text, file, line);
	struct nfr_table *t = NULL;

	_assert_int_equal(ww_compile_nft(p, &t), 0, file, line);
	ww_policy_free(p);
	return t;
}
#define compile(text) compile_at(text, __FILE__, __LINE__)

static size_t count(const struct ww_nft_diff *d, enum ww_op op, enum ww_objkind kind)
{
	return ww_nft_diff_count(d, op, kind);
}

/* The change of kind to the object called name, or NULL. */
static const struct ww_nft_change *change_of(const struct ww_nft_diff *d, enum ww_objkind kind,
					     const char *name)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].kind == kind && !strcmp(d->v[i].name, name))
			return &d->v[i];
	return NULL;
}

static void same_table_no_change(void **state)
{
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_A ", " FLOW_B "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_A ", " FLOW_B "]"));
	struct ww_nft_diff d = {0};

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_int_equal(d.n, 0);
	assert_false(d.replace);
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
}

static void no_live_table_adds_everything(void **state)
{
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct ww_nft_diff d = {0};

	assert_int_equal(ww_nft_diff(NULL, want, &d), 0);
	assert_false(d.replace);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_COUNTER), want->ncounters);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_SET), want->nsets);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_CHAIN), want->nchains);
	assert_int_equal(count(&d, WW_DEL, WW_OBJ_CHAIN), 0);
	assert_int_equal(count(&d, WW_CHANGE, WW_OBJ_CHAIN), 0);
	ww_nft_diff_free(&d);
	nfr_table_free(want);
}

static void added_flow_adds_its_counter_only_once(void **state)
{
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_A ", " FLOW_B "]"));
	struct ww_nft_diff d = {0};
	const struct ww_nft_change *c;

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_false(d.replace);
	c = change_of(&d, WW_OBJ_COUNTER, WW_NFT_FLOW_PREFIX "b");
	assert_non_null(c);
	assert_int_equal(c->op, WW_ADD);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_COUNTER), 1);
	/* Flow a's counter is kept: its packets go on counting. */
	assert_null(change_of(&d, WW_OBJ_COUNTER, WW_NFT_FLOW_PREFIX "a"));
	assert_int_equal(count(&d, WW_DEL, WW_OBJ_COUNTER), 0);
	assert_true(d.n > 1); /* and the chains and maps that lead to it */
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
}

static void removed_flow_deletes_its_counter(void **state)
{
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_A ", " FLOW_B "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct ww_nft_diff d = {0};
	const struct ww_nft_change *c;

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	c = change_of(&d, WW_OBJ_COUNTER, WW_NFT_FLOW_PREFIX "b");
	assert_non_null(c);
	assert_int_equal(c->op, WW_DEL);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_COUNTER), 0);
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
}

/* Going there and back again: the changes of one direction mirror those of the other. */
static void diff_is_symmetric(void **state)
{
	struct nfr_table *one = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct nfr_table *two = compile(UNIT_POL(", 'flows': [" FLOW_A ", " FLOW_B "]"));
	struct ww_nft_diff up = {0}, down = {0};
	enum ww_objkind kinds[] = {WW_OBJ_COUNTER, WW_OBJ_LIMIT, WW_OBJ_SET, WW_OBJ_CHAIN};

	assert_int_equal(ww_nft_diff(one, two, &up), 0);
	assert_int_equal(ww_nft_diff(two, one, &down), 0);
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
		assert_int_equal(count(&up, WW_ADD, kinds[k]), count(&down, WW_DEL, kinds[k]));
		assert_int_equal(count(&up, WW_DEL, kinds[k]), count(&down, WW_ADD, kinds[k]));
		assert_int_equal(count(&up, WW_CHANGE, kinds[k]), count(&down, WW_CHANGE, kinds[k]));
	}
	ww_nft_diff_free(&up);
	ww_nft_diff_free(&down);
	nfr_table_free(one);
	nfr_table_free(two);
}

/* A service change (ssh to https) keeps every counter and rewrites only what decides the port. */
static void changed_port_rewrites_in_place(void **state)
{
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [{'id': 'a', 'from': 'lab', 'to': "
						  "'campus/db', 'services': 'https', 'action': 'allow'}]"));
	struct ww_nft_diff d = {0};

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_false(d.replace);
	assert_true(d.n > 0);
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_COUNTER), 0);
	assert_int_equal(count(&d, WW_DEL, WW_OBJ_COUNTER), 0);
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
}

/* A live map under one of wardwall's names but of another type cannot be edited: replace. */
static void foreign_set_type_replaces_the_table(void **state)
{
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_A "]"));
	struct ww_nft_diff d = {0};

	struct nfr_set *s = NULL;

	/* A content-addressed map (a flow map of another type is made again, not replaced). */
	for (size_t i = 0; i < live->nsets && !s; i++)
		if (!strncmp(live->sets[i].name, "src4-", 5))
			s = &live->sets[i];
	assert_non_null(s);
	s->vmap = !s->vmap;
	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_true(d.replace);
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
}

/* A rejecting flow's decision goes to chain answer, which exists, with its limit, only then;
 * turning a deny into a reject adds both and changes nothing else but the decision. */
static void reject_adds_the_answer_chain_and_its_limit(void **state)
{
#define FLOW_R(act)                                                                                \
	"{'id': 'r', 'from': 'lab', 'to': 'campus/db', 'services': 'ssh', 'action': '" act "'}"
	struct nfr_table *live = compile(UNIT_POL(", 'flows': [" FLOW_R("deny") "]"));
	struct nfr_table *want = compile(UNIT_POL(", 'flows': [" FLOW_R("reject") "]"));
	struct ww_nft_diff d = {0};
	struct strbuf sb = {0};
	const struct nfr_chain *ch;

	assert_null(nfr_chain_find(live, WW_NFT_REJECT_CHAIN));
	ch = nfr_chain_find(want, WW_NFT_REJECT_CHAIN);
	assert_non_null(ch);
	nfr_chain_body(ch, &sb);
	assert_string_equal(sb_str(&sb),
			    "meta l4proto 6 limit name \"reject/10\" reject with tcp reset\n"
			    "meta l4proto 6 drop\n"
			    "limit name \"reject/10\" reject with icmpx admin-prohibited\n"
			    "drop\n");
	sb_free(&sb);
	bool limit = false;
	for (size_t i = 0; i < want->nlimits; i++)
		if (!strcmp(want->limits[i].name, WW_NFT_REJECT_LIMIT))
			limit = want->limits[i].rate == 10 && want->limits[i].burst == 20;
	assert_true(limit);
	/* The flow's decision chain counts and logs it as a deny, then goes there. */
	bool goes = false;
	for (size_t i = 0; i < want->nchains; i++)
		for (size_t j = 0; j + 1 < want->chains[i].nrules; j++) {
			const struct nfr_rule *r = &want->chains[i].rules[j];
			if (r->counter && !strcmp(r->counter, WW_NFT_FLOW_PREFIX "r"))
				goes = r->log_prefix && strstr(r->log_prefix, ":deny:") &&
				       r[1].v.kind == NV_GOTO &&
				       !strcmp(r[1].v.chain, WW_NFT_REJECT_CHAIN);
		}
	assert_true(goes);

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_false(d.replace);
	assert_non_null(change_of(&d, WW_OBJ_CHAIN, WW_NFT_REJECT_CHAIN));
	assert_int_equal(change_of(&d, WW_OBJ_CHAIN, WW_NFT_REJECT_CHAIN)->op, WW_ADD);
	assert_non_null(change_of(&d, WW_OBJ_LIMIT, WW_NFT_REJECT_LIMIT));
	assert_int_equal(count(&d, WW_ADD, WW_OBJ_COUNTER), 0);
	ww_nft_diff_free(&d);
	nfr_table_free(live);
	nfr_table_free(want);
#undef FLOW_R
}

/* ---- flow maps: stable names, changed element by element ---- */

/* Class z's flow maps with the pieces els; a piece going to `dec-x` brings that decision chain,
 * counting flow x. */
static struct nfr_table *flows(const struct fm_el *els, size_t n)
{
	struct nfr_table *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	for (size_t i = 0; i < n; i++)
		if (!strncmp(els[i].verdict, "goto dec-", 9)) {
			char *counter = xstrdup_printf("flow/%s", els[i].verdict + 9);
			fm_dec(t, els[i].verdict + 5, counter, "accept");
			free(counter);
		}
	fm_maps(t, "z", FM_P4, els, n);
	nfr_table_sort(t);
	return t;
}

/* The messages of a batch, one a line: "delsetelem fp4/z" (the object's name, or "#id" for a set
 * new in the batch, named by its transaction id). */
static char *messages(struct ww_nft_batch *b)
{
	static const char *const names[NFT_MSG_MAX] = {
	    [NFT_MSG_NEWCHAIN] = "newchain",	 [NFT_MSG_DELCHAIN] = "delchain",
	    [NFT_MSG_NEWRULE] = "newrule",	 [NFT_MSG_DELRULE] = "delrule",
	    [NFT_MSG_NEWSET] = "newset",	 [NFT_MSG_DELSET] = "delset",
	    [NFT_MSG_NEWSETELEM] = "newsetelem", [NFT_MSG_DELSETELEM] = "delsetelem",
	    [NFT_MSG_NEWOBJ] = "newobj",	 [NFT_MSG_DELOBJ] = "delobj",
	    [NFT_MSG_NEWTABLE] = "newtable",	 [NFT_MSG_DELTABLE] = "deltable",
	};
	struct strbuf bytes = {0}, out = {0};

	assert_int_equal(ww_nft_batch_bytes(b, &bytes), 0);
	for (const struct nlmsghdr *h = (const void *)bytes.s;
	     mnl_nlmsg_ok(h, (int)(bytes.s + bytes.len - (const char *)h));
	     h = (const void *)((const char *)h + NLMSG_ALIGN(h->nlmsg_len))) {
		unsigned int type = h->nlmsg_type & 0xff;
		const struct nlattr *a;
		const char *name = NULL;
		if ((h->nlmsg_type >> 8) != NFNL_SUBSYS_NFTABLES)
			continue; /* the batch begin */
		/* The attribute naming the object: a chain's own name; for the rest, attribute 2. */
		_Static_assert(NFTA_RULE_CHAIN == 2 && NFTA_SET_NAME == 2 &&
				       NFTA_SET_ELEM_LIST_SET == 2 && NFTA_OBJ_NAME == 2,
			       "the name attribute of rules, sets, elements and objects");
		bool chain = type == NFT_MSG_NEWCHAIN || type == NFT_MSG_DELCHAIN;
		mnl_attr_for_each(a, h, sizeof(struct nfgenmsg)) {
			if (mnl_attr_get_type(a) == (chain ? NFTA_CHAIN_NAME : 2))
				name = mnl_attr_get_str(a);
		}
		assert_true(type < NFT_MSG_MAX && names[type]);
		sb_addf(&out, "%s %s\n", names[type], name ? name : "#id");
	}
	sb_free(&bytes);
	return sb_steal(&out);
}

/*
 * The batch from live to want: its messages (as messages() says them) must be want_msgs, and
 * replayed onto live it must leave the wanted table, with nothing more for a diff to do.
 */
static void batch_is(struct nfr_table *live, struct nfr_table *want, const char *want_msgs)
{
	struct ww_nft_diff d;
	struct ww_nft_batch *b = NULL;
	struct strbuf bytes = {0}, err = {0}, x = {0}, y = {0};
	char *msgs;

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_false(d.replace);
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	assert_int_equal(ww_nft_diff_batch(live, want, &d, b), 0);
	msgs = messages(b);
	assert_string_equal(msgs, want_msgs);
	free(msgs);
	ww_nft_diff_free(&d);
	assert_int_equal(ww_nft_batch_bytes(b, &bytes), 0);
	if (ww_nft_batch_replay(&live, sb_str(&bytes), bytes.len, &err))
		fail_msg("the batch does not replay: %s", sb_str(&err));
	nfr_table_render(live, &x);
	nfr_table_render(want, &y);
	assert_string_equal(sb_str(&x), sb_str(&y));
	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_int_equal(d.n, 0);
	ww_nft_diff_free(&d);
	ww_nft_batch_free(b);
	sb_free(&bytes);
	sb_free(&err);
	sb_free(&x);
	sb_free(&y);
	nfr_table_free(live);
	nfr_table_free(want);
}


/* One flow's port: its element in each map deleted and added again; no map, chain or counter
 * is touched, however many flows the maps hold. */
static void flow_port_change_edits_two_elements(void **state)
{
	const struct fm_el before[] = {EL_A("10.1.0.0/24", 443), EL_B, EL_C("drop")};
	const struct fm_el after[] = {EL_A("10.1.0.0/24", 8443), EL_B, EL_C("drop")};
	struct nfr_table *live = flows(before, 3), *want = flows(after, 3);
	struct ww_nft_diff d;

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_int_equal(d.n, 2);
	assert_true(d.v[0].elems && d.v[1].elems);
	assert_false(d.v[0].recreate || d.v[1].recreate);
	ww_nft_diff_free(&d);
	batch_is(live, want,
		 "delsetelem cp4/z\n"
		 "delsetelem fp4/z\n"
		 "newsetelem cp4/z\n"
		 "newsetelem fp4/z\n");
}

/* A wider destination overlaps the old element: the kernel takes it only once that is gone, so
 * the deletion comes first (suite 38 shows the kernel refusing the other order). */
static void overlapping_element_is_deleted_first(void **state)
{
	const struct fm_el before[] = {EL_A("10.1.0.0/24", 443), EL_B, EL_C("drop")};
	const struct fm_el after[] = {EL_A("10.1.0.0/16", 443), EL_B, EL_C("drop")};

	batch_is(flows(before, 3), flows(after, 3),
		 "delsetelem cp4/z\n"
		 "delsetelem fp4/z\n"
		 "newsetelem cp4/z\n"
		 "newsetelem fp4/z\n");
}

/* A changed verdict under the same key: that element alone, in the verdict map alone. */
static void verdict_change_edits_one_element(void **state)
{
	const struct fm_el before[] = {EL_A("10.1.0.0/24", 443), EL_B, EL_C("drop")};
	const struct fm_el after[] = {EL_A("10.1.0.0/24", 443), EL_B, EL_C("accept")};

	batch_is(flows(before, 3), flows(after, 3),
		 "delsetelem fp4/z\n"
		 "newsetelem fp4/z\n");
}

/* New flows: their counters and decision chain exist before the elements that name them. */
static void new_flows_create_what_their_elements_name(void **state)
{
	const struct fm_el before[] = {EL_A("10.1.0.0/24", 443), EL_C("drop")};
	const struct fm_el after[] = {EL_A("10.1.0.0/24", 443),
				      EL_B,
				      EL_C("drop"),
				      {"10.5.0.1", 132, 132, 1, 100, "accept", "flow/e"}};

	batch_is(flows(before, 2), flows(after, 4),
		 "newobj flow/b\n"
		 "newobj flow/e\n"
		 "newchain dec-b\n"
		 "newrule dec-b\n"
		 "newsetelem cp4/z\n"
		 "newsetelem fp4/z\n");
}

/* Flows gone: their elements go before the counters and the chain they name. */
static void removed_flows_delete_elements_first(void **state)
{
	const struct fm_el before[] = {EL_A("10.1.0.0/24", 443),
				       EL_B,
				       EL_C("drop"),
				       {"10.5.0.1", 132, 132, 1, 100, "accept", "flow/e"}};
	const struct fm_el after[] = {EL_A("10.1.0.0/24", 443), EL_C("drop")};

	batch_is(flows(before, 4), flows(after, 2),
		 "delrule dec-b\n"
		 "delsetelem cp4/z\n"
		 "delsetelem fp4/z\n"
		 "delchain dec-b\n"
		 "delobj flow/b\n"
		 "delobj flow/e\n");
}

/* A flow map of another type (here made without interval flags, out of band) is made again; the
 * chain looking it up, unchanged, is emptied before and filled after. The rest of the table
 * stays. */
static void retyped_flow_map_is_made_again(void **state)
{
	const struct fm_el els[] = {EL_A("10.1.0.0/24", 443), EL_C("drop")};
	struct nfr_table *live = flows(els, 2), *want = flows(els, 2);
	struct ww_nft_diff d;

	nfr_set_find(live, "fp4/z")->interval = false;
	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	assert_false(d.replace);
	assert_int_equal(d.n, 2);
	assert_true(d.v[0].recreate);
	assert_int_equal(d.v[1].op, WW_CHANGE);
	assert_int_equal(d.v[1].kind, WW_OBJ_CHAIN);
	ww_nft_diff_free(&d);
	batch_is(live, want,
		 "delrule from/z\n"
		 "delset fp4/z\n"
		 "newset fp4/z\n"
		 "newsetelem #id\n"
		 "newrule from/z\n"
		 "newrule from/z\n");
}

/* A class's last flow gone: its maps and the rules using them go; and back. */
static void emptied_class_deletes_its_maps(void **state)
{
	const struct fm_el els[] = {EL_A("10.1.0.0/24", 443)};
	struct nfr_table *none = calloc(1, sizeof(*none));

	fm_chain(none, "from/z");
	batch_is(flows(els, 1), none,
		 "delrule from/z\n"
		 "delset cp4/z\n"
		 "delset fp4/z\n"
		 "delobj flow/a\n");
	none = calloc(1, sizeof(*none));
	fm_chain(none, "from/z");
	batch_is(none, flows(els, 1),
		 "newobj flow/a\n"
		 "delrule from/z\n" /* emptying the empty chain: a chain that changes is emptied */
		 "newset cp4/z\n"
		 "newsetelem #id\n"
		 "newset fp4/z\n"
		 "newsetelem #id\n"
		 "newrule from/z\n"
		 "newrule from/z\n");
}

/* ---- class-keyed flow maps (issue 12, round 3): keyed on the destination's class in the mark */

/* Class z's maps keyed on the mark's class bits, looked up with mask; the chain writing class
 * w's number (to/w: keep the bits outside 0xffff0000, set bits). */
static struct nfr_table *mark_flows(const struct fm_el *els, size_t n, uint32_t mask, uint32_t bits)
{
	struct nfr_table *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	fm_maps(t, "z", FM_MP, els, n);
	for (size_t i = 0; i < t->chains[0].nrules; i++)
		t->chains[0].rules[i].cat.mark_mask = mask;
	fm_set_mark(t, "to/w", ~0xffff0000u, bits);
	nfr_table_sort(t);
	return t;
}

/* The changes of a diff, one a line: "change set fp/z (elements)". */
static char *changes(const struct nfr_table *live, const struct nfr_table *want)
{
	static const char *const ops[] = {
	    [WW_ADD] = "add", [WW_DEL] = "del", [WW_CHANGE] = "change"};
	static const char *const kinds[] = {"table", "counter", "limit", "set", "chain"};
	struct ww_nft_diff d;
	struct strbuf out = {0};

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	if (d.replace)
		sb_add(&out, "replace\n");
	for (size_t i = 0; i < d.n; i++)
		sb_addf(&out, "%s %s %s%s%s\n", ops[d.v[i].op], kinds[d.v[i].kind], d.v[i].name,
			d.v[i].elems ? " (elements)" : "", d.v[i].recreate ? " (made again)" : "");
	ww_nft_diff_free(&d);
	return sb_steal(&out);
}

#define assert_changes(live, want, text)                                                           \
	do {                                                                                       \
		char *c_ = changes(live, want);                                                    \
		assert_string_equal(c_, text);                                                     \
		free(c_);                                                                          \
	} while (0)

/* A flow to another class, or with another port: its elements in both maps, as for addresses;
 * nothing else. The same tables: nothing. */
static void mark_keyed_maps_change_by_elements(void **state)
{
	const struct fm_el a[] = {{"0x00010000", 6, 6, 443, 443, "accept", "flow/a"},
				  {"0x00020000", 17, 17, 53, 53, "drop", "flow/c"}};
	const struct fm_el b[] = {{"0x00030000", 6, 6, 443, 443, "accept", "flow/a"},
				  {"0x00020000", 17, 17, 53, 53, "drop", "flow/c"}};
	const struct fm_el c[] = {{"0x00010000", 6, 6, 443, 443, "accept", "flow/a"},
				  {"0x00020000", 17, 17, 54, 54, "drop", "flow/c"}};
	struct nfr_table *ta = mark_flows(a, 2, 0x00ff0000, 0x00010000);
	struct nfr_table *ta2 = mark_flows(a, 2, 0x00ff0000, 0x00010000);
	struct nfr_table *tb = mark_flows(b, 2, 0x00ff0000, 0x00010000);
	struct nfr_table *tc = mark_flows(c, 2, 0x00ff0000, 0x00010000);

	assert_changes(ta, ta2, "");
	assert_changes(ta, tb, "change set cp/z (elements)\nchange set fp/z (elements)\n");
	assert_changes(ta, tc, "change set cp/z (elements)\nchange set fp/z (elements)\n");
	/* tc's port back to a's and another verdict: the verdict map alone. */
	assert_string_equal(tc->sets[1].name, "fp/z");
	tc->sets[1].elems[1].clo[1] = tc->sets[1].elems[1].chi[1] = 53;
	tc->sets[0].elems[1].clo[1] = tc->sets[0].elems[1].chi[1] = 53;
	assert_changes(ta, tc, "");
	tc->sets[1].elems[1].v.kind = NV_ACCEPT;
	assert_changes(ta, tc, "change set fp/z (elements)\n");
	nfr_table_free(ta);
	nfr_table_free(ta2);
	nfr_table_free(tb);
	nfr_table_free(tc);
}

/* Another mask (mark_bits changed) rewrites the chain looking the maps up; another class number
 * written, the chain writing it; the maps, keyed on masked values, are the elements' business. */
static void mask_and_set_mark_are_chain_changes(void **state)
{
	const struct fm_el a[] = {{"0x00010000", 6, 6, 443, 443, "accept", "flow/a"}};
	struct nfr_table *t = mark_flows(a, 1, 0x00ff0000, 0x00010000);
	struct nfr_table *mask = mark_flows(a, 1, 0x0fff0000, 0x00010000);
	struct nfr_table *other = mark_flows(a, 1, 0x00ff0000, 0x00020000);
	struct nfr_table *none = mark_flows(a, 1, 0x00ff0000, 0);

	assert_changes(t, mask, "change chain from/z\n");
	assert_changes(t, other, "change chain to/w\n");
	assert_changes(t, none, "change chain to/w\n");
	nfr_chain_find(none, "to/w")->rules[0].mark_keep = 0x00ff0000;
	nfr_chain_find(none, "to/w")->rules[0].mark_or = 0x00010000;
	assert_changes(t, none, "change chain to/w\n");
	nfr_table_free(t);
	nfr_table_free(mask);
	nfr_table_free(other);
	nfr_table_free(none);
}

/* An address-keyed map keyed on the mark instead under the same name is another type: made
 * again, the chain looking it up rewritten around it. */
static void address_keyed_map_to_mark_keyed_is_made_again(void **state)
{
	const struct fm_el els[] = {EL_A("10.1.0.0/24", 443)};
	struct nfr_table *live = flows(els, 1), *want = flows(els, 1);
	struct nfr_chain *from = nfr_chain_find(want, "from/z");

	for (size_t i = 0; i < want->nsets; i++) {
		want->sets[i].cat.f[0] = NK_MARK;
		want->sets[i].elems[0].lo = want->sets[i].elems[0].hi = 0x00010000;
	}
	for (size_t i = 0; i < from->nrules; i++)
		from->rules[i].cat = (struct nfr_cat){
		    .f = {NK_MARK, NK_L4PROTO, NK_TH_DPORT}, .n = 3, .mark_mask = 0x00ff0000};
	assert_changes(live, want,
		       "change set cp4/z (made again)\nchange set fp4/z (made again)\n"
		       "change chain from/z\n");
	nfr_table_free(live);
	nfr_table_free(want);
}

/* Errors and plan name a flow map by what it is for. */
static void flow_maps_are_described_by_their_class(void **state)
{
	const struct fm_el els[] = {EL_A("10.1.0.0/24", 443)};
	struct nfr_table *t = flows(els, 1);
	struct strbuf sb = {0};

	ww_nft_describe(t, WW_OBJ_SET, "fp4/z", &sb);
	assert_string_equal(sb_str(&sb), "map fp4/z (destinations of flows from z)");
	sb_reset(&sb);
	ww_nft_describe(t, WW_OBJ_SET, "cp4/z", &sb);
	assert_string_equal(sb_str(&sb), "map cp4/z (counters of flows from z)");
	sb_free(&sb);
	nfr_table_free(t);
}

UNIT_MAIN(cmocka_unit_test(same_table_no_change), cmocka_unit_test(no_live_table_adds_everything),
	  cmocka_unit_test(added_flow_adds_its_counter_only_once),
	  cmocka_unit_test(removed_flow_deletes_its_counter), cmocka_unit_test(diff_is_symmetric),
	  cmocka_unit_test(changed_port_rewrites_in_place),
	  cmocka_unit_test(foreign_set_type_replaces_the_table),
	  cmocka_unit_test(reject_adds_the_answer_chain_and_its_limit),
	  cmocka_unit_test(flow_port_change_edits_two_elements),
	  cmocka_unit_test(overlapping_element_is_deleted_first),
	  cmocka_unit_test(verdict_change_edits_one_element),
	  cmocka_unit_test(new_flows_create_what_their_elements_name),
	  cmocka_unit_test(removed_flows_delete_elements_first),
	  cmocka_unit_test(retyped_flow_map_is_made_again),
	  cmocka_unit_test(emptied_class_deletes_its_maps),
	  cmocka_unit_test(mark_keyed_maps_change_by_elements),
	  cmocka_unit_test(mask_and_set_mark_are_chain_changes),
	  cmocka_unit_test(address_keyed_map_to_mark_keyed_is_made_again),
	  cmocka_unit_test(flow_maps_are_described_by_their_class))
