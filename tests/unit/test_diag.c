// SPDX-License-Identifier: GPL-2.0-only
/* diag.c: diagnostics, their order, both printers, JSON pointers. */
#include "unit.h"

static void test_add(void **state)
{
	struct ww_diags d = {.file = "p.json"};

	ww_err(&d, "unknown-zone", "/flows/3/to", "unknown zone \"%s\"", "pacs2");
	ww_diag_add(&d, WW_ERROR, "unknown-zone", "/flows/4/to", "pacs", "unknown zone \"%s\"",
		    "pacs2");
	ww_warn(&d, "unused-zone", NULL, "no flow uses zone \"%s\"", "lab");
	assert_int_equal(d.n, 3);
	assert_int_equal(d.nerrors, 2);
	assert_int_equal(d.nwarnings, 1);
	assert_false(d.oom);
	assert_int_equal(d.v[0].sev, WW_ERROR);
	assert_string_equal(d.v[0].code, "unknown-zone");
	assert_string_equal(d.v[0].ptr, "/flows/3/to");
	assert_string_equal(d.v[0].msg, "unknown zone \"pacs2\"");
	assert_null(d.v[0].hint);
	assert_int_equal(d.v[0].line, 0);
	assert_string_equal(d.v[1].hint, "pacs");
	assert_string_equal(d.v[2].ptr, "");
	assert_int_equal(d.v[2].sev, WW_WARNING);
	ww_diags_free(&d);
	assert_int_equal(d.n, 0);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	assert_null(d.v);
	/* Still usable after free. */
	ww_err(&d, "x", "", "again");
	assert_int_equal(d.n, 1);
	ww_diags_free(&d);
}

static void test_sort_is_stable(void **state)
{
	struct ww_diags d = {0};

	ww_warn(&d, "w1", "/a", "w1");
	ww_err(&d, "e1", "/z", "e1");
	ww_warn(&d, "w2", "/b", "w2");
	ww_err(&d, "e2", "/a", "e2");
	ww_warn(&d, "w3", "/0", "w3");
	ww_diags_sort(&d);
	assert_string_equal(d.v[0].code, "e1");
	assert_string_equal(d.v[1].code, "e2");
	assert_string_equal(d.v[2].code, "w1");
	assert_string_equal(d.v[3].code, "w2");
	assert_string_equal(d.v[4].code, "w3");
	ww_diags_free(&d);
}

static void test_print(void **state)
{
	struct ww_diags d = {.file = "policy.json"};
	struct strbuf sb = {0};

	ww_diag_add(&d, WW_ERROR, "unknown-zone", "/flows/3/to", "pacs", "unknown zone \"pacs2\"");
	ww_warn(&d, "unused-zone", "", "the whole document");
	ww_err(&d, "malformed-json", "", "malformed JSON: unexpected '}'");
	d.v[2].line = 3;
	d.v[2].col = 7;
	ww_diags_print(&d, &sb);
	assert_string_equal(sb_str(&sb),
			    "policy.json: /flows/3/to: error: unknown zone \"pacs2\" (did you mean "
			    "\"pacs\"?)\n"
			    "policy.json: /: warning: the whole document\n"
			    "policy.json:3:7: error: malformed JSON: unexpected '}'\n");
	sb_reset(&sb);
	d.file = NULL;
	d.oom = true;
	ww_diags_print(&d, &sb);
	assert_non_null(strstr(sb_str(&sb), "-: /flows/3/to: error:"));
	assert_non_null(
	    strstr(sb_str(&sb), "\nwardwall: out of memory: some diagnostics were lost\n"));
	sb_free(&sb);
	ww_diags_free(&d);
}

static void test_json(void **state)
{
	struct ww_diags d = {.file = "a\"b.json"};
	struct strbuf sb = {0};

	ww_diags_json(&d, &sb);
	assert_string_equal(sb_str(&sb), "[]");
	sb_reset(&sb);
	ww_diag_add(&d, WW_ERROR, "unknown-zone", "/flows/0/to", "pacs", "unknown zone \"pacs2\"");
	ww_err(&d, "malformed-json", "", "tab\there");
	d.v[1].line = 2;
	d.v[1].col = 1;
	ww_warn(&d, "unused-zone", "/zones/a~1b", "w");
	ww_diags_json(&d, &sb);
	assert_string_equal(
	    sb_str(&sb),
	    "[\n"
	    "  {\"severity\": \"error\", \"code\": \"unknown-zone\", \"file\": \"a\\\"b.json\", "
	    "\"pointer\": \"/flows/0/to\", \"message\": \"unknown zone \\\"pacs2\\\"\", \"hint\": "
	    "\"pacs\"},\n"
	    "  {\"severity\": \"error\", \"code\": \"malformed-json\", \"file\": \"a\\\"b.json\", "
	    "\"pointer\": \"\", \"line\": 2, \"column\": 1, \"message\": \"tab\\there\"},\n"
	    "  {\"severity\": \"warning\", \"code\": \"unused-zone\", \"file\": \"a\\\"b.json\", "
	    "\"pointer\": \"/zones/a~1b\", \"message\": \"w\"}\n"
	    "]");
	sb_free(&sb);
	ww_diags_free(&d);
}

static void test_pointers(void **state)
{
	char *s = ww_ptr_key("/zones", "pacs");

	assert_string_equal(s, "/zones/pacs");
	free(s);
	s = ww_ptr_key("", "a/b~c~1");
	assert_string_equal(s, "/a~1b~0c~01");
	free(s);
	s = ww_ptr_key("/x", "");
	assert_string_equal(s, "/x/");
	free(s);
	s = ww_ptr_idx("/flows", 12);
	assert_string_equal(s, "/flows/12");
	free(s);
	s = ww_ptr_idx("", 0);
	assert_string_equal(s, "/0");
	free(s);
}

UNIT_MAIN(cmocka_unit_test(test_add), cmocka_unit_test(test_sort_is_stable),
	  cmocka_unit_test(test_print), cmocka_unit_test(test_json),
	  cmocka_unit_test(test_pointers))
