#!/usr/bin/env bash
# An operator's flat configuration (issue 17): the province, the city and two counties
# subscribe to nothing of their own; two schools under different counties subscribe to
# different parts of the catalog. Checks, on real processes:
#   1. roll-up: every ancestor holds the union of its subtree's subscriptions (a county its
#      school's files, the city and the province both schools'), so that after the first
#      release everything below the province is fed by its parent, not by national;
#   2. a quiet federation: FLAT_IDLE_SECONDS (default 300: twelve push long-polls, twenty
#      keep-alive timeouts, many poll cycles) with nothing published — no error, failure,
#      rejection or demotion anywhere, push included (long-polls that end quietly are not
#      failures), and its cycles quiet (the top-level metadata verified, nothing else read);
#   3. a release published then reaches both schools through the tree (no chunk byte of it
#      from national below the province), and a one-shot `node sync` right after
#      `hub publish` takes that release (the hub never announces a release whose catalog it
#      cannot serve yet);
#   4. `node status` after a one-shot `node sync` says what the node holds.
# Usage: flat_federation.sh TIERSYNC_BIN OUT_DIR
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18200}"
idle="${FLAT_IDLE_SECONDS:-300}"
rm -rf "$out"
mkdir -p "$out/logs"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
trap cleanup EXIT

make_hub --resources 400 --seed 5 --size-scale 0.0002
start_hub 0
hub="$(url 0)"
sub_a='platform = k12 and edition in (人教版) and grade in (1..6)'
sub_b='platform = k12 and edition in (北师大版) and grade in (7..9)'
# name offset tier region subscription upstreams (parent first)
make_node province 1 province 330000 "" "$hub"
make_node city 2 city 330100 "" "$hub" "$(url 1)"
make_node county_a 3 county 330106 "" "$hub" "$(url 2)" "$(url 1)"
make_node county_b 4 county 330108 "" "$hub" "$(url 2)" "$(url 1)"
make_node school_a 5 school 330106 "$sub_a" "$hub" "$(url 3)" "$(url 2)" "$(url 1)"
make_node school_b 6 school 330108 "$sub_b" "$hub" "$(url 4)" "$(url 2)" "$(url 1)"
nodes=(province city county_a county_b school_a school_b)
declare -A offset=([province]=1 [city]=2 [county_a]=3 [county_b]=4 [school_a]=5 [school_b]=6)
for n in "${nodes[@]}"; do start_node "$n" "${offset[$n]}"; done

files() { status "${offset[$1]}" | field '(d["current"] or {}).get("files", 0)'; }
# wait_files NODE N: until NODE serves at least N files (the roll-up reached it).
wait_files() {
  local deadline=$((SECONDS + 180))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(files "$1")" -ge "$2" ] 2>/dev/null && return 0
    sleep 0.5
  done
  fail "$1 serves $(files "$1") files, expected at least $2 (its subtree's roll-up)"
}

echo "== r1 reaches both schools; the roll-up climbs to the province"
wait_release r1 5 120
wait_release r1 6 120
fa=$(files school_a)
fb=$(files school_b)
[ "$fa" -gt 0 ] && [ "$fb" -gt 0 ] || fail "schools serve $fa and $fb files"
wait_files county_a "$fa"
wait_files county_b "$fb"
# The counties hold exactly their school's files, the city and the province the union: counted
# from the files the counties hold (the city may first switch to a plan with one county's part,
# before the other county's report reaches it).
[ "$(files county_a)" = "$fa" ] || fail "county_a serves $(files county_a) files, its school $fa"
[ "$(files county_b)" = "$fb" ] || fail "county_b serves $(files county_b) files, its school $fb"
union=$( (local_files 3; local_files 4) | sort -u | wc -l)
[ "$union" -ge "$fa" ] && [ "$union" -ge "$fb" ] && [ "$union" -le $((fa + fb)) ] ||
  fail "the counties' files make a union of $union for schools of $fa and $fb"
wait_files city "$union"
wait_files province "$union"
[ "$(files city)" = "$union" ] || fail "city $(files city) files, the counties' union $union"
[ "$(files province)" = "$union" ] || fail "province $(files province) files, the counties' union $union"
for n in province city county_a county_b; do
  status "${offset[$n]}" | field 'd["subtree"]["rules_over_cap"] == 0' | grep -q True ||
    fail "$n dropped rules of its subtree"
done
echo "   schools $fa and $fb files; counties the same; city and province $union"

# Everything every node's status says about failures, as one line per node.
health() {
  for n in "${nodes[@]}"; do
    status "${offset[$n]}" | field '"%s failures=%d rejections=%d push_failures=%d" % (sys.argv[2], sum(s["failures"] for s in d["sources"]), sum(s["rejections"] for s in d["sources"]), d.get("push", {}).get("failures", 0))' "$n"
  done
}
# Let the last cycles after the roll-up settle before counting.
sleep 12
before="$(health)"
echo "== idle for $idle s"
sleep "$idle"
after="$(health)"
if [ "$before" != "$after" ]; then
  echo "before: $before" >&2
  echo "after:  $after" >&2
  fail "the idle federation counted failures"
fi
for n in "${nodes[@]}"; do
  s="$(status "${offset[$n]}")"
  echo "$s" | field 'all(x["healthy"] for x in d["sources"])' | grep -q True ||
    fail "$n has a demoted source after idling: $(echo "$s" | field '[(x["name"], x["last_error"]) for x in d["sources"]]')"
  echo "$s" | field 'd["last_sync"]["ok"]' | grep -q True || fail "$n: last sync failed: $(echo "$s" | field 'd["last_sync"]')"
  # With nothing published, a cycle verifies the top-level metadata and stops there (a quiet
  # cycle: node/node_sync.h) instead of reading every role and the catalog and planning again.
  echo "$s" | field 'd["last_check"].get("quiet", False)' | grep -q True ||
    fail "$n: the idle federation's last check was not quiet: $(echo "$s" | field 'd["last_check"]')"
  errs="$(echo "$s" | field '[x["last_error"] for x in d["sources"] if x["last_error"]]')"
  [ "$errs" = "[]" ] || echo "   note: $n carries errors from before the idle period: $errs"
done
echo "   no failure, rejection or demotion; push: $(status 5 | field 'd["push"]["quiet_polls"]') quiet polls at school_a"

echo "== r2: published, then a one-shot node syncs it at once, and it reaches both schools"
# Chunk bytes the nodes below the province fetched from national, in all.
from_national() {
  local total=0 n v
  for n in city county_a county_b school_a school_b; do
    v=$(metric "$(url "${offset[$n]}")" tiersync_sync_chunk_bytes_total "$hub")
    total=$((total + ${v%.*}))
  done
  echo "$total"
}
national_before=$(from_national)
next_release r2
"$bin" node init "$out/oneshot" --name oneshot --tier school --region 330106 \
  --listen "127.0.0.1:$((port + 9))" --national "$hub" \
  --root "$out/hub/tuf/metadata/1.root.json" --subscription "$sub_a" >/dev/null
"$bin" node sync "$out/oneshot" >"$out/logs/oneshot.log" 2>&1 || fail "node sync right after hub publish: $(cat "$out/logs/oneshot.log")"
grep -q "r2" "$out/logs/oneshot.log" || fail "the one-shot sync did not take r2: $(cat "$out/logs/oneshot.log")"
wait_release r2 5 180
wait_release r2 6 180
national_after=$(from_national)
[ "$national_before" = "$national_after" ] ||
  fail "below the province, $((national_after - national_before)) chunk bytes of r2 came from national"

echo "== node status after a one-shot node sync"
rc=0
"$bin" node status "$out/oneshot" >"$out/logs/oneshot-status.log" 2>&1 || rc=$?
cat "$out/logs/oneshot-status.log"
grep -q "serving release r2" "$out/logs/oneshot-status.log" || fail "status does not say what the node holds"
grep -q "never synced" "$out/logs/oneshot-status.log" && fail "status says never synced"
[ "$rc" -ne 0 ] || fail "status of a node that is not running exits 0"
echo "PASS flat federation"
