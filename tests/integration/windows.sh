#!/usr/bin/env bash
# Sync windows and the bandwidth cap on real processes (issue 22, check 4): a school with a
# window that is not open now fetches only the priority content (停课不停学) of a new release,
# switches to it at once with its ordinary files deferred (users see the priority resources as
# mirrored, the others as not), and fetches no ordinary byte; a reload that opens a window
# brings the rest at the configured cap — its measured rate within 10% of it — and completes
# the release.
# Usage: windows.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18560}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
mib=$((1 << 20))
cap=$((mib / 2))  # 512 KiB/s inside the window: ~25 s for the ordinary content

# set_windows NODE SPEC: the [sync] windows of NODE's node.toml.
set_windows() {
  set_toml "$1" sync windows "[\"$2\"]"
}

step "Hub: r1 with priority and ordinary resources"
make_hub --resources 80 --seed 11 --size-scale 0.0007
start_hub 0
sub='platform = k12 and board = 课程教学
board = 专题教育'
read -r pri_bytes ord_bytes pri_n < <(priority_part "$sub")
echo "the school's part of r1: priority $((pri_bytes / 1024)) KiB in $pri_n resources, ordinary $((ord_bytes / mib)) MiB"
[ "$pri_n" -gt 0 ] || fail "r1 has no priority resource for the school"
[ "$ord_bytes" -gt $((16 * cap)) ] || fail "too little ordinary content ($ord_bytes bytes) to measure a rate"

step "A school whose window opens in two hours: only the priority content moves"
make_node school 1 school 330106 "$sub" "$(url 0)"
set_windows school "$(clock 120)-$(clock 180)"
set_toml school sync max_bytes_per_second "$cap"
start_node school 1
wait_release r1 1
fetched() { metric "$(url 1)" tiersync_sync_chunk_bytes_total "$(url 0)"; }
# The rate is measured on the bytes the school's sync read off its sockets (status "bandwidth"):
# what went over the link — chunks travel zstd-compressed, fewer bytes than the chunk bytes.
got=$(fetched)
deferred=$(status 1 | field 'd["current"].get("deferred", 0)')
echo "switched to r1 with $deferred files deferred; fetched $got bytes"
[ "$deferred" -gt 0 ] || fail "no file was deferred outside the window"
[ "$got" -le "$pri_bytes" ] || fail "fetched $got bytes outside the window; the priority content is $pri_bytes"
[ "$got" -gt 0 ] || fail "the priority content was not fetched outside the window"
curl -sf "$(url 1)/v1/catalog/search?limit=1000" >"$out/search.json"
python3 - "$out/search.json" "$out/ls.json" <<'PY' || fail "users do not see the priority resources (only) as mirrored"
import json, sys
items = json.load(open(sys.argv[1]))["items"]
pri = {r["id"] for r in json.load(open(sys.argv[2])) if r["priority"] and r["bytes"] > 0}
local = {i["id"] for i in items if i["local"] and not i["link"] and i["files"] > 0}
print("mirrored for users:", len(local), "of which priority:", len(local & pri), "of", len(pri))
sys.exit(0 if local == pri else 1)
PY
sleep 7  # a poll later, still outside: nothing more moves
[ "$(fetched)" = "$got" ] || fail "ordinary content moved outside the window ($(fetched) bytes)"

step "A reload opens the window: the rest arrives at the cap"
set_windows school "$(clock -60)-$(clock 60)"
kill -HUP "${node_pid[school]}"
# The rate, measured from outside: every ~0.2 s, the time and the bytes the school has read off
# its sockets so far; the rate is the slope between the first and the last sample taken while
# bytes were still arriving (neither the start nor the end of the transfer has to be caught).
: >"$out/samples"
done_at=""
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ]; do
  status 1 >"$out/st.json" || fail "no status"
  now=$(date +%s.%N)
  read -r deferred received < <(field 'd["current"].get("deferred", 0), d["bandwidth"]["received_bytes"]' \
    <"$out/st.json" | tr -d '(),')
  echo "$now $received" >>"$out/samples"
  if [ "$deferred" = 0 ]; then
    done_at=$now
    break
  fi
  sleep 0.2
done
[ -n "$done_at" ] ||
  fail "the release was not completed inside the window: $(status 1 | field 'd["last_sync"], d["sources"]')"
chunk_bytes=$(($(fetched) - got))
[ "$chunk_bytes" -ge $((ord_bytes * 9 / 10)) ] || fail "only $chunk_bytes bytes of $ord_bytes ordinary arrived"
read -r span bytes rate < <(slope "$out/samples")
echo "inside the window: $((chunk_bytes / 1024)) KiB of content; $((bytes / 1024)) KiB read off the sockets in $span s: $((rate / 1024)) KiB/s (cap $((cap / 1024)) KiB/s)"
python3 -c "import sys; sys.exit(0 if $span >= 10 else 1)" || fail "the transfer was observed for only $span s"
python3 -c "import sys; sys.exit(0 if abs($rate - $cap) <= $cap * 0.10 else 1)" ||
  fail "the measured rate $rate B/s is not within 10% of the cap $cap B/s"
[ "$(status 1 | field 'd["current"]["release"]')" = r1 ] || fail "the school left r1"
echo "TEST PASSED"
