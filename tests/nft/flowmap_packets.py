#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Sends one packet of each kind the flow maps of tests/nft/flowmaps.nft decide, from inside the
namespace of tests/suites/39-nft-flowmap-netlink.sh (its output hook jumps to from/ward-01), and
prints "PASS what" or "FAIL what :: detail" for each verdict seen by the sender: a packet the
table drops fails to send with EPERM. The counters the packets move are the suite's to check.

With "mark", the packets of tests/nft/markmaps.nft (the output hook jumps to classify, which
writes the destination's class into the mark, then to from/ward-02, whose maps are keyed on the
mark's class bits). Some leave with a socket mark of their own (SO_MARK): classify must clear
the class bits of it, and the lookups must mask the bits outside them away.
"""
import errno
import socket
import struct
import sys


def send(what, family, kind, addr, port, want_drop, mark=0):
    proto = {"udp": socket.SOCK_DGRAM, "tcp": socket.SOCK_STREAM}.get(kind, socket.SOCK_RAW)
    ipproto = 0
    if kind == "icmp":
        ipproto = socket.IPPROTO_ICMP if family == socket.AF_INET else socket.IPPROTO_ICMPV6
    s = socket.socket(family, proto, ipproto)
    s.settimeout(0.2)
    if mark:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, struct.pack("=I", mark))
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


def flowmaps():
    send("udp 10.2.0.5:2005 (fp4 drop, cp4 flow/f2)", V4, "udp", "10.2.0.5", 2005, True)
    send("tcp 10.1.0.9:443 (fp4 accept, cp4 flow/f1)", V4, "tcp", "10.1.0.9", 443, False)
    send("icmp echo 10.1.0.9 (fi4 accept, ci4 flow/f1)", V4, "icmp", "10.1.0.9", 0, False)
    send("udp 10.9.1.1:7 (set sl4/x: drop)", V4, "udp", "10.9.1.1", 7, True)
    send("udp 10.5.0.1:7 (no element: on)", V4, "udp", "10.5.0.1", 7, False)
    send("udp [2001:db8:1::1]:53 (fp6 goto dec: flow/f1)", V6, "udp", "2001:db8:1::1", 53, False)
    send("icmpv6 echo 2001:db8::5 (fi6 accept, ci6 flow/f2)", V6, "icmp", "2001:db8::5", 0, False)
    send("udp [2001:db8::5]:1500 (fp6 ::/0 . udp . 1000-1999 drop)", V6, "udp", "2001:db8::5", 1500,
         True)


# ward-01 is 10.1.0.0/23 and 2001:db8:1::/48 (class 0x00010000), its host group printer
# 10.1.2.0/24 (0x02010000). The counters: flow/m1 3, flow/m2 6, flow/m3 1.
# A TCP packet's verdict is not seen by the sender (connect only times out, dropped or not): the
# counters say where those went.
def markmaps():
    send("mark: udp 10.1.0.5:2005 (zone: fp drop, cp flow/m2)", V4, "udp", "10.1.0.5", 2005, True)
    send("mark: tcp 10.1.0.5:443 (zone: fp accept, cp flow/m1)", V4, "tcp", "10.1.0.5", 443, False)
    send("mark: udp 10.1.1.9:2001 with socket mark 0x00ff0005 (classify clears the class bits; "
         "fp drop, cp flow/m2)", V4, "udp", "10.1.1.9", 2001, True, 0x00FF0005)
    send("mark: udp 10.1.1.9:2001 with socket mark 0xff00abcd (the mask keeps only the class: "
         "zone, fp drop)", V4, "udp", "10.1.1.9", 2001, True, 0xFF00ABCD)
    send("mark: udp 10.1.2.7:22 (host: fp drop)", V4, "udp", "10.1.2.7", 22, True)
    send("mark: udp 10.1.2.7:2005 (no host element; zone level & 0x00ff0000: fp drop, cp flow/m2)",
         V4, "udp", "10.1.2.7", 2005, True)
    send("mark: tcp 10.1.2.7:443 (no host element; zone level & 0x00ff0000: accept, cp flow/m1)",
         V4, "tcp", "10.1.2.7", 443, False)
    send("mark: udp 10.1.2.7:53 (host: goto dec, flow/m3)", V4, "udp", "10.1.2.7", 53, False)
    send("mark: icmp echo 10.1.0.5 (zone: fi4 drop)", V4, "icmp", "10.1.0.5", 0, True)
    send("mark: icmpv6 echo 2001:db8:1::5 (zone: fi6 accept, ci6 flow/m1)", V6, "icmp",
         "2001:db8:1::5", 0, False)
    send("mark: udp [2001:db8:1::5]:2010 (zone: fp drop, whichever family)", V6, "udp",
         "2001:db8:1::5", 2010, True)
    send("mark: udp 10.5.0.1:2005 (no class: no element, on)", V4, "udp", "10.5.0.1", 2005, False)
    send("mark: udp 10.5.0.1:2005 with socket mark 0x00010000 (classify clears it: on)", V4, "udp",
         "10.5.0.1", 2005, False, 0x00010000)


if __name__ == "__main__":
    markmaps() if sys.argv[1:] == ["mark"] else flowmaps()
