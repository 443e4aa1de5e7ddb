#!/bin/bash
# End to end, "action": "reject" (docs/policy.md), once per tier: the example hospital with its
# guest-no-clinical flow turned into a reject, with "xdp": "off" (nftables alone), then as written
# (XDP in front), on the simulated network of tests/e2e/lib.sh:
#
#   - a TCP connection from the guest zone to ehr/his-app is refused at once (a reset), in each
#     family, and again on a second try (the XDP tier must not cache it as a silent drop);
#   - a UDP datagram to the ehr zone gets ICMP (ICMPv6) administratively prohibited;
#   - a plain deny (devices-offline) still times out;
#   - the flow's counter counts the rejected packets (nftables; and the XDP tier's own);
#   - the reject chain and its limit are in the kernel (rate 10/second, burst 20).
#
# Needs root. Everything happens in namespaces this script creates and deletes on exit.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW
# A refused probe answers in milliseconds; the timeout only bounds a wrong one.
TIMEOUT=3
FAST_MS=1500

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
ww_bpffs "$tmp/bpf" 2>/dev/null

gwx() { ww_gwx "$@"; }

# The policy with guest-no-clinical rejecting.
"$WW_PYTHON" - "$EXAMPLE" "$tmp/xdp.json" <<-'EOF' || exit 2
	import json, sys
	p = json.load(open(sys.argv[1]))
	for f in p["flows"]:
	    if f["id"] == "guest-no-clinical":
	        f["action"] = "reject"
	json.dump(p, open(sys.argv[2], "w"), indent=1)
	EOF
ww_policy_nft_only "$tmp/xdp.json" "$tmp/nft.json" || exit 2

# probe TIER WHAT ZONE SRC DST PROTO PORT WANT [SPORT]: the probe's answer must be WANT, and a
# refused or unreachable one must come well before the timeout.
probe() {
	local tier=$1 what=$2 zone=$3 src=$4 dst=$5 proto=$6 port=$7 want=$8 sport=${9:-} got t0 ms
	t0=$(date +%s%N)
	got=$(ww_probe "$zone" "$(ww_addr "$src" "${what: -1}")" "$(ww_addr "$dst" "${what: -1}")" \
		"$proto" "$port" "$([ "$want" = timeout ] && echo 0.5 || echo "$TIMEOUT")" $sport)
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$got" = "$want" ] &&
		{ [ "$want" = timeout ] || [ "$ms" -lt "$FAST_MS" ]; }; then
		ok "$tier: $what: $src -> $dst $proto/$port: $got ($ms ms)"
	else
		fail "$tier: $what: $src -> $dst $proto/$port" "want $want, got $got after $ms ms"
	fi
}

flow_packets() { # nftables counter of the flow
	ww_counters | awk '$1 == "flow/guest-no-clinical" {print $2}'
}

run_tier() {
	local tier=$1 policy=$2 got
	ww_tier_up "$tier" "$policy" || return
	ok "$tier: apply with guest-no-clinical as a reject"
	ww_serve tcp:443,udp:123 ehr internet || fail "$tier: probe servers"

	got=$(gwx nft -j list limits table inet wardwall | "$WW_PYTHON" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    l = o.get("limit")
    if l and l["name"] == "reject/10":
        print(l["rate"], l["per"], l.get("burst"))')
	[ "$got" = "10 second 20" ] && ok "$tier: limit reject/10 in the kernel: 10/second, burst 20" ||
		fail "$tier: limit reject/10 in the kernel" "got: $got"
	got=$(gwx nft list chain inet wardwall answer 2>&1)
	grep -q 'reject with tcp reset' <<<"$got" && grep -q 'reject with icmpx admin-prohibited' <<<"$got" &&
		ok "$tier: chain answer answers with a reset or ICMP admin-prohibited" ||
		fail "$tier: chain answer" "$got"

	local before after
	before=$(flow_packets)
	# The same 5-tuple twice: a deny cache entry would drop the second SYN silently.
	probe "$tier" "TCP, IPv4" guest guest ehr/his-app tcp 443 refused 40123
	probe "$tier" "TCP again from the same port, IPv4" guest guest ehr/his-app tcp 443 refused 40123
	probe "$tier" "TCP, IPv6" guest guest ehr/his-app tcp 443 refused
	probe "$tier" "UDP, IPv4" guest guest ehr udp 123 unreachable
	probe "$tier" "UDP, IPv6" guest guest ehr udp 123 unreachable
	after=$(flow_packets)
	[ "$((after - before))" = 5 ] &&
		ok "$tier: the nftables counter of guest-no-clinical counts the 5 rejected packets" ||
		fail "$tier: the nftables counter of guest-no-clinical counts the 5 rejected packets" \
			"before $before, after $after"
	probe "$tier" "plain deny, IPv4" modality modality internet tcp 443 timeout
	if [ "$tier" = xdp ]; then
		got=$(gwx "$WARDWALL" stats --json | "$WW_PYTHON" -c '
import json, sys
for f in json.load(sys.stdin)["flows"]:
    if f["id"] == "guest-no-clinical":
        print(f["action"], (f["xdp"] or {}).get("packets"))')
		[ "$got" = "reject 5" ] &&
			ok "$tier: the XDP tier counted the 5 packets it passed to nftables (stats: $got)" ||
			fail "$tier: the XDP tier counts the rejected packets" "stats: $got"
	fi
	ww_sim_down
}

ww_tiers run_tier "$tmp/nft.json" "$tmp/xdp.json"
finish
