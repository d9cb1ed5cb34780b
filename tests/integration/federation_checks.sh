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

step "Check: the county stops; the school still serves, and syncs r3 through another source"
kill "${pids[3]}"
wait "${pids[3]}" 2>/dev/null || true
curl -sf "$(url 4)/v1/status" >/dev/null || fail "the school stopped serving when the county did"
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r3 >/dev/null
wait_for r3 4
source=$(status 4 | field 'd["last_sync"]["metadata_source"]')
echo "school synced r3 with metadata from: $source"
case "$source" in *"$(url 3)"*) fail "the school claims the stopped county served it" ;; esac
failures=$(status 4 | field '[s["failures"] for s in d["sources"] if s["url"] == sys.argv[2]][0]' "$(url 3)")
[ "$failures" -gt 0 ] || fail "status counts no failures of the stopped county"
"$bin" node status "$out/school" | grep -A1 "$(url 3)" | grep -q "last error" ||
  fail "status does not say what went wrong with the county"
echo "school status: the county failed $failures requests"

step "Check: the county comes back and is used again"
"$bin" node serve "$out/county" >>"$out/logs/county.log" 2>&1 &
pids[3]=$!
wait_for r3 3
"$bin" demo generate "$out/catalog" --next-release >/dev/null
"$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r4 >/dev/null
wait_for r4 3
for _ in $(seq 1 120); do
  source=$(status 4 | field 'd["last_sync"]["metadata_source"]')
  release=$(status 4 | field 'd["current"]["release"]')
  [ "$release" = r4 ] && case "$source" in *"$(url 3)"*) break ;; esac
  sleep 0.5
done
echo "school synced $release with metadata from: $source"
[ "$release" = r4 ] || fail "the school did not reach r4"
case "$source" in *"$(url 3)"*) ;; *) fail "the school did not go back to its county" ;; esac
echo "FEDERATION CHECKS PASSED"
