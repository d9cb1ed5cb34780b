#!/usr/bin/env bash
# Scrub and repair on real processes (issue 22): a hub, a province and a school under it.
#   a. kill -9 the school, flip a byte of a chunk in its pack file, start it again: it sees the
#      unclean shutdown (RUNNING left behind), checks its store at once, finds exactly that
#      chunk, fetches it again from its sources (verified) and replaces it — status, metrics
#      and `store verify` say so, and every local file is served with its SHA-256;
#   b. a clean stop removes RUNNING (the next start does not check first);
#   c. `tiersync node scrub` on the stopped school with another flipped byte, a rotten chunk
#      index (in the LMDB file) and a rotten metadata file of the served release (hard-linked
#      with trusted/), and no source reachable (negative control): all three found and kept —
#      exit 3, listed; with the province back (the hub still down) the same command replaces
#      each from the province, verified: exit 0, `store verify` clean, the school serves the
#      province's metadata bytes and every file again.
# Usage: scrub.sh TIERSYNC OUT_DIR   (ports from $TIERSYNC_TEST_PORT)
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
port="${TIERSYNC_TEST_PORT:-18570}"
# shellcheck source=tests/integration/nodes_lib.sh
source "$(dirname "$0")/nodes_lib.sh"
rm -rf "$out"
trap cleanup EXIT
trap 'exit 130' INT TERM

# flip PACK N: flips a byte in the middle of the payload of the N-th record (from 1) of a pack
# file (docs/formats/chunk-store.md: 16-byte header, records of a 56-byte header — stored_len
# at offset 8 — and the payload); prints the chunk id (hex).
flip() {
  python3 - "$1" "$2" <<'EOF'
import struct, sys
path, n = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    at = 16
    for _ in range(n - 1):
        f.seek(at + 8)
        at += 56 + struct.unpack("<I", f.read(4))[0]
    f.seek(at + 8)
    stored = struct.unpack("<I", f.read(4))[0]
    f.seek(at + 16)
    chunk_id = f.read(32).hex()
    f.seek(at + 56 + stored // 2)
    b = f.read(1)[0]
    f.seek(at + 56 + stored // 2)
    f.write(bytes([b ^ 0x20]))
print(chunk_id)
EOF
}

step "A hub, a province and a school; r1 reaches the school"
hub_province_school 3
pack="$out/school/store/packs/pack-00000001.tsp"
[ -f "$pack" ] || fail "the school has no pack file"
[ -f "$out/school/RUNNING" ] || fail "a serving node has no RUNNING marker"
[ "$(status 2 | field 'd["scrub"].get("last") is None')" = True ] ||
  fail "a node that started cleanly checked its store: $(status 2 | field 'd["scrub"]')"

step "a. kill -9, a flipped byte, a restart: the store is checked and the chunk replaced"
kill -KILL "${node_pid[school]}"
wait "${node_pid[school]}" 2>/dev/null || true
[ -f "$out/school/RUNNING" ] || fail "RUNNING is gone after kill -9"
damaged=$(flip "$pack" 2)
start_node school 2
grep -q "did not stop cleanly: checking the store" "$out/logs/school.log" ||
  fail "the school did not log the unclean shutdown"
deadline=$((SECONDS + 90))
until [ "$(status 2 | field 'd["scrub"].get("last", {}).get("repaired", 0)')" = 1 ]; do
  [ $SECONDS -lt $deadline ] || fail "no repair within 90 s: $(status 2 | field 'd["scrub"]')"
  sleep 0.5
done
scrub=$(status 2 | field 'd["scrub"]["last"]')
echo "status scrub.last: $scrub"
s() { status 2 | field "d['scrub']['last'][$1]"; }
[ "$(s '"trigger"')" = "unclean shutdown" ] || fail "trigger: $scrub"
[ "$(s '"damaged"')" = "['$damaged']" ] || fail "expected exactly chunk $damaged damaged: $scrub"
[ "$(s '"remaining"')" = 0 ] || fail "problems remain: $scrub"
[ "$(s '"chunks_checked"')" -gt 10 ] || fail "too few chunks checked: $scrub"
[ "$(metric "$(url 2)" tiersync_scrub_repaired_chunks_total)" = 1 ] ||
  fail "tiersync_scrub_repaired_chunks_total is not 1"
[ "$(metric "$(url 2)" tiersync_scrub_unrepaired_chunks)" = 0 ] ||
  fail "tiersync_scrub_unrepaired_chunks is not 0"
"$bin" store verify -s "$out/school/store" >"$out/verify-a.txt" 2>&1 ||
  fail "store verify after the repair: $(cat "$out/verify-a.txt")"
check_files 2
# The province rolls the school's subscription up: it holds the school's files (step c).
school_files=$(status 2 | field 'd["current"]["files"]')
deadline=$((SECONDS + 60))
until [ "$(status 1 | field '(d["current"] or {}).get("files", 0)')" -ge "$school_files" ]; do
  [ $SECONDS -lt $deadline ] || fail "the province does not hold the school's $school_files files"
  sleep 0.5
done

step "b. a clean stop removes RUNNING"
stop_node school
[ ! -e "$out/school/RUNNING" ] || fail "RUNNING is left after a clean stop"

# rot_index DATA_MDB HEX_BYTES: flips the middle byte of every copy of those bytes in the
# LMDB file (LMDB keeps no checksum: a reader gets the rotten bytes).
rot_index() {
  python3 - "$1" "$2" <<'EOF'
import sys
path, needle = sys.argv[1], bytes.fromhex(sys.argv[2])
data = bytearray(open(path, "rb").read())
at, n = data.find(needle), 0
while at >= 0:
    data[at + len(needle) // 2] ^= 0x20
    n += 1
    at = data.find(needle, at + 1)
if n == 0:
    sys.exit("the chunk index is not in " + path)
open(path, "r+b").write(data)
EOF
}
# rot_file PATH: the middle byte becomes '#', in place (hard links share it).
rot_file() {
  python3 - "$1" <<'EOF'
import sys
with open(sys.argv[1], "r+b") as f:
    data = bytearray(f.read())
    m = len(data) // 2
    data[m] = ord("$") if data[m] == ord("#") else ord("#")
    f.seek(0)
    f.write(data)
EOF
}

step "c. node scrub with no source reachable: found, kept, exit 3 (negative control)"
release="$out/school/releases/$(cat "$out/school/CURRENT")"
index_id=$(awk -F'\t' 'NR == 2 { print $1 }' "$release/files.tsv")
index_hex=$(curl -sf "$(url 1)/v1/indexes/$index_id" | python3 -c 'import sys; print(sys.stdin.buffer.read().hex())')
[ -n "$index_hex" ] || fail "the province does not serve chunk index $index_id"
targets=$(cd "$release/metadata" && ls | grep -E '^[0-9]+\.targets\.json$' | sort -n | tail -1)
stop_node province
kill "${pids[0]}"  # the hub
wait "${pids[0]}" 2>/dev/null || true
damaged=$(flip "$pack" 3)
rot_index "$out/school/store/index/data.mdb" "$index_hex"
rot_file "$release/metadata/$targets"
cmp -s "$release/metadata/$targets" "$out/school/trusted/targets.json" ||
  fail "the release's $targets is not trusted/targets.json (no hard link?)"
set +e
"$bin" --json node scrub "$out/school" >"$out/scrub-1.json" 2>"$out/scrub-1.err"
rc=$?
set -e
cat "$out/scrub-1.err"
[ "$rc" = 3 ] || fail "node scrub with no source exited $rc, expected 3: $(cat "$out/scrub-1.json")"
[ "$(field 'd["damaged"]' <"$out/scrub-1.json")" = "['$damaged']" ] ||
  fail "node scrub did not name chunk $damaged: $(cat "$out/scrub-1.json")"
[ "$(field 'd["unrepaired"]' <"$out/scrub-1.json")" = "['$damaged']" ] ||
  fail "the chunk is not listed as unrepaired: $(cat "$out/scrub-1.json")"
[ "$(field 'd["unrepaired_indexes"]' <"$out/scrub-1.json")" = "['$index_id']" ] ||
  fail "the rotten chunk index is not listed: $(cat "$out/scrub-1.json")"
[ "$(field '[p["id"] for p in d["metadata_unrepaired"]]' <"$out/scrub-1.json")" = \
  "['releases/$(basename "$release")/metadata/$targets']" ] ||
  fail "the rotten metadata file is not listed: $(cat "$out/scrub-1.json")"
if "$bin" store verify -s "$out/school/store" >/dev/null 2>&1; then
  fail "store verify finds nothing wrong with the damaged store"
fi

step "c. the province back, the hub still down: node scrub replaces it from the province"
start_node province 1
"$bin" --json node scrub "$out/school" >"$out/scrub-2.json" ||
  fail "node scrub with the province up failed: $(cat "$out/scrub-2.json")"
[ "$(field '(d["repaired"], d["indexes_repaired"], d["metadata_repaired"], d["remaining"])' \
  <"$out/scrub-2.json")" = "(1, 1, 1, 0)" ] ||
  fail "node scrub did not replace the chunk, the index and the metadata file: $(cat "$out/scrub-2.json")"
"$bin" store verify -s "$out/school/store" >"$out/verify-c.txt" 2>&1 ||
  fail "store verify after node scrub: $(cat "$out/verify-c.txt")"
start_node school 2
check_files 2
curl -sf "$(url 2)/v1/metadata/$targets" >"$out/school-targets.json"
curl -sf "$(url 1)/v1/metadata/$targets" >"$out/province-targets.json"
cmp -s "$out/school-targets.json" "$out/province-targets.json" ||
  fail "the school serves other bytes than the province for $targets"
echo "scrub test passed"
