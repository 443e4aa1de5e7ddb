#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Evidence export killed (SIGKILL, WARDWALL_STOP_AT) after the files are written, after the
# bundle is chained, and after it is placed: never a folder holding part of a bundle, never two
# bundles with one sequence number, the next export succeeds (moving a chained bundle into place
# first, and saying so), and `evidence verify` accepts every bundle on disk, in order.
# Runs inside tests/xdp/sandbox.sh (nothing outside its namespaces is read or touched).
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export WARDWALL_STATE_DIR=$tmp/state
unset WARDWALL_STOP_AT
ww() { "$WARDWALL" "$@"; }
ww evidence keygen >/dev/null 2>&1 || { fail "evidence keygen"; finish; }
# A private key others can read is refused, as ssh does.
chmod 644 "$tmp/state/keys/evidence.key"
ww evidence export --out "$tmp/b00" >"$tmp/out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "accessible by group or others (mode 0644)" "$tmp/out" && [ ! -e "$tmp/b00" ]; then
	ok "a 0644 private key is refused: $(head -1 "$tmp/out")"
else
	fail "a 0644 private key: exit $rc" "$(cat "$tmp/out")"
fi
chmod 600 "$tmp/state/keys/evidence.key"
ww evidence export --out "$tmp/b01" >"$tmp/out" 2>&1 && ok "a first export" || fail "a first export" "$(cat "$tmp/out")"
k=1
for point in evidence-written evidence-chained evidence-placed evidence-written evidence-chained; do
	k=$((k + 1))
	dir=$(printf '%s/b%02d' "$tmp" "$k")
	WARDWALL_STOP_AT=$point ww evidence export --out "$dir" >"$tmp/out" 2>&1
	rc=$?
	[ $rc = 137 ] || { fail "export killed at $point: exit $rc" "$(cat "$tmp/out")"; continue; }
	if [ -e "$dir" ] && ! { [ -s "$dir/manifest.json" ] && [ -s "$dir/manifest.sig" ]; }; then
		fail "killed at $point: $dir holds part of a bundle" "$(ls "$dir")"
	else
		ok "killed at $point: $dir is absent or whole"
	fi
	k=$((k + 1))
	next=$(printf '%s/b%02d' "$tmp" "$k")
	ww evidence export --out "$next" >"$tmp/out" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		fail "the export after one killed at $point: exit $rc" "$(cat "$tmp/out")"
	elif [ "$point" = evidence-chained ] && ! grep -q "finished bundle .*interrupted" "$tmp/out"; then
		fail "after a kill at $point: the next export did not finish the chained bundle" "$(cat "$tmp/out")"
	elif [ "$point" = evidence-chained ] && ! [ -s "$dir/manifest.sig" ]; then
		fail "after a kill at $point: $dir was not put in place"
	else
		ok "the export after one killed at $point succeeds$([ "$point" = evidence-chained ] && echo ", having put the chained bundle in place")"
	fi
done
bundles=()
for d in "$tmp"/b*; do
	case $d in *.partial) continue ;; esac
	[ -d "$d" ] && bundles+=("$d")
done
seqs=$(for d in "${bundles[@]}"; do sed -n 's/.*"seq": *\([0-9]*\).*/\1/p' "$d/manifest.json" | head -1; done)
if [ -z "$(sort <<<"$seqs" | uniq -d)" ]; then ok "no two bundles share a sequence number ($(echo $seqs))"; else
	fail "duplicate sequence numbers on disk" "$seqs"; fi
# A kill before chaining leaves "<dir>.partial": never named like a bundle, never chained.
leftover=$(ls -d "$tmp"/b*.partial 2>/dev/null | wc -l)
[ "$leftover" = 2 ] && ok "the two exports killed before chaining left only .partial builds, outside the chain" ||
	fail "$leftover .partial builds left (want 2: one per kill before chaining)"
ww evidence verify --key "$tmp/state/keys/evidence.pub" "${bundles[@]}" >"$tmp/out" 2>&1
rc=$?
[ $rc = 0 ] && ok "evidence verify accepts the ${#bundles[@]} bundles on disk, in order" ||
	fail "evidence verify: exit $rc" "$(cat "$tmp/out")"
finish
