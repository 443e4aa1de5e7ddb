#!/bin/bash
# The fleet against a real etcd: one etcd member and three gateways, each a network namespace
# with its own `wardwall agent` (tests/fleet/lib.sh). Publish and converge, each kernel holding
# exactly its gateway's part; a stale base refused; a forged record and a replayed generation
# refused; a failed canary halting the rollout and the other canary rolling back; etcd down
# (fail-static) and back; an agent killed during an apply; a dead agent's status expiring.
# Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
export WARDWALL
unset WARDWALL_NOW
. tests/e2e/tap.sh
skip_unless etcd etcdctl python3
. tests/fleet/lib.sh
trap fl_down EXIT INT TERM

K=/wardwall/test
fl_up || { fail "fleet namespaces"; finish; }
fl_keys || { fail "publisher keys"; finish; }
P=$FL_DIR/policies
mkdir -p "$P"
# v1 as shipped; v2 with one more flow; bad: ward asks for XDP on interfaces its namespace
# does not have, so its apply fails (the kernel refuses) and it is the failing canary.
python3 - policies/example-fleet.json "$P" <<'PY'
import copy, json, sys
p = json.load(open(sys.argv[1]))
json.dump(p, open(sys.argv[2] + "/v1.json", "w"), indent=1)
v2 = copy.deepcopy(p)
v2["flows"].append({"id": "ws-to-bms", "from": "workstations", "to": "bms", "services": ["https"], "action": "allow"})
json.dump(v2, open(sys.argv[2] + "/v2.json", "w"), indent=1)
v3 = copy.deepcopy(v2)
v3["flows"].append({"id": "pacs-to-ehr", "from": "pacs", "to": "ehr", "services": ["hl7-mllp"], "action": "allow"})
json.dump(v3, open(sys.argv[2] + "/v3.json", "w"), indent=1)
bad = copy.deepcopy(v3)
bad["flows"].append({"id": "bad-extra", "from": "ehr", "to": "pacs", "services": ["dicom"], "action": "allow"})
bad["gateways"]["ward"]["xdp"] = "native"
json.dump(bad, open(sys.argv[2] + "/bad.json", "w"), indent=1)
# probes: a workstation reaching the HIS over https, run by core and ward (the zones they serve)
pv1 = copy.deepcopy(v3)
pv1["probes"] = [{"id": "ws-his", "from": "10.30.100.5", "to": "10.30.2.10", "port": 443, "timeout_ms": 500}]
pv1["flows"].append({"id": "ws-to-pacs-hl7", "from": "workstations", "to": "pacs", "services": ["hl7-mllp"], "action": "allow"})
json.dump(pv1, open(sys.argv[2] + "/pv1.json", "w"), indent=1)
pv2 = copy.deepcopy(pv1)
pv2["flows"].append({"id": "ws-to-ehr-dicom", "from": "workstations", "to": "ehr", "services": ["dicom"], "action": "allow"})
json.dump(pv2, open(sys.argv[2] + "/pv2.json", "w"), indent=1)
PY
for g in core ward bms; do
	for v in v1 v2 v3 pv1; do "$WARDWALL" fleet part "$P/$v.json" "$g" >"$P/$v-$g.json" || fail "fleet part $v $g"; done
done

# Does gateway G's kernel hold exactly the part PART (read back by plan: no change to make)?
holds() {
	fl_gw "$1" "$WARDWALL" plan --detailed-exitcode "$2" >"$FL_DIR/plan.out" 2>&1
}
status_of() { # GATEWAY FIELD
	fl_status_json 2>/dev/null | python3 -c '
import json, sys
try:
    v = json.load(sys.stdin)
except ValueError:
    print("no-answer"); sys.exit(0)
g = [g for g in v["gateways"] if g["name"] == sys.argv[1]]
print(g[0][sys.argv[2]] if g else "missing")' "$1" "$2" 2>/dev/null
}
# Waits until FIELD of GATEWAY's status is VALUE (TIMEOUT s, default 10).
wait_status() {
	local end=$((SECONDS + ${4:-60}))
	while [ "$SECONDS" -lt "$end" ]; do
		[ "$(status_of "$1" "$2")" = "$3" ] && return 0
		sleep 0.2
	done
	return 1
}
# Waits until GATEWAY's last_error matches PATTERN (TIMEOUT s, default 10).
wait_error() {
	local end=$((SECONDS + ${3:-60}))
	while [ "$SECONDS" -lt "$end" ]; do
		status_of "$1" last_error | grep -q "$2" && return 0
		sleep 0.2
	done
	return 1
}
# Publishes VERSION with ARGS; sets gen to the generation published.
pub() {
	local v=$1
	shift
	fl_publish "$@" "$P/$v.json" >"$FL_DIR/pub.out" 2>&1 || return 1
	gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
}
all_hold() { # VERSION
	local g bad=""
	for g in core ward bms; do holds "$g" "$P/$1-$g.json" || bad="$bad $g"; done
	[ -z "$bad" ] || { echo "$bad: $(cat "$FL_DIR/plan.out")"; return 1; }
}

"$WARDWALL" check "$P/v1.json" >/dev/null && "$WARDWALL" check "$P/v1-core.json" >/dev/null &&
	ok "each gateway's part is a valid policy" || fail "each gateway's part is a valid policy"

if command -v systemd-analyze >/dev/null; then
	unit=$FL_DIR/wardwall-agent@core.service
	sed "s#/usr/local/sbin/wardwall#$WARDWALL#" vm/wardwall-agent@.service >"$unit"
	out=$(systemd-analyze verify "$unit" 2>&1)
	[ -z "$out" ] && ok "systemd-analyze verify wardwall-agent@.service" ||
		fail "systemd-analyze verify wardwall-agent@.service" "$out"
fi

fl_etcd_start 1 || { fail "etcd starts in its namespace"; finish; }
for g in core ward bms; do fl_gw_add "$g"; fl_agent_start "$g"; done

pub v1 && fl_wait_converged 1 90 &&
	ok "publish generation 1: three gateways converge" ||
	fail "publish generation 1: three gateways converge" "$(cat "$FL_DIR/pub.out")" "$(fl_status_json)"
why=$(all_hold v1) && ok "each kernel holds exactly its gateway's part (plan: no change)" ||
	fail "each kernel holds exactly its gateway's part" "$why"
fl_mgmt etcdctl --endpoints "$(fl_endpoints)" get --print-value-only $K/policy >"$FL_DIR/gen1.record"

if pub v2 --base 0; then
	fail "a stale --base is refused"
else
	grep -q "stale base" "$FL_DIR/pub.out" && [ "$(status_of core generation)" = 1 ] &&
		ok "a stale --base is refused, nothing written" ||
		fail "a stale --base is refused" "$(cat "$FL_DIR/pub.out")"
fi

# A record signed by another key, written where the policy goes: refused by every agent.
fl_mgmt "$WARDWALL" publish --etcd "$(fl_endpoints)" --key $K --sign-key "$FL_DIR/forger/evidence.key" \
	"$P/v2.json" >/dev/null 2>&1
if wait_error core "signature does not verify" && wait_error bms "signature does not verify"; then
	why=$(all_hold v1) && [ "$(status_of ward generation)" = 1 ] &&
		ok "a forged record is refused and reported; generation 1 stays enforced" ||
		fail "a forged record is refused" "$why"
else
	fail "a forged record is refused and reported" "$(fl_status_json)"
fi
fl_mgmt "$WARDWALL" fleet status --etcd "$(fl_endpoints)" --key $K \
	--publisher-key "$FL_DIR/pub/evidence.pub" | grep -q "signature INVALID" &&
	ok "fleet status says the published record's signature is invalid" ||
	fail "fleet status says the published record's signature is invalid"

pub v2 && fl_wait_converged "$gen" 90 && all_hold v2 >/dev/null &&
	ok "a real publish after the forgery converges (generation $gen)" ||
	fail "a real publish after the forgery converges" "$(cat "$FL_DIR/pub.out")" "$(fl_status_json)"

# The signed generation 1 record, replayed: a valid signature, an older generation.
fl_mgmt etcdctl --endpoints "$(fl_endpoints)" put $K/policy <"$FL_DIR/gen1.record" >/dev/null
if wait_error core replayed && wait_error bms replayed; then
	why=$(all_hold v2) && [ "$(status_of core generation)" = "$gen" ] &&
		ok "a replayed generation 1 is refused and reported; generation $gen stays" ||
		fail "a replayed generation is refused" "$why"
else
	fail "a replayed generation is refused and reported" "$(fl_status_json)"
fi

# Canaries: core and ward first; ward's apply fails, so bms holds and core returns to v3.
pub v3 && fl_wait_converged "$gen" 90 || fail "publish v3" "$(fl_status_json)"
pub bad --canary core --canary ward
if wait_status ward refused_generation "$gen" 60 && wait_status bms state halted 60 &&
	wait_status core state rolled-back 60; then
	why=$(all_hold v3) && ok "a failed canary halts the rollout, the other canary rolls back (generation $gen)" ||
		fail "a failed canary halts the rollout: kernels" "$why"
else
	fail "a failed canary halts the rollout, the other canary rolls back" "$(fl_status_json)"
fi

# etcd down: every gateway keeps enforcing; back: a publish converges.
fl_etcd_kill 1
sleep 2
why=$(all_hold v3) && grep -q "fail-static" "$FL_DIR/agent-core.log" &&
	ok "etcd down: every gateway keeps its generation (fail-static)" ||
	fail "etcd down: every gateway keeps its generation" "$why"
fl_etcd_start 1 && pub v1 && fl_wait_converged "$gen" 90 && all_hold v1 >/dev/null &&
	ok "etcd back: the agents reconnect and converge on generation $gen" ||
	fail "etcd back: the agents reconnect and converge" "$(cat "$FL_DIR/pub.out")" "$(fl_status_json)"

# An agent killed (SIGKILL) while it applies recovers on restart.
# (v3 changes core's part; the kill lands while it reads, verifies or applies the record)
pub v3
sleep 0.1
fl_agent_kill core KILL
fl_agent_start core
fl_wait_converged "$gen" 90 && all_hold v3 >/dev/null &&
	ok "an agent killed during an apply converges after restart" ||
	fail "an agent killed during an apply converges after restart" "$(fl_status_json)" "$(tail -5 "$FL_DIR/agent-core.log")"

# A dead agent is visible: its status lives only as long as its lease (3 s).
fl_agent_kill bms KILL
wait_status bms state missing 60 && ! fl_status_json >/dev/null 2>&1 &&
	ok "a dead agent's status expires with its lease; fleet status is not converged" ||
	fail "a dead agent's status expires with its lease" "$(fl_status_json)"
fl_agent_start bms
fl_wait_converged "$gen" 90 && ok "the restarted agent reports again" ||
	fail "the restarted agent reports again" "$(fl_status_json)"

# Evidence of the fleet: every agent puts its signed bundle under KEY/evidence/NAME after a
# generation; `evidence export --fleet` gathers them with a signed summary.
"$WARDWALL" evidence keygen --key-dir "$FL_DIR/auditor" >/dev/null
mkdir -p "$FL_DIR/gwkeys"
for g in core ward bms; do cp "$FL_DIR/state-$g/keys/evidence.pub" "$FL_DIR/gwkeys/$g.pub"; done
fexport() { # OUT [ARGS]: exports a fleet bundle to OUT
	local o=$1
	shift
	fl_mgmt "$WARDWALL" evidence export --fleet --etcd "$(fl_endpoints)" --fleet-key $K \
		--key "$FL_DIR/auditor/evidence.key" --publisher-key "$FL_DIR/pub/evidence.pub" \
		--out "$o" "$@" >"$o.out" 2>&1
}
summary() { # BUNDLE FIELD
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1] + "/fleet.json"))["summary"][sys.argv[2]])' "$1" "$2"
}
gwfield() { # BUNDLE GATEWAY FIELD
	python3 -c '
import json, sys
g = [g for g in json.load(open(sys.argv[1] + "/fleet.json"))["gateways"] if g["name"] == sys.argv[2]][0]
print(g[sys.argv[3]])' "$1" "$2" "$3"
}
fverify() { # BUNDLE: verifies with the auditor's, the publisher's and the gateways' keys
	"$WARDWALL" evidence verify --key "$FL_DIR/auditor/evidence.pub" \
		--publisher-key "$FL_DIR/pub/evidence.pub" --gateway-keys "$FL_DIR/gwkeys" "$1" >"$1.verify" 2>&1
}
# the agents export after converging: wait until the bundle accounts for all three
for i in $(seq 1 40); do
	B=$FL_DIR/fleet-ev.$i
	fexport "$B" --gateway-keys "$FL_DIR/gwkeys" && [ "$(summary "$B" evidence_of_published)" = 3 ] && break
	sleep 0.5
done
if [ "$(summary "$B" complete)" = True ] && [ "$(summary "$B" converged)" = 3 ] &&
	grep -q "3 with signed evidence of the published generation" "$B.out" && fverify "$B" &&
	grep -q "ok $B/gateways/bms: gateway bms's bundle, signed by its pinned key" "$B.verify" &&
	grep -q "signed by the publisher" "$B.verify"; then
	ok "evidence export --fleet: three gateways' signed bundles of generation $gen, complete, verified with every key"
else
	fail "evidence export --fleet: three gateways' bundles, complete, verified" "$(cat "$B.out")" \
		"$(cat "$B.verify" 2>/dev/null)" "$(cat "$B/fleet.json" 2>/dev/null | head -60)"
fi
cp -r "$B" "$FL_DIR/tampered"
sed -i 's/"in_sync": true/"in_sync": false/' "$FL_DIR/tampered/gateways/ward/evidence.json"
if fverify "$FL_DIR/tampered"; then
	fail "a changed gateway file in a fleet bundle fails verification" "$(cat "$FL_DIR/tampered.verify")"
else
	grep -q "gateways/ward/evidence.json: sha256 .* differs from the manifest" "$FL_DIR/tampered.verify" &&
		ok "a changed gateway file in a fleet bundle fails verification" ||
		fail "a changed gateway file in a fleet bundle fails verification: the reason" "$(cat "$FL_DIR/tampered.verify")"
fi
cp -r "$B" "$FL_DIR/stray" && cp -r "$B/gateways/core" "$FL_DIR/stray/gateways/rogue"
fverify "$FL_DIR/stray" && grep -q "gateways/rogue: not in fleet.json: not covered by the signature" "$FL_DIR/stray.verify" &&
	ok "a gateway bundle added to a fleet bundle is named as not covered by the signature" ||
	fail "a gateway bundle added to a fleet bundle is named" "$(cat "$FL_DIR/stray.verify")"
# a gateway whose key is not the pinned one proves nothing
cp "$FL_DIR/forger/evidence.pub" "$FL_DIR/gwkeys/core.pub"
if fverify "$B"; then
	fail "a gateway bundle checked against another pinned key fails" "$(cat "$B.verify")"
else
	grep -q "gateways/core/manifest.sig: wrong key" "$B.verify" &&
		ok "a gateway bundle checked against another pinned key fails (wrong key)" ||
		fail "a gateway bundle checked against another pinned key fails: the reason" "$(cat "$B.verify")"
fi
cp "$FL_DIR/state-core/keys/evidence.pub" "$FL_DIR/gwkeys/core.pub"
# a dead gateway and one that is not converged: said, not hidden
fl_agent_kill bms KILL
wait_status bms state missing 60
B=$FL_DIR/fleet-ev-missing
if fexport "$B" --gateway-keys "$FL_DIR/gwkeys" && [ "$(summary "$B" complete)" = False ] &&
	[ "$(summary "$B" reported)" = 2 ] && [ "$(gwfield "$B" bms reported)" = False ] &&
	gwfield "$B" bms why | grep -q "no live status" &&
	grep -q "NOT ACCOUNTED FOR bms: no live status" "$B.out" && fverify "$B"; then
	ok "evidence export --fleet says which gateway did not report (bms), still with its last signed bundle"
else
	fail "evidence export --fleet says which gateway did not report" "$(cat "$B.out")" "$(cat "$B.verify" 2>/dev/null)"
fi
fl_agent_start bms
fl_wait_converged "$gen" 90 || fail "bms back" "$(fl_status_json)"
# ward refuses a generation (its apply fails): it reports, but it is not converged
pub bad
wait_status ward refused_generation "$gen" 60
B=$FL_DIR/fleet-ev-refused
if fexport "$B" && [ "$(summary "$B" complete)" = False ] && [ "$(summary "$B" converged)" = 2 ] &&
	gwfield "$B" ward why | grep -q "enforces generation $((gen - 1)), $gen is published" &&
	[ "$(gwfield "$B" ward reported)" = True ] && fverify "$B"; then
	ok "evidence export --fleet says which gateway is not converged (ward refused generation $gen)"
else
	fail "evidence export --fleet says which gateway is not converged" "$(cat "$B.out")" \
		"$(cat "$B.verify" 2>/dev/null)"
fi
B=$FL_DIR/fleet-ev-json
if fexport "$B" --json && python3 -c '
import json, sys
j = json.loads(open(sys.argv[1]).read())
assert j["converged"] == 2 and j["expected"] == 3 and j["signature"] == "valid", j
assert any(l.startswith("ward: enforces generation") for l in j["not_accounted_for"]), j' "$B.out"; then
	ok "evidence export --fleet --json: one object, the same accounting"
else
	fail "evidence export --fleet --json" "$(cat "$B.out")"
fi

# Probes: after its apply each agent connects its part's probes; core and ward run "ws-his" (bms
# serves neither zone). A listener at the HIS address in core's and ward's namespaces answers it.
for g in core ward; do
	fl_gw "$g" ip addr add 10.30.100.5/32 dev lo
	fl_gw "$g" ip addr add 10.30.2.10/32 dev lo
	ip netns exec "$FL_ID-$g" python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.30.2.10", 443)); s.listen(16)
while True:
    c, _ = s.accept(); c.close()' >/dev/null 2>&1 &
	echo "$!" >>"$FL_DIR/pids"
done
# Listening before the publish (a fixed 0.3 s was too short under load: "Connection refused").
for g in core ward; do
	for ((i = 0; i < 100; i++)); do
		[ -n "$(ip netns exec "$FL_ID-$g" ss -Hltn 'sport = :443')" ] && break
		sleep 0.1
	done
done
grep -q '"ws-his"' "$P/pv1-core.json" && grep -q '"ws-his"' "$P/pv1-ward.json" &&
	! grep -q '"ws-his"' "$P/pv1-bms.json" &&
	ok "a gateway's part keeps the probes from or to the zones it serves" ||
	fail "a gateway's part keeps the probes from or to the zones it serves"
if pub pv1 && fl_wait_converged "$gen" 90 && [ "$(status_of core probes_ok)" = 1 ] &&
	[ "$(status_of ward probes_ok)" = 1 ] && [ "$(status_of bms probes_ok)" = 0 ]; then
	ok "every probe connects after the apply: core and ward converge on generation $gen (probes_ok 1)"
else
	fail "every probe connects after the apply" "$(cat "$FL_DIR/pub.out")" "$(fl_status_json)"
fi
pgen=$gen
# ward loses the workstation address: its probe fails after the apply of the next generation, a
# canary's failure: ward rolls back, core (the other canary) returns, bms holds.
fl_gw ward ip addr del 10.30.100.5/32 dev lo
pub pv2 --canary core,ward
if wait_status ward refused_generation "$gen" 60 && wait_status bms state halted 60 &&
	wait_status core state rolled-back 60; then
	why=""
	for g in core ward bms; do holds "$g" "$P/pv1-$g.json" || why="$why $g: $(cat "$FL_DIR/plan.out")"; done
	err=$(status_of ward last_error)
	[ -z "$why" ] && echo "$err" | grep -q 'probe "ws-his" failed after the apply.*rolled back' &&
		ok "a canary's failed probe: it rolls back at once, the rollout halts, the other canary returns (every kernel holds generation $pgen)" ||
		fail "a canary's failed probe: kernels and report" "$why" "$err"
else
	fail "a canary's failed probe halts the rollout" "$(fl_status_json)" "$(tail -5 "$FL_DIR/agent-ward.log")"
fi
finish
