#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Quarantine speed against policy size. Usage: tests/bench/quarantine.sh BUILD_DIR
#
# For each size (flows, from genpolicy.py), in a fresh network namespace with veths lan0 and wan0
# and a private bpffs: the policy is applied with both tiers (XDP native on lan0, nftables), then
# BENCH_RUNS times: `wardwall quarantine add ZONE` (a whole zone: several prefixes in each family)
# and `quarantine remove`. Reported per size, min and median:
#   enforced   command start (first line of the command's main) to both tiers holding the
#              quarantine: the nftables transaction acknowledged and the XDP maps written
#              (`enforced_ms` of --json)
#   cpu        the command's own CPU time (user + system) up to that point: the work itself,
#              whatever else the machine runs (`enforced_cpu_ms`)
#   command    the whole `quarantine add` process, wall time: exec, state lock, reading the
#              applied policy, enforcement, recording, cutting sessions
#   remove     the whole `quarantine remove` process, wall time
# The goal (issue 13): enforced within 50 ms, independent of the policy's size.
#
# Environment: BENCH_SIZES (default "1000 10000 100000"), BENCH_RUNS (default 7), BENCH_SEED (1),
# BENCH_OUT (default BUILD_DIR/bench-quarantine.md).
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
ww=$build/wardwall
sizes=${BENCH_SIZES:-1000 10000 100000}
runs=${BENCH_RUNS:-7}
seed=${BENCH_SEED:-1}
out=${BENCH_OUT:-$build/bench-quarantine.md}
[ "$(id -u)" = 0 ] || { echo "quarantine.sh: needs root" >&2; exit 2; }

tmp=$(mktemp -d)
ns=
cleanup() {
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	mountpoint -q "$tmp/bpf" && umount "$tmp/bpf"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$tmp/bpf"
mount -t bpf bpf "$tmp/bpf" || { echo "quarantine.sh: cannot mount a bpffs" >&2; exit 2; }

now_ms() { date +%s%3N; }
stats() { # min and median of the numbers on stdin
	python3 -c 'import sys, statistics as s; v=[float(x) for x in sys.stdin.read().split()]; print("%.1f | %.1f" % (min(v), s.median(v)))'
}

status=0
{
	echo "# Quarantine: command start to enforcement"
	echo
	echo "$(date -u +%Y-%m-%dT%H:%M:%SZ), $(uname -r), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg); policies of genpolicy.py --seed $seed;"
	echo "both tiers (XDP native on a veth, nftables); $runs runs each; target: a whole zone (\`ward-01\`)."
	echo
	echo "| flows | enforced, min | median (ms) | CPU to enforcement, min | median (ms) | \`quarantine add\` wall, min | median (ms) | \`quarantine remove\` wall, min | median (ms) | load average (1 min) |"
	echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$out"
for n in $sizes; do
	pol=$tmp/p$n.json
	python3 "$here/genpolicy.py" --flows "$n" --seed "$seed" -o "$tmp/g.json" || exit 2
	python3 - "$tmp/g.json" "$pol" <<'EOF' || exit 2
import json, sys
p = json.load(open(sys.argv[1]))
p["enforcement"] = {"mode": "gateway", "interfaces": ["lan0", "wan0"], "xdp": "native"}
json.dump(p, open(sys.argv[2], "w"))
EOF
	ns=wwqb$RANDOM$RANDOM
	ip netns add "$ns" || exit 2
	ip -n "$ns" link add lan0 type veth peer name lan0p
	ip -n "$ns" link add wan0 type veth peer name wan0p
	for l in lan0 lan0p wan0 wan0p lo; do ip -n "$ns" link set "$l" up; done
	export WARDWALL_STATE_DIR=$tmp/state$n WARDWALL_BPFFS=$tmp/bpf
	if ! ip netns exec "$ns" "$ww" apply "$pol" >"$tmp/apply.out" 2>&1; then
		echo "quarantine.sh: apply of $n flows failed: $(tail -3 "$tmp/apply.out")" >&2
		status=1
	else
		zone=$(python3 -c 'import json,sys; z=json.load(open(sys.argv[1]))["zones"]; print("ward-01" if "ward-01" in z else sorted(z)[0])' "$pol")
		: >"$tmp/enf" ; : >"$tmp/cpu" ; : >"$tmp/add" ; : >"$tmp/rm"
		for ((r = 0; r < runs; r++)); do
			t0=$(now_ms)
			if ! ip netns exec "$ns" "$ww" quarantine add "$zone" --force --reason bench --json >"$tmp/q.json" 2>"$tmp/q.err"; then
				echo "quarantine.sh: quarantine add at $n flows: $(cat "$tmp/q.err")" >&2
				status=1
				break
			fi
			echo $(($(now_ms) - t0)) >>"$tmp/add"
			python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["enforced_ms"])' "$tmp/q.json" >>"$tmp/enf"
			python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["enforced_cpu_ms"])' "$tmp/q.json" >>"$tmp/cpu"
			id=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["quarantine"]["id"])' "$tmp/q.json")
			t0=$(now_ms)
			ip netns exec "$ns" "$ww" quarantine remove "$id" >/dev/null || status=1
			echo $(($(now_ms) - t0)) >>"$tmp/rm"
		done
		[ -s "$tmp/enf" ] && echo "| $n | $(stats <"$tmp/enf") | $(stats <"$tmp/cpu") | $(stats <"$tmp/add") | $(stats <"$tmp/rm") | $(cut -d' ' -f1 /proc/loadavg) |" >>"$out"
	fi
	ip netns exec "$ns" "$ww" remove >/dev/null 2>&1
	ip netns del "$ns"
	ns=
done
{
	echo
	echo "Reproduce: \`BENCH_SIZES=\"$sizes\" tests/bench/quarantine.sh build\` (root; part of \`make bench\`)."
} >>"$out"
cat "$out"
exit $status
