#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Drift covers the XDP tier (plan, show, metrics): run inside tests/xdp/sandbox.sh.
#   - an XDP-only change (XDP switched off, then on) is a change for `plan --detailed-exitcode`;
#   - the active generation's rule map emptied behind wardwall's back (bpftool) is drift: plan
#     exits 2 and names the XDP maps, `metrics` says wardwall_drift 1; apply repairs it;
#   - a link detached from its interface (bpftool link detach) is drift too, and `show` calls it
#     detached, not "interface gone: stale link".
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WARDWALL_STATE_DIR=$tmp/state
ww() { "$WARDWALL" "$@"; }
ip link add wwd0 type veth peer name wwdp0 && ip link set wwd0 up && ip link set wwdp0 up || exit 2

mk() { # mk FILE XDP
	cat >"$1" <<JSON
{"wardwall": 1, "name": "xdp-drift",
 "zones": {"ward": {"networks": ["10.40.1.0/24"]}, "lab": {"networks": ["10.40.2.0/24"]}},
 "flows": [{"id": "ward-to-lab", "from": "ward", "to": "lab", "services": ["https"], "action": "allow"}],
 "enforcement": {"mode": "gateway", "interfaces": ["wwd0"], "xdp": "$2"}}
JSON
}
mk "$tmp/on.json" native
mk "$tmp/off.json" off

plan() { ww plan --detailed-exitcode "$@" >"$tmp/plan" 2>&1; }
expect_plan() { # expect_plan WHAT RC PATTERN POLICY
	plan "$4"
	local rc=$?
	if [ $rc = "$2" ] && grep -qE -- "$3" "$tmp/plan"; then ok "$1"; else
		fail "$1: plan exit $rc (want $2), output matching /$3/" "$(cat "$tmp/plan")"; fi
}
metric_drift() { ww metrics 2>/dev/null | awk '$1 == "wardwall_drift" { print $2 }'; }

ww apply "$tmp/on.json" >/dev/null 2>&1 || { fail "apply with XDP"; finish; }
expect_plan "after apply: no drift, nothing to change" 0 "drift: none" "$tmp/on.json"
expect_plan "switching XDP off is a change plan shows" 2 "xdp: apply removes the XDP program" "$tmp/off.json"
[ "$(metric_drift)" = 0 ] && ok "wardwall_drift 0 in sync" || fail "wardwall_drift $(metric_drift) in sync"

# Empty the active generation's rule table.
slot=$(bpftool -j map lookup pinned "$WARDWALL_BPFFS/wardwall/ww_active" key 0 0 0 0 |
	"${WW_PYTHON:-python3}" -c 'import json,sys; v=json.load(sys.stdin); v=v.get("formatted",v)["value"]; print(v["slot"] if isinstance(v,dict) else int(v[0],16))')
inner=$(bpftool -j map lookup pinned "$WARDWALL_BPFFS/wardwall/ww_rules" key "$slot" 0 0 0 |
	"${WW_PYTHON:-python3}" -c 'import json,sys; v=json.load(sys.stdin); v=v.get("formatted",v)["value"]; print(v if isinstance(v,int) else int("".join(reversed([b[2:] for b in v])),16))')
deleted=0
keys=$(bpftool -j map dump id "$inner" | "${WW_PYTHON:-python3}" -c '
import json, sys
for e in json.load(sys.stdin):
    print(" ".join(b[2:] for b in e["key"]))') || fail "bpftool -j map dump id $inner: no keys read"
while read -r key; do
	[ -n "$key" ] || continue
	# shellcheck disable=SC2086
	bpftool map delete id "$inner" key hex $key && deleted=$((deleted + 1))
done <<<"$keys"
if [ "$deleted" -gt 0 ]; then ok "emptied the active rule map ($deleted entries, map id $inner, slot $slot)"; else
	fail "could not empty the active rule map (slot $slot, map $inner)"; fi
expect_plan "an emptied XDP rule map is drift plan reports" 2 "drift: the XDP tier differs.*|xdp: the active generation's maps differ" "$tmp/on.json"
grep -q "drift: none" "$tmp/plan" && fail "plan still says drift: none" "$(cat "$tmp/plan")" || ok "plan does not say drift: none"
[ "$(metric_drift)" = 1 ] && ok "wardwall_drift 1 with the rule map emptied" || fail "wardwall_drift $(metric_drift) with the rule map emptied"
ww apply "$tmp/on.json" >/dev/null 2>&1
expect_plan "apply repairs it" 0 "drift: none" "$tmp/on.json"

# Detach the link (the pinned link stays, attached to nothing).
bpftool link detach pinned "$WARDWALL_BPFFS/wardwall/links/wwd0" 2>"$tmp/err" || fail "bpftool link detach" "$(cat "$tmp/err")"
expect_plan "a detached link is drift plan reports" 2 "xdp: the links do not match" "$tmp/on.json"
[ "$(metric_drift)" = 1 ] && ok "wardwall_drift 1 with a detached link" || fail "wardwall_drift $(metric_drift) with a detached link"
ww show >"$tmp/show" 2>&1
if grep -q "wwd0: .*DETACHED" "$tmp/show" && ! grep -q "interface gone" "$tmp/show"; then
	ok "show calls the link detached, not a stale link of a gone interface"
else
	fail "show on a detached link" "$(grep -A3 -i xdp "$tmp/show")"
fi
ww apply "$tmp/on.json" >/dev/null 2>&1
expect_plan "apply re-attaches it" 0 "drift: none" "$tmp/on.json"
# XDP on again from off: a change too.
ww apply "$tmp/off.json" >/dev/null 2>&1
expect_plan "switching XDP on is a change plan shows" 2 "xdp: a new generation is switched in" "$tmp/on.json"
# rollback after remove: back to the last policy applied, not "nothing was ever applied".
ww remove >/dev/null 2>&1
ww rollback >"$tmp/out" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q "rolled back to generation" "$tmp/out" && nft list table inet wardwall >/dev/null 2>&1; then
	ok "rollback after remove re-applies the last policy: $(head -1 "$tmp/out")"
else
	fail "rollback after remove: exit $rc" "$(cat "$tmp/out")"
fi
finish
