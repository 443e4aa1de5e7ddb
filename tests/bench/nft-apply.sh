#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The nftables tier at scale. Usage: tests/bench/nft-apply.sh BUILD_DIR
#
# For each size (number of flows), with a policy from genpolicy.py and the same policy with one
# flow changed (one more port on one flow):
#   check    wardwall check, no kernel
#   render   wardwall render, no kernel
#   nft -f   the rendered text loaded by nft into an empty namespace: the yardstick
#   apply    wardwall apply into an empty namespace (cold); then, in that namespace:
#   no-op    the same apply again: reads the table back, finds nothing to do
#   change   apply of the changed policy: a minimal diff
#   plan     wardwall plan of the changed policy, now applied: must say "no changes"
#   show     wardwall show (the table read back, drift against the applied generation)
#   stats    wardwall stats (the counters of both tiers)
#   metrics  wardwall metrics; then wardwall serve, scraped twice (each scrape reads the kernel:
#            the table, its readback, its drift and the counters)
# Each run of nft -f and of apply gets a fresh network namespace, deleted on every way out. Wall
# time is taken around the process; peak RSS comes from /usr/bin/time -v. The report (Markdown)
# goes to standard output and to BENCH_OUT.
#
# Environment:
#   BENCH_SIZES     flow counts (default "1000 10000 100000")
#   BENCH_RUNS      runs of each measurement (default 3): min and median are reported
#   BENCH_SLOW      a measurement whose first run took longer than this many seconds is not
#                   repeated, to keep `make bench` within hours (default 600); the table gives
#                   the number of runs behind every figure
#   BENCH_TIMEOUT   seconds one command may take before it is killed and reported (default 3600)
#   BENCH_LIST_MAX  up to this many flows, the applied table is also listed with `nft -j` and
#                   its objects counted in the kernel, checked against the rendered text (10000)
#   BENCH_SEED      genpolicy.py's seed (default 1)
#   BENCH_OUT       the report (default BUILD_DIR/bench-nft.md)
set -uo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
ww=$build/wardwall
sizes=${BENCH_SIZES:-1000 10000 100000}
runs=${BENCH_RUNS:-3}
slow=${BENCH_SLOW:-600}
timeout_s=${BENCH_TIMEOUT:-3600}
list_max=${BENCH_LIST_MAX:-10000}
seed=${BENCH_SEED:-1}
out=${BENCH_OUT:-$build/bench-nft.md}

die() {
	echo "nft-apply.sh: $*" >&2
	exit 2
}

[ "$(id -u)" = 0 ] || die "needs root (it creates network namespaces)"
for tool in ip nft python3 timeout curl; do
	command -v $tool >/dev/null || die "$tool is missing"
done
if [ ! -x /usr/bin/time ]; then
	echo "nft-apply.sh: installing GNU time for /usr/bin/time -v" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null ||
		die "/usr/bin/time is missing and apt-get install time failed"
fi

tmp=$(mktemp -d /tmp/wardwall-bench.XXXXXX) || die "mktemp failed"
namespaces=()
nsseq=0
cleanup() {
	for n in "${namespaces[@]}"; do
		[ -n "$n" ] && ip netns del "$n" 2>/dev/null
	done
	rm -rf "$tmp"
}
child=
on_signal() {
	# timeout leads a process group of its own: end it, then the namespaces go.
	[ -n "$child" ] && kill -TERM -- -"$child" 2>/dev/null
	exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# The policies leave XDP off, and an apply with XDP off clears <bpffs>/wardwall. bpffs is not
# per network namespace; `ip netns exec` happens to hide the host's (it mounts a fresh /sys), but
# a private directory keeps the host's pins out of reach however the commands are run.
export WARDWALL_BPFFS=$tmp/bpffs
unset WARDWALL_STATE_DIR

ns_new() { # sets NS to a new, empty network namespace
	NS=wwbench-$$-$((++nsseq))
	ip netns add "$NS" || die "ip netns add $NS failed"
	namespaces+=("$NS")
}

ns_del() {
	ip netns del "$NS" || echo "nft-apply.sh: ip netns del $NS failed" >&2
	for i in "${!namespaces[@]}"; do
		[ "${namespaces[$i]}" = "$NS" ] && unset 'namespaces[i]'
	done
	NS=
}

results=$tmp/results.tsv
notes=$tmp/notes.txt
: >"$results"
: >"$notes"
failed=0

# timed SIZE METRIC RUN OUTFILE CMD...: runs CMD (stdout to OUTFILE, stderr to OUTFILE.err)
# under timeout and /usr/bin/time -v; records wall milliseconds, peak RSS (KiB) and the exit code.
timed() {
	local size=$1 metric=$2 run=$3 o=$4 t0 t1 rc rss
	shift 4
	t0=$(date +%s%N)
	# In the background and waited for, so that a signal reaches on_signal at once.
	timeout -k 10 "$timeout_s" /usr/bin/time -v -o "$tmp/time.txt" "$@" >"$o" 2>"$o.err" </dev/null &
	child=$!
	wait "$child"
	rc=$?
	child=
	t1=$(date +%s%N)
	rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt" 2>/dev/null)
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		[ $(((t1 - t0) / 1000000000)) -ge "$timeout_s" ] && rc=timeout
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$size" "$metric" "$run" $(((t1 - t0) / 1000000)) \
		"${rss:-0}" "$rc" >>"$results"
	echo "  $metric run $run: $(((t1 - t0) / 1000000)) ms, ${rss:-?} KiB, exit $rc" >&2
	[ "$rc" = 0 ]
}

# fail SIZE METRIC MESSAGE OUTFILE: notes a failure with the first lines of what it printed.
fail() {
	failed=1
	{
		echo "- $1 flows, $2: $3"
		[ -n "${4:-}" ] && grep -hv ': warning: ' "$4.err" "$4" 2>/dev/null | head -5 |
			sed 's/^/    /'
	} >>"$notes"
	echo "nft-apply.sh: $1 flows, $2: $3" >&2
}

# slow SIZE METRIC: true when run 1 of METRIC took longer than BENCH_SLOW (or failed).
slow() {
	awk -F'\t' -v s="$1" -v m="$2" -v lim=$((slow * 1000)) \
		'$1 == s && $2 == m && $3 == 1 { found = 1; if ($4 > lim || $6 != 0) bad = 1 }
		 END { exit !(found && bad) }' "$results"
}

# jfield FILE EXPR: a field of the JSON object in FILE, as python sees it (d is the object).
jfield() {
	python3 -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
		"$1" "$2" 2>/dev/null
}

# The objects of a rendered table, counted in its text (the format of nfr_table_render).
count_text() {
	python3 - "$1" <<'EOF'
import sys
n = dict(chains=0, maps=0, sets=0, elements=0, rules=0, counters=0)
block = None
for line in open(sys.argv[1]):
    if line.startswith("\t") and not line.startswith("\t\t"):
        word = line.split()[0]
        block = word if word in ("chain", "map", "set") else None
        if word in ("chain", "map", "set", "counter"):
            n[word + "s"] += 1
        continue
    s = line.strip()
    if block == "chain" and s and not s.startswith("type "):
        n["rules"] += 1
    elif block in ("map", "set") and s and not s.startswith(("type ", "typeof ", "flags ")):
        n["elements"] += 1
print(" ".join("%s=%d" % kv for kv in n.items()))
EOF
}

# The same, counted in the kernel with `nft -j list table`.
count_kernel() {
	python3 - "$1" <<'EOF'
import json, sys
objs = json.load(open(sys.argv[1]))["nftables"]
n = dict(chains=0, maps=0, sets=0, elements=0, rules=0, counters=0)
for o in objs:
    for k in ("chain", "map", "set", "rule", "counter"):
        if k in o:
            n[k + "s"] += 1
            if k in ("map", "set"):
                n["elements"] += len(o[k].get("elem", []))
print(" ".join("%s=%d" % kv for kv in n.items()))
EOF
}

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "nft-apply.sh: sizes $sizes, $runs runs, work in $tmp" >&2
for n in $sizes; do
	echo "== $n flows" >&2
	pol=$tmp/p$n.json
	chg=$tmp/p$n-change.json
	txt=$tmp/p$n.nft
	python3 "$here/genpolicy.py" --flows "$n" --seed "$seed" -o "$pol" &&
		python3 "$here/genpolicy.py" --flows "$n" --seed "$seed" --change -o "$chg" ||
		die "genpolicy.py --flows $n failed"
	for r in $(seq 1 "$runs"); do
		[ "$r" -gt 1 ] && slow "$n" check && break
		timed "$n" check "$r" "$tmp/check.out" "$ww" check "$pol" ||
			{ fail "$n" check "wardwall check failed" "$tmp/check.out"; break; }
	done
	tail -n 1 "$tmp/check.out" | sed 's/.*: valid: //' >"$tmp/policy-$n.txt"
	for r in $(seq 1 "$runs"); do
		[ "$r" -gt 1 ] && slow "$n" render && break
		timed "$n" render "$r" "$txt" "$ww" render "$pol" ||
			{ fail "$n" render "wardwall render failed" "$txt"; break; }
	done
	count_text "$txt" >"$tmp/text-$n.txt"
	echo "$(($(stat -c %s "$txt") / 1024))" >"$tmp/textkib-$n.txt"

	# The yardstick: nft loads the same ruleset, cold.
	for r in $(seq 1 "$runs"); do
		[ "$r" -gt 1 ] && slow "$n" nft-f && break
		ns_new
		timed "$n" nft-f "$r" "$tmp/nftf.out" ip netns exec "$NS" nft -f "$txt" ||
			fail "$n" "nft -f (run $r)" "nft -f of the rendered text failed" "$tmp/nftf.out"
		ns_del
	done

	# wardwall: cold apply, no-op apply, one-flow change, plan; a fresh namespace each run.
	for r in $(seq 1 "$runs"); do
		[ "$r" -gt 1 ] && slow "$n" apply-chain && break
		ns_new
		st=$tmp/state-$n-$r
		a0=$(date +%s)
		if ! timed "$n" apply "$r" "$tmp/apply.json" \
			ip netns exec "$NS" "$ww" apply --json --state-dir "$st" "$pol"; then
			fail "$n" "cold apply (run $r)" "wardwall apply failed" "$tmp/apply.json"
			ns_del
			printf '%s\tapply-chain\t%s\t%s\t0\t1\n' "$n" "$r" $((($(date +%s) - a0) * 1000)) \
				>>"$results"
			break
		fi
		if [ "$r" = 1 ]; then
			cp "$tmp/apply.json" "$tmp/apply-$n.json"
			if [ "$n" -le "$list_max" ]; then
				timed "$n" nft-list "$r" "$tmp/list.json" \
					ip netns exec "$NS" nft -j list table inet wardwall &&
					count_kernel "$tmp/list.json" >"$tmp/kernel-$n.txt"
				cmp -s "$tmp/kernel-$n.txt" "$tmp/text-$n.txt" ||
					fail "$n" "kernel vs render" "the kernel holds $(cat "$tmp/kernel-$n.txt"), the rendered text $(cat "$tmp/text-$n.txt")"
			fi
		fi
		timed "$n" noop "$r" "$tmp/noop.json" \
			ip netns exec "$NS" "$ww" apply --json --state-dir "$st" "$pol" ||
			fail "$n" "no-op apply (run $r)" "wardwall apply failed" "$tmp/noop.json"
		[ "$(jfield "$tmp/noop.json" 'd["result"]')" = unchanged ] ||
			fail "$n" "no-op apply (run $r)" "a second identical apply changed something" \
				"$tmp/noop.json"
		timed "$n" change "$r" "$tmp/change.json" \
			ip netns exec "$NS" "$ww" apply --json --state-dir "$st" "$chg" ||
			fail "$n" "one-flow change (run $r)" "wardwall apply failed" "$tmp/change.json"
		[ "$r" = 1 ] && cp "$tmp/change.json" "$tmp/change-$n.json"
		timed "$n" plan "$r" "$tmp/plan.json" \
			ip netns exec "$NS" "$ww" plan --json --state-dir "$st" "$chg" ||
			fail "$n" "plan (run $r)" "wardwall plan failed" "$tmp/plan.json"
		said=$(jfield "$tmp/plan.json" \
			'"no changes" if not d["changed"] and not d["drift"]["objects"] and not d["drift"]["unrecorded_table"] else "CHANGES"')
		echo "${said:-?}" >"$tmp/plan-$n-$r.txt"
		[ "$said" = "no changes" ] ||
			fail "$n" "plan (run $r)" "plan of the applied policy does not say no changes" \
				"$tmp/plan.json"
		timed "$n" show "$r" "$tmp/show.txt" \
			ip netns exec "$NS" "$ww" show --state-dir "$st" ||
			fail "$n" "show (run $r)" "wardwall show failed" "$tmp/show.txt"
		timed "$n" stats "$r" "$tmp/stats.txt" \
			ip netns exec "$NS" "$ww" stats --state-dir "$st" ||
			fail "$n" "stats (run $r)" "wardwall stats failed" "$tmp/stats.txt"
		# Metrics: one `wardwall metrics`, then `serve` scraped twice (nothing was committed in
		# between).
		timed "$n" metrics "$r" "$tmp/metrics.txt" \
			ip netns exec "$NS" "$ww" metrics --state-dir "$st" ||
			fail "$n" "metrics (run $r)" "wardwall metrics failed" "$tmp/metrics.txt"
		[ "$r" = 1 ] && grep -vc '^#' "$tmp/metrics.txt" >"$tmp/series-$n.txt"
		ip netns exec "$NS" ip link set lo up
		ip netns exec "$NS" "$ww" serve --listen 127.0.0.1:9469 --state-dir "$st" \
			2>"$tmp/serve.err" &
		spid=$!
		for _ in $(seq 1 100); do
			ip netns exec "$NS" bash -c 'echo >/dev/tcp/127.0.0.1/9469' 2>/dev/null && break
			sleep 0.1
		done
		for k in scrape-full scrape-kept; do
			timed "$n" "$k" "$r" "$tmp/$k.txt" ip netns exec "$NS" curl -sf --max-time 600 \
				http://127.0.0.1:9469/metrics ||
				fail "$n" "$k (run $r)" "the scrape failed" "$tmp/$k.txt"
		done
		kill "$spid" 2>/dev/null
		wait "$spid" 2>/dev/null
		ns_del
		printf '%s\tapply-chain\t%s\t%s\t0\t0\n' "$n" "$r" $((($(date +%s) - a0) * 1000)) \
			>>"$results"
	done
done

# ---- the report ----
report=$tmp/report.md
python3 - "$tmp" "$results" "$sizes" "$runs" >"$report" <<'EOF'
import json, os, statistics, sys
tmp, results, sizes, runs = sys.argv[1], sys.argv[2], sys.argv[3].split(), int(sys.argv[4])
rows = {}
for line in open(results):
    size, metric, run, ms, rss, rc = line.rstrip("\n").split("\t")
    rows.setdefault((size, metric), []).append((int(ms) / 1000, int(rss) / 1024, rc))

def rd(path):
    try:
        return open(os.path.join(tmp, path)).read().strip()
    except OSError:
        return ""

def secs(size, metric):
    v = rows.get((size, metric), [])
    ok = [s for s, _, rc in v if rc == "0"]
    bad = [rc for _, _, rc in v if rc != "0"]
    if not v:
        return "-"
    if not ok:
        return "FAILED (%s)" % bad[0]
    m = min(ok)
    fmt = (lambda x: "%.2f" % x) if m < 10 else (lambda x: "%.1f" % x) if m < 100 else (lambda x: "%.0f" % x)
    s = "%s / %s" % (fmt(m), fmt(statistics.median(ok)))
    s += " (n=%d)" % len(ok) if len(ok) != runs else ""
    return s + (" +%d failed" % len(bad) if bad else "")

def rss(size, metric):
    ok = [r for _, r, rc in rows.get((size, metric), []) if rc == "0"]
    return "%.0f" % statistics.median(ok) if ok else "-"

def counts(path):
    return dict(kv.split("=") for kv in rd(path).split()) if rd(path) else {}

print("### Policy and ruleset\n")
print("| flows | policy (wardwall check) | chains | maps | map elements | rules | counters | "
      "render text | cold apply: messages | one-flow change: messages, objects |")
print("|---:|---|---:|---:|---:|---:|---:|---:|---:|---|")
for n in sizes:
    t = counts("text-%s.txt" % n)
    try:
        a = json.load(open(os.path.join(tmp, "apply-%s.json" % n)))["nftables"]
    except (OSError, ValueError, KeyError):
        a = {}
    try:
        c = json.load(open(os.path.join(tmp, "change-%s.json" % n)))["nftables"]
        ch = "%d: %s" % (c["messages"], ", ".join(
            "%s %s" % (op, "+".join("%d %s" % (x, k) for k, x in c[op].items() if x))
            for op in ("added", "removed", "rewritten") if any(c[op].values())))
    except (OSError, ValueError, KeyError):
        ch = "-"
    kib = rd("textkib-%s.txt" % n)
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        n, rd("policy-%s.txt" % n) or "-", a.get("chains", t.get("chains", "-")),
        a.get("maps", t.get("maps", "-")), t.get("elements", "-"), t.get("rules", "-"),
        a.get("counters", t.get("counters", "-")),
        "%.1f MiB" % (int(kib) / 1024) if kib else "-", a.get("messages", "-"), ch))
print()
print("### Timings\n")
print("Seconds, min / median over %d runs unless n= says otherwise; RSS: peak resident set of the "
      "process, MiB (median). nft -f, apply: into an empty namespace; no-op: the same apply "
      "again; change: the policy with one flow changed, on top; plan: of that policy, after it.\n"
      % runs)
print("| flows | check | render | nft -f (cold) | apply (cold) | apply RSS | no-op apply | "
      "no-op RSS | one-flow change | change RSS | plan | plan says | show | stats | "
      "nft -j list |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|")
for n in sizes:
    said = sorted(set(rd(f) for f in sorted(os.listdir(tmp)) if f.startswith("plan-%s-" % n)))
    print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
        n, secs(n, "check"), secs(n, "render"), secs(n, "nft-f"), secs(n, "apply"),
        rss(n, "apply"), secs(n, "noop"), rss(n, "noop"), secs(n, "change"), rss(n, "change"),
        secs(n, "plan"), ", ".join(s for s in said if s) or "-", secs(n, "show"),
        secs(n, "stats"), secs(n, "nft-list")))
print()
print("Metrics: `wardwall metrics` once, and `wardwall serve` scraped twice with curl (a scrape "
      "reads the table, its readback, its drift and the counters).\n")
print("| flows | series | metrics | metrics RSS | serve: first scrape | serve: next scrape |")
print("|---:|---:|---:|---:|---:|---:|")
for n in sizes:
    print("| %s | %s | %s | %s | %s | %s |" % (
        n, rd("series-%s.txt" % n) or "-", secs(n, "metrics"), rss(n, "metrics"),
        secs(n, "scrape-full"), secs(n, "scrape-kept")))
EOF
{
	echo "## nftables: apply at scale ($(date -u +%Y-%m-%dT%H:%M:%SZ))"
	echo
	echo "$("$ww" --version 2>/dev/null | head -n 1), $(nft --version), kernel $(uname -r)," \
		"$(nproc) CPUs, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo);" \
		"load average $load0 at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end;" \
		"policies: tests/bench/genpolicy.py --seed $seed."
	echo
	cat "$report"
	if [ -s "$notes" ]; then
		echo
		echo "### Failures"
		echo
		cat "$notes"
	fi
	echo
	echo "### Reproduce"
	echo
	echo '```sh'
	echo "make && sudo BENCH_SIZES=\"$sizes\" BENCH_RUNS=$runs tests/bench/run.sh build"
	echo "# one size by hand, in a namespace of its own:"
	echo "python3 tests/bench/genpolicy.py --flows 10000 -o p.json"
	echo "python3 tests/bench/genpolicy.py --flows 10000 --change -o p-change.json"
	echo "build/wardwall check p.json; build/wardwall render p.json > p.nft"
	echo "ip netns add wwb; export WARDWALL_BPFFS=\$(mktemp -d) S=\$(mktemp -d)"
	echo "ip netns exec wwb /usr/bin/time -v build/wardwall apply --json --state-dir \$S p.json  # cold"
	echo "ip netns exec wwb /usr/bin/time -v build/wardwall apply --json --state-dir \$S p.json  # no-op"
	echo "ip netns exec wwb build/wardwall apply --json --state-dir \$S p-change.json  # one-flow change"
	echo "ip netns exec wwb build/wardwall plan --state-dir \$S p-change.json  # no changes"
	echo "ip netns del wwb; ip netns add wwb2; ip netns exec wwb2 nft -f p.nft; ip netns del wwb2"
	echo '```'
} >"$tmp/full.md"
cat "$tmp/full.md"
cp "$tmp/full.md" "$out" || echo "nft-apply.sh: could not write $out" >&2
echo "nft-apply.sh: report saved to $out" >&2
exit $failed
