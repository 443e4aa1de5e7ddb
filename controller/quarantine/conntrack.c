// SPDX-License-Identifier: GPL-2.0-only
/*
 * Cutting established sessions in the nftables tier: conntrack entries are deleted through
 * ctnetlink (libnetfilter_conntrack). Without this, `ct state established accept` in wardwall's
 * table would let them go on the moment a quarantine is lifted; with it, the next packet of a cut
 * session is judged as new (or invalid) and the endpoints see their connection die.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "quarantine.h"

int ww_quar_xdp_cut(const struct ww_quarantine *q, const struct ww_quar_kctx *k,
		    unsigned long *cut);

struct cutctx {
	const struct ww_quarantine *q;
	struct nf_conntrack **v;
	size_t n, cap;
	bool oom;
};

static void addr_of(const struct nf_conntrack *ct, int attr4, int attr6, struct ww_addr *a)
{
	if (nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO) == AF_INET) {
		a->family = WW_INET;
		a->v = ww_addr_from_bytes(WW_INET, nfct_get_attr(ct, attr4));
	} else {
		a->family = WW_INET6;
		a->v = ww_addr_from_bytes(WW_INET6, nfct_get_attr(ct, attr6));
	}
}

static int cut_cb(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
	struct cutctx *c = data;
	struct ww_addr s, d;
	int l3 = nfct_get_attr_u8(ct, ATTR_ORIG_L3PROTO);

	(void)type;
	if (l3 != AF_INET && l3 != AF_INET6)
		return NFCT_CB_CONTINUE;
	addr_of(ct, ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV6_SRC, &s);
	addr_of(ct, ATTR_ORIG_IPV4_DST, ATTR_ORIG_IPV6_DST, &d);
	if (!ww_quar_covers(c->q, &s) && !ww_quar_covers(c->q, &d))
		return NFCT_CB_CONTINUE;
	int proto = nfct_get_attr_u8(ct, ATTR_ORIG_L4PROTO);
	unsigned int port = 0;
	if (proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6)
		port = nfct_get_attr_u8(ct, ATTR_ICMP_TYPE);
	else if (nfct_attr_is_set(ct, ATTR_ORIG_PORT_DST))
		port = ntohs(nfct_get_attr_u16(ct, ATTR_ORIG_PORT_DST));
	if (ww_quar_conn_kept(c->q, &s, &d, proto, port))
		return NFCT_CB_CONTINUE;
	struct nf_conntrack *copy = nfct_clone(ct);
	if (!copy || VEC_PUSH(c->v, c->n, c->cap, copy)) {
		nfct_destroy(copy);
		c->oom = true;
		return NFCT_CB_STOP;
	}
	return NFCT_CB_CONTINUE;
}

static int ct_cut(const struct ww_quarantine *q, unsigned long *cut, struct strbuf *err)
{
	struct nfct_handle *h = nfct_open(CONNTRACK, 0);
	struct cutctx c = {.q = q};
	uint32_t family = AF_UNSPEC;
	int e = 0;

	*cut = 0;
	if (!h) {
		sb_addf(err, "conntrack: ctnetlink: %s", strerror(errno));
		return -errno;
	}
	nfct_callback_register(h, NFCT_T_ALL, cut_cb, &c);
	if (nfct_query(h, NFCT_Q_DUMP, &family) < 0) {
		e = -errno;
		sb_addf(err, "conntrack: listing connections: %s", strerror(errno));
	} else if (c.oom) {
		e = -ENOMEM;
	}
	nfct_callback_unregister(h);
	for (size_t i = 0; i < c.n; i++) {
		/* Gone meanwhile (ENOENT) is as good as deleted. */
		if (!e && (nfct_query(h, NFCT_Q_DESTROY, c.v[i]) == 0 || errno == ENOENT))
			(*cut)++;
		nfct_destroy(c.v[i]);
	}
	free(c.v);
	nfct_close(h);
	return e;
}

int ww_quar_cut(const struct ww_quarantine *q, const struct ww_quar_kctx *k, unsigned long *ct,
		unsigned long *xdp_ct, struct strbuf *err)
{
	int e = ct_cut(q, ct, err);
	int x = ww_quar_xdp_cut(q, k, xdp_ct);

	if (x && !e) {
		sb_addf(err, "XDP: cutting connections: %s", strerror(-x));
		e = x;
	}
	return e;
}
