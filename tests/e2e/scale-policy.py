#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A policy of N flows for the scale test: scale-policy.py N OUT [--change]

Twenty dual-stack zones, N allow flows spread over the 380 pairs of distinct zones, each flow on
a tcp port of its own within its pair (so none shadows another and every flow is compiled:
N flow chains, N counters and 380 port maps of N/380 elements). --change moves flow f050000
(or the middle flow) to port 65000, which no other flow uses: a one-flow change.

tests/bench/genpolicy.py makes the benchmark's policies (150 zones, hosts, windows); this one is
shaped to apply in seconds, so the suite can afford 100k flows on every run.
"""
import json
import sys

n, out = int(sys.argv[1]), sys.argv[2]
change = "--change" in sys.argv[3:]
zones = 20
pairs = [(a, b) for a in range(zones) for b in range(zones) if a != b]
pol = {
    "wardwall": 1,
    "name": "scale-%d" % n,
    "defaults": {"between_zones": "deny", "within_zone": "deny", "log": "none"},
    "zones": {"z%02d" % z: {"networks": ["10.%d.0.0/16" % (z + 1), "fd00:%x::/48" % (z + 1)]}
              for z in range(zones)},
    "services": {},
    "flows": [],
    "enforcement": {"mode": "gateway", "interfaces": ["wwscale0"], "xdp": "off"},
}
target = min(50000, n // 2)
for i in range(n):
    a, b = pairs[i % len(pairs)]
    port = 65000 if change and i == target else 1024 + i // len(pairs)
    pol["services"].setdefault("p%d" % port, {"terms": [{"proto": "tcp", "ports": [port]}]})
    pol["flows"].append({"id": "f%06d" % i, "from": "z%02d" % a, "to": "z%02d" % b,
                         "services": ["p%d" % port], "action": "allow"})
with open(out, "w") as f:
    json.dump(pol, f, indent=1)
