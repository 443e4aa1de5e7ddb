#!/bin/bash
# Fetches a Debian distribution kernel and prepares it to boot under qemu (vm/run.sh), without
# installing it: `apt-get download` + `dpkg-deb -x` into the cache, `depmod` there, and a small
# initramfs (busybox + the modules a 9p root needs). This machine's /boot, /lib/modules and boot
# configuration are never touched.
#
# Usage: vm/kernel.sh KERNEL        prints the prepared kernel's directory on stdout
#   KERNEL  6.1 or 6.12 (the newest linux-image-6.1.0-*-amd64 or linux-image-6.12.*+deb12-amd64
#           in the apt lists), or an exact package name (linux-image-6.1.0-57-amd64)
# Cache: $WW_VM_CACHE (default /var/cache/wardwall-vm): deb/ the packages, k/<release>/ each
# kernel's files, its modules.dep and initramfs.cpio.gz.
set -euo pipefail
CACHE=${WW_VM_CACHE:-/var/cache/wardwall-vm}
HERE=$(cd "$(dirname "$0")" && pwd)
want=${1:?usage: vm/kernel.sh KERNEL (6.1, 6.12 or a linux-image-* package name)}

say() { echo "vm/kernel.sh: $*" >&2; }

# The newest package whose name matches a pattern, by version order of the kernel release.
newest() {
	apt-cache search --names-only "$1" 2>/dev/null | cut -d' ' -f1 | sort -V | tail -n 1
}

case "$want" in
linux-image-*) pkg=$want ;;
6.1) pat='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
6.12) pat='^linux-image-6\.12\.[0-9]+\+deb[0-9]+-amd64$' ;;
*)
	say "unknown KERNEL '$want': 6.1, 6.12 or a linux-image-* package name"
	exit 2
	;;
esac
if [ -z "${pkg:-}" ]; then
	pkg=$(newest "$pat")
	if [ -z "$pkg" ]; then
		say "no package matches $pat in the apt lists; running apt-get update"
		apt-get update -qq >&2 || true
		pkg=$(newest "$pat")
	fi
	[ -n "$pkg" ] || { say "no Debian kernel package matches $pat"; exit 1; }
fi
release=${pkg#linux-image-}
dir=$CACHE/k/$release
if [ -f "$dir/.prepared" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$CACHE/deb" "$dir"
deb=$(ls "$CACHE/deb/${pkg}_"*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
	say "downloading $pkg"
	(cd "$CACHE/deb" && apt-get download "$pkg" >&2 2>/dev/null) ||
		(cd "$CACHE/deb" && apt-get download "$pkg" >&2)
	deb=$(ls "$CACHE/deb/${pkg}_"*.deb | head -n 1)
fi
say "unpacking $(basename "$deb")"
rm -rf "$dir" && mkdir -p "$dir"
dpkg-deb -x "$deb" "$dir"
[ -f "$dir/boot/vmlinuz-$release" ] || { say "$deb has no boot/vmlinuz-$release"; exit 1; }
# The package's postinst would run depmod; here it runs on the unpacked tree only.
depmod -b "$dir" "$release"

# The initramfs: busybox, the modules that reach the 9p root (in dependency order, uncompressed
# so that busybox's insmod loads them as they are), and vm/initramfs-init as /init.
busybox=$(command -v busybox || true)
if [ -z "$busybox" ] || ! file -L "$busybox" | grep -q 'statically linked'; then
	say "a static busybox is needed (Debian package busybox-static; vm/install-deps.sh)"
	exit 1
fi
mods=$dir/lib/modules/$release
ird=$(mktemp -d)
trap 'rm -rf "$ird"' EXIT
mkdir -p "$ird/bin" "$ird/mod" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/root" "$ird/lower" \
	"$ird/upper"
cp "$busybox" "$ird/bin/busybox"
cp "$HERE/initramfs-init" "$ird/init"
chmod 0755 "$ird/init"
order=()
add_mod() { # NAME: the module and, first, what it depends on (modules.dep), once each
	local path dep
	path=$(modinfo -b "$dir" -k "$release" -n "$1" 2>/dev/null) || return 0
	[[ "$path" == /* ]] || return 0 # built in
	for p in "${order[@]}"; do [ "$p" = "$path" ] && return 0; done
	for dep in $(modinfo -b "$dir" -k "$release" -F depends "$1" | tr ',' ' '); do
		add_mod "$dep"
	done
	order+=("$path")
}
for m in virtio_pci virtio_blk 9pnet_virtio 9p overlay; do add_mod "$m"; done
i=0
for path in "${order[@]}"; do
	i=$((i + 1))
	name=$(printf '%02d-%s' "$i" "$(basename "$path" | sed 's/\.ko.*$//')").ko
	case "$path" in
	*.xz) xz -dc "$path" >"$ird/mod/$name" ;;
	*.zst) zstd -qdc "$path" >"$ird/mod/$name" ;;
	*) cp "$path" "$ird/mod/$name" ;;
	esac
done
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir/initramfs.cpio.gz"
say "prepared $release: $(ls "$ird/mod" | tr '\n' ' ')"
touch "$dir/.prepared"
echo "$dir"
