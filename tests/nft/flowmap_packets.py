#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Sends one packet of each kind the flow maps of tests/nft/flowmaps.nft decide, from inside the
namespace of tests/suites/39-nft-flowmap-netlink.sh (its output hook jumps to from/ward-01), and
prints "PASS what" or "FAIL what :: detail" for each verdict seen by the sender: a packet the
table drops fails to send with EPERM. The counters the packets move are the suite's to check.
"""
import errno
import socket
import struct


def send(what, family, kind, addr, port, want_drop):
    proto = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}.get(kind, socket.SOCK_RAW)
    ipproto = 0
    if kind == "icmp":
        ipproto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    s = socket.socket(family, proto, ipproto)
    s.settimeout(0.2)
    err = 0
    try:
        if kind == "udp":
            s.sendto(b"x", (addr, port))
        elif kind == "tcp":
            err = s.connect_ex((addr, port))  # one SYN; nothing answers on a dummy link
        else:
            echo = 8 if family == socket.AF_INET else 128
            body = struct.pack("!BBHHH", echo, 0, 0, 1, 1)
            if family == socket.AF_INET:  # the kernel sums only ICMPv6 raw packets
                total = sum(struct.unpack("!4H", body))
                total = (total & 0xFFFF) + (total >> 16)
                body = struct.pack("!BBHHH", echo, 0, ~total & 0xFFFF, 1, 1)
            s.sendto(body, (addr, 0))
    except OSError as e:
        err = e.errno
    finally:
        s.close()
    dropped = err == errno.EPERM
    verdict = "dropped" if want_drop else "passed"
    if dropped == want_drop:
        print(f"PASS packets: {what} {verdict}")
    else:
        print(f"FAIL packets: {what} {verdict} :: send: {errno.errorcode.get(err, err)}")


V4, V6 = socket.AF_INET, socket.AF_INET6
send("udp 10.2.0.5:2005 (fp4 drop, cp4 flow/f2)", V4, "udp", "10.2.0.5", 2005, True)
send("tcp 10.1.0.9:443 (fp4 accept, cp4 flow/f1)", V4, "tcp", "10.1.0.9", 443, False)
send("icmp echo 10.1.0.9 (fi4 accept, ci4 flow/f1)", V4, "icmp", "10.1.0.9", 0, False)
send("udp 10.9.1.1:7 (set sl4/x: drop)", V4, "udp", "10.9.1.1", 7, True)
send("udp 10.5.0.1:7 (no element: on)", V4, "udp", "10.5.0.1", 7, False)
send("udp [2001:db8:1::1]:53 (fp6 goto dec: flow/f1)", V6, "udp", "2001:db8:1::1", 53, False)
send("icmpv6 echo 2001:db8::5 (fi6 accept, ci6 flow/f2)", V6, "icmp", "2001:db8::5", 0, False)
send("udp [2001:db8::5]:1500 (fp6 ::/0 . udp . 1000-1999 drop)", V6, "udp", "2001:db8::5", 1500, True)
