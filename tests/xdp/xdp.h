/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Helpers shared by the XDP tests (tests/xdp/test_xdp_*.c): the loaded program in a private
 * bpffs, generations installed the way `wardwall apply` installs them, crafted Ethernet frames
 * run through BPF_PROG_TEST_RUN, and the counters read back.
 *
 * These tests load BPF programs and create maps: they run only inside a private mount and
 * network namespace with a private bpffs (tests/xdp/sandbox.sh, which
 * tests/suites/40-xdp-packets.sh uses), and xt_sandbox_check() refuses anything else, so nothing
 * ever touches the root namespace or /sys/fs/bpf. Nothing is attached to an interface:
 * BPF_PROG_TEST_RUN runs the program on a buffer.
 */
#ifndef WW_TEST_XDP_H
#define WW_TEST_XDP_H

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <ifaddrs.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "xdp_tier.h"
#include "xdp_compile.h"
#include "diag.h"
#include "eval.h"
#include "model.h"
#include "policy.h"
#include "timeutil.h"
#include "util.h"
#include "wardwall.h"

#ifndef BPF_FS_MAGIC
#define BPF_FS_MAGIC 0xcafe4a11
#endif

/* Prints a multi-line text as TAP comments. */
static inline void xt_comment(const char *text)
{
	for (const char *l = text; l && *l;) {
		size_t n = strcspn(l, "\n");
		print_message("# %.*s\n", (int)n, l);
		l += n + (l[n] == '\n');
	}
}

static inline double xt_secs(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the sandbox ---- */

static inline int ns_ino(const char *path, ino_t *ino)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -errno;
	*ino = st.st_ino;
	return 0;
}

/*
 * 0 when this process may load programs and create maps: WARDWALL_BPFFS names a bpffs that is
 * not /sys/fs/bpf, and the network and mount namespaces differ from those of PID 1 and from
 * those tests/xdp/sandbox.sh left (WW_XDP_OUTER_NS="net:mnt" inode numbers); at least one of
 * the two references must be readable. Else -EPERM, with why.
 */
static inline int xt_sandbox_check(struct strbuf *why)
{
	const char *fs = getenv("WARDWALL_BPFFS"), *outer = getenv("WW_XDP_OUTER_NS");
	static const char *const ns[] = {"net", "mnt"};
	unsigned long long out[2] = {0, 0};
	struct statfs sfs;

	if (!fs || !*fs || !strncmp(fs, "/sys/fs/bpf", 11)) {
		sb_add(why,
		       "WARDWALL_BPFFS must name a private bpffs (run under tests/xdp/sandbox.sh)");
		return -EPERM;
	}
	if (statfs(fs, &sfs) < 0 || sfs.f_type != BPF_FS_MAGIC) {
		sb_addf(why, "%s is not a bpffs", fs);
		return -EPERM;
	}
	if (outer && sscanf(outer, "%llu:%llu", &out[0], &out[1]) != 2)
		out[0] = out[1] = 0;
	for (size_t i = 0; i < ARRAY_SIZE(ns); i++) {
		char a[64], b[64];
		ino_t self = 0, init = 0;
		bool refs = false, same = false;
		snprintf(a, sizeof(a), "/proc/self/ns/%s", ns[i]);
		snprintf(b, sizeof(b), "/proc/1/ns/%s", ns[i]);
		if (ns_ino(a, &self)) {
			sb_addf(why, "cannot read %s", a);
			return -EPERM;
		}
		if (!ns_ino(b, &init)) {
			refs = true;
			same = self == init;
		}
		if (out[i]) {
			refs = true;
			same = same || self == out[i];
		}
		if (!refs || same) {
			sb_addf(why,
				"not in a private %s namespace (run under tests/xdp/sandbox.sh)",
				ns[i]);
			return -EPERM;
		}
	}
	return 0;
}

/* ---- the program and its maps ---- */

struct xt {
	struct ww_xdp *x;
	int prog, ct, deny, stats, flow_stats, default_stats, zone_slots, flow_slots;
	int ncpus;
	uint64_t *pcpu; /* scratch for per-CPU values, 2 * ncpus u64 */
};

/* What installing one generation took. */
struct xt_gen {
	double compile_s, prepare_s, switch_s, finish_s;
	size_t ncls, nrules, ndlists;
	uint32_t longest; /* entries of the longest decision list */
};

static inline int xt_open(struct xt *t, struct strbuf *err)
{
	int e;

	memset(t, 0, sizeof(*t));
	e = xt_sandbox_check(err);
	if (!e)
		e = ww_xdp_open(NULL, true, &t->x, err);
	if (e)
		return e;
	t->prog = ww_xdp_fd(t->x, "prog");
	t->ct = ww_xdp_fd(t->x, "ww_ct");
	t->deny = ww_xdp_fd(t->x, "ww_deny");
	t->stats = ww_xdp_fd(t->x, "ww_stats");
	t->flow_stats = ww_xdp_fd(t->x, "ww_flow_stats");
	t->default_stats = ww_xdp_fd(t->x, "ww_default_stats");
	t->zone_slots = ww_xdp_fd(t->x, "ww_zone_slots");
	t->flow_slots = ww_xdp_fd(t->x, "ww_flow_slots");
	t->ncpus = libbpf_num_possible_cpus();
	t->pcpu = calloc((size_t)(t->ncpus > 0 ? t->ncpus : 1) * 2, sizeof(uint64_t));
	if (t->prog < 0 || t->ct < 0 || t->deny < 0 || t->stats < 0 || t->flow_stats < 0 ||
	    t->default_stats < 0 || t->zone_slots < 0 || t->flow_slots < 0 || !t->pcpu) {
		sb_add(err, "a map or the program has no fd");
		ww_xdp_close(t->x);
		free(t->pcpu);
		return -ENOENT;
	}
	return 0;
}

static inline void xt_close(struct xt *t)
{
	ww_xdp_close(t->x);
	free(t->pcpu);
	memset(t, 0, sizeof(*t));
}

/* Parses policy text; diagnostics go to err. */
static inline int xt_parse(const char *name, const char *text, struct ww_policy **out,
			   struct strbuf *err)
{
	struct ww_diags d = {.file = name};
	int e = ww_policy_parse(name, text, strlen(text), &d, out);

	if (e)
		ww_diags_print(&d, err);
	ww_diags_free(&d);
	return e;
}

/* Compiles p and installs it as the active generation, as `wardwall apply` does (no links). */
static inline int xt_install(struct xt *t, const struct ww_policy *p, struct xt_gen *g,
			     struct strbuf *err)
{
	struct ww_diags d = {.file = p->file};
	struct ww_xdp_image img;
	struct ww_xdp_txn txn = {0};
	struct xt_gen dummy;
	double t0 = xt_secs();
	int e;

	g = g ? g : &dummy;
	memset(g, 0, sizeof(*g));
	e = ww_compile_xdp(p, &img, &d);
	g->compile_s = xt_secs() - t0;
	if (e) {
		sb_addf(err, "compiling for XDP: %s\n", strerror(-e));
		ww_diags_print(&d, err);
		ww_diags_free(&d);
		return e;
	}
	ww_diags_free(&d);
	g->ncls = img.ncls;
	g->nrules = img.nrules;
	g->ndlists = img.ndlists;
	for (size_t i = 0; i < img.ndlists; i++)
		if (img.dlists[i].n > g->longest)
			g->longest = img.dlists[i].n;
	t0 = xt_secs();
	e = ww_xdp_prepare(t->x, &img, p, &txn, err);
	g->prepare_s = xt_secs() - t0;
	t0 = xt_secs();
	if (!e)
		e = ww_xdp_switch(t->x, &txn, err);
	g->switch_s = xt_secs() - t0;
	t0 = xt_secs();
	if (!e)
		e = ww_xdp_finish(t->x, p, err);
	g->finish_s = xt_secs() - t0;
	ww_xdp_txn_free(&txn);
	ww_xdp_image_free(&img);
	return e;
}

/* Runs the program once on frame; *action is its return value. Returns 0 or -errno. */
static inline int xt_run(struct xt *t, const void *frame, size_t len, uint32_t *action)
{
	uint8_t out[2048];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = (uint32_t)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	int e = bpf_prog_test_run_opts(t->prog, &o);

	if (e)
		return -errno;
	*action = o.retval;
	return 0;
}

/* Empties the connection table, the deny cache and its record of tuples denied once. */
static inline void xt_ct_clear(struct xt *t)
{
	int seen = ww_xdp_fd(t->x, "ww_deny_seen");
	void *zeros = calloc((size_t)(t->ncpus > 0 ? t->ncpus : 1), sizeof(struct ww_deny_seen));
	uint32_t zero = 0;
	struct ww_ct_key k;

	if (seen >= 0 && zeros)
		bpf_map_update_elem(seen, &zero, zeros, BPF_ANY);
	free(zeros);

	while (!bpf_map_get_next_key(t->ct, NULL, &k))
		if (bpf_map_delete_elem(t->ct, &k))
			break;
	while (!bpf_map_get_next_key(t->deny, NULL, &k))
		if (bpf_map_delete_elem(t->deny, &k))
			break;
}

static inline void xt_stats(struct xt *t, uint64_t *s /* [WW_S_MAX] */)
{
	ww_xdp_stats(t->x, s);
}

/* Packets counted by a per-CPU ww_count array at idx. */
static inline uint64_t xt_count(struct xt *t, int fd, uint32_t idx)
{
	struct ww_count *v = (void *)t->pcpu;
	uint64_t n = 0;

	if (bpf_map_lookup_elem(fd, &idx, v))
		return 0;
	for (int c = 0; c < t->ncpus; c++)
		n += v[c].packets;
	return n;
}

/* A zone's counter slot (0 for NULL: no zone); UINT32_MAX if it has none. */
static inline uint32_t xt_zone_slot(struct xt *t, const char *zone)
{
	char key[WW_FLOW_ID_LEN] = {0};
	uint32_t v;

	if (!zone)
		return 0;
	strncpy(key, zone, sizeof(key) - 1);
	return bpf_map_lookup_elem(t->zone_slots, key, &v) ? UINT32_MAX : v;
}

static inline uint32_t xt_flow_slot(struct xt *t, const char *id)
{
	char key[WW_FLOW_ID_LEN] = {0};
	uint32_t v;

	strncpy(key, id, sizeof(key) - 1);
	return bpf_map_lookup_elem(t->flow_slots, key, &v) ? UINT32_MAX : v;
}

static inline uint64_t xt_flow_packets(struct xt *t, const char *id)
{
	uint64_t pk = 0, by;

	ww_xdp_flow_counter(t->x, id, &pk, &by);
	return pk;
}

static inline uint64_t xt_default_packets(struct xt *t, const char *zs, const char *zd)
{
	uint32_t a = xt_zone_slot(t, zs), b = xt_zone_slot(t, zd);

	if (a == UINT32_MAX || b == UINT32_MAX)
		return 0;
	return xt_count(t, t->default_stats, a * WW_ZONE_SLOTS + b);
}

/* Does this network namespace hold addr (gateway mode passes packets to it as LOCAL)? */
static inline bool xt_local_addr(int family, const uint8_t *addr)
{
	struct ifaddrs *ifa = NULL;
	bool found = false;

	if (getifaddrs(&ifa))
		return false;
	for (struct ifaddrs *a = ifa; a && !found; a = a->ifa_next) {
		if (!a->ifa_addr)
			continue;
		if (family == 4 && a->ifa_addr->sa_family == AF_INET)
			found = !memcmp(&((struct sockaddr_in *)a->ifa_addr)->sin_addr, addr, 4);
		if (family == 6 && a->ifa_addr->sa_family == AF_INET6)
			found = !memcmp(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, addr, 16);
	}
	freeifaddrs(ifa);
	return found;
}

/* ---- crafted frames ---- */

#define XT_FRAME_MAX 1536

struct xpkt {
	int family; /* 4 or 6 */
	uint8_t src[16], dst[16];
	int proto;
	uint16_t sport, dport; /* tcp, udp, sctp; ICMP echo: the identifier in sport */
	uint8_t type, code;    /* ICMP, ICMPv6 */
	uint16_t vlan[2];      /* tag protocols (0x8100, 0x88a8), outermost first; 0: none */
	uint16_t frag;	       /* IPv4: flags and offset (host order) */
	uint8_t exts[10];      /* IPv6 extension headers (0, 43, 60, 44, 51), in order */
	int nexts;
	uint16_t v6frag;	/* the fragment headers' offset and M flag (host order) */
	uint8_t tcp_flags;	/* TCP: the flags byte; 0: SYN (a connection's first packet) */
	const uint8_t *payload; /* after the transport header (an ICMP error's quote) */
	size_t npayload;
	/* set by xpkt_build */
	size_t l3off, l4off;
};

/* "10.1.2.3" or "fd00::1" into a->family and a->src/dst. */
static inline void xpkt_addr(struct xpkt *p, const char *src, const char *dst)
{
	p->family = strchr(src, ':') ? 6 : 4;
	memset(p->src, 0, 16);
	memset(p->dst, 0, 16);
	if (inet_pton(p->family == 4 ? AF_INET : AF_INET6, src, p->src) != 1 ||
	    inet_pton(p->family == 4 ? AF_INET : AF_INET6, dst, p->dst) != 1)
		fail_msg("bad address %s or %s", src, dst);
}

static inline void put16(uint8_t *b, uint16_t v)
{
	b[0] = (uint8_t)(v >> 8);
	b[1] = (uint8_t)v;
}

static inline uint16_t csum(const uint8_t *b, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	if (n & 1)
		s += (uint32_t)b[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static inline bool xt_is_icmp(int proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

#define XT_TCP_SYN 0x02
#define XT_TCP_ACK 0x10

/* The transport header of p at b; returns its length. */
static inline size_t xpkt_l4(const struct xpkt *p, uint8_t *b)
{
	switch (p->proto) {
	case IPPROTO_TCP:
		memset(b, 0, 20);
		put16(b, p->sport);
		put16(b + 2, p->dport);
		b[12] = 5 << 4;
		b[13] = p->tcp_flags ? p->tcp_flags : XT_TCP_SYN;
		put16(b + 14, 64240);
		return 20;
	case IPPROTO_UDP:
		memset(b, 0, 8);
		put16(b, p->sport);
		put16(b + 2, p->dport);
		put16(b + 4, (uint16_t)(8 + p->npayload));
		return 8;
	case IPPROTO_SCTP:
		memset(b, 0, 12);
		put16(b, p->sport);
		put16(b + 2, p->dport);
		return 12;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		memset(b, 0, 8);
		b[0] = p->type;
		b[1] = p->code;
		if (p->type == 8 || p->type == 0 || p->type == 128 || p->type == 129) {
			put16(b + 4, p->sport);
			put16(b + 6, 1);
		}
		return 8;
	default:
		memset(b, 0, 8);
		return 8;
	}
}

/* Writes the frame of p into buf (XT_FRAME_MAX bytes); returns its length. */
static inline size_t xpkt_build(struct xpkt *p, uint8_t *buf)
{
	static const uint8_t dmac[6] = {0x02, 0, 0, 0, 0, 0x01}, smac[6] = {0x02, 0, 0, 0, 0, 0x02};
	size_t n = 12, l4len, iplen;
	uint8_t *ip;

	memset(buf, 0, XT_FRAME_MAX);
	memcpy(buf, dmac, 6);
	memcpy(buf + 6, smac, 6);
	for (int i = 0; i < 2 && p->vlan[i]; i++) {
		put16(buf + n, p->vlan[i]);
		put16(buf + n + 2, (uint16_t)(100 + i)); /* TCI: VLAN 100, 101 */
		n += 4;
	}
	put16(buf + n, p->family == 4 ? 0x0800 : 0x86dd);
	n += 2;
	p->l3off = n;
	ip = buf + n;
	if (p->family == 4) {
		p->l4off = n + 20;
		l4len = xpkt_l4(p, buf + p->l4off);
		if (p->npayload) /* memcpy from NULL is undefined even for 0 bytes */
			memcpy(buf + p->l4off + l4len, p->payload, p->npayload);
		iplen = 20 + l4len + p->npayload;
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)iplen);
		put16(ip + 4, 0x1234);
		put16(ip + 6, p->frag);
		ip[8] = 64;
		ip[9] = (uint8_t)p->proto;
		memcpy(ip + 12, p->src, 4);
		memcpy(ip + 16, p->dst, 4);
		put16(ip + 10, csum(ip, 20));
		return n + iplen;
	}
	size_t off = 40;
	uint8_t *nh = ip + 6;
	for (int i = 0; i < p->nexts; i++) {
		uint8_t *x = ip + off;
		*nh = p->exts[i];
		nh = x;
		memset(x, 0, 8);
		if (p->exts[i] == 44) {
			put16(x + 2, p->v6frag);
			x[4] = 0xab; /* identification */
			off += 8;
		} else if (p->exts[i] == 51) {
			x[1] = 4; /* (4 + 2) * 4 = 24 bytes */
			memset(x + 2, 0, 22);
			off += 24;
		} else {
			if (p->exts[i] == 60 || p->exts[i] == 0) {
				x[2] = 1; /* PadN over the rest */
				x[3] = 4;
			}
			off += 8;
		}
	}
	*nh = (uint8_t)p->proto;
	p->l4off = n + off;
	l4len = xpkt_l4(p, buf + p->l4off);
	if (p->npayload)
		memcpy(buf + p->l4off + l4len, p->payload, p->npayload);
	iplen = off + l4len + p->npayload;
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(iplen - 40));
	ip[7] = 64;
	memcpy(ip + 8, p->src, 16);
	memcpy(ip + 24, p->dst, 16);
	return n + iplen;
}

/* The connection p opens, as the oracle sees it at unix time at. */
static inline struct ww_packet xpkt_oracle(const struct xpkt *p, int64_t at)
{
	struct ww_packet k = {.proto = p->proto, .at = at};

	k.src.family = k.dst.family = p->family == 4 ? WW_INET : WW_INET6;
	k.src.v = ww_addr_from_bytes(k.src.family, p->src);
	k.dst.v = ww_addr_from_bytes(k.dst.family, p->dst);
	k.key = ww_proto_has_ports(p->proto) ? p->dport : xt_is_icmp(p->proto) ? p->type : -1;
	return k;
}

/* The XDP action a verdict maps to. */
static inline uint32_t xt_action_of(enum ww_verdict_kind k)
{
	return k == WW_V_DENY ? XDP_DROP : XDP_PASS;
}

static inline const char *xt_action_str(uint32_t a)
{
	return a == XDP_PASS ? "PASS" : a == XDP_DROP ? "DROP" : "OTHER";
}

/* "tcp 10.1.0.5:40000 -> 10.2.0.1:443" and the like, for messages. */
static inline void xpkt_str(const struct xpkt *p, struct strbuf *sb)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], b[8];
	int af = p->family == 4 ? AF_INET : AF_INET6;
	const char *pb = ww_proto_str(p->proto, b);

	inet_ntop(af, p->src, s, sizeof(s));
	inet_ntop(af, p->dst, d, sizeof(d));
	if (ww_proto_has_ports(p->proto))
		sb_addf(sb, "%s %s port %u -> %s port %u", pb, s, p->sport, d, p->dport);
	else if (xt_is_icmp(p->proto))
		sb_addf(sb, "%s %s -> %s type %u code %u id %u", pb, s, d, p->type, p->code,
			p->sport);
	else
		sb_addf(sb, "%s %s -> %s", pb, s, d);
	for (int i = 0; i < 2 && p->vlan[i]; i++)
		sb_addf(sb, "%s0x%04x", i ? "/" : ", tags ", p->vlan[i]);
	for (int i = 0; i < p->nexts; i++)
		sb_addf(sb, "%s%u", i ? " " : ", extension headers ", p->exts[i]);
	if (p->nexts && p->v6frag)
		sb_addf(sb, " (fragment field 0x%04x)", p->v6frag);
	if (p->family == 4 && p->frag)
		sb_addf(sb, ", fragment field 0x%04x", p->frag);
}

#endif
