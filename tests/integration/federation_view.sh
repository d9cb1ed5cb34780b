#!/usr/bin/env bash
# The view from the top (issue 20, checks 1 and 2), real processes on loopback:
#   hub (+0); 浙江省 (+1) <- 杭州市 (+3) <- 西湖区 (+4) <- schools a (+6), b (+7)
#                                     <- 上城区 (+5) <- school c (+8)
#             江苏省 (+2) <- 南京市 (+9) <- 玄武区 (+10) <- school d (+11)
# Upper tiers subscribe to nothing of their own. Every node reports every 5 s.
#  1. the hub's federation API lists every node with its release and health "ok", and each
#     province lists its own subtree only;
#     a school synced by one-shot `node sync` commands (no server) shows there too;
#  2. views and downloads made at the schools add up exactly at the hub, per resource and day,
#     and still do after a county and a province restart and after reports are retried;
#  3. a county stopped is shown down at the hub, at its province and at its city, and nowhere
#     else: its school reports past it and stays up; 江苏省 sees nothing of it.
# Usage: federation_view.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT, default 18720)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18720}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

fed() { curl -sf "$(url "$1")/v1/federation/$2"; }
k12='platform = k12 and grade in (1..6)'

step "Hub, two provinces, cities, counties and four schools"
make_hub --resources 30 --seed 11 --size-scale 0.0003
start_hub 0
make_node zhejiang 1 province 330000 "" "$(url 0)" "$(url 0)"
make_node jiangsu 2 province 320000 "" "$(url 0)" "$(url 0)"
make_node hangzhou 3 city 330100 "" "$(url 0)" "$(url 1)"
make_node xihu 4 county 330106 "" "$(url 0)" "$(url 3)"
make_node shangcheng 5 county 330102 "" "$(url 0)" "$(url 3)"
make_node school-a 6 school 330106 "$k12" "$(url 0)" "$(url 4)"
make_node school-b 7 school 330106 "$k12" "$(url 0)" "$(url 4)"
make_node school-c 8 school 330102 "$k12" "$(url 0)" "$(url 5)"
make_node nanjing 9 city 320100 "" "$(url 0)" "$(url 2)"
make_node xuanwu 10 county 320102 "" "$(url 0)" "$(url 9)"
make_node school-d 11 school 320102 "$k12" "$(url 0)" "$(url 10)"
names=(zhejiang jiangsu hangzhou xihu shangcheng school-a school-b school-c nanjing xuanwu school-d)
offsets=(1 2 3 4 5 6 7 8 9 10 11)
for i in "${!names[@]}"; do start_node "${names[$i]}" "${offsets[$i]}"; done
for o in 6 7 8 11; do wait_release r1 "$o" 120; done
echo "every school serves r1"

step "1. The hub lists every node with its release and health within a few report periods"
started=$SECONDS
until [ "$(fed 0 'nodes?limit=100' | field 'sum(1 for n in d["nodes"] if n["release"] == "r1" and n["health"] == "ok")')" = 11 ]; do
  [ $((SECONDS - started)) -lt 60 ] ||
    fail "the hub does not list 11 nodes on r1 and ok: $(fed 0 'nodes?limit=100' | field '[(n["name"], n["release"], n["health"], n["why"]) for n in d["nodes"]]')"
  sleep 1
done
echo "hub: 11 nodes on r1, all ok, $((SECONDS - started)) s after the last school switched"
fed 0 summary | field 'd["totals"]["nodes"], d["totals"]["latest"], [(g["name"], g["nodes"]) for g in d["groups"]]'
[ "$(fed 0 summary | field 'sorted((g["region"], g["nodes"]) for g in d["groups"])')" = \
  "[('32', 4), ('33', 7)]" ] || fail "the hub's provinces: $(fed 0 summary)"
[ "$(fed 1 'nodes?limit=100' | field 'sorted(n["name"] for n in d["nodes"])')" = \
  "['hangzhou', 'school-a', 'school-b', 'school-c', 'shangcheng', 'xihu', 'zhejiang']" ] ||
  fail "浙江省 does not list exactly its subtree: $(fed 1 'nodes?limit=100' | field '[n["name"] for n in d["nodes"]]')"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url 2)/v1/federation/nodes?region=33")
[ "$code" = 403 ] || fail "江苏省 answered $code for 浙江省's nodes, not 403"
[ "$(fed 3 summary | field 'd["level"], sorted(g["region"] for g in d["groups"])')" = \
  "('county', ['3301', '330102', '330106'])" ] || fail "杭州市's summary: $(fed 3 summary)"
curl -sf "$(url 0)/metrics" | grep -q 'tiersync_federation_nodes{health="ok",tier="school"} 4' ||
  fail "the hub's /metrics lacks the per-tier aggregate: $(curl -sf "$(url 0)/metrics" | grep federation_nodes)"

step "1b. A school synced by one-shot commands (a timer, no server) shows at the hub too"
make_node school-e 12 school 320102 "$k12" "$(url 0)" "$(url 10)"
set_toml school-e sync poll_seconds 3600  # its timer's period: not down during this test
"$bin" node sync "$out/school-e" >>"$out/logs/school-e.log" 2>&1 || fail "node sync school-e"
"$bin" node sync "$out/school-e" >>"$out/logs/school-e.log" 2>&1 || fail "node sync school-e, again"
deadline=$((SECONDS + 60))
until [ "$(fed 0 'nodes?name=school-e' | field '[(n["release"], n["health"], n["parent"]) for n in d["nodes"]]')" = \
  "[('r1', 'ok', 'xuanwu')]" ]; do
  [ $SECONDS -lt $deadline ] || fail "the hub does not list school-e on r1: $(fed 0 'nodes?name=school-e')"
  sleep 1
done
echo "school-e, synced twice by 'tiersync node sync', is at the hub on r1 (via 玄武区)"

step "2. Views and downloads at the schools add up exactly at the hub"
today=$(date -u +%F)
declare -A expect_views expect_downloads
use() {  # use OFFSET VIEWS DOWNLOAD?: views of the school's first two resources, one download
  local o=$1 views=$2 i=0
  local ids
  ids=$(curl -sf "$(url "$o")/v1/catalog/search?local=1&limit=2" | field '" ".join(i["id"] for i in d["items"])')
  for id in $ids; do
    for _ in $(seq 1 "$views"); do curl -sf -o /dev/null "$(url "$o")/v1/catalog/resources/$id"; done
    expect_views[$id]=$((${expect_views[$id]:-0} + views))
    if [ $i = 0 ] && [ "$3" = 1 ]; then
      file=$(curl -sf "$(url "$o")/v1/catalog/resources/$id" | field 'd["resource"]["files"][0]["name"]')
      expect_views[$id]=$((${expect_views[$id]} + 1))  # the lookup above is a view too
      curl -sf -o /dev/null "$(url "$o")/v1/files/$id/$file"
      expect_downloads[$id]=$((${expect_downloads[$id]:-0} + 1))
    fi
    i=$((i + 1))
  done
}
use 6 3 1
use 7 2 0
use 8 4 1
use 11 5 1
expected=$(for id in "${!expect_views[@]}"; do echo "$id ${expect_views[$id]} ${expect_downloads[$id]:-0}"; done | sort)
echo "made at the schools:"
echo "$expected"
hub_usage() {
  fed 0 "usage?from=$today&to=$today&by=resource" |
    field '"\n".join(sorted("%s %s %s" % (r["key"], r["views"], r["downloads"]) for r in d["rows"]))'
}
wait_usage() {
  local deadline=$((SECONDS + 90))
  until [ "$(hub_usage)" = "$expected" ]; do
    [ $SECONDS -lt $deadline ] || fail "the hub's usage for $today $1:
$(hub_usage)
expected:
$expected"
    sleep 1
  done
}
wait_usage "does not add up"
echo "hub: per resource, exactly what the schools counted"
[ "$(fed 0 "usage?from=$today&to=$today&by=region" | field 'sorted(r["key"] for r in d["rows"])')" = \
  "['320000', '330000']" ] || fail "the hub's usage by region: $(fed 0 "usage?by=region")"

step "2b. A county and a province restart; reports are sent again: nothing counts twice"
stop_node xihu
stop_node zhejiang
start_node zhejiang 1
start_node xihu 4
sleep 15  # three report periods: every tier has reported again, whole days replace
wait_usage "changed after restarts"
echo "hub: the same counts after the restarts"

step "3. 上城区 stops: down at the hub, at 浙江省 and at 杭州市, and only there"
stop_node shangcheng
started=$SECONDS
down_at() { fed "$1" 'nodes?health=down&limit=100' | field '" ".join(sorted(n["name"] for n in d["nodes"]))'; }
until [ "$(down_at 0)" = shangcheng ] && [ "$(down_at 1)" = shangcheng ] && [ "$(down_at 3)" = shangcheng ]; do
  [ $((SECONDS - started)) -lt 90 ] ||
    fail "down at the hub: '$(down_at 0)', at 浙江省: '$(down_at 1)', at 杭州市: '$(down_at 3)'"
  sleep 1
done
echo "上城区 down at the hub, 浙江省 and 杭州市 after $((SECONDS - started)) s:"
fed 0 'nodes?name=shangcheng' | field 'd["nodes"][0]["why"], d["nodes"][0]["why_zh"]'
[ -z "$(down_at 2)" ] || fail "江苏省 shows down: $(down_at 2)"
fed 0 'history?region=330102' | field '[(e["name"], e["health"]) for e in d["events"]]' |
  grep -q "('shangcheng', 'down')" || fail "the hub's history of 上城区 has no down: $(fed 0 'history?region=330102')"
[ "$(fed 0 'nodes?name=school-c' | field 'd["nodes"][0]["health"]')" = ok ] ||
  fail "school c, below the stopped county, is not ok at the hub: $(fed 0 'nodes?name=school-c')"
[ "$(fed 0 summary | field '[(g["region"], g["down"]) for g in d["groups"]]')" = \
  "[('32', 0), ('33', 1)]" ] || fail "the hub's summary: $(fed 0 summary)"
echo "school c stays up (it reports past its county); 江苏省 sees no down node"
