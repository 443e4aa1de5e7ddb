#!/bin/bash
# Detection end to end, on the simulated hospital (tests/e2e/lib.sh), nftables tier:
#   `wardwall serve` reads the event stream, records it under <state dir>/events and runs the
#   detectors; replayed attack traffic raises exactly the expected alerts:
#     - a scanning workstation (25 ports of an EHR server in a fraction of a second): scan;
#     - biomed trying SMB and RDP on the EHR: lateral (one alert naming both services);
#     - a building-management controller (bms, in monitor mode) talking to mgmt: new_talker;
#   each alert names zones, flow or default, counts, first/last seen and a quarantine command;
#   `wardwall alerts --since` answers the same from the recorded events; /metrics counts alerts
#   by detector and zone and never names an address.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a private
# state directory, all removed on exit; serve listens on the gateway namespace's loopback.
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

ww_sim_start "$POLICY"
if ww_wardwall_serve "$PORT"; then
	ok "serve runs the detectors: $(grep 'detectors on' "$tmp/serve.err" | sed 's/^wardwall: serve: //')"
else
	fail "serve runs the detectors" "$(cat "$tmp/serve.err")"
	finish
fi
start=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# A scanning workstation (25 TCP connection attempts at once), lateral movement (biomed tries
# SMB and RDP on the EHR server) and a new talker in a monitor-mode zone (bms to mgmt passes,
# never seen before).
ww_attack

# Alerts are emitted after a hold of 5 s, at the reader's next tick (2 s).
ALERTS=$tmp/state/events/alerts.jsonl
ww_wait_lines "$ALERTS" 3 150
sleep 2.5 # anything further would show now
check() {
	"$WW_PYTHON" - "$1" "$WS" "$BIO" "$BMS" "$EHR" "$MGMT" <<'PY'
import json, sys
path, ws, bio, bms, ehr, mgmt = sys.argv[1:]
alerts = [json.loads(l) for l in open(path) if l.strip()]
by = {a["detector"]: a for a in alerts}
assert sorted(a["detector"] for a in alerts) == ["lateral", "new_talker", "scan"], \
    [(a["detector"], a["src"], a["dst_zones"]) for a in alerts]
s = by["scan"]
assert s["src"] == ws and s["src_zone"] == "workstations" and s["dst_zones"] == ["ehr"], s
assert s["count"] >= 20 and s["targets"] == 20 and s["flows"] == ["default"], s
assert s["action"].startswith("wardwall quarantine add %s --reason" % ws), s
assert s["first_seen"] <= s["last_seen"]
l = by["lateral"]
assert l["src"] == bio and l["src_zone"] == "biomed" and l["dst_zones"] == ["ehr"], l
assert sorted(l["services"]) == ["tcp/3389", "tcp/445"] and l["count"] == 2, l
assert l["dst"] == ehr and l["dst_host"] == "ehr/his-app", l
n = by["new_talker"]
assert n["src"] == bms and n["src_zone"] == "bms" and n["dst_zones"] == ["mgmt"], n
assert n["services"] == ["tcp/8080"] and n["dst"] == mgmt, n
print("scan %s -> ehr (%d events, %d targets); lateral %s -> ehr %s; new_talker %s -> mgmt tcp/8080"
      % (ws, s["count"], s["targets"], bio, ",".join(l["services"]), bms))
PY
}
if check "$ALERTS" >"$tmp/check" 2>&1; then
	ok "serve raised exactly the expected alerts: $(cat "$tmp/check")"
else
	fail "serve raised exactly the expected alerts" "$(cat "$tmp/check")" "$(cat "$tmp/serve.err")"
fi
if grep -q 'ALERT scan' "$tmp/serve.err" && grep -q 'suggested: wardwall quarantine add' "$tmp/serve.err"; then
	ok "serve says each alert on stderr with a suggested action"
else
	fail "serve says each alert on stderr" "$(cat "$tmp/serve.err")"
fi
ev=$(grep -c '"type": "event"' "$tmp/state/events/events.jsonl")
if [ "$ev" -ge 28 ]; then
	ok "events recorded in <state dir>/events/events.jsonl: $ev"
else
	fail "events recorded: $ev, want at least 28" "$(head -5 "$tmp/state/events/events.jsonl")"
fi

# ---- alerts --since: the same, from the recorded events ----
if "$WARDWALL" alerts --json --since "$start" >"$tmp/replay.jsonl" 2>"$tmp/err" &&
	check "$tmp/replay.jsonl" >"$tmp/check" 2>&1; then
	ok "alerts --since $start replays the recorded events into the same alerts"
else
	fail "alerts --since replays into the same alerts" "$(cat "$tmp/check" "$tmp/err")"
fi
if "$WARDWALL" alerts --since 2099-01-01T00:00:00Z >"$tmp/out" 2>&1 && [ ! -s "$tmp/out" ]; then
	ok "alerts --since a later time: none"
else
	fail "alerts --since a later time: none" "$(cat "$tmp/out")"
fi
if "$WARDWALL" alerts >"$tmp/out" 2>&1 && grep -q "ALERT lateral .*biomed.* -> ehr 2 events" "$tmp/out"; then
	ok "alerts (text): $(grep lateral "$tmp/out" | cut -c1-160)"
else
	fail "alerts (text)" "$(cat "$tmp/out")"
fi

# ---- metrics ----
ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics" >"$tmp/metrics"
want='wardwall_alerts_total{detector="scan",zone="workstations"} 1
wardwall_alerts_total{detector="lateral",zone="biomed"} 1
wardwall_alerts_total{detector="new_talker",zone="bms"} 1'
got=$(grep '^wardwall_alerts_total' "$tmp/metrics" | sort)
if [ "$got" = "$(sort <<<"$want")" ]; then
	ok "/metrics: alerts by detector and zone"
else
	fail "/metrics: alerts by detector and zone" "got:" "$got"
fi
if ! grep -E '^wardwall_(alerts|detect|events)' "$tmp/metrics" | grep -qE "$WS|$BIO|$BMS"; then
	ok "/metrics names no address: $(grep -cE '^wardwall_(alerts|detect|events)' "$tmp/metrics") detection series"
else
	fail "/metrics names no address" "$(grep -E "$WS|$BIO|$BMS" "$tmp/metrics")"
fi

# ---- the evidence bundle counts the alerts of its window, by detector and zone ----
if "$WARDWALL" evidence keygen >/dev/null 2>&1 &&
	ip netns exec "$GW" "$WARDWALL" evidence export --out "$tmp/b1" >"$tmp/out" 2>&1 &&
	/usr/bin/python3 - "$tmp/b1/evidence.json" >"$tmp/check" 2>&1 <<'PY'; then
import json, sys
import jsonschema
ev = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator(json.load(open("policies/evidence.schema.json"))).validate(ev)
a = ev["alerts"]
got = sorted((x["detector"], x["zone"], x["alerts"]) for x in a["by"])
assert a["recorded"] and a["total"] == 3, a
assert got == [("lateral", "biomed", 1), ("new_talker", "bms", 1), ("scan", "workstations", 1)], got
assert "10.20." not in json.dumps(a)
print(", ".join("%s %s %d" % g for g in got))
PY
	ok "evidence.json counts the window's alerts by detector and zone: $(cat "$tmp/check")"
else
	fail "evidence.json counts the window's alerts" "$(cat "$tmp/out" "$tmp/check")"
fi
if grep -q 'id="alerts"' "$tmp/b1/report.html" 2>/dev/null; then
	ok "report.html lists the alerts"
else
	fail "report.html lists the alerts"
fi
finish
