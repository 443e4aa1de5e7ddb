/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Address sets: the built-in named sets a policy may write among a zone's networks or its
 * exceptions ("rfc1918", "special-purpose", ...), and prefix-list arithmetic (union minus union),
 * so that "the internet" can be written as the default routes minus what is not the internet.
 */
#ifndef WW_ADDRSET_H
#define WW_ADDRSET_H

#include <stddef.h>

#include "addr.h"

struct ww_addrset {
	const char *name;
	const char *what; /* one line, for docs and messages */
	const char *const *prefixes;
};

/* The built-in set of that name, or NULL. */
const struct ww_addrset *ww_addrset_find(const char *name);
/* Every built-in set, NULL-terminated (for "did you mean" and the docs). */
extern const struct ww_addrset *const ww_addrsets[];

/* Calls fn for each prefix of the set (parsed; the table is checked by the unit test). */
int ww_addrset_each(const struct ww_addrset *s, void (*fn)(const struct ww_prefix *p, void *arg),
		    void *arg);

/* The union of `plus` minus the union of `minus`, as the minimal sorted list of prefixes (both
 * families; prefixes of one family never touch the other). Calls fn for each prefix in address
 * order, IPv4 first. Returns 0 or -ENOMEM. */
int ww_prefix_subtract(const struct ww_prefix *plus, size_t nplus, const struct ww_prefix *minus,
		       size_t nminus, void (*fn)(const struct ww_prefix *p, void *arg), void *arg);

#endif
