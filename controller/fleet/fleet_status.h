/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 6 for a fleet: one read of KEY/ (the published record and every gateway's status) into
 * a view of who enforces what; printed as text, JSON or Prometheus metrics from one place.
 */
#ifndef WW_FLEET_STATUS_H
#define WW_FLEET_STATUS_H

#include <stdbool.h>
#include <stdint.h>

#include "fleet.h"

struct ww_fleet_gw {
	char *name;
	bool reported;      /* a live status record exists (its lease holds) */
	bool expected;      /* named by the published policy's gateways (or the only one) */
	unsigned long generation, refused_generation;
	char *state, *health, *last_error, *policy_sha256, *part_sha256;
	char *evidence_error; /* its last evidence export or put failed: why */
	bool drift;
	bool converged;     /* enforces the published generation, read back without drift */
	double age_s;       /* since its last report */
	unsigned long probes_ok;    /* its part's probes that connected after its last apply */
	unsigned long evidence_seq; /* its last bundle under KEY/evidence/NAME (0: none) */
	double apply_ms, prepare_ms;	  /* its apply; its check and cut before it */
	int64_t enforced_at_ms, seen_at_ms; /* when it enforced it; when its watch brought it */
};

struct ww_fleet_view {
	char *key;
	unsigned long generation; /* published (0: none) */
	char policy_sha256[65];
	char *policy_name;
	int64_t published;
	bool verified;   /* the record's signature checked against a given key */
	bool signature_ok;
	struct ww_fleet_gw *gws;
	size_t ngws;
	size_t nconverged;
	bool converged;  /* every expected gateway converged */
	int64_t revision;
	char *record; /* the published record's bytes as read (NULL: none) */
	size_t record_len;
};

/* pub: the publisher key file to verify the record with (NULL: not verified, and said so). */
int ww_fleet_view_read(const struct ww_fleet_conn *c, const char *pub, int64_t now,
		       struct ww_fleet_view *v, struct strbuf *err);
/* The same through an open client, with the publisher key itself (NULL: not verified). */
struct ww_etcd;
int ww_fleet_view_fetch(const struct ww_fleet_conn *c, struct ww_etcd *e, const uint8_t *pk,
			int64_t now, struct ww_fleet_view *v, struct strbuf *err);
/* Text, or (json) one JSON object. */
void ww_fleet_view_print(const struct ww_fleet_view *v, bool json, struct strbuf *out);
/* Prometheus text exposition. */
void ww_fleet_view_metrics(const struct ww_fleet_view *v, struct strbuf *out);
void ww_fleet_view_free(struct ww_fleet_view *v);

#endif
