#!/usr/bin/env bash
# systemctl reload of a node (SIGHUP, issue 18): node.toml is read again; the sync loop's
# settings apply at once, the others are named as needing a restart. Real processes on
# loopback: hub (+0) <- school (+1), which polls only once an hour, so that whatever it
# syncs after the signal it syncs because of the signal.
#   1. the school serves r1 for its subscription (专题教育 only);
#   2. node.toml: the subscription becomes `all` and the listen port changes; SIGHUP: the
#      school serves every file within a minute, keeps its port, and status says what applied
#      and what waits for a restart;
#   3. node.toml broken (an unknown board); SIGHUP: nothing changes, the error is in status,
#      the node keeps serving;
#   4. SIGTERM: the node exits 0.
# Usage: reload.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18520}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

files() { status 1 | field '(d["current"] or {}).get("files", 0)'; }
toml="$out/school/node.toml"

step "Hub with r1; a school subscribed to 专题教育 only, polling once an hour, serves r1"
make_hub --resources 40 --seed 11 --size-scale 0.0002
start_hub 0
make_node school 1 school 330106 'board = 专题教育' "$(url 0)"
sed -i 's/^poll_seconds = .*/poll_seconds = 3600/' "$toml"
start_node school 1
wait_release r1 1
before=$(files)
[ "$before" -gt 0 ] || fail "the school serves no file of 专题教育 (the test would prove nothing)"

step "Subscription widened to all and listen port changed; SIGHUP"
sed -i 's/^rules = .*/rules = "all"/' "$toml"
sed -i "s/^listen = .*/listen = \"127.0.0.1:$((port + 9))\"/" "$toml"
grep -q '^rules = "all"' "$toml" || fail "the test could not edit $toml"
kill -HUP "${node_pid[school]}"
deadline=$((SECONDS + 60))
while [ "$(files)" -le "$before" ] && [ $SECONDS -lt $deadline ]; do sleep 0.3; done
after=$(files)
[ "$after" -gt "$before" ] ||
  fail "the school still serves $after files a minute after the reload: $(status 1 | field 'd.get("reload")')"
applied=$(status 1 | field 'd["reload"]["applied"]')
restart=$(status 1 | field 'd["reload"]["need_restart"]')
[[ "$applied" == *subscription* ]] || fail "status does not say the subscription applied: $applied"
[[ "$restart" == *listen* ]] || fail "status does not say listen needs a restart: $restart"
[[ "$applied" != *listen* ]] || fail "listen reported as applied: $applied"
curl -sf -o /dev/null "$(url 1)/v1/status" || fail "the school left its port on reload"
grep -q "reload: applied" "$out/logs/school.log" || fail "the reload is not in the node's log"
echo "school: $before -> $after files; applied $applied; restart needed for $restart"

step "A broken node.toml: SIGHUP changes nothing and says why"
sed -i 's/^rules = .*/rules = "board = 不存在的板块"/' "$toml"
kill -HUP "${node_pid[school]}"
deadline=$((SECONDS + 20))
until status 1 | field 'd["reload"].get("error", "")' | grep -q "不存在的板块"; do
  [ $SECONDS -lt $deadline ] || fail "status shows no reload error: $(status 1 | field 'd["reload"]')"
  sleep 0.2
done
[ "$(files)" = "$after" ] || fail "a broken node.toml changed what the school serves"
[ "$(served_release 1)" = r1 ] || fail "the school stopped serving r1"

step "SIGTERM: the node exits 0"
kill -TERM "${node_pid[school]}"
code=0
wait "${node_pid[school]}" || code=$?
[ "$code" = 0 ] || fail "node serve exited $code on SIGTERM"
step "OK"
