#!/usr/bin/env python3
"""Traffic for the end-to-end tests (python3, standard library only).

probe.py serve --ports tcp:443,udp:123,... [--name NAME] [--ready FILE]
    Listens on every address, IPv4 and IPv6, on each TCP and UDP port. TCP: accepts, sends one
    line ("wardwall-probe NAME tcp/PORT") and closes. UDP: echoes each datagram back from the
    address it was sent to. Creates FILE once every socket listens. Runs until killed.

probe.py connect tcp|udp SRC DST PORT [TIMEOUT [SPORT]]
    One new connection from SRC (bound to SPORT, default an ephemeral port) to DST: for udp
    exactly one datagram.
    Prints "reply", "timeout", "refused" (a TCP reset, or ICMP port unreachable), "unreachable"
    (ICMP host unreachable or administratively prohibited, ICMPv6 the same) or "error: ..." and
    exits 0 if a reply came back, 1 if not, 2 on a usage error.
"""
import errno
import os
import selectors
import socket
import struct
import sys
import time

IP_PKTINFO = getattr(socket, "IP_PKTINFO", 8)


def parse_ports(spec):
    ports = []
    for item in spec.split(","):
        if not item:
            continue
        proto, _, port = item.partition(":")
        if proto not in ("tcp", "udp") or not port.isdigit():
            raise ValueError("bad port %r (want tcp:N or udp:N)" % item)
        ports.append((proto, int(port)))
    return ports


def listen(ports):
    """The listening sockets, each with what to do when it is readable."""
    socks = []
    for proto, port in ports:
        if proto == "tcp":
            s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.bind(("::", port))
            s.listen(128)
            s.setblocking(False)
            socks.append((s, ("tcp", port)))
            continue
        # UDP: one socket per family, each told the destination address of every datagram so
        # the echo leaves from that address (a zone namespace has several).
        s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s4.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s4.setsockopt(socket.IPPROTO_IP, IP_PKTINFO, 1)
        s4.bind(("0.0.0.0", port))
        s6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s6.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVPKTINFO, 1)
        s6.bind(("::", port))
        for s in (s4, s6):
            s.setblocking(False)
            socks.append((s, ("udp", port)))
    return socks


def echo(s):
    try:
        data, anc, _flags, peer = s.recvmsg(65535, socket.CMSG_SPACE(64))
    except BlockingIOError:
        return
    reply = []
    for level, kind, body in anc:
        if level == socket.IPPROTO_IP and kind == IP_PKTINFO:
            _ifindex, _spec, dst = struct.unpack("=i4s4s", body[:12])
            reply.append((socket.IPPROTO_IP, IP_PKTINFO, struct.pack("=i4s4s", 0, dst, b"\0" * 4)))
        elif level == socket.IPPROTO_IPV6 and kind == socket.IPV6_PKTINFO:
            dst, _ifindex = struct.unpack("=16si", body[:20])
            reply.append((socket.IPPROTO_IPV6, socket.IPV6_PKTINFO, struct.pack("=16si", dst, 0)))
    try:
        s.sendmsg([data], reply, 0, peer)
    except OSError as e:
        print("probe serve: echo to %s: %s" % (peer[0], e), file=sys.stderr)


def serve(argv):
    name, ready, ports = "probe", None, []
    i = 0
    while i < len(argv):
        if argv[i] in ("--ports", "--name", "--ready") and i + 1 < len(argv):
            if argv[i] == "--ports":
                ports = parse_ports(argv[i + 1])
            elif argv[i] == "--name":
                name = argv[i + 1]
            else:
                ready = argv[i + 1]
            i += 2
        else:
            print("probe serve: unknown argument %r" % argv[i], file=sys.stderr)
            return 2
    sel = selectors.DefaultSelector()
    for s, what in listen(ports):
        sel.register(s, selectors.EVENT_READ, what)
    if ready:
        with open(ready + ".tmp", "w") as f:
            f.write("%d\n" % os.getpid())
        os.rename(ready + ".tmp", ready)
    while True:
        for key, _ in sel.select():
            proto, port = key.data
            if proto == "udp":
                echo(key.fileobj)
                continue
            try:
                c, _ = key.fileobj.accept()
            except BlockingIOError:
                continue
            try:
                c.settimeout(1)
                c.sendall(("wardwall-probe %s tcp/%d\n" % (name, port)).encode())
            except OSError:
                pass
            finally:
                c.close()


def connect(argv):
    if len(argv) not in (4, 5, 6) or argv[0] not in ("tcp", "udp"):
        print("usage: probe.py connect tcp|udp SRC DST PORT [TIMEOUT [SPORT]]", file=sys.stderr)
        return 2
    proto, src, dst, port = argv[0], argv[1], argv[2], int(argv[3])
    timeout = float(argv[4]) if len(argv) >= 5 else 1.0
    sport = int(argv[5]) if len(argv) == 6 else 0
    fam = socket.AF_INET6 if ":" in dst else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    deadline = time.monotonic() + timeout
    s = socket.socket(fam, kind)
    try:
        if sport:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((src, sport))
        s.settimeout(timeout)
        s.connect((dst, port))
        if proto == "udp":
            nonce = os.urandom(8).hex().encode()
            s.send(b"wardwall-probe " + nonce)
            while True:
                s.settimeout(max(deadline - time.monotonic(), 0.001))
                if s.recv(65535).endswith(nonce):
                    break
        else:
            s.settimeout(max(deadline - time.monotonic(), 0.001))
            if not s.recv(256).startswith(b"wardwall-probe"):
                print("error: unexpected answer")
                return 1
    except socket.timeout:
        print("timeout")
        return 1
    except ConnectionRefusedError:
        print("refused")
        return 1
    except OSError as e:
        # ICMP administratively prohibited is EHOSTUNREACH; ICMPv6's is EACCES.
        if e.errno in (errno.EHOSTUNREACH, errno.EACCES, errno.ENETUNREACH):
            print("unreachable")
        else:
            print("error: %s" % e)
        return 1
    finally:
        s.close()
    print("reply")
    return 0


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("serve", "connect"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    if sys.argv[1] == "serve":
        return serve(sys.argv[2:])
    return connect(sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
