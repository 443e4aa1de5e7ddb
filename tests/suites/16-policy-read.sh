#!/bin/bash
# Reading a policy (docs/cli.md "Reading a policy"): every command that reads one refuses a FIFO,
# a device (a symbolic link to /dev/zero), a directory, and a file over the size limit
# (WARDWALL_POLICY_MAX_BYTES), at once and with exit 1 (doctor: 2, its code for an unusable
# policy), naming the file; stdin is read up to the
# limit and no further. Before, /dev/zero grew memory without end and a FIFO with no writer
# blocked forever. Each run is bounded by `timeout`, so a hang is a failure, not a stuck suite.
# plan and apply run in a private network namespace: they must refuse before touching anything.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

mkfifo "$tmp/fifo.json"
ln -s /dev/zero "$tmp/zero.json"
mkdir "$tmp/dir.json"
cp policies/example-hospital.json "$tmp/big.json"
netns=()
[ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && netns=(unshare -n)

run() { # run CMD...: 10 s at most, output in $tmp/out
	timeout 10 "$@" >"$tmp/out" 2>&1
}

expect() { # expect WHAT PATTERN RC [WANT_RC]
	local what=$1 pat=$2 rc=$3 want=${4:-1}
	if [ "$rc" = "$want" ] && grep -qE -- "$pat" "$tmp/out"; then
		ok "$what"
	else
		fail "$what: exit $rc (want $want), output matching /$pat/" "$(head -n 5 "$tmp/out")"
	fi
}

for c in check render query show plan apply doctor; do
	for kind in fifo:FIFO zero:"character device" dir:directory; do
		f="$tmp/${kind%%:*}.json"
		case $c in
		query) args=("$f" 10.0.0.1 10.0.0.2 tcp/443) ;;
		show) args=(--canonical "$f") ;;
		plan | apply) args=(--state-dir "$tmp/state" "$f") ;;
		*) args=("$f") ;;
		esac
		pre=()
		case $c in plan | apply) pre=("${netns[@]}") ;; esac
		if [ "$c" = apply ] || [ "$c" = plan ] && [ ${#pre[@]} = 0 ]; then
			ok "# SKIP $c on ${kind#*:}: needs root and unshare -n"
			continue
		fi
		run "${pre[@]}" "$WARDWALL" "$c" "${args[@]}"
		expect "$c refuses a ${kind#*:} at once" \
			"$f: /: error: is a ${kind#*:}: a policy must be a regular file" $? \
			"$([ "$c" = doctor ] && echo 2 || echo 1)"
	done
	[ "$c" = doctor ] && continue # doctor's own exit code for a bad policy is 2
	case $c in
	query) args=("$tmp/big.json" 10.0.0.1 10.0.0.2 tcp/443) ;;
	show) args=(--canonical "$tmp/big.json") ;;
	plan | apply) args=(--state-dir "$tmp/state" "$tmp/big.json") ;;
	*) args=("$tmp/big.json") ;;
	esac
	pre=()
	case $c in plan | apply) pre=("${netns[@]}") ;; esac
	[ "$c" = apply ] || [ "$c" = plan ] && [ ${#pre[@]} = 0 ] && continue
	WARDWALL_POLICY_MAX_BYTES=1000 run "${pre[@]}" "$WARDWALL" "$c" "${args[@]}"
	expect "$c refuses a policy over WARDWALL_POLICY_MAX_BYTES" \
		"larger than 1000 bytes, the limit for a policy \(set WARDWALL_POLICY_MAX_BYTES" $?
done

# stdin: read up to the limit, then refused; an endless stream ends at the limit.
WARDWALL_POLICY_MAX_BYTES=100000 run "$WARDWALL" check - </dev/zero
expect "check - </dev/zero stops at the limit" "^-: /: error: larger than 100000 bytes" $?
run "$WARDWALL" check - <policies/example-hospital.json
rc=$?
[ $rc = 0 ] && ok "check - reads a policy from stdin" || fail "check - on stdin: exit $rc" "$(head -3 "$tmp/out")"
# The first read error ends the read (a directory as stdin: EISDIR), no retry loop.
run "$WARDWALL" check - <"$tmp/dir.json"
rc=$?
if [ $rc = 2 ] && grep -q "Is a directory" "$tmp/out"; then
	ok "check - on a directory: the read error, once"
else
	fail "check - on a directory: exit $rc (want 2, 'Is a directory')" "$(head -3 "$tmp/out")"
fi
# The limit is the documented default without the variable, and garbage does not lift it.
WARDWALL_POLICY_MAX_BYTES=junk run "$WARDWALL" check policies/example-hospital.json
rc=$?
[ $rc = 0 ] && ok "an unreadable WARDWALL_POLICY_MAX_BYTES keeps the default" ||
	fail "WARDWALL_POLICY_MAX_BYTES=junk: exit $rc" "$(head -3 "$tmp/out")"
finish
