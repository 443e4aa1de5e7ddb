/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every layout the XDP program and the controller share: included by bpf/wardwall.bpf.c and by
 * controller/xdp/xdp_compile.c and controller/xdp/xdp_*.c. Integers are host order unless named _be.
 *
 * Generations. A policy generation is a set of inner maps (classification tries, rule trie,
 * decision lists, settings) installed in slot 0 or 1 of the outer map-in-map arrays. The program
 * reads ww_active once per packet and uses that slot for every lookup, so switching generations
 * is one write to ww_active: no packet ever sees half a policy. Counters, the connection table
 * and the event ring are not per generation.
 *
 * Per-packet cost does not depend on the number of flows: two LPM lookups classify the
 * addresses, at most four LPM lookups find the decision lists of the (source, destination)
 * endpoint pairs (zone or host on each side), each list holds at most WW_DLIST_MAX entries.
 */
#ifndef WW_BPF_WARDWALL_H
#define WW_BPF_WARDWALL_H

#ifdef __bpf__
#include <linux/types.h>
#else
#include <linux/types.h>
#include <stdint.h>
#endif

#define WW_MAX_FLOWS  262144 /* flow counter slots */
#define WW_MAX_ZONES  255    /* zone slots 1..255; slot 0 is "no zone" */
#define WW_ZONE_SLOTS 256
#define WW_DLIST_MAX  8      /* entries of one decision list */
#define WW_CT_MAX     262144 /* connection table entries (LRU) */
#define WW_DENY_MAX   65536  /* deny cache entries (LRU) */
#define WW_RINGBUF_BYTES (1 << 20)
#define WW_FLOW_ID_LEN 64    /* flow ids are at most 48 characters */

/* ---- classification: LPM tries, per generation ---- */

struct ww_lpm4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct ww_lpm6 {
	__u32 prefixlen;
	__u8 addr[16];
};

#define WW_LPM4_HOST 32  /* the prefix length of one address: a lookup key's */
#define WW_LPM6_HOST 128

#define WW_CLS_MONITOR 0x01 /* the address's zone is in monitor mode */
#define WW_CLS_LOCAL   0x02 /* an address of this machine (gateway mode: not ours to filter) */

struct ww_cls {
	__u32 zone_ep;  /* the zone's endpoint id in this generation */
	__u32 host_ep;  /* the host group's endpoint id, 0 for the zone's own addresses */
	__u16 zone_slot; /* stable zone slot, for default counters; 0: no zone */
	__u8 flags;
	__u8 pad;
};

/* ---- rules: one LPM trie over (src endpoint, dst endpoint, protocol, key) ---- */

/*
 * data: src_ep (4 bytes, big endian), dst_ep (4, big endian), protocol (1), key (2, big endian:
 * the destination port, or the ICMP type in the high byte), 1 pad byte (never in a prefix).
 * prefixlen 64: any protocol; 72: the whole protocol; 72 + n: the first n bits of the key. A
 * port range becomes the few prefixes that cover it exactly.
 */
#define WW_RULE_DATA 12
#define WW_RULE_SRC_EP 0 /* offsets in data */
#define WW_RULE_DST_EP 4
#define WW_RULE_PROTO  8
#define WW_RULE_KEY    9
#define WW_RULE_PREFIX_FULL 88 /* endpoints, protocol and the whole key: a lookup key's */
#define WW_RULE_PREFIX_ANY (WW_RULE_PROTO * 8) /* 64: the endpoints, any protocol */
#define WW_RULE_PREFIX_PROTO (WW_RULE_KEY * 8) /* 72: the endpoints, the whole protocol */
struct ww_rule_key {
	__u32 prefixlen;
	__u8 data[WW_RULE_DATA];
};

/* ---- decision lists: array, per generation ---- */

enum ww_xrank { WW_R_DENY = 0, WW_R_MONITOR = 1, WW_R_ALLOW = 2 };

#define WW_LOG 0x01 /* emit an event when this entry decides (or observes) */
/* A deny that answers ("action": "reject"): counted and logged as a deny, then passed to the
 * nftables tier, whose same decision sends the reset or ICMP error under its rate limit
 * (docs/xdp.md). Never in the deny cache or the connection table. */
#define WW_REJECT 0x02

struct ww_xentry {
	__u32 slot;  /* flow counter slot */
	__u32 order; /* the flow's position in the policy: ties between lists go to the first */
	__u8 rank;   /* enum ww_xrank: deny ends the list's search, monitor only observes */
	__u8 flags;
	__u16 pad;
	__u32 pad2;
	__u64 from_ns, until_ns; /* validity window, unix ns; 0 and ~0 when unbounded */
};

struct ww_xlist {
	__u32 n;
	__u32 pad;
	struct ww_xentry e[WW_DLIST_MAX];
};

/* ---- settings: array of one, per generation ---- */

/* Gateway and bridge judge what passes through (the machine's own addresses are left to its host
 * firewall); host judges the machine's own traffic. */
enum ww_hook { WW_HOOK_GATEWAY = 0, WW_HOOK_HOST = 1, WW_HOOK_BRIDGE = 2 };

struct ww_settings {
	__u64 generation;
	__u8 between_allow; /* defaults: 1 allow, 0 deny */
	__u8 within_allow;
	__u8 log_default_deny; /* log default denials and would-be denials */
	__u8 log_default_allow;
	__u8 hook;             /* enum ww_hook */
	__u8 pad[3];
	__u32 log_rate; /* events per second of each zone's budget on each CPU */
	__u32 pad2;
};

/* ---- the active generation: array of one ---- */

struct ww_active {
	__u32 slot; /* 0 or 1; which inner maps the outer arrays point at */
	__u32 valid; /* 0 until the first generation is installed: pass everything */
	__u64 generation;
	__u64 tai_offset_ns; /* CLOCK_TAI - CLOCK_REALTIME when installed */
};

/* ---- counters: per-CPU arrays, shared by all generations ---- */

struct ww_count {
	__u64 packets, bytes;
};

/* Flow slots are stable per flow id (ww_flow_slots, pinned); default counters are indexed
 * by zone slots: src_slot * WW_ZONE_SLOTS + dst_slot. */
#define WW_DEFAULT_COUNTERS (WW_ZONE_SLOTS * WW_ZONE_SLOTS)

enum ww_stat {
	WW_S_PACKETS,      /* every packet seen */
	WW_S_NOT_IP,       /* not IPv4/IPv6 (ARP, LLDP...): passed */
	WW_S_LOCAL,        /* to this machine, multicast or broadcast in gateway mode: passed */
	WW_S_FRAGMENT,     /* a non-first fragment: passed, the stack reassembles and nft decides */
	WW_S_TRUNCATED,    /* a header cut short: dropped */
	WW_S_MALFORMED,    /* an impossible header length or version: dropped */
	WW_S_EXTHDR_LIMIT, /* more IPv6 extension headers than the program walks: dropped */
	WW_S_NO_POLICY,    /* no generation installed yet: passed */
	WW_S_CT_HIT,       /* packets of a known connection, either direction */
	WW_S_CT_REVOKED,   /* known connections the current generation no longer allows */
	WW_S_RELATED,      /* ICMP errors about a known connection: passed */
	WW_S_EVENTS,       /* events sent */
	WW_S_EVENTS_RATE,  /* events not sent: over the rate limit */
	WW_S_EVENTS_FULL,  /* events not sent: the ring buffer was full */
	WW_S_MAX
};

/* ---- connection table: LRU hash, shared by all generations ---- */

struct ww_ct_key {
	__u8 family; /* 4 or 6 */
	__u8 proto;
	__u16 sport, dport; /* ICMP echo: the identifier and 0 */
	__u8 pad[2];
	__u8 src[16], dst[16]; /* IPv4 in the first 4 bytes, the rest zero */
};

struct ww_ct_val {
	__u64 generation; /* the generation that allowed it; re-checked when it changes */
	__u32 slot;       /* the flow counting it, or WW_SLOT_DEFAULT */
	__u16 zone_pair_src, zone_pair_dst;
	__u8 verdict;     /* WW_V_* */
	__u8 flags;       /* WW_CTF_*, as that generation classified the two addresses */
	__u8 pad[2];
	/* Unix seconds when a validity window of an entry that took part in the decision begins or
	 * ends (the earliest such, rounded up); the connection is decided again from then on, so
	 * that it ends when its access ends (docs/incident.md). 0: never. */
	__u32 recheck_s;
};

/* A known connection skips classification; these keep the answer classification would give:
 * in gateway mode a packet to an address of this machine passes as WW_S_LOCAL. */
#define WW_CTF_FWD_LOCAL 0x01 /* the opening direction's destination is local */
#define WW_CTF_REV_LOCAL 0x02 /* the opening direction's source is local (replies go to it) */
#define WW_CTF_LOG       0x04 /* ww_deny: the denial logs (an event per packet, rate-limited) */

/*
 * The deny cache, ww_deny: an LRU hash of the tuples a generation denied, in the direction they
 * were sent, without the source port (struct ww_ct_key, sport 0: the policy's decision for a new
 * connection depends on the addresses, the protocol and the destination port or ICMP type, never
 * on the source port), with the decision (struct ww_ct_val: slot, zone pair, WW_CTF_LOG). A
 * denied tuple sent again, from any source port (a host flooding what it may not reach, SYN
 * retries), costs one hash lookup for a TCP SYN, one more after the two connection-table misses
 * for anything else, instead of classification and the rule trie; it is counted and logged as
 * the first was. Only decisions that hold for the whole
 * generation and count one counter are cached: none that read the clock (a validity window was
 * consulted), none that monitor-mode denies observed (each counts the packet too), none of
 * ICMP (an ICMP error may belong to a known connection). Looked up only after both
 * connection-table lookups missed, so a reply of an allowed connection is never taken for a
 * denied tuple. An entry of another generation is ignored.
 */

/*
 * ww_deny_seen: a per-CPU array of one struct ww_deny_seen, the tags of tuples denied once, by a
 * hash of the deny cache's key (direct-mapped: a tag overwrites the one in its place). A denial
 * enters the deny cache only when its tag is already there, that is from the second denial of
 * the tuple on this CPU: a scan, whose tuples never repeat, does not pay the deny cache's LRU
 * insert (the most expensive step of its path, an eviction every time once the cache is full)
 * nor evict the flood the cache holds; a flood pays the insert once, on its second packet.
 * A collision only makes a tuple enter on its first denial.
 */
#define WW_SEEN_SLOTS 4096
struct ww_deny_seen {
	__u32 tag[WW_SEEN_SLOTS]; /* 0: empty; tags have the low bit set */
};

#define WW_SLOT_DEFAULT 0xffffffffu

enum ww_xverdict { WW_XV_ALLOW = 0, WW_XV_DENY = 1, WW_XV_MONITOR = 2 };

/* ---- events: ring buffer ---- */

struct ww_event {
	__u64 time_ns;   /* unix ns */
	__u32 slot;      /* flow slot, or WW_SLOT_DEFAULT */
	__u32 ifindex;
	__u16 zone_src, zone_dst; /* zone slots */
	__u8 verdict;    /* enum ww_xverdict: deny, or monitor (would be denied) */
	__u8 family;
	__u8 proto;
	__u8 pad;
	__u16 sport, dport; /* host order; ICMP: type and code in dport (type << 8 | code) */
	__u32 pad2;
	__u8 src[16], dst[16];
};

/* ---- log budgets: per-CPU array indexed by the source zone's slot, not per generation ---- */

/*
 * ww_log_budget[zone slot] (slot 0: an address in no zone): a token bucket per source zone and
 * CPU, of ww_settings.log_rate events a second (log_rate / CPUs of the policy's) with a burst of
 * one second's worth. Every event spends the budget of its packet's source zone, so a flood from
 * one zone cannot use up another zone's events. `dropped` counts the events this bucket refused
 * (the controller adds the CPUs up); ww_stats WW_S_EVENTS_RATE counts them all together.
 */
struct ww_log_budget {
	__u64 last_ns;
	__u64 tokens; /* in units of 1/rate ns: an event costs 1e9 */
	__u64 dropped;
};

/* ---- what is loaded: array of one, written by the controller ---- */

struct ww_meta {
	char object_sha256[65]; /* of the BPF object the pinned program was loaded from */
	char pad[7];
};

/* ---- quarantine: a runtime overlay, not per generation (docs/incident.md) ---- */

/*
 * ww_quar4 / ww_quar6 (LPM tries, keyed by struct ww_lpm4/ww_lpm6) hold the quarantined
 * prefixes. The program checks them first, for the source and the destination of every IP
 * packet: a packet of a quarantined address is dropped and counted in ww_quar_stats[id] unless
 * the flow deciding it (its connection's flow, or the policy's decision for a new connection)
 * is kept: ww_quar_keep has (id, flow slot). An entry is enforced until until_ns (unix ns,
 * ~0: no end), by the program's own clock: expiry needs no controller.
 */
#define WW_QUAR_MAX 1024 /* quarantine ids 1..1023; 0 is "none" */
/* A quarantine's drop in the event ring: ww_event.slot is WW_SLOT_QUARANTINE | id, verdict
 * deny (flow slots are below WW_MAX_FLOWS; WW_SLOT_DEFAULT is above every such slot). */
#define WW_SLOT_QUARANTINE 0xfffff800u

struct ww_quar_val {
	__u32 id;
	__u32 pad;
	__u64 until_ns;
};

struct ww_quar_keep_key {
	__u32 id;
	__u32 slot; /* flow counter slot (ww_flow_slots) */
};

/* ---- pins under <bpffs>/wardwall/ ---- */

#define WW_PIN_DIR    "wardwall"
#define WW_PIN_PROG   "prog"
#define WW_PIN_LINKS  "links" /* links/<ifname> */

/*
 * The layout contract. The program (clang -target bpf) and the controller (cc) both compile
 * this header; pinning every shared size here makes a layout the two compilers would lay out
 * differently a build error on the side that disagrees, never a map read wrongly.
 */
#define WW_LAYOUT(type, size)                                                                      \
	_Static_assert(sizeof(struct type) == (size),                                              \
		       "struct " #type " changed size: both sides and this line must agree")
WW_LAYOUT(ww_lpm4, 8);
WW_LAYOUT(ww_lpm6, 20);
WW_LAYOUT(ww_cls, 12);
WW_LAYOUT(ww_rule_key, 16);
WW_LAYOUT(ww_xentry, 32);
WW_LAYOUT(ww_xlist, 8 + 32 * WW_DLIST_MAX);
WW_LAYOUT(ww_settings, 24);
WW_LAYOUT(ww_active, 24);
WW_LAYOUT(ww_count, 16);
WW_LAYOUT(ww_ct_key, 40);
WW_LAYOUT(ww_ct_val, 24);
WW_LAYOUT(ww_event, 64);
WW_LAYOUT(ww_meta, 72);
WW_LAYOUT(ww_log_budget, 24);
WW_LAYOUT(ww_deny_seen, 4 * WW_SEEN_SLOTS);

#endif
