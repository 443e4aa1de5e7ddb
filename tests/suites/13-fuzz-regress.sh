#!/bin/bash
# The fuzzers' seeds and every input that once broke one (tests/fuzz/regress/, and the decoder
# targets' folders) replayed:
#  - through `check`: each policy must be judged valid (0) or invalid (1), never crash or fail
#    (2, or a signal); those judged valid must also have a canonical form that prints back to
#    itself;
#  - through every fuzz harness, built without libFuzzer (build/tests-fuzz/, tests/fuzz/replay.c):
#    fuzz_policy, fuzz_nft (compile, linearize, read the batch back), fuzz_xdp (the map images
#    against query), fuzz_nflog and fuzz_events (the event decoders), fuzz_serve (serve's HTTP
#    side: one connection's bytes). A harness that finds a
#    broken property aborts, which fails the input it was running.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
BUILD=${WW_BUILD:-$PWD/build}
export WARDWALL_NOW=${WARDWALL_NOW:-2026-11-29T12:00:00Z}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in tests/fuzz/seeds/* tests/fuzz/regress/*; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	"$WARDWALL" check "$f" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -gt 1 ]; then
		echo "not ok $n - check $f: exit status $rc"
		tail -n 5 "$tmp/out" | sed 's/^/# /'
		continue
	fi
	if [ "$rc" -eq 0 ] || ! grep -q ': invalid: ' "$tmp/out"; then
		"$WARDWALL" show --canonical "$f" >"$tmp/c1" 2>&1 &&
			"$WARDWALL" show --canonical "$tmp/c1" >"$tmp/c2" 2>&1
		rc=$?
		if [ "$rc" -ne 0 ] || ! cmp -s "$tmp/c1" "$tmp/c2"; then
			echo "not ok $n - $f: the canonical form is not a fixed point (status $rc)"
			continue
		fi
	fi
	echo "ok $n - $f"
done

# harness: the folders it replays (as in the Makefile's FUZZ_CORPUS_*)
replay() {
	local h=$1 bin=$BUILD/tests-fuzz/$1
	shift
	n=$((n + 1))
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $h: $bin is not built (make unit)"
		return
	fi
	"$bin" "$@" >"$tmp/out" 2>&1
	local rc=$? runs
	runs=$(grep -c '^ok ' "$tmp/out")
	if [ "$rc" -ne 0 ]; then
		echo "not ok $n - $h: status $rc after $runs inputs; on $(grep '^# ' "$tmp/out" | tail -n 1 | cut -c3-)"
		grep -v '^ok \|^# \|^1\.\.' "$tmp/out" | head -n 20 | sed 's/^/# /'
		return
	fi
	echo "ok $n - $h: $runs inputs"
}
replay fuzz_policy tests/fuzz/seeds tests/fuzz/regress
replay fuzz_nft tests/fuzz/seeds tests/fuzz/regress policies/example-hospital.json
replay fuzz_xdp tests/fuzz/seeds tests/fuzz/regress policies/example-hospital.json
replay fuzz_nflog tests/fuzz/nflog
replay fuzz_events tests/fuzz/events
replay fuzz_serve tests/fuzz/http
echo "1..$n"
