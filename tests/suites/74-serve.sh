#!/bin/bash
# serve's bounds (docs/cli.md, serve): slowloris sockets, clients that never read, scrapes during
# applies. The work is tests/e2e/serve-load.sh, run in tests/xdp/sandbox.sh (private network and
# mount namespaces, private bpffs): nothing outside is touched, serve listens on the sandbox's
# loopback only.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless nft curl
exec tests/xdp/sandbox.sh tests/e2e/serve-load.sh
