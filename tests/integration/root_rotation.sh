#!/usr/bin/env bash
# Root rotation and nodes set up after it (issue 17 item 3). Real processes on loopback:
#   hub (+0)  <-  early (+1)   pinned at 1.root.json, synced r1 before the first rotation
#             <-  county (+2)  pinned at 2.root.json (set up after the first rotation)
#                   <- school (+3)   pinned at 1.root.json: walks 1 -> 2 through the county
#             <-  county3 (+4) pinned at 3.root.json (set up after the second rotation)
#                   <- school3 (+5)  pinned at 1.root.json: county3 cannot relay 2.root.json,
#                                    so that step comes from national — without county3
#                                    being blamed for it
# Each rotation gives root N+1 a new root key and a new timestamp key (signed by the old and
# the new root key). Checked: every node reaches the release published after the rotations
# and serves it; a node relays the root chain it holds byte for byte (from its pinned
# version on) and answers 503 for a root version below it; no honest source is counted as
# lying.
# Usage: root_rotation.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18400}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

sub='platform = k12 and board = 课程教学'
meta="$out/hub/tuf/metadata"

# init_node NAME OFFSET TIER REGION ROOT_FILE NATIONAL_URL [UPSTREAM_URL...]: make_node with
# the pinned root given.
init_node() {
  local name="$1" offset="$2" tier="$3" region="$4" root="$5"
  shift 5
  node_root="$root" make_node "$name" "$offset" "$tier" "$region" "$sub" "$@"
}

# rotate N: publishes root N (new root key and new timestamp key, signed by the old and the
# new root key); keys/root.key and keys/timestamp.key hold the new keys afterwards.
rotate() {
  local n="$1" k="$out/keys"
  "$bin" keys gen "$k/root$n.key" >/dev/null
  "$bin" keys gen "$k/timestamp$n.key" >/dev/null
  "$bin" repo rotate-root "$out/hub/tuf" --root-key "$k/root$n.key.pub.json" \
    --timestamp-key "$k/timestamp$n.key.pub.json" -k "$k/root.key" -k "$k/root$n.key" \
    -k "$k/targets.key" -k "$k/snapshot.key" -k "$k/timestamp$n.key" >/dev/null ||
    fail "repo rotate-root to version $n"
  [ -f "$meta/$n.root.json" ] || fail "rotate-root wrote no $n.root.json"
  for f in "" .pub.json; do
    cp "$k/root$n.key$f" "$k/root.key$f"
    cp "$k/timestamp$n.key$f" "$k/timestamp.key$f"
  done
}

# same_as_hub OFFSET FILE: the node at OFFSET serves metadata FILE byte for byte as the hub.
same_as_hub() {
  curl -sf "$(url "$1")/v1/metadata/$2" -o "$out/got.json" || fail "$(url "$1") does not serve $2"
  cmp -s "$out/got.json" "$meta/$2" || fail "$(url "$1") serves another $2 than the hub"
}
# http_code OFFSET FILE
http_code() { curl -s -o /dev/null -w '%{http_code}' "$(url "$1")/v1/metadata/$2"; }
# source_field OFFSET SOURCE_URL FIELD: that field of a node's health record of a source.
source_field() {
  status "$1" | field '[s[sys.argv[3]] for s in d["sources"] if s["url"] == sys.argv[2]][0]' \
    "$2" "$3"
}
no_rejections() {  # OFFSET NAME
  local n
  n=$(status "$1" | field 'sum(s["rejections"] for s in d["sources"])')
  [ "$n" = 0 ] || fail "$2 counted $n rejections of honest sources: $(status "$1" | field 'd["recent_rejections"]')"
}

step "Hub with r1; a node pinned at root 1 syncs r1, then stops"
make_hub --resources 30 --seed 7 --size-scale 0.0003
start_hub 0
init_node early 1 province 330000 "$meta/1.root.json" "$(url 0)"
start_node early 1
wait_release r1 1
stop_node early

step "Rotate root: version 2 with a new root key and a new timestamp key; publish r2"
rotate 2
next_release r2

step "A county set up with the hub's 2.root.json syncs r2 and relays the chain from 2"
init_node county 2 county 330106 "$meta/2.root.json" "$(url 0)"
start_node county 2
wait_release r2 2
same_as_hub 2 2.root.json
[ "$(http_code 2 1.root.json)" = 503 ] ||
  fail "the county answers $(http_code 2 1.root.json) for 1.root.json, below its chain: not 503"
[ "$(http_code 2 3.root.json)" = 404 ] || fail "the county answers for 3.root.json, which does not exist"
no_rejections 2 county

step "A school pinned at root 1 under the county walks 1 -> 2 from it"
init_node school 3 school 330106 "$meta/1.root.json" "$(url 0)" "$(url 2)"
start_node school 3
wait_release r2 3
case "$(status 3 | field 'd["last_sync"]["metadata_source"]')" in
  *"$(url 2)"*) ;;
  *) fail "the school did not take its metadata from the county: $(status 3 | field 'd["last_sync"]')" ;;
esac
cmp -s "$out/school/trusted/2.root.json" "$meta/2.root.json" || fail "the school does not trust root 2"
no_rejections 3 school

step "The node pinned at root 1 before the rotation reaches r2"
start_node early 1
wait_release r2 1
same_as_hub 1 1.root.json
same_as_hub 1 2.root.json
no_rejections 1 early

step "Rotate again (version 3); publish r3; every node follows"
rotate 3
next_release r3
for o in 1 2 3; do wait_release r3 "$o" 90; done
same_as_hub 2 2.root.json
same_as_hub 2 3.root.json
same_as_hub 3 1.root.json
same_as_hub 3 3.root.json

step "A county set up with 3.root.json cannot relay 1 -> 2: its school gets that step from national"
init_node county3 4 county 330108 "$meta/3.root.json" "$(url 0)"
start_node county3 4
wait_release r3 4
[ "$(http_code 4 2.root.json)" = 503 ] || fail "county3 answers $(http_code 4 2.root.json) for 2.root.json: not 503"
init_node school3 5 school 330108 "$meta/1.root.json" "$(url 0)" "$(url 4)"
start_node school3 5
wait_release r3 5
cmp -s "$out/school3/trusted/3.root.json" "$meta/3.root.json" || fail "school3 does not trust root 3"
[ "$(source_field 5 "$(url 4)" rejections)" = 0 ] ||
  fail "school3 counted county3's missing root step as a lie: $(status 5 | field 'd["recent_rejections"]')"
[ "$(source_field 5 "$(url 4)" failures)" -gt 0 ] ||
  fail "school3 never asked county3 (the test proved nothing)"
source_field 5 "$(url 4)" last_error | grep -q "root chain from version 3" ||
  fail "school3's status does not say why county3 could not help: $(source_field 5 "$(url 4)" last_error)"
no_rejections 5 school3
for o in 1 2 3 4; do no_rejections "$o" "node +$o"; done
echo "school3: r3, with 1 -> 2 from national; county3: $(source_field 5 "$(url 4)" last_error)"
step "OK"
