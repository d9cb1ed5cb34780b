#!/usr/bin/env bash
# Partitions with nftables in a network namespace (issue 7; threats.md F7): the whole test runs
# in a namespace of its own (its own loopback, its own nftables ruleset: nothing outside it is
# touched), with a hub, a county and a school (county first, national last). Packets are
# dropped — a black hole, not a refused connection — so every cut costs the school its stall
# timeout:
#   - school | county cut: the school's sync falls back to national and serves r2;
#   - national cut too: the school keeps serving r2 to its users, its sync fails saying no
#     source is reachable (exit 6), CURRENT does not move;
#   - healed: the school reaches r3, through its county again.
# Needs root (ip netns, nft); exits 77 (ctest: skipped) otherwise.
# Usage: partition.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
if [ -z "${TIERSYNC_IN_NETNS:-}" ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v nft >/dev/null || ! command -v ip >/dev/null; then
    echo "SKIPPED: needs root, ip and nft"
    exit 77
  fi
  ns="tiersync-partition-$$"
  ip netns add "$ns"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  ip netns exec "$ns" ip link set lo up
  set +e
  TIERSYNC_IN_NETNS="$ns" ip netns exec "$ns" bash "$0" "$@"
  rc=$?
  exit $rc
fi

bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18190}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

# cut PORT...: drops every packet to these loopback ports (inside this namespace only).
cut() {
  nft add table inet tiersync_test 2>/dev/null || true
  nft 'add chain inet tiersync_test out { type filter hook output priority 0; }' 2>/dev/null || true
  for p in "$@"; do nft add rule inet tiersync_test out tcp dport "$((port + p))" drop; done
}
heal() { nft delete table inet tiersync_test 2>/dev/null || true; }
current() { cat "$out/school/CURRENT"; }
released() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' \
  "$out/school/releases/$(current)/release.json"; }

step "In network namespace $TIERSYNC_IN_NETNS: a hub, a county and a school"
make_hub --resources 40 --seed 13 --size-scale 0.0003
start_hub 0
sub='platform = k12 and board = 课程教学'
make_node county 1 county 330106 "$sub" "$(url 0)"
make_node school 2 school 330106 "$sub and stage = 小学" "$(url 0)" "$(url 1)"
for n in county school; do
  sed -i 's/^stall_seconds = .*/stall_seconds = 3/' "$out/$n/node.toml"
done
start_node county 1
wait_release r1 1
start_node school 2
wait_release r1 2

step "F7: the school is cut from its county (packets dropped); r2 comes from national"
stop_node school
cut 1
next_release r2
start=$SECONDS
"$bin" --json node sync "$out/school" >"$out/sync.json" 2>"$out/sync.err" ||
  fail "the sync with the county cut off failed: $(tail -n 3 "$out/sync.err")"
source=$(field 'd["metadata_source"]' <"$out/sync.json")
echo "synced $(released) in $((SECONDS - start)) s, metadata from: $source"
[ "$(released)" = r2 ] || fail "the school does not serve r2"
case "$source" in *"$(url 0)"*) ;; *) fail "r2 came from '$source', not national" ;; esac

step "F7: national cut too; the school keeps serving r2 and says no source is reachable"
cut 0
next_release r3
before=$(current)
start=$SECONDS
"$bin" --json node sync "$out/school" >"$out/sync.json" 2>"$out/sync.err" && rc=0 || rc=$?
echo "exit $rc after $((SECONDS - start)) s: $(tail -n 1 "$out/sync.err")"
[ "$rc" -eq 6 ] || fail "the sync with every source cut off exited $rc, not 6 (no source reachable)"
[ "$(current)" = "$before" ] || fail "CURRENT moved with every source cut off"
start_node school 2
[ "$(served_release 2)" = r2 ] || fail "the school does not serve r2 to its users while cut off"
curl -sf -o /dev/null "$(url 2)/" || fail "the school's web UI does not answer while cut off"
stop_node school

step "Healed: the school reaches r3 through its county"
heal
wait_release r3 1
"$bin" --json node sync "$out/school" >"$out/sync.json" 2>"$out/sync.err" ||
  fail "the sync after healing failed: $(tail -n 3 "$out/sync.err")"
source=$(field 'd["metadata_source"]' <"$out/sync.json")
echo "after healing: $(released), metadata from: $source"
[ "$(released)" = r3 ] || fail "the school does not reach r3 after healing"
case "$source" in *"$(url 1)"*) ;; *) fail "r3 came from '$source', not the county" ;; esac
echo "PARTITION CHECKS PASSED"
