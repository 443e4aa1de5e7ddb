#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The compiled nftables table against the reference evaluator at the benchmark's scale, without
# the kernel: tests/unit/test_nft_model walks 20,000 random packets through the table of each
# policy tests/bench/genpolicy.py makes (2,000 flows with seeds 1 and 2, 10,000 flows with seed
# 3) by its model of nf_tables and compares the verdict and the counters with `wardwall
# query`'s evaluator (docs/testing.md). The unit run of the same program covers the example
# policies and 1,500 small random ones. About 7 s.
#   WW_SEED  the packets' seed (default: the time; printed)
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
PY=${WW_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

files=
for spec in 2000:1 2000:2 10000:3; do
	out=$tmp/gen-${spec/:/-}.json
	if ! "$PY" tests/bench/genpolicy.py --flows "${spec%%:*}" --seed "${spec##*:}" -o "$out"; then
		echo "not ok 1 - genpolicy.py --flows ${spec%%:*} --seed ${spec##*:} failed"
		echo "1..1"
		exit 1
	fi
	files=${files:+$files:}$out
done
WW_MODEL_POLICIES=$files exec "$BUILD/tests/test_nft_model"
