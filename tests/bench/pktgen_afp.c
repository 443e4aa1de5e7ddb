// SPDX-License-Identifier: GPL-2.0-only
/*
 * pktgen_afp: the traffic generator of the nftables packet-rate benchmark
 * (tests/bench/nft-rate.sh). Real frames through an AF_PACKET socket, no BPF: it works where
 * BPF_PROG_TEST_RUN with live frames does not.
 *
 *   pktgen_afp NETNS IFNAME DSTMAC SRC:SPORT DST:DPORT SECONDS MAXCOUNT [--vary BITS] [--warmup S]
 *              [COUNTER...]
 *
 * Opens an AF_PACKET socket in the network namespace NETNS (a path such as /run/netns/NAME, or
 * "-" for its own), bound to IFNAME there, with PACKET_QDISC_BYPASS, and sends 64-byte IPv4 UDP
 * frames (SRC:SPORT -> DST:DPORT, to DSTMAC, from IFNAME's MAC) with sendmmsg, 64 a call, as fast
 * as the kernel takes them. --vary BITS gives every frame a new source port and, once the ports
 * are used up, new low BITS bits of the source address (0-16; SRC's other bits stay), so each
 * frame opens a new connection until 2^(16+BITS) frames have gone.
 * It sends for S seconds of warm-up (default 0.5), reads every COUNTER, sends for SECONDS more or
 * until MAXCOUNT frames of the measured part (whichever comes first), reads the counters again,
 * and prints one JSON object: frames sent and the measured seconds, and each counter's change.
 *
 * A COUNTER is LABEL=PATH, a file holding one decimal number (such as
 * /sys/class/net/lan0/statistics/rx_packets), opened before the switch to NETNS: run pktgen_afp
 * in the namespace whose /sys shows the interfaces to count (`ip netns exec GW pktgen_afp
 * /run/netns/SENDER ...`). SECONDS 0 and MAXCOUNT 1 send exactly one frame (a reply that makes a
 * connection established).
 *
 * Exit status: 0, 1 on a failure (said on standard error), 2 on a usage error.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#define FRAME_LEN    64
#define BATCH	     64
#define MAX_COUNTERS 8

struct counter {
	const char *label;
	int fd;
	unsigned long long before, after;
};

struct gen {
	int fd;
	bool vary;
	unsigned int vary_bits; /* low source-address bits --vary changes */
	uint32_t src;		/* host order */
	uint16_t sport;
	uint64_t seq; /* frames written so far: the varied fields come from it */
	uint8_t frames[BATCH][FRAME_LEN];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_ll to;
};

static int usage(void)
{
	fprintf(stderr,
		"usage: pktgen_afp NETNS IFNAME DSTMAC SRC:SPORT DST:DPORT SECONDS MAXCOUNT "
		"[--vary BITS] [--warmup S] [LABEL=PATH...]\n");
	return 2;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char end;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++) {
		if (b[i] > 255)
			return -EINVAL;
		mac[i] = (uint8_t)b[i];
	}
	return 0;
}

/* "A.B.C.D:PORT" into network-order address and host-order port. */
static int parse_endpoint(const char *s, uint32_t *addr, uint16_t *port)
{
	char buf[64], *colon, *end;
	struct in_addr a;
	unsigned long p;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	colon = strrchr(buf, ':');
	if (!colon)
		return -EINVAL;
	*colon = '\0';
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (errno || *end || p > 65535 || inet_pton(AF_INET, buf, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	*port = (uint16_t)p;
	return 0;
}

/* One 64-byte Ethernet/IPv4/UDP frame; the UDP checksum is 0 (none). */
static void frame_build(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint32_t src,
			uint32_t dst, uint16_t sport, uint16_t dport)
{
	uint16_t plen = FRAME_LEN - 14 - 20, c;

	memset(f, 0, FRAME_LEN);
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	f[16] = (uint8_t)((20 + plen) >> 8);
	f[17] = (uint8_t)(20 + plen);
	f[22] = 64;
	f[23] = IPPROTO_UDP;
	memcpy(f + 26, &src, 4);
	memcpy(f + 30, &dst, 4);
	c = csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
	f[34] = (uint8_t)(sport >> 8);
	f[35] = (uint8_t)sport;
	f[36] = (uint8_t)(dport >> 8);
	f[37] = (uint8_t)dport;
	f[38] = (uint8_t)(plen >> 8);
	f[39] = (uint8_t)plen;
}

/* --vary: the source port and the source address's low bits from the sequence number. */
static void frame_vary(uint8_t *f, uint32_t src, unsigned int bits, uint64_t seq)
{
	uint32_t mask = (1u << bits) - 1;
	uint32_t a = htonl((src & ~mask) | ((uint32_t)(seq >> 16) & mask));
	uint16_t c;

	memcpy(f + 26, &a, 4);
	f[34] = (uint8_t)(seq >> 8);
	f[35] = (uint8_t)seq;
	f[24] = f[25] = 0;
	c = csum(f + 14, 20);
	f[24] = (uint8_t)(c >> 8);
	f[25] = (uint8_t)c;
}

/* Sends up to n frames (n <= BATCH); returns how many the kernel took, or -errno. */
static int send_batch(struct gen *g, unsigned int n)
{
	int r;

	if (g->vary)
		for (unsigned int i = 0; i < n; i++)
			frame_vary(g->frames[i], g->src, g->vary_bits, g->seq + i);
	r = sendmmsg(g->fd, g->msgs, n, 0);
	if (r < 0) {
		/* A full device queue is not a failure: the frame was not taken; try again. */
		if (errno == ENOBUFS || errno == EAGAIN)
			return 0;
		return -errno;
	}
	g->seq += (unsigned int)r;
	return r;
}

/* Sends for secs seconds or max frames; *sent and *took get what was done. */
static int blast(struct gen *g, double secs, unsigned long long max, unsigned long long *sent,
		 double *took)
{
	double t0 = now(), t = t0;
	unsigned long long n = 0;
	int r = 0;

	while (n < max && (n == 0 || t - t0 < secs)) {
		unsigned long long left = max - n;

		r = send_batch(g, left < BATCH ? (unsigned int)left : BATCH);
		if (r < 0)
			break;
		n += (unsigned int)r;
		if ((n & 1023) < BATCH || r == 0)
			t = now();
	}
	*sent = n;
	*took = now() - t0;
	if (r < 0) {
		fprintf(stderr, "pktgen_afp: sendmmsg: %s\n", strerror(-r));
		return r;
	}
	return 0;
}

static int counter_read(struct counter *c, unsigned long long *v)
{
	char buf[64];
	ssize_t n = pread(c->fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		fprintf(stderr, "pktgen_afp: cannot read counter %s\n", c->label);
		return -EIO;
	}
	buf[n] = '\0';
	*v = strtoull(buf, NULL, 10);
	return 0;
}

static int counters_read(struct counter *c, int n, bool after)
{
	for (int i = 0; i < n; i++)
		if (counter_read(&c[i], after ? &c[i].after : &c[i].before))
			return -EIO;
	return 0;
}

static int socket_open(const char *netns, const char *ifname, struct gen *g, uint8_t smac[6])
{
	struct ifreq ifr = {0};
	int one = 1;

	if (strcmp(netns, "-")) {
		int nsfd = open(netns, O_RDONLY | O_CLOEXEC);

		if (nsfd < 0 || setns(nsfd, CLONE_NEWNET)) {
			fprintf(stderr, "pktgen_afp: %s: %s\n", netns, strerror(errno));
			return -1;
		}
		close(nsfd);
	}
	g->fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (g->fd < 0 || strlen(ifname) >= IFNAMSIZ) {
		fprintf(stderr, "pktgen_afp: socket %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	strcpy(ifr.ifr_name, ifname);
	if (ioctl(g->fd, SIOCGIFHWADDR, &ifr)) {
		fprintf(stderr, "pktgen_afp: %s: %s\n", ifname, strerror(errno));
		return -1;
	}
	memcpy(smac, ifr.ifr_hwaddr.sa_data, 6);
	if (setsockopt(g->fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one)))
		fprintf(stderr, "pktgen_afp: PACKET_QDISC_BYPASS: %s (through the qdisc)\n",
			strerror(errno));
	g->to.sll_family = AF_PACKET;
	g->to.sll_protocol = htons(ETH_P_IP);
	g->to.sll_ifindex = (int)if_nametoindex(ifname);
	g->to.sll_halen = 6;
	return g->to.sll_ifindex ? 0 : -1;
}

static void print_result(const struct gen *g, unsigned long long sent, double took,
			 const struct counter *c, int nc)
{
	printf("{\"sent\": %llu, \"seconds\": %.6f, \"pps\": %.0f", sent, took,
	       took > 0 ? sent / took : 0.0);
	for (int i = 0; i < nc; i++)
		printf(", \"%s\": %llu", c[i].label, c[i].after - c[i].before);
	printf(", \"vary\": %s}\n", g->vary ? "true" : "false");
}

int main(int argc, char **argv)
{
	static struct gen g;
	struct counter cnt[MAX_COUNTERS];
	uint8_t dmac[6], smac[6];
	uint32_t src, dst;
	uint16_t dport;
	double secs, warmup = 0.5, took;
	unsigned long long max, sent;
	char *end;
	int nc = 0;

	if (argc < 8 || parse_mac(argv[3], dmac) || parse_endpoint(argv[4], &src, &g.sport) ||
	    parse_endpoint(argv[5], &dst, &dport))
		return usage();
	secs = strtod(argv[6], &end);
	if (*end || secs < 0)
		return usage();
	max = strtoull(argv[7], &end, 10);
	if (*end || max == 0)
		return usage();
	for (int i = 8; i < argc; i++) {
		char *eq = strchr(argv[i], '=');

		if (!strcmp(argv[i], "--vary") && i + 1 < argc) {
			unsigned long b = strtoul(argv[++i], &end, 10);

			if (*end || b > 16)
				return usage();
			g.vary = true;
			g.vary_bits = (unsigned int)b;
		} else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) {
			warmup = strtod(argv[++i], &end);
			if (*end || warmup < 0)
				return usage();
		} else if (eq && nc < MAX_COUNTERS) {
			*eq = '\0';
			cnt[nc].label = argv[i];
			cnt[nc].fd = open(eq + 1, O_RDONLY | O_CLOEXEC);
			if (cnt[nc].fd < 0) {
				fprintf(stderr, "pktgen_afp: %s: %s\n", eq + 1, strerror(errno));
				return 1;
			}
			nc++;
		} else {
			return usage();
		}
	}
	if (socket_open(argv[1], argv[2], &g, smac))
		return 1;
	memcpy(g.to.sll_addr, dmac, 6);
	g.src = ntohl(src);
	for (int i = 0; i < BATCH; i++) {
		frame_build(g.frames[i], dmac, smac, src, dst, g.sport, dport);
		g.iov[i] = (struct iovec){.iov_base = g.frames[i], .iov_len = FRAME_LEN};
		g.msgs[i].msg_hdr = (struct msghdr){.msg_name = &g.to,
						    .msg_namelen = sizeof(g.to),
						    .msg_iov = &g.iov[i],
						    .msg_iovlen = 1};
	}
	if (max > 1 && warmup > 0 && blast(&g, warmup, ~0ULL, &sent, &took))
		return 1;
	if (counters_read(cnt, nc, false) || blast(&g, secs, max, &sent, &took) ||
	    counters_read(cnt, nc, true))
		return 1;
	print_result(&g, sent, took, cnt, nc);
	return 0;
}
