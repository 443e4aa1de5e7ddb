// SPDX-License-Identifier: GPL-2.0-only
/*
 * "siem": the outputs `wardwall serve` sends events and alerts to. A target is written as one
 * string ("tls://siem.example:6514") so the command line (serve --siem) and the policy say it
 * the same way; this file reads both.
 */
#include "policy_siem.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const ww_siem_transport_names[] = {"unix", "udp", "tcp", "tls"};
const char *const ww_siem_format_names[] = {"syslog", "cef", "json"};

/* RFC 5424 section 6.2.1, table 1. */
static const char *const facilities[] = {
    "kern",   "user",	"mail",	    "daemon", "auth",	"syslog", "lpr",    "news",
    "uucp",   "cron",	"authpriv", "ftp",    "ntp",	"audit",  "alert",  "clock",
    "local0", "local1", "local2",   "local3", "local4", "local5", "local6", "local7"};

int ww_syslog_facility(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(facilities); i++)
		if (!strcmp(name, facilities[i]))
			return (int)i;
	return -1;
}

const char *ww_syslog_facility_name(unsigned int code)
{
	return code < ARRAY_SIZE(facilities) ? facilities[code] : "?";
}

void ww_siem_out_clear(struct ww_siem_out *o)
{
	free(o->to);
	free(o->host);
	free(o->port);
	free(o->path);
	free(o->ca);
	free(o->cert);
	free(o->key);
	memset(o, 0, sizeof(*o));
}

void ww_siem_cfg_clear(struct ww_siem_cfg *c)
{
	for (size_t i = 0; i < c->n; i++)
		ww_siem_out_clear(&c->v[i]);
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static bool port_ok(const char *s)
{
	char *end;
	long v;

	if (!*s || strlen(s) > 5)
		return false;
	for (const char *q = s; *q; q++)
		if (!isdigit((unsigned char)*q))
			return false;
	v = strtol(s, &end, 10);
	return v >= 1 && v <= 65535;
}

static bool host_ok(const char *s)
{
	if (!*s || strlen(s) > 253)
		return false;
	for (const char *q = s; *q; q++)
		if (!isalnum((unsigned char)*q) && *q != '.' && *q != '-' && *q != ':' && *q != '_')
			return false;
	return true;
}

int ww_siem_out_init(struct ww_siem_out *o, const char *to, char *why, size_t whylen)
{
	static const char *const schemes[] = {"unix:", "udp://", "tcp://", "tls://"};
	static const char *const ports[] = {NULL, "514", "514", "6514"};
	char host[256];
	const char *rest = NULL, *port = NULL;
	int t = -1;

	memset(o, 0, sizeof(*o));
	for (size_t i = 0; i < ARRAY_SIZE(schemes) && t < 0; i++)
		if (!strncmp(to, schemes[i], strlen(schemes[i]))) {
			t = (int)i;
			rest = to + strlen(schemes[i]);
		}
	if (t < 0) {
		snprintf(why, whylen,
			 "\"%s\" is not a target: write unix:PATH, udp://HOST[:PORT], "
			 "tcp://HOST[:PORT] or tls://HOST[:PORT]",
			 to);
		return -EINVAL;
	}
	o->transport = (enum ww_siem_transport)t;
	o->format = WW_SIEM_SYSLOG;
	o->events = o->alerts = true;
	o->facility = 16; /* local0 */
	snprintf(o->sd_id, sizeof(o->sd_id), "%s", WW_SIEM_SDID);
	o->queue = WW_SIEM_QUEUE;
	if (!(o->to = strdup(to)))
		goto oom;
	if (o->transport == WW_SIEM_UNIX) {
		if (rest[0] != '/' || strlen(rest) >= 108) {
			snprintf(why, whylen,
				 "\"%s\": the socket must be an absolute path shorter than 108 "
				 "characters",
				 to);
			goto inval;
		}
		if (!(o->path = strdup(rest)))
			goto oom;
		return 0;
	}
	/* HOST, HOST:PORT, [V6], [V6]:PORT */
	if (rest[0] == '[') {
		const char *close = strchr(rest, ']');
		if (!close || (size_t)(close - rest - 1) >= sizeof(host) ||
		    (close[1] && close[1] != ':')) {
			snprintf(why, whylen, "\"%s\": an IPv6 address is written [ADDRESS]:PORT",
				 to);
			goto inval;
		}
		memcpy(host, rest + 1, (size_t)(close - rest - 1));
		host[close - rest - 1] = '\0';
		port = close[1] ? close + 2 : NULL;
	} else {
		const char *colon = strchr(rest, ':');
		size_t n = colon ? (size_t)(colon - rest) : strlen(rest);
		if (colon && strchr(colon + 1, ':')) {
			snprintf(why, whylen,
				 "\"%s\": write an IPv6 address in brackets: [ADDRESS]:PORT", to);
			goto inval;
		}
		if (n >= sizeof(host))
			n = sizeof(host) - 1;
		memcpy(host, rest, n);
		host[n] = '\0';
		port = colon ? colon + 1 : NULL;
	}
	if (!host_ok(host)) {
		snprintf(why, whylen, "\"%s\": \"%s\" is not a host name or address", to, host);
		goto inval;
	}
	if (port && !port_ok(port)) {
		snprintf(why, whylen, "\"%s\": \"%s\" is not a port (1-65535)", to, port);
		goto inval;
	}
	if (!(o->host = strdup(host)) || !(o->port = strdup(port ? port : ports[t])))
		goto oom;
	return 0;
oom:
	ww_siem_out_clear(o);
	return -ENOMEM;
inval:
	ww_siem_out_clear(o);
	return -EINVAL;
}

/* ---- the policy section ---- */

struct sctx {
	struct ww_diags *d;
	bool *oom;
};

static char *kp(struct sctx *c, const char *base, const char *key)
{
	char *s = ww_ptr_key(base, key);

	if (!s)
		*c->oom = true;
	return s;
}

static bool sd_id_ok(const char *s)
{
	const char *at = strchr(s, '@');
	size_t n = strlen(s);

	/* RFC 5424 6.3.2: printable US-ASCII but '=', ' ', ']', '"'; NAME@ENTERPRISE-NUMBER. */
	if (n == 0 || n > 32 || !at || at == s || !at[1])
		return false;
	for (const char *q = s; *q; q++)
		if (*q < 33 || *q > 126 || *q == '=' || *q == ']' || *q == '"')
			return false;
	for (const char *q = at + 1; *q; q++)
		if (!isdigit((unsigned char)*q) && *q != '.')
			return false;
	return strchr(at + 1, '@') == NULL;
}

static char *opt_path(struct sctx *c, const cJSON *j, const char *base, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, key);
	char *mp, *v = NULL;

	if (!m)
		return NULL;
	mp = kp(c, base, key);
	if (!cJSON_IsString(m) || m->valuestring[0] != '/')
		ww_err(c->d, "wrong-type", mp, "expected an absolute path to a PEM file");
	else if (!(v = strdup(m->valuestring)))
		*c->oom = true;
	free(mp);
	return v;
}

static const char *const out_fields[] = {"to", "format", "send", "facility", "sd_id",
					 "ca", "cert",   "key",  "queue"};

static void unknown_fields(struct sctx *c, const cJSON *j, const char *base)
{
	for (const cJSON *m = j->child; m; m = m->next) {
		bool found = false;
		for (size_t i = 0; i < ARRAY_SIZE(out_fields) && !found; i++)
			found = !strcmp(m->string, out_fields[i]);
		if (!found) {
			char *mp = kp(c, base, m->string);
			ww_diag_add(c->d, WW_ERROR, "unknown-field", mp,
				    suggest(m->string, out_fields, ARRAY_SIZE(out_fields)),
				    "unknown field \"%s\"", m->string);
			free(mp);
		}
	}
}

/* "to", which the rest depends on: o->to stays NULL if it is missing or wrong. */
static void out_to(struct sctx *c, const cJSON *j, const char *base, struct ww_siem_out *o)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "to");
	char why[256], *mp = kp(c, base, "to");
	int e;

	if (!m)
		ww_err(c->d, "missing-field", base,
		       "missing \"to\": where to send, such as \"tls://siem.example:6514\"");
	else if (!cJSON_IsString(m))
		ww_err(c->d, "wrong-type", mp, "expected a target string");
	else if ((e = ww_siem_out_init(o, m->valuestring, why, sizeof(why))) == -ENOMEM)
		*c->oom = true;
	else if (e)
		ww_err(c->d, "invalid-target", mp, "%s", why);
	free(mp);
}

/* One optional member m of an output, at JSON pointer mp, into o. */
typedef void out_field_fn(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o);

static void out_format(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o)
{
	int f = -1;

	for (size_t i = 0; cJSON_IsString(m) && i < 3; i++)
		if (!strcmp(m->valuestring, ww_siem_format_names[i]))
			f = (int)i;
	if (f < 0)
		ww_err(c->d, "invalid-value", mp,
		       "expected \"syslog\" (RFC 5424), \"cef\" or \"json\" (JSON lines)");
	else
		o->format = (enum ww_siem_format)f;
}

static void out_send(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o)
{
	const cJSON *x, *arr = cJSON_IsArray(m) ? m : NULL;

	o->events = o->alerts = false;
	if (!arr || !m->child)
		ww_err(c->d, "wrong-type", mp,
		       "expected a non-empty array of \"alerts\" and \"events\"");
	cJSON_ArrayForEach(x, arr)
	{
		bool *b = !cJSON_IsString(x)		      ? NULL
			  : !strcmp(x->valuestring, "alerts") ? &o->alerts
			  : !strcmp(x->valuestring, "events") ? &o->events
							      : NULL;
		if (!b || *b)
			ww_err(c->d, "invalid-value", mp,
			       b ? "\"%s\" is listed twice"
				 : "expected \"alerts\" or \"events\", not %s",
			       cJSON_IsString(x) ? x->valuestring : "a non-string");
		else
			*b = true;
	}
}

static void out_facility(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o)
{
	int f = cJSON_IsString(m) ? ww_syslog_facility(m->valuestring) : -1;

	if (f < 0)
		ww_diag_add(c->d, WW_ERROR, "invalid-value", mp,
			    cJSON_IsString(m)
				? suggest(m->valuestring, facilities, ARRAY_SIZE(facilities))
				: NULL,
			    "expected a syslog facility name such as \"local0\" or \"authpriv\"");
	else
		o->facility = (unsigned int)f;
}

static void out_sd_id(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o)
{
	if (!cJSON_IsString(m) || !sd_id_ok(m->valuestring))
		ww_err(c->d, "invalid-value", mp,
		       "expected an RFC 5424 SD-ID NAME@ENTERPRISE-NUMBER, at most 32 "
		       "printable characters, no '=', ']' or '\"'");
	else
		snprintf(o->sd_id, sizeof(o->sd_id), "%s", m->valuestring);
}

static void out_queue(struct sctx *c, const cJSON *m, const char *mp, struct ww_siem_out *o)
{
	if (!cJSON_IsNumber(m) || m->valuedouble != (double)(long)m->valuedouble ||
	    m->valuedouble < 1 || m->valuedouble > WW_SIEM_QUEUE_MAX)
		ww_err(c->d, "invalid-value", mp, "expected an integer from 1 to %d",
		       WW_SIEM_QUEUE_MAX);
	else
		o->queue = (uint32_t)m->valuedouble;
}

static void out_field(struct sctx *c, const cJSON *j, const char *base, const char *key,
		      out_field_fn *fn, struct ww_siem_out *o)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, key);
	char *mp;

	if (!m)
		return;
	mp = kp(c, base, key);
	fn(c, m, mp, o);
	free(mp);
}

/* "ca", "cert" and "key": for a tls:// target, a client certificate with its key. */
static void out_tls(struct sctx *c, const cJSON *j, const char *base, struct ww_siem_out *o)
{
	o->ca = opt_path(c, j, base, "ca");
	o->cert = opt_path(c, j, base, "cert");
	o->key = opt_path(c, j, base, "key");
	if ((o->ca || o->cert || o->key) && o->transport != WW_SIEM_TLS)
		ww_err(c->d, "invalid-value", base,
		       "\"ca\", \"cert\" and \"key\" are for a tls:// target only");
	if (!o->cert != !o->key)
		ww_err(c->d, "missing-field", base,
		       "a client certificate needs both \"cert\" and \"key\"");
}

static void parse_out(struct sctx *c, const cJSON *j, const char *base, struct ww_siem_out *o,
		      bool *ok)
{
	*ok = false;
	if (!cJSON_IsObject(j)) {
		ww_err(c->d, "wrong-type", base, "expected an output object with \"to\"");
		return;
	}
	unknown_fields(c, j, base);
	out_to(c, j, base, o);
	if (!o->to)
		return;
	out_field(c, j, base, "format", out_format, o);
	out_field(c, j, base, "send", out_send, o);
	out_field(c, j, base, "facility", out_facility, o);
	out_field(c, j, base, "sd_id", out_sd_id, o);
	out_tls(c, j, base, o);
	out_field(c, j, base, "queue", out_queue, o);
	*ok = true;
}

void ww_siem_parse(struct ww_policy *p, const cJSON *root, struct ww_diags *d, bool *oom)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, "siem");
	struct sctx c = {.d = d, .oom = oom};
	size_t n = 0, i = 0;

	if (!j)
		return;
	if (!cJSON_IsArray(j)) {
		ww_err(d, "wrong-type", "/siem", "expected an array of outputs");
		return;
	}
	n = (size_t)cJSON_GetArraySize(j);
	if (n > WW_SIEM_OUTPUTS) {
		ww_err(d, "too-many", "/siem", "%zu outputs: at most %d", n, WW_SIEM_OUTPUTS);
		return;
	}
	if (!n)
		return;
	if (!(p->siem.v = calloc(n, sizeof(*p->siem.v)))) {
		*oom = true;
		return;
	}
	for (const cJSON *x = j->child; x; x = x->next, i++) {
		char *xp = ww_ptr_idx("/siem", i);
		bool ok;
		if (!xp) {
			*oom = true;
			return;
		}
		parse_out(&c, x, xp, &p->siem.v[p->siem.n], &ok);
		if (ok)
			p->siem.n++;
		else
			ww_siem_out_clear(&p->siem.v[p->siem.n]);
		free(xp);
	}
}

static void add_path(struct strbuf *out, const char *key, const char *v)
{
	if (!v)
		return;
	sb_addf(out, ", \"%s\": ", key);
	sb_add_json_str(out, v);
}

void ww_siem_out_print(const struct ww_siem_out *o, struct strbuf *out)
{
	sb_add(out, "{\"to\": ");
	sb_add_json_str(out, o->to);
	sb_addf(out, ", \"format\": \"%s\", \"send\": [%s%s%s], \"facility\": \"%s\", \"sd_id\": ",
		ww_siem_format_names[o->format], o->alerts ? "\"alerts\"" : "",
		o->alerts && o->events ? ", " : "", o->events ? "\"events\"" : "",
		ww_syslog_facility_name(o->facility));
	sb_add_json_str(out, o->sd_id);
	add_path(out, "ca", o->ca);
	add_path(out, "cert", o->cert);
	add_path(out, "key", o->key);
	sb_addf(out, ", \"queue\": %u}", o->queue);
}

void ww_siem_print(const struct ww_policy *p, struct strbuf *out)
{
	if (!p->siem.n)
		return;
	sb_add(out, ",\n  \"siem\": [");
	for (size_t i = 0; i < p->siem.n; i++) {
		sb_add(out, i ? ",\n    " : "\n    ");
		ww_siem_out_print(&p->siem.v[i], out);
	}
	sb_add(out, "\n  ]");
}
