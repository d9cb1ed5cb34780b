#!/usr/bin/env bash
# Windows and caps for serving children on real processes (issue 22, check 4;
# node/children_throttle.h): a county whose [children] window is closed now serves its school
# at the outside cap (64 KiB/s) — except the priority content (停课不停学), which goes at once;
# a reload that opens the window lets the school pull at the inside cap (512 KiB/s). Both rates
# are measured on the school's side (the bytes its sync read off its socket) and must be within
# 10% of the cap. The school's only source is the county (no fallback to hear from).
# Usage: children.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18680}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
kib=1024
outside=$((64 * kib))
inside=$((512 * kib))

# received: the bytes the school's sync has read off its sockets.
received() { status 2 | field 'd["bandwidth"]["received_bytes"]'; }
# complete: whether the school serves the whole of r1 (nothing deferred).
complete() {
  [ "$(status 2 | field '(d["current"] or {}).get("release", "") + "/" + str((d["current"] or {}).get("deferred", 0))')" = r1/0 ]
}
# sample SECONDS FILE: "<time> <received>" every 0.2 s for SECONDS (or until the school serves
# the whole release, which ends its transfer).
sample() {
  : >"$2"
  local deadline=$((SECONDS + $1))
  while [ $SECONDS -lt $deadline ]; do
    echo "$(date +%s.%N) $(received)" >>"$2"
    complete && break
    sleep 0.2
  done
}
# check_rate NAME FILE CAP: the slope of FILE is within 10% of CAP, over at least 8 s.
check_rate() {
  local span bytes rate
  read -r span bytes rate < <(slope "$2")
  echo "$1: $((bytes / kib)) KiB in $span s: $((rate / kib)) KiB/s (cap $(($3 / kib)) KiB/s)"
  python3 -c "import sys; sys.exit(0 if $span >= 8 else 1)" || fail "$1: observed for only $span s"
  python3 -c "import sys; sys.exit(0 if abs($rate - $3) <= $3 * 0.10 else 1)" ||
    fail "$1: the measured rate $rate B/s is not within 10% of the cap $3 B/s"
}

step "Hub r1; a county with its own copy, its children's window closed"
make_hub --resources 80 --seed 11 --size-scale 0.0007
start_hub 0
sub='platform = k12 and board = 课程教学
board = 专题教育'
read -r pri_bytes ord_bytes _ < <(priority_part "$sub")
[ "$pri_bytes" -gt 0 ] || fail "r1 has no priority content for the school"
echo "the school's part of r1: priority $((pri_bytes / kib)) KiB, ordinary $((ord_bytes / kib)) KiB"
make_node county 1 county 330106 "$sub" "$(url 0)"
set_toml county children windows "[\"$(clock 120)-$(clock 180)\"]"
set_toml county children max_bytes_per_second "$inside"
set_toml county children outside_bytes_per_second "$outside"
start_node county 1
wait_release r1 1 120
[ "$(status 1 | field 'd["children_bandwidth"]["window_open"]')" = False ] ||
  fail "the county's children window is open: $(status 1 | field 'd["children_bandwidth"]')"

step "A school under it: the priority content at once, the rest at the outside cap"
# The county is the school's only source (its national URL too): nothing to fall back to.
make_node school 2 school 330106 "$sub" "$(url 1)"
start_node school 2
# The priority content went out (compressed: fewer bytes than its files) when the count is
# above 0 and still for a second; at the end it must not have grown (none of it was paced).
priority_sent() { status 1 | field 'd["children_bandwidth"]["priority_bytes"]'; }
started=$SECONDS
early=0
until [ "$early" -gt 0 ] && sleep 1 && [ "$(priority_sent)" = "$early" ]; do
  [ $((SECONDS - started)) -lt 15 ] ||
    fail "the priority content was not sent at once: $(status 1 | field 'd["children_bandwidth"]')"
  early=$(priority_sent)
  sleep 0.2
done
echo "priority content: $((early / kib)) KiB sent at once, within $((SECONDS - started)) s"
sample 20 "$out/outside"
check_rate "outside the county's window" "$out/outside" "$outside"
! complete || fail "the school completed r1 at the outside cap: too little to measure"

step "A reload opens the county's window: the inside cap"
set_toml county children windows "[\"$(clock -60)-$(clock 60)\"]"
reload_until county 1 'd["children_bandwidth"]["window_open"]' True
sample 120 "$out/inside"
complete || fail "the school did not complete r1 inside the county's window"
check_rate "inside the county's window" "$out/inside" "$inside"
check_files 2
[ "$(priority_sent)" = "$early" ] || fail "priority content was sent later as well: $(priority_sent) bytes"
echo "children test passed"
