#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A burst of denied packets at line rate while `wardwall serve` records and detects, and a real
# lateral-movement attempt in the middle of it: what the kernel counted, logged and did not log,
# what the detectors saw and raised, and what serve's memory did.
# Usage: tests/bench/burst.sh BUILD_DIR   (prints a Markdown report; BURST_SECONDS=10)
#
# The XDP tier (`wardwall apply`, native XDP on veth lan0) judges frames that xdpgen (xdpgen.c)
# writes at line rate into its peer va with BPF_PROG_TEST_RUN live frames, one thread per CPU:
# UDP from the guest zone to the EHR server, denied by default, each frame from a new source
# address (the low 16 bits vary: 65,536 sources, more than the detectors' source table holds).
# During the burst, a TCP SYN from biomed to the EHR server's SMB port is written into va every
# half second through an AF_PACKET socket (a lateral-movement attempt: one alert expected).
#
# Needs root, clang, bpftool and BPF_F_TEST_XDP_LIVE_FRAMES (Linux 5.18+). Everything happens in
# a namespace this script creates (deleted on exit) with a private bpffs and state directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
WARDWALL=$build/wardwall
SECS=${BURST_SECONDS:-10}
CPUS=$(nproc)
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
[ "$(id -u)" = 0 ] || { echo "burst: needs root" >&2; exit 2; }

out=$build/bench
mkdir -p "$out"
{
	clang -g -O2 -target bpf -D__bpf__ -Wall -Werror -I"/usr/include/$(uname -m)-linux-gnu" \
		-c "$here/xdpgen.bpf.c" -o "$out/xdpgen.bpf.o" &&
		bpftool gen skeleton "$out/xdpgen.bpf.o" name xdpgen_bpf >"$out/xdpgen.skel.h" &&
		cc -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
			-I"$out" "$here/xdpgen.c" -o "$out/xdpgen" -lbpf -lpthread
} >"$out/burst-build.log" 2>&1 || { cat "$out/burst-build.log" >&2; exit 1; }
GEN=$out/xdpgen

R=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-burst
tmp=$(mktemp -d /tmp/burst.XXXXXX)
BPFFS=$tmp/bpf
SRVPID=''
mkdir -p "$BPFFS"
cleanup() {
	if [ -n "$SRVPID" ]; then
		kill "$SRVPID" 2>/dev/null
		sleep 0.5
		kill -9 "$SRVPID" 2>/dev/null
	fi
	ip netns del "$R" 2>/dev/null
	if mountpoint -q "$BPFFS"; then
		umount "$BPFFS" || umount -l "$BPFFS"
	fi
	mountpoint -q "$BPFFS" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mount -t bpf bpf "$BPFFS" || exit 1
export WARDWALL_BPFFS=$BPFFS WARDWALL_STATE_DIR=$tmp/state
unset WARDWALL_NOW
inR() { ip netns exec "$R" "$@"; }

ip netns add "$R" &&
	ip -n "$R" link add va numtxqueues "$CPUS" numrxqueues "$CPUS" type veth \
		peer name lan0 numtxqueues "$CPUS" numrxqueues "$CPUS" &&
	ip -n "$R" link set lo up && ip -n "$R" link set va up && ip -n "$R" link set lan0 up || exit 1
MAC_LAN0=$(inR cat /sys/class/net/lan0/address)
MAC_VA=$(inR cat /sys/class/net/va/address)

cat >"$tmp/policy.json" <<'EOF'
{
  "wardwall": 1, "name": "burst",
  "zones": {
    "guest": { "networks": "172.16.0.0/16", "untrusted": true },
    "ehr": { "criticality": "high", "networks": "10.20.2.0/24", "hosts": { "his-app": "10.20.2.10" } },
    "biomed": { "criticality": "high", "networks": "10.20.4.0/24" }
  },
  "flows": [
    { "id": "biomed-to-ehr-hl7", "from": "biomed", "to": "ehr/his-app", "services": "hl7-mllp", "action": "allow" }
  ],
  "enforcement": { "mode": "gateway", "interfaces": ["lan0"], "xdp": "native" }
}
EOF
inR "$WARDWALL" apply "$tmp/policy.json" >"$tmp/apply.out" 2>&1 || { cat "$tmp/apply.out" >&2; exit 1; }
if [ -n "${BURST_DEBUG:-}" ]; then find "$BPFFS" -maxdepth 3 >&2; fi
PORT=$((20000 + RANDOM % 20000))
# Started directly, not through inR(): $! must be serve itself for cleanup to stop it.
ip netns exec "$R" "$WARDWALL" serve --listen "127.0.0.1:$PORT" </dev/null >/dev/null 2>"$tmp/serve.err" &
SRVPID=$!
for ((i = 0; i < 100; i++)); do
	grep -q 'detectors on' "$tmp/serve.err" 2>/dev/null && break
	sleep 0.1
done
grep -q 'detectors on' "$tmp/serve.err" || { cat "$tmp/serve.err" >&2; exit 1; }
sleep 2.5 # the reader's first tick takes the baselines

# The frames: guest -> ehr/his-app udp/53 (64 bytes), biomed -> ehr/his-app tcp/445 SYN.
frames() {
	"$PY" - "$MAC_LAN0" "$MAC_VA" <<'EOF'
import struct, sys, socket
dmac, smac = (bytes.fromhex(m.replace(":", "")) for m in sys.argv[1:3])
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def ip4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0, 64, proto, 0,
                    socket.inet_aton(src), socket.inet_aton(dst))
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload
udp = struct.pack("!HHHH", 40000, 53, 30, 0) + b"\0" * 22
f = dmac + smac + b"\x08\x00" + ip4("172.16.0.1", "10.20.2.10", 17, udp)
assert len(f) == 64
tcp = struct.pack("!HHIIBBHHH", 41000, 445, 1, 0, 5 << 4, 0x02, 64240, 0, 0)
pseudo = socket.inet_aton("10.20.4.2") + socket.inet_aton("10.20.2.10") + struct.pack("!xBH", 6, len(tcp))
tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
g = dmac + smac + b"\x08\x00" + ip4("10.20.4.2", "10.20.2.10", 6, tcp)
print(f.hex(), g.hex())
EOF
}
read -r FLOOD SYN < <(frames)
ws=$BPFFS/wardwall
metrics() { inR curl -s "http://127.0.0.1:$PORT/metrics"; }
rss() { awk '/^VmRSS/ {print $2}' "/proc/$SRVPID/status"; }
M0=$(metrics)
rss0=$(rss)
stats0=$(inR "$WARDWALL" stats --json 2>/dev/null)

# The lateral attempts: a SYN every half second from 1 s into the burst, for SECS - 2 seconds.
inR "$PY" - "$SYN" "$SECS" >"$tmp/syn.out" 2>&1 <<'EOF' &
import socket, sys, time
frame, secs = bytes.fromhex(sys.argv[1]), int(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind(("va", 0))
time.sleep(1)
n = 0
end = time.time() + max(1, secs - 2)
while time.time() < end:
    s.send(frame)
    n += 1
    time.sleep(0.5)
print(n)
EOF
SYNPID=$!
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
inR "$GEN" run va "$FLOOD" "$SECS" --vary --warmup 0 "pkts=map:$ws/ww_stats:0" \
	"rate_limited=map:$ws/ww_stats:12" "logged=map:$ws/ww_stats:11" \
	>"$tmp/gen.json" 2>"$tmp/gen.err" || { cat "$tmp/gen.err" >&2; exit 1; }
wait "$SYNPID"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
sleep 8 # the alert's hold (5 s), a reader tick, the not-logged counts
M1=$(metrics)
rss1=$(rss)
printf '%s\n' "$M0" >"$tmp/m0"
printf '%s\n' "$M1" >"$tmp/m1"
"$PY" - "$tmp/gen.json" "$SECS" "$(cat "$tmp/syn.out")" "$rss0" "$rss1" "$load_before" "$load_after" \
	"$tmp/state/events/alerts.jsonl" "$CPUS" "$tmp/m0" "$tmp/m1" <<'EOF'
import json, re, sys
gen, secs, syns, rss0, rss1, lb, la, alerts_path, cpus = sys.argv[1:10]
g = json.load(open(gen))
def series(text):
    d = {}
    for l in text.splitlines():
        m = re.match(r'^(wardwall_[a-z_]+)(\{[^}]*\})? (\d+)$', l)
        if m:
            d[m.group(1) + (m.group(2) or "")] = int(m.group(3))
    return d
m0, m1 = series(open(sys.argv[10]).read()), series(open(sys.argv[11]).read())
def delta(k):
    return m1.get(k, 0) - m0.get(k, 0)
try:
    alerts = [json.loads(l) for l in open(alerts_path)]
except FileNotFoundError:
    alerts = []
lat = [a for a in alerts if a["detector"] == "lateral" and a["src"] == "10.20.4.2"]
rate = g.get("pkts", 0)
print("## Burst of denied packets (tests/bench/burst.sh)\n")
print("| measure | value |\n|---|---|")
print("| burst | %s s measured (%.2f), %d generator threads, 65,536 source addresses |" % (secs, g["seconds"], int(cpus)))
print("| packets judged by the XDP program | %s/s (ww_stats packets) |" % format(int(rate), ","))
for k in ("logged", "rate_limited"):
    v = g.get(k)
    if v is not None:
        print("| events %s by the kernel | %s/s |" % ("sent" if k == "logged" else "not sent (rate limit)", format(int(v), ",")))
print("| not logged, as serve counted it | %s |" % format(delta('wardwall_events_not_logged_total{tier="xdp",reason="rate_limited"}'), ","))
print("| ring buffer full | %s |" % format(delta('wardwall_events_not_logged_total{tier="xdp",reason="ring_full"}'), ","))
print("| records the detectors read | %s |" % format(delta("wardwall_detect_events_total"), ","))
print("| sources evicted (table full) | %s |" % format(delta('wardwall_detect_evicted_total{table="sources"}'), ","))
print("| alerts raised | %s |" % ", ".join("%s %s" % (a["detector"], a["src"]) for a in alerts) or "none")
print("| lateral SYNs sent during the burst | %s |" % syns)
print("| lateral alert for 10.20.4.2 | %s |" % ("raised: %d events, %s" % (lat[0]["count"], ",".join(lat[0]["services"])) if lat else "**not raised**"))
print("| serve RSS before, after | %s KiB, %s KiB |" % (rss0, rss1))
print("| load average before, after | %s; %s |" % (lb, la))
EOF
