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

# Real packets through wardwall's batch (inet): the output hook of the namespace jumps to
# from/ward-01; packets leave by a veth pair's end (10.0.0.0/8, 2001:db8::/32) where nothing
# answers (the output hook comes before neighbour resolution).
packets() {
	need "a veth pair" x ip link add wwfm0 type veth peer name wwfm1
	need "its addresses" sh -c "ip netns exec $NS ip link set wwfm1 up &&
		ip netns exec $NS ip link set wwfm0 up &&
		ip netns exec $NS ip addr add 10.0.0.1/8 dev wwfm0 &&
		ip netns exec $NS ip -6 addr add 2001:db8:ffff::1/32 dev wwfm0 nodad"
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

for fam in inet bridge; do
	echo "# $fam"
	sed "s/^table inet wardwall/table $fam wardwall/" tests/nft/flowmaps.nft >"$tmp/$fam.nft"
	need "$fam: nft -f of the hand-written layout" x nft -f "$tmp/$fam.nft"
	report x "$T" check "$fam"
	snapshot nft "$fam"
	x nft delete table "$fam" wardwall
	# The IR's own text (nfr_table_render) loads as the same objects: the two hand-written
	# forms say the same thing.
	"$T" render "$fam" >"$tmp/render.nft"
	need "$fam: nft -f of the IR's render" x nft -f "$tmp/render.nft"
	snapshot render "$fam"
	same "$fam: the IR's render lists as the hand-written text" list "$tmp/nft.list" \
		"$tmp/render.list"
	x nft delete table "$fam" wardwall

	report x "$T" commit "$fam"
	report x "$T" check "$fam"
	snapshot ww "$fam"
	same "$fam: nft list prints wardwall's batch as nft's own load of the text" list \
		"$tmp/nft.list" "$tmp/ww.list"
	same "$fam: the kernel holds the same expressions and element keys" netlink \
		"$tmp/nft.dbg" "$tmp/ww.dbg"
	if diff "$tmp/nft.sets" "$tmp/ww.sets" >"$tmp/diff"; then
		ok "$fam: every attribute of the sets as nft's own (flags, types, lengths, user data)"
	else
		fail "$fam: every attribute of the sets as nft's own (flags, types, lengths, user data)" \
			"$(cat "$tmp/diff")"
	fi
	for shape in 'counter name ip daddr . meta l4proto . th dport map @cp4/ward-01' \
		'ip6 daddr . icmpv6 type vmap @fi6/ward-01' \
		'type ipv4_addr . inet_proto . inet_service : counter' \
		'type ipv6_addr . icmpv6_type : verdict'; do
		if grep -qF "$shape" "$tmp/ww.list"; then
			ok "$fam: nft lists '$shape'"
		else
			fail "$fam: nft lists '$shape'" "$(cat "$tmp/ww.list")"
		fi
	done

	[ "$fam" = inet ] && packets

	x nft delete table "$fam" wardwall
	need "$fam: nft -f of wardwall's listing" x nft -f "$tmp/ww.list"
	snapshot again "$fam"
	same "$fam: nft -f of wardwall's listing gives the same expressions" netlink \
		"$tmp/ww.dbg" "$tmp/again.dbg"
	report x "$T" check "$fam"

	x nft delete table "$fam" wardwall
	report x "$T" commit "$fam"
	report x "$T" change "$fam"
	report x "$T" check "$fam" changed
	x nft delete table "$fam" wardwall

	report "$T" replay "$fam"
done
finish
