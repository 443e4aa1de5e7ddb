// SPDX-License-Identifier: GPL-2.0-only
/* bpf_log.c: what libbpf says during a capture, its last lines. */
#include "unit.h"

#include "bpf_log.h"

static int outer_calls;

static int outer(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	outer_calls++;
	return 0;
}

/* An object that is not ELF: libbpf warns, the capture keeps it, and the callback that was
 * there before is back afterwards (it sees the next warning, the capture does not). */
static void test_capture(void **state)
{
	static const char junk[] = "not an ELF object";
	struct ww_bpf_log log;
	struct bpf_object *o;

	unsetenv("WARDWALL_DEBUG");
	libbpf_set_print(outer);
	ww_bpf_log_begin(&log);
	assert_string_equal(ww_bpf_log_tail(1), "no message");
	o = bpf_object__open_mem(junk, sizeof(junk), NULL);
	assert_null(o);
	ww_bpf_log_end(&log);
	const char *t = ww_bpf_log_tail(1);
	assert_non_null(strstr(t, "libbpf: "));
	assert_null(strchr(t, '\n'));
	assert_int_equal(outer_calls, 0);
	o = bpf_object__open_mem(junk, sizeof(junk), NULL);
	assert_null(o);
	assert_true(outer_calls > 0);
	libbpf_set_print(NULL);
}

UNIT_MAIN(cmocka_unit_test(test_capture))
