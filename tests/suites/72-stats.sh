#!/bin/bash
# `wardwall stats` on the simulated hospital (tests/e2e/lib.sh):
#   - `stats --json` counts exactly what was sent, per flow and tier: with XDP on (the example
#     policy on a private bpffs) nftables counts the connection-opening packet, XDP every packet
#     of the connection in both directions, and denied packets only in XDP, which drops them;
#     after a re-apply with XDP off, nftables counters go on and the XDP tier is gone;
#   - `stats --unused` with snapshots: traffic to flows A and C, `stats --record`, traffic to A
#     again; at the snapshot's time A had traffic since, C and B (never used) did not;
#   - `stats --watch 1` redraws: two frames in three seconds.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a bpffs
# mounted on a temporary directory, all removed on exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
ww_tier_setup "$EXAMPLE" "$tmp" || exit 2
ww_sim_start "$POLICY" udp:24005 biomed
ww() { ip netns exec "$GW" "$WARDWALL" "$@"; }

# The flows: A monitors-to-gateway (UDP, answered), C siem-poll (one echo request, answered),
# D guest-no-clinical (UDP, denied: no answer), B ws-to-lis (nothing sent, ever).
MON=$(ww_addr monitors 4) GWAY=$(ww_addr biomed/monitor-gw 4)
SIEM=$(ww_addr mgmt/siem 4) DC=$(ww_addr identity/dc 4)
GUEST=$(ww_addr guest 4) HIS=$(ww_addr ehr/his-app 4)
send_a() {
	local i
	for ((i = 0; i < $1; i++)); do
		ww_probe monitors "$MON" "$GWAY" udp 24005 1 >/dev/null || return 1
	done
}
send_c() { ww_probe mgmt "$SIEM" "$DC" icmp; }
send_d() {
	local i
	for ((i = 0; i < $1; i++)); do
		ww_probe guest "$GUEST" "$HIS" udp 9999 0.2 >/dev/null && return 1
	done
	return 0
}

# Checks `stats --json` (in $1) against $2, "flow nft xdp" lines ("null" for an absent tier);
# every flow not listed must have counted nothing. Prints PASS/FAIL lines.
check_stats() {
	"$WW_PYTHON" - "$1" "$2" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
want = {}
for l in sys.argv[2].strip().splitlines():
    f, a, b = l.split()
    want[f] = (None if a == "null" else int(a), None if b == "null" else int(b))
xdp_on = any(v[1] is not None for v in want.values())
seen, quiet, noisy = set(), 0, []
for f in s["flows"]:
    seen.add(f["id"])
    pk = lambda t: None if t is None else t["packets"]
    got = (pk(f["nftables"]), pk(f["xdp"]))
    exp = want.get(f["id"], (0, 0 if xdp_on else None))
    if f["id"] in want:
        print("%s %s: nftables %s, xdp %s (want %s, %s)" % ("PASS" if got == exp else "FAIL", f["id"], got[0], got[1], exp[0], exp[1]))
    elif got != exp:
        noisy.append("%s: nftables %s, xdp %s" % (f["id"], got[0], got[1]))
    else:
        quiet += 1
print(("FAIL" if noisy else "PASS") + " the %d other flows counted nothing (nftables 0, xdp %s) %s" %
      (quiet + len(noisy), 0 if xdp_on else "absent", "; ".join(noisy)))
for f in want:
    if f not in seen:
        print("FAIL %s: not in stats --json" % f)
print(("PASS" if s["in_sync"] else "FAIL") + " in_sync: %s, generation %s" % (s["in_sync"], s["generation"]))
print(("PASS" if ("xdp" in s) == xdp_on else "FAIL") + " the xdp object is %s" % ("there" if "xdp" in s else "absent"))
EOF
}

# ---- counts per flow and tier ----
if send_a 3 && send_c && send_d 2; then
	ok "sent: 3 connections to A (answered), 1 echo request to C (answered), 2 denied datagrams to D"
else
	fail "the probes got the answers the policy gives"
fi
if ww stats --json >"$tmp/stats.json" 2>"$tmp/err"; then
	ok "stats --json exits 0"
else
	fail "stats --json exits 0" "$(cat "$tmp/err")"
fi
if [ $XDP = 1 ]; then
	report check_stats "$tmp/stats.json" "
monitors-to-gateway 3 6
siem-poll 1 2
guest-no-clinical 0 2
"
else
	report check_stats "$tmp/stats.json" "
monitors-to-gateway 3 null
siem-poll 1 null
guest-no-clinical 2 null
"
fi
if ww stats >"$tmp/stats.txt" 2>&1 &&
	grep -qE '^monitors-to-gateway +allow +3 +177 ' "$tmp/stats.txt"; then
	ok "stats (text): $(grep '^monitors-to-gateway' "$tmp/stats.txt" | tr -s ' ')"
else
	fail "stats (text) shows monitors-to-gateway with 3 packets, 177 bytes in nftables" "$(cat "$tmp/stats.txt")"
fi

# An identical apply takes a snapshot when one is due (the newest is WARDWALL_SNAPSHOT_INTERVAL
# seconds old; 0: always), with the counts the kernel has now, also when it trusts the ruleset
# generation it left and does not read the table (docs/nftables.md); else it takes none.
snaps() { wc -l <"$WARDWALL_STATE_DIR/snapshots.jsonl" 2>/dev/null || echo 0; }
before=$(snaps)
# The first apply (no table before it) snapshots the counters it made, at zero (it takes them
# from the table it compiled instead of reading back counters it has just created).
first=$(head -n 1 "$WARDWALL_STATE_DIR/snapshots.jsonl" 2>/dev/null | "$WW_PYTHON" -c '
import json, sys
f = json.load(sys.stdin)["flows"]
print(len(f), "zero" if f and all(v == [0, 0] for v in f.values()) else "not-zero")' 2>/dev/null)
if [ "$before" -ge 1 ] && [ "${first#* }" = zero ]; then
	ok "the first apply took a snapshot ($before in the file): ${first% *} flows, every count zero"
else
	fail "the first apply took a snapshot, every count zero" "snapshots.jsonl: $before lines; $first"
fi
WARDWALL_SNAPSHOT_INTERVAL=0 ww apply --json "$POLICY" >"$tmp/noop.json" 2>"$tmp/err"
read_how=$("$WW_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["nftables"]["read"])' \
	"$tmp/noop.json" 2>/dev/null)
snap=$(tail -n 1 "$WARDWALL_STATE_DIR/snapshots.jsonl" | "$WW_PYTHON" -c '
import json, sys
print(json.load(sys.stdin)["flows"]["monitors-to-gateway"][0])' 2>/dev/null)
if [ "$read_how" = generation-unchanged ] && [ "$snap" = 3 ] && [ "$(snaps)" = $((before + 1)) ]; then
	ok "an identical apply ($read_how) with a snapshot due snapshots monitors-to-gateway at 3 nftables packets"
else
	fail "an identical apply (generation-unchanged) with a snapshot due snapshots monitors-to-gateway at 3 packets" \
		"read: $read_how, snapshot: $snap, lines $before -> $(snaps)" "$(cat "$tmp/err")"
fi
before=$(snaps)
ww apply --json "$POLICY" >"$tmp/noop.json" 2>"$tmp/err"
result=$("$WW_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["result"])' \
	"$tmp/noop.json" 2>/dev/null)
if [ "$result" = unchanged ] && [ "$(snaps)" = "$before" ]; then
	ok "an identical apply a moment after a snapshot takes none ($before lines)"
else
	fail "an identical apply a moment after a snapshot takes none" "lines $before -> $(snaps)" \
		"$(cat "$tmp/noop.json" "$tmp/err")"
fi

# ---- unused flows, decided from snapshots ----
if ww stats --record >/dev/null 2>"$tmp/err"; then
	ok "stats --record"
else
	fail "stats --record" "$(cat "$tmp/err")"
fi
T1=$(date -u +%Y-%m-%dT%H:%M:%SZ) # at or after the snapshot
sleep 1.1
send_a 1 || fail "a fourth connection to A is answered"
if ww stats --unused "$T1" --json >"$tmp/unused.json" 2>"$tmp/err"; then
	ok "stats --unused $T1 --json exits 0"
else
	fail "stats --unused $T1 --json exits 0" "$(cat "$tmp/err")"
fi
report "$WW_PYTHON" - "$tmp/unused.json" <<'EOF'
import json, sys
u = json.load(open(sys.argv[1]))
state = {f["id"]: f["state"] for f in u["flows"]}
print(("PASS" if u["snapshot"] else "FAIL") + " --unused compares with the snapshot of %s" % u["snapshot"])
for f, want in (("monitors-to-gateway", "used"), ("siem-poll", "unused"), ("guest-no-clinical", "unused"),
                ("ws-to-lis", "unused")):
    print("%s --unused: %s is %s (want %s)" % ("PASS" if state.get(f) == want else "FAIL", f, state.get(f), want))
others = [f for f, s in state.items() if s != "unused" and f != "monitors-to-gateway"]
print(("PASS" if not others else "FAIL") + " --unused: no other flow had traffic since: %s" % (others or "none"))
EOF
# The text form lists B under "no traffic", A under "traffic".
ww stats --unused "$T1" >"$tmp/unused.txt" 2>&1
section() { awk -v s="$1:" '$0 == s { on = 1; next } /^[a-z].*:$/ { on = 0 } on { print $1 }' "$tmp/unused.txt"; }
if section "no traffic" | grep -qx ws-to-lis && ! section "no traffic" | grep -qx monitors-to-gateway &&
	section traffic | grep -qx monitors-to-gateway; then
	ok "stats --unused (text): ws-to-lis under \"no traffic\", monitors-to-gateway under \"traffic\""
else
	fail "stats --unused (text): ws-to-lis under \"no traffic\", monitors-to-gateway under \"traffic\"" \
		"$(cat "$tmp/unused.txt")"
fi
head=$(head -1 "$tmp/unused.txt")
snap=$("$WW_PYTHON" -c 'import json, sys; print(json.load(open(sys.argv[1]))["snapshot"])' "$tmp/unused.json")
if [ "$head" = "flows without traffic since $T1 (compared with the snapshot of $snap):" ]; then
	ok "stats --unused (text) says which snapshot: $head"
else
	fail "stats --unused (text) says which snapshot" "$head"
fi
# A bare date is that day's start (UTC); a date that is not one is refused, by name.
day=$(date -u +%Y-%m-%d)
if ww stats --unused "$day" --json >"$tmp/day.json" 2>"$tmp/err" &&
	grep -q "\"since\": \"${day}T00:00:00Z\"" "$tmp/day.json"; then
	ok "stats --unused $day: the day's start, ${day}T00:00:00Z"
else
	fail "stats --unused $day: the day's start" "$(head -c 600 "$tmp/day.json")" "$(cat "$tmp/err")"
fi
ww stats --unused 2026-13-01 >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q '"2026-13-01" is not a date' "$tmp/out"; then
	ok "stats --unused 2026-13-01: exit 2, $(head -n 1 "$tmp/out")"
else
	fail "stats --unused 2026-13-01: exit 2, named" "exit $rc" "$(cat "$tmp/out")"
fi

# ---- XDP off: nftables counts on, the XDP tier is gone ----
if [ $XDP = 1 ]; then
	if ww apply "$NFT_ONLY" >"$tmp/out" 2>"$tmp/err"; then
		ok "re-apply with XDP off: $(head -1 "$tmp/out")"
		send_a 2 && send_d 1 || fail "after XDP off, A is answered and D denied"
		ww stats --json >"$tmp/stats2.json" 2>"$tmp/err"
		report check_stats "$tmp/stats2.json" "
monitors-to-gateway 6 null
siem-poll 1 null
guest-no-clinical 1 null
"
	else
		fail "re-apply with XDP off" "$(cat "$tmp/out" "$tmp/err")"
	fi
fi

# ---- --watch ----
timeout 3 ip netns exec "$GW" "$WARDWALL" stats --watch 1 >"$tmp/watch" 2>&1
frames=$(grep -c 'wardwall stats at' "$tmp/watch")
clears=$(grep -o $'\033\\[H\033\\[2J' "$tmp/watch" | wc -l)
if [ "$frames" -ge 2 ] && [ "$clears" = "$frames" ]; then
	ok "stats --watch 1 under timeout 3: $frames frames, each after a clear screen"
else
	fail "stats --watch 1 under timeout 3: at least 2 frames, each after a clear screen" \
		"frames $frames, clears $clears" "$(head -c 2000 "$tmp/watch")"
fi

ww_sim_down_tap
finish
