/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Decision structures shared by analysis (check) and both compilers (nftables, XDP).
 *
 * The policy is reduced to finite pieces:
 *  - address classes: a zone's own addresses ("zone rest") or one host group's; the address
 *    space is flattened into disjoint intervals, each labelled with its most specific class;
 *  - endpoint pairs (src endpoint, dst endpoint) -> the flows naming them, in policy order;
 *  - atoms: for one set of candidate flows, the service space (protocol x port/type) cut into
 *    disjoint pieces, each with its decision list: the flows that match it, best first
 *    (deny, monitor, allow; then policy order), cut after the first deny or allow with no validity
 *    window, because nothing after it can ever decide. Monitor entries never end a list: they
 *    only observe.
 * Decision lists are interned so that equal lists share one id.
 */
#ifndef WW_DECISION_H
#define WW_DECISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "eval.h"
#include "model.h"

/* ---- address classes and flattening ---- */

/* A class id: the endpoint id of the host, or of the zone for its own addresses. */
struct ww_interval {
	uint8_t family;
	u128 lo, hi;
	ww_ep_t cls;
};

/* All zone and host networks flattened into disjoint intervals, sorted (v4 first), adjacent
 * intervals of one class merged. Returns 0 or -ENOMEM. */
int ww_flatten(const struct ww_policy *p, struct ww_interval **out, size_t *n);

struct ww_classes {
	struct ww_interval *iv; /* the flattened address space */
	size_t niv;
	bool *nonempty; /* [ep]: some address belongs to class ep */
	size_t *first;  /* [ep]: index of its first interval (valid when nonempty) */
};

int ww_classes_build(const struct ww_policy *p, struct ww_classes *c);
void ww_classes_free(struct ww_classes *c);
/* A class as the evaluator's struct ww_class (net left NULL). */
struct ww_class ww_class_of(const struct ww_policy *p, ww_ep_t cls);

/* ---- endpoint-pair index ---- */

struct ww_pairlist {
	ww_ep_t src, dst;
	uint32_t *flows; /* flow indices, ascending */
	size_t n, cap;
};

struct ww_pairidx {
	struct ww_pairlist *v; /* open-addressed hash table of size cap (power of 2) */
	size_t n, cap;
};

/* Indexes every flow under each (from endpoint, to endpoint) it names; "*" means every zone. */
int ww_pairidx_build(const struct ww_policy *p, struct ww_pairidx *ix);
const struct ww_pairlist *ww_pairidx_get(const struct ww_pairidx *ix, ww_ep_t src, ww_ep_t dst);
void ww_pairidx_free(struct ww_pairidx *ix);

/*
 * The flows that can match a packet from class cs to class cd: the union of the lists of the
 * endpoint pairs that contain both classes. *out is malloc'ed, ascending. Returns count or
 * -ENOMEM.
 */
long ww_class_pair_flows(const struct ww_policy *p, const struct ww_pairidx *ix, ww_ep_t cs,
			 ww_ep_t cd, uint32_t **out);

/* ---- decision lists and atoms ---- */

#define WW_DLIST_NONE UINT32_MAX

struct ww_dentry {
	uint32_t flow; /* index into policy flows */
	uint8_t rank;  /* enum ww_rank */
};

struct ww_dlist {
	struct ww_dentry *v;
	size_t n;
	uint64_t hash;
};

/* A flow's service term, as ww_atoms_build reads it. */
struct ww_pterm {
	int proto;
	uint16_t lo, hi;
};

/* A flow as ww_atoms_build reads it: its terms naming a protocol, pt[off..off + n). */
struct ww_fpack {
	uint32_t off, n;
	bool any; /* a term takes every protocol */
	bool windowed;
	uint8_t rank; /* ww_flow_rank without zones */
};

struct ww_dtable {
	struct ww_dlist *v;
	size_t n, cap;
	uint32_t *slots; /* hash -> index + 1 */
	size_t nslots;
	/* The policy's flows as ww_atoms_build reads them, packed: it meets a flow in every class
	 * pair the flow is in, and the flow structs are large and scattered (NULL until its first
	 * call). */
	struct ww_fpack *fp; /* [flow index] */
	struct ww_pterm *pt;
	size_t npt, ptcap;
};

void ww_dtable_free(struct ww_dtable *t);

/* One piece of the service space. proto WW_PROTO_ANY: every protocol no other atom names. */
struct ww_atom {
	int proto;
	uint16_t lo, hi;
	uint32_t dlist; /* WW_DLIST_NONE: no flow matches, the default decides */
};

/*
 * Cuts the service space for candidate flows (indices into p->flows, ascending) between zones zs
 * and zd (NULL: unzoned). The atoms cover the whole space: for each protocol the flows name, its
 * whole key range; then one WW_PROTO_ANY atom. Returns 0 or -ENOMEM.
 */
int ww_atoms_build(const struct ww_policy *p, const uint32_t *flows, size_t n,
		   const struct ww_zone *zs, const struct ww_zone *zd, struct ww_dtable *dt,
		   struct ww_atom **out, size_t *nout);

/*
 * The first deny or allow entry of list l active at t (NULL: the default decides), and in
 * *observer (may be NULL) the first active monitor entry before it.
 */
const struct ww_dentry *ww_dlist_decide(const struct ww_policy *p, const struct ww_dlist *l,
					int64_t t, const struct ww_dentry **observer);

/* Does the service overlap atom a, given the protocols atoms name? (ANY atoms need it.) */
bool ww_service_overlaps_atom(const struct ww_service *s, const struct ww_atom *a,
			      const struct ww_atom *atoms, size_t natoms);

#endif
