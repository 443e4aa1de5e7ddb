// SPDX-License-Identifier: GPL-2.0-only
/*
 * The overlay tables' netlink builder (nft_overlay.h): small tables of their own, beside
 * wardwall's, each rebuilt whole in one transaction by the code that owns it.
 */
#include "nft_overlay.h"

#include "nft_expr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

struct nlmsghdr *ww_ovl_hdr(struct ww_ovl *q, int type, int flags)
{
	if (q->err)
		return NULL;
	if (mnl_nlmsg_batch_current(q->b) == NULL ||
	    mnl_nlmsg_batch_size(q->b) + 65536 > WW_OVL_BUF) {
		q->err = -E2BIG;
		return NULL;
	}
	struct nlmsghdr *n = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(q->b), (uint16_t)type,
						   NFPROTO_INET, (uint16_t)(flags | NLM_F_ACK),
						   q->seq);
	q->last = q->seq++;
	return n;
}

void ww_ovl_next(struct ww_ovl *q)
{
	mnl_nlmsg_batch_next(q->b);
}

void ww_ovl_table_msg(struct ww_ovl *q, int type, int flags)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *n = ww_ovl_hdr(q, type, flags);

	if (!t || !n) {
		q->err = q->err ? q->err : -ENOMEM;
		nftnl_table_free(t);
		return;
	}
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, q->table);
	nftnl_table_nlmsg_build_payload(n, t);
	nftnl_table_free(t);
	ww_ovl_next(q);
}

void ww_ovl_chain_msg(struct ww_ovl *q, const char *name, int hook)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	struct nlmsghdr *n = ww_ovl_hdr(q, NFT_MSG_NEWCHAIN, NLM_F_CREATE);

	if (!c || !n) {
		q->err = q->err ? q->err : -ENOMEM;
		nftnl_chain_free(c);
		return;
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, q->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, name);
	if (hook >= 0) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, (uint32_t)hook);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, q->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	}
	nftnl_chain_nlmsg_build_payload(n, c);
	nftnl_chain_free(c);
	ww_ovl_next(q);
}

/* ---- expressions ---- */

void ww_ovl_x_add(struct nftnl_rule *r, struct nftnl_expr *e, int *err)
{
	if (!e)
		*err = -ENOMEM;
	else
		nftnl_rule_add_expr(r, e);
}

struct nftnl_expr *ww_ovl_x_meta(uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	return e;
}

struct nftnl_expr *ww_ovl_x_cmp(const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	return e;
}

struct nftnl_expr *ww_ovl_x_payload(uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	return e;
}

void ww_ovl_m_nfproto(struct nftnl_rule *r, int family, int *err)
{
	uint8_t v = family == WW_INET ? NFPROTO_IPV4 : NFPROTO_IPV6;

	ww_ovl_x_add(r, ww_ovl_x_meta(NFT_META_NFPROTO), err);
	ww_ovl_x_add(r, ww_ovl_x_cmp(&v, 1), err);
}

/* The source (dst false) or destination address within a prefix. */
void ww_ovl_m_addr(struct nftnl_rule *r, const struct ww_prefix *p, bool dst, int *err)
{
	bool v4 = p->a.family == WW_INET;
	uint32_t len = v4 ? 4 : 16, off = v4 ? (dst ? 16 : 12) : (dst ? 24 : 8);
	uint8_t a[16], m[16], z[16] = {0};
	u128 mask = p->len ? ~(u128)0 << (ww_family_bits(p->a.family) - p->len) : 0;

	ww_ovl_x_add(r, ww_ovl_x_payload(NFT_PAYLOAD_NETWORK_HEADER, off, len), err);
	if (p->len < ww_family_bits(p->a.family)) {
		struct nftnl_expr *e = nftnl_expr_alloc("bitwise");
		ww_addr_bytes(p->a.family, mask, m);
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, m, len);
			nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, z, len);
		}
		ww_ovl_x_add(r, e, err);
	}
	ww_addr_bytes(p->a.family, ww_prefix_first(p), a);
	ww_ovl_x_add(r, ww_ovl_x_cmp(a, len), err);
}

/* The protocol and its key range: destination port (sport false) or source port, or ICMP type. */
void ww_ovl_m_term(struct nftnl_rule *r, const struct ww_term *t, bool sport, int *err)
{
	uint8_t proto = (uint8_t)t->proto;

	if (t->proto == WW_PROTO_ANY)
		return;
	ww_ovl_x_add(r, ww_ovl_x_meta(NFT_META_L4PROTO), err);
	ww_ovl_x_add(r, ww_ovl_x_cmp(&proto, 1), err);
	unsigned int max = ww_proto_key_max(t->proto);
	if (!max || (t->lo == 0 && t->hi == max))
		return;
	if (ww_proto_has_types(t->proto)) {
		/* Replies to an echo are another type: the reverse direction takes any. */
		if (sport)
			return;
		ww_ovl_x_add(r, ww_ovl_x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1), err);
		uint8_t lo = (uint8_t)t->lo, hi = (uint8_t)t->hi;
		if (lo == hi) {
			ww_ovl_x_add(r, ww_ovl_x_cmp(&lo, 1), err);
		} else {
			struct nftnl_expr *e = nftnl_expr_alloc("range");
			if (e) {
				nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
				nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
				nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 1);
				nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 1);
			}
			ww_ovl_x_add(r, e, err);
		}
		return;
	}
	ww_ovl_x_add(r, ww_ovl_x_payload(NFT_PAYLOAD_TRANSPORT_HEADER, sport ? 0 : 2, 2), err);
	uint16_t lo = htons(t->lo), hi = htons(t->hi);
	if (t->lo == t->hi) {
		ww_ovl_x_add(r, ww_ovl_x_cmp(&lo, 2), err);
	} else {
		struct nftnl_expr *e = nftnl_expr_alloc("range");
		if (e) {
			nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_SREG, NFT_REG_1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_RANGE_OP, NFT_RANGE_EQ);
			nftnl_expr_set(e, NFTNL_EXPR_RANGE_FROM_DATA, &lo, 2);
			nftnl_expr_set(e, NFTNL_EXPR_RANGE_TO_DATA, &hi, 2);
		}
		ww_ovl_x_add(r, e, err);
	}
}

void ww_ovl_s_verdict(struct nftnl_rule *r, int verdict, const char *chain, int *err)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
		if (chain)
			nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	}
	ww_ovl_x_add(r, e, err);
}

struct nftnl_rule *ww_ovl_rule_new(const struct ww_ovl *q, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (r) {
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, q->table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	}
	return r;
}

void ww_ovl_rule_msg(struct ww_ovl *q, struct nftnl_rule *r, int err)
{
	struct nlmsghdr *n;

	if (!r || err) {
		q->err = q->err ? q->err : err ? err : -ENOMEM;
	} else if ((n = ww_ovl_hdr(q, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND))) {
		nftnl_rule_nlmsg_build_payload(n, r);
		ww_ovl_next(q);
	}
	nftnl_rule_free(r);
}

static int ww_ovl_commit(struct mnl_socket *nl, struct ww_ovl *q, struct strbuf *err)
{
	char buf[16384];
	uint32_t last = q->last;
	int fd = mnl_socket_get_fd(nl), result = 0;
	bool done = false;

	/* The kernel takes the batch as one message: the send buffer must hold all of it. */
	set_sockbuf(fd, SO_SNDBUF, SO_SNDBUFFORCE, mnl_nlmsg_batch_size(q->b) + 65536);
	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(q->b), mnl_nlmsg_batch_size(q->b)) < 0) {
		sb_addf(err, "nftables: sending the %s transaction: %s", q->table, strerror(errno));
		return -errno;
	}
	while (!done) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, 10000) <= 0) {
			sb_addf(err, "nftables: no answer to the %s transaction", q->table);
			return -ETIMEDOUT;
		}
		int len = (int)recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		for (struct nlmsghdr *n = (struct nlmsghdr *)buf; mnl_nlmsg_ok(n, len);
		     n = mnl_nlmsg_next(n, &len)) {
			if (n->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(n);
			if (e->error && !result) {
				result = e->error;
				sb_addf(err, "nftables: the %s transaction was refused "
					     "(message %u): %s",
					q->table, n->nlmsg_seq - q->seq0, strerror(-e->error));
				done = true;
			}
			if (n->nlmsg_seq == last)
				done = true;
		}
	}
	return result;
}

int ww_ovl_run(struct ww_ovl *q, struct strbuf *err)
{
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	int e;

	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		sb_addf(err, "nftables: netlink socket: %s", strerror(errno));
		if (nl)
			mnl_socket_close(nl);
		return e;
	}
	e = ww_ovl_commit(nl, q, err);
	mnl_socket_close(nl);
	return e;
}

int ww_ovl_qb_init(struct ww_ovl *q, const char *table, int prio)
{
	memset(q, 0, sizeof(*q));
	q->table = table;
	q->prio = prio;
	q->buf = malloc(WW_OVL_BUF);
	if (!q->buf)
		return -ENOMEM;
	q->b = mnl_nlmsg_batch_start(q->buf, WW_OVL_BUF);
	q->seq = q->seq0 = (uint32_t)time(NULL);
	nftnl_batch_begin(mnl_nlmsg_batch_current(q->b), q->seq++);
	mnl_nlmsg_batch_next(q->b);
	return 0;
}

const void *ww_ovl_body(const struct ww_ovl *q, size_t *len)
{
	const struct nlmsghdr *begin = (const struct nlmsghdr *)q->buf;
	size_t skip = NLMSG_ALIGN(begin->nlmsg_len), all = mnl_nlmsg_batch_size(q->b);

	*len = all > skip ? all - skip : 0;
	return q->buf + skip;
}

void ww_ovl_qb_end(struct ww_ovl *q)
{
	nftnl_batch_end(mnl_nlmsg_batch_current(q->b), q->seq++);
	mnl_nlmsg_batch_next(q->b);
}

void ww_ovl_qb_free(struct ww_ovl *q)
{
	if (q->b)
		mnl_nlmsg_batch_stop(q->b);
	free(q->buf);
}


void ww_ovl_m_established(struct nftnl_rule *r, int *err)
{
	uint32_t mask = 2u | 4u, zero = 0; /* NF_CT_STATE_BIT(IP_CT_ESTABLISHED), (IP_CT_RELATED) */
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	ww_ovl_x_add(r, e, err);
	e = nftnl_expr_alloc("bitwise");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, &mask, 4);
		nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, &zero, 4);
	}
	ww_ovl_x_add(r, e, err);
	e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_NEQ);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, &zero, 4);
	}
	ww_ovl_x_add(r, e, err);
}

/* meta time op t: the kernel's nanoseconds, compared big-endian (as nft writes it). */
static void time_cmp(struct nftnl_rule *r, uint32_t op, int64_t t, int *err)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");
	uint64_t ns = (uint64_t)t * 1000000000ULL;
	uint8_t be[8];

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_TIME_NS);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	ww_ovl_x_add(r, e, err);
	e = nftnl_expr_alloc("byteorder");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_DREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_OP, NFT_BYTEORDER_HTON);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_LEN, 8);
		nftnl_expr_set_u32(e, NFTNL_EXPR_BYTEORDER_SIZE, 8);
	}
	ww_ovl_x_add(r, e, err);
	for (int i = 7; i >= 0; i--) {
		be[i] = (uint8_t)(ns & 0xff);
		ns >>= 8;
	}
	e = nftnl_expr_alloc("cmp");
	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, be, 8);
	}
	ww_ovl_x_add(r, e, err);
}

void ww_ovl_m_time(struct nftnl_rule *r, int64_t from, int64_t until, int *err)
{
	time_cmp(r, NFT_CMP_GTE, from, err);
	if (until)
		time_cmp(r, NFT_CMP_LT, until, err);
}

/* ---- verdict maps keyed on a concatenation of ranges ---- */

void ww_ovl_m_ct_orig(struct nftnl_rule *r, uint32_t key, uint32_t dreg, int *err)
{
	struct nftnl_expr *e = nftnl_expr_alloc("ct");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, 0); /* IP_CT_DIR_ORIGINAL */
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	}
	ww_ovl_x_add(r, e, err);
}

void ww_ovl_s_vmap(struct nftnl_rule *r, const char *set, uint32_t id, uint32_t sreg, int *err)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, id);
	}
	ww_ovl_x_add(r, e, err);
}

void ww_ovl_vmap_msg(struct ww_ovl *q, const char *name, uint32_t id, uint32_t keytype,
		     const uint8_t *fields, size_t nfields)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *n = ww_ovl_hdr(q, NFT_MSG_NEWSET, NLM_F_CREATE);

	if (!s || !n || !ww_nx_set_concat(s, fields, nfields)) {
		q->err = q->err ? q->err : !s ? -ENOMEM : -EINVAL;
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, q->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_MAP | NFT_SET_INTERVAL | NFT_SET_CONCAT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, keytype);
	nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, NFT_DATA_VERDICT);
	nftnl_set_nlmsg_build_payload(n, s);
	nftnl_set_free(s);
	ww_ovl_next(q);
}

/* Elements a message: well under the 64 KiB each message may take of the batch. */
#define ELEMS_PER_MSG 128

void ww_ovl_elems_msg(struct ww_ovl *q, const char *set, uint32_t keylen,
		      const struct ww_ovl_elem *v, size_t n)
{
	for (size_t at = 0; at < n && !q->err; at += ELEMS_PER_MSG) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *h;
		if (!s) {
			q->err = -ENOMEM;
			return;
		}
		nftnl_set_set_str(s, NFTNL_SET_TABLE, q->table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set);
		for (size_t i = at; i < n && i < at + ELEMS_PER_MSG; i++) {
			struct nftnl_set_elem *e = nftnl_set_elem_alloc();
			if (!e) {
				q->err = -ENOMEM;
				break;
			}
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, v[i].key, keylen);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY_END, v[i].key_end, keylen);
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (uint32_t)NFT_JUMP);
			nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, v[i].jump);
			nftnl_set_elem_add(s, e);
		}
		h = q->err ? NULL : ww_ovl_hdr(q, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
		if (h) {
			nftnl_set_elems_nlmsg_build_payload(h, s);
			ww_ovl_next(q);
		}
		nftnl_set_free(s);
	}
}

int ww_ovl_table_delete(const char *table, struct strbuf *err)
{
	struct ww_ovl q;
	int e = ww_ovl_qb_init(&q, table, 0);

	if (e)
		return e;
	ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	ww_ovl_table_msg(&q, NFT_MSG_DELTABLE, 0);
	ww_ovl_qb_end(&q);
	e = q.err ? q.err : ww_ovl_run(&q, err);
	ww_ovl_qb_free(&q);
	return e;
}
