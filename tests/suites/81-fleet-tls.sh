#!/bin/bash
# The fleet over TLS with client certificates (a CA made here with openssl) and etcd users and
# roles: the publisher may write the policy and generation only; each agent may read the fleet's
# keys and write its own status only. The agents converge; what a role does not allow, etcd
# refuses; a client without a certificate, or with a wrong password, gets nothing. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
export WARDWALL
unset WARDWALL_NOW
. tests/e2e/tap.sh
skip_unless etcd etcdctl openssl python3
. tests/fleet/lib.sh
trap fl_down EXIT INT TERM
K=/wardwall/test
export FL_TLS=1
fl_up && fl_keys && fl_ca || { fail "CA and keys"; finish; }
for g in core ward bms; do fl_cert "agent-$g"; done
fl_cert intruder
fl_etcd_start 1 || { fail "etcd starts with TLS and client-cert auth"; finish; }

# users and roles, then authentication on (root is needed to turn it on)
setup() {
	local e=fl_etcdctl g
	$e root user add root --new-user-password pw-root &&
		$e root user grant-role root root &&
		$e root role add publisher &&
		$e root role grant-permission publisher --prefix=true read $K/ &&
		$e root role grant-permission publisher readwrite $K/policy &&
		$e root role grant-permission publisher readwrite $K/generation &&
		$e root user add publisher --new-user-password pw-publisher &&
		$e root user grant-role publisher publisher || return 1
	for g in core ward bms; do
		$e root role add "agent-$g" &&
			$e root role grant-permission "agent-$g" --prefix=true read $K/ &&
			$e root role grant-permission "agent-$g" readwrite "$K/status/$g" &&
			$e root role grant-permission "agent-$g" readwrite "$K/evidence/$g" &&
			$e root user add "agent-$g" --new-user-password "pw-agent-$g" &&
			$e root user grant-role "agent-$g" "agent-$g" || return 1
	done
	$e root auth enable
}
setup >"$FL_DIR/setup.out" 2>&1 && ok "etcd users and roles: publisher, one agent role per gateway" ||
	fail "etcd users and roles" "$(tail -3 "$FL_DIR/setup.out")"
export FL_AUTH=1

for g in core ward bms; do fl_gw_add "$g"; fl_agent_start "$g"; done
P2=$FL_DIR/v2.json
python3 -c '
import json, sys
p = json.load(open("policies/example-fleet.json"))
p["flows"].append({"id": "ws-to-bms", "from": "workstations", "to": "bms", "services": ["https"], "action": "allow"})
json.dump(p, open(sys.argv[1], "w"), indent=1)' "$P2"
fl_publish policies/example-fleet.json >"$FL_DIR/pub.out" 2>&1 && fl_wait_converged 1 90 &&
	ok "over TLS with client certificates and etcd roles, three gateways converge" ||
	fail "over TLS with client certificates and etcd roles, three gateways converge" \
		"$(cat "$FL_DIR/pub.out")" "$(fl_status_json 2>&1)" "$(tail -3 "$FL_DIR/agent-core.log")"

denied() { grep -q "permission denied" "$FL_DIR/e.out"; }
fl_etcdctl agent-core put $K/policy forged >"$FL_DIR/e.out" 2>&1
denied && ok "an agent cannot write the policy (etcd: permission denied)" ||
	fail "an agent cannot write the policy" "$(cat "$FL_DIR/e.out")"
fl_etcdctl agent-core put $K/status/ward '{"generation": 1}' >"$FL_DIR/e.out" 2>&1
denied && ok "an agent cannot write another gateway's status" ||
	fail "an agent cannot write another gateway's status" "$(cat "$FL_DIR/e.out")"
fl_etcdctl publisher put $K/status/core '{}' >"$FL_DIR/e.out" 2>&1
denied && ok "the publisher cannot write a gateway's status" ||
	fail "the publisher cannot write a gateway's status" "$(cat "$FL_DIR/e.out")"
fl_etcdctl agent-core put $K/evidence/ward '{}' >"$FL_DIR/e.out" 2>&1
denied && ok "an agent cannot write another gateway's evidence" ||
	fail "an agent cannot write another gateway's evidence" "$(cat "$FL_DIR/e.out")"
fl_etcdctl agent-core get $K/policy >"$FL_DIR/e.out" 2>&1 && grep -q payload "$FL_DIR/e.out" &&
	ok "an agent reads the policy" || fail "an agent reads the policy" "$(cat "$FL_DIR/e.out")"

# the fleet's evidence over TLS, as the publisher (it reads KEY/): each agent put its bundle
"$WARDWALL" evidence keygen --key-dir "$FL_DIR/auditor" >/dev/null
B=$FL_DIR/fleet-ev
for i in $(seq 1 40); do
	rm -rf "$B"
	# shellcheck disable=SC2046
	fl_mgmt "$WARDWALL" evidence export --fleet $(fl_conn publisher | sed 's/ --key / --fleet-key /') \
		--key "$FL_DIR/auditor/evidence.key" --publisher-key "$FL_DIR/pub/evidence.pub" \
		--out "$B" >"$FL_DIR/e.out" 2>&1 &&
		grep -q "3 with signed evidence of the published generation" "$FL_DIR/e.out" && break
	sleep 0.5
done
grep -q "3 with signed evidence" "$FL_DIR/e.out" &&
	"$WARDWALL" evidence verify --key "$FL_DIR/auditor/evidence.pub" \
		--publisher-key "$FL_DIR/pub/evidence.pub" "$B" >"$FL_DIR/v.out" 2>&1 &&
	ok "over TLS, every agent puts its signed bundle (its role allows only its own key); the fleet bundle verifies" ||
	fail "over TLS, the fleet's evidence" "$(cat "$FL_DIR/e.out")" "$(cat "$FL_DIR/v.out" 2>/dev/null)" \
		"$(tail -3 "$FL_DIR/agent-core.log")"

# a role without its evidence key: enforcing goes on, the bundle waits, the put is retried with a
# growing delay and no new bundle is made for each try
fl_etcdctl root role revoke-permission agent-bms "$K/evidence/bms" >"$FL_DIR/e.out" 2>&1 ||
	fail "revoke agent-bms's evidence key" "$(cat "$FL_DIR/e.out")"
nb=$(ls "$FL_DIR/state-bms/evidence" | grep -c '^[0-9]')
fl_publish "$P2" >"$FL_DIR/pub.out" 2>&1 && fl_wait_converged 2 90
sleep 6
na=$(ls "$FL_DIR/state-bms/evidence" | grep -c '^[0-9]')
err=$(fl_status_json 2>/dev/null | python3 -c '
import json, sys
print([g for g in json.load(sys.stdin)["gateways"] if g["name"] == "bms"][0]["evidence_error"])')
if fl_wait_converged 2 1 && [ $((na - nb)) -eq 1 ] && echo "$err" | grep -q "not put at .*permission denied.*again in"; then
	ok "an agent whose role cannot write its evidence converges, reports why, keeps one bundle waiting ($((na - nb)) new in 6 s)"
else
	fail "an agent whose role cannot write its evidence" "bundles before $nb after $na" "$err" \
		"$(cat "$FL_DIR/pub.out")"
fi

# no client certificate: the TLS handshake fails before any request
fl_mgmt "$WARDWALL" fleet status --etcd "$(fl_endpoints)" --key $K \
	--etcd-cacert "$FL_DIR/ca/ca.pem" >"$FL_DIR/e.out" 2>&1
[ $? -eq 2 ] && ok "without a client certificate, nothing is answered" ||
	fail "without a client certificate, nothing is answered" "$(cat "$FL_DIR/e.out")"
printf 'wrong\n' >"$FL_DIR/wrong.pw"
fl_mgmt "$WARDWALL" fleet status --etcd "$(fl_endpoints)" --key $K --etcd-cacert "$FL_DIR/ca/ca.pem" \
	--etcd-cert "$FL_DIR/ca/publisher.pem" --etcd-key "$FL_DIR/ca/publisher.key" \
	--etcd-user publisher --etcd-password-file "$FL_DIR/wrong.pw" >"$FL_DIR/e.out" 2>&1
[ $? -eq 2 ] && grep -qi "auth" "$FL_DIR/e.out" && ok "a wrong password is refused" ||
	fail "a wrong password is refused" "$(cat "$FL_DIR/e.out")"
fl_mgmt "$WARDWALL" fleet status --etcd "http://10.231.0.2:2379" --key $K >"$FL_DIR/e.out" 2>&1
[ $? -eq 2 ] && ok "plain HTTP to the TLS port gets nothing" ||
	fail "plain HTTP to the TLS port gets nothing" "$(cat "$FL_DIR/e.out")"
finish
