# SPDX-License-Identifier: GPL-2.0-only
# TAP for the shell suites: `ok WHAT`, `fail WHAT [DETAIL...]` (each detail printed as comment
# lines under it), `report` (lines "PASS WHAT" and "FAIL WHAT" on its input, as a checker written
# in python prints them, each an ok or a fail), `need WHAT CMD...` (a step the rest of the suite
# stands on: silent when CMD succeeds, its standard output then in NEED_OUT; otherwise a fail WHAT
# with what CMD said, and the suite finishes) and `finish` (the plan line; exit 1 if anything
# failed). Sourced, not run.
n=0 failed=0
ok() {
	n=$((n + 1))
	echo "ok $n - $*"
}
fail() {
	n=$((n + 1)) failed=$((failed + 1))
	echo "not ok $n - $1"
	shift
	local l
	for l in "$@"; do printf '%s\n' "$l" | sed 's/^/#   /'; done
}
report() {
	local line
	while IFS= read -r line; do
		case $line in
		PASS*) ok "${line#PASS }" ;;
		FAIL*) fail "${line#FAIL }" ;;
		esac
	done
}
need() {
	local what=$1 err rc
	shift
	err=$(mktemp)
	NEED_OUT=$("$@" 2>"$err")
	rc=$?
	[ $rc = 0 ] || fail "$what" "$NEED_OUT" "$(cat "$err")"
	rm -f "$err"
	[ $rc = 0 ] || finish
}
finish() {
	echo "1..$n"
	exit $((failed > 0))
}
# skip_unless TOOL...: the whole suite is one skipped test unless this is root, network
# namespaces work and every TOOL is on the PATH.
skip_unless() {
	local t ready=true
	[ "$(id -u)" = 0 ] && ip netns list >/dev/null 2>&1 || ready=false
	for t in "$@"; do
		command -v "$t" >/dev/null || ready=false
	done
	$ready && return 0
	echo "ok 1 - # SKIP needs root, ip netns and $*"
	echo "1..1"
	exit 0
}
