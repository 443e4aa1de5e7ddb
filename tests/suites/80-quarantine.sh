#!/bin/bash
# End to end, quarantine (docs/incident.md), once per tier: the example hospital with
# "xdp": "off" (nftables alone), then as written (XDP first, nftables behind it), on the simulated
# network of tests/e2e/lib.sh, applied in the gateway namespace.
#
#   - a workstation mid-transfer: its TCP session (tcp-hold through the gateway) dies at the next
#     segment once it is quarantined, and nftables holds no conntrack entry of it any more;
#   - a zone (infusion): the pumps keep reaching their pump server (life-critical flow, and
#     --strict --keep), NTP from a pump stops; --strict without --keep is refused (the must-allow
#     invariant pumps-reach-server) and goes through with --force;
#   - list --json counts blocked packets; remove lets the traffic through again;
#   - expiry: --for 2s ends by itself (the kernel's timeout, the program's clock);
#   - restore after a simulated reboot (the overlay wiped): the unexpired quarantine is back;
#   - --dry-run names the flow and invariant that would stop, and changes nothing;
#   - health probes (the policy's "probes", carried by the index): --dry-run names the probe that
#     would fail; add refuses to break one without --force (a "refuse" line in the log), keeps it
#     with --keep of its flow, and records the override of --force (the probe then fails for real).
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and deletes on
# exit; the root namespace's ruleset, links and /sys/fs/bpf are never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft conntrack

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
STREAM=$WW_E2E_DIR/stream.py
hold_pid= echo_pid=
quarantine_cleanup() { ww_stop $hold_pid $echo_pid; }
ww_suite_tmp quarantine_cleanup
ww_bpffs "$tmp/bpf" 2>/dev/null

gwx() { ww_gwx "$@"; }
ww() { ww_gw_wardwall "$@"; }
probe() { ww_probe "$1" "$(ww_addr "$1" "$4")" "$(ww_addr "$2" "$4")" "$3" "$5" 0.5 >/dev/null 2>&1; }

hold() { echo "$1" >&"${HOLD[1]}" && read -r -t 10 reply <&"${HOLD[0]}" && echo "$reply"; }

# POLICY with two health probes: a pump to its pump server (pump-api-up, life-critical flow) and
# the pump server's HL7 feed to the interface engine (hl7-feed-up, an ordinary flow).
with_probes() {
	"$WW_PYTHON" - "$1" "$2" "$(ww_addr infusion 4)" "$(ww_addr biomed/pump-server 4)" \
		"$(ww_addr ehr/interface-engine 4)" "$(ww_ns infusion)" "$(ww_ns biomed)" <<-'EOF'
	import json, sys
	src, out, pump, ps, ie, ns_inf, ns_bio = sys.argv[1:]
	p = json.load(open(src))
	p["probes"] = [
	    {"id": "pump-api-up", "from": pump, "to": ps, "port": 8443, "netns": ns_inf},
	    {"id": "hl7-feed-up", "from": ps, "to": ie, "port": 2575, "netns": ns_bio},
	]
	json.dump(p, open(out, "w"), indent=1)
	EOF
}

# Health probes and quarantine: the proof names them, add refuses to break one, --keep and
# --force (recorded) decide.
probe_tests() {
	local tier=$1 ps4 ie4 q
	ps4=$(ww_addr biomed/pump-server 4) ie4=$(ww_addr ehr/interface-engine 4)
	if grep -q '"id": "hl7-feed-up"' "$WARDWALL_STATE_DIR/generations/1.quarantine.json"; then
		ok "$tier: the quarantine index carries the health probes"
	else
		fail "$tier: the quarantine index carries the health probes"
	fi
	gwx "$WARDWALL" quarantine add biomed/pump-server --dry-run >"$tmp/out" 2>"$tmp/err"
	if grep -q "^probe hl7-feed-up would fail for $ps4 (/probes/1)$" "$tmp/out" &&
		grep -q "0 must-allow invariant(s) and 1 health probe(s) would stop" "$tmp/out"; then
		ok "$tier: --dry-run names the health probe a quarantine would stop"
	else
		fail "$tier: --dry-run names the health probe" "$(cat "$tmp/out" "$tmp/err")"
	fi
	local log=$WARDWALL_STATE_DIR/quarantine-log.jsonl
	if ww quarantine add biomed/pump-server --reason "probe test"; then
		fail "$tier: a quarantine that breaks a health probe is refused" "$(cat "$tmp/out")"
	elif grep -q "1 health probe(s) would break" "$tmp/err" &&
		grep -q "probe hl7-feed-up would fail" "$tmp/err" &&
		tail -1 "$log" | grep -q '"event": "refuse".*"kind": "probe", "id": "hl7-feed-up"' &&
		ww_probe biomed "$ps4" "$ie4" tcp 2575 0.5 >/dev/null 2>&1; then
		ok "$tier: a quarantine that breaks a health probe is refused, recorded, and nothing changed"
	else
		fail "$tier: the refusal for a health probe" "$(cat "$tmp/err"; tail -1 "$log")"
	fi
	if ww quarantine add biomed/pump-server --keep pump-server-hl7 --reason "probe kept" &&
		ww_probe biomed "$ps4" "$ie4" tcp 2575 0.5 >/dev/null 2>&1; then
		ok "$tier: --keep of the probe's flow: not broken, and the probe still connects"
	else
		fail "$tier: --keep of the probe's flow" "$(cat "$tmp/out" "$tmp/err")"
	fi
	q=$(gwx "$WARDWALL" quarantine list --json | "$WW_PYTHON" -c 'import json,sys; print([x["record"]["id"] for x in json.load(sys.stdin)["quarantines"] if x["record"]["target"]=="biomed/pump-server"][0])')
	ww quarantine remove "$q"
	if ww quarantine add biomed/pump-server --force --reason "probe forced" &&
		tail -1 "$log" | grep -q '"event": "add".*"forced": true, "breaks": \[.*"kind": "probe", "id": "hl7-feed-up"' &&
		! ww_probe biomed "$ps4" "$ie4" tcp 2575 0.5 >/dev/null 2>&1; then
		ok "$tier: --force overrides, the override is recorded, and the probe fails for real"
	else
		fail "$tier: --force for a health probe" "$(cat "$tmp/out" "$tmp/err"; tail -1 "$log")"
	fi
	q=$(gwx "$WARDWALL" quarantine list --json | "$WW_PYTHON" -c 'import json,sys; print([x["record"]["id"] for x in json.load(sys.stdin)["quarantines"] if x["record"]["target"]=="biomed/pump-server"][0])')
	ww quarantine remove "$q"
}

run_tier() {
	local tier=$1 policy=$2 ws4 his4 got q
	export WARDWALL_STATE_DIR=$tmp/state-$tier
	ww_sim_up "$policy" || { fail "$tier: simulation up"; return; }
	# The probes of the policy run after the apply: their servers first.
	ww_serve "tcp:8443,tcp:2575,udp:123" biomed identity ehr >/dev/null || fail "$tier: probe servers"
	with_probes "$policy" "$tmp/probes-$tier.json" || { fail "$tier: policy with probes"; return; }
	policy=$tmp/probes-$tier.json
	if ! ww apply "$policy"; then
		fail "$tier: apply" "$(cat "$tmp/err")"
		ww_sim_down
		return
	fi

	# The index apply writes: a quarantine reads it and the --keep flow's own bytes of the
	# generation, nothing else (every other byte of the policy is garbage meanwhile).
	if [ "$tier" = nftables ]; then
		local gdir=$WARDWALL_STATE_DIR/generations
		cp "$gdir/1.json" "$tmp/gen1.json"
		python3 - "$gdir/1.json" "$gdir/1.flow-ids" ws-to-ehr <<-'EOF'
		import sys
		text = open(sys.argv[1], "rb").read()
		at = [(int(o), int(n)) for fid, _, o, n in (l.split() for l in open(sys.argv[2]))
		      if fid == sys.argv[3]]
		off, n = at[0]
		out = bytearray(b"x" * len(text))
		out[off:off + n] = text[off:off + n]
		open(sys.argv[1], "wb").write(bytes(out))
		EOF
		[ "$(head -c 1 "$gdir/1.json")" = x ] || fail "$tier: the generation is garbage meanwhile"
		if [ -s "$gdir/1.quarantine.json" ] &&
			ww quarantine add "$(ww_addr workstations 4)" --keep ws-to-ehr --reason index &&
			grep -q "ws-to-ehr (given)" "$tmp/out" && ww quarantine remove q1; then
			ok "$tier: quarantine add reads the index apply wrote, not the whole policy"
		else
			fail "$tier: quarantine add reads the index apply wrote" "$(cat "$tmp/out" "$tmp/err")"
		fi
		cp "$tmp/gen1.json" "$gdir/1.json"
		mv "$gdir/1.quarantine.json" "$tmp/gen1.q"
		if ww quarantine add "$(ww_addr workstations 4)" --keep ws-to-ehr --reason noindex &&
			grep -q "has no quarantine index" "$tmp/err" && ww quarantine remove q2; then
			ok "$tier: without the index, the whole policy is read, and the command says so"
		else
			fail "$tier: without the index" "$(cat "$tmp/out" "$tmp/err")"
		fi
		mv "$tmp/gen1.q" "$gdir/1.quarantine.json"
	fi

	[ "$tier" = nftables ] && probe_tests "$tier"

	# A workstation mid-transfer: a held session to the HIS (ws-to-ehr, https).
	ws4=$(ww_addr workstations 4) his4=$(ww_addr ehr/his-app 4)
	rm -f "$tmp/ready"
	ip netns exec "$(ww_ns ehr)" "$WW_PYTHON" "$STREAM" tcp-echo "$his4" 443 "$tmp/ready" \
		>/dev/null 2>&1 &
	echo_pid=$!
	for _ in $(seq 50); do [ -e "$tmp/ready" ] && break; sleep 0.1; done
	coproc HOLD { ip netns exec "$(ww_ns workstations)" "$WW_PYTHON" "$STREAM" tcp-hold "$ws4" "$his4" 443 2>&1; }
	hold_pid=$HOLD_PID
	read -r -t 10 got <&"${HOLD[0]}"
	if [ "$got" = connected ] && [ "$(hold "send a1 2")" = "echo a1" ]; then
		ok "$tier: a workstation's session to the HIS is up"
	else
		fail "$tier: a workstation's session to the HIS is up" "got: $got"
	fi
	if ww quarantine add "$ws4" --reason "ransomware alert" --ticket INC-1 --json; then
		ok "$tier: quarantine add $ws4 ($(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print("in force after %.1f ms, %d conntrack and %d XDP entries cut" % (d["enforced_ms"], d["cut"]["conntrack"], d["cut"]["xdp"]))' "$tmp/out"))"
	else
		fail "$tier: quarantine add $ws4" "$(cat "$tmp/err")"
	fi
	got=$(hold "send a2 2")
	[ "$got" = timeout ] && ok "$tier: the session dies at its next segment" ||
		fail "$tier: the session dies at its next segment" "got: $got"
	if [ "$tier" = nftables ]; then
		got=$(gwx conntrack -L -s "$ws4" -p tcp --dport 443 2>/dev/null | grep -c ESTABLISHED)
		[ "$got" = 0 ] && ok "$tier: no established conntrack entry of it is left" ||
			fail "$tier: no established conntrack entry of it is left" "$got entries"
	fi
	if probe workstations ehr/his-app tcp 4 443; then
		fail "$tier: a new connection from it is dropped"
	else
		ok "$tier: a new connection from it is dropped"
	fi
	ww_stop "$hold_pid"
	hold_pid=
	probe workstations identity/ntp udp 6 123 && ok "$tier: its zone's other addresses still work" ||
		fail "$tier: its zone's other addresses still work"

	# A zone: the pumps keep their pump server (life-critical), not NTP.
	gwx "$WARDWALL" quarantine add infusion --strict --dry-run >"$tmp/out" 2>"$tmp/err"
	if grep -q "flow pumps-to-server would stop for infusion" "$tmp/out" &&
		grep -q "invariant pumps-reach-server would stop" "$tmp/out" &&
		grep -q "probe pump-api-up would fail for $(ww_addr infusion 4) (/probes/0)" "$tmp/out" &&
		[ "$(gwx "$WARDWALL" quarantine list --json | grep -c '"record"')" = 1 ]; then
		ok "$tier: --dry-run names the flow, the invariant and the probe a strict zone quarantine would stop"
	else
		fail "$tier: --dry-run names what would stop" "$(cat "$tmp/out" "$tmp/err")"
	fi
	if ww quarantine add infusion --reason "lateral movement" && grep -q "pumps-to-server (life-critical)" "$tmp/out"; then
		ok "$tier: quarantine add infusion keeps pumps-to-server (life-critical)"
	else
		fail "$tier: quarantine add infusion" "$(cat "$tmp/out" "$tmp/err")"
	fi
	# The quarantine's drops are events of the tier that drops them, named quarantine/q<id>.
	local evpid
	rm -f "$tmp/ev.out" "$tmp/ev.err"
	gwx "$WARDWALL" events --json --count 1 --tier "$tier" >"$tmp/ev.out" 2>"$tmp/ev.err" &
	evpid=$!
	for _ in $(seq 100); do grep -q listening "$tmp/ev.err" 2>/dev/null && break; sleep 0.05; done
	for fam in 4 6; do
		probe infusion biomed/pump-server tcp "$fam" 8443 && ok "$tier: pump -> pump server works, IPv$fam" ||
			fail "$tier: pump -> pump server works, IPv$fam"
		probe infusion identity/ntp udp "$fam" 123 && fail "$tier: pump -> NTP is dropped, IPv$fam" ||
			ok "$tier: pump -> NTP is dropped, IPv$fam"
	done
	for _ in $(seq 100); do kill -0 "$evpid" 2>/dev/null || break; sleep 0.05; done
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	if grep -q '"verdict": "deny", "flow": "quarantine/q[0-9]*"' "$tmp/ev.out"; then
		ok "$tier: the quarantine's drop is an event of this tier (flow quarantine/q<id>)"
	else
		fail "$tier: the quarantine's drop is an event of this tier" "$(cat "$tmp/ev.out" "$tmp/ev.err")"
	fi
	ww quarantine list --json
	q=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = [x for x in d["quarantines"] if x["record"]["target"] == "infusion"][0]
b = r["blocked"]["nftables"] + r["blocked"]["xdp"]
print(r["record"]["id"] if b > 0 else "none")' "$tmp/out" 2>/dev/null)
	[ "${q:-none}" != none ] && ok "$tier: list --json counts what it blocked" ||
		fail "$tier: list --json counts what it blocked" "$(cat "$tmp/out")"
	if ww quarantine remove "$q" && probe infusion identity/ntp udp 4 123; then
		ok "$tier: remove $q: NTP from the pumps works again"
	else
		fail "$tier: remove $q" "$(cat "$tmp/out" "$tmp/err")"
	fi
	if ww quarantine add infusion --strict --reason x; then
		fail "$tier: --strict without --keep is refused (must-allow invariant)"
	else
		grep -q "pumps-reach-server" "$tmp/err" && ok "$tier: --strict without --keep is refused (must-allow invariant)" ||
			fail "$tier: --strict refused for the invariant" "$(cat "$tmp/err")"
	fi
	if ww quarantine add infusion --strict --keep pumps-to-server --reason x &&
		probe infusion biomed/pump-server tcp 4 8443 && ! probe infusion identity/ntp udp 4 123; then
		ok "$tier: --strict --keep pumps-to-server keeps the pump server only"
	else
		fail "$tier: --strict --keep pumps-to-server" "$(cat "$tmp/out" "$tmp/err")"
	fi
	q=$(gwx "$WARDWALL" quarantine list --json | python3 -c 'import json,sys; print([x["record"]["id"] for x in json.load(sys.stdin)["quarantines"] if x["record"]["target"]=="infusion"][0])')
	ww quarantine remove "$q"
	if ww quarantine add infusion --strict --force --reason x && ! probe infusion biomed/pump-server tcp 4 8443; then
		ok "$tier: --strict --force cuts the pump server too"
	else
		fail "$tier: --strict --force" "$(cat "$tmp/out" "$tmp/err")"
	fi
	q=$(gwx "$WARDWALL" quarantine list --json | python3 -c 'import json,sys; print([x["record"]["id"] for x in json.load(sys.stdin)["quarantines"] if x["record"]["target"]=="infusion"][0])')
	ww quarantine remove "$q"

	# Expiry, by the kernel: nothing runs after the command.
	if ww quarantine add identity/ntp --for 2s --reason "short" &&
		! probe infusion identity/ntp udp 4 123; then
		sleep 2.5
		probe infusion identity/ntp udp 4 123 && ok "$tier: --for 2s ends by itself" ||
			fail "$tier: --for 2s ends by itself"
	else
		fail "$tier: --for 2s is in force at first" "$(cat "$tmp/out" "$tmp/err")"
	fi

	# Restore after a simulated reboot: the overlay is gone, the records are not. One
	# quarantine is still due, the other expires while the machine is "down".
	ww quarantine add identity/ntp --for 1h --reason "reboot test"
	ww quarantine add biomed/monitor-gw --for 2s --reason "expires while down"
	gwx nft delete table inet wardwall_quarantine
	local before=true
	if [ "$tier" = xdp ]; then
		# A reboot empties bpffs: the pinned program and maps are gone; apply loads them again,
		# and writes the XDP part of the quarantines again (the nftables overlay is restore's).
		gwx "$WARDWALL" remove >"$tmp/rm.out" 2>&1
		grep -q "^[0-9]* quarantines stay in force" "$tmp/rm.out" &&
			ok "$tier: remove says the quarantines stay in force" ||
			fail "$tier: remove says the quarantines stay in force" "$(cat "$tmp/rm.out")"
		ww apply "$policy"
		if gwx "$WARDWALL" show | grep -A1 "identity/ntp" | grep -q "nftables no, XDP yes" &&
			! probe infusion identity/ntp udp 4 123; then
			ok "$tier: apply after remove writes the XDP part of the quarantines again"
		else
			fail "$tier: apply after remove writes the XDP part of the quarantines again" "$(gwx "$WARDWALL" show)"
		fi
		before=false
	fi
	sleep 2.5
	if { ! $before || probe infusion identity/ntp udp 4 123; } && ww quarantine restore &&
		grep -q '^2 quarantine' "$tmp/out" && ! probe infusion identity/ntp udp 4 123 &&
		ww quarantine list && ! grep -q monitor-gw "$tmp/out" &&
		grep -q '"event": "expire".*monitor-gw' "$WARDWALL_STATE_DIR/quarantine-log.jsonl"; then
		ok "$tier: restore after a reboot brings back the unexpired quarantine and drops the expired one"
	else
		fail "$tier: restore after a reboot" "$(cat "$tmp/out" "$tmp/err" "$WARDWALL_STATE_DIR/quarantines.json")"
	fi
	ww_stop "$echo_pid"
	echo_pid=
	ww_sim_down
}

ww_policy_nft_only "$EXAMPLE" "$tmp/nft.json" || exit 2
ww_tiers run_tier "$tmp/nft.json" "$EXAMPLE"
finish
