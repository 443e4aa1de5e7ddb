// SPDX-License-Identifier: GPL-2.0-only
/* util.c: strings, vectors, hashing, "did you mean", files. */
#include "unit.h"

#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_sb_empty(void **state)
{
	struct strbuf sb = {0};

	assert_string_equal(sb_str(&sb), "");
	char *s = sb_steal(&sb);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	assert_null(sb.s);
	assert_int_equal(sb.len, 0);
	sb_free(&sb);
}

static void test_sb_add_and_format(void **state)
{
	struct strbuf sb = {0};

	sb_add(&sb, "zone ");
	sb_addn(&sb, "pacs2xyz", 4);
	sb_addf(&sb, ": %d flows, %s", 12, "ok");
	assert_string_equal(sb_str(&sb), "zone pacs: 12 flows, ok");
	assert_int_equal(sb.len, strlen("zone pacs: 12 flows, ok"));
	assert_false(sb.oom);
	sb_reset(&sb);
	assert_string_equal(sb_str(&sb), "");
	assert_int_equal(sb.len, 0);
	sb_add(&sb, "again");
	assert_string_equal(sb_str(&sb), "again");
	sb_free(&sb);
	assert_null(sb.s);
	assert_int_equal(sb.cap, 0);
}

static void test_sb_grows(void **state)
{
	struct strbuf sb = {0};

	/* Far past the first 64-byte allocation, byte by byte and in one large piece. */
	for (int i = 0; i < 1000; i++)
		sb_addf(&sb, "%c", 'a' + i % 26);
	assert_int_equal(sb.len, 1000);
	assert_true(sb.cap > 1000);
	assert_int_equal(sb.s[0], 'a');
	assert_int_equal(sb.s[999], 'a' + 999 % 26);
	assert_int_equal(sb.s[1000], '\0');
	char big[5000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sb_add(&sb, big);
	assert_int_equal(sb.len, 1000 + 4999);
	assert_int_equal(strlen(sb_str(&sb)), 5999);
	char *s = sb_steal(&sb);
	assert_int_equal(strlen(s), 5999);
	assert_null(sb.s);
	assert_int_equal(sb.len, 0);
	assert_int_equal(sb.cap, 0);
	free(s);
}

static void test_sb_json_str(void **state)
{
	struct strbuf sb = {0};

	sb_add_json_str(&sb, "a\"b\\c\nd\te\rf\x01g\x1fh");
	assert_string_equal(sb_str(&sb), "\"a\\\"b\\\\c\\nd\\te\\rf\\u0001g\\u001fh\"");
	sb_reset(&sb);
	/* UTF-8, DEL and '/' pass through unchanged. */
	sb_add_json_str(&sb, "h\xc3\xa9/\x7f");
	assert_string_equal(sb_str(&sb), "\"h\xc3\xa9/\x7f\"");
	sb_reset(&sb);
	sb_add_json_str(&sb, "");
	assert_string_equal(sb_str(&sb), "\"\"");
	sb_reset(&sb);
	/* Runs of plain characters between escapes, at either end; a body has no quotes. */
	sb_add_json_body(&sb, "\"zone\\one\ntwo\"");
	sb_add_json_body(&sb, "/");
	sb_add_json_body(&sb, "host");
	assert_string_equal(sb_str(&sb), "\\\"zone\\\\one\\ntwo\\\"/host");
	sb_free(&sb);
}

static void test_vec_reserve(void **state)
{
	int *v = NULL;
	size_t cap = 0, n = 0;

	assert_int_equal(vec_reserve(&v, &cap, 0, sizeof(*v)), 0);
	assert_null(v);
	assert_int_equal(cap, 0);
	assert_int_equal(vec_reserve(&v, &cap, 1, sizeof(*v)), 0);
	assert_non_null(v);
	assert_int_equal(cap, 8);
	int *same = v;
	assert_int_equal(vec_reserve(&v, &cap, 8, sizeof(*v)), 0);
	assert_ptr_equal(v, same);
	assert_int_equal(cap, 8);
	assert_int_equal(vec_reserve(&v, &cap, 100, sizeof(*v)), 0);
	assert_int_equal(cap, 128);
	free(v);

	v = NULL;
	cap = 0;
	for (int i = 0; i < 1000; i++)
		assert_int_equal(VEC_PUSH(v, n, cap, i * 3), 0);
	assert_int_equal(n, 1000);
	assert_int_equal(cap, 1024);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(v[i], i * 3);
	free(v);
}

static void test_xstrdup_printf(void **state)
{
	char *s = xstrdup_printf("%s/%zu", "/flows", (size_t)3);

	assert_string_equal(s, "/flows/3");
	free(s);
	s = xstrdup_printf("%s", "");
	assert_string_equal(s, "");
	free(s);
}

static void test_fnv1a64(void **state)
{
	/* Reference values of 64-bit FNV-1a. */
	assert_true(fnv1a64("", 0, FNV1A64_INIT) == 0xcbf29ce484222325ULL);
	assert_true(fnv1a64("a", 1, FNV1A64_INIT) == 0xaf63dc4c8601ec8cULL);
	assert_true(fnv1a64("foobar", 6, FNV1A64_INIT) == 0x85944171f73967e8ULL);
	/* The seed chains: hashing in two pieces is hashing the whole. */
	assert_true(fnv1a64("bar", 3, fnv1a64("foo", 3, FNV1A64_INIT)) ==
		    fnv1a64("foobar", 6, FNV1A64_INIT));
	/* Length is honoured, not the terminator. */
	assert_true(fnv1a64("a\0b", 3, FNV1A64_INIT) != fnv1a64("a", 1, FNV1A64_INIT));
}

static void test_edit_distance(void **state)
{
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("abc", ""), 3);
	assert_int_equal(edit_distance("pacs", "pacs"), 0);
	assert_int_equal(edit_distance("pacs2", "pacs"), 1);
	assert_int_equal(edit_distance("ehr", "her"), 2); /* no transpositions */
	assert_int_equal(edit_distance("flaw", "lawn"), 2);
	/* A candidate of 64 characters or more is too long to compare. */
	char longw[65];
	memset(longw, 'a', 64);
	longw[64] = '\0';
	assert_int_equal(edit_distance("a", longw), ~0u);
	longw[63] = '\0';
	assert_int_equal(edit_distance("a", longw), 62);
}

static void test_suggest(void **state)
{
	static const char *const zones[] = {"ehr", "pacs", "modality", "monitors"};

	assert_string_equal(suggest("pacs2", zones, 4), "pacs");
	assert_string_equal(suggest("modalty", zones, 4), "modality");
	assert_string_equal(suggest("monitor", zones, 4), "monitors");
	assert_string_equal(suggest("eh", zones, 4), "ehr");
	/* Exact matches and distant words get no suggestion. */
	assert_null(suggest("pacs", zones, 4));
	assert_null(suggest("laboratory", zones, 4));
	assert_null(suggest("xy", zones, 4));
	assert_null(suggest("pacs", zones, 0));
	/* A third of the word plus one: "abcdef" allows 3 edits, not 4. */
	static const char *const c3[] = {"abcxyz"}, *const c4[] = {"awxyzf"};
	assert_string_equal(suggest("abcdef", c3, 1), "abcxyz");
	assert_null(suggest("abcdef", c4, 1));
	/* Short words: one edit at most. */
	static const char *const s1[] = {"ac"}, *const s2[] = {"xy"};
	assert_string_equal(suggest("ab", s1, 1), "ac");
	assert_null(suggest("ab", s2, 1));
	/* Ties go to the first candidate. */
	static const char *const tie[] = {"pacx", "pacy"};
	assert_string_equal(suggest("pacz", tie, 2), "pacx");
}

static void test_strset(void **state)
{
	struct strset ss = {0};
	char name[32];

	assert_false(strset_has(&ss, "a"));
	assert_int_equal(strset_add(&ss, "a"), 1);
	assert_int_equal(strset_add(&ss, "a"), 0);
	assert_true(strset_has(&ss, "a"));
	assert_false(strset_has(&ss, "b"));
	/* Past several growths, every member is still found once. */
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "flow-%d", i);
		assert_int_equal(strset_add(&ss, name), 1);
	}
	assert_int_equal(ss.n, 501);
	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "flow-%d", i);
		assert_true(strset_has(&ss, name));
		assert_int_equal(strset_add(&ss, name), 0);
	}
	assert_false(strset_has(&ss, "flow-500"));
	strset_free(&ss);
	assert_int_equal(ss.n, 0);
	assert_false(strset_has(&ss, "a"));
}

struct tmpdir {
	char path[64];
};

static int tmp_setup(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (!t)
		return -1;
	snprintf(t->path, sizeof(t->path), "/tmp/ww-unit-XXXXXX");
	if (!mkdtemp(t->path)) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static int tmp_teardown(void **state)
{
	struct tmpdir *t = *state;
	int err = nftw(t->path, rm_entry, 8, FTW_DEPTH | FTW_PHYS);

	free(t);
	return err ? -1 : 0;
}

static void test_files_roundtrip(void **state)
{
	struct tmpdir *t = *state;
	char path[128], *data;
	size_t len;
	struct stat st;

	snprintf(path, sizeof(path), "%s/policy.json", t->path);
	/* Binary data with NULs: the length is what counts. */
	assert_int_equal(write_file_atomic(path, "ab\0cd", 5, 0600), 0);
	assert_int_equal(read_file(path, &data, &len), 0);
	assert_int_equal(len, 5);
	assert_memory_equal(data, "ab\0cd", 6); /* NUL-terminated too */
	free(data);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* Overwriting replaces the content; no temporary file is left behind. */
	assert_int_equal(write_file_atomic(path, "x", 1, 0644), 0);
	assert_int_equal(read_file(path, &data, NULL), 0);
	assert_string_equal(data, "x");
	free(data);
	char tmp[160];
	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

static void test_files_large_and_empty(void **state)
{
	struct tmpdir *t = *state;
	char path[128], *data;
	size_t len, n = 200000;
	char *big = malloc(n);

	assert_non_null(big);
	for (size_t i = 0; i < n; i++)
		big[i] = (char)('A' + i % 23);
	snprintf(path, sizeof(path), "%s/big", t->path);
	assert_int_equal(write_file_atomic(path, big, n, 0600), 0);
	assert_int_equal(read_file(path, &data, &len), 0);
	assert_int_equal(len, n);
	assert_memory_equal(data, big, n);
	free(data);
	free(big);

	snprintf(path, sizeof(path), "%s/empty", t->path);
	assert_int_equal(write_file_atomic(path, "", 0, 0600), 0);
	assert_int_equal(read_file(path, &data, &len), 0);
	assert_int_equal(len, 0);
	assert_string_equal(data, "");
	free(data);
}

static void test_files_errors(void **state)
{
	struct tmpdir *t = *state;
	char path[128], *data = (char *)"untouched";
	size_t len = 42;

	snprintf(path, sizeof(path), "%s/missing.json", t->path);
	assert_int_equal(read_file(path, &data, &len), -ENOENT);
	assert_string_equal(data, "untouched");
	assert_int_equal(len, 42);
	snprintf(path, sizeof(path), "%s/no/such/dir", t->path);
	assert_int_equal(write_file_atomic(path, "x", 1, 0600), -ENOENT);
	/* A directory cannot be read as a file. */
	assert_int_equal(read_file(t->path, &data, &len), -EIO);
}

/* A file that need not exist: missing is 0 with nothing read, any other failure an error. */
static void test_read_file_opt(void **state)
{
	struct tmpdir *t = *state;
	char path[128], *data = (char *)"untouched";
	size_t len = 42;

	snprintf(path, sizeof(path), "%s/current", t->path);
	assert_int_equal(read_file_opt(path, &data, &len), 0);
	assert_null(data);
	assert_int_equal(len, 0);
	assert_int_equal(write_file_atomic(path, "7\n", 2, 0600), 0);
	assert_int_equal(read_file_opt(path, &data, &len), 1);
	assert_string_equal(data, "7\n");
	assert_int_equal(len, 2);
	free(data);
	assert_int_equal(read_file_opt(path, &data, NULL), 1);
	free(data);
	assert_int_equal(read_file_in(t->path, "current", &data, NULL), 1);
	assert_string_equal(data, "7\n");
	free(data);
	assert_int_equal(read_file_in(t->path, "history.jsonl", &data, NULL), 0);
	assert_null(data);
	/* Not a missing file: a path through a file, and a directory. */
	snprintf(path, sizeof(path), "%s/current/x", t->path);
	assert_int_equal(read_file_opt(path, &data, &len), -ENOTDIR);
	assert_int_equal(read_file_opt(t->path, &data, &len), -EIO);
}

static void test_sha256_hex(void **state)
{
	char out[65];

	sha256_hex("", 0, out);
	assert_string_equal(out,
			    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abc", 3, out);
	assert_string_equal(out,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(strlen(out), 64);
}

/* The one interface-name rule, shared by the policy parser and doctor --interface. */
static void test_ifname_valid(void **state)
{
	assert_true(ww_ifname_valid("eth0"));
	assert_true(ww_ifname_valid("lan-infusion"));
	assert_true(ww_ifname_valid("123456789012345")); /* 15: the most the kernel takes */
	assert_false(ww_ifname_valid("1234567890123456"));
	assert_false(ww_ifname_valid(""));
	assert_false(ww_ifname_valid("."));
	assert_false(ww_ifname_valid(".."));
	assert_false(ww_ifname_valid("a/b"));
	assert_false(ww_ifname_valid("eth0:1"));
	assert_false(ww_ifname_valid("a b"));
	assert_false(ww_ifname_valid("a\tb"));
}

UNIT_MAIN(cmocka_unit_test(test_ifname_valid), cmocka_unit_test(test_sb_empty), cmocka_unit_test(test_sb_add_and_format),
	  cmocka_unit_test(test_sb_grows), cmocka_unit_test(test_sb_json_str),
	  cmocka_unit_test(test_vec_reserve), cmocka_unit_test(test_xstrdup_printf),
	  cmocka_unit_test(test_fnv1a64), cmocka_unit_test(test_edit_distance),
	  cmocka_unit_test(test_suggest), cmocka_unit_test(test_strset),
	  cmocka_unit_test_setup_teardown(test_files_roundtrip, tmp_setup, tmp_teardown),
	  cmocka_unit_test_setup_teardown(test_files_large_and_empty, tmp_setup, tmp_teardown),
	  cmocka_unit_test_setup_teardown(test_files_errors, tmp_setup, tmp_teardown),
	  cmocka_unit_test_setup_teardown(test_read_file_opt, tmp_setup, tmp_teardown),
	  cmocka_unit_test(test_sha256_hex))
