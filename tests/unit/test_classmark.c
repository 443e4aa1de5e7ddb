// SPDX-License-Identifier: GPL-2.0-only
/* classmark.c: enforcement.mark_bits, its two fields and the class numbers written there. */
#include "unit.h"

#include "classmark.h"

static void test_parse(void **state)
{
	uint32_t m = 7;

	assert_int_equal(ww_mark_parse("0xffff0000", &m), 0);
	assert_int_equal(m, 0xffff0000u);
	assert_int_equal(ww_mark_parse("0X0000FF00", &m), 0);
	assert_int_equal(m, 0xff00u);
	assert_int_equal(ww_mark_parse("0x3", &m), 0);
	assert_int_equal(m, 3);
	assert_int_equal(ww_mark_parse("0xffffffff", &m), 0);
	assert_int_equal(m, UINT32_MAX);
	/* Not written as a mask: *mask untouched. */
	m = 7;
	const char *bad[] = {"",	   "0x",   "ffff0000", "x3",   "0x0ffff00000",
			     " 0x3",	   "0x3 ", "0x-3",     "0x+3", "0xg0",
			     "4294901760", "0b11", "0x3\n",    "00x3", "0x 3"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (ww_mark_parse(bad[i], &m) != -EINVAL)
			fail_msg("\"%s\" parsed", bad[i]);
		assert_int_equal(m, 7);
	}
	/* Written as a mask, but not one run of at least 2 bits: the bits as written. */
	assert_int_equal(ww_mark_parse("0x0", &m), -EDOM);
	assert_int_equal(m, 0);
	assert_int_equal(ww_mark_parse("0x80000000", &m), -EDOM);
	assert_int_equal(m, 0x80000000u);
	assert_int_equal(ww_mark_parse("0xff00ff00", &m), -EDOM);
	assert_int_equal(ww_mark_parse("0x5", &m), -EDOM);
	assert_int_equal(ww_mark_parse("0x80000001", &m), -EDOM);
}

static void test_str(void **state)
{
	char b[WW_MARK_STRLEN];

	assert_string_equal(ww_mark_str(0xffff0000u, b), "0xffff0000");
	assert_string_equal(ww_mark_str(0x3, b), "0x00000003");
	assert_string_equal(ww_mark_str(UINT32_MAX, b), "0xffffffff");
}

static void test_fields(void **state)
{
	assert_int_equal(ww_mark_zone_bits(WW_MARK_DEFAULT), 0x00ff0000u);
	assert_int_equal(ww_mark_host_bits(WW_MARK_DEFAULT), 0xff000000u);
	/* Odd: the zone field has the extra bit. */
	assert_int_equal(ww_mark_zone_bits(0x1f), 0x07);
	assert_int_equal(ww_mark_host_bits(0x1f), 0x18);
	assert_int_equal(ww_mark_zone_bits(0x3), 0x1);
	assert_int_equal(ww_mark_host_bits(0x3), 0x2);
	assert_int_equal(ww_mark_zone_bits(0xc0000000u), 0x40000000u);
	assert_int_equal(ww_mark_host_bits(0xc0000000u), 0x80000000u);
	assert_int_equal(ww_mark_zone_bits(UINT32_MAX), 0x0000ffffu);
	assert_int_equal(ww_mark_host_bits(UINT32_MAX), 0xffff0000u);
	/* Every valid mask: the fields split it, the zone field low and ceil(n/2) wide. */
	size_t nvalid = 0;
	for (unsigned int lo = 0; lo < 32; lo++)
		for (unsigned int n = 1; lo + n <= 32; n++) {
			uint32_t m = (uint32_t)((((uint64_t)1 << n) - 1) << lo);
			uint32_t z = ww_mark_zone_bits(m), h = ww_mark_host_bits(m);
			assert_int_equal(ww_mark_valid(m), n >= 2);
			nvalid += n >= 2;
			assert_int_equal(z | h, m);
			assert_int_equal(z & h, 0);
			assert_int_equal(__builtin_popcount(z), (n + 1) / 2);
			assert_true(!h || z < (h & -h));
		}
	assert_int_equal(nvalid, 31 * 32 / 2);
	assert_false(ww_mark_valid(0));
	assert_false(ww_mark_valid(0x6006));
}

static void test_field_values(void **state)
{
	assert_int_equal(ww_mark_field(0x00ff0000u, 1), 0x00010000u);
	assert_int_equal(ww_mark_field(0x00ff0000u, 255), 0x00ff0000u);
	assert_int_equal(ww_mark_field(0xff000000u, 2), 0x02000000u);
	assert_int_equal(ww_mark_field(0x18, 3), 0x18);
	assert_int_equal(ww_mark_field(0x18, 4), 0); /* does not fit: cut to the field */
	assert_int_equal(ww_mark_field(0, 1), 0);
}

/* Zones a, b, c; b has host groups h1, h2 (in name order whatever the document order). */
#define EP_POL(enf)                                                                                \
	"{" UNIT_HDR                                                                               \
	"'zones': {'c': {'networks': '10.3.0.0/16'}, 'b': {'networks': '10.2.0.0/16', "            \
	"'hosts': {'h2': '10.2.0.2', 'h1': '10.2.0.1'}}, 'a': {'networks': '10.1.0.0/16'}}" enf    \
	"}"

static void test_ep(void **state)
{
	struct ww_policy *p = unit_parse_ok(EP_POL(""));
	const struct ww_zone *b = ww_zone_find(p, "b");

	assert_int_equal(p->enf.mark_mask, WW_MARK_DEFAULT);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, 0), 0);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, ww_zone_find(p, "a")->ep), 0x00010000u);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, b->ep), 0x00020000u);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, ww_zone_find(p, "c")->ep), 0x00030000u);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, ww_host_find(b, "h1")->ep), 0x01020000u);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, ww_host_find(b, "h2")->ep), 0x02020000u);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, (ww_ep_t)ww_nendpoints(p) + 1), 0);
	/* 5 bits: zone field 0x07, host field 0x18. */
	assert_int_equal(ww_mark_ep(p, 0x1f, ww_host_find(b, "h2")->ep), 0x12);
	assert_int_equal(ww_mark_ep(p, 0x3e, ww_host_find(b, "h1")->ep), 0x14);
	ww_policy_free(p);
	p = unit_parse_ok(EP_POL(", 'enforcement': {'mark_bits': '0x000003c0'}"));
	assert_int_equal(p->enf.mark_mask, 0x3c0);
	assert_int_equal(ww_mark_ep(p, p->enf.mark_mask, ww_zone_find(p, "c")->ep), 0xc0);
	ww_policy_free(p);
}

/* The fit: 3 zones need 2 zone bits, b's 2 host groups 2 host bits. */
static void test_fit(void **state)
{
	struct ww_diags d;
	struct ww_policy *p = unit_parse_ok(EP_POL(", 'enforcement': {'mark_bits': '0xf'}"));

	/* ww_mark_fits (the compiler's guard) says what check says. */
	assert_true(ww_mark_fits(p));
	p->enf.mark_mask = 0x7;
	assert_false(ww_mark_fits(p));
	p->enf.mark_mask = 0xc0000000u;
	assert_false(ww_mark_fits(p));
	p->enf.mark_mask = 0x1;
	assert_false(ww_mark_fits(p));
	ww_policy_free(p);
	ww_policy_free(unit_parse_ok(EP_POL(", 'enforcement': {'mark_bits': '0xf0000000'}")));
	assert_first_error(
	    EP_POL(", 'enforcement': {'mark_bits': '0x7'}"), "mark-bits-too-few",
	    "/enforcement/mark_bits",
	    "zone \"b\" has 2 host groups, which need a host field of 2 bits; "
	    "\"0x00000007\" has 3 bits, of which the host field is the high 1: use a "
	    "mask of 4 bits, such as \"0x0000000f\"");
	unit_parse_bad(EP_POL(", 'enforcement': {'mark_bits': '0xc0000000'}"), &d);
	assert_int_equal(d.n, 2);
	assert_diag(&d, 0, "mark-bits-too-few", "/enforcement/mark_bits",
		    "3 zones need a zone field of 2 bits; \"0xc0000000\" has 2 bits, of which the "
		    "zone field is the low 1: use a mask of 4 bits, such as \"0xf0000000\"");
	assert_diag(&d, 1, "mark-bits-too-few", "/enforcement/mark_bits", NULL);
	ww_diags_free(&d);
	/* No room below the top bit: widened upwards from the lowest. */
	assert_first_error(
	    EP_POL(", 'enforcement': {'mark_bits': '0x6'}"), "mark-bits-too-few",
	    "/enforcement/mark_bits",
	    "3 zones need a zone field of 2 bits; \"0x00000006\" has 2 bits, of which "
	    "the zone field is the low 1: use a mask of 4 bits, such as \"0x0000001e\"");
	/* An invalid mask is said once, not also found too narrow. */
	unit_parse_bad(EP_POL(", 'enforcement': {'mark_bits': '0x1'}"), &d);
	assert_int_equal(d.n, 1);
	assert_diag(&d, 0, "invalid-mark-bits", "/enforcement/mark_bits", NULL);
	ww_diags_free(&d);
}

/* n zones z000.., the first with nhosts host groups; extra ends the policy object. */
static char *many(size_t n, size_t nhosts, const char *extra)
{
	struct strbuf sb = {0};

	sb_add(&sb, "{" UNIT_HDR "'zones': {");
	for (size_t i = 0; i < n; i++) {
		sb_addf(&sb, "%s'z%03zu': {'networks': '10.%zu.%zu.0/24'", i ? ", " : "", i,
			i / 256, i % 256);
		for (size_t h = 0; i == 0 && h < nhosts; h++)
			sb_addf(&sb, "%s'h%zu': '10.0.0.%zu'%s", h ? ", " : ", 'hosts': {", h, h,
				h + 1 == nhosts ? "}" : "");
		sb_add(&sb, "}");
	}
	sb_addf(&sb, "}%s}", extra);
	return sb_steal(&sb);
}

/* The default 0xffff0000 numbers 255 zones and 255 host groups a zone; past it, the error is
 * said where the default applies. */
static void test_fit_default(void **state)
{
	struct ww_diags d;
	char *t = many(255, 255, "");

	ww_policy_free(unit_parse_ok(t));
	free(t);
	t = many(256, 1, "");
	assert_first_error(t, "mark-bits-too-few", "",
			   "256 zones need a zone field of 9 bits; the default mark_bits "
			   "\"0xffff0000\" has 16 bits, of which the zone field is the low 8: set "
			   "enforcement.mark_bits to a mask of 17 bits, such as \"0xffff8000\"");
	free(t);
	t = many(2, 256, ", 'enforcement': {'log_rate': 5}");
	unit_parse_bad(t, &d);
	assert_int_equal(d.n, 1);
	assert_diag(&d, 0, "mark-bits-too-few", "/enforcement",
		    "zone \"z000\" has 256 host groups, which need a host field of 9 bits; the "
		    "default mark_bits \"0xffff0000\" has 16 bits, of which the host field is the "
		    "high 8: set enforcement.mark_bits to a mask of 18 bits, such as "
		    "\"0xffffc000\"");
	ww_diags_free(&d);
	free(t);
	t = many(256, 256, ", 'enforcement': {'mark_bits': '0x0003ffff'}");
	ww_policy_free(unit_parse_ok(t));
	free(t);
}

UNIT_MAIN(cmocka_unit_test(test_parse), cmocka_unit_test(test_str), cmocka_unit_test(test_fields),
	  cmocka_unit_test(test_field_values), cmocka_unit_test(test_ep),
	  cmocka_unit_test(test_fit), cmocka_unit_test(test_fit_default))
