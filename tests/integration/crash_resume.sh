#!/usr/bin/env bash
# SIGKILL of a node mid-sync (issue 5, check 5): a province node serving r1 is syncing a large
# r2 (rate-limited, so the kill lands mid-transfer) when it is killed with SIGKILL. Checked:
#   - until the kill (after 60% of r2 arrived), and after the restart until r2 is complete, it
#     serves r1 — never part of r2;
#   - after the restart it fetches only what it had not stored: the restarted sync's planned
#     bytes are at most r2's bytes minus what arrived before the kill plus what the store may
#     lose to a crash (its auto-commit interval and the batches in flight), and it fetches
#     exactly its plan;
#   - r2 then is served whole.
# Usage: crash_resume.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18130}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
mib=$((1 << 20))
# What a crash may lose: the store commits every 32 MiB of fetched chunks, and 4 batches of up
# to 8 MiB may be in flight (node_server.cc, chunk_sync.h).
may_lose=$((32 * mib + 4 * 8 * mib))

step "Hub with a small r1; a province node serves it"
make_hub --resources 40 --seed 5 --size-scale 0.0005
start_hub 0
sub='platform = k12 and board = 课程教学
board = 专题教育'
make_node province 1 province 330000 "$sub" "$(url 0)"
set_toml province sync max_bytes_per_second 20971520
grep -q '^max_bytes_per_second = 20971520' "$out/province/node.toml" || fail "could not set the rate limit"
start_node province 1
wait_release r1 1

step "r2: the same resources with media about 40 times larger"
"$bin" demo generate "$out/catalog2" --resources 40 --seed 5 --size-scale 0.02 >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog2" $(sign_keys) --publisher "$publisher" -m r2 \
  >/dev/null || fail "hub publish r2"
total=$("$bin" --json catalog ls --repo "$out/hub" --filter "$sub" |
  python3 -c 'import json,sys; print(sum(r["bytes"] for r in json.load(sys.stdin) if not r["retired"]))')
echo "r2 selects $((total / mib)) MiB for the province"
# Killed after 60% arrived, a resumed sync must plan at most 40% + may_lose: less than all.
kill_at=$((total * 6 / 10))
[ "$kill_at" -gt $((may_lose + 16 * mib)) ] || fail "r2 is too small ($total bytes) for the check to mean anything"

step "Kill -9 the node once 60% of r2 has arrived; it serves r1 all along"
fetched() { metric "$(url 1)" tiersync_sync_fetched_bytes_total "$(url 0)"; }
got=0
for _ in $(seq 1 1500); do
  got=$(fetched)
  [ "$got" -gt "$kill_at" ] && break
  status 1 | grep -q '"release": "r1"' || fail "the node served something else than r1 before r2 was complete"
  sleep 0.02
done
[ "$got" -gt "$kill_at" ] || fail "the sync did not get past 60% of r2 ($got bytes)"
kill -9 "${node_pid[province]}"
wait "${node_pid[province]}" 2>/dev/null || true
echo "killed with $((got / mib)) MiB of $((total / mib)) MiB received"

step "Restart: r1 is served at once; the sync resumes where the store left off"
current=$(cat "$out/province/CURRENT")
grep -q '"release": *"r1"' "$out/province/releases/$current/release.json" ||
  fail "after the crash CURRENT names $current, not r1's release"
# Slower now, so that the check below sees the node before it finishes r2.
set_toml province sync max_bytes_per_second 8388608
start_node province 1
[ "$(served_release 1)" = r1 ] || fail "after the crash the node serves $(served_release 1), not r1"
"$bin" node status "$out/province" | head -n 3
wait_release r2 1 120
planned=$(status 1 | field 'd["last_sync"]["planned_bytes"]')
fetched_after=$(status 1 | field 'd["last_sync"]["fetched_bytes"]')
echo "after the restart: planned $((planned / mib)) MiB, fetched $((fetched_after / mib)) MiB"
[ "$planned" -gt 0 ] || fail "the restarted sync planned nothing: the kill was not mid-sync"
[ "$planned" -le $((total - got + may_lose)) ] ||
  fail "the restarted sync planned $planned bytes: more than r2 ($total) minus what had arrived ($got) plus what a crash may lose ($may_lose) — it re-downloaded stored chunks"
[ "$fetched_after" = "$planned" ] || fail "the restarted sync fetched $fetched_after bytes, its plan was $planned"
[ "$(status 1 | field 'd["current"]["files"]')" -gt 0 ] || fail "r2 is served with no files"
echo "CRASH RESUME CHECKS PASSED"
