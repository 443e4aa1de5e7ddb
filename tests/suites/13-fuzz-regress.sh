#!/bin/bash
# The fuzzer's seeds and every input that once crashed it (tests/fuzz/regress/) go through
# `check`: each must be judged valid (0) or invalid (1), never crash or fail (2, or a signal).
# Those judged valid must also have a canonical form that prints back to itself.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
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
echo "1..$n"
