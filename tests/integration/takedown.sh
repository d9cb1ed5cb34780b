#!/usr/bin/env bash
# Takedown on real processes (issue 22, check 1; node/takedown.h): a hub, a province that
# subscribes to nothing of its own, and a school polling every 5 s (and woken by push).
#   1. `hub retract` of a resource the school mirrors and of the file digest of one it only
#      holds in its proxy cache: within one check period the school answers 410 with the
#      reason for the files, the open and content URLs, the catalog says "withdrawn", the
#      cached copy is dropped (figure: seconds from the signed retraction to the first 410);
#   2. the bytes are gone: the chunk index of the withdrawn file is no longer in the school's
#      or the province's store after the garbage collection that follows the switch (and was
#      there before: the negative control);
#   3. a retraction signed by a province's delegated role for national content is refused:
#      the school keeps serving it and says so in its status;
#   4. the next catalog release keeps the retraction in force; `hub retract --lift` brings the
#      resource back;
#   and a retraction naming nothing in the signed release (a mistyped id) is refused unsigned.
# The hub serves its own users too (hub/hub_users.h, issue 20): search, a file and a range of it
# before the takedown, 410 for the withdrawn file and its content URL (a direct TUF client's
# too) right after, the file back after the lift.
# Usage: takedown.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18640}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

# code OFFSET PATH: the HTTP status of a users' GET.
code() { curl -s -o /dev/null -w '%{http_code}' "$(url "$1")$2"; }
# index_of NODE TARGET_PATH: the chunk-index id the node's current release lists for the path.
index_of() {
  awk -F'\t' -v p="$2" '$4 == p { print $1 }' "$out/$1/releases/$(cat "$out/$1/CURRENT")/files.tsv"
}
# wait_code OFFSET PATH CODE SECONDS: until the GET answers CODE.
wait_code() {
  local deadline=$((SECONDS + $4))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(code "$1" "$2")" = "$3" ] && return 0
    sleep 0.1
  done
  fail "$(url "$1")$2 did not answer $3 within $4 s (it answers $(code "$1" "$2"))"
}

step "Hub r1; a province with no subscription of its own; a school"
hub_province_school 21
wait_release r1 1 60

# X: a resource the school mirrors; Y: one it does not (served through the proxy cache);
# Z: another mirrored one, for the province's retraction.
read -r x_id x_name z_id < <(python3 - "$(url 2)" <<'EOF'
import json, sys, urllib.request
base = sys.argv[1]
items = json.load(urllib.request.urlopen(base + "/v1/catalog/search?local=1&limit=500"))["items"]
ids = [i["id"] for i in items if i["files"] > 0]
x = json.load(urllib.request.urlopen(base + "/v1/catalog/resources/" + ids[0]))["resource"]
print(ids[0], x["files"][0]["name"], ids[1])
EOF
)
read -r y_id y_name y_sha < <(python3 - "$(url 2)" <<'EOF'
import json, sys, urllib.request
base = sys.argv[1]
items = json.load(urllib.request.urlopen(base + "/v1/catalog/search?limit=500"))["items"]
y = next(i for i in items if not i["local"] and i["files"] > 0 and not i["link"])
f = json.load(urllib.request.urlopen(base + "/v1/catalog/resources/" + y["id"]))["resource"]["files"][0]
print(y["id"], f["name"], f["sha256"])
EOF
)
x_path="national/$x_id/$x_name"
x_index=$(index_of school "$x_path")
[ -n "$x_index" ] || fail "the school's files.tsv does not list $x_path"
[ "$(code 2 "/v1/indexes/$x_index")" = 200 ] || fail "the school does not hold $x_path's chunk index"
# The province mirrors its school's subscription once the school has reported it.
wait_code 1 "/v1/indexes/$x_index" 200 60
[ "$(code 2 "/v1/files/$x_id/$x_name")" = 200 ] || fail "the school does not serve $x_path"
[ "$(code 2 "/v1/files/$y_id/$y_name")" = 200 ] || fail "the school does not proxy $y_id/$y_name"
cached=$(status 2 | field 'd["serving"]["cache"]["files"]')
[ "$cached" -ge 1 ] || fail "the proxied file is not in the school's cache"

step "The national platform serves its own users: search, a file, a range"
curl -sf "$(url 0)/v1/catalog/search?limit=500" | field '[i["id"] for i in d["items"]]' \
  >"$out/hub-search.txt" || fail "the hub's search failed"
grep -q "$x_id" "$out/hub-search.txt" || fail "the hub's search does not list $x_id"
[ "$(code 0 "/v1/files/$x_id/$x_name")" = 200 ] || fail "the hub does not serve $x_path to users"
[ "$(curl -sf -r 100-1123 "$(url 0)/v1/files/$x_id/$x_name" -o "$out/hub-range" -w '%{http_code}')" = 206 ] ||
  fail "the hub does not answer a range with 206"
curl -sf -r 100-1123 "$(url 2)/v1/files/$x_id/$x_name" -o "$out/school-range"
cmp -s "$out/hub-range" "$out/school-range" || fail "the hub's range is not the school's bytes"
[ "$(stat -c %s "$out/hub-range")" = 1024 ] || fail "the hub's range is not 1024 bytes"
[ "$(status 0 | field 'd["tier"], d["current"]["release"]')" = "('national', 'r1')" ] ||
  fail "the hub's status does not say national r1: $(status 0 | field 'd.get("current")')"

step "0. A retraction that names nothing in the signed release (a typo) is refused"
before=$(cat "$out/hub/tuf/metadata/timestamp.json")
# shellcheck disable=SC2046
if "$bin" hub retract "$out/hub" $(sign_keys) --resource k12-no-such-id --reason typo 2>"$out/typo.err"; then
  fail "hub retract of an unknown resource succeeded"
fi
grep -q "has no resource k12-no-such-id" "$out/typo.err" || fail "the refusal does not say why: $(cat "$out/typo.err")"
[ "$(cat "$out/hub/tuf/metadata/timestamp.json")" = "$before" ] || fail "a refused retraction published metadata"

step "1. The hub retracts $x_id and the digest of $y_id/$y_name"
# shellcheck disable=SC2046
"$bin" hub retract "$out/hub" $(sign_keys) --sha256 "$y_sha" --reason "文件含有错误内容" >/dev/null ||
  fail "hub retract --sha256"
start=$(date +%s.%N)
# shellcheck disable=SC2046
"$bin" hub retract "$out/hub" $(sign_keys) --resource "$x_id" --reason "版权争议，暂停使用" >/dev/null ||
  fail "hub retract --resource"
wait_code 2 "/v1/files/$x_id/$x_name" 410 20
took=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
echo "withdrawn at the school ${took} s after the retraction was signed (poll period 5 s)"
curl -s "$(url 2)/v1/files/$x_id/$x_name" | grep -c "版权争议" >/dev/null || fail "the 410 does not give the reason"
[ "$(code 2 "/v1/open/$x_id")" = 410 ] || fail "/v1/open of a withdrawn resource: $(code 2 "/v1/open/$x_id")"
[ "$(code 2 "/v1/resolve/$x_id")" = 410 ] || fail "/v1/resolve of a withdrawn resource"
content_url=$(curl -sf "$(url 2)/v1/catalog/resources/$x_id" | field 'd["resource"]["files"][0]["content_url"]')
[ "$(code 2 "$content_url")" = 410 ] || fail "the content URL of a withdrawn file: $(code 2 "$content_url")"
curl -sf "$(url 2)/v1/catalog/resources/$x_id" | field 'd["resource"]["withdrawn"]["reason"]' |
  grep -q "版权争议" || fail "the catalog does not say the resource was withdrawn"
curl -sf "$(url 2)/v1/catalog/search?limit=500" |
  field '[i["id"] for i in d["items"] if "withdrawn" in i]' | grep -q "$x_id" ||
  fail "search does not mark the resource withdrawn"
wait_code 2 "/v1/files/$y_id/$y_name" 410 20
[ "$(status 2 | field 'd["serving"]["cache"]["files"]')" -lt "$cached" ] ||
  fail "the withdrawn file is still in the proxy cache"
wait_code 1 "/v1/files/$x_id/$x_name" 410 20  # the province too
wait_code 0 "/v1/files/$x_id/$x_name" 410 20  # and the national platform's own users
[ "$(code 0 "$content_url")" = 410 ] || fail "the hub serves the withdrawn file's content URL"
[ "$(status 2 | field 'd["serving"]["takedowns"]["withdrawn_resources"]')" = 1 ] ||
  fail "status: $(status 2 | field 'd["serving"]["takedowns"]')"

step "2. The bytes are gone after the garbage collection that follows the switch"
wait_index_gone() {
  local deadline=$((SECONDS + 20))
  while [ $SECONDS -lt $deadline ]; do
    [ "$(code "$1" "/v1/indexes/$x_index")" = 404 ] && return 0
    sleep 0.2
  done
  fail "$(url "$1") still holds the chunk index of withdrawn $x_path"
}
wait_index_gone 2
wait_index_gone 1
status 2 | field 'd["gc"]["last"]["withdrawn_files"]' | grep -qv '^0$' ||
  fail "the school's last GC kept no withdrawn file out: $(status 2 | field 'd["gc"]["last"]')"
check_files 2

step "3. A province's delegated role retracting national content is refused"
"$bin" keys gen "$out/keys/province.key" >/dev/null
# shellcheck disable=SC2046
"$bin" repo delegate "$out/hub/tuf" $(sign_keys) -k "$out/keys/province.key" --to 330000 \
  --delegate-key "$out/keys/province.key.pub.json" --path 'regions/330000/*/*' >/dev/null ||
  fail "repo delegate"
ts_before=$(status 2 | field 'd["current"]["version"]')
"$bin" repo retract "$out/hub/tuf" --role 330000 -k "$out/keys/province.key" \
  -k "$out/keys/snapshot.key" -k "$out/keys/timestamp.key" --resource "$z_id" \
  --reason "not ours to withdraw" >/dev/null || fail "repo retract --role 330000"
deadline=$((SECONDS + 20))
until status 2 | field 'd["serving"]["takedowns"]["refused"]' | grep -q "role 330000"; do
  [ $SECONDS -lt $deadline ] || fail "the school does not report the refused retraction: $(status 2 | field 'd["serving"]')"
  sleep 0.2
done
[ "$(status 2 | field 'd["current"]["version"]')" -gt "$ts_before" ] || fail "no new metadata"
[ "$(code 2 "/v1/files/$z_id/$(curl -sf "$(url 2)/v1/catalog/resources/$z_id" |
  field 'd["resource"]["files"][0]["name"]')")" = 200 ] || fail "the province's retraction took national content down"
grep -q "role 330000's retraction of resource $z_id reaches outside its namespace" "$out/logs/school.log" ||
  fail "the school's log does not say the retraction was refused"

step "4. The next release keeps the retraction; lifting it brings the resource back"
next_release r2
wait_release r2 2 120
[ "$(code 2 "/v1/files/$x_id/$x_name")" = 410 ] || fail "r2 served the withdrawn resource again"
# shellcheck disable=SC2046
"$bin" hub retract "$out/hub" $(sign_keys) --resource "$x_id" --lift >/dev/null || fail "hub retract --lift"
wait_code 2 "/v1/files/$x_id/$x_name" 200 60
wait_code 0 "/v1/files/$x_id/$x_name" 200 20
echo "takedown test passed"
