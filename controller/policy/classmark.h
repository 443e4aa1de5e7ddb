/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 1, policy: enforcement.mark_bits, the packet-mark bits the nftables tier writes the
 * destination's class into (docs/policy.md, "Mark bits"; docs/nftables.md).
 *
 * The mask's n bits (contiguous, n >= 2) hold two fields: the zone field is the low ceil(n/2)
 * bits, the host field the remaining high floor(n/2) bits. A class is numbered there as:
 *   zone field: the zone's position in p->zones + 1 (its endpoint id), 1..nzones; 0: no class
 *   host field: the host group's position in its zone's hosts + 1, 1..nhosts; 0: the zone itself
 * The parser refuses a mask whose fields cannot number every zone and every zone's host groups.
 */
#ifndef WW_CLASSMARK_H
#define WW_CLASSMARK_H

#include <stdbool.h>
#include <stdint.h>

#include "diag.h"
#include "model.h"

#define WW_MARK_DEFAULT 0xffff0000u
#define WW_MARK_STRLEN	11 /* "0x" + 8 hex digits + NUL */

/* Parses "0x" (or "0X") and 1-8 hex digits into *mask. Returns 0; -EINVAL when s is not written
 * so (*mask untouched); -EDOM when the bits are not one contiguous run of at least 2 (*mask set:
 * the bits as written, for the message). */
int ww_mark_parse(const char *s, uint32_t *mask);
/* A mask of one run of at least 2 bits. */
bool ww_mark_valid(uint32_t mask);
/* "0x%08x": the canonical spelling, into buf of WW_MARK_STRLEN bytes; returns buf. */
char *ww_mark_str(uint32_t mask, char *buf);

/* The zone field: the low ceil(n/2) of the mask's n bits (0 when mask is 0). */
uint32_t ww_mark_zone_bits(uint32_t mask);
/* The host field: the mask's bits above the zone field. */
uint32_t ww_mark_host_bits(uint32_t mask);
/* Number `num` placed in `field` (a contiguous run; num must fit, else the excess is cut). */
uint32_t ww_mark_field(uint32_t field, uint32_t num);

/* The mark value of a class: its zone number in the zone field, its host number (0 for a zone)
 * in the host field. ep is a zone's or host group's endpoint id (1..ww_nendpoints); 0 for 0. */
uint32_t ww_mark_ep(const struct ww_policy *p, uint32_t mask, ww_ep_t ep);

/* p's mask is valid, and its fields number p's zones and every zone's host groups. */
bool ww_mark_fits(const struct ww_policy *p);

/*
 * Adds "mark-bits-too-few" to d when p's zones, or some zone's host groups, do not fit in the
 * fields of p->enf.mark_mask. ptr is where the mask comes from (its member, or where the default
 * applies); is_default says it was not written. Does nothing for an invalid mask (already said).
 */
void ww_mark_check_fit(const struct ww_policy *p, const char *ptr, bool is_default,
		       struct ww_diags *d);

#endif
