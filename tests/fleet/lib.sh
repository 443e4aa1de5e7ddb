# shellcheck shell=bash
# A fleet in network namespaces: etcd members and gateways on one management bridge, each
# gateway with its own `wardwall agent`. Sourced by tests/suites/80-fleet.sh, tests/fleet/demo.sh
# and tests/bench/fleet.sh; needs root, iproute2, etcd, python3.
#
#   fl_up                 the management namespace (a bridge, 10.231.0.1/24, loopback) and a
#                         temp directory; records everything for fl_down
#   fl_etcd_start N [M]   starts etcd member N of M (default 1 of 1) in its own namespace at
#                         10.231.0.(1+N), client port 2379 and peer port 2380 there (namespace
#                         addresses only: nothing listens in the root namespace); waits until it
#                         answers
#   fl_etcd_kill N        SIGKILL member N (its data directory stays, for fl_etcd_start again)
#   fl_endpoints          the client URLs of the members started, comma-separated
#   fl_gw_add NAME        a gateway namespace on the bridge at the next address
#   fl_agent_start NAME [ARGS]  starts `wardwall agent --name NAME` in the gateway's namespace
#                         (state and bpffs private to it); logs to $FL_DIR/agent-NAME.log
#   fl_agent_kill NAME [SIG]
#   fl_link NS up|down    cuts or heals a namespace's link to the bridge
#   fl_mgmt CMD...        runs CMD in the management namespace (publish, fleet status, etcdctl)
#   fl_gw NAME CMD...     runs CMD in a gateway's namespace
#   fl_down               kills every process started (by PID), deletes every namespace and the
#                         temp directory. Idempotent; call it from a trap on EXIT INT TERM.
set -u
FL_ID=
FL_DIR=
FL_NEXT=20
declare -gA FL_PIDS=() FL_ADDR=()
FL_MEMBERS=()
FL_NMEMBERS=1

fl_mgmt_ns() { echo "$FL_ID-mgmt"; }
fl_mgmt() { ip netns exec "$FL_ID-mgmt" "$@"; }
fl_gw() {
	local n=$1
	shift
	ip netns exec "$FL_ID-$n" env WARDWALL_STATE_DIR="$FL_DIR/state-$n" \
		WARDWALL_BPFFS="$FL_DIR/bpffs-$n" "$@"
}

fl__ns_add() {
	ip netns add "$1" || return 1
	echo "$1" >>"$FL_DIR/namespaces"
	ip -n "$1" link set lo up
}

fl_up() {
	FL_ID=fl$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
	FL_DIR=$(mktemp -d "/tmp/$FL_ID.XXXXXX") || return 1
	: >"$FL_DIR/namespaces"
	fl__ns_add "$FL_ID-mgmt" || return 1
	ip -n "$FL_ID-mgmt" link add br0 type bridge || return 1
	ip -n "$FL_ID-mgmt" addr add 10.231.0.1/24 dev br0
	ip -n "$FL_ID-mgmt" link set br0 up
}

# A namespace joined to the bridge at 10.231.0.ADDR through a veth named m-<short>.
fl__join() {
	local ns=$1 host=$2 port
	port=m$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')
	ip link add "$port" netns "$FL_ID-mgmt" type veth peer name mgmt0 netns "$ns" || return 1
	ip -n "$FL_ID-mgmt" link set "$port" master br0 up
	ip -n "$ns" addr add "10.231.0.$host/24" dev mgmt0
	ip -n "$ns" link set mgmt0 up
	echo "$ns $port" >>"$FL_DIR/ports"
}

fl_link() {
	local ns=$1 state=$2 port
	port=$(awk -v n="$ns" '$1 == n { print $2 }' "$FL_DIR/ports")
	ip -n "$FL_ID-mgmt" link set "$port" "$state"
}

fl__scheme() { [ -n "${FL_TLS:-}" ] && echo https || echo http; }
fl_endpoints() {
	local s="" m
	for m in "${FL_MEMBERS[@]}"; do s="$s${s:+,}$(fl__scheme)://10.231.0.$((1 + m)):2379"; done
	echo "$s"
}

# TLS (FL_TLS=1): a CA made here with openssl, a server certificate per etcd member (its address
# as SAN), and client certificates: root, publisher, and one per gateway (fl_cert NAME).
fl_ca() {
	local d=$FL_DIR/ca m
	mkdir -p "$d"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
		-subj "/CN=wardwall test CA $FL_ID" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null || return 1
	for m in 1 2 3; do
		fl__sign "etcd$m" "subjectAltName=IP:10.231.0.$((1 + m))" || return 1
	done
	fl_cert root && fl_cert publisher
}
# Client certificates carry no CN: etcd's JSON gateway refuses one that does when client-cert
# auth is on (it would not use it as the user), so the name goes in O and OU.
fl__sign() { # NAME EXT [SUBJECT]
	local d=$FL_DIR/ca
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "${3:-/CN=$1}" \
		-keyout "$d/$1.key" -out "$d/$1.csr" 2>/dev/null &&
		openssl x509 -req -in "$d/$1.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
			-days 2 -extfile <(echo "$2") -out "$d/$1.pem" 2>/dev/null
}
fl_cert() { fl__sign "$1" "extendedKeyUsage=clientAuth" "/O=wardwall/OU=$1"; }
# etcdctl as USER (root, publisher, agent-NAME) with its certificate and password.
fl_etcdctl() {
	local u=$1
	shift
	if [ -n "${FL_TLS:-}" ]; then
		fl_mgmt etcdctl --endpoints "$(fl_endpoints)" --cacert "$FL_DIR/ca/ca.pem" \
			--cert "$FL_DIR/ca/$u.pem" --key "$FL_DIR/ca/$u.key" \
			${FL_AUTH:+--user "$u:pw-$u"} --command-timeout=2s "$@"
	else
		fl_mgmt etcdctl --endpoints "$(fl_endpoints)" --command-timeout=2s "$@"
	fi
}
# The wardwall options that reach etcd as USER.
fl_conn() {
	local u=$1
	echo --etcd "$(fl_endpoints)" --key /wardwall/test
	if [ -n "${FL_TLS:-}" ]; then
		echo --etcd-cacert "$FL_DIR/ca/ca.pem" --etcd-cert "$FL_DIR/ca/$u.pem" --etcd-key "$FL_DIR/ca/$u.key"
	fi
	if [ -n "${FL_AUTH:-}" ]; then
		printf 'pw-%s\n' "$u" >"$FL_DIR/ca/$u.pw"
		echo --etcd-user "$u" --etcd-password-file "$FL_DIR/ca/$u.pw"
	fi
}

fl_etcd_start() {
	local n=$1 total=${2:-$FL_NMEMBERS} ns="$FL_ID-etcd$1" cluster="" i state=new
	FL_NMEMBERS=$total
	if ! grep -qx "$ns" "$FL_DIR/namespaces"; then
		fl__ns_add "$ns" || return 1
		fl__join "$ns" $((1 + n)) || return 1
		FL_MEMBERS+=("$n")
	fi
	for ((i = 1; i <= total; i++)); do
		cluster="$cluster${cluster:+,}m$i=http://10.231.0.$((1 + i)):2380"
	done
	[ -d "$FL_DIR/etcd$n" ] && state=existing
	local a="10.231.0.$((1 + n))" tls=()
	[ -n "${FL_TLS:-}" ] && tls=(--cert-file "$FL_DIR/ca/etcd$n.pem" --key-file "$FL_DIR/ca/etcd$n.key"
		--trusted-ca-file "$FL_DIR/ca/ca.pem" --client-cert-auth)
	ip netns exec "$ns" etcd --name "m$n" --data-dir "$FL_DIR/etcd$n" "${tls[@]}" \
		--listen-client-urls "$(fl__scheme)://$a:2379" --advertise-client-urls "$(fl__scheme)://$a:2379" \
		--listen-peer-urls "http://$a:2380" --initial-advertise-peer-urls "http://$a:2380" \
		--initial-cluster "$cluster" --initial-cluster-state "$state" \
		--initial-cluster-token "$FL_ID" ${FL_ETCD_ARGS:-} \
		>"$FL_DIR/etcd$n.log" 2>&1 &
	FL_PIDS[etcd$n]=$!
	echo "$!" >>"$FL_DIR/pids"
	[ "$total" -gt 1 ] && [ "$n" -lt "$total" ] && return 0
	fl_etcd_wait
}

# Waits (10 s at most) until the cluster has a leader and answers a read.
fl_etcd_wait() {
	local i
	for ((i = 0; i < 100; i++)); do
		fl_etcdctl root endpoint status >/dev/null 2>&1 &&
			fl_etcdctl root get /probe >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "fl_etcd_wait: etcd did not answer; its log:" >&2
	tail -5 "$FL_DIR"/etcd*.log >&2
	return 1
}

fl_etcd_kill() {
	local p=${FL_PIDS[etcd$1]:-}
	[ -n "$p" ] && kill -9 "$p" 2>/dev/null && wait "$p" 2>/dev/null
	FL_PIDS[etcd$1]=
	return 0
}

fl_gw_add() {
	local name=$1 ns="$FL_ID-$1"
	fl__ns_add "$ns" || return 1
	fl__join "$ns" "$FL_NEXT" || return 1
	FL_ADDR[$name]=10.231.0.$FL_NEXT
	FL_NEXT=$((FL_NEXT + 1))
	mkdir -p "$FL_DIR/state-$name" "$FL_DIR/bpffs-$name"
	ip netns exec "$ns" sysctl -qw net.ipv4.ip_forward=1
}

fl_agent_start() {
	local name=$1
	shift
	# ip netns exec and env exec the agent: $! is its PID (a function run with & would not be)
	ip netns exec "$FL_ID-$name" env WARDWALL_STATE_DIR="$FL_DIR/state-$name" \
		WARDWALL_BPFFS="$FL_DIR/bpffs-$name" "$WARDWALL" agent --name "$name" \
		$(fl_conn "${FL_AGENT_USER_PREFIX:-agent-}$name") \
		--publisher-key "$FL_DIR/pub/evidence.pub" --ttl 3 "$@" \
		>>"$FL_DIR/agent-$name.log" 2>&1 &
	FL_PIDS[agent-$name]=$!
	echo "$!" >>"$FL_DIR/pids"
}

fl_agent_kill() {
	local p=${FL_PIDS[agent-$1]:-}
	[ -n "$p" ] && kill -"${2:-TERM}" "$p" 2>/dev/null && wait "$p" 2>/dev/null
	FL_PIDS[agent-$1]=
	return 0
}

# The publisher's key pair in $FL_DIR/pub, and a second one (the forger's) in $FL_DIR/forger.
fl_keys() {
	"$WARDWALL" evidence keygen --key-dir "$FL_DIR/pub" >/dev/null &&
		"$WARDWALL" evidence keygen --key-dir "$FL_DIR/forger" >/dev/null
}

fl_publish() {
	# shellcheck disable=SC2046
	fl_mgmt "$WARDWALL" publish $(fl_conn publisher) --sign-key "$FL_DIR/pub/evidence.key" "$@"
}

fl_status_json() {
	# shellcheck disable=SC2046
	fl_mgmt "$WARDWALL" fleet status --json $(fl_conn publisher) \
		--publisher-key "$FL_DIR/pub/evidence.pub"
}

# Waits until every gateway reports generation GEN converged (TIMEOUT seconds, default 10).
fl_wait_converged() {
	local gen=$1 end=$((SECONDS + ${2:-10}))
	while [ "$SECONDS" -lt "$end" ]; do
		fl_status_json 2>/dev/null | python3 -c '
import json, sys
v = json.load(sys.stdin)
sys.exit(0 if v["generation"] == int(sys.argv[1]) and v["converged"] else 1)' "$gen" && return 0
		sleep 0.1
	done
	return 1
}

fl_down() {
	local p ns
	[ -n "$FL_DIR" ] || return 0
	if [ -f "$FL_DIR/pids" ]; then
		while read -r p; do kill -9 "$p" 2>/dev/null; done <"$FL_DIR/pids"
		while read -r p; do wait "$p" 2>/dev/null; done <"$FL_DIR/pids"
	fi
	if [ -f "$FL_DIR/namespaces" ]; then
		# anything still running inside our namespaces was started by us: by PID too
		while read -r ns; do
			for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
		done <"$FL_DIR/namespaces"
		while read -r ns; do ip netns del "$ns" 2>/dev/null; done <"$FL_DIR/namespaces"
	fi
	rm -rf "$FL_DIR"
	FL_DIR=
}
