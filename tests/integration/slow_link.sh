#!/usr/bin/env bash
# Schools on slow links (issue 17, item 2): a hub and two school nodes whose only upstream is
# the hub through tests/integration/shape_proxy.py — one on 1 Mbit/s (131072 B/s) mirroring a
# few MiB of media, one on 256 kbit/s (32768 B/s) mirroring a smaller part. The proxy keeps a
# small receive window towards the hub, so the hub's writes back up as they would behind a
# slow line (on plain loopback the kernel would buffer them away). Both must converge: before
# the server's progress-based write timeouts, a chunk batch had to go out whole within 30 s
# (>= 280 KB/s for 8 MiB), so a school on 1 Mbit/s never finished.
# Usage: slow_link.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18430}"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/integration/nodes_lib.sh
source "$here/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

# shape OFFSET RATE: a shaped link on port+OFFSET to the hub.
shape() {
  python3 "$here/shape_proxy.py" --listen "$((port + $1))" --upstream "127.0.0.1:$port" \
    --rate "$2" >>"$out/logs/shape-$1.log" 2>&1 &
  pids+=($!)
  wait_http "$1"
}

# synced_bytes OFFSET: chunk bytes the node at OFFSET fetched in its last sync.
synced_bytes() { status "$1" | field 'd["last_sync"].get("fetched_bytes", 0)'; }

step "A hub with media; shaped links at 1 Mbit/s and 256 kbit/s"
make_hub --resources 24 --seed 23 --size-scale "${SLOW_LINK_SCALE:-0.0018}"
start_hub 0
shape 2 131072
shape 4 32768

step "Two schools, each with the shaped link as its only upstream"
# The fast school mirrors every primary-school resource, the slow one only its Chinese.
make_node fast 1 school 330106 'platform = k12 and board = 课程教学 and stage = 小学' "$(url 2)"
make_node slow 3 school 330106 \
  'platform = k12 and board = 课程教学 and stage = 小学 and subject = 语文' "$(url 4)"
# Both with the configuration `node init` writes: the client's minimum-throughput rule (was
# 64 KiB/s per request, more than a whole 256 kbit/s line carries) and batch sizes as shipped.
started=$SECONDS
start_node fast 1
start_node slow 3
# The slow school's progress is visible in its status while it syncs, and it advances.
seen=()
deadline=$((SECONDS + 120))
while [ $SECONDS -lt $deadline ] && [ ${#seen[@]} -lt 2 ]; do
  done_bytes=$(status 3 | field '(d.get("progress") or {}).get("done_bytes", 0) if (d.get("progress") or {}).get("phase") == "chunks" else 0' 2>/dev/null || echo 0)
  if [ "${done_bytes:-0}" -gt 0 ] && { [ ${#seen[@]} -eq 0 ] || [ "$done_bytes" -gt "${seen[-1]}" ]; }; then
    seen+=("$done_bytes")
  fi
  sleep 1
done
[ ${#seen[@]} -ge 2 ] || fail "the 256 kbit/s school's status never showed its chunk progress advancing"
echo "256 kbit/s: status showed chunk progress ${seen[0]} then ${seen[1]} bytes"
wait_release r1 1 150
echo "1 Mbit/s: r1 after $((SECONDS - started)) s, $(synced_bytes 1) chunk bytes fetched"
wait_release r1 3 150
echo "256 kbit/s: r1 after $((SECONDS - started)) s, $(synced_bytes 3) chunk bytes fetched"
[ "$(synced_bytes 1)" -ge $((2 << 20)) ] || fail "the 1 Mbit/s school fetched less than 2 MiB: make the release bigger"
[ "$(synced_bytes 3)" -ge $((512 << 10)) ] || fail "the 256 kbit/s school fetched less than 512 KiB: make the release bigger"
echo "PASSED"
