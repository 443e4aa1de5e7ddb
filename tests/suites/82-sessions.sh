#!/bin/bash
# End to end, sessions end when access ends (docs/incident.md, "Sessions"), once per tier: the
# example hospital with "xdp": "off" (nftables alone), then as written (XDP in front), on the
# simulated network of tests/e2e/lib.sh. Live TCP sessions (stream.py tcp-hold) through the
# gateway:
#
#   - revoked at apply: ws-to-ehr narrowed to ehr/fhir; a held session to ehr/his-app dies at its
#     next segment, and no conntrack entry of it is left, while a held session of an unchanged
#     flow (ws-to-lis) goes on;
#   - window end: vendor-ct-window valid until a few seconds ahead; a session the vendor opened
#     inside the window dies once the window has ended, with nothing run after the apply;
#   - a window on a flow of every protocol ("any": ws-lis-any, workstations to lab/lis): a ping
#     (one ICMP connection) running across its end gets no answer once it has ended, while a held
#     TCP session to lab/lis:443 goes on (ws-to-lis still allows it);
#   - nftables tier: the window-end table is two rules a hook (one map lookup each, by the
#     connection's original tuple), whatever the number of places;
#   - the apply that brings the window is one nftables transaction, policy and window-end table
#     together (the ruleset generation moves by one).
#
# Needs root. Everything happens in namespaces this script creates and deletes on exit.
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
pids=()
sessions_cleanup() { ww_stop "${pids[@]}"; }
ww_suite_tmp sessions_cleanup
ww_bpffs "$tmp/bpf" 2>/dev/null

gwx() { ww_gwx "$@"; }
ww() { ww_gw_wardwall "$@"; }

# An echo server on ENDPOINT's IPv4 address, port PORT.
echo_on() {
	local a
	a=$(ww_addr "$1" 4) || return 1
	rm -f "$tmp/ready.$2"
	ip netns exec "$(ww_ns "${1%%/*}")" "$WW_PYTHON" "$STREAM" tcp-echo "$a" "$2" \
		"$tmp/ready.$2" >/dev/null 2>&1 &
	pids+=($!)
	for _ in $(seq 50); do [ -e "$tmp/ready.$2" ] && return 0; sleep 0.1; done
	return 1
}

# A held session NAME from endpoint FROM to endpoint TO, port PORT (first answer: hold_line NAME 0).
hold_open() {
	local name=$1 from=$2 to=$3 port=$4
	mkfifo "$tmp/$name.in"
	: >"$tmp/$name.out"
	ip netns exec "$(ww_ns "${from%%/*}")" "$WW_PYTHON" "$STREAM" tcp-hold "$(ww_addr "$from" 4)" \
		"$(ww_addr "$to" 4)" "$port" <"$tmp/$name.in" >"$tmp/$name.out" 2>&1 &
	pids+=($!)
	eval "exec {fd_$name}>\"$tmp/$name.in\""
}
# Waits for line N+1 of session NAME's answers and prints it.
hold_line() {
	for _ in $(seq 150); do
		[ "$(wc -l <"$tmp/$1.out")" -gt "$2" ] && break
		sleep 0.1
	done
	sed -n "$(($2 + 1))p" "$tmp/$1.out"
}
hold() {
	local n fd="fd_$1"
	n=$(wc -l <"$tmp/$1.out")
	echo "$2" >&"${!fd}"
	hold_line "$1" "$n"
}
hold_close() {
	local fd="fd_$1"
	eval "exec ${!fd}>&-"
	rm -f "$tmp/$1.in"
}

# The policy with changes: ws-to-ehr narrowed to ehr/fhir; vendor-ct-window from an hour ago
# until UNTIL (unix seconds); with "any" a flow ws-lis-any (every protocol, workstations to
# lab/lis) with the same window.
policy_with() {
	"$WW_PYTHON" - "$1" "$2" "$3" "$4" <<-'EOF'
	import json, sys, time
	p = json.load(open(sys.argv[1]))
	narrow, until = sys.argv[3] in ("narrow", "any"), int(sys.argv[4])
	fmt = lambda t: time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
	for f in p["flows"]:
	    if f["id"] == "ws-to-ehr" and narrow:
	        f["to"] = ["ehr/fhir"]
	    if f["id"] == "vendor-ct-window":
	        f["valid"] = {"from": fmt(time.time() - 3600), "until": fmt(until)}
	if sys.argv[3] == "any":
	    p["flows"].append({"id": "ws-lis-any", "from": "workstations", "to": "lab/lis",
	                       "services": ["any"], "action": "allow",
	                       "valid": {"from": fmt(time.time() - 3600), "until": fmt(until)}})
	json.dump(p, open(sys.argv[2], "w"), indent=1)
	EOF
}

# The window-end table: a verdict map per family keyed on the connection's original tuple, two
# rules in each base chain (one lookup per family), the place's time in the chain it jumps to.
window_table_shape() {
	local t
	t=$(gwx nft list table inet wardwall_windows 2>&1)
	local rules elems
	rules=$(gwx nft list chain inet wardwall_windows forward | grep -c 'vmap @w[46]')
	elems=$(gwx nft -j list map inet wardwall_windows w4 | "$WW_PYTHON" -c 'import json,sys; print(sum(len(o["map"].get("elem", [])) for o in json.load(sys.stdin)["nftables"] if "map" in o))')
	if [ "$rules" = 2 ] && [ "$(gwx nft list chain inet wardwall_windows forward | grep -c 'ct state')" = 2 ] &&
		echo "$t" | grep -q "ct original ip saddr . ct original ip daddr . ct protocol . ct original proto-dst vmap @w4" &&
		echo "$t" | grep -q "meta time >= .* drop" && [ "${elems:-0}" -gt 1 ]; then
		ok "nftables: the window-end table is 2 lookups a hook by the original tuple, $elems IPv4 places in map w4"
	else
		fail "nftables: the window-end table's shape" "rules $rules, elements $elems: $t"
	fi
}

run_tier() {
	local tier=$1 policy=$2 got until
	until=$(($(date +%s) + 3600))
	policy_with "$policy" "$tmp/a.json" keep "$until"
	policy_with "$policy" "$tmp/b.json" narrow "$until"
	ww_tier_up "$tier" "$tmp/a.json" || return
	echo_on ehr/his-app 443 && echo_on lab/lis 443 && echo_on modality/ct-1 443 ||
		fail "$tier: echo servers"

	# Revoked at apply. A second session to ehr/his-app stands for the SSH session the apply
	# runs in (SSH_CONNECTION): it is spared, so that the apply finishes.
	hold_open his workstations ehr/his-app 443
	hold_open lis workstations lab/lis 443
	hold_open ssh workstations ehr/his-app 443
	local sshpid=${pids[-1]} cport
	got=$(hold_line his 0)/$(hold_line lis 0)/$(hold_line ssh 0)
	[ "$got" = connected/connected/connected ] && [ "$(hold his "send a1 2")" = "echo a1" ] &&
		[ "$(hold lis "send b1 2")" = "echo b1" ] &&
		ok "$tier: sessions to ehr/his-app (ws-to-ehr) and lab/lis (ws-to-lis) are up" ||
		fail "$tier: sessions up" "got: $got"
	cport=$(ip netns exec "$(ww_ns workstations)" ss -tnpH state established |
		grep "pid=$sshpid," | awk '{print $3}' | sed 's/.*://')
	if SSH_CONNECTION="$(ww_addr workstations 4) $cport $(ww_addr ehr/his-app 4) 443" \
		ww apply "$tmp/b.json" --json; then
		got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sessions"]["cut"])' "$tmp/out")
		ok "$tier: apply narrows ws-to-ehr to ehr/fhir ($got conntrack entries cut)"
	else
		fail "$tier: apply narrowing ws-to-ehr" "$(cat "$tmp/err")"
	fi
	got=$(hold his "send a2 2")
	[ "$got" = timeout ] && ok "$tier: the revoked session dies at its next segment" ||
		fail "$tier: the revoked session dies at its next segment" "got: $got"
	got=$(gwx conntrack -L -s "$(ww_addr workstations 4)" -d "$(ww_addr ehr/his-app 4)" 2>/dev/null |
		grep ESTABLISHED | grep -vc "sport=${cport:-none} ")
	[ "$got" = 0 ] && ok "$tier: no established conntrack entry of it is left" ||
		fail "$tier: no established conntrack entry of it is left" "$got entries"
	got=$(hold lis "send b2 2")
	[ "$got" = "echo b2" ] && ok "$tier: the session of an unchanged flow goes on" ||
		fail "$tier: the session of an unchanged flow goes on" "got: $got"
	if [ "$tier" = nftables ]; then
		got=$(hold ssh "send s1 2")
		[ -n "$cport" ] && [ "$got" = "echo s1" ] &&
			ok "$tier: the apply's own SSH session (port $cport) is spared" ||
			fail "$tier: the apply's own SSH session is spared" "port $cport, got: $got"
	fi
	hold_close his
	hold_close lis
	hold_close ssh

	# Window end: valid until a few seconds from now; nothing runs after the apply.
	until=$(($(date +%s) + 6))
	policy_with "$policy" "$tmp/c.json" any "$until"
	local g0 g1
	g0=$(ww_nft_genid "$(ww_gw)")
	ww apply "$tmp/c.json" || fail "$tier: apply with a window ending at $until" "$(cat "$tmp/err")"
	g1=$(ww_nft_genid "$(ww_gw)")
	[ -n "$g0" ] && [ "$g1" = $((g0 + 1)) ] &&
		ok "$tier: the policy and its window-end table are one transaction (ruleset generation $g0 -> $g1)" ||
		fail "$tier: the policy and its window-end table are one transaction" "generation $g0 -> $g1"
	[ "$tier" = nftables ] && window_table_shape
	hold_open ct vendor/vpn modality/ct-1 443
	hold_open lis2 workstations lab/lis 443
	got=$(hold_line ct 0)/$(hold_line lis2 0)
	[ "$got" = connected/connected ] && [ "$(hold ct "send c1 2")" = "echo c1" ] &&
		ok "$tier: a vendor session inside its window is up" ||
		fail "$tier: a vendor session inside its window is up" "got: $got"
	# One ICMP connection (one ping, one id) across the end of the "any" window.
	ip netns exec "$(ww_ns workstations)" ping -n -D -i 0.2 -w $((until + 4 - $(date +%s))) \
		-I "$(ww_addr workstations 4)" "$(ww_addr lab/lis 4)" >"$tmp/ping.out" 2>&1 &
	pids+=($!)
	local pingpid=$!
	while [ "$(date +%s)" -le "$until" ]; do sleep 0.2; done
	sleep 1.2
	got=$(hold ct "send c2 2")
	[ "$got" = timeout ] && ok "$tier: the vendor session dies once the window has ended" ||
		fail "$tier: the vendor session dies once the window has ended" "got: $got"
	wait "$pingpid" 2>/dev/null
	got=$(awk -v u="$until" '/bytes from/ { t = substr($1, 2) + 0; if (t < u - 1) b++; else if (t >= u + 1) a++ }
		END { printf "%d/%d", b, a }' "$tmp/ping.out")
	[ "${got%/*}" -gt 0 ] && [ "${got#*/}" = 0 ] &&
		ok "$tier: a ping across the end of an \"any\" window: answered before, none after ($got)" ||
		fail "$tier: a ping across the end of an \"any\" window" "answered before/after: $got; $(tail -3 "$tmp/ping.out")"
	got=$(hold lis2 "send d1 2")
	[ "$got" = "echo d1" ] &&
		ok "$tier: a session another flow still allows (ws-to-lis) goes on past the \"any\" window" ||
		fail "$tier: a session another flow allows goes on past the \"any\" window" "got: $got"
	hold_close ct
	hold_close lis2
	ww_stop "${pids[@]}"
	pids=()
	ww_sim_down
}

ww_policy_nft_only "$EXAMPLE" "$tmp/nft.json" || exit 2
ww_tiers run_tier "$tmp/nft.json" "$EXAMPLE"
finish
