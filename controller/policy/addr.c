// SPDX-License-Identifier: GPL-2.0-only
#include "addr.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static u128 mask_of(int family, unsigned int len)
{
	unsigned int bits = ww_family_bits(family);
	u128 all = bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1);

	if (len == 0)
		return 0;
	return all & ~((((u128)1) << (bits - len)) - 1) & all;
}

void ww_addr_bytes(int family, u128 v, uint8_t *out)
{
	int n = family == WW_INET ? 4 : 16;

	for (int i = n - 1; i >= 0; i--) {
		out[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

u128 ww_addr_from_bytes(int family, const uint8_t *in)
{
	int n = family == WW_INET ? 4 : 16;
	u128 v = 0;

	for (int i = 0; i < n; i++)
		v = (v << 8) | in[i];
	return v;
}

int ww_addr_parse(const char *s, struct ww_addr *out)
{
	uint8_t buf[16];

	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, buf) != 1)
			return -EINVAL;
		out->family = WW_INET6;
	} else {
		if (inet_pton(AF_INET, s, buf) != 1)
			return -EINVAL;
		out->family = WW_INET;
	}
	out->v = ww_addr_from_bytes(out->family, buf);
	return 0;
}

int ww_prefix_parse(const char *s, bool allow_len, struct ww_prefix *out, const char **why,
		    struct ww_prefix *canon)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(s, '/');
	size_t hl = slash ? (size_t)(slash - s) : strlen(s);
	struct ww_prefix p;
	unsigned long len;
	char *end;

	*why = NULL;
	if (hl == 0 || hl >= sizeof(host)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (ww_addr_parse(host, &p.a)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	len = ww_family_bits(p.a.family);
	if (slash) {
		if (!allow_len) {
			*why = "a host address takes no prefix length";
			return -EINVAL;
		}
		errno = 0;
		len = strtoul(slash + 1, &end, 10);
		/* strtoul alone would take " 8", "+8" and "-0". */
		if (!isdigit((unsigned char)slash[1]) || *end || errno ||
		    len > ww_family_bits(p.a.family)) {
			*why = p.a.family == WW_INET ? "prefix length must be 0-32"
						     : "prefix length must be 0-128";
			return -EINVAL;
		}
	}
	p.len = (uint8_t)len;
	if (p.a.v & ~mask_of(p.a.family, p.len)) {
		*why = "host bits are set";
		if (canon) {
			*canon = p;
			canon->a.v &= mask_of(p.a.family, p.len);
		}
		return -EINVAL;
	}
	*out = p;
	return 0;
}

char *ww_addr_str(const struct ww_addr *a, char *buf)
{
	uint8_t b[16];

	ww_addr_bytes(a->family, a->v, b);
	inet_ntop(a->family == WW_INET ? AF_INET : AF_INET6, b, buf, WW_PREFIX_STRLEN);
	return buf;
}

char *ww_prefix_str(const struct ww_prefix *p, bool bare_host, char *buf)
{
	ww_addr_str(&p->a, buf);
	if (!bare_host || p->len != ww_family_bits(p->a.family))
		sprintf(buf + strlen(buf), "/%u", p->len);
	return buf;
}

u128 ww_prefix_first(const struct ww_prefix *p)
{
	return p->a.v;
}

u128 ww_prefix_last(const struct ww_prefix *p)
{
	unsigned int bits = ww_family_bits(p->a.family);
	u128 all = bits == 128 ? ~(u128)0 : (((u128)1 << bits) - 1);

	return p->a.v | (all & ~mask_of(p->a.family, p->len));
}

bool ww_prefix_contains(const struct ww_prefix *p, const struct ww_addr *a)
{
	return p->a.family == a->family && (a->v & mask_of(a->family, p->len)) == p->a.v;
}

bool ww_prefix_covers(const struct ww_prefix *outer, const struct ww_prefix *inner)
{
	return outer->a.family == inner->a.family && outer->len <= inner->len &&
	       (inner->a.v & mask_of(inner->a.family, outer->len)) == outer->a.v;
}

int ww_prefix_cmp(const struct ww_prefix *a, const struct ww_prefix *b)
{
	if (a->a.family != b->a.family)
		return a->a.family < b->a.family ? -1 : 1;
	if (a->a.v != b->a.v)
		return a->a.v < b->a.v ? -1 : 1;
	return (int)a->len - (int)b->len;
}

void ww_range_to_prefixes(int family, u128 lo, u128 hi,
			  void (*fn)(const struct ww_prefix *p, void *arg), void *arg)
{
	unsigned int bits = ww_family_bits(family);

	for (;;) {
		unsigned int len = bits;
		/* Widen while lo stays aligned and the block stays within hi. */
		while (len > 0) {
			unsigned int hb = bits - (len - 1);
			u128 size = hb >= 128 ? 0 : ((u128)1 << hb);
			if (hb >= 128 ? lo != 0 : (lo & (size - 1)) != 0)
				break;
			u128 last = hb >= 128 ? ~(u128)0 : lo + size - 1;
			if (last > hi || last < lo)
				break;
			len--;
		}
		struct ww_prefix p = {.a = {.family = (uint8_t)family, .v = lo}, .len = (uint8_t)len};
		fn(&p, arg);
		u128 end = ww_prefix_last(&p);
		if (end >= hi)
			return;
		lo = end + 1;
	}
}
