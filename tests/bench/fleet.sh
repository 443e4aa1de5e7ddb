#!/bin/bash
# make bench-fleet: convergence of a fleet through a 3-member etcd cluster, every member and every
# gateway a network namespace, every gateway its own `wardwall agent` (tests/fleet/lib.sh).
#   1. for 1, 5 and 20 gateways: 10 publishes each (every one changes every gateway's part);
#      the time from starting `wardwall publish` to the last gateway reporting the generation
#      enforced, with and without each gateway's own apply time (median and max), and where
#      the time goes; each publish starts once every agent has put its evidence bundle of the
#      one before (the export follows a generation: it is not part of converging);
#   2. the fault table with every gateway of the last size: one member killed; the leader partitioned; an agent
#      partitioned during a publish and healed; an agent killed mid-apply; a forged record; a
#      replayed generation. After each, every gateway's kernel is read (nft) to show it still
#      enforces a table, and `fleet status` tells which generation.
# Bounded: every wait ends after 60 s. Writes $BUILD/bench-fleet.md too.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${1:-build}
WARDWALL=$PWD/$BUILD/wardwall
export WARDWALL
SIZES=${FLEET_SIZES:-1 5 20}
ROUNDS=${FLEET_ROUNDS:-10}
. tests/fleet/lib.sh
trap fl_down EXIT INT TERM
out=$PWD/$BUILD/bench-fleet.md
: >"$out"
say() { echo "$*" | tee -a "$out"; }

fl_up && fl_keys || exit 1
fl_etcd_start 1 3 && fl_etcd_start 2 3 && fl_etcd_start 3 3 || exit 1

# A policy for N gateways g01..gN, each serving zone zNN; round R changes the port of a flow
# from every zone, so every gateway's part changes each round.
policy() { # N ROUND FILE
	python3 - "$@" <<'PY'
import json, sys
n, r, f = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
zones = {"z%02d" % i: {"networks": "10.%d.0.0/16" % (40 + i)} for i in range(1, n + 1)}
flows = [{"id": "to-next-%02d" % i, "from": "z%02d" % i, "to": "z%02d" % (i % n + 1),
          "services": ["https"], "action": "allow"} for i in range(1, n + 1)]
flows.append({"id": "round", "from": "*", "to": "*", "services": ["round"], "action": "allow"})
json.dump({"wardwall": 1, "name": "bench-fleet",
           "zones": zones, "services": {"round": [{"proto": "tcp", "ports": [10000 + r]}]},
           "flows": flows,
           "gateways": {"g%02d" % i: {"interfaces": ["lan-z%02d" % i], "zones": ["z%02d" % i]}
                        for i in range(1, n + 1)}}, open(f, "w"), indent=1)
PY
}

ms() { date +%s%3N; }
# converged GEN: waits (60 s) until fleet status says every gateway converged on GEN.
converged() { fl_wait_converged "$1" 60; }
# After a converged publish started at T0: "total excluding-apply slowest-apply last-seen
# slowest-prepare" in ms: the last gateway enforcing, the same without each one's apply, the
# slowest apply, the last gateway's watch bringing the record, the slowest check and cut.
times() { # T0
	fl_status_json | python3 -c '
import json, sys
v, t0 = json.load(sys.stdin), int(sys.argv[1])
g = v["gateways"]
print(max(x["enforced_at_ms"] for x in g) - t0,
      max(x["enforced_at_ms"] - x["apply_ms"] for x in g) - t0,
      max(x["apply_ms"] for x in g),
      max(x["seen_at_ms"] for x in g) - t0,
      max(x["prepare_ms"] for x in g))' "$1"
}
# Every gateway's last evidence bundle number, "name=seq ...".
evseqs() {
	fl_status_json 2>/dev/null | python3 -c '
import json, sys
print(" ".join("%s=%d" % (g["name"], g["evidence_seq"]) for g in json.load(sys.stdin)["gateways"]))'
}
# Waits (10 s at most) until every gateway put a bundle after the state EV0 (evseqs).
settled() { # EV0
	local end=$((SECONDS + 10))
	while [ "$SECONDS" -lt "$end" ]; do
		fl_status_json 2>/dev/null | python3 -c '
import json, sys
before = dict(x.split("=") for x in sys.argv[1].split())
g = json.load(sys.stdin)["gateways"]
sys.exit(0 if all(x["evidence_seq"] > int(before.get(x["name"], 0)) for x in g) else 1)' "$1" && return 0
		sleep 0.1
	done
	return 1
}
stats() { # values...
	python3 -c '
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
print("%.0f %.0f" % (statistics.median(v), max(v)))' "$@"
}

gen=0
have=0
say "## Convergence (3-member etcd, $ROUNDS publishes each, each after every agent put its evidence of the one before; ms from starting publish)"
say ""
say "| gateways | total median | total max | excluding apply median | excluding apply max | slowest apply max |"
say "|---|---|---|---|---|---|"
prof="| gateways | publish command | last watch delivery | slowest check+cut | slowest apply | total |
|---|---|---|---|---|---|"
for n in $SIZES; do
	while [ "$have" -lt "$n" ]; do
		have=$((have + 1))
		g=$(printf 'g%02d' "$have")
		fl_gw_add "$g" && fl_agent_start "$g"
	done
	tot=() exa=() app=() pub=() seen=() prep=()
	for ((r = 0; r <= ROUNDS; r++)); do
		policy "$n" $((gen + 1)) "$FL_DIR/p.json"
		ev0=$(evseqs)
		t0=$(ms)
		fl_publish "$FL_DIR/p.json" >"$FL_DIR/pub.out" || { echo "publish failed" >&2; exit 1; }
		t1=$(ms)
		gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
		converged "$gen" || { say "| $n | did not converge within 60 s | | | | |"; continue 2; }
		# each agent exports evidence once it converged: the next publish starts after that
		settled "$ev0"
		# round 0 warms up (first apply creates the table); not counted
		[ "$r" -eq 0 ] && continue
		read -r a b c d e < <(times "$t0")
		tot+=("$a") exa+=("$b") app+=("$c") pub+=($((t1 - t0))) seen+=("$d") prep+=("$e")
	done
	read -r tm tx < <(stats "${tot[@]}")
	read -r em ex < <(stats "${exa[@]}")
	read -r am ax < <(stats "${app[@]}")
	say "| $n | $tm | $tx | $em | $ex | $ax |"
	read -r pm _ < <(stats "${pub[@]}")
	read -r sm _ < <(stats "${seen[@]}")
	read -r cm _ < <(stats "${prep[@]}")
	prof="$prof
| $n | $pm | $sm | $cm | $am | $tm |"
done
say ""
say "Where the time goes (medians over the publishes, ms; the publish command's own time is
process start, check, sign and the transaction, measured by the shell, so the watch can bring
the record before it returns; the last watch delivery is counted from the start of publish):"
say ""
say "$prof"

# ---- faults, with the first 5 gateways --------------------------------------------------------
say ""
say "## Faults ($have gateways, 3-member etcd)"
say ""
say "| fault | what happened | time to converge (ms, from the publish or heal to the last gateway enforcing) | every kernel enforcing? |"
say "|---|---|---|---|"
enforcing() { # every gateway has wardwall's table
	local g bad=0
	for ((i = 1; i <= have; i++)); do
		g=$(printf 'g%02d' "$i")
		fl_gw "$g" nft list table inet wardwall >/dev/null 2>&1 || bad=$((bad + 1))
	done
	[ "$bad" -eq 0 ] && echo "yes, all $have" || echo "NO: $bad without a table"
}
# Publishes the next round and sets t: ms from the publish to the last gateway enforcing it.
publish_measure() {
	policy "$have" $((gen + 1)) "$FL_DIR/p.json"
	t0=$(ms)
	if fl_publish "$FL_DIR/p.json" >"$FL_DIR/pub.out" 2>&1; then
		gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
		if converged "$gen"; then t=$(times "$t0" | cut -d' ' -f1); else t="not within 60 s"; fi
	else
		t="publish failed: $(tail -1 "$FL_DIR/pub.out")"
	fi
}
leader() {
	local m
	for m in 1 2 3; do
		fl_mgmt etcdctl --endpoints "http://10.231.0.$((1 + m)):2379" --command-timeout=1s \
			endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
sys.exit(0 if s["header"]["member_id"] == s["leader"] else 1)' && { echo "$m"; return; }
	done
}

fl_mgmt etcdctl --endpoints "$(fl_endpoints)" get --print-value-only /wardwall/test/policy >"$FL_DIR/replay.rec"
fl_etcd_kill 3
publish_measure
say "| one etcd member killed (m3) | publish and watches carried on by m1, m2 | $t | $(enforcing) |"
fl_etcd_start 3 && fl_etcd_wait

l=$(leader)
fl_link "$FL_ID-etcd$l" down
publish_measure
say "| the leader (m$l) partitioned | the others elect a leader; clients move off m$l | $t | $(enforcing) |"
fl_link "$FL_ID-etcd$l" up
sleep 2

fl_link "$FL_ID-g01" down
policy "$have" $((gen + 1)) "$FL_DIR/p.json"
if fl_publish "$FL_DIR/p.json" >"$FL_DIR/pub.out" 2>&1; then
	gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
	sleep 3
	st=$(fl_status_json | python3 -c 'import json,sys; v=json.load(sys.stdin); print(v["gateways_converged"])')
	t0=$(ms)
	fl_link "$FL_ID-g01" up
	if converged "$gen"; then t=$(times "$t0" | cut -d' ' -f1); else t="not within 60 s"; fi
else
	fl_link "$FL_ID-g01" up
	st="(none: publish failed: $(tail -1 "$FL_DIR/pub.out"))" t="-"
fi
say "| agent g01 partitioned during a publish, healed 3 s later | $st of $have converged while cut (g01 kept its generation); g01 caught up after the heal | $t (from the heal) | $(enforcing) |"

policy "$have" $((gen + 1)) "$FL_DIR/p.json"
t0=$(ms)
fl_publish "$FL_DIR/p.json" >"$FL_DIR/pub.out" && gen=$(grep -o 'generation [0-9]*' "$FL_DIR/pub.out" | cut -d' ' -f2)
sleep 0.1
fl_agent_kill g02 KILL
fl_agent_start g02
if converged "$gen"; then t=$(times "$t0" | cut -d' ' -f1); else t="not within 60 s"; fi
say "| agent g02 killed (SIGKILL) 0.1 s into a publish, restarted | restarted agent re-applied what it held, then the new generation | $t | $(enforcing) |"

fl_mgmt "$WARDWALL" publish --etcd "$(fl_endpoints)" --key /wardwall/test \
	--sign-key "$FL_DIR/forger/evidence.key" "$FL_DIR/p.json" >/dev/null 2>&1
sleep 3
refused=$(fl_status_json | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(sum(1 for g in v["gateways"] if "signature does not verify" in (g["last_error"] or "")), "refused;",
      "generations held:", sorted(set(g["generation"] for g in v["gateways"])))')
say "| a forged record written to etcd | $refused | - | $(enforcing) |"

publish_measure
fl_mgmt etcdctl --endpoints "$(fl_endpoints)" put /wardwall/test/policy <"$FL_DIR/replay.rec" >/dev/null
sleep 3
refused=$(fl_status_json | python3 -c '
import json, sys
v = json.load(sys.stdin)
print(sum(1 for g in v["gateways"] if "replayed" in (g["last_error"] or "")), "refused;",
      "generations held:", sorted(set(g["generation"] for g in v["gateways"])))')
say "| a replayed older generation (validly signed) | $refused | - | $(enforcing) |"
say ""
say "(machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
