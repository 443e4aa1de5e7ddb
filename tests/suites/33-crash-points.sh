#!/bin/bash
# Crash safety (intent.h): apply, rollback and remove killed (SIGKILL) at every step boundary
# once (16 trials), through WARDWALL_STOP_AT; the next command finishes or undoes the interrupted change, and
# both tiers then hold exactly the old or exactly the new policy, with a truthful history. The
# work is tests/e2e/crash.sh, run in tests/xdp/sandbox.sh (private network and mount namespaces,
# private bpffs: nothing outside is touched). `make soak` runs the same trials 1,000 times over.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless nft bpftool
exec tests/xdp/sandbox.sh tests/e2e/crash.sh 1 quick
