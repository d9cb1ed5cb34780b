#!/usr/bin/env bash
# The web UI in a real browser: a hub publishes the catalog of make_catalog.py (a playable
# WebM video, a real PDF, Chinese titles, a resource the school does not mirror, an external
# link) and a school node (西湖区, 330106) syncs it on loopback; then ui.test.mjs (node --test,
# playwright-core driving Debian's chromium) runs against the school node's UI. Screenshots,
# one per step, are kept in OUT_DIR/screenshots; logs in OUT_DIR/logs. Everything started is
# stopped on exit. The same ui.test.mjs then runs against the hub's own web UI (the national
# platform serving users directly, hub/hub_users.h).
# Then, against the school: stale.test.mjs (no staleness banner on the fresh node) and
# withdrawn.test.mjs (a resource the hub retracts shows the withdrawal notice, not a player).
# Then dashboard.test.mjs: the hub's federation dashboard (/federation/) with a province, a
# city, two counties (one stopped: down) and a school below them; clicks on the map drill down
# to the school. Last, the school restarted with its clock 3 days ahead (libfaketime; the root
# signs a 30-day offline grace) shows a staleness banner naming the expiry.
# Usage: run.sh TIERSYNC OUT_DIR   (ports: $TIERSYNC_TEST_PORT, default 18140, and the next 6)
# Needs: npm ci --prefix tests/browser (playwright-core), /usr/bin/chromium (or $CHROMIUM).
set -euo pipefail
bin="$(realpath "$1")"
out="$(realpath -m "$2")"
port="${TIERSYNC_TEST_PORT:-18140}"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tests/integration/nodes_lib.sh
source "$here/../integration/nodes_lib.sh"
rm -rf "$out"
mkdir -p "$out/keys" "$out/logs"
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -d "$here/node_modules/playwright-core" ] ||
  fail "playwright-core is not installed: npm ci --prefix tests/browser"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || fail "no browser: apt-get install chromium"

step "Hub: the browser test's catalog (real video and PDF), release r1"
for role in root targets snapshot timestamp; do "$bin" keys gen "$out/keys/$role.key" >/dev/null; done
# shellcheck disable=SC2046
"$bin" hub init "$out/hub" --root-key "$out/keys/root.key" --targets-key "$out/keys/targets.key" \
  --snapshot-key "$out/keys/snapshot.key" --timestamp-key "$out/keys/timestamp.key" \
  -k "$out/keys/root.key" $(sign_keys) --offline-grace-days 30 >/dev/null || fail "hub init"
python3 "$here/make_catalog.py" "$out/catalog" "$here/fixtures/lesson.webm" ||
  fail "make_catalog.py"
publish r1
start_hub 0

step "A school node mirroring the K-12 platform"
make_node school 1 school 330106 'platform = k12' "$(url 0)"
start_node school 1
wait_release r1 1 60

step "The web UI in chromium: $(url 1)/"
started=$SECONDS
(
  cd "$here"
  TIERSYNC_UI_URL="$(url 1)" TIERSYNC_UI_SHOTS="$out/screenshots" TIERSYNC_UI_RELEASE=r1 \
    TIERSYNC_UI_TIER=school TIERSYNC_UI_REGION=330106 \
    timeout 150 node --test --test-timeout=90000 ui.test.mjs
) || fail "the browser test failed; screenshots in $out/screenshots"

step "The same web UI from the national platform itself (hub serve): $(url 0)/"
(
  cd "$here"
  TIERSYNC_UI_URL="$(url 0)" TIERSYNC_UI_SHOTS="$out/screenshots/hub" TIERSYNC_UI_RELEASE=r1 \
    TIERSYNC_UI_TIER=national TIERSYNC_UI_REGION="" \
    timeout 150 node --test --test-timeout=90000 ui.test.mjs
) || fail "the browser test against the hub failed; screenshots in $out/screenshots/hub"

step "The staleness banner: none on the fresh node; the clock 3 days ahead, one"
ui_stale() {
  (cd "$here" && TIERSYNC_UI_URL="$(url 1)" TIERSYNC_UI_SHOTS="$out/screenshots" \
    TIERSYNC_UI_STALE_SINCE="$1" timeout 60 node --test --test-timeout=45000 stale.test.mjs) ||
    fail "the staleness banner test failed (since '$1'); screenshots in $out/screenshots"
}
ui_stale ""

step "A resource the hub retracts: its page says it was withdrawn"
withdrawn_id=$(curl -sf "$(url 1)/v1/catalog/search?local=1&limit=1" | field 'd["items"][0]["id"]')
reason="版权争议，暂停使用"
# shellcheck disable=SC2046
"$bin" hub retract "$out/hub" $(sign_keys) --resource "$withdrawn_id" --reason "$reason" >/dev/null ||
  fail "hub retract"
for _ in $(seq 1 200); do
  curl -sf "$(url 1)/v1/catalog/resources/$withdrawn_id" | grep -c '"withdrawn"' >/dev/null && break
  sleep 0.1
done
(cd "$here" && TIERSYNC_UI_URL="$(url 1)" TIERSYNC_UI_SHOTS="$out/screenshots"   TIERSYNC_UI_WITHDRAWN_ID="$withdrawn_id" TIERSYNC_UI_WITHDRAWN_REASON="$reason"   timeout 60 node --test --test-timeout=45000 withdrawn.test.mjs) ||
  fail "the withdrawn-resource test failed; screenshots in $out/screenshots"
step "The federation dashboard of the hub: 浙江省, 杭州市, two counties (上城区 stopped), a school"
make_node province 2 province 330000 "" "$(url 0)" "$(url 0)"
make_node city 3 city 330100 "" "$(url 0)" "$(url 2)"
make_node county 4 county 330106 "" "$(url 0)" "$(url 3)"
make_node county-b 5 county 330102 "" "$(url 0)" "$(url 3)"
make_node school-b 6 school 330106 'platform = k12' "$(url 0)" "$(url 4)"
for n in "province 2" "city 3" "county 4" "county-b 5" "school-b 6"; do
  # shellcheck disable=SC2086
  start_node $n
done
wait_release r1 6 60
federation() { curl -sf "$(url 0)/v1/federation/$1"; }
until [ "$(federation 'nodes?limit=100' | field 'len(d["nodes"])')" = 6 ]; do
  [ $SECONDS -lt $((started + 600)) ] || fail "the hub does not list 6 nodes: $(federation nodes)"
  sleep 1
done
stop_node county-b
deadline=$((SECONDS + 90))
until [ "$(federation 'nodes?health=down' | field '[n["name"] for n in d["nodes"]]')" = "['county-b']" ]; do
  [ $SECONDS -lt $deadline ] || fail "the hub does not show county-b down: $(federation 'nodes?health=down')"
  sleep 1
done
(
  cd "$here"
  TIERSYNC_DASH_URL="$(url 0)" TIERSYNC_DASH_SHOTS="$out/screenshots/dashboard" \
    TIERSYNC_DASH_PATH='[{"region":"33"},{"region":"3301"},{"region":"330106"},{"node":"school-b"}]' \
    TIERSYNC_DASH_EXPECT="{\"release\":\"$(federation summary | field 'd["latest"]["release"]')\",\"nodes\":6,\"down\":[\"county-b\"]}" \
    timeout 150 node --test --test-timeout=90000 dashboard.test.mjs
) || fail "the dashboard test failed; screenshots in $out/screenshots/dashboard"
for n in province city county school-b; do stop_node $n; done

stop_node school
libfaketime=$(find /usr/lib -name libfaketime.so.1 -path '*faketime*' | head -n 1)
[ -n "$libfaketime" ] || fail "libfaketime.so.1 is not installed"
env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:verify_asan_link_order=0" LD_PRELOAD="$libfaketime" \
  FAKETIME=+3d "$bin" node serve "$out/school" >>"$out/logs/school.log" 2>&1 &
node_pid[school]=$!
pids+=($!)
wait_http 1
since=$(status 1 | field 'd["serving"]["freshness"]["expires"]')
[ "$(status 1 | field 'd["serving"]["freshness"]["state"]')" = stale ] ||
  fail "the school is not stale 3 days ahead: $(status 1 | field 'd["serving"]')"
ui_stale "$since"
echo "browser test passed in $((SECONDS - started)) s; screenshots:"
ls "$out/screenshots"

# Stop the hub and the node now, so that what a sanitizer build reports at exit is in the logs.
cleanup
if grep -l -E "ERROR: AddressSanitizer|runtime error:" "$out"/logs/*.log >&2; then
  fail "sanitizer reports in the logs above"
fi
