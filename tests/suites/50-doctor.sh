#!/bin/bash
# wardwall doctor, in one private network namespace with a private bpffs: on this machine every
# check is ok and the exit code 0; the nftables probe commits nothing; a bogus --bpffs (or
# WARDWALL_BPFFS, or a directory that is no bpffs) is missing with a fix and exit code 1; what a
# policy asks changes what is required (native XDP on an interface without it is missing, XDP
# checks of a policy without XDP only warn); wardwall's own table and pins read back, and a
# foreign rule in the table is a warning; usage errors exit 2.
#
# Needs root. The namespace (ww<random>-doc) and the temporary directory are deleted on every exit
# path; each bpffs is mounted inside a private mount namespace (unshare -m), so it disappears with
# the command that mounted it. The root namespace's ruleset and /sys/fs/bpf are never touched.
set -u
cd "$(dirname "$0")/../.." || exit 2
WARDWALL=${WARDWALL:-$PWD/build/wardwall}

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

skip_unless nft unshare

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh
tmp=$(mktemp -d)
NS=ww$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')-doc
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
BPFFS=$tmp/bpffs
mkdir -p "$BPFFS" "$tmp/plain"

# The doctor in the namespace, without a bpffs of its own.
ww() { ip netns exec "$NS" "$WARDWALL" "$@"; }
# A shell command in the namespace, in a private mount namespace where a bpffs is mounted on
# $BPFFS; "$W" in the command is wardwall.
inbpf() {
	# shellcheck disable=SC2016 # $B and $1 expand in the inner shell
	ip netns exec "$NS" unshare --mount --propagation private \
		env W="$WARDWALL" B="$BPFFS" bash -c 'mount -t bpf bpf "$B" && eval "$1"' bash "$1"
}
# The doctor in the namespace with the private bpffs.
doc() {
	local a=
	[ $# = 0 ] || a=$(printf ' %q' "$@")
	inbpf "\"\$W\" doctor --bpffs \"\$B\"$a"
}
# "rc" is the exit code; the output is in $tmp/out, stderr in $tmp/err.
run() {
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
}
diag() { cat "$tmp/out" "$tmp/err"; }
# Python over the JSON in $tmp/out: exit 0 when the expression holds; prints what it is given.
js() {
	"$WW_PYTHON" -c '
import json, sys
checks = json.load(open(sys.argv[1]))
by = {c["check"]: c for c in checks}
ok = eval("(" + sys.argv[2] + ")")
sys.exit(0 if ok else 1)' "$tmp/out" "$1"
}
genid() { ww_nft_genid "$NS"; }

if ip netns add "$NS" && ip -n "$NS" link set lo up &&
	ip -n "$NS" link add wwv0 type veth peer name wwv1 &&
	ip -n "$NS" link set wwv0 up && ip -n "$NS" link set wwv1 up; then
	ok "namespace $NS with a veth pair"
else
	fail "namespace $NS with a veth pair"
	finish
fi

# ---- every check, ok ----
g0=$(genid)
run doc --json --interface wwv0
# Each check of kernel/features.txt once (xdp.iface once per interface), each ok (nft.bridge-ct
# may warn: without a policy it is needed only in bridge mode); clock.tai may
# warn on a host whose NTP daemon leaves the TAI offset at 0 (the detail says so), and before
# Linux 6.3 (no netdev xdp-features) xdp.iface warns that native XDP cannot be determined.
if [ $rc = 0 ] && "$WW_PYTHON" - "$tmp/out" kernel/features.txt <<'EOF'; then
import json, platform, sys
checks = json.load(open(sys.argv[1]))
pre_6_3 = tuple(int(x) for x in platform.release().split("-")[0].split(".")[:2]) < (6, 3)
want = [l.split()[0] for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")]
want = ["xdp.iface/wwv0" if w == "xdp.iface" else w for w in want]
got = [c["check"] for c in checks]
bad = []
if sorted(got) != sorted(want):
    bad.append("checks differ: missing %s, unexpected %s" %
               (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
for c in checks:
    if set(c) != {"check", "status", "detail", "fix"}:
        bad.append("%s: members %s" % (c["check"], sorted(c)))
    if c["status"] == "ok" and c["fix"] is None:
        continue
    if c["check"] == "clock.tai" and c["status"] == "warning" and "NTP" in c["detail"]:
        continue
    # A kernel without nf_conntrack_bridge (this machine's) lacks only what bridge mode needs.
    if (c["check"] == "nft.bridge-ct" and c["status"] == "warning" and
            "needed only in bridge mode" in c["detail"]):
        continue
    if (c["check"].startswith("xdp.iface/") and c["status"] == "warning" and
            "needs Linux 6.3" in c["detail"] and pre_6_3):
        continue
    bad.append("%s: %s: %s (fix: %s)" % (c["check"], c["status"], c["detail"], c["fix"]))
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
	ok "doctor --json: exit 0, all $(js 'print(len(checks)) or True') checks of kernel/features.txt ok"
else
	fail "doctor --json: exit $rc (want 0), every check ok" "$(diag)"
fi
if js 'by["nft.netlink"]["detail"].startswith("nf_tables answers") and
       "verifier accepts" in by["xdp.load"]["detail"] and
       ("needs Linux 6.3" if tuple(int(x) for x in __import__("platform").release()
                                   .split("-")[0].split(".")[:2]) < (6, 3)
        else "native XDP supported") in by["xdp.iface/wwv0"]["detail"] and
       "writable bpffs" in by["bpf.fs"]["detail"]'; then
	ok "the details say what was checked: xdp.load: $(js 'print(by["xdp.load"]["detail"]) or True')"
else
	fail "the details say what was checked" "$(diag)"
fi
# The flow maps' features, each probed with the messages nft_batch.c writes for them: the
# class-keyed maps (pipapo, a port range), the address-keyed ones, the counter map and the mark.
if js 'all(by[c]["status"] == "ok" for c in ("nft.mark", "nft.concat", "nft.objmap")) and
       "meta mark set meta mark & 0x0000ffff | 0x00010000" in by["nft.mark"]["detail"] and
       "meta mark & 0xffff0000 as a key field" in by["nft.mark"]["detail"] and
       "meta mark . meta l4proto . th dport : verdict with a port range" in by["nft.concat"]["detail"] and
       "ip6 daddr . meta l4proto . th dport" in by["nft.concat"]["detail"] and
       "rules looking each up" in by["nft.concat"]["detail"] and
       "counter name meta mark & 0x00ff0000 . meta l4proto . th dport map" in by["nft.objmap"]["detail"]'; then
	ok "nft.mark, nft.concat, nft.objmap: $(js 'print(by["nft.concat"]["detail"]) or True')"
else
	fail "nft.mark, nft.concat, nft.objmap ok, naming what the kernel accepted" "$(diag)"
fi
g1=$(genid)
tables=$(ip netns exec "$NS" nft list tables)
if [ -n "$g0" ] && [ "$g0" = "$g1" ] && [ -z "$tables" ]; then
	ok "the nftables probe committed nothing (generation $g0 before and after, no table)"
else
	fail "the nftables probe committed nothing" "generation $g0 -> $g1" "tables: $tables"
fi

run doc
if [ $rc = 0 ] && tail -1 "$tmp/out" | grep -Eq '^[0-9]+ checks: [0-9]+ ok, [01] warnings?, 0 missing$' &&
	grep -Eq '^ok +kernel\.version +Linux ' "$tmp/out"; then
	ok "text output: $(tail -1 "$tmp/out")"
else
	fail "text output, exit $rc" "$(diag)"
fi

# ---- a bpffs that is not there ----
run ww doctor --json --bpffs "$tmp/no-such-dir"
if [ $rc = 1 ] &&
	js 'by["bpf.fs"]["status"] == "missing" and "No such file" in by["bpf.fs"]["detail"] and
	    "mount -t bpf bpf '"$tmp"'/no-such-dir" in by["bpf.fs"]["fix"] and
	    by["state.xdp"]["status"] == "ok" and
	    [c["check"] for c in checks if c["status"] == "missing"] == ["bpf.fs"]'; then
	ok "bogus --bpffs: exit 1, bpf.fs missing, fix: $(js 'print(by["bpf.fs"]["fix"]) or True')"
else
	fail "bogus --bpffs: exit $rc (want 1), bpf.fs missing with a fix, nothing else" "$(diag)"
fi
run ip netns exec "$NS" env WARDWALL_BPFFS="$tmp/plain" "$WARDWALL" doctor --json
if [ $rc = 1 ] && js 'by["bpf.fs"]["status"] == "missing" and
		      "not a BPF file system" in by["bpf.fs"]["detail"] and
		      by["bpf.fs"]["fix"].startswith("mount -t bpf bpf '"$tmp"'/plain")'; then
	ok "WARDWALL_BPFFS on a plain directory: missing, $(js 'print(by["bpf.fs"]["detail"]) or True')"
else
	fail "WARDWALL_BPFFS on a plain directory: exit $rc (want 1), bpf.fs missing" "$(diag)"
fi

# ---- interfaces ----
run doc --json --interface lo --interface nosuch0
if [ $rc = 1 ] && js 'by["xdp.iface/nosuch0"]["status"] == "missing" and
		      by["xdp.iface/nosuch0"]["fix"] and
		      by["xdp.iface/lo"]["status"] == "warning" and
		      ("no native XDP" in by["xdp.iface/lo"]["detail"] or
		       "cannot be determined" in by["xdp.iface/lo"]["detail"])'; then
	ok "--interface: lo warns ($(js 'print(by["xdp.iface/lo"]["detail"]) or True')), nosuch0 missing"
else
	fail "--interface lo (warning) and nosuch0 (missing), exit $rc (want 1)" "$(diag)"
fi

# ---- what the policy asks ----
policy() { # OUT XDP INTERFACES...
	"$WW_PYTHON" - "$@" <<'EOF'
import json, sys
p = json.load(open("policies/demo.json"))
p["enforcement"] = {"mode": "gateway", "xdp": sys.argv[2], "interfaces": sys.argv[3:]}
json.dump(p, open(sys.argv[1], "w"), indent=1)
EOF
}
policy "$tmp/native.json" native lo wwv0
policy "$tmp/off.json" off wwv0
policy "$tmp/generic.json" generic wwv0
run doc --json "$tmp/native.json"
if js '"cannot be determined" in by["xdp.iface/lo"]["detail"]'; then
	# No xdp-features (before 6.3): the doctor cannot know, and says so.
	if [ $rc = 0 ] && js 'by["xdp.iface/lo"]["status"] == "warning"'; then
		ok "native XDP asked on lo: cannot be determined on this kernel, a warning"
	else
		fail "native XDP asked on lo without xdp-features: exit $rc, a warning" "$(diag)"
	fi
elif [ $rc = 1 ] && js 'by["xdp.iface/lo"]["status"] == "missing" and
			"generic" in by["xdp.iface/lo"]["fix"] and
			by["xdp.iface/wwv0"]["status"] == "ok"'; then
	ok "a policy asking native XDP on lo: exit 1, lo missing (fix: $(js 'print(by["xdp.iface/lo"]["fix"][:40]) or True')...), wwv0 ok"
else
	fail "a policy asking native XDP on lo: exit $rc (want 1), lo missing, wwv0 ok" "$(diag)"
fi
run ww doctor --json --bpffs "$tmp/no-such-dir" "$tmp/off.json"
if [ $rc = 0 ] && js 'by["bpf.fs"]["status"] == "warning" and
		      "enforcement.xdp \"off\"" in by["bpf.fs"]["detail"] and
		      not [c for c in checks if c["status"] == "missing"]'; then
	ok "a policy without XDP: the missing bpffs only warns, exit 0"
else
	fail "a policy without XDP: exit $rc (want 0), bpf.fs a warning" "$(diag)"
fi

# ---- usage ----
usage_ok=1
for args in "a.json b.json" "--interface" "--nosuch" "--interface a/b" "tests/bad/01-trailing-comma.json" \
	"$tmp/no-such-policy.json"; do
	# shellcheck disable=SC2086
	run ww doctor $args
	if [ $rc != 2 ] || [ ! -s "$tmp/err" ]; then
		usage_ok=0
		fail "doctor $args: exit $rc (want 2, with a message)" "$(diag)"
	fi
done
[ $usage_ok = 1 ] && ok "usage errors and unusable policies exit 2 with a message"

# ---- wardwall's own state ----
# apply and doctor share one private bpffs; the pins go when the mount namespace does.
mkdir -p "$tmp/state"
run inbpf "\"\$W\" apply --state-dir \"$tmp/state\" --bpffs \"\$B\" \"$tmp/generic.json\" >\"$tmp/apply.out\" 2>&1 &&
	\"\$W\" doctor --json --bpffs \"\$B\" \"$tmp/generic.json\" >\"$tmp/doc1\"; echo \$? >\"$tmp/rc1\";
	nft add rule inet wardwall classify counter &&
	\"\$W\" doctor --json --bpffs \"\$B\" \"$tmp/generic.json\""
cp "$tmp/out" "$tmp/doc2"
rc2=$rc
cp "$tmp/doc1" "$tmp/out"
if [ "$(cat "$tmp/rc1" 2>/dev/null)" = 0 ] &&
	js 'by["state.nft"]["status"] == "ok" and "reads back cleanly" in by["state.nft"]["detail"] and
	    by["state.xdp"]["status"] == "ok" and "1 link" in by["state.xdp"]["detail"] and
	    "attached: ww_xdp" in by["xdp.iface/wwv0"]["detail"] and
	    not [c for c in checks if c["status"] == "missing"]'; then
	ok "after apply: $(js 'print(by["state.nft"]["detail"]) or True')"
	ok "after apply: $(js 'print(by["state.xdp"]["detail"]) or True')"
else
	fail "after apply: state.nft and state.xdp ok, wwv0 attached" "$(cat "$tmp/apply.out")" \
		"$(cat "$tmp/out")"
fi
cp "$tmp/doc2" "$tmp/out"
if [ "$rc2" = 0 ] && js 'by["state.nft"]["status"] == "warning" and
			 "does not write" in by["state.nft"]["detail"] and
			 "plan" in by["state.nft"]["fix"]'; then
	ok "a foreign rule in table inet wardwall: state.nft warns ($(js 'print(by["state.nft"]["detail"]) or True'))"
else
	fail "a foreign rule in table inet wardwall: exit $rc2 (want 0), state.nft a warning" "$(diag)"
fi

finish
