#!/bin/bash
# End to end, XDP: the example hospital on a simulated network (tests/e2e/lib.sh) with the policy's
# own enforcement ("xdp": "native" on every zone interface of the gateway), applied by
# `wardwall apply` in the gateway namespace.
#
#   - the program is attached natively, by one program, on every interface the policy lists;
#   - denied flows are dropped by XDP: the XDP counter of what decided (`wardwall query --json`
#     says which) grows by the one packet the probe sent and the nftables counter does not move;
#   - allowed and monitored flows get their replies, IPv4 and IPv6, and XDP counts both
#     directions (a UDP or ICMP exchange: exactly two packets), nftables the new connection;
#   - atomic swap under traffic: numbered UDP streams of an allowed and of a denied flow run
#     while policies that differ elsewhere are applied ten times (ten XDP generations): the
#     allowed receiver gets every datagram, the denied one none;
#   - revocation: a long-lived TCP connection stops at the next segment once a policy without its
#     flow is applied (XDP re-checks the connection against the new generation), and resumes when
#     the flow is back;
#   - remove detaches the program from every interface and unpins everything.
#
# `ip netns exec` mounts a fresh /sys, so /sys/fs/bpf is no bpffs inside it: the suite mounts a
# private bpffs in its temporary directory (WARDWALL_BPFFS) and unmounts it on exit.
#
# Settings: STREAM_RATE (datagrams a second per stream, 3000), SWAPS (applies under traffic, 10),
# WW_DEBUG_KEEP=DIR (copy the suite's working files there on exit).
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and deletes on
# exit; the root namespace's ruleset, links and /sys/fs/bpf are never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
# The kernel decides time windows by its own clock: the oracle must be asked about the same time.
unset WARDWALL_NOW
TIMEOUT=${WW_PROBE_TIMEOUT:-0.5} # below the 1 s initial SYN retransmission timeout: a denied TCP probe sends one SYN
STREAM_RATE=${STREAM_RATE:-3000} # datagrams a second, per stream
STREAM_MAX_SECONDS=30 # the streams stop a second after the last apply
SWAPS=${SWAPS:-10}

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
STREAM=$WW_E2E_DIR/stream.py
bg_pids=() send_pids=()
hold_pid=
xdp_cleanup() {
	local pid
	for pid in "${bg_pids[@]}" $hold_pid; do
		kill "$pid" 2>/dev/null
	done
	ww_stop "${bg_pids[@]}" $hold_pid
	[ -n "${WW_DEBUG_KEEP:-}" ] && mkdir -p "$WW_DEBUG_KEEP" && cp "$tmp"/* "$WW_DEBUG_KEEP" 2>/dev/null
}
ww_suite_tmp xdp_cleanup
if ! ww_bpffs "$tmp/bpf" 2>"$tmp/err"; then
	echo "ok 1 - # SKIP cannot mount a private bpffs: $(cat "$tmp/err")"
	echo "1..1"
	exit 0
fi
export WARDWALL_STATE_DIR=$tmp/state

# The policies: A is the example as it is; B differs elsewhere (no ws-to-lis); C lacks admin-jump,
# the flow of the connection the suite revokes.
POLICY_A=$EXAMPLE POLICY_B=$tmp/b.json POLICY_C=$tmp/c.json
without_flow() {
	"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["flows"] = [f for f in p["flows"] if f["id"] != sys.argv[2]]
json.dump(p, open(sys.argv[3], "w"), indent=1)' "$POLICY_A" "$1" "$2"
}
without_flow ws-to-lis "$POLICY_B" && without_flow admin-jump "$POLICY_C" || exit 2

# The probes: source endpoint, destination endpoint, protocol, port (- for ICMP), family, and the
# verdict the example policy is written to give (the oracle must agree). Ports udp/24005 (the
# stream) and tcp/3389 (the revoked connection) are left for the later parts.
PROBES="
guest                ehr/his-app           tcp  443   4 deny
guest                ehr/his-app           tcp  443   6 deny
infusion             internet              tcp  443   4 deny
infusion             internet              udp  53    6 deny
modality/ct-1        infusion              tcp  22    4 deny
modality             infusion              udp  24006 6 deny
vendor/vpn           modality/ct-1         tcp  22    4 deny
vendor/vpn           modality/ct-1         tcp  443   6 deny
workstations         ehr/his-app           tcp  443   4 allow
workstations         ehr/his-app           tcp  443   6 allow
workstations         ehr/fhir              tcp  443   6 allow
infusion             biomed/pump-server    tcp  8443  4 allow
infusion             biomed/pump-server    tcp  8443  6 allow
infusion             identity/ntp          udp  123   4 allow
infusion             identity/ntp          udp  123   6 allow
mgmt/siem            identity/dc           icmp -     4 allow
mgmt/siem            identity/dc           icmp -     6 allow
monitors             biomed/monitor-gw     udp  24006 4 allow
monitors             biomed/monitor-gw     udp  24006 6 allow
workstations         bms/bms-server        udp  47808 4 monitor
workstations         bms/bms-server        udp  47808 6 monitor
guest                bms                   tcp  443   4 monitor
vendor/vpn           bms                   udp  47808 6 monitor
"

ww() { ip netns exec "$GW" "$WARDWALL" "$@"; }

# Counters of both tiers, one "NAME TIER PACKETS" a line: flow/ID and default/SRC/DST from
# `wardwall stats --json` (tiers xdp and nft; defaults are listed once they count something),
# the XDP program's own statistics (stat/NAME xdp), and the sum of every counter of table inet
# wardwall as nft itself lists them (nft-all nft), an independent witness.
snap() {
	ww stats --json >"$tmp/stats.json" 2>"$tmp/stats.err" || {
		cat "$tmp/stats.err" >&2
		return 1
	}
	"$WW_PYTHON" -c '
import json, sys
s = json.load(open(sys.argv[1]))
for f in s["flows"]:
    for t, k in (("xdp", "xdp"), ("nft", "nftables")):
        if f[k] is not None:
            print("flow/%s %s %d" % (f["id"], t, f[k]["packets"]))
for d in s["defaults"]:
    for t, k in (("xdp", "xdp"), ("nft", "nftables")):
        if d[k] is not None:
            print("default/%s/%s %s %d" % (d["from"], d["to"], t, d[k]["packets"]))
for k, v in (s.get("xdp") or {}).items():
    print("stat/%s xdp %d" % (k, v))' "$tmp/stats.json" >"$1" || return 1
	ww_counters | awk '{ s += $2 } END { print "nft-all nft", s + 0 }' >>"$1"
}

# delta BEFORE AFTER NAME TIER: what a counter gained; a default counter not listed is at 0, any
# other counter missing from AFTER is "missing".
delta() {
	awk -v c="$3" -v t="$4" '
		FNR == 1 { f++ }
		$1 == c && $2 == t { v[f] = $3; seen[f] = 1 }
		END {
			if (!seen[2] && c !~ /^default\//) { print "missing"; exit }
			print v[2] - v[1]
		}' "$1" "$2"
}

# The counters that grew between two snapshots.
grown() {
	awk 'FNR == NR { b[$1 " " $2] = $3; next }
		$3 != b[$1 " " $2] { printf "%s/%s +%d  ", $1, $2, $3 - b[$1 " " $2] }' "$1" "$2"
}

# XDP attachment of every interface the policy lists, one "IFACE MODE PROG_ID" a line (mode 1:
# native, 2: generic, 3: offloaded, none: nothing attached), as ip -j link reports it.
xdp_links() {
	ip -j -n "$GW" link show | "$WW_PYTHON" -c '
import json, sys
want = json.load(open(sys.argv[1]))["enforcement"]["interfaces"]
links = {l["ifname"]: l for l in json.load(sys.stdin)}
for i in want:
    x = links.get(i, {}).get("xdp")
    x = x if x and x.get("mode") else None  # mode 0: nothing attached
    print(i, x["mode"] if x else "none", x["prog"]["id"] if x and "prog" in x else "-")' "$POLICY_A"
}

xdp_generation() {
	ww show --json 2>/dev/null | "$WW_PYTHON" -c '
import json, sys
print((json.load(sys.stdin).get("xdp") or {}).get("generation", "none"))'
}

# Where a datagram can be lost besides XDP, one "PLACE COUNTER VALUE" a line: the veth pairs on the way
# (a veth drops what its peer's ring or backlog cannot take: tx_dropped of the sending end), the
# UDP counters of the sending and receiving namespaces (SndbufErrors: the device refused the
# datagram; RcvbufErrors: the socket was full), the kernel's per-CPU backlogs (softnet_stat).
drops() {
	local where dev ns
	for where in "monitors eth0" "GW lan-monitors" "GW lan-biomed" "biomed eth0"; do
		read -r ns dev <<<"$where"
		[ "$ns" = GW ] && ns=$GW || ns=$(ww_ns "$ns")
		ip -j -s -n "$ns" link show dev "$dev" | "$WW_PYTHON" -c '
import json, sys
s = json.load(sys.stdin)[0]["stats64"]
print("%s rx_dropped %d" % (sys.argv[1], s["rx"]["dropped"]))
print("%s tx_dropped %d" % (sys.argv[1], s["tx"]["dropped"]))' "${where/ /:}"
	done
	for ns in monitors biomed; do
		ip netns exec "$(ww_ns $ns)" cat /proc/net/snmp /proc/net/snmp6 | "$WW_PYTHON" -c '
import sys
lines = sys.stdin.read().splitlines()
for i, l in enumerate(lines):
    if l.startswith("Udp:") and i + 1 < len(lines) and lines[i + 1].startswith("Udp:"):
        d = dict(zip(l.split()[1:], lines[i + 1].split()[1:]))
        for k in ("InErrors", "RcvbufErrors", "SndbufErrors"):
            print("%s:udp %s %s" % (sys.argv[1], k, d[k]))
    if l.split()[:1] in (["Udp6InErrors"], ["Udp6RcvbufErrors"], ["Udp6SndbufErrors"]):
        print("%s:udp6 %s %s" % (sys.argv[1], l.split()[0], l.split()[1]))' "$ns"
	done
	"$WW_PYTHON" -c 'print("softnet_stat dropped", sum(int(l.split()[1], 16) for l in open("/proc/net/softnet_stat")))'
}

start=$SECONDS

# ---- the simulated hospital and the policy ----
ww_sim_up_tap "$EXAMPLE"
ww_serve_probes

if grep -q '"xdp": "native"' "$EXAMPLE" && ww apply "$EXAMPLE" >"$tmp/out" 2>"$tmp/err"; then
	ok "apply $EXAMPLE (xdp native) in the gateway: $(head -1 "$tmp/out")"
else
	fail "apply $EXAMPLE (xdp native) in the gateway" "$(cat "$tmp/out" "$tmp/err")"
	finish
fi

# ---- attachment ----
xdp_links >"$tmp/links"
nif=$(wc -l <"$tmp/links")
prog_ids=$(awk '{ print $3 }' "$tmp/links" | sort -u)
if [ "$nif" -gt 0 ] && ! awk '$2 != 1 { bad = 1 } END { exit !bad }' "$tmp/links" &&
	[ "$(wc -l <<<"$prog_ids")" = 1 ] && [ "$prog_ids" != - ]; then
	ok "ip -n $GW link: one program (id $prog_ids) attached natively on all $nif interfaces of the policy"
else
	fail "ip -n $GW link: one program attached natively (mode 1) on every interface of the policy" \
		"$(cat "$tmp/links")"
fi
if [ "$(ip -n "$GW" link show | grep -c ' xdp ')" = "$nif" ] &&
	! ip -n "$GW" link show | grep -q 'xdpgeneric'; then
	ok "ip -n $GW link shows \"xdp\" (native) on $nif interfaces, \"xdpgeneric\" on none"
else
	fail "ip -n $GW link shows \"xdp\" (native) on exactly the policy's interfaces" \
		"$(ip -n "$GW" link show | grep -E 'xdp|^[0-9]')"
fi

# ---- the oracle ----
ww_probes_tap "$POLICY_A" "$tmp/oracle.json"

# ---- the probes, in waves: denied probes apart from the others (so that no nftables counter
# at all may move in their waves), and no two probes of a wave on the same counter ----
declare -A used=()
declare -a WAVE
nwaves=0
for group in deny pass; do
	first=$nwaves
	for ((i = 0; i < np; i++)); do
		g=pass
		[ "${O_VERDICT[i]}" = deny ] && g=deny
		[ "$g" = "$group" ] || continue
		for ((w = first; ; w++)); do
			[ -z "${used[$w:${O_COUNTER[i]}]:-}" ] && break
		done
		used[$w:${O_COUNTER[i]}]=1
		WAVE[i]=$w
		((w + 1 > nwaves)) && nwaves=$((w + 1))
	done
done
t0=$SECONDS
for ((w = 0; w < nwaves; w++)); do
	snap "$tmp/c.$w.before"
	ww_probe_wave "$w"
	# The last segments of a TCP close may still be on their way.
	sleep 0.1
	snap "$tmp/c.$w.after"
done
echo "# $np probes in $nwaves waves, $((SECONDS - t0)) s"

for ((i = 0; i < np; i++)); do
	what="${P_SRC[i]} -> ${P_DST[i]} ${P_Q[i]} IPv${P_FAM[i]}"
	v=${O_VERDICT[i]} by=${O_COUNTER[i]} w=${WAVE[i]}
	rc=$(cat "$tmp/rc.$i" 2>/dev/null || echo none)
	got=$(paste -sd' ' "$tmp/probe.$i" 2>/dev/null)
	case ${P_PROTO[i]} in icmp*) got=$([ "$rc" = 0 ] && echo reply || echo "no reply") ;; esac
	if [ "$v" != "${P_WANT[i]}" ]; then
		fail "$what: the oracle says $v, the probe table expects ${P_WANT[i]}" \
			"oracle: $(sed -n "$((i + 1))p" "$tmp/oracle.json")"
		continue
	fi
	x=$(delta "$tmp/c.$w.before" "$tmp/c.$w.after" "$by" xdp)
	f=$(delta "$tmp/c.$w.before" "$tmp/c.$w.after" "$by" nft)
	if [ "$v" = deny ]; then
		all=$(delta "$tmp/c.$w.before" "$tmp/c.$w.after" nft-all nft)
		if [ "$rc" = 1 ] && [ "$x" = 1 ] && [ "$f" = 0 ] && [ "$all" = 0 ]; then
			ok "$what: denied by $by at XDP (xdp +1, nftables +0, no nftables counter moved): $got"
		else
			fail "$what: denied by $by at XDP (want no reply, xdp +1, nftables +0 everywhere)" \
				"connection: ${got:-nothing} (rc $rc); xdp +$x, nftables +$f, all nftables +$all" \
				"grew in wave $w: $(grown "$tmp/c.$w.before" "$tmp/c.$w.after")"
		fi
		continue
	fi
	# Allowed or monitored: XDP counts both directions, nftables the new connection.
	case ${P_PROTO[i]} in
	tcp) xok=$([ "$x" != missing ] && [ "$x" -ge 3 ] && echo y) want="xdp >= 3 (SYN, SYN-ACK, ACK...)" ;;
	*) xok=$([ "$x" = 2 ] && echo y) want="xdp +2 (request and reply)" ;;
	esac
	if [ "$rc" = 0 ] && [ -n "$xok" ] && [ "$f" = 1 ]; then
		ok "$what: $v by $by, reply came back; xdp +$x (both directions), nftables +1: $got"
	else
		fail "$what: $v by $by (want a reply, $want, nftables +1)" \
			"connection: ${got:-nothing} (rc $rc); xdp +$x, nftables +$f" \
			"grew in wave $w: $(grown "$tmp/c.$w.before" "$tmp/c.$w.after")"
	fi
done

# ---- atomic swap under traffic ----
# Numbered datagrams from monitors to biomed on udp/24005, IPv4 and IPv6: to monitor-gw
# (monitors-to-gateway allows it) and to pump-server (nothing allows it: the default denies), while
# B and A are applied in turn, each a new XDP generation.
MON4=$(ww_addr monitors 4) MON6=$(ww_addr monitors 6)
GW4=$(ww_addr biomed/monitor-gw 4) GW6=$(ww_addr biomed/monitor-gw 6)
PUMP4=$(ww_addr biomed/pump-server 4) PUMP6=$(ww_addr biomed/pump-server 6)
ip netns exec "$(ww_ns biomed)" "$WW_PYTHON" "$STREAM" udp-recv "$GW4,$GW6,$PUMP4,$PUMP6" 24005 \
	"$tmp/recv.ready" >"$tmp/recv.out" 2>"$tmp/recv.err" &
recv_pid=$!
bg_pids+=("$recv_pid")
for ((i = 0; i < 100; i++)); do
	[ -e "$tmp/recv.ready" ] && break
	sleep 0.05
done
# Neighbours resolved before the streams: the first datagrams must not wait in an ARP queue.
ww_probe monitors "$MON4" "$GW4" udp 24006 1 >/dev/null
ww_probe monitors "$MON6" "$GW6" udp 24006 1 >/dev/null
ip netns exec "$GW" ping -c1 -W1 "$PUMP4" >/dev/null 2>&1
ip netns exec "$GW" ping -c1 -W1 "$PUMP6" >/dev/null 2>&1
gen0=$(xdp_generation)
snap "$tmp/s.before"
drops >"$tmp/d.before"
rm -f "$tmp/stop"
for s in "allow4 $MON4 $GW4" "allow6 $MON6 $GW6" "deny4 $MON4 $PUMP4" "deny6 $MON6 $PUMP6"; do
	read -r tag src dst <<<"$s"
	ip netns exec "$(ww_ns monitors)" "$WW_PYTHON" "$STREAM" udp-send "$src" "$dst" 24005 \
		"$STREAM_RATE" "$STREAM_MAX_SECONDS" "$tag" "$tmp/stop" >"$tmp/send.$tag" 2>&1 &
	bg_pids+=($!)
	send_pids+=($!)
done
sleep 1
t_swap0=$(date +%s.%N)
swap_ok=0
: >"$tmp/swaps"
for ((k = 0; k < SWAPS; k++)); do
	p=$POLICY_B
	((k % 2)) && p=$POLICY_A
	if ww apply "$p" >"$tmp/swap.out" 2>&1 && grep -q 'xdp: new generation switched in' "$tmp/swap.out"; then
		swap_ok=$((swap_ok + 1))
	else
		cat "$tmp/swap.out" >>"$tmp/swaps"
	fi
	sleep 0.2
done
t_swaps=$(date +%s.%N)
# The streams go on for a second after the last switch, then stop together.
sleep 1
touch "$tmp/stop"
for pid in "${send_pids[@]}"; do wait "$pid"; done
sleep 0.5
kill -TERM "$recv_pid"
wait "$recv_pid"
snap "$tmp/s.after"
drops >"$tmp/d.after"
gen1=$(xdp_generation)

# Every apply between the last sender's start and the first sender's end.
span=$("$WW_PYTHON" -c '
import json, sys
s = [json.load(open(sys.argv[1] + "." + t)) for t in ("allow4", "allow6", "deny4", "deny6")]
a, b = float(sys.argv[2]), float(sys.argv[3])
first, last = max(x["start"] for x in s), min(x["end"] for x in s)
print("yes" if first < a and b < last else "no",
      "applies from %.1f s to %.1f s of %.1f s of traffic" % (a - first, b - first, last - first))' \
	"$tmp/send" "$t_swap0" "$t_swaps" 2>&1)
if [ "$swap_ok" = "$SWAPS" ] && [ "$gen1" = $((gen0 + SWAPS)) ] && [ "${span%% *}" = yes ]; then
	ok "$SWAPS applies (B and A in turn) under traffic, each a new XDP generation ($gen0 -> $gen1): ${span#* }"
else
	fail "$SWAPS applies under traffic, each a new XDP generation" \
		"switched: $swap_ok; generation $gen0 -> $gen1; all during the streams: $span" \
		"$(cat "$tmp/swaps")"
fi
# Per stream: sent, received, distinct, gaps.
"$WW_PYTHON" -c '
import json, sys
recv = json.load(open(sys.argv[1]))
for tag in ("allow4", "allow6", "deny4", "deny6"):
    s = json.load(open(sys.argv[2] + "." + tag))
    r = recv["streams"].get(tag, {"received": 0, "distinct": 0, "gaps": []})
    print(tag, s["sent"], r["received"], r["distinct"], sum(s["errors"].values()),
          s["device_full"], recv["socket_overflow_drops"], s["rate"],
          json.dumps(r["gaps"]).replace(" ", ""))' \
	"$tmp/recv.out" "$tmp/send" >"$tmp/streams" 2>"$tmp/err" || cat "$tmp/err" "$tmp/recv.err" >"$tmp/streams"
xa=$(delta "$tmp/s.before" "$tmp/s.after" flow/monitors-to-gateway xdp)
xd=$(delta "$tmp/s.before" "$tmp/s.after" default/monitors/_other xdp)
fd=$(delta "$tmp/s.before" "$tmp/s.after" default/monitors/_other nft)
sent_all=$(awk '$1 ~ /^allow/ { s += $2 } END { print s + 0 }' "$tmp/streams")
sent_a=0 sent_d=0
while read -r tag sent recvd distinct errs full ovfl rate gaps; do
	busy=
	[ "$full" = 0 ] || busy=" (the sending veth was full $full times: sent again)"
	case $tag in
	allow*)
		sent_a=$((sent_a + sent))
		if [ "$recvd" = "$sent" ] && [ "$distinct" = "$sent" ] && [ "$errs" = 0 ]; then
			ok "stream $tag (monitors -> biomed/monitor-gw udp/24005, allowed): $recvd of $sent datagrams received, none lost, at $rate/s$busy"
		else
			fail "stream $tag (allowed): every datagram received" \
				"sent $sent (send errors $errs, sending veth full $full times), received $recvd, distinct $distinct, gaps $gaps" \
				"receiving socket overflow drops: $ovfl" \
				"drops elsewhere while the streams ran: $(grown "$tmp/d.before" "$tmp/d.after")" \
				"datagrams of the allowed streams monitors-to-gateway counted at XDP: $xa of $sent_all" \
				"applies: ${span#* }"
		fi
		;;
	deny*)
		sent_d=$((sent_d + sent))
		if [ "$recvd" = 0 ] && [ "$sent" -gt 0 ] && [ "$errs" = 0 ]; then
			ok "stream $tag (monitors -> biomed/pump-server udp/24005, denied): 0 of $sent datagrams received$busy"
		else
			fail "stream $tag (denied): no datagram received" \
				"sent $sent (send errors $errs), received $recvd, gaps $gaps"
		fi
		;;
	*)
		fail "stream results" "$(cat "$tmp/streams")"
		;;
	esac
done <"$tmp/streams"
if [ "$xa" = "$sent_a" ] && [ "$xd" = "$sent_d" ] && [ "$fd" = 0 ]; then
	ok "streams counted by XDP: monitors-to-gateway +$xa (every allowed datagram), default monitors->biomed +$xd (every denied one), its nftables counter +0"
else
	fail "streams counted by XDP (want monitors-to-gateway +$sent_a, default monitors->biomed +$sent_d at XDP, +0 at nftables)" \
		"xdp monitors-to-gateway +$xa, xdp default +$xd, nftables default +$fd"
fi

# ---- revocation of a live connection ----
# A session from mgmt/jump to ehr/his-app on tcp/3389 (admin-jump). Policy C has no admin-jump.
JUMP4=$(ww_addr mgmt/jump 4) HIS4=$(ww_addr ehr/his-app 4)
ip netns exec "$(ww_ns ehr)" "$WW_PYTHON" "$STREAM" tcp-echo "$HIS4" 3389 "$tmp/echo.ready" \
	>/dev/null 2>"$tmp/echo.err" &
bg_pids+=($!)
for ((i = 0; i < 100; i++)); do
	[ -e "$tmp/echo.ready" ] && break
	sleep 0.05
done
ww apply "$POLICY_A" >/dev/null 2>&1
coproc HOLD { ip netns exec "$(ww_ns mgmt)" "$WW_PYTHON" "$STREAM" tcp-hold "$JUMP4" "$HIS4" 3389 2>&1; }
hold_pid=$HOLD_PID
hold() { # hold COMMAND: one answer line, or "no answer"
	local line
	[ -n "${HOLD[1]:-}" ] && echo "$1" >&"${HOLD[1]}" && read -r -t 40 line <&"${HOLD[0]}" && echo "$line" || echo "no answer"
}
line="no answer"
[ -n "${HOLD[0]:-}" ] && read -r -t 5 line <&"${HOLD[0]}"
what="mgmt/jump -> ehr/his-app tcp/3389 ($JUMP4 -> $HIS4)"
if [ "$line" = connected ] && [ "$(hold "send one 2")" = "echo one" ]; then
	ok "$what: a long-lived connection under A, data echoed"
else
	fail "$what: a long-lived connection under A" "connect: $line" "$(cat "$tmp/echo.err")"
fi
snap "$tmp/r.before"
ww apply "$POLICY_C" >"$tmp/out" 2>&1
a=$(hold "send two 2")
snap "$tmp/r.after"
rev=$(delta "$tmp/r.before" "$tmp/r.after" stat/ct_revoked xdp)
dx=$(delta "$tmp/r.before" "$tmp/r.after" default/mgmt/_other xdp)
dn=$(delta "$tmp/r.before" "$tmp/r.after" default/mgmt/_other nft)
if [ "$a" = timeout ] && [ "$rev" = 1 ] && [ "$dx" -ge 1 ] && [ "$dn" = 0 ]; then
	ok "$what: after apply C (no admin-jump) the next segment is dropped at XDP: no echo in 2 s, ct_revoked +1, default mgmt->ehr +$dx at XDP (the segment and its retransmissions), its nftables counter +0"
else
	fail "$what: after apply C the next data does not get through (dropped at XDP)" \
		"answer: $a; ct_revoked +$rev; xdp default mgmt->ehr +$dx; nftables default mgmt->ehr +$dn" \
		"$(head -3 "$tmp/out")" "grew: $(grown "$tmp/r.before" "$tmp/r.after")"
fi
ww apply "$POLICY_A" >"$tmp/out" 2>&1
# TCP retransmits the held-back segment with exponential backoff: give it time.
a=$(hold "wait two 30")
b=$(hold "send three 2")
if [ "$a" = "echo two" ] && [ "$b" = "echo three" ]; then
	ok "$what: admin-jump allowed again (apply A): the held-back data is retransmitted and echoed, new data flows"
else
	fail "$what: after apply A again the connection resumes" "held-back data: $a; new data: $b" \
		"$(head -3 "$tmp/out")"
fi
[ -n "${HOLD[1]:-}" ] && eval "exec ${HOLD[1]}>&-"
wait "$hold_pid" 2>/dev/null
hold_pid=

# ---- remove ----
if ww remove >"$tmp/out" 2>&1; then
	ok "remove: $(paste -sd';' "$tmp/out")"
else
	fail "remove" "$(cat "$tmp/out")"
fi
xdp_links >"$tmp/links"
if ! awk '$2 != "none" { bad = 1 } END { exit !bad }' "$tmp/links" &&
	! ip -n "$GW" link show | grep -q 'xdp'; then
	ok "after remove, no interface of the gateway has an XDP program ($(wc -l <"$tmp/links") checked)"
else
	fail "after remove, no interface of the gateway has an XDP program" \
		"$(ip -n "$GW" link show | grep -E 'xdp|^[0-9]')"
fi
if [ ! -e "$BPFFS/wardwall" ] && ! ip netns exec "$GW" nft list table inet wardwall >/dev/null 2>&1; then
	ok "after remove, nothing is pinned under the bpffs and table inet wardwall is gone"
else
	fail "after remove, nothing pinned and no table" "$(ls -R "$BPFFS" 2>&1 | head)"
fi
if ww_probe guest "$(ww_addr guest 4)" "$(ww_addr ehr/his-app 4)" tcp 443 "$TIMEOUT" >/dev/null; then
	ok "after remove, guest -> ehr/his-app tcp/443 connects (nothing enforces any more)"
else
	fail "after remove, guest -> ehr/his-app tcp/443 connects (nothing enforces any more)"
fi

ww_sim_down_tap
echo "# $((SECONDS - start)) s"
finish
