#!/bin/bash
# `wardwall learn`, end to end on the simulated hospital (nftables tier): the building-management
# zone bms is in monitor mode; scripted traffic from it (to mgmt tcp/8080 three times, to the EHR
# server tcp/443 twice) passes and is recorded by `wardwall serve`; `learn --zone bms` proposes
# flows that check accepts, with counts and times; the proposal with bms switched to enforce
# allows exactly that traffic: query says so flow by flow, and once applied, the learned
# connections succeed while a port or a device not seen is refused. The allowed-traffic
# counters: two connections from mgmt/jump to bms tcp/443 (allowed by flow admin-jump) make
# learn report admin-jump as confirmed by traffic, 2 packets since a `stats --record` snapshot, and
# the other allow flows naming bms (time-sync, siem-collect, siem-poll, bms-controllers) as
# without traffic since, candidates to narrow or remove; outside the gateway (no rules there)
# learn says it could not read counters and still proposes the same flows.
#
# Needs root. Everything happens in namespaces this script creates, removed on exit.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft curl

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
POLICY=$tmp/nft-only.json
ww_policy_nft_only "$EXAMPLE" "$POLICY" || exit 2
PORT=$((20000 + RANDOM % 20000))

ww_sim_up_tap "$POLICY" "bms in monitor mode"
need apply ww_gwx "$WARDWALL" apply "$POLICY"
ww_wardwall_serve "$PORT"
ww_serve tcp:8080,tcp:8081,tcp:443 mgmt ehr bms || { fail "probe servers"; finish; }

# A counter snapshot (after the apply's own): learn measures the allowed traffic since --since
# against the last snapshot at or before it.
ip netns exec "$GW" "$WARDWALL" stats --record >/dev/null 2>"$tmp/err" || fail "stats --record" "$(cat "$tmp/err")"
BMS=$(ww_addr bms 4) MGMT=$(ww_addr mgmt 4) EHR=$(ww_addr ehr/his-app 4) JUMP=$(ww_addr mgmt/jump 4)
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
got=0
for i in 1 2 3; do ww_probe bms "$BMS" "$MGMT" tcp 8080 1 >/dev/null && got=$((got + 1)); done
for i in 1 2; do ww_probe bms "$BMS" "$EHR" tcp 443 1 >/dev/null && got=$((got + 1)); done
if [ "$got" = 5 ]; then
	ok "monitor mode lets bms through: 3 connections to mgmt tcp/8080, 2 to ehr/his-app tcp/443"
else
	fail "bms traffic passes in monitor mode" "$got of 5 connections replied"
fi
got=0
for i in 1 2; do ww_probe mgmt "$JUMP" "$BMS" tcp 443 1 >/dev/null && got=$((got + 1)); done
[ "$got" = 2 ] && ok "allowed: 2 connections from mgmt/jump to bms tcp/443 (flow admin-jump)" ||
	fail "mgmt/jump to bms tcp/443 (admin-jump)" "$got of 2 connections replied"
sleep 1

if ip netns exec "$GW" "$WARDWALL" learn --zone bms --since "$start" --out "$tmp/proposal.json" 2>"$tmp/learn.err" &&
	grep -q '2 flows proposed' "$tmp/learn.err"; then
	ok "learn --zone bms: $(head -1 "$tmp/learn.err" | sed 's/^wardwall: learn: //')"
else
	fail "learn --zone bms" "$(cat "$tmp/learn.err")"
	finish
fi
# The allowed-traffic counters, flow by flow.
allowed=$(grep -E '^    [a-z0-9-]+: ' "$tmp/learn.err")
want_unused="bms-controllers siem-collect siem-poll time-sync"
unused=$(grep 'no traffic since' <<<"$allowed" | awk -F: '{ gsub(/ /, "", $1); print $1 }' | sort | tr '\n' ' ')
if grep -q '^    admin-jump: confirmed by traffic, 2 packets since (counted since)$' <<<"$allowed" &&
	[ "$unused" = "$want_unused " ] && [ "$(wc -l <<<"$allowed")" = 5 ] &&
	grep -q 'allow flows naming zone bms, by their counters since the snapshot of' "$tmp/learn.err"; then
	ok "learn reads the allowed-traffic counters: admin-jump confirmed by 2 packets, no traffic on $want_unused"
else
	fail "learn's allowed-traffic counters" "$(cat "$tmp/learn.err")"
fi
# In a namespace without wardwall's table (a zone's), with a bpffs path that is no bpffs.
mkdir -p "$tmp/nobpf"
if ip netns exec "$(ww_ns guest)" env WARDWALL_BPFFS="$tmp/nobpf" "$WARDWALL" learn --zone bms --since "$start" \
	--out "$tmp/proposal-outside.json" 2>"$tmp/learn2.err" &&
	grep -q 'allowed-traffic counters not read (neither tier holds' "$tmp/learn2.err" &&
	cmp -s "$tmp/proposal.json" "$tmp/proposal-outside.json"; then
	ok "in a namespace without wardwall's rules: learn says the counters were not read, same proposal"
else
	fail "learn outside the gateway" "$(cat "$tmp/learn2.err")"
fi
if "$WARDWALL" check "$tmp/proposal.json" >"$tmp/out" 2>&1; then
	ok "check accepts the proposal"
else
	fail "check accepts the proposal" "$(cat "$tmp/out")"
fi
if /usr/bin/python3 - "$tmp/proposal.json" "$POLICY" "$BMS" "$tmp/enforce.json" >"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
prop, orig, bms, out = sys.argv[1:]
p, o = json.load(open(prop)), json.load(open(orig))
learned = [f for f in p["flows"] if f["id"].startswith("learned-")]
assert len(learned) == 2, learned
by_to = {f["to"]: f for f in learned}
host = [h for h, v in p["zones"]["bms"]["hosts"].items() if h.startswith("learned-")]
assert len(host) == 1 and p["zones"]["bms"]["hosts"][host[0]] == bms, p["zones"]["bms"]["hosts"]
assert all(f["from"] == "bms/" + host[0] and f["action"] == "allow" for f in learned), learned
assert by_to["ehr/his-app"]["services"] == ["learned-tcp-443"], by_to
assert "3 connections" in [f for f in learned if f["to"] != "ehr/his-app"][0]["description"]
assert "tcp/443 2" in by_to["ehr/his-app"]["description"]
assert p["services"]["learned-tcp-8080"]["terms"] == [{"proto": "tcp", "ports": [8080]}]
# Nothing else changed: the proposal is the applied policy plus what was learned.
assert len(p["flows"]) == len(o["flows"]) + 2
# The engineer's step: bms enforces.
p["zones"]["bms"]["mode"] = "enforce"
json.dump(p, open(out, "w"), indent=1)
print("2 learned flows from bms/%s (%s), services learned-tcp-8080 and learned-tcp-443, counts and times in their descriptions"
      % (host[0], bms))
EOF
	ok "the proposal: $(cat "$tmp/check")"
else
	fail "the proposal's content" "$(cat "$tmp/check")"
fi
ENF=$tmp/enforce.json
q() { "$WARDWALL" query "$ENF" "$@" 2>&1 | tr "\n" " "; }
OTHER=${BMS%.*}.77
a=$(q "$BMS" "$MGMT" tcp/8080) b=$(q "$BMS" "$EHR" tcp/443) c=$(q "$BMS" "$MGMT" tcp/8081) d=$(q "$OTHER" "$MGMT" tcp/8080)
if [[ "$a" == allow* && "$a" == *learned-bms* && "$b" == allow* && "$c" == deny* && "$d" == deny* ]]; then
	ok "query on the proposal (bms enforcing): seen traffic allowed by the learned flows, tcp/8081 and another bms device denied"
else
	fail "query on the proposal" "$a" "$b" "$c" "$d"
fi
if ip netns exec "$GW" "$WARDWALL" apply "$ENF" >"$tmp/out" 2>&1; then
	ok "apply the proposal with bms enforcing"
else
	fail "apply the proposal" "$(cat "$tmp/out")"
fi
r1=$(ww_probe bms "$BMS" "$MGMT" tcp 8080 1) r2=$(ww_probe bms "$BMS" "$EHR" tcp 443 1)
r3=$(ww_probe bms "$BMS" "$MGMT" tcp 8081 1) r4=$(ww_probe bms "$BMS" "$EHR" tcp 8080 1)
if [ "$r1" = reply ] && [ "$r2" = reply ] && [ "$r3" != reply ] && [ "$r4" != reply ]; then
	ok "real connections: the learned ones succeed ($r1, $r2), others are denied ($r3, $r4)"
else
	fail "real connections after apply" "8080: $r1, 443: $r2, 8081: $r3, ehr 8080: $r4"
fi
if ! "$WARDWALL" learn --zone nosuchzone >/dev/null 2>"$tmp/err" && grep -q 'not in the applied policy' "$tmp/err"; then
	ok "learn of an unknown zone is refused: $(cat "$tmp/err")"
else
	fail "learn of an unknown zone" "$(cat "$tmp/err")"
fi
finish
