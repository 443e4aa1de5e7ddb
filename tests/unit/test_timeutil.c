// SPDX-License-Identifier: GPL-2.0-only
/* timeutil.c: RFC 3339 timestamps, whole seconds, UTC or with an offset. */
#include "unit.h"

static void parses_to_at(const char *s, int64_t want, const char *file, int line)
{
	int64_t t = -12345;

	_assert_int_equal((LargestIntegralType)ww_time_parse(s, &t), 0, file, line);
	if (t != want)
		print_message("# %s: got %lld, expected %lld\n", s, (long long)t, (long long)want);
	_assert_true(t == want, "t == want", file, line);
}
#define parses_to(s, want) parses_to_at(s, want, __FILE__, __LINE__)

static void rejects_at(const char *s, const char *file, int line)
{
	int64_t t = -12345;

	_assert_int_equal((LargestIntegralType)ww_time_parse(s, &t), (LargestIntegralType)-EINVAL,
			  file, line);
	_assert_true(t == -12345, "t untouched", file, line);
}
#define rejects(s) rejects_at(s, __FILE__, __LINE__)

static void test_parse_utc(void **state)
{
	parses_to("1970-01-01T00:00:00Z", 0);
	parses_to("2026-11-29T12:00:00Z", UNIT_NOW);
	parses_to("2026-03-10T08:00:00Z", 1773129600);
	parses_to("2027-01-12T08:00:00Z", 1799740800);
	parses_to("2026-12-31T23:59:59Z", 1798761599);
	/* Without seconds, as people write change windows. */
	parses_to("2026-11-29T12:00Z", UNIT_NOW);
	parses_to("2026-03-10T08:00Z", 1773129600);
	parses_to("2026-11-29T13:00+01:00", UNIT_NOW);
	/* RFC 3339 allows lower-case t and z. */
	parses_to("2026-11-29t12:00:00z", UNIT_NOW);
}

static void test_parse_offsets(void **state)
{
	parses_to("2026-11-29T13:00:00+01:00", UNIT_NOW);
	parses_to("2026-11-29T06:30:00-05:30", UNIT_NOW);
	parses_to("2026-11-29T12:00:00+00:00", UNIT_NOW);
	parses_to("2026-11-29T12:00:00-00:00", UNIT_NOW);
	parses_to("2026-11-30T11:59:00+23:59", UNIT_NOW);
	/* Offsets may cross midnight... */
	parses_to("1970-01-01T23:00:00-01:00", 86400);
	parses_to("9999-12-31T23:59:59Z", WW_TIME_MAX);
	parses_to("1970-01-01T00:00:00-00:01", 60);
	parses_to("9999-12-31T23:59:59+00:01", WW_TIME_MAX - 60);
}

/* ...but not the range whose UTC form parses back: the canonical policy must parse. */
static void test_parse_out_of_printable_range(void **state)
{
	char buf[WW_TIME_STRLEN];
	int64_t t;

	rejects("1970-01-01T00:00:00+01:00");
	rejects("1970-01-01T00:59:59+01:00");
	rejects("9999-12-31T23:59:59-00:01");
	rejects("9999-12-31T23:00:00-23:59");
	assert_int_equal(ww_time_parse("1970-01-01T01:00:00+01:00", &t), 0);
	assert_true(t == 0);
	assert_string_equal(ww_time_str(WW_TIME_MAX, buf), "9999-12-31T23:59:59Z");
	assert_int_equal(ww_time_parse(buf, &t), 0);
}

static void test_parse_calendar(void **state)
{
	parses_to("2000-02-29T00:00:00Z", 951782400); /* divisible by 400: leap */
	parses_to("2028-02-29T00:00:00Z", 1835395200);
	rejects("2026-02-29T00:00:00Z");
	rejects("2100-02-29T00:00:00Z"); /* divisible by 100: not leap */
	rejects("2026-04-31T00:00:00Z");
	rejects("2026-13-01T00:00:00Z");
	rejects("2026-00-01T00:00:00Z");
	rejects("2026-01-00T00:00:00Z");
	rejects("2026-01-32T00:00:00Z");
	rejects("2026-01-01T24:00:00Z");
	rejects("2026-01-01T00:60:00Z");
	rejects("2026-12-31T23:59:60Z"); /* no leap seconds */
	rejects("1969-12-31T23:59:59Z");
}

static void test_parse_syntax(void **state)
{
	rejects("");
	rejects("2026-11-29");
	rejects("2026-11-29T12:00:00");
	rejects("2026-11-29 12:00:00Z");
	rejects("2026-11-29T12Z");
	rejects("2026-11-29T12:0Z");
	rejects("2026-11-29T12:00:Z");
	rejects("2026-11-29T12:00:0Z");
	rejects("2026-11-29T12:00");
	rejects("2026-11-29T12:00+0100");
	rejects("2026-11-29T12:00:00.5Z"); /* windows are whole seconds */
	rejects("2026-11-29T12:00:00ZZ");
	rejects("2026-11-29T12:00:00Z ");
	rejects("2026-11-29T12:00:00+0100");
	rejects("2026-11-29T12:00:00+01");
	rejects("2026-11-29T12:00:00+01:00:00");
	rejects("2026-11-29T12:00:00+24:00");
	rejects("2026-11-29T12:00:00+01:60");
	rejects("2026-11-29T12:00:00+a1:00");
	rejects("2026/11/29T12:00:00Z");
	rejects("2026-1a-29T12:00:00Z");
	rejects("+026-11-29T12:00:00Z");
	rejects("2026-11-29T1 :00:00Z");
	rejects("now");
}

static void test_str(void **state)
{
	char buf[WW_TIME_STRLEN];

	assert_string_equal(ww_time_str(0, buf), "1970-01-01T00:00:00Z");
	assert_string_equal(ww_time_str(UNIT_NOW, buf), "2026-11-29T12:00:00Z");
	assert_string_equal(ww_time_str(951782400, buf), "2000-02-29T00:00:00Z");
	assert_string_equal(ww_time_str(1798761599, buf), "2026-12-31T23:59:59Z");
}

static void test_roundtrip(void **state)
{
	char buf[WW_TIME_STRLEN];
	int64_t t;

	/* Every printed time parses back to itself, across a few years, at odd steps. */
	for (int64_t x = 0; x < 4102444800LL; x += 86399LL * 37 + 17) {
		ww_time_str(x, buf);
		assert_int_equal(ww_time_parse(buf, &t), 0);
		assert_true(t == x);
	}
	/* An offset is normalized to UTC. */
	assert_int_equal(ww_time_parse("2027-01-12T09:00:00+01:00", &t), 0);
	assert_string_equal(ww_time_str(t, buf), "2027-01-12T08:00:00Z");
}

UNIT_MAIN(cmocka_unit_test(test_parse_utc), cmocka_unit_test(test_parse_offsets),
	  cmocka_unit_test(test_parse_out_of_printable_range),
	  cmocka_unit_test(test_parse_calendar), cmocka_unit_test(test_parse_syntax),
	  cmocka_unit_test(test_str), cmocka_unit_test(test_roundtrip))
