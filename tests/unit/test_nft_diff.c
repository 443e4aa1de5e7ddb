// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft_diff.c: live table vs wanted table, as the changes one batch makes. The tables come from
 * the real compiler (nft_compile.c) on inline policies; no kernel is involved.
 */
#include "unit.h"

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

	assert_true(live->nsets > 0);
	live->sets[0].vmap = !live->sets[0].vmap;
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

UNIT_MAIN(cmocka_unit_test(same_table_no_change), cmocka_unit_test(no_live_table_adds_everything),
	  cmocka_unit_test(added_flow_adds_its_counter_only_once),
	  cmocka_unit_test(removed_flow_deletes_its_counter), cmocka_unit_test(diff_is_symmetric),
	  cmocka_unit_test(changed_port_rewrites_in_place),
	  cmocka_unit_test(foreign_set_type_replaces_the_table),
	  cmocka_unit_test(reject_adds_the_answer_chain_and_its_limit))
