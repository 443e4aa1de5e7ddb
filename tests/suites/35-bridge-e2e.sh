#!/bin/bash
# End to end, bridge mode: two infusion pumps and their pump server in ONE subnet and zone, each on
# a port of a Linux bridge in a namespace of its own, where `wardwall apply` enforces a policy with
# "mode": "bridge" (table bridge wardwall on the bridge forward hook, XDP on the bridge ports).
#
#   - pump to pump is denied (within_zone deny), pump to pump server on tcp/8443 and ping is
#     allowed with its replies but not ssh (the flow's "except"), the server cannot open a
#     connection to a pump: IPv4 and IPv6,
#     each probe's outcome as `wardwall query` says (ARP and neighbour discovery keep working);
#   - both tiers: with "xdp": "native" on the three ports a denied probe is dropped by XDP (its
#     XDP counter moves, the nftables one does not) and XDP counts both directions of an allowed
#     exchange; with "xdp": "off" the nftables counters of the flow and of the default move;
#   - read back: `plan --detailed-exitcode` finds nothing to do, `show` says table bridge
#     wardwall on the bridge forward hook, a rule added by hand to the table is drift that plan
#     names and apply repairs;
#   - a change of mode is one transaction: bridge -> gateway deletes table bridge wardwall and
#     creates table inet wardwall (plan says so), and back; remove deletes it and the XDP links.
#
# The bridge family's `ct state` needs nf_conntrack_bridge (CONFIG_NF_CONNTRACK_BRIDGE). On a
# kernel without it the suite checks that apply refuses bridge mode saying so and leaves nothing
# behind (no table, no XDP link), and skips the traffic; `make vm-test` runs it on Debian's kernels,
# which have the module.
#
# Needs root. Everything happens in namespaces this script creates (wwbr<random>-*) and deletes on
# exit; the root namespace's ruleset, links and /sys/fs/bpf are never touched (a private bpffs).
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
unset WARDWALL_NOW
TIMEOUT=${WW_PROBE_TIMEOUT:-0.5}
PROBE=$PWD/tests/e2e/probe.py

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft ping
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh # ww_nft_genid, WW_PYTHON; the simulated hospital is not brought up

ID=wwbr$$$RANDOM
BR=$ID-br P1=$ID-p1 P2=$ID-p2 SRV=$ID-srv
tmp=$(mktemp -d)
BPFFS=$tmp/bpf
mkdir -p "$BPFFS"
pids=()
cleanup() {
	local pid ns
	for pid in "${pids[@]}"; do
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	for ns in "$BR" "$P1" "$P2" "$SRV"; do
		ip netns del "$ns" 2>/dev/null
	done
	if mountpoint -q "$BPFFS"; then
		umount "$BPFFS" || umount -l "$BPFFS"
	fi
	[ -n "${WW_DEBUG_KEEP:-}" ] && mkdir -p "$WW_DEBUG_KEEP" && cp -r "$tmp"/* "$WW_DEBUG_KEEP" 2>/dev/null
	mountpoint -q "$BPFFS" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
if ! mount -t bpf bpf "$BPFFS" 2>"$tmp/err"; then
	echo "ok 1 - # SKIP cannot mount a private bpffs: $(cat "$tmp/err")"
	echo "1..1"
	exit 0
fi
export WARDWALL_BPFFS=$BPFFS WARDWALL_STATE_DIR=$tmp/state

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
ww() { nsx "$BR" "$WARDWALL" "$@"; }

# ---- the network: one bridge, three ports, one subnet ----
setup() {
	local ns port addr
	ip netns add "$BR" || return 1
	nsx "$BR" ip link set lo up
	nsx "$BR" ip link add br0 type bridge || return 1
	nsx "$BR" ip link set br0 up
	for spec in "$P1 ww-p1 10" "$P2 ww-p2 11" "$SRV ww-srv 20"; do
		read -r ns port addr <<<"$spec"
		ip netns add "$ns" || return 1
		nsx "$ns" ip link set lo up
		nsx "$BR" ip link add "$port" type veth peer name eth0 netns "$ns" || return 1
		nsx "$BR" ip link set "$port" master br0 up || return 1
		nsx "$ns" ip addr add "10.30.0.$addr/24" dev eth0
		nsx "$ns" ip addr add "fd00:30::$addr/64" dev eth0 nodad
		nsx "$ns" ip link set eth0 up
	done
}
setup || {
	fail "the bridge and its three ports are set up"
	finish
}

# The policy: the pumps (a host group) may reach the pump server with anything but ssh (a flow's
# "except", language 1.1: both tiers enforce the derived service); nothing else within the zone.
# xdp and mode are filled in per part.
policy() { # FILE MODE XDP
	cat >"$1" <<EOF
{
  "wardwall": 1,
  "name": "pumps-bridge",
  "defaults": {"between_zones": "deny", "within_zone": "deny", "log": "deny"},
  "zones": {
    "infusion": {"criticality": "life-critical", "networks": ["10.30.0.0/24", "fd00:30::/64"],
                 "hosts": {"pumps": ["10.30.0.10/31", "fd00:30::10/127"],
                           "server": ["10.30.0.20", "fd00:30::20"]}}
  },
  "flows": [
    {"id": "pump-to-server", "from": "infusion/pumps", "to": "infusion/server",
     "services": "any", "except": {"services": ["ssh"]}, "action": "allow"}
  ],
  "enforcement": {"mode": "$2", "interfaces": ["ww-p1", "ww-p2", "ww-srv"], "xdp": "$3"}
}
EOF
}
policy "$tmp/bridge-xdp.json" bridge native
policy "$tmp/bridge.json" bridge off
policy "$tmp/gateway.json" gateway off

# ---- doctor: the listed interfaces are the bridge's ports ----
nsx "$BR" ip link add ww-stray type veth peer name ww-stray1
nsx "$BR" "$WARDWALL" doctor --interface ww-stray "$tmp/bridge.json" >"$tmp/doc" 2>&1
if grep -q 'xdp.iface/ww-p1 .*a port of bridge br0' "$tmp/doc" &&
	grep -q '^warning  *xdp.iface/ww-stray .*not a port of a Linux bridge' "$tmp/doc"; then
	ok "doctor: the ports are ports of br0; an interface that is none is a warning"
else
	fail "doctor checks the bridge ports" "$(cat "$tmp/doc")"
fi

# ---- a kernel without connection tracking for bridges ----
if ! nsx "$BR" nft -f - 2>"$tmp/ctprobe" <<'EOF'; then
table bridge wwctprobe {
	chain c {
		type filter hook forward priority filter; policy accept;
		ct state established accept
	}
}
EOF
	if ww apply "$tmp/bridge-xdp.json" >"$tmp/out" 2>&1; then
		fail "without nf_conntrack_bridge, apply refuses bridge mode" "$(cat "$tmp/out")"
	elif grep -q 'nf_conntrack_bridge' "$tmp/out"; then
		ok "without nf_conntrack_bridge, apply refuses bridge mode and names the module"
	else
		fail "apply's refusal names nf_conntrack_bridge" "$(cat "$tmp/out")"
	fi
	if [ -z "$(nsx "$BR" nft list tables)" ] &&
		! nsx "$BR" ip link show ww-p1 2>/dev/null | grep -q 'prog/xdp'; then
		ok "nothing is left behind: no table, no XDP link on the ports"
	else
		fail "nothing is left behind" "$(nsx "$BR" nft list tables; nsx "$BR" ip link show ww-p1 2>/dev/null)"
	fi
	n=$((n + 1))
	echo "ok $n - # SKIP traffic: this kernel has no connection tracking for bridges ($(head -1 "$tmp/ctprobe")); make vm-test runs it"
	finish
fi
nsx "$BR" nft delete table bridge wwctprobe

# ---- servers ----
for ns in "$P1" "$P2" "$SRV"; do
	rm -f "$tmp/ready.$ns"
	nsx "$ns" "$WW_PYTHON" "$PROBE" serve --ports tcp:8443,tcp:22 --name "$ns" \
		--ready "$tmp/ready.$ns" </dev/null >/dev/null 2>"$tmp/serve.$ns.err" &
	pids+=($!)
done
for ns in "$P1" "$P2" "$SRV"; do
	for _ in $(seq 200); do
		[ -e "$tmp/ready.$ns" ] && break
		sleep 0.02
	done
done

# The probes: source namespace and address, destination address, protocol, port, expected.
PROBES="
$P1  10.30.0.10  10.30.0.20   tcp  8443 allow
$P1  fd00:30::10 fd00:30::20  tcp  8443 allow
$P2  10.30.0.11  10.30.0.20   icmp -    allow
$P2  fd00:30::11 fd00:30::20  icmp -    allow
$P1  10.30.0.10  10.30.0.11   tcp  8443 deny
$P1  fd00:30::10 fd00:30::11  icmp -    deny
$P2  10.30.0.11  10.30.0.10   tcp  22   deny
$SRV 10.30.0.20  10.30.0.10   tcp  8443 deny
$SRV fd00:30::20 fd00:30::11  tcp  8443 deny
$P2  10.30.0.11  10.30.0.20   tcp  22   deny
$P1  fd00:30::10 fd00:30::20  tcp  22   deny
"

# A probe expected to get through waits 3 s (a loaded machine answering late is not a wrong
# verdict), one expected denied $TIMEOUT (below the 1 s SYN retransmission: one SYN).
probe() { # NS SRC DST PROTO PORT [TIMEOUT]
	case $4 in
	tcp) nsx "$1" "$WW_PYTHON" "$PROBE" connect tcp "$2" "$3" "$5" "${6:-$TIMEOUT}" >/dev/null 2>&1 ;;
	icmp) nsx "$1" ping -n -q -c1 -W1 -I "$2" "$3" >/dev/null 2>&1 ;;
	esac
}
query() { # SRC DST PROTO PORT -> allow|deny (what decided, in $tmp/q.json)
	local q=$3/$4
	[ "$3" = icmp ] && { [[ $1 == *:* ]] && q=icmpv6/128 || q=icmp/8; }
	"$WARDWALL" query --json "$POL" "$1" "$2" "$q" >"$tmp/q.json" 2>/dev/null &&
		"$WW_PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["verdict"])' "$tmp/q.json"
}
# Counter of what decided, from `wardwall stats --json`: "flow/ID" or "default/A/B", tier nft|xdp.
counter() { # NAME TIER
	ww stats --json 2>/dev/null | "$WW_PYTHON" -c '
import json, sys
s = json.load(sys.stdin)
name, tier = sys.argv[1], {"nft": "nftables", "xdp": "xdp"}[sys.argv[2]]
v = 0
for f in s["flows"]:
    if "flow/" + f["id"] == name and f[tier]:
        v = f[tier]["packets"]
for d in s["defaults"]:
    if "default/%s/%s" % (d["from"], d["to"]) == name and d[tier]:
        v = d[tier]["packets"]
print(v)' "$1" "$2"
}

# run_probes TIER: every probe against the oracle, and the counter of the tier that decides.
run_probes() {
	local tier=$1 ns src dst proto port want got q before after name other ob oa t
	while read -r ns src dst proto port want; do
		[ -n "$ns" ] || continue
		q=$(query "$src" "$dst" "$proto" "$port")
		if [ "$q" != "$want" ]; then
			fail "$tier: query agrees that $src -> $dst $proto/$port is $want" "query says: $q"
			continue
		fi
		[ "$want" = allow ] && name=flow/pump-to-server || name=default/infusion/infusion
		before=$(counter "$name" "$tier")
		ob=$(counter "$name" nft)
		t=$TIMEOUT
		[ "$want" = allow ] && t=${WW_PROBE_TIMEOUT_ALLOW:-3}
		if probe "$ns" "$src" "$dst" "$proto" "$port" "$t"; then got=allow; else got=deny; fi
		after=$(counter "$name" "$tier")
		oa=$(counter "$name" nft)
		if [ "$got" != "$want" ]; then
			fail "$tier: $src -> $dst $proto/$port is ${want/deny/deni}ed" "the probe got: $got"
			continue
		fi
		# nftables counts a connection's first packet; XDP every packet, both directions of an
		# allowed exchange; a denied probe is dropped by XDP before nftables sees it.
		local lo=1 hi=1
		if [ "$tier" = xdp ] && [ "$want" = allow ]; then lo=2 hi=20; fi
		if [ "$tier" = nft ] && [ "$proto" = tcp ] && [ "$want" = deny ]; then hi=3; fi
		other=ok
		[ "$tier" = xdp ] && [ "$want" = deny ] && [ "$oa" != "$ob" ] && other="nftables counted it too ($ob -> $oa)"
		if [ $((after - before)) -ge $lo ] && [ $((after - before)) -le $hi ] && [ "$other" = ok ]; then
			ok "$tier: $src -> $dst $proto/$port ${want/deny/deni}ed, $name +$((after - before))"
		else
			fail "$tier: $name counts $src -> $dst $proto/$port" "$before -> $after (want +$lo..$hi); $other"
		fi
	done <<<"$PROBES"
}

# ---- part 1: both tiers, XDP native on the ports ----
POL=$tmp/bridge-xdp.json
if ww apply "$POL" >"$tmp/out" 2>&1; then
	ok "apply a bridge-mode policy with XDP on the three bridge ports"
else
	fail "apply a bridge-mode policy with XDP on the three bridge ports" "$(cat "$tmp/out")"
	finish
fi
if nsx "$BR" nft list tables | grep -qx 'table bridge wardwall' &&
	! nsx "$BR" nft list tables | grep -q 'table inet wardwall'; then
	ok "the kernel holds table bridge wardwall and no inet table"
else
	fail "the kernel holds table bridge wardwall" "$(nsx "$BR" nft list tables)"
fi
links=0
for p in ww-p1 ww-p2 ww-srv; do
	nsx "$BR" ip link show "$p" 2>/dev/null | grep -q 'xdp' && links=$((links + 1))
done
[ "$links" = 3 ] && ok "XDP is attached to every bridge port" || fail "XDP is attached to every bridge port" "$links of 3"
run_probes xdp

# ---- part 2: the nftables tier alone ----
POL=$tmp/bridge.json
if ww apply "$POL" >"$tmp/out" 2>&1 && ! nsx "$BR" ip link show ww-p1 2>/dev/null | grep -q 'prog/xdp'; then
	ok "apply without XDP detaches the ports' program"
else
	fail "apply without XDP" "$(cat "$tmp/out")"
fi
run_probes nft

# Events: a denial on the bridge reaches NFLOG from the bridge family and decodes as any other.
rm -f "$tmp/ev.out" "$tmp/ev.err"
ww events --json --count 1 >"$tmp/ev.out" 2>"$tmp/ev.err" &
evpid=$!
pids+=("$evpid")
for _ in $(seq 100); do
	grep -q listening "$tmp/ev.err" 2>/dev/null && break
	sleep 0.05
done
probe "$P1" 10.30.0.10 10.30.0.11 tcp 8443
for _ in $(seq 100); do
	kill -0 "$evpid" 2>/dev/null || break
	sleep 0.05
done
kill "$evpid" 2>/dev/null
if "$WW_PYTHON" -c '
import json, sys
e = json.loads(open(sys.argv[1]).readline())
ok = (e["verdict"] == "deny" and e["tier"] == "nftables" and e["src"] == "10.30.0.10" and
      e["dst"] == "10.30.0.11" and e["dport"] == 8443 and e["flow"] == "default" and
      e["src_host"] == "infusion/pumps" and e["dst_host"] == "infusion/pumps")
sys.exit(0 if ok else 1)' "$tmp/ev.out" 2>/dev/null; then
	ok "events: the bridge table's denial of pump -> pump, decoded from NFLOG"
else
	fail "events reports the denial on the bridge" "$(cat "$tmp/ev.out" "$tmp/ev.err")"
fi

# Replies of an allowed connection pass as established: a whole TCP exchange (SYN, data, FIN) from
# the pump to the server counted once by nftables, and the server never reaches a pump.
if ww plan --detailed-exitcode "$POL" >"$tmp/plan" 2>&1; then
	ok "plan reads table bridge wardwall back: nothing to change"
else
	fail "plan finds nothing to change after apply" "$(cat "$tmp/plan")"
fi
ww show >"$tmp/show" 2>&1
if grep -q 'nftables: table bridge wardwall, bridge (hook forward of the bridge family)' "$tmp/show" &&
	! grep -q DRIFT "$tmp/show"; then
	ok "show: table bridge wardwall on the bridge forward hook, no drift"
else
	fail "show says bridge mode" "$(cat "$tmp/show")"
fi
ww show --json >"$tmp/show.json" 2>&1
if "$WW_PYTHON" -c 'import json,sys; s=json.load(open(sys.argv[1])); sys.exit(s["nftables"]["mode"] != "bridge")' "$tmp/show.json"; then
	ok "show --json: nftables mode bridge"
else
	fail "show --json says mode bridge" "$(cat "$tmp/show.json")"
fi

# Evidence: the bundle reads the bridge table back, in sync with the applied policy, and counts.
if "$WARDWALL" evidence keygen >"$tmp/out" 2>&1 &&
	ww evidence export --out "$tmp/bundle" >"$tmp/out" 2>&1 &&
	"$WW_PYTHON" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
k = ev["kernel"]
assert k["in_sync"] and k["drift"]["equal"], k["drift"]
n = k["nftables"]
assert n["present"] and n["mode"] == "bridge", n
assert sorted(n["interfaces"]) == ["ww-p1", "ww-p2", "ww-srv"], n["interfaces"]
assert n["sha256"] == n["expected_sha256"]
f = [x for x in ev["flows"] if x["id"] == "pump-to-server"][0]
assert f["in_kernel"] and f["nftables"]["packets"] > 0, f' "$tmp/bundle/evidence.json" >"$tmp/evcheck" 2>&1; then
	ok "evidence export: table bridge wardwall in sync, mode bridge, its ports"
else
	fail "evidence export in bridge mode" "$(cat "$tmp/out" "$tmp/evcheck")"
fi

# Drift: a rule added by hand.
nsx "$BR" nft add rule bridge wardwall br_ip meta protocol ip accept
ww plan "$POL" >"$tmp/plan" 2>&1
if grep -q '^drift: 1 object' "$tmp/plan" && grep -q 'chain br_ip' "$tmp/plan"; then
	ok "a rule added to chain br_ip by hand is drift plan names"
else
	fail "plan names the drift in br_ip" "$(cat "$tmp/plan")"
fi
if ww apply "$POL" >"$tmp/out" 2>&1 && ww plan --detailed-exitcode "$POL" >"$tmp/plan" 2>&1; then
	ok "apply repairs the drift"
else
	fail "apply repairs the drift" "$(cat "$tmp/out" "$tmp/plan")"
fi

# ---- part 3: a change of mode is one transaction ----
ww plan "$tmp/gateway.json" >"$tmp/plan" 2>&1
if grep -q 'table bridge wardwall is deleted and table inet wardwall created in the same transaction' "$tmp/plan"; then
	ok "plan: bridge -> gateway deletes one table and creates the other in one transaction"
else
	fail "plan says the mode change replaces the table" "$(cat "$tmp/plan")"
fi
g0=$(ww_nft_genid "$BR")
if ww apply "$tmp/gateway.json" >"$tmp/out" 2>&1; then
	g1=$(ww_nft_genid "$BR")
	tables=$(nsx "$BR" nft list tables | tr '\n' ' ')
	if [ "$tables" = "table inet wardwall " ] && [ $((g1 - g0)) = 1 ]; then
		ok "bridge -> gateway: table inet wardwall only, one ruleset generation later"
	else
		fail "bridge -> gateway in one transaction" "tables: $tables; generation $g0 -> $g1"
	fi
else
	fail "apply the gateway-mode policy" "$(cat "$tmp/out")"
fi
if ww apply "$tmp/bridge.json" >"$tmp/out" 2>&1 &&
	[ "$(nsx "$BR" nft list tables | tr '\n' ' ')" = "table bridge wardwall " ] &&
	ww plan --detailed-exitcode "$tmp/bridge.json" >/dev/null 2>&1; then
	ok "gateway -> bridge: table bridge wardwall only, nothing left to change"
else
	fail "gateway -> bridge" "$(cat "$tmp/out"; nsx "$BR" nft list tables)"
fi
POL=$tmp/bridge.json
if probe "$P1" 10.30.0.10 10.30.0.20 tcp 8443 3 && ! probe "$P1" 10.30.0.10 10.30.0.11 tcp 8443; then
	ok "after the round trip, pump -> server allowed and pump -> pump denied"
else
	fail "enforcement after the mode round trip"
fi

# ---- remove ----
ww apply "$tmp/bridge-xdp.json" >/dev/null 2>&1
if ww remove >"$tmp/out" 2>&1 && [ -z "$(nsx "$BR" nft list tables)" ] &&
	! nsx "$BR" ip link show ww-p1 2>/dev/null | grep -q 'prog/xdp'; then
	ok "remove deletes table bridge wardwall and the ports' XDP links"
else
	fail "remove" "$(cat "$tmp/out"; nsx "$BR" nft list tables)"
fi
finish
