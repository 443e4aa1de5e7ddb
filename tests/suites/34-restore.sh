#!/bin/bash
# The boot path, `wardwall restore`, on the example hospital in simulated network namespaces
# (tests/e2e/lib.sh), both tiers (XDP native on the gateway's veths, nftables):
#
#   - simulated reboot: apply, then what a reboot does to the kernel (the gateway's ruleset
#     flushed, the bpffs holding the XDP pins unmounted so the program detaches, a fresh empty
#     bpffs); traffic the policy denies now passes (nothing filters); restore brings both tiers
#     back: XDP attached again, denied traffic dropped, allowed traffic passing, and `plan` finds
#     no changes;
#   - fail-closed: the current generation corrupted, another reboot: restore exits 2 naming the
#     broken file, and the fail-closed table is enforced: the management flow (admin-jump) works,
#     every other allowed flow is dropped; without the saved fail-closed policy, the built-in one
#     drops everything;
#   - on_failure "open": the same corruption leaves the kernel as it was, and says so;
#   - nothing ever applied: restore says so and succeeds;
#   - a missing /sys/fs/bpf is mounted (inside `ip netns exec` plus a private mount namespace,
#     where /sys is a fresh sysfs: the machine's own /sys/fs/bpf is never touched).
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and deletes on
# exit; the root namespace's ruleset, links and /sys/fs/bpf are never touched.
set -u
# Private mounts: a bpffs this suite unmounts (as a reboot would) must not live on as a copy in the
# mount namespace of an unrelated process started meanwhile: that copy keeps the pins, and the XDP
# links with them. The namespaces and mounts made here die with this mount namespace.
if [ -z "${WW_PRIVATE_MOUNTS:-}" ] && [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	WW_PRIVATE_MOUNTS=1 exec unshare --mount --propagation private "$0" "$@"
fi
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW # the kernel decides by its own clock
TIMEOUT=0.5

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft unshare

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
cleanup() {
	local m
	ww_sim_down
	for m in "$tmp"/bpf*; do
		mountpoint -q "$m" 2>/dev/null && { umount "$m" || umount -l "$m"; }
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WARDWALL_STATE_DIR=$tmp/state
boot=0
# A fresh, empty bpffs, as after a reboot; the previous one (and its pins) is unmounted.
fresh_bpffs() {
	if [ -n "${WARDWALL_BPFFS:-}" ] && mountpoint -q "$WARDWALL_BPFFS"; then
		umount "$WARDWALL_BPFFS" || return 1
	fi
	boot=$((boot + 1))
	export WARDWALL_BPFFS=$tmp/bpf$boot
	mkdir -p "$WARDWALL_BPFFS" && mount -t bpf bpf "$WARDWALL_BPFFS"
}

GW=
ww() { ip netns exec "$GW" "$WARDWALL" "$@"; }
# What a reboot does to the gateway's kernel state: an empty ruleset, no XDP program.
reboot() {
	local end=$((SECONDS + 10))
	ip netns exec "$GW" nft flush ruleset && fresh_bpffs || return 1
	while [ $SECONDS -lt $end ]; do # the links go once the last pin is gone (RCU: slow under load)
		[ "$(xdp_ifaces)" = 0 ] && return 0
		sleep 0.05
	done
	echo "reboot: XDP still attached after 10 s" >&2
	return 1
}
xdp_ifaces() { ip -n "$GW" -d link show 2>/dev/null | grep -c 'prog/xdp'; }
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
}

# Probes: SRC DST PROTO PORT FAM WANT (the example's verdicts); admin-jump is the management flow.
PROBES="
guest          ehr/his-app         tcp 443  4 deny
workstations   ehr/his-app         tcp 443  4 allow
infusion       biomed/pump-server  tcp 8443 6 allow
mgmt/jump      ehr                 tcp 22   4 allow
"
# probe_all LABEL EXPECT...: each probe's outcome (allow: a reply, deny: none) must be EXPECT.
probe_all() {
	local label=$1 i got bad=()
	shift
	local -a want=("$@")
	for ((i = 0; i < np; i++)); do
		if ww_probe "${P_SRC[i]%%/*}" "${P_SA[i]}" "${P_DA[i]}" "${P_PROTO[i]}" "${P_PORT[i]}" \
			"$TIMEOUT" >/dev/null; then got=allow; else got=deny; fi
		[ "$got" = "${want[i]}" ] ||
			bad+=("${P_SRC[i]} -> ${P_DST[i]} ${P_PROTO[i]}/${P_PORT[i]} v${P_FAM[i]}: $got, want ${want[i]}")
	done
	if [ ${#bad[@]} -eq 0 ]; then ok "$label"; else fail "$label" "${bad[@]}"; fi
}

if ww_sim_up "$EXAMPLE" 2>"$tmp/err"; then
	GW=$(ww_gw)
	ok "simulated hospital up ($WW_SIM_ID)"
else
	fail "simulated hospital up" "$(cat "$tmp/err")"
	finish
fi
ww_probes_load || { fail "probe addresses"; finish; }
ww_serve tcp:443,tcp:8443,tcp:22 ehr biomed || { fail "probe servers"; finish; }
# Mounted after the probe servers started: a process started by `ip netns exec` keeps a copy of
# the mounts of its time, and a copy of a bpffs would keep its pins (and XDP) alive.
fresh_bpffs 2>"$tmp/err" || { fail "a private bpffs" "$(cat "$tmp/err")"; finish; }

# --- nothing applied yet
if run ww restore && grep -q "nothing to restore" "$tmp/out"; then
	ok "restore with nothing ever applied succeeds and says so"
else
	fail "restore with nothing applied" "$(cat "$tmp/out" "$tmp/err")"
fi

# --- simulated reboot
run ww apply "$EXAMPLE" || fail "apply" "$(cat "$tmp/err")"
nx=$(xdp_ifaces)
probe_all "applied: the policy's verdicts" deny allow allow allow
reboot || fail "reboot"
[ "$(xdp_ifaces)" = 0 ] && ! ip netns exec "$GW" nft list table inet wardwall >/dev/null 2>&1 &&
	ok "after the reboot: no table, no XDP program" || fail "reboot left state behind"
probe_all "after the reboot nothing filters: denied traffic passes" allow allow allow allow
if run ww restore --json; then
	ok "restore succeeds"
	echo "# restore: $(cat "$tmp/out")"
else
	fail "restore" "$(cat "$tmp/out" "$tmp/err")"
fi
"$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "restored" and r["generation"] == 1 and r["enforcing"]["xdp"], r' \
	"$tmp/out" && ok "restore --json: restored generation 1, XDP on" || fail "restore --json" "$(cat "$tmp/out")"
[ "$(xdp_ifaces)" = "$nx" ] && [ "$nx" -gt 0 ] && ok "XDP attached again on all $nx interfaces" ||
	fail "XDP after restore: $(xdp_ifaces) interfaces, want $nx"
probe_all "after restore: the policy's verdicts again" deny allow allow allow
if run ww plan --detailed-exitcode "$EXAMPLE"; then
	ok "plan after restore: no changes"
else
	fail "plan after restore" "$(cat "$tmp/out" "$tmp/err")"
fi
run ww restore && grep -q "already had it" "$tmp/out" && ok "a second restore changes nothing" ||
	fail "second restore" "$(cat "$tmp/out" "$tmp/err")"
grep -c '"action"' "$WARDWALL_STATE_DIR/history.jsonl" | grep -qx 1 &&
	ok "restore records no new generation" || fail "history after restore" "$(cat "$WARDWALL_STATE_DIR/history.jsonl")"
FS=$WARDWALL_STATE_DIR/failsafe.json
touch -d 2000-01-01T00:00:00Z "$FS"
run ww apply "$EXAMPLE" && [ "$(date -u -r "$FS" +%Y)" = 2000 ] && rm "$FS" && run ww apply "$EXAMPLE" &&
	grep -q '"example-hospital-fail-closed"' "$FS" &&
	ok "failsafe.json: a no-op apply leaves it, and writes it when it is missing" ||
	fail "failsafe.json and a no-op apply" "$(ls -l "$FS" 2>&1)" "$(cat "$tmp/err")"

# --- fail-closed: the generation corrupted, then a reboot
cp "$WARDWALL_STATE_DIR/generations/1.json" "$tmp/gen1.json"
sed -i 's/"wardwall"/"wardwal"/' "$WARDWALL_STATE_DIR/generations/1.json"
reboot || fail "reboot"
run ww restore
rc=$?
if [ $rc = 2 ] && grep -q "generations/1.json" "$tmp/err" && grep -q "FAIL-CLOSED" "$tmp/out"; then
	ok "corrupt generation: restore exits 2, names the file, enforces the fail-closed policy"
	echo "# $(cat "$tmp/err")"
else
	fail "corrupt generation (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
ww show --json 2>/dev/null | grep -q 'example-hospital-fail-closed' || true
[ "$(xdp_ifaces)" = 0 ] && ok "fail-closed: nftables only, no XDP" || fail "fail-closed left XDP attached"
probe_all "fail-closed: only the management flow passes" deny deny deny allow

# the sha256 check: a generation edited into another valid policy is refused too
"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["flows"] = [f for f in p["flows"] if f["id"] != "guest-no-clinical"]
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$tmp/gen1.json" "$WARDWALL_STATE_DIR/generations/1.json"
reboot || fail "reboot"
run ww restore
[ $? = 2 ] && grep -q "not the .* the history recorded" "$tmp/err" &&
	ok "a generation edited into another valid policy: refused by its sha256, fail-closed" ||
	fail "edited generation" "$(cat "$tmp/out" "$tmp/err")"

rm -f "$WARDWALL_STATE_DIR/failsafe.json"
reboot || fail "reboot"
run ww restore --json
rc=$?
if [ $rc = 2 ] && "$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["result"] == "fail-closed" and r["enforcing"]["builtin"] and "failsafe.json" in r["reason"], r' "$tmp/out"; then
	ok "no saved fail-closed policy either: the built-in one, and why"
else
	fail "built-in fail-closed (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
probe_all "built-in fail-closed: nothing passes" deny deny deny deny

# --- back to health, then on_failure "open"
cp "$tmp/gen1.json" "$WARDWALL_STATE_DIR/generations/1.json"
run ww restore && probe_all "repaired state: restored" deny allow allow allow ||
	fail "restore after repair" "$(cat "$tmp/out" "$tmp/err")"
"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["enforcement"]["on_failure"] = "open"
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$EXAMPLE" "$tmp/open.json"
run ww apply "$tmp/open.json" || fail "apply on_failure open" "$(cat "$tmp/err")"
gen=$(cat "$WARDWALL_STATE_DIR/current")
cp "$WARDWALL_STATE_DIR/generations/$gen.json" "$tmp/open-gen.json"
echo '{' >"$WARDWALL_STATE_DIR/generations/$gen.json"
reboot || fail "reboot" "$(ip -n "$GW" -d link show | grep -B1 prog/xdp | head -4)" "$(grep bpf /proc/self/mountinfo)"
run ww restore
rc=$?
if [ $rc = 2 ] && grep -q 'on_failure is "open"' "$tmp/err" && grep -q FAIL-OPEN "$tmp/out" &&
	! ip netns exec "$GW" nft list table inet wardwall >/dev/null 2>&1; then
	ok "on_failure open: the kernel left as it was (no table), and why"
else
	fail "on_failure open (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi

cp "$tmp/open-gen.json" "$WARDWALL_STATE_DIR/generations/$gen.json"
run ww restore && probe_all "repaired again: restored" deny allow allow allow ||
	fail "restore after the second repair" "$(cat "$tmp/out" "$tmp/err")"

# --- quarantines in force come back with the generation (after it, over it)
if run ww quarantine add workstations --for 1h --reason "reboot test" &&
	probe_all "quarantine of workstations in force" deny deny allow allow; then
	reboot || fail "reboot"
	if run ww restore && grep -q "1 quarantine(s) in force" "$tmp/out"; then
		ok "restore re-applies the quarantine in force"
	else
		fail "restore with a quarantine" "$(cat "$tmp/out" "$tmp/err")"
	fi
	probe_all "after restore: the quarantine still isolates workstations" deny deny allow allow
	run ww quarantine list --json || fail "quarantine list --json" "$(cat "$tmp/err")"
	qid=$("$WW_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["quarantines"][0]["record"]["id"])' \
		<"$tmp/out")
	run ww quarantine restore --json && grep -qx '{"quarantines": 1}' "$tmp/out" &&
		ok "quarantine restore --json: one in force" || fail "quarantine restore --json" "$(cat "$tmp/out" "$tmp/err")"
	run ww quarantine remove "$qid" || fail "quarantine remove $qid" "$(cat "$tmp/err")"
else
	fail "quarantine add workstations" "$(cat "$tmp/out" "$tmp/err")"
fi

# --- an apply killed after the nftables commit, then a reboot: restore finishes it first
# (the intent record, ww_recover), with exactly one history line for it.
before=$(cat "$WARDWALL_STATE_DIR/current")
WARDWALL_STOP_AT=nft-committed ww apply "$EXAMPLE" >/dev/null 2>&1
rc=$?
reboot || fail "reboot"
if [ $rc = 137 ] && [ -f "$WARDWALL_STATE_DIR/intent.json" ] && run ww restore --json &&
	"$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
want = int(sys.argv[2]) + 1
assert r["result"] == "restored" and r["generation"] == want, r
assert r["recovered"] == {"action": "apply", "generation": want, "finished": True}, r
assert r["enforcing"]["name"] == "example-hospital", r' "$tmp/out" "$before" &&
	[ "$(grep -c "\"generation\": $((before + 1)),"  "$WARDWALL_STATE_DIR/history.jsonl")" = 1 ] &&
	[ ! -f "$WARDWALL_STATE_DIR/intent.json" ]; then
	ok "an apply killed mid-way: restore finishes it first (generation $((before + 1)), one history line)"
else
	fail "restore after a killed apply (apply rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
probe_all "the finished apply is enforced" deny allow allow allow

# --- a restore killed after its nftables commit: the next restore finishes it, no new generation
reboot || fail "reboot"
cur=$(cat "$WARDWALL_STATE_DIR/current")
WARDWALL_STOP_AT=nft-committed ww restore >/dev/null 2>&1
rc=$?
if [ $rc = 137 ] && run ww restore --json && "$WW_PYTHON" -c '
import json, sys
r = json.load(open(sys.argv[1]))
cur = int(sys.argv[2])
assert r["result"] == "restored" and r["generation"] == cur, r
assert r["recovered"] == {"action": "restore", "generation": cur, "finished": True}, r' \
	"$tmp/out" "$cur" && [ "$(cat "$WARDWALL_STATE_DIR/current")" = "$cur" ] &&
	[ "$(wc -l <"$WARDWALL_STATE_DIR/history.jsonl")" = "$cur" ]; then
	ok "a restore killed mid-way: the next one finishes it (still generation $cur, no history line)"
else
	fail "restore after a killed restore (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
probe_all "after the finished restore: the policy's verdicts" deny allow allow allow
run ww plan --detailed-exitcode "$EXAMPLE" && ok "plan: no changes" ||
	fail "plan after the finished restore" "$(cat "$tmp/out" "$tmp/err")"

run ww remove --json && grep -qx '{"result": "removed", "nftables": true, "xdp": true, "quarantines_in_force": 0}' "$tmp/out" &&
	run ww remove --json && grep -qx '{"result": "nothing", "nftables": false, "xdp": false, "quarantines_in_force": 0}' "$tmp/out" &&
	ok "remove --json: both tiers removed, then nothing" || fail "remove --json" "$(cat "$tmp/out" "$tmp/err")"
reboot || fail "reboot" # the gateway without XDP, for a program of its own below

# --- /sys/fs/bpf mounted when missing: `ip netns exec` gives a fresh sysfs, unshare a private
# mount namespace on top, so the mount dies with the command.
cat >"$tmp/mount.sh" <<EOF
set -e
[ "\$(stat -f -c %T /sys/fs/bpf)" != bpf_fs ] || { echo "already a bpffs"; exit 3; }
env -u WARDWALL_BPFFS WARDWALL_STATE_DIR=$tmp/state-mount "$WARDWALL" apply "$EXAMPLE" >/dev/null 2>$tmp/mount.err
stat -f -c %T /sys/fs/bpf
ls /sys/fs/bpf/wardwall >/dev/null
EOF
out=$(ip netns exec "$GW" unshare --mount --propagation private bash "$tmp/mount.sh" 2>&1)
rc=$?
if [ $rc = 0 ] && [ "$out" = bpf_fs ]; then
	ok "apply mounts a BPF file system on a bare /sys/fs/bpf"
elif [ $rc = 3 ]; then
	ok "# SKIP /sys/fs/bpf is already a bpffs inside ip netns exec"
else
	fail "mounting /sys/fs/bpf (rc $rc)" "$out" "$(cat "$tmp/mount.err")"
fi
finish
