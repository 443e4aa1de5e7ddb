#!/bin/bash
# The command line itself: every command answers --help (and `wardwall help COMMAND`) with its
# usage on standard output and exit 0; an unknown option or command is a usage error (exit 2)
# that names what was wrong. Nothing here touches the kernel.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
check() { # check WHAT WANT_RC GREP CMD...
	local what=$1 want=$2 pat=$3 rc
	shift 3
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = "$want" ] && grep -qE -- "$pat" "$tmp/out" "$tmp/err"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: exit $rc (want $want), output matching /$pat/"
		sed 's/^/#   /' "$tmp/out" "$tmp/err" | head -n 10
	fi
}

cmds=$("$WARDWALL" help | awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 }')
[ -n "$cmds" ] || { echo "not ok 1 - wardwall help lists the commands"; echo "1..1"; exit 1; }
for c in $cmds; do
	check "wardwall $c --help: its usage, exit 0" 0 "^usage: wardwall $c " "$WARDWALL" "$c" --help
	check "wardwall help $c: the same" 0 "^usage: wardwall $c " "$WARDWALL" help "$c"
done
check "wardwall check -h policies/demo.json: usage, nothing checked" 0 "^usage: wardwall check " \
	"$WARDWALL" check -h policies/demo.json
check "an unknown option is a usage error that names it" 2 '"--frobnicate"' \
	"$WARDWALL" check --frobnicate policies/demo.json
check "an unknown command is a usage error that names it" 2 '"frobnicate"' "$WARDWALL" frobnicate
check "help for an unknown command is a usage error that names it" 2 '"frobnicate"' \
	"$WARDWALL" help frobnicate
check "a flag given a value (--json=yes) is a usage error" 2 '--json takes no argument' \
	"$WARDWALL" check --json=yes policies/demo.json
check "an option's value after = (--now=2026-03-10T08:00:00Z)" 0 'valid' \
	"$WARDWALL" check --now=2026-03-10T08:00:00Z policies/demo.json
check "-- ends the options: --json after it is a file name" 2 '^wardwall: --json: No such file' \
	"$WARDWALL" check -- --json
check "a repeated option needs its argument every time" 2 '--interface needs an argument' \
	"$WARDWALL" doctor --interface lo --interface
check "a required option not given is a usage error that names it" 2 '--sign-key is required' \
	"$WARDWALL" publish --etcd http://127.0.0.1:1 policies/demo.json
check "the usage line shows a required option without brackets" 0 ' --sign-key FILE ' \
	"$WARDWALL" help publish
check "an unknown verb is a usage error that lists the verbs" 2 \
	'unknown verb "frobnicate" \(add, list, remove, restore\)' "$WARDWALL" quarantine frobnicate
check "a verb command without its verb: its usage, exit 2" 2 '^usage: wardwall fleet status ' \
	"$WARDWALL" fleet
check "doctor --interface takes the parser's interface-name rule (no ':')" 2 'is not an interface name' \
	"$WARDWALL" doctor --interface eth0:1
check "no command: the list of commands, exit 2" 2 "^commands:" "$WARDWALL"
check "--version" 0 "^wardwall [0-9a-f]" "$WARDWALL" --version
# Overlapping host groups (docs/policy.md): an address of ehr/his-app, inside ehr/servers' prefix,
# belongs to ehr/his-app only, so the flow to ehr/servers does not decide it; its neighbour does.
check "query: an address of an inner host group is not the outer group's" 0 \
	'by: +default between_zones' env WARDWALL_NOW=2026-11-29T12:00:00Z \
	"$WARDWALL" query tests/golden/language-1-1.json 10.30.0.5 10.20.2.10 tcp/22
check "query: its neighbour in the outer group is decided by the outer group's flow" 0 \
	'by: +flow "office-to-servers"' env WARDWALL_NOW=2026-11-29T12:00:00Z \
	"$WARDWALL" query tests/golden/language-1-1.json 10.30.0.5 10.20.2.11 tcp/22
# --json: every output, and a failure, is one JSON object on standard output (docs/cli.md).
jcheck() { # jcheck WHAT WANT_RC PYTHON_EXPR(o: the object) CMD...
	local what=$1 want=$2 expr=$3 rc
	shift 3
	n=$((n + 1))
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = "$want" ] && python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert eval(sys.argv[2]), o' "$tmp/out" "$expr" 2>"$tmp/py"; then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what: exit $rc (want $want), stdout one object with $expr"
		sed 's/^/#   /' "$tmp/out" "$tmp/err" "$tmp/py" | head -n 10
	fi
}
jcheck "--version --json: the release and the commit" 0 \
	'o["version"] == "0.2.0" and len(o["commit"]) >= 7' "$WARDWALL" --version --json
"$WARDWALL" render policies/demo.json | sed 1d >"$tmp/render.txt"
jcheck "render --json: the table, its size, the same ruleset text" 0 \
	'o["table"] == "inet wardwall" and o["chains"] > 0 and o["ruleset"] == open(sys.argv[1].replace("out", "render.txt")).read()' \
	"$WARDWALL" render --json policies/demo.json
jcheck "apply --json of an invalid policy: an error object with code and location" 1 \
	'o["error"]["code"] == "invalid-policy" and o["error"]["location"] == {"file": "tests/bad/67-on-failure.json", "pointer": "/enforcement/on_failure"} and o["diagnostics"][0]["code"] == "invalid-value"' \
	"$WARDWALL" apply --json tests/bad/67-on-failure.json
jcheck "render --json of an invalid policy: the same" 1 \
	'o["error"]["location"]["pointer"] == "/enforcement/on_failure"' \
	"$WARDWALL" render --json tests/bad/67-on-failure.json
jcheck "a usage error with --json: code usage" 2 'o["error"]["code"] == "usage"' \
	"$WARDWALL" plan --json
jcheck "an unreadable file with --json: code error, no location" 2 \
	'o["error"]["code"] == "error" and o["error"]["location"] is None' \
	"$WARDWALL" render --json "$tmp/missing.json"
echo "1..$n"
