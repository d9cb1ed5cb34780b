#!/usr/bin/env bash
# A parent lying about the catalog's git repository (issue 17 item 7): tests/fault_proxy
# between a school and the honest hub, the school's only route. Real processes on loopback:
#   hub (+0)  <-  proxy (+1)  <-  school (+2): parent = national = proxy
# git-tag-lie: the proxy's advertisement names every release tag wrongly (r1 = the newest
# release's tag, r2 = r1's). The school must refuse r2, keep serving r1, and still serve r1's
# catalog after a restart (its verified tag r1 is never replaced). git-bomb: the pack is a zlib
# bomb; the school refuses it by its caps and stays up. Then, with the honest hub as its
# national source, the school syncs r2.
# Usage: git_lies.sh TIERSYNC FAULT_PROXY OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
proxy_bin="$(realpath "$2")"
out="$3"
port="${TIERSYNC_TEST_PORT:-18450}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

proxy() { curl -sf "$(url 1)/_fault/$1"; }
tampered() { proxy stats | field 'd["tampered"]'; }
catalog_release() { curl -sf "$(url 2)/v1/catalog/tree" | field 'd["release"] + " " + str(d["resources"])'; }
# wait_failed_sync: until the school's last sync (after the current one) failed; prints its error.
wait_failed_sync() {
  for _ in $(seq 1 300); do
    if [ "$(status 2 | field 'd["last_sync"].get("ok")' 2>/dev/null)" = False ]; then
      status 2 | field 'd["last_sync"]["error"]'
      return 0
    fi
    sleep 0.2
  done
  fail "the school's sync did not fail: $(status 2 | field 'd["last_sync"]')"
}
restart_school() {
  stop_node school
  start_node school 2
}

step "Hub with r1, the proxy telling the truth, a school behind it (its only route)"
make_hub --resources 60 --seed 7 --size-scale 0.0003
start_hub 0
"$proxy_bin" --listen "127.0.0.1:$((port + 1))" --upstream "$(url 0)" >>"$out/logs/proxy.log" 2>&1 &
pids+=($!)
wait_http 1
make_node school 2 school 330106 'platform = k12' "$(url 1)" "$(url 1)"
start_node school 2
wait_release r1 2
before_lie="$(catalog_release)"
echo "school: serves r1 ($before_lie)"

step "git-tag-lie: the parent names r1's tag as r2 (and r1 as r2's)"
proxy "set?mode=git-tag-lie" >/dev/null
next_release r2
error=$(wait_failed_sync)
[ "$(tampered)" -gt 0 ] || fail "the proxy rotated no tags: the test proved nothing"
[ "$(served_release 2)" = r1 ] || fail "the school switched to $(served_release 2) on a lie"
grep -q "r2" <<<"$error" || fail "the failed sync does not name r2: $error"
rejections=$(status 2 | field '"\n".join(d["recent_rejections"])')
grep -q 'is release "r1", not r2' <<<"$rejections" ||
  fail "the school's status does not report the lying catalog: $rejections"
[ "$(catalog_release)" = "$before_lie" ] || fail "the school's catalog changed: $(catalog_release)"
echo "school: refused r2 ($error)"

step "The school restarts and still serves r1's catalog (its verified tag was not replaced)"
restart_school
[ "$(served_release 2)" = r1 ] || fail "after a restart the school serves $(served_release 2)"
wait_failed_sync >/dev/null
[ "$(catalog_release)" = "$before_lie" ] || fail "after a restart the catalog is $(catalog_release 2>&1 || true)"
if grep -q "catalog release r1: content does not match" "$out/logs/school.log"; then
  fail "the school's r1 was overwritten by the lie"
fi
echo "school: r1's catalog after the restart ($(catalog_release))"

step "git-bomb: the parent's pack is a zlib bomb"
proxy "set?mode=git-bomb" >/dev/null
before=$(tampered)
restart_school  # forgets the demotion of the proxy, so the school asks it again
# The first attempt after the restart may fail otherwise (the connection to the proxy cut
# while it forwards the previous process's long-polls): wait for the sync that met the bomb.
error=""
for _ in $(seq 1 120); do
  error=$(status 2 | field 'd["last_sync"].get("error", "")' 2>/dev/null || true)
  [ "$(tampered)" -gt "$before" ] && grep -q "over the cap" <<<"$error" && break
  sleep 0.5
done
[ "$(tampered)" -gt "$before" ] || fail "the proxy sent no bomb"
grep -q "over the cap" <<<"$error" || fail "the failed sync does not name the cap: $error"
[ "$(served_release 2)" = r1 ] || fail "the school switched to $(served_release 2) on a bomb"
[ "$(catalog_release)" = "$before_lie" ] || fail "the catalog changed: $(catalog_release)"
echo "school: refused the bomb ($error)"

step "An honest national source: the school syncs r2 from it"
stop_node school
sed -i "s|^national = .*|national = \"$(url 0)\"|" "$out/school/node.toml"
grep -q "^national = \"$(url 0)\"" "$out/school/node.toml" || fail "could not set the national source"
start_node school 2
wait_release r2 2 90
case "$(catalog_release)" in r2\ *) ;; *) fail "the catalog is $(catalog_release), not r2" ;; esac
echo "school: r2 from the national source ($(catalog_release))"
echo "GIT LIES CHECKS PASSED"
