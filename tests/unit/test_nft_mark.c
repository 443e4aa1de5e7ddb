// SPDX-License-Identifier: GPL-2.0-only
/* The mark's file round-trips, refuses what it cannot trust, and matches only its own place. */
#include "unit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nft_mark.h"
#include "util.h"

static char *tmpdir(void)
{
	char *d = strdup("/tmp/ww-mark-XXXXXX");

	assert_non_null(mkdtemp(d));
	return d;
}

static void put(const char *dir, const char *text)
{
	char *p = xstrdup_printf("%s/nft-mark.json", dir);

	assert_int_equal(write_file_atomic(p, text, strlen(text), 0600), 0);
	free(p);
}

static const struct ww_nft_mark sample = {
	.boot_id = "b0592379-169d-454b-bb43-082829adb4b3",
	.netns_cookie = 18446744073709551557ull, /* beyond what a double holds exactly */
	.genid = 4294967295u,
	.binary_sha256 = "82e90222ebd1d718353a777363681d2fb7a68db627aab85bf418ed4c571a31f3",
	.policy_sha256 = "7859c1b838e37c65b68a6ba2e92086185a0bb588fe04f797e0e2bf8fccdea03f",
};

static void round_trip(void **state)
{
	char *d = tmpdir();
	struct ww_nft_mark m;

	(void)state;
	assert_int_equal(ww_nft_mark_load(d, &m), -ENOENT);
	assert_int_equal(ww_nft_mark_save(d, &sample), 0);
	assert_int_equal(ww_nft_mark_load(d, &m), 0);
	assert_memory_equal(&m, &sample, sizeof(m));
	ww_nft_mark_clear(d);
	assert_int_equal(ww_nft_mark_load(d, &m), -ENOENT);
	rmdir(d);
	free(d);
}

static void refuses_garbage(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{}",
		/* the cookie as a number (could have lost precision) */
		"{\"boot_id\": \"x\", \"netns_cookie\": 5, \"genid\": 1, \"binary_sha256\": \"a\", "
		"\"policy_sha256\": \"b\"}",
		/* a generation out of range */
		"{\"boot_id\": \"x\", \"netns_cookie\": \"5\", \"genid\": 4294967296, "
		"\"binary_sha256\": \"a\", \"policy_sha256\": \"b\"}",
		/* a field too long for its buffer */
		"{\"boot_id\": \"0123456789012345678901234567890123456789x\", \"netns_cookie\": \"5\", "
		"\"genid\": 1, \"binary_sha256\": \"a\", \"policy_sha256\": \"b\"}",
	};
	char *d = tmpdir();
	struct ww_nft_mark m;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		put(d, bad[i]);
		assert_int_equal(ww_nft_mark_load(d, &m), -EBADMSG);
		assert_int_equal(m.genid, 0);
	}
	ww_nft_mark_clear(d);
	rmdir(d);
	free(d);
}

static void matches_only_its_place(void **state)
{
	struct ww_nft_mark here = sample, m = sample;

	(void)state;
	here.policy_sha256[0] = '\0'; /* "here" never names a policy */
	assert_true(ww_nft_mark_matches(&m, &here));
	m.genid++;
	assert_false(ww_nft_mark_matches(&m, &here));
	m = sample;
	m.netns_cookie--;
	assert_false(ww_nft_mark_matches(&m, &here));
	m = sample;
	m.boot_id[0] = 'c';
	assert_false(ww_nft_mark_matches(&m, &here));
	m = sample;
	m.binary_sha256[0] = '0';
	assert_false(ww_nft_mark_matches(&m, &here));
	m = sample;
	m.policy_sha256[0] = '\0';
	assert_false(ww_nft_mark_matches(&m, &here));
	m = sample;
	here.boot_id[0] = '\0'; /* where could not be told */
	m.boot_id[0] = '\0';
	assert_false(ww_nft_mark_matches(&m, &here));
}

static void next_generation_skips_zero(void **state)
{
	(void)state;
	assert_int_equal(ww_nft_genid_next(1), 2);
	assert_int_equal(ww_nft_genid_next(4294967295u), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trip),
		cmocka_unit_test(refuses_garbage),
		cmocka_unit_test(matches_only_its_place),
		cmocka_unit_test(next_generation_skips_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
