// SPDX-License-Identifier: GPL-2.0-only
/*
 * wardwall's XDP program: parse, find the connection or classify and decide, count, maybe log,
 * pass or drop. Layouts and the meaning of every map: bpf/wardwall.h. Verdicts for packets the
 * program cannot or should not judge are documented there (enum ww_stat) and in docs/xdp.md.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "wardwall.h"

char LICENSE[] SEC("license") = "GPL";

/* The first 8 bytes of ICMP and ICMPv6 alike (linux/icmp.h drags in libc headers). */
struct icmphdr {
	__u8 type, code;
	__u16 checksum;
	union {
		struct {
			__be16 id, sequence;
		} echo;
		__u32 gateway;
	} un;
};

/* BPF_FUNC_ktime_get_tai_ns: not in libbpf 1.1's helper list; a helper since Linux 6.1. */
#define HELPER_KTIME_GET_TAI_NS 208
static __u64 (*ww_ktime_get_tai_ns)(void) = (void *)HELPER_KTIME_GET_TAI_NS;

/* The ICMP and ICMPv6 types the program knows (linux/icmp.h and linux/icmpv6.h drag in libc
 * headers). */
enum {
	ICMP_ECHOREPLY = 0,
	ICMP_DEST_UNREACH = 3,
	ICMP_ECHO = 8,
	ICMP_TIME_EXCEEDED = 11,
	ICMP_PARAMETERPROB = 12,
	ICMPV6_DEST_UNREACH = 1, /* the ICMPv6 errors: 1 to 4 */
	ICMPV6_PARAMPROB = 4,
	ICMPV6_ECHO_REQUEST = 128,
	ICMPV6_ECHO_REPLY = 129,
	ICMPV6_ND_FIRST = 133, /* neighbour discovery: router solicitation ... */
	ICMPV6_ND_LAST = 137,  /* ... redirect */
};

#define IP_FRAG_OFFSET	 0x1fff /* IPv4 frag_off: the fragment offset (a non-first fragment) */
#define IP6_FRAG_OFFSET	 0xfff8 /* IPv6 fragment header frag_off: the fragment offset */
#define IP6_FRAG_HDR_LEN 8
#define IP6_EXT_UNIT	 8 /* an extension header's hdrlen: 8-byte units beyond the first 8 */
#define IP6_AH_UNIT	 4 /* the authentication header's: 4-byte units beyond the first 8 */
#define EXTHDR_MAX	 6
/* The transport header's offset, bounded for the verifier: an ICMP error's headers are far
 * shorter. */
#define L4OFF_MASK 0x3ff
/* A quoted packet in an ICMP error: the transport header's first 8 bytes (ports, or ICMP echo
 * identifier) are enough to find its connection. */
#define ICMP_QUOTE_L4_LEN 8
#define TCP_FLAGS_OFF	  13 /* the flags byte in the TCP header */
#define TCP_SYN		  0x02
#define TCP_ACK		  0x10

/* ---- maps ---- */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_active);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_active SEC(".maps");

#define OUTER(name, inner_type, k, v, extra_flags)                                                 \
	struct {                                                                                   \
		__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);                                          \
		__uint(max_entries, 2);                                                            \
		__type(key, __u32);                                                                \
		__uint(pinning, LIBBPF_PIN_BY_NAME);                                               \
		__array(values, struct {                                                           \
			__uint(type, inner_type);                                                  \
			__uint(max_entries, 1);                                                    \
			__uint(key_size, sizeof(k));                                               \
			__uint(value_size, sizeof(v));                                             \
			__uint(map_flags, extra_flags);                                            \
		});                                                                                \
	} name SEC(".maps")

OUTER(ww_cls4, BPF_MAP_TYPE_LPM_TRIE, struct ww_lpm4, struct ww_cls, BPF_F_NO_PREALLOC);
OUTER(ww_cls6, BPF_MAP_TYPE_LPM_TRIE, struct ww_lpm6, struct ww_cls, BPF_F_NO_PREALLOC);
OUTER(ww_rules, BPF_MAP_TYPE_LPM_TRIE, struct ww_rule_key, __u32, BPF_F_NO_PREALLOC);
OUTER(ww_dlists, BPF_MAP_TYPE_ARRAY, __u32, struct ww_xlist, BPF_F_INNER_MAP);
OUTER(ww_settings, BPF_MAP_TYPE_ARRAY, __u32, struct ww_settings, BPF_F_INNER_MAP);

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_MAX_FLOWS);
	__type(key, __u32);
	__type(value, struct ww_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_flow_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_DEFAULT_COUNTERS);
	__type(key, __u32);
	__type(value, struct ww_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_default_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_S_MAX);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WW_CT_MAX);
	__type(key, struct ww_ct_key);
	__type(value, struct ww_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_ct SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, WW_DENY_MAX);
	/* A list per CPU: a scan inserts every packet, and the common list's lock is shared. */
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__type(key, struct ww_ct_key);
	__type(value, struct ww_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_deny SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_deny_seen);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_deny_seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, WW_RINGBUF_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_ZONE_SLOTS);
	__type(key, __u32);
	__type(value, struct ww_log_budget);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_log_budget SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ww_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_meta SEC(".maps");

/* The controller's registries of stable slots (the program only reads the counters they index). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_FLOWS);
	__type(key, char[WW_FLOW_ID_LEN]);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_flow_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, WW_MAX_ZONES);
	__type(key, char[WW_FLOW_ID_LEN]);
	__type(value, __u32);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_zone_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__type(key, struct ww_lpm4);
	__type(value, struct ww_quar_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_quar4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 4096);
	__type(key, struct ww_lpm6);
	__type(value, struct ww_quar_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_quar6 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct ww_quar_keep_key);
	__type(value, __u8);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_quar_keep SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, WW_QUAR_MAX);
	__type(key, __u32);
	__type(value, struct ww_count);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ww_quar_stats SEC(".maps");

/* ---- helpers ---- */

static __always_inline void stat(__u32 s)
{
	__u64 *v = bpf_map_lookup_elem(&ww_stats, &s);

	if (v)
		*v += 1;
}

static __always_inline void count(void *map, __u32 idx, __u64 len)
{
	struct ww_count *c = bpf_map_lookup_elem(map, &idx);

	if (c) {
		c->packets++;
		c->bytes += len;
	}
}

static __always_inline int is_icmp(__u8 proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

struct pkt {
	__u8 src[16], dst[16]; /* first, 8-byte aligned: copied with 8-byte moves, not 2-byte */
	__u8 family, proto;
	__u16 sport, dport; /* host order; ICMP echo: identifier and 0 */
	__u16 key;          /* host order: destination port, or ICMP type << 8 */
	__u8 icmp_type, icmp_code;
	__u8 tcp_flags; /* TCP: the flags byte (TCP_SYN, TCP_ACK...) */
	__u64 len;
	__u32 ifindex;
	__u32 l4off;        /* offset of the transport header in the frame, for ICMP errors */
};

struct cls_res {
	__u32 zone, host;
	__u16 slot;
	__u8 flags;
};

#define NSEC_PER_SEC 1000000000ULL

struct decision {
	__u8 verdict; /* enum ww_xverdict */
	__u8 log;
	__u8 reject;  /* a deny nftables answers (WW_REJECT): passed, never cached */
	__u8 cacheable; /* a denial the deny cache may repeat: it read no clock (no validity
			 * window was consulted) and counted no monitor-mode observer */
	__u32 slot;   /* deciding flow, or WW_SLOT_DEFAULT */
	__u16 zsrc, zdst;
	__u32 recheck_s; /* ww_ct_val.recheck_s for a connection it allows (in the frame's padding) */
};

/* ---- parsing ---- */

enum parse { P_OK, P_PASS, P_DROP };

static __always_inline int parse_l4(struct pkt *p, void *data, void *l4, void *end)
{
	p->l4off = (__u32)(l4 - data);
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *t = l4;
		if ((void *)(t + 1) > end)
			return WW_S_TRUNCATED;
		p->sport = bpf_ntohs(t->source);
		p->dport = p->key = bpf_ntohs(t->dest);
		p->tcp_flags = ((__u8 *)t)[TCP_FLAGS_OFF];
		return 0;
	}
	case IPPROTO_UDP:
	case IPPROTO_SCTP: { /* ports at the same place as UDP's */
		struct udphdr *u = l4;
		if ((void *)(u + 1) > end)
			return WW_S_TRUNCATED;
		p->sport = bpf_ntohs(u->source);
		p->dport = p->key = bpf_ntohs(u->dest);
		return 0;
	}
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6: {
		struct icmphdr *ic = l4; /* type, code, checksum, echo id: the same in ICMPv6 */
		if ((void *)(ic + 1) > end)
			return WW_S_TRUNCATED;
		p->icmp_type = ic->type;
		p->icmp_code = ic->code;
		p->key = (__u16)ic->type << 8;
		/* Echo requests and replies are one connection, keyed by their identifier. */
		if (ic->type == ICMP_ECHO || ic->type == ICMP_ECHOREPLY ||
		    ic->type == ICMPV6_ECHO_REQUEST || ic->type == ICMPV6_ECHO_REPLY)
			p->sport = bpf_ntohs(ic->un.echo.id);
		return 0;
	}
	default:
		return 0;
	}
}

/*
 * Returns 0 with p filled, or a WW_S_* saying why the packet is passed or dropped unjudged.
 * Global functions like this one are verified once, on their own, which keeps the verifier's
 * work linear in the program's size; they take scalars and pointers to stack memory only.
 */
__attribute__((noinline)) int ww_parse(struct xdp_md *ctx, struct pkt *p)
{
	if (!p)
		return WW_S_MALFORMED;
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *cur;
	__u16 proto;

	p->len = (__u64)(end - data);
	p->ifindex = ctx->ingress_ifindex;
	if ((void *)(eth + 1) > end)
		return WW_S_TRUNCATED;
	proto = eth->h_proto;
	cur = eth + 1;
	/* Up to two tags (802.1ad outer, 802.1Q inner): IP under a second tag is still IP. */
	for (int i = 0; i < 2; i++) {
		if (proto != bpf_htons(ETH_P_8021Q) && proto != bpf_htons(ETH_P_8021AD))
			break;
		__be16 *vlan = cur; /* TCI, then the encapsulated type */
		if ((void *)(vlan + 2) > end)
			return WW_S_TRUNCATED;
		proto = vlan[1];
		cur = vlan + 2;
	}
	if (proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = cur;
		if ((void *)(ip + 1) > end)
			return WW_S_TRUNCATED;
		if (ip->version != 4 || ip->ihl < 5 || bpf_ntohs(ip->tot_len) < ip->ihl * 4)
			return WW_S_MALFORMED;
		if (bpf_ntohs(ip->frag_off) & IP_FRAG_OFFSET)
			return WW_S_FRAGMENT;
		p->family = 4;
		p->proto = ip->protocol;
		__builtin_memcpy(p->src, &ip->saddr, 4);
		__builtin_memcpy(p->dst, &ip->daddr, 4);
		cur = (void *)ip + ip->ihl * 4;
		if (cur > end)
			return WW_S_TRUNCATED;
		return parse_l4(p, data, cur, end);
	}
	if (proto != bpf_htons(ETH_P_IPV6))
		return WW_S_NOT_IP;
	struct ipv6hdr *ip6 = cur;
	if ((void *)(ip6 + 1) > end)
		return WW_S_TRUNCATED;
	if (ip6->version != 6)
		return WW_S_MALFORMED;
	p->family = 6;
	__builtin_memcpy(p->src, &ip6->saddr, 16);
	__builtin_memcpy(p->dst, &ip6->daddr, 16);
	__u8 nh = ip6->nexthdr;
	cur = ip6 + 1;
	/* EXTHDR_MAX extension headers, then one more turn for the transport header. */
	for (int i = 0; i <= EXTHDR_MAX; i++) {
		struct {
			__u8 nexthdr, hdrlen;
			__be16 frag_off;
		} *x = cur;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			if ((void *)(x + 1) > end)
				return WW_S_TRUNCATED;
			nh = x->nexthdr;
			cur += (x->hdrlen + 1) * IP6_EXT_UNIT;
			continue;
		case IPPROTO_AH:
			if ((void *)(x + 1) > end)
				return WW_S_TRUNCATED;
			nh = x->nexthdr;
			cur += (x->hdrlen + 2) * IP6_AH_UNIT;
			continue;
		case IPPROTO_FRAGMENT:
			if ((void *)(x + 1) > end)
				return WW_S_TRUNCATED;
			if (bpf_ntohs(x->frag_off) & IP6_FRAG_OFFSET)
				return WW_S_FRAGMENT;
			nh = x->nexthdr;
			cur += IP6_FRAG_HDR_LEN;
			continue;
		default:
			p->proto = nh;
			return parse_l4(p, data, cur, end);
		}
	}
	return WW_S_EXTHDR_LIMIT;
}

/* ---- classification and decision ---- */

static __always_inline void classify(__u32 slot, struct pkt *p, const __u8 *addr,
				     struct cls_res *r)
{
	struct ww_cls *c = 0;

	if (p->family == 4) {
		struct ww_lpm4 k = {.prefixlen = WW_LPM4_HOST};
		void *m = bpf_map_lookup_elem(&ww_cls4, &slot);
		__builtin_memcpy(k.addr, addr, 4);
		if (m)
			c = bpf_map_lookup_elem(m, &k);
	} else {
		struct ww_lpm6 k = {.prefixlen = WW_LPM6_HOST};
		void *m = bpf_map_lookup_elem(&ww_cls6, &slot);
		__builtin_memcpy(k.addr, addr, 16);
		if (m)
			c = bpf_map_lookup_elem(m, &k);
	}
	if (c) {
		r->zone = c->zone_ep;
		r->host = c->host_ep;
		r->slot = c->zone_slot;
		r->flags = c->flags;
	}
}

/* Room for every monitor entry of the four lists: each one's flow counts the connection. An
 * observer is its flow slot, with OBS_LOG set when it logs (the stack has no room for more). */
#define OBS_MAX (4 * WW_DLIST_MAX)
#define RANK_NONE 255 /* below every enum ww_xrank in priority */
#define OBS_LOG 0x80000000u

struct search {
	__u64 now;        /* 0 until an entry with a validity window needs the clock */
	__u64 tai_offset; /* ww_active's: unix time = TAI - tai_offset */
	__u32 best_slot, best_order;
	__u8 best_rank; /* RANK_NONE: none */
	__u8 best_flags;
	__u8 nobs;
	__u8 timed; /* an entry with a validity window was consulted: the decision has a time */
	/* The earliest boundary of a window met, unix seconds rounded up (a deny or allow entry's
	 * start still ahead, or the end of an active one): the decision may change then. ~0: none.
	 * (In the padding before obs: the stack of ww_xdp and ww_search together is at its limit.) */
	__u32 next_s;
	__u32 obs[OBS_MAX];
};

static __always_inline void next_boundary(struct search *s, __u64 ns)
{
	__u32 sec = (__u32)((ns + NSEC_PER_SEC - 1) / NSEC_PER_SEC);

	if (sec < s->next_s)
		s->next_s = sec;
}

/* eps: source endpoint << 32 | destination endpoint; pk: protocol << 16 | key. (BPF functions
 * take at most five arguments.) */
__attribute__((noinline)) int ww_search(__u32 slot, __u64 eps, __u32 pk, struct search *s)
{
	__u32 sep = (__u32)(eps >> 32), dep = (__u32)eps, proto = pk >> 16, pkey = pk & 0xffff;
	struct ww_rule_key k = {.prefixlen = WW_RULE_PREFIX_FULL};
	void *rules = bpf_map_lookup_elem(&ww_rules, &slot);
	void *lists = bpf_map_lookup_elem(&ww_dlists, &slot);
	__u32 *id;

	if (!s || !rules || !lists || !sep || !dep)
		return 0;
	__u32 a = bpf_htonl(sep), b = bpf_htonl(dep);
	__u16 key = bpf_htons((__u16)pkey);
	__builtin_memcpy(k.data + WW_RULE_SRC_EP, &a, 4);
	__builtin_memcpy(k.data + WW_RULE_DST_EP, &b, 4);
	k.data[WW_RULE_PROTO] = (__u8)proto;
	__builtin_memcpy(k.data + WW_RULE_KEY, &key, 2);
	id = bpf_map_lookup_elem(rules, &k);
	if (!id)
		return 0;
	struct ww_xlist *l = bpf_map_lookup_elem(lists, id);
	if (!l)
		return 0;
	for (int i = 0; i < WW_DLIST_MAX; i++) {
		if (i >= l->n)
			break;
		struct ww_xentry *e = &l->e[i];
		/* The clock only for a bounded window: reading it costs as much as a lookup. */
		if (e->from_ns || e->until_ns != ~0ULL) {
			s->timed = 1;
			if (!s->now)
				s->now = ww_ktime_get_tai_ns() - s->tai_offset;
			if (s->now < e->from_ns || s->now >= e->until_ns) {
				if (s->now < e->from_ns && e->rank != WW_R_MONITOR)
					next_boundary(s, e->from_ns);
				continue;
			}
			if (e->rank != WW_R_MONITOR)
				next_boundary(s, e->until_ns);
		}
		if (e->rank == WW_R_MONITOR) {
			if (s->nobs < OBS_MAX) {
				s->obs[s->nobs & (OBS_MAX - 1)] =
					e->slot | (e->flags & WW_LOG ? OBS_LOG : 0);
				s->nobs++;
			}
			continue;
		}
		/* The first active deny or allow of this list; across lists the best wins. */
		if (e->rank < s->best_rank || (e->rank == s->best_rank && e->order < s->best_order)) {
			s->best_rank = e->rank;
			s->best_order = e->order;
			s->best_slot = e->slot;
			s->best_flags = e->flags;
		}
		break;
	}
	return 0;
}

/* Spends one event of source zone slot zs's budget (bpf/wardwall.h, ww_log_budget). */
static __always_inline int ratelimit_ok(__u32 rate, __u64 now, __u32 zs)
{
	struct ww_log_budget *b = bpf_map_lookup_elem(&ww_log_budget, &zs);
	__u64 cap = (__u64)rate * NSEC_PER_SEC;

	if (!b || !rate)
		return 0;
	if (now > b->last_ns) {
		__u64 add = (now - b->last_ns) * rate;
		b->tokens = b->tokens + add > cap ? cap : b->tokens + add;
		b->last_ns = now;
	}
	if (b->tokens < NSEC_PER_SEC) {
		b->dropped++;
		return 0;
	}
	b->tokens -= NSEC_PER_SEC;
	return 1;
}

struct emitreq {
	__u64 now;
	__u32 rate, slot;
	__u16 zs, zd;
	__u8 verdict;
};

__attribute__((noinline)) int ww_emit(struct emitreq *r, struct pkt *p)
{
	struct ww_event *ev;

	if (!p || !r)
		return 0;
	__u64 now = r->now;
	__u32 rate = r->rate, slot = r->slot, zs = r->zs, zd = r->zd, verdict = r->verdict;
	if (!ratelimit_ok(rate, now, zs)) {
		stat(WW_S_EVENTS_RATE);
		return 0;
	}
	ev = bpf_ringbuf_reserve(&ww_events, sizeof(*ev), 0);
	if (!ev) {
		stat(WW_S_EVENTS_FULL);
		return 0;
	}
	ev->time_ns = now;
	ev->slot = slot;
	ev->ifindex = p->ifindex;
	ev->zone_src = (__u16)zs;
	ev->zone_dst = (__u16)zd;
	ev->verdict = (__u8)verdict;
	ev->family = p->family;
	ev->proto = p->proto;
	ev->pad = 0;
	ev->sport = p->sport;
	ev->dport = is_icmp(p->proto) ? (__u16)((__u16)p->icmp_type << 8 | p->icmp_code) : p->dport;
	ev->pad2 = 0;
	__builtin_memcpy(ev->src, p->src, 16);
	__builtin_memcpy(ev->dst, p->dst, 16);
	bpf_ringbuf_submit(ev, 0);
	stat(WW_S_EVENTS);
	return 0;
}

/* The policy's decision for a new connection; counts and logs as it goes. */
/* The time, read once per packet and only when something needs it (*now 0: not yet). */
static __always_inline __u64 clock_now(__u64 *now, __u64 tai_offset)
{
	if (!*now)
		*now = ww_ktime_get_tai_ns() - tai_offset;
	return *now;
}

static __always_inline void decide(__u32 slot, const struct ww_settings *st, __u64 *now,
				   __u64 tai_offset,
				   struct pkt *p, struct cls_res *cs, struct cls_res *cd,
				   struct decision *d)
{
	struct search s = {.now = *now, .tai_offset = tai_offset, .best_rank = RANK_NONE,
			   .next_s = ~0U};

	__u32 pk = (__u32)p->proto << 16 | p->key;
	/* Endpoint 0 (no zone, no host group) has no rules: no call for it. */
	if (cs->zone && cd->zone)
		ww_search(slot, (__u64)cs->zone << 32 | cd->zone, pk, &s);
	if (cs->host && cd->zone)
		ww_search(slot, (__u64)cs->host << 32 | cd->zone, pk, &s);
	if (cs->zone && cd->host)
		ww_search(slot, (__u64)cs->zone << 32 | cd->host, pk, &s);
	if (cs->host && cd->host)
		ww_search(slot, (__u64)cs->host << 32 | cd->host, pk, &s);
	*now = s.now;
	d->cacheable = !s.timed;
	d->recheck_s = s.next_s == ~0U ? 0 : s.next_s;
	d->zsrc = cs->slot;
	d->zdst = cd->slot;
	if (s.best_rank == WW_R_DENY) {
		d->verdict = WW_XV_DENY;
		d->slot = s.best_slot;
		d->log = s.best_flags & WW_LOG;
		d->reject = !!(s.best_flags & WW_REJECT);
		return;
	}
	/* Monitor-mode denies only observe: count them, log them, decide as if they were not. */
	if (s.nobs)
		d->cacheable = 0;
	for (int i = 0; i < OBS_MAX; i++) {
		if (i >= s.nobs)
			break;
		__u32 o = s.obs[i & (OBS_MAX - 1)];
		count(&ww_flow_stats, o & ~OBS_LOG, p->len);
		if (o & OBS_LOG) {
			struct emitreq r = {clock_now(now, tai_offset), st->log_rate,
					    o & ~OBS_LOG, cs->slot, cd->slot, WW_XV_MONITOR};
			ww_emit(&r, p);
		}
	}
	if (s.best_rank == WW_R_ALLOW) {
		d->verdict = s.nobs ? WW_XV_MONITOR : WW_XV_ALLOW;
		d->slot = s.best_slot;
		d->log = s.best_flags & WW_LOG;
		return;
	}
	int within = cs->zone && cs->zone == cd->zone;
	int allow = within ? st->within_allow : st->between_allow;
	d->slot = WW_SLOT_DEFAULT;
	if (allow) {
		d->verdict = s.nobs ? WW_XV_MONITOR : WW_XV_ALLOW;
		d->log = st->log_default_allow;
	} else if ((cs->flags | cd->flags) & WW_CLS_MONITOR) {
		d->verdict = WW_XV_MONITOR;
		d->log = st->log_default_deny;
	} else {
		d->verdict = WW_XV_DENY;
		d->log = st->log_default_deny;
	}
}

static __always_inline void count_decision(struct decision *d, __u64 len)
{
	if (d->slot == WW_SLOT_DEFAULT)
		count(&ww_default_stats, (__u32)d->zsrc * WW_ZONE_SLOTS + d->zdst, len);
	else
		count(&ww_flow_stats, d->slot, len);
}

static __always_inline void ct_key(struct pkt *p, struct ww_ct_key *k, int reverse)
{
	k->family = p->family;
	k->proto = p->proto;
	if (!reverse) {
		k->sport = p->sport;
		k->dport = p->dport;
		__builtin_memcpy(k->src, p->src, 16);
		__builtin_memcpy(k->dst, p->dst, 16);
	} else {
		/* An echo reply carries the request's identifier in the same place: no swap. */
		int icmp = is_icmp(p->proto);
		k->sport = icmp ? p->sport : p->dport;
		k->dport = icmp ? p->dport : p->sport;
		__builtin_memcpy(k->src, p->dst, 16);
		__builtin_memcpy(k->dst, p->src, 16);
	}
}

/* IPv4 224.0.0.0/4 or 255.255.255.255; IPv6 ff00::/8 or fe80::/10. */
static __always_inline int is_multicast_or_link_local(const struct pkt *p)
{
	if (p->family == 4)
		return (p->dst[0] & 0xf0) == 0xe0 || (p->dst[0] == 255 && p->dst[1] == 255 &&
						      p->dst[2] == 255 && p->dst[3] == 255);
	return p->dst[0] == 0xff || (p->dst[0] == 0xfe && (p->dst[1] & 0xc0) == 0x80);
}

/* Is this ICMP error about a connection we know? Then it belongs to it and passes. */
static __always_inline int related(struct xdp_md *ctx, struct pkt *p)
{
	void *data = (void *)(long)ctx->data, *end = (void *)(long)ctx->data_end;
	struct pkt in = {.family = p->family};
	struct ww_ct_key k = {};
	void *cur = data + (p->l4off & L4OFF_MASK) + sizeof(struct icmphdr);

	if (p->family == 4) {
		if (p->icmp_type != ICMP_DEST_UNREACH && p->icmp_type != ICMP_TIME_EXCEEDED &&
		    p->icmp_type != ICMP_PARAMETERPROB)
			return 0;
		struct iphdr *ip = cur;
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		in.proto = ip->protocol;
		__builtin_memcpy(in.src, &ip->saddr, 4);
		__builtin_memcpy(in.dst, &ip->daddr, 4);
		cur = (void *)ip + ip->ihl * 4;
	} else {
		if (p->icmp_type < ICMPV6_DEST_UNREACH || p->icmp_type > ICMPV6_PARAMPROB)
			return 0;
		struct ipv6hdr *ip6 = cur;
		if ((void *)(ip6 + 1) > end)
			return 0;
		in.proto = ip6->nexthdr;
		__builtin_memcpy(in.src, &ip6->saddr, 16);
		__builtin_memcpy(in.dst, &ip6->daddr, 16);
		cur = ip6 + 1;
	}
	if (cur + ICMP_QUOTE_L4_LEN > end)
		return 0;
	if (in.proto == IPPROTO_TCP || in.proto == IPPROTO_UDP || in.proto == IPPROTO_SCTP) {
		__be16 *ports = cur;
		in.sport = bpf_ntohs(ports[0]);
		in.dport = bpf_ntohs(ports[1]);
	} else if (is_icmp(in.proto)) {
		struct icmphdr *ic = cur;
		in.sport = bpf_ntohs(ic->un.echo.id);
	}
	ct_key(&in, &k, 0);
	if (bpf_map_lookup_elem(&ww_ct, &k))
		return 1;
	ct_key(&in, &k, 1);
	return bpf_map_lookup_elem(&ww_ct, &k) != 0;
}

/* ---- quarantine (bpf/wardwall.h) ---- */

/* The quarantine id of one address, 0 when none is in force. */
static __always_inline __u32 quar_of(struct pkt *p, const __u8 *addr, __u64 *now, __u64 tai)
{
	struct ww_quar_val *q;

	if (p->family == 4) {
		struct ww_lpm4 k = {.prefixlen = WW_LPM4_HOST};
		__builtin_memcpy(k.addr, addr, 4);
		q = bpf_map_lookup_elem(&ww_quar4, &k);
	} else {
		struct ww_lpm6 k = {.prefixlen = WW_LPM6_HOST};
		__builtin_memcpy(k.addr, addr, 16);
		q = bpf_map_lookup_elem(&ww_quar6, &k);
	}
	if (!q)
		return 0;
	if (q->until_ns != ~0ULL && clock_now(now, tai) >= q->until_ns)
		return 0;
	return q->id;
}

static __always_inline int quar_kept(__u32 id, __u32 slot)
{
	struct ww_quar_keep_key k = {.id = id, .slot = slot};

	return !id || (slot != WW_SLOT_DEFAULT && bpf_map_lookup_elem(&ww_quar_keep, &k));
}

/* Drops a packet of a quarantined address unless its flow is kept by every quarantine it meets:
 * the id of the quarantine that drops it (counted), or 0. */
static __always_inline __u32 quar_blocks(__u32 qs, __u32 qd, __u32 slot, __u64 len)
{
	if (quar_kept(qs, slot) && quar_kept(qd, slot))
		return 0;
	__u32 id = qs && !quar_kept(qs, slot) ? qs : qd;
	count(&ww_quar_stats, id, len);
	return id;
}

/* A quarantine's drop as an event, rate-limited with the rest (the nftables overlay logs its
 * own drops the same way). */
static __always_inline void quar_event(__u32 id, const struct ww_settings *st, __u64 *now,
				       __u64 tai, __u16 zs, __u16 zd, struct pkt *p)
{
	struct emitreq r = {clock_now(now, tai), st->log_rate, WW_SLOT_QUARANTINE | id, zs, zd,
			    WW_XV_DENY};
	ww_emit(&r, p);
}

/* ---- the program: one packet's steps ---- */

/* What the steps of ww_xdp share for one packet. */
struct xpkt {
	struct pkt p;
	const struct ww_settings *st;
	__u64 gen;    /* the generation of the maps this packet reads */
	__u64 now;    /* the clock, read once and only when needed (clock_now); 0: not yet */
	__u64 tai;    /* ww_active's tai_offset_ns */
	__u32 slot;   /* the active slot: which inner maps */
	__u32 qs, qd; /* the quarantines of source and destination, 0: none */
	struct ww_ct_key k;
	struct ww_ct_val *cv; /* the connection found, NULL: none */
	int reverse;	      /* cv was found in the reply direction */
};

/* A step's answer when the packet goes on to the next step (XDP_* otherwise). */
#define NEXT_STEP (-1)

static __always_inline void emit(struct xpkt *x, __u32 slot, __u16 zs, __u16 zd, __u8 verdict)
{
	struct emitreq r = {clock_now(&x->now, x->tai), x->st->log_rate, slot, zs, zd, verdict};

	ww_emit(&r, &x->p);
}

/* The active generation's settings, its slot and generation; 0 when none is installed. */
static __always_inline int active_policy(struct xpkt *x)
{
	__u32 zero = 0;
	struct ww_active *act = bpf_map_lookup_elem(&ww_active, &zero);

	if (!act || !act->valid)
		return 0;
	x->slot = act->slot & 1;
	x->tai = act->tai_offset_ns;
	void *sm = bpf_map_lookup_elem(&ww_settings, &x->slot);
	x->st = sm ? bpf_map_lookup_elem(sm, &zero) : 0;
	if (!x->st)
		return 0;
	/* The generation of the maps this packet reads: from the slot's own settings. Taken
	 * from ww_active instead, apart from the slot, it could be the other half of a switch
	 * (ww_active is not written atomically), and a connection decided by the old maps would
	 * be recorded under the new generation and never re-checked. */
	x->gen = x->st->generation;
	return 1;
}

/* Multicast, broadcast, link-local, and neighbour discovery: not judged. Neighbour discovery
 * is ICMPv6 over IPv6 only: protocol 58 in IPv4 is judged. */
static __always_inline int not_judged(const struct pkt *p)
{
	return is_multicast_or_link_local(p) ||
	       (p->family == 6 && p->proto == IPPROTO_ICMPV6 && p->icmp_type >= ICMPV6_ND_FIRST &&
		p->icmp_type <= ICMPV6_ND_LAST);
}

/*
 * A TCP SYN without ACK opens a connection: it is never a reply (the reply to a SYN carries an
 * ACK). The one exception, a simultaneous open (both ends send a SYN at once), is not taken for
 * a reply either: the second SYN is decided as a connection of its own, and the handshake still
 * completes through the SYN-ACK (docs/xdp.md).
 */
static __always_inline int opens(const struct pkt *p)
{
	return p->proto == IPPROTO_TCP && (p->tcp_flags & (TCP_SYN | TCP_ACK)) == TCP_SYN;
}

/* A known connection: x->cv, x->reverse, and x->k its key. In the reply direction too unless
 * forward_only. */
static __always_inline void ct_lookup(struct xpkt *x, int forward_only)
{
	ct_key(&x->p, &x->k, 0);
	x->cv = bpf_map_lookup_elem(&ww_ct, &x->k);
	if (!x->cv && !forward_only) {
		ct_key(&x->p, &x->k, 1);
		x->cv = bpf_map_lookup_elem(&ww_ct, &x->k);
		x->reverse = x->cv != 0;
	}
}

/* A packet of a known connection this generation decided: no classification, no clock. The
 * generation that recorded it classified both addresses, and said in cv->flags which are
 * local. Decided again, as when the generation changes, once a window that took part in its
 * decision has begun or ended: access that ends ends the connection. */
static __always_inline int ct_hit(struct xpkt *x)
{
	struct ww_ct_val *cv = x->cv;

	if (!cv || cv->generation != x->gen ||
	    (cv->recheck_s && clock_now(&x->now, x->tai) >= (__u64)cv->recheck_s * NSEC_PER_SEC))
		return NEXT_STEP;
	__u32 q = x->qs || x->qd ? quar_blocks(x->qs, x->qd, cv->slot, x->p.len) : 0;
	if (q) {
		bpf_map_delete_elem(&ww_ct, &x->k);
		quar_event(q, x->st, &x->now, x->tai, cv->zone_pair_src, cv->zone_pair_dst, &x->p);
		return XDP_DROP;
	}
	if (cv->flags & (x->reverse ? WW_CTF_REV_LOCAL : WW_CTF_FWD_LOCAL)) {
		stat(WW_S_LOCAL);
		return XDP_PASS;
	}
	stat(WW_S_CT_HIT);
	struct decision c = {
	    .slot = cv->slot, .zsrc = cv->zone_pair_src, .zdst = cv->zone_pair_dst};
	count_decision(&c, x->p.len);
	return XDP_PASS;
}

/* x->k as the deny cache keys it: the tuple without the source port (bpf/wardwall.h). */
static __always_inline void deny_key(struct xpkt *x)
{
	ct_key(&x->p, &x->k, 0);
	x->k.sport = 0;
}

/* A tuple this generation already denied (bpf/wardwall.h, ww_deny): no classification. */
static __always_inline int deny_cached(struct xpkt *x)
{
	if (x->cv)
		return NEXT_STEP;
	deny_key(x);
	struct ww_ct_val *dv = bpf_map_lookup_elem(&ww_deny, &x->k);
	if (!dv || dv->generation != x->gen)
		return NEXT_STEP;
	struct decision c = {
	    .slot = dv->slot, .zsrc = dv->zone_pair_src, .zdst = dv->zone_pair_dst};
	count_decision(&c, x->p.len);
	if (dv->flags & WW_CTF_LOG)
		emit(x, c.slot, c.zsrc, c.zdst, WW_XV_DENY);
	return XDP_DROP;
}

/* A reply whose connection must be decided again: turned into its opening direction. */
static __always_inline void to_opening_direction(struct pkt *p)
{
	__u8 tmp[16];

	__builtin_memcpy(tmp, p->src, 16);
	__builtin_memcpy(p->src, p->dst, 16);
	__builtin_memcpy(p->dst, tmp, 16);
	if (is_icmp(p->proto)) {
		p->key = (__u16)(p->icmp_type == ICMP_ECHOREPLY	     ? ICMP_ECHO
				 : p->icmp_type == ICMPV6_ECHO_REPLY ? ICMPV6_ECHO_REQUEST
								     : p->icmp_type)
			 << 8;
	} else {
		__u16 t = p->sport;
		p->sport = p->dport;
		p->dport = p->key = t;
	}
}

#define HASH_MUL 0x9e3779b97f4a7c15ULL

/* Was the deny cache's key of p (the tuple without the source port) denied on this CPU before?
 * Remembers it either way (bpf/wardwall.h, ww_deny_seen). */
static __always_inline int denied_before(const struct pkt *p)
{
	const __u64 *a = (const __u64 *)p->src, *b = (const __u64 *)p->dst;
	__u64 h = (__u64)p->family << 32 | (__u64)p->proto << 16 | p->dport;
	__u32 zero = 0;

	h = (h ^ a[0]) * HASH_MUL;
	h = (h ^ a[1]) * HASH_MUL;
	h = (h ^ b[0]) * HASH_MUL;
	h = (h ^ b[1]) * HASH_MUL;
	h ^= h >> 32;
	struct ww_deny_seen *s = bpf_map_lookup_elem(&ww_deny_seen, &zero);
	if (!s)
		return 1;
	__u32 i = (__u32)h & (WW_SEEN_SLOTS - 1), tag = (__u32)(h >> 24) | 1;
	if (s->tag[i] == tag)
		return 1;
	s->tag[i] = tag;
	return 0;
}

/* A denial: the connection it revokes ends, it is logged, and cached unless it may change or is
 * the first of its tuple. */
static __always_inline int deny(struct xpkt *x, const struct decision *d)
{
	if (x->cv) {
		/* Revoked by the new generation: the connection ends here. */
		stat(WW_S_CT_REVOKED);
		bpf_map_delete_elem(&ww_ct, &x->k);
	}
	if (d->log)
		emit(x, d->slot, d->zsrc, d->zdst, WW_XV_DENY);
	/* The nftables tier holds the same decision and answers under its rate limit. An XDP_TX
	 * of a forged reset would need the checksums and the MAC swap, and skip conntrack and
	 * that limit (docs/xdp.md). */
	if (d->reject)
		return XDP_PASS;
	if (!x->reverse && d->cacheable && !is_icmp(x->p.proto) && denied_before(&x->p)) {
		struct ww_ct_val dv = {.generation = x->gen,
				       .slot = d->slot,
				       .verdict = WW_XV_DENY,
				       .flags = d->log ? WW_CTF_LOG : 0,
				       .zone_pair_src = d->zsrc,
				       .zone_pair_dst = d->zdst};
		deny_key(x);
		bpf_map_update_elem(&ww_deny, &x->k, &dv, BPF_ANY);
	}
	return XDP_DROP;
}

/* An allowed (or monitored) connection: recorded with which of its ends are local. */
static __always_inline int allow(struct xpkt *x, const struct decision *d, const struct cls_res *cs,
				 const struct cls_res *cd)
{
	if (d->verdict == WW_XV_MONITOR && d->log && d->slot == WW_SLOT_DEFAULT)
		emit(x, d->slot, d->zsrc, d->zdst, WW_XV_MONITOR);
	__u8 local = 0;
	if (x->st->hook != WW_HOOK_HOST)
		local = (cd->flags & WW_CLS_LOCAL ? WW_CTF_FWD_LOCAL : 0) |
			(cs->flags & WW_CLS_LOCAL ? WW_CTF_REV_LOCAL : 0);
	struct ww_ct_val v = {.generation = x->gen,
			      .slot = d->slot,
			      .verdict = d->verdict,
			      .flags = local,
			      .zone_pair_src = d->zsrc,
			      .zone_pair_dst = d->zdst,
			      .recheck_s = d->recheck_s};
	if (!x->reverse)
		ct_key(&x->p, &x->k, 0);
	bpf_map_update_elem(&ww_ct, &x->k, &v, BPF_ANY);
	return XDP_PASS;
}

/* A new connection, or one whose generation changed: classified and decided in its opening
 * direction, then dropped by a quarantine, denied, or allowed. */
static __always_inline int judge(struct xdp_md *ctx, struct xpkt *x)
{
	struct cls_res cs = {}, cd = {};
	struct decision d = {};

	classify(x->slot, &x->p, x->p.dst, &cd);
	if (x->st->hook != WW_HOOK_HOST && (cd.flags & WW_CLS_LOCAL)) {
		stat(WW_S_LOCAL);
		return XDP_PASS;
	}
	if (!x->cv && is_icmp(x->p.proto) && related(ctx, &x->p)) {
		stat(WW_S_RELATED);
		return XDP_PASS;
	}
	if (x->reverse) {
		to_opening_direction(&x->p);
		cd = (struct cls_res){};
		classify(x->slot, &x->p, x->p.dst, &cd);
	}
	classify(x->slot, &x->p, x->p.src, &cs);
	decide(x->slot, x->st, &x->now, x->tai, &x->p, &cs, &cd, &d);
	__u32 q = (x->qs || x->qd) && d.verdict != WW_XV_DENY
		      ? quar_blocks(x->qs, x->qd, d.slot, x->p.len)
		      : 0;
	if (q) {
		if (x->cv)
			bpf_map_delete_elem(&ww_ct, &x->k);
		quar_event(q, x->st, &x->now, x->tai, d.zsrc, d.zdst, &x->p);
		return XDP_DROP;
	}
	count_decision(&d, x->p.len);
	if (d.verdict == WW_XV_DENY)
		return deny(x, &d);
	return allow(x, &d, &cs, &cd);
}

SEC("xdp")
int ww_xdp(struct xdp_md *ctx)
{
	struct xpkt x = {};
	int v;

	stat(WW_S_PACKETS);
	int why = ww_parse(ctx, &x.p);
	if (why) {
		stat(why);
		return why == WW_S_NOT_IP || why == WW_S_FRAGMENT ? XDP_PASS : XDP_DROP;
	}
	if (!active_policy(&x)) {
		stat(WW_S_NO_POLICY);
		return XDP_PASS;
	}
	if (not_judged(&x.p)) {
		stat(WW_S_LOCAL);
		return XDP_PASS;
	}
	/* Quarantine first: one LPM lookup per address while any entry exists. */
	x.qs = quar_of(&x.p, x.p.src, &x.now, x.tai);
	x.qd = quar_of(&x.p, x.p.dst, &x.now, x.tai);
	/* A connection's opening SYN is looked up in the deny cache first and never in the reply
	 * direction: a flood of denied SYNs costs one hash lookup a packet, a new tuple two. Any
	 * other packet may be a reply, which the deny cache must never take for a denied tuple:
	 * both directions of the connection table first. */
	int syn = opens(&x.p);
	if (syn && (v = deny_cached(&x)) != NEXT_STEP)
		return v;
	ct_lookup(&x, syn);
	if ((v = ct_hit(&x)) != NEXT_STEP || (!syn && (v = deny_cached(&x)) != NEXT_STEP))
		return v;
	return judge(ctx, &x);
}
