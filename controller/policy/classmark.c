// SPDX-License-Identifier: GPL-2.0-only
#include "classmark.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>

int ww_mark_parse(const char *s, uint32_t *mask)
{
	uint32_t m = 0;
	size_t n = 0;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return -EINVAL;
	for (s += 2; isxdigit((unsigned char)*s); s++, n++)
		m = m << 4 |
		    (uint32_t)(isdigit((unsigned char)*s) ? *s - '0'
							  : tolower((unsigned char)*s) - 'a' + 10);
	if (*s || n == 0 || n > 8)
		return -EINVAL;
	*mask = m;
	return ww_mark_valid(m) ? 0 : -EDOM;
}

bool ww_mark_valid(uint32_t mask)
{
	if (!mask)
		return false;
	uint32_t run = mask >> __builtin_ctz(mask);
	/* One run of ones shifted down to bit 0 is 2^n - 1: adding one clears it. */
	return !(run & (run + 1)) && __builtin_popcount(mask) >= 2;
}

char *ww_mark_str(uint32_t mask, char *buf)
{
	snprintf(buf, WW_MARK_STRLEN, "0x%08x", mask);
	return buf;
}

uint32_t ww_mark_zone_bits(uint32_t mask)
{
	uint32_t z = 0;
	unsigned int want = ((unsigned int)__builtin_popcount(mask) + 1) / 2;

	/* The lowest `want` set bits, one at a time: mask & -mask is the lowest set bit. */
	for (unsigned int i = 0; i < want; i++, mask &= mask - 1)
		z |= mask & -mask;
	return z;
}

uint32_t ww_mark_host_bits(uint32_t mask)
{
	return mask & ~ww_mark_zone_bits(mask);
}

uint32_t ww_mark_field(uint32_t field, uint32_t num)
{
	return field ? (num << __builtin_ctz(field)) & field : 0;
}

uint32_t ww_mark_ep(const struct ww_policy *p, uint32_t mask, ww_ep_t ep)
{
	if (ep == 0 || ep > ww_nendpoints(p))
		return 0;
	const struct ww_zone *z = ww_ep_zone(p, ep);
	uint32_t v = ww_mark_field(ww_mark_zone_bits(mask), (uint32_t)(z - p->zones) + 1);
	if (ep > p->nzones)
		v |= ww_mark_field(ww_mark_host_bits(mask),
				   (uint32_t)(p->host_by_ep[ep - p->nzones - 1] - z->hosts) + 1);
	return v;
}

/* Bits a field needs to number 1..n (0 stays "none"). */
static unsigned int bits_for(size_t n)
{
	unsigned int b = 0;

	while (b < 64 && (n >> b))
		b++;
	return b;
}

/*
 * The narrowest mask that numbers zbits and hbits, near the given one: its top bit kept where it
 * is when there is room below ("0xffff0000" widens downwards), else its lowest bit. 0 when more
 * than 32 bits are needed.
 */
static uint32_t wider_mask(uint32_t mask, unsigned int zbits, unsigned int hbits)
{
	unsigned int n = 2 * zbits - 1 > 2 * hbits ? 2 * zbits - 1 : 2 * hbits;
	unsigned int top = 31 - (unsigned int)__builtin_clz(mask),
		     low = (unsigned int)__builtin_ctz(mask);

	if (n < 2)
		n = 2;
	if (n > 32)
		return 0;
	uint32_t run = n == 32 ? UINT32_MAX : (1u << n) - 1;
	if (top + 1 >= n)
		return run << (top + 1 - n);
	return low + n <= 32 ? run << low : run;
}

/* The hint that ends both messages: the mask to use, or that no mask is wide enough. */
static void mask_hint(char *buf, size_t len, uint32_t mask, unsigned int zbits, unsigned int hbits,
		      bool is_default)
{
	uint32_t w = wider_mask(mask, zbits, hbits);
	char s[WW_MARK_STRLEN];

	if (!w)
		snprintf(buf, len, "no 32-bit mark has room for them");
	else
		snprintf(buf, len, "%s a mask of %d bits, such as \"%s\"",
			 is_default ? "set enforcement.mark_bits to" : "use", __builtin_popcount(w),
			 ww_mark_str(w, s));
}

/* The bits p's zones and its zone of most host groups (*most, NULL: none) need, and the bits
 * the fields of p's mask have. */
static void fit(const struct ww_policy *p, const struct ww_zone **most, unsigned int *zneed,
		unsigned int *hneed, unsigned int *zhave, unsigned int *hhave)
{
	*most = NULL;
	for (size_t i = 0; i < p->nzones; i++)
		if (!*most || p->zones[i].nhosts > (*most)->nhosts)
			*most = &p->zones[i];
	*zneed = bits_for(p->nzones);
	*hneed = *most ? bits_for((*most)->nhosts) : 0;
	*zhave = (unsigned int)__builtin_popcount(ww_mark_zone_bits(p->enf.mark_mask));
	*hhave = (unsigned int)__builtin_popcount(ww_mark_host_bits(p->enf.mark_mask));
}

bool ww_mark_fits(const struct ww_policy *p)
{
	const struct ww_zone *most;
	unsigned int zneed, hneed, zhave, hhave;

	fit(p, &most, &zneed, &hneed, &zhave, &hhave);
	return ww_mark_valid(p->enf.mark_mask) && zneed <= zhave && hneed <= hhave;
}

void ww_mark_check_fit(const struct ww_policy *p, const char *ptr, bool is_default,
		       struct ww_diags *d)
{
	uint32_t mask = p->enf.mark_mask;
	const struct ww_zone *most;
	char hint[96], ms[WW_MARK_STRLEN];
	unsigned int zneed, hneed, zhave, hhave;
	const char *which = is_default ? "the default mark_bits " : "";

	if (!ww_mark_valid(mask))
		return;
	fit(p, &most, &zneed, &hneed, &zhave, &hhave);
	if (zneed <= zhave && hneed <= hhave)
		return;
	mask_hint(hint, sizeof(hint), mask, zneed > zhave ? zneed : zhave,
		  hneed > hhave ? hneed : hhave, is_default);
	ww_mark_str(mask, ms);
	if (zneed > zhave)
		ww_err(d, "mark-bits-too-few", ptr,
		       "%zu zones need a zone field of %u bits; %s\"%s\" has %d bits, of which the "
		       "zone field is the low %u: %s",
		       p->nzones, zneed, which, ms, __builtin_popcount(mask), zhave, hint);
	if (hneed > hhave)
		ww_err(
		    d, "mark-bits-too-few", ptr,
		    "zone \"%s\" has %zu host groups, which need a host field of %u bits; %s\"%s\" "
		    "has %d bits, of which the host field is the high %u: %s",
		    most->name, most->nhosts, hneed, which, ms, __builtin_popcount(mask), hhave,
		    hint);
}
