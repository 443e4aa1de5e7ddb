// SPDX-License-Identifier: GPL-2.0-only
/* addr.c: IPv4/IPv6 addresses and prefixes as 128-bit integers. */
#include "unit.h"

#include "addr.h"

#define V4MAX ((u128)UINT32_MAX)
#define V6MAX (~(u128)0)

static u128 v6(uint64_t hi, uint64_t lo)
{
	return ((u128)hi << 64) | lo;
}

/* Parses a prefix that must be valid. */
static struct ww_prefix pfx_at(const char *s, const char *file, int line)
{
	struct ww_prefix p = {0}, canon;
	const char *why = "unset";

	if (ww_prefix_parse(s, true, &p, &why, &canon)) {
		print_message("# %s: %s\n", s, why);
		_fail(file, line);
	}
	_assert_true(why == NULL, "why == NULL", file, line);
	return p;
}
#define pfx(s) pfx_at(s, __FILE__, __LINE__)

/* Asserts that s is rejected, with this reason. */
static void bad_at(const char *s, bool allow_len, const char *reason, const char *file, int line)
{
	struct ww_prefix p = {.len = 77}, canon;
	const char *why = NULL;

	_assert_int_equal((LargestIntegralType)ww_prefix_parse(s, allow_len, &p, &why, &canon),
			  (LargestIntegralType)-EINVAL, file, line);
	unit_str_eq(why, reason, file, line);
	_assert_int_equal(p.len, 77, file, line); /* *out untouched */
}
#define bad(s, reason)	    bad_at(s, true, reason, __FILE__, __LINE__)
#define bad_host(s, reason) bad_at(s, false, reason, __FILE__, __LINE__)

static void test_parse_v4(void **state)
{
	struct ww_prefix p = pfx("10.20.4.0/24");

	assert_int_equal(p.a.family, WW_INET);
	assert_true(p.a.v == 0x0a140400);
	assert_int_equal(p.len, 24);
	p = pfx("10.20.4.7");
	assert_true(p.a.v == 0x0a140407);
	assert_int_equal(p.len, 32);
	p = pfx("0.0.0.0/0");
	assert_true(p.a.v == 0);
	assert_int_equal(p.len, 0);
	p = pfx("255.255.255.255/32");
	assert_true(p.a.v == V4MAX);
	assert_int_equal(p.len, 32);
	/* Leading zeros in the length are a number all the same. */
	p = pfx("10.0.0.0/08");
	assert_int_equal(p.len, 8);
}

static void test_parse_v6(void **state)
{
	struct ww_prefix p = pfx("fd00:20:1::/64");

	assert_int_equal(p.a.family, WW_INET6);
	assert_true(p.a.v == v6(0xfd00002000010000ULL, 0));
	assert_int_equal(p.len, 64);
	p = pfx("fd00:20:1::10");
	assert_true(p.a.v == v6(0xfd00002000010000ULL, 0x10));
	assert_int_equal(p.len, 128);
	p = pfx("::/0");
	assert_true(p.a.v == 0);
	assert_int_equal(p.len, 0);
	p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	assert_true(p.a.v == V6MAX);
	/* A v4-mapped address is IPv6. */
	p = pfx("::ffff:10.0.0.1");
	assert_int_equal(p.a.family, WW_INET6);
	assert_true(p.a.v == v6(0, 0x0000ffff0a000001ULL));
}

static void test_parse_rejects(void **state)
{
	bad("10.0.0.256", "not an IP address");
	bad("10.1", "not an IP address");
	bad("", "not an IP address");
	bad("/8", "not an IP address");
	bad("pacs", "not an IP address");
	bad("fd00::1::2", "not an IP address");
	bad("fe80::1%eth0", "not an IP address");
	bad(" 10.0.0.0/8", "not an IP address");
	bad("10.0.0.0/33", "prefix length must be 0-32");
	bad("fd00::/129", "prefix length must be 0-128");
	bad("10.0.0.0/", "prefix length must be 0-32");
	bad("10.0.0.0/8x", "prefix length must be 0-32");
	bad("10.0.0.0/8 ", "prefix length must be 0-32");
	bad("10.0.0.0/-8", "prefix length must be 0-32");
	bad("10.0.0.0/+8", "prefix length must be 0-32");
	bad("10.0.0.0/ 8", "prefix length must be 0-32");
	bad("10.0.0.0/-0", "prefix length must be 0-32");
	bad("10.0.0.0/99999999999999999999999", "prefix length must be 0-32");
	bad("10.0.0.0/8/8", "prefix length must be 0-32");
	/* Longer than any address can be. */
	bad("0000:0000:0000:0000:0000:0000:0000:0000:0000/64", "not an IP address");
	bad_host("10.0.0.1/32", "a host address takes no prefix length");
}

static void test_parse_host_bits(void **state)
{
	struct ww_prefix p = {.len = 77}, canon = {0};
	const char *why = NULL;
	char buf[WW_PREFIX_STRLEN];

	assert_int_equal(ww_prefix_parse("10.20.4.7/24", true, &p, &why, &canon), -EINVAL);
	assert_string_equal(why, "host bits are set");
	assert_int_equal(p.len, 77);
	assert_string_equal(ww_prefix_str(&canon, false, buf), "10.20.4.0/24");
	assert_int_equal(ww_prefix_parse("fd00:20:1::1/64", true, &p, &why, &canon), -EINVAL);
	assert_string_equal(ww_prefix_str(&canon, false, buf), "fd00:20:1::/64");
	assert_int_equal(ww_prefix_parse("0.0.0.1/0", true, &p, &why, &canon), -EINVAL);
	assert_string_equal(ww_prefix_str(&canon, false, buf), "0.0.0.0/0");
	/* canon may be NULL. */
	assert_int_equal(ww_prefix_parse("10.0.0.1/8", true, &p, &why, NULL), -EINVAL);
	assert_string_equal(why, "host bits are set");
}

static void test_addr_parse(void **state)
{
	struct ww_addr a;

	assert_int_equal(ww_addr_parse("192.168.1.2", &a), 0);
	assert_int_equal(a.family, WW_INET);
	assert_true(a.v == 0xc0a80102);
	assert_int_equal(ww_addr_parse("::1", &a), 0);
	assert_int_equal(a.family, WW_INET6);
	assert_true(a.v == 1);
	assert_int_equal(ww_addr_parse("10.0.0.0/8", &a), -EINVAL);
	assert_int_equal(ww_addr_parse("1.2.3", &a), -EINVAL);
	assert_int_equal(ww_addr_parse(":::", &a), -EINVAL);
}

static void test_str(void **state)
{
	char buf[WW_PREFIX_STRLEN];
	struct ww_prefix p = pfx("10.20.1.10");

	assert_string_equal(ww_prefix_str(&p, true, buf), "10.20.1.10");
	assert_string_equal(ww_prefix_str(&p, false, buf), "10.20.1.10/32");
	p = pfx("10.20.250.0/28");
	assert_string_equal(ww_prefix_str(&p, true, buf), "10.20.250.0/28");
	p = pfx("FD00:0020:0001:0000:0000:0000:0000:0010");
	assert_string_equal(ww_prefix_str(&p, true, buf), "fd00:20:1::10");
	assert_string_equal(ww_prefix_str(&p, false, buf), "fd00:20:1::10/128");
	p = pfx("::/0");
	assert_string_equal(ww_prefix_str(&p, true, buf), "::/0");
	p = pfx("0.0.0.0/0");
	assert_string_equal(ww_prefix_str(&p, false, buf), "0.0.0.0/0");
	p = pfx("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(ww_prefix_str(&p, false, buf),
			    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128");
	struct ww_addr a = {.family = WW_INET, .v = V4MAX};
	assert_string_equal(ww_addr_str(&a, buf), "255.255.255.255");
	a = (struct ww_addr){.family = WW_INET6, .v = 0};
	assert_string_equal(ww_addr_str(&a, buf), "::");
}

static void test_first_last(void **state)
{
	struct ww_prefix p = pfx("10.20.10.0/23");

	assert_true(ww_prefix_first(&p) == 0x0a140a00);
	assert_true(ww_prefix_last(&p) == 0x0a140bff);
	p = pfx("0.0.0.0/0");
	assert_true(ww_prefix_first(&p) == 0);
	assert_true(ww_prefix_last(&p) == V4MAX);
	p = pfx("128.0.0.0/1");
	assert_true(ww_prefix_last(&p) == V4MAX);
	p = pfx("10.0.0.1");
	assert_true(ww_prefix_last(&p) == ww_prefix_first(&p));
	p = pfx("::/0");
	assert_true(ww_prefix_last(&p) == V6MAX);
	p = pfx("8000::/1");
	assert_true(ww_prefix_first(&p) == v6(0x8000000000000000ULL, 0));
	assert_true(ww_prefix_last(&p) == V6MAX);
	p = pfx("fd00:20:250::/124");
	assert_true(ww_prefix_last(&p) == v6(0xfd00002002500000ULL, 0xf));
	p = pfx("fd00::/64");
	assert_true(ww_prefix_last(&p) == v6(0xfd00000000000000ULL, UINT64_MAX));
}

static bool contains(const struct ww_prefix *p, const char *addr)
{
	struct ww_addr a = unit_addr(addr);

	return ww_prefix_contains(p, &a);
}

static void test_contains(void **state)
{
	struct ww_prefix p = pfx("10.20.40.0/23");

	assert_true(contains(&p, "10.20.40.0"));
	assert_true(contains(&p, "10.20.41.255"));
	assert_false(contains(&p, "10.20.42.0"));
	assert_false(contains(&p, "10.20.39.255"));
	/* Families never mix, not even ::/0 and an IPv4 address. */
	p = pfx("::/0");
	assert_false(contains(&p, "10.0.0.1"));
	assert_true(contains(&p, "fd00::1"));
	p = pfx("0.0.0.0/0");
	assert_true(contains(&p, "255.255.255.255"));
	assert_false(contains(&p, "::"));
	p = pfx("fd00:20:1::10");
	assert_true(contains(&p, "fd00:20:1::10"));
	assert_false(contains(&p, "fd00:20:1::11"));
}

static void test_covers(void **state)
{
	struct ww_prefix a = pfx("10.20.0.0/16"), b = pfx("10.20.4.0/24"), c = pfx("10.21.0.0/24");
	struct ww_prefix all4 = pfx("0.0.0.0/0"), all6 = pfx("::/0"), h6 = pfx("fd00::1");

	assert_true(ww_prefix_covers(&a, &b));
	assert_false(ww_prefix_covers(&b, &a));
	assert_true(ww_prefix_covers(&a, &a));
	assert_false(ww_prefix_covers(&a, &c));
	assert_true(ww_prefix_covers(&all4, &c));
	assert_false(ww_prefix_covers(&all4, &h6));
	assert_true(ww_prefix_covers(&all6, &h6));
	assert_false(ww_prefix_covers(&all6, &a));
}

static void test_cmp(void **state)
{
	struct ww_prefix a = pfx("10.0.0.0/8"), b = pfx("10.0.0.0/16"), c = pfx("9.255.0.0/16");
	struct ww_prefix d = pfx("::/0");

	assert_true(ww_prefix_cmp(&a, &b) < 0); /* enclosing first */
	assert_true(ww_prefix_cmp(&b, &a) > 0);
	assert_true(ww_prefix_cmp(&c, &a) < 0);
	assert_true(ww_prefix_cmp(&a, &d) < 0); /* IPv4 before IPv6 */
	assert_true(ww_prefix_cmp(&d, &c) > 0);
	assert_int_equal(ww_prefix_cmp(&a, &a), 0);
}

static void test_bytes(void **state)
{
	uint8_t b[16];

	ww_addr_bytes(WW_INET, 0x0a140401, b);
	assert_memory_equal(b, "\x0a\x14\x04\x01", 4);
	assert_true(ww_addr_from_bytes(WW_INET, b) == 0x0a140401);
	u128 x = v6(0xfd00002000010000ULL, 0x0102030405060708ULL);
	ww_addr_bytes(WW_INET6, x, b);
	assert_memory_equal(b, "\xfd\x00\x00\x20\x00\x01\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08",
			    16);
	assert_true(ww_addr_from_bytes(WW_INET6, b) == x);
}

struct pfxlist {
	char s[40][WW_PREFIX_STRLEN];
	size_t n;
};

static void collect(const struct ww_prefix *p, void *arg)
{
	struct pfxlist *l = arg;

	if (l->n < 40)
		ww_prefix_str(p, false, l->s[l->n]);
	l->n++;
}

static void test_range_to_prefixes(void **state)
{
	struct pfxlist l = {0};

	ww_range_to_prefixes(WW_INET, 0x0a000001, 0x0a000006, collect, &l);
	assert_int_equal(l.n, 4);
	assert_string_equal(l.s[0], "10.0.0.1/32");
	assert_string_equal(l.s[1], "10.0.0.2/31");
	assert_string_equal(l.s[2], "10.0.0.4/31");
	assert_string_equal(l.s[3], "10.0.0.6/32");

	l.n = 0;
	ww_range_to_prefixes(WW_INET, 0x0a140400, 0x0a1405ff, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "10.20.4.0/23");

	/* The whole space, and its very top, without wrapping. */
	l.n = 0;
	ww_range_to_prefixes(WW_INET, 0, V4MAX, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "0.0.0.0/0");
	l.n = 0;
	ww_range_to_prefixes(WW_INET6, 0, V6MAX, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "::/0");
	l.n = 0;
	ww_range_to_prefixes(WW_INET, V4MAX, V4MAX, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "255.255.255.255/32");
	l.n = 0;
	ww_range_to_prefixes(WW_INET6, V6MAX - 1, V6MAX, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe/127");
	l.n = 0;
	ww_range_to_prefixes(WW_INET, 1, V4MAX, collect, &l);
	assert_int_equal(l.n, 32);
	assert_string_equal(l.s[0], "0.0.0.1/32");
	assert_string_equal(l.s[1], "0.0.0.2/31");
	assert_string_equal(l.s[31], "128.0.0.0/1");
	l.n = 0;
	ww_range_to_prefixes(WW_INET6, 0, V6MAX - 1, collect, &l);
	assert_int_equal(l.n, 128);
	assert_string_equal(l.s[0], "::/1");
	l.n = 0;
	ww_range_to_prefixes(WW_INET6, v6(1ULL << 63, 0), V6MAX, collect, &l);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.s[0], "8000::/1");
}

/* Splitting any range and joining the pieces gives the range back, with no overlap. */
struct span {
	u128 next, lo;
	bool ok;
	int family;
};

static void chain(const struct ww_prefix *p, void *arg)
{
	struct span *s = arg;
	struct ww_prefix canon = *p;

	if (p->a.family != s->family || ww_prefix_first(p) != s->next)
		s->ok = false;
	/* Each piece is a proper prefix: no host bits. */
	canon.a.v = ww_prefix_first(p);
	if (ww_prefix_last(&canon) != ww_prefix_last(p))
		s->ok = false;
	s->next = ww_prefix_last(p) + 1;
}

static void test_range_to_prefixes_cover(void **state)
{
	static const uint32_t ends[][2] = {
	    {0, 0},	     {3, 4},
	    {7, 8},	     {0x0a000000, 0x0affffff},
	    {5, 1000},	     {0xfffffff0, 0xffffffff},
	    {1, 0xfffffffe},
	};

	for (size_t i = 0; i < ARRAY_SIZE(ends); i++) {
		struct span s = {.next = ends[i][0], .ok = true, .family = WW_INET};
		ww_range_to_prefixes(WW_INET, ends[i][0], ends[i][1], chain, &s);
		assert_true(s.ok);
		assert_true(s.next == (u128)ends[i][1] + 1);
	}
}

UNIT_MAIN(cmocka_unit_test(test_parse_v4), cmocka_unit_test(test_parse_v6),
	  cmocka_unit_test(test_parse_rejects), cmocka_unit_test(test_parse_host_bits),
	  cmocka_unit_test(test_addr_parse), cmocka_unit_test(test_str),
	  cmocka_unit_test(test_first_last), cmocka_unit_test(test_contains),
	  cmocka_unit_test(test_covers), cmocka_unit_test(test_cmp), cmocka_unit_test(test_bytes),
	  cmocka_unit_test(test_range_to_prefixes), cmocka_unit_test(test_range_to_prefixes_cover))
