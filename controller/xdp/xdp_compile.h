/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 3b, compile for XDP: the policy as the contents of one generation's maps (layouts in
 * bpf/wardwall.h). Counter slots are not known here: decision entries carry the flow's index in
 * the policy and classification values the zone's index, and xdp_gen.c translates them into
 * the stable slots it keeps in the kernel.
 */
#ifndef WW_XDP_COMPILE_H
#define WW_XDP_COMPILE_H

#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "wardwall.h"

struct ww_xdp_cls {
	struct ww_prefix pfx;
	struct ww_cls val; /* zone_slot holds the zone index + 1 until xdp_gen.c maps it */
};

struct ww_xdp_rule {
	struct ww_rule_key key;
	__u32 dlist;
};

struct ww_xdp_image {
	struct ww_xdp_cls *cls;  /* v4 and v6 */
	size_t ncls;
	struct ww_xdp_rule *rules;
	size_t nrules;
	struct ww_xlist *dlists; /* entries' slot field holds the flow index until mapped */
	size_t ndlists;
	struct ww_settings settings; /* log_rate is for all CPUs until mapped */
};

/*
 * Compiles p. Capacity limits (zones, flows, overlapping flows per decision list) are errors
 * added to d naming the policy element; returns -E2BIG then, else 0 or -ENOMEM.
 */
int ww_compile_xdp(const struct ww_policy *p, struct ww_xdp_image *img, struct ww_diags *d);
void ww_xdp_image_free(struct ww_xdp_image *img);

/* Sorts the image's entries so that two images compare with memcmp (readback vs compiled). */
void ww_xdp_image_sort(struct ww_xdp_image *img);

#endif
