// SPDX-License-Identifier: GPL-2.0-only
/* Conntrack entries of revoked or narrowed access, deleted after an apply (sessions.h). */
#include "sessions.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"

/*
 * What one policy decides, remembered per (source class, destination class, protocol, key):
 * the decision depends on nothing else, and a gateway's conntrack table holds many connections
 * of a few such kinds (clients of one zone to one service), while one evaluation walks every flow.
 */
struct memo_ent {
	const void *k[6];
	int proto, key;
	int kind; /* enum ww_verdict_kind; -1: empty slot */
};

struct memo {
	const struct ww_policy *p;
	struct memo_ent *v;
	size_t n, cap;
};

static uint64_t memo_hash(const struct memo_ent *e)
{
	return fnv1a64(e->k, sizeof(e->k), fnv1a64(&e->proto, sizeof(int) * 2, FNV1A64_INIT));
}

static int memo_grow(struct memo *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256;
	struct memo_ent *v = malloc(cap * sizeof(*v));

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < cap; i++)
		v[i].kind = -1;
	for (size_t i = 0; i < m->cap; i++) {
		if (m->v[i].kind < 0)
			continue;
		size_t j = memo_hash(&m->v[i]) & (cap - 1);
		while (v[j].kind >= 0)
			j = (j + 1) & (cap - 1);
		v[j] = m->v[i];
	}
	free(m->v);
	m->v = v;
	m->cap = cap;
	return 0;
}

/* The verdict kind for a new connection, or -ENOMEM. */
static int memo_decide(struct memo *m, const struct ww_packet *pkt)
{
	struct ww_class cs, cd;
	struct memo_ent e;

	ww_classify(m->p, &pkt->src, &cs);
	ww_classify(m->p, &pkt->dst, &cd);
	memset(&e, 0, sizeof(e));
	e.k[0] = cs.zone, e.k[1] = cs.host, e.k[2] = cs.net;
	e.k[3] = cd.zone, e.k[4] = cd.host, e.k[5] = cd.net;
	e.proto = pkt->proto;
	e.key = pkt->key;
	if ((m->n + 1) * 2 > m->cap && memo_grow(m))
		return -ENOMEM;
	size_t j = memo_hash(&e) & (m->cap - 1);
	for (; m->v[j].kind >= 0; j = (j + 1) & (m->cap - 1))
		if (!memcmp(m->v[j].k, e.k, sizeof(e.k)) && m->v[j].proto == e.proto &&
		    m->v[j].key == e.key)
			return m->v[j].kind;
	struct ww_verdict v;
	ww_evaluate(m->p, pkt, &v);
	e.kind = (int)v.kind;
	m->v[j] = e;
	m->n++;
	return e.kind;
}

static bool revoked(struct memo *old, struct memo *cur, const struct ww_packet *pkt, int *err)
{
	int was = memo_decide(old, pkt), now = was < 0 ? was : memo_decide(cur, pkt);

	if (was < 0 || now < 0) {
		*err = -ENOMEM;
		return false;
	}
	return was != WW_V_DENY && now == WW_V_DENY;
}

bool ww_session_revoked(const struct ww_policy *old, const struct ww_policy *p,
			const struct ww_addr *src, const struct ww_addr *dst, int proto, int key,
			int64_t now)
{
	struct memo a = {.p = old}, b = {.p = p};
	struct ww_packet pkt = {.src = *src, .dst = *dst, .proto = proto, .key = key, .at = now};
	int err = 0;
	bool r = old && revoked(&a, &b, &pkt, &err);

	free(a.v);
	free(b.v);
	return r;
}

void ww_session_spare_env(struct ww_session_spare *s)
{
	const char *ssh = getenv("SSH_CONNECTION");
	char cip[64], sip[64];

	memset(s, 0, sizeof(*s));
	s->set = ssh && sscanf(ssh, "%63s %u %63s %u", cip, &s->cport, sip, &s->sport) == 4 &&
		 !ww_addr_parse(cip, &s->client) && !ww_addr_parse(sip, &s->server);
}

static bool addr_eq(const struct ww_addr *a, const struct ww_addr *b)
{
	return a->family == b->family && a->v == b->v;
}

struct cutctx {
	struct memo old, cur;
	const struct ww_session_spare *spare;
	int64_t now;
	struct nf_conntrack **v;
	size_t n, cap;
	unsigned long checked;
	int err;
};

static void addr_of(const struct nf_conntrack *ct, int l3, int attr4, int attr6, struct ww_addr *a)
{
	a->family = l3 == AF_INET ? WW_INET : WW_INET6;
	a->v = ww_addr_from_bytes(a->family, nfct_get_attr(ct, l3 == AF_INET ? attr4 : attr6));
}

static int cut_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct cutctx *c = data;
	int l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);
	struct ww_packet pkt = {.at = c->now, .key = -1};

	(void)type;
	if (l3 != AF_INET && l3 != AF_INET6)
		return NFCT_CB_CONTINUE;
	c->checked++;
	addr_of(ct, l3, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, &pkt.src);
	addr_of(ct, l3, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, &pkt.dst);
	pkt.proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	if (pkt.proto == IPPROTO_ICMP || pkt.proto == IPPROTO_ICMPV6)
		pkt.key = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
	else if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST))
		pkt.key = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	if (c->spare && c->spare->set && pkt.proto == IPPROTO_TCP &&
	    addr_eq(&pkt.src, &c->spare->client) && addr_eq(&pkt.dst, &c->spare->server) &&
	    nfct_attr_is_set(ct, ATTR_ORIG_PORT_SRC) &&
	    ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_SRC)) == c->spare->cport &&
	    (unsigned int)pkt.key == c->spare->sport)
		return NFCT_CB_CONTINUE;
	if (!revoked(&c->old, &c->cur, &pkt, &c->err))
		return c->err ? NFCT_CB_STOP : NFCT_CB_CONTINUE;
	struct nf_conntrack *copy = nfct_clone(ct);
	if (!copy || VEC_PUSH(c->v, c->n, c->cap, copy)) {
		nfct_destroy(copy);
		c->err = -ENOMEM;
		return NFCT_CB_STOP;
	}
	return NFCT_CB_CONTINUE;
}

int ww_sessions_cut_revoked(const struct ww_policy *old, const struct ww_policy *p, int64_t now,
			    const struct ww_session_spare *spare, struct ww_sessions_cut *res,
			    struct strbuf *err)
{
	struct cutctx c = {.old = {.p = old}, .cur = {.p = p}, .spare = spare, .now = now};
	struct nfct_handle *h;
	uint32_t family = AF_UNSPEC;
	int e = 0;

	memset(res, 0, sizeof(*res));
	if (!old)
		return 0;
	h = nfct_open(CONNTRACK, 0);
	if (!h) {
		e = -errno;
		sb_addf(err, "conntrack: ctnetlink: %s", strerror(errno));
		return e;
	}
	nfct_callback_register(h, NFCT_T_ALL, cut_cb, &c);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
		e = -errno;
		sb_addf(err, "conntrack: listing connections: %s", strerror(errno));
	} else if (c.err) {
		e = c.err;
		sb_addf(err, "conntrack: %s", strerror(-e));
	}
	nfct_callback_unregister(h);
	for (size_t i = 0; i < c.n; i++) {
		/* Gone meanwhile (ENOENT) is as good as deleted. */
		if (!e && (nfct_query(h, NFCT_Q_DESTROY, c.v[i]) == 0 || errno == ENOENT))
			res->cut++;
		nfct_destroy(c.v[i]);
	}
	res->checked = c.checked;
	free(c.v);
	free(c.old.v);
	free(c.cur.v);
	nfct_close(h);
	return e;
}
