#!/bin/bash
# `wardwall metrics` and `wardwall serve` on the simulated hospital (tests/e2e/lib.sh), with the
# example policy as it is (XDP native, on a private bpffs) or, without a bpffs, nftables only:
#   - the exposition passes `promtool check metrics` and carries the series of what was sent,
#     with its exact packet and byte counts per tier; no label value is an address;
#   - serve answers GET /metrics with 200 and Prometheus' content type and the same series,
#     404 elsewhere, 405 to POST, and 50 concurrent scrapes all with 200 and valid expositions.
# promtool comes with Debian's prometheus package, installed here when missing (curl likewise).
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a bpffs
# mounted on a temporary directory, all removed on exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft
missing=
command -v promtool >/dev/null || missing="$missing prometheus"
command -v curl >/dev/null || missing="$missing curl"
if [ -n "$missing" ]; then
	# shellcheck disable=SC2086
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $missing; } >/dev/null 2>&1
	if command -v promtool >/dev/null && command -v curl >/dev/null; then
		ok "installed:$missing"
	else
		fail "promtool and curl: could not install:$missing"
		finish
	fi
fi

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
SPID=''
metrics_cleanup() { ww_stop "$SPID"; }
ww_suite_tmp metrics_cleanup
export WARDWALL_STATE_DIR=$tmp/state

ww_tier_setup "$EXAMPLE" "$tmp" || exit 2
ww_sim_start "$POLICY" udp:24005 biomed

# ---- traffic: each probe.py UDP connection is one datagram, answered when allowed ----
MON=$(ww_addr monitors 4) GWAY=$(ww_addr biomed/monitor-gw 4)
GUEST=$(ww_addr guest 4) HIS=$(ww_addr ehr/his-app 4)
WS=$(ww_addr workstations 4) DC=$(ww_addr identity/dc 4)
sent_ok=true
for i in 1 2 3; do
	ww_probe monitors "$MON" "$GWAY" udp 24005 1 >/dev/null || sent_ok=false
done
for i in 1 2; do
	ww_probe guest "$GUEST" "$HIS" udp 9999 0.2 >/dev/null && sent_ok=false
done
ww_probe workstations "$WS" "$DC" udp 9999 0.2 >/dev/null && sent_ok=false
$sent_ok && ok "sent: 3 allowed connections monitors -> biomed/monitor-gw udp/24005 (answered), 2 denied guest -> ehr/his-app, 1 denied workstations -> identity/dc" ||
	fail "the probes got the answers the policy gives"

# ---- metrics ----
if ip netns exec "$GW" "$WARDWALL" metrics >"$tmp/metrics" 2>"$tmp/err"; then
	ok "metrics: $(grep -vc '^#' "$tmp/metrics") samples"
else
	fail "metrics exits 0" "$(cat "$tmp/err")"
	finish
fi
if promtool check metrics <"$tmp/metrics" >"$tmp/lint" 2>&1; then
	ok "promtool check metrics passes"
else
	fail "promtool check metrics passes" "$(cat "$tmp/lint")"
fi

# The samples a test expects: "series value" lines; the datagrams carry 31 bytes of payload
# (IPv4: 59 bytes from the network header, which nftables counts; 73 with the Ethernet header,
# which XDP counts).
{
	echo 'wardwall_up 1'
	echo 'wardwall_generation 1'
	echo 'wardwall_drift 0'
	echo 'wardwall_flow_packets_total{flow="monitors-to-gateway",from="monitors",to="biomed/monitor-gw",action="allow",tier="nftables"} 3'
	echo 'wardwall_flow_bytes_total{flow="monitors-to-gateway",from="monitors",to="biomed/monitor-gw",action="allow",tier="nftables"} 177'
	if [ $XDP = 1 ]; then
		# XDP counts both directions, and drops the denied before nftables sees them.
		echo 'wardwall_flow_packets_total{flow="monitors-to-gateway",from="monitors",to="biomed/monitor-gw",action="allow",tier="xdp"} 6'
		echo 'wardwall_flow_bytes_total{flow="monitors-to-gateway",from="monitors",to="biomed/monitor-gw",action="allow",tier="xdp"} 438'
		echo 'wardwall_flow_packets_total{flow="guest-no-clinical",from="guest",to="biomed,ehr,infusion,lab,modality,monitors,pacs",action="deny",tier="xdp"} 2'
		echo 'wardwall_flow_packets_total{flow="guest-no-clinical",from="guest",to="biomed,ehr,infusion,lab,modality,monitors,pacs",action="deny",tier="nftables"} 0'
		echo 'wardwall_default_packets_total{from="workstations",to="_other",verdict="deny",tier="xdp"} 1'
		echo 'wardwall_default_packets_total{from="workstations",to="_other",verdict="deny",tier="nftables"} 0'
		echo 'wardwall_xdp_events_total{result="sent"} 3'
		echo 'wardwall_xdp_interfaces 14'
		echo 'wardwall_xdp_generation 1'
	else
		echo 'wardwall_flow_packets_total{flow="guest-no-clinical",from="guest",to="biomed,ehr,infusion,lab,modality,monitors,pacs",action="deny",tier="nftables"} 2'
		echo 'wardwall_default_packets_total{from="workstations",to="_other",verdict="deny",tier="nftables"} 1'
	fi
} >"$tmp/expect"
# Checks the exposition in $1 against $tmp/expect, and that the flow packet totals per tier are
# exactly what was sent (no other flow counted anything). Prints "PASS x" / "FAIL x :: y" lines.
check_values() {
	"$WW_PYTHON" - "$1" "$tmp/expect" "$XDP" <<'EOF'
import sys
samples = {}
for l in open(sys.argv[1]):
    if l.startswith("#") or not l.strip():
        continue
    series, _, value = l.rstrip("\n").rpartition(" ")
    samples[series] = value
for l in open(sys.argv[2]):
    series, _, value = l.rstrip("\n").rpartition(" ")
    got = samples.get(series)
    if got == value:
        print("PASS %s %s" % (series, value))
    else:
        print("FAIL %s: %s, want %s" % (series, got, value))
xdp = sys.argv[3] == "1"
for tier, want in (("nftables", 3 if xdp else 5), ("xdp", 8)):
    if tier == "xdp" and not xdp:
        continue
    total = sum(int(v) for s, v in samples.items()
                if s.startswith("wardwall_flow_packets_total{") and s.endswith('tier="%s"}' % tier))
    print("%s flow packets of tier %s add up to %d (want %d: nothing else counted)" %
          ("PASS" if total == want else "FAIL", tier, total, want))
EOF
}
report check_values "$tmp/metrics"

# Names only: no label value is an address (of the simulation or any other).
addrs=$("$WW_PYTHON" - "$tmp/metrics" <<'EOF'
import ipaddress, re, sys
for l in open(sys.argv[1]):
    if l.startswith("#"):
        continue
    for v in re.findall(r'="((?:[^"\\]|\\.)*)"', l):
        for part in re.split(r"[,/ ]", v):
            try:
                ipaddress.ip_address(part)
                print(l.strip())
            except ValueError:
                pass
EOF
)
sim_addrs=$(grep -cE '10\.20\.|172\.16\.|fd00:|198\.51\.100\.|2001:db8:' "$tmp/metrics")
if [ -z "$addrs" ] && [ "$sim_addrs" = 0 ]; then
	ok "no label value is an IP address"
else
	fail "no label value is an IP address" "$addrs" "$(grep -E '10\.20\.|172\.16\.|fd00:' "$tmp/metrics")"
fi

# The exposition's shape: who serves it, nothing counted twice, O(zones) default series.
shape=$("$WW_PYTHON" - "$tmp/metrics" "$EXAMPLE" <<'EOF'
import json, re, sys
lines = [l for l in open(sys.argv[1]) if not l.startswith("#")]
zones = len(json.load(open(sys.argv[2]))["zones"])
bad = []
if not any(re.match(r'wardwall_build_info\{version="[^"]+"\} 1$', l) for l in lines):
    bad.append("no wardwall_build_info{version=...} 1")
if any('reason="packets"' in l for l in lines):
    bad.append('reason="packets" beside its own breakdown')
pairs = {tuple(re.findall(r'(?:from|to)="([^"]*)"', l)) for l in lines
         if l.startswith("wardwall_default_packets_total{")}
if len(pairs) > 3 * zones + 2:
    bad.append("%d default zone labels for %d zones (want at most 3 per zone + 2)" % (len(pairs), zones))
print("; ".join(bad) if bad else "ok %d default series labels for %d zones" % (len(pairs), zones))
EOF
)
case $shape in
ok*) ok "build_info present, no reason=\"packets\" beside its breakdown, ${shape#ok }" ;;
*) fail "the exposition's shape" "$shape" ;;
esac

# ---- serve ----
PORT=$(ip netns exec "$GW" "$WW_PYTHON" -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
URL=http://127.0.0.1:$PORT
ip netns exec "$GW" "$WARDWALL" serve --listen "127.0.0.1:$PORT" 2>"$tmp/serve.err" &
SPID=$!
scrape() { ip netns exec "$GW" curl -s --max-time 30 "$@"; }
for ((i = 0; i < 100; i++)); do
	scrape -o /dev/null "$URL/metrics" && break
	sleep 0.05
done
head=$(scrape -o "$tmp/scrape" -w '%{http_code} %{content_type}' "$URL/metrics")
if [ "$head" = "200 text/plain; version=0.0.4; charset=utf-8" ]; then
	ok "serve --listen 127.0.0.1:$PORT: GET /metrics: $head"
else
	fail "serve: GET /metrics answers 200 text/plain; version=0.0.4; charset=utf-8" "got: $head" \
		"$(cat "$tmp/serve.err")"
fi
promtool check metrics <"$tmp/scrape" >"$tmp/lint" 2>&1 && ok "the scrape passes promtool check metrics" ||
	fail "the scrape passes promtool check metrics" "$(cat "$tmp/lint")"
# series FILE: its series (names and labels, no values), sorted, in FILE.series; fails when it has
# none, or when a step fails (a file with nothing to compare must not compare equal).
series() {
	local -
	set -o pipefail
	grep -v '^#' "$1" | sed 's/ [0-9.e+-]*$//' | sort >"$1.series" && [ -s "$1.series" ]
}
# serve's own series (detection, docs/detect.md; its connections) are not in `wardwall metrics`.
: >"$tmp/diff"
if series "$tmp/metrics" && series "$tmp/scrape" &&
	grep -vE '^wardwall_(alerts|detect|events|siem|serve)_' "$tmp/scrape.series" >"$tmp/scrape.own" &&
	diff "$tmp/metrics.series" "$tmp/scrape.own" >"$tmp/diff"; then
	ok "the scrape has the same $(wc -l <"$tmp/metrics.series") series as metrics, and serve's detection series"
else
	fail "the scrape has the same series as metrics" "$(cat "$tmp/diff")"
fi
report check_values "$tmp/scrape"
for path in / /metric /metrics/x /favicon.ico; do
	code=$(scrape -o /dev/null -w '%{http_code}' "$URL$path")
	[ "$code" = 404 ] && ok "GET $path: 404" || fail "GET $path: $code (want 404)"
done
for m in POST PUT DELETE; do
	code=$(scrape -o /dev/null -w '%{http_code}' -X "$m" "$URL/metrics")
	[ "$code" = 405 ] && ok "$m /metrics: 405" || fail "$m /metrics: $code (want 405)"
done

# 50 scrapers at once: every one gets a whole, valid exposition.
pids=()
for ((i = 0; i < 50; i++)); do
	scrape -o "$tmp/par.$i" -w '%{http_code}\n' "$URL/metrics" >"$tmp/code.$i" &
	pids+=($!)
done
wait "${pids[@]}"
codes=$(cat "$tmp"/code.* | sort | uniq -c | tr -s ' ' | paste -sd,)
bad=0
for ((i = 0; i < 50; i++)); do
	promtool check metrics <"$tmp/par.$i" >/dev/null 2>&1 || bad=$((bad + 1))
done
if [ "$codes" = " 50 200" ]; then
	ok "50 concurrent scrapes: all 200"
else
	fail "50 concurrent scrapes: all 200" "codes: $codes" "$(cat "$tmp/serve.err")"
fi
[ $bad = 0 ] && ok "50 concurrent scrapes: all pass promtool check metrics" ||
	fail "50 concurrent scrapes: $bad fail promtool check metrics"
if kill -0 "$SPID" 2>/dev/null && [ "$(scrape -o /dev/null -w '%{http_code}' "$URL/metrics")" = 200 ]; then
	ok "serve still answers after them"
else
	fail "serve still answers after them" "$(cat "$tmp/serve.err")"
fi
# serve keeps the table it collected and reads only counters while nothing is committed: new
# traffic shows in the next scrape, and so does an apply (the policy with one flow removed).
mg() { grep -E '^wardwall_flow_packets_total\{flow="monitors-to-gateway",.*tier="nftables"' "$1" | awk '{ print $NF }'; }
gen() { awk '$1 == "wardwall_generation" { print $2 }' "$1"; }
scrape -o "$tmp/s1" "$URL/metrics"
ww_probe monitors "$MON" "$GWAY" udp 24005 1 >/dev/null
scrape -o "$tmp/s2" "$URL/metrics"
a=$(mg "$tmp/s1") b=$(mg "$tmp/s2")
if [ -n "$a" ] && [ -n "$b" ] && [ "$b" = $((a + 1)) ]; then
	ok "a connection between two scrapes counts in the second: monitors-to-gateway $a -> $b"
else
	fail "a connection between two scrapes counts in the second" "before: $a; after: $b"
fi
"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["flows"] = [f for f in p["flows"] if f["id"] != "siem-poll"]
json.dump(p, open(sys.argv[2], "w"))' "$POLICY" "$tmp/less.json"
ip netns exec "$GW" "$WARDWALL" apply "$tmp/less.json" >"$tmp/out" 2>&1
scrape -o "$tmp/s3" "$URL/metrics"
g2=$(gen "$tmp/s2") g3=$(gen "$tmp/s3")
if grep -q 'flow="siem-poll"' "$tmp/s2" && ! grep -q 'flow="siem-poll"' "$tmp/s3" &&
	[ -n "$g2" ] && [ "$g3" = $((g2 + 1)) ] && grep -qx 'wardwall_drift 0' "$tmp/s3"; then
	ok "after an apply the next scrape is the new generation (siem-poll gone, generation $g2 -> $g3, no drift)"
else
	fail "after an apply the next scrape is the new generation" "$(cat "$tmp/out")" \
		"$(grep -E '^wardwall_(generation|drift) |siem-poll' "$tmp/s3")"
fi
ww_stop "$SPID"
SPID=''

ww_sim_down_tap
finish
