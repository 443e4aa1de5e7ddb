#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The cost of wardwall's XDP program per packet, without live frames: BPF_PROG_TEST_RUN with a
# repeat count, against the bare XDP_DROP and XDP_PASS programs, at generated policies of
# several sizes. Usage: tests/bench/xdp-cost.sh BUILD_DIR
# Prints a Markdown report and saves it as BUILD_DIR/bench-xdp-cost.md; the raw measurements go
# to BUILD_DIR/bench/xdp-cost.results (one JSON object a line).
#
# xdpcost (xdpcost.c, xdpcost.bpf.c, built here into BUILD_DIR/bench/) installs each policy's
# XDP tier and times, REPEAT runs a measurement, the best of ROUNDS rounds with every size and
# the bare programs in turn (sizes are compared under the same conditions):
#   bare-drop / bare-pass   count, XDP_DROP / XDP_PASS (as the rate benchmark's bare programs)
#   established             a TCP ACK guest -> internet tcp/443 (flow guest-to-internet): a hit
#                           in the connection table
#   new                     a TCP SYN guest -> internet tcp/443 with a new tuple every run
#                           (source port and the last byte of the source address): classified,
#                           decided, allowed, entered in the connection table (LRU)
#   denied                  a TCP SYN guest -> ehr-01/his-app tcp/443 (flow guest-no-clinical),
#                           the same tuple every run: after the first, a deny-cache hit
#   denied-sport            the same from a new source port every run (and a new source address
#                           every 65,536): a SYN flood; the deny cache keys no source port
#   denied-new              the same to a new destination port every run, from a new source
#                           address every 65,536: a scan, every (source, destination, port)
#                           never seen: classified, decided, dropped and entered in the deny
#                           cache every time
# Every row runs through the same driver program (a tail call into the program under test; the
# "-new" rows also rewrite the tuple), so a row's difference from the bare row of the same kind
# is the program's own cost. Ratios as rates: bare ns / wardwall ns (denied rows against
# bare-drop, allowed rows against bare-pass; the "-new" rows against the bare "-new" rows), and
# new connections against established (established ns / new ns).
#
# This is not the live packet rate (tests/bench/xdp-rate.sh): a frame on a real interface also
# costs the driver and, when passed, the stack, the same for the bare program and wardwall, so
# the live rate ratios are closer to 1 than these. On a kernel that refuses live frames
# (docs/performance.md) this is what can be measured.
#
# Settings (environment):
#   XDP_COST_FLOWS    policy sizes (default "10 1000 100000"; genpolicy.py needs at least 20: the
#                     10-flow policy is the 20-flow one cut to its first 10)
#   XDP_COST_REPEAT   runs per measurement (default 1000000)
#   XDP_COST_ROUNDS   rounds, the best kept (default 5)
#   XDP_COST_FAMILY   "4", "6" or "4 6" (default "4 6")
#
# Needs root, clang and bpftool. Runs inside tests/xdp/sandbox.sh: a private network and mount
# namespace with a private bpffs; nothing is attached to an interface.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
if [ $# -ne 1 ] || [ ! -e "$1/libwardwall.a" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/libwardwall.a built)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)
FLOWS=${XDP_COST_FLOWS:-10 1000 100000}
REPEAT=${XDP_COST_REPEAT:-1000000}
ROUNDS=${XDP_COST_ROUNDS:-5}
FAMILY=${XDP_COST_FAMILY:-4 6}
PY=python3
[ -x /usr/bin/python3 ] && PY=/usr/bin/python3
if [ "$(id -u)" != 0 ]; then
	echo "xdp-cost: needs root" >&2
	exit 2
fi
for t in clang bpftool pkg-config; do
	command -v "$t" >/dev/null || {
		echo "xdp-cost: needs $t" >&2
		exit 2
	}
done

# ---- build xdpcost ----
out=$build/bench
mkdir -p "$out"
PKGS="libnftnl libmnl libnl-3.0 libnl-route-3.0 libcjson libbpf libsodium"
CFLAGS_="-O2 -g -Wall -Wextra -Werror -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE"
{
	clang -g -O2 -target bpf -D__bpf__ -Wall -Werror -I"/usr/include/$(uname -m)-linux-gnu" \
		-c "$here/xdpcost.bpf.c" -o "$out/xdpcost.bpf.o" &&
		bpftool gen skeleton "$out/xdpcost.bpf.o" name xdpcost_bpf >"$out/xdpcost.skel.h" &&
		cc $CFLAGS_ $(for d in "$root"/controller/*/; do printf -- '-I%s ' "$d"; done) \
			-I"$root/bpf" -I"$build" -I"$out" \
			$(pkg-config --cflags $PKGS) "$here/xdpcost.c" -o "$out/xdpcost" \
			"$build/libwardwall.a" $(pkg-config --libs $PKGS)
} >"$out/xdpcost-build.log" 2>&1 || {
	echo "xdp-cost: building xdpcost failed:" >&2
	cat "$out/xdpcost-build.log" >&2
	exit 1
}

# ---- policies ----
tmp=$(mktemp -d /tmp/xdp-cost.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
args=()
for n in $FLOWS; do
	g=$n
	[ "$n" -lt 20 ] && g=20
	[ -e "$tmp/g$g.json" ] || "$PY" "$here/genpolicy.py" --flows "$g" -o "$tmp/g$g.json" || exit 1
	"$PY" -c '
import json, sys
p = json.load(open(sys.argv[1]))
p["flows"] = p["flows"][:int(sys.argv[2])]
p["name"] = "bench-%s" % sys.argv[2]
p["enforcement"] = {"mode": "gateway", "interfaces": ["lan0"], "xdp": "native"}
json.dump(p, open(sys.argv[3], "w"))' "$tmp/g$g.json" "$n" "$tmp/p$n.json" || exit 1
	args+=("$n=$tmp/p$n.json")
done

# ---- endpoints: guest's first address, the internet, ehr-01's his-app ----
first=${FLOWS%% *}
for fam in $FAMILY; do
	ep=$("$PY" -c '
import ipaddress, json, sys
p, fam = json.load(open(sys.argv[1])), int(sys.argv[2])
def first(v):
    for a in v if isinstance(v, list) else [v]:
        n = ipaddress.ip_network(a, strict=False)
        if n.version == fam:
            return n[1] if n.num_addresses > 2 else n[0]
net = "198.51.100.1" if fam == 4 else "2001:db8:1::1"
print("%s,%s,%s" % (first(p["zones"]["guest"]["networks"]), net,
                    first(p["zones"]["ehr-01"]["hosts"]["his-app"])))' "$tmp/p$first.json" "$fam") || exit 1
	args=("-$fam" "$ep" "${args[@]}")
done

# ---- measure ----
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
t0=$SECONDS
"$root/tests/xdp/sandbox.sh" "$out/xdpcost" -n "$REPEAT" -r "$ROUNDS" "${args[@]}" \
	>"$out/xdp-cost.results" 2>"$tmp/err"
rc=$?
if [ $rc -ne 0 ]; then
	echo "xdp-cost: xdpcost failed:" >&2
	cat "$tmp/err" >&2
	exit 1
fi

# ---- the report ----
"$PY" - "$out/xdp-cost.results" "$FLOWS" "$REPEAT" "$ROUNDS" "$load_start" \
	"$(cut -d' ' -f1-3 /proc/loadavg)" "$((SECONDS - t0))" "$(uname -r)" \
	"$(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)" \
	>"$tmp/report.md" <<'EOF' || exit 1
import json, sys
res, flows, repeat, rounds, l0, l1, took, kernel, rev = sys.argv[1:]
rows = [json.loads(l) for l in open(res)]
ns = {(r["size"], r["family"], r["case"]): r["ns"] for r in rows}
fams = sorted({r["family"] for r in rows})
sizes = flows.split()
ref = {"established": "bare-pass", "new": "bare-pass-new", "denied": "bare-drop",
       "denied-sport": "bare-drop-new", "denied-new": "bare-drop-new"}
print("# XDP program cost (BPF_PROG_TEST_RUN, no live frames)\n")
print("Kernel %s, wardwall %s; %s runs a measurement, best of %s rounds; load average %s at the "
      "start, %s at the end; %s s.\n" % (kernel, rev, repeat, rounds, l0, l1, took))
for fam in fams:
    print("## IPv%d: ns per packet (rate ratio to the bare program)\n" % fam)
    print("| case | " + " | ".join("%s flows" % s for s in sizes) + " |")
    print("|---|" + "---:|" * len(sizes))
    for c in ("bare-drop", "bare-pass", "bare-drop-new", "bare-pass-new"):
        print("| %s | %d |" % (c, ns[("-", fam, c)]) + " |" * (len(sizes) - 1))
    for c, b in ref.items():
        cells = []
        for s in sizes:
            v = ns[(s, fam, c)]
            cells.append("%d (%.2f)" % (v, ns[("-", fam, b)] / v))
        print("| %s | %s |" % (c, " | ".join(cells)))
    cells = ["%.2f" % (ns[(s, fam, "established")] / ns[(s, fam, "new")]) for s in sizes]
    print("| new ÷ established (rate) | %s |" % " | ".join(cells))
    print()
    for c in ref:
        v = [ns[(s, fam, c)] for s in sizes]
        print("- %s: largest size %.2f× the smallest's cost" % (c, v[-1] / v[0]))
    print()
EOF
cp "$tmp/report.md" "$build/bench-xdp-cost.md"
cat "$tmp/report.md"
