#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The boot path: how long `wardwall restore` takes from its start to "enforcing" after a reboot.
# Usage: tests/bench/restore.sh BUILD_DIR
#
# For each case, in a fresh network namespace with a private bpffs: apply the policy, then do what
# a reboot does to the kernel (flush the ruleset; for XDP, a fresh empty bpffs so the program is
# gone), and time `wardwall restore` around the process (what wardwall.service's ExecStart costs;
# systemd's own fork and exec are not in it). Cases:
#   example      policies/example-hospital.json, nftables only
#   example+xdp  the same with XDP in generic mode on its 14 interfaces (veth pairs)
#   10k          genpolicy.py --flows 10000, nftables only
# Environment: BENCH_RUNS (default 5; min and median are reported), BENCH_OUT (default
# BUILD_DIR/bench-restore.md).
set -uo pipefail
# Private mounts (as suite 34-restore): a bpffs unmounted to simulate a reboot must not live on as a
# copy in an unrelated process's mount namespace, which would keep the old XDP links.
if [ -z "${WW_PRIVATE_MOUNTS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	WW_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi

if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "$1" && pwd)
ww=$build/wardwall
runs=${BENCH_RUNS:-5}
out=${BENCH_OUT:-$build/bench-restore.md}
[ "$(id -u)" = 0 ] || { echo "restore.sh: needs root" >&2; exit 2; }

tmp=$(mktemp -d /tmp/wardwall-bench-restore.XXXXXX) || exit 2
NS=wwbrst-$$
cleanup() {
	local m
	ip netns del "$NS" 2>/dev/null
	for m in "$tmp"/bpf*; do
		mountpoint -q "$m" 2>/dev/null && { umount "$m" || umount -l "$m"; }
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
export WARDWALL_STATE_DIR=$tmp/state
unset WARDWALL_NOW

python3 - "$root/policies/example-hospital.json" "$tmp" <<'EOF' || exit 2
import json, sys
p = json.load(open(sys.argv[1]))
p["enforcement"]["xdp"] = "off"
json.dump(p, open(sys.argv[2] + "/example.json", "w"))
p["enforcement"]["xdp"] = "generic"
json.dump(p, open(sys.argv[2] + "/example+xdp.json", "w"))
EOF
python3 "$here/genpolicy.py" --flows 10000 -o "$tmp/10k.json" || exit 2

bpfseq=0
fresh_bpffs() {
	[ -n "${WARDWALL_BPFFS:-}" ] && mountpoint -q "$WARDWALL_BPFFS" && umount "$WARDWALL_BPFFS"
	bpfseq=$((bpfseq + 1))
	export WARDWALL_BPFFS=$tmp/bpf$bpfseq
	mkdir -p "$WARDWALL_BPFFS" && mount -t bpf bpf "$WARDWALL_BPFFS"
}

status=0
{
	echo "## wardwall restore after a simulated reboot ($(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r))"
	echo
	echo "| case | flows | runs | min ms | median ms | wardwall's own duration_ms (median) | the first apply, cold, ms |"
	echo "|---|---:|---:|---:|---:|---:|---:|"
} >"$out"
for case in example example+xdp 10k; do
	policy=$tmp/$case.json
	ip netns add "$NS" || exit 2
	ip -n "$NS" link set lo up
	if [ "$case" = example+xdp ]; then
		for i in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["enforcement"]["interfaces"]))' "$policy"); do
			ip -n "$NS" link add "$i" type veth peer name "${i:0:14}p" && ip -n "$NS" link set "$i" up && ip -n "$NS" link set "${i:0:14}p" up
		done
	fi
	rm -rf "$WARDWALL_STATE_DIR"
	fresh_bpffs || exit 2
	t0=$(date +%s%N)
	if ! ip netns exec "$NS" "$ww" apply "$policy" >/dev/null 2>"$tmp/err"; then
		echo "restore.sh: $case: apply failed: $(tail -1 "$tmp/err")" >&2
		status=1
		ip netns del "$NS"
		continue
	fi
	applied=$((($(date +%s%N) - t0) / 1000000))
	walls=() owns=()
	for ((r = 0; r < runs; r++)); do
		ip netns exec "$NS" nft flush ruleset
		if [ "$case" = example+xdp ]; then
			fresh_bpffs
			for ((w = 0; w < 1000; w++)); do # the links go once their pins are gone (up to 10 s)
				ip -n "$NS" -d link show | grep -q 'prog/xdp' || break
				sleep 0.01
			done
		fi
		t0=$(date +%s%N)
		ip netns exec "$NS" "$ww" restore --json >"$tmp/out" 2>"$tmp/err"
		rc=$?
		t1=$(date +%s%N)
		if [ $rc -ne 0 ] || ! grep -q '"result": "restored"' "$tmp/out"; then
			echo "restore.sh: $case: restore failed: $(cat "$tmp/out" "$tmp/err")" >&2
			status=1
			break
		fi
		walls+=($(((t1 - t0) / 1000000)))
		owns+=("$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["duration_ms"])' "$tmp/out")")
	done
	ip netns del "$NS"
	[ ${#walls[@]} -eq "$runs" ] || continue
	flows=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["flows"]))' "$policy")
	read -r min med < <(printf '%s\n' "${walls[@]}" | sort -n | awk '{a[NR]=$1} END {print a[1], a[int((NR+1)/2)]}')
	own=$(printf '%s\n' "${owns[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	echo "| $case | $flows | $runs | $min | $med | $own | $applied |" >>"$out"
done
echo >>"$out"
echo "Wall time around \`ip netns exec NS wardwall restore --json\` (the ip netns exec costs a few ms)." >>"$out"
cat "$out"
exit $status
