#!/bin/bash
# The flow-map layout's netlink shapes (issue 12, docs/nftables.md) against the kernel and nft
# itself, in each family (inet, bridge), in a private network namespace:
#
#   1. tests/nft/flowmaps.nft (every shape: concatenated interval verdict maps and counter maps
#      for ports, ICMP types and whole protocols, v4 and v6, a concatenated set, the rules that
#      look them up and count through them) loaded by `nft -f`, read back by wardwall's reader:
#      equal to the same objects written as IR (tests/nft/test_nft_flowmap.c), field by field
#      and by render text; the IR's render loaded by nft lists the same;
#   2. the IR committed by wardwall's batch instead: read back equal, and `nft list` and
#      `nft --debug=netlink list` (the kernel's expressions and element keys) the same as for
#      nft's own load of the text (tests/nft/nft_norm.py orders objects and elements by content),
#      and every attribute of the sets (flags, key types, field lengths, user data) the same;
#   3. wardwall's listing loaded back by `nft -f`: the same kernel expressions again;
#   4. elements deleted (ww_nft_del_elems) and one added that overlaps a deleted one, in one batch:
#      the kernel takes it, the reader sees exactly the change;
#   5. both batches replayed without a kernel (ww_nft_batch_replay) give the same IR;
#   6. (inet) real packets out of the namespace through wardwall's batch: each verdict and each
#      counter the maps give them (tests/nft/flowmap_packets.py).
#
# Then the same for the class-keyed layout (tests/nft/markmaps.nft, test program's "mark"): maps
# keyed on `meta mark & mask . ...` (typeof verdict maps, typed counter maps), the `meta mark
# set` rules that write a destination's class, and packets classified by them and decided by the
# maps (some with a socket mark of their own, which the class bits' clearing and the lookups'
# mask must deal with). Not for this layout in the bridge family: step 1's expressions of the IR's
# render, and step 3 (nft lists an ICMP rule's `meta protocol` away, and loads the listing with
# its own dependency, the link header's ether type).
#
# Needs root. The namespace (ww<random>-fm) is deleted on exit; the root namespace's ruleset is
# never read or changed (the test program refuses to run in this script's own namespace).
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
T=$BUILD/tests-nft/test_nft_flowmap
NORM=tests/nft/nft_norm.py

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
NS=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-fm
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export WW_NFT_OUTER_NS
WW_NFT_OUTER_NS=$(stat -L -c %i /proc/self/ns/net)

need "the test program $T" test -x "$T"
need "namespace $NS" ip netns add "$NS"
x() { ip netns exec "$NS" "$@"; }

# same WHAT A B: files A and B equal once normalized (KIND: list or netlink).
same() {
	local what=$1 kind=$2 a=$3 b=$4
	if diff <("$WW_PYTHON" $NORM "$kind" <"$a") <("$WW_PYTHON" $NORM "$kind" <"$b") >"$tmp/diff"; then
		ok "$what"
	else
		fail "$what" "$(head -40 "$tmp/diff")"
	fi
}

# snapshot NAME FAM: the table's listing and its netlink debug listing, into $tmp/NAME.*
snapshot() {
	x nft list table "$2" wardwall >"$tmp/$1.list" 2>&1
	x nft --debug=netlink list table "$2" wardwall >"$tmp/$1.dbg" 2>&1
	x "$T" sets "$2" | sort >"$tmp/$1.sets"
}

# counted NAME N: counter NAME has counted N packets.
counted() {
	local got
	got=$(x nft list counter inet wardwall "$1" | grep -o 'packets [0-9]*')
	if [ "$got" = "packets $2" ]; then
		ok "packets: counter $1 counted $2 through the counter maps and a decision chain"
	else
		fail "packets: counter $1 counted $2 through the counter maps and a decision chain" \
			"got: $got"
	fi
}

# veth: the namespace's link out (10.0.0.0/8, 2001:db8::/32), where nothing answers (the output
# hook comes before neighbour resolution).
veth() {
	x ip link show wwfm0 >/dev/null 2>&1 && return 0
	need "a veth pair" x ip link add wwfm0 type veth peer name wwfm1
	need "its addresses" sh -c "ip netns exec $NS ip link set wwfm1 up &&
		ip netns exec $NS ip link set wwfm0 up &&
		ip netns exec $NS ip addr add 10.0.0.1/8 dev wwfm0 &&
		ip netns exec $NS ip -6 addr add 2001:db8:ffff::1/32 dev wwfm0 nodad"
}

# Real packets through wardwall's batch (inet): the output hook of the namespace jumps to
# from/ward-01; packets leave by the veth.
packets() {
	veth
	need "an output hook into from/ward-01" x nft -f - <<-'EOF'
		table inet wardwall {
			chain out {
				type filter hook output priority 0; policy accept;
				jump from/ward-01
			}
		}
	EOF
	report x "$WW_PYTHON" tests/nft/flowmap_packets.py
	counted flow/f1 3
	counted flow/f2 2
	x nft delete chain inet wardwall out
}

# The same for the class-keyed layout: the output hook classifies (the destination's class into
# the mark), then decides in from/ward-02.
mark_packets() {
	veth
	need "an output hook into classify and from/ward-02" x nft -f - <<-'EOF'
		table inet wardwall {
			chain out {
				type filter hook output priority 0; policy accept;
				jump classify
				jump from/ward-02
			}
		}
	EOF
	report x "$WW_PYTHON" tests/nft/flowmap_packets.py mark
	counted flow/m1 3
	counted flow/m2 6
	counted flow/m3 1
	x nft delete chain inet wardwall out
}

# The hand-written text of LAYOUT (flowmaps, mark) in family FAM, into $tmp/FAM.nft. In the
# bridge family an ICMP type's network protocol is written (`meta protocol ip`), as the render
# does: nft's own dependency there would be the link header's ether type.
text() {
	local src=tests/nft/flowmaps.nft
	[ "$1" = mark ] && src=tests/nft/markmaps.nft
	sed "s/^table inet wardwall/table $2 wardwall/" "$src" >"$tmp/$2.nft"
	if [ "$1" = mark ] && [ "$2" = bridge ]; then
		sed -i -e 's/^\t\t\(.* icmp type .*map @.*\)$/\t\tmeta protocol ip \1/' \
			-e 's/^\t\t\(.* icmpv6 type .*map @.*\)$/\t\tmeta protocol ip6 \1/' \
			"$tmp/$2.nft"
	fi
}

# shapes FAM WHAT...: nft lists each WHAT of wardwall's batch.
shapes() {
	local fam=$1 shape
	shift
	for shape in "$@"; do
		if grep -qF "$shape" "$tmp/ww.list"; then
			ok "$fam: nft lists '$shape'"
		else
			fail "$fam: nft lists '$shape'" "$(cat "$tmp/ww.list")"
		fi
	done
}

# layout LAYOUT FAM: every step above for one hand-written table (LAYOUT: flowmaps or mark).
layout() {
	local lay=$1 fam=$2 m=
	local at="$fam"
	[ "$lay" = mark ] && m=mark at="$fam, class-keyed"
	echo "# $at"
	text "$lay" "$fam"
	need "$at: nft -f of the hand-written layout" x nft -f "$tmp/$fam.nft"
	report x "$T" check "$fam" $m
	snapshot nft "$fam"
	x nft delete table "$fam" wardwall
	# The IR's own text (nfr_table_render) loads as the same objects and expressions: the two
	# hand-written forms say the same thing (in the bridge family the render writes `meta
	# protocol` before a mark-keyed ICMP key, as the batch sends it).
	"$T" render "$fam" $m >"$tmp/render.nft"
	need "$at: nft -f of the IR's render" x nft -f "$tmp/render.nft"
	snapshot render "$fam"
	same "$at: the IR's render lists as the hand-written text" list "$tmp/nft.list" \
		"$tmp/render.list"
	same "$at: the IR's render loads as the same expressions" netlink "$tmp/nft.dbg" \
		"$tmp/render.dbg"
	x nft delete table "$fam" wardwall

	report x "$T" commit "$fam" $m
	report x "$T" check "$fam" $m
	snapshot ww "$fam"
	same "$at: nft list prints wardwall's batch as nft's own load of the text" list \
		"$tmp/nft.list" "$tmp/ww.list"
	same "$at: the kernel holds the same expressions and element keys" netlink \
		"$tmp/nft.dbg" "$tmp/ww.dbg"
	if diff "$tmp/nft.sets" "$tmp/ww.sets" >"$tmp/diff"; then
		ok "$at: every attribute of the sets as nft's own (flags, types, lengths, user data)"
	else
		fail "$at: every attribute of the sets as nft's own (flags, types, lengths, user data)" \
			"$(cat "$tmp/diff")"
	fi
	if [ -z "$m" ]; then
		shapes "$at" 'counter name ip daddr . meta l4proto . th dport map @cp4/ward-01' \
			'ip6 daddr . icmpv6 type vmap @fi6/ward-01' \
			'type ipv4_addr . inet_proto . inet_service : counter' \
			'type ipv6_addr . icmpv6_type : verdict'
		[ "$fam" = inet ] && packets
	else
		# nft lists the set-mark's keep as `keep | or` (cosmetic: the kernel holds keep).
		shapes "$at" \
			'counter name meta mark & 0x00ff0000 . meta l4proto . th dport map @cp/ward-02' \
			'meta mark & 0xffff0000 . icmpv6 type vmap @fi6/ward-02' \
			'typeof meta mark . meta l4proto . th dport : verdict' \
			'type mark . inet_proto . inet_service : counter' \
			'meta mark set meta mark & 0x0000ffff' \
			'meta mark set meta mark & 0x0201ffff | 0x02010000'
		[ "$fam" = inet ] && mark_packets
	fi

	if [ -z "$m" ] || [ "$fam" = inet ]; then
		x nft delete table "$fam" wardwall
		need "$at: nft -f of wardwall's listing" x nft -f "$tmp/ww.list"
		snapshot again "$fam"
		same "$at: nft -f of wardwall's listing gives the same expressions" netlink \
			"$tmp/ww.dbg" "$tmp/again.dbg"
		report x "$T" check "$fam" $m
	fi

	x nft delete table "$fam" wardwall
	report x "$T" commit "$fam" $m
	report x "$T" change "$fam" $m
	report x "$T" check "$fam" $m changed
	x nft delete table "$fam" wardwall

	report "$T" replay "$fam" $m
}

for fam in inet bridge; do
	layout flowmaps "$fam"
	layout mark "$fam"
done
finish
