#!/bin/bash
# Drift and plan cover the XDP tier: tests/e2e/xdp-drift.sh (an XDP-only change, an emptied rule
# map, a detached link) in tests/xdp/sandbox.sh (private namespaces and bpffs).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless nft bpftool
exec tests/xdp/sandbox.sh tests/e2e/xdp-drift.sh
