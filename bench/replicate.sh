# shellcheck shell=bash
# Replicate comparison: the initial sync of a province node from the hub (`tiersync node sync`
# of a fresh node, over HTTP on loopback) against rsync in daemon mode copying the same media
# files into an empty directory (rsync://127.0.0.1:PORT/m/). Sourced by bench/run.sh (see
# ingest.sh for the variables it sets). Writes BENCH_OUT/replicate.md, replicate.tsv and
# replicate-runs.tsv.
#
# Ports: 127.0.0.1:$BENCH_PORT_BASE (default 19100) for the hub, +1 for the rsync daemon, +2 is
# written into the node's configuration (node sync does not listen). Tests use 18100-18199.

REPLICATE_GOAL=1.0 # tiersync node sync (disk) >= 1.0x rsync daemon (disk)
REPLICATE_IDS=(tiersync_disk rsync_disk rsync_fsync_disk tiersync_tmpfs rsync_tmpfs)

replicate_label() {
  case "$1" in
    tiersync_disk) echo "tiersync node sync (disk)" ;;
    rsync_disk) echo "rsync daemon (disk)" ;;
    rsync_fsync_disk) echo "rsync daemon --fsync (disk)" ;;
    tiersync_tmpfs) echo "tiersync node sync (tmpfs)" ;;
    rsync_tmpfs) echo "rsync daemon (tmpfs)" ;;
    *) echo "$1" ;;
  esac
}

replicate_command_text() {
  case "$1" in
    tiersync_disk | tiersync_tmpfs)
      echo "tiersync node init NODE --tier province --region 330000 --upstream HUB_URL --national HUB_URL --root HUB/tuf/metadata/1.root.json --subscription all (untimed); tiersync --json node sync NODE"
      ;;
    rsync_disk | rsync_tmpfs) echo "rsync -a rsync://127.0.0.1:PORT/m/ DEST/" ;;
    rsync_fsync_disk) echo "rsync -a --fsync rsync://127.0.0.1:PORT/m/ DEST/" ;;
  esac
}

# replicate_sizes TOTAL_BYTES: one file size per line, log-uniform between 1 and 50 MiB
# (Park-Miller generator, seed 1: the same list on every machine), summing to exactly TOTAL;
# the last file takes the rest (so it may reach 51 MiB).
replicate_sizes() {
  awk -v total="$1" 'BEGIN {
    lo = 1048576; hi = 50 * 1048576; x = 1; sum = 0
    while (sum < total) {
      x = (x * 16807) % 2147483647
      s = int(exp(log(lo) + (x / 2147483647) * (log(hi) - log(lo))))
      if (total - sum - s < lo) s = total - sum
      printf "%d\n", s
      sum += s
    }
  }'
}

# replicate_catalog DIR TOTAL_BYTES: a publishing input (docs/formats/catalog.md) in DIR: one
# national resource per media file, each file `tiersync demo media --kind media` (incompressible).
replicate_catalog() {
  local dir="$1" total="$2" i=0 size id file sha
  mkdir -p "$dir/resources" "$dir/media"
  while read -r size; do
    i=$((i + 1))
    id="$(printf 'k12-bench-%05d' "$i")"
    mkdir -p "$dir/media/$id"
    file="$dir/media/$id/lesson.mp4"
    "$TIERSYNC" demo media "$file" --kind media --size "$size" --seed "$i" >/dev/null ||
      bench_die "tiersync demo media failed for $file"
    sha="$(openssl dgst -sha256 -r "$file" | cut -d ' ' -f 1)"
    cat >"$dir/resources/$id.json" <<JSON
{
  "files": [
    {
      "media_type": "video/mp4",
      "name": "lesson.mp4",
      "sha256": "$sha",
      "size": $size
    }
  ],
  "format": "tiersync-resource 1",
  "id": "$id",
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
  "title": "bench lesson $i"
}
JSON
  done < <(replicate_sizes "$total")
  REPLICATE_FILES="$i"
}

# Puts both sources in the page cache: the hub's directory (store packs, metadata, catalog) that
# tiersync serves from, and the media files rsync serves from.
replicate_warm() {
  find "$1" "$2" -type f -exec cat {} + >/dev/null
}

# One timed run of ID; fresh empty destination, no dirty pages left, both sources warm.
replicate_run_one() {
  local raw="$1" id="$2" run="$3" work="$4" hub_url="$5" rsync_port="$6"
  local base="$work/run" json="$work/sync.json"
  case "$id" in *_tmpfs) base="$BENCH_SHM/replicate-run" ;; esac
  rm -rf "$work/run" "${BENCH_SHM:-/nonexistent}/replicate-run"
  mkdir -p "$base"
  case "$id" in
    tiersync_*)
      "$TIERSYNC" node init "$base/node" --name 浙江省教育厅 --tier province --region 330000 \
        --listen "127.0.0.1:$((BENCH_PORT_BASE + 2))" --upstream "$hub_url" --national "$hub_url" \
        --root "$work/hub/tuf/metadata/1.root.json" --subscription all >/dev/null ||
        bench_die "tiersync node init failed"
      ;;
  esac
  sync
  replicate_warm "$work/hub" "$work/catalog/media"
  case "$id" in
    tiersync_*)
      # shellcheck disable=SC2016 # $0.. are sh's arguments
      bench_measure "$raw" media "$id" "$run" -- sh -c '"$0" --json node sync "$1" >"$2"' \
        "$TIERSYNC" "$base/node" "$json"
      local fetched
      fetched="$(bench_json_int "$json" fetched_bytes)"
      [ "${fetched:-0}" -ge "$REPLICATE_BYTES" ] ||
        bench_die "tiersync node sync fetched ${fetched:-nothing} bytes, expected at least $REPLICATE_BYTES ($(tr -d '\n' <"$json"))"
      ;;
    rsync_fsync_disk)
      bench_measure "$raw" media "$id" "$run" -- rsync -a --fsync "rsync://127.0.0.1:$rsync_port/m/" "$base/dest/"
      ;;
    rsync_*)
      bench_measure "$raw" media "$id" "$run" -- rsync -a "rsync://127.0.0.1:$rsync_port/m/" "$base/dest/"
      ;;
  esac
  case "$id" in
    rsync_*)
      local got
      got="$(find "$base/dest" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
      [ "$got" = "$REPLICATE_BYTES" ] || bench_die "rsync copied $got bytes, expected $REPLICATE_BYTES"
      ;;
  esac
  rm -rf "$base" "$json"
}

bench_replicate() {
  local raw="$BENCH_OUT/replicate-runs.tsv" tsv="$BENCH_OUT/replicate.tsv" md="$BENCH_OUT/replicate.md"
  local work="$BENCH_WORK/replicate" run id hub_pid rsync_pid
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  local hub_port="$BENCH_PORT_BASE" rsync_port=$((BENCH_PORT_BASE + 1))
  local hub_url="http://127.0.0.1:$hub_port"
  REPLICATE_BYTES="$(bench_size_bytes "$BENCH_SIZE")"

  # Media + the hub's store + one destination at a time, with slack.
  local need_kib=$((REPLICATE_BYTES * 32 / 10240)) avail_kib
  avail_kib="$(df -Pk "$BENCH_WORK" | awk 'NR == 2 { print $4 }')"
  [ "$avail_kib" -ge "$need_kib" ] ||
    bench_die "replicate: not enough disk space in $BENCH_WORK: need $((need_kib / 1024)) MiB, have $((avail_kib / 1024)) MiB"
  local ids=()
  for id in "${REPLICATE_IDS[@]}"; do
    if [[ "$id" == *_tmpfs ]] && [ -z "$BENCH_SHM" ]; then
      bench_log "replicate: no room on /dev/shm, skipping $(replicate_label "$id")"
      continue
    fi
    ids+=("$id")
  done
  bench_port_free "$hub_port"
  bench_port_free "$rsync_port"

  rm -rf "$work"
  mkdir -p "$work"
  bench_log "replicate: generating $BENCH_SIZE of media-like files (log-uniform 1-50 MiB) and their records"
  replicate_catalog "$work/catalog" "$REPLICATE_BYTES"
  bench_log "replicate: $REPLICATE_FILES files; hub init, hub publish"
  bench_keys_and_hub "$work"
  "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m bench >"$work/publish.log" 2>&1 ||
    { tail -n 20 "$work/publish.log" >&2; bench_die "tiersync hub publish failed"; }
  local hub_bytes
  hub_bytes="$(du -sb "$work/hub" | cut -f 1)"

  bench_spawn "$work/hub-serve.log" "$TIERSYNC" hub serve "$work/hub" --listen "127.0.0.1:$hub_port"
  hub_pid="$BENCH_SPAWNED"
  bench_wait_http "$hub_url/v1/status" 30 "$hub_pid" "$work/hub-serve.log"
  bench_rsyncd "$work" rsyncd "$work/catalog/media" "$rsync_port"
  rsync_pid="$BENCH_SPAWNED"

  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\n' >"$raw"
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    bench_log "replicate: round $run of $BENCH_RUNS"
    for id in "${ids[@]}"; do
      replicate_run_one "$raw" "$id" "$run" "$work" "$hub_url" "$rsync_port"
    done
  done
  bench_stop "$hub_pid" "$rsync_pid"
  rm -rf "$work"

  declare -A med=()
  printf 'command\truns\tmedian_s\tmin_s\tmax_s\tmibps\tpeak_rss_kib\tbytes\tfiles\n' >"$tsv"
  local line
  for id in "${ids[@]}"; do
    line="$(bench_summarise "$raw" media "$id" "$REPLICATE_BYTES")"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    printf '%s\t%s\t%s\t%s\n' "$id" "$line" "$REPLICATE_BYTES" "$REPLICATE_FILES" >>"$tsv"
    med[$id]="$(cut -f 2 <<<"$line")"
  done

  {
    echo "# tiersync replicate benchmark"
    echo
    echo "Initial sync of a province node from the hub (HTTP) against rsync in daemon mode (its own" \
      "protocol), both over TCP on loopback, same files, same run: $BENCH_SIZE ($REPLICATE_BYTES bytes) of" \
      "incompressible media in $REPLICATE_FILES files of 1-50 MiB (log-uniform), $BENCH_RUNS" \
      "interleaved runs per command. Wall-clock seconds and peak RSS (of the client side only:" \
      "the hub and the rsync daemon run throughout) from \`/usr/bin/time -f '%e %M'\`. Only the" \
      "ratios compare; absolute figures on these shared machines vary by up to 2x between runs."
    echo
    bench_machine_md
    echo
    echo "## Data and setup"
    echo
    echo "- media: file i is \`tiersync demo media media/k12-bench-NNNNN/lesson.mp4 --kind media" \
      "--size BYTES --seed i\`, one national resource record per file (\`resources/<id>.json\`," \
      "docs/formats/catalog.md);"
    echo "- hub: \`tiersync keys gen\` x4, \`tiersync hub init\`, \`tiersync hub publish HUB --input" \
      "CATALOG\` (untimed; the hub directory then holds $hub_bytes bytes), then" \
      "\`tiersync hub serve HUB --listen 127.0.0.1:$hub_port\` for the whole comparison;"
    echo "- rsync: \`rsync --daemon --no-detach --address=127.0.0.1 --port=$rsync_port\` with a" \
      "throwaway rsyncd.conf: module \`m\` = the catalog's \`media/\` directory, read-only, no auth," \
      "no chroot."
    echo
    echo "Before every timed run, untimed: a fresh empty destination (for tiersync \`node init\`," \
      "for rsync nothing: it creates DEST), \`sync\` (no dirty pages left from the previous run)," \
      "then \`cat\` of every file of the hub directory and of the media directory, so both sources" \
      "are in the page cache (they are different bytes on disk: the hub serves from its chunk" \
      "store, rsync from the media files). Disk destinations are under \`$BENCH_WORK/replicate/run\`," \
      "tmpfs ones under \`${BENCH_SHM:-n/a}/replicate-run\`; each is deleted after its run. Every" \
      "tiersync run is checked to have fetched at least the media's bytes, every rsync run to" \
      "have copied exactly them."
    echo
    echo "| label | command |"
    echo "|---|---|"
    for id in "${ids[@]}"; do
      echo "| $(replicate_label "$id") | \`$(replicate_command_text "$id")\` |"
    done
    echo
    echo "What each side does per byte:"
    echo
    echo "- **tiersync**: the node first verifies the signed TUF metadata (root, timestamp," \
      "snapshot, targets, hash bins) and the catalog release against the national root, then" \
      "fetches each file's chunk index (checked against the file's signed length and SHA-256) and" \
      "the chunks in batches (\`POST /v1/chunks/batch\`, 4 in flight). The hub reads each chunk" \
      "from its pack files and re-hashes it (SHA-256) before sending it; the node checks every chunk's SHA-256 against its id before storing it" \
      "in pack files with an LMDB index, commits (fsync) every 32 MiB, and switches \`CURRENT\`" \
      "atomically at the end. Nothing is trusted: every byte is checked against the signed root."
    echo "- **rsync**: the daemon reads each file and sends it whole (the destination is empty)," \
      "the client writes it to a temporary file and renames it, and checks a whole-file checksum" \
      "(xxh128 here) that only detects transfer errors; no signature, no fsync (the --fsync row" \
      "adds one per file), no index."
    echo
    echo "## Results"
    echo
    echo "| command | median s | min s | max s | spread | MiB/s (at median) | peak RSS MiB (median) |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    local m lo hi mibps rss spread
    while IFS=$'\t' read -r id _ m lo hi mibps rss _; do
      spread="$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { if (m > 0) printf "%.0f%%", (hi - lo) / m * 100; else print "n/a" }')"
      printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(replicate_label "$id")" "$m" "$lo" "$hi" "$spread" \
        "$mibps" "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
    done < <(tail -n +2 "$tsv")
    echo
    echo "## Ratios"
    echo
    echo "Throughput ratio = throughput of tiersync / throughput of the other = t_other / t_tiersync" \
      "(medians). Above 1: tiersync is faster."
    echo
    echo "| comparison | ratio |"
    echo "|---|---:|"
    local pair ours other
    for pair in tiersync_disk:rsync_disk tiersync_disk:rsync_fsync_disk tiersync_tmpfs:rsync_tmpfs; do
      ours="${pair%%:*}"
      other="${pair##*:}"
      if [ -z "${med[$ours]:-}" ] || [ -z "${med[$other]:-}" ]; then continue; fi
      printf '| %s vs %s | %sx |\n' "$(replicate_label "$ours")" "$(replicate_label "$other")" \
        "$(bench_ratio "${med[$other]}" "${med[$ours]}")"
    done
    echo
    echo "## Goal"
    echo
    local r
    r="$(bench_ratio "${med[rsync_disk]}" "${med[tiersync_disk]}")"
    echo "| goal | measured | result |"
    echo "|---|---:|---|"
    printf '| %s >= %sx %s | %sx | %s |\n' "$(replicate_label tiersync_disk)" "$REPLICATE_GOAL" \
      "$(replicate_label rsync_disk)" "$r" "$(bench_goal "$r" "$REPLICATE_GOAL")"
    echo
    echo "Raw runs: \`replicate-runs.tsv\`; summary: \`replicate.tsv\` (seconds, MiB/s = MiB / median s," \
      "peak RSS in KiB)."
  } >"$md"
  bench_log "replicate: wrote $md, $tsv, $raw"
}
