#!/usr/bin/env bash
# Real-process faults (issue 7; threats.md F3, F4, F11, F13, A3/A19): a hub, a county node and a
# school node (county first, national last) on loopback; the school's sync is run as a one-shot
# `tiersync node sync` under each fault, so its exit code and words can be checked:
#   - kill -STOP of the county (a paused parent): the school's sync gives up on it after its
#     stall timeout, takes the release from national, and says so; kill -CONT, and the county
#     is used again;
#   - fsync failing with EIO (strace -e inject): the sync fails with an I/O error, CURRENT does
#     not move, nothing is reported done; the next sync completes and the store verifies;
#   - a full disk (the school's directory on a small tmpfs, filled to leave 2 MiB while a
#     release needs megabytes): the sync fails saying so, CURRENT does not move; with the space
#     back the next sync completes (needs root for the mount; skipped otherwise);
#   - the node's clock 40 days ahead (faketime): the hub's metadata are expired for it; the sync
#     refuses them naming the expiry and the node keeps its release;
#   - a second process on a node that `node serve` holds: refused (exit 6), nothing changed.
# Usage: process_faults.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18160}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
mounted=""
trap 'kill -CONT "${node_pid[county]:-0}" 2>/dev/null || true
      if [ -n "$mounted" ]; then umount "$mounted" 2>/dev/null || true; fi
      cleanup' EXIT
trap 'exit 130' INT TERM
for tool in strace faketime; do command -v "$tool" >/dev/null || fail "$tool is not installed"; done

current() { cat "$out/school/CURRENT"; }
released() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["release"])' \
  "$out/school/releases/$(current)/release.json"; }
# school_sync [WRAPPER...]: one sync cycle of the school, JSON on stdout, exit code in $rc.
# Under a wrapper (strace, faketime) a sanitizer build is told that LeakSanitizer cannot run
# under ptrace and that libfaketime is preloaded before its runtime.
school_sync() {
  local sanitizer_env=()
  [ $# -gt 0 ] && sanitizer_env=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:verify_asan_link_order=0")
  set +e
  "${sanitizer_env[@]}" "$@" "$bin" --json node sync "$out/school" >"$out/sync.json" 2>"$out/sync.err"
  rc=$?
  set -e
}
# refused FAULT SAYS KEEP [WRAPPER...]: the school's sync under FAULT fails, its error matches
# SAYS (grep -i), CURRENT does not move and the school still serves release KEEP.
refused() {
  local fault="$1" says="$2" keep="$3" before
  shift 3
  before=$(current)
  school_sync "$@"
  echo "exit $rc: $(tail -n 1 "$out/sync.err")"
  [ "$rc" -ne 0 ] || fail "the sync succeeded despite $fault"
  grep -qi "$says" "$out/sync.err" || fail "the error does not say '$says' ($fault)"
  [ "$(current)" = "$before" ] || fail "CURRENT moved to $(current) despite $fault"
  [ "$(released)" = "$keep" ] || fail "the school does not keep $keep after $fault"
}
# recovers RELEASE FAULT: without the fault the next sync reaches RELEASE and the store verifies.
recovers() {
  school_sync
  [ "$rc" -eq 0 ] || fail "the sync after $2 exited $rc: $(tail -n 3 "$out/sync.err")"
  [ "$(released)" = "$1" ] || fail "the school does not reach $1 after $2"
  "$bin" store verify -s "$out/school/store" >/dev/null || fail "the store does not verify after $2"
}

step "A hub, a county and a school"
make_hub --resources 60 --seed 11 --size-scale 0.0003
start_hub 0
sub='platform = k12 and board = 课程教学'
make_node county 1 county 330106 "$sub" "$(url 0)"
# The school lives on its own 64 MiB tmpfs when we may mount one (root): its disk can fill up.
if [ "$(id -u)" -eq 0 ] && mkdir -p "$out/school" && mount -t tmpfs -o size=64m tiersync-test "$out/school"; then
  mounted="$out/school"
else
  echo "not root or no mount: the full-disk check will be skipped"
fi
make_node school 2 school 330106 "$sub and stage = 小学" "$(url 0)" "$(url 1)"
# A short stall timeout, so that the paused parent costs seconds, not half a minute.
sed -i 's/^stall_seconds = .*/stall_seconds = 3/' "$out/school/node.toml"
start_node county 1
wait_release r1 1
school_sync
[ "$rc" -eq 0 ] || fail "first school sync exited $rc: $(cat "$out/sync.err")"
[ "$(released)" = r1 ] || fail "the school does not serve r1"

step "F4: the school's disk is full while it syncs r2"
if [ -n "$mounted" ]; then
  # r2: the same resources with ten times larger media, so that every file changes.
  rm -rf "$out/catalog"
  "$bin" demo generate "$out/catalog" --resources 60 --seed 11 --size-scale 0.003 >/dev/null
  publish r2
  wait_release r2 1
  avail_kib=$(df -Pk "$out/school" | awk 'NR == 2 { print $4 }')
  fallocate -l $(((avail_kib - 2048) * 1024)) "$out/school/filler" || fail "cannot fill the disk"
  refused "a full disk" "no space" r1
  rm -f "$out/school/filler"
  recovers r2 "the full disk"
  echo "full disk: the sync failed naming it, CURRENT unchanged; with space: r2, the store verifies"
else
  echo "SKIPPED (needs root to mount a small tmpfs)"
  next_release r2
  wait_release r2 1
  school_sync
  [ "$rc" -eq 0 ] && [ "$(released)" = r2 ] || fail "the school does not reach r2"
fi

step "F13: the county is paused (SIGSTOP); the school takes r3 from national"
next_release r3
kill -STOP "${node_pid[county]}"
start=$SECONDS
school_sync
took=$((SECONDS - start))
kill -CONT "${node_pid[county]}"
[ "$rc" -eq 0 ] || fail "the sync with a paused parent exited $rc: $(tail -n 5 "$out/sync.err")"
[ "$(released)" = r3 ] || fail "the school does not serve r3 after the paused parent"
source=$(field 'd["metadata_source"]' <"$out/sync.json")
echo "synced r3 in $took s with metadata from: $source"
case "$source" in *"$(url 0)"*) ;; *) fail "r3 did not come from national but from '$source'" ;; esac
[ "$took" -lt 60 ] || fail "the paused parent held the sync for $took s"
wait_release r3 1
echo "county resumed and serves r3"

step "F3: fsync fails with EIO during the school's sync of r4"
next_release r4
wait_release r4 1
refused "every fsync after the first failing" "input/output error" r3 \
  strace -f -qq -o /dev/null -e trace=fsync,fdatasync -e inject=fsync,fdatasync:error=EIO:when=2+
recovers r4 "the fsync errors"
echo "after fsync EIO: CURRENT unchanged, the next sync reached r4, the store verifies"

step "A3/A19: the school's clock is 40 days ahead; the hub's metadata are expired for it"
next_release r5
wait_release r5 1
refused "a clock 40 days ahead" "expired" r4 faketime -f '+40d'
recovers r5 "the clock is right again"
echo "clock ahead: refused as expired, r4 kept; clock right: r5"

step "F11: a second process on a node that serve holds is refused"
before=$(cat "$out/county/CURRENT")
set +e
"$bin" node sync "$out/county" >/dev/null 2>"$out/second.err"
rc=$?
set -e
echo "exit $rc: $(tail -n 1 "$out/second.err")"
[ "$rc" -eq 6 ] || fail "a second process on the county exited $rc, not 6"
[ "$(cat "$out/county/CURRENT")" = "$before" ] || fail "the refused process changed CURRENT"
curl -sf "$(url 1)/v1/status" >/dev/null || fail "the county stopped serving"
echo "PROCESS FAULT CHECKS PASSED"
