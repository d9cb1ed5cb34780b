#!/usr/bin/env bash
# Hub demo: the ministry publishes a national catalog release, revises it, and shows what
# operators and auditors see. Usage: hub-demo.sh TIERSYNC_BINARY OUT_DIR
set -euo pipefail
bin="$1"
out="$2"
rm -rf "$out"
mkdir -p "$out/keys"
# shellcheck source=deploy/demo/lib.sh
source "$(dirname "$0")/lib.sh"
sign=(-k "$out/keys/targets.key" -k "$out/keys/snapshot.key" -k "$out/keys/timestamp.key")

step "Generate a sample national catalog: 3,000 resources following the platform's taxonomy"
run "$bin" demo generate "$out/catalog" --resources 3000 --seed 7 --size-scale 0.0001

step "Keys for the four TUF roles, and the hub (catalog repository, chunk store, TUF repository)"
for role in root targets snapshot timestamp; do run "$bin" keys gen "$out/keys/$role.key"; done
run "$bin" hub init "$out/hub" --root-key "$out/keys/root.key" --targets-key "$out/keys/targets.key" \
  --snapshot-key "$out/keys/snapshot.key" --timestamp-key "$out/keys/timestamp.key" \
  -k "$out/keys/root.key" "${sign[@]}"

step "Publish release r1: check every record, ingest the media, commit, tag, sign"
run "$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" \
  --publisher "国家智慧教育平台 发布员 <publish@hub.example.edu.cn>" -m "First release"

step "Publishing the same input again changes nothing"
run "$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" \
  --publisher "国家智慧教育平台 发布员 <publish@hub.example.edu.cn>"

step "A revision: edits, re-cut videos, re-placed and retired resources, new ones; publish r2"
run "$bin" demo generate "$out/catalog" --next-release
run "$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" \
  --publisher "国家智慧教育平台 发布员 <publish@hub.example.edu.cn>" -m "Autumn term update"

step "What operators see"
run "$bin" catalog log --repo "$out/hub"
run "$bin" catalog diff --repo "$out/hub" r1 r2 | tail -n 4
run "$bin" catalog ls --repo "$out/hub" --filter 'board = 专题教育 and priority' | tail -n 4
run "$bin" catalog search --repo "$out/hub" 古诗 | tail -n 3

step "Stock git reads the catalog repository"
run git clone -q "$out/hub/catalog.git" "$out/catalog-clone"
run git -C "$out/catalog-clone" log --format='%h %an <%ae> %s'

step "An auditor checks the repository against the signed content digest"
run "$bin" catalog verify --repo "$out/hub"

step "Someone rewrites a record and moves the tag: the check names the file"
record=$(cd "$out/catalog-clone" && git ls-files resources | sed -n 1p)
sed -i 's/"title": "/"title": "篡改 /' "$out/catalog-clone/$record"
git -C "$out/catalog-clone" -c user.name=x -c user.email=x@x commit -qam "tamper"
git -C "$out/catalog-clone" -c user.name=x -c user.email=x@x tag -f -a r2 -m forged >/dev/null
git -C "$out/catalog-clone" push -q -f origin main r2
set +e
run "$bin" catalog verify --repo "$out/hub"; echo "(exit code $?)"
set -e

printf '\nHub demo finished. Everything is in %s; nothing is left running.\n' "$out"
