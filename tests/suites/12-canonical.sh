#!/bin/bash
# The canonical form is a fixed point: for every example and golden policy, printing the canonical
# form of the canonical form gives the same bytes, and checking it gives the same number of errors
# and warnings, the same policy hash and the same invariant results as checking the original.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
export WARDWALL_NOW=${WARDWALL_NOW:-2026-11-29T12:00:00Z}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	n=$((n + 1))
	echo "not ok $n - $*"
	[ -s "$tmp/diff" ] && sed 's/^/# /' "$tmp/diff"
	rm -f "$tmp/diff"
}
# The lines of `check --json` that must not change: counts, hash, invariant results.
# Fails when check does (0 is valid, 1 invalid: both print the summary).
summary() {
	local out rc
	out=$("$WARDWALL" check --json "$1" 2>&1)
	rc=$?
	grep -E '^("valid"|"errors"|"warnings"|"invariants"):' <<<"$out"
	grep -o '"sha256": "[0-9a-f]*"' <<<"$out"
	[ "$rc" -le 1 ] || { echo "check --json $1 exited with status $rc: $out"; return 1; }
}

for f in policies/*.json tests/golden/*.json; do
	case "$f" in
	*.check.json | *.schema.json) continue ;;
	esac
	name=$(basename "$f" .json)
	c1=$tmp/$name.canonical.json
	c2=$tmp/$name.canonical2.json
	if ! "$WARDWALL" show --canonical "$f" >"$c1" 2>"$tmp/diff"; then
		fail "show --canonical $f fails"
		continue
	fi
	if ! "$WARDWALL" show --canonical "$c1" >"$c2" 2>"$tmp/diff"; then
		fail "show --canonical of the canonical form of $f fails"
		continue
	fi
	if diff -u "$c1" "$c2" >"$tmp/diff"; then
		ok "$f: the canonical form prints back to itself"
	else
		fail "$f: the canonical form prints differently"
	fi
	if ! summary "$f" >"$tmp/s1" || ! summary "$c1" >"$tmp/s2"; then
		cat "$tmp/s1" "$tmp/s2" >"$tmp/diff" 2>/dev/null
		fail "$f: check --json fails"
	elif ! grep -q '"errors"' "$tmp/s1"; then
		cp "$tmp/s1" "$tmp/diff"
		fail "$f: check --json printed no summary"
	elif diff -u "$tmp/s1" "$tmp/s2" >"$tmp/diff"; then
		ok "$f: the canonical form checks the same (counts, hash, invariants)"
	else
		fail "$f: the canonical form checks differently"
	fi
done
echo "1..$n"
