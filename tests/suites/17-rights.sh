#!/bin/bash
# What wardwall says when it may not do its work (docs/cli.md "Rights and the state directory"):
# a state directory that is a symbolic link is refused, not followed; a command that reads the
# kernel, run without CAP_NET_ADMIN and CAP_BPF, says which are missing and prints no libbpf
# noise; `events` without CAP_NET_ADMIN says so instead of blaming another NFLOG listener.
# Everything runs in a private network namespace (unshare -n); nothing is changed.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
skip_unless setpriv unshare
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
mkdir "$tmp/real" && ln -s "$tmp/real" "$tmp/link"
nobody() { unshare -n setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	env WARDWALL_STATE_DIR="$tmp/nobody" "$@"; }

WARDWALL_STATE_DIR=$tmp/link timeout 20 unshare -n "$WARDWALL" show >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "state directory $tmp/link is a symbolic link to $tmp/real" "$tmp/out"; then
	ok "a symlinked state directory is refused: $(tail -1 "$tmp/out")"
else
	fail "a symlinked state directory: exit $rc (want 2)" "$(cat "$tmp/out")"
fi
mkdir -m 777 "$tmp/nobody"
nobody timeout 20 "$WARDWALL" show >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "hint: show reads the kernel.*CAP_NET_ADMIN and CAP_BPF" "$tmp/out" &&
	! grep -q "^libbpf" "$tmp/out"; then
	ok "show without rights: the hint, no libbpf noise"
else
	fail "show without rights: exit $rc" "$(cat "$tmp/out")"
fi
nobody timeout 20 "$WARDWALL" events --count 1 >"$tmp/out" 2>&1
rc=$?
if [ $rc != 0 ] && grep -q "needs CAP_NET_ADMIN" "$tmp/out" && ! grep -q "another process listens" "$tmp/out"; then
	ok "events without CAP_NET_ADMIN says so: $(head -1 "$tmp/out")"
else
	fail "events without CAP_NET_ADMIN: exit $rc" "$(cat "$tmp/out")"
fi
finish
