/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Stage 5, readback: the nftables tier's log, received from NFLOG (nfnetlink_log) through libmnl.
 * wardwall's rules log to enforcement.log_group with the prefix "ww:<verdict>:<counter>"
 * (nft_compile.h); each message carries the first WW_NFLOG_COPY bytes of the packet from its
 * network header: enough for the addresses and the transport header.
 *
 * One process at a time listens on a group in a network namespace: binding fails with -EBUSY
 * while another one (ulogd, another `wardwall events`) holds it.
 */
#ifndef WW_NFLOG_H
#define WW_NFLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define WW_NFLOG_COPY	   128 /* bytes of each packet copied to us */
#define WW_NFLOG_PREFIXLEN 128 /* NF_LOG_PREFIXLEN */

/* The connection a packet belongs to, as its headers say. */
struct ww_tuple {
	uint8_t family; /* 4 or 6; 0: not an IP packet, or cut short */
	uint8_t proto;
	uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
	bool ports;		  /* tcp, udp, udplite, sctp: sport and dport are set */
	bool icmp;		  /* icmp, icmpv6: type and code are set */
	uint16_t sport, dport;
	uint8_t type, code;
};

/*
 * Parses a packet from its network header (IPv4, or IPv6 through up to 6 extension headers).
 * A non-first fragment, or a transport header cut short, leaves ports and icmp false.
 */
void ww_tuple_parse(const uint8_t *pkt, size_t len, struct ww_tuple *t);

struct ww_nflog_msg {
	int64_t time_ns;		 /* unix ns: the kernel's stamp, or when it was read */
	char prefix[WW_NFLOG_PREFIXLEN]; /* "" when the rule set none */
	uint32_t indev, outdev;		 /* interface indexes, 0: none */
	struct ww_tuple t;
};

struct ww_nflog;

/*
 * Binds NFLOG group `group` in the current network namespace: copy mode packet, WW_NFLOG_COPY
 * bytes, every packet delivered at once (queue threshold 1). Returns 0 or -errno, with err
 * saying why (-EBUSY: another process holds the group).
 */
int ww_nflog_open(uint16_t group, struct ww_nflog **out, struct strbuf *err);
/* Closes the socket, which releases the group. Accepts NULL. */
void ww_nflog_close(struct ww_nflog *n);
/* The socket, to poll() for input. */
int ww_nflog_fd(const struct ww_nflog *n);

/*
 * Reads every message waiting, without blocking, calling cb for each logged packet. Returns the
 * number of packets, or -errno. When the socket's buffer overflowed (the kernel dropped messages
 * for us), *overflowed is set and reading goes on. Datagrams that do not come from the kernel,
 * or whose messages' lengths do not fit, are skipped.
 */
int ww_nflog_read(struct ww_nflog *n, void (*cb)(const struct ww_nflog_msg *m, void *arg),
		  void *arg, bool *overflowed);

/*
 * Decodes one datagram from the group's socket (buf, len): calls cb for each logged packet, with
 * now_ns as the time of any packet whose kernel stamp is missing or not wall-clock time.
 * Returns the number of packets, or -EBADMSG when a message's length does not fit the datagram
 * (messages of other types are skipped). Used by ww_nflog_read and the fuzzer.
 */
int ww_nflog_decode(const void *buf, size_t len, int64_t now_ns,
		    void (*cb)(const struct ww_nflog_msg *m, void *arg), void *arg);

#endif
