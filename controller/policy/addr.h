/* SPDX-License-Identifier: GPL-2.0-only */
/* IPv4/IPv6 addresses and prefixes. Addresses are kept as 128-bit integers per family. */
#ifndef WW_ADDR_H
#define WW_ADDR_H

#include <stdbool.h>
#include <stdint.h>

typedef unsigned __int128 u128;

enum ww_family { WW_INET = 4, WW_INET6 = 6 };

struct ww_addr {
	uint8_t family; /* WW_INET or WW_INET6 */
	u128 v;         /* IPv4 in the low 32 bits */
};

struct ww_prefix {
	struct ww_addr a;
	uint8_t len;
};

static inline unsigned int ww_family_bits(int family)
{
	return family == WW_INET ? 32 : 128;
}

/* Parses "10.0.0.1", "fd00::1" (host, full length) or with "/len" when allow_len. Returns 0 or
 * -EINVAL; *why says what is wrong. A prefix with host bits set is -EINVAL and *canon receives the
 * prefix it probably meant. */
int ww_prefix_parse(const char *s, bool allow_len, struct ww_prefix *out, const char **why,
		    struct ww_prefix *canon);
int ww_addr_parse(const char *s, struct ww_addr *out);

/* Formats into buf (at least WW_PREFIX_STRLEN); a full-length prefix prints without "/len" when
 * bare_host. Returns buf. */
#define WW_PREFIX_STRLEN 64
char *ww_prefix_str(const struct ww_prefix *p, bool bare_host, char *buf);
char *ww_addr_str(const struct ww_addr *a, char *buf);

u128 ww_prefix_first(const struct ww_prefix *p);
u128 ww_prefix_last(const struct ww_prefix *p);
bool ww_prefix_contains(const struct ww_prefix *p, const struct ww_addr *a);
/* Does outer contain inner (equal counts as contained)? */
bool ww_prefix_covers(const struct ww_prefix *outer, const struct ww_prefix *inner);
int ww_prefix_cmp(const struct ww_prefix *a, const struct ww_prefix *b);

/* The address bytes in network order (4 or 16 bytes written). */
void ww_addr_bytes(int family, u128 v, uint8_t *out);
u128 ww_addr_from_bytes(int family, const uint8_t *in);

/* Splits [lo, hi] into the minimal list of prefixes; calls fn for each. */
void ww_range_to_prefixes(int family, u128 lo, u128 hi,
			  void (*fn)(const struct ww_prefix *p, void *arg), void *arg);

#endif
