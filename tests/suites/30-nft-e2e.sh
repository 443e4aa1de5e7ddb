#!/bin/bash
# End to end, nftables: the example hospital on a simulated network (tests/e2e/lib.sh), enforced by
# `wardwall apply` in the gateway namespace. For every probe of the table below, the reference
# oracle (`wardwall query --json`) says what should happen; a real connection must get a reply
# exactly when the oracle says allow or monitor, and the counter of whatever decided it (the
# flow's, or the default's) must grow by exactly the new-connection packets the probe sent (one:
# a TCP SYN, a UDP datagram, an echo request). A foreign nftables table in the gateway must come
# through apply and remove untouched.
#
# The policy is applied with enforcement.xdp "off" (a copy): this suite is about the nftables tier,
# and XDP would decide packets before nftables counts them.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and deletes on
# exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
# The kernel decides time windows by its own clock: the oracle must be asked about the same time,
# not about the instant the other suites pin.
unset WARDWALL_NOW
TIMEOUT=${WW_PROBE_TIMEOUT:-0.5} # well below the 1 s initial SYN retransmission timeout: a denied TCP probe sends one SYN

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
POLICY=$tmp/example-hospital.json
ww_policy_nft_only "$EXAMPLE" "$POLICY" || exit 2

# The probes: source endpoint, destination endpoint, protocol, port (- for ICMP), family, and the
# verdict the example policy is written to give (the oracle is asked too, and must agree).
# An endpoint is a zone (its representative address) or zone/host (the host group's first address).
PROBES="
workstations         ehr/his-app           tcp  443   4 allow
workstations         ehr/his-app           tcp  443   6 allow
workstations         ehr/fhir              tcp  443   6 allow
workstations         pacs/pacs-core        tcp  443   4 allow
workstations         lab/lis               tcp  443   6 allow
modality/ct-1        pacs/pacs-core        tcp  104   4 allow
modality             pacs/pacs-core        tcp  11112 6 allow
modality/mr-1        pacs/pacs-core        tcp  2762  4 allow
pacs/pacs-core       modality/ct-1         tcp  104   6 allow
modality             pacs/ris              tcp  104   4 allow
pacs/pacs-core       pacs/vna              tcp  2762  4 allow
ehr/interface-engine pacs/ris              tcp  2575  4 allow
ehr/interface-engine pacs/ris              tcp  2575  6 allow
infusion             biomed/pump-server    tcp  8443  4 allow
infusion             biomed/pump-server    tcp  8443  6 allow
monitors             biomed/monitor-gw     udp  24005 4 allow
monitors             biomed/monitor-gw     udp  24006 6 allow
monitors             biomed/monitor-gw     tcp  24105 4 allow
biomed/pump-server   ehr/interface-engine  tcp  2575  6 allow
lab/lis              ehr/interface-engine  tcp  2575  4 allow
ehr/interface-engine lab/lis               tcp  2575  6 allow
workstations         identity/dc           udp  53    4 allow
workstations         identity/dc           udp  53    6 allow
workstations         identity/dc           tcp  88    6 allow
pacs                 identity/dc           tcp  445   4 allow
infusion             identity/ntp          udp  123   4 allow
infusion             identity/ntp          udp  123   6 allow
bms                  identity/ntp          udp  123   4 allow
mgmt/jump            ehr/his-app           tcp  22    4 allow
mgmt/jump            identity/dc           tcp  3389  6 allow
mgmt/jump            bms/bms-server        tcp  443   4 allow
mgmt/siem            identity/dc           icmp -     4 allow
mgmt/siem            identity/dc           icmp -     6 allow
mgmt/siem            lab/lis               udp  161   6 allow
identity/dc          mgmt/siem             udp  514   4 allow
bms                  bms/bms-server        udp  47808 4 allow
bms                  bms/bms-server        udp  47808 6 allow
workstations         internet              tcp  443   4 allow
workstations         internet              tcp  443   6 allow
guest                internet              tcp  80    4 allow
guest                internet              udp  53    6 allow
guest                ehr/his-app           tcp  443   4 deny
guest                ehr/his-app           tcp  443   6 deny
guest                infusion              tcp  8443  4 deny
guest                infusion              icmp -     6 deny
infusion             internet              tcp  443   4 deny
infusion             internet              udp  53    6 deny
modality/ct-1        infusion              tcp  22    4 deny
modality             monitors              udp  24005 6 deny
infusion             modality/mr-1         icmp -     4 deny
vendor/vpn           modality/ct-1         tcp  22    4 deny
vendor/vpn           modality/ct-1         tcp  443   6 deny
workstations         identity/dc           tcp  22    4 deny
workstations         identity/dc           tcp  3389  6 deny
workstations         identity/dc           icmp -     4 deny
ehr                  ehr/his-app           tcp  443   4 deny
internet             ehr/his-app           tcp  443   6 deny
monitors             biomed/pump-server    udp  24005 4 deny
workstations         bms/bms-server        udp  47808 4 monitor
workstations         bms/bms-server        udp  47808 6 monitor
guest                bms                   tcp  443   4 monitor
guest                bms/bms-server        icmp -     6 monitor
infusion             bms/bms-server        tcp  502   4 monitor
bms                  ehr/his-app           tcp  443   4 monitor
vendor/vpn           bms                   udp  47808 6 monitor
internet             bms/bms-server        tcp  22    4 monitor
"

# ---- the simulated hospital, a foreign table, the policy ----
ww_sim_up_tap "$EXAMPLE"
ww_serve_probes

# A table wardwall does not own: a counter, a named set, a regular chain and a base chain on the
# forward hook, after wardwall's (it matches nothing the probes send, so it stays byte-identical).
if ip netns exec "$GW" nft -f - >"$tmp/err" 2>&1 <<'EOF'
table inet foreign {
	counter seen { }
	set blocked { type ipv4_addr; elements = { 192.0.2.99 } }
	chain audit {
		ip saddr @blocked counter name "seen"
	}
	chain screen {
		type filter hook forward priority 10; policy accept;
		ip daddr 192.0.2.99 counter jump audit
	}
}
EOF
then
	ip netns exec "$GW" nft list table inet foreign >"$tmp/foreign.before" 2>&1
	ok "a foreign table in the gateway: $(grep -c . "$tmp/foreign.before") lines of table inet foreign"
else
	fail "a foreign table in the gateway (nft -f)" "$(cat "$tmp/err")"
fi

if ip netns exec "$GW" "$WARDWALL" apply "$POLICY" >"$tmp/out" 2>"$tmp/err"; then
	ok "apply $EXAMPLE (XDP off) in the gateway: $(head -1 "$tmp/out")"
else
	fail "apply $EXAMPLE (XDP off) in the gateway" "$(cat "$tmp/out" "$tmp/err")"
	finish
fi
ip netns exec "$GW" nft list table inet foreign >"$tmp/foreign.after" 2>&1
if diff -u "$tmp/foreign.before" "$tmp/foreign.after" >"$tmp/diff"; then
	ok "table inet foreign is untouched by apply"
else
	fail "table inet foreign is untouched by apply" "$(cat "$tmp/diff")"
fi

# ---- the oracle ----
ww_probes_tap "$POLICY" "$tmp/oracle.json"

# ---- the probes, in waves: no two probes of a wave touch the same counter, so that each
# probe's counter delta is its own; within a wave they run in parallel ----
declare -A used=()
declare -a WAVE
nwaves=0
for ((i = 0; i < np; i++)); do
	for ((w = 0; ; w++)); do
		[ -z "${used[$w:${O_COUNTER[i]}]:-}" ] && [ -z "${used[$w:${O_MCOUNTER[i]}]:-}" ] && break
	done
	used[$w:${O_COUNTER[i]}]=1
	[ "${O_MCOUNTER[i]}" = - ] || used[$w:${O_MCOUNTER[i]}]=1
	WAVE[i]=$w
	((w + 1 > nwaves)) && nwaves=$((w + 1))
done
start=$SECONDS
for ((w = 0; w < nwaves; w++)); do
	ww_counters >"$tmp/counters.$w.before" 2>&1
	ww_probe_wave "$w"
	ww_counters >"$tmp/counters.$w.after" 2>&1
done
echo "# $np probes in $nwaves waves, $((SECONDS - start)) s"

# The packets a counter gained in wave w.
delta() {
	local b a
	b=$(awk -v c="$2" '$1 == c { print $2 }' "$tmp/counters.$1.before")
	a=$(awk -v c="$2" '$1 == c { print $2 }' "$tmp/counters.$1.after")
	[ -n "$b" ] && [ -n "$a" ] && echo $((a - b)) || echo "missing"
}

# The counters that grew in wave w, and by how much.
grown() {
	awk 'NR == FNR { b[$1] = $2; next } $2 != b[$1] { printf "%s +%d ", $1, $2 - b[$1] }' \
		"$tmp/counters.$1.before" "$tmp/counters.$1.after"
}

for ((i = 0; i < np; i++)); do
	what="${P_SRC[i]} -> ${P_DST[i]} ${P_Q[i]} IPv${P_FAM[i]} (${P_SA[i]} -> ${P_DA[i]})"
	v=${O_VERDICT[i]}
	rc=$(cat "$tmp/rc.$i" 2>/dev/null || echo none)
	got=$(paste -sd' ' "$tmp/probe.$i" 2>/dev/null)
	[ "${P_PROTO[i]}" = icmp ] || [ "${P_PROTO[i]}" = icmpv6 ] && got=$([ "$rc" = 0 ] && echo reply || echo "no reply")
	case $v in
	allow | monitor) passes=0 ;;
	deny) passes=1 ;;
	*) passes=x ;;
	esac
	by=${O_COUNTER[i]}
	if [ "$v" != "${P_WANT[i]}" ]; then
		fail "$what: the oracle says $v, the probe table expects ${P_WANT[i]}" \
			"oracle: $(sed -n "$((i + 1))p" "$tmp/oracle.json")"
	elif [ "$rc" != "$passes" ]; then
		fail "$what: oracle says $v ($by) but the connection got: ${got:-nothing}" \
			"oracle: $(sed -n "$((i + 1))p" "$tmp/oracle.json")"
	else
		ok "$what: $v by $by, and the connection got: $got"
	fi
	if [ "$passes" = x ]; then
		fail "$what: no counter to check, the oracle gave no verdict"
		continue
	fi
	d=$(delta "${WAVE[i]}" "$by")
	md=0
	[ "${O_MCOUNTER[i]}" = - ] || md=$(delta "${WAVE[i]}" "${O_MCOUNTER[i]}")
	if [ "$d" = 1 ] && [ "$md" != missing ] && { [ "${O_MCOUNTER[i]}" = - ] || [ "$md" = 1 ]; }; then
		ok "$what: counter $by +1${O_MCOUNTER[i]/#-/}"
	else
		fail "$what: counter $by grew by $d (want 1: one new-connection packet)" \
			"monitor counter ${O_MCOUNTER[i]}: $md" \
			"counters that grew in wave ${WAVE[i]}: $(grown "${WAVE[i]}")"
	fi
done

# Nothing the probes did changes what plan sees.
if ip netns exec "$GW" "$WARDWALL" plan --detailed-exitcode "$POLICY" >"$tmp/out" 2>"$tmp/err"; then
	ok "plan after the probes: $(tail -1 "$tmp/out")"
else
	fail "plan after the probes exits 0" "$(cat "$tmp/out" "$tmp/err")"
fi

# ---- remove ----
if ip netns exec "$GW" "$WARDWALL" remove >"$tmp/out" 2>"$tmp/err" &&
	! ip netns exec "$GW" nft list table inet wardwall >/dev/null 2>&1; then
	ok "remove deletes table inet wardwall"
else
	fail "remove deletes table inet wardwall" "$(cat "$tmp/out" "$tmp/err")"
fi
ip netns exec "$GW" nft list table inet foreign >"$tmp/foreign.after" 2>&1
if diff -u "$tmp/foreign.before" "$tmp/foreign.after" >"$tmp/diff"; then
	ok "table inet foreign is untouched by remove"
else
	fail "table inet foreign is untouched by remove" "$(cat "$tmp/diff")"
fi
tables=$(ip netns exec "$GW" nft list tables 2>&1)
if [ "$tables" = "table inet foreign" ]; then
	ok "the gateway's ruleset keeps only table inet foreign"
else
	fail "the gateway's ruleset keeps only table inet foreign" "$tables"
fi
# Without wardwall's table, the gateway forwards everything: a denied probe now gets through.
if ww_probe guest "$(ww_addr guest 4)" "$(ww_addr ehr/his-app 4)" tcp 443 "$TIMEOUT" >/dev/null; then
	ok "after remove, guest -> ehr/his-app tcp/443 connects (nothing enforces any more)"
else
	fail "after remove, guest -> ehr/his-app tcp/443 connects (nothing enforces any more)"
fi

ww_sim_down_tap
finish
