// SPDX-License-Identifier: GPL-2.0-only
/*
 * STIX 2.1 and CSV from alerts (stix.h). Written with the one JSON writer; the identifiers and
 * properties follow STIX Version 2.1 (OASIS Standard, 10 June 2021): sections 2.9 (identifiers),
 * 3.2 (common properties), 4.5 identity, 4.7 indicator, 4.14 observed-data, 5.2 sighting,
 * 6.4/6.5 ipv4-addr/ipv6-addr, 6.12 network-traffic, 9 patterning.
 */
#include "stix.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "json.h"

/* STIX 2.1 section 2.9: the namespace of SCO version 5 UUIDs. */
static const uint8_t stix_ns[16] = {0x00, 0xab, 0xed, 0xb4, 0xaa, 0x42, 0x46, 0x6c,
				    0x9c, 0x01, 0xfe, 0xd2, 0x33, 0x15, 0xa9, 0xb7};

static void uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

void ww_stix_sco_id(const char *type, const char *canonical, char out[80])
{
	uint8_t h[EVP_MAX_MD_SIZE], u[16];
	unsigned int hl = 0;
	char s[37];
	EVP_MD_CTX *c = EVP_MD_CTX_new();

	memset(h, 0, sizeof(h));
	if (c && EVP_DigestInit_ex(c, EVP_sha1(), NULL) &&
	    EVP_DigestUpdate(c, stix_ns, sizeof(stix_ns)) &&
	    EVP_DigestUpdate(c, canonical, strlen(canonical)))
		EVP_DigestFinal_ex(c, h, &hl);
	EVP_MD_CTX_free(c);
	memcpy(u, h, 16);
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x50); /* version 5 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	uuid_str(u, s);
	snprintf(out, 80, "%s--%s", type, s);
}

static int sdo_id(const char *type, char out[80])
{
	uint8_t u[16];
	char s[37];

	if (getrandom(u, sizeof(u), 0) != (ssize_t)sizeof(u))
		return -EIO;
	u[6] = (uint8_t)((u[6] & 0x0f) | 0x40); /* version 4 */
	u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
	uuid_str(u, s);
	snprintf(out, 80, "%s--%s", type, s);
	return 0;
}

/* "tcp/445" into its protocol and port (port -1: none, such as "icmp/8" or "gre"). */
static void service(const char *s, char proto[8], int *port)
{
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);

	snprintf(proto, 8, "%.*s", (int)(n < 7 ? n : 7), s);
	*port = -1;
	if (slash && (!strcmp(proto, "tcp") || !strcmp(proto, "udp") || !strcmp(proto, "sctp")))
		*port = atoi(slash + 1);
}

/* STIX timestamps: UTC, millisecond precision for created and modified (3.2). */
static const char *ts_ms(int64_t ns, char *buf)
{
	return ww_time_ms_str(ns, buf);
}

static void ref_list(struct ww_jw *w, const char *key, char (*ids)[80], size_t n)
{
	ww_jw_arr(w, key);
	for (size_t i = 0; i < n; i++)
		ww_jw_str(w, NULL, ids[i]);
	ww_jw_end_arr(w);
}

static void common(struct ww_jw *w, const char *type, const char *id, const char *now,
		   const char *creator)
{
	ww_jw_obj(w, NULL);
	ww_jw_str(w, "type", type);
	ww_jw_str(w, "spec_version", "2.1");
	ww_jw_str(w, "id", id);
	if (creator)
		ww_jw_str(w, "created_by_ref", creator);
	ww_jw_str(w, "created", now);
	ww_jw_str(w, "modified", now);
}

/* One alert's objects while they are written: their ids, pattern and description. */
struct stix_alert {
	const struct ww_alert *a;
	const char *atype; /* "ipv4-addr" or "ipv6-addr" */
	char src[WW_ALERT_ADDR_STRLEN], dst[WW_ALERT_ADDR_STRLEN];
	char src_id[80], dst_id[80], ind[80], obs[80], sig[80];
	char nt[WW_DETECT_LIST][80], refs[2 + WW_DETECT_LIST][80];
	size_t nnt, nrefs;
	char t1[WW_TIME_MS_STRLEN], t2[WW_TIME_MS_STRLEN]; /* first and last seen */
	struct strbuf pat, desc;
};

/* The ids of the alert's SDOs (random) and of its addresses (SCOs, derived). */
static int alert_ids(struct stix_alert *x)
{
	char canon[256];
	int e;

	ww_alert_addrs(x->a, x->src, x->dst);
	if ((e = sdo_id("indicator", x->ind)) || (e = sdo_id("observed-data", x->obs)) ||
	    (e = sdo_id("sighting", x->sig)))
		return e;
	snprintf(canon, sizeof(canon), "{\"value\":\"%s\"}", x->src);
	ww_stix_sco_id(x->atype, canon, x->src_id);
	snprintf(canon, sizeof(canon), "{\"value\":\"%s\"}", x->dst);
	ww_stix_sco_id(x->atype, canon, x->dst_id);
	memcpy(x->refs[x->nrefs++], x->src_id, 80);
	if (strcmp(x->dst, x->src))
		memcpy(x->refs[x->nrefs++], x->dst_id, 80);
	return 0;
}

/* The indicator's pattern, and the network-traffic SCO of each service. */
static void alert_traffic(struct stix_alert *x)
{
	const struct ww_alert *a = x->a;
	char canon[256], proto[8];
	int port;

	/* The pattern: for lateral movement and new talkers, the source and each service it was
	 * denied, as alternatives; for a scan or a flood (whose services are only the first few
	 * of many) and when services were left out, the source address. */
	bool by_service = (a->det == WW_DET_LATERAL || a->det == WW_DET_NEW_TALKER) &&
			  a->nservices && !a->more_services;
	for (size_t k = 0; k < a->nservices; k++) {
		service(a->services[k], proto, &port);
		if (by_service) {
			sb_addf(&x->pat,
				"%s[network-traffic:src_ref.value = '%s' AND "
				"network-traffic:protocols[*] = '%s'",
				k ? " OR " : "", x->src, proto);
			if (port >= 0)
				sb_addf(&x->pat, " AND network-traffic:dst_port = %d", port);
			sb_add(&x->pat, "]");
		}
		/* The traffic seen, from the source (its destinations may be several: none is
		 * named); network-traffic's ID contributing properties (6.12), JCS order. */
		if (port >= 0)
			snprintf(canon, sizeof(canon),
				 "{\"dst_port\":%d,\"protocols\":[\"%s\"],\"src_ref\":\"%s\"}",
				 port, proto, x->src_id);
		else
			snprintf(canon, sizeof(canon),
				 "{\"protocols\":[\"%s\"],\"src_ref\":\"%s\"}", proto, x->src_id);
		ww_stix_sco_id("network-traffic", canon, x->nt[x->nnt]);
		memcpy(x->refs[x->nrefs++], x->nt[x->nnt], 80);
		x->nnt++;
	}
	if (!by_service)
		sb_addf(&x->pat, "[%s:value = '%s']", x->atype, x->src);
}

static void alert_desc(struct stix_alert *x)
{
	const struct ww_alert *a = x->a;

	sb_addf(&x->desc,
		"wardwall %s alert: %s (zone %s) was denied %llu time%s towards %u target%s "
		"in zone%s ",
		ww_detector_name(a->det), x->src, a->src_zone, (unsigned long long)a->count,
		a->count == 1 ? "" : "s", a->targets, a->targets == 1 ? "" : "s",
		a->ndst_zones == 1 ? "" : "s");
	for (size_t k = 0; k < a->ndst_zones; k++)
		sb_addf(&x->desc, "%s%s", k ? ", " : "", a->dst_zones[k]);
	sb_addf(&x->desc, "%s, between %s and %s.", a->more_dst_zones ? ", ..." : "",
		ts_ms(a->first_ns, x->t1), ts_ms(a->last_ns, x->t2));
}

/* The alert's indicator, observed-data and sighting (SDOs), created by ident. */
static void alert_sdos(struct ww_jw *w, struct stix_alert *x, const char *now, char (*ident)[80])
{
	const struct ww_alert *a = x->a;
	char name[256];

	common(w, "indicator", x->ind, now, *ident);
	ww_jw_strs(w, "indicator_types", (const char *[]){"anomalous-activity"}, 1);
	snprintf(name, sizeof(name), "%s from %s: %s", ww_detector_name(a->det), a->src_zone,
		 x->src);
	ww_jw_str(w, "name", name);
	ww_jw_str(w, "description", sb_str(&x->desc));
	ww_jw_str(w, "pattern", sb_str(&x->pat));
	ww_jw_str(w, "pattern_type", "stix");
	ww_jw_str(w, "pattern_version", "2.1");
	ww_jw_str(w, "valid_from", x->t1);
	ww_jw_strs(w, "labels", (const char *[]){ww_detector_name(a->det)}, 1);
	ww_jw_end_obj(w);

	common(w, "observed-data", x->obs, now, *ident);
	ww_jw_str(w, "first_observed", x->t1);
	ww_jw_str(w, "last_observed", x->t2);
	ww_jw_u64(w, "number_observed",
		  a->count < 1		 ? 1
		  : a->count > 999999999 ? 999999999
					 : a->count);
	ref_list(w, "object_refs", x->refs, x->nrefs);
	ww_jw_end_obj(w);

	common(w, "sighting", x->sig, now, *ident);
	ww_jw_str(w, "first_seen", x->t1);
	ww_jw_str(w, "last_seen", x->t2);
	ww_jw_u64(w, "count", a->count > 999999999 ? 999999999 : a->count);
	ww_jw_str(w, "sighting_of_ref", x->ind);
	ref_list(w, "observed_data_refs", &x->obs, 1);
	ref_list(w, "where_sighted_refs", ident, 1);
	ww_jw_end_obj(w);
}

/* An address SCO, unless the bundle has it already. */
static void addr_sco(struct ww_jw *w, struct strset *seen, const char *atype, const char *id,
		     const char *value)
{
	if (strset_add(seen, id) <= 0)
		return;
	ww_jw_obj(w, NULL);
	ww_jw_str(w, "type", atype);
	ww_jw_str(w, "spec_version", "2.1");
	ww_jw_str(w, "id", id);
	ww_jw_str(w, "value", value);
	ww_jw_end_obj(w);
}

/* The observables (SCOs: no created/modified), each once in the bundle: alerts share
 * addresses, and an SCO's id is the same wherever it appears. */
static void alert_scos(struct ww_jw *w, struct strset *seen, const struct stix_alert *x)
{
	char proto[8];
	int port;

	addr_sco(w, seen, x->atype, x->src_id, x->src);
	if (strcmp(x->dst, x->src))
		addr_sco(w, seen, x->atype, x->dst_id, x->dst);
	for (size_t k = 0; k < x->nnt; k++) {
		if (strset_add(seen, x->nt[k]) <= 0)
			continue;
		service(x->a->services[k], proto, &port);
		ww_jw_obj(w, NULL);
		ww_jw_str(w, "type", "network-traffic");
		ww_jw_str(w, "spec_version", "2.1");
		ww_jw_str(w, "id", x->nt[k]);
		ww_jw_str(w, "src_ref", x->src_id);
		if (port >= 0)
			ww_jw_u64(w, "dst_port", (uint64_t)port);
		ww_jw_strs(w, "protocols", (const char *[]){proto}, 1);
		ww_jw_end_obj(w);
	}
}

int ww_stix_bundle(const struct ww_alert *alerts, size_t n, const struct ww_stix_opts *o,
		   struct strbuf *out)
{
	struct ww_jw w = {.out = out};
	struct strset seen = {0};
	char bundle[80], ident[80], now[WW_TIME_MS_STRLEN];
	int e;

	if ((e = sdo_id("bundle", bundle)) || (e = sdo_id("identity", ident)))
		return e;
	ts_ms(o->now * 1000000000LL, now);
	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "type", "bundle");
	ww_jw_str(&w, "id", bundle);
	ww_jw_arr(&w, "objects");
	common(&w, "identity", ident, now, NULL);
	ww_jw_str(&w, "name", o->identity);
	ww_jw_str(&w, "identity_class", "organization");
	const char *sectors[] = {"healthcare"};
	ww_jw_strs(&w, "sectors", sectors, 1);
	ww_jw_end_obj(&w);

	for (size_t i = 0; i < n; i++) {
		struct stix_alert x = {.a = &alerts[i],
				       .atype = alerts[i].family == 6 ? "ipv6-addr" : "ipv4-addr"};
		if ((e = alert_ids(&x))) {
			strset_free(&seen);
			return e;
		}
		alert_traffic(&x);
		alert_desc(&x);
		alert_sdos(&w, &x, now, &ident);
		alert_scos(&w, &seen, &x);
		sb_free(&x.pat);
		sb_free(&x.desc);
	}
	ww_jw_end_arr(&w);
	ww_jw_end_obj(&w);
	strset_free(&seen);
	return out->oom ? -ENOMEM : 0;
}

static void csv_field(struct strbuf *o, const char *s, bool last)
{
	bool q = strpbrk(s, ",\"\r\n") != NULL;

	if (q)
		sb_add(o, "\"");
	for (; *s; s++)
		sb_add(o, *s == '"' ? "\"\"" : (char[2]){*s, 0});
	if (q)
		sb_add(o, "\"");
	sb_add(o, last ? "\r\n" : ",");
}

void ww_indicators_csv(const struct ww_alert *alerts, size_t n, struct strbuf *o)
{
	sb_add(o, "first_seen,last_seen,detector,src,src_zone,dst,dst_zones,services,count,targets"
		  "\r\n");
	for (size_t i = 0; i < n; i++) {
		const struct ww_alert *a = &alerts[i];
		char src[WW_ALERT_ADDR_STRLEN], dst[WW_ALERT_ADDR_STRLEN];
		char t[WW_TIME_MS_STRLEN], num[32];
		struct strbuf l = {0};
		ww_alert_addrs(a, src, dst);
		csv_field(o, ts_ms(a->first_ns, t), false);
		csv_field(o, ts_ms(a->last_ns, t), false);
		csv_field(o, ww_detector_name(a->det), false);
		csv_field(o, src, false);
		csv_field(o, a->src_zone, false);
		csv_field(o, dst, false);
		for (size_t k = 0; k < a->ndst_zones; k++)
			sb_addf(&l, "%s%s", k ? " " : "", a->dst_zones[k]);
		csv_field(o, sb_str(&l), false);
		sb_reset(&l);
		for (size_t k = 0; k < a->nservices; k++)
			sb_addf(&l, "%s%s", k ? " " : "", a->services[k]);
		csv_field(o, sb_str(&l), false);
		snprintf(num, sizeof(num), "%llu", (unsigned long long)a->count);
		csv_field(o, num, false);
		snprintf(num, sizeof(num), "%u", a->targets);
		csv_field(o, num, true);
		sb_free(&l);
	}
}
