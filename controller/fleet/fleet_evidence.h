/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6 for a fleet: `evidence export --fleet` gathers what every gateway's agent put under
 * KEY/evidence/NAME (its own signed, chained bundle) with the published record and every
 * gateway's status into one bundle signed by the exporter (docs/fleet.md#evidence):
 *
 *   fleet.json              the fleet summary: the published generation, and for every gateway
 *                           whether it reported, converged, and what its signed bundle shows
 *   policy.record           the signed record as read from KEY/policy
 *   evidence.pub            the exporter's public key
 *   manifest.json/.sig      as every bundle: fleet.json, policy.record and evidence.pub, signed
 *   gateways/NAME/          the gateway's bundle as its agent signed it (evidence.json,
 *                           evidence.pub, manifest.json, manifest.sig); fleet.json pins each
 *                           one's manifest by sha256, so the exporter's signature covers them
 *
 * A gateway that did not report, did not converge or has no bundle is listed with the reason;
 * nothing is left out or rounded up.
 */
#ifndef WW_FLEET_EVIDENCE_H
#define WW_FLEET_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>

#include "evidence.h"
#include "fleet.h"

#define WW_FLEET_EVIDENCE_FORMAT "wardwall-fleet-evidence/1"

struct ww_fleet_ev_opts {
	const struct ww_fleet_conn *conn;
	const uint8_t *publisher_pk; /* verify the published record (NULL: not checked, said) */
	const char *gateway_keys;    /* DIR/NAME.pub: the gateways' pinned keys (NULL: each
					bundle is checked with the key it carries, said) */
	const uint8_t *sk;	     /* the exporter's key */
	const char *out;	     /* the bundle's directory (absent or empty) */
	int64_t now;
};

struct ww_fleet_ev_result {
	unsigned long generation; /* published */
	const char *signature;	  /* of the published record: "valid", "INVALID", "not-checked" */
	size_t ngws, nexpected, nreported, nconverged, nevidence;
	char manifest_sha256[65];
	struct strbuf gaps; /* one line per gateway that is not fully accounted for */
};

/* Writes the bundle. Returns 0 (res filled; free res->gaps) or -errno with err. */
int ww_fleet_evidence_export(const struct ww_fleet_ev_opts *o, struct ww_fleet_ev_result *res,
			     struct strbuf *err);

/*
 * Checks what a fleet bundle adds to an ordinary one (whose files and signature
 * ww_evidence_verify checks): policy.record against publisher_pk (NULL: not checked, said in
 * warn), and every gateway bundle under gateways/: its files and signature (with
 * gateway_keys/NAME.pub when given, else the key it carries, said in warn) and its manifest's
 * sha256 against fleet.json. One line each to out or bad. Returns the number of failures or
 * -ENOMEM. A bundle without fleet.json: 0, nothing said.
 */
int ww_fleet_evidence_verify(const char *dir, const uint8_t *publisher_pk, const char *gateway_keys,
			     struct strbuf *out, struct strbuf *bad, struct strbuf *warn);

#endif
