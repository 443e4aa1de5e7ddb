#!/bin/bash
# Evidence export is crash-atomic: tests/e2e/evidence-crash.sh (kill -9 at each step of an
# export) in tests/xdp/sandbox.sh (private namespaces).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless nft
exec tests/xdp/sandbox.sh tests/e2e/evidence-crash.sh
