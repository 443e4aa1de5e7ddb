#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `wardwall serve` against hostile and unlucky clients (docs/cli.md, serve): runs inside
# tests/xdp/sandbox.sh (private network and mount namespaces, private bpffs), serve listening on
# this namespace's 127.0.0.1 only, with short bounds (--request-timeout 3 --send-timeout 3
# --max-connections 24). Clients are tests/e2e/httpload.py:
#   - 32 slowloris sockets (a byte every 2 s, reopened when closed) for 10 s, then 8 for 8 s:
#     every scrape meanwhile answered within 3 s; serve closed slow ones by the cap, then by the
#     request timeout;
#   - 16 clients that never read a 90 KB answer (1 KiB receive buffers, 4 KiB socket buffers in
#     this namespace) for 6 s: every scrape answered; each of them cut short (send timeout);
#     then 24 (the cap) for 2 s: every scrape answered all the same;
#   - scrapes from 4 threads during 30 applies that alternate two policies (both tiers, XDP on a
#     veth pair): every one 200, wardwall_drift 0, and exactly the flows of the generation it names.
# Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
PY=${WW_PYTHON:-python3}
tmp=$(mktemp -d)
SPID='' APID=''
cleanup() {
	[ -n "$APID" ] && kill "$APID" 2>/dev/null && wait "$APID" 2>/dev/null
	[ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WARDWALL_STATE_DIR=$tmp/state
unset WARDWALL_STOP_AT

ip link add wws0 type veth peer name wws1 || exit 2
ip link set wws0 up && ip link set wws1 up || exit 2

# Two policies of 16 zones: A with a flow between every ordered pair of the first 14 (182 flows,
# a 90 KB exposition: the defaults are O(zones) series, so the flows make its size), B with one
# flow more.
"$PY" - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
zones = {"z%d" % i: {"networks": ["10.40.%d.0/24" % i]} for i in range(16)}
flows = [{"id": "z%d-to-z%d" % (i, j), "from": "z%d" % i, "to": "z%d" % j,
          "services": ["https"], "action": "allow"}
         for i in range(14) for j in range(14) if i != j]
for name, extra in (("A", []), ("B", [{"id": "z14-to-z15", "from": "z14", "to": "z15",
                                       "services": ["dicom"], "action": "allow"}])):
    p = {"wardwall": 1, "name": "serve-" + name,
         "defaults": {"between_zones": "deny", "within_zone": "allow", "log": "none"},
         "zones": zones, "flows": flows + extra,
         "enforcement": {"mode": "gateway", "interfaces": ["wws0"], "xdp": "native"}}
    json.dump(p, open("%s/%s.json" % (d, name), "w"))
    open("%s/ids-%s" % (d, name), "w").write("\n".join(f["id"] for f in flows + extra) + "\n")
PY
if "$WARDWALL" apply "$tmp/A.json" >"$tmp/out" 2>&1; then
	ok "apply A (182 flows, both tiers)"
else
	fail "apply A" "$(cat "$tmp/out")"
	finish
fi

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$WARDWALL" serve --listen "127.0.0.1:$PORT" --detect off --request-timeout 3 --send-timeout 3 \
	--max-connections 24 2>"$tmp/serve.err" &
SPID=$!
for ((i = 0; i < 100; i++)); do
	curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/metrics" && break
	sleep 0.05
done
closed() { # closed REASON: serve's count of connections it closed for REASON
	curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" |
		awk -v r="wardwall_serve_closed_total{reason=\"$1\"}" '$1 == r { print $2 }'
}

# Every answer closes its connection: a waiting connection is one whose request has not come.
if curl -s -D - -o /dev/null --max-time 5 "http://127.0.0.1:$PORT/metrics" | grep -qi '^Connection: close'; then
	ok "an answer closes its connection (Connection: close)"
else
	fail "an answer closes its connection (Connection: close)"
fi

# ---- slowloris: 32 sockets, more than the cap; then 8, fewer ----
report "$PY" tests/e2e/httpload.py slowloris 127.0.0.1 "$PORT" 32 2 10
cap=$(closed cap)
[ "${cap:-0}" -gt 0 ] && ok "serve closed $cap slow connections for the cap of 24" ||
	fail "serve closed slow connections for the cap of 24" "cap: $cap"
report "$PY" tests/e2e/httpload.py slowloris 127.0.0.1 "$PORT" 8 2 8
rto=$(closed request_timeout)
[ "${rto:-0}" -ge 8 ] && ok "serve closed $rto slow connections for the request timeout" ||
	fail "serve closed the 8 slow connections for the request timeout" "request_timeout: $rto"

# ---- clients that never read ----
sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096" net.ipv4.tcp_rmem="4096 4096 4096" || exit 2
size=$(curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" | wc -c)
[ "$size" -gt 60000 ] && ok "the exposition is $size bytes (more than the socket buffers hold)" ||
	fail "the exposition is larger than the socket buffers" "$size bytes"
sto0=$(closed send_timeout)
report "$PY" tests/e2e/httpload.py noread 127.0.0.1 "$PORT" 16 6
sto=$(closed send_timeout)
[ $((${sto:-0} - ${sto0:-0})) -ge 16 ] && ok "serve closed $((sto - sto0)) connections for the send timeout" ||
	fail "serve closed the 16 non-readers for the send timeout" "send_timeout: $sto0 -> $sto"
# As many non-readers as the cap: a scrape closes the one that has had its answer longest.
report "$PY" tests/e2e/httpload.py noread 127.0.0.1 "$PORT" 24 2 nocheck
sysctl -qw net.ipv4.tcp_wmem="4096 16384 4194304" net.ipv4.tcp_rmem="4096 131072 6291456"

# ---- scrapes during applies ----
# Generation g is A when g is odd, B when even (A was generation 1); flows-<g> says its flows.
for ((g = 1; g <= 31; g++)); do
	cp "$tmp/ids-$([ $((g % 2)) = 1 ] && echo A || echo B)" "$tmp/flows-$g"
done
(
	for ((i = 0; i < 30; i++)); do
		p=$([ $((i % 2)) = 0 ] && echo B || echo A)
		"$WARDWALL" apply "$tmp/$p.json" >>"$tmp/applies" 2>&1 || echo "apply $i failed" >>"$tmp/applies.err"
	done
	touch "$tmp/stop"
) &
APID=$!
report "$PY" tests/e2e/httpload.py scrape 127.0.0.1 "$PORT" 120 "$tmp/stop"
wait "$APID"
APID=''
[ ! -s "$tmp/applies.err" ] && ok "the 30 applies all succeeded" ||
	fail "the 30 applies all succeeded" "$(cat "$tmp/applies.err")" "$(tail -5 "$tmp/applies")"

if kill -0 "$SPID" 2>/dev/null && [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$PORT/metrics")" = 200 ]; then
	ok "serve still answers"
else
	fail "serve still answers" "$(cat "$tmp/serve.err")"
fi
"$WARDWALL" remove >/dev/null 2>&1
finish
