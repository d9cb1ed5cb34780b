# shellcheck shell=bash
# Memory comparison (issue 8 goal: a county node holding a 34,000-resource catalog peaks at
# <= 200 MiB): the sample national catalog published by a hub, a county node (西湖区, 330106)
# with a county's subscription; measured: the peak RSS of `tiersync node sync` (first sync)
# and of `tiersync node serve` after it has loaded the release and answered the catalog API
# (tree, search, a resource) and synced a next release. Sourced by bench/run.sh (see
# ingest.sh for the variables it sets). Writes BENCH_OUT/memory.md and memory.tsv.
#
# Ports (127.0.0.1): $BENCH_PORT_BASE (default 19100) +40 the hub, +41 the node.

MEMORY_GOAL_MIB=200
MEMORY_RESOURCES="${MEMORY_RESOURCES:-34000}"
MEMORY_SUBSCRIPTION='platform = k12 and board = 课程教学 and edition in (人教版) and grade in (1..9)
board = 专题教育'

bench_memory() {
  local work="$BENCH_WORK/memory" md="$BENCH_OUT/memory.md" tsv="$BENCH_OUT/memory.tsv"
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  local hub_port=$((BENCH_PORT_BASE + 40)) node_port=$((BENCH_PORT_BASE + 41))
  local hub_url="http://127.0.0.1:$hub_port" node_url="http://127.0.0.1:$node_port"
  bench_port_free "$hub_port"
  bench_port_free "$node_port"
  rm -rf "$work"
  mkdir -p "$work"

  bench_log "memory: the sample national catalog ($MEMORY_RESOURCES resources, metadata-size media)"
  "$TIERSYNC" demo generate "$work/catalog" --resources "$MEMORY_RESOURCES" --seed 7 \
    --size-scale 0.000001 >/dev/null || bench_die "tiersync demo generate failed"
  bench_keys_and_hub "$work"
  "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m r1 \
    >"$work/publish.log" 2>&1 || { tail -n 20 "$work/publish.log" >&2; bench_die "hub publish failed"; }
  bench_spawn "$work/hub-serve.log" "$TIERSYNC" hub serve "$work/hub" --listen "127.0.0.1:$hub_port"
  local hub_pid="$BENCH_SPAWNED"
  bench_wait_http "$hub_url/v1/status" 30 "$hub_pid" "$work/hub-serve.log"
  "$TIERSYNC" node init "$work/county" --name 西湖区教育局 --tier county --region 330106 \
    --listen "127.0.0.1:$node_port" --national "$hub_url" \
    --root "$work/hub/tuf/metadata/1.root.json" --subscription "$MEMORY_SUBSCRIPTION" \
    --poll-seconds 3600 >/dev/null || bench_die "tiersync node init failed"

  bench_log "memory: node sync (first release), under /usr/bin/time -v"
  /usr/bin/time -v -o "$work/sync.time" "$TIERSYNC" --json node sync "$work/county" \
    >"$work/sync.json" 2>"$work/sync.err" || { tail -n 5 "$work/sync.err" >&2; bench_die "node sync failed"; }
  local sync_kib files
  sync_kib="$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$work/sync.time")"
  files="$(bench_json_int "$work/sync.json" files)"

  bench_log "memory: node serve, the catalog API, then a next release synced by the running node"
  bench_spawn "$work/node-serve.log" "$TIERSYNC" node serve "$work/county"
  local node_pid="$BENCH_SPAWNED"
  bench_wait_http "$node_url/v1/catalog/tree" 120 "$node_pid" "$work/node-serve.log"
  local id
  id="$(curl -sf --max-time 60 "$node_url/v1/catalog/search?q=%E6%95%B0%E5%AD%A6" |
    grep -o '"id": *"[^"]*"' | head -n 1 | sed 's/.*"\([^"]*\)"$/\1/')"
  [ -n "$id" ] || bench_die "the county's search found nothing"
  curl -sf --max-time 60 -o /dev/null "$node_url/v1/catalog/resources/$id" || bench_die "GET resource failed"
  local loaded_kib
  loaded_kib="$(bench_hwm "$node_pid")"
  "$TIERSYNC" demo generate "$work/catalog" --next-release >/dev/null || bench_die "next release failed"
  "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m r2 \
    >>"$work/publish.log" 2>&1 || bench_die "hub publish r2 failed"
  local i
  for ((i = 0; i < 600; i++)); do
    curl -sf --max-time 5 "$node_url/v1/status" | grep -c '"release": *"r2"' >/dev/null && break
    sleep 0.5
  done
  [ "$i" -lt 600 ] || bench_die "the county did not reach r2 within 300 s"
  curl -sf --max-time 60 -o /dev/null "$node_url/v1/catalog/tree" || bench_die "GET tree failed"
  local serve_kib
  serve_kib="$(bench_hwm "$node_pid")"
  bench_stop "$node_pid" "$hub_pid"

  local peak_kib=$((sync_kib > serve_kib ? sync_kib : serve_kib))
  local ratio
  ratio="$(awk -v g="$MEMORY_GOAL_MIB" -v k="$peak_kib" 'BEGIN { printf "%.2f", g * 1024 / k }')"
  printf 'measure\tpeak_rss_kib\n' >"$tsv"
  printf 'node_sync_first\t%s\nnode_serve_loaded\t%s\nnode_serve_after_r2\t%s\n' \
    "$sync_kib" "$loaded_kib" "$serve_kib" >>"$tsv"
  mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
  {
    echo "# tiersync memory benchmark: a county node with the national catalog"
    echo
    bench_machine_md
    echo
    echo "Catalog: \`tiersync demo generate --resources $MEMORY_RESOURCES --seed 7 --size-scale" \
      "0.000001\`, published by \`tiersync hub publish\`. County node 西湖区 (330106), subscription" \
      "\`$(tr '\n' ';' <<<"$MEMORY_SUBSCRIPTION" | sed 's/;$//; s/;/; /')\`: $files files mirrored," \
      "the catalog API over all $MEMORY_RESOURCES resources."
    echo
    echo "| measure | peak RSS MiB |"
    echo "|---|---:|"
    echo "| \`node sync\`, first release | $(mib "$sync_kib") |"
    echo "| \`node serve\` after loading the release and answering tree, search and a resource | $(mib "$loaded_kib") |"
    echo "| \`node serve\` after syncing the next release itself | $(mib "$serve_kib") |"
    echo
    echo "| goal | measured | result |"
    echo "|---|---:|---|"
    echo "| county node peak <= $MEMORY_GOAL_MIB MiB | $(mib "$peak_kib") MiB | $(bench_goal "$ratio" 1) |"
    bench_goal_record memory "county node peak RSS <= $MEMORY_GOAL_MIB MiB" "$(mib "$peak_kib") MiB" \
      "$(bench_goal "$ratio" 1)"
    echo
    echo "Peak RSS: \`Maximum resident set size\` of \`/usr/bin/time -v\` for the sync, \`VmHWM\` of" \
      "\`/proc/PID/status\` for the running node."
  } >"$md"
  rm -rf "$work"
  bench_log "memory: wrote $md, $tsv"
}
