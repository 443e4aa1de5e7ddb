// SPDX-License-Identifier: GPL-2.0-only
/* wardwall query: what the policy decides for one new connection, and which flow decides it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyse.h"
#include "cli.h"
#include "eval.h"
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

static void class_json(const struct ww_class *c, struct strbuf *out)
{
	char buf[WW_PREFIX_STRLEN];

	sb_add(out, "{\"zone\": ");
	if (c->zone)
		sb_add_json_str(out, c->zone->name);
	else
		sb_add(out, "null");
	sb_add(out, ", \"host\": ");
	if (c->host)
		sb_add_json_str(out, c->host->name);
	else
		sb_add(out, "null");
	if (c->net) {
		sb_addf(out, ", \"network\": \"%s\", \"pointer\": ",
			ww_prefix_str(&c->net->pfx, false, buf));
		sb_add_json_str(out, c->net->ptr);
	}
	sb_add(out, "}");
}

static const char *default_name(const struct ww_verdict *v)
{
	return v->within_zone ? "within_zone" : "between_zones";
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
	char a1[WW_PREFIX_STRLEN], a2[WW_PREFIX_STRLEN], kb[32], tb[WW_TIME_STRLEN];

	if (ww_opts_parse(query_opts, argc, argv, &a, pos, 4, &npos) || npos != 4)
		return ww_usage(&ww_cmd_query);
	if (a.at && ww_time_arg("--at", a.at, &pkt.at))
		return WW_EXIT_USAGE;
	if (ww_addr_parse(pos[1], &pkt.src) || ww_addr_parse(pos[2], &pkt.dst)) {
		ww_errorf("query: \"%s\" is not an IP address",
			  ww_addr_parse(pos[1], &pkt.src) ? pos[1] : pos[2]);
		return WW_EXIT_USAGE;
	}
	if (pkt.src.family != pkt.dst.family) {
		ww_errorf("query: %s and %s are not of the same address family", pos[1], pos[2]);
		return WW_EXIT_USAGE;
	}
	err = parse_proto_key(pos[3], &pkt.proto, &pkt.key);
	if (err == -ENOENT) {
		ww_errorf("query: \"%s\" needs a port, e.g. %s/443", pos[3], pos[3]);
		return WW_EXIT_USAGE;
	}
	if (err) {
		ww_errorf("query: \"%s\" is not PROTO[/PORT], e.g. tcp/443, udp/53, icmp/8, gre",
			  pos[3]);
		return WW_EXIT_USAGE;
	}
	if ((pkt.proto == WW_PROTO_ICMP && pkt.src.family != WW_INET) ||
	    (pkt.proto == WW_PROTO_ICMPV6 && pkt.src.family != WW_INET6)) {
		ww_errorf("query: %s does not go with %s addresses", pos[3],
			  pkt.src.family == WW_INET ? "IPv4" : "IPv6");
		return WW_EXIT_USAGE;
	}
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
	ww_addr_str(&pkt.src, a1);
	ww_addr_str(&pkt.dst, a2);
	ww_key_str(pkt.proto, pkt.key < 0 ? 0 : (unsigned)pkt.key,
		   pkt.key < 0 ? ww_proto_key_max(pkt.proto) : (unsigned)pkt.key, kb);
	if (a.json) {
		sb_addf(&out, "{\"verdict\": \"%s\", \"src\": \"%s\", \"dst\": \"%s\", \"proto\": %d, ",
			ww_verdict_str(v.kind), a1, a2, pkt.proto);
		if (pkt.key >= 0)
			sb_addf(&out, "\"%s\": %d, ", ww_proto_has_ports(pkt.proto) ? "port" : "type",
				pkt.key);
		sb_addf(&out, "\"at\": \"%s\", \"from\": ", ww_time_str(pkt.at, tb));
		class_json(&v.src, &out);
		sb_add(&out, ", \"to\": ");
		class_json(&v.dst, &out);
		if (v.flow) {
			sb_add(&out, ", \"flow\": ");
			sb_add_json_str(&out, v.flow->id);
			sb_add(&out, ", \"pointer\": ");
			sb_add_json_str(&out, v.flow->ptr);
			sb_add(&out, ", \"default\": null");
		} else {
			sb_addf(&out, ", \"flow\": null, \"default\": \"%s\"", default_name(&v));
		}
		sb_add(&out, ", \"monitor_flow\": ");
		if (v.monitor)
			sb_add_json_str(&out, v.monitor->id);
		else
			sb_add(&out, "null");
		sb_add(&out, "}\n");
	} else {
		sb_addf(&out, "%s %s -> %s %s\n  from: ", ww_verdict_str(v.kind), a1, a2, kb);
		class_text(&v.src, &out);
		sb_add(&out, "\n  to:   ");
		class_text(&v.dst, &out);
		if (v.flow)
			sb_addf(&out, "\n  by:   flow \"%s\" (%s, %s)\n", v.flow->id, v.flow->ptr,
				ww_action_str(v.flow->action));
		else {
			enum ww_action a = v.within_zone ? p->defaults.within_zone
							 : p->defaults.between_zones;
			sb_addf(&out, "\n  by:   default %s (%s%s)\n", default_name(&v),
				ww_action_str(a),
				v.kind == WW_V_MONITOR && a == WW_DENY ? ", zone in monitor mode" : "");
		}
		if (v.monitor)
			sb_addf(&out, "  monitor: flow \"%s\" (%s) would deny it; it only counts and "
				      "logs in monitor mode\n",
				v.monitor->id, v.monitor->ptr);
	}
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
