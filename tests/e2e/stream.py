#!/usr/bin/env python3
"""Long-running traffic for the end-to-end tests (python3, standard library only).

stream.py udp-recv ADDR[,ADDR...] PORT READY
    Receives numbered datagrams on each ADDR (IPv4 or IPv6), PORT, with a large receive buffer
    (SO_RCVBUFFORCE), until SIGTERM; then prints one JSON object: per stream (the sender's tag),
    the datagrams received, the distinct sequence numbers, the highest one, the gaps (first few),
    and the kernel's count of datagrams this socket dropped for want of buffer (SO_RXQ_OVFL).
    Creates READY once every socket is bound.

stream.py udp-send SRC DST PORT RATE SECONDS [TAG [STOP]]
    Sends RATE numbered datagrams a second (in bursts every millisecond) from SRC to DST:PORT
    for SECONDS, or until the file STOP exists, then prints one JSON object: datagrams sent,
    how often the sending device was full (ENOBUFS: the datagram is sent again after 100 us),
    other send errors (by errno name), the achieved rate, and when it started and ended (unix
    time). Each datagram: TAG (8 bytes), sequence number (8 bytes, from 0), padding to 64 bytes.
    IP_RECVERR is on, so that a datagram the sending device drops is an error, not a silent loss
    (a veth drops what its peer's XDP ring cannot take).

stream.py tcp-echo ADDR PORT READY
    Accepts TCP connections on ADDR:PORT and echoes every byte back, until killed.

stream.py tcp-hold SRC DST PORT
    One long-lived TCP connection from SRC to DST:PORT, driven by commands on standard input,
    one a line, each answered by one line on standard output:
        send WORD TIMEOUT   sends WORD and a newline; answers "echo WORD" when the echo of WORD
                            came back within TIMEOUT seconds, else "timeout"
        wait WORD TIMEOUT   sends nothing; waits for the echo of WORD as above (data sent earlier
                            and held back by the network arrives once TCP retransmits it)
    First answers "connected" or "error: ...".
"""
import errno
import json
import os
import selectors
import signal
import socket
import struct
import sys
import time

SO_RXQ_OVFL = getattr(socket, "SO_RXQ_OVFL", 40)
SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
HDR = struct.Struct("!8sQ")
PAYLOAD = 64


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_recv(argv):
    addrs, port, ready = argv[0].split(","), int(argv[1]), argv[2]
    sel = selectors.DefaultSelector()
    socks = []
    for a in addrs:
        s = socket.socket(family(a), socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 16 << 20)
        s.setsockopt(socket.SOL_SOCKET, SO_RXQ_OVFL, 1)
        s.bind((a, port))
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
        socks.append(s)
    streams = {}  # tag -> [received, set of seqs, max]
    overflow = {}  # socket -> kernel drop count
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    while not stop:
        for key, _ in sel.select(0.2):
            s = key.fileobj
            while True:
                try:
                    data, anc, _flags, _peer = s.recvmsg(2048, socket.CMSG_SPACE(4))
                except (BlockingIOError, InterruptedError):
                    break
                for level, kind, body in anc:
                    if level == socket.SOL_SOCKET and kind == SO_RXQ_OVFL:
                        overflow[s.fileno()] = struct.unpack("=I", body[:4])[0]
                if len(data) < HDR.size:
                    continue
                tag, seq = HDR.unpack_from(data)
                st = streams.setdefault(tag.rstrip(b"\0").decode(), [0, set(), -1])
                st[0] += 1
                st[1].add(seq)
                st[2] = max(st[2], seq)
    out = {"socket_overflow_drops": sum(overflow.values()), "streams": {}}
    for tag, (n, seqs, top) in streams.items():
        gaps, prev = [], -1
        for q in sorted(seqs):
            if q != prev + 1 and len(gaps) < 10:
                gaps.append([prev + 1, q - 1])
            prev = q
        out["streams"][tag] = {"received": n, "distinct": len(seqs), "max_seq": top,
                               "gaps": gaps}
    print(json.dumps(out))
    return 0


def udp_send(argv):
    src, dst, port, rate, seconds = argv[0], argv[1], int(argv[2]), int(argv[3]), float(argv[4])
    tag = (argv[5] if len(argv) > 5 else "s").encode()[:8]
    stop = argv[6] if len(argv) > 6 else None
    s = socket.socket(family(dst), socket.SOCK_DGRAM)
    if family(dst) == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, getattr(socket, "IPV6_RECVERR", 25), 1)
    else:
        s.setsockopt(socket.IPPROTO_IP, getattr(socket, "IP_RECVERR", 11), 1)
    s.bind((src, 0))
    s.connect((dst, port))
    pad = b"\0" * (PAYLOAD - HDR.size)
    tick = 0.001
    per_tick = max(1, round(rate * tick))
    seq, errors, full = 0, {}, 0
    start, wall = time.monotonic(), time.time()
    total = int(rate * seconds)
    nxt, ticks = start, 0
    while seq < total:
        ticks += 1
        if stop and ticks % 20 == 0 and os.path.exists(stop):
            break
        for _ in range(min(per_tick, total - seq)):
            while True:
                try:
                    s.send(HDR.pack(tag, seq) + pad)
                except OSError as e:
                    if e.errno == errno.ENOBUFS and full < 1000000:
                        full += 1
                        time.sleep(0.0001)
                        continue
                    name = errno.errorcode.get(e.errno, str(e.errno))
                    errors[name] = errors.get(name, 0) + 1
                break
            seq += 1
        nxt += tick
        delay = nxt - time.monotonic()
        if delay > 0:
            time.sleep(delay)
    took = time.monotonic() - start
    print(json.dumps({"sent": seq, "device_full": full, "errors": errors, "seconds": round(took, 3),
                      "rate": round(seq / took), "start": wall, "end": wall + took}))
    return 0


def tcp_echo(argv):
    addr, port, ready = argv[0], int(argv[1]), argv[2]
    ls = socket.socket(family(addr), socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(16)
    sel = selectors.DefaultSelector()
    sel.register(ls, selectors.EVENT_READ)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is ls:
                c, _ = ls.accept()
                sel.register(c, selectors.EVENT_READ)
                continue
            try:
                data = s.recv(65536)
            except OSError:
                data = b""
            if not data:
                sel.unregister(s)
                s.close()
                continue
            s.sendall(data)


def tcp_hold(argv):
    src, dst, port = argv[0], argv[1], int(argv[2])
    s = socket.socket(family(dst), socket.SOCK_STREAM)
    try:
        s.bind((src, 0))
        s.settimeout(2)
        s.connect((dst, port))
    except OSError as e:
        print("error: %s" % e, flush=True)
        return 1
    print("connected", flush=True)
    buf = b""
    for line in sys.stdin:
        parts = line.split()
        if len(parts) != 3 or parts[0] not in ("send", "wait"):
            print("error: bad command %r" % line.strip(), flush=True)
            continue
        word, deadline = parts[1].encode() + b"\n", time.monotonic() + float(parts[2])
        try:
            if parts[0] == "send":
                s.sendall(word)
            while word not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise socket.timeout()
                s.settimeout(left)
                data = s.recv(4096)
                if not data:
                    print("error: closed", flush=True)
                    return 1
                buf += data
            buf = buf[buf.index(word) + len(word):]
            print("echo %s" % parts[1], flush=True)
        except socket.timeout:
            print("timeout", flush=True)
        except OSError as e:
            print("error: %s" % e, flush=True)
    return 0


def main():
    cmds = {"udp-recv": (udp_recv, 3), "udp-send": (udp_send, 5), "tcp-echo": (tcp_echo, 3),
            "tcp-hold": (tcp_hold, 3)}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds or len(sys.argv) - 2 < cmds[sys.argv[1]][1]:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    return cmds[sys.argv[1]][0](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
