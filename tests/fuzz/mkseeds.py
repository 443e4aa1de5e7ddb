#!/usr/bin/env python3
"""Writes the seeds of the event decoders' fuzz targets: tests/fuzz/nflog/seed-* (NFLOG
datagrams as the kernel sends them) and tests/fuzz/events/seed-* (runs of struct ww_event
ring-buffer records, bpf/wardwall.h). Run from the repository root; the output is committed."""
import os
import socket
import struct

NFULNL_MSG_PACKET = 0
NFNL_SUBSYS_ULOG = 4
NFULA_PACKET_HDR, NFULA_TIMESTAMP, NFULA_INDEV, NFULA_OUTDEV = 1, 3, 4, 5
NFULA_PAYLOAD, NFULA_PREFIX = 9, 10
NOW = 1780000000


def attr(t, data):
    a = struct.pack("=HH", 4 + len(data), t) + data
    return a + b"\0" * (-len(a) % 4)


def nflog_msg(prefix, payload, family=socket.AF_INET, stamp=NOW, indev=2, outdev=3):
    body = struct.pack("=BBH", family, 0, socket.htons(100))
    body += attr(NFULA_PACKET_HDR, struct.pack(">HBB", 0x0800 if family == 2 else 0x86DD, 2, 0))
    if stamp is not None:
        body += attr(NFULA_TIMESTAMP, struct.pack(">QQ", stamp, 123000))
    if indev:
        body += attr(NFULA_INDEV, struct.pack(">I", indev))
    if outdev:
        body += attr(NFULA_OUTDEV, struct.pack(">I", outdev))
    if prefix is not None:
        body += attr(NFULA_PREFIX, prefix + b"\0")
    if payload is not None:
        body += attr(NFULA_PAYLOAD, payload)
    return struct.pack("=IHHII", 16 + len(body), NFNL_SUBSYS_ULOG << 8 | NFULNL_MSG_PACKET,
                       0, 0, 0) + body


def ip4(src, dst, proto, l4):
    h = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 1, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h + l4


def ip6(src, dst, nh, rest):
    return struct.pack(">IHBB16s16s", 0x60000000, len(rest), nh, 64,
                       socket.inet_pton(socket.AF_INET6, src),
                       socket.inet_pton(socket.AF_INET6, dst)) + rest


tcp = struct.pack(">HHIIBBHHH", 40000, 443, 1, 0, 0x50, 2, 65535, 0, 0)
udp = struct.pack(">HHHH", 5353, 514, 8, 0)
icmp = struct.pack(">BBHHH", 8, 0, 0, 7, 1)
hop = struct.pack(">BBHI", 6, 0, 0, 0)  # hop-by-hop, then TCP
frag = struct.pack(">BBHI", 17, 0, 0x0008, 1)  # a non-first fragment

nflog = {
    "allow-flow-tcp4": nflog_msg(b"ww:allow:flow/pumps-to-ehr", ip4("10.20.40.5", "10.20.2.30", 6, tcp)),
    "deny-default-udp4": nflog_msg(b"ww:deny:default/wan/ehr", ip4("192.0.2.1", "10.20.2.9", 17, udp)),
    "monitor-icmp4": nflog_msg(b"ww:monitor:default/pumps/ehr", ip4("10.20.40.5", "10.20.2.9", 1, icmp)),
    "deny-tcp6-exthdr": nflog_msg(b"ww:deny:flow/wan-block", ip6("2001:db8::1", "fd00:20:2::30", 0, hop + tcp), socket.AF_INET6),
    "deny-frag6": nflog_msg(b"ww:deny:flow/wan-block", ip6("2001:db8::1", "fd00:20:2::30", 44, frag + udp), socket.AF_INET6),
    "not-ours": nflog_msg(b"other:prefix", ip4("10.0.0.1", "10.0.0.2", 6, tcp)),
    "no-prefix-no-stamp": nflog_msg(None, ip4("10.0.0.1", "10.0.0.2", 6, tcp), stamp=None, indev=0, outdev=0),
    "short-payload": nflog_msg(b"ww:deny:flow/x", ip4("10.0.0.1", "10.0.0.2", 6, tcp)[:22]),
}
nflog["two-in-one"] = nflog["allow-flow-tcp4"] + nflog["deny-tcp6-exthdr"]


def event(slot, verdict, family, proto, src, dst, sport=40000, dport=443, zs=1, zd=2,
          t=NOW * 10**9, ifindex=2):
    af = socket.AF_INET if family == 4 else socket.AF_INET6
    a = socket.inet_pton(af, src).ljust(16, b"\0")
    b = socket.inet_pton(af, dst).ljust(16, b"\0")
    return struct.pack("=QIIHHBBBBHHI16s16s", t, slot, ifindex, zs, zd, verdict, family, proto,
                       0, sport, dport, 0, a, b)


events = {
    "deny-flow-tcp4": event(1, 1, 4, 6, "192.0.2.1", "10.20.2.30", zs=255, zd=1),
    "monitor-default-udp6": event(0xFFFFFFFF, 2, 6, 17, "2001:db8::1", "fd00:20:2::30", zs=255, zd=1),
    "allow-icmp4": event(0, 0, 4, 1, "10.20.40.5", "10.20.2.30", dport=8 << 8, zs=2, zd=1),
    "unknown-slots": event(99, 1, 4, 6, "10.0.0.1", "10.0.0.2", zs=77, zd=0),
}
events["run-of-three"] = events["deny-flow-tcp4"] + events["monitor-default-udp6"] + events["allow-icmp4"][:20]

for folder, seeds in (("tests/fuzz/nflog", nflog), ("tests/fuzz/events", events)):
    os.makedirs(folder, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(folder, "seed-" + name), "wb") as f:
            f.write(data)
