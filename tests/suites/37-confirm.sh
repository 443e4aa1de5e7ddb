#!/bin/bash
# Safe changes, on the example hospital in simulated network namespaces (tests/e2e/lib.sh),
# nftables tier:
#
#   - check proves every probe before anything is applied: a policy whose probe it denies is
#     refused by check and by apply (probe-denied, the kernel untouched);
#   - health probes run after a change, from the zone namespace they name: all connect, and the
#     apply says so; when one fails after a change (here: the EHR server stopped answering), the
#     apply rolls back at once, names the probe, and the rollback takes well under a second;
#   - commit confirmed: `apply --confirm 6s`, the applying process and its session killed with
#     SIGKILL: the detached guard rolls the change back at the deadline (done within two seconds of
#     it); plan, stats and metrics show the pending deadline meanwhile;
#   - a confirmed change stays past its deadline, and its guard goes away;
#   - a change on probation across a (simulated) reboot, its guard killed with the machine:
#     restore rolls it back when the deadline has passed, and starts a new guard when not.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and deletes on
# exit (with every process in them, the guards included); the root namespace is never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft setsid

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
export WARDWALL_BPFFS=$tmp/no-bpffs # nftables only: never the machine's /sys/fs/bpf
mkdir -p "$WARDWALL_BPFFS"

POLICY=$tmp/a.json
ww_policy_nft_only "$EXAMPLE" "$tmp/base.json" || exit 2
if ww_sim_up "$tmp/base.json" 2>"$tmp/err"; then
	GW=$(ww_gw)
	ok "simulated hospital up ($WW_SIM_ID)"
else
	fail "simulated hospital up" "$(cat "$tmp/err")"
	finish
fi
ww() { ip netns exec "$GW" "$WARDWALL" "$@"; }
WS=$(ww_addr workstations 4) HIS=$(ww_addr ehr/his-app 4) LIS=$(ww_addr lab/lis 4)
# A: the example with two probes from the workstations' namespace; B: A without flow ws-to-lis
# (probes unaffected); DENIED: a probe the policy denies.
"$WW_PYTHON" - "$tmp/base.json" "$tmp" "$(ww_ns workstations)" "$WS" "$HIS" "$LIS" <<'EOF' || exit 2
import json, sys
base, tmp, ns, ws, his, lis = sys.argv[1:]
p = json.load(open(base))
p["probes"] = [
    {"id": "his-https", "description": "workstations reach the HIS", "from": ws, "to": his,
     "port": 443, "netns": ns},
    {"id": "lis-https", "from": ws, "to": lis, "port": 443, "netns": ns, "timeout_ms": 800},
]
json.dump(p, open(tmp + "/a.json", "w"), indent=1)
b = json.loads(json.dumps(p))
b["flows"] = [f for f in b["flows"] if f["id"] != "ws-to-lis"]
b["probes"] = b["probes"][:1]
json.dump(b, open(tmp + "/b.json", "w"), indent=1)
d = json.loads(json.dumps(p))
d["probes"].append({"id": "guest-his", "from": "172.16.0.9", "to": his, "port": 443, "netns": ns})
json.dump(d, open(tmp + "/denied.json", "w"), indent=1)
EOF
ww_serve tcp:443 ehr lab || { fail "probe servers"; finish; }

# --- check proves the probes
ww check "$POLICY" >"$tmp/out" 2>&1 && ok "check: the probes of A are allowed" || fail "check A" "$(cat "$tmp/out")"
ww check "$tmp/denied.json" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 1 ] && grep -q '/probes/2: error: probe "guest-his" .* is denied by flow "guest-no-clinical"' "$tmp/out"; then
	ok "check: a probe the policy denies is an error at its pointer, naming the flow"
else
	fail "check of a denied probe (rc $rc)" "$(cat "$tmp/out")"
fi
ww apply "$tmp/denied.json" >"$tmp/out" 2>&1
[ $? = 1 ] && ! ip netns exec "$GW" nft list table inet wardwall >/dev/null 2>&1 &&
	ok "apply refuses it before touching the kernel" || fail "apply of a denied probe" "$(cat "$tmp/out")"

# --- probes after a change
if ww apply --json "$POLICY" >"$tmp/out" 2>"$tmp/err" && grep -q '"probes_ok": 2' "$tmp/out"; then
	ok "apply A: both probes connected after the change"
else
	fail "apply A" "$(cat "$tmp/out" "$tmp/err")"
fi
gen_a=$(cat "$WARDWALL_STATE_DIR/current")
# The EHR stops answering: B's change leaves its probe failing.
for pid in $(ip netns pids "$(ww_ns ehr)"); do kill "$pid"; done
sleep 0.2
t0=$(date +%s%N)
ww apply --json "$tmp/b.json" >"$tmp/out" 2>"$tmp/err"
rc=$?
t1=$(date +%s%N)
if [ $rc = 2 ] && grep -q 'probe "his-https" .* failed after the change: Connection refused; rolled back' "$tmp/err" &&
	"$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "rolled-back" and r["probe"] == "his-https" and r["rollback_ok"], r
assert r["rollback_ms"] < 1000, r
print("# rollback took %.0f ms after the probe failed" % r["rollback_ms"])' "$tmp/out"; then
	ok "a probe failing after the change: rolled back within a second, naming the probe"
else
	fail "probe failure (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
echo "# the whole apply, probe and rollback: $(((t1 - t0) / 1000000)) ms"
ww plan --detailed-exitcode "$POLICY" >"$tmp/out" 2>&1 && tail -1 "$WARDWALL_STATE_DIR/history.jsonl" | grep -q "\"restores\": $gen_a" &&
	ok "the kernel holds A again (plan: no changes), recorded as a rollback to generation $gen_a" ||
	fail "after the probe rollback" "$(cat "$tmp/out")" "$(tail -2 "$WARDWALL_STATE_DIR/history.jsonl")"
ww_serve tcp:443 ehr || { fail "probe server back"; finish; }

# --- commit confirmed, the applying process killed
gen_before=$(cat "$WARDWALL_STATE_DIR/current")
setsid ip netns exec "$GW" "$WARDWALL" apply --confirm 6s "$tmp/b.json" >"$tmp/confirm.out" 2>&1 &
apid=$!
for ((i = 0; i < 200; i++)); do
	grep -q '"guard": "process' "$WARDWALL_STATE_DIR/pending.json" 2>/dev/null && break
	sleep 0.05
done
kill -9 -- "-$apid" "$apid" 2>/dev/null
wait "$apid" 2>/dev/null
guard=$(sed -n 's/.*"guard": "process \([0-9]*\)".*/\1/p' "$WARDWALL_STATE_DIR/pending.json")
deadline=$(sed -n 's/.*"deadline_unix": \([0-9]*\).*/\1/p' "$WARDWALL_STATE_DIR/pending.json")
if [ -n "$guard" ] && kill -0 "$guard" 2>/dev/null; then
	ok "apply --confirm: a pending record and a detached guard (pid $guard) that outlives the killed apply"
else
	fail "pending record and guard" "$(cat "$WARDWALL_STATE_DIR/pending.json" "$tmp/confirm.out" 2>&1)"
fi
ww plan --json "$tmp/b.json" 2>/dev/null | grep -q '"rollback_deadline": {"generation"' &&
	ww plan "$tmp/b.json" 2>/dev/null | grep -q "^pending: generation .* unless \`wardwall confirm\`" &&
	ok "plan shows the rollback deadline" || fail "plan and the deadline"
ww stats 2>/dev/null | grep -q "PENDING CONFIRM" && ww stats --json 2>/dev/null | grep -q '"pending_confirm": {' &&
	ww metrics 2>/dev/null | grep -qx "wardwall_confirm_pending 1" &&
	ok "stats and metrics show the pending confirm" || fail "stats/metrics and the pending confirm"
for ((i = 0; i < 400; i++)); do # up to 20 s
	kill -0 "$guard" 2>/dev/null || break
	sleep 0.05
done
done_ms=$(( $(date +%s%N) / 1000000 - deadline * 1000 ))
# When the rollback was recorded (whole seconds): at the deadline, not before, not later than a
# second after it (the guard looks every 100 ms).
rolled=$(tail -1 "$WARDWALL_STATE_DIR/history.jsonl" | sed -n 's/.*"time": "\([^"]*\)".*/\1/p')
late=$(( $(date -u -d "$rolled" +%s) - deadline ))
if [ ! -e "$WARDWALL_STATE_DIR/pending.json" ] && tail -1 "$WARDWALL_STATE_DIR/history.jsonl" | grep -q "\"restores\": $gen_before" &&
	ww plan --detailed-exitcode "$POLICY" >/dev/null 2>&1 && [ "$late" -ge 0 ] && [ "$late" -le 1 ]; then
	ok "unconfirmed: rolled back to generation $gen_before at the deadline (recorded ${late} s after it)"
else
	fail "rollback at the deadline (recorded ${late} s after it)" "$(cat "$WARDWALL_STATE_DIR/confirm.log")" "$(tail -2 "$WARDWALL_STATE_DIR/history.jsonl")"
fi
echo "# the guard finished ${done_ms} ms after the deadline"
grep -q "was not confirmed by" "$WARDWALL_STATE_DIR/confirm.log" && ok "the guard logged it in confirm.log" ||
	fail "confirm.log" "$(cat "$WARDWALL_STATE_DIR/confirm.log")"
ww metrics 2>/dev/null | grep -qx "wardwall_confirm_pending 0" && ok "metrics: nothing pending after" || fail "metrics after"

# --- a confirmed change stays
ww apply --json --confirm 2s "$tmp/b.json" >"$tmp/out" 2>"$tmp/err" &&
	grep -q '"rollback_deadline": "20' "$tmp/out" && ok "apply --json reports the rollback deadline" ||
	fail "apply --confirm --json" "$(cat "$tmp/out" "$tmp/err")"
guard=$(sed -n 's/.*"guard": "process \([0-9]*\)".*/\1/p' "$WARDWALL_STATE_DIR/pending.json")
gen_b=$(cat "$WARDWALL_STATE_DIR/current")
ww confirm >"$tmp/out" 2>&1 && grep -q "confirmed generation $gen_b" "$tmp/out" && ok "confirm" ||
	fail "confirm" "$(cat "$tmp/out")"
sleep 3
if [ "$(cat "$WARDWALL_STATE_DIR/current")" = "$gen_b" ] && ww plan --detailed-exitcode "$tmp/b.json" >/dev/null 2>&1 &&
	! kill -0 "$guard" 2>/dev/null; then
	ok "confirmed: still generation $gen_b past the deadline, and the guard is gone"
else
	fail "confirmed change" "$(cat "$WARDWALL_STATE_DIR/confirm.log")"
fi
ww confirm >"$tmp/out" 2>&1 && grep -q "nothing to confirm" "$tmp/out" && ok "confirm with nothing pending says so" ||
	fail "confirm with nothing pending" "$(cat "$tmp/out")"

# --- a change on probation across a reboot: its guard dies with the machine, restore takes over.
# The guards killed here are the ones this script's applies started (their pid is in pending.json).
guard_of() { sed -n 's/.*"guard": "process \([0-9]*\)".*/\1/p' "$WARDWALL_STATE_DIR/pending.json"; }
kill_guard_and_reboot() {
	local g
	g=$(guard_of)
	[ -n "$g" ] && kill -9 "$g" 2>/dev/null
	for ((i = 0; i < 100; i++)); do kill -0 "$g" 2>/dev/null || break; sleep 0.05; done
	ip netns exec "$GW" nft flush ruleset
}
gen_b=$(cat "$WARDWALL_STATE_DIR/current")
if ww apply --confirm 2s "$POLICY" >"$tmp/out" 2>&1; then
	kill_guard_and_reboot
	sleep 3 # past the deadline, with nothing left to act on it
	if ww restore --json >"$tmp/out" 2>"$tmp/err" && "$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "restored" and r["confirm"]["action"] == "rolled-back", r
assert r["confirm"]["previous"] == int(sys.argv[2]), r' "$tmp/out" "$gen_b" &&
		tail -1 "$WARDWALL_STATE_DIR/history.jsonl" | grep -q "\"restores\": $gen_b" &&
		[ ! -e "$WARDWALL_STATE_DIR/pending.json" ] &&
		ww plan --detailed-exitcode "$tmp/b.json" >/dev/null 2>&1; then
		ok "unconfirmed across a reboot, deadline passed: restore rolls it back to generation $gen_b"
	else
		fail "restore past the deadline of a lost guard" "$(cat "$tmp/out" "$tmp/err")"
	fi
else
	fail "apply --confirm 2s" "$(cat "$tmp/out")"
fi
if ww apply --confirm 60s "$POLICY" >"$tmp/out" 2>&1; then
	old=$(guard_of)
	kill_guard_and_reboot
	if ww restore --json >"$tmp/out" 2>"$tmp/err" && "$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "restored" and r["confirm"]["action"] == "guarded", r' "$tmp/out" &&
		new=$(guard_of) && [ -n "$new" ] && [ "$new" != "$old" ] && kill -0 "$new" 2>/dev/null; then
		ok "unconfirmed across a reboot, deadline ahead: restore starts a new guard (pid $new)"
		ww confirm >/dev/null 2>&1
		for ((i = 0; i < 40; i++)); do kill -0 "$new" 2>/dev/null || break; sleep 0.05; done
		! kill -0 "$new" 2>/dev/null && ww plan --detailed-exitcode "$POLICY" >/dev/null 2>&1 &&
			ok "confirmed after the reboot: the new guard goes, the change stays" ||
			fail "confirm after the reboot"
	else
		fail "restore before the deadline of a lost guard" "$(cat "$tmp/out" "$tmp/err")"
	fi
else
	fail "apply --confirm 60s" "$(cat "$tmp/out")"
fi
finish
