#!/bin/bash
# apply on a full disk (docs/cli.md, exit codes): exit 2 only when nothing changed, exit 3 when
# the kernel changed and recording it failed, and the next command finishes the record. The
# work is tests/e2e/disk-full.sh (a tmpfs state directory with an inode limit, trial after
# trial), run in tests/xdp/sandbox.sh: private mount and network namespaces, nothing outside
# is touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless nft
exec tests/xdp/sandbox.sh tests/e2e/disk-full.sh
