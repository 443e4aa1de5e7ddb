#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# Many zones cost linear time and memory (issue 10, finding 7: 2,000 zones made `render` take
# 87 s and 7.6 GB for a chain and a counter per zone pair). A policy of 5,000 zones from
# tests/e2e/zones-policy.py (500 in monitor mode, 1,000 host groups, 5,998 flows) must check and
# render within the bounds below, the rendered table must have a default stage of 2 chains per
# zone (+1 for no zone, +1 per monitor zone), and twice the zones must cost at most 3 times
# the CPU time (linear, with room for noise).
#
# The bounds are CPU time (user + system, from /usr/bin/time), not wall time: this machine's
# wall clock depends on what else runs. Measured on the 2-vCPU VM: check 0.2 s, render 0.8 s,
# 95 MiB for 5,000 zones.
#   ZONES_CPU_MAX  seconds of CPU for each of check and render (default 5)
#   ZONES_RSS_MAX  peak resident memory in MiB (default 300)
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
PY=${WW_PYTHON:-python3}
cpu_max=${ZONES_CPU_MAX:-5}
rss_max=${ZONES_RSS_MAX:-300}

if [ ! -x /usr/bin/time ]; then
	echo "ok 1 - # SKIP needs GNU time (/usr/bin/time)"
	echo "1..1"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# measure NAME CMD...: runs CMD (stdout to $tmp/NAME.out); sets CPU (seconds) and RSS (MiB).
measure() {
	local name=$1
	shift
	# A regression must fail, not take the machine's memory: 4x the bound of address space, and
	# 2 minutes of wall time at most.
	(
		ulimit -v $((rss_max * 4 * 1024))
		exec timeout 120 /usr/bin/time -f '%U %S %M' -o "$tmp/$name.time" "$@"
	) >"$tmp/$name.out" 2>"$tmp/$name.err"
	local rc=$?
	[ -s "$tmp/$name.time" ] || echo "0 0 0" >"$tmp/$name.time"
	read -r u s k <<<"$(tail -n 1 "$tmp/$name.time")"
	# A run that succeeded has its figures: without them, the bounds would pass on zeros.
	if [ "$rc" = 0 ] && ! [[ "$u $s $k" =~ ^[0-9.]+\ [0-9.]+\ [1-9][0-9]*$ ]]; then
		echo "/usr/bin/time wrote no figures: $(cat "$tmp/$name.time")" >>"$tmp/$name.err"
		rc=1
	fi
	CPU=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
	RSS=$((k / 1024))
	return $rc
}
within() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

for zones in 5000 10000; do
	"$PY" tests/e2e/zones-policy.py "$zones" >"$tmp/z$zones.json" || {
		fail "tests/e2e/zones-policy.py $zones"
		finish
	}
	for cmd in check render; do
		if measure "$cmd$zones" "$WARDWALL" "$cmd" "$tmp/z$zones.json"; then
			eval "cpu_${cmd}_$zones=$CPU"
			if [ "$zones" = 5000 ]; then
				if within "$CPU" "$cpu_max" && [ "$RSS" -le "$rss_max" ]; then
					ok "$cmd of $zones zones: $CPU s CPU, $RSS MiB (bounds: $cpu_max s, $rss_max MiB)"
				else
					fail "$cmd of $zones zones within $cpu_max s CPU and $rss_max MiB" \
						"took $CPU s CPU, $RSS MiB"
				fi
			fi
		else
			fail "$cmd of $zones zones exits 0" "$(head -5 "$tmp/$cmd$zones.err")"
			eval "cpu_${cmd}_$zones=0"
		fi
	done
done

# The default stage of the 5,000-zone table: O(zones), never a chain per zone pair.
defaults=$(grep -c '^	chain def/' "$tmp/render5000.out")
dz=$(grep -c '^	chain dz/' "$tmp/render5000.out")
want=$((2 * 5000 + 4500 + 2))
if [ "$defaults" = "$want" ] && [ "$dz" = 5001 ]; then
	ok "5000 zones: $defaults default chains (2 per zone + 1 per zone not in monitor mode + 2 for no zone), $dz dz/ chains"
else
	fail "5000 zones: $want default chains and 5001 dz/ chains" "got $defaults and $dz"
fi

# Linear: 10,000 zones cost at most 3 times what 5,000 cost (plus 0.3 s of fixed cost).
for cmd in check render; do
	a=$(eval echo "\$cpu_${cmd}_5000") b=$(eval echo "\$cpu_${cmd}_10000")
	if within "$b" "$(awk -v a="$a" 'BEGIN { print 3 * a + 0.3 }')"; then
		ok "$cmd grows linearly: 5000 zones $a s, 10000 zones $b s CPU"
	else
		fail "$cmd grows linearly (10000 zones within 3x the CPU of 5000 + 0.3 s)" \
			"5000 zones: $a s; 10000 zones: $b s"
	fi
done
finish
