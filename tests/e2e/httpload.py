#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Hostile and ordinary HTTP clients of `wardwall serve`, for tests/e2e/serve-load.sh.

Every mode scrapes GET /metrics meanwhile (one scrape at a time, each with its own deadline) and
prints one line per check, "PASS what" or "FAIL what :: detail", then a JSON summary line
starting with "#". Everything is bounded in count and time.

  httpload.py slowloris HOST PORT SOCKETS INTERVAL SECONDS
      SOCKETS connections send a request one byte every INTERVAL s, opening a new one when
      serve closes one, for SECONDS.
  httpload.py noread HOST PORT CLIENTS SECONDS [nocheck]
      CLIENTS connections (receive buffer 1 KiB) ask for /metrics and never read, for SECONDS;
      then each reads what it can: serve must have cut the body short (send timeout; not
      checked with nocheck).
  httpload.py scrape HOST PORT SECONDS STOPFILE
      scrapes until STOPFILE exists (at most SECONDS), checking each: 200, wardwall_drift 0,
      and the flows present those of the generation it names (flows-<gen> files in the
      directory of STOPFILE: one flow id a line).
"""
import json
import os
import socket
import sys
import threading
import time

SCRAPE_DEADLINE = 3.0


def scrape(host, port, deadline=SCRAPE_DEADLINE):
    """(status, body, seconds) or (None, error, seconds)."""
    t0 = time.monotonic()
    try:
        s = socket.create_connection((host, port), timeout=deadline)
        s.settimeout(max(0.1, deadline - (time.monotonic() - t0)))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            if time.monotonic() - t0 > deadline:
                raise TimeoutError("no whole answer within %.1f s" % deadline)
            b = s.recv(65536)
            if not b:
                break
            data += b
        s.close()
    except OSError as e:
        return None, "%s: %s" % (type(e).__name__, e), time.monotonic() - t0
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, "bad status line %r" % lines[0][:80], time.monotonic() - t0
    for l in lines[1:]:
        k, _, v = l.partition(":")
        if k.lower() == "content-length" and int(v) != len(body):
            return None, "body of %d bytes, Content-Length %s" % (len(body), v.strip()), \
                time.monotonic() - t0
    return status, body.decode("utf-8", "replace"), time.monotonic() - t0


class Scraper(threading.Thread):
    """Scrapes every `every` s until stopped; remembers failures and the worst latency."""

    def __init__(self, host, port, every=0.3):
        super().__init__(daemon=True)
        self.host, self.port, self.every = host, port, every
        self.stop = threading.Event()
        self.n = 0
        self.bad = []
        self.worst = 0.0

    def run(self):
        while not self.stop.is_set():
            st, body, dt = scrape(self.host, self.port)
            self.n += 1
            self.worst = max(self.worst, dt)
            if st != 200:
                self.bad.append("%s %s" % (st, body[:120] if isinstance(body, str) else body))
            self.stop.wait(self.every)


def report(ok, what, detail=""):
    print(("PASS %s" % what) if ok else ("FAIL %s :: %s" % (what, detail)), flush=True)


def slowloris(host, port, nsock, interval, seconds):
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 4000
    socks = {}  # socket -> bytes sent
    opened = closed = 0
    sc = Scraper(host, port)
    end = time.monotonic() + seconds
    sc.start()
    next_byte = 0.0
    while time.monotonic() < end:
        # One new socket a turn (20 a second): a burst of more than the cap at once would
        # have serve shed its own newest connections, a scrape's among them.
        if len(socks) < nsock:
            try:
                s = socket.create_connection((host, port), timeout=2)
                s.setblocking(False)
                socks[s] = 0
                opened += 1
            except OSError:
                pass
        if time.monotonic() >= next_byte:
            next_byte = time.monotonic() + interval
            for s in list(socks):
                try:
                    s.send(req[socks[s] : socks[s] + 1])
                    socks[s] += 1
                    # A closed connection shows as EOF or a reset on read.
                    if s.recv(1, socket.MSG_PEEK) == b"":
                        raise ConnectionResetError
                except BlockingIOError:
                    pass
                except OSError:
                    s.close()
                    del socks[s]
                    closed += 1
        time.sleep(0.05)
    sc.stop.set()
    sc.join()
    for s in socks:
        s.close()
    report(sc.n > 0 and not sc.bad,
           "%d scrapes while %d sockets sent a byte every %g s: all 200 within %g s (worst %.2f s)"
           % (sc.n, nsock, interval, SCRAPE_DEADLINE, sc.worst),
           "; ".join(sc.bad[:5]))
    print("#", json.dumps({"scrapes": sc.n, "failed": len(sc.bad), "worst_s": round(sc.worst, 3),
                           "slow_opened": opened, "slow_closed_by_serve": closed}))
    return closed


def noread(host, port, nclients, seconds, check_cut):
    socks = []
    for _ in range(nclients):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
        s.settimeout(2)
        s.connect((host, port))
        s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        socks.append(s)
    sc = Scraper(host, port)
    sc.start()
    time.sleep(seconds)
    sc.stop.set()
    sc.join()
    report(sc.n > 0 and not sc.bad,
           "%d scrapes while %d clients did not read their answer: all 200 within %g s (worst %.2f s)"
           % (sc.n, nclients, SCRAPE_DEADLINE, sc.worst), "; ".join(sc.bad[:5]))
    print("#", json.dumps({"scrapes": sc.n, "failed": len(sc.bad), "worst_s": round(sc.worst, 3)}))
    if not check_cut:
        for s in socks:
            s.close()
        return
    # Each non-reader now reads: serve must have given up on it (EOF or reset before the end).
    cut = 0
    sizes = []
    for s in socks:
        data, length = b"", None
        try:
            s.settimeout(2)
            while True:
                b = s.recv(65536)
                if not b:
                    break
                data += b
                if length is None and b"\r\n\r\n" in data:
                    for l in data.split(b"\r\n\r\n")[0].split(b"\r\n"):
                        if l.lower().startswith(b"content-length:"):
                            length = int(l.split(b":")[1])
        except ConnectionResetError:
            pass
        except OSError:
            length = -1  # still open: serve kept it
        body = len(data.partition(b"\r\n\r\n")[2])
        sizes.append(body)
        if length is not None and length > 0 and body < length:
            cut += 1
        s.close()
    report(cut == nclients, "serve closed all %d non-readers before their body's end (send timeout)"
           % nclients, "cut short: %d; body bytes read: %s" % (cut, sizes))


def flows_of(body):
    out = set()
    for l in body.splitlines():
        if l.startswith("wardwall_flow_packets_total{") and 'tier="nftables"' in l:
            out.add(l.split('flow="', 1)[1].split('"', 1)[0])
    return out


def value(body, series):
    for l in body.splitlines():
        if l.startswith(series + " "):
            return l.split()[-1]
    return None


def during(host, port, seconds, stopfile):
    d = os.path.dirname(stopfile)
    end = time.monotonic() + seconds
    n, bad, gens = 0, [], {}
    lock = threading.Lock()

    def worker():
        nonlocal n
        while time.monotonic() < end and not os.path.exists(stopfile):
            st, body, _ = scrape(host, port, 10.0)
            why = None
            if st != 200:
                why = "status %s: %s" % (st, body[:160] if isinstance(body, str) else body)
            else:
                g, drift = value(body, "wardwall_generation"), value(body, "wardwall_drift")
                try:
                    want = set(open(os.path.join(d, "flows-%s" % g)).read().split())
                except OSError:
                    want = None
                got = flows_of(body)
                if drift != "0":
                    why = "generation %s: wardwall_drift %s" % (g, drift)
                elif want is not None and got != want:
                    why = "generation %s: flows %s, its policy has %s" % (g, sorted(got), sorted(want))
                with lock:
                    gens[g] = gens.get(g, 0) + 1
            with lock:
                n += 1
                if why:
                    bad.append(why)

    ts = [threading.Thread(target=worker) for _ in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    report(n > 0 and not bad, "%d scrapes during applies: every one 200, no drift, the flows of the generation it names (%d generations seen)"
           % (n, len(gens)), "%d bad: %s" % (len(bad), "; ".join(bad[:5])))
    print("#", json.dumps({"scrapes": n, "bad": len(bad), "generations": len(gens)}))


def main():
    mode, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    a = sys.argv[4:]
    if mode == "slowloris":
        slowloris(host, port, int(a[0]), float(a[1]), float(a[2]))
    elif mode == "noread":
        noread(host, port, int(a[0]), float(a[1]), len(a) < 3 or a[2] != "nocheck")
    elif mode == "scrape":
        during(host, port, float(a[0]), a[1])
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
