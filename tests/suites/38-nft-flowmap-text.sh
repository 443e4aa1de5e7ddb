#!/bin/bash
# The flow-map layout's text (issue 12) against the real nft: the tables that unit test test_nfr
# writes by hand in the IR (every kind of flow map, their counters' object maps, the rules that
# look them up; inet and bridge) as nfr_table_render prints them must load with `nft -f`, and
# `nft list` must print back the same objects: the same text but for nft's blank lines, the
# counters' values and the order of a map's elements (the kernel's). The tables hold both shapes
# of issue 12: maps keyed on the destination's address, and round 3's keyed on its class in the
# mark (`meta mark & 0xffff0000 . meta l4proto . th dport vmap @fp/ward-02`, set-mark chains).
# nft 1.0.6 lists `meta mark set meta mark & K | O` as `& (K|O) | O`: the kernel holds K and O as
# sent (bitwise (mark & K) ^ O, `nft --debug=netlink` shows it), and since O is within ~K both
# mean the same bits; the comparison takes the listing's mask back to K = listed & ~O. In the
# bridge family render writes a mark-keyed ICMP rule's network protocol (`meta protocol ip`, as
# the netlink side does: nft's own dependency would read the link header's ether type), and nft
# lists it away: the comparison drops it, and the kernel is checked to hold it. Then real
# packets (loopback, the namespace's own) through the class-keyed chains as loaded.
#
# And the kernel facts the diff's order stands on (nft_diff.c), in one transaction each: adding an
# element that overlaps one still there is refused, deleting it first is not; a counter or a
# chain an element still names cannot be deleted. Then the diff itself against the kernel
# (tests/nft/test_nft_flowdiff.c, each family): class z's flow maps committed, changed flow by
# flow (a port, a wider destination, a verdict, flows gone and new with their counters and
# decision chains, maps of another type under the same names) and back, each batch read back as
# the wanted table, a one-flow change in the 2 to 6 messages test_nft_diff pins.
#
# Needs root. Everything happens in a namespace this script creates (ww<random>-fm) and deletes
# on exit; the root namespace is never changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
T=$BUILD/tests-nft/test_nft_flowdiff

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
NS=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-fm
cleanup() { ip netns del "$NS" 2>/dev/null; }
ww_suite_tmp cleanup
nftns() { ip netns exec "$NS" nft "$@"; }

need "test_nfr writes the hand-written tables" env WW_NFR_SHAPES="$tmp" "$BUILD/tests/test_nfr"
need "the test program $T" test -x "$T"
# The test program refuses to touch this, the suite's own, namespace.
export WW_NFT_OUTER_NS
WW_NFT_OUTER_NS=$(stat -L -c %i /proc/self/ns/net)
need "namespace $NS" ip netns add "$NS"

# The text without blank lines and counter values, each map's elements one a line, sorted; a
# set-mark's mask without the bits it sets, no `meta protocol` before a mark (nft's listing).
normal() {
	"$WW_PYTHON" -c '
import re, sys
text = re.sub(r"\n\s*packets \d+ bytes \d+", "", sys.stdin.read())
def keep(m):
    k, o = int(m.group(1), 16), int(m.group(2), 16)
    return "meta mark set meta mark & 0x%08x | 0x%08x" % (k & ~o, o)
text = re.sub(r"meta mark set meta mark & (0x[0-9a-f]{8}) \| (0x[0-9a-f]{8})", keep, text)
text = re.sub(r"meta protocol ip6? ((counter name )?meta mark )", r"\1", text)
def elems(m):
    items = sorted(e.strip() for e in m.group(2).split(",\n"))
    return m.group(1) + "{\n" + "\n".join(items) + "\n}"
text = re.sub(r"(elements = )\{ (.*?) \}", elems, text, flags=re.S)
print("\n".join(l for l in text.split("\n") if l.strip()))'
}

for fam in inet bridge; do
	if nftns -f "$tmp/$fam.nft" 2>"$tmp/err"; then
		ok "nft -f of the $fam table's render loads"
	else
		fail "nft -f of the $fam table's render loads" "$(cat "$tmp/err")"
		continue
	fi
	nftns list table "$fam" wardwall >"$tmp/$fam.list" 2>"$tmp/err"
	normal <"$tmp/$fam.nft" >"$tmp/$fam.a"
	normal <"$tmp/$fam.list" >"$tmp/$fam.b"
	if [ -s "$tmp/$fam.b" ] && diff -u "$tmp/$fam.a" "$tmp/$fam.b" >"$tmp/diff"; then
		ok "nft list table $fam wardwall prints the render back ($(grep -c '^\s*map ' "$tmp/$fam.a") maps)"
	else
		fail "nft list table $fam wardwall prints the render back" "$(cat "$tmp/diff" "$tmp/err")"
	fi
done

# What the kernel holds in bridge of a mark-keyed ICMP rule: the ether type as `meta protocol`
# (8 rules: ICMP and ICMPv6, verdicts and counters, two levels), not nft's link-header load.
deps=$(nftns --debug=netlink list chain bridge wardwall from/ward-02 2>&1 |
	grep -c '^  \[ meta load protocol => reg 1 \]')
if [ "$deps" = 8 ]; then
	ok "bridge: the mark-keyed ICMP rules hold the meta protocol render wrote"
else
	fail "bridge: the mark-keyed ICMP rules hold the meta protocol render wrote" \
		"$deps rules load meta protocol, want 8"
fi

# What the kernel holds of a set-mark is what render wrote, not nft's listing of it.
if nftns --debug=netlink list chain inet wardwall to/ward-01/printer 2>&1 |
	grep -qF '[ bitwise reg 1 = ( reg 1 & 0x0000ffff ) ^ 0x02010000 ]'; then
	ok "the kernel holds set-mark's keep and or as render wrote them"
else
	fail "the kernel holds set-mark's keep and or as render wrote them" \
		"$(nftns --debug=netlink list chain inet wardwall to/ward-01/printer 2>&1)"
fi

# Real packets through the class-keyed text (inet): an output hook clears the class bits, writes
# the destination's class as render's to/ chains do, and goes to from/ward-02. Class 0x00020000
# (to/ward-03) on udp 5000 is dropped at the host group's level (the sender sees EPERM) and
# counted in flow/m5 by the counter map; udp 5001 matches nothing and leaves; host group
# 0x02010000 (to/ward-01/printer) on udp 2005 goes to the decision chain, which counts flow/m3.
# The socket's own mark (0x1234, below the class bits) must survive the set-marks.
nftns -f - <<'EOF'
table inet wardwall {
	chain out {
		type filter hook output priority filter; policy accept;
		meta mark & 0x0000ffff != 0x00001234 accept
		jump classify
		ip daddr 10.77.0.2 jump to/ward-01/printer
		ip daddr 10.77.0.3 jump to/ward-03
		meta mark & 0x0000ffff != 0x00001234 drop
		jump from/ward-02
	}
}
EOF
ip -n "$NS" link set lo up && ip -n "$NS" addr add 10.77.0.2/32 dev lo &&
	ip -n "$NS" addr add 10.77.0.3/32 dev lo
udp() { # udp DST PORT: "sent" or the errno's name
	ip netns exec "$NS" "$WW_PYTHON" -c '
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, 0x1234)
try:
    s.sendto(b"x", (sys.argv[1], int(sys.argv[2]))); print("sent")
except OSError as e:
    print(errno.errorcode[e.errno])' "$1" "$2"
}
packets() { nftns list counter inet wardwall "$1" | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
got="$(udp 10.77.0.3 5000) $(udp 10.77.0.3 5001) $(udp 10.77.0.2 2005)"
got="$got m5=$(packets flow/m5) m3=$(packets flow/m3)"
what="packets: the class set-mark writes is looked up masked (drop, miss, decision chain; counted)"
if [ "$got" = "EPERM sent sent m5=1 m3=1" ]; then
	ok "$what"
else
	fail "$what" "got: $got (want: EPERM sent sent m5=1 m3=1)"
fi
nftns delete chain inet wardwall out

# One transaction each (nft -f is one batch); the table is inet's, as loaded above.
M="inet wardwall fp4/ward-01"
transaction() {
	printf '%s\n' "$@" >"$tmp/tx.nft"
	nftns -f "$tmp/tx.nft" 2>"$tmp/err"
}
if ! transaction "add element $M { 10.1.0.0/16 . tcp . 443 : drop }" \
	"delete element $M { 10.1.0.0/24 . tcp . 443 }"; then
	ok "adding an element over one deleted later in the transaction is refused"
else
	fail "adding an element over one deleted later in the transaction is refused"
fi
if transaction "delete element $M { 10.1.0.0/24 . tcp . 443 }" \
	"add element $M { 10.1.0.0/16 . tcp . 443 : drop }" &&
	nftns list map $M | grep -q '10.1.0.0/16 . tcp . 443 : drop'; then
	ok "deleting first, then adding the overlapping element, in one transaction"
else
	fail "deleting first, then adding the overlapping element, in one transaction" \
		"$(cat "$tmp/err")"
fi
if ! transaction "delete counter inet wardwall flow/f5" &&
	transaction "delete element inet wardwall cp4/ward-01 { 0.0.0.0/0 . 6-17 . 5000 }" \
		"delete counter inet wardwall flow/f5"; then
	ok "a counter an element names is deleted only after the element"
else
	fail "a counter an element names is deleted only after the element" "$(cat "$tmp/err")"
fi
if ! transaction "delete chain inet wardwall dec-3fa9c2e1d0b4" &&
	transaction "delete element $M { 10.3.0.0/25 . tcp . 22 }" \
		"delete chain inet wardwall dec-3fa9c2e1d0b4"; then
	ok "a chain an element goes to is deleted only after the element"
else
	fail "a chain an element goes to is deleted only after the element" "$(cat "$tmp/err")"
fi

# From no table at all in each family (a table of the other family would be replaced whole).
nftns delete table inet wardwall
nftns delete table bridge wardwall
for fam in inet bridge; do
	report ip netns exec "$NS" "$T" "$fam"
	nftns delete table "$fam" wardwall
done
finish
