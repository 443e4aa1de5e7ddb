# SPDX-License-Identifier: GPL-2.0-only
# TAP for the shell suites. Sourced, not run.
#   ok WHAT               a passed test
#   fail WHAT [DETAIL...] a failed test, each DETAIL printed as comment lines under it
#   report [CMD...]       each line "PASS WHAT" or "FAIL WHAT [:: DETAIL]" (as a checker written in
#                         python prints them) of its input, or of CMD's output, an ok or a fail;
#                         "# ..." lines are passed on, others ignored. CMD failing without a FAIL
#                         line is one fail more. Use `report CMD`, never `report < <(CMD)`: a
#                         process substitution hides a failing CMD, and its checks would just not
#                         be there.
#   need WHAT CMD...      a step the rest of the suite stands on: silent when CMD succeeds (its
#                         standard output then in NEED_OUT); otherwise a fail WHAT with what CMD
#                         said, and the suite finishes
#   finish                the plan line; exit 1 if anything failed
#   skip_unless TOOL...   (below)
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
# shellcheck disable=SC2120 # the suites pass CMD; report without one reads its input
report() {
	local line out rc before=$failed
	if [ $# -gt 0 ]; then
		# The checker's output first, then its lines: a checker that fails without a FAIL line
		# (a crash, a missing input) is a failed test, never an empty report.
		out=$("$@")
		rc=$?
		report <<<"$out"
		[ "$rc" = 0 ] || [ "$failed" != "$before" ] ||
			fail "$1 exited with status $rc (its errors are above)"
		return 0
	fi
	while IFS= read -r line; do
		case $line in
		PASS*) ok "${line#PASS }" ;;
		FAIL*" :: "*)
			line=${line#FAIL }
			fail "${line%% :: *}" "${line#* :: }"
			;;
		FAIL*) fail "${line#FAIL }" ;;
		\#*) echo "$line" ;;
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
