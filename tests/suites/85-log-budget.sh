#!/bin/bash
# Per-source-zone log budgets (docs/detect.md "Bursts", nftables.md "Logging", xdp.md), end to
# end on the simulated hospital (tests/e2e/lib.sh), with enforcement.log_rate lowered to 5:
#   a flood of 2,000 denied UDP datagrams from the guest zone, then in the same second 3 denied
#   datagrams from the workstations zone (each a new 5-tuple): all 3 workstation events arrive,
#   the guest flood is accounted for exactly (events printed + reported dropped = 2,000), and the
#   drop reports name the guest zone's budget and never the workstations zone's. Once with the
#   nftables tier alone (the limit objects log/<zone>/5), once with XDP (the per-zone token
#   buckets of ww_log_budget). Both senders run on CPU 0, so that in the XDP tier the flood and
#   the denials meet the same CPU's buckets: with one budget for all zones, the flood spends it
#   and the workstation events are lost. Then with `serve` recording: `alerts --since` says what
#   the detectors did not see, by source zone (guest's drops, exactly the flood less its recorded
#   events; nothing of workstations), and serve's /metrics counts them by tier and zone.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a bpffs
# mounted on a temporary directory, all removed on exit; the root namespace's ruleset and
# /sys/fs/bpf are never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
FLOOD=2000 FEW=3

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft taskset curl

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
ww_policy_nft_only "$EXAMPLE" "$tmp/nft-only.json" || exit 2
ww_policy_log_rate "$tmp/nft-only.json" "$tmp/nft-slow.json" 5 &&
	ww_policy_log_rate "$EXAMPLE" "$tmp/xdp-slow.json" 5 || exit 2

ev_start() { ww_events_start --json "$@"; }

# Sends $3 UDP datagrams from zone $1's address to $2 port 9999, each from a new socket (a new
# 5-tuple: none is taken for a packet of the one before), on CPU 0.
send_udp() {
	ip netns exec "$(ww_ns "${1%%/*}")" taskset -c 0 "$WW_PYTHON" -c '
import socket, sys
for i in range(int(sys.argv[3])):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], 0))
    s.sendto(b"budget", (sys.argv[2], 9999))
    s.close()' "$(ww_addr "$1" 4)" "$(ww_addr "$2" 4)" "$3"
}

# Counts, for tier $1: guest events, workstation events, dropped by zone (JSON).
tally() {
	"$WW_PYTHON" - "$1" "$tmp/ev.out" <<'EOF'
import json, sys
guest = ws = 0
zones = {}
for l in open(sys.argv[2]):
    try:
        e = json.loads(l)
    except ValueError:
        continue
    if e.get("tier") != sys.argv[1]:
        continue
    if e["type"] == "event" and e.get("dport") == 9999:
        if e["src_zone"] == "guest":
            guest += 1
        elif e["src_zone"] == "workstations":
            ws += 1
    elif e["type"] == "dropped":
        for z, n in e.get("zones", {}).items():
            zones[z] = zones.get(z, 0) + n
print(guest, ws, json.dumps(zones, sort_keys=True, separators=(",", ":")))
EOF
}

# The flood and the few, then the checks for tier $1.
budget_check() {
	local tier=$1 i guest ws zones gdrop t
	local t0
	t0=$(date +%s.%N)
	send_udp guest ehr/his-app $FLOOD
	send_udp workstations identity/dc $FEW
	local took
	took=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	for ((i = 0; i < 80; i++)); do
		# Read first: a tally that failed must not pass for an empty one.
		t=$(tally "$tier") || {
			fail "$tier: tally of the events" "$t"
			ww_stop "$WW_EVENTS_PID"
			WW_EVENTS_PID=''
			return
		}
		read -r guest ws zones <<<"$t"
		gdrop=$("$WW_PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1]).get("guest", 0))' "$zones")
		[ $((guest + gdrop)) -ge $FLOOD ] && [ "$ws" -ge $FEW ] && break
		sleep 0.1
	done
	kill -TERM "$WW_EVENTS_PID" 2>/dev/null
	wait "$WW_EVENTS_PID"
	WW_EVENTS_PID=''
	if [ "$ws" = $FEW ]; then
		ok "$tier: $FEW workstation denials sent after a flood of $FLOOD from guest (both in $took s): all $FEW logged"
	else
		fail "$tier: $FEW workstation denials sent after a flood of $FLOOD from guest (both in $took s): $ws logged (want $FEW)" \
			"$(grep -c '"type": "event"' "$tmp/ev.out") events, drops by zone $zones" "$(cat "$tmp/ev.err")"
	fi
	if [ $((guest + gdrop)) = $FLOOD ] && [ "$guest" -ge 1 ] && [ "$guest" -le 20 ]; then
		ok "$tier: guest flood: $guest logged + $gdrop reported dropped on guest's budget = $FLOOD"
	else
		fail "$tier: guest flood: $guest logged + $gdrop reported dropped on guest's budget (want $FLOOD, few logged)" \
			"$(grep dropped "$tmp/ev.out")"
	fi
	if [ "$zones" = "{\"guest\":$gdrop}" ]; then
		ok "$tier: the drop reports name only guest's budget: $zones"
	else
		fail "$tier: the drop reports name only guest's budget" "$zones" "$(grep dropped "$tmp/ev.out")"
	fi
}

# ---- nftables ----
ww_sim_start "$tmp/nft-slow.json"
if ip netns exec "$GW" "$WARDWALL" render "$tmp/nft-slow.json" >"$tmp/render.nft" 2>"$tmp/err"; then
	lims=$(grep -c '^	limit log/[a-z0-9_-]*/5 {' "$tmp/render.nft")
	guest_rule=$(grep -c 'counter name "flow/guest-no-clinical" limit name "log/guest/5" log' "$tmp/render.nft")
	live=$(ip netns exec "$GW" nft list table inet wardwall | grep -c '^	limit log/[a-z0-9_-]*/5 {')
	if [ "$lims" -ge 3 ] && [ "$guest_rule" -ge 1 ] && [ "$live" = "$lims" ]; then
		ok "nftables: $lims limit objects log/<zone>/5 (rendered and live), guest's flow spends log/guest/5"
	else
		fail "nftables: limit objects per zone: $lims rendered, $live live, guest rules $guest_rule" \
			"$(grep -E '^	limit|limit name' "$tmp/render.nft" | head -20)"
	fi
else
	fail "render" "$(cat "$tmp/err")"
fi
if ev_start --tier nftables; then
	budget_check nftables
else
	fail "nftables: events starts" "$(cat "$tmp/ev.err")"
fi

# ---- XDP, on a private bpffs ----
if ! ww_bpffs "$tmp/bpf" 2>"$tmp/err"; then
	ok "# SKIP XDP: cannot mount a bpffs: $(cat "$tmp/err")"
	finish
fi
if ip netns exec "$GW" "$WARDWALL" apply "$tmp/xdp-slow.json" >"$tmp/out" 2>"$tmp/err" &&
	ev_start --tier xdp; then
	ok "apply log_rate 5 (XDP native) on a private bpffs: $(grep xdp: "$tmp/out" | sed 's/^ *//')"
	budget_check xdp
else
	fail "apply log_rate 5 (XDP native), events starts" "$(cat "$tmp/out" "$tmp/err" "$tmp/ev.err")"
fi

# ---- what `alerts` says the detectors did not see (serve's record, XDP) ----
PORT=$((20000 + RANDOM % 20000))
ip netns exec "$GW" ip link set lo up
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)
sleep 1
if ww_wardwall_serve "$PORT"; then
	send_udp guest ehr/his-app $FLOOD
	send_udp workstations identity/dc $FEW
	rec=$tmp/state/events/events.jsonl
	for ((i = 0; i < 80; i++)); do
		sum=$("$WW_PYTHON" - "$rec" <<'EOF'
import json, sys
ev = dropped = 0
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["type"] == "event" and e.get("dport") == 9999 and e["src_zone"] == "guest":
        ev += 1
    elif e["type"] == "dropped":
        dropped += e.get("zones", {}).get("guest", 0)
print(ev, dropped)
EOF
)
		[ "$(awk '{ print $1 + $2 }' <<<"$sum")" -ge $FLOOD ] && break
		sleep 0.1
	done
	read -r gev gdrop <<<"$sum"
	if ip netns exec "$GW" "$WARDWALL" alerts --since "$start" >"$tmp/out" 2>"$tmp/err" &&
		grep -q "did not log since $start (the detectors did not see them), by the source zone whose log budget refused them: guest $gdrop (xdp)$" "$tmp/err" &&
		[ $((gev + gdrop)) = $FLOOD ] && ! grep -q workstations "$tmp/err"; then
		ok "alerts --since: the detectors did not see guest's $gdrop (xdp), $gev of its flood recorded: $FLOOD; nothing of workstations"
	else
		fail "alerts says what was not logged, by zone" "recorded: $gev events, $gdrop dropped" "$(cat "$tmp/err")"
	fi
	m=$(ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics")
	if grep -qx "wardwall_events_over_budget_total{tier=\"xdp\",zone=\"guest\"} $gdrop" <<<"$m" &&
		! grep -q 'over_budget_total{.*workstations' <<<"$m"; then
		ok "metrics: wardwall_events_over_budget_total{tier=\"xdp\",zone=\"guest\"} $gdrop, none for workstations"
	else
		fail "metrics: not logged by zone" "$(grep over_budget <<<"$m")"
	fi
else
	fail "serve starts" "$(cat "$tmp/serve.err")"
fi

ww_sim_down_tap
finish
