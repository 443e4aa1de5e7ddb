#!/bin/bash
# `wardwall evidence`, end to end: the example hospital on a simulated network (tests/e2e/lib.sh),
# enforced by the nftables tier alone (a copy with enforcement.xdp "off": every new connection is
# counted by exactly one counter, the flow's or the default's, with one packet).
#
#   - known traffic, then an export: evidence.json counts per flow and per default zone pair what
#     was sent, the denial rankings name the zones, the kernel is in sync;
#   - more traffic, a second export: its window starts at the first, and counts only the new
#     traffic (the first export's values are the baseline); it links to the first;
#   - an out-of-band `nft` change, a third export: the drift is in it;
#   - evidence.json validates against policies/evidence.schema.json and oscal.json against the
#     official OSCAL 1.1.3 assessment-results schema (tests/evidence/);
#   - verify passes on the chain, and openssl checks a signature without wardwall;
#   - tampering: one byte changed in each file, a file deleted, another key, the middle bundle of
#     three left out, bundles reordered: each fails, saying what and where;
#   - report.html renders in headless Chromium (screenshot and DOM).
#
# Needs root. Everything happens in namespaces this script creates (ww<random>-*) and a private
# state directory, deleted on exit; the root namespace is never changed. WW_EVIDENCE_KEEP=DIR
# keeps the bundles and the screenshot there.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
OSCAL_SCHEMA=tests/evidence/oscal_assessment-results_schema-1.1.3.json
unset WARDWALL_NOW
TIMEOUT=${WW_PROBE_TIMEOUT:-0.5} # below the 1 s SYN retransmission timeout: a denied TCP probe sends one SYN

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
# Debian's python3-jsonschema lives under /usr/bin/python3; another python3 first in PATH may
# lack it.
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		PY=$p
		break
	fi
done

tmp=$(mktemp -d)
bpffs=
cleanup() {
	ww_sim_down
	[ -n "$bpffs" ] && umount "$bpffs" 2>/dev/null
	if [ -n "${WW_EVIDENCE_KEEP:-}" ]; then
		mkdir -p "$WW_EVIDENCE_KEEP" && cp -r "$tmp"/b[1-4] "$tmp"/*.png "$WW_EVIDENCE_KEEP"/ 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WARDWALL_STATE_DIR=$tmp/state
POLICY=$tmp/example-hospital.json
ww_policy_nft_only "$EXAMPLE" "$POLICY" || exit 2
KEY=$tmp/state/keys/evidence.pub

# "rc" then the output, for diagnostics
run() {
	"$@" >"$tmp/out" 2>&1
}
out() { cat "$tmp/out"; }
gw() { ip netns exec "$(ww_gw)" "$@"; }

if ww_sim_up "$POLICY" 2>"$tmp/sim.err" &&
	ww_serve "tcp:443,tcp:104,tcp:8443,udp:123" ehr pacs biomed identity 2>>"$tmp/sim.err"; then
	ok "simulated hospital up ($(ww_zones | wc -l) zones), probe servers listening"
else
	fail "simulated hospital up" "$(cat "$tmp/sim.err")"
	finish
fi
if run gw "$WARDWALL" apply "$POLICY"; then
	ok "apply (nftables tier only)"
else
	fail "apply" "$(out)"
	finish
fi
if run "$WARDWALL" evidence keygen && [ -s "$KEY" ] &&
	[ "$(stat -c %a "$tmp/state/keys/evidence.key")" = 600 ]; then
	ok "evidence keygen: $(sed -n 2p "$tmp/out")"
else
	fail "evidence keygen" "$(out)"
	finish
fi
if ! run "$WARDWALL" evidence keygen && grep -q 'exists' "$tmp/out"; then
	ok "evidence keygen again refuses to replace the key: $(out)"
else
	fail "evidence keygen again must refuse" "$(out)"
fi

# probe COUNT SRC DST PROTO PORT FAMILY: COUNT new connections. Denied ones get no reply.
probe() {
	local count=$1 src=$2 dst=$3 proto=$4 port=$5 fam=$6 i s d
	s=$(ww_addr "$src" "$fam") && d=$(ww_addr "$dst" "$fam") || return 1
	for ((i = 0; i < count; i++)); do
		ww_probe "${src%%/*}" "$s" "$d" "$proto" "$port" "$TIMEOUT" >/dev/null || true
	done
}

# The first round: FLOW-OR-DEFAULT COUNT SRC DST PROTO PORT FAMILY
ROUND1="
flow/ws-to-ehr              3 workstations         ehr/his-app        tcp 443  4
flow/ws-to-ehr              1 workstations         ehr/fhir           tcp 443  6
flow/modality-to-pacs       2 modality/ct-1        pacs/pacs-core     tcp 104  4
flow/time-sync              2 infusion             identity/ntp       udp 123  4
flow/time-sync              1 infusion             identity/ntp       udp 123  6
flow/pumps-to-server        1 infusion             biomed/pump-server tcp 8443 4
flow/guest-no-clinical      2 guest                ehr/his-app        tcp 443  4
flow/guest-no-clinical      1 guest                pacs/pacs-core     tcp 104  6
flow/devices-offline        1 infusion             internet           tcp 443  4
default/workstations/_other 2 workstations         identity/dc        tcp 22   4
default/ehr/ehr             1 ehr                  ehr/his-app        tcp 443  4
default/guest/_monitor      2 guest                bms                tcp 47808 4
"
ROUND2="
flow/ws-to-ehr              2 workstations         ehr/his-app        tcp 443  4
flow/guest-no-clinical      1 guest                ehr/fhir           tcp 443  4
default/workstations/_other 1 workstations         identity/dc        tcp 22   6
"
send() {
	local what count src dst proto port fam
	while read -r what count src dst proto port fam; do
		[ -n "$what" ] || continue
		probe "$count" "$src" "$dst" "$proto" "$port" "$fam" || return 1
	done <<<"$1"
}
# The counts a round should give, as "NAME COUNT" lines.
expect() {
	awk 'NF { c[$1] += $2 } END { for (k in c) print k, c[k] }' <<<"$1" | sort
}
# What evidence.json says for the same names: window packets, or total packets with "total".
counted() {
	"$PY" - "$1" "$2" <<'EOF'
import json, sys
ev = json.load(open(sys.argv[1]))
key = "packets" if sys.argv[2] == "total" else "window_packets"
got = {}
for f in ev["flows"]:
    got["flow/" + f["id"]] = (f["nftables"] or {}).get(key, 0)
for d in ev["defaults"]:
    got["default/%s/%s" % (d["from"], d["to"])] = (d["nftables"] or {}).get(key, 0)
for k in sorted(got):
    if got[k]:
        print(k, got[k])
EOF
}

# ---- export 1: the first round of traffic ----
send "$ROUND1" || fail "round 1 could not be sent"
if run gw "$WARDWALL" evidence export --out "$tmp/b1"; then
	ok "export 1: $(grep -E 'counted|kernel:' "$tmp/out" | tr -s ' ' | tr '\n' ';')"
else
	fail "export 1" "$(out)"
	finish
fi
cp "$tmp/out" "$tmp/export1.out"
want=$(expect "$ROUND1")
got=$(counted "$tmp/b1/evidence.json" window)
if [ "$want" = "$got" ]; then
	ok "export 1 counts what was sent, per flow and per default zone pair: $(tr '\n' ' ' <<<"$got")"
else
	fail "export 1 counts what was sent" "want:" "$want" "got:" "$got"
fi
if "$PY" - "$tmp/b1/evidence.json" >"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
ev = json.load(open(sys.argv[1]))
k, d = ev["kernel"], ev["denied"]["nftables"]
assert ev["format"] == "wardwall-evidence/1"
assert k["in_sync"] and k["drift"]["equal"] and not k["drift"]["differences"], k["drift"]
assert k["nftables"]["sha256"] == k["nftables"]["expected_sha256"], "digest of live != expected"
assert ev["window"]["basis"] == "counter-start" and ev["window"]["base_seq"] is None
assert ev["bundle"]["seq"] == 1 and ev["bundle"]["previous_manifest_sha256"] is None
assert ev["policy"]["name"] == "example-hospital" and ev["policy"]["generation"] == 1
assert ev["history"]["verified"] and ev["history"]["events"][0]["action"] == "apply"
# Denied: 3 by guest-no-clinical (from guest to seven zones: the destination zone is not
# known), 1 by devices-offline (from three device zones to the internet: the source zone is not
# known), 2 + 1 by the defaults: ehr within itself (one zone pair), workstations to identity,
# counted by nftables per source zone ("default/workstations/_other": the destination zone is
# not known).
assert d["total"] == 7, d
src = {r["zone"]: r["packets"] for r in d["by_source_zone"]}
assert src == {"guest": 3, "workstations": 2, "ehr": 1}, src
dst = {r["zone"]: r["packets"] for r in d["by_destination_zone"]}
assert dst == {"internet": 1, "ehr": 1}, dst
pairs = {(r["from"], r["to"]): r["packets"] for r in d["by_zone_pair"]}
assert pairs == {("ehr", "ehr"): 1}, pairs
assert d["unattributed"] == {"source": 1, "destination": 5, "zone_pair": 6}, d
assert any("per-address" in n for n in ev["denied"]["notes"])
assert any("not retained" in n for n in ev["denied"]["notes"])
flows = {f["id"]: f for f in ev["flows"]}
w = flows["ws-to-ehr"]
assert w["owner"] == "clinical-apps" and w["ticket"] == "CHG-1001", w
assert w["zone_pairs"] == [{"from": "workstations", "to": "ehr", "verdict": "allow"}], w
assert "nis2-21.2.i" in w["mappings"] and "cir-6.8" in w["mappings"], w["mappings"]
v = flows["vendor-ct-window"]
assert v["valid_from"] == "2027-01-12T08:00:00Z" and "cir-11" in v["mappings"], v
cell = [c for c in ev["matrix"]["nftables"] if c["from"] == "workstations" and c["to"] == "ehr"]
assert cell and cell[0]["allowed"] == 4, cell
assert {m["id"] for m in ev["mappings"]} >= {"nis2-21.2.a", "cir-6.7", "cir-6.8", "cir-3.2", "cir-7"}
# bms is in monitor mode: what rests on denials touching it is not enforced, and says so.
st = {m["id"]: m["status"] for m in ev["mappings"]}
notenf = {k for k, v in st.items() if v == "not-enforced"}
assert notenf == {"cir-6.7", "nis2-21.2.i", "cir-6.8", "cir-11"}, st
assert all(v == "met" for k, v in st.items() if k not in notenf), st
assert all(m["met"] == (m["status"] == "met") for m in ev["mappings"])
m67 = [m for m in ev["mappings"] if m["id"] == "cir-6.7"][0]
assert "bms" in m67["because"] and "2 packets passed" in m67["because"], m67
mon = ev["monitor"]
assert mon["zones"] == ["bms"] and mon["passed_packets"]["nftables"] == 2, mon
assert all(i["holds"] for i in ev["invariants"]) and len(ev["invariants"]) == 5
inv = {i["id"]: i for i in ev["invariants"]}
for k in ("guest-isolated", "pumps-only-to-server", "vendor-only-ct"):
    assert not inv[k]["enforced"] and inv[k]["monitor_zones"] == ["bms"], inv[k]
assert inv["guest-isolated"]["passed_packets"]["nftables"] == 2, inv["guest-isolated"]
assert inv["vendor-only-ct"]["passed_packets"]["nftables"] == 0, inv["vendor-only-ct"]
assert inv["devices-never-internet"]["enforced"] and inv["pumps-reach-server"]["enforced"]
print("in sync; 7 denied: from guest 3, workstations 2, ehr 1 (1 unattributable); "
      "2 guest->bms passed in monitor mode: 3 invariants and 4 mappings not enforced")
EOF
	ok "export 1: $(cat "$tmp/check")"
else
	fail "export 1: drift, denials, policy, mappings" "$(cat "$tmp/check")"
fi

# ---- export 2: more traffic, the window starts at export 1 ----
sleep 1 # a later second than export 1: the window is not empty
send "$ROUND2" || fail "round 2 could not be sent"
if run gw "$WARDWALL" evidence export --out "$tmp/b2"; then
	ok "export 2: $(grep -E 'window|chain' "$tmp/out" | tr -s ' ' | tr '\n' ';')"
else
	fail "export 2" "$(out)"
fi
want=$(expect "$ROUND2")
got=$(counted "$tmp/b2/evidence.json" window)
if [ "$want" = "$got" ]; then
	ok "export 2 counts only the traffic since export 1: $(tr '\n' ' ' <<<"$got")"
else
	fail "export 2 counts only the traffic since export 1" "want:" "$want" "got:" "$got"
fi
want=$(expect "$ROUND1$ROUND2")
got=$(counted "$tmp/b2/evidence.json" total)
if [ "$want" = "$got" ]; then
	ok "export 2's counter totals are both rounds"
else
	fail "export 2's counter totals are both rounds" "want:" "$want" "got:" "$got"
fi
m1=$(sha256sum <"$tmp/b1/manifest.json" | cut -d' ' -f1)
if "$PY" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
b1 = json.load(open(sys.argv[2]))
w = ev["window"]
assert w["basis"] == "previous-export" and w["base_seq"] == 1, w
assert w["start"] == b1["generated"], (w, b1["generated"])
assert ev["bundle"]["seq"] == 2 and ev["bundle"]["previous_manifest_sha256"] == sys.argv[3], ev["bundle"]
f = [f for f in ev["flows"] if f["id"] == "ws-to-ehr"][0]["nftables"]
assert f["baseline"] and not f["reset"], f
' "$tmp/b2/evidence.json" "$tmp/b1/evidence.json" "$m1" >"$tmp/check" 2>&1; then
	ok "export 2: window from export 1's time, links to its manifest sha256 ${m1:0:16}..."
else
	fail "export 2: window and link" "$(cat "$tmp/check")"
fi

# ---- export 3: an out-of-band change ----
gw nft add counter inet wardwall rogue &&
	gw nft add rule inet wardwall classify ip saddr 192.0.2.66 counter name rogue drop
# --since before every export: no export to start from, so the window is the counters' life.
if run gw "$WARDWALL" evidence export --since 2020-01-01T00:00:00Z --out "$tmp/b3" &&
	grep -q 'DIFFERS' "$tmp/out"; then
	ok "export 3 after an out-of-band nft change: $(grep kernel: "$tmp/out" | sed 's/^ *//')"
else
	fail "export 3 after an out-of-band nft change" "$(out)"
fi
if "$PY" -c '
import json, sys
ev = json.load(open(sys.argv[1]))
k = ev["kernel"]
assert not k["in_sync"] and not k["drift"]["equal"], k["drift"]
d = {(x["op"], x["kind"], x["name"]) for x in k["drift"]["differences"]}
assert ("unexplained", "counter", "rogue") in d, d
assert any(x[1] == "chain" and x[2] == "classify" for x in d), d
assert k["nftables"]["sha256"] != k["nftables"]["expected_sha256"]
m = {x["id"]: x for x in ev["mappings"]}
assert not m["cir-6.3"]["met"] and not m["cir-6.8"]["met"], m["cir-6.3"]
w = ev["window"]
assert w["basis"] == "counter-start" and w["since_requested"] == "2020-01-01T00:00:00Z", w
assert ev["bundle"]["seq"] == 3
print("; ".join("%s %s %s" % x for x in sorted(d)))
' "$tmp/b3/evidence.json" >"$tmp/check" 2>&1; then
	ok "export 3 shows the drift: $(cat "$tmp/check")"
	want=$(expect "$ROUND1$ROUND2")
	got=$(counted "$tmp/b3/evidence.json" window)
	[ "$want" = "$got" ] && ok "export 3 (--since before export 1) counts from the counters' start" ||
		fail "export 3 counts from the counters' start" "want:" "$want" "got:" "$got"
else
	fail "export 3 shows the drift" "$(cat "$tmp/check")"
fi

# ---- schemas ----
if [ -z "$PY" ]; then
	fail "python3-jsonschema is installed (make deps)"
else
	if "$PY" - "$tmp/b1/evidence.json" "$tmp/b2/evidence.json" "$tmp/b3/evidence.json" \
		>"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
import jsonschema
schema = json.load(open("policies/evidence.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
bad = [f"{p}: {e.json_path}: {e.message}" for p in sys.argv[1:] for e in v.iter_errors(json.load(open(p)))]
print("\n".join(bad[:20]))
sys.exit(1 if bad else 0)
EOF
		ok "evidence.json of the three exports validates against policies/evidence.schema.json"
	else
		fail "evidence.json validates against policies/evidence.schema.json" "$(cat "$tmp/check")"
	fi
	# The official schema writes \p{L} and \p{N}, which Python's re lacks: rewritten in memory.
	if "$PY" - "$OSCAL_SCHEMA" "$tmp/b1/oscal.json" "$tmp/b3/oscal.json" >"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
import jsonschema

def fix(x):
    if isinstance(x, dict):
        return {k: (v.replace(r"\p{L}", r"[^\W\d_]").replace(r"\p{N}", r"\d")
                    if k == "pattern" else fix(v)) for k, v in x.items()}
    if isinstance(x, list):
        return [fix(v) for v in x]
    return x

schema = fix(json.load(open(sys.argv[1])))
cls = jsonschema.validators.validator_for(schema)
v = cls(schema, format_checker=jsonschema.FormatChecker())
bad = [f"{p}: {e.json_path}: {e.message[:300]}" for p in sys.argv[2:] for e in v.iter_errors(json.load(open(p)))]
print("\n".join(bad[:20]))
doc = json.load(open(sys.argv[2]))["assessment-results"]
r = doc["results"][0]
assert len(r["findings"]) >= 10 and len(r["observations"]) > 25, "too few findings/observations"
sys.exit(1 if bad else 0)
EOF
		ok "oscal.json validates against the official OSCAL 1.1.3 assessment-results schema"
	else
		fail "oscal.json validates against the official OSCAL 1.1.3 schema" "$(cat "$tmp/check")"
	fi
fi

# ---- verify ----
if run "$WARDWALL" evidence verify --key "$KEY" "$tmp/b1" "$tmp/b2" && grep -q '^verified 2 bundles' "$tmp/out"; then
	ok "verify passes on two chained exports: $(tail -1 "$tmp/out")"
else
	fail "verify passes on two chained exports" "$(out)"
fi
if run "$WARDWALL" evidence verify --key "$KEY" "$tmp/b1" "$tmp/b2" "$tmp/b3" && grep -q 'follows bundle 2' "$tmp/out"; then
	ok "verify passes on the chain of three (drift is evidence, not tampering)"
else
	fail "verify passes on the chain of three" "$(out)"
fi
if run "$WARDWALL" evidence verify "$tmp/b2" && grep -q '^warning: .*the key the bundle carries' "$tmp/out" &&
	grep -q 'chain was NOT checked' "$tmp/out" && ! grep -q '^ok ' "$tmp/out"; then
	ok "verify of bundle 2 alone, without --key: warns that its own key proves no signer, and that the chain was not checked"
else
	fail "verify without --key warns" "$(out)"
fi
if base64 -d "$tmp/b2/manifest.sig" >"$tmp/sig.bin" &&
	openssl pkeyutl -verify -pubin -inkey "$KEY" -rawin -in "$tmp/b2/manifest.json" \
		-sigfile "$tmp/sig.bin" >"$tmp/out" 2>&1 &&
	(cd "$tmp/b2" && "$PY" -c '
import hashlib, json
for f in json.load(open("manifest.json"))["files"]:
    assert hashlib.sha256(open(f["name"], "rb").read()).hexdigest() == f["sha256"], f["name"]
'); then
	ok "without wardwall: openssl verifies the signature ($(out)), sha256 of every file matches"
else
	fail "openssl verifies the signature" "$(out)"
fi

# ---- tampering, on copies ----
fresh() {
	rm -rf "$tmp/t" && mkdir "$tmp/t" && cp -r "$tmp/b1" "$tmp/b2" "$tmp/b3" "$tmp/t/"
}
flip() { # one byte in the middle of a file, to another printable one
	"$PY" -c '
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
i = len(b) // 2
while b[i] in b"\n ":
    i += 1
b[i] = ord("B") if b[i] != ord("B") else ord("C")
open(p, "wb").write(bytes(b))' "$1"
}
# tamper DESCRIPTION EXPECTED-REGEX BUNDLES...: verify must fail and say EXPECTED
tamper() {
	local what=$1 want=$2 rc
	shift 2
	run "$WARDWALL" evidence verify --key "$KEY" "$@"
	rc=$?
	if [ $rc = 1 ] && grep -qE "$want" "$tmp/out"; then
		ok "$what: exit 1, $(grep -m1 -E "$want" "$tmp/out" | sed "s|$tmp/t/||g")"
	else
		fail "$what: verify must exit 1 saying /$want/ (exit $rc)" "$(out)"
	fi
}
for f in evidence.json oscal.json report.html evidence.pub; do
	fresh && flip "$tmp/t/b2/$f"
	tamper "one byte of b2/$f changed" "^FAILED .*b2/$f: sha256 .* differs from the manifest" \
		"$tmp/t/b1" "$tmp/t/b2" "$tmp/t/b3"
done
fresh && flip "$tmp/t/b2/manifest.json"
tamper "one byte of b2/manifest.json changed" "^FAILED .*b2/manifest.sig: (the signature does not match|wrong key)" \
	"$tmp/t/b1" "$tmp/t/b2" "$tmp/t/b3"
grep -qE "b3: broken link" "$tmp/out" && ok "... and b3 no longer links to the changed manifest" ||
	fail "b3's link must break when b2/manifest.json changes" "$(out)"
fresh && flip "$tmp/t/b2/manifest.sig"
tamper "one byte of b2/manifest.sig changed" "^FAILED .*b2/manifest.sig: " "$tmp/t/b1" "$tmp/t/b2" "$tmp/t/b3"
fresh && rm "$tmp/t/b2/report.html"
tamper "b2/report.html deleted" "^FAILED .*b2/report.html: missing" "$tmp/t/b1" "$tmp/t/b2" "$tmp/t/b3"
fresh && rm "$tmp/t/b2/manifest.sig"
tamper "b2/manifest.sig deleted" "^FAILED .*b2/manifest.sig: missing" "$tmp/t/b1" "$tmp/t/b2"
run "$WARDWALL" evidence keygen --key-dir "$tmp/other"
fresh
tamper "another key" "^FAILED .*b1/manifest.sig: wrong key" --key "$tmp/other/evidence.pub" "$tmp/t/b1"
# A forger who re-signs a changed bundle with their own key (and ships that key) fails against
# the key the auditor holds.
fresh && flip "$tmp/t/b2/evidence.json" && (
	cd "$tmp/t/b2" && "$PY" -c '
import hashlib, json
m = json.load(open("manifest.json"))
for f in m["files"]:
    f["sha256"] = hashlib.sha256(open(f["name"], "rb").read()).hexdigest()
json.dump(m, open("manifest.json", "w"), indent=2)' &&
		cp "$tmp/other/evidence.pub" evidence.pub &&
		openssl pkeyutl -sign -inkey "$tmp/other/evidence.key" -rawin -in manifest.json | base64 -w0 >manifest.sig
)
tamper "b2 changed and re-signed with another key" "^FAILED .*b2/(manifest.sig|evidence.pub)" \
	"$tmp/t/b1" "$tmp/t/b2"
fresh
tamper "the middle bundle of three left out" "missing link: bundle 3 follows bundle 1; bundle 2 was not given" \
	"$tmp/t/b1" "$tmp/t/b3"
tamper "bundles reordered" "out of order: bundle 1 given after bundle 2" "$tmp/t/b2" "$tmp/t/b1" "$tmp/t/b3"
rm -rf "$tmp/t/b2" && mkdir "$tmp/t/b2"
tamper "an empty directory in the middle" "b2/manifest.json: missing" "$tmp/t/b1" "$tmp/t/b2" "$tmp/t/b3"

# ---- the state's own chain ----
if [ "$(wc -l <"$tmp/state/evidence/chain.jsonl")" = 3 ]; then
	ok "three records in the state's evidence chain"
else
	fail "three records in the state's evidence chain" "$(cat "$tmp/state/evidence/chain.jsonl")"
fi
mkdir "$tmp/full" && touch "$tmp/full/x"
if ! run gw "$WARDWALL" evidence export --out "$tmp/full" && grep -q 'not empty' "$tmp/out" &&
	[ "$(wc -l <"$tmp/state/evidence/chain.jsonl")" = 3 ]; then
	ok "export into a non-empty directory refuses, nothing is chained: $(out)"
else
	fail "export into a non-empty directory must refuse" "$(out)"
fi

# ---- XDP: the policy's own enforcement, in a private bpffs ----
# `ip netns exec` mounts a fresh /sys, so /sys/fs/bpf is no bpffs inside it (and is never used):
# a private bpffs in the temporary directory, unmounted on exit.
bpffs=$tmp/bpffs
if mkdir "$bpffs" && mount -t bpf bpf "$bpffs"; then
	export WARDWALL_BPFFS=$bpffs
	cp "$EXAMPLE" "$tmp/xdp.json"
	if run gw "$WARDWALL" apply "$tmp/xdp.json"; then
		ok "apply with XDP (native, private bpffs)"
		# Denied by XDP before nftables sees them: the XDP counter of guest-no-clinical.
		probe 2 guest ehr/his-app tcp 443 4
		if run gw "$WARDWALL" evidence export --out "$tmp/b4" &&
			"$PY" - "$tmp/b4/evidence.json" >"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
ev = json.load(open(sys.argv[1]))
k = ev["kernel"]
x = k["xdp"]
assert k["in_sync"], k["drift"]
assert x["present"] and x["installed"] and x["matches_applied"] is True, x
assert x["program_tag"] and len(x["program_tag"]) == 16, x["program_tag"]
assert len(x["links"]) == 14 and all(l["attached"] and l["mode"] == "native" for l in x["links"]), x["links"]
assert x["maps_sha256"] and x["classifications"] > 0 and x["rules"] > 0, x
f = [f for f in ev["flows"] if f["id"] == "guest-no-clinical"][0]
assert f["xdp"]["window_packets"] == 2, f["xdp"]
assert ev["denied"]["xdp"]["total"] == 2, ev["denied"]["xdp"]
assert ev["denied"]["xdp"]["by_source_zone"] == [{"zone": "guest", "packets": 2}]
assert ev["matrix"]["xdp"] is not None
print("program tag %s, %d native links, maps sha256 %.12s, 2 denials by XDP from guest"
      % (x["program_tag"], len(x["links"]), x["maps_sha256"]))
EOF
			ok "export 4 (XDP): $(cat "$tmp/check")"
		else
			fail "export 4 (XDP)" "$(out)" "$(cat "$tmp/check" 2>/dev/null)"
		fi
		if run "$WARDWALL" evidence verify --key "$KEY" "$tmp/b1" "$tmp/b2" "$tmp/b3" "$tmp/b4"; then
			ok "verify passes on the chain of four: $(tail -1 "$tmp/out")"
		else
			fail "verify passes on the chain of four" "$(out)"
		fi
	else
		fail "apply with XDP" "$(out)"
	fi
else
	skip "XDP: no private bpffs could be mounted"
	bpffs=
fi

# ---- --json: export, verify and keygen as one JSON object each ----
if gw "$WARDWALL" evidence export --json --out "$tmp/b5" >"$tmp/out" 2>"$tmp/err" &&
	"$PY" - "$tmp/out" "$tmp/b5" >"$tmp/check" 2>&1 <<'EOF'; then
import json, os, sys
o = json.load(open(sys.argv[1]))
assert o["dir"] == sys.argv[2] and o["bundle"] >= 4, o
assert set(o["files"]) == {"evidence.json", "oscal.json", "report.html", "evidence.pub", "manifest.json", "manifest.sig"}, o
assert all(os.path.exists(os.path.join(o["dir"], f)) for f in o["files"]), o
assert o["policy"]["generation"] >= 1 and len(o["policy"]["sha256"]) == 64 and o["in_sync"], o
assert len(o["previous_manifest_sha256"]) == 64 and len(o["manifest_sha256"]) == 64, o
print("bundle %d, window %s to %s" % (o["bundle"], o["window"]["start"], o["window"]["end"]))
EOF
	ok "evidence export --json: $(cat "$tmp/check")"
else
	fail "evidence export --json" "$(cat "$tmp/out" "$tmp/err" "$tmp/check" 2>/dev/null)"
fi
bundles=$(ls -d "$tmp"/b[1-5] 2>/dev/null)
nb=$(wc -w <<<"$bundles")
# shellcheck disable=SC2086
if "$WARDWALL" evidence verify --json --key "$KEY" $bundles >"$tmp/out" 2>"$tmp/err" && "$PY" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert o["verified"] and o["bundles"] == int(sys.argv[2]) and o["failures"] == 0, o
assert o["chain_checked"] and len(o["key_sha256"]) == 64 and o["checked"] and not o["failed"], o' \
	"$tmp/out" "$nb"; then
	ok "evidence verify --json: the chain of $nb verified"
else
	fail "evidence verify --json" "$(cat "$tmp/out" "$tmp/err")"
fi
cp -r "$tmp/b2" "$tmp/b2bad" && echo x >>"$tmp/b2bad/evidence.json"
"$WARDWALL" evidence verify --json --key "$KEY" "$tmp/b2bad" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && "$PY" -c '
import json, sys
o = json.load(open(sys.argv[1]))
assert not o["verified"] and o["failures"] >= 1 and o["failed"], o' "$tmp/out"; then
	ok "evidence verify --json of a changed bundle: exit 1, verified false, what failed"
else
	fail "evidence verify --json of a changed bundle (rc $rc)" "$(cat "$tmp/out" "$tmp/err")"
fi
if "$WARDWALL" evidence keygen --json --key-dir "$tmp/k3" >"$tmp/out" 2>"$tmp/err" && "$PY" -c '
import json, os, sys
o = json.load(open(sys.argv[1]))
assert o["private_key"].endswith("/evidence.key") and os.path.exists(o["public_key"]) and len(o["key_sha256"]) == 64, o' "$tmp/out"; then
	ok "evidence keygen --json"
else
	fail "evidence keygen --json" "$(cat "$tmp/out" "$tmp/err")"
fi

# ---- report.html in headless Chromium ----
# Debian's chromium (vm/install-deps.sh installs it); installed here if a machine lacks it.
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	export DEBIAN_FRONTEND=noninteractive
	{ apt-get install -y -qq --no-install-recommends chromium ||
		{ apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }; } \
		>/dev/null 2>&1
	CHROMIUM=$(command -v chromium || true)
fi
if [ -z "$CHROMIUM" ]; then
	skip "report.html in Chromium: chromium is not installed and could not be"
else
	chrome() {
		# Fresh profile, no network: the page must need nothing from outside.
		timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
			--disable-background-networking --disable-component-update --disable-sync \
			--user-data-dir="$tmp/chrome" "$@" 2>/dev/null
	}
	chrome --window-size=1280,2200 --screenshot="$tmp/report.png" "file://$tmp/b3/report.html" >/dev/null
	[ -e "$tmp/b4/report.html" ] &&
		chrome --window-size=1280,3000 --screenshot="$tmp/report-xdp.png" "file://$tmp/b4/report.html" >/dev/null
	chrome --dump-dom "file://$tmp/b3/report.html" >"$tmp/dom.html"
	if [ -s "$tmp/report.png" ] && [ "$(stat -c %s "$tmp/report.png")" -gt 20000 ] &&
		"$PY" - "$tmp/dom.html" "$tmp/report.png" >"$tmp/check" 2>&1 <<'EOF'; then
import re, struct, sys
dom = open(sys.argv[1]).read()
png = open(sys.argv[2], "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", png[16:24])
assert 'id="verdict"' in dom and "DRIFT" in dom, "no drift banner"
assert 'id="monitor"' in dom and "MONITOR MODE" in dom and "bms" in dom, "no monitor-mode banner"
inv = re.findall(r'<td class="(met|notmet|notenf)">(proven|violated|not enforced)</td>', dom)
assert [v for _, v in inv].count("not enforced") == 3 and [v for _, v in inv].count("proven") == 2, inv
# guest-no-clinical spans seven zone pairs: its one counter is listed once, in no cell.
span = re.findall(r'<tr><td class="mono">guest-no-clinical</td><td>deny</td><td class="n">7</td><td class="n">4</td>', dom)
assert len(span) == 1, span

hm = re.findall(r'<table class="hm"', dom)
assert len(hm) == 1, "one heat map (nftables)"
cells = re.findall(r'<td style="background:[^"]*" title="([^"]*)"', dom)
assert len(cells) == 15 * 15, len(cells)
guest = [c for c in cells if c.startswith("guest → ") and "denied" in c]
assert all(" 0 denied" in c for c in guest if c.split(":")[0] != "guest → -"), guest
assert any("workstations → ehr: 6 allowed" in c for c in cells), [c for c in cells if c.startswith("workstations → ehr")]
assert re.search(r"<td class=\"mono\">ws-to-ehr</td>", dom), "flow table"
assert not re.search(r'(src|href)="https?:', dom), "an external asset"
print(f"{w}x{h} screenshot, {len(cells)} matrix cells, drift and monitor banners, 3 invariants not enforced, spanning flow once, flow table")
EOF
		ok "report.html renders in headless Chromium: $(cat "$tmp/check")"
	else
		fail "report.html renders in headless Chromium" "$(cat "$tmp/check" 2>/dev/null)" \
			"png: $(stat -c %s "$tmp/report.png" 2>&1)"
	fi
fi
finish
