// SPDX-License-Identifier: GPL-2.0-only
/* policy_parse.c: JSON -> validated model; every diagnostic with its code, pointer and message. */
#define UNIT_FAULTY_MALLOC
#include "unit.h"

#include "services.h"

/* Zones a and b, b with a host group h; ep ids: a=1, b=2, b/h=3. */
#define ZONES                                                                                      \
	"'zones': {'b': {'networks': ['10.2.0.0/16'], 'hosts': {'h': ['10.2.0.5', "                \
	"'10.2.1.0/24']}}, 'a': {'networks': ['10.1.0.0/16', 'fd00:1::/64']}}"
#define POL(rest) "{" UNIT_HDR ZONES rest "}"
/* A flow from a to b with the given extra members. */
#define FLOW(extra) "{'from': 'a', 'to': 'b', 'services': ['https'], 'action': 'allow'" extra "}"
#define FLOWS(...)  POL(", 'flows': [" __VA_ARGS__ "]")
/* Zone a with the given host groups, and a zone z beside it. */
#define POL_HOSTS(h)                                                                               \
	"{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/16'], 'hosts': {" h "}}, "            \
	"'z': {'networks': ['10.9.0.0/16']}}}"
/* A service definition. */
#define SVC(terms) POL(", 'services': {'x': " terms "}")

/* ---- the model of valid policies ---- */

static void test_minimal(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));

	assert_string_equal(p->name, "unit");
	assert_string_equal(p->file, "unit.json");
	assert_null(p->description);
	assert_int_equal(p->defaults.between_zones, WW_DENY);
	assert_int_equal(p->defaults.within_zone, WW_DENY);
	assert_int_equal(p->defaults.log, WW_LOG_DENY);
	assert_int_equal(p->enf.mode, WW_GATEWAY);
	assert_int_equal(p->enf.xdp, WW_XDP_OFF);
	assert_int_equal(p->enf.log_group, 4269);
	assert_int_equal(p->enf.log_rate, 50);
	assert_int_equal(p->enf.mark_mask, 0xffff0000u);
	assert_int_equal(p->enf.nifaces, 0);
	assert_int_equal(p->nflows, 0);
	assert_int_equal(p->ninvs, 0);
	ww_policy_free(p);
}

static void test_zones_sorted_with_ids(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));
	char buf[WW_EP_STRLEN];

	assert_int_equal(p->nzones, 2);
	assert_int_equal(p->nhosts, 1);
	/* Zones in name order whatever the document order; ids follow. */
	assert_string_equal(p->zones[0].name, "a");
	assert_string_equal(p->zones[0].ptr, "/zones/a");
	assert_int_equal(p->zones[0].ep, 1);
	assert_string_equal(p->zones[1].name, "b");
	assert_int_equal(p->zones[1].ep, 2);
	assert_int_equal(p->zones[0].nnets, 2);
	assert_string_equal(p->zones[0].nets[1].ptr, "/zones/a/networks/1");
	assert_int_equal(p->zones[0].nets[1].pfx.a.family, WW_INET6);
	assert_int_equal(p->zones[0].crit, WW_CRIT_UNSET);
	assert_int_equal(p->zones[0].mode, WW_ENFORCE);
	assert_false(p->zones[0].untrusted);
	const struct ww_host *h = &p->zones[1].hosts[0];
	assert_string_equal(h->name, "h");
	assert_string_equal(h->ptr, "/zones/b/hosts/h");
	assert_ptr_equal(h->zone, &p->zones[1]);
	assert_int_equal(h->ep, 3);
	assert_int_equal(h->nnets, 2);
	assert_int_equal(h->nets[0].pfx.len, 32);
	assert_int_equal(h->nets[1].pfx.len, 24);
	assert_string_equal(h->nets[1].ptr, "/zones/b/hosts/h/1");
	assert_ptr_equal(p->host_by_ep[0], h);
	assert_ptr_equal(ww_zone_find(p, "b"), &p->zones[1]);
	assert_null(ww_zone_find(p, "c"));
	assert_ptr_equal(ww_host_find(&p->zones[1], "h"), h);
	assert_string_equal(ww_ep_name(p, 3, buf), "b/h");
	assert_string_equal(ww_ep_name(p, 1, buf), "a");
	ww_policy_free(p);
}

static void test_zone_members(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{" UNIT_HDR "'description': 'Ward 7', 'zones': {"
	    "'icu': {'description': 'Intensive care', 'criticality': 'life-critical', 'mode': "
	    "'monitor', 'networks': '10.7.0.0/16'},"
	    "'wifi': {'criticality': 'low', 'untrusted': true, 'networks': ['172.16.0.0/12']},"
	    "'wan': {'untrusted': false, 'networks': ['0.0.0.0/0']},"
	    "'wan6': {'networks': ['2001:db8::/32', '::/0'], 'criticality': 'medium'},"
	    "'core': {'criticality': 'high', 'networks': ['10.8.0.0/16'], 'hosts': {}}}}");
	const struct ww_zone *icu = ww_zone_find(p, "icu"), *wifi = ww_zone_find(p, "wifi");
	const struct ww_zone *wan = ww_zone_find(p, "wan"), *wan6 = ww_zone_find(p, "wan6");

	assert_string_equal(p->description, "Ward 7");
	assert_string_equal(icu->description, "Intensive care");
	assert_int_equal(icu->crit, WW_CRIT_LIFE);
	assert_int_equal(icu->mode, WW_MONITOR);
	assert_int_equal(icu->nnets, 1); /* a single network may be a string */
	assert_int_equal(wifi->crit, WW_CRIT_LOW);
	assert_true(wifi->untrusted);
	/* Holding the default route makes a zone untrusted, whatever it says. */
	assert_true(wan->untrusted);
	assert_true(wan6->untrusted);
	assert_int_equal(wan6->crit, WW_CRIT_MEDIUM);
	assert_int_equal(ww_zone_find(p, "core")->crit, WW_CRIT_HIGH);
	assert_int_equal(ww_zone_find(p, "core")->nhosts, 0);
	assert_false(ww_zone_find(p, "core")->untrusted);
	ww_policy_free(p);
}

static void test_defaults_and_enforcement(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    POL(", 'defaults': {'between_zones': 'allow', 'within_zone': 'allow', 'log': 'all'},"
		"'enforcement': {'mode': 'host', 'interfaces': ['eth0', 'lan-guest'], 'xdp': "
		"'generic', 'log_group': 0, 'log_rate': 1000000, 'mark_bits': '0x00FFf000'}, "
		"'$schema': 'x.json'"));

	assert_int_equal(p->defaults.between_zones, WW_ALLOW);
	assert_int_equal(p->defaults.within_zone, WW_ALLOW);
	assert_int_equal(p->defaults.log, WW_LOG_ALL);
	assert_int_equal(p->enf.mode, WW_HOST);
	assert_int_equal(p->enf.xdp, WW_XDP_GENERIC);
	assert_int_equal(p->enf.nifaces, 2);
	assert_string_equal(p->enf.ifaces[0], "eth0");
	assert_string_equal(p->enf.ifaces[1], "lan-guest");
	assert_int_equal(p->enf.log_group, 0);
	assert_int_equal(p->enf.log_rate, 1000000);
	assert_int_equal(p->enf.mark_mask, 0x00fff000u);
	ww_policy_free(p);
	p = unit_parse_ok(POL(", 'defaults': {'log': 'none'}"));
	assert_int_equal(p->defaults.log, WW_LOG_NONE);
	assert_int_equal(p->defaults.between_zones, WW_DENY);
	ww_policy_free(p);
}

static void test_builtin_services(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));
	const struct ww_service *s;

	assert_int_equal(p->nsvcs, ww_nbuiltin_services);
	for (size_t i = 1; i < p->nsvcs; i++)
		assert_true(strcmp(p->svcs[i - 1].name, p->svcs[i].name) < 0);
	s = ww_service_find(p, "dicom");
	assert_non_null(s);
	assert_true(s->builtin);
	assert_false(s->referenced);
	assert_null(s->ptr);
	assert_int_equal(s->nterms, 2);
	assert_int_equal(s->terms[0].proto, WW_PROTO_TCP);
	assert_int_equal(s->terms[0].lo, 104);
	assert_int_equal(s->terms[0].hi, 104);
	assert_int_equal(s->terms[1].lo, 11112);
	s = ww_service_find(p, "icmp");
	assert_int_equal(s->nterms, 2);
	assert_int_equal(s->terms[0].proto, WW_PROTO_ICMP);
	assert_int_equal(s->terms[0].lo, 0);
	assert_int_equal(s->terms[0].hi, 255);
	assert_int_equal(s->terms[1].proto, WW_PROTO_ICMPV6);
	s = ww_service_find(p, "ping");
	assert_int_equal(s->terms[0].lo, 8);
	assert_int_equal(s->terms[1].lo, 128);
	s = ww_service_find(p, "any");
	assert_int_equal(s->nterms, 1);
	assert_int_equal(s->terms[0].proto, WW_PROTO_ANY);
	assert_null(ww_service_find(p, "telnet"));
	ww_policy_free(p);
}

static void test_services(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'services': {"
	    "'https': [{'proto': 'tcp', 'ports': [8443]}],"
	    "'web': {'description': 'Web', 'terms': [{'proto': 'tcp', 'ports': [80, '8000-8080']},"
	    " {'proto': 'udp'}, {'proto': 47}, {'proto': '50'}]},"
	    "'echo': [{'proto': 'icmp', 'types': [0, '3-5']}, {'proto': 'icmpv6', 'types': [128]}],"
	    "'all': [{'proto': 'any'}], 'sctp.x': [{'proto': 'sctp', 'ports': ['1-65535']}]}"));
	const struct ww_service *s = ww_service_find(p, "https");

	/* A policy may redefine a built-in. */
	assert_int_equal(p->nsvcs, ww_nbuiltin_services + 4);
	assert_false(s->builtin);
	assert_string_equal(s->ptr, "/services/https");
	assert_int_equal(s->nterms, 1);
	assert_int_equal(s->terms[0].lo, 8443);
	assert_string_equal(s->terms[0].ptr, "/services/https/0/ports/0");
	s = ww_service_find(p, "web");
	assert_string_equal(s->description, "Web");
	assert_int_equal(s->nterms, 5);
	assert_int_equal(s->terms[1].lo, 8000);
	assert_int_equal(s->terms[1].hi, 8080);
	assert_string_equal(s->terms[1].ptr, "/services/web/terms/0/ports/1");
	assert_int_equal(s->terms[2].proto, WW_PROTO_UDP);
	assert_int_equal(s->terms[2].lo, 0);
	assert_int_equal(s->terms[2].hi, 65535);
	assert_string_equal(s->terms[2].ptr, "/services/web/terms/1");
	assert_int_equal(s->terms[3].proto, 47);
	assert_int_equal(s->terms[3].hi, 0);
	assert_int_equal(s->terms[4].proto, 50);
	s = ww_service_find(p, "echo");
	assert_int_equal(s->nterms, 3);
	assert_int_equal(s->terms[0].lo, 0);
	assert_int_equal(s->terms[0].hi, 0);
	assert_int_equal(s->terms[1].lo, 3);
	assert_int_equal(s->terms[1].hi, 5);
	assert_int_equal(s->terms[2].proto, WW_PROTO_ICMPV6);
	s = ww_service_find(p, "all");
	assert_int_equal(s->terms[0].proto, WW_PROTO_ANY);
	s = ww_service_find(p, "sctp.x");
	assert_int_equal(s->terms[0].lo, 1);
	assert_int_equal(s->terms[0].hi, 65535);
	ww_policy_free(p);
}

static void test_flows(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'web', 'description': 'd', 'from': ['a', 'b/h'], 'to': '*', "
	    "'services': ['https', 'ssh'], 'action': 'deny', 'mode': 'monitor', 'log': false, "
	    "'owner': 'it', 'ticket': 'CHG-1', 'controls': ['CIR 6.8', 'NIS2'], "
	    "'valid': {'from': '2026-03-10T08:00:00Z', 'until': "
	    "'2026-03-10T10:00:00+01:00'}}," FLOW(
		", 'log': true, 'valid': {'until': '2027-01-01T00:00:00Z'}")));
	const struct ww_flow *f = &p->flows[0];

	assert_int_equal(p->nflows, 2);
	assert_string_equal(f->id, "web");
	assert_true(f->id_given);
	assert_string_equal(f->ptr, "/flows/0");
	assert_int_equal(f->index, 0);
	assert_int_equal(f->from.n, 2);
	assert_false(f->from.all);
	assert_ptr_equal(f->from.v[0].zone, ww_zone_find(p, "a"));
	assert_null(f->from.v[0].host);
	assert_string_equal(f->from.v[0].ptr, "/flows/0/from/0");
	assert_ptr_equal(f->from.v[1].host, &ww_zone_find(p, "b")->hosts[0]);
	assert_true(f->to.all);
	assert_int_equal(f->to.n, 0);
	assert_int_equal(f->nsvcs, 2);
	assert_ptr_equal(f->svcs[1], ww_service_find(p, "ssh"));
	assert_string_equal(f->svc_ptrs[1], "/flows/0/services/1");
	assert_true(ww_service_find(p, "ssh")->referenced);
	assert_false(ww_service_find(p, "dns")->referenced);
	assert_int_equal(f->action, WW_DENY);
	assert_int_equal(f->mode, WW_MONITOR);
	assert_int_equal(f->log, WW_LOG_NONE);
	assert_string_equal(f->owner, "it");
	assert_string_equal(f->ticket, "CHG-1");
	assert_string_equal(f->description, "d");
	assert_int_equal(f->ncontrols, 2);
	assert_string_equal(f->controls[1], "NIS2");
	assert_true(f->has_from && f->has_until);
	assert_true(f->valid_from == 1773129600);
	assert_true(f->valid_until == 1773129600 + 3600); /* 10:00+01:00 is 09:00Z */

	f = &p->flows[1];
	assert_int_equal(f->index, 1);
	assert_false(f->id_given);
	assert_int_equal(strlen(f->id), 15);
	assert_memory_equal(f->id, "flow-", 5);
	assert_string_equal(f->from.v[0].ptr, "/flows/1/from");
	assert_int_equal(f->action, WW_ALLOW);
	assert_int_equal(f->mode, WW_ENFORCE);
	assert_int_equal(f->log, WW_LOG_ALL);
	assert_false(f->has_from);
	assert_true(f->has_until);
	assert_ptr_equal(ww_flow_find(p, f->id), f);
	assert_ptr_equal(ww_flow_find(p, "web"), &p->flows[0]);
	assert_null(ww_flow_find(p, "nope"));
	ww_policy_free(p);
}

/* "reject" is a deny that answers: decided as a deny everywhere, printed as written. */
static void test_reject(void **state)
{
	struct ww_policy *p = unit_parse_ok(FLOWS(
	    "{'id': 'r', 'from': 'a', 'to': 'b', 'services': ['https'], 'action': 'reject'},"
	    "{'id': 'd', 'from': 'a', 'to': 'b', 'services': ['ssh'], 'action': 'deny'}"));

	assert_int_equal(p->flows[0].action, WW_DENY);
	assert_true(p->flows[0].reject);
	assert_string_equal(ww_flow_action_str(&p->flows[0]), "reject");
	assert_int_equal(p->flows[1].action, WW_DENY);
	assert_false(p->flows[1].reject);
	assert_string_equal(ww_flow_action_str(&p->flows[1]), "deny");
	ww_policy_free(p);
}

static char *derived_id(const char *text, size_t i)
{
	struct ww_policy *p = unit_parse_ok(text);
	char *id = strdup(p->flows[i].id);

	ww_policy_free(p);
	return id;
}

static void test_derived_ids(void **state)
{
	char *a = derived_id(FLOWS(FLOW("")), 0);
	/* The id depends on what the flow means, not on where it stands or on its paperwork... */
	char *b = derived_id(
	    FLOWS("{'from': 'b', 'to': 'a', 'services': 'ssh', 'action': 'deny'}, " FLOW("")), 1);
	char *c = derived_id(FLOWS(FLOW(", 'owner': 'x', 'ticket': 'T', 'description': 'd', "
					"'controls': ['c']")),
			     0);
	/* ...nor on how it is spelt: list order, one-element lists, services order. */
	char *d = derived_id(FLOWS("{'to': ['b'], 'action': 'allow', 'services': 'https', 'from': "
				   "['a']}"),
			     0);
	/* What it means changes it. */
	char *e = derived_id(FLOWS(FLOW(", 'mode': 'monitor'")), 0);
	char *f = derived_id(FLOWS("{'from': 'a', 'to': 'b/h', 'services': ['https'], 'action': "
				   "'allow'}"),
			     0);
	char *g = derived_id(FLOWS(FLOW(", 'log': true")), 0);

	assert_string_equal(a, b);
	assert_string_equal(a, c);
	assert_string_equal(a, d);
	assert_string_not_equal(a, e);
	assert_string_not_equal(a, f);
	assert_string_not_equal(a, g);
	assert_memory_equal(a, "flow-", 5);
	for (size_t i = 5; i < 15; i++)
		assert_non_null(strchr("0123456789abcdef", a[i]));
	free(a), free(b), free(c), free(d), free(e), free(f), free(g);
}

static void test_invariants(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    POL(", 'invariants': [{'id': 'i1', 'description': 'd', 'expect': 'deny', 'from': 'a', "
		"'to': '*', 'except': ['b/h'], 'service': 'dns'},"
		"{'id': 'i2', 'expect': 'allow', 'from': ['a', 'b'], 'to': 'b/h'}]"));
	const struct ww_invariant *v = &p->invs[0];

	assert_int_equal(p->ninvs, 2);
	assert_string_equal(v->id, "i1");
	assert_string_equal(v->ptr, "/invariants/0");
	assert_string_equal(v->description, "d");
	assert_int_equal(v->expect, WW_DENY);
	assert_true(v->to.all);
	assert_int_equal(v->except.n, 1);
	assert_string_equal(v->except.v[0].ptr, "/invariants/0/except/0");
	assert_ptr_equal(v->svc, ww_service_find(p, "dns"));
	/* An invariant's service counts as used. */
	assert_true(v->svc->referenced);
	v = &p->invs[1];
	assert_int_equal(v->expect, WW_ALLOW);
	assert_null(v->svc);
	assert_int_equal(v->except.n, 0);
	assert_int_equal(v->from.n, 2);
	ww_policy_free(p);
}

static void test_load(void **state)
{
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;

	assert_int_equal(ww_policy_load("/nonexistent/policy.json", &d, &p), -ENOENT);
	assert_null(p);
	assert_int_equal(d.n, 0);
	p = unit_load_example();
	assert_string_equal(p->name, "example-hospital");
	assert_int_equal(p->nzones, 14);
	assert_int_equal(p->nhosts, 17);
	assert_int_equal(p->nflows, 25);
	assert_int_equal(p->ninvs, 5);
	assert_string_equal(p->file, UNIT_EXAMPLE);
	assert_int_equal(p->enf.xdp, WW_XDP_NATIVE);
	assert_int_equal(p->enf.nifaces, 14);
	assert_true(ww_zone_find(p, "internet")->untrusted);
	ww_policy_free(p);
}

static void test_honours_len(void **state)
{
	static const char text[] = "{\"wardwall\": 1, \"name\": \"n\", \"zones\": {\"a\": "
				   "{\"networks\": [\"10.0.0.0/8\"]}}}GARBAGE";
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;

	/* No NUL after the document: only len counts. */
	assert_int_equal(ww_policy_parse("x", text, sizeof(text) - 1 - 7, &d, &p), 0);
	assert_int_equal(d.n, 0);
	ww_policy_free(p);
	p = NULL;
	assert_int_equal(ww_policy_parse("x", text, sizeof(text) - 1, &d, &p), -EINVAL);
	assert_null(p);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected 'G'");
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, (int)sizeof(text) - 7);
	ww_diags_free(&d);
}

/* ---- malformed JSON ---- */

static void test_syntax_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad("{'wardwall': 1,\n  'name': 'x',\n", &d);
	assert_int_equal(d.n, 1);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected end of input");
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 1);
	ww_diags_free(&d);

	unit_parse_bad("{\n  'wardwall': 1\n  'name': 'x'\n}", &d);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected '\"'");
	assert_int_equal(d.v[0].line, 3);
	assert_int_equal(d.v[0].col, 3);
	ww_diags_free(&d);

	unit_parse_bad("{} x", &d);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected 'x'");
	assert_int_equal(d.v[0].line, 1);
	assert_int_equal(d.v[0].col, 4);
	ww_diags_free(&d);

	unit_parse_bad("", &d);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected end of input");
	ww_diags_free(&d);

	unit_parse_bad("{'name': 'unterminated}", &d);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected end of input");
	ww_diags_free(&d);

	unit_parse_bad("{'name': \xff}", &d);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected byte 0xff");
	assert_int_equal(d.v[0].col, 10);
	ww_diags_free(&d);
}

static void test_nul_byte(void **state)
{
	static const char text[] = "{\"wardwall\": 1,\n\0}";
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;

	assert_int_equal(ww_policy_parse("x", text, sizeof(text) - 1, &d, &p), -EINVAL);
	assert_diag(&d, 0, "malformed-json", "", "malformed JSON: unexpected byte 0x00");
	assert_int_equal(d.v[0].line, 2);
	assert_int_equal(d.v[0].col, 1);
	ww_diags_free(&d);
}

/* ---- the document ---- */

static void test_document_errors(void **state)
{
	assert_first_error("[]", "wrong-type", "", "expected a policy object, got an array");
	assert_first_error("{'name': 'x', " ZONES "}", "missing-field", "",
			   "missing \"wardwall\": the language version (1)");
	assert_first_error("{'wardwall': 2, 'name': 'x', " ZONES "}", "unsupported-version",
			   "/wardwall",
			   "policy language version 2 is not supported: this wardwall reads "
			   "version 1");
	assert_first_error("{'wardwall': 1.5, 'name': 'x', " ZONES "}", "not-integer", "/wardwall",
			   "1.5 is not a whole number: expected an integer 0-1000000");
	assert_first_error("{'wardwall': -1, 'name': 'x', " ZONES "}", "out-of-range", "/wardwall",
			   "-1 is out of range: expected an integer 0-1000000");
	/* Far beyond long: must be refused, not converted. */
	assert_first_error("{'wardwall': 1e300, 'name': 'x', " ZONES "}", "out-of-range",
			   "/wardwall", "1e+300 is out of range: expected an integer 0-1000000");
	assert_first_error("{'wardwall': '1', 'name': 'x', " ZONES "}", "wrong-type", "/wardwall",
			   "expected a number, got a string");
	assert_first_error("{'wardwall': 1, " ZONES "}", "missing-field", "",
			   "missing \"name\": the policy's name");
	assert_first_error(
	    "{'wardwall': 1, 'name': 'my policy', " ZONES "}", "invalid-name", "/name",
	    "policy name \"my policy\" is invalid: use 1-64 letters, digits, '-', '_', "
	    "'.', starting with a letter or digit");
	assert_first_error("{'wardwall': 1, 'name': 'x'}", "missing-field", "",
			   "the policy defines no \"zones\"");
	assert_first_error("{'wardwall': 1, 'name': 'x', 'zones': {}}", "empty-zones", "/zones",
			   "the policy defines no zones");
	assert_first_error("{'wardwall': 1, 'name': 'x', 'zones': []}", "wrong-type", "/zones",
			   "expected an object of zone names to zones, got an array");
	assert_first_error("{" UNIT_HDR ZONES ", 'description': 5}", "wrong-type", "/description",
			   "expected a string, got a number");
}

static void test_unknown_and_duplicate_members(void **state)
{
	struct ww_diags d;

	unit_parse_bad("{" UNIT_HDR ZONES ", 'flow': []}", &d);
	assert_diag(&d, 0, "unknown-field", "/flow", "unknown field \"flow\"");
	assert_string_equal(d.v[0].hint, "flows");
	ww_diags_free(&d);
	unit_parse_bad("{" UNIT_HDR ZONES ", 'colour': 'red'}", &d);
	assert_diag(&d, 0, "unknown-field", "/colour", "unknown field \"colour\"");
	assert_null(d.v[0].hint);
	ww_diags_free(&d);
	assert_first_error("{" UNIT_HDR "'name': 'y', " ZONES "}", "duplicate-key", "/name",
			   "\"name\" is given more than once");
	/* Keys are escaped in pointers (RFC 6901). */
	assert_first_error("{" UNIT_HDR ZONES ", 'a/b~c': 1}", "unknown-field", "/a~1b~0c",
			   "unknown field \"a/b~c\"");
}

static void test_defaults_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad(POL(", 'defaults': {'between_zones': 'alow'}"), &d);
	assert_diag(&d, 0, "invalid-value", "/defaults/between_zones",
		    "\"alow\" is not valid here: expected \"allow\" or \"deny\"");
	assert_string_equal(d.v[0].hint, "allow");
	ww_diags_free(&d);
	assert_first_error(POL(", 'defaults': {'log': 'some'}"), "invalid-value", "/defaults/log",
			   "\"some\" is not valid here: expected \"none\", \"deny\" or \"all\"");
	assert_first_error(POL(", 'defaults': {'within_zone': true}"), "wrong-type",
			   "/defaults/within_zone", "expected a string, got a boolean");
	assert_first_error(POL(", 'defaults': 'deny'"), "wrong-type", "/defaults",
			   "expected an object, got a string");
	assert_first_error(POL(", 'defaults': {'within': 'deny'}"), "unknown-field",
			   "/defaults/within", "unknown field \"within\"");
}

static void test_enforcement_errors(void **state)
{
	assert_first_error(POL(", 'enforcement': {'xdp': 'native'}"), "xdp-needs-interfaces",
			   "/enforcement/xdp",
			   "XDP enforcement needs the interfaces to attach to: list them in "
			   "\"interfaces\"");
	assert_first_error(
	    POL(", 'enforcement': {'interfaces': ['eth/0']}"), "invalid-interface",
	    "/enforcement/interfaces/0",
	    "\"eth/0\" is not a valid interface name (1-15 characters, no '/', ':' or "
	    "spaces)");
	assert_first_error(POL(", 'enforcement': {'interfaces': ['eth0', 'a-very-long-name']}"),
			   "invalid-interface", "/enforcement/interfaces/1", NULL);
	assert_first_error(POL(", 'enforcement': {'interfaces': ['..']}"), "invalid-interface",
			   "/enforcement/interfaces/0", NULL);
	assert_first_error(POL(", 'enforcement': {'interfaces': ['eth0', 'eth 1']}"),
			   "invalid-interface", "/enforcement/interfaces/1", NULL);
	assert_first_error(POL(", 'enforcement': {'interfaces': ['eth0', 'eth0']}"),
			   "duplicate-interface", "/enforcement/interfaces/1",
			   "interface \"eth0\" is listed twice");
	assert_first_error(POL(", 'enforcement': {'interfaces': [7]}"), "wrong-type",
			   "/enforcement/interfaces/0", "expected an interface name, got a number");
	assert_first_error(POL(", 'enforcement': {'log_group': 65536}"), "out-of-range",
			   "/enforcement/log_group",
			   "65536 is out of range: expected an integer 0-65535");
	assert_first_error(POL(", 'enforcement': {'log_rate': 0}"), "out-of-range",
			   "/enforcement/log_rate",
			   "0 is out of range: expected an integer 1-1000000");
	assert_first_error(POL(", 'enforcement': {'mode': 'router'}"), "invalid-value",
			   "/enforcement/mode",
			   "\"router\" is not valid here: expected \"gateway\", \"host\" or \"bridge\"");
	assert_first_error(POL(", 'enforcement': {'mode': 'bridge'}"), "bridge-needs-ports",
			   "/enforcement/mode",
			   "bridge mode filters the frames a bridge forwards between the ports named "
			   "in \"interfaces\": list them");
	assert_first_error(POL(", 'enforcement': {'mode': 'bridge', 'interfaces': []}"),
			   "bridge-needs-ports", "/enforcement/interfaces",
			   "bridge mode filters the frames a bridge forwards between the ports named "
			   "in \"interfaces\": list them");
	assert_first_error(
	    POL(", 'enforcement': {'mark_bits': 'ffff0000'}"), "invalid-mark-bits",
	    "/enforcement/mark_bits",
	    "\"ffff0000\" is not a mark mask: expected \"0x\" and 1-8 hex digits, such "
	    "as \"0xffff0000\"");
	assert_first_error(POL(", 'enforcement': {'mark_bits': '0x1ffff0000'}"),
			   "invalid-mark-bits", "/enforcement/mark_bits", NULL);
	assert_first_error(
	    POL(", 'enforcement': {'mark_bits': '0xff00ff00'}"), "invalid-mark-bits",
	    "/enforcement/mark_bits",
	    "\"0xff00ff00\" has 16 bits, not in one run: the class is written into one "
	    "contiguous run of at least 2 bits (zone and host fields), such as "
	    "\"0xffff0000\"");
	assert_first_error(
	    POL(", 'enforcement': {'mark_bits': '0x00010000'}"), "invalid-mark-bits",
	    "/enforcement/mark_bits",
	    "\"0x00010000\" has 1 bit: the class is written into one contiguous run of "
	    "at least 2 bits (zone and host fields), such as \"0xffff0000\"");
	assert_first_error(POL(", 'enforcement': {'mark_bits': '0x0'}"), "invalid-mark-bits",
			   "/enforcement/mark_bits", NULL);
	assert_first_error(POL(", 'enforcement': {'mark_bits': 4294901760}"), "wrong-type",
			   "/enforcement/mark_bits",
			   "expected a string such as \"0xffff0000\", got a number");
	assert_first_error(POL(", 'enforcement': {'mark_bit': '0xffff0000'}"), "unknown-field",
			   "/enforcement/mark_bit", NULL);
	assert_first_error(POL(", 'enforcement': {'xdp': 'on', 'interfaces': ['eth0']}"),
			   "invalid-value", "/enforcement/xdp",
			   "\"on\" is not valid here: expected \"off\", \"native\" or \"generic\"");
}

/* ---- zones and hosts ---- */

static void test_zone_errors(void **state)
{
	struct ww_diags d;

	assert_first_error("{" UNIT_HDR "'zones': {'Pacs!': {'networks': ['10.0.0.0/8']}}}",
			   "invalid-name", "/zones/Pacs!",
			   "zone name \"Pacs!\" is invalid: use 1-32 letters, digits, '-', '_', "
			   "starting with a letter or digit");
	assert_first_error("{" UNIT_HDR "'zones': {'-a': {'networks': ['10.0.0.0/8']}}}",
			   "invalid-name", "/zones/-a", NULL);
	assert_first_error("{" UNIT_HDR "'zones': {'a.b': {'networks': ['10.0.0.0/8']}}}",
			   "invalid-name", "/zones/a.b", NULL);
	assert_first_error("{" UNIT_HDR "'zones': {'abcdefghijabcdefghijabcdefghijabc': "
			   "{'networks': ['10.0.0.0/8']}}}",
			   "invalid-name", "/zones/abcdefghijabcdefghijabcdefghijabc", NULL);
	/* 32 characters are fine. */
	struct ww_policy *p =
	    unit_parse_ok("{" UNIT_HDR "'zones': {'abcdefghijabcdefghijabcdefghijab'"
			  ": {'networks': ['10.0.0.0/8']}}}");
	ww_policy_free(p);
	assert_first_error("{" UNIT_HDR "'zones': {'a': {}}}", "missing-field", "/zones/a",
			   "zone \"a\" has no \"networks\"");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': []}}}", "empty-networks",
			   "/zones/a/networks", "zone \"a\" has no networks");
	assert_first_error("{" UNIT_HDR "'zones': {'a': []}}", "wrong-type", "/zones/a",
			   "expected an object, got an array");
	unit_parse_bad("{" UNIT_HDR "'zones': {'a': {'network': ['10.0.0.0/8']}}}", &d);
	assert_diag(&d, 0, "unknown-field", "/zones/a/network", "unknown field \"network\"");
	assert_string_equal(d.v[0].hint, "networks");
	assert_diag(&d, 1, "missing-field", "/zones/a", "zone \"a\" has no \"networks\"");
	ww_diags_free(&d);
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8']}, 'a': "
			   "{'networks': ['10.1.0.0/16']}}}",
			   "duplicate-key", "/zones/a", "zone \"a\" is defined twice");
	unit_parse_bad("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8'], "
		       "'criticality': 'hihg'}}}",
		       &d);
	assert_diag(&d, 0, "invalid-value", "/zones/a/criticality",
		    "\"hihg\" is not valid here: expected \"low\", \"medium\", \"high\" or "
		    "\"life-critical\"");
	assert_string_equal(d.v[0].hint, "high");
	ww_diags_free(&d);
	unit_parse_bad("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8'], "
		       "'mode': 'monitoring'}}}",
		       &d);
	assert_diag(&d, 0, "invalid-value", "/zones/a/mode",
		    "\"monitoring\" is not valid here: expected \"enforce\" or \"monitor\"");
	assert_string_equal(d.v[0].hint, "monitor");
	ww_diags_free(&d);
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8'], "
			   "'untrusted': 'yes'}}}",
			   "wrong-type", "/zones/a/untrusted",
			   "expected true or false, got a string");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8'], "
			   "'description': ['x']}}}",
			   "wrong-type", "/zones/a/description", "expected a string, got an array");
}

static void test_network_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad("{" UNIT_HDR "'zones': {'a': {'networks': ['10.1.0.1/16']}}}", &d);
	assert_diag(&d, 0, "invalid-prefix", "/zones/a/networks/0",
		    "\"10.1.0.1/16\": host bits are set");
	assert_string_equal(d.v[0].hint, "10.1.0.0/16");
	ww_diags_free(&d);
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8', '10.1/16']}}}",
			   "invalid-prefix", "/zones/a/networks/1",
			   "\"10.1/16\": not an IP address");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['fd00::/129']}}}",
			   "invalid-prefix", "/zones/a/networks/0",
			   "\"fd00::/129\": prefix length must be 0-128");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': '10.0.0.1/8'}}}",
			   "invalid-prefix", "/zones/a/networks", NULL);
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': [10]}}}", "wrong-type",
			   "/zones/a/networks/0",
			   "expected a network in CIDR notation, got a number");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': {'x': 1}}}}", "wrong-type",
			   "/zones/a/networks", "expected an array of addresses, got an object");
	/* The same prefix twice, in two zones or in one. */
	assert_first_error(
	    "{" UNIT_HDR "'zones': {'b': {'networks': ['10.0.0.0/8']}, "
	    "'a': {'networks': ['10.0.0.0/8']}}}",
	    "duplicate-prefix", "/zones/b/networks/0",
	    "10.0.0.0/8 is already at /zones/a/networks/0: an address must belong to "
	    "one zone or host");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['fd00::/8', 'fd00::/8']}}}",
			   "duplicate-prefix", "/zones/a/networks/1", NULL);
	/* A host group may not repeat its zone's network (the later pointer is blamed). */
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/24'], "
			   "'hosts': {'h': '10.0.0.0/24'}}}}",
			   "duplicate-prefix", "/zones/a/networks/0",
			   "10.0.0.0/24 is already at /zones/a/hosts/h: an address must belong to "
			   "one zone or host");
}

static void test_host_errors(void **state)
{
	struct ww_diags d;

	assert_first_error(POL_HOSTS("'h': ['10.3.0.5']"), "host-outside-zone",
			   "/zones/a/hosts/h/0",
			   "10.3.0.5 is not inside any network of zone \"a\"");
	/* Inside another zone is outside its own. */
	assert_first_error(POL_HOSTS("'h': ['10.9.0.0/24']"), "host-outside-zone",
			   "/zones/a/hosts/h/0",
			   "10.9.0.0/24 is not inside any network of zone \"a\"");
	/* Wider than the zone network that holds its address. */
	assert_first_error(POL_HOSTS("'h': ['10.0.0.0/15']"), "host-outside-zone",
			   "/zones/a/hosts/h/0", NULL);
	assert_first_error(POL_HOSTS("'h': []"), "empty-host", "/zones/a/hosts/h",
			   "host \"h\" has no address");
	assert_first_error(POL_HOSTS("'h': ['10.0.0.1/33']"), "invalid-prefix",
			   "/zones/a/hosts/h/0", "\"10.0.0.1/33\": prefix length must be 0-32");
	unit_parse_bad(POL_HOSTS("'h': ['10.0.0.1/24']"), &d);
	assert_diag(&d, 0, "invalid-prefix", "/zones/a/hosts/h/0",
		    "\"10.0.0.1/24\": host bits are set");
	assert_string_equal(d.v[0].hint, "10.0.0.0/24");
	ww_diags_free(&d);
	assert_first_error(POL_HOSTS("'H 1': ['10.0.0.1']"), "invalid-name", "/zones/a/hosts/H 1",
			   "host name \"H 1\" is invalid: use 1-32 letters, digits, '-', '_', "
			   "starting with a letter or digit");
	assert_first_error(POL_HOSTS("'h': ['10.0.0.1'], 'h': ['10.0.0.2']"), "duplicate-key",
			   "/zones/a/hosts/h", "host \"h\" is defined twice");
	assert_first_error(POL_HOSTS("'h': ['10.0.0.1'], 'g': '10.0.0.1'"), "duplicate-prefix",
			   "/zones/a/hosts/h/0",
			   "10.0.0.1 is already at /zones/a/hosts/g: an address must belong to one "
			   "zone or host");
	assert_first_error("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8'], 'hosts': "
			   "['10.0.0.1']}}}",
			   "wrong-type", "/zones/a/hosts",
			   "expected an object of host names to addresses, got an array");
}

/* ---- services ---- */

static void test_service_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad(SVC("[{'proto': 'tpc', 'ports': [1]}]"), &d);
	assert_diag(&d, 0, "unknown-protocol", "/services/x/0/proto",
		    "unknown protocol \"tpc\": expected tcp, udp, sctp, icmp, icmpv6, any or a "
		    "number 0-255");
	assert_string_equal(d.v[0].hint, "tcp");
	ww_diags_free(&d);
	assert_first_error(SVC("[{'proto': 256}]"), "out-of-range", "/services/x/0/proto",
			   "256 is out of range: expected an integer 0-255");
	assert_first_error(SVC("[{'proto': '256'}]"), "unknown-protocol", "/services/x/0/proto",
			   NULL);
	assert_first_error(SVC("[{'proto': 'TCP'}]"), "unknown-protocol", "/services/x/0/proto",
			   NULL);
	assert_first_error(SVC("[{'proto': true}]"), "wrong-type", "/services/x/0/proto",
			   "expected a protocol name or number, got a boolean");
	assert_first_error(SVC("[{'ports': [1]}]"), "missing-field", "/services/x/0",
			   "a service term needs \"proto\"");
	assert_first_error(SVC("[{'proto': 'icmp', 'ports': [8]}]"), "ports-not-applicable",
			   "/services/x/0/ports",
			   "protocol icmp has no ports: use \"types\" for ICMP types");
	assert_first_error(SVC("[{'proto': 47, 'ports': [8]}]"), "ports-not-applicable",
			   "/services/x/0/ports", "protocol gre has no ports");
	assert_first_error(SVC("[{'proto': 'udp', 'types': [8]}]"), "types-not-applicable",
			   "/services/x/0/types", "protocol udp has no ICMP types");
	assert_first_error(SVC("[{'proto': 'any', 'types': [8]}]"), "types-not-applicable",
			   "/services/x/0/types", "protocol any has no ICMP types");
	assert_first_error(SVC("[{'proto': 'icmp', 'types': [8], 'ports': [1]}]"),
			   "conflicting-fields", "/services/x/0",
			   "a term has either \"ports\" or \"types\"");
	assert_first_error(SVC("[{'proto': 'tcp', 'ports': []}]"), "empty-list",
			   "/services/x/0/ports", "\"ports\" is empty: leave it out to mean all");
	assert_first_error(SVC("[{'proto': 'tcp', 'ports': 443}]"), "wrong-type",
			   "/services/x/0/ports", "expected an array of ports, got a number");
	assert_first_error(SVC("[{'proto': 'icmp', 'types': '8'}]"), "wrong-type",
			   "/services/x/0/types", "expected an array of types, got a string");
	assert_first_error(SVC("[{'proto': 'tcp', 'port': [1]}]"), "unknown-field",
			   "/services/x/0/port", "unknown field \"port\"");
	assert_first_error(SVC("[]"), "empty-service", "/services/x",
			   "service \"x\" matches nothing");
	assert_first_error(SVC("{'description': 'd'}"), "missing-field", "/services/x",
			   "service \"x\" has no \"terms\"");
	assert_first_error(SVC("{'terms': [], 'desc': 'd'}"), "unknown-field", "/services/x/desc",
			   "unknown field \"desc\"");
	assert_first_error(SVC("'tcp/443'"), "wrong-type", "/services/x",
			   "expected an array of terms, got a string");
	assert_first_error(
	    SVC("['tcp']"), "wrong-type", "/services/x/0",
	    "expected an object such as {\"proto\": \"tcp\", \"ports\": [443]}, got a "
	    "string");
	assert_first_error(POL(", 'services': {'a b': [{'proto': 'tcp'}]}"), "invalid-name",
			   "/services/a b", NULL);
	assert_first_error(POL(", 'services': []"), "wrong-type", "/services",
			   "expected an object of service names to terms, got an array");
	assert_first_error(POL(", 'services': {'x': [{'proto': 'tcp'}], 'x': [{'proto': 'udp'}]}"),
			   "duplicate-key", "/services/x", "service \"x\" is defined twice");
}

static void test_port_errors(void **state)
{
#define PORTS(p) SVC("[{'proto': 'tcp', 'ports': [" p "]}]")
	assert_first_error(PORTS("0"), "out-of-range", "/services/x/0/ports/0",
			   "0 is out of range: expected an integer 1-65535");
	assert_first_error(PORTS("80, 65536"), "out-of-range", "/services/x/0/ports/1",
			   "65536 is out of range: expected an integer 1-65535");
	assert_first_error(PORTS("44.5"), "not-integer", "/services/x/0/ports/0",
			   "44.5 is not a whole number: expected an integer 1-65535");
	assert_first_error(PORTS("'0-10'"), "out-of-range", "/services/x/0/ports/0",
			   "\"0-10\" is out of range: expected 1-65535");
	assert_first_error(PORTS("'1-65536'"), "out-of-range", "/services/x/0/ports/0",
			   "\"1-65536\" is out of range: expected 1-65535");
	assert_first_error(PORTS("'90-80'"), "invalid-range", "/services/x/0/ports/0",
			   "range \"90-80\" is reversed: write \"80-90\"");
	assert_first_error(PORTS("'80-'"), "invalid-range", "/services/x/0/ports/0",
			   "\"80-\" is not a number or a range \"lo-hi\"");
	assert_first_error(PORTS("'http'"), "invalid-range", "/services/x/0/ports/0", NULL);
	assert_first_error(PORTS("' 80'"), "invalid-range", "/services/x/0/ports/0", NULL);
	assert_first_error(PORTS("'80-90-100'"), "invalid-range", "/services/x/0/ports/0", NULL);
	assert_first_error(PORTS("true"), "wrong-type", "/services/x/0/ports/0",
			   "expected a number or a range \"lo-hi\", got a boolean");
#undef PORTS
	assert_first_error(SVC("[{'proto': 'icmp', 'types': [256]}]"), "out-of-range",
			   "/services/x/0/types/0",
			   "256 is out of range: expected an integer 0-255");
	assert_first_error(SVC("[{'proto': 'icmpv6', 'types': ['1-300']}]"), "out-of-range",
			   "/services/x/0/types/0", "\"1-300\" is out of range: expected 0-255");
	/* ICMP type 0 (echo reply) is a type, not "no port". */
	struct ww_policy *p = unit_parse_ok(SVC("[{'proto': 'icmp', 'types': [0, '0-3']}]"));
	ww_policy_free(p);
}

static void test_range_parse(void **state)
{
	unsigned int lo = 7, hi = 7;

	assert_int_equal(ww_range_parse("443", 65535, &lo, &hi), 0);
	assert_int_equal(lo, 443);
	assert_int_equal(hi, 443);
	assert_int_equal(ww_range_parse("8000-8080", 65535, &lo, &hi), 0);
	assert_int_equal(lo, 8000);
	assert_int_equal(hi, 8080);
	assert_int_equal(ww_range_parse("0-255", 255, &lo, &hi), 0);
	assert_int_equal(ww_range_parse("65535", 65535, &lo, &hi), 0);
	assert_int_equal(ww_range_parse("5-5", 65535, &lo, &hi), 0);
	assert_int_equal(ww_range_parse("90-80", 65535, &lo, &hi), -EDOM);
	assert_int_equal(lo, 90);
	assert_int_equal(hi, 80);
	assert_int_equal(ww_range_parse("65536", 65535, &lo, &hi), -ERANGE);
	assert_int_equal(ww_range_parse("256", 255, &lo, &hi), -ERANGE);
	assert_int_equal(ww_range_parse("99999999999999999999999", 65535, &lo, &hi), -ERANGE);
	assert_int_equal(ww_range_parse("1-99999999999999999999999", 65535, &lo, &hi), -ERANGE);
	assert_int_equal(ww_range_parse("", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("-1", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("+1", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("1-", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("1--2", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("1- 2", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("1x", 65535, &lo, &hi), -EINVAL);
	assert_int_equal(ww_range_parse("1-2-3", 65535, &lo, &hi), -EINVAL);
}

/* ---- flows ---- */

static void test_endpoint_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad(FLOWS("{'from': 'bb', 'to': 'b', 'services': ['https'], 'action': 'allow'}"),
		       &d);
	assert_diag(&d, 0, "unknown-zone", "/flows/0/from", "unknown zone \"bb\"");
	assert_string_equal(d.v[0].hint, "b");
	ww_diags_free(&d);
	unit_parse_bad(FLOWS("{'from': 'a', 'to': ['b', 'b/hh'], 'services': ['https'], 'action': "
			     "'allow'}"),
		       &d);
	assert_diag(&d, 0, "unknown-host", "/flows/0/to/1", "zone \"b\" has no host \"hh\"");
	assert_string_equal(d.v[0].hint, "h");
	ww_diags_free(&d);
	unit_parse_bad(
	    FLOWS("{'from': 'a/h', 'to': 'b', 'services': ['https'], 'action': 'allow'}"), &d);
	assert_diag(&d, 0, "unknown-host", "/flows/0/from", "zone \"a\" has no host \"h\"");
	assert_null(d.v[0].hint);
	ww_diags_free(&d);
	assert_first_error(
	    FLOWS("{'from': 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz/h', 'to': 'b', "
		  "'services': ['https'], 'action': 'allow'}"),
	    "unknown-zone", "/flows/0/from",
	    "unknown zone \"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\"");
	assert_first_error(FLOWS("{'to': 'b', 'services': ['https'], 'action': 'allow'}"),
			   "missing-field", "/flows/0/from", "missing \"from\"");
	assert_first_error(
	    FLOWS("{'from': 'a', 'to': 5, 'services': ['https'], 'action': 'allow'}"), "wrong-type",
	    "/flows/0/to",
	    "expected a zone, \"zone/host\", \"*\" or an array of them, got a number");
	assert_first_error(
	    FLOWS("{'from': [], 'to': 'b', 'services': ['https'], 'action': 'allow'}"),
	    "empty-list", "/flows/0/from", "the list is empty");
	assert_first_error(FLOWS("{'from': ['a', '*'], 'to': 'b', 'services': ['https'], "
				 "'action': 'allow'}"),
			   "wildcard-in-list", "/flows/0/from/1",
			   "\"*\" already means every zone: list it alone");
	assert_first_error(FLOWS("{'from': ['a', 'b/h', 'a'], 'to': 'b', 'services': ['https'], "
				 "'action': 'allow'}"),
			   "duplicate-endpoint", "/flows/0/from/2", "\"a\" is listed twice");
	assert_first_error(FLOWS("{'from': [1], 'to': 'b', 'services': ['https'], 'action': "
				 "'allow'}"),
			   "wrong-type", "/flows/0/from/0",
			   "expected a zone or \"zone/host\", got a number");
	/* A host group listed with its own zone adds nothing: dropped, with a warning. */
	struct ww_policy *q = NULL;
	struct ww_diags w = {0};
	assert_int_equal(unit_parse_into(FLOWS("{'from': ['b/h', 'a', 'b'], 'to': 'a', 'services': "
					       "['https'], 'action': 'allow'}"),
					 &w, &q),
			 0);
	assert_int_equal(w.nerrors, 0);
	assert_non_null(unit_find_diag(&w, "redundant-endpoint", "/flows/0/from/0"));
	assert_int_equal(q->flows[0].from.n, 2);
	assert_null(q->flows[0].from.v[0].host);
	assert_null(q->flows[0].from.v[1].host);
	ww_policy_free(q);
	ww_diags_free(&w);
	/* "*" alone in a list is fine. */
	struct ww_policy *p = unit_parse_ok(
	    FLOWS("{'from': ['*'], 'to': 'b', 'services': ['https'], 'action': 'allow'}"));
	assert_true(p->flows[0].from.all);
	ww_policy_free(p);
}

static void test_flow_errors(void **state)
{
	struct ww_diags d;

	unit_parse_bad(FLOWS("{'from': 'a', 'to': 'b', 'services': ['htps'], 'action': 'allow'}"),
		       &d);
	assert_diag(&d, 0, "unknown-service", "/flows/0/services/0", "unknown service \"htps\"");
	assert_string_equal(d.v[0].hint, "https");
	ww_diags_free(&d);
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': 'nope', 'action': 'allow'}"),
			   "unknown-service", "/flows/0/services", "unknown service \"nope\"");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': ['ssh', 'ssh'], 'action': "
				 "'allow'}"),
			   "duplicate-service", "/flows/0/services/1",
			   "service \"ssh\" is listed twice");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': [], 'action': 'allow'}"),
			   "empty-list", "/flows/0/services",
			   "the list is empty: use [\"any\"] for all traffic");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': {}, 'action': 'allow'}"),
			   "wrong-type", "/flows/0/services",
			   "expected a service name or an array of them, got an object");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'action': 'allow'}"), "missing-field",
			   "/flows/0", "missing \"services\" (use [\"any\"] for all traffic)");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': ['ssh']}"), "missing-field",
			   "/flows/0", "missing \"action\" (\"allow\", \"deny\" or \"reject\")");
	assert_first_error(FLOWS(FLOW(", 'action': 'deny'")), "duplicate-key", "/flows/0/action",
			   "\"action\" is given more than once");
	assert_first_error(FLOWS("{'from': 'a', 'to': 'b', 'services': ['ssh'], 'action': 'drop'}"),
			   "invalid-value", "/flows/0/action",
			   "\"drop\" is not valid here: expected \"allow\", \"deny\" or \"reject\"");
	assert_first_error(FLOWS(FLOW(", 'mode': 'audit'")), "invalid-value", "/flows/0/mode",
			   "\"audit\" is not valid here: expected \"enforce\" or \"monitor\"");
	assert_first_error(FLOWS(FLOW(", 'log': 'all'")), "wrong-type", "/flows/0/log",
			   "expected true or false, got a string");
	assert_first_error(FLOWS(FLOW(", 'owner': 7")), "wrong-type", "/flows/0/owner",
			   "expected a string, got a number");
	assert_first_error(FLOWS(FLOW(", 'controls': 'CIR'")), "wrong-type", "/flows/0/controls",
			   "expected an array of strings, got a string");
	assert_first_error(FLOWS(FLOW(", 'controls': ['a', 2]")), "wrong-type",
			   "/flows/0/controls/1", "expected a string, got a number");
	unit_parse_bad(FLOWS(FLOW(", 'acton': 'deny'")), &d);
	assert_diag(&d, 0, "unknown-field", "/flows/0/acton", "unknown field \"acton\"");
	assert_string_equal(d.v[0].hint, "action");
	ww_diags_free(&d);
	assert_first_error(FLOWS("'ws-to-ehr'"), "wrong-type", "/flows/0",
			   "expected an object, got a string");
	assert_first_error(POL(", 'flows': {}"), "wrong-type", "/flows",
			   "expected an array of flows, got an object");
}

static void test_flow_ids(void **state)
{
	struct ww_diags d;

	assert_first_error(
	    FLOWS(FLOW(", 'id': 'web server'")), "invalid-name", "/flows/0/id",
	    "flow name \"web server\" is invalid: use 1-48 letters, digits, '-', '_', "
	    "'.', starting with a letter or digit");
	assert_first_error(FLOWS(FLOW(", 'id': 'a'") ", " FLOW(", 'id': 'a', 'mode': 'monitor'")),
			   "duplicate-id", "/flows/1/id",
			   "flow id \"a\" is already used by /flows/0");
	/* Two flows meaning the same thing share their derived id. */
	unit_parse_bad(FLOWS(FLOW("") ", " FLOW(", 'owner': 'someone else'")), &d);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.v[0].code, "duplicate-flow");
	assert_string_equal(d.v[0].ptr, "/flows/1");
	assert_memory_equal(
	    d.v[0].msg, "this flow repeats /flows/0 exactly (its derived id is \"flow-",
	    strlen("this flow repeats /flows/0 exactly (its derived id is \"flow-"));
	ww_diags_free(&d);
}

static void test_window_errors(void **state)
{
	struct ww_diags d;

	assert_first_error(
	    FLOWS(FLOW(", 'valid': {'from': '2026-03-10 08:00'}")), "invalid-time",
	    "/flows/0/valid/from",
	    "\"2026-03-10 08:00\" is not an RFC 3339 time such as 2026-03-10T08:00Z");
	assert_first_error(FLOWS(FLOW(", 'valid': {'until': 1773129600}")), "wrong-type",
			   "/flows/0/valid/until",
			   "expected an RFC 3339 time such as 2026-03-10T08:00Z, got a number");
	assert_first_error(FLOWS(FLOW(", 'valid': {}")), "empty-window", "/flows/0/valid",
			   "a validity window needs \"from\", \"until\" or both");
	/* [from, until) must hold at least one second. */
	assert_first_error(
	    FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:00:00Z', "
		       "'until': '2026-03-10T09:00:00+01:00'}")),
	    "invalid-window", "/flows/0/valid/until",
	    "the window ends (2026-03-10T08:00:00Z) the moment it starts: it is empty");
	assert_first_error(FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:00:00Z', "
				      "'until': '2026-03-10T07:00:00Z'}")),
			   "invalid-window", "/flows/0/valid/until",
			   "the window ends (2026-03-10T07:00:00Z) before it starts");
	unit_parse_bad(FLOWS(FLOW(", 'valid': {'untill': '2026-03-10T08:00:00Z'}")), &d);
	assert_diag(&d, 0, "unknown-field", "/flows/0/valid/untill", "unknown field \"untill\"");
	assert_string_equal(d.v[0].hint, "until");
	ww_diags_free(&d);
	assert_first_error(FLOWS(FLOW(", 'valid': '2026'")), "wrong-type", "/flows/0/valid",
			   "expected an object {\"from\": TIME, \"until\": TIME}, got a string");
	/* An offset must not carry the instant out of what prints back as RFC 3339. */
	assert_first_error(FLOWS(FLOW(", 'valid': {'from': '1970-01-01T00:30:00+01:00'}")),
			   "invalid-time", "/flows/0/valid/from",
			   "\"1970-01-01T00:30:00+01:00\" is not an RFC 3339 time such as "
			   "2026-03-10T08:00Z");
	assert_first_error(FLOWS(FLOW(", 'valid': {'until': '9999-12-31T23:59:59-01:00'}")),
			   "invalid-time", "/flows/0/valid/until", NULL);
	/* Seconds may be left out; what is given must still be whole. */
	struct ww_policy *q =
	    unit_parse_ok(FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:00Z', "
				     "'until': '2026-03-10T09:30+01:00'}")));
	assert_int_equal(q->flows[0].valid_from, 1773129600);
	assert_int_equal(q->flows[0].valid_until, 1773131400);
	ww_policy_free(q);
	assert_first_error(FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:0Z'}")), "invalid-time",
			   "/flows/0/valid/from", NULL);
	assert_first_error(FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:00:Z'}")),
			   "invalid-time", "/flows/0/valid/from", NULL);
	/* One second is enough. */
	struct ww_policy *p =
	    unit_parse_ok(FLOWS(FLOW(", 'valid': {'from': '2026-03-10T08:00:00Z', "
				     "'until': '2026-03-10T08:00:01Z'}")));
	ww_policy_free(p);
}

/* ---- invariants ---- */

static void test_invariant_errors(void **state)
{
	struct ww_diags d;
#define INV(x) POL(", 'invariants': [" x "]")
	assert_first_error(INV("{'expect': 'deny', 'from': 'a', 'to': 'b'}"), "missing-field",
			   "/invariants/0", "an invariant needs an \"id\"");
	assert_first_error(INV("{'id': 'i', 'from': 'a', 'to': 'b'}"), "missing-field",
			   "/invariants/0", "missing \"expect\" (\"allow\" or \"deny\")");
	assert_first_error(INV("{'id': 'i', 'expect': 'block', 'from': 'a', 'to': 'b'}"),
			   "invalid-value", "/invariants/0/expect",
			   "\"block\" is not valid here: expected \"allow\" or \"deny\"");
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a'}"), "missing-field",
			   "/invariants/0/to", "missing \"to\"");
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': '*', 'except': "
			       "'*'}"),
			   "invalid-value", "/invariants/0/except",
			   "\"except\": \"*\" would leave nothing to check");
	unit_parse_bad(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': "
			   "'dnss'}"),
		       &d);
	assert_diag(&d, 0, "unknown-service", "/invariants/0/service", "unknown service \"dnss\"");
	assert_string_equal(d.v[0].hint, "dns");
	ww_diags_free(&d);
	/* Since 1.1 a list is their union; an empty one is an error. */
	struct ww_policy *lp =
	    unit_parse_ok(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': "
			      "['dns', 'tcp/ldap']}"));
	assert_int_equal(lp->invs[0].nspec_svcs, 2);
	assert_int_equal(lp->invs[0].svc->nterms, 3); /* tcp/53, tcp/389, udp/53 */
	ww_policy_free(lp);
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': "
			       "[]}"),
			   "empty-list", "/invariants/0/service",
			   "the list is empty: leave \"service\" out for all traffic");
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': "
			       "3}"),
			   "wrong-type", "/invariants/0/service",
			   "expected a service name or an array of them, got a number");
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b'}, "
			       "{'id': 'i', 'expect': 'allow', 'from': 'b', 'to': 'a'}"),
			   "duplicate-id", "/invariants/1/id",
			   "invariant id \"i\" is already used by /invariants/0");
	assert_first_error(INV("{'id': 'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': "
			       "'dns', 'services': ['dns']}"),
			   "unknown-field", "/invariants/0/services", "unknown field \"services\"");
	assert_first_error(POL(", 'invariants': {}"), "wrong-type", "/invariants",
			   "expected an array of invariants, got an object");
#undef INV
}

/* Validation goes on after an error: every problem is reported at once. */
static void test_reports_everything(void **state)
{
	struct ww_diags d;

	unit_parse_bad(
	    "{'wardwall': 1, 'name': 'x', 'zones': {'a': {'networks': ['10.0.0.1/8']}, "
	    "'b': {}}, 'flows': [{'from': 'c', 'to': 'a', 'services': ['htp'], 'action': "
	    "'allow'}, {'from': 'a', 'to': 'b', 'services': ['ssh'], 'action': 'maybe'}]}",
	    &d);
	assert_int_equal(d.nerrors, 5);
	assert_int_equal(d.n, 5);
	assert_diag(&d, 0, "invalid-prefix", "/zones/a/networks/0", NULL);
	assert_diag(&d, 1, "missing-field", "/zones/b", NULL);
	assert_diag(&d, 2, "unknown-zone", "/flows/0/from", NULL);
	assert_diag(&d, 3, "unknown-service", "/flows/0/services/0", NULL);
	assert_diag(&d, 4, "invalid-value", "/flows/1/action", NULL);
	ww_diags_free(&d);
}

/* Warnings alone do not make a policy invalid; errors already in d are not counted again. */
static void test_existing_diags(void **state)
{
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	char *json = unit_json(POL(""));

	ww_err(&d, "earlier", "", "from another file");
	assert_int_equal(ww_policy_parse("unit.json", json, strlen(json), &d, &p), 0);
	assert_non_null(p);
	assert_int_equal(d.nerrors, 1);
	ww_policy_free(p);
	ww_diags_free(&d);
	free(json);
}

/* Every part of the language once, for the allocation-failure test. */
#define RICH                                                                                       \
	"{'wardwall': 1, 'name': 'rich', 'description': 'd', 'defaults': {'within_zone': "         \
	"'allow', 'log': 'all'}, 'zones': {'a': {'description': 'A', 'criticality': 'high', "      \
	"'networks': ['10.1.0.0/16', 'fd00:1::/48'], 'hosts': {'h': ['10.1.0.5', 'fd00:1::5'], "   \
	"'g': '10.1.1.0/24'}}, 'b': {'mode': 'monitor', 'untrusted': true, 'networks': "           \
	"'10.2.0.0/16'}, 'wan': {'networks': ['0.0.0.0/0', '::/0']}}, 'services': {'web': "        \
	"{'description': 'W', 'terms': [{'proto': 'tcp', 'ports': [80, '8000-8080']}, {'proto': "  \
	"'udp'}]}, 'echo': [{'proto': 'icmp', 'types': [0, 8]}, {'proto': 47}]}, 'flows': ["       \
	"{'id': 'f1', 'from': ['a/h', 'b'], 'to': '*', 'services': ['web', 'echo'], 'action': "    \
	"'allow', 'log': false, 'owner': 'o', 'ticket': 't', 'controls': ['c1', 'c2']}, "          \
	"{'from': 'b', 'to': 'a', 'services': 'any', 'action': 'deny', 'mode': 'monitor', "        \
	"'valid': {'from': '2026-01-01T00:00:00Z', 'until': '2027-01-01T00:00:00+01:00'}}, "       \
	"{'from': '*', 'to': 'wan', 'services': ['https', 'dns'], 'action': 'allow'}], "           \
	"'invariants': [{'id': 'i1', 'expect': 'deny', 'from': 'b', 'to': '*', 'except': "         \
	"['wan', 'a/g'], 'service': 'ssh', 'description': 'x'}, {'id': 'i2', 'expect': 'allow', "  \
	"'from': 'a/h', 'to': 'wan'}], 'enforcement': {'interfaces': ['lan0', 'wan0'], 'xdp': "    \
	"'native'}}"

/* And every part of language 1.1 once: zone groups (in flows, invariants), networks minus networks
 * with built-in address sets, overlapping host groups (a warning), times without seconds, a
 * service narrowed to one protocol, ICMP types by name, a flow's "except" (endpoints and
 * services), an invariant's "except" naming services and its "service" as a list; bridge mode. */
#define RICH_1_1                                                                                   \
	"{'wardwall': 1, 'name': 'rich-1-1', 'groups': {'clinical': ['ehr', 'infusion'], "         \
	"'internal': ['ehr', 'infusion', 'office']}, 'zones': {'ehr': {'networks': "                \
	"['10.20.2.0/24', 'fd00:20:2::/64'], 'hosts': {'servers': '10.20.2.0/28', 'his': "          \
	"'10.20.2.10'}}, 'infusion': {'criticality': 'life-critical', 'networks': "                 \
	"'10.20.40.0/23'}, 'office': {'networks': ['10.30.0.0/16', '10.31.0.0/16'], 'except': "     \
	"['10.31.255.0/24']}, 'vendor': {'untrusted': true, 'networks': ['10.20.250.0/24']}, "      \
	"'internet': {'networks': ['0.0.0.0/0', '::/0'], 'except': ['special-purpose', "            \
	"'multicast']}}, 'services': {'diag': {'terms': [{'proto': 'icmp', 'types': "               \
	"['echo-request', 'time-exceeded', 3]}, {'proto': 'icmpv6', 'types': ['packet-too-big']}]}}" \
	", 'flows': [{'id': 'web', 'from': 'internal', 'to': 'internet', 'services': 'https', "     \
	"'action': 'allow'}, {'id': 'dir', 'from': 'office', 'to': 'ehr/servers', 'services': "     \
	"['tcp/ldap', 'diag'], 'action': 'allow', 'valid': {'from': '2026-12-01T08:00Z', "          \
	"'until': '2027-12-01T10:00+01:00'}}, {'id': 'vm', 'from': 'vendor', 'to': 'internal', "    \
	"'except': {'to': ['infusion'], 'services': ['smb', 'rdp']}, 'services': 'any', 'action': " \
	"'allow'}], 'invariants': [{'id': 'i1', 'expect': 'deny', 'from': 'internet', 'to': "       \
	"'internal'}, {'id': 'i2', 'expect': 'deny', 'from': 'vendor', 'to': '*', 'service': "      \
	"['smb', 'rdp']}, {'id': 'i3', 'expect': 'deny', 'from': 'office', 'to': 'ehr/servers', "   \
	"'except': ['tcp/ldap', 'diag']}], 'enforcement': {'mode': 'bridge', 'interfaces': "        \
	"['port-1', 'port-2'], 'xdp': 'generic'}}"

static char *canonical(const struct ww_policy *p)
{
	struct strbuf sb = {0};

	ww_policy_print_canonical(p, &sb);
	return sb_steal(&sb);
}

/* Whichever allocation fails, the parser says -ENOMEM (or, inside cJSON, which cannot tell,
 * malformed JSON) and returns no policy; or it gets by without that allocation (glibc's qsort
 * can) and returns the same policy. Never a policy with a piece silently missing, never a crash. */
static void out_of_memory(const char *text, long min_allocs, size_t min_nomem)
{
	char *json = unit_json(text), *want;
	size_t len = strlen(json), nomem = 0;
	struct ww_diags refd = {0};
	struct ww_policy *ref = NULL;
	long n;

	assert_int_equal(ww_policy_parse("rich.json", json, len, &refd, &ref), 0);
	want = canonical(ref);
	ww_policy_free(ref);
	for (n = 1;; n++) {
		struct ww_diags d = {0};
		struct ww_policy *p = NULL;
		unit_fail_alloc(n);
		int err = ww_policy_parse("rich.json", json, len, &d, &p);
		long counted = unit_fail_alloc(0);
		if (err == 0) {
			char *got = canonical(p);
			assert_string_equal(got, want);
			assert_int_equal(d.n, refd.n); /* the same warnings, no more */
			free(got);
		} else if (err == -EINVAL) {
			assert_int_equal(d.nerrors, 1);
			assert_string_equal(d.v[0].code, "malformed-json");
			assert_null(p);
		} else {
			assert_int_equal(err, -ENOMEM);
			assert_null(p);
			nomem++;
		}
		ww_policy_free(p);
		ww_diags_free(&d);
		if (counted < n)
			break; /* every allocation has failed once */
	}
	assert_true(n > min_allocs);
	assert_true(nomem > min_nomem);
	ww_diags_free(&refd);
	free(want);
	free(json);
}

static void test_out_of_memory(void **state)
{
	UNIT_REQUIRE_FAULTS();
	out_of_memory(RICH, 200, 100);
}

static void test_out_of_memory_1_1(void **state)
{
	UNIT_REQUIRE_FAULTS();
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	char *json = unit_json(RICH_1_1);

	/* The policy really has what the test is for: a valid policy with the overlap warning. */
	assert_int_equal(ww_policy_parse("rich.json", json, strlen(json), &d, &p), 0);
	assert_int_equal(d.nerrors, 0);
	assert_true(d.n >= 1);
	assert_int_equal(p->ngroups, 2);
	assert_int_equal(p->enf.mode, WW_BRIDGE);
	assert_non_null(ww_flow_find(p, "vm")->except_svcs);
	ww_policy_free(p);
	ww_diags_free(&d);
	free(json);
	out_of_memory(RICH_1_1, 300, 150);
}

UNIT_MAIN(cmocka_unit_test(test_minimal), cmocka_unit_test(test_zones_sorted_with_ids),
	  cmocka_unit_test(test_zone_members), cmocka_unit_test(test_defaults_and_enforcement),
	  cmocka_unit_test(test_builtin_services), cmocka_unit_test(test_services),
	  cmocka_unit_test(test_flows), cmocka_unit_test(test_reject),
	  cmocka_unit_test(test_derived_ids),
	  cmocka_unit_test(test_invariants), cmocka_unit_test(test_load),
	  cmocka_unit_test(test_honours_len), cmocka_unit_test(test_syntax_errors),
	  cmocka_unit_test(test_nul_byte), cmocka_unit_test(test_document_errors),
	  cmocka_unit_test(test_out_of_memory_1_1),
	  cmocka_unit_test(test_unknown_and_duplicate_members),
	  cmocka_unit_test(test_defaults_errors), cmocka_unit_test(test_enforcement_errors),
	  cmocka_unit_test(test_zone_errors), cmocka_unit_test(test_network_errors),
	  cmocka_unit_test(test_host_errors), cmocka_unit_test(test_service_errors),
	  cmocka_unit_test(test_port_errors), cmocka_unit_test(test_range_parse),
	  cmocka_unit_test(test_endpoint_errors), cmocka_unit_test(test_flow_errors),
	  cmocka_unit_test(test_flow_ids), cmocka_unit_test(test_window_errors),
	  cmocka_unit_test(test_invariant_errors), cmocka_unit_test(test_reports_everything),
	  cmocka_unit_test(test_existing_diags), cmocka_unit_test(test_out_of_memory))
