#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Generate a large, valid, deterministic wardwall policy for the benchmarks.

    genpolicy.py --flows N [--zones Z] [--seed S] [--change] [-o FILE]

The shape follows a hospital group: ~150 dual-stack zones (wards, ICUs, imaging, labs, EHR,
identity, building management in monitor mode, guest Wi-Fi, a vendor DMZ, the internet), several
host groups per zone (single addresses and /28 subnets), built-in services (https, dicom, hl7-mllp,
ssh, ...) and custom ones (single ports, two protocols, port ranges), flows between zones and hosts
(some from several sources at once, some within a zone), a few deny flows, a few monitor flows,
a few time windows and a few invariants that hold.

Two flows that meet in the same pair of zones never share a service, and services never share a
port, so no flow shadows another: `wardwall check` passes with only a few warnings (unused zones,
monitor-only invariants) and every flow is compiled.

--change emits the same policy with exactly one flow changed: flow "bench-change-target" gets one
more service (a custom service on one more tcp port). Same seed, same output, byte for byte.
"""
import argparse
import ipaddress
import json
import random
import sys

# (category, criticality, weight as a source, weight as a destination, host names)
CATEGORIES = [
    ("ward", "medium", 6, 1, ["nurse-station", "printer", "kiosk", "badge-reader"]),
    ("icu", "life-critical", 3, 1, ["central-monitor", "gateway", "vent-hub"]),
    ("theatre", "life-critical", 2, 1, ["anaesthesia-gw", "video", "integration"]),
    ("workstations", "medium", 8, 1, ["citrix", "print-srv", "vdi"]),
    ("ehr", "high", 2, 10, ["his-app", "interface-engine", "fhir", "db", "reporting"]),
    ("pacs", "high", 2, 8, ["pacs-core", "ris", "vna", "viewer"]),
    ("modality", "high", 3, 2, ["ct", "mr", "us", "xr", "mammo"]),
    ("lab", "high", 2, 5, ["lis", "analyser-gw", "middleware"]),
    ("pharmacy", "high", 2, 4, ["dispensing", "robot", "pis"]),
    ("biomed", "high", 2, 5, ["pump-server", "monitor-gw", "alarm-mgr"]),
    ("infusion", "life-critical", 3, 1, ["pump-dock", "pump-gw"]),
    ("identity", "high", 1, 9, ["dc", "ntp", "pki", "radius"]),
    ("mgmt", "high", 2, 4, ["jump", "siem", "backup", "monitoring"]),
    ("bms", "medium", 2, 2, ["bms-server", "hvac-ctl", "medgas-alarm"]),
    ("research", "medium", 3, 2, ["hpc", "datalake", "notebook"]),
    ("admin", "medium", 4, 2, ["erp", "hr", "mail"]),
    ("voip", "low", 3, 2, ["pbx", "sbc", "paging"]),
    ("dmz", "medium", 1, 3, ["web", "proxy", "vpn-portal", "portal"]),
]

# Built-in services (controller/policy/services.c) whose terms share no port with each other.
BUILTINS = [
    ("https", 30), ("http", 4), ("ssh", 6), ("dicom", 12), ("dicom-tls", 6), ("hl7-mllp", 12),
    ("dns", 3), ("ntp", 3), ("ldap", 2), ("ldaps", 3), ("kerberos", 2), ("smb", 4), ("rdp", 4),
    ("snmp", 3), ("snmp-trap", 2), ("syslog", 3), ("syslog-tls", 3), ("modbus", 1), ("bacnet", 1),
    ("ping", 3), ("dhcp", 1),
]
SVC_WORDS = ["epic", "cerner", "agfa", "sectra", "philips", "ge", "siemens", "baxter", "bbraun",
             "draeger", "omnicell", "roche", "abbott", "cisco", "citrix", "vmware", "veeam",
             "splunk", "honeywell", "schneider", "zebra", "vocera", "spok", "ascom", "mindray"]
SVC_KINDS = ["api", "feed", "sync", "agent", "console", "bridge", "store", "notify"]
DEVICE_CATS = {"modality", "infusion", "icu", "theatre"}
T = "T00:00:00Z"


def fmt(net):
    return str(net)


class Gen:
    def __init__(self, args):
        self.a = args
        self.r = random.Random(args.seed)
        self.zones = {}      # name -> zone object (JSON)
        self.zinfo = []      # (name, category, hosts list)
        self.services = {}   # custom services (JSON)
        self.svc_pool = []   # (name, weight)
        self.flows = []
        self.used = {}       # (src zone, dst zone) -> set of services; None: closed by a deny any
        self.next_port = 20000

    # ---- zones ----

    def make_zones(self):
        r = self.r
        counts = {}
        i = 0
        while len(self.zinfo) < self.a.zones - 3:
            cat, crit, ws, wd, hostnames = CATEGORIES[i % len(CATEGORIES)]
            i += 1
            counts[cat] = counts.get(cat, 0) + 1
            name = "%s-%02d" % (cat, counts[cat])
            z = len(self.zinfo) + 1  # 1..: the second octet, the v6 group
            v4 = [ipaddress.ip_network("10.%d.0.0/20" % z)]
            v6 = [ipaddress.ip_network("fd00:%x::/64" % z)]
            if r.random() < 0.4:
                v4.append(ipaddress.ip_network("10.%d.32.0/22" % z))
            if r.random() < 0.3:
                v6.append(ipaddress.ip_network("fd00:%x:1::/64" % z))
            hosts = {}
            nh = r.randint(3, 7)
            names = list(hostnames)
            k = 1
            while len(names) < nh:
                names.append("srv-%d" % k)
                k += 1
            for h, hn in enumerate(names[:nh]):
                if r.random() < 0.15:  # a small subnet: a device group
                    addrs = ["10.%d.%d.%d/28" % (z, 8 + h // 16, (h % 16) * 16),
                             "fd00:%x:0:0:1:%x::/124" % (z, h)]
                else:
                    addrs = ["10.%d.1.%d" % (z, 10 + h), "fd00:%x::%x" % (z, 0x10 + h)]
                    if r.random() < 0.25:  # a cluster: two nodes
                        addrs += ["10.%d.1.%d" % (z, 100 + h), "fd00:%x::%x" % (z, 0x100 + h)]
                hosts[hn] = addrs
            zone = {"description": "%s zone %d" % (cat, counts[cat]), "criticality": crit,
                    "networks": [fmt(n) for n in v4 + v6], "hosts": hosts}
            if cat == "bms":
                zone["mode"] = "monitor"
            self.zones[name] = zone
            self.zinfo.append((name, cat, list(hosts), ws, wd))
        self.zones["guest"] = {"description": "Guest and patient Wi-Fi", "criticality": "low",
                               "untrusted": True,
                               "networks": ["172.16.0.0/16", "fd00:172:16::/48"]}
        self.zones["vendor"] = {"description": "Vendor remote-access DMZ", "criticality": "low",
                                "untrusted": True,
                                "networks": ["192.168.250.0/24", "fd00:250::/64"],
                                "hosts": {"vpn": ["192.168.250.0/28", "fd00:250::/124"]}}
        self.zones["internet"] = {"description": "Everything outside the hospital",
                                  "networks": ["0.0.0.0/0", "::/0"]}
        self.inside = [zi for zi in self.zinfo]
        self.src_w = [zi[3] for zi in self.inside]
        self.dst_w = [zi[4] for zi in self.inside]

    # ---- services ----

    def make_services(self):
        r = self.r
        for name, w in BUILTINS:
            self.svc_pool.append((name, w))
        for k in range(self.a.custom_services):
            name = "%s-%s-%d" % (SVC_WORDS[k % len(SVC_WORDS)], SVC_KINDS[k % len(SVC_KINDS)],
                                 k // len(SVC_WORDS) + 1)
            x = r.random()
            p = self.next_port
            if x < 0.70:    # one tcp port
                terms = [{"proto": "tcp", "ports": [p]}]
                self.next_port += 1
            elif x < 0.85:  # tcp and udp
                terms = [{"proto": "tcp", "ports": [p]}, {"proto": "udp", "ports": [p, p + 1]}]
                self.next_port += 2
            else:           # a port range (and sometimes a single port)
                n = r.choice([4, 10, 16, 100])
                ports = ["%d-%d" % (p, p + n - 1)]
                if r.random() < 0.5:
                    ports.append(p + n)
                    n += 1
                terms = [{"proto": r.choice(["tcp", "udp"]), "ports": ports}]
                self.next_port += n
            self.services[name] = {"description": "%s %s (vendor port list)" %
                                   (SVC_WORDS[k % len(SVC_WORDS)], SVC_KINDS[k % len(SVC_KINDS)]),
                                   "terms": terms}
            self.svc_pool.append((name, 1))
        self.svc_names = [s for s, _ in self.svc_pool]
        self.svc_w = [w for _, w in self.svc_pool]

    # ---- flows ----

    def free(self, pairs, svcs):
        for p in pairs:
            u = self.used.get(p, set())
            if u is None or any(s in u for s in svcs):
                return False
        return True

    def take(self, pairs, svcs):
        for p in pairs:
            self.used.setdefault(p, set()).update(svcs)

    def close(self, pairs):
        for p in pairs:
            if self.used.get(p):
                return False
        for p in pairs:
            self.used[p] = None
        return True

    def endpoint(self, zi, p_host):
        name, _, hosts, _, _ = zi
        if hosts and self.r.random() < p_host:
            return "%s/%s" % (name, self.r.choice(hosts))
        return name

    def add(self, flow, explicit_id=True):
        if explicit_id:
            flow = dict([("id", "f%06d" % len(self.flows))] + list(flow.items()))
        self.flows.append(flow)

    def fixed_flows(self):
        """Flows every generated policy has: guests, vendors, the internet, invariant targets."""
        by_cat = {}
        for zi in self.inside:
            by_cat.setdefault(zi[1], []).append(zi)
        self.by_cat = by_cat
        ws, ehr = by_cat["workstations"][0], by_cat["ehr"][0]
        self.add({"id": "ws-to-ehr", "from": ws[0], "to": ehr[0] + "/his-app",
                  "services": ["https"], "action": "allow", "owner": "clinical-apps",
                  "ticket": "CHG-1001", "controls": ["NIS2 21(2)(i)", "CIR 6.8"]}, False)
        self.take([(ws[0], ehr[0])], ["https"])
        self.add({"id": "guest-to-internet", "from": "guest", "to": "internet",
                  "services": ["http", "https", "dns"], "action": "allow"}, False)
        self.take([("guest", "internet")], ["http", "https", "dns"])
        clinical = [zi[0] for c in ("ehr", "pacs", "lab", "icu", "infusion") for zi in by_cat[c]]
        if self.close([("guest", z) for z in clinical]):
            self.add({"id": "guest-no-clinical", "from": "guest", "to": clinical,
                      "services": ["any"], "action": "deny", "owner": "security"}, False)
        devices = [zi[0] for c in ("modality", "infusion") for zi in by_cat[c]]
        if self.close([(z, "internet") for z in devices]):
            self.add({"id": "devices-offline", "from": devices, "to": "internet",
                      "services": ["any"], "action": "deny", "owner": "biomed"}, False)
        users = [zi[0] for c in ("workstations", "admin", "research") for zi in by_cat[c]]
        self.add({"id": "users-to-internet", "from": users, "to": "internet",
                  "services": ["https", "http"], "action": "allow", "owner": "infrastructure"},
                 False)
        self.take([(z, "internet") for z in users], ["https", "http"])
        dmz = by_cat["dmz"][0]
        self.add({"id": "internet-to-portal", "from": "internet", "to": dmz[0] + "/web",
                  "services": ["https", "http"], "action": "allow"}, False)
        self.take([("internet", dmz[0])], ["https", "http"])
        # Vendor maintenance windows (time windows): future, current, open-ended.
        targets = [zi for c in ("modality", "pacs", "lab", "pharmacy") for zi in by_cat[c]]
        windows = [("2031-03-01" + T, "2031-03-01T06:00:00Z"), ("2024-01-01" + T, "2036-01-01" + T),
                   ("2030-06-15T22:00:00Z", "2030-06-16T02:00:00Z"), (None, "2038-01-01" + T),
                   ("2032-01-01" + T, None)]
        self.vendor_targets = []
        for k in range(self.a.windows):
            zi = targets[(k * 7) % len(targets)]
            to = "%s/%s" % (zi[0], zi[2][k % len(zi[2])])
            svc = ["ssh", "https", "rdp"][k % 3]
            if not self.free([("vendor", zi[0])], [svc]):
                continue
            fr, un = windows[k % len(windows)]
            valid = {}
            if fr:
                valid["from"] = fr
            if un:
                valid["until"] = un
            self.add({"from": "vendor/vpn", "to": to, "services": [svc], "action": "allow",
                      "valid": valid, "owner": "vendor-mgmt", "ticket": "CHG-9%03d" % k,
                      "controls": ["NIS2 21(2)(d)", "CIR 6.7"]})
            self.take([("vendor", zi[0])], [svc])
            self.vendor_targets.append(to)

    def random_flow(self):
        r = self.r
        x = r.random()
        action, mode = "allow", None
        if x < self.a.deny_rate:
            action = "deny"
        elif x < self.a.deny_rate + self.a.monitor_rate:
            action, mode = "deny", "monitor"
        multi = r.random() < 0.04
        zs = r.choices(self.inside, weights=self.src_w, k=r.choice([2, 3, 4, 5]) if multi else 1)
        zs = list({z[0]: z for z in zs}.values())  # a zone at most once, whole or by one host
        if r.random() < 0.05 and not multi:
            zd = zs[0]  # within the zone
        else:
            zd = r.choices(self.inside, weights=self.dst_w)[0]
        srcs = sorted(set(self.endpoint(z, 0.5) for z in zs))
        dst = self.endpoint(zd, 0.75)
        if len(srcs) == 1 and srcs[0] == dst:
            return None
        if zd in zs and len(srcs) == 1 and "/" not in dst and "/" not in srcs[0]:
            return None
        nsvc = r.choices([1, 2, 3], weights=[70, 22, 8])[0]
        svcs = sorted(set(r.choices(self.svc_names, weights=self.svc_w, k=nsvc)))
        pairs = [(s.split("/")[0], zd[0]) for s in srcs]
        if not self.free(pairs, svcs):
            return None
        self.take(pairs, svcs)
        f = {"from": srcs[0] if len(srcs) == 1 else srcs, "to": dst,
             "services": svcs[0] if len(svcs) == 1 and r.random() < 0.3 else svcs,
             "action": action}
        if mode:
            f["mode"] = mode
        if r.random() < 0.01:
            f["log"] = True
        if r.random() < 0.3:
            f["owner"] = r.choice(["clinical-apps", "radiology-it", "biomed", "lab-it",
                                   "infrastructure", "security", "facilities"])
            f["ticket"] = "CHG-%d" % r.randint(10000, 99999)
        return f

    def make_flows(self):
        self.fixed_flows()
        tries = 0
        while len(self.flows) < self.a.flows:
            tries += 1
            if tries > 200 * self.a.flows:
                sys.exit("genpolicy: cannot place %d flows with %d zones and %d services" %
                         (self.a.flows, self.a.zones, len(self.svc_names)))
            f = self.random_flow()
            if not f:
                continue
            # 10% of flows leave their id to wardwall (derived from their meaning).
            explicit = self.r.random() >= 0.1 or len(self.flows) == self.change_index
            if len(self.flows) == self.change_index:
                f = dict(f, services=f["services"] if isinstance(f["services"], list)
                         else [f["services"]])
                self.flows.append(dict([("id", "bench-change-target")] + list(f.items())))
                continue
            self.add(f, explicit)
        self.flows = self.flows[:self.a.flows]

    def change(self):
        """Exactly one flow changed: one more service, on one more tcp port."""
        self.services["bench-extra"] = {"description": "the one flow change of the benchmark",
                                        "terms": [{"proto": "tcp", "ports": [self.next_port]}]}
        for f in self.flows:
            if f.get("id") == "bench-change-target":
                f["services"] = f["services"] + ["bench-extra"]
                return
        sys.exit("genpolicy: no flow to change")

    def invariants(self):
        inv = [{"id": "guest-isolated", "expect": "deny", "from": "guest", "to": "*",
                "except": ["internet"], "description": "Guests reach only the internet"},
               {"id": "ws-reach-ehr", "expect": "allow", "from": self.by_cat["workstations"][0][0],
                "to": self.by_cat["ehr"][0][0] + "/his-app", "service": "https"},
               {"id": "internet-only-portal", "expect": "deny", "from": "internet", "to": "*",
                "except": [self.by_cat["dmz"][0][0] + "/web"]}]
        devices = [zi[0] for c in ("modality", "infusion") for zi in self.by_cat[c]]
        inv.append({"id": "devices-never-internet", "expect": "deny", "from": devices,
                    "to": "internet"})
        return inv

    def policy(self):
        self.make_zones()
        self.make_services()
        # The changed flow sits in the middle, so a change is not at either end of anything.
        self.change_index = self.a.flows // 2
        self.make_flows()
        if self.a.change:
            self.change()
        return {
            "wardwall": 1,
            "name": "bench-%d" % self.a.flows,
            "description": "wardwall benchmark policy: %d flows, %d zones, seed %d (tests/bench/"
                           "genpolicy.py)" % (self.a.flows, len(self.zones), self.a.seed),
            "defaults": {"between_zones": "deny", "within_zone": "deny", "log": "deny"},
            "zones": self.zones,
            "services": self.services,
            "flows": self.flows,
            "invariants": self.invariants(),
            "enforcement": {"mode": "gateway", "interfaces": ["lan0", "lan1", "lan2", "wan0"]},
        }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", type=int, required=True, help="number of flows")
    ap.add_argument("--zones", type=int, default=150, help="number of zones (default 150)")
    ap.add_argument("--custom-services", type=int, default=200, help="custom services (200)")
    ap.add_argument("--windows", type=int, default=8, help="flows with time windows (8)")
    ap.add_argument("--deny-rate", type=float, default=0.02, help="share of deny flows (0.02)")
    ap.add_argument("--monitor-rate", type=float, default=0.01,
                    help="share of monitor flows (0.01)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (1)")
    ap.add_argument("--change", action="store_true",
                    help="the same policy with exactly one flow changed (one more port)")
    ap.add_argument("-o", "--output", help="output file (default: standard output)")
    a = ap.parse_args()
    if a.flows < 20 or a.zones < 2 * len(CATEGORIES) + 3:
        ap.error("need --flows >= 20 and --zones >= %d" % (2 * len(CATEGORIES) + 3))
    p = Gen(a).policy()
    # One flow per line: diffs of two generated policies stay readable.
    out = json.dumps({k: v for k, v in p.items() if k != "flows"}, indent=1)
    flows = ",\n  ".join(json.dumps(f) for f in p["flows"])
    out = out[:-2] + ',\n "flows": [\n  ' + flows + "\n ]\n}\n"
    if a.output:
        with open(a.output, "w") as fh:
            fh.write(out)
    else:
        sys.stdout.write(out)


if __name__ == "__main__":
    main()
