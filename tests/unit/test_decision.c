// SPDX-License-Identifier: GPL-2.0-only
/* decision.c: address flattening, the endpoint-pair index, atoms and decision lists. */
#include "unit.h"

#include "decision.h"

/* The zones: UNIT_ZONES (unit.h). Endpoint ids: campus 1, dmz 2, icu 3, lab 4, campus/db 5,
 * campus/servers 6, icu/pump 7, lab/scope 8. */
#define POL(rest) UNIT_POL(rest)

enum { CAMPUS = 1, DMZ, ICU, LAB, DB, SERVERS, PUMP, SCOPE };

/* "lo-hi class" per interval, one per line. */
static char *intervals_str(const struct ww_policy *p, const struct ww_interval *v, size_t n)
{
	struct strbuf sb = {0};
	char a[WW_PREFIX_STRLEN], b[WW_PREFIX_STRLEN], e[WW_EP_STRLEN];

	for (size_t i = 0; i < n; i++) {
		struct ww_addr lo = {.family = v[i].family, .v = v[i].lo};
		struct ww_addr hi = {.family = v[i].family, .v = v[i].hi};
		sb_addf(&sb, "%s-%s %s\n", ww_addr_str(&lo, a), ww_addr_str(&hi, b),
			ww_ep_name(p, v[i].cls, e));
	}
	return sb_steal(&sb);
}

static void flatten_is_at(const char *text, const char *want, const char *file, int line)
{
	struct ww_policy *p = unit_parse_ok_at(text, file, line);
	struct ww_interval *v = NULL;
	size_t n = 0;

	_assert_int_equal((LargestIntegralType)ww_flatten(p, &v, &n), 0, file, line);
	char *got = intervals_str(p, v, n);
	/* Disjoint, sorted, and no two adjacent intervals of one class left unmerged. */
	for (size_t i = 1; i < n; i++) {
		if (v[i - 1].family != v[i].family)
			continue;
		_assert_true(v[i - 1].hi < v[i].lo, "disjoint and sorted", file, line);
		_assert_true(v[i - 1].hi + 1 != v[i].lo || v[i - 1].cls != v[i].cls, "merged", file,
			     line);
	}
	if (strcmp(got, want))
		print_message("# got:\n%s", got);
	_assert_string_equal(got, want, file, line);
	free(got);
	free(v);
	ww_policy_free(p);
}
#define flatten_is(text, want) flatten_is_at(text, want, __FILE__, __LINE__)

static void test_flatten_nested(void **state)
{
	flatten_is(POL(""), "10.0.0.0-10.0.255.255 campus\n"
			    "10.1.0.0-10.1.2.2 campus/servers\n"
			    "10.1.2.3-10.1.2.3 campus/db\n"
			    "10.1.2.4-10.1.8.255 campus/servers\n"
			    "10.1.9.0-10.1.9.255 dmz\n"
			    "10.1.10.0-10.1.255.255 campus/servers\n"
			    "10.2.0.0-10.2.0.6 lab\n"
			    "10.2.0.7-10.2.0.7 lab/scope\n"
			    "10.2.0.8-10.2.255.255 lab\n"
			    "10.3.0.0-10.3.0.8 icu\n"
			    "10.3.0.9-10.3.0.9 icu/pump\n"
			    "10.3.0.10-10.3.255.255 icu\n"
			    "10.4.0.0-10.255.255.255 campus\n"
			    "fd00::-fd00:0:ffff:ffff:ffff:ffff:ffff:ffff campus\n"
			    "fd00:1::-fd00:1::2 campus/servers\n"
			    "fd00:1::3-fd00:1::3 campus/db\n"
			    "fd00:1::4-fd00:1:8:ffff:ffff:ffff:ffff:ffff campus/servers\n"
			    "fd00:1:9::-fd00:1:9:ffff:ffff:ffff:ffff:ffff dmz\n"
			    "fd00:1:a::-fd00:1:ffff:ffff:ffff:ffff:ffff:ffff campus/servers\n"
			    "fd00:2::-fd00:2::6 lab\n"
			    "fd00:2::7-fd00:2::7 lab/scope\n"
			    "fd00:2::8-fd00:2:ffff:ffff:ffff:ffff:ffff:ffff lab\n"
			    "fd00:3::-fd00:3:ffff:ffff:ffff:ffff:ffff:ffff icu\n"
			    "fd00:4::-fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff campus\n");
}

static void test_flatten_top_of_space(void **state)
{
	/* The whole space, with nothing inside: one interval per family, ending at the very top. */
	flatten_is("{" UNIT_HDR "'zones': {'all': {'networks': ['::/0', '0.0.0.0/0']}}}",
		   "0.0.0.0-255.255.255.255 all\n"
		   "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff all\n");
	/* Prefixes that all end at the top: the innermost takes the last address, and nothing
	 * wraps around to label address 0 again. */
	flatten_is(
	    "{" UNIT_HDR "'zones': {'all': {'networks': ['0.0.0.0/0', '::/0']}, "
	    "'high': {'networks': ['128.0.0.0/1', '8000::/1'], 'hosts': {'top': "
	    "['255.255.255.255', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff']}}}}",
	    "0.0.0.0-127.255.255.255 all\n"
	    "128.0.0.0-255.255.255.254 high\n"
	    "255.255.255.255-255.255.255.255 high/top\n"
	    "::-7fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff all\n"
	    "8000::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe high\n"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "high/top\n");
	/* The bottom of the space, and a top prefix with no enclosing one. */
	flatten_is(
	    "{" UNIT_HDR "'zones': {'all': {'networks': ['0.0.0.0/0'], 'hosts': {'zero': "
	    "'0.0.0.0'}}, 'top': {'networks': ['255.255.255.255', "
	    "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120', '::/128']}}}",
	    "0.0.0.0-0.0.0.0 all/zero\n"
	    "0.0.0.1-255.255.255.254 all\n"
	    "255.255.255.255-255.255.255.255 top\n"
	    "::-:: top\n"
	    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	    "top\n");
}

static void test_flatten_merges_and_gaps(void **state)
{
	/* Adjacent networks of one class merge; of two classes they do not; gaps stay gaps. */
	flatten_is("{" UNIT_HDR "'zones': {'a': {'networks': ['10.0.1.0/24', '10.0.0.0/24', "
		   "'10.0.3.0/24']}, 'b': {'networks': ['10.0.2.0/25', '10.0.2.128/25']}}}",
		   "10.0.0.0-10.0.1.255 a\n"
		   "10.0.2.0-10.0.2.255 b\n"
		   "10.0.3.0-10.0.3.255 a\n");
	/* A host group covering the rest of its zone leaves the zone's own class empty. */
	flatten_is("{" UNIT_HDR "'zones': {'z': {'networks': ['10.0.0.0/31'], 'hosts': {'h1': "
		   "'10.0.0.0', 'h2': '10.0.0.1'}}, 'y': {'networks': ['10.0.0.2/31']}}}",
		   "10.0.0.0-10.0.0.0 z/h1\n"
		   "10.0.0.1-10.0.0.1 z/h2\n"
		   "10.0.0.2-10.0.0.3 y\n");
	/* Nested networks of the same zone: one class throughout. */
	flatten_is("{" UNIT_HDR "'zones': {'z': {'networks': ['10.0.0.0/8', '10.1.0.0/16', "
		   "'10.1.2.0/24']}}}",
		   "10.0.0.0-10.255.255.255 z\n");
}

static void test_classes(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    "{" UNIT_HDR "'zones': {'z': {'networks': ['10.0.0.0/31', 'fd00::/64'], 'hosts': "
	    "{'h1': '10.0.0.0', 'h2': ['10.0.0.1', 'fd00::1']}}, 'y': {'networks': "
	    "['10.0.0.2/31']}}}");
	struct ww_classes c;
	/* y 1, z 2, z/h1 3, z/h2 4 */

	assert_int_equal(ww_classes_build(p, &c), 0);
	assert_int_equal(c.niv, 6);
	assert_true(c.nonempty[1]);
	assert_true(c.nonempty[2]); /* through its IPv6 network */
	assert_true(c.nonempty[3]);
	assert_true(c.nonempty[4]);
	assert_false(c.nonempty[0]);
	assert_int_equal(c.first[3], 0);
	assert_int_equal(c.first[4], 1);
	assert_int_equal(c.first[1], 2);
	assert_int_equal(c.first[2], 3); /* fd00::0, before fd00::1 of h2 */
	assert_int_equal(c.iv[c.first[2]].family, WW_INET6);
	ww_classes_free(&c);
	assert_null(c.iv);
	ww_policy_free(p);

	/* A zone whose own addresses are all host groups' has no class of its own. */
	p = unit_parse_ok("{" UNIT_HDR "'zones': {'z': {'networks': ['10.0.0.0/31'], 'hosts': "
			  "{'h1': '10.0.0.0', 'h2': '10.0.0.1'}}}}");
	assert_int_equal(ww_classes_build(p, &c), 0);
	assert_false(c.nonempty[1]);
	assert_true(c.nonempty[2]);
	assert_true(c.nonempty[3]);
	ww_classes_free(&c);
	ww_policy_free(p);
}

static void test_class_of(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(""));
	struct ww_class c;

	c = ww_class_of(p, CAMPUS);
	assert_string_equal(c.zone->name, "campus");
	assert_null(c.host);
	assert_null(c.net);
	c = ww_class_of(p, DB);
	assert_string_equal(c.zone->name, "campus");
	assert_string_equal(c.host->name, "db");
	c = ww_class_of(p, SCOPE);
	assert_string_equal(c.zone->name, "lab");
	assert_string_equal(c.host->name, "scope");
	c = ww_class_of(p, 0);
	assert_null(c.zone);
	c = ww_class_of(p, SCOPE + 1);
	assert_null(c.zone);
	assert_null(c.host);
	assert_ptr_equal(ww_ep_zone(p, PUMP), ww_zone_find(p, "icu"));
	assert_null(ww_ep_zone(p, 0));
	ww_policy_free(p);
}

/* ---- endpoint pairs ---- */

static void list_is_at(const struct ww_pairidx *ix, ww_ep_t s, ww_ep_t d, const uint32_t *want,
		       size_t n, const char *file, int line)
{
	const struct ww_pairlist *l = ww_pairidx_get(ix, s, d);

	if (!n) {
		_assert_true(l == NULL, "no list", file, line);
		return;
	}
	_assert_true(l != NULL, "a list", file, line);
	_assert_int_equal(l->n, n, file, line);
	for (size_t i = 0; i < n; i++)
		_assert_int_equal(l->flows[i], want[i], file, line);
}
#define list_is(ix, s, d, ...)                                                                     \
	list_is_at(ix, s, d, (const uint32_t[]){__VA_ARGS__},                                      \
		   sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), __FILE__, __LINE__)
#define no_list(ix, s, d) list_is_at(ix, s, d, NULL, 0, __FILE__, __LINE__)

static void test_pairidx(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'flows': [{'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}, "
	    "{'from': ['campus/db', 'dmz'], 'to': ['lab/scope', 'icu'], 'services': 'https', "
	    "'action': 'allow'}, {'from': '*', 'to': 'icu', 'services': 'any', 'action': 'deny'}, "
	    "{'from': 'campus', 'to': 'lab', 'services': 'dns', 'action': 'deny'}]"));
	struct ww_pairidx ix;

	assert_int_equal(ww_pairidx_build(p, &ix), 0);
	list_is(&ix, CAMPUS, LAB, 0, 3);
	list_is(&ix, DB, SCOPE, 1);
	list_is(&ix, DB, ICU, 1);
	list_is(&ix, DMZ, SCOPE, 1);
	/* "*" means every zone, as zones (hosts are reached through them). */
	list_is(&ix, DMZ, ICU, 1, 2);
	list_is(&ix, CAMPUS, ICU, 2);
	list_is(&ix, ICU, ICU, 2);
	list_is(&ix, LAB, ICU, 2);
	no_list(&ix, DB, LAB);
	no_list(&ix, CAMPUS, SCOPE);
	no_list(&ix, LAB, CAMPUS);
	no_list(&ix, CAMPUS, PUMP);
	no_list(&ix, SERVERS, ICU);
	/* campus-lab, four pairs of flow 1, and three more zones into icu. */
	assert_int_equal(ix.n, 8);
	ww_pairidx_free(&ix);
	assert_null(ix.v);
	assert_null(ww_pairidx_get(&ix, CAMPUS, LAB));
	ww_policy_free(p);
}

/* Enough pairs to make the table grow several times; every one is found afterwards. */
static void test_pairidx_grows(void **state)
{
	struct strbuf sb = {0};

	sb_add(&sb, "{" UNIT_HDR "'zones': {");
	for (int i = 0; i < 40; i++)
		sb_addf(&sb, "%s'z%02d': {'networks': ['10.%d.0.0/16']}", i ? ", " : "", i, i);
	sb_add(&sb, "}, 'flows': [{'from': '*', 'to': '*', 'services': 'any', 'action': 'deny'}, "
		    "{'from': 'z03', 'to': 'z07', 'services': 'ssh', 'action': 'allow'}]}");
	struct ww_policy *p = unit_parse_ok(sb_str(&sb));
	struct ww_pairidx ix;

	assert_int_equal(ww_pairidx_build(p, &ix), 0);
	assert_int_equal(ix.n, 1600);
	assert_true(ix.cap >= 3200);
	for (ww_ep_t s = 1; s <= 40; s++)
		for (ww_ep_t d = 1; d <= 40; d++) {
			const struct ww_pairlist *l = ww_pairidx_get(&ix, s, d);
			assert_non_null(l);
			assert_int_equal(l->n, s == 4 && d == 8 ? 2 : 1);
			assert_int_equal(l->flows[0], 0);
		}
	assert_null(ww_pairidx_get(&ix, 41, 1));
	ww_pairidx_free(&ix);
	ww_policy_free(p);
	sb_free(&sb);
}

static void pair_flows_are_at(const struct ww_policy *p, const struct ww_pairidx *ix, ww_ep_t cs,
			      ww_ep_t cd, const uint32_t *want, size_t n, const char *file,
			      int line)
{
	uint32_t *v = (uint32_t *)1;
	long got = ww_class_pair_flows(p, ix, cs, cd, &v);

	_assert_int_equal(got, n, file, line);
	if (!n)
		_assert_true(v == NULL, "NULL when empty", file, line);
	for (size_t i = 0; i < n; i++)
		_assert_int_equal(v[i], want[i], file, line);
	free(v);
}
#define pair_flows_are(p, ix, cs, cd, ...)                                                         \
	pair_flows_are_at(p, ix, cs, cd, (const uint32_t[]){__VA_ARGS__},                          \
			  sizeof((const uint32_t[]){__VA_ARGS__}) / sizeof(uint32_t), __FILE__,    \
			  __LINE__)
#define no_pair_flows(p, ix, cs, cd) pair_flows_are_at(p, ix, cs, cd, NULL, 0, __FILE__, __LINE__)

static void test_class_pair_flows(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'flows': [{'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow'}, "
	    "{'from': 'campus/db', 'to': ['lab/scope', 'icu'], 'services': 'https', "
	    "'action': 'allow'}, {'from': '*', 'to': 'icu', 'services': 'any', 'action': 'deny'}, "
	    "{'from': 'campus/db', 'to': 'lab/scope', 'services': 'dns', 'action': 'deny'}, "
	    "{'from': 'campus/servers', 'to': '*', 'services': 'ntp', 'action': 'allow'}]"));
	struct ww_pairidx ix;

	assert_int_equal(ww_pairidx_build(p, &ix), 0);
	/* A host class gets the flows of its zone and its own, each once, ascending. */
	pair_flows_are(p, &ix, DB, SCOPE, 0, 1, 3);
	pair_flows_are(p, &ix, CAMPUS, SCOPE, 0);
	pair_flows_are(p, &ix, DB, LAB, 0);
	pair_flows_are(p, &ix, SERVERS, LAB, 0, 4);
	pair_flows_are(p, &ix, SERVERS, PUMP, 2, 4);
	pair_flows_are(p, &ix, DB, PUMP, 1, 2);
	pair_flows_are(p, &ix, DMZ, PUMP, 2);
	pair_flows_are(p, &ix, SCOPE, ICU, 2);
	no_pair_flows(p, &ix, LAB, CAMPUS);
	/* Unzoned is no class: no flow names it. */
	no_pair_flows(p, &ix, 0, LAB);
	no_pair_flows(p, &ix, CAMPUS, 0);
	ww_pairidx_free(&ix);
	ww_policy_free(p);
}

/* ---- atoms and decision lists ---- */

static char *atoms_str(const struct ww_policy *p, const struct ww_dtable *dt,
		       const struct ww_atom *a, size_t n)
{
	struct strbuf sb = {0};
	static const char *const ranks[] = {"deny", "monitor", "allow"};
	char pb[8];

	for (size_t i = 0; i < n; i++) {
		sb_addf(&sb, "%s %u-%u:", ww_proto_str(a[i].proto, pb), a[i].lo, a[i].hi);
		if (a[i].dlist == WW_DLIST_NONE) {
			sb_add(&sb, " default\n");
			continue;
		}
		const struct ww_dlist *l = &dt->v[a[i].dlist];
		for (size_t k = 0; k < l->n; k++)
			sb_addf(&sb, " %s(%s)", p->flows[l->v[k].flow].id, ranks[l->v[k].rank]);
		sb_add(&sb, "\n");
	}
	return sb_steal(&sb);
}

static void atoms_are_at(const struct ww_policy *p, const char *zs, const char *zd,
			 const char *want, const char *file, int line)
{
	uint32_t *flows = malloc((p->nflows + 1) * sizeof(*flows));
	struct ww_dtable dt = {0};
	struct ww_atom *atoms = NULL;
	size_t n = 0;

	for (size_t i = 0; i < p->nflows; i++)
		flows[i] = (uint32_t)i;
	_assert_int_equal((LargestIntegralType)ww_atoms_build(
			      p, flows, p->nflows, zs ? ww_zone_find(p, zs) : NULL,
			      zd ? ww_zone_find(p, zd) : NULL, &dt, &atoms, &n),
			  0, file, line);
	char *got = atoms_str(p, &dt, atoms, n);
	if (strcmp(got, want))
		print_message("# got:\n%s", got);
	_assert_string_equal(got, want, file, line);
	free(got);
	free(atoms);
	free(flows);
	ww_dtable_free(&dt);
}
#define atoms_are(p, zs, zd, want) atoms_are_at(p, zs, zd, want, __FILE__, __LINE__)

#define SERVICES                                                                                   \
	"'services': {'web': [{'proto': 'tcp', 'ports': ['80-90']}], 'p85': [{'proto': 'tcp', "    \
	"'ports': [85]}], 'tcp': [{'proto': 'tcp'}], 'p80': [{'proto': 'tcp', 'ports': [80]}]}"

static void test_atoms_truncation(void **state)
{
	/* w: windowed allow tcp/80-90; d: deny tcp/85; a: allow all tcp (no window); late: allow
	 * tcp/80, after a in the policy, so it can never decide. */
	struct ww_policy *p = unit_parse_ok(
	    POL(", " SERVICES ", 'flows': ["
		"{'id': 'w', 'from': 'campus', 'to': 'lab', 'services': 'web', 'action': 'allow', "
		"'valid': {'until': '2027-01-01T00:00:00Z'}}, "
		"{'id': 'd', 'from': 'campus', 'to': 'lab', 'services': 'p85', 'action': 'deny'}, "
		"{'id': 'a', 'from': 'campus', 'to': 'lab', 'services': 'tcp', 'action': 'allow'}, "
		"{'id': 'late', 'from': 'campus', 'to': 'lab', 'services': 'p80', 'action': "
		"'allow'}]"));

	atoms_are(p, "campus", "lab",
		  "tcp 0-79: a(allow)\n"
		  "tcp 80-84: w(allow) a(allow)\n"
		  "tcp 85-85: d(deny)\n"
		  "tcp 86-90: w(allow) a(allow)\n"
		  "tcp 91-65535: a(allow)\n"
		  "any 0-0: default\n");
	/* Into a monitor zone, the deny ranks as monitor: it only observes, so the list goes on to
	 * the flows that decide. */
	atoms_are(p, "campus", "icu",
		  "tcp 0-79: a(allow)\n"
		  "tcp 80-84: w(allow) a(allow)\n"
		  "tcp 85-85: d(monitor) w(allow) a(allow)\n"
		  "tcp 86-90: w(allow) a(allow)\n"
		  "tcp 91-65535: a(allow)\n"
		  "any 0-0: default\n");
	ww_policy_free(p);
}

static void test_atoms_windows_and_monitors_stay(void **state)
{
	/* Windowed flows and monitor-mode denies before the first unwindowed deny or allow stay, in
	 * rank order; the rest go. */
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'flows': ["
	    "{'id': 'a1', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow', "
	    "'valid': {'from': '2026-01-01T00:00:00Z'}}, "
	    "{'id': 'm', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'deny', "
	    "'mode': 'monitor', 'valid': {'until': '2027-01-01T00:00:00Z'}}, "
	    "{'id': 'd', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
	    "'valid': {'from': '2026-06-01T00:00:00Z', 'until': '2026-07-01T00:00:00Z'}}, "
	    "{'id': 'a2', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow'}, "
	    "{'id': 'm2', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
	    "'mode': 'monitor'}, "
	    "{'id': 'a3', 'from': 'campus', 'to': 'lab', 'services': 'any', 'action': 'allow', "
	    "'valid': {'until': '2030-01-01T00:00:00Z'}}]"));

	atoms_are(p, "campus", "lab",
		  "tcp 0-21: m(monitor) a1(allow) a2(allow)\n"
		  "tcp 22-22: d(deny) m(monitor) m2(monitor) a1(allow) a2(allow)\n"
		  "tcp 23-65535: m(monitor) a1(allow) a2(allow)\n"
		  "any 0-0: m(monitor) a1(allow) a2(allow)\n");
	ww_policy_free(p);
}

static void test_atoms_protocols(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'services': {'mix': [{'proto': 'icmp', 'types': [8, '0-3']}, {'proto': 47}, "
	    "{'proto': 'udp', 'ports': [65535]}]}, 'flows': ["
	    "{'id': 'm', 'from': 'campus', 'to': 'lab', 'services': 'mix', 'action': 'allow'}, "
	    "{'id': 'v6', 'from': 'campus', 'to': 'lab', 'services': 'ping', 'action': 'deny'}]"));

	atoms_are(p, "campus", "lab",
		  "icmp 0-3: m(allow)\n"
		  "icmp 4-7: default\n"
		  "icmp 8-8: v6(deny)\n"
		  "icmp 9-255: default\n"
		  "udp 0-65534: default\n"
		  "udp 65535-65535: m(allow)\n"
		  "gre 0-0: m(allow)\n"
		  "icmpv6 0-127: default\n"
		  "icmpv6 128-128: v6(deny)\n"
		  "icmpv6 129-255: default\n"
		  "any 0-0: default\n");
	/* No candidate flows at all: one atom, the default. */
	uint32_t none = 0;
	struct ww_dtable dt = {0};
	struct ww_atom *atoms = NULL;
	size_t n = 7;
	assert_int_equal(ww_atoms_build(p, &none, 0, NULL, NULL, &dt, &atoms, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(atoms[0].proto, WW_PROTO_ANY);
	assert_int_equal(atoms[0].dlist, WW_DLIST_NONE);
	assert_int_equal(dt.n, 0);
	free(atoms);
	ww_dtable_free(&dt);
	ww_policy_free(p);
}

/* Equal lists share one id, across calls on one table. */
static void test_dlists_interned(void **state)
{
	struct ww_policy *p = unit_parse_ok(POL(
	    ", 'flows': [{'id': 's', 'from': 'campus', 'to': 'lab', 'services': ['ssh', 'rdp'], "
	    "'action': 'allow'}]"));
	uint32_t f0 = 0;
	struct ww_dtable dt = {0};
	struct ww_atom *a1 = NULL, *a2 = NULL;
	size_t n1, n2;

	assert_int_equal(ww_atoms_build(p, &f0, 1, NULL, NULL, &dt, &a1, &n1), 0);
	assert_int_equal(ww_atoms_build(p, &f0, 1, NULL, NULL, &dt, &a2, &n2), 0);
	/* tcp 0-21, 22, 23-3388, 3389, 3390-65535, udp 0-3388, 3389, 3390-65535, any */
	assert_int_equal(n1, 9);
	assert_int_equal(n2, 9);
	assert_int_equal(dt.n, 1);
	assert_int_equal(a1[1].dlist, 0);
	assert_int_equal(a1[3].dlist, 0);
	assert_int_equal(a1[6].dlist, 0);
	assert_int_equal(a2[1].dlist, 0);
	assert_int_equal(a1[0].dlist, WW_DLIST_NONE);
	assert_int_equal(dt.v[0].n, 1);
	assert_int_equal(dt.v[0].v[0].flow, 0);
	assert_int_equal(dt.v[0].v[0].rank, WW_RANK_ALLOW);
	free(a1);
	free(a2);
	ww_dtable_free(&dt);
	ww_policy_free(p);
}

/* Many distinct lists: the intern table grows and keeps every id. */
static void test_dtable_grows(void **state)
{
	struct strbuf sb = {0};

	sb_add(&sb, POL(", 'services': {"));
	sb.len -= 1; /* reopen the policy */
	for (int i = 1; i <= 300; i++)
		sb_addf(&sb, "%s'p%d': [{'proto': 'tcp', 'ports': ['%d-%d']}]", i > 1 ? ", " : "",
			i, i * 10, i * 10 + 400);
	sb_add(&sb, "}, 'flows': [");
	for (int i = 1; i <= 300; i++)
		sb_addf(&sb,
			"%s{'id': 'f%d', 'from': 'campus', 'to': 'lab', 'services': 'p%d', "
			"'action': 'allow', 'valid': {'until': '2030-01-01T00:00:00Z'}}",
			i > 1 ? ", " : "", i, i);
	sb_add(&sb, "]}");
	struct ww_policy *p = unit_parse_ok(sb_str(&sb));
	uint32_t flows[300];
	struct ww_dtable dt = {0};
	struct ww_atom *atoms = NULL;
	size_t n;

	for (uint32_t i = 0; i < 300; i++)
		flows[i] = i;
	assert_int_equal(ww_atoms_build(p, flows, 300, NULL, NULL, &dt, &atoms, &n), 0);
	assert_true(dt.n > 256);
	assert_true(dt.nslots >= 2 * dt.n);
	/* Port 2000 lies in p160..p200 (10 * i <= 2000 <= 10 * i + 400). */
	for (size_t i = 0; i < n; i++)
		if (atoms[i].proto == WW_PROTO_TCP && atoms[i].lo <= 2000 && 2000 <= atoms[i].hi) {
			const struct ww_dlist *l = &dt.v[atoms[i].dlist];
			assert_int_equal(l->n, 41);
			assert_int_equal(l->v[0].flow, 159);
			assert_int_equal(l->v[40].flow, 199);
		}
	free(atoms);
	ww_dtable_free(&dt);
	ww_policy_free(p);
	sb_free(&sb);
}

static void test_dlist_decide(void **state)
{
	struct ww_policy *p = unit_parse_ok(
	    POL(", 'flows': ["
		"{'id': 'd', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
		"'valid': {'from': '2026-06-01T00:00:00Z', 'until': '2026-07-01T00:00:00Z'}}, "
		"{'id': 'm', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'deny', "
		"'mode': 'monitor', 'valid': {'from': '2026-05-01T00:00:00Z'}}, "
		"{'id': 'a', 'from': 'campus', 'to': 'lab', 'services': 'ssh', 'action': 'allow', "
		"'valid': {'until': '2026-06-15T00:00:00Z'}}]"));
	struct ww_dentry v[] = {{0, WW_RANK_DENY}, {1, WW_RANK_MONITOR}, {2, WW_RANK_ALLOW}};
	struct ww_dlist l = {.v = v, .n = 3};
	const struct ww_dentry *obs = &v[0];

	/* Only the allow is active. */
	assert_ptr_equal(ww_dlist_decide(p, &l, unit_time("2026-04-30T23:59:59Z"), &obs), &v[2]);
	assert_null(obs);
	/* The monitor-mode deny observes; the allow still decides. */
	assert_ptr_equal(ww_dlist_decide(p, &l, unit_time("2026-05-01T00:00:00Z"), &obs), &v[2]);
	assert_ptr_equal(obs, &v[1]);
	/* An enforced deny decides; nothing observes. */
	assert_ptr_equal(ww_dlist_decide(p, &l, unit_time("2026-06-01T00:00:00Z"), &obs), &v[0]);
	assert_null(obs);
	assert_ptr_equal(ww_dlist_decide(p, &l, unit_time("2026-06-30T23:59:59Z"), NULL), &v[0]);
	/* Only the monitor-mode deny is left: the default decides, observed. */
	assert_null(ww_dlist_decide(p, &l, unit_time("2026-07-01T00:00:00Z"), &obs));
	assert_ptr_equal(obs, &v[1]);
	l.n = 0;
	assert_null(ww_dlist_decide(p, &l, UNIT_NOW, &obs));
	assert_null(obs);
	ww_policy_free(p);
}

static void test_service_overlaps_atom(void **state)
{
	struct ww_term t[] = {{WW_PROTO_TCP, 80, 90, NULL}, {47, 0, 0, NULL}};
	struct ww_service s = {.terms = t, .nterms = 1};
	struct ww_atom atoms[] = {{WW_PROTO_TCP, 0, 79, 0},
				  {WW_PROTO_TCP, 80, 85, 0},
				  {WW_PROTO_TCP, 86, 65535, 0},
				  {WW_PROTO_UDP, 0, 65535, 0},
				  {WW_PROTO_ANY, 0, 0, 0}};

	assert_false(ww_service_overlaps_atom(&s, &atoms[0], atoms, 5));
	assert_true(ww_service_overlaps_atom(&s, &atoms[1], atoms, 5));
	assert_true(ww_service_overlaps_atom(&s, &atoms[2], atoms, 5));
	assert_false(ww_service_overlaps_atom(&s, &atoms[3], atoms, 5));
	/* tcp is named by atoms of its own: the ANY atom holds none of it. */
	assert_false(ww_service_overlaps_atom(&s, &atoms[4], atoms, 5));
	/* gre is named by no atom: it lives in the ANY atom. */
	s.nterms = 2;
	assert_true(ww_service_overlaps_atom(&s, &atoms[4], atoms, 5));
	assert_false(ww_service_overlaps_atom(&s, &atoms[3], atoms, 5));
	t[1].proto = WW_PROTO_ANY;
	assert_true(ww_service_overlaps_atom(&s, &atoms[3], atoms, 5));
}

/* What the decision structures say for one packet of an atom: the deciding entry (NULL: the
 * default), the monitor-mode deny that observes, and the verdict. */
static enum ww_verdict_kind structures_say(const struct ww_policy *p, const struct ww_dtable *dt,
					   const struct ww_atom *a, const struct ww_class *src,
					   const struct ww_class *dst, int64_t t,
					   const struct ww_flow **flow,
					   const struct ww_flow **monitor)
{
	const struct ww_dentry *e = NULL, *obs = NULL;
	enum ww_verdict_kind k;
	bool within;

	if (a->dlist != WW_DLIST_NONE)
		e = ww_dlist_decide(p, &dt->v[a->dlist], t, &obs);
	if (e)
		k = e->rank == WW_RANK_DENY ? WW_V_DENY : WW_V_ALLOW;
	else
		k = ww_default_verdict(p, src, dst, &within);
	if (k == WW_V_ALLOW && obs)
		k = WW_V_MONITOR;
	*flow = e ? &p->flows[e->flow] : NULL;
	*monitor = obs ? &p->flows[obs->flow] : NULL;
	return k;
}

/* Up to 3 protocols that stand for an ANY atom: no atom names them. */
static size_t any_protocols(const struct ww_atom *atoms, size_t na, int *out)
{
	static const int cand[] = {0, 47, 50, 132, 255, 6, 17, 1};
	size_t k = 0;

	for (size_t q = 0; q < ARRAY_SIZE(cand) && k < 3; q++) {
		bool named = false;
		for (size_t r = 0; r < na; r++)
			named |= atoms[r].proto == cand[q];
		if (!named)
			out[k++] = cand[q];
	}
	return k;
}

/*
 * The decision structures agree with the reference evaluator: for every class pair, every atom
 * (at both ends of its range) and every instant where a window opens or closes, the atom's list
 * (or the default) gives the evaluator's verdict, deciding flow and observing monitor flow.
 */
static void cross_check(struct ww_policy *p)
{
	struct ww_classes c;
	struct ww_pairidx ix;
	struct ww_dtable dt = {0};
	int64_t times[64];
	size_t nt = 0, checked = 0;

	times[nt++] = 0;
	times[nt++] = UNIT_NOW;
	for (size_t i = 0; i < p->nflows && nt + 4 <= ARRAY_SIZE(times); i++) {
		const struct ww_flow *f = &p->flows[i];
		if (f->has_from)
			times[nt++] = f->valid_from, times[nt++] = f->valid_from - 1;
		if (f->has_until)
			times[nt++] = f->valid_until, times[nt++] = f->valid_until - 1;
	}
	assert_int_equal(ww_classes_build(p, &c), 0);
	assert_int_equal(ww_pairidx_build(p, &ix), 0);
	for (ww_ep_t cs = 1; cs <= ww_nendpoints(p); cs++)
		for (ww_ep_t cd = 1; cd <= ww_nendpoints(p); cd++) {
			if (!c.nonempty[cs] || !c.nonempty[cd])
				continue;
			const struct ww_interval *is = &c.iv[c.first[cs]], *id = &c.iv[c.first[cd]];
			if (is->family != id->family)
				continue;
			struct ww_class scl = ww_class_of(p, cs), dcl = ww_class_of(p, cd);
			struct ww_atom *atoms;
			uint32_t *flows;
			size_t na;
			long nf = ww_class_pair_flows(p, &ix, cs, cd, &flows);
			assert_true(nf >= 0);
			assert_int_equal(ww_atoms_build(p, flows, (size_t)nf, scl.zone, dcl.zone,
							&dt, &atoms, &na),
					 0);
			for (size_t a = 0; a < na; a++) {
				int protos[3] = {atoms[a].proto};
				size_t np = 1;
				if (atoms[a].proto == WW_PROTO_ANY)
					np = any_protocols(atoms, na, protos);
				for (size_t k = 0; k < 2 * np * nt; k++) {
					struct ww_packet pkt = {.src = {is->family, is->lo},
								.dst = {id->family, id->hi},
								.proto = protos[k / 2 % np],
								.key = k % 2 ? atoms[a].hi
									     : atoms[a].lo,
								.at = times[k / 2 / np]};
					const struct ww_flow *flow, *mon;
					struct ww_verdict v;
					ww_evaluate(p, &pkt, &v);
					enum ww_verdict_kind kind = structures_say(
					    p, &dt, &atoms[a], &scl, &dcl, pkt.at, &flow, &mon);
					if (kind != v.kind || flow != v.flow || mon != v.monitor) {
						char a1[WW_EP_STRLEN], a2[WW_EP_STRLEN];
						print_message(
						    "# %s -> %s proto %d key %d at %lld: "
						    "structures say %s, evaluator %s\n",
						    ww_ep_name(p, cs, a1), ww_ep_name(p, cd, a2),
						    pkt.proto, pkt.key, (long long)pkt.at,
						    ww_verdict_str(kind), ww_verdict_str(v.kind));
						fail();
					}
					checked++;
				}
			}
			free(atoms);
			free(flows);
		}
	assert_true(checked > 100);
	ww_dtable_free(&dt);
	ww_pairidx_free(&ix);
	ww_classes_free(&c);
}

static void test_agrees_with_evaluator_example(void **state)
{
	struct ww_policy *p = unit_load_example();

	cross_check(p);
	ww_policy_free(p);
}

/* Windows, monitor-mode denies (their own and icu's), "*", hosts and nested zones at once. */
#define NESTED_FLOWS                                                                               \
	", 'flows': ["                                                                             \
	"{'from': 'campus', 'to': 'lab', 'services': 'web', 'action': 'allow', 'valid': "          \
	"{'from': '2026-01-01T00:00:00Z', 'until': '2027-01-01T00:00:00Z'}}, "                     \
	"{'from': '*', 'to': 'icu', 'services': ['p85', 'ping'], 'action': 'deny'}, "              \
	"{'from': 'campus/db', 'to': '*', 'services': 'tcp', 'action': 'allow'}, "                 \
	"{'from': ['lab/scope', 'dmz'], 'to': ['campus/servers', 'icu/pump'], 'services': "        \
	"'any', 'action': 'deny', 'mode': 'monitor'}, "                                            \
	"{'from': 'lab', 'to': 'campus', 'services': 'ssh', 'action': 'deny', 'mode': "            \
	"'monitor', 'valid': {'from': '2026-06-01T00:00:00Z'}}, "                                  \
	"{'from': '*', 'to': '*', 'services': ['p80', 'dns'], 'action': 'allow'}, "                \
	"{'from': 'campus', 'to': 'campus', 'services': 'any', 'action': 'deny', 'valid': "        \
	"{'until': '2026-12-01T00:00:00Z'}}]"

static void test_agrees_with_evaluator_nested(void **state)
{
	struct ww_policy *p =
	    unit_parse_ok(POL(", 'defaults': {'within_zone': 'allow'}, " SERVICES NESTED_FLOWS));

	cross_check(p);
	ww_policy_free(p);
}

/* The same with a default allow between zones: monitor-mode denies observe allowed traffic. */
static void test_agrees_with_evaluator_default_allow(void **state)
{
	struct ww_policy *p =
	    unit_parse_ok(POL(", 'defaults': {'between_zones': 'allow'}, " SERVICES NESTED_FLOWS));

	cross_check(p);
	ww_policy_free(p);
}

UNIT_MAIN(cmocka_unit_test(test_flatten_nested), cmocka_unit_test(test_flatten_top_of_space),
	  cmocka_unit_test(test_flatten_merges_and_gaps), cmocka_unit_test(test_classes),
	  cmocka_unit_test(test_class_of), cmocka_unit_test(test_pairidx),
	  cmocka_unit_test(test_pairidx_grows), cmocka_unit_test(test_class_pair_flows),
	  cmocka_unit_test(test_atoms_truncation),
	  cmocka_unit_test(test_atoms_windows_and_monitors_stay),
	  cmocka_unit_test(test_atoms_protocols), cmocka_unit_test(test_dlists_interned),
	  cmocka_unit_test(test_dtable_grows), cmocka_unit_test(test_dlist_decide),
	  cmocka_unit_test(test_service_overlaps_atom),
	  cmocka_unit_test(test_agrees_with_evaluator_example),
	  cmocka_unit_test(test_agrees_with_evaluator_nested),
	  cmocka_unit_test(test_agrees_with_evaluator_default_allow))
