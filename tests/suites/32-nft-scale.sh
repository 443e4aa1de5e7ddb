#!/bin/bash
# 100,000 flows through the nftables tier, in one private network namespace (no traffic): the
# cold apply is one transaction of some 300k messages (no ENOBUFS, nothing partial), the kernel
# holds a counter per flow, a refused transaction on top of it changes nothing, a second
# identical apply changes nothing, and a one-flow change is a handful of messages that keeps
# every other flow's counter.
#
# The policy comes from tests/e2e/scale-policy.py (20 zones, 380 port maps); the benchmark
# (make bench) times the 150-zone shape of tests/bench/genpolicy.py instead.
#
# Needs root. The namespace (ww<random>-sc) and the state directory are private and are deleted
# on exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
FLOWS=${WW_SCALE_FLOWS:-100000}

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
NS=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-sc
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WARDWALL_STATE_DIR=$tmp/state WARDWALL_BPFFS=$tmp/bpffs
ip netns add "$NS" || exit 2

# TAP comments with the time each step took, for whoever reads a slow run
t0=$SECONDS
took() {
	echo "# $1: $((SECONDS - t0)) s"
	t0=$SECONDS
}
ww() { ip netns exec "$NS" "$WARDWALL" "$@"; }
nftns() { ip netns exec "$NS" nft "$@"; }
jget() { "$WW_PYTHON" -c 'import json, sys; d = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$@" 2>/dev/null; }
# The table as nft lists it, hashed: the independent witness that nothing moved.
digest() { nftns list table inet wardwall | sha256sum | cut -d' ' -f1; }
# the kernel handle of one named counter
handle() { nftns -a list counter inet wardwall "$1" | grep -o 'handle [0-9]*' | head -n 1; }

P=$tmp/scale.json P2=$tmp/scale-change.json
"$WW_PYTHON" tests/e2e/scale-policy.py "$FLOWS" "$P" &&
	"$WW_PYTHON" tests/e2e/scale-policy.py "$FLOWS" "$P2" --change || exit 2
target=$(printf 'f%06d' $((FLOWS / 2 < 50000 ? FLOWS / 2 : 50000)))
other=f000007

# ---- cold apply ----
ww apply --json "$P" >"$tmp/apply.json" 2>"$tmp/apply.err"
rc=$?
took "cold apply"
msgs=$(jget "$tmp/apply.json" 'd["nftables"]["messages"]')
# a message a counter at least (the flows are elements of a few maps, many to a message)
if [ $rc = 0 ] && [ "${msgs:-0}" -gt "$FLOWS" ]; then
	ok "apply of $FLOWS flows: one transaction of $msgs messages, $(jget "$tmp/apply.json" 'round(d["duration_ms"])') ms"
else
	fail "apply of $FLOWS flows: exit $rc, one transaction" "$(cat "$tmp/apply.err" "$tmp/apply.json")"
fi
nflow=$(nftns list counters table inet wardwall | grep -c 'counter flow/')
if [ "$nflow" = "$FLOWS" ]; then
	ok "the kernel holds $nflow flow counters"
else
	fail "the kernel holds $FLOWS flow counters" "it holds $nflow"
fi
# The kernel handle of a counter the change does not touch: kept means not re-created.
h0=$(handle flow/$other)
d0=$(digest)
took "listing"
g0=$(ww_nft_genid "$NS")

# ---- a refused transaction on top of 100k flows ----
WARDWALL_FAULT=nft-invalid-element ww apply "$P2" >"$tmp/fault.out" 2>&1
rc=$?
took "refused apply"
g1=$(ww_nft_genid "$NS")
if [ $rc = 2 ] && grep -q 'refused the transaction, nothing was changed' "$tmp/fault.out"; then
	ok "apply with an element the kernel refuses: exit 2, $(grep -o 'nothing was changed.\{0,80\}' "$tmp/fault.out" | head -n 1)"
else
	fail "apply with an element the kernel refuses: exit $rc (want 2), the refusal reported" \
		"$(cat "$tmp/fault.out")"
fi
if [ "$g1" = "$g0" ] && [ "$(digest)" = "$d0" ]; then
	ok "... and the ruleset is as it was (generation $g1, same listing)"
else
	fail "... and the ruleset is as it was" "generation $g0 -> $g1"
fi
if [ "$(cat "$WARDWALL_STATE_DIR/current")" = 1 ] &&
	[ "$(wc -l <"$WARDWALL_STATE_DIR/history.jsonl")" = 1 ]; then
	ok "... and no generation was recorded"
else
	fail "... and no generation was recorded" "$(cat "$WARDWALL_STATE_DIR/history.jsonl")"
fi

# ---- idempotence ----
ww apply --json "$P" >"$tmp/noop.json" 2>"$tmp/noop.err"
rc=$?
took "no-op apply"
g2=$(ww_nft_genid "$NS")
if [ $rc = 0 ] && [ "$(jget "$tmp/noop.json" 'd["result"]')" = unchanged ] && [ "$g2" = "$g0" ]; then
	ok "a second identical apply: unchanged, the kernel not touched ($(jget "$tmp/noop.json" 'round(d["duration_ms"])') ms)"
else
	fail "a second identical apply: unchanged, the kernel not touched" \
		"exit $rc, generation $g0 -> $g2" "$(cat "$tmp/noop.err" "$tmp/noop.json")"
fi

# ---- one flow changed ----
ww apply --json "$P2" >"$tmp/change.json" 2>"$tmp/change.err"
rc=$?
took "one-flow change"
msgs=$(jget "$tmp/change.json" 'd["nftables"]["messages"]')
if [ $rc = 0 ] && [ "${msgs:-999}" -le 30 ]; then
	ok "one flow changed among $FLOWS: $msgs messages, $(jget "$tmp/change.json" 'round(d["duration_ms"])') ms"
else
	fail "one flow changed among $FLOWS: a handful of messages" \
		"exit $rc, $msgs messages" "$(cat "$tmp/change.err" "$tmp/change.json")"
fi
if nftns list ruleset | grep -q "\. 65000 : " &&
	nftns list counter inet wardwall "flow/$target" >/dev/null 2>&1 &&
	[ "$(nftns list counters table inet wardwall | grep -c 'counter flow/')" = "$FLOWS" ]; then
	ok "... the kernel has the new port for $target and still $FLOWS flow counters"
else
	fail "... the kernel has the new port for $target and still $FLOWS flow counters"
fi
h1=$(handle flow/$other)
if [ -n "$h0" ] && [ "$h1" = "$h0" ]; then
	ok "... and the counter of an untouched flow is the same kernel object ($h1)"
else
	fail "... and the counter of an untouched flow is the same kernel object" "'$h0' -> '$h1'"
fi
ww plan --detailed-exitcode "$P2" >"$tmp/plan.out" 2>&1
rc=$?
took "plan"
if [ $rc = 0 ]; then
	ok "plan of the changed policy after applying it: no changes"
else
	fail "plan of the changed policy after applying it: exit $rc (want 0)" "$(cat "$tmp/plan.out")"
fi
finish
