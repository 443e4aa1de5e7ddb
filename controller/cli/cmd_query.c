// SPDX-License-Identifier: GPL-2.0-only
/* wardwall query: what the policy decides for one new connection, and which flow decides it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "cli.h"
#include "eval.h"
#include "json.h"
#include "policy.h"
#include "timeutil.h"

/* "tcp/443", "icmp/8", "icmpv6", "gre", "47". */
static int parse_proto_key(const char *s, int *proto, int *key)
{
	char name[16];
	const char *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	unsigned int lo, hi;

	if (n == 0 || n >= sizeof(name))
		return -EINVAL;
	memcpy(name, s, n);
	name[n] = '\0';
	if (ww_proto_parse(name, proto) || *proto == WW_PROTO_ANY)
		return -EINVAL;
	*key = -1;
	if (!slash)
		return ww_proto_has_ports(*proto) ? -ENOENT : 0;
	if (!ww_proto_key_max(*proto) || ww_range_parse(slash + 1, ww_proto_key_max(*proto), &lo, &hi) ||
	    lo != hi)
		return -EINVAL;
	*key = (int)lo;
	return 0;
}

static void class_text(const struct ww_class *c, struct strbuf *out)
{
	char buf[WW_PREFIX_STRLEN];

	if (!c->zone)
		sb_add(out, "no zone");
	else if (c->host)
		sb_addf(out, "host %s/%s", c->zone->name, c->host->name);
	else
		sb_addf(out, "zone %s", c->zone->name);
	if (c->net)
		sb_addf(out, " (%s, %s)", ww_prefix_str(&c->net->pfx, false, buf), c->net->ptr);
}

static void class_json(struct ww_jw *w, const char *key, const struct ww_class *c)
{
	char buf[WW_PREFIX_STRLEN];

	ww_jw_obj(w, key);
	ww_jw_str(w, "zone", c->zone ? c->zone->name : NULL);
	ww_jw_str(w, "host", c->host ? c->host->name : NULL);
	if (c->net) {
		ww_jw_str(w, "network", ww_prefix_str(&c->net->pfx, false, buf));
		ww_jw_str(w, "pointer", c->net->ptr);
	}
	ww_jw_end_obj(w);
}

static const char *default_name(const struct ww_verdict *v)
{
	return v->within_zone ? "within_zone" : "between_zones";
}

/* The connection asked about: addresses, protocol and key (port or ICMP type) from the
 * positionals SRC DST PROTO[/PORT]. Says what is wrong; returns 0 or WW_EXIT_USAGE. */
static int packet_parse(char **pos, struct ww_packet *pkt)
{
	int err;

	if (ww_addr_parse(pos[0], &pkt->src) || ww_addr_parse(pos[1], &pkt->dst)) {
		ww_errorf("query: \"%s\" is not an IP address",
			  ww_addr_parse(pos[0], &pkt->src) ? pos[0] : pos[1]);
		return WW_EXIT_USAGE;
	}
	if (pkt->src.family != pkt->dst.family) {
		ww_errorf("query: %s and %s are not of the same address family", pos[0], pos[1]);
		return WW_EXIT_USAGE;
	}
	err = parse_proto_key(pos[2], &pkt->proto, &pkt->key);
	if (err == -ENOENT) {
		ww_errorf("query: \"%s\" needs a port, e.g. %s/443", pos[2], pos[2]);
		return WW_EXIT_USAGE;
	}
	if (err) {
		ww_errorf("query: \"%s\" is not PROTO[/PORT], e.g. tcp/443, udp/53, icmp/8, gre",
			  pos[2]);
		return WW_EXIT_USAGE;
	}
	if ((pkt->proto == WW_PROTO_ICMP && pkt->src.family != WW_INET) ||
	    (pkt->proto == WW_PROTO_ICMPV6 && pkt->src.family != WW_INET6)) {
		ww_errorf("query: %s does not go with %s addresses", pos[2],
			  pkt->src.family == WW_INET ? "IPv4" : "IPv6");
		return WW_EXIT_USAGE;
	}
	return 0;
}

static void print_json(const struct ww_packet *pkt, const struct ww_verdict *v,
		       struct strbuf *out)
{
	struct ww_jw w = {.out = out, .compact = true};
	char a1[WW_PREFIX_STRLEN], a2[WW_PREFIX_STRLEN], tb[WW_TIME_STRLEN];

	ww_addr_str(&pkt->src, a1);
	ww_addr_str(&pkt->dst, a2);
	ww_jw_obj(&w, NULL);
	ww_jw_str(&w, "verdict", ww_verdict_str(v->kind));
	ww_jw_str(&w, "src", a1);
	ww_jw_str(&w, "dst", a2);
	ww_jw_i64(&w, "proto", pkt->proto);
	if (pkt->key >= 0)
		ww_jw_i64(&w, ww_proto_has_ports(pkt->proto) ? "port" : "type", pkt->key);
	ww_jw_str(&w, "at", ww_time_str(pkt->at, tb));
	class_json(&w, "from", &v->src);
	class_json(&w, "to", &v->dst);
	ww_jw_str(&w, "flow", v->flow ? v->flow->id : NULL);
	if (v->flow)
		ww_jw_str(&w, "pointer", v->flow->ptr);
	ww_jw_str(&w, "default", v->flow ? NULL : default_name(v));
	ww_jw_str(&w, "monitor_flow", v->monitor ? v->monitor->id : NULL);
	ww_jw_end_obj(&w);
}

static void print_text(const struct ww_policy *p, const struct ww_packet *pkt,
		       const struct ww_verdict *v, struct strbuf *out)
{
	char a1[WW_PREFIX_STRLEN], a2[WW_PREFIX_STRLEN], kb[32];

	ww_addr_str(&pkt->src, a1);
	ww_addr_str(&pkt->dst, a2);
	ww_key_str(pkt->proto, pkt->key < 0 ? 0 : (unsigned)pkt->key,
		   pkt->key < 0 ? ww_proto_key_max(pkt->proto) : (unsigned)pkt->key, kb);
	sb_addf(out, "%s %s -> %s %s\n  from: ", ww_verdict_str(v->kind), a1, a2, kb);
	class_text(&v->src, out);
	sb_add(out, "\n  to:   ");
	class_text(&v->dst, out);
	if (v->flow) {
		sb_addf(out, "\n  by:   flow \"%s\" (%s, %s)\n", v->flow->id, v->flow->ptr,
			ww_flow_action_str(v->flow));
	} else {
		enum ww_action a = v->within_zone ? p->defaults.within_zone
						  : p->defaults.between_zones;
		sb_addf(out, "\n  by:   default %s (%s%s)\n", default_name(v), ww_action_str(a),
			v->kind == WW_V_MONITOR && a == WW_DENY ? ", zone in monitor mode" : "");
	}
	if (v->monitor)
		sb_addf(out, "  monitor: flow \"%s\" (%s) would deny it; it only counts and "
			     "logs in monitor mode\n",
			v->monitor->id, v->monitor->ptr);
}

struct query_args {
	bool json;
	const char *at;
};

static const struct ww_opt query_opts[] = {
	WW_FLAG("--json", struct query_args, json),
	WW_STR("--at", struct query_args, at, "TIME"),
	WW_OPT_END,
};

static int cmd_query(int argc, char **argv)
{
	struct query_args a = {0};
	char *pos[4];
	int npos, err, rc = WW_EXIT_USAGE;
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	struct ww_packet pkt = {.at = ww_now()};
	struct ww_verdict v;
	struct strbuf out = {0};

	if (ww_opts_parse(query_opts, argc, argv, &a, pos, 4, &npos) || npos != 4)
		return ww_usage(&ww_cmd_query);
	if (a.at && ww_time_arg("--at", a.at, &pkt.at))
		return WW_EXIT_USAGE;
	if (packet_parse(pos + 1, &pkt))
		return WW_EXIT_USAGE;
	d.file = pos[0];
	err = ww_policy_load(pos[0], &d, &p);
	if (err) {
		if (err == -EINVAL) {
			ww_diags_print(&d, &out);
			fputs(sb_str(&out), stderr);
			ww_errorf("%s: invalid policy (see 'wardwall check')", pos[0]);
			rc = WW_EXIT_INVALID;
		} else {
			ww_errorf("%s: %s", pos[0], strerror(-err));
		}
		goto out;
	}
	ww_evaluate(p, &pkt, &v);
	if (a.json)
		print_json(&pkt, &v, &out);
	else
		print_text(p, &pkt, &v, &out);
	fputs(sb_str(&out), stdout);
	rc = WW_EXIT_OK;
out:
	sb_free(&out);
	ww_policy_free(p);
	ww_diags_free(&d);
	return rc;
}

const struct ww_cmd ww_cmd_query = {
	"query", cmd_query, "what the policy decides for one connection, and why",
	query_opts, "POLICY SRC DST PROTO[/PORT]", NULL,
};
