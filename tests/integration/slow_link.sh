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
# The sync engine's client side: a source slower than [sync] min_bytes_per_second is dropped
# for the request (default 64 KiB/s, more than 256 kbit/s carries).
sed -i 's/^min_bytes_per_second = .*/min_bytes_per_second = 4096/' "$out/slow/node.toml"
grep -q '^min_bytes_per_second = 4096' "$out/slow/node.toml" || fail "could not set [sync] min_bytes_per_second"
started=$SECONDS
start_node fast 1
start_node slow 3
wait_release r1 1 150
echo "1 Mbit/s: r1 after $((SECONDS - started)) s, $(synced_bytes 1) chunk bytes fetched"
wait_release r1 3 150
echo "256 kbit/s: r1 after $((SECONDS - started)) s, $(synced_bytes 3) chunk bytes fetched"
[ "$(synced_bytes 1)" -ge $((2 << 20)) ] || fail "the 1 Mbit/s school fetched less than 2 MiB: make the release bigger"
[ "$(synced_bytes 3)" -ge $((512 << 10)) ] || fail "the 256 kbit/s school fetched less than 512 KiB: make the release bigger"
echo "PASSED"
