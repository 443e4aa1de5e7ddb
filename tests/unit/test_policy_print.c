// SPDX-License-Identifier: GPL-2.0-only
/* policy_print.c: the canonical form, its fixed point (print -> parse -> print), the hash. */
#define UNIT_FAULTY_MALLOC
#include "unit.h"

static char *print(const struct ww_policy *p)
{
	struct strbuf sb = {0};

	ww_policy_print_canonical(p, &sb);
	assert_false(sb.oom);
	return sb_steal(&sb);
}

/* Parses canonical text as is (no quote translation). */
static struct ww_policy *parse_raw_at(const char *text, const char *file, int line)
{
	struct ww_diags d = {.file = "canonical.json"};
	struct ww_policy *p = NULL;
	int err = ww_policy_parse("canonical.json", text, strlen(text), &d, &p);

	if (err) {
		print_message("# the canonical form does not parse (%d):\n", err);
		unit_dump_diags(&d);
		for (const char *l = text; *l;) {
			size_t n = strcspn(l, "\n");
			print_message("#   %.*s\n", (int)n, l);
			l += n + (l[n] == '\n');
		}
		_fail(file, line);
	}
	ww_diags_free(&d);
	return p;
}

/*
 * The fixed point: the canonical form of p parses, means the same (same flows, ids, counts) and
 * prints to the same bytes. Returns the canonical text (the caller frees it); frees p.
 */
static char *fixed_point_of(struct ww_policy *p, const char *file, int line)
{
	char *once = print(p), *twice, h1[65], h2[65];
	struct ww_policy *q = parse_raw_at(once, file, line);

	twice = print(q);
	if (strcmp(once, twice))
		print_message("# first:\n%s# second:\n%s", once, twice);
	_assert_string_equal(twice, once, file, line);
	_assert_int_equal(q->nzones, p->nzones, file, line);
	_assert_int_equal(q->nhosts, p->nhosts, file, line);
	_assert_int_equal(q->nflows, p->nflows, file, line);
	_assert_int_equal(q->ninvs, p->ninvs, file, line);
	_assert_int_equal(q->enf.mark_mask, p->enf.mark_mask, file, line);
	for (size_t i = 0; i < p->nflows; i++) {
		_assert_string_equal(q->flows[i].id, p->flows[i].id, file, line);
		_assert_int_equal(q->flows[i].action, p->flows[i].action, file, line);
		_assert_true(q->flows[i].valid_from == p->flows[i].valid_from, "valid_from", file,
			     line);
		_assert_true(q->flows[i].valid_until == p->flows[i].valid_until, "valid_until",
			     file, line);
	}
	ww_policy_hash(p, h1);
	ww_policy_hash(q, h2);
	_assert_string_equal(h1, h2, file, line);
	ww_policy_free(p);
	ww_policy_free(q);
	free(twice);
	return once;
}
#define fixed_point(p) fixed_point_of(p, __FILE__, __LINE__)

static void check_fixed_point_at(const char *text, const char *file, int line)
{
	free(fixed_point_of(unit_parse_ok_at(text, file, line), file, line));
}
#define check_fixed_point(text) check_fixed_point_at(text, __FILE__, __LINE__)

static void test_example_fixed_point(void **state)
{
	char *canon = fixed_point(unit_load_example());

	/* Spot checks: derived order and normalization, not just self-consistency. */
	assert_non_null(strstr(canon, "\n    \"biomed\": {\"description\":"));
	assert_true(strstr(canon, "\"biomed\"") < strstr(canon, "\"bms\""));
	assert_non_null(strstr(canon, "\"hosts\": {\"vpn\": [\"10.20.250.0/28\", "
				      "\"fd00:20:250::/124\"]}"));
	assert_non_null(strstr(canon,
			       "\"internet\": {\"description\": \"Everything outside the "
			       "hospital\", \"untrusted\": true, \"networks\": [\"0.0.0.0/0\", "
			       "\"::/0\"]}"));
	assert_non_null(strstr(canon,
			       "\"directory\": {\"description\": \"What domain members need "
			       "from the domain controllers\", \"terms\": [{\"proto\": \"tcp\", "
			       "\"ports\": [53, 88, 389, 445, 464, 636]}, {\"proto\": \"udp\", "
			       "\"ports\": [53, 88, 389, 464]}]}"));
	/* Used built-ins are spelt out; unused ones are not. */
	assert_non_null(strstr(canon, "\n    \"dicom\": {\"description\": \"DICOM upper layer"));
	assert_null(strstr(canon, "\"smb\""));
	assert_non_null(strstr(canon,
			       "{\"id\": \"vendor-ct-window\", \"description\": \"CT vendor "
			       "maintenance, change window of 2027-01-12\", \"from\": "
			       "\"vendor/vpn\", \"to\": \"modality/ct-1\", \"services\": "
			       "[\"https\", \"ssh\"], \"action\": \"allow\", \"valid\": {\"from\": "
			       "\"2027-01-12T08:00:00Z\", \"until\": \"2027-01-12T10:00:00Z\"}"));
	free(canon);
}

static void test_example_is_already_canonical_after_one_print(void **state)
{
	struct ww_policy *p = unit_load_example();
	char *a = print(p), h1[65], h2[65];
	struct ww_policy *q = parse_raw_at(a, __FILE__, __LINE__);

	/* The hash is the sha256 of the canonical text. */
	ww_policy_hash(p, h1);
	sha256_hex(a, strlen(a), h2);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	ww_policy_hash(q, h2);
	assert_string_equal(h1, h2);
	ww_policy_free(p);
	ww_policy_free(q);
	free(a);
}

static void test_golden(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{'wardwall': 1, 'name': 'mini', 'zones': {'b': {'networks': ['10.2.0.0/16'], "
	    "'hosts': {'h': '10.2.0.5'}}, 'a': {'networks': ['10.1.0.0/16'], 'criticality': "
	    "'high'}}, 'flows': [{'id': 'f', 'from': 'a', 'to': 'b/h', 'services': ['ssh', "
	    "'https'], 'action': 'allow'}]}");
	char *s = print(p);

	assert_string_equal(
	    s, "{\n"
	       "  \"wardwall\": 1,\n"
	       "  \"name\": \"mini\",\n"
	       "  \"defaults\": {\"between_zones\": \"deny\", \"within_zone\": \"deny\", \"log\": "
	       "\"deny\"},\n"
	       "  \"zones\": {\n"
	       "    \"a\": {\"criticality\": \"high\", \"networks\": [\"10.1.0.0/16\"]},\n"
	       "    \"b\": {\"networks\": [\"10.2.0.0/16\"], \"hosts\": {\"h\": [\"10.2.0.5\"]}}\n"
	       "  },\n"
	       "  \"services\": {\n"
	       "    \"https\": {\"description\": \"HTTPS: FHIR, DICOMweb, web viewers, device "
	       "APIs\", \"terms\": [{\"proto\": \"tcp\", \"ports\": [443]}]},\n"
	       "    \"ssh\": {\"description\": \"Secure Shell\", \"terms\": [{\"proto\": \"tcp\", "
	       "\"ports\": [22]}]}\n"
	       "  },\n"
	       "  \"flows\": [\n"
	       "    {\"id\": \"f\", \"from\": \"a\", \"to\": \"b/h\", \"services\": [\"https\", "
	       "\"ssh\"], \"action\": \"allow\"}\n"
	       "  ],\n"
	       "  \"invariants\": [],\n"
	       "  \"enforcement\": {\"mode\": \"gateway\", \"interfaces\": [], \"xdp\": \"off\", "
	       "\"log_group\": 4269, \"log_rate\": 50}\n"
	       "}\n");
	free(s);
	ww_policy_free(p);
}

static void test_golden_empty_sections(void **state)
{
	struct ww_policy *p =
	    unit_parse_ok("{'wardwall': 1, 'name': 'n', 'flows': [], 'invariants': [], "
			  "'services': {}, 'zones': {'a': {'networks': '10.0.0.0/8'}}}");
	char *s = print(p);

	assert_string_equal(s, "{\n"
			       "  \"wardwall\": 1,\n"
			       "  \"name\": \"n\",\n"
			       "  \"defaults\": {\"between_zones\": \"deny\", \"within_zone\": "
			       "\"deny\", \"log\": \"deny\"},\n"
			       "  \"zones\": {\n"
			       "    \"a\": {\"networks\": [\"10.0.0.0/8\"]}\n"
			       "  },\n"
			       "  \"services\": {},\n"
			       "  \"flows\": [],\n"
			       "  \"invariants\": [],\n"
			       "  \"enforcement\": {\"mode\": \"gateway\", \"interfaces\": [], "
			       "\"xdp\": \"off\", \"log_group\": 4269, \"log_rate\": 50}\n"
			       "}\n");
	free(s);
	free(fixed_point(p));
}

/* Everything optional at once, spelt the least canonical way the language allows. */
static void test_edge_fixed_point(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{'wardwall': 1, 'name': 'edge.case_1', 'description': 'quote \\' backslash \\\\ nl "
	    "\\n tab \\t ctl \\u0001 uni \\u00e9 \\ud83d\\ude00 del \x7f',"
	    "'defaults': {'log': 'all', 'within_zone': 'allow'},"
	    "'zones': {'z2': {'networks': ['fd00:2::/64', '10.2.0.0/16'], 'mode': 'monitor', "
	    "'criticality': 'life-critical', 'description': '', 'hosts': {'b': ['10.2.0.9', "
	    "'10.2.0.1'], 'a': 'fd00:2::1/128', 'c': ['10.2.128.0/17', 'fd00:2::8/125']}},"
	    "'z1': {'networks': ['fd00:1::/64', '10.1.0.0/16', '10.1.0.0/17'], 'untrusted': true},"
	    "'wan': {'networks': ['::/0'], 'hosts': {}}},"
	    "'services': {'web': {'terms': [{'proto': 'tcp', 'ports': [443, '80-90', 91, '85-86', "
	    "8080]}, {'proto': 6, 'ports': [22]}]},"
	    "'icmpish': [{'proto': 'icmp', 'types': [0, 8, '0-255']}, {'proto': 'icmpv6', "
	    "'types': [128, 129]}, {'proto': 47}, {'proto': '200'}, {'proto': 0}],"
	    "'every': [{'proto': 'tcp', 'ports': [1]}, {'proto': 'any'}],"
	    "'unused': [{'proto': 'udp', 'ports': ['1-65535']}], 'dns': [{'proto': 'udp', "
	    "'ports': [5353]}]},"
	    "'flows': [{'from': ['z2', 'z1'], 'to': '*', 'services': ['web', 'ssh'], "
	    "'action': 'allow', 'log': false},"
	    "{'id': 'x', 'from': 'z2/b', 'to': ['z1', 'z2/a'], 'services': 'icmpish', 'action': "
	    "'deny', 'mode': 'monitor', 'valid': {'from': '2026-01-01T01:00:00+01:00'}, 'log': "
	    "true, 'owner': 'o', 'ticket': '', 'controls': ['c1', 'c2'], 'description': "
	    "'d\\u0027s'},"
	    "{'from': ['*'], 'to': 'wan', 'services': ['every'], 'action': 'deny', 'valid': "
	    "{'until': '2027-01-01T00:00:00-00:30'}},"
	    "{'from': 'z2/c', 'to': 'z2/c', 'services': ['any', 'ping'], 'action': 'allow', "
	    "'controls': [], 'valid': {'from': '2026-01-01T00:00:00Z', 'until': "
	    "'2026-01-01T00:00:01Z'}}],"
	    "'invariants': [{'id': 'i1', 'expect': 'deny', 'from': ['z1', 'z2'], 'to': '*', "
	    "'except': 'wan', 'service': 'dns'},"
	    "{'id': 'i2', 'description': 'dd', 'expect': 'allow', 'from': 'z2/b', 'to': ['z1']},"
	    "{'id': 'i3', 'expect': 'deny', 'from': '*', 'to': ['z2/a', 'z2/b'], 'except': "
	    "['z2/b', 'z1']}],"
	    "'enforcement': {'interfaces': ['eth1', 'eth0'], 'xdp': 'generic', 'log_group': 7, "
	    "'log_rate': 9, 'mode': 'host'}}");
	char *s = fixed_point(p);

	/* The normalizations, one by one. */
	assert_non_null(strstr(s, "\"description\": \"quote \\\" backslash \\\\ nl \\n tab \\t ctl "
				  "\\u0001 uni \xc3\xa9 \xf0\x9f\x98\x80 del \x7f\""));
	assert_non_null(strstr(s, "\"z1\": {\"untrusted\": true, \"networks\": [\"10.1.0.0/16\", "
				  "\"10.1.0.0/17\", \"fd00:1::/64\"]}"));
	assert_non_null(strstr(s, "\"wan\": {\"untrusted\": true, \"networks\": [\"::/0\"]}"));
	assert_non_null(strstr(s, "\"z2\": {\"description\": \"\", \"criticality\": "
				  "\"life-critical\", \"mode\": \"monitor\", \"networks\": "
				  "[\"10.2.0.0/16\", \"fd00:2::/64\"], \"hosts\": {\"a\": "
				  "[\"fd00:2::1\"], \"b\": [\"10.2.0.1\", \"10.2.0.9\"], \"c\": "
				  "[\"10.2.128.0/17\", \"fd00:2::8/125\"]}}"));
	assert_non_null(strstr(s, "\"web\": [{\"proto\": \"tcp\", \"ports\": [22, \"80-91\", 443, "
				  "8080]}]"));
	assert_non_null(strstr(s, "\"icmpish\": [{\"proto\": \"0\"}, {\"proto\": \"icmp\"}, "
				  "{\"proto\": \"gre\"}, {\"proto\": \"icmpv6\", \"types\": "
				  "[\"128-129\"]}, {\"proto\": \"200\"}]"));
	assert_non_null(strstr(s, "\"every\": [{\"proto\": \"any\"}]"));
	assert_non_null(strstr(s, "\"unused\": [{\"proto\": \"udp\", \"ports\": [\"1-65535\"]}]"));
	/* A redefined built-in is the policy's own: no built-in description. */
	assert_non_null(strstr(s, "\"dns\": [{\"proto\": \"udp\", \"ports\": [5353]}]"));
	assert_non_null(strstr(s, "\"ping\": {\"description\": \"ICMP and ICMPv6 echo request\", "
				  "\"terms\": [{\"proto\": \"icmp\", \"types\": [8]}, {\"proto\": "
				  "\"icmpv6\", \"types\": [128]}]}"));
	assert_non_null(strstr(s, "\"from\": [\"z1\", \"z2\"], \"to\": \"*\", \"services\": "
				  "[\"ssh\", \"web\"], \"action\": \"allow\", \"log\": false}"));
	assert_non_null(
	    strstr(s, "{\"id\": \"x\", \"description\": \"d's\", \"from\": \"z2/b\", "
		      "\"to\": [\"z1\", \"z2/a\"], \"services\": [\"icmpish\"], \"action\": "
		      "\"deny\", \"mode\": \"monitor\", \"valid\": {\"from\": "
		      "\"2026-01-01T00:00:00Z\"}, \"log\": true, \"owner\": \"o\", "
		      "\"ticket\": \"\", \"controls\": [\"c1\", \"c2\"]}"));
	assert_non_null(strstr(s, "\"from\": \"*\", \"to\": \"wan\", \"services\": [\"every\"], "
				  "\"action\": \"deny\", \"valid\": {\"until\": "
				  "\"2027-01-01T00:30:00Z\"}}"));
	assert_non_null(strstr(s, "{\"id\": \"i3\", \"expect\": \"deny\", \"from\": \"*\", \"to\": "
				  "[\"z2/a\", \"z2/b\"], \"except\": [\"z1\", \"z2/b\"]}"));
	assert_non_null(strstr(s,
			       "{\"id\": \"i2\", \"description\": \"dd\", \"expect\": \"allow\", "
			       "\"from\": \"z2/b\", \"to\": \"z1\"}"));
	assert_non_null(strstr(s, "\"enforcement\": {\"mode\": \"host\", \"interfaces\": "
				  "[\"eth1\", \"eth0\"], \"xdp\": \"generic\", \"log_group\": 7, "
				  "\"log_rate\": 9}"));
	assert_non_null(strstr(s, "\"defaults\": {\"between_zones\": \"deny\", \"within_zone\": "
				  "\"allow\", \"log\": \"all\"}"));
	free(s);
}

/* Small policies that each stress one corner of the printer. */
static void test_fixed_point_corners(void **state)
{
#define Z                                                                                          \
	"'zones': {'a': {'networks': ['10.0.0.0/8', 'fd00::/16'], 'hosts': {'h': ['10.0.0.1']}}, " \
	"'b': {'networks': ['0.0.0.0/0']}}"
#define P(rest) "{" UNIT_HDR Z rest "}"
	static const char *const cases[] = {
	    P(""),
	    P(", 'flows': [{'from': 'a', 'to': 'b', 'services': 'any', 'action': 'deny'}]"),
	    /* A host that is one address in each family, and a zone networks string. */
	    "{" UNIT_HDR "'zones': {'a': {'networks': 'fd00::/8', 'hosts': {'h': 'fd00::1'}}}}",
	    /* Derived ids for flows that differ only in log, mode or window. */
	    P(", 'flows': [{'from': 'a', 'to': 'b', 'services': 'ssh', 'action': 'allow'}, "
	      "{'from': 'a', 'to': 'b', 'services': 'ssh', 'action': 'allow', 'log': true}, "
	      "{'from': 'a', 'to': 'b', 'services': 'ssh', 'action': 'allow', 'log': false}, "
	      "{'from': 'a', 'to': 'b', 'services': 'ssh', 'action': 'deny', 'mode': 'monitor'}, "
	      "{'from': 'a', 'to': 'b', 'services': 'ssh', 'action': 'allow', 'valid': {'until': "
	      "'2199-12-31T23:59:59Z'}}, {'from': 'a', 'to': 'b', 'services': 'ssh', 'action': "
	      "'allow', 'valid': {'from': '1970-01-01T00:00:00Z'}}]"),
	    /* Windows with offsets at both ends of the range windows may take (before 2200). */
	    P(", 'flows': [{'from': 'a', 'to': 'a', 'services': 'ssh', 'action': 'allow', "
	      "'valid': {'from': '1970-01-01T01:00:00+01:00', 'until': "
	      "'2199-12-31T22:59:59-01:00'}}]"),
	    /* Ranges that merge, touch, nest and cover everything. */
	    P(", 'services': {'s': [{'proto': 'tcp', 'ports': ['1-100', '50-60', '101-200', "
	      "65535]}, {'proto': 'udp', 'ports': ['1-65535']}, {'proto': 'sctp', 'ports': [9]}, "
	      "{'proto': 'icmpv6', 'types': ['0-127', '128-255']}, {'proto': 'udp', 'ports': "
	      "[7]}]}, "
	      "'flows': [{'from': 'a', 'to': 'b', 'services': 's', 'action': 'allow'}]"),
	    /* Built-ins referenced only by an invariant, and redefined ones. */
	    P(", 'services': {'ssh': [{'proto': 'tcp', 'ports': [2222]}]}, 'invariants': [{'id': "
	      "'i', 'expect': 'deny', 'from': 'a', 'to': 'b', 'service': 'ntp'}, {'id': 'j', "
	      "'expect': 'deny', 'from': 'a', 'to': 'b', 'service': 'ssh'}]"),
	    /* A service with a description and a policy without one. */
	    P(", 'services': {'s': {'description': 'tab\\there', 'terms': [{'proto': 'esp'}]}}"),
	    /* Every zone option and every criticality. */
	    "{" UNIT_HDR "'zones': {'l': {'criticality': 'low', 'networks': ['10.1.0.0/16']}, "
	    "'m': {'criticality': 'medium', 'mode': 'monitor', 'networks': ['10.2.0.0/16']}, "
	    "'h': {'criticality': 'high', 'untrusted': true, 'networks': ['10.3.0.0/16']}, "
	    "'x': {'criticality': 'life-critical', 'mode': 'enforce', 'untrusted': false, "
	    "'networks': ['10.4.0.0/16']}}}",
	    /* Names at their longest. */
	    "{'wardwall': 1, 'name': "
	    "'n123456789012345678901234567890123456789012345678901234567890123', 'zones': "
	    "{'z1234567890123456789012345678901': {'networks': ['10.0.0.0/8'], 'hosts': "
	    "{'h1234567890123456789012345678901': ['10.0.0.1']}}}, 'flows': [{'id': "
	    "'f12345678901234567890123456789012345678901234567', 'from': "
	    "'z1234567890123456789012345678901/h1234567890123456789012345678901', 'to': '*', "
	    "'services': 'ssh', 'action': 'allow'}]}",
	    /* Enforcement variants. */
	    P(", 'enforcement': {'xdp': 'native', 'interfaces': ['lan0', 'wan0', 'x.y-z_1'], "
	      "'log_group': 65535, 'log_rate': 1}"),
	    P(", 'enforcement': {'mark_bits': '0X7'}"),
	    P(", 'enforcement': {'mark_bits': '0xFFFFFFFF', 'on_failure': 'open'}"),
	};

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		print_message("# case %zu\n", i);
		check_fixed_point(cases[i]);
	}
#undef P
#undef Z
}

/* mark_bits: printed as 8 lowercase hex digits after log_rate, and only when not the default,
 * so that the policies applied before it existed keep their hash. */
static void test_mark_bits(void **state)
{
#define M(x) "{'wardwall': 1, 'name': 'n', 'zones': {'a': {'networks': ['10.0.0.0/8']}}" x "}"
	struct ww_policy *a = unit_parse_ok(M(""));
	struct ww_policy *b = unit_parse_ok(M(", 'enforcement': {'mark_bits': '0XFFFF0000'}"));
	struct ww_policy *c = unit_parse_ok(M(", 'enforcement': {'mark_bits': '0xF0'}"));
#undef M
	char *sa = print(a), *sb = print(b), *sc = print(c), ha[65], hb[65];

	assert_string_equal(sa, sb);
	ww_policy_hash(a, ha);
	ww_policy_hash(b, hb);
	assert_string_equal(ha, hb);
	assert_null(strstr(sa, "mark_bits"));
	assert_non_null(strstr(sc, "\"log_group\": 4269, \"log_rate\": 50, \"mark_bits\": "
				   "\"0x000000f0\"}\n"));
	free(fixed_point(c));
	free(sa), free(sb), free(sc);
	ww_policy_free(a);
	ww_policy_free(b);
}

/* Spelling that does not change the meaning does not change the canonical form or the hash. */
static void test_spelling_does_not_matter(void **state)
{
	struct ww_policy *a = unit_parse_ok(
	    "{'wardwall': 1, 'name': 'n', 'zones': {'a': {'networks': ['10.0.0.0/8', "
	    "'fd00::/16']}, 'b': {'networks': '10.1.0.0/16', 'hosts': {'y': '10.1.0.2', 'x': "
	    "['10.1.0.1']}}}, 'services': {'s': [{'proto': 'udp', 'ports': [2, 1]}, {'proto': "
	    "'tcp', "
	    "'ports': ['5-6']}]}, 'flows': [{'from': ['b', 'a'], 'to': 'b/x', 'services': ['s', "
	    "'ssh'], 'action': 'allow', 'valid': {'until': '2027-01-12T09:00:00+01:00'}}]}");
	struct ww_policy *b = unit_parse_ok(
	    "{'flows': [{'valid': {'until': '2027-01-12T08:00:00Z'}, 'action': 'allow', "
	    "'services': "
	    "['ssh', 's'], 'to': ['b/x'], 'from': ['a', 'b']}], 'services': {'s': [{'ports': [5, "
	    "6], "
	    "'proto': 6}, {'proto': 17, 'ports': ['1-2']}]}, 'zones': {'b': {'hosts': {'x': "
	    "'10.1.0.1', 'y': ['10.1.0.2/32']}, 'networks': ['10.1.0.0/16']}, 'a': {'networks': "
	    "['fd00::/16', '10.0.0.0/8']}}, 'defaults': {'between_zones': 'deny'}, 'name': 'n', "
	    "'wardwall': 1}");
	char *sa = print(a), *sb = print(b), ha[65], hb[65];

	assert_string_equal(sa, sb);
	ww_policy_hash(a, ha);
	ww_policy_hash(b, hb);
	assert_string_equal(ha, hb);
	assert_string_equal(a->flows[0].id, b->flows[0].id);
	free(sa), free(sb);
	ww_policy_free(a);
	ww_policy_free(b);
}

static void test_hash_changes_with_meaning(void **state)
{
#define H(x) "{'wardwall': 1, 'name': 'n', 'zones': {'a': {'networks': ['10.0.0.0/8']}}" x "}"
	static const char *const variants[] = {
	    H(""),
	    H(", 'defaults': {'within_zone': 'allow'}"),
	    H(", 'flows': [{'from': 'a', 'to': 'a', 'services': 'ssh', 'action': 'allow'}]"),
	    H(", 'flows': [{'from': 'a', 'to': 'a', 'services': 'ssh', 'action': 'deny'}]"),
	    H(", 'flows': [{'from': 'a', 'to': 'a', 'services': 'ssh', 'action': 'deny', 'owner': "
	      "'x'}]"),
	    H(", 'enforcement': {'log_rate': 51}"),
	    H(", 'enforcement': {'mark_bits': '0x0000ffff'}"),
	    H(", 'enforcement': {'mark_bits': '0xffff00'}"),
	    H(", 'description': 'd'"),
	    "{'wardwall': 1, 'name': 'n', 'zones': {'a': {'networks': ['10.0.0.0/9']}}}",
	    "{'wardwall': 1, 'name': 'm', 'zones': {'a': {'networks': ['10.0.0.0/8']}}}",
	};
#undef H
	char h[ARRAY_SIZE(variants)][65];

	for (size_t i = 0; i < ARRAY_SIZE(variants); i++) {
		struct ww_policy *p = unit_parse_ok(variants[i]);
		ww_policy_hash(p, h[i]);
		ww_policy_free(p);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(h[k], h[i]);
	}
}

static void test_flow_print(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.0.0/8']}, 'b': {'networks': "
	    "['10.1.0.0/16'], 'hosts': {'h': '10.1.0.1'}}}, 'flows': [{'id': 'f', 'description': "
	    "'why', 'from': ['b/h', 'a'], 'to': '*', 'services': ['ssh', 'dns'], 'action': 'deny', "
	    "'mode': 'monitor', 'log': true, 'owner': 'me', 'ticket': 'T-1', 'controls': ['c'], "
	    "'valid': {'from': '2026-03-10T08:00:00Z'}}]}");
	struct strbuf sb = {0};

	ww_flow_print_canonical(p, &p->flows[0], false, &sb);
	assert_string_equal(
	    sb_str(&sb), "{\"id\": \"f\", \"description\": \"why\", \"from\": [\"a\", \"b/h\"], "
			 "\"to\": \"*\", \"services\": [\"dns\", \"ssh\"], \"action\": \"deny\", "
			 "\"mode\": \"monitor\", \"valid\": {\"from\": \"2026-03-10T08:00:00Z\"}, "
			 "\"log\": true, \"owner\": \"me\", \"ticket\": \"T-1\", \"controls\": "
			 "[\"c\"]}");
	sb_reset(&sb);
	/* For the derived id: only what the flow means. */
	ww_flow_print_canonical(p, &p->flows[0], true, &sb);
	assert_string_equal(sb_str(&sb),
			    "{\"from\": [\"a\", \"b/h\"], \"to\": \"*\", \"services\": [\"dns\", "
			    "\"ssh\"], \"action\": \"deny\", \"mode\": \"monitor\", \"valid\": "
			    "{\"from\": \"2026-03-10T08:00:00Z\"}, \"log\": true}");
	sb_free(&sb);
	ww_policy_free(p);
}

static void test_service_normalize(void **state)
{
	struct ww_term in[] = {
	    {WW_PROTO_UDP, 53, 53, NULL},   {WW_PROTO_TCP, 100, 200, NULL},
	    {WW_PROTO_TCP, 201, 300, NULL}, {WW_PROTO_TCP, 150, 160, NULL},
	    {WW_PROTO_TCP, 22, 22, NULL},   {WW_PROTO_TCP, 302, 302, NULL},
	    {WW_PROTO_ICMP, 8, 8, NULL},    {WW_PROTO_ICMP, 0, 0, NULL},
	    {WW_PROTO_UDP, 1, 65535, NULL}, {47, 0, 0, NULL},
	    {WW_PROTO_TCP, 250, 400, NULL},
	};
	struct ww_service s = {.name = (char *)"s", .terms = in, .nterms = ARRAY_SIZE(in)};
	struct ww_term *v = (struct ww_term *)1;
	long n = ww_service_normalize(&s, &v);

	assert_int_equal(n, 6);
	assert_int_equal(v[0].proto, WW_PROTO_ICMP);
	assert_int_equal(v[0].lo, 0);
	assert_int_equal(v[0].hi, 0);
	assert_int_equal(v[1].proto, WW_PROTO_ICMP);
	assert_int_equal(v[1].lo, 8);
	assert_int_equal(v[2].proto, WW_PROTO_TCP);
	assert_int_equal(v[2].lo, 22);
	assert_int_equal(v[2].hi, 22);
	/* 100-200, 150-160, 201-300 and 250-400 touch or overlap: one range; 302 falls inside. */
	assert_int_equal(v[3].proto, WW_PROTO_TCP);
	assert_int_equal(v[3].lo, 100);
	assert_int_equal(v[3].hi, 400);
	assert_int_equal(v[4].proto, WW_PROTO_UDP);
	assert_int_equal(v[4].lo, 1);
	assert_int_equal(v[4].hi, 65535);
	assert_int_equal(v[5].proto, 47);
	for (long i = 0; i < n; i++)
		assert_null(v[i].ptr);
	free(v);

	/* "any" absorbs everything else. */
	in[4].proto = WW_PROTO_ANY;
	n = ww_service_normalize(&s, &v);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].proto, WW_PROTO_ANY);
	free(v);

	s.nterms = 0;
	v = (struct ww_term *)1;
	assert_int_equal(ww_service_normalize(&s, &v), 0);
	assert_null(v);

	/* The top of the port range merges without wrapping. */
	struct ww_term top[] = {{WW_PROTO_TCP, 65535, 65535, NULL},
				{WW_PROTO_TCP, 1, 65534, NULL},
				{WW_PROTO_TCP, 0, 0, NULL}};
	s.terms = top;
	s.nterms = 3;
	n = ww_service_normalize(&s, &v);
	assert_int_equal(n, 1);
	assert_int_equal(v[0].lo, 0);
	assert_int_equal(v[0].hi, 65535);
	free(v);
	/* The input is left as it was. */
	assert_int_equal(top[0].lo, 65535);
}

/* Whichever allocation fails, the printer marks its output as incomplete rather than printing
 * something else; without failures it prints the canonical form. */
static void test_out_of_memory(void **state)
{
	UNIT_REQUIRE_FAULTS();
	struct ww_policy *p = unit_load_example();
	char *want = print(p);
	long n;

	for (n = 1;; n++) {
		struct strbuf sb = {0};
		unit_fail_alloc(n);
		ww_policy_print_canonical(p, &sb);
		long counted = unit_fail_alloc(0);
		if (!sb.oom)
			assert_string_equal(sb_str(&sb), want);
		sb_free(&sb);
		if (counted < n)
			break;
	}
	assert_true(n > 20);
	free(want);
	ww_policy_free(p);
}

UNIT_MAIN(cmocka_unit_test(test_example_fixed_point),
	  cmocka_unit_test(test_example_is_already_canonical_after_one_print),
	  cmocka_unit_test(test_golden), cmocka_unit_test(test_golden_empty_sections),
	  cmocka_unit_test(test_edge_fixed_point), cmocka_unit_test(test_fixed_point_corners),
	  cmocka_unit_test(test_spelling_does_not_matter), cmocka_unit_test(test_mark_bits),
	  cmocka_unit_test(test_hash_changes_with_meaning), cmocka_unit_test(test_flow_print),
	  cmocka_unit_test(test_service_normalize), cmocka_unit_test(test_out_of_memory))
