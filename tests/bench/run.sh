#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# `make bench`: every benchmark, one after the other. Usage: tests/bench/run.sh BUILD_DIR
#
# Each benchmark is a script of its own that takes BUILD_DIR, prints a Markdown report on standard
# output, saves it under BUILD_DIR and exits non-zero when a measured command failed. Settings are
# environment variables, documented at the top of each script (BENCH_SIZES, BENCH_RUNS, ...).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
if [ $# -ne 1 ] || [ ! -x "$1/wardwall" ]; then
	echo "usage: $0 BUILD_DIR (with BUILD_DIR/wardwall built)" >&2
	exit 2
fi
build=$(cd "$1" && pwd)

status=0
for bench in nft-apply nft-rate xdp-rate xdp-cost quarantine restore; do
	echo "== tests/bench/$bench.sh" >&2
	"$here/$bench.sh" "$build" || status=1
done
exit $status
