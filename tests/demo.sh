#!/bin/bash
# The demo behind `make demo`: checks the example hospital policy and asks it about a few
# connections, then enforces it on a simulated hospital network (network namespaces, nftables)
# and sends real traffic through it. Usage: tests/demo.sh [BUILD_DIR]
#
# The simulated network needs root; everything it creates (namespaces named ww<random>-*, a
# private bpffs mount) is deleted on every exit path, and the machine's own network and
# /sys/fs/bpf are never touched.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WW=$BUILD/wardwall
POLICY=policies/example-hospital.json

heading() {
	printf '\n== %s\n' "$*"
}

# Prints the command as a reader would type it, then runs it.
run() {
	echo "\$ wardwall $*"
	"$WW" "$@"
}

heading "Check the example policy: validity, warnings, invariant proofs"
run check "$POLICY"

heading "An infusion pump reaches its pump server (allowed)"
run query "$POLICY" 10.20.40.7 10.20.4.10 tcp/8443

heading "A guest laptop tries the EHR application server (denied)"
run query "$POLICY" 172.16.3.4 10.20.2.10 tcp/443

heading "The CT vendor during its maintenance window (allowed)"
run query --at 2027-01-12T09:00:00Z "$POLICY" 10.20.250.5 10.20.10.11 tcp/22

heading "The same connection when the window has closed ([from, until): 10:00 is outside)"
run query --at 2027-01-12T10:00:00Z "$POLICY" 10.20.250.5 10.20.10.11 tcp/22

heading "IPv6: a ward workstation reaches the FHIR API (allowed)"
run query "$POLICY" fd00:20:100::42 fd00:20:2::30 tcp/443

heading "A workstation speaks BACnet to the building-management server (bms is in monitor mode)"
run query "$POLICY" 10.20.100.7 10.20.60.10 udp/47808

# ---- the same policy, enforced on a simulated network ----
if [ "$(id -u)" != 0 ] || ! command -v nft >/dev/null || ! ip netns list >/dev/null 2>&1; then
	printf '\nThe simulated network needs root, nft and ip netns: skipped.\n'
	exit 0
fi

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
cleanup() {
	set +e
	ww_sim_down
	mountpoint -q "$tmp/bpf" && umount "$tmp/bpf"
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WARDWALL_STATE_DIR=$tmp/state
# Both tiers: XDP pins its program and maps in a bpffs of our own (ip netns exec hides the
# machine's /sys/fs/bpf anyway). Without one, the nftables tier alone enforces a copy.
ENFORCED=$POLICY
mkdir "$tmp/bpf"
if mount -t bpf bpf "$tmp/bpf" 2>/dev/null; then
	export WARDWALL_BPFFS=$tmp/bpf
	TIERS="XDP on every zone interface, then nftables; one transaction, one map switch"
else
	ENFORCED=$tmp/example-hospital.json
	ww_policy_nft_only "$POLICY" "$ENFORCED"
	TIERS="nftables only: no bpffs could be mounted, so this copy switches XDP off"
fi
# The kernel decides time windows by the clock: so does the oracle here.
unset WARDWALL_NOW

heading "A simulated hospital: one gateway namespace, one namespace per zone"
ww_sim_up "$POLICY"
GW=$(ww_gw)
echo "gateway $GW, interfaces: $(ip -n "$GW" -br link show type veth | awk '{ sub(/@.*/, "", $1); print $1 }' | paste -sd' ')"
for z in $(ww_zones); do
	printf '  %-13s %-16s %s\n' "$z" "$(ww_addr "$z" 4)" "$(ww_addr "$z" 6)"
done
ww_serve tcp:22,tcp:443,tcp:8443,udp:24005,udp:47808

heading "Apply the policy in the gateway ($TIERS)"
echo "\$ wardwall apply $POLICY"
ip netns exec "$GW" "$WW" apply "$ENFORCED" 2>/dev/null | sed "s|$ENFORCED|$POLICY|g"

heading "Real connections through the gateway (each decided by the policy, answered or not)"
PROBES="
workstations   ehr/his-app         tcp  443   4
workstations   ehr/fhir            tcp  443   6
infusion       biomed/pump-server  tcp  8443  4
monitors       biomed/monitor-gw   udp  24005 6
mgmt/siem      identity/dc         icmp -     4
workstations   bms/bms-server      udp  47808 4
guest          ehr/his-app         tcp  443   4
guest          ehr/his-app         tcp  443   6
infusion       internet            tcp  443   4
modality/ct-1  infusion            tcp  22    6
vendor/vpn     modality/ct-1       tcp  22    4   its window is 2027-01-12 08:00-10:00 UTC
"
i=0
pids=()
while read -r src dst proto port fam why; do
	[ -n "$src" ] || continue
	sa=$(ww_addr "$src" "$fam") da=$(ww_addr "$dst" "$fam")
	[ "$proto" = icmp ] && [ "$fam" = 6 ] && proto=icmpv6
	(
		rc=0
		ww_probe "${src%%/*}" "$sa" "$da" "$proto" "$port" 0.5 >/dev/null 2>&1 || rc=$?
		echo "$rc" >"$tmp/rc.$i"
	) &
	pids+=($!)
	echo "$src $dst $proto $port $sa $da $why" >"$tmp/probe.$i"
	i=$((i + 1))
done <<<"$PROBES"
for pid in "${pids[@]}"; do wait "$pid"; done
mismatches=0
for ((k = 0; k < i; k++)); do
	read -r src dst proto port sa da why <"$tmp/probe.$k"
	case $proto in
	icmp) q=icmp/8 shown=ping ;;
	icmpv6) q=icmpv6/128 shown=ping ;;
	*) q=$proto/$port shown=$q ;;
	esac
	oracle=$("$WW" query "$ENFORCED" "$sa" "$da" "$q" 2>/dev/null)
	verdict=${oracle%% *}
	by=$(sed -n 's/^  by:   //p' <<<"$oracle" | sed 's/ (\/flows\/[0-9]*, [a-z]*)$//; s/"//g')
	if [ "$(cat "$tmp/rc.$k")" = 0 ]; then
		result=ALLOWED
		[ "$verdict" = monitor ] && result=PASSED
	else
		result=BLOCKED
	fi
	note=${why:+ - $why}
	case $verdict/$result in
	allow/ALLOWED | deny/BLOCKED) ;;
	monitor/PASSED) note=" - monitor mode: it would be denied, it passes and is counted" ;;
	*)
		note=" - MISMATCH: the policy says $verdict"
		mismatches=$((mismatches + 1))
		;;
	esac
	printf '%-8s %s -> %s %s (%s)  %s -> %s%s\n' "$result" "$src" "$dst" "$shown" "$by" "$sa" "$da" "$note"
done

heading "What the kernel holds is still exactly the policy"
echo "\$ wardwall plan $POLICY"
ip netns exec "$GW" "$WW" plan "$ENFORCED" 2>/dev/null | sed "s|$ENFORCED|$POLICY|g"

heading "The counters that moved, per tier (XDP drops denied traffic before nftables sees it)"
echo "\$ wardwall stats   # only the flows with traffic"
ip netns exec "$GW" "$WW" stats 2>/dev/null | awk '
	/^FLOW/ { print "  " $0; next }
	/^defaults/ { print ""; d = 1 }
	d && NF { print "  " $0; next }
	NF >= 6 && $1 != "wardwall" && ($3 != "0" || $5 != "0") && $3 != "-" { print "  " $0 }'

heading "NIS2 evidence: what the kernel enforced and counted, signed and chained"
ip netns exec "$GW" "$WW" evidence keygen >/dev/null 2>&1 || true
echo "\$ wardwall evidence export --out evidence-1"
ip netns exec "$GW" "$WW" evidence export --out "$tmp/evidence-1" 2>&1 | sed "s|$tmp/||g" | head -8
echo "\$ wardwall evidence verify --key keys/evidence.pub evidence-1"
ip netns exec "$GW" "$WW" evidence verify --key "$WARDWALL_STATE_DIR/keys/evidence.pub" \
	"$tmp/evidence-1" 2>&1 | sed "s|$tmp/||g"

heading "Tear down"
echo "\$ wardwall remove"
ip netns exec "$GW" "$WW" remove
ww_sim_down
mountpoint -q "$tmp/bpf" && umount "$tmp/bpf"
echo "simulated hospital deleted"

if [ "$mismatches" -gt 0 ]; then
	printf '\n%d connection(s) did not go as the policy says.\n' "$mismatches"
	exit 1
fi
printf '\nDone: every connection went as the policy says. See README.md and docs/.\n'
