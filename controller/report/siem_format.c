// SPDX-License-Identifier: GPL-2.0-only
/*
 * Records as SIEM messages (siem.h). Every format is made from the record's JSON line, the one
 * form serve records and `alerts --json` prints, so a field has one name and one spelling
 * everywhere; the text line only becomes the human-readable MSG.
 */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "evlog.h"
#include "siem.h"

#ifndef WW_VERSION
#define WW_VERSION "0"
#endif

void ww_siem_origin_init(struct ww_siem_origin *o)
{
	char h[256] = "";
	size_t n = 0;

	/* HOSTNAME is 1*255 PRINTUSASCII (RFC 5424 6.2.4). */
	if (gethostname(h, sizeof(h) - 1))
		h[0] = '\0';
	for (const char *q = h; *q && n < sizeof(o->hostname) - 1; q++)
		if (*q > 32 && *q < 127)
			o->hostname[n++] = *q;
	if (!n)
		o->hostname[n++] = '-';
	o->hostname[n] = '\0';
	o->pid = (int)getpid();
}

void ww_sd_escape(struct strbuf *out, const char *s)
{
	/* RFC 5424 6.3.3: '"', '\' and ']' MUST be escaped in a PARAM-VALUE. */
	for (; *s; s++) {
		if (*s == '"' || *s == '\\' || *s == ']')
			sb_addn(out, "\\", 1);
		sb_addn(out, s, 1);
	}
}

void ww_cef_header_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|' || *s == '\\')
			sb_addn(out, "\\", 1);
		if (*s == '\n' || *s == '\r')
			sb_addn(out, " ", 1);
		else
			sb_addn(out, s, 1);
	}
}

void ww_cef_value_escape(struct strbuf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			sb_add(out, "\\n");
		else if (*s == '\r')
			sb_add(out, "\\r");
		else {
			if (*s == '=' || *s == '\\')
				sb_addn(out, "\\", 1);
			sb_addn(out, s, 1);
		}
	}
}

/* A member's value as one string: arrays joined with ',', objects as "key:value,...". */
static bool value_str(const cJSON *m, struct strbuf *v)
{
	if (cJSON_IsString(m)) {
		sb_add(v, m->valuestring);
	} else if (cJSON_IsNumber(m)) {
		if (m->valuedouble == (double)(long long)m->valuedouble)
			sb_addf(v, "%lld", (long long)m->valuedouble);
		else
			sb_addf(v, "%g", m->valuedouble);
	} else if (cJSON_IsBool(m)) {
		sb_add(v, cJSON_IsTrue(m) ? "true" : "false");
	} else if (cJSON_IsArray(m) || cJSON_IsObject(m)) {
		bool first = true;
		for (const cJSON *x = m->child; x; x = x->next) {
			if (cJSON_IsNull(x))
				continue;
			sb_add(v, first ? "" : ",");
			if (cJSON_IsObject(m))
				sb_addf(v, "%s:", x->string);
			value_str(x, v);
			first = false;
		}
	} else {
		return false; /* null: absent */
	}
	return true;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(m) ? m->valuestring : NULL;
}

static bool param_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n > 32)
		return false;
	for (; *s; s++)
		if (*s < 33 || *s > 126 || *s == '=' || *s == ']' || *s == '"')
			return false;
	return true;
}

/* RFC 5424 severities (6.2.1, table 2) and CEF's 0-10. */
static void severity(const cJSON *o, const char *type, int *sys, int *cef)
{
	const char *v = str(o, "verdict"), *det = str(o, "detector");

	*sys = 6, *cef = 1;
	if (!strcmp(type, "event")) {
		if (v && !strcmp(v, "deny"))
			*sys = 4, *cef = 5;
		else if (v && !strcmp(v, "monitor"))
			*sys = 5, *cef = 3;
	} else if (!strcmp(type, "dropped")) {
		*sys = 4, *cef = 5;
	} else if (det && !strcmp(det, "lateral")) {
		*sys = 2, *cef = 9;
	} else if (det && (!strcmp(det, "scan") || !strcmp(det, "flood"))) {
		*sys = 3, *cef = 7;
	} else {
		*sys = 5, *cef = 4; /* new_talker */
	}
}

/* A time of the record as RFC 3339 with milliseconds, as the JSON line writes it. */
static const char *stamp(const cJSON *o, const char *type)
{
	const char *t = str(o, strcmp(type, "alert") ? "time" : "last_seen");
	int64_t ns;

	return t && !ww_time_ms_parse(t, &ns) ? t : NULL;
}

static void header(const struct ww_siem_out *so, const struct ww_siem_origin *org, int sev,
		   const char *ts, const char *type, struct strbuf *out)
{
	sb_addf(out, "<%u>1 %s %s wardwall %d %s ", so->facility * 8 + (unsigned int)sev,
		ts ? ts : "-", org->hostname, org->pid, type);
}

static void add_msg(struct strbuf *out, const char *text)
{
	size_t n = strlen(text);
	bool ascii = true;

	while (n && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)text[i] >= 0x80)
			ascii = false;
	/* RFC 5424 6.4: a MSG in UTF-8 starts with the BOM; plain ASCII needs none. */
	if (!ascii)
		sb_add(out, "\xEF\xBB\xBF");
	for (size_t i = 0; i < n; i++)
		sb_addn(out, text[i] == '\n' || text[i] == '\r' ? " " : text + i, 1);
}

static void syslog_msg(const struct ww_siem_out *so, const struct ww_siem_origin *org,
		       const cJSON *o, const char *type, const char *text, struct strbuf *out)
{
	struct strbuf v = {0};
	int sev, cef;

	severity(o, type, &sev, &cef);
	header(so, org, sev, stamp(o, type), type, out);
	sb_addf(out, "[%s", so->sd_id);
	for (const cJSON *m = o->child; m; m = m->next) {
		if (!strcmp(m->string, "type") || !param_name_ok(m->string))
			continue;
		sb_reset(&v);
		if (!value_str(m, &v))
			continue;
		sb_addf(out, " %s=\"", m->string);
		ww_sd_escape(out, sb_str(&v));
		sb_add(out, "\"");
	}
	sb_add(out, "]");
	if (text && *text) {
		sb_add(out, " ");
		add_msg(out, text);
	}
	sb_free(&v);
}

/* ---- CEF ---- */

struct cef_map {
	const char *json;  /* member */
	const char *key;   /* CEF key */
	const char *label; /* for csN/cnN: its label */
	bool time;	   /* an RFC 3339 time: milliseconds since the epoch */
};

static const struct cef_map cef_event[] = {
    {"time", "rt", NULL, true},
    {"verdict", "act", NULL, false},
    {"proto", "proto", NULL, false},
    {"src", "src", NULL, false},
    {"sport", "spt", NULL, false},
    {"dst", "dst", NULL, false},
    {"dport", "dpt", NULL, false},
    {"in", "deviceInboundInterface", NULL, false},
    {"out", "deviceOutboundInterface", NULL, false},
    {"flow", "cs1", "flow", false},
    {"src_zone", "cs2", "srcZone", false},
    {"dst_zone", "cs3", "dstZone", false},
    {"src_host", "cs4", "srcHostGroup", false},
    {"dst_host", "cs5", "dstHostGroup", false},
    {"tier", "cs6", "tier", false},
    {"icmp_type", "cn1", "icmpType", false},
    {"icmp_code", "cn2", "icmpCode", false},
    {NULL, NULL, NULL, false},
};

static const struct cef_map cef_alert[] = {
    {"last_seen", "rt", NULL, true},
    {"first_seen", "start", NULL, true},
    {"last_seen", "end", NULL, true},
    {"src", "src", NULL, false},
    {"dst", "dst", NULL, false},
    {"count", "cnt", NULL, false},
    {"flows", "cs1", "flows", false},
    {"src_zone", "cs2", "srcZone", false},
    {"dst_zones", "cs3", "dstZones", false},
    {"services", "cs4", "services", false},
    {"action", "cs5", "suggestedAction", false},
    {"src_host", "cs6", "srcHostGroup", false},
    {"targets", "cn1", "targets", false},
    {NULL, NULL, NULL, false},
};

static const struct cef_map cef_dropped[] = {
    {"time", "rt", NULL, true},
    {"rate_limited", "cn1", "rateLimited", false},
    {"ring_full", "cn2", "ringFull", false},
    {"interval", "cn3", "intervalSeconds", false},
    {"tier", "cs6", "tier", false},
    {NULL, NULL, NULL, false},
};

static void cef_pair(struct strbuf *out, bool *first, const char *key, const char *v)
{
	sb_addf(out, "%s%s=", *first ? "" : " ", key);
	ww_cef_value_escape(out, v);
	*first = false;
}

static void cef_msg(const struct ww_siem_out *so, const struct ww_siem_origin *org, const cJSON *o,
		    const char *type, const char *text, struct strbuf *out)
{
	const struct cef_map *map = !strcmp(type, "event")   ? cef_event
				    : !strcmp(type, "alert") ? cef_alert
							     : cef_dropped;
	struct strbuf v = {0}, name = {0};
	const char *sub = !strcmp(type, "event")   ? str(o, "verdict")
			  : !strcmp(type, "alert") ? str(o, "detector")
						   : str(o, "tier");
	const char *zs = str(o, "src_zone"), *zd = str(o, "dst_zone");
	bool first = true;
	int sev, cef;

	severity(o, type, &sev, &cef);
	header(so, org, sev, stamp(o, type), type, out);
	sb_add(out, "- CEF:0|wardwall|wardwall|");
	ww_cef_header_escape(out, WW_VERSION);
	sb_add(out, "|");
	sb_addf(&v, "%s:%s", type, sub ? sub : "?");
	ww_cef_header_escape(out, sb_str(&v));
	if (!strcmp(type, "event"))
		sb_addf(&name, "%s %s %s -> %s", sub ? sub : "?",
			str(o, "proto") ? str(o, "proto") : "?", zs ? zs : "-", zd ? zd : "-");
	else if (!strcmp(type, "alert"))
		sb_addf(&name, "%s from %s", sub ? sub : "?", zs ? zs : "-");
	else
		sb_addf(&name, "decisions not logged by %s", sub ? sub : "?");
	sb_add(out, "|");
	ww_cef_header_escape(out, sb_str(&name));
	sb_addf(out, "|%d|", cef);
	for (const struct cef_map *m = map; m->json; m++) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, m->json);
		int64_t ns;
		sb_reset(&v);
		if (!x || !value_str(x, &v) || !v.len)
			continue;
		if (m->time) {
			if (ww_time_ms_parse(sb_str(&v), &ns))
				continue;
			sb_reset(&v);
			sb_addf(&v, "%lld", (long long)(ns / 1000000));
		}
		if (m->label) {
			char lk[24];
			snprintf(lk, sizeof(lk), "%sLabel", m->key);
			cef_pair(out, &first, lk, m->label);
		}
		cef_pair(out, &first, m->key, sb_str(&v));
	}
	if (!strcmp(type, "dropped")) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "rate_limited");
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "ring_full");
		sb_reset(&v);
		sb_addf(&v, "%.0f",
			(cJSON_IsNumber(a) ? a->valuedouble : 0) +
			    (cJSON_IsNumber(b) ? b->valuedouble : 0));
		cef_pair(out, &first, "cnt", sb_str(&v));
	}
	if (text && *text) {
		sb_reset(&v);
		add_msg(&v, text);
		cef_pair(out, &first, "msg", sb_str(&v));
	}
	sb_free(&v);
	sb_free(&name);
}

int ww_siem_format(const struct ww_siem_out *so, const struct ww_siem_origin *org, const char *json,
		   const char *text, struct strbuf *out)
{
	cJSON *o;
	const char *type;

	if (so->format == WW_SIEM_JSON) {
		size_t n = strlen(json);
		while (n && (json[n - 1] == '\n' || json[n - 1] == '\r'))
			n--;
		sb_addn(out, json, n);
		return 0;
	}
	o = cJSON_Parse(json);
	type = o ? str(o, "type") : NULL;
	if (!type || (strcmp(type, "event") && strcmp(type, "alert") && strcmp(type, "dropped"))) {
		cJSON_Delete(o);
		return -EINVAL;
	}
	if (so->format == WW_SIEM_CEF)
		cef_msg(so, org, o, type, text, out);
	else
		syslog_msg(so, org, o, type, text, out);
	cJSON_Delete(o);
	return 0;
}
