#!/bin/bash
# make demo-fleet: three gateways (namespaces, each with its own agent) converging through etcd on
# policies/example-fleet.json, a change rolled out canary first, `fleet status`, and the fleet's
# evidence (`evidence export --fleet`, verified).
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
WARDWALL=$PWD/$BUILD/wardwall
export WARDWALL
. tests/fleet/lib.sh
trap fl_down EXIT INT TERM
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
status() {
	fl_mgmt "$WARDWALL" fleet status --etcd "$(fl_endpoints)" --key /wardwall/test \
		--publisher-key "$FL_DIR/pub/evidence.pub"
}

say "etcd in its own namespace, three gateways, a publisher key"
fl_up && fl_keys && fl_etcd_start 1 || exit 1
for g in core ward bms; do fl_gw_add "$g" && fl_agent_start "$g"; done
echo "etcd at $(fl_endpoints); gateways: core, ward, bms (policies/example-fleet.json)"

say "wardwall publish policies/example-fleet.json"
fl_publish policies/example-fleet.json
fl_wait_converged 1 30 || echo "(not converged within 30 s)"
status

say "a change: workstations may reach bms over https; canary: ward"
python3 -c '
import json, sys
p = json.load(open("policies/example-fleet.json"))
p["flows"].append({"id": "ws-to-bms", "from": "workstations", "to": "bms", "services": ["https"], "action": "allow"})
json.dump(p, open(sys.argv[1], "w"), indent=1)' "$FL_DIR/v2.json"
fl_publish --canary ward "$FL_DIR/v2.json"
fl_wait_converged 2 30 || echo "(not converged within 30 s)"
status
say "what the agents logged"
tail -n +1 "$FL_DIR"/agent-*.log | grep -E "==>|generation"
say "what gateway bms enforces now (nft, in its namespace)"
fl_gw bms nft list table inet wardwall 2>/dev/null | grep -E "chain|ws-to-bms|bms-internal" | head -15

say "the fleet's evidence: every gateway's signed bundle, with a signed summary"
"$WARDWALL" evidence keygen --key-dir "$FL_DIR/auditor" >/dev/null
for i in $(seq 1 20); do
	rm -rf "$FL_DIR/fleet-evidence"
	fl_mgmt "$WARDWALL" evidence export --fleet --etcd "$(fl_endpoints)" --fleet-key /wardwall/test \
		--publisher-key "$FL_DIR/pub/evidence.pub" --key "$FL_DIR/auditor/evidence.key" \
		--out "$FL_DIR/fleet-evidence" >"$FL_DIR/fe.out" 2>&1
	grep -q "3 with signed evidence" "$FL_DIR/fe.out" && break
	sleep 0.5
done
cat "$FL_DIR/fe.out"
"$WARDWALL" evidence verify --key "$FL_DIR/auditor/evidence.pub" \
	--publisher-key "$FL_DIR/pub/evidence.pub" "$FL_DIR/fleet-evidence" 2>/dev/null
