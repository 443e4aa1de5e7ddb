// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests of nflog.c: decoding NFLOG datagrams (ww_nflog_decode), without a socket. */
#include "unit.h"

#include <arpa/inet.h>
#include <endian.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include "nflog.h"

#define NOW_S 1780000000LL
#define NOW_NS (NOW_S * 1000000000LL)

struct got {
	struct ww_nflog_msg m[4];
	int n;
};

static void on_msg(const struct ww_nflog_msg *m, void *arg)
{
	struct got *g = arg;

	if (g->n < 4)
		g->m[g->n++] = *m;
}

/* One NFLOG packet message with prefix "ww:deny:flow/x", a stamp, and an IPv4 TCP packet. */
static size_t datagram(char *buf, uint64_t sec, uint64_t usec)
{
	static const uint8_t pkt[] = {0x45, 0, 0, 40, 0, 1, 0, 0, 64, 6, 0, 0, 10, 0, 0, 1,
				      10, 0, 0, 2, 0x9c, 0x40, 0x01, 0xbb};
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	struct nfulnl_msg_packet_timestamp ts = {.sec = htobe64(sec), .usec = htobe64(usec)};

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
	g->nfgen_family = AF_INET;
	g->res_id = htons(100);
	mnl_attr_put_strz(nlh, NFULA_PREFIX, "ww:deny:flow/x");
	mnl_attr_put(nlh, NFULA_TIMESTAMP, sizeof(ts), &ts);
	mnl_attr_put(nlh, NFULA_PAYLOAD, sizeof(pkt), pkt);
	return nlh->nlmsg_len;
}

static int64_t stamp_of(uint64_t sec, uint64_t usec)
{
	char buf[512];
	struct got g = {0};
	size_t len = datagram(buf, sec, usec);

	assert_int_equal(ww_nflog_decode(buf, len, NOW_NS, on_msg, &g), 1);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.m[0].prefix, "ww:deny:flow/x");
	assert_int_equal(g.m[0].t.family, 4);
	assert_true(g.m[0].t.ports);
	assert_int_equal(g.m[0].t.dport, 443);
	return g.m[0].time_ns;
}

static void test_stamp_near_is_kept(void **state)
{
	assert_true(stamp_of(NOW_S - 3, 250000) == (NOW_S - 3) * 1000000000LL + 250000000LL);
}

static void test_stamp_far_is_replaced(void **state)
{
	/* A monotonic departure time (seconds since boot) is not wall-clock time. */
	assert_true(stamp_of(12345, 0) == NOW_NS);
	assert_true(stamp_of(NOW_S + 3600, 0) == NOW_NS);
	assert_true(stamp_of(NOW_S, 1000000) == NOW_NS); /* not a microsecond count */
}

static void test_stamp_that_would_overflow(void **state)
{
	/* sec * 10^9 wraps in 64 bits to exactly NOW + 5 s (found by fuzz_nflog, UBSan: signed
	 * overflow): the decoder multiplied first, and kept a stamp that is no time at all. */
	assert_true(stamp_of(108086392836891909ULL, 0) == NOW_NS);
	assert_true(stamp_of(UINT64_MAX, UINT64_MAX) == NOW_NS);
}

static void test_not_netlink(void **state)
{
	char buf[512];
	struct got g = {0};
	size_t len = datagram(buf, NOW_S, 0);

	/* Cut short: the message's length says more than there is. */
	assert_true(ww_nflog_decode(buf, len - 8, NOW_NS, on_msg, &g) <= 0);
	assert_int_equal(g.n, 0);
}

static void test_length_past_int_max(void **state)
{
	char buf[512];
	struct got g = {0};
	size_t len = datagram(buf, NOW_S, 0);

	/* A 32-bit length past 2 GiB is negative as an int, which libmnl's walk accepted and
	 * followed outside the buffer (found by fuzz_nflog): refused before the walk. */
	((struct nlmsghdr *)buf)->nlmsg_len = 0x8e000084u;
	assert_int_equal(ww_nflog_decode(buf, len, NOW_NS, on_msg, &g), -EBADMSG);
	assert_int_equal(g.n, 0);
	/* A second message whose length runs past the datagram. */
	len += datagram(buf + len, NOW_S, 0);
	((struct nlmsghdr *)(buf + len / 2))->nlmsg_len = (uint32_t)len;
	assert_int_equal(ww_nflog_decode(buf, len, NOW_NS, on_msg, &g), -EBADMSG);
}

UNIT_MAIN(cmocka_unit_test(test_length_past_int_max), cmocka_unit_test(test_stamp_near_is_kept), cmocka_unit_test(test_stamp_far_is_replaced),
	  cmocka_unit_test(test_stamp_that_would_overflow), cmocka_unit_test(test_not_netlink))
