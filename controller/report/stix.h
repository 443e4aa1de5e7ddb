/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6, report: indicators for the sector's CSIRT or ISAC, from the recorded alerts
 * (docs/indicators.md): a STIX 2.1 bundle, or CSV.
 *
 * STIX: the reporting hospital as an identity; per alert an indicator (a pattern on the source
 * address and the services it was denied), an observed-data (its count, first and last time,
 * over ipv4-addr/ipv6-addr and network-traffic objects) and a sighting of the indicator where
 * it was seen: the hospital's own identity. Domain objects get random (version 4) UUIDs;
 * observable objects deterministic version 5 UUIDs over their ID contributing properties, as
 * STIX 2.1 section 2.9 asks, so the same address is the same object in every export.
 * Nothing beyond addresses, ports, protocols, counts, times and the policy's zone names.
 */
#ifndef WW_STIX_H
#define WW_STIX_H

#include <stdint.h>

#include "detect.h"
#include "util.h"

struct ww_stix_opts {
	const char *identity; /* the reporting organisation's name */
	int64_t now;	      /* unix seconds: created/modified */
};

/* The bundle (pretty JSON). Returns 0 or -errno (no random source). */
int ww_stix_bundle(const struct ww_alert *a, size_t n, const struct ww_stix_opts *o,
		   struct strbuf *out);
/* CSV: a header line, then one line per alert (RFC 4180 quoting). */
void ww_indicators_csv(const struct ww_alert *a, size_t n, struct strbuf *out);
/* A STIX 2.1 SCO id: "TYPE--" and the UUIDv5 of name (its canonical ID contributing
 * properties) in the STIX namespace. Exposed for the tests. */
void ww_stix_sco_id(const char *type, const char *canonical, char out[80]);

#endif
