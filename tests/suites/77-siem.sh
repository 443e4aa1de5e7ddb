#!/bin/bash
# Events and alerts to a SIEM, checked against a real receiver: rsyslog, started by this script
# with its own configuration, pid file and work directory, listening only on the loopback of a
# namespace this script creates and on a unix socket in a temporary directory. rsyslog parses
# what it receives (RFC 5424 header, mmpstrucdata for the structured data) and writes every
# field out as JSON; the checks compare them, field by field, with what wardwall recorded.
#
#   1. `wardwall alerts --siem` (replayed alerts) over the unix socket, UDP, TCP and TLS as
#      RFC 5424; CEF over TLS (header and extension escaping, parsed here); JSON lines over TCP;
#      a receiver whose certificate the CA does not vouch for gets nothing.
#   2. `wardwall serve` on the simulated hospital (nftables tier) with the policy's "siem"
#      section (TLS syslog with events and alerts, queue 5; unix CEF with alerts only): the
#      attack traffic of 73-detect arrives as events and as exactly three alerts.
#   3. The receiver goes down: serve queues (5), drops what is beyond and counts it, says so in
#      /metrics; the receiver comes back: what was queued is delivered, and
#      recorded = sent + dropped, received = sent.
#
# Needs root (namespaces). Everything is removed on exit; only the PIDs started here are killed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft curl openssl rsyslogd
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || [ -e /usr/lib/rsyslog/lmnsd_gtls.so ] ||
	{ echo "ok 1 # SKIP rsyslog-gnutls is not installed (make deps)"; exit 0; }

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
NS=ww$RANDOM$RANDOM-siem
RSPID=''
siem_cleanup() {
	ww_stop "$RSPID"
	ip netns del "$NS" 2>/dev/null
}
ww_suite_tmp siem_cleanup
chmod 755 "$tmp"

# ---- certificates: a CA, the receiver's certificate for 127.0.0.1, and a CA that did not sign it
(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=ww-test-ca &&
		openssl req -newkey rsa:2048 -nodes -keyout srv.key -out srv.csr -subj /CN=127.0.0.1 &&
		printf 'subjectAltName=IP:127.0.0.1\n' >ext &&
		openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out srv.pem \
			-days 2 -extfile ext &&
		openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.pem -days 2 \
			-subj /CN=ww-other-ca
) >"$tmp/openssl.log" 2>&1 || { fail "certificates" "$(cat "$tmp/openssl.log")"; finish; }

UDP=$((20000 + RANDOM % 10000)) TCP=$((30000 + RANDOM % 10000)) TLS=$((40000 + RANDOM % 10000))

# rsyslog_conf DIR: every input to its own file, DIR/<input>.jsonl.
rsyslog_conf() {
	local d=$1
	cat <<EOF
global(workDirectory="$d/work" maxMessageSize="64k")
module(load="imuxsock" SysSock.Use="off")
module(load="imudp")
module(load="imtcp" maxSessions="20")
module(load="mmpstrucdata")
template(name="fields" type="list" option.jsonf="on") {
 property(outname="pri" name="pri" format="jsonf")
 property(outname="time" name="timereported" dateFormat="rfc3339" format="jsonf")
 property(outname="host" name="hostname" format="jsonf")
 property(outname="app" name="app-name" format="jsonf")
 property(outname="procid" name="procid" format="jsonf")
 property(outname="msgid" name="msgid" format="jsonf")
 property(outname="sd" name="\$!rfc5424-sd" format="jsonf")
 property(outname="msg" name="msg" format="jsonf")
 property(outname="raw" name="rawmsg" format="jsonf")
}
EOF
	for r in unix udp tcp tls; do
		printf 'ruleset(name="%s") {\n action(type="mmpstrucdata" sd_name.lowercase="off")\n action(type="omfile" file="%s/%s.jsonl" template="fields")\n}\n' "$r" "$d" "$r"
	done
	cat <<EOF
input(type="imuxsock" Socket="$d/log.sock" useSpecialParser="off" parseHostname="on" ignoreTimestamp="off" ratelimit.interval="0" ruleset="unix")
input(type="imudp" address="127.0.0.1" port="$UDP" ruleset="udp")
input(type="imtcp" address="127.0.0.1" port="$TCP" ruleset="tcp")
input(type="imtcp" address="127.0.0.1" port="$TLS" ruleset="tls" streamDriver.name="gtls" streamDriver.mode="1" streamDriver.authMode="anon" streamDriver.CAFile="$tmp/ca.pem" streamDriver.CertFile="$tmp/srv.pem" streamDriver.KeyFile="$tmp/srv.key")
EOF
}

# rsyslog_start NETNS DIR: rsyslogd in the foreground (-n) of that namespace, its PID in RSPID.
rsyslog_start() {
	local ns=$1 d=$2 i
	mkdir -p "$d/work"
	rsyslog_conf "$d" >"$d/rsyslog.conf"
	ip netns exec "$ns" rsyslogd -n -f "$d/rsyslog.conf" -i "$d/rsyslog.pid" 2>>"$d/rsyslog.err" &
	RSPID=$!
	for ((i = 0; i < 100; i++)); do
		[ -S "$d/log.sock" ] && ip netns exec "$ns" ss -ltn | grep -q ":$TLS " && return 0
		sleep 0.05
	done
	return 1
}
rsyslog_stop() {
	ww_stop "$RSPID"
	RSPID=''
}

# ---- the field-by-field checks (Python: the reference is wardwall's own JSON line) ----
cat >"$tmp/check.py" <<'PY'
import json, re, sys
from datetime import datetime, timezone

def ms(t):
    return str(int(datetime.strptime(t, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000 + 0.5))

def sd_value(v):
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, list): return ",".join(str(x) for x in v)
    if isinstance(v, dict): return ",".join("%s:%s" % (k, x) for k, x in v.items())
    return str(v)

SEV = {("event", "deny"): 4, ("event", "monitor"): 5, ("event", "allow"): 6, ("dropped", None): 4,
       ("alert", "lateral"): 2, ("alert", "scan"): 3, ("alert", "flood"): 3, ("alert", "new_talker"): 5}
CEFSEV = {("event", "deny"): 5, ("event", "monitor"): 3, ("event", "allow"): 1, ("dropped", None): 5,
          ("alert", "lateral"): 9, ("alert", "scan"): 7, ("alert", "flood"): 7, ("alert", "new_talker"): 4}

def sev_key(rec):
    t = rec["type"]
    return (t, rec.get("verdict") if t == "event" else rec.get("detector") if t == "alert" else None)

def stamp(rec):
    return rec["last_seen"] if rec["type"] == "alert" else rec["time"]

def check_header(got, rec, host, facility, sev):
    assert got["pri"] == str(facility * 8 + sev), (got["pri"], facility, sev)
    assert got["time"] == stamp(rec), (got["time"], stamp(rec))
    assert got["host"] == host, (got["host"], host)
    assert got["app"] == "wardwall" and got["procid"].isdigit(), got
    assert got["msgid"] == rec["type"], (got["msgid"], rec["type"])

def check_syslog(got, rec, text, host, facility=16, sdid="wardwall@32473"):
    check_header(got, rec, host, facility, SEV[sev_key(rec)])
    sd = json.loads(got["sd"])
    assert list(sd) == [sdid], sd
    want = {k: sd_value(v) for k, v in rec.items() if k != "type" and v is not None}
    assert sd[sdid] == want, (sd[sdid], want)
    assert got["msg"] == text.rstrip("\n"), (got["msg"], text)
    assert got["raw"].startswith("<%s>1 " % got["pri"]), got["raw"]

def cef_split(s):
    """CEF:0|vendor|product|version|class|name|severity|extension, '\\|' and '\\\\' escaped."""
    fields, cur, i = [], "", 0
    while len(fields) < 7:
        c = s[i]
        if c == "\\":
            cur += s[i + 1]; i += 2; continue
        if c == "|":
            fields.append(cur); cur = ""; i += 1; continue
        cur += c; i += 1
    ext, out = s[i:], {}
    # A key starts at the beginning or after a space; '=' inside a value is escaped.
    keys = [m for m in re.finditer(r"(?:^| )([A-Za-z0-9]+)=", ext)
            if not (m.start(1) > 1 and ext[m.start(1) - 1] == "\\")]
    for n, m in enumerate(keys):
        end = keys[n + 1].start() if n + 1 < len(keys) else len(ext)
        raw = ext[m.end():end]
        v, j = "", 0
        while j < len(raw):
            if raw[j] == "\\":
                v += {"n": "\n", "r": "\r"}.get(raw[j + 1], raw[j + 1]); j += 2
            else:
                v += raw[j]; j += 1
        out[m.group(1)] = v
    return fields, out

def check_cef(got, rec, text, host, facility=16):
    check_header(got, rec, host, facility, SEV[sev_key(rec)])
    assert got["sd"] in ("", "-", "{ }", "{}") or json.loads(got["sd"]) == {}, got["sd"]
    h, ext = cef_split(got["msg"])
    assert h[:3] == ["CEF:0", "wardwall", "wardwall"], h
    assert h[4] == "%s:%s" % sev_key(rec), h
    assert h[6] == str(CEFSEV[sev_key(rec)]), h
    if rec["type"] == "alert":
        assert h[5] == "%s from %s" % (rec["detector"], rec["src_zone"]), h
        want = {"rt": ms(rec["last_seen"]), "start": ms(rec["first_seen"]), "end": ms(rec["last_seen"]),
                "src": rec["src"], "dst": rec["dst"], "cnt": str(rec["count"]),
                "cs1Label": "flows", "cs1": ",".join(rec["flows"]), "cs2Label": "srcZone",
                "cs2": rec["src_zone"], "cs3Label": "dstZones", "cs3": ",".join(rec["dst_zones"]),
                "cs4Label": "services", "cs4": ",".join(rec["services"]),
                "cs5Label": "suggestedAction", "cs5": rec["action"],
                "cn1Label": "targets", "cn1": str(rec["targets"]), "msg": text.rstrip("\n")}
        if rec.get("src_host"):
            want.update(cs6Label="srcHostGroup", cs6=rec["src_host"])
    else:
        want = {"rt": ms(rec["time"]), "act": rec["verdict"], "proto": rec["proto"], "src": rec["src"],
                "dst": rec["dst"], "cs1Label": "flow", "cs1": rec["flow"], "cs6Label": "tier",
                "cs6": rec["tier"], "msg": text.rstrip("\n")}
    assert ext == {**ext, **want} and set(want) <= set(ext), ({k: ext.get(k) for k in want}, want)

mode, got_path, ref_path, text_path, host = sys.argv[1:6]
got = [json.loads(l) for l in open(got_path)]
ref = [json.loads(l) for l in open(ref_path)]
texts = open(text_path).read().splitlines()
extra = dict(a.split("=", 1) for a in sys.argv[6:])
assert len(got) == len(ref), "received %d, want %d" % (len(got), len(ref))
if mode == "json":
    assert sorted(g["raw"] for g in got) == sorted(json.dumps(r, separators=(", ", ": ")) for r in ref), \
        [g["raw"] for g in got]
    print("%d line%s, byte for byte" % (len(got), "" if len(got) == 1 else "s"))
    sys.exit(0)
# Pair what arrived with the reference by (time, type): the order of delivery is not checked.
by = {(stamp(r), r["type"]): (r, t) for r, t in zip(ref, texts)}
assert len(by) == len(ref), "reference records share a time"
for g in got:
    r, t = by.pop((g["time"], g["msgid"]))
    if mode == "syslog":
        check_syslog(g, r, t, host, int(extra.get("facility", 16)), extra.get("sdid", "wardwall@32473"))
    elif mode == "cef":
        check_cef(g, r, t, host, int(extra.get("facility", 16)))
print("%d message%s, every field as recorded" % (len(got), "" if len(got) == 1 else "s"))
PY

# =============================== 1. alerts --siem, every transport ===============================
ip netns add "$NS" && ip netns exec "$NS" ip link set lo up ||
	{ fail "namespace $NS"; finish; }
R1=$tmp/r1
mkdir -p "$R1"
if rsyslog_start "$NS" "$R1"; then
	ok "rsyslog listening in $NS: unix socket, udp/$UDP, tcp/$TCP, tls/$TLS (gtls)"
else
	fail "rsyslog started" "$(cat "$R1/rsyslog.err")"
	finish
fi
HOST=$(ip netns exec "$NS" hostname)

# Recorded events: a scan from a zone whose name carries what every format must escape.
ST=$tmp/state-a
mkdir -p "$ST/events"
"$WW_PYTHON" - "$ST/events/events.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(25):
        f.write(json.dumps({"type": "event", "time": "2026-12-07T10:00:00.%03dZ" % (i * 7),
            "tier": "nftables", "verdict": "deny", "flow": "fl=ow|x\\y",
            "src_zone": 'ws"]\\=|z', "dst_zone": "ehr", "src_host": None, "dst_host": "ehr/his-app",
            "proto": "tcp", "src": "10.20.100.10", "dst": "10.20.10.5", "sport": 40000 + i,
            "dport": 20 + i, "in": "v-ws", "out": "v-ehr"}, separators=(", ", ": ")) + "\n")
PY
"$WARDWALL" alerts --json --state-dir "$ST" >"$tmp/ref.jsonl" 2>/dev/null
"$WARDWALL" alerts --state-dir "$ST" >"$tmp/ref.txt" 2>/dev/null
if [ "$(wc -l <"$tmp/ref.jsonl")" = 1 ] && grep -q '"detector": "scan"' "$tmp/ref.jsonl"; then
	ok "the recorded events replay into one scan alert"
else
	fail "one scan alert" "$(cat "$tmp/ref.jsonl")"
fi

send() { # TARGET OPTIONS...: alerts --siem from inside the namespace
	ip netns exec "$NS" "$WARDWALL" alerts --state-dir "$ST" --siem "$@" >/dev/null 2>"$tmp/send.err"
}
# sent_to NAME MODE TARGET [--siem-* ...] [-- CHECK_ARGS...]: sends the alert, waits for rsyslog's
# new line in NAME.jsonl and checks it field by field.
sent_to() {
	local name=$1 mode=$2 target=$3 before
	shift 3
	local -a opts=() cargs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	[ $# -gt 0 ] && shift && cargs=("$@")
	before=$(ww_lines "$R1/$name.jsonl")
	: >"$tmp/check"
	send "$target" "${opts[@]}" || return 1
	ww_wait_lines "$R1/$name.jsonl" $((before + 1)) || { echo "nothing arrived" >"$tmp/check"; return 1; }
	tail -n +$((before + 1)) "$R1/$name.jsonl" >"$tmp/new.jsonl"
	"$WW_PYTHON" "$tmp/check.py" "$mode" "$tmp/new.jsonl" "$tmp/ref.jsonl" "$tmp/ref.txt" "$HOST" \
		"${cargs[@]}" >"$tmp/check" 2>&1
}
for t in "unix:unix:$R1/log.sock" "udp:udp://127.0.0.1:$UDP" "tcp:tcp://127.0.0.1:$TCP" \
	"tls:tls://127.0.0.1:$TLS"; do
	name=${t%%:*} target=${t#*:}
	extra=()
	[ "$name" = tls ] && extra=(--siem-ca "$tmp/ca.pem")
	if sent_to "$name" syslog "$target" "${extra[@]}"; then
		ok "RFC 5424 over $name ($target): PRI, timestamp, hostname, app-name, procid, msgid, structured data (escaped), msg: $(cat "$tmp/check")"
	else
		fail "RFC 5424 over $name" "$(cat "$tmp/send.err" "$tmp/check" 2>/dev/null)" "$(cat "$R1/$name.jsonl" 2>/dev/null)"
	fi
done
# The other facility, from the command line.
if sent_to tcp syslog "tcp://127.0.0.1:$TCP" --siem-facility authpriv -- facility=10; then
	ok "--siem-facility authpriv: $(grep -o '"pri":"[0-9]*"' "$tmp/new.jsonl")"
else
	fail "--siem-facility authpriv" "$(cat "$tmp/send.err" "$tmp/check")"
fi
if sent_to tls cef "tls://127.0.0.1:$TLS" --siem-ca "$tmp/ca.pem" --siem-format cef; then
	ok "CEF over TLS: header and extension escaping ('|', '\\', '='), rt/start/end in ms, cs1-cs5, cn1, msg: $(cat "$tmp/check")"
else
	fail "CEF over TLS" "$(cat "$tmp/send.err" "$tmp/check")" "$(cat "$tmp/new.jsonl" 2>/dev/null)"
fi
if sent_to tcp json "tcp://127.0.0.1:$TCP" --siem-format json; then
	ok "JSON lines over TCP: the recorded line, byte for byte"
else
	fail "JSON lines over TCP" "$(cat "$tmp/send.err" "$tmp/check")" "$(cat "$tmp/new.jsonl" 2>/dev/null)"
fi
# A receiver the CA does not vouch for gets nothing, and the command says why and fails.
before=$(ww_lines "$R1/tls.jsonl")
if ! timeout 60 ip netns exec "$NS" "$WARDWALL" alerts --state-dir "$ST" --siem "tls://127.0.0.1:$TLS" \
	--siem-ca "$tmp/other.pem" >/dev/null 2>"$tmp/err" &&
	grep -q "certificate" "$tmp/err" && grep -q "1 of 1 alerts not delivered" "$tmp/err" &&
	[ "$(ww_lines "$R1/tls.jsonl")" = "$before" ]; then
	ok "TLS with a CA that did not sign the receiver's certificate: nothing sent ($(grep -o 'the server.s certificate: [^;]*' "$tmp/err" | head -1))"
else
	fail "TLS with the wrong CA is refused" "$(cat "$tmp/err")"
fi
if ! "$WARDWALL" alerts --state-dir "$ST" --siem "tcp://127.0.0.1:$TCP" --siem-ca "$tmp/ca.pem" 2>"$tmp/err" &&
	grep -q 'for a tls:// target' "$tmp/err" &&
	! "$WARDWALL" alerts --state-dir "$ST" --siem "smtp://x" 2>"$tmp/err2" && grep -q 'not a target' "$tmp/err2"; then
	ok "bad --siem options are refused: $(cat "$tmp/err2")"
else
	fail "bad --siem options are refused" "$(cat "$tmp/err" "$tmp/err2")"
fi
rsyslog_stop

# =========================== 2. serve, the simulated hospital, the policy's outputs ===========================
export WARDWALL_STATE_DIR=$tmp/state
POLICY=$tmp/policy.json
R2=$tmp/r2
mkdir -p "$R2"
ww_policy_nft_only "$EXAMPLE" "$tmp/nft-only.json" || exit 2
"$WW_PYTHON" - "$tmp/nft-only.json" "$POLICY" "$TLS" "$tmp/ca.pem" "$R2/log.sock" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["siem"] = [{"to": "tls://127.0.0.1:%s" % sys.argv[3], "ca": sys.argv[4], "queue": 40},
             {"to": "unix:%s" % sys.argv[5], "format": "cef", "send": ["alerts"]}]
json.dump(p, open(sys.argv[2], "w"), indent=1)
PY
if "$WARDWALL" check "$POLICY" >"$tmp/out" 2>&1; then
	ok "a policy with a \"siem\" section (TLS syslog, queue 40; unix CEF, alerts only) passes check"
else
	fail "policy with siem passes check" "$(cat "$tmp/out")"
fi
ww_sim_up_tap "$POLICY"
need apply ww_gwx "$WARDWALL" apply "$POLICY"
rsyslog_start "$GW" "$R2" || { fail "rsyslog in $GW" "$(cat "$R2/rsyslog.err")"; finish; }
PORT=$((10000 + RANDOM % 10000))
ww_wardwall_serve "$PORT"
if grep -q "sending alerts and events to tls://127.0.0.1:$TLS as syslog (queue 40)" "$tmp/serve.err" &&
	grep -q "sending alerts to unix:$R2/log.sock as cef" "$tmp/serve.err"; then
	ok "serve takes the outputs from the applied policy: $(grep -c 'sending' "$tmp/serve.err") outputs"
else
	fail "serve takes the policy's outputs" "$(cat "$tmp/serve.err")"
	finish
fi
HOST=$(ip netns exec "$GW" hostname)
metric() { # NAME{LABELS...} prefix: its value
	ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics" | grep -F "$1" | awk '{print $2}' | head -1
}

ww_attack # the attack traffic of 73-detect
ALERTS=$tmp/state/events/alerts.jsonl EVENTS=$tmp/state/events/events.jsonl
ww_wait_lines "$ALERTS" 3 150
sleep 2.5
# The reference: what serve recorded (events) and the alerts `wardwall alerts` replays from it
# (the same as serve's, 73-detect), with their text lines.
"$WARDWALL" alerts --json >"$tmp/alerts.jsonl" 2>/dev/null
"$WARDWALL" alerts >"$tmp/alerts.txt" 2>/dev/null
n_alerts=$(ww_lines "$tmp/alerts.jsonl") n_events=$(grep -c '"type": "event"' "$EVENTS")
ww_wait_lines "$R2/tls.jsonl" $((n_alerts + n_events)) 100
if "$WW_PYTHON" - "$R2/tls.jsonl" "$EVENTS" "$tmp/alerts.jsonl" "$tmp/alerts.txt" "$HOST" "$tmp/check.py" \
	>"$tmp/check" 2>&1 <<'PY'; then
import json, sys
got_path, ev_path, al_path, al_txt, host, lib = sys.argv[1:]
sys.argv = ["check", "none", "/dev/null", "/dev/null", "/dev/null", host]
src = open(lib).read().split("mode, got_path")[0]
exec(src)
got = [json.loads(l) for l in open(got_path)]
recs = [json.loads(l) for l in open(ev_path)] + [json.loads(l) for l in open(al_path)]
texts = dict(zip([l for l in open(al_path)], open(al_txt).read().splitlines()))
by_raw = {}
for g in got:
    sd = json.loads(g["sd"])["wardwall@32473"]
    by_raw.setdefault((g["msgid"], sd.get("time") or sd.get("last_seen"), sd.get("src"), sd.get("dport") or sd.get("detector")), []).append(g)
n = {"event": 0, "alert": 0, "dropped": 0}
for line, r in zip([l for l in open(ev_path)] + [l for l in open(al_path)], recs):
    key = (r["type"], r.get("time") or r.get("last_seen"), r.get("src"), str(r["dport"]) if "dport" in r else r.get("detector"))
    g = by_raw[key].pop(0)
    text = texts.get(line) if r["type"] == "alert" else g["msg"]
    if r["type"] == "event":
        assert r["src"] in g["msg"] and r["dst"] in g["msg"], g["msg"]
    check_syslog(g, r, text, host)
    n[r["type"]] += 1
assert n["alert"] == 3, n
assert len(got) == sum(n.values()), (len(got), n)
print("%d events, %d alerts, %d not-logged counts" % (n["event"], n["alert"], n["dropped"]))
PY
	ok "TLS syslog from serve: every recorded event and alert arrived, every field as recorded: $(cat "$tmp/check")"
else
	fail "TLS syslog from serve" "$(tail -5 "$tmp/check")" "$(head -c 2000 "$R2/tls.jsonl")"
fi
if ww_wait_lines "$R2/unix.jsonl" 3 &&
	"$WW_PYTHON" "$tmp/check.py" cef "$R2/unix.jsonl" "$tmp/alerts.jsonl" "$tmp/alerts.txt" "$HOST" >"$tmp/check" 2>&1 &&
	[ "$(cut -c1-200 "$R2/unix.jsonl" | grep -c 'alert')" = 3 ]; then
	ok "CEF over the unix socket from serve: the three alerts (scan, lateral, new_talker), no events: $(cat "$tmp/check")"
else
	fail "CEF over the unix socket from serve" "$(cat "$tmp/check")" "$(head -c 2000 "$R2/unix.jsonl" 2>/dev/null)"
fi
sent0=$(metric 'wardwall_siem_sent_total{output="0",transport="tls",format="syslog",kind="event"}')
if [ "$sent0" = "$n_events" ] && [ "$(metric 'wardwall_siem_sent_total{output="1",transport="unix",format="cef",kind="alert"}')" = 3 ] &&
	[ "$(metric 'wardwall_siem_connected{output="0"')" = 1 ]; then
	ok "/metrics: wardwall_siem_sent_total by output and kind ($sent0 events, 3 alerts), connected"
else
	fail "/metrics siem series" "$(ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics" | grep siem)"
fi

# ================================= 3. the receiver down, then up =================================
rsyslog_stop
got_before=$(ww_lines "$R2/tls.jsonl")
rec_before=$(grep -c '' "$EVENTS")
# 60 denied connection attempts from the guest zone towards the EHR at once: more events than
# the queue holds, while nobody listens (and a scan alert, which pushes out queued events).
GUEST=$(ww_addr guest 4)
ww_scan guest "$GUEST" "$EHR" 5001 5060
sleep 8 # the scan alert's hold (5 s) and a reader tick
M=$(ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics")
q=$(grep -F 'wardwall_siem_queued{output="0"' <<<"$M" | awk '{print $2}')
dropped=$(grep -F 'wardwall_siem_dropped_total{output="0",transport="tls",format="syslog",kind="event"}' <<<"$M" | awk '{print $2}')
failures=$(grep -F 'wardwall_siem_failures_total{output="0"' <<<"$M" | awk '{print $2}')
conn=$(grep -F 'wardwall_siem_connected{output="0"' <<<"$M" | awk '{print $2}')
rec_down=$(($(grep -c '' "$EVENTS") - rec_before))
if [ "$q" = 40 ] && [ "$dropped" -ge 1 ] && [ "$failures" -ge 1 ] && [ "$conn" = 0 ] && [ "$rec_down" -gt 40 ]; then
	ok "receiver down: $rec_down events recorded, 40 queued (the bound), $dropped dropped and counted, $failures failed attempts, connected 0"
else
	fail "receiver down: queue, drops, failures" "queued=$q dropped=$dropped failures=$failures connected=$conn recorded=$rec_down" "$(grep siem "$tmp/serve.err")"
fi
if grep -q "siem tls://127.0.0.1:$TLS: .*retrying" "$tmp/serve.err"; then
	ok "serve says the output fails: $(grep -m1 "siem tls://127.0.0.1:$TLS: .*retrying" "$tmp/serve.err" | cut -c1-160)"
else
	fail "serve says the output fails" "$(cat "$tmp/serve.err")"
fi
rsyslog_start "$GW" "$R2" || { fail "rsyslog restarted" "$(cat "$R2/rsyslog.err")"; finish; }
for ((i = 0; i < 400; i++)); do
	[ "$(metric 'wardwall_siem_queued{output="0"')" = 0 ] && break
	sleep 0.1
done
sleep 0.5
M=$(ip netns exec "$GW" curl -s "http://127.0.0.1:$PORT/metrics")
sent=$(grep -F 'wardwall_siem_sent_total{output="0",transport="tls",format="syslog",kind="event"}' <<<"$M" | awk '{print $2}')
sent_a=$(grep -F 'wardwall_siem_sent_total{output="0",transport="tls",format="syslog",kind="alert"}' <<<"$M" | awk '{print $2}')
dropped=$(grep -F 'wardwall_siem_dropped_total{output="0",transport="tls",format="syslog",kind="event"}' <<<"$M" | awk '{print $2}')
q=$(grep -F 'wardwall_siem_queued{output="0"' <<<"$M" | awk '{print $2}')
recorded=$(grep -c '' "$EVENTS")
got=$(ww_lines "$R2/tls.jsonl")
if [ "$q" = 0 ] && [ $((sent + dropped)) = "$recorded" ] && [ "$got" = $((sent + sent_a)) ] &&
	[ $((got - got_before)) -ge 40 ]; then
	ok "receiver up: the queue delivered ($((got - got_before)) messages after the restart); recorded $recorded = sent $sent + dropped $dropped; received $got = sent $((sent + sent_a))"
else
	fail "receiver up: delivered and accounted" "queued=$q sent=$sent+$sent_a dropped=$dropped recorded=$recorded received=$got before=$got_before"
fi
if grep -q "siem tls://127.0.0.1:$TLS: delivering again" "$tmp/serve.err"; then
	ok "serve says the output recovered"
else
	fail "serve says the output recovered" "$(grep siem "$tmp/serve.err")"
fi
if ! grep -E '^wardwall_siem' <<<"$M" | grep -qE "$WS|$BIO|$BMS|$EHR"; then
	ok "/metrics siem series name no device address: $(grep -cE '^wardwall_siem' <<<"$M") series"
else
	fail "/metrics siem series name no address"
fi
finish
