// SPDX-License-Identifier: GPL-2.0-only
/*
 * Model -> canonical JSON. One line per zone, service, flow and invariant, so that diffs of
 * canonical policies read like change logs.
 */
#include "policy.h"
#include "policy_siem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classmark.h"
#include "timeutil.h"

static int term_cmp(const void *a, const void *b)
{
	const struct ww_term *x = a, *y = b;

	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return (int)x->hi - (int)y->hi;
}

long ww_service_normalize(const struct ww_service *s, struct ww_term **out)
{
	struct ww_term *v;
	size_t n = 0;

	*out = NULL;
	if (!s->nterms)
		return 0;
	v = malloc(s->nterms * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < s->nterms; i++) {
		if (s->terms[i].proto == WW_PROTO_ANY) {
			v[0] = (struct ww_term){.proto = WW_PROTO_ANY};
			*out = v;
			return 1;
		}
		v[i] = s->terms[i];
		v[i].ptr = NULL;
	}
	qsort(v, s->nterms, sizeof(*v), term_cmp);
	for (size_t i = 0; i < s->nterms; i++) {
		if (n > 0 && v[n - 1].proto == v[i].proto && (unsigned)v[i].lo <= (unsigned)v[n - 1].hi + 1) {
			if (v[i].hi > v[n - 1].hi)
				v[n - 1].hi = v[i].hi;
			continue;
		}
		v[n++] = v[i];
	}
	*out = v;
	return (long)n;
}

static void print_terms(const struct ww_service *s, struct strbuf *out)
{
	struct ww_term *v;
	long n = ww_service_normalize(s, &v);
	char pb[8];

	if (n < 0) {
		out->oom = true;
		return;
	}
	sb_add(out, "[");
	for (long i = 0; i < n;) {
		int proto = v[i].proto;
		unsigned int max = ww_proto_key_max(proto);
		sb_addf(out, "%s{\"proto\": \"%s\"", i ? ", " : "", ww_proto_str(proto, pb));
		if (max && !(v[i].lo == 0 && v[i].hi == max)) {
			sb_addf(out, ", \"%s\": [", ww_proto_has_ports(proto) ? "ports" : "types");
			for (long k = i; k < n && v[k].proto == proto; k++) {
				if (k > i)
					sb_add(out, ", ");
				if (v[k].lo == v[k].hi)
					sb_addf(out, "%u", v[k].lo);
				else
					sb_addf(out, "\"%u-%u\"", v[k].lo, v[k].hi);
			}
			sb_add(out, "]");
		}
		sb_add(out, "}");
		while (i < n && v[i].proto == proto)
			i++;
	}
	sb_add(out, "]");
	free(v);
}

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_eplist(const struct ww_policy *p, const struct ww_eplist *l, struct strbuf *out)
{
	char **names;
	char buf[WW_EP_STRLEN];

	if (l->all) {
		sb_add(out, "\"*\"");
		return;
	}
	if (l->n == 1) { /* most flows: one name, nothing to sort */
		sb_addn(out, "\"", 1);
		sb_add_json_body(out, l->v[0].zone->name);
		if (l->v[0].host) {
			sb_addn(out, "/", 1);
			sb_add_json_body(out, l->v[0].host->name);
		}
		sb_addn(out, "\"", 1);
		return;
	}
	names = malloc((l->n ? l->n : 1) * sizeof(*names));
	if (!names) {
		out->oom = true;
		return;
	}
	for (size_t i = 0; i < l->n; i++) {
		/* By name, not id: flows of two policies can be printed side by side (plan). */
		if (l->v[i].host)
			snprintf(buf, sizeof(buf), "%s/%s", l->v[i].zone->name, l->v[i].host->name);
		else
			snprintf(buf, sizeof(buf), "%s", l->v[i].zone->name);
		names[i] = strdup(buf);
		if (!names[i])
			out->oom = true;
	}
	if (!out->oom)
		qsort(names, l->n, sizeof(*names), str_cmp);
	if (l->n != 1)
		sb_add(out, "[");
	for (size_t i = 0; i < l->n; i++) {
		if (i)
			sb_add(out, ", ");
		sb_add_json_str(out, names[i] ? names[i] : "");
		free(names[i]);
	}
	if (l->n != 1)
		sb_add(out, "]");
	free(names);
}

static int net_cmp(const void *a, const void *b)
{
	return ww_prefix_cmp(&((const struct ww_net *)a)->pfx, &((const struct ww_net *)b)->pfx);
}

static void print_nets(const struct ww_net *nets, size_t n, bool bare, struct strbuf *out)
{
	struct ww_net *v = malloc((n ? n : 1) * sizeof(*v));
	char buf[WW_PREFIX_STRLEN];

	if (!v) {
		out->oom = true;
		return;
	}
	memcpy(v, nets, n * sizeof(*v));
	qsort(v, n, sizeof(*v), net_cmp);
	sb_add(out, "[");
	for (size_t i = 0; i < n; i++)
		sb_addf(out, "%s\"%s\"", i ? ", " : "", ww_prefix_str(&v[i].pfx, bare, buf));
	sb_add(out, "]");
	free(v);
}

/* Set names first, alphabetically, then prefixes in address order. */
static int spec_cmp(const void *a, const void *b)
{
	const char *x = *(const char *const *)a, *y = *(const char *const *)b;
	struct ww_prefix px, py, canon;
	const char *why;
	bool nx = ww_prefix_parse(x, true, &px, &why, &canon) != 0;
	bool ny = ww_prefix_parse(y, true, &py, &why, &canon) != 0;

	if (nx || ny)
		return nx && ny ? strcmp(x, y) : nx ? -1 : 1;
	return ww_prefix_cmp(&px, &py);
}

static void print_spec(char *const *texts, size_t n, struct strbuf *out)
{
	const char **v = malloc((n ? n : 1) * sizeof(*v));

	if (!v) {
		out->oom = true;
		return;
	}
	memcpy(v, texts, n * sizeof(*v));
	qsort(v, n, sizeof(*v), spec_cmp);
	sb_add(out, "[");
	for (size_t i = 0; i < n; i++) {
		sb_add(out, i ? ", " : "");
		sb_add_json_str(out, v[i]);
	}
	sb_add(out, "]");
	free(v);
}

static void print_zone(const struct ww_zone *z, struct strbuf *out)
{
	sb_add(out, "{");
	if (z->description) {
		sb_add(out, "\"description\": ");
		sb_add_json_str(out, z->description);
		sb_add(out, ", ");
	}
	if (z->crit)
		sb_addf(out, "\"criticality\": \"%s\", ", ww_crit_str(z->crit));
	if (z->mode == WW_MONITOR)
		sb_add(out, "\"mode\": \"monitor\", ");
	if (z->untrusted)
		sb_add(out, "\"untrusted\": true, ");
	sb_add(out, "\"networks\": ");
	if (z->nspec_nets) {
		print_spec(z->spec_nets, z->nspec_nets, out);
		if (z->nspec_except) {
			sb_add(out, ", \"except\": ");
			print_spec(z->spec_except, z->nspec_except, out);
		}
	} else {
		print_nets(z->nets, z->nnets, false, out);
	}
	if (z->nhosts) {
		sb_add(out, ", \"hosts\": {");
		for (size_t i = 0; i < z->nhosts; i++) {
			sb_addf(out, "%s\"%s\": ", i ? ", " : "", z->hosts[i].name);
			print_nets(z->hosts[i].nets, z->hosts[i].nnets, true, out);
		}
		sb_add(out, "}");
	}
	sb_add(out, "}");
}

/* A sorted JSON array of names. */
static void print_names(const char *const *v, size_t n, struct strbuf *out)
{
	const char **s = malloc((n ? n : 1) * sizeof(*s));

	if (!s) {
		out->oom = true;
		return;
	}
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), str_cmp);
	sb_add(out, "[");
	for (size_t i = 0; i < n; i++) {
		sb_add(out, i ? ", " : "");
		sb_add_json_str(out, s[i]);
	}
	sb_add(out, "]");
	free(s);
}

void ww_flow_print_canonical(const struct ww_policy *p, const struct ww_flow *f, bool for_id,
			     struct strbuf *out)
{
	char tb[WW_TIME_STRLEN];
	const char **names;

	sb_add(out, "{");
	if (!for_id) {
		sb_add(out, "\"id\": ");
		sb_add_json_str(out, f->id);
		sb_add(out, ", ");
		if (f->description) {
			sb_add(out, "\"description\": ");
			sb_add_json_str(out, f->description);
			sb_add(out, ", ");
		}
	}
	sb_add(out, "\"from\": ");
	print_eplist(p, &f->from, out);
	sb_add(out, ", \"to\": ");
	print_eplist(p, &f->to, out);
	sb_add(out, ", \"services\": ");
	if (f->nspec_svcs) {
		print_names((const char *const *)f->spec_svcs, f->nspec_svcs, out);
		sb_add(out, ", \"except\": {\"services\": ");
		print_names((const char *const *)f->except_svcs, f->nexcept_svcs, out);
		sb_add(out, "}");
	} else {
		names = malloc((f->nsvcs ? f->nsvcs : 1) * sizeof(*names));
		if (!names) {
			out->oom = true;
			return;
		}
		for (size_t i = 0; i < f->nsvcs; i++)
			names[i] = f->svcs[i]->name;
		print_names(names, f->nsvcs, out);
		free(names);
	}
	sb_add(out, ", \"action\": \"");
	sb_add(out, ww_flow_action_str(f));
	sb_addn(out, "\"", 1);
	if (f->mode == WW_MONITOR)
		sb_add(out, ", \"mode\": \"monitor\"");
	if (f->has_from || f->has_until) {
		sb_add(out, ", \"valid\": {");
		if (f->has_from)
			sb_addf(out, "\"from\": \"%s\"", ww_time_str(f->valid_from, tb));
		if (f->has_until)
			sb_addf(out, "%s\"until\": \"%s\"", f->has_from ? ", " : "",
				ww_time_str(f->valid_until, tb));
		sb_add(out, "}");
	}
	if (f->log >= 0)
		sb_addf(out, ", \"log\": %s", f->log == WW_LOG_NONE ? "false" : "true");
	if (!for_id) {
		if (f->owner) {
			sb_add(out, ", \"owner\": ");
			sb_add_json_str(out, f->owner);
		}
		if (f->ticket) {
			sb_add(out, ", \"ticket\": ");
			sb_add_json_str(out, f->ticket);
		}
		if (f->life_critical)
			sb_add(out, ", \"life_critical\": true");
		if (f->management)
			sb_add(out, ", \"management\": true");
		if (f->ncontrols) {
			sb_add(out, ", \"controls\": [");
			for (size_t i = 0; i < f->ncontrols; i++) {
				if (i)
					sb_add(out, ", ");
				sb_add_json_str(out, f->controls[i]);
			}
			sb_add(out, "]");
		}
	}
	sb_add(out, "}");
}

static void print_invariant(const struct ww_policy *p, const struct ww_invariant *v,
			    struct strbuf *out)
{
	sb_add(out, "{\"id\": ");
	sb_add_json_str(out, v->id);
	if (v->description) {
		sb_add(out, ", \"description\": ");
		sb_add_json_str(out, v->description);
	}
	sb_addf(out, ", \"expect\": \"%s\", \"from\": ", ww_action_str(v->expect));
	print_eplist(p, &v->from, out);
	sb_add(out, ", \"to\": ");
	print_eplist(p, &v->to, out);
	if (v->except.n && !v->nexcept_svcs) {
		sb_add(out, ", \"except\": ");
		print_eplist(p, &v->except, out);
	} else if (v->nexcept_svcs) {
		/* Endpoints and services in one list: print both, each sorted, endpoints first. */
		struct strbuf eps = {0};
		if (v->except.n)
			print_eplist(p, &v->except, &eps);
		const char *e = sb_str(&eps);
		sb_add(out, ", \"except\": [");
		if (v->except.n) {
			size_t len = strlen(e);
			if (e[0] == '[')
				sb_addf(out, "%.*s, ", (int)(len - 2), e + 1);
			else
				sb_addf(out, "%s, ", e);
		}
		struct strbuf sv = {0};
		print_names((const char *const *)v->except_svcs, v->nexcept_svcs, &sv);
		const char *t = sb_str(&sv);
		sb_addf(out, "%.*s]", (int)strlen(t) - 2, t + 1);
		if (eps.oom || sv.oom)
			out->oom = true;
		sb_free(&eps);
		sb_free(&sv);
	}
	if (v->nspec_svcs > 1 || (v->nspec_svcs == 1 && !v->nexcept_svcs)) {
		sb_add(out, ", \"service\": ");
		print_names((const char *const *)v->spec_svcs, v->nspec_svcs, out);
	} else if (v->nspec_svcs == 1) {
		sb_add(out, ", \"service\": ");
		sb_add_json_str(out, v->spec_svcs[0]);
	} else if (v->svc && !v->nexcept_svcs) {
		sb_add(out, ", \"service\": ");
		sb_add_json_str(out, v->svc->name);
	}
	sb_add(out, "}");
}

static int zone_ptr_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct ww_zone *const *)a)->name,
		      (*(const struct ww_zone *const *)b)->name);
}

/* Only when there are groups, so that policies without them print as they always did. Flows
 * and invariants print a group's zones in its place: the canonical form says what is meant. */
static void print_groups(const struct ww_policy *p, struct strbuf *out)
{
	if (!p->ngroups)
		return;
	sb_add(out, "  \"groups\": {");
	for (size_t i = 0; i < p->ngroups; i++) {
		const struct ww_group *g = &p->groups[i];
		const struct ww_zone **v = malloc((g->nzones ? g->nzones : 1) * sizeof(*v));
		if (!v) {
			out->oom = true;
			return;
		}
		memcpy(v, g->zones, g->nzones * sizeof(*v));
		qsort(v, g->nzones, sizeof(*v), zone_ptr_cmp);
		sb_addf(out, "%s\n    \"%s\": [", i ? "," : "", g->name);
		for (size_t k = 0; k < g->nzones; k++) {
			sb_add(out, k ? ", " : "");
			sb_add_json_str(out, v[k]->name);
		}
		sb_add(out, "]");
		free(v);
	}
	sb_add(out, "\n  },\n");
}

/* "services": the policy's own and the built-in ones it uses; the "flows" key follows. */
static void print_services(const struct ww_policy *p, struct strbuf *out)
{
	bool first = true;

	sb_add(out, "  \"services\": {");
	for (size_t i = 0; i < p->nsvcs; i++) {
		const struct ww_service *s = &p->svcs[i];
		if (s->builtin && !s->referenced)
			continue;
		sb_addf(out, "%s\n    \"%s\": ", first ? "" : ",", s->name);
		first = false;
		if (s->description) {
			sb_add(out, "{\"description\": ");
			sb_add_json_str(out, s->description);
			sb_add(out, ", \"terms\": ");
			print_terms(s, out);
			sb_add(out, "}");
		} else {
			print_terms(s, out);
		}
	}
	sb_add(out, first ? "},\n  \"flows\": [" : "\n  },\n  \"flows\": [");
}

/* Probes only when there are some, so that policies without keep their identity. */
static void print_probes(const struct ww_policy *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->nprobes; i++) {
		const struct ww_probe *pr = &p->probes[i];
		char a[WW_PREFIX_STRLEN], b[WW_PREFIX_STRLEN];
		sb_add(out, i ? ",\n    {\"id\": " : "  \"probes\": [\n    {\"id\": ");
		sb_add_json_str(out, pr->id);
		if (pr->description) {
			sb_add(out, ", \"description\": ");
			sb_add_json_str(out, pr->description);
		}
		sb_addf(out, ", \"from\": \"%s\", \"to\": \"%s\", \"port\": %u",
			ww_addr_str(&pr->from, a), ww_addr_str(&pr->to, b), pr->port);
		if (pr->netns) {
			sb_add(out, ", \"netns\": ");
			sb_add_json_str(out, pr->netns);
		}
		sb_addf(out, ", \"timeout_ms\": %u}%s", pr->timeout_ms,
			i + 1 == p->nprobes ? "\n  ],\n" : "");
	}
}

static const char *const xdps[] = {"off", "native", "generic"};

static void print_enforcement(const struct ww_policy *p, struct strbuf *out)
{
	const struct ww_enforcement *e = &p->enf;
	char ms[WW_MARK_STRLEN];

	sb_add(out, "  \"enforcement\": {");
	/* With gateways, mode, interfaces and xdp belong to each gateway. */
	if (!p->ngws) {
		sb_addf(out, "\"mode\": \"%s\", \"interfaces\": [", ww_hookmode_names[e->mode]);
		for (size_t i = 0; i < e->nifaces; i++) {
			if (i)
				sb_add(out, ", ");
			sb_add_json_str(out, e->ifaces[i]);
		}
		sb_addf(out, "], \"xdp\": \"%s\", ", xdps[e->xdp]);
	}
	sb_addf(out, "\"log_group\": %u, \"log_rate\": %u", e->log_group, e->log_rate);
	/* Printed only when not the default, so that the generations recorded before on_failure
	 * existed keep their hash (restore checks it). */
	if (e->on_failure == WW_FAIL_OPEN)
		sb_add(out, ", \"on_failure\": \"open\"");
	/* The same for mark_bits (added with the class-keyed flow maps). */
	if (e->mark_mask != WW_MARK_DEFAULT)
		sb_addf(out, ", \"mark_bits\": \"%s\"", ww_mark_str(e->mark_mask, ms));
	sb_add(out, "}");
}

/* Printed only when present, so that a policy without gateways keeps its hash. */
static void print_gateways(const struct ww_policy *p, struct strbuf *out)
{
	for (size_t i = 0; i < p->ngws; i++) {
		const struct ww_gateway *g = &p->gws[i];
		sb_add(out, i ? ",\n    " : ",\n  \"gateways\": {\n    ");
		sb_add_json_str(out, g->name);
		sb_addf(out, ": {\"mode\": \"%s\", \"interfaces\": [", ww_hookmode_names[g->mode]);
		for (size_t k = 0; k < g->nifaces; k++) {
			sb_add(out, k ? ", " : "");
			sb_add_json_str(out, g->ifaces[k]);
		}
		sb_add(out, "], \"zones\": [");
		for (size_t k = 0; k < g->nzones; k++) {
			sb_add(out, k ? ", " : "");
			sb_add_json_str(out, g->zones[k]->name);
		}
		sb_addf(out, "], \"xdp\": \"%s\"}", xdps[g->xdp]);
	}
	sb_add(out, p->ngws ? "\n  }" : "");
}

/* The defaults are the canonical spelling of an absent section: printed only when changed. */
static void print_detect(const struct ww_detect_cfg *dc, struct strbuf *out)
{
	if (ww_detect_cfg_is_default(dc))
		return;
	sb_addf(out,
		",\n  \"detect\": {\"scan\": {\"enabled\": %s, \"targets\": %u, \"window\": %u}, "
		"\"lateral\": {\"enabled\": %s, \"min_criticality\": \"%s\"}, "
		"\"new_talker\": {\"enabled\": %s}, "
		"\"flood\": {\"enabled\": %s, \"rate\": %u, \"window\": %u}, "
		"\"max_sources\": %u, \"cooldown\": %u}",
		dc->scan ? "true" : "false", dc->scan_targets, dc->scan_window,
		dc->lateral ? "true" : "false", ww_crit_str(dc->lateral_min_crit),
		dc->new_talker ? "true" : "false", dc->flood ? "true" : "false", dc->flood_rate,
		dc->flood_window, dc->max_sources, dc->cooldown);
}

/* The canonical text; management: only the flows marked "management", and no invariants. */
static void print_policy(const struct ww_policy *p, bool management, struct strbuf *out)
{
	const struct ww_defaults *d = &p->defaults;
	bool first = true;

	sb_addf(out, "{\n  \"wardwall\": %d,\n  \"name\": ", WW_POLICY_VERSION);
	sb_add_json_str(out, p->name);
	if (p->description) {
		sb_add(out, ",\n  \"description\": ");
		sb_add_json_str(out, p->description);
	}
	sb_addf(out,
		",\n  \"defaults\": {\"between_zones\": \"%s\", \"within_zone\": \"%s\", "
		"\"log\": \"%s\"},\n  \"zones\": {",
		ww_action_str(d->between_zones), ww_action_str(d->within_zone), ww_log_str(d->log));
	for (size_t i = 0; i < p->nzones; i++) {
		sb_addf(out, "%s\n    \"%s\": ", i ? "," : "", p->zones[i].name);
		print_zone(&p->zones[i], out);
	}
	sb_add(out, "\n  },\n");
	print_groups(p, out);
	print_services(p, out);
	for (size_t i = 0; i < p->nflows; i++) {
		if (management && !p->flows[i].management)
			continue;
		sb_add(out, first ? "\n    " : ",\n    ");
		ww_flow_print_canonical(p, &p->flows[i], false, out);
		first = false;
	}
	sb_add(out, !first ? "\n  ],\n  \"invariants\": [" : "],\n  \"invariants\": [");
	for (size_t i = 0; !management && i < p->ninvs; i++) {
		sb_add(out, i ? ",\n    " : "\n    ");
		print_invariant(p, &p->invs[i], out);
	}
	sb_addf(out, p->ninvs && !management ? "\n  ],\n" : "],\n");
	print_probes(p, out);
	print_enforcement(p, out);
	print_gateways(p, out);
	print_detect(&p->detect, out);
	ww_siem_print(p, out);
	sb_add(out, "\n}\n");
}

void ww_policy_print_canonical(const struct ww_policy *p, struct strbuf *out)
{
	print_policy(p, false, out);
}

void ww_policy_print_management(const struct ww_policy *p, struct strbuf *out)
{
	print_policy(p, true, out);
}

void ww_policy_hash(const struct ww_policy *p, char out[65])
{
	struct strbuf sb = {0};

	ww_policy_print_canonical(p, &sb);
	sha256_hex(sb_str(&sb), sb.len, out);
	sb_free(&sb);
}
