/* SPDX-License-Identifier: GPL-2.0-only */
/* Stage 1, policy: JSON text in, validated model out; and the canonical form back to JSON. */
#ifndef WW_POLICY_H
#define WW_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"
#include "model.h"
#include "util.h"

/*
 * Parses and validates a policy. Every problem found is added to d (d->file should name the
 * source). Returns 0 and sets *out when the policy has no errors (it may have warnings);
 * -EINVAL when it has errors (*out untouched); -ENOMEM.
 */
int ww_policy_parse(const char *file, const char *text, size_t len, struct ww_diags *d,
		    struct ww_policy **out);
/* A policy larger than this is refused; WARDWALL_POLICY_MAX_BYTES overrides it (docs/cli.md).
 * A 100,000-flow policy is about 15 MB. */
#define WW_POLICY_MAX_BYTES (64u << 20)
/*
 * Reads the text of a policy: path must name a regular file (a FIFO, a device, a directory or a
 * symbolic link to one is refused without being read or waited on), or "-" for stdin; either is
 * read up to the size limit and no further. The first read error ends the read. Refusals are
 * added to d ("not-a-file", "too-large") and return -EINVAL; other failures -errno (open, read)
 * with nothing added. *out is malloc'ed and NUL-terminated.
 */
int ww_policy_read(const char *path, struct ww_diags *d, char **out, size_t *len);
/* Reads path with ww_policy_read and parses it. -errno from reading is returned as is. */
int ww_policy_load(const char *path, struct ww_diags *d, struct ww_policy **out);

/*
 * Prints the canonical policy: fixed key order, zones and hosts by name, normalized prefixes and
 * port ranges, derived flow ids made explicit, the services flows use spelled out. Parsing the
 * output gives the same model, and printing that gives the same bytes.
 */
void ww_policy_print_canonical(const struct ww_policy *p, struct strbuf *out);
/* The same text with only the flows marked "management" and no invariants: what the fail-closed
 * policy is derived from (failsafe.h), without printing and parsing 100k other flows. */
void ww_policy_print_management(const struct ww_policy *p, struct strbuf *out);
/* One flow as a canonical JSON object. With for_id, only what the flow means (no id, owner,
 * ticket, description or controls): the input of a derived flow id. */
void ww_flow_print_canonical(const struct ww_policy *p, const struct ww_flow *f, bool for_id,
			     struct strbuf *out);

/* A service's terms normalized: sorted by protocol, ranges merged, "any" absorbing the rest.
 * *out is malloc'ed (NULL when n is 0). Returns the count or -ENOMEM. */
long ww_service_normalize(const struct ww_service *s, struct ww_term **out);

/* sha256 of the canonical form, as 64 hex digits: the policy's identity. */
void ww_policy_hash(const struct ww_policy *p, char out[65]);

/* Parses "443", "8000-8080" or a number into an inclusive range within [0, max]. */
int ww_range_parse(const char *s, unsigned int max, unsigned int *lo, unsigned int *hi);

#endif
