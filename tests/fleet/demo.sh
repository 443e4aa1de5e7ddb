#!/bin/bash
# make demo-fleet: three gateways (namespaces, each with its own agent) converging through etcd on
# policies/example-fleet.json, a change rolled out canary first, and `fleet status`.
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
