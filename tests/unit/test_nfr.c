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

/*
 * Round 3's class-keyed maps (LAYOUT.md) for source class ward-02: the destination's class in
 * the mark's bits 0xffff0000 (zone in 0x00ff0000, host group in 0xff000000), looked up at the
 * host group's level then the zone's; the chains that write the class (to/<class>) and clear
 * it (classify). Counters and decision chain of their own: suite 38 deletes ward-01's.
 */
static void mark_shapes(struct nfr_table *t)
{
	static const struct fm_el mp[] = {
	    {"0x00010000", 6, 6, 443, 443, "accept", "flow/m1"},
	    {"0x02010000", 17, 17, 2000, 2010, "goto dec-5e0d7a1b9c24", NULL},
	    {"0x00020000", 6, 17, 5000, 5000, "drop", "flow/m5"},
	};
	static const struct fm_el mi4[] = {
	    {"0x00010000", 8, 8, 0, 0, "accept", "flow/m1"},
	    {"0x00010000", 3, 5, 0, 0, "drop", NULL},
	};
	static const struct fm_el mi6[] = {{"0x00010000", 128, 128, 0, 0, "accept", "flow/m1"}};
	static const struct fm_el ml[] = {
	    {"0x00010000", 47, 47, 0, 0, "accept", "flow/m6"},
	    {"0x00020000-0x00030000", 50, 51, 0, 0, "drop", NULL},
	};
	static const struct {
		enum fm_kind k;
		const struct fm_el *els;
		size_t n;
	} maps[] = {{FM_MP, mp, ARRAY_SIZE(mp)},
		    {FM_MI4, mi4, ARRAY_SIZE(mi4)},
		    {FM_MI6, mi6, ARRAY_SIZE(mi6)},
		    {FM_ML, ml, ARRAY_SIZE(ml)}};

	fm_dec(t, "dec-5e0d7a1b9c24", "flow/m3", "accept");
	for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
		fm_maps(t, "ward-02", maps[i].k, maps[i].els, maps[i].n);
		fm_mark_rules(t, "ward-02", maps[i].k, 0x00ff0000);
	}
	fm_set_mark(t, "classify", 0x0000ffff, 0);
	fm_set_mark(t, "to/ward-01", 0x0000ffff, 0x00010000);
	fm_set_mark(t, "to/ward-01/printer", 0x0000ffff, 0x02010000);
	fm_set_mark(t, "to/ward-03", 0x0000ffff, 0x00020000);
}

/* The layout's example (LAYOUT.md), every kind of map, and a host group's chain; round 3's
 * class-keyed maps and set-mark chains. */
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
	mark_shapes(t);
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

/* Class-keyed maps: the mark as nft prints one, typeof for verdicts, the types for counters
 * (nft 1.0.6 has no `typeof ... : counter`). */
static void mark_maps_render_as_nft_lists_them(void **state)
{
	struct nfr_table *t = shapes(NFR_INET);

	assert_text(set_text(t, "fp/ward-02"),
		    "map fp/ward-02 {\n"
		    "\ttypeof meta mark . meta l4proto . th dport : verdict\n"
		    "\tflags interval\n"
		    "\telements = { 0x00010000 . tcp . 443 : accept,\n"
		    "\t\t     0x00020000 . 6-17 . 5000 : drop,\n"
		    "\t\t     0x02010000 . udp . 2000-2010 : goto dec-5e0d7a1b9c24 }\n"
		    "}\n");
	assert_text(set_text(t, "cp/ward-02"),
		    "map cp/ward-02 {\n"
		    "\ttype mark . inet_proto . inet_service : counter\n"
		    "\tflags interval\n"
		    "\telements = { 0x00010000 . tcp . 443 : \"flow/m1\",\n"
		    "\t\t     0x00020000 . 6-17 . 5000 : \"flow/m5\" }\n"
		    "}\n");
	assert_text(set_text(t, "fi4/ward-02"), "map fi4/ward-02 {\n"
						"\ttypeof meta mark . icmp type : verdict\n"
						"\tflags interval\n"
						"\telements = { 0x00010000 . 3-5 : drop,\n"
						"\t\t     0x00010000 . echo-request : accept }\n"
						"}\n");
	assert_text(set_text(t, "ci6/ward-02"),
		    "map ci6/ward-02 {\n"
		    "\ttype mark . icmpv6_type : counter\n"
		    "\tflags interval\n"
		    "\telements = { 0x00010000 . echo-request : \"flow/m1\" }\n"
		    "}\n");
	assert_text(set_text(t, "fl/ward-02"), "map fl/ward-02 {\n"
					       "\ttypeof meta mark . meta l4proto : verdict\n"
					       "\tflags interval\n"
					       "\telements = { 0x00010000 . gre : accept,\n"
					       "\t\t     0x00020000-0x00030000 . 50-51 : drop }\n"
					       "}\n");
	nfr_table_free(t);
}

/* The host group's level, then the zone's, each counters first. In the bridge family an ICMP
 * field's network protocol is written (`meta protocol ip`), as the netlink side writes it, since
 * nft would take the link header's; in inet nft adds `meta nfproto` as the netlink side does. The
 * class written and cleared by set-mark, before a named counter. */
static void mark_rules_render(void **state)
{
	static const char want[] =
	    "chain from/ward-02 {\n"
	    "\tcounter name meta mark & 0xffff0000 . meta l4proto . th dport map @cp/ward-02\n"
	    "\tmeta mark & 0xffff0000 . meta l4proto . th dport vmap @fp/ward-02\n"
	    "\tcounter name meta mark & 0x00ff0000 . meta l4proto . th dport map @cp/ward-02\n"
	    "\tmeta mark & 0x00ff0000 . meta l4proto . th dport vmap @fp/ward-02\n"
	    "\tcounter name meta mark & 0xffff0000 . icmp type map @ci4/ward-02\n"
	    "\tmeta mark & 0xffff0000 . icmp type vmap @fi4/ward-02\n"
	    "\tcounter name meta mark & 0x00ff0000 . icmp type map @ci4/ward-02\n"
	    "\tmeta mark & 0x00ff0000 . icmp type vmap @fi4/ward-02\n"
	    "\tcounter name meta mark & 0xffff0000 . icmpv6 type map @ci6/ward-02\n"
	    "\tmeta mark & 0xffff0000 . icmpv6 type vmap @fi6/ward-02\n"
	    "\tcounter name meta mark & 0x00ff0000 . icmpv6 type map @ci6/ward-02\n"
	    "\tmeta mark & 0x00ff0000 . icmpv6 type vmap @fi6/ward-02\n"
	    "\tcounter name meta mark & 0xffff0000 . meta l4proto map @cl/ward-02\n"
	    "\tmeta mark & 0xffff0000 . meta l4proto vmap @fl/ward-02\n"
	    "\tcounter name meta mark & 0x00ff0000 . meta l4proto map @cl/ward-02\n"
	    "\tmeta mark & 0x00ff0000 . meta l4proto vmap @fl/ward-02\n"
	    "}\n";
	struct nfr_table *inet = shapes(NFR_INET), *br = shapes(NFR_BRIDGE);

	assert_text(chain_text(inet, "from/ward-02"), want);
	char *bridge = chain_text(br, "from/ward-02"), *b = bridge;
	for (const char *w = want; *w;) {
		/* bridge: each line of want, its ICMP lines after `meta protocol ip` (ip6). */
		const char *nl = strchr(w, '\n') + 1;
		const char *dep =
		    memmem(w, (size_t)(nl - w), "icmpv6 type", 11) ? "\tmeta protocol ip6 "
		    : memmem(w, (size_t)(nl - w), "icmp type", 9)  ? "\tmeta protocol ip "
								   : NULL;
		if (dep) {
			assert_memory_equal(b, dep, strlen(dep));
			b += strlen(dep), w++;
		}
		assert_memory_equal(b, w, (size_t)(nl - w));
		b += nl - w, w = nl;
	}
	assert_string_equal(b, "");
	free(bridge);
	assert_text(chain_text(inet, "classify"),
		    "chain classify {\n\tmeta mark set meta mark & 0x0000ffff\n}\n");
	assert_text(chain_text(br, "to/ward-01/printer"),
		    "chain to/ward-01/printer {\n"
		    "\tmeta mark set meta mark & 0x0000ffff | 0x02010000\n"
		    "}\n");
	struct nfr_rule r = {.counter = "flow/x",
			     .set_mark = true,
			     .mark_keep = 0xff00ffff,
			     .mark_or = 0x00030000,
			     .v = {NV_ACCEPT, NULL}};
	struct strbuf sb = {0};
	nfr_rule_render(&r, &sb);
	assert_string_equal(
	    sb_str(&sb),
	    "meta mark set meta mark & 0xff00ffff | 0x00030000 counter name \"flow/x\" accept");
	sb_free(&sb);
	/* A mask of every bit is the bare mark, as nft lists it. */
	nfr_chain_find(inet, "from/ward-02")->rules[1].cat.mark_mask = UINT32_MAX;
	char *all = chain_text(inet, "from/ward-02");
	assert_non_null(strstr(all, "\n\tmeta mark . meta l4proto . th dport vmap @fp/ward-02\n"));
	free(all);
	nfr_table_free(inet);
	nfr_table_free(br);
}

/* Content-addressed names hash the chain's body: the mask and the mark written are in it. */
static void chain_body_says_mask_and_set_mark(void **state)
{
	struct nfr_table *t = shapes(NFR_INET);
	struct nfr_chain *from = nfr_chain_find(t, "from/ward-02"), *to = nfr_chain_find(t, "to/ward-01");
	uint32_t *fields[] = {&from->rules[1].cat.mark_mask, &from->rules[0].cat.mark_mask,
			      &to->rules[0].mark_keep, &to->rules[0].mark_or};
	struct strbuf before = {0}, after = {0};

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		sb_reset(&before);
		sb_reset(&after);
		nfr_chain_body(i < 2 ? from : to, &before);
		*fields[i] ^= 0x00010000;
		nfr_chain_body(i < 2 ? from : to, &after);
		*fields[i] ^= 0x00010000;
		assert_string_not_equal(sb_str(&before), sb_str(&after));
	}
	sb_reset(&after);
	to->rules[0].mark_or = 0;
	nfr_chain_body(to, &after);
	assert_string_equal(sb_str(&after), "meta mark set meta mark & 0x0000ffff\n");
	sb_free(&before);
	sb_free(&after);
	nfr_table_free(t);
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

/* The whole tables, for suite 38 (WW_NFR_SHAPES); the bridge table differs in its family and the
 * mark-keyed ICMP rules' `meta protocol`. */
static void tables_render_for_nft(void **state)
{
	const char *dir = getenv("WW_NFR_SHAPES");
	struct nfr_table *inet = shapes(NFR_INET), *br = shapes(NFR_BRIDGE);
	char *a = render(inet), *b = render(br);

	assert_memory_equal(a, "table inet wardwall {\n", 21);
	assert_memory_equal(b, "table bridge wardwall {\n", 23);
	/* "bridge" for "inet", and 8 ICMP rules' dependency, 4 of them ip6. */
	assert_int_equal(strlen(b) - strlen(a), 2 + 8 * strlen("meta protocol ip ") + 4);
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
	  cmocka_unit_test(mark_maps_render_as_nft_lists_them), cmocka_unit_test(mark_rules_render),
	  cmocka_unit_test(chain_body_says_mask_and_set_mark),
	  cmocka_unit_test(elements_sort_by_every_field),
	  cmocka_unit_test(set_body_says_every_new_field), cmocka_unit_test(tables_render_for_nft))
