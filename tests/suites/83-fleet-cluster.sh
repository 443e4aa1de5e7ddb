#!/bin/bash
# The fleet on a 3-member etcd cluster (tests/fleet/lib.sh), three gateways: a publish made while
# the cluster has no leader (two members killed) waits for the election instead of failing; the leader killed, and
# later cut off by the network: publishes and watches move to the members that have the
# majority, every kernel keeps a table and converges on the new generation; an agent cut off
# during a publish keeps its generation and converges when healed. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
export WARDWALL
unset WARDWALL_NOW
. tests/e2e/tap.sh
skip_unless etcd etcdctl python3
. tests/fleet/lib.sh
trap fl_down EXIT INT TERM

fl_up && fl_keys || { fail "fleet namespaces and keys"; finish; }
P=$FL_DIR/policies
mkdir -p "$P"
python3 - policies/example-fleet.json "$P" <<'PY'
import copy, json, sys
p = json.load(open(sys.argv[1]))
for r in range(1, 4):
    v = copy.deepcopy(p)
    v.setdefault("services", {})["round"] = [{"proto": "tcp", "ports": [10000 + r]}]
    v["flows"].append({"id": "round", "from": "workstations", "to": "ehr", "services": ["round"], "action": "allow"})
    json.dump(v, open("%s/r%d.json" % (sys.argv[2], r), "w"), indent=1)
PY
for r in 1 2 3; do
	for g in core ward bms; do
		"$WARDWALL" fleet part "$P/r$r.json" "$g" >"$P/r$r-$g.json" || fail "fleet part r$r $g"
	done
done
all_hold() { # ROUND: every kernel holds exactly its part of that round (plan: nothing to do)
	local g bad=""
	for g in core ward bms; do
		fl_gw "$g" "$WARDWALL" plan --detailed-exitcode "$P/r$1-$g.json" >"$FL_DIR/plan.out" 2>&1 ||
			bad="$bad $g"
	done
	[ -z "$bad" ] || { echo "$bad: $(cat "$FL_DIR/plan.out")"; return 1; }
}
pub() { # ROUND: publishes it, sets gen
	fl_publish "$P/r$1.json" >"$FL_DIR/pub.out" 2>&1 || return 1
	gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
}
leader() { # the member that leads now
	local m
	for m in "${FL_MEMBERS[@]}"; do
		fl_mgmt etcdctl --endpoints "http://10.231.0.$((1 + m)):2379" --command-timeout=1s \
			endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
sys.exit(0 if s["header"]["member_id"] == s["leader"] else 1)' && { echo "$m"; return; }
	done
}

# Two members of three killed: the one left loses its leader and answers "no leader". A publish
# started then must wait until a member returns and they elect one (without waiting, it fails
# at once).
fl_etcd_start 1 3 && fl_etcd_start 2 3 && fl_etcd_start 3 3 || { fail "a 3-member cluster"; finish; }
fl_etcd_kill 2
fl_etcd_kill 3
sleep 2.5
fl_publish "$P/r1.json" >"$FL_DIR/pub.out" 2>&1 &
pubpid=$!
sleep 1
fl_etcd_start 2
if wait "$pubpid"; then
	ok "a publish while the cluster has no leader waits for the election: $(head -1 "$FL_DIR/pub.out")"
else
	fail "a publish while the cluster has no leader waits for the election" "$(cat "$FL_DIR/pub.out")"
fi
fl_etcd_start 3 && fl_etcd_wait || { fail "the third member rejoins"; finish; }

for g in core ward bms; do fl_gw_add "$g" && fl_agent_start "$g"; done
fl_wait_converged 1 90 && all_hold 1 >/dev/null &&
	ok "three gateways converge on generation 1 through the cluster" ||
	fail "three gateways converge on generation 1" "$(fl_status_json 2>&1)"

l=$(leader)
[ -n "$l" ] || { fail "the cluster has a leader"; finish; }
fl_etcd_kill "$l"
if pub 2 && fl_wait_converged "$gen" 90 && why=$(all_hold 2); then
	ok "the leader (m$l) killed: the publish and the watches carry on, every gateway converges"
else
	fail "the leader (m$l) killed: publish and converge" "$(cat "$FL_DIR/pub.out")" \
		"${why:-}" "$(fl_status_json 2>&1)"
fi
fl_etcd_start "$l" && fl_etcd_wait || fail "m$l rejoins"

l=$(leader)
fl_link "$FL_ID-etcd$l" down
if pub 3 && fl_wait_converged "$gen" 90 && why=$(all_hold 3); then
	ok "the leader (m$l) cut off: the others elect one, every gateway converges"
else
	fail "the leader (m$l) cut off: publish and converge" "$(cat "$FL_DIR/pub.out")" \
		"${why:-}" "$(fl_status_json 2>&1)"
fi
fl_link "$FL_ID-etcd$l" up
# Healed, it may disrupt the term (no pre-vote in etcd 3.4): the next publish waits out an
# election if there is one.
if pub 1 && fl_wait_converged "$gen" 90 && why=$(all_hold 1); then
	ok "healed: a publish right after converges"
else
	fail "healed: a publish right after converges" "$(cat "$FL_DIR/pub.out")" "${why:-}" \
		"$(fl_status_json 2>&1)"
fi

# An agent cut off during a publish: the others converge, it keeps enforcing its generation
# (fail-static), and converges once healed.
before=$gen
fl_link "$FL_ID-core" down
if pub 2; then
	ok=true
	for g in ward bms; do
		end=$((SECONDS + 60))
		until fl_status_json 2>/dev/null | python3 -c '
import json, sys
g = [g for g in json.load(sys.stdin)["gateways"] if g["name"] == sys.argv[1]]
sys.exit(0 if g and g[0]["generation"] == int(sys.argv[2]) and g[0]["converged"] else 1)' "$g" "$gen"; do
			[ "$SECONDS" -lt "$end" ] || { ok=false; break; }
			sleep 0.2
		done
	done
	held=$(fl_gw core "$WARDWALL" plan --detailed-exitcode "$P/r1-core.json" >/dev/null 2>&1 && echo yes)
	$ok && [ "$held" = yes ] &&
		ok "core cut off during a publish: ward and bms converge on generation $gen, core still enforces generation $before" ||
		fail "core cut off during a publish" "held=$held" "$(fl_status_json 2>&1)"
else
	fail "publish while core is cut off" "$(cat "$FL_DIR/pub.out")"
fi
fl_link "$FL_ID-core" up
fl_wait_converged "$gen" 90 && why=$(all_hold 2) &&
	ok "core healed: it converges on generation $gen" ||
	fail "core healed: it converges" "${why:-}" "$(fl_status_json 2>&1)" "$(tail -5 "$FL_DIR/agent-core.log")"
finish
