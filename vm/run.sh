#!/bin/bash
# `make vm-test KERNEL=...`: boots a Debian distribution kernel (vm/kernel.sh) under qemu — KVM
# when /dev/kvm is there, TCG otherwise — with this machine's root file system shared read-only
# over 9p (the guest writes to a tmpfs overlay, vm/initramfs-init), runs `wardwall doctor` and
# the kernel-facing suites of this work tree inside (vm/guest.sh), and reads their results from
# the guest's second serial port.
#
# Usage: vm/run.sh KERNEL [SUITES]
#   KERNEL  6.1, 6.12 or a linux-image-* package name (vm/kernel.sh)
#   SUITES  comma-separated tests/run-all filters (default $WW_VM_SUITES, or the kernel suites)
# Environment: WW_VM_TIMEOUT (seconds, default 5400), WW_VM_MEM (MiB, 2048), WW_VM_SMP (2),
#   WW_VM_APPEND (more kernel parameters: modprobe.blacklist=nf_tables boots without nftables),
#   WW_VM_TAG (a name for the run: results in build/vm/<release>-<tag>/),
#   WW_VM_CACHE (vm/kernel.sh), BUILD (build).
# Writes $BUILD/vm/<release>/{console.log,results.log,summary.txt} (and tree/, the snapshot the
# guest ran); prints the summary. Exits 0
# when the guest ran everything and no suite failed, 1 when a suite failed, 2 when the machine
# could not be prepared or did not finish.
set -u
cd "$(dirname "$0")/.." || exit 2
tree=$PWD
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$tree/$BUILD ;; esac
CACHE=${WW_VM_CACHE:-/var/cache/wardwall-vm}
kernel=${1:?usage: vm/run.sh KERNEL [SUITES]}
suites=${2:-${WW_VM_SUITES:-unit/test_doctor,30-,31-,35-,40-,41-,50-,60-,70-,71-,72-}}
timeout=${WW_VM_TIMEOUT:-5400}

qemu=$(command -v qemu-system-x86_64) || {
	echo "vm/run.sh: qemu-system-x86_64 is not installed (vm/install-deps.sh)" >&2
	exit 2
}
[ -x "$BUILD/wardwall" ] || { echo "vm/run.sh: build $BUILD/wardwall first (make)" >&2; exit 2; }
kdir=$(vm/kernel.sh "$kernel") || exit 2
rel=$(basename "$kdir")
out=$BUILD/vm/$rel${WW_VM_TAG:+-$WW_VM_TAG}
mkdir -p "$out"
rm -f "$out/console.log" "$out/results.log" "$out/summary.txt"

# The guest runs a snapshot of the work tree and its build, so that this tree can change (a
# rebuild, a rebase) while a run of an hour goes on.
snap=$out/tree
rm -rf "$snap"
mkdir -p "$snap/build"
tar -C "$tree" --exclude=./build --exclude=./.git --exclude="./${BUILD#"$tree"/}" -cf - . | tar -C "$snap" -xf - ||
	exit 2
for f in wardwall wardwall.bpf.o wardwall.skel.h tests tests-xdp tests-fuzz tests-nft; do
	[ -e "$BUILD/$f" ] && cp -a "$BUILD/$f" "$snap/build/"
done

# KVM when /dev/kvm is there and works, TCG otherwise. Some hosts offer a /dev/kvm whose guests never
# run (a nested or paravirtual KVM: the guest is created and then prints nothing): a KVM boot that
# has written nothing to the console within WW_VM_KVM_PROBE seconds (20), or whose qemu exits
# before the guest wrote anything (a host whose KVM refuses the CPU's MSRs: qemu asserts and
# aborts), is stopped and the run starts again under TCG, and the log says so.
boot() { # ACCEL CPU: qemu in the background, its PID in $qpid
	: >"$out/console.log"
	: >"$out/results.log"
	timeout --foreground -k 10 "$timeout" "$qemu" \
		-machine q35 -accel "$1" -cpu "$2" -smp "${WW_VM_SMP:-2}" -m "${WW_VM_MEM:-2048}" \
		-kernel "$kdir/boot/vmlinuz-$rel" -initrd "$kdir/initramfs.cpio.gz" \
		-append "console=ttyS0 panic=-1 loglevel=4 wwrun=$snap/vm/guest.sh wwtree=$snap wwsuites=$suites wwcache=$CACHE ${WW_VM_APPEND:-}" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-nic none -display none -monitor none -no-reboot \
		-serial "file:$out/console.log" -serial "file:$out/results.log" </dev/null &
	qpid=$!
}
trap '[ -n "${qpid:-}" ] && kill "$qpid" 2>/dev/null' EXIT INT TERM
accel=tcg,thread=multi cpu=max
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && [ "${WW_VM_ACCEL:-}" != tcg ]; then
	accel=kvm cpu=host
fi
echo "vm/run.sh: booting $rel ($accel) with suites $suites" >&2
start=$SECONDS
boot "$accel" "$cpu"
if [ "$accel" = kvm ]; then
	probe=${WW_VM_KVM_PROBE:-20}
	while [ ! -s "$out/console.log" ] && kill -0 "$qpid" 2>/dev/null && [ $((SECONDS - start)) -lt "$probe" ]; do
		sleep 1
	done
	if [ ! -s "$out/console.log" ]; then
		if kill -0 "$qpid" 2>/dev/null; then
			kill "$qpid" 2>/dev/null
			wait "$qpid" 2>/dev/null
			why="the KVM guest printed nothing in ${probe}s"
		else
			wait "$qpid"
			why="qemu under KVM exited with status $? before the guest printed anything"
		fi
		accel=tcg,thread=multi cpu=max
		echo "vm/run.sh: $why (/dev/kvm does not run guests here): booting again under TCG" >&2
		start=$SECONDS
		boot "$accel" "$cpu"
	fi
fi
wait "$qpid"
qrc=$?
qpid=
secs=$((SECONDS - start))
vm/summary.sh "$out/results.log" "$rel" "$accel" "$secs" >"$out/summary.txt"
src=$?
cat "$out/summary.txt"
if [ $qrc -ne 0 ]; then
	echo "vm/run.sh: qemu exited with status $qrc (124: timeout after ${timeout}s); console: $out/console.log" >&2
	exit 2
fi
exit $src
