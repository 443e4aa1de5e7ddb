#!/bin/bash
# NIS2 Art. 23 incident report drafts and indicator export, end to end on the simulated hospital
# (nftables tier), with `wardwall serve` recording and detecting:
#   - an incident opened, then the attack traffic of 73-detect (a scanning workstation, SMB and
#     RDP from biomed into the EHR, a new talker in the monitor-mode bms zone), the scanner
#     quarantined, an evidence bundle exported;
#   - the early warning, the notification and (after close) the final report: valid against
#     policies/incident-report.schema.json, each alert, the quarantine, the evidence bundle (by
#     its manifest sha256), the indicators and the zones concerned present; deadlines 24 h, 72 h,
#     one month after the notification; the person's fields present and empty; the limits said;
#   - the three reports are signed into the evidence chain: the next export embeds each
#     (incident.json byte for byte, its sha256, stage, seq), `evidence verify` checks them, and a
#     report changed inside a bundle re-signed with the key fails;
#   - the three reports verify as one signed series with `wardwall evidence verify`, and a changed
#     one does not; incident.html in headless Chromium;
#   - `wardwall indicators export`: a STIX 2.1 bundle checked against the specification's
#     required properties and identifier rules, and the CSV.
#
# Needs root. Everything happens in namespaces this script creates, removed on exit.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
EXAMPLE=policies/example-hospital.json
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft curl

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
ww_suite_tmp
chmod 755 "$tmp"
export WARDWALL_STATE_DIR=$tmp/state
# A private bpffs: quarantine keeps its XDP maps there even when the policy is nftables only.
ww_bpffs "$tmp/bpf" || { fail "mount a private bpffs"; finish; }
POLICY=$tmp/nft-only.json
ww_policy_nft_only "$EXAMPLE" "$POLICY" || exit 2
PORT=$((20000 + RANDOM % 20000))
PY=/usr/bin/python3

ww_sim_up_tap "$POLICY"
gw() { ww_gwx "$WARDWALL" "$@"; }
need apply gw apply "$POLICY"
need "evidence keygen" "$WARDWALL" evidence keygen
ww_wardwall_serve "$PORT"

# ---- the incident ----
since=$(date -u -d '-1 minute' +%Y-%m-%dT%H:%M:%SZ)
if "$WARDWALL" incident open --title "Lateral movement from biomed, scanning workstation" \
	--since "$since" >"$tmp/out" 2>&1 && grep -q '^inc-1 ' "$tmp/out" && grep -q 'early warning due by' "$tmp/out"; then
	ok "incident open: $(head -1 "$tmp/out")"
else
	fail "incident open" "$(cat "$tmp/out")"
	finish
fi
if ! "$WARDWALL" incident open --title "another" >"$tmp/out" 2>&1 && grep -q 'inc-1 .* is still open' "$tmp/out"; then
	ok "a second incident is refused while one is open: $(cat "$tmp/out")"
else
	fail "a second open incident is refused" "$(cat "$tmp/out")"
fi

ww_attack # the attack traffic of 73-detect
ww_wait_lines "$tmp/state/events/alerts.jsonl" 3 150
if gw quarantine add "$WS" --reason "scan alert" --ticket INC-4711 >"$tmp/out" 2>&1 &&
	gw evidence export --out "$tmp/b1" >"$tmp/out2" 2>&1; then
	ok "the scanner quarantined, an evidence bundle exported"
else
	fail "quarantine, evidence export" "$(cat "$tmp/out" "$tmp/out2")"
fi

report() { # STAGE DIR
	"$WARDWALL" incident report --stage "$1" --out "$2" >"$tmp/report.out" 2>&1
}
check_report() { # FILE STAGE
	"$PY" - "$1" "$2" "$WS" "$BIO" "$BMS" "$tmp/b1/manifest.json" "$since" <<'EOF'
import hashlib, json, sys
from datetime import datetime, timedelta, timezone
import jsonschema
path, stage, ws, bio, bms, b1, since = sys.argv[1:]
r = json.load(open(path))
jsonschema.Draft202012Validator(json.load(open("policies/incident-report.schema.json"))).validate(r)
t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
assert r["report"]["stage"] == stage and r["draft"] is True
inc = r["incident"]
assert inc["since"] == since and inc["title"].startswith("Lateral movement")
aware, deadline = t(inc["aware"]), t(r["report"]["deadline"])
if stage == "early-warning":
    assert deadline - aware == timedelta(hours=24), (aware, deadline)
elif stage == "notification":
    assert deadline - aware == timedelta(hours=72), (aware, deadline)
else:
    assert inc["closed"] and r["report"]["window"]["to"] == inc["closed"]
fields = [f["field"] for f in r["to_complete"]]
want = {"early-warning": ["significant", "suspected_malicious", "cross_border_impact", "patient_safety"],
        "notification": ["suspected_malicious", "cross_border_impact", "patient_safety", "severity_and_impact", "mitigation"],
        "final": ["cross_border_impact", "patient_safety", "description", "threat_type_root_cause", "mitigation"]}[stage]
assert fields == want, fields
assert all(f["value"] is None for f in r["to_complete"])
al = {a["detector"]: a for a in r["alerts"]}
assert sorted(al) == ["lateral", "new_talker", "scan"], sorted(al)
assert al["scan"]["src"] == ws and al["lateral"]["src"] == bio and al["new_talker"]["src"] == bms
assert al["lateral"]["services"] == ["tcp/445", "tcp/3389"] or sorted(al["lateral"]["services"]) == ["tcp/3389", "tcp/445"]
src = {s["address"]: s for s in r["indicators"]["denied_sources"]}
assert src[ws]["denials"] >= 20 and src[ws]["zone"] == "workstations", src.get(ws)
assert src[bio]["services"] == ["tcp/445", "tcp/3389"], src[bio]
assert {"workstations", "ehr", "biomed", "bms", "mgmt"} <= set(r["affected"]["zones"]), r["affected"]["zones"]
q = r["measures"]["quarantines"]
assert [(x["event"], x["id"], x["target"], x["ticket"]) for x in q] == [("add", "q1", ws, "INC-4711")], q
man = open(b1, "rb").read()
ev = r["evidence"]
assert len(ev) == 1 and ev[0]["manifest_sha256"] == hashlib.sha256(man).hexdigest(), ev
kinds = [x["kind"] for x in r["timeline"]]
assert kinds.count("alert") == 3 and "quarantine" in kinds and "evidence" in kinds and "aware" in kinds, kinds
assert "policy" in kinds, "the apply of the policy, one minute into the window"
times = [x["time"] for x in r["timeline"]]
assert times == sorted(times), times
assert r["traffic"]["denied"] >= 27 and r["traffic"]["monitored"] >= 1, r["traffic"]
assert any("not logged" in l for l in r["limits"]) and any("cannot" in l or "not seen" in l for l in r["limits"])
print("%s: %d alerts, %d denied sources (%s first, %d denials), q1, evidence bundle 1, deadline %s, %d fields for a person"
      % (stage, len(r["alerts"]), r["indicators"]["denied_sources_total"], r["indicators"]["denied_sources"][0]["address"],
         r["indicators"]["denied_sources"][0]["denials"], r["report"]["deadline"], len(fields)))
EOF
}
sleep 6 # every alert emitted and recorded (hold 5 s)
for stage in early-warning notification; do
	if report "$stage" "$tmp/r-$stage" && check_report "$tmp/r-$stage/incident.json" "$stage" >"$tmp/check" 2>&1; then
		ok "incident report --stage $stage: $(cat "$tmp/check")"
	else
		fail "incident report --stage $stage" "$(cat "$tmp/report.out" "$tmp/check")"
	fi
done
if "$WARDWALL" incident close >"$tmp/out" 2>&1 && grep -q '^inc-1 *closed' "$tmp/out" &&
	report final "$tmp/r-final" && check_report "$tmp/r-final/incident.json" final >"$tmp/check" 2>&1 &&
	"$PY" - "$tmp/r-notification/incident.json" "$tmp/r-final/incident.json" >>"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
from datetime import datetime, timezone
n, f = (json.load(open(p)) for p in sys.argv[1:])
g = datetime.strptime(n["report"]["generated"], "%Y-%m-%dT%H:%M:%SZ")
d = datetime.strptime(f["report"]["deadline"], "%Y-%m-%dT%H:%M:%SZ")
want = g.replace(year=g.year + (g.month == 12), month=g.month % 12 + 1)
assert d == want, (d, want)
print(" (one month after the notification was drafted)")
EOF
	ok "incident close; report --stage final: $(tr -d '\n' <"$tmp/check")"
else
	fail "incident close, report --stage final" "$(cat "$tmp/out" "$tmp/report.out" "$tmp/check")"
fi
if "$WARDWALL" evidence verify "$tmp/r-early-warning" "$tmp/r-notification" "$tmp/r-final" >"$tmp/out" 2>&1 &&
	grep -q "r-final: bundle 3, .*follows bundle 2" "$tmp/out"; then
	ok "the three reports verify as one signed series (evidence verify)"
else
	fail "the reports verify as one series" "$(cat "$tmp/out")"
fi
cp -r "$tmp/r-notification" "$tmp/r-changed"
sed -i 's/"suspected_malicious"/"suspected_malicious "/' "$tmp/r-changed/incident.json"
if ! "$WARDWALL" evidence verify "$tmp/r-early-warning" "$tmp/r-changed" >"$tmp/out" 2>&1 &&
	grep -q 'incident.json: sha256 .* differs' "$tmp/out"; then
	ok "a changed report fails verification: $(grep -m1 differs "$tmp/out" | sed "s|$tmp/||")"
else
	fail "a changed report fails verification" "$(cat "$tmp/out")"
fi

# ---- the reports signed into the evidence chain ----
# The next export takes every report written since the previous one (b1), embedded byte for
# byte in its evidence.json; a report of the export's own second would go to the export after.
sleep 1
if gw evidence export --out "$tmp/b2" >"$tmp/out" 2>&1 &&
	"$PY" - "$tmp/b2/evidence.json" "$tmp" >"$tmp/check" 2>&1 <<'EOF'; then
import hashlib, json, re, sys
import jsonschema
ev, tmp = json.load(open(sys.argv[1])), sys.argv[2]
jsonschema.Draft202012Validator(json.load(open("policies/evidence.schema.json"))).validate(ev)
got = ev["incident_reports"]
want = [(1, "early-warning"), (2, "notification"), (3, "final")]
assert [(r["seq"], r["stage"]) for r in got] == want, [(r["seq"], r["stage"]) for r in got]
for r, (seq, stage) in zip(got, want):
    body = open("%s/r-%s/incident.json" % (tmp, stage), "rb").read()
    assert r["incident"] == "inc-1" and r["problem"] is None, r
    assert r["report"].encode() == body, stage
    assert r["sha256"] == hashlib.sha256(body).hexdigest(), stage
    man = open("%s/r-%s/manifest.json" % (tmp, stage), "rb").read()
    assert r["report_manifest_sha256"] == hashlib.sha256(man).hexdigest(), stage
html = open(sys.argv[1].replace("evidence.json", "report.html")).read()
rows = re.findall(r'<tr><td>inc-1</td><td class="n">(\d)</td><td>([a-z-]+)</td><td>[^<]*</td><td class="mono">([0-9a-f]{64})</td></tr>', html)
assert 'id="incident-reports"' in html and rows == [(str(s), st, r["sha256"]) for r, (s, st) in zip(got, want)], rows
print("3 reports of inc-1 in bundle 2 (early-warning, notification, final), each its incident.json byte for byte with its sha256 and its manifest's; evidence.json valid against its schema; report.html lists them")
EOF
	ok "evidence export after the reports: $(cat "$tmp/check")"
else
	fail "the reports in the next evidence bundle" "$(cat "$tmp/out" "$tmp/check")"
fi
if "$WARDWALL" evidence verify "$tmp/b1" "$tmp/b2" >"$tmp/out" 2>&1 &&
	grep -q '3 incident reports signed into bundle' "$tmp/out" &&
	[ "$(grep -c '^  incident inc-1 report [123] (.*), incident.json sha256 [0-9a-f]\{64\}$' "$tmp/out")" = 3 ]; then
	ok "evidence verify b1 b2 checks the three embedded reports: $(grep -m1 'report 3' "$tmp/out" | sed 's/^ *//')"
else
	fail "evidence verify of the bundle with the reports" "$(cat "$tmp/out")"
fi
# A forger holding the key changes a report inside the bundle and signs the bundle again: the
# signature holds, the report's own sha256 does not.
cp -r "$tmp/b2" "$tmp/b2-forged"
if "$PY" - "$tmp/b2-forged" <<'EOF' &&
import hashlib, json, sys
d = sys.argv[1]
ev = json.load(open(d + "/evidence.json"))
r = ev["incident_reports"][1]
r["report"] = r["report"].replace("suspected_malicious", "suspected_malicious ")
body = json.dumps(ev, indent=2).encode()
open(d + "/evidence.json", "wb").write(body)
man = json.load(open(d + "/manifest.json"))
for f in man["files"]:
    if f["name"] == "evidence.json":
        f["sha256"], f["bytes"] = hashlib.sha256(body).hexdigest(), len(body)
open(d + "/manifest.json", "w").write(json.dumps(man, indent=2))
EOF
	openssl pkeyutl -sign -rawin -inkey "$tmp/state/keys/evidence.key" -in "$tmp/b2-forged/manifest.json" |
	base64 -w0 >"$tmp/b2-forged/manifest.sig" &&
	! "$WARDWALL" evidence verify "$tmp/b1" "$tmp/b2-forged" >"$tmp/out" 2>&1 &&
	grep -q 'incident inc-1 report 2: its sha256 is .*, not the .* listed beside it' "$tmp/out" &&
	! grep -q 'manifest.sig\|evidence.json: sha256' "$tmp/out"; then
	ok "a report changed inside a re-signed bundle fails: $(grep -m1 'listed beside' "$tmp/out" | sed "s|$tmp/||")"
else
	fail "a report changed inside a re-signed bundle fails verification" "$(cat "$tmp/out")"
fi

# ---- indicators for the CSIRT: STIX 2.1 and CSV ----
if "$WARDWALL" indicators export --since "$since" --out "$tmp/stix.json" 2>"$tmp/err" &&
	"$PY" tests/stix/validate.py "$tmp/stix.json" >"$tmp/check" 2>&1; then
	ok "indicators export --format stix: $(cat "$tmp/check") (OASIS schemas, identifiers, references, patterns)"
else
	fail "indicators export: a valid STIX 2.1 bundle" "$(cat "$tmp/err" "$tmp/check")"
fi
if "$PY" - "$tmp/stix.json" "$WS" "$BIO" "$BMS" >"$tmp/check" 2>&1 <<'EOF'; then
import json, sys
b, ws, bio, bms = json.load(open(sys.argv[1])), *sys.argv[2:]
objs = b["objects"]
ident = [o for o in objs if o["type"] == "identity"]
assert len(ident) == 1 and ident[0]["name"] == "example-hospital", ident
ind = {o["id"]: o for o in objs if o["type"] == "indicator"}
by = {o["labels"][0]: o for o in ind.values()}
assert sorted(by) == ["lateral", "new_talker", "scan"], sorted(by)
assert by["scan"]["pattern"] == "[ipv4-addr:value = '%s']" % ws, by["scan"]["pattern"]
lat = by["lateral"]["pattern"]
assert "src_ref.value = '%s'" % bio in lat and "dst_port = 445" in lat and "dst_port = 3389" in lat, lat
assert "dst_port = 8080" in by["new_talker"]["pattern"] and bms in by["new_talker"]["pattern"]
for s in (o for o in objs if o["type"] == "sighting"):
    assert s["where_sighted_refs"] == [ident[0]["id"]] and s["sighting_of_ref"] in ind
obs = [o for o in objs if o["type"] == "observed-data"]
scan_obs = [o for o in obs if o["first_observed"] == by["scan"]["valid_from"]][0]
assert scan_obs["number_observed"] >= 20, scan_obs
# Nothing beyond addresses, ports, protocols, counts, times, detectors and zone names.
allowed = {"type", "spec_version", "id", "created", "modified", "created_by_ref", "name", "identity_class",
           "sectors", "indicator_types", "description", "pattern", "pattern_type", "pattern_version",
           "valid_from", "labels", "first_observed", "last_observed", "number_observed", "object_refs",
           "first_seen", "last_seen", "count", "sighting_of_ref", "observed_data_refs",
           "where_sighted_refs", "value", "src_ref", "dst_port", "protocols"}
extra = {k for o in objs for k in o} - allowed
assert not extra, extra
print("3 indicators (scan by address, lateral by SMB and RDP, new talker by tcp/8080), sightings where the hospital is, %d objects, no other properties" % len(objs))
EOF
	ok "the STIX indicators name what was seen: $(cat "$tmp/check")"
else
	fail "the STIX indicators' content" "$(cat "$tmp/check")"
fi
if "$WARDWALL" indicators export --since "$since" --format csv >"$tmp/ind.csv" 2>"$tmp/err" &&
	"$PY" - "$tmp/ind.csv" "$WS" "$BIO" >"$tmp/check" 2>&1 <<'EOF'; then
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert open(sys.argv[1], "rb").read().count(b"\r\n") == len(rows) + 1
by = {r["detector"]: r for r in rows}
assert sorted(by) == ["lateral", "new_talker", "scan"]
assert by["scan"]["src"] == sys.argv[2] and int(by["scan"]["count"]) >= 20
assert by["lateral"]["src"] == sys.argv[3] and set(by["lateral"]["services"].split()) == {"tcp/445", "tcp/3389"}
print("%d rows" % len(rows))
EOF
	ok "indicators export --format csv: $(cat "$tmp/check")"
else
	fail "indicators export --format csv" "$(cat "$tmp/err" "$tmp/check")"
fi

# ---- incident.html in headless Chromium ----
CHROMIUM=$(command -v chromium || true)
if [ -z "$CHROMIUM" ]; then
	ok "incident.html in Chromium # SKIP chromium is not installed (make deps)"
else
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$tmp/chrome" --dump-dom "file://$tmp/r-notification/incident.html" \
		>"$tmp/dom.html" 2>/dev/null
	if "$PY" - "$tmp/dom.html" "$tmp/r-notification/incident.json" >"$tmp/check" 2>&1 <<'EOF'; then
import json, re, sys
dom, r = open(sys.argv[1]).read(), json.load(open(sys.argv[2]))
assert 'id="draft"' in dom and "DRAFT" in dom and "Incident notification (within 72 hours)" in dom
assert r["report"]["deadline"] in dom
todo = re.findall(r'<td class="todo">TO BE COMPLETED BY A PERSON</td>', dom)
assert len(todo) == len(r["to_complete"]), (len(todo), len(r["to_complete"]))
rows = re.findall(r"<tr>", dom.split('id="alerts"')[1].split("</table>")[0])
assert len(rows) == 1 + 3, len(rows)
assert "INC-4711" in dom and "not logged" in dom
assert not re.search(r'(src|href)="https?:', dom), "an external asset"
assert "<script" not in dom
print("%d fields to complete, 3 alerts, the quarantine, the limits; self-contained" % len(todo))
EOF
		ok "incident.html renders in headless Chromium: $(cat "$tmp/check")"
	else
		fail "incident.html renders in headless Chromium" "$(cat "$tmp/check")"
	fi
fi
finish
