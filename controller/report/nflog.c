// SPDX-License-Identifier: GPL-2.0-only
#include "nflog.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/capability.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define RCVBUF	   (4 << 20) /* bursts of denials arrive faster than a terminal prints */
#define EXTHDR_MAX 6
/* A kernel stamp further than this from our clock is not wall-clock time (see read_cb). */
#define STAMP_SKEW_NS (60LL * 1000000000LL)

struct ww_nflog {
	struct mnl_socket *nl;
	uint32_t portid, seq;
	uint16_t group;
	char buf[65536];
};

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void l4(const uint8_t *p, size_t len, struct ww_tuple *t)
{
	switch (t->proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_UDPLITE:
	case IPPROTO_SCTP: /* ports in the same place as UDP's */
		if (len < 4)
			return;
		t->sport = be16(p);
		t->dport = be16(p + 2);
		t->ports = true;
		return;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		if (len < 2)
			return;
		t->type = p[0];
		t->code = p[1];
		t->icmp = true;
		return;
	}
}

void ww_tuple_parse(const uint8_t *p, size_t len, struct ww_tuple *t)
{
	memset(t, 0, sizeof(*t));
	if (len >= 20 && p[0] >> 4 == 4) {
		size_t ihl = (size_t)(p[0] & 0xf) * 4;
		if (ihl < 20)
			return;
		t->family = 4;
		t->proto = p[9];
		memcpy(t->src, p + 12, 4);
		memcpy(t->dst, p + 16, 4);
		if ((be16(p + 6) & 0x1fff) == 0 && len > ihl)
			l4(p + ihl, len - ihl, t);
		return;
	}
	if (len < 40 || p[0] >> 4 != 6)
		return;
	t->family = 6;
	memcpy(t->src, p + 8, 16);
	memcpy(t->dst, p + 24, 16);
	uint8_t nh = p[6];
	size_t off = 40;
	for (int i = 0; i <= EXTHDR_MAX; i++) {
		t->proto = nh;
		switch (nh) {
		case 0:	 /* hop-by-hop */
		case 43: /* routing */
		case 60: /* destination options */
			if (off + 2 > len)
				return;
			nh = p[off];
			off += ((size_t)p[off + 1] + 1) * 8;
			continue;
		case 51: /* authentication header */
			if (off + 2 > len)
				return;
			nh = p[off];
			off += ((size_t)p[off + 1] + 2) * 4;
			continue;
		case 44: /* fragment */
			if (off + 8 > len || (be16(p + off + 2) & 0xfff8))
				return;
			nh = p[off];
			off += 8;
			continue;
		default:
			if (off < len)
				l4(p + off, len - off, t);
			return;
		}
	}
}

static struct nlmsghdr *config_msg(struct ww_nflog *n, uint8_t family)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(n->buf);
	struct nfgenmsg *g;

	nlh->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++n->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->nfgen_family = family;
	g->version = NFNETLINK_V0;
	g->res_id = htons(n->group);
	return nlh;
}

/* Sends a config message and waits for its acknowledgement; packets before it are dropped
 * (nothing is listening for them yet). */
static int config(struct ww_nflog *n, struct nlmsghdr *nlh)
{
	uint32_t seq = nlh->nlmsg_seq;

	if (mnl_socket_sendto(n->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	for (;;) {
		ssize_t r = mnl_socket_recvfrom(n->nl, n->buf, sizeof(n->buf));
		if (r < 0 && errno == ENOBUFS)
			continue;
		if (r < 0)
			return -errno;
		int len = (int)r;
		for (const struct nlmsghdr *h = (void *)n->buf; mnl_nlmsg_ok(h, len);
		     h = mnl_nlmsg_next(h, &len)) {
			if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
				continue;
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
			return e->error;
		}
	}
}

int ww_nflog_open(uint16_t group, struct ww_nflog **out, struct strbuf *err)
{
	struct ww_nflog *n = calloc(1, sizeof(*n));
	int e;

	if (!n)
		return -ENOMEM;
	n->group = group;
	n->seq = (uint32_t)time(NULL);
	n->nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!n->nl || mnl_socket_bind(n->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		e = -errno;
		sb_addf(err, "NFLOG: netlink socket: %s", strerror(errno));
		goto fail;
	}
	n->portid = mnl_socket_get_portid(n->nl);
	set_sockbuf(mnl_socket_get_fd(n->nl), SO_RCVBUF, SO_RCVBUFFORCE, RCVBUF);
	/*
	 * No NFULNL_CFG_CMD_PF_UNBIND/PF_BIND: a group-addressed `log group N` finds nfnetlink_log
	 * by itself, and those commands would make it the namespace's default logger for the
	 * family (net.netfilter.nf_log.N), which is not ours to change.
	 */
	/* Bind, copy mode, one packet per message (the default waits for 100 or one second). */
	struct nlmsghdr *nlh = config_msg(n, AF_UNSPEC);
	struct nfulnl_msg_config_cmd c = {.command = NFULNL_CFG_CMD_BIND};
	struct nfulnl_msg_config_mode m = {.copy_range = htonl(WW_NFLOG_COPY),
					   .copy_mode = NFULNL_COPY_PACKET};
	mnl_attr_put(nlh, NFULA_CFG_CMD, sizeof(c), &c);
	mnl_attr_put(nlh, NFULA_CFG_MODE, sizeof(m), &m);
	mnl_attr_put_u32(nlh, NFULA_CFG_QTHRESH, htonl(1));
	mnl_attr_put_u32(nlh, NFULA_CFG_TIMEOUT, htonl(1)); /* 1/100 s */
	e = config(n, nlh);
	if (e) {
		/* EPERM: the group's instance belongs to another socket. */
		if (e == -EPERM && !ww_has_cap(CAP_NET_ADMIN))
			sb_addf(err,
				"NFLOG group %u: permission denied: listening needs CAP_NET_ADMIN "
				"(run as root)",
				group);
		else if (e == -EPERM || e == -EBUSY)
			sb_addf(err,
				"NFLOG group %u: another process listens on it (ulogd? another "
				"wardwall events?)",
				group);
		else
			sb_addf(err, "NFLOG group %u: bind: %s", group, strerror(-e));
		goto fail;
	}
	*out = n;
	return 0;
fail:
	if (n->nl)
		mnl_socket_close(n->nl);
	free(n);
	return e ? e : -EIO;
}

void ww_nflog_close(struct ww_nflog *n)
{
	if (!n)
		return;
	/* Closing the socket destroys the group's instance (the kernel's netlink notifier). */
	mnl_socket_close(n->nl);
	free(n);
}

int ww_nflog_fd(const struct ww_nflog *n)
{
	return mnl_socket_get_fd(n->nl);
}

static int attr_cb(const struct nlattr *a, void *data)
{
	const struct nlattr **tb = data;
	int type = mnl_attr_get_type(a);

	if (type <= NFULA_MAX)
		tb[type] = a;
	return MNL_CB_OK;
}

struct read_ctx {
	void (*cb)(const struct ww_nflog_msg *m, void *arg);
	void *arg;
	int n;
	int64_t now_ns;
};

static int read_cb(const struct nlmsghdr *nlh, void *data)
{
	struct read_ctx *rc = data;
	const struct nlattr *tb[NFULA_MAX + 1] = {0};
	struct ww_nflog_msg m = {.time_ns = rc->now_ns};

	if (nlh->nlmsg_type != ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
		return MNL_CB_OK;
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, tb) < 0)
		return MNL_CB_OK;
	if (tb[NFULA_PREFIX]) {
		size_t len = mnl_attr_get_payload_len(tb[NFULA_PREFIX]);
		if (len >= sizeof(m.prefix))
			len = sizeof(m.prefix) - 1;
		memcpy(m.prefix, mnl_attr_get_payload(tb[NFULA_PREFIX]), len);
		m.prefix[len] = '\0';
	}
	/*
	 * The stamp is the packet's receive time, or the log time when it has none. A packet a
	 * local socket sent over a veth can carry its monotonic departure time instead: not
	 * wall-clock time, so any stamp far from ours is replaced by ours.
	 */
	if (tb[NFULA_TIMESTAMP] && mnl_attr_get_payload_len(tb[NFULA_TIMESTAMP]) >=
				       sizeof(struct nfulnl_msg_packet_timestamp)) {
		struct nfulnl_msg_packet_timestamp ts;
		memcpy(&ts, mnl_attr_get_payload(tb[NFULA_TIMESTAMP]), sizeof(ts));
		/* In seconds first: any 64-bit value may come, and only a near one converts. */
		uint64_t sec = be64toh(ts.sec), usec = be64toh(ts.usec);
		uint64_t now_s = (uint64_t)(rc->now_ns / 1000000000LL), skew = STAMP_SKEW_NS / 1000000000LL;
		if (usec < 1000000 && sec + skew > now_s && sec < now_s + skew) {
			int64_t t = (int64_t)sec * 1000000000LL + (int64_t)usec * 1000;
			if (t > rc->now_ns - STAMP_SKEW_NS && t < rc->now_ns + STAMP_SKEW_NS)
				m.time_ns = t;
		}
	}
	if (tb[NFULA_IFINDEX_INDEV])
		m.indev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_INDEV]));
	if (tb[NFULA_IFINDEX_OUTDEV])
		m.outdev = ntohl(mnl_attr_get_u32(tb[NFULA_IFINDEX_OUTDEV]));
	if (tb[NFULA_PAYLOAD])
		ww_tuple_parse(mnl_attr_get_payload(tb[NFULA_PAYLOAD]),
			       mnl_attr_get_payload_len(tb[NFULA_PAYLOAD]), &m.t);
	rc->cb(&m, rc->arg);
	rc->n++;
	return MNL_CB_OK;
}

int ww_nflog_decode(const void *buf, size_t len, int64_t now_ns,
		    void (*cb)(const struct ww_nflog_msg *m, void *arg), void *arg)
{
	struct read_ctx rc = {.cb = cb, .arg = arg, .now_ns = now_ns};
	size_t off = 0;

	/*
	 * libmnl compares a message's 32-bit length with what is left as an int: a length past
	 * 2 GiB is negative, passes, and sends the walk far outside the buffer (found by
	 * fuzz_nflog). Every length is checked here first, as sizes.
	 */
	while (len - off >= sizeof(struct nlmsghdr)) {
		const struct nlmsghdr *nlh = (const void *)((const char *)buf + off);
		if (nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len - off)
			return -EBADMSG;
		off += NLMSG_ALIGN(nlh->nlmsg_len);
		if (off > len)
			break;
	}
	/* Packets come unsolicited: sequence number 0, any port id. */
	if (mnl_cb_run(buf, len, 0, 0, read_cb, &rc) < 0 && errno != ESRCH)
		return -errno;
	return rc.n;
}

int ww_nflog_read(struct ww_nflog *n, void (*cb)(const struct ww_nflog_msg *m, void *arg),
		  void *arg, bool *overflowed)
{
	int fd = mnl_socket_get_fd(n->nl), total = 0;

	for (;;) {
		struct sockaddr_nl from = {0};
		socklen_t fl = sizeof(from);
		ssize_t len = recvfrom(fd, n->buf, sizeof(n->buf), MSG_DONTWAIT,
				       (struct sockaddr *)&from, &fl);
		if (len < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				*overflowed = true;
				continue;
			}
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return total;
			return -errno;
		}
		/* Only the kernel logs; another process (it would need CAP_NET_ADMIN) is ignored. */
		if (from.nl_pid != 0)
			continue;
		struct timespec now;
		clock_gettime(CLOCK_REALTIME, &now);
		int got = ww_nflog_decode(n->buf, (size_t)len,
					  (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec, cb, arg);
		if (got == -EBADMSG)
			continue; /* not netlink as the kernel writes it: nothing to log */
		if (got < 0)
			return got;
		total += got;
	}
}
