// SPDX-License-Identifier: GPL-2.0-only
/*
 * The saved policy of a generation (state.h): the same bytes whether the apply hands its
 * canonical text or the policy is printed again, and ww_state_policy_sha's hash of the file is
 * the policy's hash exactly while the file is the canonical text: an edited or foreign file
 * (the same policy, other bytes) no longer matches, so the mark is not trusted on its word.
 */
#include "unit.h"

#include <ftw.h>

#include "state.h"

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void saved_policy_hash(void **unused)
{
	char d[] = "/tmp/ww-unit-state.XXXXXX";
	char *pol = unit_json(UNIT_POL(", 'flows': [{'from': 'campus/servers', 'to': 'icu', "
				       "'services': 'https', 'action': 'allow'}]"));
	struct ww_policy *p = unit_parse_ok(pol), *q = NULL;
	struct ww_state *st = NULL;
	struct strbuf err = {0}, canon = {0};
	struct ww_diags dg = {0};
	char h[65], sha[65], *path, *a = NULL, *b = NULL;
	size_t alen, blen;

	assert_non_null(mkdtemp(d));
	assert_int_equal(ww_state_open(d, true, &st, &err), 0);
	path = xstrdup_printf("%s/generations/1.json", d);
	assert_int_equal(ww_state_save_policy(st, 1, p, NULL), 0);
	assert_int_equal(read_file(path, &a, &alen), 0);
	ww_policy_print_canonical(p, &canon);
	assert_int_equal(ww_state_save_policy(st, 1, p, &canon), 0);
	assert_int_equal(read_file(path, &b, &blen), 0);
	assert_int_equal(alen, blen);
	assert_memory_equal(a, b, alen);

	ww_policy_hash(p, h);
	assert_int_equal(ww_state_policy_sha(st, 1, &q, &dg, sha), 0);
	assert_string_equal(sha, h);
	ww_policy_free(q);
	q = NULL;

	/* The same policy in other bytes: it parses to the same hash, the file's hash differs. */
	char *edited = xstrdup_printf(" %s", a);
	assert_int_equal(write_file_atomic(path, edited, strlen(edited), 0640), 0);
	assert_int_equal(ww_state_policy_sha(st, 1, &q, &dg, sha), 0);
	ww_policy_hash(q, h);
	assert_string_not_equal(sha, h);
	ww_policy_free(q);

	ww_state_forget_policy(st, 1);
	ww_state_close(st);
	assert_int_equal(nftw(d, rm_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
	free(edited);
	free(path);
	free(a);
	free(b);
	free(pol);
	sb_free(&canon);
	sb_free(&err);
	ww_diags_free(&dg);
	ww_policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(saved_policy_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
