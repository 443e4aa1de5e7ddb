#!/bin/bash
# Golden tests: `check` and `check --json` of each tests/golden/NAME.json, and of the example
# policies (policies/example-hospital.json, example-fleet.json, example-bridge.json, demo.json),
# must print exactly tests/golden/NAME.check.out and NAME.check.json; and `render`, the nftables
# compiler's output, exactly tests/golden/NAME.render.nft. None of this needs root or a kernel.
# After a deliberate change, regenerate them with `tests/suites/11-golden.sh --update` and review
# the diff before committing.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
# The analysis depends on the time; golden files are pinned to this instant.
export WARDWALL_NOW=2026-11-29T12:00:00Z

update=false
case "${1:-}" in
--update) update=true ;;
"") ;;
*)
	echo "usage: $0 [--update]" >&2
	exit 2
	;;
esac

policies=()
for f in tests/golden/*.json policies/example-hospital.json policies/example-fleet.json \
	policies/example-bridge.json policies/demo.json; do
	case "$f" in
	*.check.json) ;;
	*) policies+=("$f") ;;
	esac
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
for f in "${policies[@]}"; do
	base=tests/golden/$(basename "$f" .json)
	for kind in out json nft; do
		n=$((n + 1))
		want=$base.check.$kind
		args=(check)
		[ "$kind" = json ] && args+=(--json)
		[ "$kind" = nft ] && want=$base.render.nft args=(render)
		"$WARDWALL" "${args[@]}" "$f" >"$tmp/got" 2>&1
		rc=$?
		if [ "$rc" -gt 1 ]; then
			echo "not ok $n - ${args[*]} $f: exit status $rc"
			sed 's/^/# /' "$tmp/got"
			continue
		fi
		if $update; then
			cp "$tmp/got" "$want"
			echo "ok $n - $want updated"
		elif [ ! -f "$want" ]; then
			echo "not ok $n - $want is missing (run $0 --update)"
		elif diff -u "$want" "$tmp/got" >"$tmp/diff"; then
			echo "ok $n - $want"
		else
			echo "not ok $n - $want differs"
			sed 's/^/# /' "$tmp/diff"
		fi
	done
done
echo "1..$n"
