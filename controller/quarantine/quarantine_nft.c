// SPDX-License-Identifier: GPL-2.0-only
/*
 * The quarantine overlay in nftables: table inet wardwall_quarantine, its own table so that
 * apply's reading, diffing and generation mark of `table inet wardwall` never see it.
 *
 *   chain forward|input|output  (filter hooks, priority filter - 10: before wardwall's table)
 *       meta nfproto ipv4 ip saddr @q<id>-4 jump q<id>     (and daddr, and ip6, per quarantine)
 *   chain q<id>
 *       <kept flow pair and term> return                   (opening direction, dport)
 *       <the same, reversed>      return                   (replies, sport)
 *       counter name "q<id>"
 *       limit rate R/second burst R packets log prefix "ww:deny:quarantine/q<id>" group G
 *       drop
 *   set q<id>-4, q<id>-6   interval, timeout: the target's prefixes, each element timing out
 *                          at the quarantine's end (the kernel ends it, controller or not)
 *
 * Every sync rebuilds the table in one transaction (create, delete, create: the idiom that
 * works whether or not it exists), carrying each quarantine's counter over: its cost depends on
 * the quarantines, never on the policy. A kept flow "returns" rather than accepts, so that a
 * packet between two quarantined targets must be kept by both, and wardwall's own table still
 * decides it.
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
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nft_overlay.h"
#include "quarantine.h"

static void counter_msg(struct ww_ovl *q, const char *name, uint64_t pkts, uint64_t bytes)
{
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *n = ww_ovl_hdr(q, NFT_MSG_NEWOBJ, NLM_F_CREATE);

	if (!o || !n) {
		q->err = q->err ? q->err : -ENOMEM;
		nftnl_obj_free(o);
		return;
	}
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, WW_QUAR_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_PKTS, pkts);
	nftnl_obj_set_u64(o, NFTNL_OBJ_CTR_BYTES, bytes);
	nftnl_obj_nlmsg_build_payload(n, o);
	nftnl_obj_free(o);
	ww_ovl_next(q);
}

/* The target's prefixes of one family as interval elements timing out after timeout_ms (0:
 * never). */
static void set_msgs(struct ww_ovl *q, const char *name, int family, const struct ww_quarantine *qu,
		     uint64_t timeout_ms)
{
	struct nftnl_set *s = nftnl_set_alloc();
	unsigned int bytes = family == WW_INET ? 4 : 16;
	struct nlmsghdr *n = ww_ovl_hdr(q, NFT_MSG_NEWSET, NLM_F_CREATE);
	size_t nel = 0;

	if (!s || !n) {
		q->err = q->err ? q->err : -ENOMEM;
		nftnl_set_free(s);
		return;
	}
	nftnl_set_set_str(s, NFTNL_SET_TABLE, WW_QUAR_TABLE);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_ID, q->seq);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, family == WW_INET ? 7 : 8); /* ipv4/6_addr */
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, bytes);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_INTERVAL | NFT_SET_TIMEOUT);
	nftnl_set_nlmsg_build_payload(n, s);
	ww_ovl_next(q);
	for (size_t i = 0; i < qu->npfx; i++) {
		const struct ww_prefix *p = &qu->pfx[i];
		if (p->a.family != family)
			continue;
		u128 lo = ww_prefix_first(p), hi = ww_prefix_last(p);
		u128 max = family == WW_INET ? 0xffffffffu : ~(u128)0;
		uint8_t kb[16];
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		if (!e) {
			q->err = -ENOMEM;
			break;
		}
		ww_addr_bytes(family, lo, kb);
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, kb, bytes);
		if (timeout_ms)
			nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, timeout_ms);
		nftnl_set_elem_add(s, e);
		nel++;
		if (hi != max) {
			e = nftnl_set_elem_alloc();
			if (!e) {
				q->err = -ENOMEM;
				break;
			}
			ww_addr_bytes(family, hi + 1, kb);
			nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, kb, bytes);
			/* The kernel takes no timeout on an interval's end: its start has it. */
			nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
			nftnl_set_elem_add(s, e);
		}
	}
	if (nel && !q->err && (n = ww_ovl_hdr(q, NFT_MSG_NEWSETELEM, NLM_F_CREATE))) {
		nftnl_set_elems_nlmsg_build_payload(n, s);
		ww_ovl_next(q);
	}
	nftnl_set_free(s);
}

static bool pfx_overlap_target(const struct ww_quarantine *qu, const struct ww_prefix *p)
{
	for (size_t i = 0; i < qu->npfx; i++)
		if (qu->pfx[i].a.family == p->a.family &&
		    (ww_prefix_covers(&qu->pfx[i], p) || ww_prefix_covers(p, &qu->pfx[i])))
			return true;
	return false;
}

/* One "return" rule per kept (from prefix, to prefix, term), in each direction. "*" is any
 * address of the family (the target side is known to be the target: the chain is only reached
 * for its packets). */
static void keep_rules(struct ww_ovl *q, const char *chain, const struct ww_quarantine *qu)
{
	static const struct ww_prefix any4 = {.a = {.family = WW_INET}, .len = 0},
				      any6 = {.a = {.family = WW_INET6}, .len = 0};

	for (size_t i = 0; i < qu->nkeep; i++) {
		const struct ww_qkeep *k = &qu->keep[i];
		for (int fam = WW_INET; fam <= WW_INET6; fam += 2) {
			const struct ww_prefix *anyp = fam == WW_INET ? &any4 : &any6;
			size_t nf = k->from_all ? 1 : k->nfrom, nt = k->to_all ? 1 : k->nto;
			for (size_t a = 0; a < nf; a++) {
				const struct ww_prefix *pf = k->from_all ? anyp : &k->from[a];
				if (pf->a.family != fam)
					continue;
				for (size_t b = 0; b < nt; b++) {
					const struct ww_prefix *pt = k->to_all ? anyp : &k->to[b];
					if (pt->a.family != fam ||
					    (!pfx_overlap_target(qu, pf) && !pfx_overlap_target(qu, pt)))
						continue;
					for (size_t t = 0; t < k->nterms; t++)
						for (int rev = 0; rev < 2; rev++) {
							struct nftnl_rule *r = ww_ovl_rule_new(q, chain);
							int err = 0;
							if (r) {
								ww_ovl_m_nfproto(r, fam, &err);
								ww_ovl_m_addr(r, rev ? pt : pf, false, &err);
								ww_ovl_m_addr(r, rev ? pf : pt, true, &err);
								ww_ovl_m_term(r, &k->terms[t], rev, &err);
								ww_ovl_s_verdict(r, NFT_RETURN, NULL, &err);
							}
							ww_ovl_rule_msg(q, r, err);
						}
				}
			}
		}
	}
}

static void drop_rules(struct ww_ovl *q, const char *chain, const char *counter,
		       const struct ww_quar_kctx *k)
{
	struct nftnl_rule *r = ww_ovl_rule_new(q, chain);
	struct nftnl_expr *e;
	int err = 0;
	char prefix[64];

	if (r && (e = nftnl_expr_alloc("objref"))) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_OBJREF_IMM_TYPE, NFT_OBJECT_COUNTER);
		nftnl_expr_set_str(e, NFTNL_EXPR_OBJREF_IMM_NAME, counter);
		nftnl_rule_add_expr(r, e);
	} else {
		err = -ENOMEM;
	}
	ww_ovl_rule_msg(q, r, err);
	if (k->log_rate) {
		r = ww_ovl_rule_new(q, chain);
		err = 0;
		if (r && (e = nftnl_expr_alloc("limit"))) {
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_RATE, k->log_rate);
			nftnl_expr_set_u64(e, NFTNL_EXPR_LIMIT_UNIT, 1);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_BURST, k->log_rate);
			nftnl_expr_set_u32(e, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKTS);
			nftnl_rule_add_expr(r, e);
		} else {
			err = -ENOMEM;
		}
		snprintf(prefix, sizeof(prefix), "ww:deny:quarantine/%s", counter);
		if (!err && (e = nftnl_expr_alloc("log"))) {
			nftnl_expr_set_u16(e, NFTNL_EXPR_LOG_GROUP, k->log_group);
			nftnl_expr_set_str(e, NFTNL_EXPR_LOG_PREFIX, prefix);
			nftnl_rule_add_expr(r, e);
		} else {
			err = -ENOMEM;
		}
		ww_ovl_rule_msg(q, r, err);
	}
	r = ww_ovl_rule_new(q, chain);
	err = 0;
	if (r)
		ww_ovl_s_verdict(r, NF_DROP, NULL, &err);
	ww_ovl_rule_msg(q, r, err);
}

/* IPv6 neighbour discovery (ICMPv6 133-137) is never quarantined: without it a quarantined
 * address could not even reach its kept flows, and wardwall's own table lets it pass too. */
static void nd_rule(struct ww_ovl *q, const char *base)
{
	struct nftnl_rule *r = ww_ovl_rule_new(q, base);
	struct ww_term nd = {.proto = WW_PROTO_ICMPV6, .lo = 133, .hi = 137};
	int err = 0;

	if (r) {
		ww_ovl_m_nfproto(r, WW_INET6, &err);
		ww_ovl_m_term(r, &nd, false, &err);
		ww_ovl_s_verdict(r, NF_ACCEPT, NULL, &err);
	}
	ww_ovl_rule_msg(q, r, err);
}

/* The base chains' jumps: each address of each family in the quarantine's sets. */
static void jump_rules(struct ww_ovl *q, const char *base, const struct ww_quarantine *qu)
{
	char chain[16], set[20];

	snprintf(chain, sizeof(chain), "q%u", qu->id);
	for (int fam = WW_INET; fam <= WW_INET6; fam += 2) {
		bool any = false;
		for (size_t i = 0; i < qu->npfx; i++)
			any |= qu->pfx[i].a.family == fam;
		if (!any)
			continue;
		snprintf(set, sizeof(set), "q%u-%d", qu->id, fam);
		for (int dst = 0; dst < 2; dst++) {
			struct nftnl_rule *r = ww_ovl_rule_new(q, base);
			struct nftnl_expr *e;
			int err = 0;
			if (!r) {
				ww_ovl_rule_msg(q, r, -ENOMEM);
				continue;
			}
			ww_ovl_m_nfproto(r, fam, &err);
			ww_ovl_x_add(r, ww_ovl_x_payload(NFT_PAYLOAD_NETWORK_HEADER,
					   fam == WW_INET ? (dst ? 16 : 12) : (dst ? 24 : 8),
					   fam == WW_INET ? 4 : 16),
			      &err);
			if ((e = nftnl_expr_alloc("lookup"))) {
				nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
				nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
			}
			ww_ovl_x_add(r, e, &err);
			ww_ovl_s_verdict(r, NFT_JUMP, chain, &err);
			ww_ovl_rule_msg(q, r, err);
		}
	}
}

/* ---- talking to the kernel ---- */

struct ctr {
	char name[32];
	uint64_t pkts, bytes;
};

struct ctrs {
	struct ctr *v;
	size_t n, cap;
};

static int ctr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ctrs *c = data;
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct ctr x = {0};

	if (!o)
		return MNL_CB_ERROR;
	if (nftnl_obj_nlmsg_parse(nlh, o) == 0 &&
	    nftnl_obj_get_u32(o, NFTNL_OBJ_TYPE) == NFT_OBJECT_COUNTER) {
		snprintf(x.name, sizeof(x.name), "%s", nftnl_obj_get_str(o, NFTNL_OBJ_NAME));
		x.pkts = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_PKTS);
		x.bytes = nftnl_obj_get_u64(o, NFTNL_OBJ_CTR_BYTES);
		if (VEC_PUSH(c->v, c->n, c->cap, x)) {
			nftnl_obj_free(o);
			return MNL_CB_ERROR;
		}
	}
	nftnl_obj_free(o);
	return MNL_CB_OK;
}

/* The overlay's counter name, with its values; -ENOENT when it (or the table) does not exist.
 * One object asked for by name: a dump would walk every object of every table in the kernel
 * (wardwall's own table holds one counter per flow), a cost that grows with the policy. */
static int read_counter(struct mnl_socket *nl, const char *name, struct ctrs *c)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint32_t seq = (uint32_t)time(NULL), portid = mnl_socket_get_portid(nl);
	struct nftnl_obj *o = nftnl_obj_alloc();
	struct nlmsghdr *n;
	size_t had = c->n;
	ssize_t got;
	int e;

	if (!o)
		return -ENOMEM;
	n = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETOBJ, NFPROTO_INET, 0, seq);
	nftnl_obj_set_str(o, NFTNL_OBJ_TABLE, WW_QUAR_TABLE);
	nftnl_obj_set_str(o, NFTNL_OBJ_NAME, name);
	nftnl_obj_set_u32(o, NFTNL_OBJ_TYPE, NFT_OBJECT_COUNTER);
	nftnl_obj_nlmsg_build_payload(n, o);
	nftnl_obj_free(o);
	if (mnl_socket_sendto(nl, n, n->nlmsg_len) < 0)
		return -errno;
	/* One answer: the object, or an error (no acknowledgement asked for, so none is left
	 * behind on the socket for the next question). */
	got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	if (got < 0)
		return -errno;
	e = mnl_cb_run(buf, (size_t)got, seq, portid, ctr_cb, c);
	if (e < 0)
		return errno == ENOENT ? -ENOENT : -errno;
	return c->n > had ? 0 : -ENOENT;
}

static bool in_force(const struct ww_quarantine *q, int64_t now)
{
	return !q->until || q->until > now;
}

int ww_quar_nft_sync(const struct ww_quar_list *l, const struct ww_quar_kctx *k, int64_t now,
		     struct strbuf *err)
{
	static const struct {
		const char *name;
		int hook;
	} bases[] = {{"forward", NF_INET_FORWARD}, {"input", NF_INET_LOCAL_IN},
		     {"output", NF_INET_LOCAL_OUT}};
	struct ctrs old = {0};
	struct mnl_socket *nl;
	struct ww_ovl q;
	size_t active = 0;
	int e;

	for (size_t i = 0; i < l->n; i++)
		active += in_force(&l->v[i], now);
	if ((e = ww_ovl_qb_init(&q, WW_QUAR_TABLE, -10)))
		return e;
	/* The counters so far of the quarantines to keep, to carry over. */
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (nl && mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0)
		for (size_t i = 0; i < l->n; i++) {
			char name[16];
			snprintf(name, sizeof(name), "q%u", l->v[i].id);
			if (in_force(&l->v[i], now) && read_counter(nl, name, &old) == -ENOENT)
				break; /* no table yet, or not there: the rest are new too */
		}
	if (nl)
		mnl_socket_close(nl);
	ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
	ww_ovl_table_msg(&q, NFT_MSG_DELTABLE, 0);
	if (active) {
		ww_ovl_table_msg(&q, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		for (size_t i = 0; i < l->n; i++) {
			const struct ww_quarantine *qu = &l->v[i];
			char name[16], set[20];
			uint64_t pk = 0, by = 0, ms = 0;
			if (!in_force(qu, now))
				continue;
			snprintf(name, sizeof(name), "q%u", qu->id);
			for (size_t c = 0; c < old.n; c++)
				if (!strcmp(old.v[c].name, name))
					pk = old.v[c].pkts, by = old.v[c].bytes;
			counter_msg(&q, name, pk, by);
			if (qu->until)
				ms = (uint64_t)(qu->until - now) * 1000;
			for (int fam = WW_INET; fam <= WW_INET6; fam += 2) {
				snprintf(set, sizeof(set), "q%u-%d", qu->id, fam);
				set_msgs(&q, set, fam, qu, ms);
			}
			ww_ovl_chain_msg(&q, name, -1);
			keep_rules(&q, name, qu);
			drop_rules(&q, name, name, k);
		}
		for (size_t b = 0; b < sizeof(bases) / sizeof(bases[0]); b++) {
			ww_ovl_chain_msg(&q, bases[b].name, bases[b].hook);
			nd_rule(&q, bases[b].name);
			for (size_t i = 0; i < l->n; i++)
				if (in_force(&l->v[i], now))
					jump_rules(&q, bases[b].name, &l->v[i]);
		}
	}
	free(old.v);
	if (q.err) {
		sb_addf(err, "nftables: building the quarantine transaction: %s", strerror(-q.err));
		ww_ovl_qb_free(&q);
		return q.err;
	}
	ww_ovl_qb_end(&q);
	e = ww_ovl_run(&q, err);
	ww_ovl_qb_free(&q);
	return e;
}

int ww_quar_nft_clear(struct strbuf *err)
{
	return ww_ovl_table_delete(WW_QUAR_TABLE, err);
}

int ww_quar_nft_counter(unsigned int id, uint64_t *packets)
{
	struct ctrs c = {0};
	struct mnl_socket *nl = mnl_socket_open(NETLINK_NETFILTER);
	char name[16];
	int e = -ENOENT;

	*packets = 0;
	if (!nl)
		return -errno;
	snprintf(name, sizeof(name), "q%u", id);
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == 0 && read_counter(nl, name, &c) == 0) {
		*packets = c.v[0].pkts;
		e = 0;
	}
	mnl_socket_close(nl);
	free(c.v);
	return e;
}
