#!/usr/bin/python3
"""Validates a STIX 2.1 bundle offline: against the OASIS TC's JSON schemas (vendored in
cti-stix2-json-schemas/, BSD-3-Clause, from github.com/oasis-open/cti-stix2-json-schemas at
3bf9e69), then the rules of the specification the schemas do not express, each checked here:
identifiers (2.9: RFC 4122 UUIDs; version 5 in the STIX namespace over the ID contributing
properties for SCOs, version 4 for the others), references resolving inside the bundle,
timestamps (millisecond precision for created/modified), number_observed and count bounds,
first <= last, and pattern syntax (brackets, quoted strings). Prints a summary; exits 1 on the
first failure. Usage: validate.py BUNDLE.json"""
import json, os, re, sys, uuid

import jsonschema

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cti-stix2-json-schemas")
store = {}
for root, _, files in os.walk(here):
    for f in files:
        if f.endswith(".json"):
            s = json.load(open(os.path.join(root, f)))
            store[s["$id"]] = s
base = "http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/"

def validator(rel):
    s = store[base + rel]
    return jsonschema.Draft202012Validator(s, resolver=jsonschema.RefResolver(base + rel, s, store=store))

bundle = json.load(open(sys.argv[1]))
validator("common/bundle.json").validate(bundle)
per_type = {"identity": "sdos/identity.json", "indicator": "sdos/indicator.json",
            "observed-data": "sdos/observed-data.json", "sighting": "sros/sighting.json",
            "ipv4-addr": "observables/ipv4-addr.json", "ipv6-addr": "observables/ipv6-addr.json",
            "network-traffic": "observables/network-traffic.json"}
objs = bundle["objects"]
ids = {}
for o in objs:
    assert o["type"] in per_type, "unexpected type %s" % o["type"]
    validator(per_type[o["type"]]).validate(o)
    assert o["id"] not in ids, "duplicate id %s" % o["id"]
    ids[o["id"]] = o

NS = uuid.UUID("00abedb4-aa42-466c-9c01-fed23315a9b7")
def jcs(v):  # RFC 8785 for the strings, integers and lists used here
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
CONTRIB = {"ipv4-addr": ["value"], "ipv6-addr": ["value"],
           "network-traffic": ["start", "end", "src_ref", "dst_ref", "src_port", "dst_port", "protocols", "extensions"]}
MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3,}Z$")
TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
t, u = bundle["id"].split("--", 1)
assert uuid.UUID(u).version == 4 and str(uuid.UUID(u)) == u
for o in objs:
    typ, u = o["id"].split("--", 1)
    assert typ == o["type"], o["id"]
    uu = uuid.UUID(u)
    assert str(uu) == u and uu.variant == uuid.RFC_4122, o["id"]
    if typ in CONTRIB:
        name = jcs({k: o[k] for k in CONTRIB[typ] if k in o})
        want = uuid.uuid5(NS, name)
        assert uu == want, "%s: want %s (uuid5 of %s)" % (o["id"], want, name)
        assert "created" not in o
    else:
        assert uu.version == 4, o["id"]
        assert MS.match(o["created"]) and MS.match(o["modified"]), (o["created"], o["modified"])
        assert o["spec_version"] == "2.1"
    for k, v in o.items():
        if k.endswith("_ref"):
            assert v in ids, "%s.%s -> %s: not in the bundle" % (o["id"], k, v)
        if k.endswith("_refs"):
            for r in v:
                assert r in ids, "%s.%s -> %s: not in the bundle" % (o["id"], k, r)
    if typ == "observed-data":
        assert 1 <= o["number_observed"] <= 999999999
        assert TS.match(o["first_observed"]) and o["first_observed"] <= o["last_observed"]
    if typ == "sighting":
        assert 0 <= o["count"] <= 999999999 and o["first_seen"] <= o["last_seen"]
        assert ids[o["sighting_of_ref"]]["type"] == "indicator"
        assert all(ids[r]["type"] == "identity" for r in o["where_sighted_refs"])
        assert all(ids[r]["type"] == "observed-data" for r in o["observed_data_refs"])
    if typ == "indicator":
        p = o["pattern"]
        assert o["pattern_type"] == "stix" and TS.match(o["valid_from"])
        # observation expressions joined by OR/AND, each [comparison (AND comparison)*]
        obs = r"\[[a-z0-9-]+:[a-z_.*\[\]]+ (=|IN) ('[^'\\]*'|\d+)( AND [a-z0-9-]+:[a-z_.*\[\]]+ (=|IN) ('[^'\\]*'|\d+))*\]"
        assert re.fullmatch(r"%s( (OR|AND) %s)*" % (obs, obs), p), "pattern: " + p
    if typ == "network-traffic":
        assert "src_ref" in o or "dst_ref" in o
        for k in ("src_ref", "dst_ref"):
            if k in o:
                assert ids[o[k]]["type"] in ("ipv4-addr", "ipv6-addr")
counts = {}
for o in objs:
    counts[o["type"]] = counts.get(o["type"], 0) + 1
print("valid STIX 2.1: " + ", ".join("%d %s" % (n, k) for k, n in sorted(counts.items())))
