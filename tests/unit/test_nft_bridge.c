// SPDX-License-Identifier: GPL-2.0-only
/*
 * nft_bridge.c and the bridge family through the whole nftables tier without a kernel: the
 * compiled `table bridge wardwall`, its batch replayed the way nf_tables applies it and decoded
 * by the readback's own decoders (nft_replay.c), a change of mode as one transaction, and the
 * readback's mode.
 */
#include "unit.h"

#include "nft_bridge.h"
#include "nft_compile.h"
#include "nft_diff.h"
#include "nft_nl.h"
#include "nft_readback.h"

#define FLOWS                                                                                      \
	", 'flows': [{'id': 'a', 'from': 'lab', 'to': 'campus/db', 'services': ['ssh', 'ping'], "  \
	"'action': 'allow'}, {'id': 'b', 'from': 'lab/scope', 'to': 'lab', 'services': 'https', "  \
	"'action': 'deny'}]"
#define BRIDGE	", 'enforcement': {'mode': 'bridge', 'interfaces': ['port-1', 'port-2']}"
#define GATEWAY ", 'enforcement': {'mode': 'gateway', 'interfaces': ['port-1', 'port-2']}"

static struct nfr_table *compile_at(const char *text, const char *file, int line)
{
	struct ww_policy *p = unit_parse_ok_at(text, file, line);
	struct nfr_table *t = NULL;

	_assert_int_equal(ww_compile_nft(p, &t), 0, file, line);
	ww_policy_free(p);
	return t;
}
#define compile(text) compile_at(text, __FILE__, __LINE__)

static char *render(const struct nfr_table *t)
{
	struct strbuf sb = {0};

	nfr_table_render(t, &sb);
	assert_false(sb.oom);
	return sb_steal(&sb);
}

/* The batch from live (NULL: none) to want, replayed onto *t; returns the diff's replace. */
static bool replay(const struct nfr_table *live, const struct nfr_table *want, struct nfr_table **t)
{
	struct ww_nft_diff d;
	struct ww_nft_batch *b = NULL;
	struct strbuf bytes = {0}, err = {0};
	bool replace;

	assert_int_equal(ww_nft_diff(live, want, &d), 0);
	replace = d.replace;
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	assert_int_equal(ww_nft_diff_batch(live, want, &d, b), 0);
	assert_int_equal(ww_nft_batch_bytes(b, &bytes), 0);
	if (ww_nft_batch_replay(t, sb_str(&bytes), bytes.len, &err))
		fail_msg("replay: %s", sb_str(&err));
	ww_nft_batch_free(b);
	ww_nft_diff_free(&d);
	sb_free(&bytes);
	sb_free(&err);
	return replace;
}

static void assert_same(const struct nfr_table *want, const struct nfr_table *got)
{
	char *a = render(want), *b = render(got);
	struct ww_nft_diff d;

	assert_string_equal(a, b);
	assert_int_equal(ww_nft_diff(got, want, &d), 0);
	assert_int_equal(d.n, 0);
	assert_false(d.replace);
	ww_nft_diff_free(&d);
	free(a);
	free(b);
}

static void bridge_table_shape(void **state)
{
	struct nfr_table *t = compile(UNIT_POL(FLOWS BRIDGE));
	const struct nfr_chain *base = nfr_chain_find(t, WW_NFT_BRIDGE_BASE);
	const struct nfr_chain *ip = nfr_chain_find(t, WW_NFT_BRIDGE_IP);
	char *text = render(t);

	assert_int_equal(t->family, NFR_BRIDGE);
	assert_non_null(base);
	assert_int_equal(base->hook, NH_BR_FORWARD);
	assert_int_equal(base->prio, -200);
	/* Only IPv4 and IPv6 go on to be judged; the rest passes by the chain's policy. */
	assert_int_equal(base->nrules, 2);
	assert_int_equal(base->rules[0].key, NK_PROTOCOL);
	assert_int_equal(base->rules[0].lo, NFR_ETH_IP);
	assert_int_equal(base->rules[1].lo, NFR_ETH_IP6);
	assert_non_null(ip);
	assert_int_equal(ip->rules[0].ct_state, NFR_CT_ESTABLISHED | NFR_CT_RELATED);
	assert_true(ip->rules[2].not_ifaces);
	assert_null(nfr_chain_find(t, "gw_forward"));
	assert_non_null(nfr_chain_find(t, "classify"));
	assert_int_equal(nfr_set_find(t, "ifaces")->nelems, 2);
	assert_int_equal(nfr_set_find(t, "nd6")->nelems, 5);
	assert_non_null(strstr(text, "table bridge wardwall {\n"));
	assert_non_null(strstr(text, "type filter hook forward priority filter; policy accept;\n"
				     "\t\tmeta protocol ip goto br_ip\n"
				     "\t\tmeta protocol ip6 goto br_ip\n"));
	/* ICMP by type is a flow map keyed on the destination's class in the mark: the text says
	 * its network protocol, meta protocol (nft's own dependency would be the link header's
	 * ether type, which reads a VLAN tag's type), as the batch writes it (suites 38, 39). */
	assert_non_null(strstr(text, "meta protocol ip meta mark & 0xffff0000 . icmp type vmap @fi4/"));
	free(text);
	nfr_table_free(t);
}

/* The same policy in gateway mode compiles to the same judging chains: only the way in differs. */
static void same_chains_as_gateway(void **state)
{
	struct nfr_table *br = compile(UNIT_POL(FLOWS BRIDGE));
	struct nfr_table *gw = compile(UNIT_POL(FLOWS GATEWAY));

	assert_int_equal(gw->family, NFR_INET);
	for (size_t i = 0; i < gw->nchains; i++) {
		const struct nfr_chain *c = &gw->chains[i];
		if (c->hook)
			continue;
		const struct nfr_chain *d = nfr_chain_find(br, c->name);
		assert_non_null(d);
		struct strbuf a = {0}, b = {0};
		nfr_chain_body(c, &a);
		nfr_chain_body(d, &b);
		assert_string_equal(sb_str(&a), sb_str(&b));
		sb_free(&a);
		sb_free(&b);
	}
	nfr_table_free(br);
	nfr_table_free(gw);
}

static void cold_batch_reads_back(void **state)
{
	struct nfr_table *want = compile(UNIT_POL(FLOWS BRIDGE)), *t = NULL;

	assert_false(replay(NULL, want, &t));
	assert_non_null(t);
	assert_int_equal(t->family, NFR_BRIDGE);
	assert_same(want, t);
	nfr_table_free(t);
	nfr_table_free(want);
}

/* gateway -> bridge -> gateway: each one batch that deletes one family's table and creates the
 * other's; what the replay holds afterwards is exactly the compiled table. */
static void mode_change_is_one_transaction(void **state)
{
	struct nfr_table *gw = compile(UNIT_POL(FLOWS GATEWAY));
	struct nfr_table *br = compile(UNIT_POL(FLOWS BRIDGE)), *t = NULL;

	replay(NULL, gw, &t);
	assert_same(gw, t);
	assert_true(replay(t, br, &t));
	assert_int_equal(t->family, NFR_BRIDGE);
	assert_same(br, t);
	assert_true(replay(t, gw, &t));
	assert_int_equal(t->family, NFR_INET);
	assert_same(gw, t);
	nfr_table_free(t);
	nfr_table_free(br);
	nfr_table_free(gw);
}

/* A batch for the bridge table cannot touch an inet table that is not there. */
static void replay_refuses_a_family_mix(void **state)
{
	struct nfr_table *gw = compile(UNIT_POL(FLOWS GATEWAY));
	struct nfr_table *br = compile(UNIT_POL(FLOWS BRIDGE)), *t = NULL;
	struct ww_nft_batch *b = NULL;
	struct strbuf bytes = {0}, err = {0};

	replay(NULL, gw, &t);
	assert_int_equal(ww_nft_batch_new(&b, 1), 0);
	ww_nft_batch_family(b, NFR_BRIDGE);
	assert_int_equal(ww_nft_add_chain(b, nfr_chain_find(br, WW_NFT_BRIDGE_IP), "chain br_ip"),
			 0);
	assert_int_equal(ww_nft_batch_bytes(b, &bytes), 0);
	assert_int_equal(ww_nft_batch_replay(&t, sb_str(&bytes), bytes.len, &err), -ENOENT);
	assert_non_null(strstr(sb_str(&err), "table bridge wardwall does not exist"));
	ww_nft_batch_free(b);
	sb_free(&bytes);
	sb_free(&err);
	nfr_table_free(t);
	nfr_table_free(br);
	nfr_table_free(gw);
}

static void readback_says_bridge(void **state)
{
	struct nfr_table *br = compile(UNIT_POL(FLOWS BRIDGE));
	struct nfr_table *gw = compile(UNIT_POL(FLOWS GATEWAY));
	struct ww_readback rb;

	assert_int_equal(ww_readback(br, &rb), 0);
	assert_string_equal(ww_rb_mode(&rb), "bridge");
	assert_int_equal(rb.nifaces, 2);
	assert_int_equal(rb.unexplained, 0);
	ww_readback_free(&rb);
	assert_int_equal(ww_readback(gw, &rb), 0);
	assert_string_equal(ww_rb_mode(&rb), "gateway");
	ww_readback_free(&rb);
	nfr_table_free(br);
	nfr_table_free(gw);
}

UNIT_MAIN(cmocka_unit_test(bridge_table_shape), cmocka_unit_test(same_chains_as_gateway),
	  cmocka_unit_test(cold_batch_reads_back), cmocka_unit_test(mode_change_is_one_transaction),
	  cmocka_unit_test(replay_refuses_a_family_mix), cmocka_unit_test(readback_says_bridge))
