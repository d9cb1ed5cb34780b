# shellcheck shell=bash
# Sourced by deploy/demo/federation.sh --then while the five tiers run (ctest: federation).
# Uses the demo's $bin, $out, $sign, $publisher, url(), wait_for(), sub[] and pids[]. Every
# check exits non-zero with a message when it fails.
fail() { echo "FEDERATION CHECK FAILED: $*" >&2; exit 1; }
status() { curl -sf "$(url "$1")/v1/status"; }
field() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$@"; }

step "Check: every node holds exactly its subscription (counted from the hub's catalog)"
prev=1000000
n=0
for tier in province city county school; do
  n=$((n + 1))
  expected=$(TIERSYNC_NO_PROGRESS=1 "$bin" --json catalog ls --repo "$out/hub" --filter "${sub[$tier]}" |
    python3 -c 'import json,sys; print(sum(r["files"] for r in json.load(sys.stdin) if not r["retired"] and not r["link"]))')
  got=$(status $n | field 'd["current"]["files"]')
  echo "$tier: $got files served, $expected expected"
  [ "$got" = "$expected" ] || fail "$tier serves $got files, its subscription selects $expected"
  [ "$got" -le "$prev" ] || fail "$tier holds more than the tier above it"
  prev=$got
done

step "Check: a file at the school is byte-identical to the hub's (TUF client over HTTP)"
id=$("$bin" --json catalog ls --repo "$out/hub" --filter "${sub[school]}" | python3 -c 'import json,sys; print([r["id"] for r in json.load(sys.stdin) if r["files"] and not r["retired"]][0])')
file=$("$bin" --json catalog show --repo "$out/hub" "$id" | field 'd["files"][0]["name"]')
sha=$("$bin" --json catalog show --repo "$out/hub" "$id" | field 'd["files"][0]["sha256"]')
"$bin" tuf-client --metadata-dir "$out/client" init "$out/hub/tuf/metadata/1.root.json"
"$bin" tuf-client --metadata-dir "$out/client" --metadata-url "$(url 4)/v1/metadata" \
  --target-base-url "$(url 4)/v1/targets" --target-dir "$out/client-targets" \
  --target-name "national/$id/$file" download
got=$(sha256sum "$out/client-targets/"* | cut -c1-64)
[ "$got" = "$sha" ] || fail "the school's national/$id/$file has SHA-256 $got, the hub signed $sha"
echo "national/$id/$file from the school: SHA-256 matches the hub's record"

step "Check: an incremental release moves only changed chunks, on every edge"
# For each node: /metrics before and after r3. A node must fetch exactly the chunk bytes its
# plan named, all of them from its parent, and the plan may name at most the bytes of the
# resources it wants that are new to it or changed (computed here from the hub's catalog).
# The parent's batch endpoint must have sent those bytes (plus frame headers).
chunk_bytes() { curl -sf "$(url "$1")/metrics" | awk -v src="${2:-}" '
  $1 ~ /^tiersync_sync_chunk_bytes_total[{]/ && index($1, src) { v += $2 } END { print v + 0 }'; }
served_batch() { metric "$(url "$1")" tiersync_http_response_bytes_total 'endpoint="batch"'; }
metric() { curl -sf "$1/metrics" | awk -v name="$2" -v label="${3:-}" \
  '$1 ~ "^"name"([{]|$)" && index($1, label) { v = $2 } END { print v + 0 }'; }
declare -A before_plan before_all before_parent before_served
for n in 0 1 2 3 4; do
  before_served[$n]=$(served_batch $n)
  [ "$n" = 0 ] && continue
  before_plan[$n]=$(metric "$(url $n)" tiersync_sync_planned_bytes_total)
  before_all[$n]=$(chunk_bytes $n)
  before_parent[$n]=$(chunk_bytes $n "source=\"$(url $((n - 1)))\"")
done
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r3 >/dev/null
wait_for r3
changed=$("$bin" --json catalog diff --repo "$out/hub" r2 r3 | field '" ".join(d["added"] + d["changed"])')
n=0
for tier in province city county school; do
  n=$((n + 1))
  bound=$(python3 - "$changed" \
    <("$bin" --json catalog ls --repo "$out/hub" --release r2 --filter "${sub[$tier]}") \
    <("$bin" --json catalog ls --repo "$out/hub" --release r3 --filter "${sub[$tier]}") <<'PY'
import json, sys
changed = set(sys.argv[1].split())
old = {r["id"] for r in json.load(open(sys.argv[2])) if not r["retired"]}
print(sum(r["bytes"] for r in json.load(open(sys.argv[3]))
          if not r["retired"] and (r["id"] in changed or r["id"] not in old)))
PY
)
  plan=$(($(metric "$(url $n)" tiersync_sync_planned_bytes_total) - before_plan[$n]))
  all=$(($(chunk_bytes $n) - before_all[$n]))
  parent=$(($(chunk_bytes $n "source=\"$(url $((n - 1)))\"") - before_parent[$n]))
  served=$(($(served_batch $((n - 1))) - before_served[$((n - 1))]))
  echo "$tier: planned $plan bytes (new or changed for it: $bound), fetched $all, from its parent $parent; the parent's batches sent $served"
  [ "$all" = "$plan" ] || fail "$tier fetched $all chunk bytes, its plan named $plan"
  [ "$parent" = "$all" ] || fail "$tier fetched $((all - parent)) of $all bytes from other sources than its parent"
  [ "$plan" -le "$bound" ] || fail "$tier planned $plan bytes, more than the $bound bytes of new or changed resources it wants"
  # Batches carry chunks stored compressed as zstd frames (docs/protocol.md), so the parent may
  # send fewer bytes than the chunks hold, never more than them and the framing.
  [ "$served" -gt 0 ] && [ "$served" -le $((parent + parent / 50 + 65536)) ] ||
    fail "$tier's parent sent $served batch bytes for $parent chunk bytes"
done
[ "$(($(metric "$(url 1)" tiersync_sync_planned_bytes_total) - before_plan[1]))" -gt 0 ] ||
  fail "r3 changed nothing the province wants: the check above proved nothing"

step "Check: the county stops; the school still serves, and syncs r4 through another source"
kill "${pids[3]}"
wait "${pids[3]}" 2>/dev/null || true
curl -sf "$(url 4)/v1/status" >/dev/null || fail "the school stopped serving when the county did"
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r4 >/dev/null
wait_for r4 4
source=$(status 4 | field 'd["last_sync"]["metadata_source"]')
echo "school synced r4 with metadata from: $source"
case "$source" in *"$(url 3)"*) fail "the school claims the stopped county served it" ;; esac
failures=$(status 4 | field '[s["failures"] for s in d["sources"] if s["url"] == sys.argv[2]][0]' "$(url 3)")
[ "$failures" -gt 0 ] || fail "status counts no failures of the stopped county"
"$bin" node status "$out/school" | grep -A1 "$(url 3)" | grep -q "last error" ||
  fail "status does not say what went wrong with the county"
echo "school status: the county failed $failures requests"

step "Check: the county comes back and is used again"
"$bin" node serve "$out/county" >>"$out/logs/county.log" 2>&1 &
pids[3]=$!
wait_for r4 3
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r5 >/dev/null
wait_for r5 3
# The school takes r5 from whichever source announces it first: the county, or, while the
# county is still catching up (or still backed off), the city. Either way its next cycle must
# ask the county again: the sync that switched to r5, or a later check (push or the 30 s poll).
for _ in $(seq 1 150); do
  source=$(status 4 | field 'd["last_sync"]["metadata_source"]')
  checked=$(status 4 | field 'd["last_check"]["source"]')
  release=$(status 4 | field 'd["current"]["release"]')
  [ "$release" = r5 ] && case "$source $checked" in *"$(url 3)"*) break ;; esac
  sleep 0.5
done
echo "school synced $release with metadata from: $source; its last check asked: $checked"
[ "$release" = r5 ] || fail "the school did not reach r5"
case "$source $checked" in *"$(url 3)"*) ;; *) fail "the school did not go back to its county" ;; esac
echo "FEDERATION CHECKS PASSED"
