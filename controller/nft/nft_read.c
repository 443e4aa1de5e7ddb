// SPDX-License-Identifier: GPL-2.0-only
/*
 * Readback: kernel -> IR. The expression lists of rules are delinearized by matching the exact
 * sequences nft_batch.c (and nft itself, for the same text) emits; a rule that does not match
 * is kept as "foreign" with libnftnl's own rendering, so drift is always visible.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nft_decode.h"
#include "nft_expr.h"
#include "nft_sock.h"

static char *xdup(struct rctx *c, const char *s)
{
	char *r = s ? strdup(s) : NULL;

	if (s && !r)
		c->err = -ENOMEM;
	return r;
}

static uint16_t nfproto(enum nfr_family f)
{
	return f == NFR_BRIDGE ? NFPROTO_BRIDGE : NFPROTO_INET;
}

/* ---- table, chains, objects ---- */

int ww_nftd_table_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rctx *c = data;
	struct nftnl_table *t = nftnl_table_alloc();

	if (!t)
		return MNL_CB_ERROR;
	if (nftnl_table_nlmsg_parse(nlh, t) == 0 &&
	    !strcmp(nftnl_table_get_str(t, NFTNL_TABLE_NAME), WW_NFT_TABLE)) {
		c->found = true;
		if (nftnl_table_is_set(t, NFTNL_TABLE_USERDATA)) {
			uint32_t len;
			const unsigned char *ud = nftnl_table_get_data(t, NFTNL_TABLE_USERDATA, &len);
			/* one TLV: type 0 (comment), length, NUL-terminated string */
			if (len > 2 && ud[0] == 0 && ud[1] + 2u <= len && ud[1] > 0)
				c->t->comment = strndup((const char *)ud + 2, ud[1] - 1);
		}
	}
	nftnl_table_free(t);
	return MNL_CB_OK;
}

static enum nfr_hook hook_of(enum nfr_family f, uint32_t h)
{
	if (f == NFR_BRIDGE)
		return h == 2 /* NF_BR_FORWARD */ ? NH_BR_FORWARD : NH_NONE;
	switch (h) {
	case NF_INET_FORWARD:
		return NH_FORWARD;
	case NF_INET_LOCAL_IN:
		return NH_INPUT;
	case NF_INET_LOCAL_OUT:
		return NH_OUTPUT;
	default:
		return NH_NONE;
	}
}

int ww_nftd_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rctx *c = data;
	struct nftnl_chain *ch = nftnl_chain_alloc();
	struct nfr_chain x = {0};

	if (!ch)
		return MNL_CB_ERROR;
	if (nftnl_chain_nlmsg_parse(nlh, ch) < 0 ||
	    strcmp(nftnl_chain_get_str(ch, NFTNL_CHAIN_TABLE), WW_NFT_TABLE) ||
	    nftnl_chain_get_u32(ch, NFTNL_CHAIN_FAMILY) !=
		    (c->family == NFR_BRIDGE ? NFPROTO_BRIDGE : NFPROTO_INET))
		goto out;
	x.name = xdup(c, nftnl_chain_get_str(ch, NFTNL_CHAIN_NAME));
	if (nftnl_chain_is_set(ch, NFTNL_CHAIN_HOOKNUM)) {
		const char *type = nftnl_chain_get_str(ch, NFTNL_CHAIN_TYPE);
		x.hook = hook_of(c->family, nftnl_chain_get_u32(ch, NFTNL_CHAIN_HOOKNUM));
		x.prio = (int)nftnl_chain_get_s32(ch, NFTNL_CHAIN_PRIO);
		if (!x.hook || !type || strcmp(type, "filter") ||
		    nftnl_chain_get_u32(ch, NFTNL_CHAIN_POLICY) != NF_ACCEPT) {
			char buf[512];
			nftnl_chain_snprintf(buf, sizeof(buf), ch, NFTNL_OUTPUT_DEFAULT, 0);
			x.foreign = xdup(c, buf);
		}
	}
	if (VEC_PUSH(c->t->chains, c->t->nchains, c->t->chcap, x)) {
		nfr_chain_clear(&x);
		c->err = -ENOMEM;
	}
out:
	nftnl_chain_free(ch);
	return MNL_CB_OK;
}

int ww_nftd_obj_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rctx *c = data;
	struct nftnl_obj *o = nftnl_obj_alloc();

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) < 0 ||
	    strcmp(nftnl_obj_get_str(o, NFTNL_OBJ_TABLE), WW_NFT_TABLE))
		goto out;
	if (nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER) {
		struct nfr_counter x = {.name = xdup(c, nftnl_obj_get_str(o, NFTNL_OBJ_NAME))};
		x.packets = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		x.bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		if (VEC_PUSH(c->t->counters, c->t->ncounters, c->t->ccap, x))
			free(x.name), c->err = -ENOMEM;
	} else if (nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_LIMIT) {
		struct nfr_limit x = {.name = xdup(c, nftnl_obj_get_str(o, NFTNL_OBJ_NAME))};
		x.rate = nftnl_obj_get_u64(o, NFTNL_OBJ_LIMIT_RATE);
		x.burst = nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_BURST);
		if (nftnl_obj_get_u64(o, NFTNL_OBJ_LIMIT_UNIT) != 1 ||
		    nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_TYPE) != NFT_LIMIT_PKTS ||
		    nftnl_obj_get_u32(o, NFTNL_OBJ_LIMIT_FLAGS))
			x.rate = 0; /* not per-second packets: cannot equal anything wardwall writes */
		if (VEC_PUSH(c->t->limits, c->t->nlimits, c->t->lcap, x))
			free(x.name), c->err = -ENOMEM;
	}
	/* Other object types are not wardwall's; they show as a foreign chain-less drift. */
out:
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

/* ---- rules ---- */

struct xv {
	struct nftnl_expr **v;
	size_t n, cap;
};

static int collect_expr(struct nftnl_expr *e, void *data)
{
	struct xv *x = data;

	return VEC_PUSH(x->v, x->n, x->cap, e) ? -1 : 0;
}

static bool is(struct nftnl_expr *e, const char *name)
{
	return e && !strcmp(nftnl_expr_get_str(e, NFTNL_EXPR_NAME), name);
}

static const void *data_of(struct nftnl_expr *e, uint16_t attr, uint32_t *len)
{
	*len = 0;
	return nftnl_expr_is_set(e, attr) ? nftnl_expr_get(e, attr, len) : NULL;
}

static bool meta_load(struct nftnl_expr *e, uint32_t key)
{
	return is(e, "meta") && nftnl_expr_is_set(e, NFTNL_EXPR_META_DREG) &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_META_KEY) == key &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_META_DREG) == NFT_REG_1;
}

static bool cmp_u8(struct nftnl_expr *e, uint32_t op, uint8_t v)
{
	uint32_t len;
	const uint8_t *d;

	if (!is(e, "cmp") || nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) != op)
		return false;
	d = data_of(e, NFTNL_EXPR_CMP_DATA, &len);
	return d && len == 1 && d[0] == v;
}

static bool payload(struct nftnl_expr *e, uint32_t base, uint32_t off, uint32_t len)
{
	return is(e, "payload") && nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == base &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == off &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == len &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_DREG) == NFT_REG_1;
}

/* bitwise NFT_REG_1 = (NFT_REG_1 & mask) ^ flip on one 32-bit word (ww_nx_bitwise's). */
static bool bitwise_of(struct nftnl_expr *e, uint32_t *mask, uint32_t *flip)
{
	uint32_t ml, xl;
	const void *m, *x;

	if (!is(e, "bitwise") || nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_SREG) != NFT_REG_1 ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_DREG) != NFT_REG_1 ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_LEN) != 4 ||
	    (nftnl_expr_is_set(e, NFTNL_EXPR_BITWISE_OP) &&
	     nftnl_expr_get_u32(e, NFTNL_EXPR_BITWISE_OP) != NFT_BITWISE_BOOL))
		return false;
	m = data_of(e, NFTNL_EXPR_BITWISE_MASK, &ml);
	x = data_of(e, NFTNL_EXPR_BITWISE_XOR, &xl);
	if (!m || !x || ml != 4 || xl != 4)
		return false;
	memcpy(mask, m, 4);
	memcpy(flip, x, 4);
	return true;
}

/* `meta protocol` == the ether type of IPv4 or IPv6 (the bridge family's dependency). */
static bool cmp_ethertype(struct nftnl_expr *e, bool v6)
{
	uint32_t len;
	const uint8_t *d;

	if (!is(e, "cmp") || nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ)
		return false;
	d = data_of(e, NFTNL_EXPR_CMP_DATA, &len);
	return d && len == 2 && d[0] == (v6 ? 0x86 : 0x08) && d[1] == (v6 ? 0xdd : 0x00);
}

/* Where each address key is in the network header, as a match and as a concatenation's field. */
static const struct {
	enum nfr_key key;
	bool v6;
	uint32_t off, len;
} addrs[] = {{NK_SADDR4, false, 12, 4},
	     {NK_DADDR4, false, 16, 4},
	     {NK_SADDR6, true, 8, 16},
	     {NK_DADDR6, true, 24, 16}};

/* The loader sequences of each key, as nft writes them. Returns how many expressions matched. */
static size_t match_key(enum nfr_family fam, struct nftnl_expr **x, size_t n, enum nfr_key *key)
{
	struct nftnl_expr *e0 = n > 0 ? x[0] : NULL, *e1 = n > 1 ? x[1] : NULL,
			  *e2 = n > 2 ? x[2] : NULL, *e3 = n > 3 ? x[3] : NULL,
			  *e4 = n > 4 ? x[4] : NULL;
	static const struct {
		enum nfr_key key;
		uint8_t proto;
	} ports[] = {{NK_TCP_DPORT, 6}, {NK_UDP_DPORT, 17}, {NK_SCTP_DPORT, 132}};

	/* In the bridge family the same shapes depend on the ether type, and a bare `meta
	 * protocol` compare is a match of its own (the base chain's). */
	if (fam == NFR_BRIDGE && meta_load(e0, NFT_META_PROTOCOL)) {
		for (size_t i = 0; i < ARRAY_SIZE(addrs); i++)
			if (cmp_ethertype(e1, addrs[i].v6) &&
			    payload(e2, NFT_PAYLOAD_NETWORK_HEADER, addrs[i].off, addrs[i].len)) {
				*key = addrs[i].key;
				return 3;
			}
		if (meta_load(e2, NFT_META_L4PROTO) && payload(e4, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) {
			if (cmp_ethertype(e1, false) && cmp_u8(e3, NFT_CMP_EQ, 1)) {
				*key = NK_ICMP_TYPE;
				return 5;
			}
			if (cmp_ethertype(e1, true) && cmp_u8(e3, NFT_CMP_EQ, 58)) {
				*key = NK_ICMPV6_TYPE;
				return 5;
			}
		}
		*key = NK_PROTOCOL;
		return 1;
	}
	if (fam == NFR_INET && meta_load(e0, NFT_META_NFPROTO)) {
		for (size_t i = 0; i < ARRAY_SIZE(addrs); i++)
			if (cmp_u8(e1, NFT_CMP_EQ, addrs[i].v6 ? NFPROTO_IPV6 : NFPROTO_IPV4) &&
			    payload(e2, NFT_PAYLOAD_NETWORK_HEADER, addrs[i].off, addrs[i].len)) {
				*key = addrs[i].key;
				return 3;
			}
		if (meta_load(e2, NFT_META_L4PROTO) && payload(e4, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1)) {
			if (cmp_u8(e1, NFT_CMP_EQ, NFPROTO_IPV4) && cmp_u8(e3, NFT_CMP_EQ, 1)) {
				*key = NK_ICMP_TYPE;
				return 5;
			}
			if (cmp_u8(e1, NFT_CMP_EQ, NFPROTO_IPV6) && cmp_u8(e3, NFT_CMP_EQ, 58)) {
				*key = NK_ICMPV6_TYPE;
				return 5;
			}
		}
		return 0;
	}
	if (meta_load(e0, NFT_META_L4PROTO)) {
		for (size_t i = 0; i < ARRAY_SIZE(ports); i++)
			if (cmp_u8(e1, NFT_CMP_EQ, ports[i].proto) &&
			    payload(e2, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2)) {
				*key = ports[i].key;
				return 3;
			}
		*key = NK_L4PROTO;
		return 1;
	}
	return 0;
}

static u128 be_value(const uint8_t *d, uint32_t len)
{
	u128 v = 0;

	for (uint32_t i = 0; i < len; i++)
		v = (v << 8) | d[i];
	return v;
}

static bool cmp_value(struct nftnl_expr *e, uint32_t op, enum nfr_key key, uint32_t *out)
{
	uint32_t len;
	const uint8_t *d;

	if (!is(e, "cmp") || nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_OP) != op ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_CMP_SREG) != NFT_REG_1)
		return false;
	d = data_of(e, NFTNL_EXPR_CMP_DATA, &len);
	if (!d || len != nfr_key_len(key) || len > 4)
		return false;
	*out = (uint32_t)be_value(d, len);
	return true;
}

static bool time_cmp(struct nftnl_expr **x, size_t n, uint32_t op, int64_t *t)
{
	uint32_t len;
	const uint8_t *d;

	if (n < 3 || !meta_load(x[0], NFT_META_TIME_NS) || !is(x[1], "byteorder") ||
	    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_OP) != NFT_BYTEORDER_HTON ||
	    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_LEN) != 8 ||
	    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_SIZE) != 8 || !is(x[2], "cmp") ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_CMP_OP) != op)
		return false;
	d = data_of(x[2], NFTNL_EXPR_CMP_DATA, &len);
	if (!d || len != 8)
		return false;
	uint64_t ns = (uint64_t)be_value(d, 8);
	if (ns % 1000000000ULL)
		return false; /* not whole seconds: not something wardwall writes */
	*t = (int64_t)(ns / 1000000000ULL);
	return true;
}

static bool ifname_cmp(struct nftnl_expr **x, size_t n, uint32_t metakey, char **out)
{
	uint32_t len;
	const char *d;

	if (n < 2 || !meta_load(x[0], metakey) || !is(x[1], "cmp") ||
	    nftnl_expr_get_u32(x[1], NFTNL_EXPR_CMP_OP) != NFT_CMP_EQ)
		return false;
	d = data_of(x[1], NFTNL_EXPR_CMP_DATA, &len);
	if (!d || len != 16 || d[15])
		return false;
	*out = strdup(d);
	return *out != NULL;
}

static bool not_ifaces(struct nftnl_expr **x, size_t n)
{
	for (size_t i = 0; i < 4; i += 2) {
		if (i + 1 >= n || !meta_load(x[i], i ? NFT_META_OIFNAME : NFT_META_IIFNAME) ||
		    !is(x[i + 1], "lookup") ||
		    strcmp(nftnl_expr_get_str(x[i + 1], NFTNL_EXPR_LOOKUP_SET), "ifaces") ||
		    nftnl_expr_get_u32(x[i + 1], NFTNL_EXPR_LOOKUP_FLAGS) != NFT_LOOKUP_F_INV ||
		    nftnl_expr_is_set(x[i + 1], NFTNL_EXPR_LOOKUP_DREG))
			return false;
	}
	return true;
}

static bool objref(struct nftnl_expr *e, uint32_t type, char **name)
{
	if (!is(e, "objref") || !nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_IMM_NAME) ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE) != type)
		return false;
	*name = strdup(nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_IMM_NAME));
	return *name != NULL;
}

static bool verdict_of(uint32_t code, const char *chain, struct nfr_verdict *v)
{
	switch ((int)code) {
	case NF_ACCEPT:
		v->kind = NV_ACCEPT;
		return true;
	case NF_DROP:
		v->kind = NV_DROP;
		return true;
	case NFT_RETURN:
		v->kind = NV_RETURN;
		return true;
	case NFT_JUMP:
	case NFT_GOTO:
		if (!chain)
			return false;
		v->kind = (int)code == NFT_JUMP ? NV_JUMP : NV_GOTO;
		v->chain = strdup(chain);
		return v->chain != NULL;
	default:
		return false;
	}
}

/* ---- concatenations ---- */

/* A load into the register that holds word `word` of a concatenation. */
static bool dreg_at(struct nftnl_expr *e, uint16_t attr, unsigned int word)
{
	return nftnl_expr_is_set(e, attr) &&
	       ww_nx_reg_word(nftnl_expr_get_u32(e, attr)) == (int)word;
}

static bool payload_at(struct nftnl_expr *e, uint32_t base, uint32_t off, uint32_t len,
		       unsigned int word)
{
	return is(e, "payload") && nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_BASE) == base &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET) == off &&
	       nftnl_expr_get_u32(e, NFTNL_EXPR_PAYLOAD_LEN) == len &&
	       dreg_at(e, NFTNL_EXPR_PAYLOAD_DREG, word);
}

/* An address's network protocol: `meta nfproto` (inet) or `meta protocol` (bridge). */
static bool l3_dep(enum nfr_family fam, struct nftnl_expr **x, size_t n, bool *v6)
{
	if (n < 2 || !meta_load(x[0], fam == NFR_BRIDGE ? NFT_META_PROTOCOL : NFT_META_NFPROTO))
		return false;
	if (fam == NFR_BRIDGE) {
		*v6 = cmp_ethertype(x[1], true);
		return *v6 || cmp_ethertype(x[1], false);
	}
	*v6 = cmp_u8(x[1], NFT_CMP_EQ, NFPROTO_IPV6);
	return *v6 || cmp_u8(x[1], NFT_CMP_EQ, NFPROTO_IPV4);
}

/* A field after the address, at register word `word`: how many expressions it took (0: none).
 * nft 1.0 converts meta l4proto's byte order (a no-op for one byte); without it is the same. */
static size_t cat_field(struct nftnl_expr **x, size_t n, unsigned int word, bool icmp, bool v6,
			enum nfr_key *k)
{
	if (n && is(x[0], "meta") &&
	    nftnl_expr_get_u32(x[0], NFTNL_EXPR_META_KEY) == NFT_META_L4PROTO &&
	    dreg_at(x[0], NFTNL_EXPR_META_DREG, word)) {
		uint32_t reg = nftnl_expr_get_u32(x[0], NFTNL_EXPR_META_DREG);
		*k = NK_L4PROTO;
		if (n > 1 && is(x[1], "byteorder") &&
		    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_OP) == NFT_BYTEORDER_HTON &&
		    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_SREG) == reg &&
		    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_DREG) == reg &&
		    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_SIZE) == 2 &&
		    nftnl_expr_get_u32(x[1], NFTNL_EXPR_BYTEORDER_LEN) == 1)
			return 2;
		return 1;
	}
	if (n && payload_at(x[0], NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, word)) {
		*k = NK_TH_DPORT;
		return 1;
	}
	if (n && icmp && payload_at(x[0], NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, word)) {
		*k = v6 ? NK_ICMPV6_TYPE : NK_ICMP_TYPE;
		return 1;
	}
	return 0;
}

/* `meta mark & mask` into NFT_REG_1 in network byte order (nft_batch.c's load_mark): 3
 * expressions, 0 when they are not that. */
static size_t mark_field(struct nftnl_expr **x, size_t n, uint32_t *mask)
{
	uint32_t flip;

	if (n < 3 || !meta_load(x[0], NFT_META_MARK) || !bitwise_of(x[1], mask, &flip) || flip ||
	    !is(x[2], "byteorder") ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_BYTEORDER_OP) != NFT_BYTEORDER_HTON ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_BYTEORDER_SREG) != NFT_REG_1 ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_BYTEORDER_DREG) != NFT_REG_1 ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_BYTEORDER_SIZE) != 4 ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_BYTEORDER_LEN) != 4)
		return 0;
	return 3;
}

/*
 * The loads of a concatenation as nft_batch.c's load_cat (and nft) writes them: the network
 * protocol's dependency, `meta l4proto icmp|ipv6-icmp` when a field is an ICMP type, the address
 * or the masked mark into NFT_REG_1, each other field at the next 32-bit register. Keyed on the
 * mark, the network protocol is there only for an ICMP type. Returns how many expressions that
 * took, 0 when they are not one.
 */
static size_t match_cat(enum nfr_family fam, struct nftnl_expr **x, size_t n, struct nfr_cat *cat)
{
	size_t i, k;
	bool v6 = false, icmp = false, icmp_field = false, dep = l3_dep(fam, x, n, &v6);

	memset(cat, 0, sizeof(*cat));
	i = dep ? 2 : 0;
	if (dep && i + 1 < n && meta_load(x[i], NFT_META_L4PROTO) &&
	    cmp_u8(x[i + 1], NFT_CMP_EQ, v6 ? 58 : 1)) {
		icmp = true;
		i += 2;
	}
	if ((k = mark_field(x + i, n - i, &cat->mark_mask))) {
		if (dep != icmp)
			return 0;
		cat->f[cat->n++] = NK_MARK;
		i += k;
	} else if (dep) {
		for (size_t a = 0; i < n && a < ARRAY_SIZE(addrs) && !cat->n; a++)
			if (addrs[a].v6 == v6 && payload_at(x[i], NFT_PAYLOAD_NETWORK_HEADER,
							    addrs[a].off, addrs[a].len, 0))
				cat->f[cat->n++] = addrs[a].key;
		i++;
	}
	if (!cat->n) {
		memset(cat, 0, sizeof(*cat));
		return 0;
	}
	for (unsigned int word = (ww_nx_field_len(cat->f[0]) + 3) / 4; cat->n < NFR_CAT_MAX;
	     cat->n++) {
		if (!(k = cat_field(x + i, n - i, word, icmp, v6, &cat->f[cat->n])))
			break;
		icmp_field |= cat->f[cat->n] == NK_ICMP_TYPE || cat->f[cat->n] == NK_ICMPV6_TYPE;
		word += (ww_nx_field_len(cat->f[cat->n]) + 3) / 4;
		i += k;
	}
	if (cat->n < 2 || icmp != icmp_field) {
		memset(cat, 0, sizeof(*cat));
		return 0;
	}
	return i;
}

/* A lookup of NFT_REG_1 in a named set (a verdict map when it sets the verdict). */
static bool lookup_of(struct nftnl_expr *e, struct nfr_rule *r)
{
	if (!is(e, "lookup") || nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_SREG) != NFT_REG_1 ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_FLAGS))
		return false;
	r->vmap = nftnl_expr_is_set(e, NFTNL_EXPR_LOOKUP_DREG);
	if (r->vmap && nftnl_expr_get_u32(e, NFTNL_EXPR_LOOKUP_DREG) != NFT_REG_VERDICT)
		return false;
	r->set = strdup(nftnl_expr_get_str(e, NFTNL_EXPR_LOOKUP_SET));
	return r->set != NULL;
}

/* objref through an object map keyed on NFT_REG_1: `counter name <cat> map @set`. */
static bool objref_map(struct nftnl_expr *e, char **set)
{
	if (!is(e, "objref") || !nftnl_expr_is_set(e, NFTNL_EXPR_OBJREF_SET_NAME) ||
	    nftnl_expr_get_u32(e, NFTNL_EXPR_OBJREF_SET_SREG) != NFT_REG_1)
		return false;
	*set = strdup(nftnl_expr_get_str(e, NFTNL_EXPR_OBJREF_SET_NAME));
	return *set != NULL;
}

/* ---- a rule, part by part, in the order nft_batch.c's linearize writes them ---- */

/* ct state, then the interface matches. */
static bool match_head(struct nftnl_expr **x, size_t n, struct nfr_rule *r, size_t *at)
{
	size_t i = 0;
	uint32_t len;

	if (n - i >= 3 && is(x[0], "ct") &&
	    nftnl_expr_get_u32(x[0], NFTNL_EXPR_CT_KEY) == NFT_CT_STATE && is(x[1], "bitwise")) {
		uint32_t mask, flip, zero;
		if (!bitwise_of(x[1], &mask, &flip) || flip || !is(x[2], "cmp") ||
		    nftnl_expr_get_u32(x[2], NFTNL_EXPR_CMP_OP) != NFT_CMP_NEQ)
			return false;
		const uint32_t *z = data_of(x[2], NFTNL_EXPR_CMP_DATA, &len);
		if (!z || len != 4 || (memcpy(&zero, z, 4), zero))
			return false;
		r->ct_state = mask;
		i = 3;
	}
	if (not_ifaces(x + i, n - i)) {
		r->not_ifaces = true;
		i += 4;
	}
	if (ifname_cmp(x + i, n - i, NFT_META_IIFNAME, &r->iifname))
		i += 2;
	if (ifname_cmp(x + i, n - i, NFT_META_OIFNAME, &r->oifname))
		i += 2;
	*at = i;
	return true;
}

/* The key's match: a concatenation looked up, or a key compared, in a range, or looked up. A
 * concatenation followed by an object map is the counter statement's (match_stmts). */
static bool match_keypart(enum nfr_family fam, struct nftnl_expr **x, size_t n, struct nfr_rule *r,
			  size_t *at)
{
	struct nfr_cat cat;
	size_t i = *at, k = match_cat(fam, x + i, n - i, &cat);

	if (k && i + k < n && is(x[i + k], "objref"))
		return true;
	if (k) {
		r->cat = cat;
		*at = i + k + 1;
		return i + k < n && lookup_of(x[i + k], r);
	}
	if (!(k = match_key(fam, x + i, n - i, &r->key)))
		return true;
	i += k;
	if (i < n && is(x[i], "lookup")) {
		if (!lookup_of(x[i], r))
			return false;
		i++;
	} else if (i + 1 < n && cmp_value(x[i], NFT_CMP_GTE, r->key, &r->lo) &&
		   cmp_value(x[i + 1], NFT_CMP_LTE, r->key, &r->hi)) {
		i += 2;
	} else if (i < n && cmp_value(x[i], NFT_CMP_EQ, r->key, &r->lo)) {
		r->hi = r->lo;
		i++;
	} else {
		return false;
	}
	*at = i;
	return true;
}

static bool same_cat(const struct nfr_cat *a, const struct nfr_cat *b)
{
	return a->n == b->n && !memcmp(a->f, b->f, a->n * sizeof(a->f[0])) &&
	       a->mark_mask == b->mark_mask;
}

/* `meta mark set meta mark & keep | or` (nft_batch.c's linearize). */
static size_t set_mark(struct nftnl_expr **x, size_t n, struct nfr_rule *r)
{
	if (n < 3 || !meta_load(x[0], NFT_META_MARK) ||
	    !bitwise_of(x[1], &r->mark_keep, &r->mark_or) || !is(x[2], "meta") ||
	    nftnl_expr_is_set(x[2], NFTNL_EXPR_META_DREG) ||
	    !nftnl_expr_is_set(x[2], NFTNL_EXPR_META_SREG) ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_META_KEY) != NFT_META_MARK ||
	    nftnl_expr_get_u32(x[2], NFTNL_EXPR_META_SREG) != NFT_REG_1) {
		r->mark_keep = r->mark_or = 0;
		return 0;
	}
	r->set_mark = true;
	return 3;
}

/* The time window, the counter through a map, the mark set, the named counter and limit, the
 * log. */
static bool match_stmts(enum nfr_family fam, struct nftnl_expr **x, size_t n, struct nfr_rule *r,
			size_t *at)
{
	struct nfr_cat cat;
	size_t i = *at, k;

	if (time_cmp(x + i, n - i, NFT_CMP_GTE, &r->from)) {
		r->has_from = true;
		i += 3;
	}
	if (time_cmp(x + i, n - i, NFT_CMP_LT, &r->until)) {
		r->has_until = true;
		i += 3;
	}
	if ((k = match_cat(fam, x + i, n - i, &cat)) && i + k < n &&
	    objref_map(x[i + k], &r->counter_map)) {
		/* One key per rule: a lookup before it keys on the same concatenation. */
		if (r->cat.n && !same_cat(&r->cat, &cat))
			return false;
		r->cat = cat;
		i += k + 1;
	}
	i += set_mark(x + i, n - i, r);
	if (i < n && objref(x[i], NFT_OBJECT_COUNTER, &r->counter))
		i++;
	if (i < n && objref(x[i], NFT_OBJECT_LIMIT, &r->limit))
		i++;
	if (i < n && is(x[i], "log")) {
		if (!nftnl_expr_is_set(x[i], NFTNL_EXPR_LOG_PREFIX) ||
		    !nftnl_expr_is_set(x[i], NFTNL_EXPR_LOG_GROUP) ||
		    nftnl_expr_is_set(x[i], NFTNL_EXPR_LOG_LEVEL) ||
		    (nftnl_expr_is_set(x[i], NFTNL_EXPR_LOG_SNAPLEN) &&
		     nftnl_expr_get_u32(x[i], NFTNL_EXPR_LOG_SNAPLEN)))
			return false;
		r->log_prefix = strdup(nftnl_expr_get_str(x[i], NFTNL_EXPR_LOG_PREFIX));
		r->log_group = nftnl_expr_get_u16(x[i], NFTNL_EXPR_LOG_GROUP);
		if (!r->log_prefix)
			return false;
		i++;
	}
	*at = i;
	return true;
}

/* The verdict: a reject statement or an immediate verdict, or none. */
static bool match_verdict(struct nftnl_expr **x, size_t n, struct nfr_rule *r, size_t *at)
{
	size_t i = *at;

	if (i < n && is(x[i], "reject")) {
		uint32_t type = nftnl_expr_get_u32(x[i], NFTNL_EXPR_REJECT_TYPE);
		if (type == NFT_REJECT_TCP_RST)
			r->v.kind = NV_REJECT_RST;
		else if (type == NFT_REJECT_ICMPX_UNREACH &&
			 nftnl_expr_get_u8(x[i], NFTNL_EXPR_REJECT_CODE) ==
				 NFT_REJECT_ICMPX_ADMIN_PROHIBITED)
			r->v.kind = NV_REJECT_ADMIN;
		else
			return false;
		i++;
	} else if (i < n && is(x[i], "immediate") &&
		   nftnl_expr_get_u32(x[i], NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT) {
		if (!verdict_of(nftnl_expr_get_u32(x[i], NFTNL_EXPR_IMM_VERDICT),
				nftnl_expr_is_set(x[i], NFTNL_EXPR_IMM_CHAIN)
					? nftnl_expr_get_str(x[i], NFTNL_EXPR_IMM_CHAIN)
					: NULL,
				&r->v))
			return false;
		i++;
	}
	*at = i;
	return true;
}

/* Fills r from the expressions; false if they are not a shape wardwall writes. */
static bool delinearize(enum nfr_family fam, struct nftnl_expr **x, size_t n, struct nfr_rule *r)
{
	size_t i = 0;

	return n > 0 && match_head(x, n, r, &i) && match_keypart(fam, x, n, r, &i) &&
	       match_stmts(fam, x, n, r, &i) && match_verdict(x, n, r, &i) && i == n;
}

/* A rule wardwall does not write, as its expressions on one line ("[ counter pkts 0 ... ]"). */
static char *foreign_text(struct nftnl_expr **x, size_t n)
{
	struct strbuf sb = {0};
	char buf[1024];

	for (size_t i = 0; i < n; i++) {
		nftnl_expr_snprintf(buf, sizeof(buf), x[i], NFTNL_OUTPUT_DEFAULT, 0);
		sb_addf(&sb, "%s[ %s %s ]", i ? " " : "", nftnl_expr_get_str(x[i], NFTNL_EXPR_NAME),
			buf);
	}
	if (!n)
		sb_add(&sb, "(an empty rule)");
	return sb.oom ? (sb_free(&sb), NULL) : sb_steal(&sb);
}

int ww_nftd_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rctx *c = data;
	struct nftnl_rule *nr = nftnl_rule_alloc();
	struct xv x = {0};
	struct nfr_rule r = {0};
	struct nfr_chain *ch = NULL;

	if (!nr)
		return MNL_CB_ERROR;
	if (nftnl_rule_nlmsg_parse(nlh, nr) < 0 ||
	    strcmp(nftnl_rule_get_str(nr, NFTNL_RULE_TABLE), WW_NFT_TABLE))
		goto out;
	if (c->raw) {
		char buf[8192];
		nftnl_rule_snprintf(buf, sizeof(buf), nr, NFTNL_OUTPUT_DEFAULT, 0);
		sb_addf(c->raw, "rule %s\n", buf);
	}
	/* read_once sorted the chains: a linear scan here is rules x chains strcmps. */
	ch = nfr_chain_find(c->t, nftnl_rule_get_str(nr, NFTNL_RULE_CHAIN));
	if (!ch)
		goto out; /* a chain created after our chain dump: the genid check retries */
	nftnl_expr_foreach(nr, collect_expr, &x);
	if (nftnl_rule_is_set(nr, NFTNL_RULE_USERDATA) || !delinearize(c->family, x.v, x.n, &r)) {
		nfr_rule_clear(&r);
		r.foreign = foreign_text(x.v, x.n);
		if (!r.foreign)
			c->err = -ENOMEM;
	}
	r.handle = nftnl_rule_get_u64(nr, NFTNL_RULE_HANDLE);
	if (VEC_PUSH(ch->rules, ch->nrules, ch->cap, r)) {
		nfr_rule_clear(&r);
		c->err = -ENOMEM;
	}
out:
	free(x.v);
	nftnl_rule_free(nr);
	return MNL_CB_OK;
}

/* ---- sets ---- */

/* nft's datatype numbers for the key types wardwall uses. */
static enum nfr_key key_of_type(uint32_t type, uint32_t len)
{
	switch (type) {
	case 7:
		return len == 4 ? NK_SADDR4 : NK_NONE;
	case 8:
		return len == 16 ? NK_SADDR6 : NK_NONE;
	case 12:
		return len == 1 ? NK_L4PROTO : NK_NONE;
	case 13:
		return len == 2 ? NK_TCP_DPORT : NK_NONE;
	case 14:
		return len == 1 ? NK_ICMP_TYPE : NK_NONE;
	case 29:
		return len == 1 ? NK_ICMPV6_TYPE : NK_NONE;
	case 41:
		return len == 16 ? NK_IFNAME : NK_NONE;
	default:
		return NK_NONE;
	}
}

/*
 * A concatenation's fields from the set's type ids (6 bits each, the last field in the lowest
 * bits) and lengths (NFTNL_SET_DESC_CONCAT). A set only says types: an address reads back as a
 * destination (NK_DADDR4/6), inet_service as NK_TH_DPORT, as the flow maps key on them; the
 * mark (`type mark . ...` or `typeof meta mark . ...`: the same types) as NK_MARK. Returns
 * false for anything nfr.h cannot say.
 */
static bool cat_of_set(struct nftnl_set *s, struct nfr_cat *cat)
{
	static const struct {
		uint32_t type, len;
		enum nfr_key key;
	} fields[] = {{7, 4, NK_DADDR4},    {8, 16, NK_DADDR6},	   {12, 1, NK_L4PROTO},
		      {13, 2, NK_TH_DPORT}, {14, 1, NK_ICMP_TYPE}, {29, 1, NK_ICMPV6_TYPE},
		      {19, 4, NK_MARK}};
	uint32_t n = 0, type = nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE), keylen = 0;
	const uint8_t *lens = nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)
				  ? nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &n)
				  : NULL;

	if (!lens || n < 2 || n > NFR_CAT_MAX)
		return false;
	cat->n = n;
	for (int i = (int)n - 1; i >= 0; i--, type >>= 6) {
		cat->f[i] = NK_NONE;
		for (size_t k = 0; k < ARRAY_SIZE(fields); k++)
			if (fields[k].type == (type & 63) && fields[k].len == lens[i])
				cat->f[i] = fields[k].key;
		if (!cat->f[i] || (i == 0) != (cat->f[i] == NK_DADDR4 || cat->f[i] == NK_DADDR6 ||
					       cat->f[i] == NK_MARK))
			return false;
		keylen += (lens[i] + 3u) & ~3u;
	}
	return !type && keylen == nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
}

static void set_raw(struct rctx *c, struct nftnl_set *s)
{
	char buf[4096];

	nftnl_set_snprintf(buf, sizeof(buf), s, NFTNL_OUTPUT_DEFAULT, 0);
	sb_addf(c->raw,
		"set %s flags 0x%x keytype %u keylen %u datatype 0x%x datalen %u udata %s\n", buf,
		nftnl_set_get_u32(s, NFTNL_SET_FLAGS), nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
		nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN), nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE),
		nftnl_set_get_u32(s, NFTNL_SET_DATA_LEN),
		nftnl_set_is_set(s, NFTNL_SET_USERDATA) ? "yes" : "no");
	if (nftnl_set_is_set(s, NFTNL_SET_OBJ_TYPE))
		sb_addf(c->raw, "objtype %u\n", nftnl_set_get_u32(s, NFTNL_SET_OBJ_TYPE));
	if (nftnl_set_is_set(s, NFTNL_SET_DESC_CONCAT)) {
		uint32_t n;
		const uint8_t *lens = nftnl_set_get_data(s, NFTNL_SET_DESC_CONCAT, &n);
		sb_add(c->raw, "concat");
		for (uint32_t i = 0; i < n; i++)
			sb_addf(c->raw, " %u", lens[i]);
		sb_add(c->raw, "\n");
	}
	if (nftnl_set_is_set(s, NFTNL_SET_USERDATA)) {
		uint32_t ul;
		const uint8_t *ud = nftnl_set_get_data(s, NFTNL_SET_USERDATA, &ul);
		for (uint32_t i = 0; i < ul; i++)
			sb_addf(c->raw, "%02x", ud[i]);
		sb_add(c->raw, "\n");
	}
}

/* The set's key and kind, from its flags, types and object type; false: not a set wardwall
 * writes. */
static bool set_shape(struct nftnl_set *s, struct nfr_set *x)
{
	uint32_t flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS),
		 known = NFT_SET_INTERVAL | NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT;

	x->interval = flags & NFT_SET_INTERVAL;
	x->vmap = flags & NFT_SET_MAP;
	x->objmap = flags & NFT_SET_OBJECT;
	if (flags & NFT_SET_CONCAT) {
		if (!x->interval || !cat_of_set(s, &x->cat))
			return false;
	} else {
		x->key = key_of_type(nftnl_set_get_u32(s, NFTNL_SET_KEY_TYPE),
				     nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN));
		if (!x->key)
			return false;
	}
	if (x->vmap && x->objmap)
		return false;
	if (x->objmap && nftnl_set_get_u32(s, NFTNL_SET_OBJ_TYPE) != NFT_OBJECT_COUNTER)
		return false;
	return !(flags & ~known) &&
	       !(x->vmap && nftnl_set_get_u32(s, NFTNL_SET_DATA_TYPE) != NFT_DATA_VERDICT);
}

int ww_nftd_set_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rctx *c = data;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nfr_set x = {0};

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_nlmsg_parse(nlh, s) < 0 ||
	    strcmp(nftnl_set_get_str(s, NFTNL_SET_TABLE), WW_NFT_TABLE))
		goto out;
	if (c->raw)
		set_raw(c, s);
	x.name = xdup(c, nftnl_set_get_str(s, NFTNL_SET_NAME));
	if (!set_shape(s, &x)) {
		char buf[1024];
		nftnl_set_snprintf(buf, sizeof(buf), s, NFTNL_OUTPUT_DEFAULT, 0);
		x.foreign = xdup(c, buf);
	}
	if (VEC_PUSH(c->t->sets, c->t->nsets, c->t->scap, x)) {
		nfr_set_clear(&x);
		c->err = -ENOMEM;
	}
out:
	nftnl_set_free(s);
	return MNL_CB_OK;
}

void ww_nftd_raw_free(struct raw_elem *r)
{
	free(r->ifname);
	free(r->v.chain);
	free(r->obj);
	r->ifname = r->v.chain = r->obj = NULL;
}

bool ww_nftd_raw_same_key(const struct raw_elem *a, const struct raw_elem *b)
{
	return a->key == b->key && a->key_end == b->key_end && a->end == b->end &&
	       !memcmp(a->c, b->c, sizeof(a->c)) && !memcmp(a->cend, b->cend, sizeof(a->cend)) &&
	       !strcmp(a->ifname ? a->ifname : "", b->ifname ? b->ifname : "");
}

/* A concatenation's key split into its fields (field 0 into *f0, the others into rest[]). */
static bool cat_split(const struct nfr_cat *cat, const uint8_t *k, uint32_t len, u128 *f0,
		      uint32_t *rest)
{
	uint32_t at = 0;

	for (unsigned int i = 0; i < cat->n; i++) {
		unsigned int fl = ww_nx_field_len(cat->f[i]);
		if (at + fl > len)
			return false;
		if (i)
			rest[i - 1] = (uint32_t)be_value(k + at, fl);
		else
			*f0 = be_value(k, fl);
		at += (fl + 3u) & ~3u;
	}
	return at == len;
}

/* The element's key(s): an interface name, a value, or a concatenation from KEY to KEY_END. */
static bool elem_key(const struct nfr_set *set, struct nftnl_set_elem *e, struct raw_elem *r)
{
	uint32_t len, elen;
	const uint8_t *k = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len), *ke;

	if (set->cat.n) {
		ke = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY_END)
			 ? nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY_END, &elen)
			 : k;
		if (ke == k)
			elen = len;
		return k && cat_split(&set->cat, k, len, &r->key, r->c) &&
		       cat_split(&set->cat, ke, elen, &r->key_end, r->cend);
	}
	if (set->key == NK_IFNAME) {
		r->ifname = strndup((const char *)k, len);
		return r->ifname != NULL;
	}
	r->key = be_value(k, len);
	return true;
}

int ww_nftd_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct elems_ctx *ec = data;
	struct raw_elem r = {0};

	if (!nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_KEY))
		return 0;
	if (!elem_key(ec->set, e, &r))
		goto fail;
	r.end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	if (!r.end && nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_VERDICT) &&
	    !verdict_of(nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_VERDICT),
			nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_CHAIN)
			    ? nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_CHAIN)
			    : NULL,
			&r.v))
		goto fail;
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_OBJREF) &&
	    !(r.obj = strdup(nftnl_set_elem_get_str(e, NFTNL_SET_ELEM_OBJREF))))
		goto fail;
	if (VEC_PUSH(ec->v, ec->n, ec->cap, r))
		goto fail;
	return 0;
fail:
	ww_nftd_raw_free(&r);
	return -1;
}

static int elems_cb(const struct nlmsghdr *nlh, void *data)
{
	struct elems_ctx *ec = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		return MNL_CB_ERROR;
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0 &&
	    nftnl_set_elem_foreach(s, ww_nftd_elem_cb, ec) < 0)
		ec->c->err = -ENOMEM;
	nftnl_set_free(s);
	return MNL_CB_OK;
}

static int raw_cmp(const void *a, const void *b)
{
	const struct raw_elem *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (int)y->end - (int)x->end; /* an interval's end before the next one's start */
}

/* An element as the IR has it, taking what r owns. */
static void push_elem(struct elems_ctx *ec, struct raw_elem *r, u128 hi)
{
	struct nfr_elem e = {.lo = r->key, .hi = hi, .ifname = r->ifname, .v = r->v, .obj = r->obj};

	memcpy(e.clo, r->c, sizeof(e.clo));
	memcpy(e.chi, r->cend, sizeof(e.chi));
	r->ifname = r->v.chain = r->obj = NULL;
	if (VEC_PUSH(ec->set->elems, ec->set->nelems, ec->set->cap, e)) {
		free(e.ifname), free(e.v.chain), free(e.obj);
		ec->c->err = -ENOMEM;
	}
}

/* Interval sets hold starts and ends (key = last + 1); rebuild [lo, hi] pairs. A concatenation's
 * elements are whole already. */
void ww_nftd_rebuild(struct elems_ctx *ec)
{
	struct nfr_set *s = ec->set;
	struct raw_elem *open = NULL;

	qsort(ec->v, ec->n, sizeof(*ec->v), raw_cmp);
	for (size_t i = 0; i <= ec->n; i++) {
		struct raw_elem *r = i < ec->n ? &ec->v[i] : NULL;
		if (s->cat.n || !s->interval) {
			if (r)
				push_elem(ec, r, s->cat.n ? r->key_end : r->key);
			continue;
		}
		if (open && (!r || r->end || r->key > open->key)) {
			push_elem(ec, open, r ? r->key - 1 : nfr_key_max(s->key));
			open = NULL;
		}
		if (r && !r->end)
			open = r;
	}
	for (size_t i = 0; i < ec->n; i++)
		ww_nftd_raw_free(&ec->v[i]);
	free(ec->v);
}

static int read_elems(struct ww_nft *n, struct rctx *c, struct nfr_set *set)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nftnl_set *s = nftnl_set_alloc();
	struct elems_ctx ec = {.c = c, .set = set};
	struct nlmsghdr *nlh;
	int err;

	if (!s)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, WW_NFT_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set->name);
	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETSETELEM, nfproto(c->family), NLM_F_DUMP, ++n->seq);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	err = ww_nft_talk(n, nlh, elems_cb, &ec);
	ww_nftd_rebuild(&ec);
	return err ? err : c->err;
}

/* ---- the whole table ---- */

static int dump(struct ww_nft *n, struct rctx *c, uint16_t type, mnl_cb_t cb)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint16_t flags = type == NFT_MSG_GETTABLE ? NLM_F_ACK : NLM_F_DUMP;
	int err;

	nlh = nftnl_nlmsg_build_hdr(buf, type, nfproto(c->family), flags, ++n->seq);
	switch (type) {
	case NFT_MSG_GETTABLE:
		mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, WW_NFT_TABLE);
		break;
	case NFT_MSG_GETSET:
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, WW_NFT_TABLE);
		break;
	case NFT_MSG_GETOBJ:
		mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, WW_NFT_TABLE);
		break;
	default:
		break;
	}
	err = ww_nft_talk(n, nlh, cb, c);
	return err ? err : c->err;
}

/*
 * One dump per chain: the kernel finds a named chain by hash, while a dump of every rule of the
 * table resumes each 32 KiB part by walking all chains and rules again from the start (the
 * read took minutes at 100k flows, quadratic; one request per chain is linear).
 */
static int read_rules(struct ww_nft *n, struct rctx *c, const char *chain)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, nfproto(c->family), NLM_F_DUMP,
				    ++n->seq);
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, WW_NFT_TABLE);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, chain);
	err = ww_nft_talk(n, nlh, ww_nftd_rule_cb, c);
	return err ? err : c->err;
}

/* Whether wardwall has a table of family f. */
static int table_exists(struct ww_nft *n, enum nfr_family f, bool *found)
{
	struct rctx c = {.family = f};
	int err;

	c.t = calloc(1, sizeof(*c.t));
	if (!c.t)
		return -ENOMEM;
	err = dump(n, &c, NFT_MSG_GETTABLE, ww_nftd_table_cb);
	nfr_table_free(c.t);
	*found = !err && c.found;
	return err == -ENOENT ? 0 : err;
}

static int read_once(struct ww_nft *n, struct rctx *c)
{
	int err;

	/* One mode, one table: inet (gateway, host) or bridge. Both at once is drift. */
	for (int f = NFR_INET; f <= NFR_BRIDGE; f++) {
		c->family = (enum nfr_family)f;
		err = dump(n, c, NFT_MSG_GETTABLE, ww_nftd_table_cb);
		if (err == -ENOENT)
			err = 0;
		if (err || c->found)
			break;
	}
	if (err || !c->found)
		return err;
	c->t->family = c->family;
	if (c->family == NFR_INET) {
		err = table_exists(n, NFR_BRIDGE, &c->t->other_family);
		if (err)
			return err;
	}
	err = dump(n, c, NFT_MSG_GETCHAIN, ww_nftd_chain_cb);
	if (!err)
		err = dump(n, c, NFT_MSG_GETOBJ, ww_nftd_obj_cb);
	if (!err)
		err = dump(n, c, NFT_MSG_GETSET, ww_nftd_set_cb);
	if (err)
		return err;
	nfr_table_sort(c->t); /* ww_nftd_rule_cb and read_elems look objects up by name */
	for (size_t i = 0; i < c->t->nchains && !err; i++)
		err = read_rules(n, c, c->t->chains[i].name);
	for (size_t i = 0; i < c->t->nsets && !err; i++)
		if (!c->t->sets[i].foreign)
			err = read_elems(n, c, &c->t->sets[i]);
	if (!err)
		nfr_table_sort(c->t);
	return err;
}

int ww_nft_read(struct ww_nft *n, struct nfr_table **out, uint32_t *genid, struct strbuf *err)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		struct rctx c = {0};
		uint32_t g0, g1;
		int e = ww_nft_genid(n, &g0);
		if (!e) {
			c.t = calloc(1, sizeof(*c.t));
			e = c.t ? read_once(n, &c) : -ENOMEM;
		}
		if (!e)
			e = ww_nft_genid(n, &g1);
		if (e == -EINTR) {
			/* A dump the kernel marked interrupted (NLM_F_DUMP_INTR): a commit came
			 * between two of its parts. Read again, as when the generation moved. */
			nfr_table_free(c.t);
			continue;
		}
		if (e) {
			nfr_table_free(c.t);
			sb_addf(err, "reading wardwall's table (%s): %s", WW_NFT_TABLE, strerror(-e));
			return e;
		}
		if (g0 != g1) {
			nfr_table_free(c.t);
			continue; /* the ruleset changed while we read it */
		}
		if (!c.found) {
			nfr_table_free(c.t);
			c.t = NULL;
		}
		*out = c.t;
		*genid = g0;
		return 0;
	}
	sb_addf(err, "reading wardwall's table (%s): the ruleset kept changing", WW_NFT_TABLE);
	return -EAGAIN;
}

/*
 * Counters by name, COUNTER_CHUNK requests to a sendmsg, each answered by the object or an
 * error: the kernel finds a named object by hash, while a dump of the table's objects walks
 * their list again from the start for each 32 KiB it returns (4 s for 120k counters).
 */
#define COUNTER_CHUNK 256

static int counters_chunk(struct ww_nft *n, struct rctx *c, const struct nfr_table *names,
			  size_t from, size_t count)
{
	size_t len = 0, got = 0, cap = count * 512;
	char *req = malloc(cap);
	uint32_t seq0 = n->seq + 1;
	int e = 0;

	if (!req)
		return -ENOMEM;
	for (size_t i = from; i < from + count; i++) {
		if (len + 512 > cap || strlen(names->counters[i].name) > 300) {
			free(req);
			return -E2BIG;
		}
		struct nlmsghdr *nlh = nftnl_nlmsg_build_hdr(req + len, NFT_MSG_GETOBJ, nfproto(c->family),
							     0, ++n->seq);
		mnl_attr_put_strz(nlh, NFTA_OBJ_TABLE, WW_NFT_TABLE);
		mnl_attr_put_strz(nlh, NFTA_OBJ_NAME, names->counters[i].name);
		mnl_attr_put_u32(nlh, NFTA_OBJ_TYPE, htonl(NFT_OBJECT_COUNTER));
		len += NLMSG_ALIGN(nlh->nlmsg_len);
	}
	if (mnl_socket_sendto(n->nl, req, len) < 0)
		e = -errno;
	free(req);
	while (!e && got < count) {
		ssize_t r = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		int left = (int)r;
		if (r < 0) {
			e = -errno;
			break;
		}
		for (struct nlmsghdr *nlh = (struct nlmsghdr *)n->buf; !e && mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			if (nlh->nlmsg_seq < seq0 || nlh->nlmsg_seq > n->seq)
				continue; /* not an answer to this chunk */
			got++;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *x = mnl_nlmsg_get_payload(nlh);
				if (x->error && x->error != -ENOENT)
					e = x->error; /* ENOENT: that counter is gone */
				continue;
			}
			ww_nftd_obj_cb(nlh, c);
		}
	}
	return e ? e : c->err;
}

int ww_nft_read_counters(struct ww_nft *n, const struct nfr_table *names, struct nfr_table **out,
			 struct strbuf *err)
{
	struct rctx c = {.family = names ? names->family : NFR_INET};
	int e = 0;

	c.t = calloc(1, sizeof(*c.t));
	if (!c.t)
		return -ENOMEM;
	c.t->family = c.family;
	set_sockbuf(mnl_socket_get_fd(n->nl), SO_RCVBUF, SO_RCVBUFFORCE, 4u << 20);
	for (size_t i = 0; names && i < names->ncounters && !e; i += COUNTER_CHUNK) {
		size_t k = names->ncounters - i < COUNTER_CHUNK ? names->ncounters - i : COUNTER_CHUNK;
		e = counters_chunk(n, &c, names, i, k);
	}
	if (e) {
		nfr_table_free(c.t);
		sb_addf(err, "reading the counters of table %s %s: %s", nfr_family_str(c.family),
			WW_NFT_TABLE, strerror(-e));
		return e;
	}
	nfr_table_sort(c.t);
	*out = c.t;
	return 0;
}

int ww_nft_refresh_counters(struct ww_nft *n, struct nfr_table *t, uint32_t genid,
			    struct strbuf *err)
{
	struct nfr_table *fresh = NULL;
	uint32_t g0 = 0, g1 = 0;
	int e = ww_nft_genid(n, &g0);

	if (!e && g0 != genid)
		return 1;
	if (!e)
		e = ww_nft_read_counters(n, t, &fresh, err);
	if (!e)
		e = ww_nft_genid(n, &g1);
	if (!e && g1 != genid)
		e = 1; /* the counters read may belong to another table */
	for (size_t i = 0; !e && i < t->ncounters; i++) {
		struct nfr_counter *o = &t->counters[i];
		const struct nfr_counter *c = nfr_counter_find(fresh, o->name);
		o->packets = c ? c->packets : 0;
		o->bytes = c ? c->bytes : 0;
	}
	nfr_table_free(fresh);
	return e;
}

int ww_nft_dump_raw(struct ww_nft *n, struct strbuf *out)
{
	struct rctx c = {.raw = out};
	int err;

	c.t = calloc(1, sizeof(*c.t));
	if (!c.t)
		return -ENOMEM;
	err = read_once(n, &c);
	nfr_table_free(c.t);
	return err;
}
