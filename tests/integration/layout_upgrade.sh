#!/usr/bin/env bash
# Upgrades (issue 18, check 3): the layout-1 node and hub kept in tests/fixtures/v1/ (made by
# tiersync 0.1.0, tests/fixtures/make_v1.sh) are opened by this build:
#   - the node is migrated to layout 2 at `node serve` and serves what it served: its release,
#     a user's file (the published SHA-256), its usage counts, its child's report; its trusted
#     TUF state is untouched and a sync against the (also layout-1) hub succeeds with it. The
#     fixture's metadata expire a day after it was made, so this part runs with the clock at the
#     fixture's making (faketime), and so does serving it offline with the hub gone; on today's
#     clock (past that expiry; the fixture's root sets no offline grace) the node keeps its
#     release but refuses content with 503, saying why;
#   - a layout "from the future" (NODE 3, HUB 2, STORE 2) is refused by `node serve`, `node
#     sync`, `node status`, `hub serve` and `hub publish` with exit 8 and "upgrade tiersync",
#     and nothing in the directory changes.
# Usage: layout_upgrade.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT: 18530-18531,
# fixed by the fixture's node.toml)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18530}"
fixtures="$(cd "$(dirname "$0")/../fixtures/v1" && pwd)"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
mkdir -p "$out/logs"
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$port" = 18530 ] || fail "the fixture's node listens on 18531 and its hub is 18530"

# libfaketime preloaded directly (the faketime wrapper forks, so its pid would not be the
# server's); a sanitizer build is told that libfaketime comes before its runtime.
libfaketime=/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1
[ -e "$libfaketime" ] || fail "faketime is not installed"
at_fixture_time=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0"
  "LD_PRELOAD=$libfaketime" "FAKETIME=@$(date -d "@$(($(cat "$fixtures/CREATED") + 3600))" \
  '+%Y-%m-%d %H:%M:%S')")
unpack() { # DEST: fresh copies of the fixture's node, hub and keys
  mkdir -p "$1"
  for t in node hub keys; do tar -C "$1" -xzf "$fixtures/$t.tar.gz"; done
}
tree_sums() { (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum); }
read -r file_id file_url file_sha <"$fixtures/FILE"

step "The layout-1 fixture"
unpack "$out/v1"
[ "$(cat "$out/v1/node/NODE")" = "tiersync-node 1" ] || fail "the node fixture is not layout 1"
[ "$(cat "$out/v1/hub/HUB")" = "tiersync-hub 1" ] || fail "the hub fixture is not layout 1"
grep -q '"format"' "$out/v1/node/children/"*.json && fail "the fixture's reports have a format"
trusted_before=$(tree_sums "$out/v1/node/trusted")
usage_before=$(tree_sums "$out/v1/node/usage")
current_before=$(cat "$out/v1/node/CURRENT")

step "This build serves the hub and the node (clock at the fixture's making)"
"${at_fixture_time[@]}" "$bin" hub serve "$out/v1/hub" --listen "127.0.0.1:$port" \
  >>"$out/logs/hub.log" 2>&1 &
pids+=($!)
wait_http 0
"${at_fixture_time[@]}" "$bin" node serve "$out/v1/node" >>"$out/logs/node.log" 2>&1 &
node_pid[node]=$!
pids+=($!)
wait_http 1
grep -q "migrating node .* from layout version 1 to 2" "$out/logs/node.log" ||
  fail "the node did not log its migration"
[ "$(cat "$out/v1/node/NODE")" = "tiersync-node 2" ] || fail "NODE was not bumped to 2"
for f in "$out/v1/node/children/"*.json; do
  grep -q '"format": "tiersync-child-report 1"' "$f" || fail "$f has no format after migration"
done
grep -q '"format": "tiersync-release 1"' "$out/v1/node/releases/$current_before/release.json" ||
  fail "release.json has no format after migration"
[ "$(served_release 1)" = r1 ] || fail "the node does not serve r1 after migration"
[ "$(status 1 | field 'd["children_reports"]')" = 1 ] || fail "the child's report was lost"
[ "$(status 1 | field 'd["usage"]["last_7_days"]["downloads"]')" = 2 ] ||
  fail "the usage counted by 0.1.0 is not in status: $(status 1 | field 'd["usage"]')"
[ "$(curl -sf "$(url 1)$file_url" | sha256sum | cut -d' ' -f1)" = "$file_sha" ] ||
  fail "the user's file is not served with its published SHA-256"
[ "$(status 1 | field 'd["usage"]["last_7_days"]["downloads"]')" = 3 ] ||
  fail "the download after migration was not counted"
cmp -s <(curl -sf "$(url 1)/v1/metadata/timestamp.json") \
  "$out/v1/node/releases/$current_before/metadata/timestamp.json" ||
  fail "the node does not serve its release's timestamp byte for byte"
[ "$(tree_sums "$out/v1/node/trusted")" = "$trusted_before" ] || fail "trusted/ changed"
# Its first sync checked the hub's metadata against the migrated trusted state (the child's
# report now rolls up into the plan, so the release directory may get a new name; the release
# and its version stay).
for _ in $(seq 1 100); do
  [ "$(status 1 | field '(d["last_sync"] or {}).get("ok")')" = True ] && break
  sleep 0.2
done
[ "$(status 1 | field '(d["last_sync"] or {}).get("ok")')" = True ] ||
  fail "the first sync after migration failed: $(status 1 | field 'd["last_sync"]')"
[ "$(status 1 | field 'd["current"]["version"]')" = 3 ] || fail "the release version changed"
stop_node node
# The trusted state still works: a sync against the hub checks it (no rollback, no new keys).
"${at_fixture_time[@]}" "$bin" --json node sync "$out/v1/node" >"$out/sync.json" 2>"$out/sync.err" ||
  fail "node sync after migration failed: $(tail -n 3 "$out/sync.err")"
[ "$(field 'd["release"]' <"$out/sync.json")" = r1 ] || fail "the sync did not stay at r1"
# Usage: the day files 0.1.0 wrote are kept; the day of the new download has one more.
for f in "$out/v1/node/usage/"*.json; do
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["format"]=="tiersync-usage 1"' \
    "$f" || fail "$f is not a usage file"
done
[ -n "$usage_before" ] || fail "the fixture holds no usage"
grep -q "$file_id" "$out/v1/node/usage/"*.json || fail "the usage file lost the resource"

step "The hub gone, its metadata still valid: the migrated node serves offline"
kill "${pids[0]}" 2>/dev/null || true # the hub
"${at_fixture_time[@]}" "$bin" node serve "$out/v1/node" >>"$out/logs/node-offline.log" 2>&1 &
node_pid[node]=$!
pids+=($!)
wait_http 1
[ "$(served_release 1)" = r1 ] || fail "the node does not serve r1 offline"
[ "$(curl -sf "$(url 1)$file_url" | sha256sum | cut -d' ' -f1)" = "$file_sha" ] ||
  fail "the user's file is not served offline"
grep -q "migrating" "$out/logs/node-offline.log" && fail "a migrated node was migrated again"
stop_node node

step "On today's clock (the fixture's timestamp expired, its root allows no grace): no content"
# The fixture's timestamp expires a day after it was made and its root sets no offline grace,
# so from then on the node keeps its release but refuses content, saying why.
"$bin" node serve "$out/v1/node" >>"$out/logs/node-today.log" 2>&1 &
node_pid[node]=$!
pids+=($!)
wait_http 1
[ "$(served_release 1)" = r1 ] || fail "the node does not keep r1 today"
answer=$(curl -s -w ' %{http_code}' "$(url 1)$file_url")
case "$answer" in
  *"expired at"*"serves no content until it syncs or imports a bundle"*" 503") ;;
  *) fail "past the expiry without grace the file should be refused (503), got: $answer" ;;
esac
stop_node node

# refused WHAT DIR COMMAND...: exits 8 saying "upgrade tiersync", and DIR is unchanged.
refused() {
  local what="$1" dir="$2" before rc=0
  shift 2
  before=$(tree_sums "$dir")
  timeout 20 "$bin" "$@" >"$out/refused.out" 2>"$out/refused.err" || rc=$?
  [ "$rc" = 8 ] || fail "$what: exit $rc, not 8: $(cat "$out/refused.err")"
  grep -q "upgrade tiersync" "$out/refused.err" || fail "$what: $(cat "$out/refused.err")"
  [ "$(tree_sums "$dir")" = "$before" ] || fail "$what changed $dir"
  [ -e "$dir/LOCK" ] && fail "$what created $dir/LOCK"
  echo "refused: $what: $(cat "$out/refused.err")"
}

step "A layout from the future is refused, and nothing changes"
unpack "$out/future"
echo "tiersync-node 3" >"$out/future/node/NODE"
refused "node serve (NODE 3)" "$out/future/node" node serve "$out/future/node"
refused "node sync (NODE 3)" "$out/future/node" node sync "$out/future/node"
refused "node status (NODE 3)" "$out/future/node" node status "$out/future/node"
grep -q "version 3" "$out/refused.err" || fail "the refusal does not name version 3"
echo "tiersync-node 2" >"$out/future/node/NODE"
echo "tiersync-chunk-store 2" >"$out/future/node/store/STORE"
refused "node serve (STORE 2)" "$out/future/node" node serve "$out/future/node"
echo "tiersync-hub 2" >"$out/future/hub/HUB"
refused "hub serve (HUB 2)" "$out/future/hub" hub serve "$out/future/hub" --listen "127.0.0.1:$port"
mkdir -p "$out/catalog"
refused "hub publish (HUB 2)" "$out/future/hub" hub publish "$out/future/hub" --input "$out/catalog" \
  -k "$out/future/keys/targets.key" --publisher "x <x@example.cn>"

echo "layout_upgrade: OK"
