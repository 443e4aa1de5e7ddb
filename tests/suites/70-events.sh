#!/bin/bash
# `wardwall events` end to end, on the simulated hospital (tests/e2e/lib.sh):
#   nftables (policy copy with XDP off): every probe of the table below — denials, and connections
#     into the bms zone, which is in monitor mode — appears exactly once, with the flow (or
#     "default"), verdict, zones, host groups and 5-tuple the reference oracle (`wardwall query`)
#     gives; --zone and --flow filter (either side, repeatable); the text form; usage errors;
#     SIGINT and SIGTERM end it with status 0; a flood over a lowered enforcement.log_rate is
#     accounted for exactly: events printed + events reported dropped = datagrams sent;
#   XDP (the example policy as it is, on a private bpffs): denials appear with tier xdp, monitor
#     connections once per tier, and a flood is accounted for as with nftables.
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a bpffs
# mounted on a temporary directory, all removed on exit; the root namespace's ruleset and
# /sys/fs/bpf are never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
# The kernel decides time windows by its own clock: the oracle must be asked about the same time.
unset WARDWALL_NOW
TIMEOUT=${WW_PROBE_TIMEOUT:-0.5} # a denied TCP probe sends one SYN (the first retransmission comes after 1 s)

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
export WARDWALL_STATE_DIR=$tmp/state
NFT_ONLY=$tmp/nft-only.json
ww_policy_nft_only "$EXAMPLE" "$NFT_ONLY" || exit 2
# Copies of the policies with enforcement.log_rate lowered to 5 per second.
ww_policy_log_rate "$NFT_ONLY" "$tmp/nft-only-slow.json" 5 &&
	ww_policy_log_rate "$EXAMPLE" "$tmp/xdp-slow.json" 5 || exit 2

# ---- helpers ----

# `wardwall events ARGS...` in the gateway: ww_events_start (output in $tmp/ev.out, errors in
# $tmp/ev.err, PID in WW_EVENTS_PID).
ev_start() { ww_events_start "$@"; }
# Waits at most $1 seconds for events to exit by itself, then stops it with SIGTERM; returns its
# exit status, or 124 when it had to be stopped.
ev_wait() {
	local i rc
	for ((i = 0; i < $1 * 20; i++)); do
		if ! kill -0 "$WW_EVENTS_PID" 2>/dev/null; then
			wait "$WW_EVENTS_PID"
			rc=$?
			WW_EVENTS_PID=''
			return $rc
		fi
		sleep 0.05
	done
	kill "$WW_EVENTS_PID" 2>/dev/null
	wait "$WW_EVENTS_PID"
	WW_EVENTS_PID=''
	return 124
}

# The probes: source endpoint, destination endpoint, protocol, port (- for ICMP), family, and the
# verdict the example policy gives (the oracle is asked too, and must agree). Each sends exactly
# one connection-opening packet, so each is logged exactly once per tier that logs it.
PROBES="
guest          ehr/his-app    tcp  443   4 deny
guest          ehr/his-app    tcp  443   6 deny
infusion       internet       udp  53    6 deny
workstations   identity/dc    tcp  22    4 deny
workstations   identity/dc    icmp -     4 deny
vendor/vpn     modality/ct-1  tcp  22    4 deny
modality/ct-1  infusion       udp  5000  4 deny
workstations   bms/bms-server udp  47808 4 monitor
guest          bms            tcp  443   4 monitor
internet       bms/bms-server icmp -     6 monitor
"
np=0

# Writes the oracle's expectation for every probe to $tmp/expect.jsonl.
oracle() {
	ww_probes_oracle "$NFT_ONLY" >"$tmp/oracle.jsonl"
	"$WW_PYTHON" - "$tmp/oracle.jsonl" "${P_PROTO[@]}" >"$tmp/expect.jsonl" <<'EOF'
import json, sys
protos = sys.argv[2:]
for i, line in enumerate(open(sys.argv[1])):
    q = json.loads(line)
    host = lambda e: "%s/%s" % (e["zone"], e["host"]) if e["host"] else None
    e = {"verdict": q["verdict"], "flow": q["flow"] or "default",
         "src_zone": q["from"]["zone"] or "-", "dst_zone": q["to"]["zone"] or "-",
         "src_host": host(q["from"]), "dst_host": host(q["to"]), "proto": protos[i],
         "src": q["src"], "dst": q["dst"]}
    if q["verdict"] == "monitor" and q.get("monitor_flow"):
        e["flow"] = q["monitor_flow"]
    if protos[i] in ("icmp", "icmpv6"):
        e["icmp_type"], e["icmp_code"] = (8 if protos[i] == "icmp" else 128), 0
    else:
        e["dport"] = q["port"]
    print(json.dumps(e))
EOF
}

# Sends the probes whose indexes are given, all at once.
send() {
	local i pids=()
	for i in "$@"; do
		ww_probe "${P_SRC[i]%%/*}" "${P_SA[i]}" "${P_DA[i]}" "${P_PROTO[i]}" "${P_PORT[i]}" \
			"$TIMEOUT" >/dev/null 2>&1 &
		pids+=($!)
	done
	wait "${pids[@]}"
}

# Compares the JSON events in $tmp/ev.out with the expectations of the probes given: for TIER,
# each exactly once with every field as expected, and no other event of that tier. Prints
# "PASS text" or "FAIL text :: detail" lines.
compare() {
	local tier=$1
	shift
	"$WW_PYTHON" - "$tier" "$tmp/expect.jsonl" "$tmp/ev.out" "$@" <<'EOF'
import json, re, sys
tier, exp_file, ev_file = sys.argv[1:4]
want = [json.loads(l) for l in open(exp_file)]
want = [want[int(i)] for i in sys.argv[4:]]
events = []
for l in open(ev_file):
    try:
        e = json.loads(l)
    except ValueError:
        print("FAIL %s: a line that is not JSON :: %s" % (tier, l.strip()))
        continue
    if e.get("type") == "event" and e.get("tier") == tier:
        events.append(e)
key = lambda e: (e["src"], e["dst"], e["proto"], e.get("dport"), e.get("icmp_type"))
used = set()
for w in want:
    what = "%s: %s %s -> %s %s/%s" % (tier, w["verdict"], w["src"], w["dst"], w["proto"],
                                     w.get("dport", w.get("icmp_type")))
    got = [i for i, e in enumerate(events) if key(e) == key(w)]
    if len(got) != 1:
        print("FAIL %s appears %d times (want once) :: %d events of the tier" % (what, len(got), len(events)))
        continue
    used.add(got[0])
    e = events[got[0]]
    bad = ["%s: %r, want %r" % (k, e.get(k), v) for k, v in w.items() if e.get(k) != v]
    if "dport" in w and not (isinstance(e.get("sport"), int) and 0 < e["sport"] < 65536):
        bad.append("sport: %r" % e.get("sport"))
    if not re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e.get("time", "")):
        bad.append("time: %r" % e.get("time"))
    if not e.get("in"):
        bad.append("in: %r" % e.get("in"))
    if bad:
        print("FAIL %s :: %s" % (what, "; ".join(bad)))
    else:
        print("PASS %s, flow %s, %s -> %s" % (what, e["flow"], e["src_host"] or e["src_zone"],
                                              e["dst_host"] or e["dst_zone"]))
for i, e in enumerate(events):
    if i not in used:
        print("FAIL %s: an event no probe explains :: %s" % (tier, json.dumps(e)))
EOF
}
# The probe indexes whose verdict is $1.
probes_of() {
	local i
	for ((i = 0; i < np; i++)); do
		[ "${P_WANT[i]}" = "$1" ] && echo "$i"
	done
}

# Floods 200 UDP datagrams from one socket of the guest zone to ehr/his-app port 9999 (denied by
# guest-no-clinical: none is answered, so each opens the connection anew and is counted and
# meant to be logged), then waits until events has printed and reported dropped all 200 or $1
# seconds passed, then stops it. Checks the accounting for tier $2.
flood_check() {
	local secs=$1 tier=$2 i sum
	ip netns exec "$(ww_ns guest)" "$WW_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
for i in range(200):
    s.sendto(b"flood", (sys.argv[2], 9999))' "$(ww_addr guest 4)" "$(ww_addr ehr/his-app 4)"
	for ((i = 0; i < secs * 10; i++)); do
		sum=$("$WW_PYTHON" - "$tier" "$tmp/ev.out" <<'EOF'
import json, sys
ev = dropped = 0
for l in open(sys.argv[2]):
    try:
        e = json.loads(l)
    except ValueError:
        continue  # a line being written
    if e.get("tier") != sys.argv[1]:
        continue
    if e["type"] == "event" and e["flow"] == "guest-no-clinical" and e.get("dport") == 9999:
        ev += 1
    elif e["type"] == "dropped":
        dropped += e["rate_limited"] + e.get("ring_full", 0)
print(ev, dropped)
EOF
)
		[ "$(awk '{ print $1 + $2 }' <<<"$sum")" -ge 200 ] && break
		sleep 0.1
	done
	kill -TERM "$WW_EVENTS_PID" 2>/dev/null
	wait "$WW_EVENTS_PID"
	WW_EVENTS_PID=''
	read -r ev dropped <<<"$sum"
	if [ $((ev + dropped)) = 200 ] && [ "$ev" -ge 1 ] && [ "$ev" -le 20 ]; then
		ok "$tier: a flood of 200 datagrams at log_rate 5: $ev printed + $dropped reported dropped = 200"
	else
		fail "$tier: a flood of 200 datagrams at log_rate 5: $ev printed + $dropped reported dropped (want 200, few printed)" \
			"$(grep dropped "$tmp/ev.out")" "$(cat "$tmp/ev.err")"
	fi
}

# ---- the simulated hospital, the nftables-only policy ----
ww_sim_start "$NFT_ONLY" tcp:443,udp:47808 bms

ww_probes_tap
oracle
bad=$("$WW_PYTHON" -c '
import json, sys
for i, (l, want) in enumerate(zip(open(sys.argv[1]), sys.argv[2:])):
    if json.loads(l)["verdict"] != want:
        print("probe %d: the oracle says %s, the table %s" % (i, json.loads(l)["verdict"], want))' \
	"$tmp/expect.jsonl" "${P_WANT[@]}")
if [ -z "$bad" ]; then
	ok "the oracle agrees with the probe table ($np probes)"
else
	fail "the oracle agrees with the probe table" "$bad"
fi

# ---- every probe, once ----
all=$(seq 0 $((np - 1)))
if ev_start --json --count "$np"; then
	# shellcheck disable=SC2086
	send $all
	ev_wait 5
	rc=$?
	[ $rc = 0 ] && ok "events --json --count $np exits 0 after $np events" ||
		fail "events --json --count $np exits 0 after $np events (status $rc)" \
			"$(cat "$tmp/ev.out" "$tmp/ev.err")"
	# shellcheck disable=SC2086
	report compare nftables $all
else
	fail "events --json starts listening" "$(cat "$tmp/ev.err")"
fi

# ---- filters ----
# Indexes into the probe table.
G_EHR4=0 INF_NET=2 WS_DC22=3 WS_DC_ICMP=4 WS_BMS=7
# $1: description; $2: count; $3: probes sent one after the other (excluded ones first);
# $4: probes that must appear; then the filter options.
filter_check() {
	local what=$1 count=$2 sent=$3 want=$4 i
	shift 4
	if ! ev_start --json --count "$count" "$@"; then
		fail "events $* starts listening" "$(cat "$tmp/ev.err")"
		return
	fi
	for i in $sent; do send "$i"; done
	ev_wait 5 || fail "events $* --count $count: ended by its count" "$(cat "$tmp/ev.err")"
	# shellcheck disable=SC2086
	if out=$(compare nftables $want) && ! grep -q '^FAIL' <<<"$out"; then
		ok "events $*: $what"
	else
		fail "events $*: $what" "$out" "$(cat "$tmp/ev.out")"
	fi
}
filter_check "only the connection into bms, not workstations -> identity" 1 \
	"$WS_DC22 $WS_BMS" "$WS_BMS" --zone bms
filter_check "either side: guest as source, bms as destination" 2 \
	"$WS_DC22 $G_EHR4 $WS_BMS" "$G_EHR4 $WS_BMS" --zone guest --zone=bms
filter_check "devices-offline and the defaults, not guest-no-clinical" 2 \
	"$G_EHR4 $INF_NET $WS_DC_ICMP" "$INF_NET $WS_DC_ICMP" --flow devices-offline --flow default
filter_check "zone and flow together: both must match" 1 \
	"$G_EHR4 $WS_DC22" "$WS_DC22" --flow default --zone identity

# ---- the text form ----
if ev_start --count 1; then
	send $G_EHR4
	ev_wait 5
	line=$(cat "$tmp/ev.out")
	re="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z nftables deny +guest-no-clinical guest -> ehr/his-app tcp ${P_SA[G_EHR4]//./\\.}:[0-9]+ -> ${P_DA[G_EHR4]//./\\.}:443 \(lan-guest -> lan-ehr\)$"
	if [[ $line =~ $re ]]; then
		ok "text form: $line"
	else
		fail "text form: time, tier, verdict, flow, endpoints, 5-tuple, interfaces" "$line"
	fi
else
	fail "events (text) starts listening" "$(cat "$tmp/ev.err")"
fi

# ---- usage errors ----
usage() {
	local want=$1 rc
	shift
	ip netns exec "$GW" "$WARDWALL" events "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc = 2 ] && grep -q -- "$want" "$tmp/out"; then
		ok "events $*: exit 2, $(head -1 "$tmp/out")"
	else
		fail "events $*: exit $rc (want 2, saying \"$want\")" "$(cat "$tmp/out")"
	fi
}
usage 'nftables or xdp' --tier nft
usage '1 or more' --count 0
usage 'did you mean "bms"' --zone bmss
usage 'did you mean "devices-offline"' --flow devices-ofline
usage 'unknown option' --zones bms
usage 'needs an argument' --flow

# ---- signals ----
for sig in INT TERM; do
	if ev_start --json; then
		kill -"$sig" "$WW_EVENTS_PID"
		ev_wait 2
		rc=$?
		[ $rc = 0 ] && ok "SIG$sig: events exits 0" ||
			fail "SIG$sig: events exits 0 (status $rc)" "$(cat "$tmp/ev.err")"
	else
		fail "events starts listening (SIG$sig)" "$(cat "$tmp/ev.err")"
	fi
done

# ---- what the rate limit drops (nftables) ----
if ip netns exec "$GW" "$WARDWALL" apply "$tmp/nft-only-slow.json" >"$tmp/out" 2>"$tmp/err" &&
	ev_start --json; then
	before=$(ww_counters | awk '$1 == "flow/guest-no-clinical" { print $2 }')
	flood_check 8 nftables
	after=$(ww_counters | awk '$1 == "flow/guest-no-clinical" { print $2 }')
	[ $((after - before)) = 200 ] && ok "nftables: counter flow/guest-no-clinical +200" ||
		fail "nftables: counter flow/guest-no-clinical +$((after - before)) (want 200)"
	if grep -q '"counters": {"flow/guest-no-clinical": ' "$tmp/ev.out"; then
		ok "nftables: the drop report names the counter: $(grep -m1 dropped "$tmp/ev.out")"
	else
		fail "nftables: the drop report names the counter" "$(grep dropped "$tmp/ev.out")"
	fi
else
	fail "apply log_rate 5 (XDP off), events starts" "$(cat "$tmp/out" "$tmp/err" "$tmp/ev.err")"
fi

# ---- XDP, on a private bpffs ----
if ! ww_bpffs "$tmp/bpf" 2>"$tmp/err"; then
	ok "# SKIP XDP: cannot mount a bpffs: $(cat "$tmp/err")"
	finish
fi
usage 'nothing pinned' --tier xdp
if ip netns exec "$GW" "$WARDWALL" apply "$EXAMPLE" >"$tmp/out" 2>"$tmp/err"; then
	ok "apply $EXAMPLE (XDP native) on a private bpffs: $(grep xdp: "$tmp/out" | sed 's/^ *//')"
else
	fail "apply $EXAMPLE (XDP native) on a private bpffs" "$(cat "$tmp/out" "$tmp/err")"
	finish
fi
ndeny=$(probes_of deny | wc -l) nmon=$(probes_of monitor | wc -l)
if ev_start --json --count $((ndeny + 2 * nmon)); then
	# shellcheck disable=SC2086
	send $all
	ev_wait 5
	rc=$?
	[ $rc = 0 ] && ok "events --count $((ndeny + 2 * nmon)): $ndeny denials by XDP, $nmon monitor connections by both tiers" ||
		fail "events --count $((ndeny + 2 * nmon)) exits 0 (status $rc)" "$(cat "$tmp/ev.out" "$tmp/ev.err")"
	# shellcheck disable=SC2046
	report compare xdp $all
	# shellcheck disable=SC2046
	report compare nftables $(probes_of monitor)
	grep -q 'listening: nftables (NFLOG group 4269), xdp (ring buffer' "$tmp/ev.err" &&
		ok "events says what it listens to: $(cat "$tmp/ev.err")" ||
		fail "events says it listens to both tiers" "$(cat "$tmp/ev.err")"
else
	fail "events starts listening with XDP" "$(cat "$tmp/ev.err")"
fi

if ip netns exec "$GW" "$WARDWALL" apply "$tmp/xdp-slow.json" >"$tmp/out" 2>"$tmp/err" &&
	ev_start --json --tier xdp; then
	flood_check 8 xdp
else
	fail "apply log_rate 5 (XDP native), events starts" "$(cat "$tmp/out" "$tmp/err" "$tmp/ev.err")"
fi

ww_sim_down_tap
finish
