#!/usr/bin/env bash
# The signed offline grace on real processes (issue 22; overview.md section 2): a root signed
# with a 30-day grace (hub init --offline-grace-days 30), a school that synced r1, then no
# upstream reachable and the school's clock moved on (libfaketime):
#   a. +3 days (its metadata expired, within the grace): it serves every local file whole, and
#      every users' reply carries X-Tiersync-Stale-Since; status says "stale", node status
#      says STALE;
#   b. +40 days (past the grace): users' files are refused (503, naming the expiry), the
#      catalog still answers (with the header); status says "expired" — the negative control
#      of a: the grace is what lets a serve, not a clock that is never looked at;
#   c. the school's own clock again, the hub back: the school syncs and is fresh.
# Usage: offline_grace.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18620}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
# libfaketime preloaded straight into the node (not through the faketime wrapper, which would
# be the process the test stops, leaving the node running); a sanitizer build is told that it
# comes before its runtime.
libfaketime=$(find /usr/lib -name libfaketime.so.1 -path '*faketime*' | head -n 1)
[ -n "$libfaketime" ] || fail "libfaketime.so.1 is not installed"

# serve_at OFFSET: the school served with its clock OFFSET ahead ("+3d").
serve_at() {
  env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$libfaketime" \
    FAKETIME="$1" "$bin" node serve "$out/school" >>"$out/logs/school.log" 2>&1 &
  node_pid[school]=$!
  pids+=($!)
  wait_http 1
}
# freshness: the school's serving.freshness.state.
freshness() { status 1 | field 'd["serving"]["freshness"]["state"]'; }
# get PATH: "<HTTP status> <X-Tiersync-Stale-Since or ->" of a users' request to the school.
get() {
  curl -s -o /dev/null -D - "$(url 1)$1" | awk '
    NR == 1 { code = $2 }
    tolower($1) == "x-tiersync-stale-since:" { since = $2 }
    END { sub("\r", "", since); print code, (since == "" ? "-" : since) }'
}
# a_file: the URL of a file the school holds.
a_file() { local_files 1 | sed -n 1p; }

step "A root signed with a 30-day offline grace; a school syncs r1"
hub_init_args=(--offline-grace-days 30)
make_hub --resources 30 --seed 11 --size-scale 0.0005
grep -q '"x-tiersync-offline-grace-seconds": 2592000' "$out/hub/tuf/metadata/1.root.json" ||
  fail "the hub's root does not sign the grace"
start_hub 0
make_node school 1 school 330106 'platform = k12 and grade in (1..6)' "$(url 0)"
start_node school 1
wait_release r1 1 120
file=$(a_file)
[ "$(freshness)" = fresh ] || fail "a school just synced is not fresh: $(status 1 | field 'd["serving"]')"
[ "$(get "$file")" = "200 -" ] || fail "a fresh school: $(get "$file")"
[ "$(status 1 | field 'd["serving"]["offline_grace_seconds"]')" = 2592000 ] ||
  fail "status does not show the root's grace"

step "a. No upstream, the clock 3 days ahead: served within the grace, and said"
stop_node school
kill "${pids[0]}"
wait "${pids[0]}" 2>/dev/null || true
serve_at +3d
[ "$(freshness)" = stale ] || fail "not stale at +3 days: $(status 1 | field 'd["serving"]')"
expires=$(status 1 | field 'd["serving"]["freshness"]["expires"]')
[ "$(get "$file")" = "200 $expires" ] || fail "a file within the grace: $(get "$file") (expected 200 $expires)"
[ "$(get /v1/catalog/tree)" = "200 $expires" ] || fail "the catalog within the grace: $(get /v1/catalog/tree)"
check_files 1
"$bin" node status "$out/school" >"$out/status-a.txt" || true  # non-zero: the last sync failed
grep -q "STALE: the national metadata expired at $expires" "$out/status-a.txt" ||
  fail "node status does not say STALE: $(cat "$out/status-a.txt")"
stop_node school

step "b. The clock 40 days ahead: past the grace, users get no files (negative control of a)"
serve_at +40d
[ "$(freshness)" = expired ] || fail "not expired at +40 days: $(status 1 | field 'd["serving"]')"
[ "$(get "$file")" = "503 $expires" ] || fail "a file past the grace: $(get "$file") (expected 503)"
curl -s "$(url 1)$file" | grep -c "offline grace" >/dev/null || fail "the 503 does not say why"
[ "$(get /v1/catalog/tree)" = "200 $expires" ] || fail "the catalog past the grace: $(get /v1/catalog/tree)"
"$bin" node status "$out/school" >"$out/status-b.txt" || true
grep -q "EXPIRED" "$out/status-b.txt" || fail "node status does not say EXPIRED: $(cat "$out/status-b.txt")"
stop_node school

step "c. Its own clock, the hub back: the school syncs and is fresh"
start_hub 0
next_release r2
start_node school 1
wait_release r2 1 120
[ "$(freshness)" = fresh ] || fail "not fresh after a sync: $(status 1 | field 'd["serving"]')"
[ "$(get "$(a_file)")" = "200 -" ] || fail "a fresh school after the sync: $(get "$(a_file)")"
echo "offline grace test passed"
