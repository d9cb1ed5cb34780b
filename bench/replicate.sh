# shellcheck shell=bash
# Replicate comparison: the initial sync of a province node from the hub (`tiersync node sync`
# of a fresh node, over HTTP on loopback) against three ways of copying the same media files
# into an empty directory over loopback: rsync in daemon mode (rsync://127.0.0.1:PORT/m/),
# casync extracting a directory archive from a chunk store served by nginx, and curl fetching
# every file from nginx. Sourced by bench/run.sh (see ingest.sh for the variables it sets).
# Writes BENCH_OUT/replicate.md, replicate.tsv and replicate-runs.tsv.
#
# Ports: 127.0.0.1:$BENCH_PORT_BASE (default 19100) for the hub, +1 for the rsync daemon, +2 is
# written into the node's configuration (node sync does not listen), +3 for nginx. Tests use
# 18100-18199.

REPLICATE_GOAL=1.0 # tiersync node sync (disk) >= 1.0x rsync daemon (disk)
REPLICATE_IDS=(tiersync_disk rsync_disk rsync_fsync_disk casync_disk curl_disk curl_parallel_disk
  tiersync_tmpfs rsync_tmpfs casync_tmpfs curl_tmpfs)

replicate_label() {
  case "$1" in
    tiersync_disk) echo "tiersync node sync (disk)" ;;
    rsync_disk) echo "rsync daemon (disk)" ;;
    rsync_fsync_disk) echo "rsync daemon --fsync (disk)" ;;
    casync_disk) echo "casync extract from nginx (disk)" ;;
    curl_disk) echo "curl from nginx (disk)" ;;
    curl_parallel_disk) echo "curl --parallel 4 from nginx (disk)" ;;
    tiersync_tmpfs) echo "tiersync node sync (tmpfs)" ;;
    rsync_tmpfs) echo "rsync daemon (tmpfs)" ;;
    casync_tmpfs) echo "casync extract from nginx (tmpfs)" ;;
    curl_tmpfs) echo "curl from nginx (tmpfs)" ;;
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
    casync_disk | casync_tmpfs)
      echo "TMPDIR=RUN/tmp casync extract --store=http://127.0.0.1:PORT/media.castr http://127.0.0.1:PORT/media.caidx RUN/dest"
      ;;
    curl_disk | curl_tmpfs) echo "curl -sS --fail --fail-early --create-dirs --output-dir DEST -K media.curl" ;;
    curl_parallel_disk)
      echo "curl -sS --fail --fail-early --create-dirs --output-dir DEST --parallel --parallel-max 4 -K media.curl"
      ;;
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
    bench_record "$dir" "$id" lesson.mp4 video/mp4 "$size" "$sha" "bench lesson $i" false
  done < <(replicate_sizes "$total")
  REPLICATE_FILES="$i"
}

# replicate_manifest DIR: "sha256 *./path" of every file under DIR, sorted by path, to compare
# a copy with the media directory byte for byte (openssl: SHA-NI, unlike sha256sum).
replicate_manifest() {
  (cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r openssl dgst -sha256 -r)
}

# replicate_check_tree ID DIR: dies unless DIR holds exactly the media files (count, total
# bytes, then the SHA-256 of each against the manifest written at setup).
replicate_check_tree() {
  local id="$1" dir="$2" files bytes
  [ -d "$dir" ] || bench_die "$(replicate_label "$id") left no directory $dir"
  files="$(find "$dir" -type f | wc -l)"
  bytes="$(find "$dir" -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
  if [ "$files" != "$REPLICATE_FILES" ] || [ "$bytes" != "$REPLICATE_BYTES" ]; then
    bench_die "$(replicate_label "$id") copied $files files, $bytes bytes; expected $REPLICATE_FILES files, $REPLICATE_BYTES bytes"
  fi
  replicate_manifest "$dir" | cmp -s - "$REPLICATE_MANIFEST" ||
    bench_die "$(replicate_label "$id"): the files in $dir differ from the media (SHA-256, see $REPLICATE_MANIFEST)"
}

# Puts every source in the page cache: the hub's directory (store packs, metadata, catalog) that
# tiersync serves from, the media files rsync and curl (through nginx) serve from, and the casync
# index and chunk store nginx serves to casync.
replicate_warm() {
  find "$@" -type f -exec cat {} + >/dev/null
}

# Bytes on the wire, read before and after each run (the difference is the run's):
# - tiersync: the hub's response bodies, `tiersync_http_response_bytes_total` summed over its
#   endpoints in GET /metrics (headers and requests are not counted there; the /metrics
#   answers themselves are counted, a few KiB);
# - nginx: bytes_sent + request_length of every request in its access log (headers included);
# - rsync: the daemon's "sent N bytes  received M bytes" log line of each session (the rsync
#   protocol stream both ways).
# replicate_hub_bytes HUB_URL: the sum, or nothing if the hub does not report it.
replicate_hub_bytes() {
  curl -sf --max-time 10 "$1/metrics" |
    awk '/^tiersync_http_response_bytes_total/ { s += $NF; n++ } END { if (n) printf "%.0f", s }' || true
}
replicate_nginx_bytes() {
  local out in_
  read -r out in_ _ < <(bench_nginx_bytes "$1")
  printf '%.0f' "$((out + in_))"
}
replicate_rsync_sessions() { grep -c ' sent [0-9]* bytes  received [0-9]* bytes' "$1" || true; }
# replicate_rsync_bytes LOG SESSIONS_BEFORE: sent + received of the newest session; waits up to
# 5 s for the daemon to log it (it may do so after the client has exited).
replicate_rsync_bytes() {
  local log="$1" before="$2" i
  for ((i = 0; i < 50; i++)); do
    [ "$(replicate_rsync_sessions "$log")" -gt "$before" ] && break
    sleep 0.1
  done
  awk '/ sent [0-9]+ bytes  received [0-9]+ bytes/ {
      for (i = 1; i < NF; i++) { if ($i == "sent") s = $(i + 1); if ($i == "received") r = $(i + 1) } }
    END { if (s == "") print ""; else printf "%.0f", s + r }' "$log"
}

# One timed run of ID; fresh empty destination, no dirty pages left, every source warm. Adds the
# run's bytes on the wire as a sixth column to its line in RAW.
replicate_run_one() {
  local raw="$1" id="$2" run="$3" work="$4" hub_url="$5" rsync_port="$6" nginx_url="$7"
  local base="$work/run" json="$work/sync.json" wire="" before
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
  replicate_warm "$work/hub" "$work/catalog/media" "$work/www/media.castr" "$work/www/media.caidx"
  case "$id" in
    tiersync_*) before="$(replicate_hub_bytes "$hub_url")" ;;
    rsync_*) before="$(replicate_rsync_sessions "$work/rsyncd.rsyncd.log")" ;;
    casync_* | curl_*) : >"$work/nginx/access.log" ;;
  esac
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
    casync_*)
      # casync queues its chunk requests to its HTTP helper as files and symlinks in a directory
      # under $TMPDIR (/var/tmp by default): keep it on the destination's file system, like
      # everything tiersync writes is under NODE.
      mkdir -p "$base/tmp"
      bench_measure "$raw" media "$id" "$run" -- env TMPDIR="$base/tmp" casync extract \
        --store="$nginx_url/media.castr" "$nginx_url/media.caidx" "$base/dest"
      ;;
    curl_parallel_*)
      bench_measure "$raw" media "$id" "$run" -- curl -sS --fail --fail-early --create-dirs \
        --output-dir "$base/dest" --parallel --parallel-max 4 -K "$work/media.curl"
      ;;
    curl_*)
      bench_measure "$raw" media "$id" "$run" -- curl -sS --fail --fail-early --create-dirs \
        --output-dir "$base/dest" -K "$work/media.curl"
      ;;
  esac
  case "$id" in
    tiersync_*)
      wire="$(replicate_hub_bytes "$hub_url")"
      if [ -n "$wire" ] && [ -n "$before" ]; then wire=$((wire - before)); else wire=""; fi
      ;;
    rsync_*) wire="$(replicate_rsync_bytes "$work/rsyncd.rsyncd.log" "$before")" ;;
    casync_* | curl_*) wire="$(replicate_nginx_bytes "$work/nginx/access.log")" ;;
  esac
  # bench_measure wrote this run's line last; the wire bytes go at its end (empty if unknown).
  sed -i "\$ s/\$/\t${wire}/" "$raw"
  case "$id" in
    rsync_* | casync_* | curl_*) replicate_check_tree "$id" "$base/dest" ;;
  esac
  rm -rf "$base" "$json"
}

bench_replicate() {
  local raw="$BENCH_OUT/replicate-runs.tsv" tsv="$BENCH_OUT/replicate.tsv" md="$BENCH_OUT/replicate.md"
  local work="$BENCH_WORK/replicate" run id hub_pid rsync_pid nginx_pid
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  local hub_port="$BENCH_PORT_BASE" rsync_port=$((BENCH_PORT_BASE + 1)) nginx_port=$((BENCH_PORT_BASE + 3))
  local hub_url="http://127.0.0.1:$hub_port" nginx_url="http://127.0.0.1:$((BENCH_PORT_BASE + 3))"
  REPLICATE_BYTES="$(bench_size_bytes "$BENCH_SIZE")"

  # Media + the hub's store + the casync store + one destination at a time, with slack.
  local need_kib=$((REPLICATE_BYTES * 43 / 10240)) avail_kib
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
  bench_port_free "$nginx_port"

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

  # nginx's root: the media files themselves (a symlink to the directory rsync serves) and
  # casync's directory archive index and chunk store, made with casync's defaults.
  bench_log "replicate: casync make (the chunk store nginx serves to casync extract)"
  mkdir -p "$work/www"
  ln -s ../catalog/media "$work/www/media"
  casync make --store="$work/www/media.castr" "$work/www/media.caidx" "$work/catalog/media" \
    >"$work/casync-make.log" 2>&1 ||
    { tail -n 20 "$work/casync-make.log" >&2; bench_die "casync make failed"; }
  local castr_bytes castr_chunks
  castr_bytes="$(du -sb "$work/www/media.castr" | cut -f 1)"
  castr_chunks="$(find "$work/www/media.castr" -type f -name '*.cacnk' | wc -l)"
  # curl's configuration: one url/output pair per file, output relative to --output-dir.
  local rel
  while read -r rel; do
    printf 'url = "%s/media/%s"\noutput = "%s"\n' "$nginx_url" "$rel" "$rel"
  done < <(cd "$work/catalog/media" && find . -type f -printf '%P\n' | LC_ALL=C sort) >"$work/media.curl"
  REPLICATE_MANIFEST="$work/media.sha256"
  replicate_manifest "$work/catalog/media" >"$REPLICATE_MANIFEST"

  bench_spawn "$work/hub-serve.log" "$TIERSYNC" hub serve "$work/hub" --listen "127.0.0.1:$hub_port"
  hub_pid="$BENCH_SPAWNED"
  bench_wait_http "$hub_url/v1/status" 30 "$hub_pid" "$work/hub-serve.log"
  bench_rsyncd "$work" rsyncd "$work/catalog/media" "$rsync_port"
  rsync_pid="$BENCH_SPAWNED"
  bench_nginx "$work/nginx" "$work/www" "$nginx_port"
  nginx_pid="$BENCH_SPAWNED"
  bench_wait_http "$nginx_url/media.caidx" 10 "$nginx_pid" "$work/nginx/error.log"

  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\twire_bytes\n' >"$raw"
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    bench_log "replicate: round $run of $BENCH_RUNS"
    for id in "${ids[@]}"; do
      replicate_run_one "$raw" "$id" "$run" "$work" "$hub_url" "$rsync_port" "$nginx_url"
    done
  done
  bench_stop "$nginx_pid" "$hub_pid" "$rsync_pid"
  rm -rf "$work"

  declare -A med=() wire=()
  printf 'command\truns\tmedian_s\tmin_s\tmax_s\tmibps\tpeak_rss_kib\tbytes\tfiles\twire_bytes\n' >"$tsv"
  local line
  for id in "${ids[@]}"; do
    line="$(bench_summarise "$raw" media "$id" "$REPLICATE_BYTES")"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    wire[$id]="$(bench_column_median "$raw" "$id" 6)"
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$line" "$REPLICATE_BYTES" "$REPLICATE_FILES" "${wire[$id]}" >>"$tsv"
    med[$id]="$(cut -f 2 <<<"$line")"
  done

  {
    echo "# tiersync replicate benchmark"
    echo
    echo "Initial sync of a province node from the hub (HTTP) against rsync in daemon mode (its own" \
      "protocol), casync extracting from a chunk store served by nginx, and curl fetching the files" \
      "from nginx, all over TCP on loopback, same files, same run: $BENCH_SIZE ($REPLICATE_BYTES bytes) of" \
      "incompressible media in $REPLICATE_FILES files of 1-50 MiB (log-uniform), $BENCH_RUNS" \
      "interleaved runs per command. Wall-clock seconds and peak RSS (of the client side only:" \
      "the hub, the rsync daemon and nginx run throughout) from \`/usr/bin/time -f '%e %M'\`. Only the" \
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
      "no chroot;"
    echo "- casync: \`casync make --store=WWW/media.castr WWW/media.caidx MEDIA\` (untimed, casync's" \
      "defaults: 64 KiB average chunks, SHA-512/256, zstd; $castr_chunks chunk files, $castr_bytes bytes);"
    echo "- nginx on 127.0.0.1:$nginx_port (\`worker_processes auto\`, \`sendfile on\`, \`tcp_nopush on\`," \
      "a throwaway nginx.conf, run as the current user) with root WWW: \`media\` (a symlink to the" \
      "directory rsync serves), \`media.caidx\` and \`media.castr/\`; every request is logged" \
      "(bytes sent and request length, for the bytes-on-the-wire column);"
    echo "- curl: \`media.curl\`, one \`url = \"http://127.0.0.1:$nginx_port/media/ID/lesson.mp4\"\` and" \
      "\`output = \"ID/lesson.mp4\"\` pair per file (untimed), read by one curl process (its" \
      "connections are kept alive from file to file);"
    echo "- versions: $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(curl --version | head -n 1 | awk '{ print $1, $2 }')" \
      "(casync and rsync: see Machine)."
    echo
    echo "Before every timed run, untimed: a fresh empty destination (for tiersync \`node init\`," \
      "for the others nothing: they create DEST), \`sync\` (no dirty pages left from the previous run)," \
      "then \`cat\` of every file of the hub directory, of the media directory and of the casync" \
      "index and store, so every source is in the page cache (they are different bytes on disk: the" \
      "hub serves from its chunk store, casync from its own, rsync and curl from the media files)." \
      "Each run's directory RUN (NODE is RUN/node, DEST is RUN/dest) is \`$BENCH_WORK/replicate/run\`" \
      "on disk, \`${BENCH_SHM:-n/a}/replicate-run\` on tmpfs; it is deleted after the run. Every" \
      "tiersync run is checked to have fetched at least the media's bytes; after every rsync, casync" \
      "and curl run (untimed) the destination must hold exactly the media files: their count, total" \
      "bytes and each file's SHA-256."
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
    echo "- **casync**: fetches the index, then every chunk it names with one GET each, one at a" \
      "time over a kept-alive connection (its casync-http helper, to which it hands the" \
      "requests as files and symlinks in a queue directory under \$TMPDIR: here RUN/tmp, on the" \
      "same file system as DEST, where the default would be /var/tmp), decompresses it (zstd) and" \
      "checks its SHA-512/256 against its id, then writes the files and their metadata (owner," \
      "mode, times); the index itself is trusted as fetched (no signature here), no fsync."
    echo "- **curl**: one GET per file over a kept-alive connection (the --parallel row: up to 4" \
      "connections at once), written straight to DEST; it verifies nothing and flushes nothing:" \
      "the ceiling of fetching these files over HTTP on this machine."
    echo
    echo "## Results"
    echo
    echo "Bytes on the wire (median of the runs): for tiersync the hub's response bodies" \
      "(\`tiersync_http_response_bytes_total\` in its \`/metrics\`, summed over endpoints, before and" \
      "after the run; no headers, no requests); for casync and curl nginx's \`bytes_sent\` +" \
      "\`request_length\` of every request (headers included); for rsync the daemon's" \
      "\`sent N bytes received M bytes\` log line (its protocol stream both ways). \"x media\" is that" \
      "divided by the media's $REPLICATE_BYTES bytes."
    echo
    echo "| command | median s | min s | max s | spread | MiB/s (at median) | peak RSS MiB (median) | bytes on the wire, MiB (x media) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    local m lo hi mibps rss spread wb wcell
    while IFS=$'\t' read -r id _ m lo hi mibps rss _ _ wb; do
      spread="$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { if (m > 0) printf "%.0f%%", (hi - lo) / m * 100; else print "n/a" }')"
      wcell="n/a"
      [ -n "$wb" ] && wcell="$(awk -v w="$wb" -v b="$REPLICATE_BYTES" 'BEGIN { printf "%.1f (%.3fx)", w / 1048576, w / b }')"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(replicate_label "$id")" "$m" "$lo" "$hi" "$spread" \
        "$mibps" "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')" "$wcell"
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
    for pair in tiersync_disk:rsync_disk tiersync_disk:rsync_fsync_disk tiersync_disk:casync_disk \
      tiersync_disk:curl_disk tiersync_disk:curl_parallel_disk tiersync_tmpfs:rsync_tmpfs \
      tiersync_tmpfs:casync_tmpfs tiersync_tmpfs:curl_tmpfs; do
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
    bench_goal_record replicate "initial sync: $(replicate_label tiersync_disk) >= ${REPLICATE_GOAL}x $(replicate_label rsync_disk)" \
      "${r}x" "$(bench_goal "$r" "$REPLICATE_GOAL")"
    echo
    echo "Raw runs: \`replicate-runs.tsv\` (with each run's bytes on the wire); summary:" \
      "\`replicate.tsv\` (seconds, MiB/s = MiB / median s, peak RSS in KiB, median bytes on the wire)."
  } >"$md"
  bench_log "replicate: wrote $md, $tsv, $raw"
}
