#!/bin/bash
# The life cycle of wardwall's nftables table, in one private network namespace (no traffic):
# apply, plan, an edit planned and applied in place (counters kept), rollback, idempotent apply,
# an injected kernel refusal (nothing changes), render loaded by nft itself, out-of-band drift
# found and repaired, the state lock, and remove (only wardwall's table goes).
#
# The policy is policies/example-hospital.json with enforcement.xdp "off" (a copy): this suite is
# about the nftables tier.
#
# Needs root. The namespace (ww<random>-lc) and the state directory are private and are deleted
# on exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
export WARDWALL_NOW=${WARDWALL_NOW:-2026-11-29T12:00:00Z}

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
NS=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-lc
holder=
cleanup() {
	[ -n "$holder" ] && : >"$tmp/release" && wait "$holder" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NS-2" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
STATE=$tmp/state
export WARDWALL_STATE_DIR=$STATE
POLICY=$tmp/example-hospital.json
ww_policy_nft_only "$EXAMPLE" "$POLICY" || exit 2

ww() { ip netns exec "$NS" "$WARDWALL" "$@"; }
nftns() { ip netns exec "$NS" nft "$@"; }
genid() { ww_nft_genid "$NS"; }
# table inet wardwall as nft -j lists it, without handles (they change when objects are
# re-created) and with its objects in a stable order.
listing() {
	nftns -j list table inet wardwall | "$WW_PYTHON" -c '
import json, sys
def strip(x):
    if isinstance(x, dict):
        return {k: strip(v) for k, v in x.items() if k != "handle"}
    if isinstance(x, list):
        return [strip(v) for v in x]
    return x
for o in sorted(json.dumps(strip(o), sort_keys=True) for o in json.load(sys.stdin)["nftables"]):
    print(o)'
}
# name handle, for every counter of table inet wardwall
handles() {
	nftns -a -j list counters table inet wardwall | "$WW_PYTHON" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    if "counter" in o:
        print(o["counter"]["name"], o["counter"]["handle"])'
}
# "rc=N" then the output, for diagnostics
run() {
	local rc
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	grep -v ': warning: ' "$tmp/err" >>"$tmp/out"
	return $rc
}
out() { cat "$tmp/out"; }

if ip netns add "$NS" && ip -n "$NS" link set lo up; then
	ok "namespace $NS"
else
	fail "namespace $NS"
	finish
fi

# A table that is not wardwall's, there from the start.
nftns -f - <<'EOF'
table inet foreign {
	counter seen { }
	chain audit {
		ip saddr 192.0.2.99 counter name "seen"
	}
	chain screen {
		type filter hook input priority 10; policy accept;
		ip daddr 192.0.2.99 jump audit
	}
}
EOF
nftns list table inet foreign >"$tmp/foreign.before" 2>&1

# ---- apply, plan ----
if run ww apply "$POLICY" && grep -q '^applied example-hospital' "$tmp/out"; then
	ok "apply $EXAMPLE (XDP off): $(head -1 "$tmp/out")"
else
	fail "apply $EXAMPLE (XDP off)" "$(out)"
	finish
fi
run ww plan --detailed-exitcode "$POLICY"
rc=$?
if [ $rc = 0 ] && grep -q '^no changes' "$tmp/out"; then
	ok "plan --detailed-exitcode after apply: exit 0, $(tail -1 "$tmp/out")"
else
	fail "plan --detailed-exitcode after apply: exit $rc (want 0)" "$(out)"
fi
listing >"$tmp/listing.0"
handles >"$tmp/handles.0"

# ---- one flow edited: ws-to-lis also allows http ----
EDITED=$tmp/edited.json
"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
[f for f in p["flows"] if f["id"] == "ws-to-lis"][0]["services"].append("http")
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$POLICY" "$EDITED"

g0=$(genid)
run ww plan --detailed-exitcode "$EDITED"
rc=$?
changes=$(grep -E '^  [-+~] ' "$tmp/out")
if [ $rc = 2 ] && [ "$changes" = "  ~ flow ws-to-lis: services" ] && grep -q '^kernel: ' "$tmp/out"; then
	ok "plan --detailed-exitcode of the edit: exit 2, one change: $(sed 's/^ *//' <<<"$changes")"
else
	fail "plan --detailed-exitcode of the edit: exit $rc (want 2), changes: exactly flow ws-to-lis" "$(out)"
fi
run ww plan --json "$EDITED"
if "$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
c = p["changes"]
assert len(c) == 1 and c[0]["kind"] == "flow" and c[0]["name"] == "ws-to-lis", c
assert c[0]["op"] == "changed" and c[0]["enforcement"] is True, c
assert p["changed"] is True and not p["kernel"]["replace"], p["kernel"]
assert p["drift"]["objects"] == [] and not p["drift"]["unrecorded_table"], p["drift"]
' "$tmp/out" 2>"$tmp/err"; then
	ok "plan --json of the edit: changes = [flow ws-to-lis changed], changed: true, no drift"
else
	fail "plan --json of the edit" "$(cat "$tmp/err")" "$(out)"
fi
g1=$(genid)
if [ "$g0" = "$g1" ]; then
	ok "plan leaves the kernel alone (ruleset generation $g0)"
else
	fail "plan leaves the kernel alone: ruleset generation $g0 -> $g1"
fi

if run ww apply "$EDITED" && grep -q '^applied' "$tmp/out" && ! grep -q 'replaced whole' "$tmp/out"; then
	ok "apply the edit in place: $(sed -n '3,9s/^ *//p' "$tmp/out" | paste -sd';')"
else
	fail "apply the edit in place" "$(out)"
fi
handles >"$tmp/handles.1"
if [ -s "$tmp/handles.0" ] && diff -u "$tmp/handles.0" "$tmp/handles.1" >"$tmp/diff"; then
	ok "apply of the edit keeps every counter object ($(wc -l <"$tmp/handles.0") counters, same handles)"
else
	fail "apply of the edit keeps every counter object (same names, same handles)" "$(cat "$tmp/diff")"
fi
run ww plan --detailed-exitcode "$EDITED"
rc=$?
if [ $rc = 0 ]; then
	ok "plan of the edit after applying it: exit 0"
else
	fail "plan of the edit after applying it: exit $rc (want 0)" "$(out)"
fi

# ---- rollback ----
if run ww rollback && grep -q '^rolled back to generation 1' "$tmp/out"; then
	ok "rollback: $(head -1 "$tmp/out")"
else
	fail "rollback to generation 1" "$(out)"
fi
listing >"$tmp/listing.2"
if [ -s "$tmp/listing.0" ] && diff -u "$tmp/listing.0" "$tmp/listing.2" >"$tmp/diff"; then
	ok "after rollback, nft -j list table inet wardwall (handles aside) is what it was before the edit"
else
	fail "after rollback, nft -j list table inet wardwall (handles aside) is what it was before the edit" \
		"$(head -40 "$tmp/diff")"
fi

# ---- an identical apply changes nothing ----
nftns -a list ruleset >"$tmp/ruleset.0"
g0=$(genid)
hist0=$(wc -l <"$STATE/history.jsonl")
run ww apply "$POLICY"
rc=$?
nftns -a list ruleset >"$tmp/ruleset.1"
g1=$(genid)
hist1=$(wc -l <"$STATE/history.jsonl")
if [ $rc = 0 ] && grep -q '^no changes' "$tmp/out"; then
	ok "a second identical apply: $(head -1 "$tmp/out")"
else
	fail "a second identical apply prints \"no changes\" (exit $rc)" "$(out)"
fi
if [ "$g0" = "$g1" ] && cmp -s "$tmp/ruleset.0" "$tmp/ruleset.1" && [ "$hist0" = "$hist1" ]; then
	ok "... and commits nothing: ruleset generation $g0, nft -a list ruleset identical, no new history entry"
else
	fail "... and commits nothing" "ruleset generation $g0 -> $g1, history $hist0 -> $hist1 lines" \
		"$(diff -u "$tmp/ruleset.0" "$tmp/ruleset.1" | head -20)"
fi

# ---- a transaction the kernel refuses ----
g0=$(genid)
WARDWALL_FAULT=nft-invalid-element run ww apply "$EDITED"
rc=$?
nftns -a list ruleset >"$tmp/ruleset.2"
g1=$(genid)
hist1=$(wc -l <"$STATE/history.jsonl")
msg=$(grep '^wardwall: ' "$tmp/out")
if [ $rc = 2 ] && grep -q 'refused the transaction, nothing was changed' <<<"$msg" &&
	grep -q 'WARDWALL_FAULT' <<<"$msg"; then
	ok "apply with WARDWALL_FAULT=nft-invalid-element: exit 2, the kernel's refusal reported"
else
	fail "apply with WARDWALL_FAULT=nft-invalid-element: exit $rc (want 2), the refusal reported" "$(out)"
fi
# The injected element is a map element whose verdict jumps to a chain that does not exist.
map=$(nftns -j list table inet wardwall | "$WW_PYTHON" -c '
import json, sys
print(" ".join(o["map"]["name"] for o in json.load(sys.stdin)["nftables"] if "map" in o))')
named=false
for m in $map wardwall-fault-no-such-chain; do
	grep -qF "$m" <<<"$msg" && named=true
done
if $named; then
	ok "... and the message names the refused object: $msg"
else
	fail "... and the message names the refused object (the map it went into, or its missing chain)" \
		"$msg"
fi
# The explanation comes from the refused message's object (found by its sequence number), with
# what the map is for: "; map NAME (destinations of flows from ...)".
if grep -qE '; map [^ ]+ \((destinations of flows from|default verdicts from|the zones and sources|used by chain)' <<<"$msg"; then
	ok "... and says what the refused map is for: $(grep -oE '; map [^;]*' <<<"$msg" | head -n 1)"
else
	fail "... and says what the refused map is for" "$msg"
fi
if [ "$g0" = "$g1" ] && cmp -s "$tmp/ruleset.1" "$tmp/ruleset.2" && [ "$hist0" = "$hist1" ]; then
	ok "... and leaves the ruleset byte-identical (generation $g0) and the history as it was"
else
	fail "... and leaves the ruleset byte-identical" "ruleset generation $g0 -> $g1, history $hist0 -> $hist1 lines" \
		"$(diff -u "$tmp/ruleset.1" "$tmp/ruleset.2" | head -20)"
fi

# ---- render, loaded by nft itself, is what apply would build ----
run ww remove
if "$WARDWALL" render "$POLICY" >"$tmp/render.nft" 2>"$tmp/err" && nftns -f "$tmp/render.nft" 2>>"$tmp/err"; then
	ok "nft -f of wardwall render of the example loads"
else
	fail "nft -f of wardwall render of the example loads" "$(cat "$tmp/err")"
fi
run ww plan --json --detailed-exitcode "$POLICY"
rc=$?
if [ $rc = 0 ] && "$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
k = p["kernel"]
assert p["changed"] is False and not k["replace"], k
assert all(v == 0 for op in ("added", "removed", "changed") for v in k[op].values()), k
' "$tmp/out" 2>"$tmp/err"; then
	ok "plan after nft -f of render: no kernel changes (exit 0)"
else
	fail "plan after nft -f of render: no kernel changes (exit $rc)" "$(cat "$tmp/err")" "$(out)"
fi
if run ww apply "$POLICY" && grep -q '^no changes' "$tmp/out"; then
	ok "apply after nft -f of render: $(head -1 "$tmp/out")"
else
	fail "apply after nft -f of render prints no changes" "$(out)"
fi

# ---- drift: a rule added behind wardwall's back ----
nftns add rule inet wardwall gw_forward ip saddr 192.0.2.1 counter accept
run ww plan --detailed-exitcode "$POLICY"
rc=$?
if [ $rc = 2 ] && grep -q '^drift: 1 object' "$tmp/out" && grep -q 'chain gw_forward: differs' "$tmp/out"; then
	ok "plan shows the out-of-band rule as drift in chain gw_forward (exit 2)"
else
	fail "plan shows the out-of-band rule as drift in chain gw_forward (exit $rc, want 2)" "$(out)"
fi
run ww plan --json "$POLICY"
if "$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
o = p["drift"]["objects"]
assert len(o) == 1 and o[0]["kind"] == "chain" and o[0]["name"] == "gw_forward", o
assert o[0]["state"] == "differs" and o[0]["detail"], o
assert p["changes"] == [] and p["changed"] is True, p
' "$tmp/out" 2>"$tmp/err"; then
	ok "plan --json: drift.objects = [chain gw_forward differs], no policy change, changed: true"
else
	fail "plan --json shows the drift" "$(cat "$tmp/err")" "$(out)"
fi
if run ww apply "$POLICY" && grep -q 'rewritten' "$tmp/out" &&
	! nftns list chain inet wardwall gw_forward | grep -q 192.0.2.1; then
	ok "apply repairs the drift: $(sed -n '3s/^ *//p' "$tmp/out")"
else
	fail "apply repairs the drift" "$(out)" "$(nftns list chain inet wardwall gw_forward)"
fi
run ww plan --detailed-exitcode "$POLICY"
rc=$?
if [ $rc = 0 ] && grep -q '^drift: none' "$tmp/out"; then
	ok "plan after the repair: drift: none, exit 0"
else
	fail "plan after the repair: exit $rc (want 0)" "$(out)"
fi

# ---- the lock: a second writer is refused while the first holds it ----
# The holder keeps the lock until told (at most 120 s): a fixed sleep ran out before the apply
# on a slow machine (Linux 6.1 under qemu without KVM), which then applied.
flock "$STATE/lock" sh -c ': >"$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 2400 ]; do
	sleep 0.05; i=$((i + 1)); done' sh "$tmp/held" "$tmp/release" &
holder=$!
for ((i = 0; i < 100; i++)); do
	[ -e "$tmp/held" ] && break
	sleep 0.02
done
ruleset0=$(nftns -a list ruleset)
run ww apply "$EDITED"
rc=$?
if [ $rc = 2 ] && grep -q "another wardwall holds $STATE/lock" "$tmp/out" &&
	[ "$ruleset0" = "$(nftns -a list ruleset)" ]; then
	ok "apply while the lock is held: exit 2, $(grep -o 'another wardwall.*' "$tmp/out"), nothing changed"
else
	fail "apply while the lock is held fails with the lock message (exit $rc, want 2)" "$(out)"
fi
: >"$tmp/release"
wait "$holder"
holder=
if run ww apply "$EDITED" && grep -q '^applied' "$tmp/out"; then
	ok "apply once the lock is free: $(head -1 "$tmp/out")"
else
	fail "apply once the lock is free" "$(out)"
fi

# ---- the mark: an apply trusts the ruleset generation it left, and nothing else ----
# (The drift repaired above is the other half: a rule added out of band advanced the generation,
# so apply read the table, found the rule and removed it instead of saying "no changes".)
jread() { "$WW_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(d["result"], d["nftables"]["read"])'; }
# The kernel holds $EDITED, applied just above.
said=$(ww apply --json "$POLICY" 2>/dev/null | jread)
if [ "$said" = "applied generation-unchanged" ]; then
	ok "a change on top of the generation wardwall left is diffed against its record: $said"
else
	fail "a change on top of the generation wardwall left: applied, generation-unchanged" "$said"
fi
run ww plan --detailed-exitcode "$POLICY"
rc=$?
if [ $rc = 0 ] && grep -q '^drift: none' "$tmp/out"; then
	ok "... and plan finds it exactly the policy: exit 0, drift: none"
else
	fail "... and plan finds it exactly the policy (exit $rc)" "$(out)"
fi
g0=$(genid)
said=$(ww apply --json "$POLICY" 2>/dev/null | jread)
if [ "$said" = "unchanged generation-unchanged" ] && [ "$(genid)" = "$g0" ]; then
	ok "an identical apply at the generation wardwall left trusts it: $said, without reading the table"
else
	fail "an identical apply at the generation wardwall left: unchanged, generation-unchanged" "$said"
fi
# An identical file: recognised by its bytes, neither parsed nor compiled (unchanged.h), with
# the warnings the full apply printed and the same report.
jparsed() { "$WW_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(d["result"], d["nftables"]["read"], "parsed" if d["parsed"] else "not-parsed")'; }
ww apply --json "$POLICY" 2>"$tmp/warn.fast" | jparsed >"$tmp/said"
said=$(cat "$tmp/said")
WARDWALL_NOW=2027-01-12T09:00:00Z ww apply --json "$POLICY" 2>"$tmp/warn.later" | jparsed >"$tmp/said"
later=$(cat "$tmp/said")
cp "$POLICY" "$tmp/copy.json"
other=$(ww apply --json "$tmp/copy.json" 2>/dev/null | jparsed)
{ cat "$POLICY"; echo; } >"$tmp/space.json"
space=$(ww apply --json "$tmp/space.json" 2>"$tmp/warn.full" | jparsed)
again=$(ww apply --json "$tmp/space.json" 2>/dev/null | jparsed)
sed "s|$tmp/space.json|$POLICY|" "$tmp/warn.full" >"$tmp/warn.want"
if [ "$said" = "unchanged generation-unchanged not-parsed" ] &&
	[ "$again" = "unchanged generation-unchanged not-parsed" ] &&
	cmp -s "$tmp/warn.fast" "$tmp/warn.want" && [ -s "$tmp/warn.fast" ]; then
	ok "an identical file is recognised without parsing: $said, its $(wc -l <"$tmp/warn.fast") warnings said again word for word"
else
	fail "an identical file is recognised without parsing, with the same warnings" "$said; $again" \
		"$(diff "$tmp/warn.want" "$tmp/warn.fast")"
fi
if [ "$later" = "unchanged generation-unchanged parsed" ] &&
	[ "$other" = "unchanged generation-unchanged parsed" ] &&
	[ "$space" = "unchanged generation-unchanged parsed" ]; then
	ok "... but parsed again past a validity window's boundary ($later), from another path ($other) and with other bytes ($space)"
else
	fail "... parsed again past a window boundary, from another path, with other bytes" \
		"later: $later; other path: $other; other bytes: $space"
fi
# The mark is trusted for a change only while the current generation's file is the canonical
# text the mark's hash names (its bytes hashed, not printed again): the same policy in other
# bytes, and the table is read instead.
ww apply "$EDITED" >/dev/null 2>&1
gen=$(cat "$STATE/current")
{ echo; cat "$STATE/generations/$gen.json"; } >"$tmp/gen.json" &&
	cp "$tmp/gen.json" "$STATE/generations/$gen.json"
said=$(ww apply --json "$POLICY" 2>/dev/null | jread)
run ww plan --detailed-exitcode "$POLICY"
rc=$?
if [ "$said" = "applied kernel" ] && [ $rc = 0 ] && grep -q '^drift: none' "$tmp/out"; then
	ok "a change on top of a generation whose file is not its canonical text reads the kernel: $said; plan: drift: none"
else
	fail "a change on top of an edited generation file: applied, kernel; plan exit 0" "$said; plan exit $rc" "$(out)"
fi
nftns add table inet wwother && nftns delete table inet wwother
said=$(ww apply --json "$POLICY" 2>/dev/null | jread)
if [ "$said" = "unchanged kernel" ]; then
	ok "once another table was committed (generation $g0 -> $(genid)), apply reads the kernel: $said"
else
	fail "once another table was committed, apply reads the kernel" "$said"
fi
# The same state directory, another namespace brought to the very generation the mark names:
# the namespace's cookie tells them apart, and the table is created there.
want=$("$WW_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["genid"])' \
	"$STATE/nft-mark.json" 2>/dev/null)
if [ -n "$want" ] && ip netns add "$NS-2"; then
	i=0
	while [ "$(ww_nft_genid "$NS-2")" -lt "$want" ] && [ $i -lt 10000 ]; do
		ip netns exec "$NS-2" nft add table inet wwpad$((i++))
	done
	g2=$(ww_nft_genid "$NS-2")
	said=$(ip netns exec "$NS-2" "$WARDWALL" apply --json "$POLICY" 2>/dev/null | jread)
	if [ "$g2" = "$want" ] && [ "$said" = "applied kernel" ] &&
		ip netns exec "$NS-2" nft list table inet wardwall >/dev/null 2>&1; then
		ok "another namespace at the mark's generation ($g2): $said, the table created there"
	else
		fail "another namespace at the mark's generation: applied, read from the kernel" \
			"generation $g2 (mark: $want): $said"
	fi
	ip netns del "$NS-2"
else
	fail "the mark records a generation, and a second namespace" "$(cat "$STATE/nft-mark.json")"
fi

# ---- remove ----
if run ww remove && grep -q '^removed wardwall.s nftables table' "$tmp/out"; then
	ok "remove: $(head -1 "$tmp/out")"
else
	fail "remove" "$(out)"
fi
tables=$(nftns list tables 2>&1)
nftns list table inet foreign >"$tmp/foreign.after" 2>&1
if [ "$tables" = "table inet foreign" ] && diff -u "$tmp/foreign.before" "$tmp/foreign.after" >"$tmp/diff"; then
	ok "remove deletes only table inet wardwall: table inet foreign is still there, unchanged"
else
	fail "remove deletes only table inet wardwall" "tables: $tables" "$(cat "$tmp/diff")"
fi
if run ww remove && grep -q '^nothing to remove' "$tmp/out"; then
	ok "a second remove: nothing to remove"
else
	fail "a second remove prints nothing to remove" "$(out)"
fi

ip netns del "$NS"
if ! ip netns list | grep -q "^$NS\b"; then
	ok "namespace $NS deleted"
else
	fail "namespace $NS deleted"
fi
finish
