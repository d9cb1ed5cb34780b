#!/usr/bin/env bash
# A lying parent (issue 5, check 4): tests/fault_proxy stands between nodes and the honest hub
# and, on command, flips chunk bytes, alters target files, withholds chunks, or replays an old
# timestamp (rollback). Real processes on loopback:
#   hub (+0)  <-  proxy (+1)  <-  child (+2): parent = proxy, national = hub
#                             <-  alone (+3): the proxy is its only source
# For each fault the child must reject what is wrong, get it from the hub, say so in its
# status and log; the node that has no honest source must keep serving its last good release
# and say what is wrong; and both catch up once the proxy tells the truth again.
# Usage: lying_parent.sh TIERSYNC FAULT_PROXY OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
proxy_bin="$(realpath "$2")"
out="$3"
port="${TIERSYNC_TEST_PORT:-18120}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

proxy() { curl -sf "$(url 1)/_fault/$1"; }
tampered() { proxy stats | field 'd["tampered"]'; }
# parent_health FIELD: that field of the child's health record of the proxy.
parent_health() {
  status 2 | field '[s[sys.argv[2]] for s in d["sources"] if s["url"] == sys.argv[3]][0]' "$1" "$(url 1)"
}
restart_child() {  # forgets the demotion of the proxy, so the child asks it first again
  stop_node child
  start_node child 2
}

step "Hub with r1, the proxy telling the truth, two nodes behind it"
make_hub --resources 120 --seed 5 --size-scale 0.0003
start_hub 0
"$proxy_bin" --listen "127.0.0.1:$((port + 1))" --upstream "$(url 0)" >>"$out/logs/proxy.log" 2>&1 &
pids+=($!)
wait_http 1
sub='platform = k12 and board = 课程教学'
make_node child 2 city 330100 "$sub" "$(url 0)" "$(url 1)"
make_node alone 3 county 330106 "$sub" "$(url 1)" "$(url 1)"
start_node child 2
start_node alone 3
wait_release r1 2
wait_release r1 3
case "$(status 2 | field 'd["last_sync"]["metadata_source"]')" in
  *"$(url 1)"*) ;;
  *) fail "the child did not sync r1 through its parent" ;;
esac
echo "both nodes serve r1, through the proxy"

step "flip-chunks: every chunk from the parent has a byte flipped"
proxy "set?mode=flip-chunks" >/dev/null
next_release r2
wait_release r2 2
[ "$(tampered)" -gt 0 ] || fail "the proxy tampered with nothing: the test proved nothing"
[ "$(parent_health rejections)" -gt 0 ] || fail "the child counts no rejections of its parent"
status 2 | field '"\n".join(d["recent_rejections"])' | grep -q "do not match" ||
  fail "the child's status does not report the flipped chunks"
grep -q "REJECTED.*do not match" "$out/logs/child.log" || fail "the child's log does not report the flipped chunks"
echo "child: r2 from the hub after rejecting the parent's chunks: $(status 2 | field 'd["recent_rejections"][-1]')"
# The node without an honest source keeps serving r1 and says why it does not move.
for _ in $(seq 1 100); do
  [ "$(status 3 | field 'd["last_sync"].get("ok")')" = False ] && break
  sleep 0.2
done
[ "$(served_release 3)" = r1 ] || fail "the node with only a lying source switched to $(served_release 3)"
status 3 | field 'd["last_sync"]["error"]' | grep -q "could not be fetched" ||
  fail "the stuck node's status does not say what is wrong: $(status 3 | field 'd["last_sync"]')"
code=0
words=$("$bin" node status "$out/alone") || code=$?
grep -q "REJECTED" <<<"$words" || fail "node status does not show the rejections"
[ "$code" = 6 ] || fail "node status exits $code for a node whose last sync found no source, not 6"
echo "alone: still serving r1; status says: $(status 3 | field 'd["last_sync"]["error"]')"

step "flip-targets: the parent's target files (here: the signed catalog manifest) are altered"
proxy "set?mode=flip-targets" >/dev/null
before=$(tampered)
restart_child
next_release r3
wait_release r3 2
[ "$(tampered)" -gt "$before" ] || fail "the proxy altered no target"
status 2 | field '"\n".join(d["recent_rejections"])' | grep -q "manifest.txt: sha256 mismatch" ||
  fail "the child's status does not report the altered manifest"
grep -q "REJECTED.*manifest.txt: sha256 mismatch" "$out/logs/child.log" ||
  fail "the child's log does not report the altered manifest"
case "$(status 2 | field 'd["last_sync"]["metadata_source"]')" in
  *"$(url 0)"*) ;;
  *) fail "the child took r3's metadata from the lying parent" ;;
esac
# (Its chunks are honest in this mode, so the node alone may complete r2 now; never r3, whose
# manifest it only ever gets altered.)
case "$(served_release 3)" in r1 | r2) ;; *) fail "the node with only a lying source switched to $(served_release 3)" ;; esac
echo "child: r3 with metadata from the hub after rejecting the parent's manifest"

step "withhold-chunks: the parent answers the first chunk of every batch 'absent'"
proxy "set?mode=withhold-chunks" >/dev/null
before=$(tampered)
restart_child
next_release r4
wait_release r4 2
[ "$(tampered)" -gt "$before" ] || fail "the proxy withheld nothing"
[ "$(parent_health lacked)" -gt 0 ] || fail "the child's status does not count what its parent lacked"
grep -q "lacked" "$out/logs/child.log" || fail "the child's log does not say its parent lacked chunks"
case "$(served_release 3)" in r1 | r2) ;; *) fail "the node with only a withholding source switched to $(served_release 3)" ;; esac
echo "child: r4, the withheld chunks from the hub (parent lacked $(parent_health lacked) objects)"

step "rollback: the parent replays r1's timestamp"
proxy "set?mode=rollback" >/dev/null
before=$(tampered)
restart_child
next_release r5
wait_release r5 2
[ "$(tampered)" -gt "$before" ] || fail "the proxy replayed nothing"
case "$(status 2 | field 'd["last_sync"]["metadata_source"]')" in
  *"$(url 0)"*) ;;
  *) fail "the child took r5's metadata from the lying parent" ;;
esac
status 2 | field '"\n".join(d["recent_rejections"])' | grep -q "rollback" ||
  fail "the child's status does not report the rollback"
grep -q "REJECTED.*rollback" "$out/logs/child.log" || fail "the child's log does not report the rollback"
echo "child: r5 from the hub; status says: $(status 2 | field '[r for r in d["recent_rejections"] if "rollback" in r][-1]')"

step "The proxy tells the truth again: the stuck node catches up, nothing was lost"
proxy "set?mode=pass" >/dev/null
wait_release r5 3 90
[ "$(status 3 | field 'd["last_sync"]["ok"]')" = True ] || fail "the caught-up node reports a failed sync"
"$bin" node status "$out/alone" >/dev/null || fail "node status fails for a healthy node"
echo "alone: r5"
echo "LYING PARENT CHECKS PASSED"
