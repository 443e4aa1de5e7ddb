#!/bin/bash
# The guest's first process after the initramfs (vm/initramfs-init): the host's root file system,
# read-only under a tmpfs overlay. Mounts what a Linux system has, runs `wardwall doctor` and
# the suites named on the kernel command line (wwsuites=a,b,c: tests/run-all filters) from the
# work tree (wwtree=PATH), and writes the results to the second serial port (/dev/ttyS1), which
# vm/run.sh parses:
#   WWVM kernel RELEASE
#   WWVM doctor-begin / lines of `doctor --json` / WWVM doctor-end RC
#   WWVM doctor-text-begin / `doctor` / WWVM doctor-text-end
#   WWVM doctor-iface-begin / `doctor --interface wwvm0` (a veth) / WWVM doctor-iface-end RC
#   WWVM apply-begin NAME / `apply` of policies/demo.json in a namespace / WWVM apply-end NAME RC
#   WWVM suite-begin NAME / the suite's output / WWVM suite-end NAME RC SECONDS
#   WWVM done
# then powers the machine off. Nothing here runs on the host.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
out=/dev/ttyS1
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | tail -n 1; }
tree=$(arg wwtree)
suites=$(arg wwsuites)
cache=$(arg wwcache)
rel=$(uname -r)

mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm /run/netns
# What udev or systemd makes on a booted system: without /dev/fd, bash's <(...) fails and a suite
# silently skips the checks that read through it (70 and 71 ran half their checks on 6.1).
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || ln -s /proc/self/fd/2 /dev/stderr
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
# The guest kernel's modules (unpacked and depmod'ed by vm/kernel.sh), where modprobe and the
# kernel's module autoloading look for them.
mkdir -p "/lib/modules/$rel"
mount --bind "$cache/k/$rel/lib/modules/$rel" "/lib/modules/$rel"
echo /sbin/modprobe >/proc/sys/kernel/modprobe
hostname wwvm
ip link set lo up

exec 3>"$out"
echo "WWVM kernel $rel" >&3
cd "$tree" || { echo "WWVM fatal no tree $tree" >&3; echo o >/proc/sysrq-trigger; }
export WARDWALL=$tree/build/wardwall WW_BUILD=$tree/build
# Emulated CPUs are slow: probes wait longer, still below TCP's 1 s SYN retransmission.
export WW_PROBE_TIMEOUT=${WW_PROBE_TIMEOUT:-0.9}
echo "WWVM doctor-begin" >&3
"$WARDWALL" doctor --json >/tmp/doctor.json 2>/tmp/doctor.err
rc=$?
cat /tmp/doctor.json /tmp/doctor.err >&3
echo "WWVM doctor-end $rc" >&3
echo "WWVM doctor-text-begin" >&3
"$WARDWALL" doctor >&3 2>&1
echo "WWVM doctor-text-end" >&3
# An interface, as a gateway has: the XDP checks per interface (driver features, 6.3 and later).
ip link add wwvm0 type veth peer name wwvm1 && ip link set wwvm0 up && ip link set wwvm1 up
echo "WWVM doctor-iface-begin" >&3
"$WARDWALL" doctor --interface wwvm0 >&3 2>&1
echo "WWVM doctor-iface-end $?" >&3
# What an apply does on this kernel, in a namespace with the demo policy's interfaces (dummies):
# with everything there it applies; booted without a feature (vm/run.sh WW_VM_APPEND, e.g.
# modprobe.blacklist=nf_tables) it must refuse, say why, and leave both tiers as they were.
apply_scenario() { # NAME BPFFS-DIR
	local ns=wwvm-$1 st=/tmp/state-$1 rc
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	for i in lan-ehr lan-pacs lan-infusion lan-guest wan; do
		ip -n "$ns" link add "$i" type dummy && ip -n "$ns" link set "$i" up
	done
	echo "WWVM apply-begin $1" >&3
	ip netns exec "$ns" "$WARDWALL" apply --state-dir "$st" --bpffs "$2" policies/demo.json >&3 2>&1
	rc=$?
	echo "# after the apply: xdp on $(ip -n "$ns" -o link show | grep -c ' xdp') interfaces;" \
		"nftables tables: $(ip netns exec "$ns" nft list tables 2>&1 | tr '\n' ' ')" >&3
	ip netns exec "$ns" "$WARDWALL" show --state-dir "$st" --bpffs "$2" >/tmp/show 2>&1
	echo "# show: status $?: $(head -n 3 /tmp/show | tr '\n' ' ')" >&3
	echo "WWVM apply-end $1 $rc" >&3
	ip netns del "$ns"
}
mkdir -p /tmp/bpffs /tmp/plain
mount -t bpf bpf /tmp/bpffs
apply_scenario with-bpffs /tmp/bpffs
apply_scenario plain-dir-as-bpffs /tmp/plain

for s in ${suites//,/ }; do
	echo "WWVM suite-begin $s" >&3
	start=$(date +%s)
	tests/run-all build "$s" >&3 2>&1
	rc=$?
	echo "WWVM suite-end $s $rc $(($(date +%s) - start))" >&3
done
echo "WWVM done" >&3
sync
echo o >/proc/sysrq-trigger
sleep 30
