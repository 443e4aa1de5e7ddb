#!/bin/bash
# Installed like a Debian service: `make install DESTDIR=... PREFIX=/usr` into a temporary
# directory (never this machine's root), then:
#   - the files and their modes: binary, schema, example, man pages, completions, units,
#     tmpfiles.d; /etc/wardwall/policy.json is the example, marked as such, valid, and an edited
#     one is not overwritten by a second install;
#   - the man pages render (man -l) and carry the commands and the policy language;
#   - `systemd-analyze verify` passes for every unit, offline, against a copy of this machine's
#     unit directory with the installed units beside it (--root): nothing is enabled or started,
#     and this machine's systemd is not asked anything;
#   - bash completion offers the commands, a command's options, and the zone names and flow ids
#     of the installed policy.
# The Debian package: suite 19-deb.
set -u
cd "$(dirname "$0")/../.." || exit 2
BUILD=${WW_BUILD:-$PWD/build}

# shellcheck source=tests/e2e/tap.sh
. tests/e2e/tap.sh

for t in pandoc systemd-analyze man; do
	command -v $t >/dev/null || { echo "ok 1 - # SKIP $t is missing"; echo "1..1"; exit 0; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
D=$tmp/root

if make --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr >"$tmp/log" 2>&1; then
	ok "make install DESTDIR PREFIX=/usr"
else
	fail "make install" "$(tail -20 "$tmp/log")"
	finish
fi
bad=()
for f in usr/sbin/wardwall:755 usr/share/wardwall/wardwall.schema.json:644 \
	usr/share/wardwall/examples/example-hospital.json:644 usr/share/man/man8/wardwall.8:644 \
	usr/share/man/man5/wardwall-policy.5:644 usr/share/bash-completion/completions/wardwall:644 \
	usr/share/zsh/vendor-completions/_wardwall:644 lib/systemd/system/wardwall.service:644 \
	lib/systemd/system/wardwall-serve.service:644 lib/systemd/system/wardwall-evidence.service:644 \
	lib/systemd/system/wardwall-evidence.timer:644 usr/lib/tmpfiles.d/wardwall.conf:644 \
	etc/wardwall/policy.json:644; do
	path=$D/${f%%:*}
	[ -f "$path" ] && [ "$(stat -c %a "$path")" = "${f##*:}" ] || bad+=("${f%%:*}: $(stat -c %a "$path" 2>&1)")
done
[ ${#bad[@]} -eq 0 ] && ok "every file installed, with its mode" || fail "installed files" "${bad[@]}"
grep -q '"description": "EXAMPLE installed by wardwall' "$D/etc/wardwall/policy.json" &&
	"$D/usr/sbin/wardwall" check "$D/etc/wardwall/policy.json" >/dev/null 2>&1 &&
	ok "/etc/wardwall/policy.json: the example, marked as such, valid" ||
	fail "/etc/wardwall/policy.json" "$(head -5 "$D/etc/wardwall/policy.json")"
echo '{"edited": true}' >"$D/etc/wardwall/policy.json"
make --no-print-directory BUILD="$BUILD" install DESTDIR="$D" PREFIX=/usr >"$tmp/log" 2>&1 &&
	grep -q edited "$D/etc/wardwall/policy.json" &&
	ok "a second install keeps the operator's policy.json" || fail "policy.json overwritten"
grep -q '^ExecStart=/usr/sbin/wardwall restore$' "$D/lib/systemd/system/wardwall.service" &&
	grep -q '^ExecReload=/usr/sbin/wardwall apply /etc/wardwall/policy.json$' "$D/lib/systemd/system/wardwall.service" &&
	grep -q '^Before=network-pre.target' "$D/lib/systemd/system/wardwall.service" &&
	grep -q '^ExecStart=/usr/sbin/wardwall serve --listen 127.0.0.1:9469$' "$D/lib/systemd/system/wardwall-serve.service" &&
	grep -q '^ProtectSystem=strict$' "$D/lib/systemd/system/wardwall-serve.service" &&
	grep -q '^ReadWritePaths=/var/lib/wardwall$' "$D/lib/systemd/system/wardwall-serve.service" &&
	ok "units: restore at boot before network-pre, reload applies /etc/wardwall/policy.json, serve on localhost, read-only but for the state directory" ||
	fail "unit contents"
grep -q '^d /var/lib/wardwall 0700' "$D/usr/lib/tmpfiles.d/wardwall.conf" &&
	grep -q '^z /var/lib/wardwall/keys/evidence.key 0600' "$D/usr/lib/tmpfiles.d/wardwall.conf" &&
	ok "tmpfiles.d: state dir 0700, key 0600" || fail "tmpfiles.d"

# man pages
man -l "$D/usr/share/man/man8/wardwall.8" 2>/dev/null | col -b >"$tmp/man8"
man -l "$D/usr/share/man/man5/wardwall-policy.5" 2>/dev/null | col -b >"$tmp/man5"
grep -qE 'wardwall[[:space:]]+- firewall' "$tmp/man8" && grep -q "restore \[--json\]" "$tmp/man8" &&
	grep -q "Commit confirmed" "$tmp/man8" && ok "wardwall(8) renders: name, commands, operations" ||
	fail "wardwall(8)" "$(head -20 "$tmp/man8")"
grep -qE 'wardwall-policy[[:space:]]+- the wardwall policy' "$tmp/man5" && grep -q "on_failure" "$tmp/man5" &&
	ok "wardwall-policy(5) renders" || fail "wardwall-policy(5)" "$(head -20 "$tmp/man5")"

# systemd-analyze verify, offline: this machine's units copied beside ours under a private root.
mkdir -p "$tmp/sd/lib/systemd/system" "$tmp/sd/usr/sbin"
cp -a /lib/systemd/system/. "$tmp/sd/lib/systemd/system/" 2>/dev/null
cp "$D/usr/sbin/wardwall" "$tmp/sd/usr/sbin/"
cp "$D"/lib/systemd/system/wardwall* "$tmp/sd/lib/systemd/system/"
for u in wardwall.service wardwall-serve.service wardwall-evidence.service wardwall-evidence.timer; do
	out=$(systemd-analyze verify --man=no --root="$tmp/sd" "$tmp/sd/lib/systemd/system/$u" 2>&1)
	rc=$?
	[ $rc = 0 ] && [ -z "$out" ] && ok "systemd-analyze verify $u" || fail "systemd-analyze verify $u (rc $rc)" "$out"
done

# bash completion, with the installed binary and policy
cp policies/example-hospital.json "$D/etc/wardwall/policy.json"
comp() {
	PATH="$D/usr/sbin:$PATH" WARDWALL_POLICY="$D/etc/wardwall/policy.json" bash -c '
source "$1"; shift
COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _wardwall; echo "${COMPREPLY[*]}"' _ \
		"$D/usr/share/bash-completion/completions/wardwall" "$@"
}
[ "$(comp wardwall re)" = "render restore remove" ] && [ "$(comp wardwall apply --co)" = "--confirm" ] &&
	[ "$(comp wardwall events --zone in)" = "infusion internet" ] &&
	[ "$(comp wardwall events --flow admin)" = "admin-jump" ] &&
	ok "bash completion: commands, options, zones and flow ids of the installed policy" ||
	fail "bash completion" "$(comp wardwall re) | $(comp wardwall apply --co) | $(comp wardwall events --zone in) | $(comp wardwall events --flow admin)"
if command -v zsh >/dev/null; then
	zsh -n "$D/usr/share/zsh/vendor-completions/_wardwall" && ok "zsh completion parses" || fail "zsh completion"
fi
"$D/usr/sbin/wardwall" --version | grep -qE '^wardwall 0\.2\.0 [0-9a-f]{7,}' &&
	ok "--version: 0.2.0 and the commit" || fail "--version" "$("$D/usr/sbin/wardwall" --version)"

finish
