#!/bin/bash
# Reads a guest's results (vm/guest.sh's WWVM lines) and prints one summary: the kernel, what
# `wardwall doctor` found missing or warned about, and each suite's counts.
# Usage: vm/summary.sh RESULTS.LOG RELEASE ACCEL SECONDS
# Exit 0: the guest finished and no suite failed; 1: a suite failed; 2: the guest did not finish.
set -u
log=$1 rel=$2 accel=$3 secs=$4
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
"$py" - "$log" "$rel" "$accel" "$secs" <<'PY'
import json, re, sys
log, rel, accel, secs = sys.argv[1:]
try:
    lines = open(log, errors="replace").read().splitlines()
except OSError:
    lines = []
doctor, suites, done, cur, buf, fatal, iface = [], [], False, None, [], None, None
applies = []
kernel = rel
for ln in lines:
    m = re.match(r"WWVM (\S+) ?(.*)", ln)
    if not m:
        if cur is not None:
            buf.append(ln)
        continue
    what, rest = m.groups()
    if what == "kernel":
        kernel = rest
    elif what in ("doctor-begin", "suite-begin"):
        cur, buf = rest or "doctor", []
    elif what == "apply-begin":
        cur, buf = "apply", []
    elif what == "apply-end":
        name, rc = (rest.split() + ["?", "?"])[:2]
        applies.append((name, rc, [l for l in buf if l.strip()]))
        cur = None
    elif what == "doctor-iface-begin":
        cur, buf = "iface", []
    elif what == "doctor-iface-end":
        iface = [l for l in buf if re.match(r"(warning|missing)\s", l)]
        cur = None
    elif what == "doctor-end":
        try:
            doctor = json.loads("\n".join(l for l in buf if not l.startswith("wardwall")))
        except ValueError:
            doctor = [{"check": "doctor", "status": "unreadable", "detail": " ".join(buf)[:300]}]
        cur = None
    elif what == "suite-end":
        name, rc, t = (rest.split() + ["?", "?", "?"])[:3]
        p = f = s = 0
        for l in buf:
            mm = re.match(r"# suite (\S+): (\d+) passed, (\d+) failed, (\d+) skipped", l)
            if mm:
                p += int(mm.group(2)); f += int(mm.group(3)); s += int(mm.group(4))
        failed = [l for l in buf if re.match(r"not ok", l)]
        suites.append((name, p, f, s, rc, t, failed))
        cur = None
    elif what == "done":
        done = True
    elif what == "fatal":
        fatal = rest
print(f"kernel {kernel} ({accel}, {secs} s in all)")
if fatal:
    print(f"  guest failed: {fatal}")
for c in doctor:
    if c.get("status") != "ok":
        print(f"  doctor {c.get('status')}: {c.get('check')}: {c.get('detail')}")
if doctor and all(c.get("status") == "ok" for c in doctor):
    print(f"  doctor: all {len(doctor)} checks ok")
if iface is not None:
    print("  doctor --interface (a veth): " + ("every check ok" if not iface else ""))
    for l in iface:
        print("    " + " ".join(l.split()))
for name, rc, lines in applies:
    print(f"  apply ({name}): exit {rc}")
    for l in lines[-6:]:
        print("    " + l[:200])
bad = 0
for name, p, f, s, rc, t, failed in suites:
    print(f"  suite {name}: {p} passed, {f} failed, {s} skipped ({t} s)")
    for l in failed[:20]:
        print(f"    {l}")
    bad += f > 0 or rc != "0"
if not done:
    print("  the guest did not finish (see console.log)")
    sys.exit(2)
sys.exit(1 if bad else 0)
PY
