#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The nftables tier's packet rate at policies of several sizes (issue 12: "the nftables tier stays
# flat from 10 to 100k flows"). Usage: tests/bench/nft-rate.sh BUILD_DIR
# Prints a Markdown report and saves it as BUILD_DIR/bench-nft-rate.md.
#
# Three namespaces per size, made here with unique names (wwr<random>-SIZE-s|g|r) and deleted on
# every way out, all sizes up at once so that each run measures the sizes in turn:
#   sender  (tx0) --veth-- (lan0) gateway (wan0) --veth-- (rx0) receiver
# The gateway runs `wardwall apply` of a genpolicy.py policy (XDP off, WARDWALL_BPFFS and the
# state directory private), forwards, and has static routes and neighbours (no ARP while
# measuring). The sender's frames come from pktgen_afp.c: 64-byte UDP frames written to an
# AF_PACKET socket (sendmmsg, qdisc bypassed) as fast as the kernel takes them, for a warm-up and
# then RATE_SECONDS (at most RATE_MAX frames). Nothing here needs BPF. The receiver has no address:
# it counts what the gateway forwarded and drops it.
#
# Traffic (IPv4), from workstations-01 (a plain address of the zone, not a host group) to
# ehr-01/his-app; genpolicy.py puts both in every policy, and flow ws-to-ehr between them gets one
# more service here, bench-udp (udp/19999), which is what "allowed" uses:
#   denied-default  udp/9: no flow, the zones' default (deny, logged)
#   denied-flow     from guest (172.16.0.1) to his-app udp/53: flow guest-no-clinical (deny)
#   allowed-new     udp/19999 with a new source port and address per frame: each frame a new
#                   conntrack entry, looked up in the flow maps and accepted (the table fills up to
#                   nf_conntrack_max and stays full, evicting unreplied entries as it goes)
#   established     udp/19999 from one source port, after one reply from his-app: conntrack says
#                   established
# Measured: the gateway's lan0 rx_packets over the measured time (frames the gateway took in and
# judged), beside wan0's tx_packets (forwarded) and the frames sent. Each case checks its verdict:
# denied frames are not forwarded, allowed ones are; and `nft list counters` in the gateway must
# have counted the denied frames.
#
# The sender and the gateway share the machine's CPUs (the frame is judged in the sender's
# system call: veth hands it over on the same CPU), so the rate is a lower bound of the tier's
# own; the ratio between sizes is what the goal asks.
#
# Settings (environment):
#   RATE_FLOWS    policy sizes (default "10 1000 10000 100000"; below 20, genpolicy.py's 20-flow
#                 policy cut to its first N flows)
#   RATE_CASES    cases (default "denied-default denied-flow allowed-new established")
#   RATE_SECONDS  measured seconds per run (default 3), after RATE_WARMUP (default 0.5)
#   RATE_MAX      at most this many frames per run (default 50000000)
#   RATE_RUNS     runs per case, the median reported (default 3)
#   RATE_OUT      the report (default BUILD_DIR/bench-nft-rate.md)
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
WW=$build/wardwall
FLOWS=${RATE_FLOWS:-10 1000 10000 100000}
CASES=${RATE_CASES:-denied-default denied-flow allowed-new established}
SECS=${RATE_SECONDS:-3}
WARMUP=${RATE_WARMUP:-0.5}
MAX=${RATE_MAX:-50000000}
RUNS=${RATE_RUNS:-3}
OUT=${RATE_OUT:-$build/bench-nft-rate.md}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
log() { echo "nft-rate: $*" >&2; }

[ "$(id -u)" = 0 ] || {
	log "needs root (it creates network namespaces)"
	exit 2
}
for t in ip nft cc "$PY"; do
	command -v "$t" >/dev/null || {
		log "needs $t"
		exit 2
	}
done

# pktgen_afp: `make bench` builds it; built here too when missing or older than its source.
GEN=$build/bench/pktgen_afp
if [ ! -x "$GEN" ] || [ "$here/pktgen_afp.c" -nt "$GEN" ]; then
	mkdir -p "$build/bench"
	cc -O2 -g -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE "$here/pktgen_afp.c" -o "$GEN" || {
		log "building pktgen_afp failed"
		exit 1
	}
fi

ID=wwr$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
NAMESPACES=()
tmp=$(mktemp -d /tmp/nft-rate.XXXXXX) || exit 1
cleanup() {
	local n
	for n in "${NAMESPACES[@]}"; do ip netns del "$n" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export WARDWALL_BPFFS=$tmp/bpffs
unset WARDWALL_NOW WARDWALL_STATE_DIR

# ---- policies: genpolicy.py, cut to N flows, bench-udp added to ws-to-ehr, lan0 and wan0 ----
for n in $FLOWS; do
	g=$n
	[ "$n" -lt 20 ] && g=20
	[ -e "$tmp/g$g.json" ] || "$PY" "$here/genpolicy.py" --flows "$g" -o "$tmp/g$g.json" || exit 1
	"$PY" -c '
import json, sys
p = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
p["flows"] = p["flows"][:n]
p["name"] = "bench-rate-%d" % n
p["services"]["bench-udp"] = {"description": "nft-rate.sh: allowed udp",
                              "terms": [{"proto": "udp", "ports": [19999]}]}
f = next(f for f in p["flows"] if f.get("id") == "ws-to-ehr")
f["services"] = f["services"] + ["bench-udp"]
p["enforcement"] = {"mode": "gateway", "interfaces": ["lan0", "wan0"], "xdp": "off"}
json.dump(p, open(sys.argv[3], "w"), indent=1)' "$tmp/g$g.json" "$n" "$tmp/p$n.json" || exit 1
done
first=${FLOWS%% *}
# Addresses: a plain workstations-01 address (its first network's third /24: host groups take
# .1.x and .8.x up), his-app's IPv4 address, guest's first address.
read -r WS HIS GUEST < <("$PY" -c '
import ipaddress, json, sys
p = json.load(open(sys.argv[1]))
ws = next(ipaddress.ip_network(a) for a in p["zones"]["workstations-01"]["networks"]
          if ":" not in a)
his = next(a for a in p["zones"]["ehr-01"]["hosts"]["his-app"] if ":" not in a)
guest = next(ipaddress.ip_network(a) for a in p["zones"]["guest"]["networks"] if ":" not in a)
print(ws[2 * 256 + 1], his.split("/")[0], guest[1])' "$tmp/p$first.json") || exit 1

# ---- the namespaces: one sender, gateway and receiver per size, all up at once ----
# Sizes are measured in turn within each run (the order rotating from run to run), so that the
# load of a shared machine, which drifts within minutes, weighs on every size alike.
declare -A MAC_LAN0 MAC_WAN0 APPLY_MS
nsname() { echo "$ID-$1-$2"; } # nsname SIZE s|g|r
topo_up() { # topo_up SIZE
	local s g r d mac_tx0 mac_rx0
	s=$(nsname "$1" s) g=$(nsname "$1" g) r=$(nsname "$1" r)
	for d in "$s" "$g" "$r"; do
		ip netns add "$d" || return 1
		NAMESPACES+=("$d")
	done
	ip -n "$s" link add tx0 type veth peer name lan0 netns "$g" &&
		ip -n "$g" link add wan0 type veth peer name rx0 netns "$r" || return 1
	ip netns exec "$g" sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 \
		net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.lan0.rp_filter=0 >/dev/null || return 1
	ip -n "$s" link set tx0 up && ip -n "$r" link set rx0 up || return 1
	for d in lo lan0 wan0; do ip -n "$g" link set "$d" up || return 1; done
	mac_tx0=$(ip netns exec "$s" cat /sys/class/net/tx0/address)
	mac_rx0=$(ip netns exec "$r" cat /sys/class/net/rx0/address)
	MAC_LAN0[$1]=$(ip netns exec "$g" cat /sys/class/net/lan0/address)
	MAC_WAN0[$1]=$(ip netns exec "$g" cat /sys/class/net/wan0/address)
	ip -n "$g" addr add 192.0.2.1/30 dev lan0 && ip -n "$g" addr add 192.0.2.5/30 dev wan0 &&
		ip -n "$g" route add "$HIS/32" dev wan0 &&
		ip -n "$g" neigh add "$HIS" lladdr "$mac_rx0" dev wan0 nud permanent &&
		ip -n "$g" route add "$WS/32" dev lan0 &&
		ip -n "$g" neigh add "$WS" lladdr "$mac_tx0" dev lan0 nud permanent
}

# gen SIZE s|r SRC:PORT DST:PORT SECONDS MAX [ARGS...]: pktgen_afp sending from the size's sender
# (tx0, to lan0) or receiver (rx0, to wan0), in the gateway's namespace to count its interfaces.
gen() {
	local n=$1 side=$2 dev=tx0 mac=${MAC_LAN0[$1]}
	shift 2
	[ "$side" = r ] && dev=rx0 mac=${MAC_WAN0[$n]}
	ip netns exec "$(nsname "$n" g)" "$GEN" "/run/netns/$(nsname "$n" "$side")" "$dev" "$mac" "$@"
}

# nft_packets SIZE: the sum of every named counter's packets in the size's gateway.
nft_packets() {
	ip netns exec "$(nsname "$1" g)" nft list counters table inet wardwall 2>/dev/null |
		awk '{ for (i = 1; i < NF; i++) if ($i == "packets") s += $(i + 1) } END { print s + 0 }'
}

# case_args CASE: the frame of a case, "SRC:PORT DST:PORT [--vary BITS]"
case_args() {
	case $1 in
	denied-default) echo "$WS:40000 $HIS:9" ;;
	denied-flow) echo "$GUEST:40000 $HIS:53" ;;
	allowed-new) echo "$WS:40000 $HIS:19999 --vary 8" ;;
	established) echo "$WS:40000 $HIS:19999" ;;
	*) return 1 ;;
	esac
}

RES=$tmp/results
: >"$RES"
status=0
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t_start=$SECONDS
sizes=()
for n in $FLOWS; do
	topo_up "$n" || {
		log "cannot build the namespaces"
		exit 1
	}
	log "$n flows: wardwall apply"
	mkdir -p "$tmp/bpffs-$n"
	t0=$(date +%s%N)
	WARDWALL_BPFFS=$tmp/bpffs-$n ip netns exec "$(nsname "$n" g)" "$WW" apply \
		--state-dir "$tmp/state-$n" "$tmp/p$n.json" >"$tmp/apply.out" 2>&1 || {
		log "apply of $n flows failed: $(grep -v warning "$tmp/apply.out" | head -5)"
		status=1
		continue
	}
	APPLY_MS[$n]=$((($(date +%s%N) - t0) / 1000000))
	sizes+=("$n")
done
for c in $CASES; do
	args=$(case_args "$c") || {
		log "unknown case $c"
		exit 2
	}
	read -r src dst vary <<<"$args"
	declare -A before=()
	for n in "${sizes[@]}"; do
		if [ "$c" = established ]; then
			# One frame each way first: the reply makes the connection established.
			gen "$n" s "$src" "$dst" 0 1 --warmup 0 >/dev/null &&
				gen "$n" r "$dst" "$src" 0 1 --warmup 0 >/dev/null || status=1
		fi
		before[$n]=$(nft_packets "$n")
	done
	for ((r = 0; r < RUNS; r++)); do
		for ((k = 0; k < ${#sizes[@]}; k++)); do
			n=${sizes[$(((k + r) % ${#sizes[@]}))]}
			log "$c, $n flows, run $((r + 1))"
			# shellcheck disable=SC2086 # $vary: nothing or "--vary BITS"
			gen "$n" s "$src" "$dst" "$SECS" "$MAX" $vary --warmup "$WARMUP" \
				"rx=/sys/class/net/lan0/statistics/rx_packets" \
				"fwd=/sys/class/net/wan0/statistics/tx_packets" >"$tmp/run.json" 2>"$tmp/run.err" || {
				log "$n flows, $c: $(cat "$tmp/run.err")"
				status=1
				continue
			}
			echo "$n $c $r $(cat "$tmp/run.json")" >>"$RES"
		done
	done
	for n in "${sizes[@]}"; do
		ct=$(ip netns exec "$(nsname "$n" g)" cat /proc/sys/net/netfilter/nf_conntrack_count)
		echo "$n $c counters $(($(nft_packets "$n") - before[$n])) ${ct:-0} ${APPLY_MS[$n]}" >>"$RES"
	done
done
for n in "${NAMESPACES[@]}"; do ip netns del "$n"; done
NAMESPACES=()

# ---- the report ----
"$PY" - "$RES" "$load_start" "$(cut -d' ' -f1-3 /proc/loadavg)" "$((SECONDS - t_start))" \
	"$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)" "$SECS" "$RUNS" \
	"$FLOWS" "$CASES" >"$tmp/report.md" <<'EOF' || status=1
import json, statistics, sys
res, load0, load1, took, rev, secs, runs, flows, cases = sys.argv[1:]
flows, cases = [int(f) for f in flows.split()], cases.split()
runs_of, counted = {}, {}
for line in open(res):
    n, c, r, rest = line.split(" ", 3)
    if r == "counters":
        counted[(int(n), c)] = [int(x) for x in rest.split()]
    else:
        runs_of.setdefault((int(n), c), []).append(json.loads(rest))
bad = []
def med(n, c, k):
    v = runs_of.get((n, c))
    return statistics.median(x[k] / x["seconds"] for x in v) if v else None
print("# nftables tier: packets per second\n")
print("Commit %s, %s s a run after a warm-up, median of %s runs; load average %s at the start, "
      "%s at the end; %s s in all. Mpps: the gateway's lan0 rx_packets a second (frames taken "
      "in and judged); ratio: to the smallest policy's rate of the same case.\n"
      % (rev, secs, runs, load0, load1, took))
print("| case | " + " | ".join("%d flows" % n for n in flows) + " |")
print("|---|" + "---:|" * len(flows))
for c in cases:
    cells = []
    base = med(flows[0], c, "rx")
    for n in flows:
        v = runs_of.get((n, c))
        if not v:
            cells.append("failed")
            bad.append("%d flows, %s: no run" % (n, c))
            continue
        rx, fwd, sent = med(n, c, "rx"), med(n, c, "fwd"), med(n, c, "sent")
        denied = c.startswith("denied")
        # The verdict: denied frames are not forwarded, allowed ones are; the counters moved.
        if denied and fwd > 0.01 * rx:
            bad.append("%d flows, %s: %.0f frames/s forwarded" % (n, c, fwd))
        if not denied and fwd < 0.9 * rx:
            bad.append("%d flows, %s: only %.0f of %.0f frames/s forwarded" % (n, c, fwd, rx))
        moved = counted.get((n, c), [0])[0]
        if denied and moved < 0.9 * sum(x["rx"] for x in v):
            bad.append("%d flows, %s: nft counters moved by %d for %d frames" %
                       (n, c, moved, sum(x["rx"] for x in v)))
        cells.append("%.3f (%.2f×)" % (rx / 1e6, rx / base) if base else "%.3f" % (rx / 1e6))
    print("| %s | %s |" % (c, " | ".join(cells)))
print("\nSent and forwarded (wan0 tx_packets) Mpps, conntrack entries after the case, "
      "apply time:\n")
print("| case | " + " | ".join("%d flows" % n for n in flows) + " |")
print("|---|" + "---:|" * len(flows))
for c in cases:
    cells = []
    for n in flows:
        k = counted.get((n, c))
        f, s = med(n, c, "fwd"), med(n, c, "sent")
        cells.append("-" if f is None else "%.3f / %.3f, ct %d, apply %.1f s" %
                     (s / 1e6, f / 1e6, k[1], k[2] / 1000))
    print("| %s | %s |" % (c, " | ".join(cells)))
if bad:
    print("\nFailed checks:\n")
    for b in bad:
        print("- " + b)
    sys.exit(1)
EOF
cp "$tmp/report.md" "$OUT"
# Raw: "SIZE CASE RUN JSON" per run, "SIZE CASE counters MOVED CONNTRACK APPLY_MS" per case.
cp "$RES" "$build/bench/nft-rate.results"
cat "$tmp/report.md"
exit $status
