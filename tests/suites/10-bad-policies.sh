#!/bin/bash
# Every policy in tests/bad/ must be rejected: `check` exits 1 and prints exactly the diagnostic
# lines of its sibling .err file, then the summary line, and nothing on stderr.
# Regenerate one expectation after a deliberate change with:
#   build/wardwall check tests/bad/NN-name.json | sed '$d' > tests/bad/NN-name.err
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
export WARDWALL_NOW=${WARDWALL_NOW:-2026-11-29T12:00:00Z}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for json in tests/bad/*.json; do
	n=$((n + 1))
	want=${json%.json}.err
	"$WARDWALL" check "$json" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	why=""
	if [ ! -f "$want" ]; then
		why="missing $want"
	elif [ "$rc" -ne 1 ]; then
		why="exit status $rc, expected 1"
	elif [ -s "$tmp/err" ]; then
		why="unexpected stderr"
	else
		sed '$d' "$tmp/out" >"$tmp/diags"
		nerr=$(grep -c ': error: ' "$want")
		summary=$(tail -n 1 "$tmp/out")
		if ! diff -u "$want" "$tmp/diags" >"$tmp/diff"; then
			why="diagnostics differ"
		elif [[ "$summary" != "$json: invalid: $nerr error"* ]]; then
			why="summary line \"$summary\" does not count $nerr errors"
		fi
	fi
	if [ -z "$why" ]; then
		echo "ok $n - $json"
	else
		echo "not ok $n - $json: $why"
		[ -s "$tmp/diff" ] && sed 's/^/# /' "$tmp/diff"
		[ -s "$tmp/err" ] && sed 's/^/# stderr: /' "$tmp/err"
	fi
	rm -f "$tmp/diff"
done
echo "1..$n"
