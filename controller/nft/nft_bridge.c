// SPDX-License-Identifier: GPL-2.0-only
#include "nft_bridge.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct bctx {
	struct nfr_table *t;
	int err;
};

static char *bdup(struct bctx *c, const char *s)
{
	char *r = strdup(s);

	if (!r)
		c->err = -ENOMEM;
	return r;
}

static void rule(struct bctx *c, struct nfr_chain *ch, struct nfr_rule r)
{
	if (VEC_PUSH(ch->rules, ch->nrules, ch->cap, r)) {
		nfr_rule_clear(&r);
		c->err = -ENOMEM;
	}
}

static void elem(struct bctx *c, struct nfr_set *s, u128 lo, u128 hi)
{
	struct nfr_elem e = {.lo = lo, .hi = hi};

	if (VEC_PUSH(s->elems, s->nelems, s->cap, e))
		c->err = -ENOMEM;
}

static void add_set(struct bctx *c, struct nfr_set *s)
{
	if (!s->name || VEC_PUSH(c->t->sets, c->t->nsets, c->t->scap, *s)) {
		nfr_set_clear(s);
		c->err = -ENOMEM;
	}
}

static void add_chain(struct bctx *c, struct nfr_chain *ch)
{
	if (!ch->name || VEC_PUSH(c->t->chains, c->t->nchains, c->t->chcap, *ch)) {
		nfr_chain_clear(ch);
		c->err = -ENOMEM;
	}
}

/* The first address of a prefix and its last. */
static void pfx(struct bctx *c, struct nfr_set *s, uint8_t family, u128 v, unsigned int len)
{
	struct ww_prefix p = {.a = {.family = family, .v = v}, .len = (uint8_t)len};

	elem(c, s, v, v | ww_prefix_last(&p));
}

int ww_nft_bridge_entry(const struct ww_policy *p, struct nfr_table *t)
{
	struct bctx c = {.t = t};
	struct nfr_set ifaces = {.name = bdup(&c, "ifaces"), .key = NK_IFNAME};
	struct nfr_set link4 = {.name = bdup(&c, "link4"), .key = NK_DADDR4, .interval = true};
	struct nfr_set link6 = {.name = bdup(&c, "link6"), .key = NK_DADDR6, .interval = true};
	struct nfr_set nd6 = {.name = bdup(&c, "nd6"), .key = NK_ICMPV6_TYPE};
	struct nfr_chain base = {.name = bdup(&c, WW_NFT_BRIDGE_BASE),
				 .hook = NH_BR_FORWARD,
				 .prio = WW_NFT_BRIDGE_PRIO};
	struct nfr_chain ip = {.name = bdup(&c, WW_NFT_BRIDGE_IP)};

	t->family = NFR_BRIDGE;
	for (size_t i = 0; i < p->enf.nifaces; i++) {
		struct nfr_elem e = {.ifname = bdup(&c, p->enf.ifaces[i])};
		if (VEC_PUSH(ifaces.elems, ifaces.nelems, ifaces.cap, e))
			free(e.ifname), c.err = -ENOMEM;
	}
	/* What the XDP tier passes unjudged (is_multicast_or_link_local in the program):
	 * 224.0.0.0/4 and the limited broadcast; ff00::/8 and fe80::/10; ICMPv6 133-137. */
	pfx(&c, &link4, WW_INET, (u128)0xe0000000u, 4);
	pfx(&c, &link4, WW_INET, (u128)0xffffffffu, 32);
	pfx(&c, &link6, WW_INET6, (u128)0xfe80 << 112, 10);
	pfx(&c, &link6, WW_INET6, (u128)0xff << 120, 8);
	for (unsigned int k = 133; k <= 137; k++)
		elem(&c, &nd6, k, k);

	/* Only IPv4 and IPv6 are policy; ARP and the rest pass (the chain's policy). In the bridge
	 * family a frame without connection tracking reads as ct state invalid, so this comes
	 * first. */
	rule(&c, &base,
	     (struct nfr_rule){.key = NK_PROTOCOL,
			       .lo = NFR_ETH_IP,
			       .hi = NFR_ETH_IP,
			       .v = {NV_GOTO, bdup(&c, WW_NFT_BRIDGE_IP)}});
	rule(&c, &base,
	     (struct nfr_rule){.key = NK_PROTOCOL,
			       .lo = NFR_ETH_IP6,
			       .hi = NFR_ETH_IP6,
			       .v = {NV_GOTO, bdup(&c, WW_NFT_BRIDGE_IP)}});

	rule(&c, &ip,
	     (struct nfr_rule){.ct_state = NFR_CT_ESTABLISHED | NFR_CT_RELATED,
			       .v = {NV_ACCEPT, NULL}});
	rule(&c, &ip,
	     (struct nfr_rule){.ct_state = NFR_CT_INVALID,
			       .counter = bdup(&c, "ct-invalid"),
			       .v = {NV_DROP, NULL}});
	/* Frames between ports not in the policy are not wardwall's: back to the base chain. */
	rule(&c, &ip, (struct nfr_rule){.not_ifaces = true, .v = {NV_RETURN, NULL}});
	rule(&c, &ip,
	     (struct nfr_rule){.key = NK_DADDR4, .set = bdup(&c, "link4"), .v = {NV_ACCEPT, NULL}});
	rule(&c, &ip,
	     (struct nfr_rule){.key = NK_DADDR6, .set = bdup(&c, "link6"), .v = {NV_ACCEPT, NULL}});
	rule(&c, &ip,
	     (struct nfr_rule){
		 .key = NK_ICMPV6_TYPE, .set = bdup(&c, "nd6"), .v = {NV_ACCEPT, NULL}});
	rule(&c, &ip, (struct nfr_rule){.v = {NV_JUMP, bdup(&c, "classify")}});

	add_set(&c, &ifaces);
	add_set(&c, &link4);
	add_set(&c, &link6);
	add_set(&c, &nd6);
	add_chain(&c, &base);
	add_chain(&c, &ip);
	return c.err;
}
