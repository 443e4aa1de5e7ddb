#!/bin/bash
# Runs a command in a private mount and network namespace with a private bpffs, so that loading
# wardwall's XDP program and creating its maps never touch the root namespace or /sys/fs/bpf.
# Both namespaces vanish when the command exits, and the bpffs with them.
#
# Usage: tests/xdp/sandbox.sh COMMAND [ARG...]
# The command sees WARDWALL_BPFFS (the private bpffs) and a network namespace where only lo
# exists, up, so this machine's addresses are 127.0.0.1 and ::1. Without root it prints a TAP
# plan that skips everything and exits 0.
set -u
if [ "$(id -u)" -ne 0 ]; then
	echo "1..0 # SKIP the XDP tests need root (BPF_PROG_TEST_RUN, namespaces)"
	exit 0
fi
if [ -z "${WW_XDP_SANDBOX_DIR:-}" ]; then
	dir=$(mktemp -d /tmp/wardwall-bpffs.XXXXXX) || exit 2
	# Mounts made inside stay inside (--propagation private). The tests compare their
	# namespaces with these to refuse running outside (/proc/1/ns may be unreadable).
	outer="$(stat -L -c %i /proc/self/ns/net):$(stat -L -c %i /proc/self/ns/mnt)"
	unshare --mount --net --propagation private \
		env WW_XDP_SANDBOX_DIR="$dir" WW_XDP_OUTER_NS="$outer" "$0" "$@"
	rc=$?
	rmdir "$dir" 2>/dev/null
	exit $rc
fi
mount -t bpf bpf "$WW_XDP_SANDBOX_DIR" || exit 2
ip link set lo up || exit 2
export WARDWALL_BPFFS=$WW_XDP_SANDBOX_DIR
unset WW_XDP_SANDBOX_DIR
"$@"
