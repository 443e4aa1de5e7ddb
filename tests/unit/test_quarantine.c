// SPDX-License-Identifier: GPL-2.0-only
/* quarantine.c: targets, kept flows, what a quarantine breaks, records and their round trip. */
#include <sys/stat.h>
#include <unistd.h>

#include "quarantine.h"
#include "unit.h"

static const char *const POLICY =
	"{" UNIT_HDR "'groups': {'devices': ['infusion', 'biomed']}, 'zones': {"
	"  'infusion': {'networks': ['10.40.40.0/24', 'fd00:40::/64'],"
	"               'hosts': {'pumps': ['10.40.40.0/26']}},"
	"  'biomed': {'networks': ['10.20.4.0/24'], 'hosts': {'pump-server': ['10.20.4.10']}},"
	"  'identity': {'networks': ['10.20.1.0/24'], 'hosts': {'ntp': ['10.20.1.20']}},"
	"  'mgmt': {'networks': ['10.20.200.0/24'], 'hosts': {'jump': ['10.20.200.10']}}},"
	" 'flows': ["
	"  {'id': 'pumps-to-server', 'from': 'infusion', 'to': 'biomed/pump-server',"
	"   'services': ['https'], 'action': 'allow', 'life_critical': true},"
	"  {'id': 'time', 'from': 'infusion', 'to': 'identity/ntp', 'services': ['ntp'],"
	"   'action': 'allow'},"
	"  {'id': 'jump', 'from': 'mgmt/jump', 'to': ['infusion', 'biomed'], 'services': ['ssh'],"
	"   'action': 'allow', 'management': true},"
	"  {'id': 'server-ntp', 'from': 'biomed', 'to': 'identity/ntp', 'services': ['ntp'],"
	"   'action': 'allow'}],"
	" 'invariants': [{'id': 'pumps-reach-server', 'expect': 'allow', 'from': 'infusion',"
	"   'to': 'biomed/pump-server', 'service': 'https'}],"
	" 'probes': [{'id': 'pump-up', 'from': '10.40.40.7', 'to': '10.20.4.10', 'port': 443},"
	"   {'id': 'jump-ssh', 'from': '10.20.200.10', 'to': '10.40.40.7', 'port': 22}]}";

static struct ww_policy *load(void)
{
	char *t = unit_json(POLICY);
	struct ww_policy *p = unit_parse_ok(t);

	free(t);
	return p;
}

static bool kept_as(const struct ww_quarantine *q, const char *id, const char *why)
{
	for (size_t i = 0; i < q->nkeep; i++)
		if (!strcmp(q->keep[i].id, id))
			return !strcmp(q->keep[i].why, why);
	return false;
}

static void test_resolve(void **state)
{
	struct ww_policy *p = load();
	struct ww_quarantine q = {0};
	struct strbuf err = {0};
	char b[WW_PREFIX_STRLEN];

	assert_int_equal(ww_quar_resolve(p, "infusion", &q, &err), 0);
	assert_int_equal(q.npfx, 2);
	assert_string_equal(ww_prefix_str(&q.pfx[0], false, b), "10.40.40.0/24");
	ww_quarantine_clear(&q);
	assert_int_equal(ww_quar_resolve(p, "infusion/pumps", &q, &err), 0);
	assert_string_equal(ww_prefix_str(&q.pfx[0], false, b), "10.40.40.0/26");
	ww_quarantine_clear(&q);
	/* A zone group: the networks of each of its zones. */
	assert_int_equal(ww_quar_resolve(p, "devices", &q, &err), 0);
	assert_int_equal(q.npfx, 3);
	assert_true(ww_quar_covers(&q, &(struct ww_addr){.family = WW_INET, .v = 0x0a140405}));
	assert_true(ww_quar_covers(&q, &(struct ww_addr){.family = WW_INET, .v = 0x0a282807}));
	assert_false(ww_quar_covers(&q, &(struct ww_addr){.family = WW_INET, .v = 0x0a140105}));
	ww_quarantine_clear(&q);
	assert_int_equal(ww_quar_resolve(p, "devices/pumps", &q, &err), -EINVAL);
	sb_reset(&err);
	assert_int_equal(ww_quar_resolve(p, "10.40.40.7", &q, &err), 0);
	assert_string_equal(ww_prefix_str(&q.pfx[0], false, b), "10.40.40.7/32");
	ww_quarantine_clear(&q);
	assert_int_equal(ww_quar_resolve(p, "fd00:40::/64", &q, &err), 0);
	ww_quarantine_clear(&q);
	/* Errors name the target and suggest. */
	assert_int_equal(ww_quar_resolve(p, "infuson", &q, &err), -EINVAL);
	assert_non_null(strstr(sb_str(&err), "did you mean \"infusion\""));
	sb_reset(&err);
	assert_int_equal(ww_quar_resolve(p, "infusion/pump", &q, &err), -EINVAL);
	assert_non_null(strstr(sb_str(&err), "no host group \"pump\""));
	sb_reset(&err);
	assert_int_equal(ww_quar_resolve(p, "10.40.40.1/24", &q, &err), -EINVAL);
	assert_int_equal(ww_quar_resolve(p, "10.40.40.256", &q, &err), -EINVAL);
	ww_quarantine_clear(&q);
	sb_free(&err);
	ww_policy_free(p);
}

static void test_keep_and_breaks(void **state)
{
	struct ww_policy *p = load();
	struct ww_quarantine q = {.target = strdup("infusion")};
	struct strbuf err = {0}, out = {0};
	struct ww_quar_nbreaks nb;

	assert_int_equal(ww_quar_resolve(p, "infusion", &q, &err), 0);
	assert_int_equal(ww_quar_keep(p, &q), 0);
	assert_true(kept_as(&q, "pumps-to-server", "life-critical"));
	assert_true(kept_as(&q, "jump", "management"));
	assert_false(ww_quar_kept(&q, "time"));
	assert_false(ww_quar_kept(&q, "server-ntp")); /* does not touch the target */
	assert_int_equal(ww_quar_breaks(p, &q, false, &out, &nb), 0);
	assert_int_equal(nb.flows, 1);
	assert_int_equal(nb.invariants, 0);
	assert_int_equal(nb.probes, 0); /* pump-up: life-critical; jump-ssh: management */
	assert_non_null(strstr(sb_str(&out), "flow time would stop for infusion (/flows/1)"));

	/* The kept flow matches by address, protocol and port, in its opening direction. */
	struct ww_addr pump, server, ntp;
	ww_addr_parse("10.40.40.7", &pump);
	ww_addr_parse("10.20.4.10", &server);
	ww_addr_parse("10.20.1.20", &ntp);
	assert_true(ww_quar_conn_kept(&q, &pump, &server, WW_PROTO_TCP, 443));
	assert_false(ww_quar_conn_kept(&q, &pump, &server, WW_PROTO_TCP, 80));
	assert_false(ww_quar_conn_kept(&q, &server, &pump, WW_PROTO_TCP, 443));
	assert_false(ww_quar_conn_kept(&q, &pump, &ntp, WW_PROTO_UDP, 123));
	assert_true(ww_quar_covers(&q, &pump));
	assert_false(ww_quar_covers(&q, &server));
	ww_quarantine_clear(&q);

	/* --strict: the life-critical flow goes, and with it the must-allow invariant. */
	q = (struct ww_quarantine){.target = strdup("infusion"), .strict = true};
	sb_reset(&out);
	assert_int_equal(ww_quar_resolve(p, "infusion", &q, &err), 0);
	assert_int_equal(ww_quar_keep(p, &q), 0);
	assert_false(ww_quar_kept(&q, "pumps-to-server"));
	assert_true(ww_quar_kept(&q, "jump"));
	assert_int_equal(ww_quar_breaks(p, &q, false, &out, &nb), 0);
	assert_int_equal(nb.flows, 2);
	assert_int_equal(nb.invariants, 1);
	assert_int_equal(nb.probes, 1);
	assert_non_null(strstr(sb_str(&out), "invariant pumps-reach-server would stop"));
	assert_non_null(
	    strstr(sb_str(&out), "probe pump-up would fail for 10.40.40.7 (/probes/0)"));
	assert_null(strstr(sb_str(&out), "jump-ssh"));
	sb_reset(&out);
	assert_int_equal(ww_quar_breaks(p, &q, true, &out, &nb), 0);
	assert_non_null(strstr(sb_str(&out),
			       "{\"kind\": \"probe\", \"id\": \"pump-up\", "
			       "\"pointer\": \"/probes/0\", \"for\": \"10.40.40.7\"}"));
	ww_quarantine_clear(&q);

	/* --strict --keep pumps-to-server carries the invariant whole. */
	q = (struct ww_quarantine){.target = strdup("infusion"), .strict = true};
	q.keep_given = calloc(1, sizeof(char *));
	q.keep_given[q.nkeep_given++] = strdup("pumps-to-server");
	assert_int_equal(ww_quar_resolve(p, "infusion", &q, &err), 0);
	assert_int_equal(ww_quar_keep(p, &q), 0);
	assert_true(kept_as(&q, "pumps-to-server", "given"));
	sb_reset(&out);
	assert_int_equal(ww_quar_breaks(p, &q, false, &out, &nb), 0);
	assert_int_equal(nb.invariants, 0);
	assert_int_equal(nb.probes, 0);
	ww_quarantine_clear(&q);
	sb_free(&out);
	sb_free(&err);
	ww_policy_free(p);
}

static void test_records(void **state)
{
	struct ww_policy *p = load();
	struct ww_quar_list l = {.next = 1}, back = {0};
	struct ww_quarantine q = {.id = 7, .target = strdup("infusion/pumps"),
				  .reason = strdup("unit"), .ticket = strdup("INC-1"),
				  .user = strdup("nurse \"x\""), .created = 1800000000,
				  .until = 1800003600, .generation = 3};
	struct strbuf err = {0}, a = {0}, b = {0};
	char dir[] = "/tmp/ww-unit-quarXXXXXX";
	unsigned int id;

	assert_non_null(mkdtemp(dir));
	assert_int_equal(ww_quar_resolve(p, q.target, &q, &err), 0);
	assert_int_equal(ww_quar_keep(p, &q), 0);
	assert_int_equal(VEC_PUSH(l.v, l.n, l.cap, q), 0);
	l.next = 8;
	assert_int_equal(ww_quar_save(dir, &l, &err), 0);
	assert_int_equal(ww_quar_load(dir, &back, &err), 0);
	assert_int_equal(back.n, 1);
	assert_int_equal(back.next, 8);
	ww_quarantine_json(&l.v[0], 0, &a);
	ww_quarantine_json(&back.v[0], 0, &b);
	assert_string_equal(sb_str(&a), sb_str(&b));
	assert_non_null(ww_quar_find(&back, 7));
	assert_null(ww_quar_find(&back, 8));
	assert_int_equal(ww_quar_log(dir, "add", &back.v[0], 0, 1800000000, NULL, &err), 0);
	/* Ids: q1..q1023, exactly. */
	assert_int_equal(ww_quar_id_parse("q7", &id), 0);
	assert_int_equal(id, 7);
	assert_int_equal(ww_quar_id_parse("7", &id), -EINVAL);
	assert_int_equal(ww_quar_id_parse("q07", &id), -EINVAL);
	assert_int_equal(ww_quar_id_parse("q1024", &id), -EINVAL);
	assert_int_equal(ww_quar_id_parse("Q7", &id), -EINVAL);
	char *path = xstrdup_printf("%s/quarantines.json", dir), *lp;
	unlink(path);
	free(path);
	lp = xstrdup_printf("%s/quarantine-log.jsonl", dir);
	unlink(lp);
	free(lp);
	rmdir(dir);
	ww_quar_list_free(&l);
	ww_quar_list_free(&back);
	sb_free(&a);
	sb_free(&b);
	sb_free(&err);
	ww_policy_free(p);
}

/* The index apply writes: the cut-down policy parses to the same zones and marked flows, a --keep
 * flow comes from its own bytes of the generation, pointers are those of the whole policy. */
static void test_index(void **state)
{
	struct ww_policy *p = load(), *q = NULL;
	struct strbuf canon = {0}, err = {0};
	char dir[] = "/tmp/ww-unit-qidx-XXXXXX";
	const char *keep[] = {"server-ntp", "server-ntp", "jump"};

	assert_non_null(mkdtemp(dir));
	char *gdir = xstrdup_printf("%s/generations", dir), *g = xstrdup_printf("%s/3.json", gdir);
	assert_int_equal(mkdir(gdir, 0700), 0);
	ww_policy_print_canonical(p, &canon);
	assert_int_equal(write_file_atomic(g, canon.s, canon.len, 0600), 0);
	assert_int_equal(ww_quar_index_write(dir, 3, p, canon.s, canon.len), 0);
	/* Only the marked flows; every zone and invariant. */
	assert_int_equal(ww_quar_index_policy(dir, 3, NULL, 0, &q, &err), 0);
	assert_int_equal(q->nflows, 2);
	assert_string_equal(q->flows[0].id, "pumps-to-server");
	assert_string_equal(q->flows[1].id, "jump");
	assert_string_equal(q->flows[1].ptr, "/flows/2");
	assert_int_equal(q->nzones, p->nzones);
	assert_int_equal(q->ninvs, 1);
	ww_policy_free(q);
	/* --keep: named twice, or already there, once. */
	assert_int_equal(ww_quar_index_policy(dir, 3, keep, 3, &q, &err), 0);
	assert_int_equal(q->nflows, 3);
	assert_non_null(ww_flow_find(q, "server-ntp"));
	assert_string_equal(ww_flow_find(q, "server-ntp")->ptr, "/flows/3");
	ww_policy_free(q);
	q = NULL;
	const char *bad[] = {"nope"};
	assert_int_equal(ww_quar_index_policy(dir, 3, bad, 1, &q, &err), -ENOENT);
	assert_non_null(strstr(sb_str(&err), "--keep nope"));
	assert_null(q);
	ww_quar_index_forget(dir, 3);
	assert_int_equal(ww_quar_index_policy(dir, 3, NULL, 0, &q, &err), -ENODATA);
	unlink(g);
	rmdir(gdir);
	rmdir(dir);
	free(g);
	free(gdir);
	sb_free(&canon);
	sb_free(&err);
	ww_policy_free(p);
}

UNIT_MAIN(cmocka_unit_test(test_resolve), cmocka_unit_test(test_index), cmocka_unit_test(test_keep_and_breaks),
	  cmocka_unit_test(test_records))
