#!/bin/sh
# Installs the Debian 12 packages wardwall needs to build, test and run, when any is missing.
# Used by `make deps` (and so by `make test`, `make demo` and `make vm-test`). Needs root for
# apt-get. qemu, busybox-static, kmod, cpio and xz-utils are for vm/ (a Debian kernel under qemu);
# pandoc builds the man pages, rsyslog (with rsyslog-gnutls for TLS) is the real syslog receiver
# of the SIEM tests, libssl-dev is the TLS client of serve --siem tls://,
# dpkg-dev, debhelper, fakeroot and lintian build and check the Debian package.
set -eu

PKGS="build-essential pkg-config clang llvm bpftool libbpf-dev libnftnl-dev libmnl-dev
libnl-3-dev libnl-route-3-dev libnetfilter-conntrack-dev conntrack libcjson-dev libsodium-dev libcmocka-dev nftables iproute2
iputils-ping netcat-openbsd python3 python3-jsonschema linux-libc-dev libclang-rt-14-dev
prometheus curl etcd-server etcd-client libcurl4-openssl-dev
chromium openssl
qemu-system-x86 busybox-static kmod cpio xz-utils file
pandoc rsyslog rsyslog-gnutls libssl-dev libmicrohttpd-dev dpkg-dev lintian debhelper fakeroot zsh"
PKGS="$PKGS ${WARDWALL_EXTRA_PKGS:-}"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "installing:$missing"
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
