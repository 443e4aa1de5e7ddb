#!/bin/bash
# The XDP program on crafted frames: build/tests-xdp/test_xdp_packets (tests/xdp/), run by
# BPF_PROG_TEST_RUN inside tests/xdp/sandbox.sh, a private mount and network namespace with a
# private bpffs. Nothing is attached to an interface; nothing touches /sys/fs/bpf.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
bin=$BUILD/tests-xdp/test_xdp_packets
export CMOCKA_MESSAGE_OUTPUT=TAP
if [ ! -x "$bin" ]; then
	echo "not ok 1 - $bin is missing (make xdp-tests)"
	echo "1..1"
	exit 1
fi
exec tests/xdp/sandbox.sh "$bin"
