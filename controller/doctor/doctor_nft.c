// SPDX-License-Identifier: GPL-2.0-only
/*
 * The doctor's nftables probe. One batch creates a throwaway table (dormant, so its base chains
 * never hook into the packet path) holding one of each object, set type and expression wardwall
 * writes (nft_batch.c is the model), and is sent with a batch-begin but no batch-end message:
 * the kernel processes every message as in a real transaction (expression types and their
 * modules, attributes, set backends, element insertion) and then aborts it because the batch
 * never ended. `nft --check` works the same way. Nothing is ever committed, so the ruleset
 * generation does not move (tests/suites/50-doctor.sh checks that). What only a commit checks
 * (jump loops, expressions a hook refuses) is not seen: on Linux 6.18 an unterminated batch is
 * not run through that validation, for nft --check either (docs/kernel.md).
 *
 * The flow maps and the rules looking them up (nft.mark, nft.concat, nft.objmap) are built by
 * nft_batch.c itself, from apply's IR, and moved to the probe's table (ww_nft_probe_retable).
 *
 * Every message asks for an ack and belongs to one check, so an error names the expression or
 * object the kernel refused. A message that fails because something it uses failed (a rule using
 * a set of a type the kernel lacks) is reported as untested, pointing at the cause.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "doctor.h"
#include "nft_expr.h"
#include "nft_nl.h"

#define PROBE_BUF  (64u << 10)
#define PROBE_MSGS 96

/* The class bits as the class-keyed layout has them by default (enforcement.mark_bits
 * 0xffff0000): zone 1 in the zone field, host group 2 of it in the host field. */
#define P_CLASS_MASK 0xffff0000u
#define P_ZONE_MASK  0x00ff0000u
#define P_ZONE	     0x00010000u
#define P_HOST	     0x02010000u

/* The nftables checks, in the order they are reported: a check's dependencies come first. */
/* clang-format off */
static const char *const nft_checks[] = {
	"nft.inet", "nft.chain", "nft.core",
	"nft.set.ipv4_addr", "nft.set.ipv6_addr", "nft.set.inet_service", "nft.set.inet_proto",
	"nft.set.icmp_type", "nft.set.icmpv6_type", "nft.set.ifname",
	"nft.counter", "nft.limit",
	"nft.ifname", "nft.ct", "nft.time", "nft.lookup", "nft.vmap", "nft.objref", "nft.log",
	"nft.mark", "nft.concat", "nft.objmap",
	"nft.bridge", "nft.bridge-ct",
};
/* clang-format on */
#define NCHECKS ARRAY_SIZE(nft_checks)

struct pmsg {
	uint32_t seq;
	int check;    /* index into nft_checks; -1 for the batch begin */
	int needs[2]; /* checks whose objects this message uses, -1 for none */
	const char *what;
};

struct probe {
	char *buf;
	struct mnl_nlmsg_batch *b;
	uint32_t seq;
	char table[32];
	uint16_t family; /* of the messages being built: NFPROTO_INET, then NFPROTO_BRIDGE */
	struct pmsg m[PROBE_MSGS];
	size_t n;
	bool overflow;
};

static int check_index(const char *id)
{
	for (size_t i = 0; i < NCHECKS; i++)
		if (!strcmp(nft_checks[i], id))
			return (int)i;
	return -1;
}

/* Records the next message (sequence number ++p->seq) as one of check `check` that uses the
 * objects of up to two other checks. Returns false when the probe has no room left. */
static bool track(struct probe *p, const char *check, const char *need1, const char *need2,
		  const char *what)
{
	if (p->n == PROBE_MSGS) {
		p->overflow = true;
		return false;
	}
	p->m[p->n] = (struct pmsg){
	    .seq = ++p->seq,
	    .check = check_index(check),
	    .needs = {need1 ? check_index(need1) : -1, need2 ? check_index(need2) : -1},
	    .what = what};
	p->n++;
	return true;
}

/* Starts a message of check `check` that uses the objects of up to two other checks. */
static struct nlmsghdr *msg(struct probe *p, uint16_t type, const char *check, const char *need1,
			    const char *need2, const char *what)
{
	if (!track(p, check, need1, need2, what))
		return NULL;
	return nftnl_nlmsg_build_hdr(
	    mnl_nlmsg_batch_current(p->b), type, p->family ? p->family : NFPROTO_INET,
	    NLM_F_CREATE | NLM_F_ACK | (type == NFT_MSG_NEWRULE ? NLM_F_APPEND : 0), p->seq);
}

static void msg_end(struct probe *p)
{
	if (!mnl_nlmsg_batch_next(p->b))
		p->overflow = true;
}

/* ---- objects ---- */

static void add_table(struct probe *p)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;

	if (!t || !(nlh = msg(p, NFT_MSG_NEWTABLE, "nft.inet", NULL, NULL, "table inet"))) {
		p->overflow = true;
		nftnl_table_free(t);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, p->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	/* Dormant: even inside the transaction its base chains never see a packet. */
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_DORMANT);
	nftnl_table_nlmsg_build_payload(nlh, t);
	nftnl_table_free(t);
	msg_end(p);
}

static void add_chain(struct probe *p, const char *name, int hook, const char *what)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *nlh;

	if (!c || !(nlh = msg(p, NFT_MSG_NEWCHAIN, "nft.chain", "nft.inet", NULL, what))) {
		p->overflow = true;
		nftnl_chain_free(c);
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, p->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_INET);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	nftnl_chain_free(c);
	msg_end(p);
}

static void add_obj(struct probe *p, uint32_t type, const char *name, const char *check,
		    const char *what)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *nlh;

	if (!o || !(nlh = msg(p, NFT_MSG_NEWOBJ, check, "nft.inet", NULL, what))) {
		p->overflow = true;
		nftnl_obj_free(o);
		return;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, p->table);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_FAMILY, NFPROTO_INET);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, type);
	if (type == NFT_OBJECT_LIMIT) {
		nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_RATE, 10);
		nftnl_obj_set_u64(o, NFTNL_OBJ_LIMIT_UNIT, 1);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_BURST, 5);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_TYPE, NFT_LIMIT_PKTS);
		nftnl_obj_set_u32(o, NFTNL_OBJ_LIMIT_FLAGS, 0);
	}
	nftnl_obj_nlmsg_build_payload(nlh, o);
	nftnl_obj_free(o);
	msg_end(p);
}

/* ---- sets ---- */

struct pelem {
	uint8_t key[16];
	bool end;    /* an interval end */
	int verdict; /* NF_ACCEPT, NF_DROP, NFT_JUMP, NFT_GOTO; maps only */
};

struct pset {
	const char *name, *check;
	uint32_t type, len; /* nft's datatype number (as nft_batch.c), key bytes */
	bool interval, vmap;
	struct pelem e[4];
	size_t ne;
};

static void add_set(struct probe *p, const struct pset *x)
{
	struct nftnl_set *s = nftnl_set_alloc(), *es = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s || !es || !(nlh = msg(p, NFT_MSG_NEWSET, x->check, "nft.inet", NULL, "the set")))
		goto oom;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, p->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, x->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS,
			  (x->interval ? NFT_SET_INTERVAL : 0) | (x->vmap ? NFT_SET_MAP : 0));
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, x->type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, x->len);
	/* The top bit keeps it apart from the ids nft_batch.c gives the flow maps (random() + a
	 * few, below 2^31), whose elements name their set by id alone. */
	nftnl_set_set_u32(s, NFTNL_SET_ID, p->seq | 0x80000000u);
	if (x->vmap) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, 16);
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	msg_end(p);

	/* The elements: a separate message, as wardwall sends them. */
	nftnl_set_set_str(es, NFTNL_SET_TABLE, p->table);
	nftnl_set_set_str(es, NFTNL_SET_NAME, x->name);
	nftnl_set_set_u32(es, NFTNL_SET_FAMILY, NFPROTO_INET);
	for (size_t i = 0; i < x->ne; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e)
			goto oom;
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, x->e[i].key, x->len);
		if (x->e[i].end)
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		else if (x->vmap) {
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT,
					       (uint32_t)x->e[i].verdict);
			if (x->e[i].verdict == NFT_JUMP || x->e[i].verdict == NFT_GOTO)
				nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, "leaf");
		}
		nftnl_set_elem_add(es, e);
	}
	if (!(nlh = msg(p, NFT_MSG_NEWSETELEM, x->check, "nft.chain", NULL, "its elements")))
		goto oom;
	nftnl_set_elems_nlmsg_build_payload(nlh, es);
	msg_end(p);
	nftnl_set_free(s);
	nftnl_set_free(es);
	return;
oom:
	p->overflow = true;
	nftnl_set_free(s);
	nftnl_set_free(es);
}

static void add_sets(struct probe *p)
{
	/* Keys big endian, ifnames zero padded; nft's datatype numbers as in nft_batch.c. */
	/* clang-format off */
	const struct pset sets[] = {
		{"v4", "nft.set.ipv4_addr", 7, 4, true, true,
		 {{{0}, true, 0}, {{10}, false, NFT_JUMP}, {{11}, true, 0}}, 3},
		{"v6", "nft.set.ipv6_addr", 8, 16, true, true,
		 {{{0}, true, 0}, {{0x20, 0x01, 0x0d, 0xb8}, false, NF_DROP},
		  {{0x20, 0x01, 0x0d, 0xb9}, true, 0}}, 3},
		{"svc", "nft.set.inet_service", 13, 2, true, true,
		 {{{0}, true, 0}, {{0x03, 0xe8}, false, NF_ACCEPT}, {{0x07, 0xd1}, true, 0}}, 3},
		{"svc1", "nft.set.inet_service", 13, 2, false, true,
		 {{{0x01, 0xbb}, false, NFT_GOTO}, {{0x00, 0x16}, false, NF_DROP}}, 2},
		{"proto", "nft.set.inet_proto", 12, 1, false, true,
		 {{{6}, false, NFT_JUMP}, {{17}, false, NF_ACCEPT}}, 2},
		{"icmp", "nft.set.icmp_type", 14, 1, false, true, {{{8}, false, NF_ACCEPT}}, 1},
		{"nd6", "nft.set.icmpv6_type", 29, 1, false, false,
		 {{{135}, false, 0}, {{136}, false, 0}}, 2},
		{"ifaces", "nft.set.ifname", 41, 16, false, false, {{{'l', 'o'}, false, 0}}, 1},
	};
	/* clang-format on */

	for (size_t i = 0; i < ARRAY_SIZE(sets); i++)
		add_set(p, &sets[i]);
}

/* ---- rules ---- */

enum rule_kind {
	R_JUMP,
	R_GOTO,
	R_V4,
	R_V6_PORTS,
	R_IFNAME,
	R_NOT_IFACES,
	R_CT,
	R_TIME,
	R_ND6,
	R_VMAP4,
	R_VMAP6,
	R_VMAP_TCP,
	R_VMAP_UDP,
	R_VMAP_PROTO,
	R_VMAP_ICMP,
	R_COUNTER,
	R_LIMIT,
	R_LOG,
	R_MARK,
};

static bool build_rule(struct nftnl_rule *r, enum rule_kind k, uint16_t log_group)
{
	static const uint8_t v4[4] = {10, 1, 2, 3}, v6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
	static const uint8_t p22[2] = {0, 22}, p1000[2] = {0x03, 0xe8}, p2000[2] = {0x07, 0xd0};
	static const uint8_t zone_be[4] = {0x00, 0x01, 0x00, 0x00}; /* P_ZONE, network order */
	uint64_t now = (uint64_t)time(NULL) * 1000000000ULL;

	switch (k) {
	case R_JUMP:
		return ww_nx_verdict(r, NFT_JUMP, "probe");
	case R_GOTO:
		return ww_nx_verdict(r, NFT_GOTO, "leaf");
	case R_V4:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV4) &&
		       ww_nx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 16, 4) &&
		       ww_nx_cmp(r, NFT_CMP_EQ, v4, 4) && ww_nx_meta(r, NFT_META_L4PROTO) &&
		       ww_nx_cmp_u8(r, 6) && ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) &&
		       ww_nx_cmp(r, NFT_CMP_EQ, p22, 2) && ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_V6_PORTS:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV6) &&
		       ww_nx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16) &&
		       ww_nx_cmp(r, NFT_CMP_EQ, v6, 16) && ww_nx_meta(r, NFT_META_L4PROTO) &&
		       ww_nx_cmp_u8(r, 17) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) &&
		       ww_nx_cmp(r, NFT_CMP_GTE, p1000, 2) && ww_nx_cmp(r, NFT_CMP_LTE, p2000, 2) &&
		       ww_nx_verdict(r, NF_DROP, NULL);
	case R_IFNAME:
		return ww_nx_ifname_eq(r, NFT_META_IIFNAME, "lo") &&
		       ww_nx_ifname_eq(r, NFT_META_OIFNAME, "lo") &&
		       ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_NOT_IFACES:
		return ww_nx_meta(r, NFT_META_IIFNAME) && ww_nx_lookup(r, "ifaces", false, true) &&
		       ww_nx_meta(r, NFT_META_OIFNAME) && ww_nx_lookup(r, "ifaces", false, true) &&
		       ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_CT:
		return ww_nx_ct_state(r, 2u | 4u /* established | related */) &&
		       ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_TIME:
		return ww_nx_time_cmp(r, NFT_CMP_GTE, now) &&
		       ww_nx_time_cmp(r, NFT_CMP_LT, now + 3600ULL * 1000000000ULL) &&
		       ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_ND6:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV6) &&
		       ww_nx_meta(r, NFT_META_L4PROTO) && ww_nx_cmp_u8(r, 58) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1) &&
		       ww_nx_lookup(r, "nd6", false, false) && ww_nx_verdict(r, NF_ACCEPT, NULL);
	case R_VMAP4:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV4) &&
		       ww_nx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4) &&
		       ww_nx_lookup(r, "v4", true, false);
	case R_VMAP6:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV6) &&
		       ww_nx_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 24, 16) &&
		       ww_nx_lookup(r, "v6", true, false);
	case R_VMAP_TCP:
	case R_VMAP_UDP:
		return ww_nx_meta(r, NFT_META_L4PROTO) &&
		       ww_nx_cmp_u8(r, k == R_VMAP_TCP ? 6 : 17) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2) &&
		       ww_nx_lookup(r, k == R_VMAP_TCP ? "svc" : "svc1", true, false);
	case R_VMAP_PROTO:
		return ww_nx_meta(r, NFT_META_L4PROTO) && ww_nx_lookup(r, "proto", true, false);
	case R_VMAP_ICMP:
		return ww_nx_meta(r, NFT_META_NFPROTO) && ww_nx_cmp_u8(r, NFPROTO_IPV4) &&
		       ww_nx_meta(r, NFT_META_L4PROTO) && ww_nx_cmp_u8(r, 1) &&
		       ww_nx_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1) &&
		       ww_nx_lookup(r, "icmp", true, false);
	case R_COUNTER:
		return ww_nx_objref(r, NFT_OBJECT_COUNTER, "c");
	case R_LIMIT:
		return ww_nx_objref(r, NFT_OBJECT_LIMIT, "l");
	case R_LOG:
		return ww_nx_log(r, "wardwall doctor ", log_group);
	case R_MARK:
		return ww_nx_meta(r, NFT_META_MARK) &&
		       ww_nx_bitwise(r, NFT_REG_1, P_CLASS_MASK, 0) &&
		       ww_nx_hton(r, NFT_REG_1, 4, 4) && ww_nx_cmp(r, NFT_CMP_EQ, zone_be, 4) &&
		       ww_nx_verdict(r, NF_ACCEPT, NULL);
	}
	return false;
}

static void add_rule(struct probe *p, const char *chain, enum rule_kind k, uint16_t log_group,
		     const char *check, const char *need, const char *what)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	if (!r) {
		p->overflow = true;
		return;
	}
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, p->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	if (!build_rule(r, k, log_group) ||
	    !(nlh = msg(p, NFT_MSG_NEWRULE, check, "nft.chain", need, what))) {
		p->overflow = true;
		nftnl_rule_free(r);
		return;
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	nftnl_rule_free(r);
	msg_end(p);
}

/* Bridge mode: a (dormant) table bridge with a base chain on the bridge forward hook, and `ct
 * state` in it, which needs the bridge family's connection tracking (nf_conntrack_bridge, a
 * module of its own: without it the kernel answers EPROTO). */
static void add_bridge(struct probe *p)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nftnl_rule *r = nftnl_rule_alloc();
	struct nlmsghdr *nlh;

	p->family = NFPROTO_BRIDGE;
	if (!t || !c || !r ||
	    !(nlh = msg(p, NFT_MSG_NEWTABLE, "nft.bridge", NULL, NULL, "table bridge")))
		goto fail;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, p->table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FLAGS, NFT_TABLE_F_DORMANT);
	nftnl_table_nlmsg_build_payload(nlh, t);
	msg_end(p);
	nlh = msg(p, NFT_MSG_NEWCHAIN, "nft.bridge", NULL, NULL,
		  "filter chain on the bridge forward hook");
	if (!nlh)
		goto fail;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, p->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, "fwd");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, 2 /* NF_BR_FORWARD */);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, -200);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	nftnl_chain_nlmsg_build_payload(nlh, c);
	msg_end(p);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, p->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, "fwd");
	if (!build_rule(r, R_CT, 0) ||
	    !(nlh = msg(p, NFT_MSG_NEWRULE, "nft.bridge-ct", "nft.bridge", NULL,
			"ct state established,related in the bridge family")))
		goto fail;
	nftnl_rule_nlmsg_build_payload(nlh, r);
	msg_end(p);
	goto out;
fail:
	p->overflow = true;
out:
	p->family = NFPROTO_INET;
	nftnl_table_free(t);
	nftnl_chain_free(c);
	nftnl_rule_free(r);
}

/* ---- the flow maps, built by nft_batch.c ---- */

size_t ww_nft_probe_retable(const struct nlmsghdr *m, const char *table, uint32_t seq, void *out,
			    size_t room)
{
	size_t most = m->nlmsg_len + MNL_ATTR_HDRLEN + MNL_ALIGN(strlen(table) + 1);
	uint16_t type = m->nlmsg_type & 0xff;
	const struct nlattr *a;
	struct nlmsghdr *nlh;

	if (m->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg) ||
	    m->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES ||
	    (type != NFT_MSG_NEWSET && type != NFT_MSG_NEWSETELEM && type != NFT_MSG_NEWRULE) ||
	    room < most)
		return 0;
	memset(out, 0, most); /* libmnl leaves attributes' padding as it finds it */
	nlh = mnl_nlmsg_put_header(out);
	nlh->nlmsg_type = m->nlmsg_type;
	nlh->nlmsg_flags = m->nlmsg_flags | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof(struct nfgenmsg)), mnl_nlmsg_get_payload(m),
	       sizeof(struct nfgenmsg));
	/* Attribute 1 is the table's name in each of them (NFTA_SET_TABLE,
	 * NFTA_SET_ELEM_LIST_TABLE, NFTA_RULE_TABLE); the others are copied as they are, nested
	 * ones whole, with their flags. */
	mnl_attr_for_each(a, m, sizeof(struct nfgenmsg))
	{
		if (mnl_attr_get_type(a) == 1)
			mnl_attr_put_strz(nlh, 1, table);
		else
			mnl_attr_put(nlh, a->nla_type, mnl_attr_get_payload_len(a),
				     mnl_attr_get_payload(a));
	}
	return nlh->nlmsg_len;
}

/*
 * Appends what nft_batch.c built into wb (err: its builder's answer) to the probe: each message
 * (the batch begin left out) moved to the probe's table, numbered in the probe's sequence and
 * asking for an ack, as a message of check `check`.
 */
static void add_built(struct probe *p, struct ww_nft_batch *wb, int err, const char *check,
		      const char *need1, const char *need2, const char *what)
{
	struct strbuf bytes = {0};
	const struct nlmsghdr *m;
	int left;

	if (err || ww_nft_batch_bytes(wb, &bytes)) {
		p->overflow = true;
		goto out;
	}
	m = (const struct nlmsghdr *)bytes.s;
	left = (int)bytes.len;
	for (; mnl_nlmsg_ok(m, left); m = mnl_nlmsg_next(m, &left)) {
		if (m->nlmsg_type == NFNL_MSG_BATCH_BEGIN)
			continue;
		/* The batch buffer is twice PROBE_BUF: after any message it has PROBE_BUF. */
		if (!track(p, check, need1, need2, what) ||
		    !ww_nft_probe_retable(m, p->table, p->seq, mnl_nlmsg_batch_current(p->b),
					  PROBE_BUF)) {
			p->overflow = true;
			break;
		}
		msg_end(p);
	}
out:
	sb_free(&bytes);
	ww_nft_batch_free(wb);
}

/* A set (with its elements) as apply writes it. */
static void add_nfr_set(struct probe *p, const struct nfr_set *x, const char *check,
			const char *need1, const char *need2, const char *what)
{
	struct ww_nft_batch *wb = NULL;
	int e = ww_nft_batch_new(&wb, 0);

	if (e) {
		p->overflow = true;
		return;
	}
	add_built(p, wb, ww_nft_add_set(wb, x, what), check, need1, need2, what);
}

/* Rules of chain "probe" as apply writes them. */
static void add_nfr_rules(struct probe *p, struct nfr_rule *r, size_t n, const char *check,
			  const char *need1, const char *need2, const char *what)
{
	struct nfr_chain c = {.name = (char *)"probe", .rules = r, .nrules = n};
	struct ww_nft_batch *wb = NULL;
	int e = ww_nft_batch_new(&wb, 0);

	if (e) {
		p->overflow = true;
		return;
	}
	add_built(p, wb, ww_nft_add_rules(wb, &c, what), check, need1, need2, what);
}

/*
 * `meta mark set meta mark & K | O` (the classify chain clears the class bits, a to/<class>
 * chain writes them) and `meta mark & M`, the first field of every class-keyed lookup: the
 * bitwise and byteorder expressions loading it as nft_batch.c's load_mark does, compared here.
 */
static void add_mark(struct probe *p)
{
	struct nfr_rule set[] = {
	    {.set_mark = true, .mark_keep = ~P_CLASS_MASK},
	    {.set_mark = true, .mark_keep = ~P_CLASS_MASK, .mark_or = P_ZONE},
	};

	add_nfr_rules(p, set, ARRAY_SIZE(set), "nft.mark", "nft.chain", NULL,
		      "meta mark set meta mark & 0x0000ffff | 0x00010000");
	add_rule(p, "probe", R_MARK, 0, "nft.mark", NULL, "meta mark & 0xffff0000 as a key field");
}

/*
 * The flow maps (concatenations of intervals: the kernel's pipapo set type) with elements and
 * the rules looking them up, as the class-keyed layout writes them, and the address-keyed maps
 * of the layout before it; then the counter map beside them, read by `counter name ... map`.
 */
static void add_flowmaps(struct probe *p)
{
	static const u128 v6 = (u128)0x20010db8u << 96;
	struct nfr_elem fp[] = {
	    {.lo = P_ZONE, .hi = P_ZONE, .clo = {6, 1000}, .chi = {6, 2000}, .v = {NV_ACCEPT}},
	    {.lo = P_HOST,
	     .hi = P_HOST,
	     .clo = {17, 53},
	     .chi = {17, 53},
	     .v = {NV_GOTO, (char *)"leaf"}},
	};
	struct nfr_elem fi[] = {
	    {.lo = P_ZONE, .hi = P_ZONE, .clo = {8}, .chi = {8}, .v = {NV_DROP}}};
	struct nfr_elem fa4[] = {{.lo = 0x0a010000,
				  .hi = 0x0a0100ff,
				  .clo = {6, 443},
				  .chi = {6, 443},
				  .v = {NV_ACCEPT}}};
	struct nfr_elem fa6[] = {{.lo = v6,
				  .hi = v6 | (((u128)1 << 64) - 1),
				  .clo = {17, 0},
				  .chi = {17, 65535},
				  .v = {NV_DROP}}};
	struct nfr_elem cp[] = {
	    {.lo = P_ZONE, .hi = P_ZONE, .clo = {6, 1000}, .chi = {6, 2000}, .obj = (char *)"c"}};
	const struct nfr_cat mport = {.f = {NK_MARK, NK_L4PROTO, NK_TH_DPORT}, .n = 3},
			     micmp = {.f = {NK_MARK, NK_ICMP_TYPE}, .n = 2},
			     a4port = {.f = {NK_DADDR4, NK_L4PROTO, NK_TH_DPORT}, .n = 3},
			     a6port = {.f = {NK_DADDR6, NK_L4PROTO, NK_TH_DPORT}, .n = 3};
	const struct nfr_set maps[] = {
	    {.name = (char *)"fp", .cat = mport, .vmap = true, .elems = fp, .nelems = 2},
	    {.name = (char *)"fi", .cat = micmp, .vmap = true, .elems = fi, .nelems = 1},
	    {.name = (char *)"fa4", .cat = a4port, .vmap = true, .elems = fa4, .nelems = 1},
	    {.name = (char *)"fa6", .cat = a6port, .vmap = true, .elems = fa6, .nelems = 1},
	};
	const char *what[] = {"meta mark . meta l4proto . th dport : verdict with a port range",
			      "meta mark . icmp type", "ip daddr . meta l4proto . th dport",
			      "ip6 daddr . meta l4proto . th dport"};
	struct nfr_rule look[ARRAY_SIZE(maps)];
	const struct nfr_set cmap = {
	    .name = (char *)"cp", .cat = mport, .objmap = true, .elems = cp, .nelems = 1};
	struct nfr_rule count = {.cat = mport, .counter_map = (char *)"cp"};

	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		add_nfr_set(p, &maps[i], "nft.concat", "nft.inet", "nft.chain", what[i]);
		look[i] = (struct nfr_rule){.cat = maps[i].cat, .set = maps[i].name, .vmap = true};
		look[i].cat.mark_mask = i == 0 ? P_ZONE_MASK : P_CLASS_MASK;
	}
	add_nfr_rules(p, look, ARRAY_SIZE(look), "nft.concat", "nft.mark", "nft.vmap",
		      "rules looking each up (vmap)");
	add_nfr_set(p, &cmap, "nft.objmap", "nft.concat", "nft.counter",
		    "counter map type mark . inet_proto . inet_service with a port range");
	count.cat.mark_mask = P_ZONE_MASK;
	add_nfr_rules(p, &count, 1, "nft.objmap", "nft.objref", "nft.concat",
		      "counter name meta mark & 0x00ff0000 . meta l4proto . th dport map");
}

static void build(struct probe *p, uint16_t log_group)
{
	nftnl_batch_begin(mnl_nlmsg_batch_current(p->b), ++p->seq);
	p->m[p->n++] = (struct pmsg){.seq = p->seq, .check = -1, .needs = {-1, -1}};
	msg_end(p);

	add_table(p);
	add_chain(p, "fwd", NF_INET_FORWARD, "filter chain on the forward hook");
	add_chain(p, "in", NF_INET_LOCAL_IN, "filter chain on the input hook");
	add_chain(p, "out", NF_INET_LOCAL_OUT, "filter chain on the output hook");
	add_chain(p, "probe", -1, "regular chain");
	add_chain(p, "leaf", -1, "regular chain");
	add_obj(p, NFT_OBJECT_COUNTER, "c", "nft.counter", "named counter");
	add_obj(p, NFT_OBJECT_LIMIT, "l", "nft.limit", "named limit 10/second burst 5 packets");
	add_sets(p);

	/* Every base chain jumps to "probe", as wardwall's base chains jump to theirs, so the
	 * probe's rules are reachable from all three hooks. */
	add_rule(p, "fwd", R_IFNAME, 0, "nft.ifname", NULL, "iifname \"lo\" oifname \"lo\"");
	add_rule(p, "fwd", R_NOT_IFACES, 0, "nft.lookup", "nft.set.ifname",
		 "iifname != @ifaces oifname != @ifaces");
	add_rule(p, "fwd", R_JUMP, 0, "nft.core", NULL, "jump");
	add_rule(p, "in", R_JUMP, 0, "nft.core", NULL, "jump");
	add_rule(p, "out", R_JUMP, 0, "nft.core", NULL, "jump");
	add_rule(p, "probe", R_V4, 0, "nft.core", NULL, "ip daddr . tcp dport matches");
	add_rule(p, "probe", R_V6_PORTS, 0, "nft.core", NULL, "ip6 saddr, udp dport ranges");
	add_rule(p, "probe", R_CT, 0, "nft.ct", NULL, "ct state established,related");
	add_rule(p, "probe", R_TIME, 0, "nft.time", NULL, "meta time >= and <");
	add_rule(p, "probe", R_ND6, 0, "nft.lookup", "nft.set.icmpv6_type", "icmpv6 type @nd6");
	add_rule(p, "probe", R_VMAP4, 0, "nft.vmap", "nft.set.ipv4_addr", "ip saddr vmap");
	add_rule(p, "probe", R_VMAP6, 0, "nft.vmap", "nft.set.ipv6_addr", "ip6 daddr vmap");
	add_rule(p, "probe", R_VMAP_TCP, 0, "nft.vmap", "nft.set.inet_service", "tcp dport vmap");
	add_rule(p, "probe", R_VMAP_UDP, 0, "nft.vmap", "nft.set.inet_service", "udp dport vmap");
	add_rule(p, "probe", R_VMAP_PROTO, 0, "nft.vmap", "nft.set.inet_proto",
		 "meta l4proto vmap");
	add_rule(p, "probe", R_VMAP_ICMP, 0, "nft.vmap", "nft.set.icmp_type", "icmp type vmap");
	add_rule(p, "probe", R_COUNTER, 0, "nft.objref", "nft.counter", "counter name");
	add_rule(p, "probe", R_LIMIT, 0, "nft.objref", "nft.limit", "limit name");
	add_rule(p, "probe", R_LOG, log_group, "nft.log", NULL, "log group");
	add_rule(p, "probe", R_GOTO, 0, "nft.core", NULL, "goto");
	add_mark(p);
	add_flowmaps(p);
	add_bridge(p);
	/* No batch end: the kernel validates all of the above, then aborts. */
}

size_t ww_nft_probe_acks(const void *acks, size_t len, const uint32_t *seqs, int *errs, size_t n)
{
	const struct nlmsghdr *nlh = acks;
	int rem = (int)len;
	size_t matched = 0;

	for (; mnl_nlmsg_ok(nlh, rem); nlh = mnl_nlmsg_next(nlh, &rem)) {
		const struct nlmsgerr *e;
		if (nlh->nlmsg_type != NLMSG_ERROR ||
		    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nlmsgerr))
			continue;
		e = mnl_nlmsg_get_payload(nlh);
		for (size_t i = 0; i < n; i++) {
			if (seqs[i] != nlh->nlmsg_seq)
				continue;
			matched += errs[i] == 1;
			errs[i] = e->error > 0 ? -e->error : e->error;
			break;
		}
	}
	return matched;
}

/* Sends the batch and collects an answer for every message, or waits no longer than 2 s. */
static int talk(struct probe *p, int *errs, struct strbuf *why)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	uint32_t seqs[PROBE_MSGS];
	char buf[16384];
	size_t got = 0;
	int one = 1, e = 0;

	for (size_t i = 0; i < p->n; i++) {
		seqs[i] = p->m[i].seq;
		errs[i] = 1;
	}
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		sb_addf(why, "opening a netlink socket to nf_tables: %s", strerror(errno));
		goto out;
	}
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(p->b), mnl_nlmsg_batch_size(p->b)) < 0) {
		e = -errno;
		sb_addf(why, "sending the probe batch: %s", strerror(errno));
		goto out;
	}
	/* The batch begin is answered only when the whole batch is refused. */
	while (got < p->n - 1 && errs[0] == 1) {
		struct pollfd pfd = {.fd = mnl_socket_get_fd(nl), .events = POLLIN};
		ssize_t len;
		if (poll(&pfd, 1, 2000) <= 0)
			break;
		len = recv(pfd.fd, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			e = -errno;
			sb_addf(why, "reading the kernel's answers: %s", strerror(errno));
			break;
		}
		got += ww_nft_probe_acks(buf, (size_t)len, seqs, errs, p->n);
	}
out:
	if (nl)
		mnl_socket_close(nl);
	return e;
}

static const char *errno_hint(int err)
{
	switch (-err) {
	case EOPNOTSUPP:
	case ENOENT:
	case EAFNOSUPPORT:
	case EPROTONOSUPPORT:
		return " (this kernel lacks it)";
	case EPERM:
		return " (wardwall needs CAP_NET_ADMIN)";
	default:
		return "";
	}
}

/* Turns the answers into one result per check. */
static void report(struct ww_doctor *d, const struct probe *p, const int *errs)
{
	bool failed[NCHECKS] = {false};

	for (size_t c = 0; c < NCHECKS; c++) {
		struct strbuf ok = {0}, bad = {0};
		const char *cause = NULL;
		bool untested = false;
		for (size_t i = 1; i < p->n; i++) {
			const struct pmsg *m = &p->m[i];
			if (m->check != (int)c)
				continue;
			if (!errs[i]) {
				if (!strstr(sb_str(&ok), m->what))
					sb_addf(&ok, "%s%s", ok.len ? ", " : "", m->what);
				continue;
			}
			const char *need = NULL;
			for (int k = 0; k < 2 && !need; k++)
				if (m->needs[k] >= 0 && failed[m->needs[k]])
					need = nft_checks[m->needs[k]];
			if (need) {
				untested = true;
				cause = cause ? cause : need;
				continue;
			}
			if (bad.len)
				continue; /* the first refusal says enough */
			if (errs[i] == 1)
				sb_addf(&bad, "%s: no answer from the kernel", m->what);
			else
				sb_addf(&bad, "%s: %s%s", m->what, strerror(-errs[i]),
					errno_hint(errs[i]));
		}
		if (bad.len) {
			failed[c] = true;
			ww_doctor_add(d, nft_checks[c], WW_D_MISSING, NULL, "refused: %s",
				      sb_str(&bad));
		} else if (untested) {
			failed[c] = true;
			char *fix = xstrdup_printf("fix %s first", cause);
			ww_doctor_add(d, nft_checks[c], WW_D_MISSING, fix,
				      "untested: it needs what %s found missing", cause);
			free(fix);
		} else {
			ww_doctor_add(d, nft_checks[c], WW_D_OK, NULL, "accepted: %s", sb_str(&ok));
		}
		sb_free(&ok);
		sb_free(&bad);
	}
}

void ww_doctor_nft(struct ww_doctor *d)
{
	struct probe p = {0};
	struct ww_nft *n = NULL;
	struct strbuf why = {0};
	uint32_t gen = 0, gen2 = 0;
	int errs[PROBE_MSGS];
	int e;

	e = ww_nft_open(&n);
	if (!e)
		e = ww_nft_genid(n, &gen);
	if (e) {
		ww_doctor_add(d, "nft.netlink", WW_D_MISSING,
			      e == -EPERM ? "run wardwall as root (see caps)" : NULL,
			      "nf_tables does not answer in this network namespace: %s%s",
			      strerror(-e), errno_hint(e));
		for (size_t c = 0; c < NCHECKS; c++)
			ww_doctor_add(d, nft_checks[c], WW_D_MISSING, "fix nft.netlink first",
				      "untested: nf_tables is not available");
		ww_nft_close(n);
		return;
	}
	ww_doctor_add(d, "nft.netlink", WW_D_OK, NULL, "nf_tables answers: ruleset generation %u",
		      gen);

	p.buf = calloc(2, PROBE_BUF);
	p.b = p.buf ? mnl_nlmsg_batch_start(p.buf, PROBE_BUF) : NULL;
	snprintf(p.table, sizeof(p.table), "wardwall-doctor-%d", (int)getpid());
	p.seq = (uint32_t)time(NULL);
	if (p.b)
		build(&p, d->log_group);
	if (!p.b || p.overflow) {
		for (size_t c = 0; c < NCHECKS; c++)
			ww_doctor_add(d, nft_checks[c], WW_D_WARNING, "",
				      "untested: out of memory building the probe");
		goto out;
	}
	e = talk(&p, errs, &why);
	if (!e && errs[0] != 1)
		sb_addf(&why, "the kernel refused the whole batch: %s%s", strerror(-errs[0]),
			errno_hint(errs[0]));
	if (why.len) {
		for (size_t c = 0; c < NCHECKS; c++)
			ww_doctor_add(d, nft_checks[c], WW_D_MISSING, NULL, "untested: %s",
				      sb_str(&why));
		goto out;
	}
	report(d, &p, errs);
	/* The probe must never commit: say so loudly if the generation moved while it ran. */
	if (!ww_nft_genid(n, &gen2) && gen2 != gen)
		ww_doctor_add(d, "nft.netlink", WW_D_WARNING, "",
			      "the ruleset generation moved from %u to %u during the probe "
			      "(another process committed; the probe never does)",
			      gen, gen2);
out:
	if (p.b)
		mnl_nlmsg_batch_stop(p.b);
	free(p.buf);
	sb_free(&why);
	ww_nft_close(n);
}
