# shellcheck shell=bash
# A simulated hospital network in network namespaces, built from a wardwall policy.
# Sourced by the namespace suites (tests/suites/3*, 41, 70-84) and tests/demo.sh, after
# tests/e2e/tap.sh; needs root, iproute2, python3, ping.
#
#   ww_sim_up POLICY      one gateway namespace, forwarding on (v4 and v6), and one namespace per
#                         zone, each joined to the gateway by a veth pair whose gateway end has the
#                         zone's interface name (WW_ZONE_IFACE below). Returns non-zero on failure;
#                         whatever was created is still recorded for ww_sim_down.
#   ww_sim_down           kills the probe servers, deletes every namespace ww_sim_up created.
#                         Idempotent; call it from a trap on EXIT INT TERM.
#   ww_gw                 the gateway namespace's name
#   ww_ns ZONE            the namespace of ZONE
#   ww_addr ENDPOINT 4|6  an address of ENDPOINT ("ehr" for the zone's own range, "ehr/fhir" for
#                         a host group) in that family; fails if there is none
#   ww_zones              the zones of the simulation, one a line
#   ww_policy_nft_only POLICY OUT
#                         writes a copy of POLICY with enforcement.xdp "off", so that only the
#                         nftables tier enforces it (XDP would decide before nftables counts)
#   ww_policy_log_rate POLICY OUT RATE
#                         writes a copy of POLICY with enforcement.log_rate RATE (per second)
#   ww_serve PORTS [ZONE...]
#                         starts a probe server in the namespace of each ZONE (default: every
#                         zone) listening on PORTS ("tcp:443,udp:123"), and waits until they all
#                         listen; ww_sim_down stops them
#   ww_counters           the packet count of every counter of table inet wardwall in the gateway,
#                         one "NAME PACKETS" a line (nft -j, read by python3)
#   ww_nft_genid NS       the nftables ruleset generation of namespace NS (NFT_MSG_GETGEN): every
#                         committed transaction, and only that, increments it
#   ww_sim_start POLICY [PORTS ZONE]
#                         ww_sim_up, a probe server on PORTS in ZONE (ww_serve) when given, and
#                         `wardwall apply POLICY` in the gateway, each reported as a TAP line
#                         (tap.sh); the suite finishes on a failure. Sets GW to the gateway.
#   ww_sim_up_tap POLICY [NOTE]
#                         ww_sim_up as one TAP line ("simulated hospital up: gateway G and N zone
#                         namespaces[, NOTE]"); the suite finishes when it fails. Sets GW.
#   ww_sim_down_tap       ww_sim_down, then a test: none of the simulation's namespaces is left
#   ww_serve_probes       ww_serve of every destination port of the probe table ($PROBES) in
#                         every zone, as one TAP line; the suite finishes when it fails
#   ww_probes_tap [POLICY FILE]
#                         ww_probes_load and, given POLICY, ww_oracle_load POLICY FILE; a failed
#                         test and the end of the suite when either fails
#   ww_tier_setup EXAMPLE DIR
#                         mounts a private bpffs on DIR/bpf for the XDP tier (ww_bpffs):
#                         POLICY=EXAMPLE, XDP=1; where none can be mounted, the nftables-only copy
#                         (NFT_ONLY, DIR/nft-only.json): POLICY=NFT_ONLY, XDP=0.
#   ww_oracle_load POLICY FILE
#                         what `wardwall query` decides for each loaded probe (ww_probes_load):
#                         its answers in FILE (line i+1 for probe i, for failure details) and
#                         O_VERDICT[i], O_COUNTER[i] (the counter that decides, named as
#                         nft_counter.py names it) and O_MCOUNTER[i] (a monitor flow's, or -);
#                         status 1, saying why on stderr, when not every probe has an answer
#   ww_probe_wave W       every probe i of the table with WAVE[i] = W at once (ww_probe, waiting
#                         ww_probe_timeout i), its output in $tmp/probe.i and its status in
#                         $tmp/rc.i; returns when all have ended
#   ww_probe ZONE SRC DST PROTO [PORT] [TIMEOUT] [SPORT]
#                         one new connection from SRC (an address of ZONE; tcp and udp from
#                         source port SPORT if given) to DST: tcp and udp
#                         through probe.py (TIMEOUT, default 0.5 s), icmp/icmpv6 as one echo
#                         request (ping, 1 s). Exit 0 when a
#                         reply came back, 1 when none did.
#
# The frame of a suite (its exit, its processes, its tiers):
#   ww_suite_tmp [FUNCTION]
#                         makes the suite's temporary directory, $tmp, and arms the traps: EXIT runs
#                         ww_suite_cleanup, INT and TERM exit 130 (and so run it too). FUNCTION, when
#                         given, runs first at exit: it stops what only the suite knows of (its own
#                         processes, ww_stop; its own namespaces).
#   ww_suite_cleanup      FUNCTION, `wardwall serve` of ww_wardwall_serve, ww_sim_down, the bpffs of
#                         ww_bpffs unmounted, $tmp removed (kept when the bpffs cannot be unmounted:
#                         files are never removed through a mount). Never fails.
#   ww_stop PID...        stops each process (SIGTERM) and waits for it; empty words are skipped
#   ww_bpffs DIR          mounts a private bpffs on DIR (made when missing); BPFFS=DIR and
#                         WARDWALL_BPFFS=DIR (exported even when the mount fails, so that wardwall
#                         never falls back to /sys/fs/bpf). Status 1, mount's error on stderr, when
#                         none can be mounted. ww_suite_cleanup unmounts it.
#   ww_gwx CMD...         CMD in the gateway namespace
#   ww_gw_wardwall ARGS...
#                         `wardwall ARGS` in the gateway, its output in $tmp/out, its errors in
#                         $tmp/err
#   ww_tiers FUNCTION NFT_POLICY XDP_POLICY
#                         FUNCTION nftables NFT_POLICY, then FUNCTION xdp XDP_POLICY when the bpffs
#                         of ww_bpffs is mounted; a skipped test "xdp tier" otherwise
#   ww_tier_up TIER POLICY
#                         for FUNCTION of ww_tiers: WARDWALL_STATE_DIR=$tmp/state-TIER, ww_sim_up
#                         POLICY and ww_gw_wardwall apply POLICY; on failure a failed test ("TIER:
#                         simulation up", "TIER: apply" with its errors), nothing left up, status 1
#   ww_events_start ARGS...
#                         `wardwall events ARGS` in the gateway, its output in $tmp/ev.out, its
#                         errors in $tmp/ev.err, its PID in WW_EVENTS_PID (stopped by
#                         ww_suite_cleanup; clear it once you have waited for it); waits up to 10 s
#                         until it says it listens, status 1 if it does not (or has ended)
#   ww_wardwall_serve PORT
#                         `wardwall serve --listen 127.0.0.1:PORT` in the gateway, its stderr in
#                         $tmp/serve.err, its PID in WW_SERVE_PID (stopped by ww_suite_cleanup);
#                         waits up to 10 s until it says its detectors are on, status 1 if not
#   ww_lines FILE         the lines of FILE, 0 when it does not exist
#   ww_wait_lines FILE N [TENTHS]
#                         waits until FILE has N lines, at most TENTHS tenths of a second (50)
#   ww_scan ZONE SRC DST FIRST LAST
#                         TCP connection attempts from SRC (an IPv4 address in ZONE's namespace) to
#                         DST, ports FIRST to LAST, all at once: one SYN each (closed after 0.4 s,
#                         before the first retransmission)
#   ww_attack             the attack traffic of 73-detect on the example hospital: a workstation
#                         scanning ports 20-44 of ehr/his-app, biomed trying SMB and RDP on it, bms
#                         (monitor mode) reaching mgmt tcp/8080; sets WS EHR BIO BMS MGMT to the
#                         IPv4 addresses involved
#
# Addresses. Each zone namespace holds, in each family, a representative address of the zone's
# own range (the first one after the gateway's that is in no host group) and the first address of
# every host group; the gateway holds the first usable address of the zone's first network that
# is in no host group. Zones whose network is a default route (the internet) use documentation
# ranges instead (WW_DOC4, WW_DOC6). Zone namespaces send traffic for their own zone's networks
# through the gateway too (a policy rule ahead of the local table), so that two addresses of one
# namespace talk to each other through the firewall like two hosts of the zone would.

# The gateway interface facing each zone. Zones not listed use "lan-<zone>". This covers
# policies/example-hospital.json and policies/demo.json.
declare -gA WW_ZONE_IFACE=(
	[identity]=lan-identity [ehr]=lan-ehr [pacs]=lan-pacs [biomed]=lan-biomed [lab]=lan-lab
	[modality]=lan-modality [infusion]=lan-infusion [monitors]=lan-monitors
	[workstations]=lan-ws [bms]=lan-bms [mgmt]=lan-mgmt [vendor]=lan-vendor [guest]=lan-guest
	[internet]=wan
)
WW_DOC4=${WW_DOC4:-198.51.100.0/24}
WW_DOC6=${WW_DOC6:-2001:db8:1::/64}

WW_E2E_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The system interpreter: it starts several times faster than a version manager's shim.
if [ -z "${WW_PYTHON:-}" ]; then
	WW_PYTHON=python3
	[ -x /usr/bin/python3 ] && WW_PYTHON=/usr/bin/python3
fi
WW_SIM_ID=
WW_SIM_DIR=
declare -gA WW_SIM_ADDR=()
WW_SIM_ZONES=()

ww_gw() { echo "$WW_SIM_ID-gw"; }
ww_ns() { echo "$WW_SIM_ID-$1"; }
ww_zones() { printf '%s\n' "${WW_SIM_ZONES[@]}"; }

ww_addr() {
	local a=${WW_SIM_ADDR[$1:$2]:-}
	[ -n "$a" ] || { echo "ww_addr: no IPv$2 address for $1" >&2; return 1; }
	echo "$a"
}

ww_policy_nft_only() {
	"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p.setdefault("enforcement", {})["xdp"] = "off"
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$1" "$2"
}

ww_policy_log_rate() {
	"$WW_PYTHON" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p.setdefault("enforcement", {})["log_rate"] = int(sys.argv[3])
json.dump(p, open(sys.argv[2], "w"), indent=1)' "$1" "$2" "$3"
}

# The topology of a policy, computed in Python (ipaddress) and printed as lines:
#   zone NAME                then, for that zone:
#   gw ADDR/LEN NETWORK      an address of the gateway on the zone's link, and the link's network
#   net PREFIX               a further network of the zone the gateway routes onto the link
#   addr ENDPOINT FAM ADDR/LEN   an address of the zone namespace and the endpoint it stands for
ww__topology() {
	"$WW_PYTHON" - "$1" "$WW_DOC4" "$WW_DOC6" <<'EOF'
import ipaddress as ip, json, sys

pol = json.load(open(sys.argv[1]))
doc = {4: ip.ip_network(sys.argv[2]), 6: ip.ip_network(sys.argv[3])}
zones = pol["zones"]

def nets(v):
    return [ip.ip_network(x, strict=False) for x in ([v] if isinstance(v, str) else v)]

# every prefix with its class: (zone, None) or (zone, host)
prefixes = []
for z, zd in zones.items():
    for n in nets(zd["networks"]):
        prefixes.append((n, (z, None)))
    for h, hv in zd.get("hosts", {}).items():
        for n in nets(hv):
            prefixes.append((n, (z, h)))

def classify(a):
    best = None
    for n, c in prefixes:
        if n.version == a.version and a in n and (best is None or n.prefixlen > best[0].prefixlen):
            best = (n, c)
    return best[1] if best else None

def own(z, net, skip):
    """Addresses of net in zone z's own class (in no host group), after skipping `skip` of them."""
    first = 1 if net.num_addresses > 2 else 0
    for i in range(first, min(net.num_addresses, 1 << 16)):
        a = net[i]
        if classify(a) == (z, None):
            if skip == 0:
                return a
            skip -= 1
    return None

def first_host_addr(n):
    if n.num_addresses == 1:
        return n[0]
    # the first address of a prefix host group would be the subnet-router anycast (v6) or the
    # network address (v4): take the next one
    return n[1]

for z, zd in zones.items():
    print("zone", z)
    hosts = []  # (endpoint, first address) per host group and family
    for h, hv in zd.get("hosts", {}).items():
        seen = set()
        for n in nets(hv):
            if n.version not in seen:
                seen.add(n.version)
                hosts.append(("%s/%s" % (z, h), first_host_addr(n)))
    taken = {a for _, a in hosts}
    link = {}
    for n in nets(zd["networks"]):
        if n.prefixlen == 0:
            n = doc[n.version]
        if n.version in link:
            print("net", n)
            continue
        link[n.version] = n
        gw = own(z, n, 0)
        rep = own(z, n, 1)
        if gw is None:
            # every address is in some host group: any one no host stands on will do
            first = 1 if n.num_addresses > 2 else 0
            gw = next((n[i] for i in range(first, min(n.num_addresses, 1 << 16))
                       if n[i] not in taken), None)
        if gw is None:
            continue
        print("gw %s/%d %s" % (gw, n.prefixlen, n))
        if rep is not None:
            print("addr %s %d %s/%d" % (z, n.version, rep, n.prefixlen))
    for ep, a in hosts:
        ln = link.get(a.version)
        plen = ln.prefixlen if ln is not None and a in ln else a.max_prefixlen
        print("addr %s %d %s/%d" % (ep, a.version, a, plen))
EOF
}

# Runs a command in a namespace, saying what failed.
ww__in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@" || { echo "ww_sim: in $ns: $* failed" >&2; return 1; }
}

ww_sim_up() {
	local policy=$1 kind zone iface a fam ep ns gw
	local -A gw4=() gw6=()
	[ -z "$WW_SIM_ID" ] || { echo "ww_sim_up: a simulation is already up ($WW_SIM_ID)" >&2; return 1; }
	local topo
	topo=$(ww__topology "$policy") || { echo "ww_sim_up: cannot read $policy" >&2; return 1; }
	WW_SIM_ID=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	WW_SIM_DIR=$(mktemp -d "/tmp/$WW_SIM_ID.XXXXXX") || return 1
	: >"$WW_SIM_DIR/namespaces"
	: >"$WW_SIM_DIR/pids"
	gw=$(ww_gw)
	ww__netns_add "$gw" || return 1
	# Forwarding in the gateway only; no ICMP redirects, since zone namespaces send their
	# intra-zone traffic to the gateway on purpose.
	ww__in "$gw" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0 \
		net.ipv6.conf.default.accept_dad=0 || return 1
	ip -n "$gw" link set lo up || return 1
	local ifaces
	ifaces=$("$WW_PYTHON" -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1])).get("enforcement", {}).get("interfaces", [])))' "$policy")
	while read -r kind a fam ep; do
		case $kind in
		zone)
			zone=$a
			WW_SIM_ZONES+=("$zone")
			iface=${WW_ZONE_IFACE[$zone]:-lan-$zone}
			iface=${iface:0:15}
			case " $ifaces " in
			*" $iface "*) ;;
			*) echo "ww_sim_up: warning: $iface (zone $zone) is not in the policy's enforcement.interfaces" >&2 ;;
			esac
			ns=$(ww_ns "$zone")
			ww__netns_add "$ns" || return 1
			ww__in "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
				net.ipv4.conf.all.accept_redirects=0 net.ipv6.conf.all.accept_redirects=0 \
				net.ipv6.conf.default.accept_redirects=0 net.ipv4.conf.default.accept_redirects=0 \
				net.ipv6.conf.default.accept_ra=0 net.ipv4.conf.all.rp_filter=0 \
				net.ipv4.conf.default.rp_filter=0 || return 1
			ip -n "$gw" link add "$iface" type veth peer name eth0 netns "$ns" || return 1
			# A packet that left through eth0 comes back with a local source: accept it.
			ww__in "$ns" sysctl -qw net.ipv4.conf.eth0.accept_local=1 || return 1
			ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up &&
				ip -n "$gw" link set "$iface" up || return 1
			;;
		gw)
			ww__addr_add "$gw" "$iface" "$a" || return 1
			case $a in
			*:*) gw6[$zone]=${a%/*} ;;
			*) gw4[$zone]=${a%/*} ;;
			esac
			;;
		net)
			ip -n "$gw" route add "$a" dev "$iface" || return 1
			;;
		addr)
			ww__addr_add "$ns" eth0 "$ep" || return 1
			[ -n "${WW_SIM_ADDR[$a:$fam]:-}" ] || WW_SIM_ADDR[$a:$fam]=${ep%/*}
			;;
		esac
	done <<<"$topo"
	# Default routes, and intra-zone traffic through the gateway, once every address is there.
	while read -r kind a fam ep; do
		case $kind in
		zone) zone=$a ns=$(ww_ns "$zone") ;;
		addr) ;;
		gw | net)
			if [ "$kind" = gw ]; then
				ww__route_zone "$ns" "${a%/*}" || return 1
				a=$fam
			fi
			ww__hairpin "$ns" "$a" "${gw4[$zone]:-}" "${gw6[$zone]:-}" || return 1
			;;
		esac
	done <<<"$topo"
	for zone in "${WW_SIM_ZONES[@]}"; do
		ns=$(ww_ns "$zone")
		ww__local_table_last "$ns" || return 1
	done
	printf '%s\n' "$topo" >"$WW_SIM_DIR/topology"
}

ww__addr_add() {
	case $3 in
	*:*) ip -n "$1" addr add "$3" dev "$2" nodad ;;
	*) ip -n "$1" addr add "$3" dev "$2" ;;
	esac
}

ww__netns_add() {
	ip netns add "$1" || return 1
	echo "$1" >>"$WW_SIM_DIR/namespaces"
}

# The zone's default route via the gateway address GW.
ww__route_zone() {
	local ns=$1 gwa=$2
	case $gwa in
	*:*) ip -n "$ns" -6 route add default via "$gwa" dev eth0 ;;
	*) ip -n "$ns" route add default via "$gwa" dev eth0 ;;
	esac
}

# Locally generated traffic to the zone's network NET goes to the gateway (table 100), not
# straight to the local address or onto the link.
ww__hairpin() {
	local ns=$1 net=$2 g4=$3 g6=$4
	case $net in
	*:*)
		[ -n "$g6" ] || return 0
		ip -n "$ns" -6 route replace default via "$g6" dev eth0 onlink table 100 &&
			ip -n "$ns" -6 rule add pref 10 iif lo to "$net" lookup 100
		;;
	*)
		[ -n "$g4" ] || return 0
		ip -n "$ns" route replace default via "$g4" dev eth0 onlink table 100 &&
			ip -n "$ns" rule add pref 10 iif lo to "$net" lookup 100
		;;
	esac
}

# Moves the local table's rule after the hairpin rules (pref 0 -> 20), in both families.
ww__local_table_last() {
	local ns=$1 f
	for f in -4 -6; do
		ip -n "$ns" "$f" rule add pref 20 lookup local &&
			ip -n "$ns" "$f" rule del pref 0 lookup local || return 1
	done
}

ww_sim_down() {
	# Runs from traps, possibly under set -e: no failure here may cut the cleanup short.
	local - pid ns
	set +e
	if [ -z "$WW_SIM_DIR" ] || [ ! -d "$WW_SIM_DIR" ]; then
		WW_SIM_ID=''
		return 0
	fi
	while read -r pid; do
		[ -n "$pid" ] && kill "$pid" 2>/dev/null
	done <"$WW_SIM_DIR/pids"
	# Anything else still running inside our own namespaces was started by this script.
	while read -r ns; do
		[ -n "$ns" ] || continue
		for pid in $(ip netns pids "$ns" 2>/dev/null); do
			kill "$pid" 2>/dev/null
		done
	done <"$WW_SIM_DIR/namespaces"
	while read -r pid; do
		[ -n "$pid" ] && wait "$pid" 2>/dev/null
	done <"$WW_SIM_DIR/pids"
	while read -r ns; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done <"$WW_SIM_DIR/namespaces"
	rm -rf "$WW_SIM_DIR"
	WW_SIM_ID='' WW_SIM_DIR=''
	WW_SIM_ADDR=()
	WW_SIM_ZONES=()
	return 0
}

ww_serve() {
	local ports=$1 zone ns pid i ok
	shift
	local -a zones=("$@") pids=()
	[ $# -gt 0 ] || zones=("${WW_SIM_ZONES[@]}")
	for zone in "${zones[@]}"; do
		ns=$(ww_ns "$zone")
		rm -f "$WW_SIM_DIR/ready.$zone"
		ip netns exec "$ns" "$WW_PYTHON" "$WW_E2E_DIR/probe.py" serve --ports "$ports" \
			--name "$zone" --ready "$WW_SIM_DIR/ready.$zone" </dev/null >/dev/null \
			2>"$WW_SIM_DIR/serve.$zone.err" &
		pids+=($!)
		echo $! >>"$WW_SIM_DIR/pids"
	done
	i=0
	for zone in "${zones[@]}"; do
		pid=${pids[i++]}
		ok=false
		while kill -0 "$pid" 2>/dev/null; do
			[ -e "$WW_SIM_DIR/ready.$zone" ] && { ok=true; break; }
			sleep 0.02
		done
		$ok || [ -e "$WW_SIM_DIR/ready.$zone" ] || {
			echo "ww_serve: the probe server in zone $zone did not start:" >&2
			cat "$WW_SIM_DIR/serve.$zone.err" >&2
			return 1
		}
	done
}

ww_counters() {
	ip netns exec "$(ww_gw)" nft -j list counters table inet wardwall |
		"$WW_PYTHON" -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    c = o.get("counter")
    if c:
        print(c["name"], c["packets"])'
}

ww_nft_genid() {
	ip netns exec "$1" "$WW_PYTHON" -c '
import socket, struct
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 12)  # NETLINK_NETFILTER
s.bind((0, 0))
req = struct.pack("=BBH", 0, 0, 0)  # struct nfgenmsg: AF_UNSPEC, NFNETLINK_V0, res_id
s.send(struct.pack("=IHHII", 16 + len(req), (10 << 8) | 16, 1, 1, 0) + req)  # NFT_MSG_GETGEN
data = s.recv(65536)
end, off = struct.unpack("=I", data[:4])[0], 20
while off < end:
    alen, atype = struct.unpack("=HH", data[off:off + 4])
    if atype & 0x3fff == 1:  # NFTA_GEN_ID
        print(struct.unpack(">I", data[off + 4:off + 8])[0])
    off += (alen + 3) & ~3'
}

# The probe table of a suite: each line "SRC DST PROTO PORT FAM WANT" of $PROBES becomes an
# entry of P_SRC, P_DST, P_PROTO, P_PORT, P_FAM and P_WANT, with the addresses in P_SA and P_DA
# and the query of `wardwall query` in P_Q (a ping is icmp/8, or icmpv6/128 with P_PROTO icmpv6);
# np is their number. Fails, naming the probe, when an endpoint has no address of that family.
ww_probes_load() {
	local src dst proto port fam want
	P_SRC=() P_DST=() P_PROTO=() P_PORT=() P_FAM=() P_WANT=() P_SA=() P_DA=() P_Q=()
	np=0
	while read -r src dst proto port fam want; do
		[ -n "$src" ] || continue
		P_SRC[np]=$src P_DST[np]=$dst P_PROTO[np]=$proto P_PORT[np]=$port P_FAM[np]=$fam
		P_WANT[np]=$want
		P_SA[np]=$(ww_addr "$src" "$fam") && P_DA[np]=$(ww_addr "$dst" "$fam") || {
			echo "probe $src -> $dst: no IPv$fam address"
			return 1
		}
		if [ "$proto" = icmp ]; then
			[ "$fam" = 4 ] && P_Q[np]=icmp/8 || P_PROTO[np]=icmpv6 P_Q[np]=icmpv6/128
		else
			P_Q[np]=$proto/$port
		fi
		np=$((np + 1))
	done <<<"$PROBES"
}

# ww_probe_timeout I: how long probe I of the table waits for its reply. A probe the table expects
# denied waits $TIMEOUT (0.5 s: below the 1 s SYN retransmission, so a denied TCP probe sends one
# SYN); one expected to get through waits WW_PROBE_TIMEOUT_ALLOW (3 s): it costs nothing when the
# reply comes, and a loaded machine answering late is not a wrong verdict.
ww_probe_timeout() {
	if [ "${P_WANT[$1]}" = deny ]; then echo "$TIMEOUT"; else echo "${WW_PROBE_TIMEOUT_ALLOW:-3}"; fi
}

# ww_probes_oracle POLICY: what `wardwall query --json` says of each probe now, one line each
# (an empty line where it failed).
ww_probes_oracle() {
	local i at
	at=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	for ((i = 0; i < np; i++)); do
		"$WARDWALL" query --json --at "$at" "$1" "${P_SA[i]}" "${P_DA[i]}" "${P_Q[i]}" \
			2>/dev/null | tr -d '\n'
		echo
	done
}

ww_oracle_load() {
	local v c m i=0 answers
	O_VERDICT=() O_COUNTER=() O_MCOUNTER=()
	ww_probes_oracle "$1" >"$2" || return 1
	# Read into a variable first: a failing reader must fail here, not leave no verdicts.
	answers=$("$WW_PYTHON" -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from nft_counter import Names
names = Names(sys.argv[2])
for line in sys.stdin:
    try:
        v = json.loads(line)
    except ValueError:
        print("error - -")
        continue
    m = "flow/" + v["monitor_flow"] if v.get("monitor_flow") else "-"
    print(v["verdict"], names.counter(v), m)' "$WW_E2E_DIR" "$1" <"$2") || {
		echo "ww_oracle_load: the answers in $2 could not be read" >&2
		return 1
	}
	while read -r v c m; do
		[ -n "$v" ] || continue
		O_VERDICT[i]=$v O_COUNTER[i]=$c O_MCOUNTER[i]=$m
		i=$((i + 1))
	done <<<"$answers"
	[ "$i" = "$np" ] || { echo "ww_oracle_load: $i answers for $np probes" >&2; return 1; }
}

ww_sim_start() {
	local policy=$1 ports=${2:-} zone=${3:-} err
	ww_sim_up_tap "$policy"
	err=$(mktemp)
	if [ -n "$ports" ] && ! ww_serve "$ports" "$zone" 2>"$err"; then
		fail "probe server in zone $zone" "$(cat "$err")"
		rm -f "$err"
		finish
	fi
	rm -f "$err"
	need "apply $policy in the gateway" ip netns exec "$GW" "$WARDWALL" apply "$policy"
	ok "apply $policy in the gateway: $(head -1 <<<"$NEED_OUT")"
}

ww_sim_up_tap() {
	local err
	err=$(mktemp)
	if ww_sim_up "$1" 2>"$err"; then
		ok "simulated hospital up: gateway $(ww_gw) and $(ww_zones | wc -l) zone namespaces${2:+, $2}"
	else
		fail "simulated hospital up" "$(cat "$err")"
		rm -f "$err"
		finish
	fi
	rm -f "$err"
	GW=$(ww_gw)
}

ww_sim_down_tap() {
	local id=$WW_SIM_ID left
	ww_sim_down
	left=$(ip netns list | grep "^$id-")
	if [ -z "$left" ]; then
		ok "teardown leaves none of the $id-* namespaces"
	else
		fail "teardown leaves none of the $id-* namespaces" "$left"
	fi
}

ww_serve_probes() {
	local ports err
	ports=$(awk 'NF == 6 && $3 != "icmp" { print $3 ":" $4 }' <<<"$PROBES" | sort -u | paste -sd,)
	err=$(mktemp)
	if ww_serve "$ports" 2>"$err"; then
		ok "probe servers listen in every zone ($(tr ',' '\n' <<<"$ports" | wc -l) ports)"
		rm -f "$err"
	else
		fail "probe servers listen in every zone" "$(cat "$err")"
		rm -f "$err"
		finish
	fi
}

ww_probes_tap() {
	local err
	err=$(mktemp)
	if ! ww_probes_load >"$err"; then
		fail "$(cat "$err")"
		rm -f "$err"
		finish
	fi
	if [ $# -gt 0 ] && ! ww_oracle_load "$1" "$2" 2>"$err"; then
		fail "the oracle (wardwall query) answers every probe" "$(cat "$err")"
		rm -f "$err"
		finish
	fi
	rm -f "$err"
}

ww_tier_setup() {
	NFT_ONLY=$2/nft-only.json
	ww_policy_nft_only "$1" "$NFT_ONLY" || return 1
	POLICY=$1 XDP=1
	if ! ww_bpffs "$2/bpf" 2>/dev/null; then
		POLICY=$NFT_ONLY XDP=0
		echo "# no bpffs could be mounted: nftables only"
	fi
}

ww_probe_wave() {
	local i pid
	local -a pids=()
	for ((i = 0; i < np; i++)); do
		[ "${WAVE[i]}" = "$1" ] || continue
		(
			ww_probe "${P_SRC[i]%%/*}" "${P_SA[i]}" "${P_DA[i]}" "${P_PROTO[i]}" "${P_PORT[i]}" \
				"$(ww_probe_timeout "$i")" >"$tmp/probe.$i" 2>&1
			echo $? >"$tmp/rc.$i"
		) &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
}

ww_probe() {
	local zone=$1 src=$2 dst=$3 proto=$4 port=${5:-} timeout=${6:-0.5} sport=${7:-} ns
	ns=$(ww_ns "$zone")
	case $proto in
	tcp | udp)
		ip netns exec "$ns" "$WW_PYTHON" "$WW_E2E_DIR/probe.py" connect "$proto" "$src" "$dst" \
			"$port" "$timeout" ${sport:+"$sport"}
		;;
	icmp | icmpv6)
		ip netns exec "$ns" ping -n -q -c1 -W1 -I "$src" "$dst" >/dev/null 2>&1
		;;
	*)
		echo "ww_probe: unknown protocol $proto" >&2
		return 2
		;;
	esac
}

# ---- the frame of a suite: its temporary directory, its exit, its processes ----

ww_suite_tmp() {
	tmp=$(mktemp -d) || exit 2
	WW_SUITE_CLEANUP=${1:-}
	trap ww_suite_cleanup EXIT
	trap 'exit 130' INT TERM
}

ww_suite_cleanup() {
	# Runs from the EXIT trap, possibly under set -e: no failure may cut the cleanup short.
	local -
	set +e
	[ -n "${WW_SUITE_CLEANUP:-}" ] && "$WW_SUITE_CLEANUP"
	ww_stop "${WW_SERVE_PID:-}" "${WW_EVENTS_PID:-}"
	ww_sim_down
	if [ -n "${BPFFS:-}" ] && mountpoint -q "$BPFFS"; then
		umount "$BPFFS" || umount -l "$BPFFS"
	fi
	# Never remove files through a bpffs that is still mounted.
	if [ -z "${BPFFS:-}" ] || ! mountpoint -q "$BPFFS"; then
		rm -rf "$tmp"
	fi
	return 0
}

ww_stop() {
	local pid
	for pid in "$@"; do
		[ -n "$pid" ] || continue
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	return 0
}

ww_bpffs() {
	BPFFS=$1
	export WARDWALL_BPFFS=$1
	mkdir -p "$1" && mount -t bpf bpf "$1"
}

ww_gwx() { ip netns exec "$(ww_gw)" "$@"; }
ww_gw_wardwall() { ww_gwx "$WARDWALL" "$@" >"$tmp/out" 2>"$tmp/err"; }

ww_tier_up() {
	export WARDWALL_STATE_DIR=$tmp/state-$1
	ww_sim_up "$2" || { fail "$1: simulation up"; return 1; }
	ww_gw_wardwall apply "$2" && return 0
	fail "$1: apply" "$(cat "$tmp/err")"
	ww_sim_down
	return 1
}

ww_tiers() {
	"$1" nftables "$2"
	if [ -n "${BPFFS:-}" ] && mountpoint -q "$BPFFS"; then
		"$1" xdp "$3"
	else
		ok "xdp tier # SKIP cannot mount a private bpffs"
	fi
}

ww_events_start() {
	local i
	rm -f "$tmp/ev.out" "$tmp/ev.err"
	ip netns exec "$(ww_gw)" "$WARDWALL" events "$@" >"$tmp/ev.out" 2>"$tmp/ev.err" &
	WW_EVENTS_PID=$!
	for ((i = 0; i < 200; i++)); do
		grep -q 'listening' "$tmp/ev.err" 2>/dev/null && return 0
		kill -0 "$WW_EVENTS_PID" 2>/dev/null || break
		sleep 0.05
	done
	return 1
}

ww_wardwall_serve() {
	local i
	# ip netns exec, not ww_gwx: $! must be serve itself (a function would run in a subshell).
	ip netns exec "$(ww_gw)" "$WARDWALL" serve --listen "127.0.0.1:$1" 2>"$tmp/serve.err" &
	WW_SERVE_PID=$!
	for ((i = 0; i < 100; i++)); do
		grep -q 'detectors on' "$tmp/serve.err" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

ww_lines() { if [ -e "$1" ]; then wc -l <"$1"; else echo 0; fi; }

ww_wait_lines() {
	local i
	for ((i = 0; i < ${3:-50}; i++)); do
		[ "$(ww_lines "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

ww_scan() {
	ip netns exec "$(ww_ns "$1")" "$WW_PYTHON" - "$2" "$3" "$4" "$5" <<'EOF'
import socket, sys, time
src, dst, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
socks = []
for port in range(first, last + 1):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.setblocking(False)
    s.connect_ex((dst, port))
    socks.append(s)
time.sleep(0.4)
for s in socks:
    s.close()
EOF
}

ww_attack() {
	WS=$(ww_addr workstations 4) EHR=$(ww_addr ehr/his-app 4) BIO=$(ww_addr biomed 4)
	BMS=$(ww_addr bms 4) MGMT=$(ww_addr mgmt 4)
	ww_scan workstations "$WS" "$EHR" 20 44
	ww_probe biomed "$BIO" "$EHR" tcp 445 0.5 >/dev/null
	ww_probe biomed "$BIO" "$EHR" tcp 3389 0.5 >/dev/null
	ww_probe bms "$BMS" "$MGMT" tcp 8080 0.5 >/dev/null
	return 0
}
