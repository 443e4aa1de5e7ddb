// SPDX-License-Identifier: GPL-2.0-only
#include "addrset.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* RFC 1918: private IPv4. */
static const char *const rfc1918[] = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", NULL};

/* RFC 4193: unique local IPv6. */
static const char *const ula[] = {"fc00::/7", NULL};

/* Every entry of the IANA IPv4 and IPv6 Special-Purpose Address Registries (RFC 6890 and their
 * later additions, as of 2025), whatever its "globally reachable" column says: none of them is
 * "the internet" a hospital zone talks to. Entries nested in another entry are left out. */
static const char *const special_purpose[] = {
	"0.0.0.0/8",       "10.0.0.0/8",      "100.64.0.0/10",   "127.0.0.0/8",
	"169.254.0.0/16",  "172.16.0.0/12",   "192.0.0.0/24",    "192.0.2.0/24",
	"192.31.196.0/24", "192.52.193.0/24", "192.88.99.0/24",  "192.168.0.0/16",
	"192.175.48.0/24", "198.18.0.0/15",   "198.51.100.0/24", "203.0.113.0/24",
	"240.0.0.0/4", /* holds 255.255.255.255/32 */
	"::/128",          "::1/128",         "::ffff:0:0/96",   "64:ff9b::/96",
	"64:ff9b:1::/48",  "100::/64",        "2001::/23",       "2001:db8::/32",
	"2002::/16",       "2620:4f:8000::/48", "3fff::/20",     "5f00::/16",
	"fc00::/7",        "fe80::/10",       NULL};

/* Multicast (IPv4 224.0.0.0/4, IPv6 ff00::/8): never a unicast zone's peer. */
static const char *const multicast[] = {"224.0.0.0/4", "ff00::/8", NULL};

static const struct ww_addrset sets[] = {
	{"rfc1918", "private IPv4 (RFC 1918)", rfc1918},
	{"ula", "unique local IPv6 (RFC 4193)", ula},
	{"special-purpose", "the IANA IPv4 and IPv6 special-purpose registries", special_purpose},
	{"multicast", "IPv4 and IPv6 multicast", multicast},
};

const struct ww_addrset *const ww_addrsets[] = {&sets[0], &sets[1], &sets[2], &sets[3], NULL};

const struct ww_addrset *ww_addrset_find(const char *name)
{
	for (size_t i = 0; ww_addrsets[i]; i++)
		if (!strcmp(ww_addrsets[i]->name, name))
			return ww_addrsets[i];
	return NULL;
}

int ww_addrset_each(const struct ww_addrset *s, void (*fn)(const struct ww_prefix *p, void *arg),
		    void *arg)
{
	for (size_t i = 0; s->prefixes[i]; i++) {
		struct ww_prefix p, canon;
		const char *why;
		if (ww_prefix_parse(s->prefixes[i], true, &p, &why, &canon))
			return -EINVAL;
		fn(&p, arg);
	}
	return 0;
}

struct iv {
	int family;
	u128 lo, hi;
};

static int iv_cmp(const void *a, const void *b)
{
	const struct iv *x = a, *y = b;

	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sorted, merged intervals of a prefix list; *n is updated. */
static struct iv *intervals(const struct ww_prefix *v, size_t *n)
{
	struct iv *iv = malloc((*n ? *n : 1) * sizeof(*iv));
	size_t k = 0;

	if (!iv)
		return NULL;
	for (size_t i = 0; i < *n; i++)
		iv[i] = (struct iv){v[i].a.family, ww_prefix_first(&v[i]), ww_prefix_last(&v[i])};
	qsort(iv, *n, sizeof(*iv), iv_cmp);
	for (size_t i = 0; i < *n; i++) {
		if (k && iv[k - 1].family == iv[i].family &&
		    (iv[i].lo <= iv[k - 1].hi || iv[i].lo == iv[k - 1].hi + 1)) {
			if (iv[i].hi > iv[k - 1].hi)
				iv[k - 1].hi = iv[i].hi;
			continue;
		}
		iv[k++] = iv[i];
	}
	*n = k;
	return iv;
}

int ww_prefix_subtract(const struct ww_prefix *plus, size_t nplus, const struct ww_prefix *minus,
		       size_t nminus, void (*fn)(const struct ww_prefix *p, void *arg), void *arg)
{
	size_t np = nplus, nm = nminus;
	struct iv *p = intervals(plus, &np), *m = intervals(minus, &nm);
	int err = p && m ? 0 : -ENOMEM;

	for (size_t i = 0; !err && i < np; i++) {
		u128 lo = p[i].lo;
		bool done = false;
		for (size_t j = 0; j < nm && !done; j++) {
			if (m[j].family != p[i].family || m[j].hi < lo || m[j].lo > p[i].hi)
				continue;
			if (m[j].lo > lo)
				ww_range_to_prefixes(p[i].family, lo, m[j].lo - 1, fn, arg);
			if (m[j].hi >= p[i].hi)
				done = true;
			else
				lo = m[j].hi + 1;
		}
		if (!done)
			ww_range_to_prefixes(p[i].family, lo, p[i].hi, fn, arg);
	}
	free(p);
	free(m);
	return err;
}
