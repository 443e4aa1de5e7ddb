// SPDX-License-Identifier: GPL-2.0-only
/*
 * The XDP program on crafted frames (BPF_PROG_TEST_RUN), with the policy of
 * tests/xdp/packets.json installed as a generation: for every frame the action, the counter that
 * must move (a ww_stats reason, a flow's counter, a default counter) and, for every frame the
 * policy decides, the reference evaluator's verdict. Run it under tests/xdp/sandbox.sh.
 */
#include "xdp.h"

#define POLICY_FILE "tests/xdp/packets.json"

/* Addresses of the test policy's zones. */
#define C    "10.1.0.5"
#define C6   "fd00:1::5"
#define DB   "10.1.2.3"
#define DB6  "fd00:1::3"
#define WEB  "10.1.3.4"
#define WEB6 "fd00:1:0:3::4"
#define S    "10.2.0.10"
#define S6   "fd00:2::10"
#define DNS  "10.2.0.53"
#define DNS6 "fd00:2::53"
#define IOT  "10.3.0.20"
#define IOT6 "fd00:3::20"
#define OUT  "192.0.2.1" /* in no zone */
#define OUT6 "2001:db8::1"

#define TCP    IPPROTO_TCP
#define UDP    IPPROTO_UDP
#define SCTP   IPPROTO_SCTP
#define ICMP   IPPROTO_ICMP
#define ICMPV6 IPPROTO_ICMPV6
#define GRE    47
#define ESP    50
#define PASS   XDP_PASS
#define DROP   XDP_DROP

/* WW_S_PACKETS moves for every frame: as an expected reason it means "the policy decided". */
#define DECIDED WW_S_PACKETS

enum cut { CUT_NONE, CUT_L2, CUT_L3, CUT_L4 };

struct spec {
	const char *src, *dst;
	int proto;
	uint16_t sport, dport;
	uint8_t type, code;
	uint16_t vlan[2];
	uint16_t frag;	      /* IPv4 flags and fragment offset */
	const char *exts;     /* IPv6 extension headers in order, e.g. "0 43 44" */
	uint16_t v6frag;      /* offset and M flag of the fragment header */
	int quote;	      /* an ICMP error quoting the packet of step quote - 1 */
	uint16_t ethertype;   /* replaces the frame's (the last one, after any tags) */
	uint8_t version, ihl; /* replace the IP header's */
	uint16_t tot_len;     /* replaces the IPv4 total length */
	enum cut cut;	      /* cut the frame keep bytes after the start of this layer */
	size_t keep;
	bool reply; /* a reply: the policy decides it in the opening direction */
	/* TCP flags; 0: an ACK for a reply, when an earlier step of the same steps sent the
	 * reversed tuple (a packet of a connection the other end opened) or sent this tuple with an
	 * ACK; a SYN otherwise. The program takes a SYN without ACK for a connection's first
	 * packet, never for a reply. */
	uint8_t tcp;
};

struct expect {
	uint32_t action;
	int stat;	  /* the ww_stats reason that moves by one; DECIDED: the policy decides */
	const char *flow; /* the flow counting it (decided, CT_HIT, CT_REVOKED); NULL: default */
	const char *mon;  /* the monitor-mode flows observing it, by a space, the first first */
	const char *zs, *zd; /* the default counter that counts it (NULL: no zone) */
};

struct step {
	struct spec s;
	struct expect e;
};

#define MAX_STEPS 6

struct xcase {
	const char *name;
	struct step st[MAX_STEPS];
};

struct ctx {
	struct xt t;
	struct ww_policy *p, *revoked; /* the test policy; the same with clinic-https a deny */
	struct ww_policy *rejecting;   /* the test policy with no-telnet a reject */
	int64_t start;		       /* unix seconds when the test started */
	bool installed;
};

/* ---- the cases ---- */

#define X(...) .e = {__VA_ARGS__}

/* clang-format off */
static const struct xcase cases[] = {
	/* ---- frames the program does not judge ---- */
	{"ARP is not IP: passed",
	 {{.s = {C, S, TCP, 40000, 443, .ethertype = 0x0806}, X(PASS, WW_S_NOT_IP)}}},
	{"802.1Q tag cut short: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .vlan = {0x8100}, .cut = CUT_L2, .keep = 16},
	       X(DROP, WW_S_TRUNCATED)}}},
	{"IPv4 header cut short: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .cut = CUT_L3, .keep = 10}, X(DROP, WW_S_TRUNCATED)}}},
	{"IPv4 IHL 4: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .ihl = 4}, X(DROP, WW_S_MALFORMED)}}},
	{"IPv4 version 5: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .version = 5}, X(DROP, WW_S_MALFORMED)}}},
	{"IPv4 total length below the header length: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .tot_len = 12}, X(DROP, WW_S_MALFORMED)}}},
	{"IPv4 options past the end of the frame: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .ihl = 15, .tot_len = 60}, X(DROP, WW_S_TRUNCATED)}}},
	{"IPv6 header cut short: dropped",
	 {{.s = {C6, S6, TCP, 40000, 443, .cut = CUT_L3, .keep = 30}, X(DROP, WW_S_TRUNCATED)}}},
	{"IPv6 version 4: dropped",
	 {{.s = {C6, S6, TCP, 40000, 443, .version = 4}, X(DROP, WW_S_MALFORMED)}}},
	{"TCP header cut short: dropped",
	 {{.s = {C, S, TCP, 40000, 443, .cut = CUT_L4, .keep = 12}, X(DROP, WW_S_TRUNCATED)}}},
	{"UDP header cut short (IPv6): dropped",
	 {{.s = {C6, DNS6, UDP, 40000, 53, .cut = CUT_L4, .keep = 6},
	       X(DROP, WW_S_TRUNCATED)}}},
	{"SCTP header cut short: dropped",
	 {{.s = {WEB, S, SCTP, 40000, 3868, .cut = CUT_L4, .keep = 6},
	       X(DROP, WW_S_TRUNCATED)}}},
	{"ICMP header cut short: dropped",
	 {{.s = {C, S, ICMP, 7, .type = 8, .cut = CUT_L4, .keep = 4}, X(DROP, WW_S_TRUNCATED)}}},
	{"ICMPv6 header cut short: dropped",
	 {{.s = {C6, S6, ICMPV6, 7, .type = 128, .cut = CUT_L4, .keep = 6},
	       X(DROP, WW_S_TRUNCATED)}}},
	{"IPv6 extension header cut short: dropped",
	 {{.s = {C6, S6, TCP, 40000, 443, .exts = "0 43", .cut = CUT_L3, .keep = 42},
	       X(DROP, WW_S_TRUNCATED)}}},
	{"IPv4 non-first fragment of a denied service: passed",
	 {{.s = {C, S, TCP, 40000, 23, .frag = 185}, X(PASS, WW_S_FRAGMENT)}}},
	{"IPv4 last fragment (offset, no MF): passed",
	 {{.s = {C, S, UDP, 40000, 9, .frag = 0x0010}, X(PASS, WW_S_FRAGMENT)}}},
	{"IPv6 non-first fragment: passed",
	 {{.s = {C6, S6, TCP, 40000, 23, .exts = "44", .v6frag = 100 << 3},
	       X(PASS, WW_S_FRAGMENT)}}},
	{"IPv6 non-first fragment after hop-by-hop: passed",
	 {{.s = {C6, S6, UDP, 40000, 9, .exts = "0 44", .v6frag = 8 << 3 | 1},
	       X(PASS, WW_S_FRAGMENT)}}},
	{"IPv6 with seven extension headers: dropped",
	 {{.s = {C6, S6, TCP, 40000, 443, .exts = "0 60 43 60 43 60 51"},
	       X(DROP, WW_S_EXTHDR_LIMIT)}}},
	{"IPv4 multicast destination: passed",
	 {{.s = {C, "224.0.0.251", UDP, 5353, 5353}, X(PASS, WW_S_LOCAL)}}},
	{"IPv4 broadcast destination: passed",
	 {{.s = {"0.0.0.0", "255.255.255.255", UDP, 68, 67}, X(PASS, WW_S_LOCAL)}}},
	{"IPv6 multicast destination: passed",
	 {{.s = {C6, "ff02::fb", UDP, 5353, 5353}, X(PASS, WW_S_LOCAL)}}},
	{"IPv6 link-local destination: passed",
	 {{.s = {"fe80::1", "fe80::2", TCP, 40000, 22}, X(PASS, WW_S_LOCAL)}}},
	{"ICMPv6 neighbour solicitation to a unicast address: passed",
	 {{.s = {OUT6, S6, ICMPV6, .type = 135}, X(PASS, WW_S_LOCAL)}}},
	{"ICMPv6 router advertisement: passed",
	 {{.s = {"fe80::1", "ff02::1", ICMPV6, .type = 134}, X(PASS, WW_S_LOCAL)}}},
	{"gateway mode: to this machine (127.0.0.1): passed",
	 {{.s = {C, "127.0.0.1", TCP, 40000, 22}, X(PASS, WW_S_LOCAL)}}},
	{"gateway mode: to this machine (::1): passed",
	 {{.s = {C6, "::1", TCP, 40000, 22}, X(PASS, WW_S_LOCAL)}}},

	/* ---- parsed, then decided by the policy ---- */
	{"IPv4 first fragment, allowed",
	 {{.s = {C, S, TCP, 40000, 443, .frag = 0x2000}, X(PASS, DECIDED, "clinic-https")}}},
	{"IPv4 first fragment, denied",
	 {{.s = {C, S, TCP, 40000, 23, .frag = 0x2000}, X(DROP, DECIDED, "no-telnet")}}},
	{"IPv6 first fragment, allowed",
	 {{.s = {C6, S6, TCP, 40000, 443, .exts = "44", .v6frag = 1},
	       X(PASS, DECIDED, "clinic-https")}}},
	{"IPv6 hop-by-hop options, allowed",
	 {{.s = {C6, S6, TCP, 40000, 443, .exts = "0"}, X(PASS, DECIDED, "clinic-https")}}},
	{"IPv6 routing header, dns allowed",
	 {{.s = {C6, DNS6, UDP, 40000, 53, .exts = "43"}, X(PASS, DECIDED, "dns")}}},
	{"IPv6 destination options, telnet denied",
	 {{.s = {C6, S6, TCP, 40000, 23, .exts = "60"}, X(DROP, DECIDED, "no-telnet")}}},
	{"IPv6 authentication header, app allowed",
	 {{.s = {WEB6, S6, TCP, 40000, 8443, .exts = "51"}, X(PASS, DECIDED, "web-app")}}},
	{"IPv6 with six extension headers, allowed",
	 {{.s = {C6, S6, TCP, 40000, 443, .exts = "0 60 43 44 51 60"},
	       X(PASS, DECIDED, "clinic-https")}}},
	{"IPv6 with six extension headers, denied",
	 {{.s = {C6, S6, TCP, 40000, 23, .exts = "0 60 43 44 51 60"},
	       X(DROP, DECIDED, "no-telnet")}}},
	{"802.1Q-tagged, allowed",
	 {{.s = {C, S, TCP, 40000, 443, .vlan = {0x8100}}, X(PASS, DECIDED, "clinic-https")}}},
	{"802.1ad-tagged, denied",
	 {{.s = {C, S, TCP, 40000, 23, .vlan = {0x88a8}}, X(DROP, DECIDED, "no-telnet")}}},
	{"double-tagged (QinQ), denied",
	 {{.s = {C, S, TCP, 40000, 23, .vlan = {0x88a8, 0x8100}},
	       X(DROP, DECIDED, "no-telnet")}}},
	{"protocol 58 type 135 in IPv4 is no neighbour discovery: denied",
	 {{.s = {C, S, ICMPV6, .type = 135}, X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"tcp/443, IPv4: allowed",
	 {{.s = {C, S, TCP, 40000, 443}, X(PASS, DECIDED, "clinic-https")}}},
	{"tcp/443, IPv6: allowed",
	 {{.s = {C6, S6, TCP, 40000, 443}, X(PASS, DECIDED, "clinic-https")}}},
	{"tcp port range, low end: allowed",
	 {{.s = {WEB, S, TCP, 40000, 8000}, X(PASS, DECIDED, "web-app")}}},
	{"tcp port range, high end (IPv6): allowed",
	 {{.s = {WEB6, S6, TCP, 40000, 8080}, X(PASS, DECIDED, "web-app")}}},
	{"tcp port range, one past the end: denied",
	 {{.s = {WEB, S, TCP, 40000, 8081}, X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"tcp port range, one before the start: denied",
	 {{.s = {WEB6, S6, TCP, 40000, 7999},
	       X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"udp port range (IPv6): allowed",
	 {{.s = {WEB6, S6, UDP, 40000, 5005}, X(PASS, DECIDED, "web-app")}}},
	{"udp port range, one past the end: denied",
	 {{.s = {WEB, S, UDP, 40000, 5011}, X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"sctp port: allowed",
	 {{.s = {WEB, S, SCTP, 40000, 3868}, X(PASS, DECIDED, "web-app")}}},
	{"sctp, another port (IPv6): denied",
	 {{.s = {WEB6, S6, SCTP, 40000, 3869},
	       X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"dns from no zone: \"*\" is zones only, denied",
	 {{.s = {OUT, DNS, UDP, 40000, 53}, X(DROP, DECIDED, NULL, NULL, NULL, "servers")}}},
	{"dns from a monitor zone: allowed, observed",
	 {{.s = {IOT, DNS, UDP, 40000, 53}, X(PASS, DECIDED, "dns", "iot-block")}}},
	{"icmp echo request: allowed",
	 {{.s = {C, S, ICMP, 9, .type = 8}, X(PASS, DECIDED, "ping")}}},
	{"icmpv6 echo request: allowed",
	 {{.s = {C6, S6, ICMPV6, 9, .type = 128}, X(PASS, DECIDED, "ping")}}},
	{"icmp timestamp request: denied",
	 {{.s = {C, S, ICMP, .type = 13}, X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"icmp time exceeded, an allowed type: allowed",
	 {{.s = {S, C, ICMP, .type = 11}, X(PASS, DECIDED, "server-errors")}}},
	{"icmpv6 type in an allowed range: allowed",
	 {{.s = {S6, C6, ICMPV6, .type = 4}, X(PASS, DECIDED, "server-errors")}}},
	{"icmpv6 type past an allowed range: denied",
	 {{.s = {S6, C6, ICMPV6, .type = 5}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")}}},
	{"an enforced deny beats an earlier allow of any",
	 {{.s = {DB, S, TCP, 40000, 23}, X(DROP, DECIDED, "no-telnet")}}},
	{"any: a host group to a zone, tcp/5432",
	 {{.s = {DB6, S6, TCP, 40000, 5432}, X(PASS, DECIDED, "db-any")}}},
	{"any and gre both match: the first in the policy counts",
	 {{.s = {DB, S, GRE}, X(PASS, DECIDED, "db-any")}}},
	{"gre: allowed",
	 {{.s = {C, S, GRE}, X(PASS, DECIDED, "tunnel")}}},
	{"esp: denied",
	 {{.s = {C6, S6, ESP}, X(DROP, DECIDED, NULL, NULL, "clinic", "servers")}}},
	{"monitor-mode deny flow observes a default deny",
	 {{.s = {C, S, TCP, 40000, 22},
	       X(DROP, DECIDED, NULL, "watch-ssh", "clinic", "servers")}}},
	{"monitor-mode deny flow naming a zone and its host group observes once",
	 {{.s = {WEB, S, TCP, 40000, 445},
	       X(DROP, DECIDED, NULL, "watch-smb", "clinic", "servers")}}},
	{"six monitor-mode flows observe one connection: each counts it",
	 {{.s = {IOT, DNS, TCP, 40000, 22},
	   X(PASS, DECIDED, NULL, "iot-block iot-no-ssh iot-ssh-telnet iot-dns-ssh iot-dns-ssh-https "
	     "any-dns-ssh", "iot", "servers")}}},
	{"monitor-mode deny flow observes an allow: passed",
	 {{.s = {DB6, S6, TCP, 40000, 22}, X(PASS, DECIDED, "db-any", "watch-ssh")}}},
	{"monitor zone: a deny flow observes, the default deny passes",
	 {{.s = {IOT, S, TCP, 40000, 443},
	       X(PASS, DECIDED, NULL, "iot-block", "iot", "servers")}}},
	{"monitor zone: an allow, observed by its deny flow",
	 {{.s = {IOT6, S6, UDP, 40000, 123}, X(PASS, DECIDED, "iot-ntp", "iot-block")}}},
	{"monitor zone as destination: the default deny passes",
	 {{.s = {C, IOT, TCP, 40000, 80}, X(PASS, DECIDED, NULL, NULL, "clinic", "iot")}}},
	{"within a zone: the default allows",
	 {{.s = {C, DB, TCP, 40000, 9999}, X(PASS, DECIDED, NULL, NULL, "clinic", "clinic")}}},
	{"within a zone: a deny flow to a host group",
	 {{.s = {S, DNS, TCP, 40000, 1500}, X(DROP, DECIDED, "no-legacy")}}},
	{"window including now: allowed",
	 {{.s = {S, C, TCP, 40000, 22}, X(PASS, DECIDED, "maint-now")}}},
	{"window in the past: denied",
	 {{.s = {S, C, TCP, 40000, 3389}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")}}},
	{"window in the future (IPv6): denied",
	 {{.s = {S6, C6, TCP, 40000, 80}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")}}},
	{"no zone to no zone: denied",
	 {{.s = {OUT, "198.51.100.1", TCP, 40000, 80}, X(DROP, DECIDED, NULL, NULL, NULL, NULL)}}},
	{"link-local IPv4 is unicast: judged",
	 {{.s = {"169.254.1.1", S, TCP, 40000, 443},
	       X(DROP, DECIDED, NULL, NULL, NULL, "servers")}}},

	/* ---- connections ---- */
	{"tcp reply of an allowed connection: passed",
	 {{.s = {C, S, TCP, 41000, 443}, X(PASS, DECIDED, "clinic-https")},
	  {.s = {S, C, TCP, 443, 41000}, X(PASS, WW_S_CT_HIT, "clinic-https")},
	  {.s = {C, S, TCP, 41000, 443}, X(PASS, WW_S_CT_HIT, "clinic-https")}}},
	{"tcp SYN in the reply direction (simultaneous open): decided as its own connection",
	 {{.s = {C, S, TCP, 41010, 443}, X(PASS, DECIDED, "clinic-https")},
	  {.s = {S, C, TCP, 443, 41010, .tcp = XT_TCP_SYN},
	   X(DROP, DECIDED, NULL, NULL, "servers", "clinic")},
	  {.s = {S, C, TCP, 443, 41010, .tcp = XT_TCP_SYN | XT_TCP_ACK},
	   X(PASS, WW_S_CT_HIT, "clinic-https")}}},
	{"udp reply of an allowed connection (IPv6): passed",
	 {{.s = {C6, DNS6, UDP, 41001, 53}, X(PASS, DECIDED, "dns")},
	  {.s = {DNS6, C6, UDP, 53, 41001}, X(PASS, WW_S_CT_HIT, "dns")}}},
	{"sctp reply: passed",
	 {{.s = {WEB, S, SCTP, 41002, 3868}, X(PASS, DECIDED, "web-app")},
	  {.s = {S, WEB, SCTP, 3868, 41002}, X(PASS, WW_S_CT_HIT, "web-app")}}},
	{"icmp echo reply: passed",
	 {{.s = {C, S, ICMP, 77, .type = 8}, X(PASS, DECIDED, "ping")},
	  {.s = {S, C, ICMP, 77, .type = 0}, X(PASS, WW_S_CT_HIT, "ping")}}},
	{"icmpv6 echo reply: passed",
	 {{.s = {C6, S6, ICMPV6, 78, .type = 128}, X(PASS, DECIDED, "ping")},
	  {.s = {S6, C6, ICMPV6, 78, .type = 129}, X(PASS, WW_S_CT_HIT, "ping")}}},
	{"icmp echo reply with another identifier: judged",
	 {{.s = {C, S, ICMP, 79, .type = 8}, X(PASS, DECIDED, "ping")},
	  {.s = {S, C, ICMP, 80, .type = 0}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")}}},
	{"reply of a default-allowed connection: counted by the default",
	 {{.s = {C, DB, TCP, 41003, 9999}, X(PASS, DECIDED, NULL, NULL, "clinic", "clinic")},
	  {.s = {DB, C, TCP, 9999, 41003}, X(PASS, WW_S_CT_HIT, NULL, NULL, "clinic", "clinic")}}},
	{"reply of a monitor-zone connection: passed",
	 {{.s = {IOT, S, TCP, 41004, 443},
	       X(PASS, DECIDED, NULL, "iot-block", "iot", "servers")},
	  {.s = {S, IOT, TCP, 443, 41004}, X(PASS, WW_S_CT_HIT, NULL, NULL, "iot", "servers")}}},
	{"reversed tuple of a denied connection: judged, denied",
	 {{.s = {DB, S, TCP, 41005, 23}, X(DROP, DECIDED, "no-telnet")},
	  {.s = {S, DB, TCP, 23, 41005}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")}}},
	{"reversed tuple of a denied connection: judged, allowed by its own flow",
	 {{.s = {C, S, TCP, 22, 23}, X(DROP, DECIDED, "no-telnet")},
	  {.s = {S, C, TCP, 23, 22}, X(PASS, DECIDED, "maint-now")}}},
	{"icmp error about a known connection: passed",
	 {{.s = {C, DNS, UDP, 41006, 53}, X(PASS, DECIDED, "dns")},
	  {.s = {OUT, C, ICMP, .type = 3, .code = 3, .quote = 1},
	       X(PASS, WW_S_RELATED)}}},
	{"icmp error about the reply of a known connection: passed",
	 {{.s = {C, S, TCP, 41007, 443}, X(PASS, DECIDED, "clinic-https")},
	  {.s = {S, C, TCP, 443, 41007}, X(PASS, WW_S_CT_HIT, "clinic-https")},
	  {.s = {OUT, S, ICMP, .type = 3, .code = 4, .quote = 2}, X(PASS, WW_S_RELATED)}}},
	{"icmpv6 packet too big about a known connection: passed",
	 {{.s = {C6, S6, TCP, 41008, 443}, X(PASS, DECIDED, "clinic-https")},
	  {.s = {OUT6, C6, ICMPV6, .type = 2, .quote = 1}, X(PASS, WW_S_RELATED)}}},
	{"icmp error about a denied connection: judged",
	 {{.s = {C, S, TCP, 41009, 23}, X(DROP, DECIDED, "no-telnet")},
	  {.s = {OUT, C, ICMP, .type = 3, .code = 1, .quote = 1},
	       X(DROP, DECIDED, NULL, NULL, NULL, "clinic")}}},
	{"icmp error about a known connection, behind a VLAN tag: passed",
	 {{.s = {C, DNS, UDP, 41010, 53}, X(PASS, DECIDED, "dns")},
	  {.s = {OUT, C, ICMP, .type = 3, .code = 3, .vlan = {0x8100}, .quote = 1},
	       X(PASS, WW_S_RELATED)}}},
};
/* clang-format on */

/* ---- running a step ---- */

struct snap {
	uint64_t stats[WW_S_MAX];
	uint64_t *flows; /* [nflows] */
	uint64_t *dflt;	 /* [(nzones + 1)^2], zone index + 1, 0 for no zone */
};

static const char *zone_name(const struct ww_policy *p, size_t i)
{
	return i ? p->zones[i - 1].name : NULL;
}

static void snap_take(struct ctx *c, const struct ww_policy *p, struct snap *s)
{
	size_t nz = p->nzones + 1;

	xt_stats(&c->t, s->stats);
	s->flows = calloc(p->nflows + 1, sizeof(*s->flows));
	s->dflt = calloc(nz * nz, sizeof(*s->dflt));
	assert_non_null(s->flows);
	assert_non_null(s->dflt);
	for (size_t i = 0; i < p->nflows; i++)
		s->flows[i] = xt_flow_packets(&c->t, p->flows[i].id);
	for (size_t a = 0; a < nz; a++)
		for (size_t b = 0; b < nz; b++)
			s->dflt[a * nz + b] =
			    xt_default_packets(&c->t, zone_name(p, a), zone_name(p, b));
}

static void snap_free(struct snap *s)
{
	free(s->flows);
	free(s->dflt);
}

static const char *const stat_names[WW_S_MAX] = {
    "PACKETS",	 "NOT_IP", "LOCAL",	 "FRAGMENT", "TRUNCATED", "MALFORMED",	 "EXTHDR_LIMIT",
    "NO_POLICY", "CT_HIT", "CT_REVOKED", "RELATED",  "EVENTS",	  "EVENTS_RATE", "EVENTS_FULL",
};

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Is id one of the words of list (NULL: none)? With first, only the first word counts. */
static bool in_list(const char *list, const char *id, bool first)
{
	size_t n = id ? strlen(id) : 0;

	for (const char *w = list; w && *w; w += strcspn(w, " "), w += *w == ' ') {
		if (strcspn(w, " ") == n && !strncmp(w, id, n))
			return true;
		if (first)
			break;
	}
	return !list && !id;
}

static void parse_exts(const char *s, struct xpkt *p)
{
	char *end;

	for (p->nexts = 0; s && *s && p->nexts < (int)sizeof(p->exts);) {
		p->exts[p->nexts++] = (uint8_t)strtoul(s, &end, 10);
		s = end;
	}
}

static void spec_pkt(const struct spec *s, struct xpkt *p)
{
	memset(p, 0, sizeof(*p));
	xpkt_addr(p, s->src, s->dst);
	p->proto = s->proto;
	p->sport = s->sport;
	p->dport = s->dport;
	p->type = s->type;
	p->code = s->code;
	memcpy(p->vlan, s->vlan, sizeof(p->vlan));
	p->frag = s->frag;
	p->v6frag = s->v6frag;
	parse_exts(s->exts, p);
}

/* The frame of step s of steps (which an ICMP error may quote). */
static bool same_tuple(const struct spec *a, const struct spec *b, bool reversed)
{
	return a->proto == b->proto && str_eq(a->src, reversed ? b->dst : b->src) &&
	       str_eq(a->dst, reversed ? b->src : b->dst) &&
	       a->sport == (reversed ? b->dport : b->sport) &&
	       a->dport == (reversed ? b->sport : b->dport);
}

/* The TCP flags of s, the step after the n steps before it (struct spec, tcp). */
static uint8_t tcp_flags_of(const struct spec *s, const struct step *steps, ptrdiff_t n)
{
	if (s->tcp)
		return s->tcp;
	if (s->reply)
		return XT_TCP_ACK;
	for (ptrdiff_t i = 0; i < n; i++)
		if (same_tuple(s, &steps[i].s, true) ||
		    (same_tuple(s, &steps[i].s, false) &&
		     tcp_flags_of(&steps[i].s, steps, i) == XT_TCP_ACK))
			return XT_TCP_ACK;
	return XT_TCP_SYN;
}

static size_t spec_frame(const struct spec *s, const struct step *steps, uint8_t *buf,
			 struct xpkt *p)
{
	static uint8_t quoted[XT_FRAME_MAX];
	const struct step *st = (const struct step *)((const char *)s - offsetof(struct step, s));
	struct xpkt q;
	size_t n;

	spec_pkt(s, p);
	p->tcp_flags = tcp_flags_of(s, steps, st - steps);
	if (s->quote) {
		spec_pkt(&steps[s->quote - 1].s, &q);
		xpkt_build(&q, quoted);
		p->payload = quoted + q.l3off;
		p->npayload = q.l4off - q.l3off + 8; /* the IP header and 8 bytes: RFC 792 */
	}
	n = xpkt_build(p, buf);
	if (s->ethertype)
		put16(buf + p->l3off - 2, s->ethertype);
	if (s->version)
		buf[p->l3off] = (uint8_t)(s->version << 4 | (buf[p->l3off] & 0x0f));
	if (s->ihl)
		buf[p->l3off] = (uint8_t)((buf[p->l3off] & 0xf0) | s->ihl);
	if (s->tot_len)
		put16(buf + p->l3off + 2, s->tot_len);
	if (s->cut == CUT_L2)
		n = s->keep;
	else if (s->cut == CUT_L3)
		n = p->l3off + s->keep;
	else if (s->cut == CUT_L4)
		n = p->l4off + s->keep;
	return n;
}

/* The connection a reply belongs to, in its opening direction. */
static void reverse_pkt(struct xpkt *p)
{
	uint8_t a[16];
	uint16_t port = p->sport;

	memcpy(a, p->src, 16);
	memcpy(p->src, p->dst, 16);
	memcpy(p->dst, a, 16);
	if (xt_is_icmp(p->proto)) {
		p->type = p->type == 0 ? 8 : p->type == 129 ? 128 : p->type;
	} else {
		p->sport = p->dport;
		p->dport = port;
	}
}

/*
 * Runs one step with policy p installed: the action, the counters that move (all the others must
 * not), and for a frame the policy decides, the oracle's verdict. Failures go to why.
 */
static void run_step(struct ctx *c, const struct ww_policy *p, const struct step *st,
		     const struct step *steps, struct strbuf *why)
{
	const struct expect *e = &st->e;
	uint8_t buf[XT_FRAME_MAX];
	struct snap a, b;
	struct xpkt pk;
	uint32_t action = 0;
	size_t nz = p->nzones + 1, len = spec_frame(&st->s, steps, buf, &pk);
	bool counted = e->stat == DECIDED || e->stat == WW_S_CT_HIT || e->stat == WW_S_CT_REVOKED;
	struct strbuf what = {0};
	int err;

	xpkt_str(&pk, &what);
	snap_take(c, p, &a);
	err = xt_run(&c->t, buf, len, &action);
	snap_take(c, p, &b);
	if (err) {
		sb_addf(why, "%s: BPF_PROG_TEST_RUN: %s\n", sb_str(&what), strerror(-err));
		goto out;
	}
	if (action != e->action)
		sb_addf(why, "%s: %s, expected %s\n", sb_str(&what), xt_action_str(action),
			xt_action_str(e->action));
	for (int s = 0; s < WW_S_MAX; s++) {
		uint64_t want = s == WW_S_PACKETS || (s == e->stat && s != DECIDED);
		if (s >= WW_S_EVENTS) /* logging follows the log settings, not tested here */
			continue;
		if (b.stats[s] - a.stats[s] != want)
			sb_addf(why, "%s: ww_stats %s moved by %llu, expected %llu\n",
				sb_str(&what), stat_names[s],
				(unsigned long long)(b.stats[s] - a.stats[s]),
				(unsigned long long)want);
	}
	for (size_t i = 0; i < p->nflows; i++) {
		const char *id = p->flows[i].id;
		uint64_t want = (counted && str_eq(e->flow, id)) +
				(e->stat == DECIDED && in_list(e->mon, id, false));
		if (b.flows[i] - a.flows[i] != want)
			sb_addf(why, "%s: flow \"%s\" counted %llu packets, expected %llu\n",
				sb_str(&what), id, (unsigned long long)(b.flows[i] - a.flows[i]),
				(unsigned long long)want);
	}
	for (size_t x = 0; x < nz; x++)
		for (size_t y = 0; y < nz; y++) {
			const char *zs = zone_name(p, x), *zd = zone_name(p, y);
			uint64_t want =
			    counted && !e->flow && str_eq(e->zs, zs) && str_eq(e->zd, zd);
			uint64_t got = b.dflt[x * nz + y] - a.dflt[x * nz + y];
			if (got != want)
				sb_addf(
				    why,
				    "%s: default counter %s -> %s counted %llu, expected %llu\n",
				    sb_str(&what), zs ? zs : "(no zone)", zd ? zd : "(no zone)",
				    (unsigned long long)got, (unsigned long long)want);
		}
	if (e->stat == DECIDED || e->stat == WW_S_CT_REVOKED) {
		struct ww_verdict v;
		struct ww_packet k;
		if (st->s.reply)
			reverse_pkt(&pk);
		k = xpkt_oracle(&pk, time(NULL));
		ww_evaluate(p, &k, &v);
		/* A reject is the nftables tier's to answer: this tier passes it. */
		uint32_t want = v.kind == WW_V_DENY && v.flow && v.flow->reject
					? XDP_PASS
					: xt_action_of(v.kind);
		if (want != action)
			sb_addf(why, "%s: XDP %s, the oracle says %s\n", sb_str(&what),
				xt_action_str(action), ww_verdict_str(v.kind));
		if (!str_eq(v.flow ? v.flow->id : NULL, e->flow))
			sb_addf(why, "%s: the oracle's deciding flow is %s, the test expects %s\n",
				sb_str(&what), v.flow ? v.flow->id : "the default",
				e->flow ? e->flow : "the default");
		if (!in_list(e->mon, v.monitor ? v.monitor->id : NULL, true))
			sb_addf(why, "%s: the oracle's monitor flow is %s, the test expects %s\n",
				sb_str(&what), v.monitor ? v.monitor->id : "none",
				e->mon ? e->mon : "none");
	}
out:
	sb_free(&what);
	snap_free(&a);
	snap_free(&b);
}

static void run_steps(struct ctx *c, const struct step *steps, size_t n)
{
	struct strbuf why = {0};

	for (size_t i = 0; i < n && steps[i].s.src; i++)
		run_step(c, c->p, &steps[i], steps, &why);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

/* ---- setup ---- */

/* The policy text with every @T+N@ (or @T-N@) replaced by the RFC 3339 time start + N. */
static char *subst_times(const char *text, int64_t start)
{
	struct strbuf sb = {0};
	const char *s = text, *at;

	while ((at = strstr(s, "@T"))) {
		char *end, tb[WW_TIME_STRLEN];
		long d = strtol(at + 2, &end, 10);
		sb_addn(&sb, s, (size_t)(at - s));
		if (*end != '@') {
			sb_add(&sb, "@T");
			s = at + 2;
			continue;
		}
		sb_add(&sb, ww_time_str(start + d, tb));
		s = end + 1;
	}
	sb_add(&sb, s);
	return sb_steal(&sb);
}

static struct ww_policy *load_policy(const char *text, int64_t start)
{
	struct strbuf err = {0};
	struct ww_policy *p = NULL;
	char *json = subst_times(text, start);

	if (xt_parse(POLICY_FILE, json, &p, &err)) {
		xt_comment(sb_str(&err));
		p = NULL;
	}
	free(json);
	sb_free(&err);
	return p;
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	struct strbuf err = {0};
	char *text = NULL, *line, *allow;
	size_t len;

	if (!c)
		return -1;
	c->start = time(NULL);
	if (read_file(POLICY_FILE, &text, &len)) {
		print_message("# %s: cannot read it (run from the repository root)\n", POLICY_FILE);
		goto fail;
	}
	c->p = load_policy(text, c->start);
	/* The same policy with no-telnet a reject. */
	line = strstr(text, "\"id\": \"no-telnet\"");
	char *deny = line ? strstr(line, "\"deny\"") : NULL;
	if (deny) {
		struct strbuf sb = {0};
		sb_addf(&sb, "%.*s\"reject\"%s", (int)(deny - text), text, deny + 6);
		c->rejecting = load_policy(sb_str(&sb), c->start);
		sb_free(&sb);
	}
	/* The same policy with clinic-https turned into a deny: a generation that revokes. */
	line = strstr(text, "\"id\": \"clinic-https\"");
	allow = line ? strstr(line, "\"allow\"") : NULL;
	if (allow) {
		memcpy(allow, "\"deny\" ", 7);
		c->revoked = load_policy(text, c->start);
	}
	free(text);
	text = NULL;
	if (!c->p || !c->revoked || !c->rejecting)
		goto fail;
	if (xt_open(&c->t, &err)) {
		xt_comment(sb_str(&err));
		goto fail;
	}
	*state = c;
	return 0;
fail:
	free(text);
	sb_free(&err);
	ww_policy_free(c->p);
	ww_policy_free(c->revoked);
	ww_policy_free(c->rejecting);
	free(c);
	return -1;
}

static int teardown(void **state)
{
	struct ctx *c = *state;

	if (c) {
		xt_close(&c->t);
		ww_policy_free(c->p);
		ww_policy_free(c->revoked);
		ww_policy_free(c->rejecting);
		free(c);
	}
	return 0;
}

static void install(struct ctx *c, const struct ww_policy *p)
{
	struct strbuf err = {0};
	int e = xt_install(&c->t, p, NULL, &err);

	if (e) {
		xt_comment(sb_str(&err));
		sb_free(&err);
		fail_msg("installing the generation: %s", strerror(-e));
	}
	sb_free(&err);
	c->installed = p == c->p;
}

/* ---- tests ---- */

static struct ctx *the_ctx; /* cmocka hands each table case its own state: the case */

/* Before any generation: every IP packet passes, counted as NO_POLICY. */
static void test_no_policy(void **state)
{
	struct ctx *c = the_ctx;
	uint32_t zero = 0;
	struct ww_active a = {0};
	static const struct step st = {.s = {C, S, TCP, 40000, 23}, X(PASS, WW_S_NO_POLICY)};
	struct strbuf why = {0};

	bpf_map_lookup_elem(ww_xdp_fd(c->t.x, "ww_active"), &zero, &a);
	if (a.valid) {
		print_message("# a generation is installed already (not a fresh bpffs): skipped\n");
		return;
	}
	run_step(c, c->p, &st, &st, &why);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

/* The kernel never runs XDP on less than an Ethernet header: BPF_PROG_TEST_RUN refuses it. */
static void test_short_ethernet(void **state)
{
	uint8_t buf[13] = {0};
	uint32_t action;

	assert_int_equal(xt_run(&the_ctx->t, buf, sizeof(buf), &action), -EINVAL);
}

static void test_install(void **state)
{
	install(the_ctx, the_ctx->p);
	assert_true(xt_local_addr(4, (const uint8_t[4]){127, 0, 0, 1}));
}

static void test_case(void **state)
{
	const struct xcase *x = *state;
	struct ctx *c = the_ctx;

	if (!c->installed)
		install(c, c->p);
	xt_ct_clear(&c->t);
	run_steps(c, x->st, MAX_STEPS);
}

/*
 * A new generation that denies what an open connection was allowed: its next packet is decided
 * again and dropped (CT_REVOKED); a connection the new generation still allows is decided again
 * once, then known again.
 */
static void test_generation_change(void **state)
{
	struct ctx *c = the_ctx;
	struct strbuf why = {0};
	static const struct step before[] = {
	    {.s = {C, S, TCP, 42000, 443}, X(PASS, DECIDED, "clinic-https")},
	    {.s = {DB, S, TCP, 42001, 5432}, X(PASS, DECIDED, "db-any")},
	};
	static const struct step after[] = {
	    {.s = {S, C, TCP, 443, 42000, .reply = true}, X(DROP, WW_S_CT_REVOKED, "clinic-https")},
	    {.s = {S, C, TCP, 443, 42000}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")},
	    {.s = {S, DB, TCP, 5432, 42001, .reply = true}, X(PASS, DECIDED, "db-any")},
	    {.s = {S, DB, TCP, 5432, 42001}, X(PASS, WW_S_CT_HIT, "db-any")},
	    {.s = {C, S, TCP, 42002, 443}, X(DROP, DECIDED, "clinic-https")},
	};

	if (!c->installed)
		install(c, c->p);
	xt_ct_clear(&c->t);
	for (size_t i = 0; i < ARRAY_SIZE(before); i++)
		run_step(c, c->p, &before[i], before, &why);
	install(c, c->revoked);
	for (size_t i = 0; i < ARRAY_SIZE(after); i++)
		run_step(c, c->revoked, &after[i], after, &why);
	install(c, c->p);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

static size_t deny_entries(struct ctx *c, struct ww_ct_key *last, struct ww_ct_val *v)
{
	struct ww_ct_key k, *prev = NULL, cur;
	size_t n = 0;

	while (!bpf_map_get_next_key(c->t.deny, prev, &k)) {
		n++;
		if (last && v && !bpf_map_lookup_elem(c->t.deny, &k, v))
			*last = k;
		cur = k;
		prev = &cur;
	}
	return n;
}

/*
 * The deny cache (bpf/wardwall.h, ww_deny): a tuple enters it when denied the second time
 * (ww_deny_seen); a denied tuple sent again is decided by its cached entry (proved by pointing
 * the entry at another flow's counter); decisions that read the
 * clock, that a monitor-mode flow observed, and ICMP are not cached; a reply of an allowed
 * connection is not taken for a denied tuple with the same addresses and ports, but a SYN
 * without ACK is (it opens a connection, it is no reply); an entry of another generation is
 * ignored.
 */
static void test_deny_cache(void **state)
{
	struct ctx *c = the_ctx;
	struct strbuf why = {0};
	struct ww_ct_key k;
	struct ww_ct_val v;
	uint32_t iot_block = xt_flow_slot(&c->t, "iot-block");
	static const struct step telnet = {.s = {C, S, TCP, 40001, 23},
					   X(DROP, DECIDED, "no-telnet")};
	static const struct step timed = {.s = {S, C, TCP, 40000, 3389},
					  X(DROP, DECIDED, NULL, NULL, "servers", "clinic")};
	static const struct step icmp = {.s = {C, S, ICMP, .type = 13},
					 X(DROP, DECIDED, NULL, NULL, "clinic", "servers")};
	static const struct step observed = {
	    .s = {C, S, TCP, 40003, 22}, X(DROP, DECIDED, NULL, "watch-ssh", "clinic", "servers")};
	static const struct step reply[] = {
	    {.s = {S, C, TCP, 443, 42010}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")},
	    {.s = {S, C, TCP, 443, 42010}, X(DROP, DECIDED, NULL, NULL, "servers", "clinic")},
	    {.s = {C, S, TCP, 42010, 443}, X(PASS, DECIDED, "clinic-https")},
	    {.s = {S, C, TCP, 443, 42010, .reply = true}, X(PASS, WW_S_CT_HIT, "clinic-https")},
	    /* A SYN without ACK is never a reply: the deny cache decides it first. */
	    {.s = {S, C, TCP, 443, 42010, .tcp = XT_TCP_SYN},
	     X(DROP, DECIDED, NULL, NULL, "servers", "clinic")},
	};
	static const struct step gen_old = {.s = {C, S, TCP, 40002, 443},
					    X(DROP, DECIDED, "clinic-https")};
	static const struct step gen_new = {.s = {C, S, TCP, 40002, 443},
					    X(PASS, DECIDED, "clinic-https")};

	if (!c->installed)
		install(c, c->p);
	xt_ct_clear(&c->t);
	run_step(c, c->p, &telnet, &telnet, &why);
	if (deny_entries(c, NULL, NULL) != 0)
		sb_add(&why,
		       "a tuple denied once entered ww_deny (ww_deny_seen: the second does)\n");
	run_step(c, c->p, &telnet, &telnet, &why);
	if (deny_entries(c, &k, &v) != 1 || v.slot != xt_flow_slot(&c->t, "no-telnet") ||
	    k.sport != 0 || k.dport != 23)
		sb_add(&why,
		       "a denied tcp/23 is not in ww_deny with its flow's slot, keyed without "
		       "its source port\n");
	run_step(c, c->p, &telnet, &telnet, &why);
	v.slot = iot_block;
	if (bpf_map_update_elem(c->t.deny, &k, &v, BPF_EXIST))
		sb_add(&why, "ww_deny: the entry could not be rewritten\n");
	/* Counted where the entry says, not where the policy would: the entry decided. */
	uint8_t buf[XT_FRAME_MAX];
	struct xpkt pk;
	uint32_t action = 0;
	size_t len = spec_frame(&telnet.s, &telnet, buf, &pk);
	uint64_t iot0 = xt_flow_packets(&c->t, "iot-block"),
		 tel0 = xt_flow_packets(&c->t, "no-telnet");
	if (xt_run(&c->t, buf, len, &action) || action != XDP_DROP ||
	    xt_flow_packets(&c->t, "iot-block") != iot0 + 1 ||
	    xt_flow_packets(&c->t, "no-telnet") != tel0)
		sb_add(&why, "a cached denial was decided again instead of by its ww_deny entry\n");
	/* From another source port, with and without SYN: the same entry decides. */
	for (int i = 0; i < 2; i++) {
		struct step other = telnet;
		other.s.sport = (uint16_t)(41000 + i);
		other.s.tcp = i ? XT_TCP_ACK : XT_TCP_SYN;
		len = spec_frame(&other.s, &other, buf, &pk);
		if (xt_run(&c->t, buf, len, &action) || action != XDP_DROP ||
		    xt_flow_packets(&c->t, "iot-block") != iot0 + 2 + i ||
		    xt_flow_packets(&c->t, "no-telnet") != tel0)
			sb_addf(&why,
				"a denied tuple from another source port (%s) was not decided by "
				"its ww_deny entry\n",
				i ? "ACK" : "SYN");
	}
	v.slot = xt_flow_slot(&c->t, "no-telnet");
	bpf_map_update_elem(c->t.deny, &k, &v, BPF_EXIST);
	run_step(c, c->p, &timed, &timed, &why);
	run_step(c, c->p, &icmp, &icmp, &why);
	run_step(c, c->p, &observed, &observed, &why);
	run_step(c, c->p, &observed, &observed, &why); /* the observer counts it again */
	if (deny_entries(c, NULL, NULL) != 1)
		sb_add(&why, "a decision that read the clock, was observed, or of ICMP entered "
			     "ww_deny\n");
	for (size_t i = 0; i < ARRAY_SIZE(reply); i++)
		run_step(c, c->p, &reply[i], reply, &why);
	install(c, c->revoked);
	run_step(c, c->revoked, &gen_old, &gen_old, &why);
	run_step(c, c->revoked, &gen_old, &gen_old, &why); /* the second denial is cached */
	install(c, c->p);
	run_step(c, c->p, &gen_new, &gen_new, &why);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

/*
 * A reject ("action": "reject") is counted to its flow like a deny, then passed for nftables to
 * answer; never cached (a second packet of the same tuple is decided and passed again) and never
 * a connection.
 */
static void test_reject_passes(void **state)
{
	struct ctx *c = the_ctx;
	struct strbuf why = {0};
	struct ww_ct_key k;
	static const struct step telnet = {.s = {C, S, TCP, 40005, 23},
					   X(PASS, DECIDED, "no-telnet")};

	install(c, c->rejecting);
	xt_ct_clear(&c->t);
	run_step(c, c->rejecting, &telnet, &telnet, &why);
	run_step(c, c->rejecting, &telnet, &telnet, &why);
	if (deny_entries(c, NULL, NULL) != 0)
		sb_add(&why, "a rejected tuple entered ww_deny\n");
	if (!bpf_map_get_next_key(c->t.ct, NULL, &k))
		sb_add(&why, "a rejected tuple entered ww_ct\n");
	install(c, c->p);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

/* The only entry of the connection table (the test empties it first). */
static bool only_ct(struct ctx *c, struct ww_ct_key *k, struct ww_ct_val *v)
{
	struct ww_ct_key next;

	return !bpf_map_get_next_key(c->t.ct, NULL, k) && !bpf_map_lookup_elem(c->t.ct, k, v) &&
	       bpf_map_get_next_key(c->t.ct, k, &next);
}

/*
 * A connection decided by a flow with a validity window carries the window's end (recheck_s);
 * once that time has come, its next packet is decided again instead of passing as known. One
 * decided by a flow without a window carries none.
 */
static void test_window_recheck(void **state)
{
	struct ctx *c = the_ctx;
	struct strbuf why = {0};
	struct ww_ct_key k;
	struct ww_ct_val v;
	const struct ww_flow *f = ww_flow_find(c->p, "maint-now");
	static const struct step open = {.s = {S, C, TCP, 43000, 22}, X(PASS, DECIDED, "maint-now")};
	static const struct step known = {.s = {C, S, TCP, 22, 43000, .reply = true},
					  X(PASS, WW_S_CT_HIT, "maint-now")};
	static const struct step again = {.s = {C, S, TCP, 22, 43000, .reply = true},
					  X(PASS, DECIDED, "maint-now")};
	static const struct step plain = {.s = {C, S, TCP, 43001, 443},
					  X(PASS, DECIDED, "clinic-https")};

	assert_non_null(f);
	assert_true(f->has_until);
	if (!c->installed)
		install(c, c->p);
	xt_ct_clear(&c->t);
	run_step(c, c->p, &open, &open, &why);
	assert_true(only_ct(c, &k, &v));
	assert_int_equal(v.recheck_s, (uint32_t)f->valid_until);
	run_step(c, c->p, &known, &known, &why);
	/* The window's end has come (as far as this entry knows): decided again. */
	v.recheck_s = 1;
	assert_int_equal(bpf_map_update_elem(c->t.ct, &k, &v, BPF_EXIST), 0);
	run_step(c, c->p, &again, &again, &why);
	assert_true(only_ct(c, &k, &v));
	assert_int_equal(v.recheck_s, (uint32_t)f->valid_until);
	xt_ct_clear(&c->t);
	run_step(c, c->p, &plain, &plain, &why);
	assert_true(only_ct(c, &k, &v));
	assert_int_equal(v.recheck_s, 0);
	if (why.len) {
		xt_comment(sb_str(&why));
		sb_free(&why);
		fail();
	}
}

int main(void)
{
	static const struct CMUnitTest first[] = {
	    cmocka_unit_test(test_no_policy),
	    cmocka_unit_test(test_short_ethernet),
	    cmocka_unit_test(test_install),
	};
	size_t n = ARRAY_SIZE(first) + ARRAY_SIZE(cases) + 4, k = 0;
	struct CMUnitTest *tests = calloc(n, sizeof(*tests));
	void *state = NULL;
	int rc;

	if (!tests || setup(&state)) {
		/* The plan and one failure, so that the suite reports why it could not run. */
		printf("1..1\nnot ok 1 - setup (see above)\n");
		return 1;
	}
	the_ctx = state;
	for (size_t i = 0; i < ARRAY_SIZE(first); i++)
		tests[k++] = first[i];
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		tests[k++] = (struct CMUnitTest){.name = cases[i].name,
						 .test_func = test_case,
						 .initial_state = (void *)&cases[i]};
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_generation_change);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_deny_cache);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_window_recheck);
	tests[k++] = (struct CMUnitTest)cmocka_unit_test(test_reject_passes);
	rc = _cmocka_run_group_tests("xdp_packets", tests, k, NULL, NULL);
	teardown(&state);
	free(tests);
	return rc;
}
