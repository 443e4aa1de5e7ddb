# SPDX-License-Identifier: GPL-2.0-only
"""The nftables counter that counts a `wardwall query --json` verdict, as compile_nft.h names it.

A flow's decision is counted in "flow/<id>". The defaults are counted per source zone, never per
zone pair: "default/<z>/<z>" within zone z, "default/<z>/_monitor" towards any zone in monitor
mode from a zone z not in monitor mode when the default between zones is deny, and
"default/<z>/_other" for the rest of what leaves z ("-": no zone). Written from the policy's text, independently of
the C code, so that the suites check the compiler against it.
"""
import json


class Names:
    def __init__(self, policy_path):
        p = json.load(open(policy_path))
        self.between = p.get("defaults", {}).get("between_zones", "deny")
        self.monitor = {z for z, v in p["zones"].items() if v.get("mode") == "monitor"}

    def default(self, src, dst):
        src, dst = src or "-", dst or "-"
        if src == dst and src != "-":
            return "default/%s/%s" % (src, src)
        if self.between != "allow" and dst in self.monitor and src not in self.monitor:
            return "default/%s/_monitor" % src
        return "default/%s/_other" % src

    def counter(self, v):
        if v["flow"]:
            return "flow/" + v["flow"]
        return self.default(v["from"]["zone"], v["to"]["zone"])
