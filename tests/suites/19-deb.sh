#!/bin/bash
# The Debian package, installed, upgraded, removed and purged, never on this machine's system:
#   - built with `dpkg-buildpackage -us -uc -b` from a copy of the tracked sources (never in place);
#   - lintian finds no error and no warning (--pedantic, info tags shown; overrides: see
#     debian/wardwall.lintian-overrides);
#   - installed with `dpkg --root` into a scratch root made of the package plus what its programs
#     need: busybox for the maintainer scripts' shell and tools, the shared libraries the binary
#     links (copied from this machine, as ldd lists them), and dpkg's status database copied from
#     this machine for the packages the .deb depends on, so that dpkg checks its Depends for real.
#     dpkg runs the maintainer scripts chrooted into that root. Everything runs in private mount,
#     network and PID namespaces (unshare), so nothing the scripts or `wardwall` do can reach this
#     machine's network, processes or mounts; the root is a directory under /tmp, deleted on exit;
#   - from it (chroot): postinst made the state directory 0700 and the evidence key 0600;
#     `wardwall doctor` runs (a private bpffs); `restore` with nothing applied succeeds;
#   - upgraded to a newer version (the same package with the version raised and the example
#     conffile changed, repacked with dpkg-deb): the operator's edited /etc/wardwall/policy.json
#     and the state (the key) are kept;
#   - removed (the conffile and state stay), then purged: /etc/wardwall and /var/lib/wardwall go,
#     and dpkg knows the package no more.
# Needs root, dpkg-buildpackage, lintian, busybox (static), unshare. `make deb-test` runs it alone.
set -u
cd "$(dirname "$0")/../.." || exit 2
src_root=$PWD

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless dpkg-buildpackage dpkg-deb lintian unshare chroot
BUSYBOX=$(command -v busybox)
[ -n "$BUSYBOX" ] && file -L "$BUSYBOX" | grep -q 'statically linked' ||
	{ echo "ok 1 - # SKIP needs a static busybox (busybox-static)"; echo "1..1"; exit 0; }
[ "$(id -u)" = 0 ] || { echo "ok 1 - # SKIP needs root (dpkg --root, chroot, namespaces)"; echo "1..1"; exit 0; }

tmp=$(mktemp -d)
cleanup() {
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build, from a copy of the tracked files
src=$tmp/wardwall-0.2.0
mkdir -p "$src"
git ls-files -z | xargs -0 cp --parents -t "$src" 2>/dev/null || { fail "copying the sources"; finish; }
if (cd "$src" && WW_GIT=$(git -C "$src_root" rev-parse --short HEAD) \
	dpkg-buildpackage -us -uc -b >"$tmp/build.log" 2>&1); then
	deb=$(ls "$tmp"/wardwall_0.2.0_*.deb)
	ok "dpkg-buildpackage -us -uc -b: $(basename "$deb"), $(stat -c %s "$deb") bytes"
else
	fail "dpkg-buildpackage" "$(tail -30 "$tmp/build.log")"
	finish
fi
dpkg-deb -c "$deb" | awk '{print "# " $1 " " $6}'

# --- lintian
lintian --pedantic -I --tag-display-limit 0 "$deb" >"$tmp/lintian" 2>&1
sed 's/^/# lintian: /' "$tmp/lintian"
if ! grep -qE '^[EW]: ' "$tmp/lintian"; then
	ok "lintian --pedantic: no error, no warning ($(grep -cE '^[IPNX]: ' "$tmp/lintian") info/pedantic lines)"
else
	fail "lintian" "$(grep -E '^[EW]: ' "$tmp/lintian")"
fi

# --- the upgrade: the same package, version raised, the example conffile changed
up=$tmp/up
dpkg-deb -R "$deb" "$up" || { fail "dpkg-deb -R"; finish; }
sed -i 's/^Version: 0.2.0$/Version: 0.2.0+up1/' "$up/DEBIAN/control"
sed -i 's/"description": "EXAMPLE installed by wardwall/"description": "EXAMPLE (0.2.0+up1) installed by wardwall/' \
	"$up/etc/wardwall/policy.json"
(cd "$up" && find . -path ./DEBIAN -prune -o -type f -print | sed 's|^\./||' | sort |
	xargs md5sum >DEBIAN/md5sums)
deb2=$tmp/wardwall_0.2.0+up1.deb
dpkg-deb -b --root-owner-group "$up" "$deb2" >/dev/null || { fail "dpkg-deb -b"; finish; }

# --- the scratch root: busybox, the binary's libraries, dpkg's database
R=$tmp/root
mkdir -p "$R/bin" "$R/usr/bin" "$R/sbin" "$R/usr/sbin" "$R/tmp" "$R/proc" "$R/sys" "$R/dev" \
	"$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/triggers" "$R/etc"
chmod 1777 "$R/tmp"
cp "$BUSYBOX" "$R/bin/busybox"
for a in $("$BUSYBOX" --list); do
	[ -e "$R/bin/$a" ] || ln -s busybox "$R/bin/$a"
done
dpkg-deb -x "$deb" "$tmp/x"
for lib in $(ldd "$tmp/x/usr/sbin/wardwall" | grep -oE '/[^ ]+'); do
	mkdir -p "$R$(dirname "$lib")" && cp -L "$lib" "$R$lib"
done
# dpkg's database: the packages the .deb depends on, as this machine has them (their status
# stanzas, and empty file lists), so that dpkg checks the Depends for real.
for p in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed 's/(.*)//; s/|.*//; s/ //g'); do
	dpkg-query -s "$p" >>"$R/var/lib/dpkg/status" 2>/dev/null || { fail "dependency $p is not installed here"; continue; }
	echo >>"$R/var/lib/dpkg/status"
	a=$(dpkg-query -W -f='${Architecture}' "$p")
	touch "$R/var/lib/dpkg/info/$p.list" "$R/var/lib/dpkg/info/$p:$a.list"
done
touch "$R/var/lib/dpkg/available"
[ -f /var/lib/dpkg/arch ] && cp /var/lib/dpkg/arch "$R/var/lib/dpkg/arch"
echo "root:x:0:0:root:/root:/bin/sh" >"$R/etc/passwd"
echo "root:x:0:" >"$R/etc/group"

# Everything below in private mount, network and PID namespaces.
cat >"$tmp/in-ns.sh" <<'INNER'
set -u
R=$1 deb=$2 deb2=$3
say() { echo "$*"; }
DPKG=(dpkg --root="$R" --force-confold --force-bad-path)
mount -t tmpfs tmpfs "$R/dev" && touch "$R/dev/null" "$R/dev/urandom" &&
	mount --bind /dev/null "$R/dev/null" && mount --bind /dev/urandom "$R/dev/urandom" || exit 3
mount -t proc proc "$R/proc" && mount -t sysfs sysfs "$R/sys" || exit 3
in_root() { chroot "$R" /bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin "$@"; }

"${DPKG[@]}" -i "$deb" >"$R/../install.log" 2>&1 || { cat "$R/../install.log"; say "FAIL install"; }
say "STATUS-1 $(dpkg --root="$R" -s wardwall 2>/dev/null | sed -n 's/^Status: //p') $(dpkg --root="$R" -s wardwall 2>/dev/null | sed -n 's/^Version: //p')"
say "MODES $(stat -c %a "$R/var/lib/wardwall" 2>&1) $(stat -c %a "$R/var/lib/wardwall/keys/evidence.key" 2>&1)"
mkdir -p "$R/tmp/bpf" && mount -t bpf bpf "$R/tmp/bpf" || exit 3
in_root /usr/sbin/wardwall doctor --bpffs /tmp/bpf >"$R/../doctor.out" 2>&1
say "DOCTOR $?"
in_root /usr/sbin/wardwall restore --bpffs /tmp/bpf >"$R/../restore.out" 2>&1
say "RESTORE $? $(head -1 "$R/../restore.out")"
in_root /usr/sbin/wardwall check /etc/wardwall/policy.json >/dev/null 2>&1
say "CHECK $?"
key1=$(sha256sum "$R/var/lib/wardwall/keys/evidence.key" | cut -c1-16)
echo '{"wardwall": 1, "name": "edited-by-the-operator", "zones": {"a": {"networks": "10.0.0.0/8"}}}' \
	>"$R/etc/wardwall/policy.json"
"${DPKG[@]}" -i "$deb2" >"$R/../upgrade.log" 2>&1 || { cat "$R/../upgrade.log"; say "FAIL upgrade"; }
key2=$(sha256sum "$R/var/lib/wardwall/keys/evidence.key" | cut -c1-16)
say "STATUS-2 $(dpkg --root="$R" -s wardwall 2>/dev/null | sed -n 's/^Version: //p') $(grep -c edited-by-the-operator "$R/etc/wardwall/policy.json") $([ "$key1" = "$key2" ] && echo same-key || echo new-key) $([ -e "$R/etc/wardwall/policy.json.dpkg-dist" ] && echo dist)"
"${DPKG[@]}" -r wardwall >"$R/../remove.log" 2>&1 || { cat "$R/../remove.log"; say "FAIL remove"; }
say "REMOVED $([ -e "$R/usr/sbin/wardwall" ] && echo binary) $([ -e "$R/etc/wardwall/policy.json" ] && echo conffile) $([ -d "$R/var/lib/wardwall" ] && echo state)"
"${DPKG[@]}" -P wardwall >"$R/../purge.log" 2>&1 || { cat "$R/../purge.log"; say "FAIL purge"; }
say "PURGED $([ -e "$R/etc/wardwall" ] && echo etc) $([ -e "$R/var/lib/wardwall" ] && echo state) $(dpkg --root="$R" -s wardwall >/dev/null 2>&1 && echo known)"
umount "$R/tmp/bpf" "$R/sys" "$R/proc" "$R/dev/null" "$R/dev/urandom" "$R/dev"
INNER
timeout 300 unshare --mount --propagation private --net --pid --fork bash "$tmp/in-ns.sh" "$R" "$deb" "$deb2" \
	>"$tmp/ns.out" 2>&1
rc=$?
sed 's/^/# /' "$tmp/ns.out"
line() { grep "^$1 " "$tmp/ns.out" | head -1; }
[ $rc = 0 ] || fail "the namespaced run exited $rc"
grep -q "^FAIL" "$tmp/ns.out" && fail "dpkg" "$(grep -h . "$tmp"/*.log 2>/dev/null | tail -20)"
[ "$(line STATUS-1)" = "STATUS-1 install ok installed 0.2.0" ] && ok "dpkg --root -i: installed into the scratch root" ||
	fail "install" "$(line STATUS-1)" "$(cat "$tmp/install.log" 2>/dev/null)"
[ "$(line MODES)" = "MODES 700 600" ] && ok "postinst: /var/lib/wardwall 0700, evidence key 0600" ||
	fail "modes after postinst" "$(line MODES)"
[ "$(line DOCTOR | cut -d' ' -f2)" -le 1 ] 2>/dev/null && grep -q "checks:" "$tmp/doctor.out" &&
	ok "wardwall doctor runs from the installed package ($(tail -1 "$tmp/doctor.out" | sed 's/^ *//'))" ||
	fail "doctor from the scratch root" "$(line DOCTOR)" "$(tail -5 "$tmp/doctor.out")"
sed 's/^/# doctor: /' "$tmp/doctor.out" | grep -v "  ok  " | head -20
[[ "$(line RESTORE)" == "RESTORE 0 nothing to restore"* ]] && [ "$(line CHECK)" = "CHECK 0" ] &&
	ok "from it: restore with nothing applied succeeds; the installed example checks" ||
	fail "restore/check from the scratch root" "$(line RESTORE)" "$(line CHECK)"
[ "$(line STATUS-2)" = "STATUS-2 0.2.0+up1 1 same-key dist" ] &&
	ok "upgrade to 0.2.0+up1: the operator's policy.json kept (the new example as .dpkg-dist), the key kept" ||
	fail "upgrade" "$(line STATUS-2)" "$(cat "$tmp/upgrade.log" 2>/dev/null)"
[ "$(line REMOVED)" = "REMOVED  conffile state" ] && ok "dpkg -r: the binary goes, the conffile and the state stay" ||
	fail "remove" "$(line REMOVED)"
[ "$(line PURGED)" = "PURGED   " ] && ok "dpkg -P: /etc/wardwall and /var/lib/wardwall gone, the package unknown" ||
	fail "purge" "$(line PURGED)" "$(cat "$tmp/purge.log" 2>/dev/null)"
finish
