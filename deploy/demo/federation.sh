#!/usr/bin/env bash
# The five-tier federation on loopback: national hub → 浙江省 (330000) → 杭州市 (330100) →
# 西湖区 (330106) → a school, each with its own subscription (nested: each tier mirrors at
# least what the tiers below it want). Publishes r1, waits until the school serves it, then
# publishes r2 and shows it propagate by push. Stops everything on exit (Ctrl-C, or at once
# with --no-wait).
# Usage: federation.sh TIERSYNC_BINARY OUT_DIR [--no-wait] [--then SCRIPT]
# --then sources SCRIPT while the federation runs (the integration test's fault scenarios).
set -euo pipefail
bin="$(realpath "$1")"
out="$2"
shift 2
wait_at_end=1
then_script=""
while [ $# -gt 0 ]; do
  case "$1" in
    --no-wait) wait_at_end=0 ;;
    --then) then_script="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
port="${TIERSYNC_DEMO_PORT:-8100}"
# shellcheck source=deploy/demo/lib.sh
source "$(dirname "$0")/lib.sh"
rm -rf "$out"
mkdir -p "$out/keys" "$out/logs"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM
sign=(-k "$out/keys/targets.key" -k "$out/keys/snapshot.key" -k "$out/keys/timestamp.key")
publisher="国家智慧教育平台 发布员 <publish@hub.example.edu.cn>"
url() { echo "http://127.0.0.1:$((port + $1))"; }

step "The national hub: keys, a 600-resource sample catalog, release r1"
for role in root targets snapshot timestamp; do "$bin" keys gen "$out/keys/$role.key" >/dev/null; done
run "$bin" hub init "$out/hub" --root-key "$out/keys/root.key" --targets-key "$out/keys/targets.key" \
  --snapshot-key "$out/keys/snapshot.key" --timestamp-key "$out/keys/timestamp.key" \
  -k "$out/keys/root.key" "${sign[@]}"
run "$bin" demo generate "$out/catalog" --resources 600 --seed 11 --size-scale 0.0003 >/dev/null
run "$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r1
"$bin" hub serve "$out/hub" --listen "127.0.0.1:$port" >"$out/logs/hub.log" 2>&1 &
pids+=($!)

step "Four nodes, each attached to the tier above it (and to national as the last resort)"
k12='platform = k12 and board = 课程教学'
declare -A sub=(
  [province]="$k12
board = 专题教育"
  [city]="$k12 and edition in (人教版, 北师大版)
board = 专题教育"
  [county]="$k12 and edition in (人教版) and grade in (1..9)"
  [school]="$k12 and edition in (人教版) and grade in (1..6)")
declare -A region=([province]=330000 [city]=330100 [county]=330106 [school]=330106)
declare -A name=([province]=浙江省教育厅 [city]=杭州市教育局 [county]=西湖区教育局 [school]=西湖区文三街小学)
i=0
parents=("$(url 0)")
for tier in province city county school; do
  i=$((i + 1))
  ups=()
  for ((k = ${#parents[@]} - 1; k >= 1; k--)); do ups+=(--upstream "${parents[$k]}"); done
  run "$bin" node init "$out/$tier" --name "${name[$tier]}" --tier "$tier" --region "${region[$tier]}" \
    --listen "127.0.0.1:$((port + i))" "${ups[@]}" --national "$(url 0)" \
    --root "$out/hub/tuf/metadata/1.root.json" --subscription "${sub[$tier]}" --poll-seconds 30 >/dev/null
  "$bin" node serve "$out/$tier" >"$out/logs/$tier.log" 2>&1 &
  pids+=($!)
  parents+=("$(url $i)")
done

# Waits until the nodes at the given offsets (default: all four) serve release $1 (at most
# 120 s each).
wait_for() {
  local release="$1" n
  shift
  for n in "${@:-1 2 3 4}"; do
    for n1 in $n; do
      for _ in $(seq 1 240); do
        # grep reads the whole answer (no -q: curl would be cut off, and pipefail would fail it).
        if curl -sf "$(url "$n1")/v1/status" | grep -c "\"release\": \"$release\"" >/dev/null; then break; fi
        sleep 0.5
      done
      curl -sf "$(url "$n1")/v1/status" | grep -c "\"release\": \"$release\"" >/dev/null || {
        echo "node $(url "$n1") did not reach $release; logs are in $out/logs" >&2
        return 1
      }
    done
  done
}
start=$(date +%s.%N)
wait_for r1
printf 'all four nodes serve r1, %.1f s after they started\n' "$(awk "BEGIN{print $(date +%s.%N) - $start}")"

step "Each tier holds exactly its subscription"
for tier in province city county school; do
  "$bin" node status "$out/$tier" | sed -n 2p | sed "s/^/$tier: /"
done

step "Publish r2 at the hub; push carries it down the five tiers"
run "$bin" demo generate "$out/catalog" --next-release >/dev/null
start=$(date +%s.%N)
run "$bin" hub publish "$out/hub" --input "$out/catalog" "${sign[@]}" --publisher "$publisher" -m r2 >/dev/null
wait_for r2 4
printf 'the school serves r2, %.1f s after hub publish started\n' "$(awk "BEGIN{print $(date +%s.%N) - $start}")"
run "$bin" node status "$out/school"

step "Stock git clones the school's catalog"
run git clone -q "$(url 4)/v1/catalog.git" "$out/school-catalog" 2>/dev/null
run git -C "$out/school-catalog" log --format='%h %an %s' | head -n 3

cat <<TXT

Five tiers are running on loopback:
  national hub   $(url 0)/v1/status
  浙江省          $(url 1)/v1/status
  杭州市          $(url 2)/v1/status
  西湖区          $(url 3)/v1/status
  school         $(url 4)/v1/status   (and /metrics)
  tiersync node status $out/school     explains a node's state
Teachers and students: open the web UI of any node in a browser, e.g. the school's
  $(url 4)/            (中文; English: $(url 4)/?lang=en)
  $(url 4)/v1/catalog/search?q=古诗   the JSON API behind it (docs/serving.md)
or the national platform's own, for users with no node above them: $(url 0)/
Logs: $out/logs.
TXT
if [ -n "$then_script" ]; then
  # shellcheck source=/dev/null
  source "$then_script"
fi
if [ "$wait_at_end" = 1 ]; then
  echo "Ctrl-C stops all five (nothing is left running)."
  wait
fi
