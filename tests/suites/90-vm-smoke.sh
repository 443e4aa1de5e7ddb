#!/bin/bash
# A smoke test on the oldest kernel wardwall supports: Debian 12's 6.1, booted under qemu by
# vm/run.sh (TCG here, KVM where /dev/kvm is), runs `wardwall doctor` and the doctor's unit tests
# inside. Skipped, with the reason, when qemu is not installed or no 6.1 kernel has been prepared
# in the cache (`make test` and `make vm-test KERNEL=6.1` download and prepare one, vm/kernel.sh;
# this suite never downloads).
# WW_VM_SMOKE=0 skips it. The guest writes only to its own tmpfs; nothing on this machine changes
# but $WW_BUILD/vm/.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}
CACHE=${WW_VM_CACHE:-/var/cache/wardwall-vm}

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
[ "${WW_VM_SMOKE:-1}" != 0 ] || skip "WW_VM_SMOKE=0"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 is not installed (vm/install-deps.sh)"
rel=$(ls -d "$CACHE"/k/6.1.0-*-amd64 2>/dev/null | sort -V | tail -n 1)
[ -n "$rel" ] && [ -f "$rel/.prepared" ] ||
	skip "no Debian 6.1 kernel prepared in $CACHE (make test or make vm-test KERNEL=6.1 prepares one)"
rel=$(basename "$rel")

start=$SECONDS
BUILD=$BUILD WW_VM_TIMEOUT=${WW_VM_TIMEOUT:-900} vm/run.sh "linux-image-$rel" unit/test_doctor \
	>"$BUILD/vm-smoke.out" 2>&1
rc=$?
sed 's/^/# /' "$BUILD/vm-smoke.out"
sum=$BUILD/vm/$rel/summary.txt
n=0
tap() { # OK|NOT what
	n=$((n + 1))
	if [ "$1" = OK ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi
}
if grep -q 'did not finish\|guest failed' "$sum" 2>/dev/null || [ "$rc" -eq 2 ]; then
	tap NOT "$rel boots, runs the guest and powers off (status $rc, $((SECONDS - start)) s)"
else
	tap OK "$rel boots, runs the guest and powers off ($((SECONDS - start)) s)"
fi
if grep -q '^  doctor: all [0-9]* checks ok' "$sum" 2>/dev/null; then
	tap OK "doctor on $rel: every check ok"
else
	tap NOT "doctor on $rel: $(grep -c '^  doctor ' "$sum" 2>/dev/null) checks not ok"
fi
if grep -q '^  suite unit/test_doctor: [1-9][0-9]* passed, 0 failed' "$sum" 2>/dev/null; then
	tap OK "unit/test_doctor passes on $rel"
else
	tap NOT "unit/test_doctor on $rel: $(grep 'suite unit/test_doctor' "$sum" 2>/dev/null)"
fi
echo "1..$n"
