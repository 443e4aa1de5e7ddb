// SPDX-License-Identifier: GPL-2.0-only
/* The libnftnl expressions wardwall writes (nft_expr.h). */
#include "nft_expr.h"

#include <stdio.h>

#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

struct nftnl_expr *ww_nx_add(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (e)
		nftnl_rule_add_expr(r, e);
	return e;
}

bool ww_nx_meta_to(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ww_nx_add(r, "meta");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return true;
}

bool ww_nx_meta(struct nftnl_rule *r, uint32_t key)
{
	return ww_nx_meta_to(r, key, NFT_REG_1);
}

bool ww_nx_payload_to(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
		      uint32_t dreg)
{
	struct nftnl_expr *e = ww_nx_add(r, "payload");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	return true;
}

bool ww_nx_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	return ww_nx_payload_to(r, base, off, len, NFT_REG_1);
}

/* A 128-bit register holds 4 words (NFT_REG_SIZE / NFT_REG32_SIZE). */
uint32_t ww_nx_reg(unsigned int word)
{
	return word % 4 ? NFT_REG32_00 + word : NFT_REG_1 + word / 4;
}

int ww_nx_reg_word(uint32_t reg)
{
	if (reg >= NFT_REG_1 && reg <= NFT_REG_4)
		return (int)(reg - NFT_REG_1) * 4;
	if (reg >= NFT_REG32_00 && reg <= NFT_REG32_15)
		return (int)(reg - NFT_REG32_00);
	return -1;
}

bool ww_nx_hton(struct nftnl_rule *r, uint32_t reg, uint32_t size, uint32_t len)
{
	struct nftnl_expr *e = ww_nx_add(r, "byteorder");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, size);
	return true;
}

bool ww_nx_bitwise(struct nftnl_rule *r, uint32_t reg, uint32_t mask, uint32_t flip)
{
	struct nftnl_expr *e = ww_nx_add(r, "bitwise");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_OP, NFT_BITWISE_BOOL);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &flip, 4);
	return true;
}

bool ww_nx_meta_set(struct nftnl_rule *r, uint32_t key, uint32_t sreg)
{
	struct nftnl_expr *e = ww_nx_add(r, "meta");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_SREG, sreg);
	return true;
}

bool ww_nx_objref_map(struct nftnl_rule *r, const char *set)
{
	struct nftnl_expr *e = ww_nx_add(r, "objref");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_SET_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_SET_NAME, set);
	return true;
}

unsigned int ww_nx_field_len(enum nfr_key k)
{
	if (k == NK_MARK)
		return 4;
	return k == NK_TH_DPORT ? 2 : nfr_key_len(k);
}

uint32_t ww_nx_set_concat(struct nftnl_set *s, const uint8_t *lens, size_t n)
{
	uint32_t keylen = 0;

	if (!n || n > NFT_REG32_COUNT)
		return 0;
	for (size_t i = 0; i < n; i++)
		keylen += (lens[i] + 3u) & ~3u;
	if (keylen > NFT_REG32_COUNT * 4)
		return 0;
	nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, lens, (uint32_t)n);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, keylen);
	return keylen;
}

bool ww_nx_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ww_nx_add(r, "cmp");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return true;
}

bool ww_nx_cmp_u8(struct nftnl_rule *r, uint8_t v)
{
	return ww_nx_cmp(r, NFT_CMP_EQ, &v, 1);
}

bool ww_nx_lookup(struct nftnl_rule *r, const char *set, bool vmap, bool inv)
{
	struct nftnl_expr *e = ww_nx_add(r, "lookup");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (vmap)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS, inv ? NFT_LOOKUP_F_INV : 0);
	return true;
}

bool ww_nx_verdict(struct nftnl_rule *r, int code, const char *chain)
{
	struct nftnl_expr *e = ww_nx_add(r, "immediate");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)code);
	if (chain)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	return true;
}

bool ww_nx_ifname_eq(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[16] = {0};

	strncpy(buf, name, sizeof(buf) - 1);
	return ww_nx_meta(r, key) && ww_nx_cmp(r, NFT_CMP_EQ, buf, sizeof(buf));
}

bool ww_nx_time_cmp(struct nftnl_rule *r, uint32_t op, uint64_t ns)
{
	struct nftnl_expr *e;
	uint8_t be[8];

	if (!ww_nx_meta(r, NFT_META_TIME_NS) || !(e = ww_nx_add(r, "byteorder")))
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 8);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 8);
	for (int i = 7; i >= 0; i--, ns >>= 8)
		be[i] = (uint8_t)(ns & 0xff);
	return ww_nx_cmp(r, op, be, 8);
}

bool ww_nx_objref(struct nftnl_rule *r, uint32_t type, const char *name)
{
	struct nftnl_expr *e = ww_nx_add(r, "objref");

	if (!e)
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, type);
	nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, name);
	return true;
}

bool ww_nx_ct_state(struct nftnl_rule *r, uint32_t mask)
{
	struct nftnl_expr *e;
	uint32_t zero = 0;

	if (!(e = ww_nx_add(r, "ct")))
		return false;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	if (!ww_nx_bitwise(r, NFT_REG_1, mask, 0))
		return false;
	return ww_nx_cmp(r, NFT_CMP_NEQ, &zero, 4);
}

bool ww_nx_reject(struct nftnl_rule *r, bool tcp_reset)
{
	struct nftnl_expr *e = ww_nx_add(r, "reject");

	if (!e)
		return false;
	if (tcp_reset) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
	} else {
		nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_ICMPX_UNREACH);
		nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, NFT_REJECT_ICMPX_ADMIN_PROHIBITED);
	}
	return true;
}

bool ww_nx_log(struct nftnl_rule *r, const char *prefix, uint16_t group)
{
	struct nftnl_expr *e = ww_nx_add(r, "log");

	if (!e)
		return false;
	nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
	nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, group);
	return true;
}
