/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the unit tests (tests/unit/test_<module>.c, one per controller source).
 *
 * Policies are written inline with single quotes for readability: unit_json() turns every ' into
 * ", so a test never needs an apostrophe inside a string (write \u0027 if one ever does).
 * Helpers that assert take the caller's file and line through the macros below, so a failure
 * points at the test, not at this header. Every test runs in-process on the model only: nothing
 * here touches the kernel or the network.
 */
#ifndef WW_TEST_UNIT_H
#define WW_TEST_UNIT_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "diag.h"
#include "eval.h"
#include "model.h"
#include "policy.h"
#include "timeutil.h"
#include "util.h"

/* The two members every policy needs, for concatenation: "{" UNIT_HDR "'zones': {...}}". */
#define UNIT_HDR "'wardwall': 1, 'name': 'unit', "

/*
 * The zones most tests share (eval, decision, nft_diff). Nesting, in both families:
 *   campus 10.0.0.0/8, fd00::/16
 *     campus/servers 10.1.0.0/16, fd00:1::/32
 *       campus/db 10.1.2.3, fd00:1::3           (a host group inside a host group)
 *       dmz 10.1.9.0/24, fd00:1:9::/48           (a zone inside a host group of another zone)
 *     lab 10.2.0.0/16, fd00:2::/32               (a zone inside a zone)
 *       lab/scope 10.2.0.7, fd00:2::7
 *   icu 10.3.0.0/16, fd00:3::/32 (monitor), icu/pump 10.3.0.9
 * Anything else is unzoned.
 */
#define UNIT_ZONES                                                                                 \
	"'zones': {"                                                                               \
	"'campus': {'networks': ['10.0.0.0/8', 'fd00::/16'], 'hosts': {'servers': "                \
	"['10.1.0.0/16', 'fd00:1::/32'], 'db': ['10.1.2.3', 'fd00:1::3']}},"                       \
	"'dmz': {'networks': ['10.1.9.0/24', 'fd00:1:9::/48']},"                                   \
	"'lab': {'networks': ['10.2.0.0/16', 'fd00:2::/32'], 'hosts': {'scope': ['10.2.0.7', "     \
	"'fd00:2::7']}},"                                                                          \
	"'icu': {'mode': 'monitor', 'networks': ['10.3.0.0/16', 'fd00:3::/32'], 'hosts': "         \
	"{'pump': '10.3.0.9'}}}"
/* A policy of UNIT_ZONES and rest (", 'flows': [...]"). */
#define UNIT_POL(rest) "{" UNIT_HDR UNIT_ZONES rest "}"

/* A malloc'ed copy of s with every ' replaced by ". */
static inline char *unit_json(const char *s)
{
	char *r = strdup(s);

	for (char *q = r; q && *q; q++)
		if (*q == '\'')
			*q = '"';
	return r;
}

/* Prints the diagnostics as TAP comments, so that a failing test shows why. */
static inline void unit_dump_diags(const struct ww_diags *d)
{
	struct strbuf sb = {0};

	ww_diags_print(d, &sb);
	for (const char *l = sb_str(&sb); *l;) {
		size_t n = strcspn(l, "\n");
		print_message("# %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
	sb_free(&sb);
}

/* Parses text (single-quoted JSON) into d; returns what ww_policy_parse returns. */
static inline int unit_parse_into(const char *text, struct ww_diags *d, struct ww_policy **out)
{
	char *json = unit_json(text);
	int err;

	if (!json)
		return -ENOMEM;
	d->file = "unit.json";
	err = ww_policy_parse("unit.json", json, strlen(json), d, out);
	free(json);
	return err;
}

/* Parses a policy that must be valid (warnings allowed); fails the test otherwise. */
static inline struct ww_policy *unit_parse_ok_at(const char *text, const char *file, int line)
{
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	int err = unit_parse_into(text, &d, &p);

	if (err) {
		print_message("# policy rejected (%d):\n", err);
		unit_dump_diags(&d);
		ww_diags_free(&d);
		_fail(file, line);
	}
	ww_diags_free(&d);
	return p;
}
#define unit_parse_ok(text) unit_parse_ok_at(text, __FILE__, __LINE__)

/* Parses a policy that must be rejected with -EINVAL; d receives the diagnostics (unsorted). */
static inline void unit_parse_bad_at(const char *text, struct ww_diags *d, const char *file,
				     int line)
{
	struct ww_policy *p = NULL;
	int err;

	memset(d, 0, sizeof(*d));
	err = unit_parse_into(text, d, &p);
	if (err != -EINVAL || p) {
		print_message("# expected -EINVAL, got %d\n", err);
		ww_policy_free(p);
		_fail(file, line);
	}
	_assert_true(d->nerrors > 0, "d->nerrors > 0", file, line);
}
#define unit_parse_bad(text, d) unit_parse_bad_at(text, d, __FILE__, __LINE__)

static inline void unit_str_eq(const char *got, const char *want, const char *file, int line)
{
	if (!want) {
		if (got) {
			print_message("# expected NULL, got \"%s\"\n", got);
			_fail(file, line);
		}
		return;
	}
	if (!got) {
		print_message("# expected \"%s\", got NULL\n", want);
		_fail(file, line);
	}
	_assert_string_equal(got, want, file, line);
}

/* Asserts diagnostic i: its code, pointer and message (msg NULL: not checked). */
static inline void unit_diag_is(const struct ww_diags *d, size_t i, const char *code,
				const char *ptr, const char *msg, const char *file, int line)
{
	if (i >= d->n) {
		print_message("# no diagnostic %zu (there are %zu)\n", i, d->n);
		unit_dump_diags(d);
		_fail(file, line);
	}
	if (strcmp(d->v[i].code, code) || strcmp(d->v[i].ptr, ptr) ||
	    (msg && strcmp(d->v[i].msg, msg)))
		unit_dump_diags(d);
	unit_str_eq(d->v[i].code, code, file, line);
	unit_str_eq(d->v[i].ptr, ptr, file, line);
	if (msg)
		unit_str_eq(d->v[i].msg, msg, file, line);
}
#define assert_diag(d, i, code, ptr, msg) unit_diag_is(d, i, code, ptr, msg, __FILE__, __LINE__)

/* Parses text, which must be rejected, and checks its first diagnostic; msg NULL: not checked.
 * Returns the number of diagnostics. */
static inline size_t unit_first_error_at(const char *text, const char *code, const char *ptr,
					 const char *msg, const char *file, int line)
{
	struct ww_diags d = {0};
	size_t n;

	unit_parse_bad_at(text, &d, file, line);
	unit_diag_is(&d, 0, code, ptr, msg, file, line);
	n = d.n;
	ww_diags_free(&d);
	return n;
}
#define assert_first_error(text, code, ptr, msg)                                                   \
	unit_first_error_at(text, code, ptr, msg, __FILE__, __LINE__)

/* The first diagnostic with this code (and pointer, unless NULL), or NULL. */
static inline const struct ww_diag *unit_find_diag(const struct ww_diags *d, const char *code,
						   const char *ptr)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcmp(d->v[i].code, code) && (!ptr || !strcmp(d->v[i].ptr, ptr)))
			return &d->v[i];
	return NULL;
}

static inline size_t unit_count_diags(const struct ww_diags *d, const char *code)
{
	size_t n = 0;

	for (size_t i = 0; i < d->n; i++)
		n += !strcmp(d->v[i].code, code);
	return n;
}

static inline int64_t unit_time_at(const char *s, const char *file, int line)
{
	int64_t t = 0;

	_assert_int_equal((LargestIntegralType)ww_time_parse(s, &t), 0, file, line);
	return t;
}
#define unit_time(s) unit_time_at(s, __FILE__, __LINE__)

/* A fixed instant, so that tests never depend on the clock: 2026-11-29T12:00:00Z. */
#define UNIT_NOW 1795953600LL

static inline struct ww_addr unit_addr_at(const char *s, const char *file, int line)
{
	struct ww_addr a = {0};

	_assert_int_equal((LargestIntegralType)ww_addr_parse(s, &a), 0, file, line);
	return a;
}
#define unit_addr(s) unit_addr_at(s, __FILE__, __LINE__)

/* Evaluates one new connection at UNIT_NOW; key -1 when none. */
static inline struct ww_verdict unit_eval_at(const struct ww_policy *p, const char *src,
					     const char *dst, int proto, int key, int64_t at,
					     const char *file, int line)
{
	struct ww_packet pkt = {.proto = proto, .key = key, .at = at};
	struct ww_verdict v;

	pkt.src = unit_addr_at(src, file, line);
	pkt.dst = unit_addr_at(dst, file, line);
	ww_evaluate(p, &pkt, &v);
	return v;
}
#define unit_eval(p, src, dst, proto, key)                                                         \
	unit_eval_at(p, src, dst, proto, key, UNIT_NOW, __FILE__, __LINE__)
#define unit_eval_t(p, src, dst, proto, key, at)                                                   \
	unit_eval_at(p, src, dst, proto, key, at, __FILE__, __LINE__)

/* Asserts the verdict kind and the deciding flow's id (NULL: the default decided). */
static inline void unit_verdict_is(const struct ww_verdict *v, enum ww_verdict_kind kind,
				   const char *flow, const char *file, int line)
{
	if (v->kind != kind)
		print_message("# verdict %s, expected %s\n", ww_verdict_str(v->kind),
			      ww_verdict_str(kind));
	_assert_int_equal(v->kind, kind, file, line);
	unit_str_eq(v->flow ? v->flow->id : NULL, flow, file, line);
}
#define assert_verdict(p, src, dst, proto, key, kind, flow)                                        \
	do {                                                                                       \
		struct ww_verdict v_ = unit_eval(p, src, dst, proto, key);                         \
		unit_verdict_is(&v_, kind, flow, __FILE__, __LINE__);                              \
	} while (0)
#define assert_verdict_t(p, src, dst, proto, key, at, kind, flow)                                  \
	do {                                                                                       \
		struct ww_verdict v_ = unit_eval_t(p, src, dst, proto, key, at);                   \
		unit_verdict_is(&v_, kind, flow, __FILE__, __LINE__);                              \
	} while (0)

/* The example policy, relative to the repository root (tests/run-all runs from there). */
#define UNIT_EXAMPLE "policies/example-hospital.json"

static inline struct ww_policy *unit_load_example_at(const char *file, int line)
{
	struct ww_diags d = {0};
	struct ww_policy *p = NULL;
	int err = ww_policy_load(UNIT_EXAMPLE, &d, &p);

	if (err) {
		print_message("# %s: %s\n", UNIT_EXAMPLE, strerror(-err));
		unit_dump_diags(&d);
		ww_diags_free(&d);
		_fail(file, line);
	}
	ww_diags_free(&d);
	return p;
}
#define unit_load_example() unit_load_example_at(__FILE__, __LINE__)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define UNIT_SANITIZED 1 /* the sanitizer owns malloc: no fault injection */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) ||                         \
    __has_feature(memory_sanitizer)
#define UNIT_SANITIZED 1
#endif
#endif

#if defined(UNIT_FAULTY_MALLOC) && !defined(UNIT_SANITIZED)
/*
 * Fault injection: a test file that defines UNIT_FAULTY_MALLOC before including this header
 * replaces malloc, calloc and realloc for the whole process (glibc supports replacing them; these
 * forward to its own). After unit_fail_alloc(n), the n-th allocation fails with ENOMEM, once;
 * unit_fail_alloc(0) turns injection off and returns how many allocations were counted, so a loop
 * can stop when n went past the last one. cJSON allocates through malloc too.
 */
extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t n);
static long unit_allocs, unit_fail_at;

static inline bool unit_alloc_fails(void)
{
	if (!unit_fail_at || ++unit_allocs != unit_fail_at)
		return false;
	errno = ENOMEM;
	return true;
}

void *malloc(size_t n)
{
	return unit_alloc_fails() ? NULL : __libc_malloc(n);
}

void *calloc(size_t n, size_t size)
{
	return unit_alloc_fails() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t n)
{
	return unit_alloc_fails() ? NULL : __libc_realloc(p, n);
}

static inline long unit_fail_alloc(long n)
{
	long counted = unit_allocs;

	unit_allocs = 0;
	unit_fail_at = n;
	return counted;
}
#define UNIT_REQUIRE_FAULTS() ((void)0)
#elif defined(UNIT_FAULTY_MALLOC)
static inline long unit_fail_alloc(long n)
{
	return 0;
}
/* Under a sanitizer the tests that inject faults pass without running (cmocka's skip() would be
 * a "not ok" line for tests/run-all). */
#define UNIT_REQUIRE_FAULTS()                                                                      \
	do {                                                                                       \
		print_message("# no fault injection under a sanitizer\n");                         \
		return;                                                                            \
	} while (0)
#endif

/* Runs the tests of one file; main() of every test file is just this. */
#define UNIT_MAIN(...)                                                                             \
	int main(void)                                                                             \
	{                                                                                          \
		const struct CMUnitTest tests_[] = {__VA_ARGS__};                                  \
		return cmocka_run_group_tests(tests_, NULL, NULL);                                 \
	}

#endif
