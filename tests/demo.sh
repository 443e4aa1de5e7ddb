#!/bin/bash
# The demo behind `make demo`: checks the example hospital policy, then asks it about a few
# connections. Usage: tests/demo.sh [BUILD_DIR]
#
# For now everything here is analysis, no packet moves; the simulated network (namespaces,
# nftables and XDP enforcement) is planned and will extend this script.
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
case $BUILD in /*) ;; *) BUILD=$PWD/$BUILD ;; esac
WW=$BUILD/wardwall
POLICY=policies/example-hospital.json

heading() {
	printf '\n== %s\n' "$*"
}

# Prints the command as a reader would type it, then runs it.
run() {
	echo "\$ wardwall $*"
	"$WW" "$@"
}

heading "Check the example policy: validity, warnings, invariant proofs"
run check "$POLICY"

heading "An infusion pump reaches its pump server (allowed)"
run query "$POLICY" 10.20.40.7 10.20.4.10 tcp/8443

heading "A guest laptop tries the EHR application server (denied)"
run query "$POLICY" 172.16.3.4 10.20.2.10 tcp/443

heading "The CT vendor during its maintenance window (allowed)"
run query --at 2027-01-12T09:00:00Z "$POLICY" 10.20.250.5 10.20.10.11 tcp/22

heading "The same connection when the window has closed ([from, until): 10:00 is outside)"
run query --at 2027-01-12T10:00:00Z "$POLICY" 10.20.250.5 10.20.10.11 tcp/22

heading "IPv6: a ward workstation reaches the FHIR API (allowed)"
run query "$POLICY" fd00:20:100::42 fd00:20:2::30 tcp/443

heading "A workstation speaks BACnet to the building-management server (bms is in monitor mode)"
run query "$POLICY" 10.20.100.7 10.20.60.10 udp/47808

printf '\nDone. Enforcement on a simulated network is planned; see README.md and docs/.\n'
