#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/bench/nft-rate.sh works (make bench runs it in full): a 10-flow policy, every case once for
# 0.3 s. The script itself checks each case's verdict (denied frames not forwarded and counted by
# nftables, allowed ones forwarded) and exits non-zero when one is wrong; here, besides, every case
# must have moved frames through the gateway. Takes about 5 s.
#
# Needs root, nft and cc; the script makes and deletes its own namespaces (wwr<random>-*) and
# never touches the root namespace.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
BUILD=$(dirname "$WARDWALL")
unset WARDWALL_NOW

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh
skip_unless nft cc
tmp=$(mktemp -d /tmp/ww-nft-rate.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT

if RATE_FLOWS=10 RATE_SECONDS=0.3 RATE_WARMUP=0.1 RATE_RUNS=1 RATE_OUT=$tmp/report.md \
	tests/bench/nft-rate.sh "$BUILD" >"$tmp/out" 2>"$tmp/err"; then
	ok "nft-rate.sh, 10 flows: every case's verdict checked"
else
	fail "nft-rate.sh, 10 flows, exited non-zero" "$(tail -20 "$tmp/out" "$tmp/err")"
fi
for c in denied-default denied-flow allowed-new established; do
	rx=$(awk -v c="$c" '$2 == c && $3 == 0 { print $0 }' "$BUILD/bench/nft-rate.results" |
		sed 's/^[^{]*//' | python3 -c 'import json, sys; print(json.load(sys.stdin)["rx"])' 2>/dev/null)
	if [ "${rx:-0}" -gt 1000 ]; then
		ok "$c: $rx frames judged by the gateway"
	else
		fail "$c: the gateway took in ${rx:-no} frames" "$(cat "$tmp/report.md" 2>/dev/null)"
	fi
done
finish
