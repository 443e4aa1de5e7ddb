#!/bin/bash
# The XDP program run by BPF_PROG_TEST_RUN (tests/xdp/), each binary inside its own
# tests/xdp/sandbox.sh: a private mount and network namespace with a private bpffs. Nothing is
# attached to an interface and nothing touches /sys/fs/bpf.
#   test_xdp_packets  crafted frames: actions, counters, the oracle's verdicts
#   test_xdp_diff     random policies and packets against the oracle (WW_SEED, WW_DIFF_*)
#   test_xdp_load     verifier and load: 10, 1,000 and 100,000 flows (WW_LOAD_*)
#   tests/bench/xdp-cost.sh, a smoke run at 10 flows (1,000 runs a case): every case of the cost
#   benchmark gets the action it must (established and new pass, denied drop)
# One TAP stream: the binaries' results renumbered, one plan at the end.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
export CMOCKA_MESSAGE_OUTPUT=TAP
n=0 failed=0
for t in test_xdp_packets test_xdp_diff test_xdp_load; do
	bin=$BUILD/tests-xdp/$t
	echo "# $t"
	if [ ! -x "$bin" ]; then
		n=$((n + 1)) failed=1
		echo "not ok $n - $bin is missing (make xdp-tests)"
		continue
	fi
	out=$(mktemp)
	tests/xdp/sandbox.sh "$bin" >"$out" 2>&1
	rc=$?
	# cmocka's own plan and group summary ("# ok - group") go; results are renumbered.
	while IFS= read -r line; do
		case "$line" in
		"ok "[0-9]* | "not ok "[0-9]*)
			n=$((n + 1))
			[[ "$line" == "not ok"* ]] && failed=1
			echo "$line" | sed -E "s/^(not )?ok [0-9]+/\1ok $n/"
			;;
		1..*) [[ "$line" == *SKIP* ]] && echo "# $t: ${line#1..0 }" ;;
		"# ok - "* | "# not ok - "*) ;;
		*) echo "$line" ;;
		esac
	done <"$out"
	if [ "$rc" -ne 0 ] && ! grep -qE '^not ok [0-9]+' "$out"; then
		n=$((n + 1)) failed=1
		echo "not ok $n - $t exited with status $rc"
	fi
	rm -f "$out"
done
# The cost benchmark's smoke run (tests/bench/xdp-cost.sh; its own sandbox).
n=$((n + 1))
if [ "$(id -u)" -ne 0 ]; then
	echo "ok $n - # SKIP tests/bench/xdp-cost.sh needs root"
elif out=$(XDP_COST_FLOWS=10 XDP_COST_REPEAT=1000 XDP_COST_ROUNDS=1 \
	tests/bench/xdp-cost.sh "$BUILD" 2>&1); then
	echo "ok $n - tests/bench/xdp-cost.sh runs at 10 flows, every case's action as it must be"
else
	failed=1
	echo "not ok $n - tests/bench/xdp-cost.sh at 10 flows"
	echo "$out" | sed 's/^/# /'
fi
echo "1..$n"
[ "$failed" -eq 0 ]
