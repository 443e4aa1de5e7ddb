#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# apply on a full disk: the state directory is a tmpfs of this mount namespace whose inode limit
# is set, trial after trial, to what it holds plus k (k = 0..7), so that apply's writes run out
# of room at each of its writes in turn, before and after the kernel changes. Each trial applies
# B over A (nftables only) and holds the documented exit codes to what the kernel then has:
#   2 — nothing changed: nftables still lists A's table (and the error names the disk);
#   3 — the kernel changed, recording it failed: nftables lists B's table, the error says the
#       kernel has the new policy and names "No space left on device", and the next command, once
#       there is room, finishes the record (`show` exits 0, history ends at B's generation);
#   0 — all of it fit: the kernel and history both B.
# At least one trial must end in 2 and one in 3 (the test would be vacuous otherwise). Runs inside
# tests/xdp/sandbox.sh (private mount and network namespaces). Prints TAP.
set -u
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/tap.sh
WARDWALL=${WARDWALL:-$PWD/build/wardwall}
PY=${WW_PYTHON:-python3}
tmp=$(mktemp -d)
ST=$tmp/state
cleanup() {
	umount "$ST" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
export WARDWALL_STATE_DIR=$ST
unset WARDWALL_STOP_AT
mkdir -p "$ST"
mount -t tmpfs -o size=16m,nr_inodes=4096,mode=0750 wwfull "$ST" || exit 2

for p in A B; do
	cat >"$tmp/$p.json" <<JSON
{
  "wardwall": 1,
  "name": "full-$p",
  "defaults": {"between_zones": "deny", "within_zone": "allow", "log": "none"},
  "zones": {
    "ward": {"networks": ["10.50.1.0/24"]},
    "lab": {"networks": ["10.50.2.0/24"]}
  },
  "flows": [
    {"id": "ward-to-lab", "from": "ward", "to": "lab", "services": ["https"], "action": "allow"}$([ $p = B ] && echo ',
    {"id": "lab-to-ward", "from": "lab", "to": "ward", "services": ["hl7-mllp"], "action": "allow"}')
  ],
  "enforcement": {"mode": "gateway", "xdp": "off"}
}
JSON
done
has_b() { nft list table inet wardwall 2>/dev/null | grep -q 'lab-to-ward'; }
last_gen() { tail -n 1 "$ST/history.jsonl" 2>/dev/null | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["generation"])'; }
room() { mount -o remount,nr_inodes="$1" "$ST"; }
used() { df --output=iused "$ST" | tail -n 1 | tr -d ' '; }

seen2=0 seen3=0
for k in ${WW_DISKFULL_K:-0 1 2 3 4 5 6 7}; do
	room 4096
	"$WARDWALL" show >/dev/null 2>&1 # finishes what the last trial left
	if ! "$WARDWALL" apply "$tmp/A.json" >"$tmp/out" 2>&1 || has_b; then
		fail "k=$k: apply A with room to spare" "$(cat "$tmp/out")"
		continue
	fi
	g0=$(last_gen)
	room $(($(used) + k))
	"$WARDWALL" apply "$tmp/B.json" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	room 4096
	case $rc in
	2)
		seen2=$((seen2 + 1))
		if ! has_b && grep -q 'No space left on device' "$tmp/err" && [ "$(last_gen)" = "$g0" ]; then
			ok "k=$k: exit 2, the kernel still has A, history unchanged: $(head -c 160 "$tmp/err")"
		else
			fail "k=$k: exit 2 means nothing changed" "B in the kernel: $(has_b && echo yes || echo no)" \
				"history: $g0 -> $(last_gen)" "$(cat "$tmp/err")"
		fi
		;;
	3)
		seen3=$((seen3 + 1))
		if has_b && grep -q 'the kernel has the new policy' "$tmp/err" &&
			grep -q 'No space left on device' "$tmp/err"; then
			ok "k=$k: exit 3, the kernel has B and the error says so: $(head -c 200 "$tmp/err")"
		else
			fail "k=$k: exit 3 means the kernel changed and recording failed" \
				"B in the kernel: $(has_b && echo yes || echo no)" "$(cat "$tmp/err")"
		fi
		if "$WARDWALL" show >"$tmp/show" 2>&1 && [ "$(last_gen)" = $((g0 + 1)) ] && has_b; then
			ok "k=$k: with room again, the next command finishes the record: generation $(last_gen)"
		else
			fail "k=$k: with room again, the next command finishes the record" \
				"history: $g0 -> $(last_gen)" "$(tail -5 "$tmp/show")"
		fi
		;;
	0)
		if has_b && [ "$(last_gen)" = $((g0 + 1)) ]; then
			ok "k=$k: exit 0, it all fit: the kernel and history have B"
		else
			fail "k=$k: exit 0 means B applied and recorded" "history: $g0 -> $(last_gen)"
		fi
		;;
	*)
		fail "k=$k: apply B exits 0, 2 or 3" "status $rc" "$(cat "$tmp/err")"
		;;
	esac
done
[ $seen2 -gt 0 ] && [ $seen3 -gt 0 ] &&
	ok "the trials ran out of room both before ($seen2) and after ($seen3) the kernel changed" ||
	fail "the trials ran out of room both before and after the kernel changed" "exit 2: $seen2, exit 3: $seen3"
"$WARDWALL" remove >/dev/null 2>&1
finish
