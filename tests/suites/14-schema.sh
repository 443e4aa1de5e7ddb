#!/bin/bash
# policies/wardwall.schema.json against the parser: every shipped policy (and its canonical form)
# validates, and snippets the parser rejects for their shape are rejected by the schema too.
# Each snippet also goes through `wardwall check`, so the schema cannot drift from the parser
# unnoticed. Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-build/wardwall}

# Debian's python3-jsonschema lives under /usr/bin/python3; another python3 first in PATH may
# lack it.
PY=
for p in /usr/bin/python3 python3; do
	if "$p" -c 'import jsonschema; jsonschema.Draft202012Validator' 2>/dev/null; then
		PY=$p
		break
	fi
done
if [ -z "$PY" ]; then
	echo "not ok 1 - python3-jsonschema with draft 2020-12 support is installed (make deps)"
	exit 1
fi

exec "$PY" - "$WARDWALL" <<'EOF'
import copy, glob, json, subprocess, sys

import jsonschema

wardwall = sys.argv[1]
schema = json.load(open("policies/wardwall.schema.json"))
n = 0
failed = 0


def tap(ok, what, detail=None):
    global n, failed
    n += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {n} - {what}")
    if not ok and detail:
        for line in str(detail).splitlines():
            print(f"# {line}")


def schema_errors(doc):
    v = jsonschema.Draft202012Validator(schema)
    return [f"{e.json_path}: {e.message}" for e in v.iter_errors(doc)]


def check(text):
    r = subprocess.run([wardwall, "check", "-"], input=text.encode(), capture_output=True)
    return r.returncode, r.stdout.decode() + r.stderr.decode()


try:
    jsonschema.Draft202012Validator.check_schema(schema)
    tap(True, "the schema is a valid draft 2020-12 schema")
except jsonschema.SchemaError as e:
    tap(False, "the schema is a valid draft 2020-12 schema", e.message)

policies = sorted(f for f in glob.glob("policies/*.json") if not f.endswith(".schema.json"))
tap(len(policies) > 0, "there are policies to validate")
for f in policies:
    errs = schema_errors(json.load(open(f)))
    tap(not errs, f"{f} validates", "\n".join(errs[:5]))
    r = subprocess.run([wardwall, "show", "--canonical", f], capture_output=True)
    if r.returncode:
        tap(False, f"{f}: canonical form validates", r.stderr.decode())
    else:
        errs = schema_errors(json.loads(r.stdout))
        tap(not errs, f"{f}: canonical form validates", "\n".join(errs[:5]))

BASE = {
    "wardwall": 1,
    "name": "schema-test",
    "zones": {
        "ehr": {"networks": ["10.20.2.0/24", "fd00:20:2::/64"], "hosts": {"fhir": "10.20.2.30"}},
        "guest": {"networks": "172.16.0.0/16", "untrusted": True},
    },
    "flows": [{"from": "guest", "to": "ehr/fhir", "services": ["https"], "action": "deny"}],
}


def variant(edit):
    doc = copy.deepcopy(BASE)
    edit(doc)
    return doc


def flow(doc):
    return doc["flows"][0]


def setf(**kw):
    return lambda d: flow(d).update(kw)


def service(*terms):
    def edit(d):
        d["services"] = {"svc": list(terms)}
        flow(d)["services"] = "svc"
    return edit


def gateways(d):
    zones = sorted(d["zones"])
    return {"core": {"interfaces": ["lan-a"], "zones": zones[:1], "xdp": "native"},
            "edge": {"mode": "host", "zones": zones[1:]}}


def with_gateways(**over):
    def edit(d):
        g = gateways(d)
        g["edge"].update(over)
        d["gateways"] = g
    return edit


# Shapes both the schema and the parser must accept.
valid = [
    ("the base snippet", lambda d: None),
    ("a single network as a string", lambda d: d["zones"]["ehr"].update(networks="10.20.2.0/24")),
    ("a service as a bare list of terms, ranges as strings",
     service({"proto": "tcp", "ports": [8443, "9000-9010"]}, {"proto": "icmp", "types": ["0-8"]})),
    ("a protocol given by number, with ports", service({"proto": 6, "ports": [2575]})),
    ("a protocol without ports: all of it", service({"proto": "gre"})),
    ("a validity window with an offset", setf(valid={"until": "2027-02-28T10:00:00+01:00"})),
    ("a validity window without seconds", setf(valid={"from": "2027-02-28T08:00Z", "until": "2027-02-28T10:00+01:00"})),
    ("\"*\" alone in a list", setf(to=["*"])),
    ("a zone group named in a flow", lambda d: (d.update(groups={"clinical": ["ehr"]}),
                                                 flow(d).update({"from": "clinical"}))),
    ("networks minus networks with address sets", lambda d: d["zones"].update(
        inet={"networks": ["0.0.0.0/0", "::/0"], "except": ["special-purpose", "multicast"]})),
    ("a service narrowed to one protocol", setf(services=["tcp/ldap", "udp/dns"])),
    ("ICMP types by name", service({"proto": "icmpv6", "types": ["echo-request", "packet-too-big", "1-4"]})),
    ("a flow with exceptions", lambda d: flow(d).update({"except": {"services": ["smb"]}})),
    ("an invariant with a service list and services in except", lambda d: d.update(invariants=[
        {"id": "guest-out", "expect": "deny", "from": "guest", "to": "*", "except": ["guest", "dns"],
         "service": ["https", "tcp/ldap"]}])),
    ("a zone of one address set", lambda d: d["zones"].update(lab={"networks": "rfc1918", "except": "10.20.0.0/16"})),
    ("an invariant with except and service", lambda d: d.update(invariants=[
        {"id": "guest-out", "expect": "deny", "from": "guest", "to": "*", "except": "guest",
         "service": "https"}])),
    ("xdp with interfaces", lambda d: d.update(enforcement={"xdp": "native", "interfaces": ["lan-ehr", "wan"]})),
    ("bridge mode with its ports", lambda d: d.update(enforcement={"mode": "bridge", "interfaces": ["port-1", "port-2"], "xdp": "generic"})),
    ("gateways serving every zone", lambda d: d.update(gateways=gateways(d))),
    ("mark bits of its own, in capitals", lambda d: d.update(enforcement={"mark_bits": "0X00000FF0"})),
    ("mark bits beside gateways, set once for all",
     lambda d: d.update(gateways=gateways(d), enforcement={"log_rate": 9, "mark_bits": "0xff000000"})),
    ("SIEM outputs", lambda d: d.update(siem=[
        {"to": "tls://[fd00::9]:6514", "format": "cef", "send": ["alerts"], "facility": "authpriv",
         "sd_id": "wardwall@32473", "ca": "/etc/wardwall/ca.pem", "cert": "/c.pem", "key": "/k.pem",
         "queue": 500},
        {"to": "unix:/dev/log"}, {"to": "udp://siem.example"}, {"to": "tcp://10.0.0.9:601", "format": "json"}])),
]
for what, edit in valid:
    doc = variant(edit)
    errs = schema_errors(doc)
    rc, out = check(json.dumps(doc))
    tap(not errs and rc == 0, f"accepted by schema and parser: {what}",
        "\n".join(errs) + (f"\nwardwall check exit {rc}:\n{out}" if rc else ""))

# Shapes the parser rejects; the schema must reject them too.
invalid = [
    ("no \"wardwall\" version", lambda d: d.pop("wardwall")),
    ("language version 2", lambda d: d.update(wardwall=2)),
    ("an unknown top-level field", lambda d: d.update(zone={})),
    ("no zones at all", lambda d: d.update(zones={})),
    ("an empty zone group", lambda d: d.update(groups={"clinical": []})),
    ("an empty flow exception", lambda d: flow(d).update({"except": {}})),
    ("an unknown field in a flow exception", lambda d: flow(d).update({"except": {"service": ["smb"]}})),
    ("an unknown ICMP type name", service({"proto": "icmp", "types": ["echo-requets"]})),
    ("a service narrowed to \"any\"", setf(services=["any/ldap"])),
    ("an unknown address set", lambda d: d["zones"]["ehr"].update(networks=["rfc-1918"])),
    ("an empty except", lambda d: d["zones"]["ehr"].update(networks=["rfc1918"], except_=[]) or d["zones"]["ehr"].update({"except": d["zones"]["ehr"].pop("except_")})),
    ("a misspelt flow field", lambda d: flow(d).update(servces=flow(d).pop("services"))),
    ("a flow without an action", lambda d: flow(d).pop("action")),
    ("action \"drop\"", setf(action="drop")),
    ("a zone name with a dot", lambda d: d["zones"].update({"ehr.old": {"networks": "10.9.0.0/16"}})),
    ("a zone name of 33 characters", lambda d: d["zones"].update({"z" * 33: {"networks": "10.9.0.0/16"}})),
    ("a zone without networks", lambda d: d["zones"]["guest"].pop("networks")),
    ("empty networks", lambda d: d["zones"]["guest"].update(networks=[])),
    ("a prefix length of 33", lambda d: d["zones"]["guest"].update(networks="172.16.0.0/33")),
    ("an IPv4 octet with a leading zero", lambda d: d["zones"]["guest"].update(networks="172.016.0.0/16")),
    ("port 0", service({"proto": "tcp", "ports": [0]})),
    ("port 65536", service({"proto": "udp", "ports": ["1000-65536"]})),
    ("ports given as a number, not a list", service({"proto": "tcp", "ports": 443})),
    ("ports on icmp", service({"proto": "icmp", "ports": [8]})),
    ("types on tcp", service({"proto": "tcp", "types": [8]})),
    ("ports on \"any\"", service({"proto": "any", "ports": [80]})),
    ("ports and types in one term", service({"proto": "icmp", "types": [8], "ports": [1]})),
    ("protocol 256", service({"proto": 256})),
    ("an unknown protocol name", service({"proto": "TCP"})),
    ("a service with no terms", lambda d: d.update(services={"svc": {"description": "x", "terms": []}})),
    ("\"*\" in a list with a zone", setf(to=["*", "ehr"])),
    ("the same endpoint twice", setf(to=["ehr", "ehr"])),
    ("an empty service list", setf(services=[])),
    ("a window with fractional seconds", setf(valid={"from": "2027-01-12T08:00:00.5Z"})),
    ("a window with one-digit seconds", setf(valid={"from": "2027-01-12T08:00:0Z"})),
    ("a window on 29 February 2027", setf(valid={"from": "2027-02-29T08:00:00Z"})),
    ("an empty window", setf(valid={})),
    ("log as a string", setf(log="all")),
    ("an invariant without id", lambda d: d.update(invariants=[{"expect": "deny", "from": "guest", "to": "ehr"}])),
    ("except \"*\"", lambda d: d.update(invariants=[
        {"id": "x", "expect": "deny", "from": "guest", "to": "*", "except": "*"}])),
    ("xdp without interfaces", lambda d: d.update(enforcement={"xdp": "native"})),
    ("bridge mode without ports", lambda d: d.update(enforcement={"mode": "bridge"})),
    ("bridge mode with an empty port list", lambda d: d.update(enforcement={"mode": "bridge", "interfaces": []})),
    ("an interface name with a slash", lambda d: d.update(enforcement={"interfaces": ["lan/ehr"]})),
    ("an interface name of 16 characters", lambda d: d.update(enforcement={"interfaces": ["x" * 16]})),
    ("log_rate 0", lambda d: d.update(enforcement={"log_rate": 0})),
    ("mark bits without \"0x\"", lambda d: d.update(enforcement={"mark_bits": "ffff0000"})),
    ("mark bits of 9 hex digits", lambda d: d.update(enforcement={"mark_bits": "0x0ffff0000"})),
    ("mark bits as a number", lambda d: d.update(enforcement={"mark_bits": 4294901760})),
    ("mark bits in a gateway", with_gateways(mark_bits="0xffff0000")),
    ("a SIEM target of an unknown scheme", lambda d: d.update(siem=[{"to": "syslog://x"}])),
    ("a SIEM output without a target", lambda d: d.update(siem=[{"format": "cef"}])),
    ("a SIEM output in an unknown format", lambda d: d.update(siem=[{"to": "udp://x", "format": "leef"}])),
    ("a SIEM queue of 0", lambda d: d.update(siem=[{"to": "udp://x", "queue": 0}])),
    ("an SD-ID without an enterprise number", lambda d: d.update(siem=[{"to": "udp://x", "sd_id": "ww"}])),
    ("five SIEM outputs", lambda d: d.update(siem=[{"to": "udp://x"}] * 5)),
    ("SIEM as an object", lambda d: d.update(siem={"to": "udp://x"})),
    ("a gateway without zones", lambda d: (d.update(gateways=gateways(d)), d["gateways"]["edge"].pop("zones"))),
    ("a gateway with an unknown field", with_gateways(iface=["x"])),
    ("a gateway serving a zone twice", with_gateways(zones=["guest", "guest"])),
    ("gateway mode \"bridge\"", with_gateways(mode="bridge")),
    ("gateway xdp without interfaces", with_gateways(xdp="generic")),
    ("enforcement interfaces beside gateways",
     lambda d: d.update(gateways=gateways(d), enforcement={"interfaces": ["wan"]})),
    ("an empty gateways section", lambda d: d.update(gateways={})),
]
for what, edit in invalid:
    doc = variant(edit)
    errs = schema_errors(doc)
    rc, out = check(json.dumps(doc))
    tap(bool(errs) and rc == 1, f"rejected by schema and parser: {what}",
        ("the schema accepts it" if not errs else "") +
        (f"\nwardwall check exit {rc}:\n{out}" if rc != 1 else ""))

# A name may not end in a newline; Python's "$" alone would let that through.
doc = variant(lambda d: d["zones"].update({"lab\n": {"networks": "10.9.0.0/16"}}))
tap(bool(schema_errors(doc)), "rejected by the schema: a zone name ending in a newline")

sys.exit(1 if failed else 0)
EOF
