#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""A policy with many zones, for tests/suites/20-zone-scale.sh.

    zones-policy.py N

N dual-stack zones z0..z<N-1> (a /24 and a /64 each); every 10th zone in monitor mode; every 5th
with a host group (a /28 of its own). Flows: z<i> to z<i+1> and to z0 (https), and from each host
group to the next zone's host group or zone (ssh), so that every zone is a source and a
destination, and the pair index, source chains and defaults all grow with N.

More than 255 zones do not fit the default enforcement.mark_bits (0xffff0000, an 8-bit zone field):
the policy takes all 32 bits, a 16-bit zone field (65,535 zones).
"""
import json
import sys

n = int(sys.argv[1])
zones, flows = {}, []
for i in range(n):
    z = {"networks": ["10.%d.%d.0/24" % (i // 256, i % 256), "fd00:%x::/64" % (i + 1)]}
    if i % 10 == 0:
        z["mode"] = "monitor"
    if i % 5 == 0:
        z["hosts"] = {"srv": ["10.%d.%d.16/28" % (i // 256, i % 256)]}
    zones["z%d" % i] = z
for i in range(1, n):
    to = ["z%d" % ((i + 1) % n)] + (["z0"] if (i + 1) % n else [])
    flows.append({"id": "f%d" % i, "from": "z%d" % i, "to": to, "services": ["https"],
                  "action": "allow"})
    if i % 5 == 0:
        flows.append({"id": "h%d" % i, "from": "z%d/srv" % i, "to": "z%d" % ((i + 1) % n),
                      "services": ["ssh"], "action": "allow"})
json.dump({"wardwall": 1, "name": "zones-%d" % n,
           "defaults": {"between_zones": "deny", "within_zone": "allow"},
           "zones": zones, "flows": flows, "enforcement": {"mode": "gateway", "mark_bits": "0xffffffff"}},
          sys.stdout, indent=1)
