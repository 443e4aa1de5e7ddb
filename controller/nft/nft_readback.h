/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 5, readback: wardwall's nftables table, as read from the kernel, decoded back into policy
 * terms — which zone owns which addresses, and for each flow what it enforces: from which source,
 * to which addresses, for which protocols and ports, with which verdict and window. Everything
 * here comes from the kernel's objects (their names carry the zone and flow names); nothing is
 * taken from a policy file.
 */
#ifndef WW_NFT_READBACK_H
#define WW_NFT_READBACK_H

#include <stddef.h>
#include <stdint.h>

#include "addr.h"
#include "nfr.h"

struct ww_rb_range {
	uint8_t family;
	u128 lo, hi;
};

enum ww_rb_verdict { WW_RB_ALLOW, WW_RB_DENY, WW_RB_MONITOR };

/* One enforced decision: a flow (or a default) over a source, a destination range and a
 * protocol/key range. */
struct ww_rb_fact {
	const char *from;    /* source endpoint: "zone" or "zone/host" (points into the table) */
	struct ww_rb_range dst;
	int proto;           /* -1: any protocol not otherwise named */
	uint16_t lo, hi;     /* port or ICMP type range; 0-0 when the protocol has none */
	const char *counter; /* "flow/<id>" (points into the table) */
	enum ww_rb_verdict verdict;
	bool has_from, has_until;
	int64_t valid_from, valid_until;
};

struct ww_rb_zone {
	char *name;
	struct ww_rb_range *ranges;
	size_t n, cap;
};

struct ww_rb_default {
	char *src, *dst; /* zone names, "-" for no zone */
	enum ww_rb_verdict verdict;
	const char *counter;
};

struct ww_readback {
	struct ww_rb_zone *zones;
	size_t nzones, zcap;
	struct ww_rb_fact *facts;
	size_t nfacts, fcap;
	struct ww_rb_default *defaults;
	size_t ndefaults, dcap;
	enum nfr_hook hook; /* NH_FORWARD: gateway; NH_INPUT, NH_OUTPUT: host; NH_BR_FORWARD: bridge */
	char **ifaces;      /* gateway and bridge mode: the interfaces (bridge ports) filtered */
	size_t nifaces;
	size_t unexplained; /* rules and elements that fit no shape wardwall writes */
};

/* "gateway", "host" or "bridge", from the base chains read back; NULL when there are none. */
const char *ww_rb_mode(const struct ww_readback *rb);

/* Decodes t (read back from the kernel). Returns 0 or -ENOMEM. */
int ww_readback(const struct nfr_table *t, struct ww_readback *rb);
/* Only the hook, the interfaces and the defaults of t (no zones, no facts: what counts need;
 * unexplained counts only the default chains). Returns 0 or -ENOMEM. */
int ww_readback_defaults(const struct nfr_table *t, struct ww_readback *rb);
void ww_readback_free(struct ww_readback *rb);

/* The zone that holds address range r, or NULL. */
const char *ww_rb_zone_of(const struct ww_readback *rb, const struct ww_rb_range *r);
/* The zones r overlaps (adjacent ranges with one verdict merge across zones): at most max
 * names into out; returns how many there are. */
size_t ww_rb_zones_overlapping(const struct ww_readback *rb, const struct ww_rb_range *r,
			       const char **out, size_t max);

#endif
