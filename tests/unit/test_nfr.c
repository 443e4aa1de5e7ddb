// SPDX-License-Identifier: GPL-2.0-only
/*
 * nfr.c: the flow-map layout's shapes (concatenated interval maps of verdicts and of counters,
 * the rules that look them up) as render prints them, sorted and hashed. The shapes are written
 * by hand (flowmap.h). That nft loads this text and lists back the same objects is checked
 * against the real nft by suite 38-nft-flowmap-text, which has this program write the text:
 * with WW_NFR_SHAPES=DIR set, the inet and the bridge table are written to DIR/inet.nft and
 * DIR/bridge.nft.
 */
#include "unit.h"

#include "flowmap.h"

/* The layout's example (LAYOUT.md), every kind of map, and a host group's chain. */
static struct nfr_table *shapes(enum nfr_family fam)
{
	static const struct fm_el p4[] = {
	    {"10.1.0.0/24", 6, 6, 443, 443, "accept", "flow/f1"},
	    {"10.2.0.5", 17, 17, 2000, 2010, "drop", "flow/f2"},
	    {"10.3.0.0-10.3.0.127", 6, 6, 22, 22, "goto dec-3fa9c2e1d0b4", NULL},
	    {"10.4.0.1-10.4.0.3", 132, 132, 0, 65535, "accept", "flow/f4"},
	    {"0.0.0.0/0", 6, 17, 5000, 5000, "drop", "flow/f5"},
	};
	static const struct fm_el i4[] = {
	    {"10.1.0.0/24", 8, 8, 0, 0, "accept", "flow/f1"},
	    {"10.1.0.0/24", 3, 5, 0, 0, "drop", "flow/f2"},
	};
	static const struct fm_el l4[] = {
	    {"10.1.0.0/24", 47, 47, 0, 0, "accept", "flow/f6"},
	    {"10.1.0.0/24", 50, 51, 0, 0, "accept", NULL},
	    {"10.9.0.0/16", 200, 200, 0, 0, "drop", "flow/f6"},
	};
	static const struct fm_el p6[] = {
	    {"fd00:1::/32", 6, 6, 443, 443, "accept", "flow/f1"},
	    {"fd00:2::7-fd00:2::9", 17, 17, 53, 53, "drop", "flow/f2"},
	};
	static const struct fm_el i6[] = {
	    {"fd00:1::/32", 128, 128, 0, 0, "accept", "flow/f1"},
	    {"::/0", 1, 4, 0, 0, "drop", NULL},
	};
	static const struct fm_el l6[] = {{"fd00:1::3", 47, 47, 0, 0, "accept", "flow/f6"}};
	static const struct fm_el printer[] = {{"10.1.0.9", 6, 6, 9100, 9100, "accept", "flow/f7"}};
	struct nfr_table *t = calloc(1, sizeof(*t));

	assert_non_null(t);
	t->family = fam;
	fm_dec(t, "dec-3fa9c2e1d0b4", "flow/f3", "accept");
	fm_maps(t, "ward-01", FM_P4, p4, ARRAY_SIZE(p4));
	fm_maps(t, "ward-01", FM_I4, i4, ARRAY_SIZE(i4));
	fm_maps(t, "ward-01", FM_L4, l4, ARRAY_SIZE(l4));
	fm_maps(t, "ward-01", FM_P6, p6, ARRAY_SIZE(p6));
	fm_maps(t, "ward-01", FM_I6, i6, ARRAY_SIZE(i6));
	fm_maps(t, "ward-01", FM_L6, l6, ARRAY_SIZE(l6));
	fm_maps(t, "ward-01/printer", FM_P4, printer, ARRAY_SIZE(printer));
	/* A host group's chain falls back to its zone's. */
	struct nfr_chain *c = fm_chain(t, "from/ward-01/printer");
	struct nfr_rule fall = {.v = {NV_GOTO, strdup("from/ward-01")}};
	assert_int_equal(VEC_PUSH(c->rules, c->nrules, c->cap, fall), 0);
	nfr_table_sort(t);
	return t;
}

static char *render(const struct nfr_table *t)
{
	struct strbuf sb = {0};

	nfr_table_render(t, &sb);
	assert_false(sb.oom);
	return sb_steal(&sb);
}

static char *set_text(const struct nfr_table *t, const char *name)
{
	struct strbuf sb = {0};
	const struct nfr_set *s = nfr_set_find(t, name);

	assert_non_null(s);
	nfr_set_render(s, "", &sb);
	return sb_steal(&sb);
}

static char *chain_text(const struct nfr_table *t, const char *name)
{
	struct strbuf sb = {0};
	const struct nfr_chain *c = nfr_chain_find(t, name);

	assert_non_null(c);
	nfr_chain_render(c, t->family, "", &sb);
	return sb_steal(&sb);
}

#define assert_text(got, want)                                                                     \
	do {                                                                                       \
		char *g_ = (got);                                                                  \
		assert_string_equal(g_, want);                                                     \
		free(g_);                                                                          \
	} while (0)

/* The maps as `nft list` prints them: names of protocols and ICMP types, prefixes where a range
 * is one, numbers for ranges. */
static void maps_render_as_nft_lists_them(void **state)
{
	struct nfr_table *t = shapes(NFR_INET);

	assert_text(set_text(t, "fp4/ward-01"),
		    "map fp4/ward-01 {\n"
		    "\ttype ipv4_addr . inet_proto . inet_service : verdict\n"
		    "\tflags interval\n"
		    "\telements = { 0.0.0.0/0 . 6-17 . 5000 : drop,\n"
		    "\t\t     10.1.0.0/24 . tcp . 443 : accept,\n"
		    "\t\t     10.2.0.5 . udp . 2000-2010 : drop,\n"
		    "\t\t     10.3.0.0/25 . tcp . 22 : goto dec-3fa9c2e1d0b4,\n"
		    "\t\t     10.4.0.1-10.4.0.3 . sctp . 0-65535 : accept }\n"
		    "}\n");
	assert_text(set_text(t, "cp4/ward-01"),
		    "map cp4/ward-01 {\n"
		    "\ttype ipv4_addr . inet_proto . inet_service : counter\n"
		    "\tflags interval\n"
		    "\telements = { 0.0.0.0/0 . 6-17 . 5000 : \"flow/f5\",\n"
		    "\t\t     10.1.0.0/24 . tcp . 443 : \"flow/f1\",\n"
		    "\t\t     10.2.0.5 . udp . 2000-2010 : \"flow/f2\",\n"
		    "\t\t     10.4.0.1-10.4.0.3 . sctp . 0-65535 : \"flow/f4\" }\n"
		    "}\n");
	assert_text(set_text(t, "fi4/ward-01"), "map fi4/ward-01 {\n"
						"\ttype ipv4_addr . icmp_type : verdict\n"
						"\tflags interval\n"
						"\telements = { 10.1.0.0/24 . 3-5 : drop,\n"
						"\t\t     10.1.0.0/24 . echo-request : accept }\n"
						"}\n");
	assert_text(set_text(t, "fl4/ward-01"), "map fl4/ward-01 {\n"
						"\ttype ipv4_addr . inet_proto : verdict\n"
						"\tflags interval\n"
						"\telements = { 10.1.0.0/24 . gre : accept,\n"
						"\t\t     10.1.0.0/24 . 50-51 : accept,\n"
						"\t\t     10.9.0.0/16 . 200 : drop }\n"
						"}\n");
	assert_text(set_text(t, "fi6/ward-01"), "map fi6/ward-01 {\n"
						"\ttype ipv6_addr . icmpv6_type : verdict\n"
						"\tflags interval\n"
						"\telements = { ::/0 . 1-4 : drop,\n"
						"\t\t     fd00:1::/32 . echo-request : accept }\n"
						"}\n");
	assert_text(set_text(t, "cp6/ward-01"),
		    "map cp6/ward-01 {\n"
		    "\ttype ipv6_addr . inet_proto . inet_service : counter\n"
		    "\tflags interval\n"
		    "\telements = { fd00:1::/32 . tcp . 443 : \"flow/f1\",\n"
		    "\t\t     fd00:2::7-fd00:2::9 . udp . 53 : \"flow/f2\" }\n"
		    "}\n");
	nfr_table_free(t);
}

/* Counters first, then verdicts, each kind in both families; no dependency is written in either
 * family: nft adds its own, the same the netlink side writes (LAYOUT.md). */
static void rules_render_the_same_in_both_families(void **state)
{
	static const char want[] =
	    "chain from/ward-01 {\n"
	    "\tcounter name ip daddr . meta l4proto . th dport map @cp4/ward-01\n"
	    "\tip daddr . meta l4proto . th dport vmap @fp4/ward-01\n"
	    "\tcounter name ip daddr . icmp type map @ci4/ward-01\n"
	    "\tip daddr . icmp type vmap @fi4/ward-01\n"
	    "\tcounter name ip daddr . meta l4proto map @cl4/ward-01\n"
	    "\tip daddr . meta l4proto vmap @fl4/ward-01\n"
	    "\tcounter name ip6 daddr . meta l4proto . th dport map @cp6/ward-01\n"
	    "\tip6 daddr . meta l4proto . th dport vmap @fp6/ward-01\n"
	    "\tcounter name ip6 daddr . icmpv6 type map @ci6/ward-01\n"
	    "\tip6 daddr . icmpv6 type vmap @fi6/ward-01\n"
	    "\tcounter name ip6 daddr . meta l4proto map @cl6/ward-01\n"
	    "\tip6 daddr . meta l4proto vmap @fl6/ward-01\n"
	    "}\n";
	struct nfr_table *inet = shapes(NFR_INET), *br = shapes(NFR_BRIDGE);

	assert_text(chain_text(inet, "from/ward-01"), want);
	assert_text(chain_text(br, "from/ward-01"), want);
	assert_text(chain_text(inet, "from/ward-01/printer"),
		    "chain from/ward-01/printer {\n"
		    "\tcounter name ip daddr . meta l4proto . th dport map @cp4/ward-01/printer\n"
		    "\tip daddr . meta l4proto . th dport vmap @fp4/ward-01/printer\n"
		    "\tgoto from/ward-01\n"
		    "}\n");
	nfr_table_free(inet);
	nfr_table_free(br);
}

/* Elements of a concatenated set sort by every field: one address, several ports. */
static void elements_sort_by_every_field(void **state)
{
	static const struct fm_el p4[] = {
	    {"10.1.0.0/24", 17, 17, 53, 53, "accept", NULL},
	    {"10.1.0.0/24", 6, 6, 443, 443, "accept", NULL},
	    {"10.1.0.0/24", 6, 6, 22, 22, "drop", NULL},
	    {"10.0.0.0/24", 6, 6, 443, 443, "drop", NULL},
	};
	struct nfr_table *t = calloc(1, sizeof(*t));

	fm_maps(t, "z", FM_P4, p4, ARRAY_SIZE(p4));
	nfr_table_sort(t);
	const struct nfr_set *s = nfr_set_find(t, "fp4/z");
	assert_non_null(s);
	assert_int_equal(s->nelems, 4);
	assert_true(s->elems[0].lo < s->elems[1].lo);
	assert_int_equal(s->elems[1].clo[1], 22);
	assert_int_equal(s->elems[2].clo[1], 443);
	assert_int_equal(s->elems[3].clo[0], 17);
	nfr_table_free(t);
}

/* What content-addressed names hash changes with each of the new fields. */
static void set_body_says_every_new_field(void **state)
{
	struct nfr_table *t = shapes(NFR_INET);
	struct nfr_set *f = nfr_set_find(t, "fp4/ward-01"), *c = nfr_set_find(t, "cp4/ward-01");
	struct strbuf before = {0}, after = {0};
	uint32_t *fields[] = {&f->elems[1].clo[0], &f->elems[1].chi[0], &f->elems[1].clo[1],
			      &f->elems[1].chi[1]};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		sb_reset(&before);
		sb_reset(&after);
		nfr_set_body(f, &before);
		(*fields[i])++;
		nfr_set_body(f, &after);
		(*fields[i])--;
		assert_string_not_equal(sb_str(&before), sb_str(&after));
	}
	sb_reset(&before);
	sb_reset(&after);
	nfr_set_body(c, &before);
	c->elems[0].obj[strlen(c->elems[0].obj) - 1] = 'x';
	nfr_set_body(c, &after);
	assert_string_not_equal(sb_str(&before), sb_str(&after));
	sb_reset(&after);
	f->cat.f[2] = NK_ICMP_TYPE;
	nfr_set_body(f, &after);
	assert_non_null(
	    strstr(sb_str(&after), "type ipv4_addr . inet_proto . icmp_type : verdict"));
	sb_free(&before);
	sb_free(&after);
	nfr_table_free(t);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char *path = xstrdup_printf("%s/%s", dir, name);
	FILE *f = path ? fopen(path, "w") : NULL;

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	free(path);
}

/* The whole tables, for suite 38 (WW_NFR_SHAPES); the bridge table differs only in its family. */
static void tables_render_for_nft(void **state)
{
	const char *dir = getenv("WW_NFR_SHAPES");
	struct nfr_table *inet = shapes(NFR_INET), *br = shapes(NFR_BRIDGE);
	char *a = render(inet), *b = render(br);

	assert_memory_equal(a, "table inet wardwall {\n", 21);
	assert_memory_equal(b, "table bridge wardwall {\n", 23);
	assert_string_equal(strchr(a, '\n'), strchr(b, '\n'));
	if (dir) {
		write_file(dir, "inet.nft", a);
		write_file(dir, "bridge.nft", b);
	}
	free(a);
	free(b);
	nfr_table_free(inet);
	nfr_table_free(br);
}

UNIT_MAIN(cmocka_unit_test(maps_render_as_nft_lists_them),
	  cmocka_unit_test(rules_render_the_same_in_both_families),
	  cmocka_unit_test(elements_sort_by_every_field),
	  cmocka_unit_test(set_body_says_every_new_field), cmocka_unit_test(tables_render_for_nft))
