#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Kills apply, rollback and remove at every step boundary (WARDWALL_STOP_AT, intent.h) and checks
# what the next command leaves: both tiers exactly the old or exactly the new policy, and a
# history that says so. Runs inside tests/xdp/sandbox.sh (a private network and mount namespace
# with a private bpffs); two veth pairs carry the XDP links.
#
# Usage (inside the sandbox): crash.sh ROUNDS [quick] — every (transition, stop point) pair
# ROUNDS times (52 pairs a round); quick: each boundary once (16 trials a round).
# Prints TAP, one line per trial, then "# crash: T trials, B boundaries, N new, O old, F failed".
#
# The witnesses, for each trial:
#   - the apply was really killed there (exit 137: the stop point was reached);
#   - the next command (`wardwall show`) says it finished or undid the interrupted apply;
#   - nftables as `nft -s list table inet wardwall` prints it is byte for byte the listing after
#     a clean apply of the old or of the new policy (or no table, after a remove);
#   - XDP: `ip link` shows a program on exactly that policy's interfaces, and
#     `wardwall plan --detailed-exitcode` of that policy exits 0 (maps, generation, links);
#   - the history: its hash chain holds, generations count up by one, `current` names the last
#     policy line, whose sha256 is the policy the kernel holds, and no line is written twice.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
ROUNDS=${1:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WARDWALL_STATE_DIR=$tmp/state
unset WARDWALL_STOP_AT SSH_CONNECTION

for i in 0 1; do
	ip link add wwc$i type veth peer name wwp$i || exit 2
	ip link set wwc$i up && ip link set wwp$i up || exit 2
done

policy() { # policy NAME IFACES XDP EXTRA_FLOW(0/1)
	cat >"$tmp/$1.json" <<JSON
{
  "wardwall": 1,
  "name": "crash-$1",
  "defaults": {"between_zones": "deny", "within_zone": "allow", "log": "none"},
  "zones": {
    "ward": {"networks": ["10.30.1.0/24", "fd00:30:1::/64"]},
    "lab": {"networks": ["10.30.2.0/24"], "hosts": {"lis": "10.30.2.10"}},
    "ehr": {"networks": ["10.30.3.0/24"]}
  },
  "flows": [
    {"id": "ward-to-lis", "from": "ward", "to": "lab/lis", "services": ["https"], "action": "allow"},
    {"id": "lab-to-ehr", "from": "lab", "to": "ehr", "services": ["hl7-mllp"], "action": "allow"}$([ "$4" = 1 ] && echo ',
    {"id": "ward-to-ehr", "from": "ward", "to": "ehr", "services": ["https", "dicom"], "action": "allow"}')
  ],
  "enforcement": {"mode": "gateway", "interfaces": [$2], "xdp": "$3"}
}
JSON
}
policy A '"wwc0"' native 0
policy B '"wwc0", "wwc1"' native 1
policy C '"wwc0"' off 1

ww() { "$WARDWALL" "$@"; }
# The table as nft lists it, objects sorted by kind and name (nft lists them in the order they
# were created, which differs between a clean apply and a change), handles dropped.
nft_text() {
	nft -j -s list table inet wardwall 2>/dev/null | "${WW_PYTHON:-python3}" -c '
import json, sys
t = sys.stdin.read()
if not t.strip():
    sys.exit()
objs, rules = [], {}
def clean(o):
    if isinstance(o, dict):
        return {k: clean(v) for k, v in o.items() if k != "handle"}
    if isinstance(o, list):
        return [clean(v) for v in o]
    return o
for item in json.loads(t)["nftables"]:
    for kind, o in item.items():
        if kind == "metainfo":
            continue
        o = clean(o)
        if "elem" in o:  # a set is a set: the kernel lists a map in the order it was edited
            o["elem"] = sorted(o["elem"], key=lambda e: json.dumps(e, sort_keys=True))
        if kind == "rule":
            rules.setdefault(o["chain"], []).append(o)
        else:
            objs.append((kind, o.get("name", ""), json.dumps(o, sort_keys=True)))
for kind, name, o in sorted(objs):
    print(kind, name, o)
    for r in rules.get(name, []) if kind == "chain" else []:
        print("  rule", json.dumps(r, sort_keys=True))
'
}
xdp_ifaces() { # the interfaces with an XDP program attached, one a line
	ip -o link show | awk -F': ' '/ xdp/ { sub(/@.*/, "", $2); print $2 }' | sort
}
sha_of() { ww plan --json --state-dir "$tmp/scratch" "$tmp/$1.json" 2>/dev/null |
	"${WW_PYTHON:-python3}" -c 'import json,sys; print(json.load(sys.stdin)["policy"]["sha256"])'; }

# Reference listings: each policy applied cleanly from nothing.
for p in A B C; do
	ww remove >/dev/null 2>&1
	ww apply "$tmp/$p.json" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 2; }
	nft_text >"$tmp/ref-$p.nft"
	xdp_ifaces >"$tmp/ref-$p.xdp"
	eval "sha_$p=\$(sha_of $p)"
done
: >"$tmp/ref-none.nft" >"$tmp/ref-none.xdp"
ww remove >/dev/null 2>&1

# The history is truthful (see above); prints what is wrong, nothing when all holds.
history_check() { # history_check EXPECTED_SHA ("" after a remove)
	"${WW_PYTHON:-python3}" - "$WARDWALL_STATE_DIR" "$1" <<'PY'
import hashlib, json, os, sys
d, want = sys.argv[1], sys.argv[2]
lines = open(os.path.join(d, "history.jsonl"), "rb").read().split(b"\n")
if lines[-1] != b"":
    print("history.jsonl does not end with a newline"); sys.exit()
prev, gens, last_policy = "", [], None
for raw in lines[:-1]:
    j = json.loads(raw)
    if j["prev_sha256"] != prev:
        print("chain broken at generation", j["generation"])
    prev = hashlib.sha256(raw).hexdigest()
    gens.append(j["generation"])
    last = j
if gens != list(range(1, len(gens) + 1)):
    print("generations are not 1..n:", gens)
cur = int(open(os.path.join(d, "current")).read().strip() or 0)
if want == "":
    if last["action"] != "remove" or cur != 0:
        print("after a remove: last line", last["action"], "current", cur)
else:
    if cur != last["generation"] or last["action"] == "remove":
        print("current is", cur, "but the last line is generation", last["generation"], last["action"])
    if last.get("policy_sha256") != want:
        print("the last line's policy", last.get("policy_sha256", "")[:12], "is not the kernel's", want[:12])
    g = os.path.join(d, "generations", "%d.json" % cur)
    if hashlib.sha256(open(g, "rb").read()).hexdigest() != want:
        print("generations/%d.json is not the policy the kernel holds" % cur)
if os.path.exists(os.path.join(d, "intent.json")):
    print("intent.json is still there")
tmps = [f for r, _, fs in os.walk(d) for f in fs if ".tmp." in f]
if tmps:
    print("temporary files left:", tmps)
PY
}

# outcome FROM TO: which of the two the kernel holds exactly ("old", "new"), or what is wrong.
outcome() {
	local p res=""
	for p in "$1" "$2"; do
		local ref=$p name=$p
		[ "$p" = none ] && name=""
		if [ "$(nft_text)" = "$(cat "$tmp/ref-$ref.nft")" ] &&
			[ "$(xdp_ifaces)" = "$(cat "$tmp/ref-$ref.xdp")" ]; then
			if [ -n "$name" ]; then
				ww plan --detailed-exitcode "$tmp/$name.json" >"$tmp/plan" 2>&1 || continue
			elif [ -e "$WARDWALL_BPFFS/wardwall" ]; then
				continue
			fi
			[ "$p" = "$1" ] && res=old || res=new
			break
		fi
	done
	echo "${res:-neither}"
}

# Transitions: FROM TO COMMAND..., and the stop points each one passes.
APPLY_POINTS="intent xdp-prepared xdp-attached nft-committed xdp-switched xdp-finished history-appended current-written counters-written marked"
OFF_POINTS="intent nft-committed xdp-removed history-appended current-written counters-written marked"
REMOVE_POINTS="remove-intent remove-nft-deleted remove-xdp-removed history-appended current-written"
transitions="
A B apply|$APPLY_POINTS
B A apply|$APPLY_POINTS
A C apply|$OFF_POINTS
C A apply|intent xdp-prepared xdp-attached nft-committed xdp-switched xdp-finished history-appended current-written counters-written marked
B A rollback|$APPLY_POINTS
A none remove|$REMOVE_POINTS
"
# quick (suite 33): every boundary once, 16 trials; the soak runs every pair above.
if [ "${2:-}" = quick ]; then
	transitions="
A B apply|$APPLY_POINTS
A C apply|xdp-removed
B A rollback|nft-committed history-appended
A none remove|remove-intent remove-nft-deleted remove-xdp-removed
"
fi
trials=0 nnew=0 nold=0 nfail=0
declare -A boundaries
for round in $(seq "$ROUNDS"); do
	while IFS='|' read -r head points; do
		[ -n "$head" ] || continue
		read -r from to cmd <<<"$head"
		for point in $points; do
			boundaries[$point]=1
			trials=$((trials + 1))
			what="$cmd $from->$to killed at $point (round $round)"
			# Set up FROM cleanly; for rollback, the generation before is A, current B.
			if [ "$cmd" = rollback ]; then
				ww apply "$tmp/A.json" >/dev/null 2>&1 && ww apply "$tmp/B.json" >/dev/null 2>&1
			else
				ww apply "$tmp/$from.json" >/dev/null 2>&1
			fi || { fail "$what: setting up $from failed"; nfail=$((nfail + 1)); continue; }
			case $cmd in
			apply) WARDWALL_STOP_AT=$point ww apply "$tmp/$to.json" >"$tmp/out" 2>&1 ;;
			rollback) WARDWALL_STOP_AT=$point ww rollback >"$tmp/out" 2>&1 ;;
			remove) WARDWALL_STOP_AT=$point ww remove >"$tmp/out" 2>&1 ;;
			esac
			rc=$?
			if [ $rc != 137 ]; then
				fail "$what: exit $rc, not killed there" "$(head -3 "$tmp/out")"
				nfail=$((nfail + 1))
				continue
			fi
			ww show >/dev/null 2>"$tmp/rec"
			res=$(outcome "$from" "$to")
			want_sha=""
			case $res in old) [ "$from" != none ] && eval "want_sha=\$sha_$from" ;;
			new) [ "$to" != none ] && eval "want_sha=\$sha_$to" ;; esac
			hist=$(history_check "$want_sha" 2>&1)
			if [ "$res" = neither ]; then
				fail "$what: the kernel holds neither the old nor the new policy" \
					"$(cat "$tmp/rec")" "nft: $(nft_text | head -3)" "xdp on: $(xdp_ifaces | tr '\n' ' ')" \
					"$(cat "$tmp/plan" 2>/dev/null | head -5)"
				nfail=$((nfail + 1))
			elif [ -n "$hist" ]; then
				fail "$what: $res in both tiers, but the history is not truthful" "$hist"
				nfail=$((nfail + 1))
			elif ! grep -qE "(finished|undid|undone).*interrupted|interrupted.*(finished|undone)" "$tmp/rec"; then
				fail "$what: the next command did not say it recovered" "$(cat "$tmp/rec")"
				nfail=$((nfail + 1))
			else
				ok "$what: $res in both tiers, history truthful"
				[ "$res" = new ] && nnew=$((nnew + 1)) || nold=$((nold + 1))
			fi
		done
	done <<<"$transitions"
done
echo "# crash: $trials trials, ${#boundaries[@]} boundaries, $nnew new, $nold old, $nfail failed"
finish
