# shellcheck shell=bash
# Serve comparison: a node serving teachers and students (docs/serving.md) under `wrk` load,
# against nginx serving the same files from disk, in the same run: large media by their content
# URL (/v1/targets/<dir>/<sha256>.<name>), node vs nginx (sendfile); and the node's catalog API
# (search, resource, tree), with nginx serving a static copy of the search answer as a
# reference. Sourced by bench/run.sh (see ingest.sh for the variables it sets). Writes
# BENCH_OUT/serve.md, serve.tsv and serve-runs.tsv.
#
# Ports (127.0.0.1): $BENCH_PORT_BASE (default 19100) +30 the hub, +31 the node, +32 nginx.
# Tests use 18100-18199.

SERVE_GOAL=0.8                                     # node >= 0.8x nginx on large media
SERVE_RESOURCES="${SERVE_RESOURCES:-34000}"        # catalog size (the national K-12 catalog)
SERVE_FILE_SIZE="${SERVE_FILE_SIZE:-64M}"          # the large media file
SERVE_SECONDS="${SERVE_SECONDS:-10}"               # one wrk run
SERVE_MEDIA_CONNECTIONS="${SERVE_MEDIA_CONNECTIONS:-4}"
SERVE_API_CONNECTIONS="${SERVE_API_CONNECTIONS:-16}"
SERVE_QUERY="数学"                                 # the search's q
SERVE_IDS=(node_media nginx_media node_search node_resource node_tree nginx_json)

serve_label() {
  case "$1" in
    node_media) echo "node: large media (content URL)" ;;
    nginx_media) echo "nginx: the same file from disk (sendfile)" ;;
    node_search) echo "node: catalog search" ;;
    node_resource) echo "node: catalog resource" ;;
    node_tree) echo "node: catalog tree" ;;
    nginx_json) echo "nginx: the search answer as a static file (reference)" ;;
    *) echo "$1" ;;
  esac
}

# serve_kind ID: media or api (connections and what the ratio compares).
serve_kind() { case "$1" in *_media) echo media ;; *) echo api ;; esac; }

# serve_urlencode TEXT: percent-encodes every byte but [A-Za-z0-9._~-] (no python, no jq).
serve_urlencode() {
  local hex out="" c
  for hex in $(printf '%s' "$1" | od -An -tx1 -v); do
    c="$(printf '%b' "\\x$hex")"
    case "$c" in [A-Za-z0-9._~-]) out+="$c" ;; *) out+="%${hex^^}" ;; esac
  done
  printf '%s' "$out"
}

# serve_json_str FILE KEY: the first string value of "KEY" in FILE (no escapes expected).
serve_json_str() {
  grep -o "\"$2\": *\"[^\"]*\"" "$1" | head -n 1 | sed 's/^[^:]*: *"//; s/"$//'
}

# serve_record DIR ID SIZE SHA: a national resource record (docs/formats/catalog.md) for the
# large file, its own provider so that the node's subscription picks exactly it.
serve_record() {
  cat >"$1/resources/$2.json" <<JSON
{
  "facets": {
    "grade": 5,
    "stage": "小学",
    "subject": "数学",
    "tags": [
      "同步课程",
      "数学",
      "基准测试"
    ]
  },
  "files": [
    {
      "media_type": "video/mp4",
      "name": "lesson.mp4",
      "sha256": "$4",
      "size": $3
    }
  ],
  "format": "tiersync-resource 1",
  "id": "$2",
  "language": "zh-CN",
  "origin": "national",
  "placements": [
    {
      "board": "课程教学",
      "category": "小学",
      "platform": "k12"
    }
  ],
  "priority": false,
  "provider": "bench",
  "retired": false,
  "review": "approved",
  "title": "数学 大文件基准测试（第一课时）"
}
JSON
}

# serve_cpu PID...: CPU seconds (user + system, all threads) the processes have used so far.
serve_cpu() {
  local p ticks=0 t
  for p in "$@"; do
    # /proc/PID/stat after "pid (comm) ": field 12 is utime, 13 stime, in clock ticks.
    t="$(sed 's/^.*) //' "/proc/$p/stat" | awk '{ print $12 + $13 }')"
    ticks=$((ticks + t))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / hz }'
}

# serve_wrk RAW ID RUN URL CONNECTIONS PID...: one wrk run against the server whose processes
# are PID...; appends "kind id run rps mibps requests bytes server_cpu_s" to RAW. Dies if wrk
# fails, answers nothing, or counts any error (socket errors, timeouts, non-2xx/3xx answers).
serve_wrk() {
  local raw="$1" id="$2" run="$3" u="$4" conns="$5" log="$BENCH_WORK/serve/wrk.log" line cpu0 cpu1
  shift 5
  cpu0="$(serve_cpu "$@")"
  wrk -t 2 -c "$conns" -d "${SERVE_SECONDS}s" --timeout 30s -s "$BENCH_WORK/serve/report.lua" "$u" \
    >"$log" 2>&1 || { tail -n 20 "$log" >&2; bench_die "wrk failed on $u"; }
  cpu1="$(serve_cpu "$@")"
  line="$(grep '^WRK ' "$log" | tail -n 1)"
  [ -n "$line" ] || { cat "$log" >&2; bench_die "wrk printed no summary for $u"; }
  local _ us requests bytes econnect eread ewrite estatus etimeout
  read -r _ us requests bytes econnect eread ewrite estatus etimeout <<<"$line"
  [ "$requests" -gt 0 ] || bench_die "wrk: no request completed on $u in ${SERVE_SECONDS} s"
  [ $((econnect + eread + ewrite + estatus + etimeout)) -eq 0 ] ||
    bench_die "wrk on $u: errors (connect $econnect, read $eread, write $ewrite, non-2xx/3xx $estatus, timeout $etimeout)"
  awk -v kind="$(serve_kind "$id")" -v id="$id" -v run="$run" -v us="$us" -v n="$requests" -v b="$bytes" \
    -v cpu="$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { printf "%.2f", b - a }')" \
    'BEGIN { s = us / 1e6; printf "%s\t%s\t%s\t%.1f\t%.1f\t%.0f\t%.0f\t%s\n", kind, id, run, n / s, b / 1048576 / s, n, b, cpu }' >>"$raw"
  bench_log "  $id run $run: $(tail -n 1 "$raw" | cut -f 4) requests/s, $(tail -n 1 "$raw" | cut -f 5) MiB/s, server CPU $(tail -n 1 "$raw" | cut -f 8) s"
}

bench_serve() {
  local raw="$BENCH_OUT/serve-runs.tsv" tsv="$BENCH_OUT/serve.tsv" md="$BENCH_OUT/serve.md"
  local work="$BENCH_WORK/serve" run id tool
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  local hub_port=$((BENCH_PORT_BASE + 30)) node_port=$((BENCH_PORT_BASE + 31)) nginx_port=$((BENCH_PORT_BASE + 32))
  local hub_url="http://127.0.0.1:$hub_port" node_url="http://127.0.0.1:$node_port"
  local nginx_url="http://127.0.0.1:$nginx_port"
  for tool in wrk nginx; do
    command -v "$tool" >/dev/null || bench_die "serve: $tool is missing (./scripts/install-deps.sh wrk nginx)"
  done
  [[ "$SERVE_SECONDS" =~ ^[1-9][0-9]*$ ]] || bench_die "SERVE_SECONDS must be a positive integer"
  bench_port_free "$hub_port"
  bench_port_free "$node_port"
  bench_port_free "$nginx_port"
  local file_bytes
  file_bytes="$(bench_size_bytes "$SERVE_FILE_SIZE")"

  local setup_start=$SECONDS setup_s
  rm -rf "$work"
  mkdir -p "$work"
  # wrk's summary, one machine-readable line (latency is not needed: throughput only).
  cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK %.0f %.0f %.0f %.0f %.0f %.0f %.0f %.0f\n", summary.duration, summary.requests,
    summary.bytes, e.connect, e.read, e.write, e.status, e.timeout))
end
LUA

  bench_log "serve: the sample national catalog ($SERVE_RESOURCES resources, metadata-size media) and one $SERVE_FILE_SIZE video"
  "$TIERSYNC" demo generate "$work/catalog" --resources "$SERVE_RESOURCES" --seed 7 --size-scale 0.000001 \
    >/dev/null || bench_die "tiersync demo generate failed"
  local big_id=k12-bench-00001 big_sha
  mkdir -p "$work/catalog/media/$big_id"
  "$TIERSYNC" demo media "$work/catalog/media/$big_id/lesson.mp4" --kind media --size "$file_bytes" --seed 1 \
    >/dev/null || bench_die "tiersync demo media failed"
  big_sha="$(openssl dgst -sha256 -r "$work/catalog/media/$big_id/lesson.mp4" | cut -d ' ' -f 1)"
  serve_record "$work/catalog" "$big_id" "$file_bytes" "$big_sha"

  bench_log "serve: hub init, hub publish, a school node mirroring the video (node sync), node serve"
  bench_keys_and_hub "$work"
  "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m bench >"$work/publish.log" 2>&1 ||
    { tail -n 20 "$work/publish.log" >&2; bench_die "tiersync hub publish failed"; }
  bench_spawn "$work/hub-serve.log" "$TIERSYNC" hub serve "$work/hub" --listen "127.0.0.1:$hub_port"
  local hub_pid="$BENCH_SPAWNED"
  bench_wait_http "$hub_url/v1/status" 30 "$hub_pid" "$work/hub-serve.log"
  "$TIERSYNC" node init "$work/node" --name 西湖区示范小学 --tier school --region 330106 \
    --listen "127.0.0.1:$node_port" --upstream "$hub_url" --national "$hub_url" \
    --root "$work/hub/tuf/metadata/1.root.json" --subscription 'provider = bench' --poll-seconds 3600 \
    >/dev/null || bench_die "tiersync node init failed"
  "$TIERSYNC" --json node sync "$work/node" >"$work/sync.json" 2>&1 ||
    { tail -n 20 "$work/sync.json" >&2; bench_die "tiersync node sync failed"; }
  bench_spawn "$work/node-serve.log" "$TIERSYNC" node serve "$work/node"
  local node_pid="$BENCH_SPAWNED"
  bench_wait_http "$node_url/v1/catalog/tree" 60 "$node_pid" "$work/node-serve.log"
  bench_stop "$hub_pid" # the node serves what it holds; nothing else runs during the measurements

  # The URLs, from the node's catalog API; the content URL's bytes restored into nginx's root
  # under the same path, and checked.
  local q media_path
  q="$(serve_urlencode "$SERVE_QUERY")"
  curl -sf --max-time 30 -o "$work/resource.json" "$node_url/v1/catalog/resources/$big_id" ||
    bench_die "GET /v1/catalog/resources/$big_id failed"
  media_path="$(serve_json_str "$work/resource.json" content_url)"
  [[ "$media_path" == /v1/targets/*"/$big_sha.lesson.mp4" ]] ||
    bench_die "unexpected content_url '$media_path' in $(tr -d '\n' <"$work/resource.json" | head -c 600)"
  mkdir -p "$work/www$(dirname "$media_path")" "$work/www/ref"
  curl -sf --max-time 120 -o "$work/www$media_path" "$node_url$media_path" || bench_die "GET $media_path failed"
  [ "$(openssl dgst -sha256 -r "$work/www$media_path" | cut -d ' ' -f 1)" = "$big_sha" ] ||
    bench_die "the node served other bytes than the published ones for $media_path"
  curl -sf --max-time 30 -o "$work/www/ref/search.json" "$node_url/v1/catalog/search?q=$q" ||
    bench_die "GET /v1/catalog/search?q=$q failed"
  local search_total search_bytes resource_bytes tree_bytes
  search_total="$(bench_json_int "$work/www/ref/search.json" total)"
  search_bytes="$(stat -c %s "$work/www/ref/search.json")"
  resource_bytes="$(stat -c %s "$work/resource.json")"
  tree_bytes="$(curl -sf --max-time 30 "$node_url/v1/catalog/tree" | wc -c)"
  [ "${search_total:-0}" -gt 0 ] || bench_die "the search for $SERVE_QUERY found nothing"
  declare -A urls=(
    [node_media]="$node_url$media_path"
    [nginx_media]="$nginx_url$media_path"
    [node_search]="$node_url/v1/catalog/search?q=$q"
    [node_resource]="$node_url/v1/catalog/resources/$big_id"
    [node_tree]="$node_url/v1/catalog/tree"
    [nginx_json]="$nginx_url/ref/search.json"
  )

  bench_nginx "$work/nginx" "$work/www" "$nginx_port" nolog
  local nginx_pid="$BENCH_SPAWNED"
  bench_wait_http "${urls[nginx_json]}" 30 "$nginx_pid" "$work/nginx/nginx.log"
  curl -sf --max-time 60 "${urls[nginx_media]}" | cmp -s - "$work/www$media_path" ||
    bench_die "nginx does not serve the restored file"

  # Both sources in the page cache: the node's directory (its chunk store) and nginx's root.
  find "$work/node" "$work/www" -type f -exec cat {} + >/dev/null
  setup_s=$((SECONDS - setup_start))
  bench_log "serve: setup done in $setup_s s"
  local nginx_pids
  nginx_pids="$nginx_pid $(pgrep -P "$nginx_pid" | tr '\n' ' ')"
  printf 'kind\tcommand\trun\trequests_per_s\tmib_per_s\trequests\tbytes\tserver_cpu_s\n' >"$raw"
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    bench_log "serve: round $run of $BENCH_RUNS"
    for id in "${SERVE_IDS[@]}"; do
      local conns="$SERVE_API_CONNECTIONS" pids="$node_pid"
      [ "$(serve_kind "$id")" = media ] && conns="$SERVE_MEDIA_CONNECTIONS"
      [[ "$id" == nginx_* ]] && pids="$nginx_pids"
      # shellcheck disable=SC2086 # one argument per pid
      serve_wrk "$raw" "$id" "$run" "${urls[$id]}" "$conns" $pids
    done
  done
  local node_hwm nginx_hwm=0 p
  node_hwm="$(bench_hwm "$node_pid")"
  for p in $nginx_pids; do
    nginx_hwm=$((nginx_hwm + $(bench_hwm "$p" 2>/dev/null || echo 0)))
  done
  bench_stop "$nginx_pid" "$node_pid"

  declare -A med=() cpu_gib=()
  printf 'command\truns\tmedian_rps\tmin_rps\tmax_rps\tmedian_mibps\tcpu_ms_per_request\tcpu_s_per_gib\tpeak_rss_kib\n' >"$tsv"
  local line rss
  for id in "${SERVE_IDS[@]}"; do
    line="$(awk -F '\t' -v id="$id" '
      function median(a, n,   i, j, t) {
        for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
      }
      $2 == id { n++; r[n] = $4 + 0; m[n] = $5 + 0; c[n] = ($6 > 0) ? $8 * 1000 / $6 : 0
                 g[n] = ($7 > 0) ? $8 / ($7 / 1073741824) : 0 }
      END { if (n == 0) exit; mr = median(r, n); mm = median(m, n); mc = median(c, n); mg = median(g, n)
            printf "%d\t%.1f\t%.1f\t%.1f\t%.1f\t%.3f\t%.2f\n", n, mr, r[1], r[n], mm, mc, mg }' "$raw")"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    case "$id" in node_*) rss="$node_hwm" ;; *) rss="$nginx_hwm" ;; esac
    printf '%s\t%s\t%s\n' "$id" "$line" "$rss" >>"$tsv"
    med[$id]="$(cut -f 5 <<<"$line")"
    cpu_gib[$id]="$(cut -f 7 <<<"$line")"
  done
  local ratio cpu_ratio
  ratio="$(bench_ratio "${med[node_media]}" "${med[nginx_media]}")" # throughput ours / peer
  cpu_ratio="$(bench_ratio "${cpu_gib[nginx_media]}" "${cpu_gib[node_media]}")" # bytes per CPU second, ours / peer

  {
    echo "# tiersync serve benchmark"
    echo
    echo "A school node serving users over HTTP on loopback (\`tiersync node serve\`, docs/serving.md)" \
      "against nginx serving the same file from disk, under \`wrk\` load in the same run:" \
      "$BENCH_RUNS interleaved rounds of ${SERVE_SECONDS} s per command. Only the ratio compares;" \
      "absolute figures on these shared machines vary by up to 2x between runs. wrk runs on the" \
      "same $(nproc) cores as the server it loads."
    echo
    bench_machine_md
    echo
    echo "## Data and setup"
    echo
    echo "- catalog: \`tiersync demo generate CAT --resources $SERVE_RESOURCES --seed 7 --size-scale" \
      "0.000001\` plus one resource \`$big_id\` with \`lesson.mp4\` = \`tiersync demo media --kind media" \
      "--size $SERVE_FILE_SIZE --seed 1\` ($file_bytes bytes, incompressible), published by" \
      "\`tiersync hub publish\`;"
    echo "- node: \`tiersync node init NODE --tier school --region 330106 --subscription 'provider = bench'" \
      "--poll-seconds 3600\`, \`tiersync node sync NODE\`, then \`tiersync node serve NODE\` on" \
      "127.0.0.1:$node_port (the hub is stopped before the measurements; the node serves the video from" \
      "its chunk store, every chunk checked as it is sent, and answers the catalog API for all" \
      "$SERVE_RESOURCES + 1 resources);"
    echo "- nginx $(nginx -v 2>&1 | sed 's/^nginx version: //'): \`worker_processes auto\`, \`sendfile on\`," \
      "\`tcp_nopush on\`, \`access_log off\`, root = a directory holding the video under the same path as" \
      "its content URL (\`$media_path\`, downloaded once from the node and checked against the" \
      "published SHA-256) and \`ref/search.json\` (the node's search answer saved as a file);"
    echo "- client: $(wrk -v 2>&1 | head -n 1 | awk '{ print $1, $2 }'), run as in the table; MiB/s counts every body and" \
      "header byte wrk read (also of the requests still open when the run ends), requests/s only" \
      "completed requests; any socket error, timeout or non-2xx answer fails the run;"
    echo "- before the rounds, every file of the node's directory and of nginx's root is read with" \
      "\`cat\` (both in the page cache). The setup (generate, publish, sync, restore) took $setup_s s."
    echo
    echo "| label | request | wrk |"
    echo "|---|---|---|"
    for id in "${SERVE_IDS[@]}"; do
      local conns="$SERVE_API_CONNECTIONS"
      [ "$(serve_kind "$id")" = media ] && conns="$SERVE_MEDIA_CONNECTIONS"
      echo "| $(serve_label "$id") | \`GET /${urls[$id]#http://127.0.0.1:*/}\` | \`wrk -t 2 -c $conns -d ${SERVE_SECONDS}s\` |"
    done
    echo
    echo "Answer sizes: the video $file_bytes bytes; search (\`q=$SERVE_QUERY\`, $search_total matches, first" \
      "20 with facets) $search_bytes bytes; resource $resource_bytes bytes; tree $tree_bytes bytes."
    echo
    echo "## Results"
    echo
    echo "| command | median requests/s | min | max | spread | MiB/s (median) | server CPU ms per request | server CPU s per GiB |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    local m lo hi mibps spread cpr cpg
    while IFS=$'\t' read -r id _ m lo hi mibps cpr cpg _; do
      spread="$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { if (m > 0) printf "%.0f%%", (hi - lo) / m * 100; else print "n/a" }')"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(serve_label "$id")" "$m" "$lo" "$hi" "$spread" "$mibps" "$cpr" "$cpg"
    done < <(tail -n +2 "$tsv")
    echo
    echo "Server CPU: user + system time of the server's processes (all threads; nginx: master and" \
      "workers) during each run, from \`/proc/PID/stat\`, per completed request and per GiB wrk read" \
      "(medians). wrk's own CPU is not included."
    echo
    echo "Peak RSS (\`VmHWM\` of \`/proc/PID/status\` after the last round): node" \
      "$(awk -v k="$node_hwm" 'BEGIN { printf "%.1f", k / 1024 }') MiB; nginx (master and workers, summed)" \
      "$(awk -v k="$nginx_hwm" 'BEGIN { printf "%.1f", k / 1024 }') MiB."
    echo
    echo "## Ratio and goal"
    echo
    echo "Throughput ratio node / nginx on the large media file, from the median MiB/s of the same run" \
      "(above 1: the node is faster)."
    echo
    echo "| goal | measured | result |"
    echo "|---|---:|---|"
    printf '| %s >= %sx %s | %sx | %s |\n' "$(serve_label node_media)" "$SERVE_GOAL" \
      "$(serve_label nginx_media)" "$ratio" "$(bench_goal "$ratio" "$SERVE_GOAL")"
    bench_goal_record serve "large media: $(serve_label node_media) >= ${SERVE_GOAL}x $(serve_label nginx_media)" \
      "${ratio}x" "$(bench_goal "$ratio" "$SERVE_GOAL")"
    echo
    echo "Bytes served per server CPU second, node / nginx, on the large media file: ${cpu_ratio}x" \
      "(the cost behind the throughput: wrk shares the $(nproc) cores with the server, and where wrk" \
      "is the limit both servers look alike whatever each needs)."
    echo
    echo "The catalog rows have no peer (nginx cannot answer them); the static-file row shows what" \
      "plain HTTP costs for an answer of the search's size on this machine."
    echo
    echo "Raw runs: \`serve-runs.tsv\` (requests/s and MiB/s of each wrk run); summary: \`serve.tsv\`" \
      "(medians; peak RSS in KiB)."
  } >"$md"
  rm -rf "$work"
  bench_log "serve: wrote $md, $tsv, $raw"
}
