/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Service terms as sets: union and difference, for a flow's "except": {"services": ...} and an
 * invariant's service list. The result is a plain term list, so every later stage (analysis, both
 * compilers) sees an ordinary service.
 */
#ifndef WW_TERMS_H
#define WW_TERMS_H

#include <stddef.h>

#include "model.h"

/* The union of `plus` minus the union of `minus`, sorted by protocol then range, merged. A term
 * of protocol any in `plus` stays one term when nothing is taken from it, else becomes one term
 * per protocol 0-255. *out is malloc'd (NULL when the result is empty; term ptrs are NULL).
 * Returns the number of terms or -ENOMEM. */
long ww_terms_subtract(const struct ww_term *plus, size_t nplus, const struct ww_term *minus,
		       size_t nminus, struct ww_term **out);

#endif
