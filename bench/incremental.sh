# shellcheck shell=bash
# Incremental comparison: syncing the NEXT release (r1 -> r2) of a catalog of media and text
# files, bytes on the wire and time, tiersync (`node sync` of a province node at r1 from the hub)
# against rsync (daemon), casync (HTTP chunk store behind nginx) and zsync (per-file .zsync
# behind nginx), all in the same run on the same data, each starting from the r1 state. Sourced
# by bench/run.sh (see ingest.sh for the variables it sets). Writes BENCH_OUT/incremental.md,
# incremental.tsv and incremental-runs.tsv.
#
# Ports (127.0.0.1): $BENCH_PORT_BASE (default 19100) +50 the hub, +51 the rsync daemon, +52
# nginx serving the casync store and the zsync files, +53 nginx as a reverse proxy in front of
# the hub (to count every HTTP byte tiersync moves), +54 written into the node's configuration
# (node sync does not listen). Tests use 18100-18199.
#
# Shared helpers (lib.sh) used beyond the usual: bench_record (a resource record),
# bench_nginx_proxy (nginx as a counting reverse proxy), bench_goal_at_most (a goal on a ratio
# that must stay below a bound).

INCREMENTAL_GOAL_BYTES=1.1 # tiersync's wire bytes <= 1.1x the best peer's
INCREMENTAL_GOAL_TIME=1.0  # tiersync node sync >= 1.0x rsync in throughput (t_rsync / t_tiersync)
INCREMENTAL_IDS=(tiersync tiersync_proxy rsync rsync_fuzzy rsync_z_fuzzy casync zsync)
INCREMENTAL_PEERS=(rsync rsync_fuzzy rsync_z_fuzzy casync zsync)
INCREMENTAL_TEXT_PERCENT=10 # share of --size that is text-like documents
# Modification times of r1's files and of the files r2 changes or adds: fixed, so the data are
# the same on every run, and a release apart, as in real life (rsync's quick check compares
# size and mtime in whole seconds: an edit within the second of r1's copy would go unseen).
INCREMENTAL_R1_DATE="2026-09-01 00:00:00 UTC"
INCREMENTAL_R2_DATE="2027-02-15 00:00:00 UTC"

incremental_label() {
  case "$1" in
    tiersync) echo "tiersync node sync" ;;
    tiersync_proxy) echo "tiersync node sync via nginx proxy (byte count)" ;;
    rsync) echo "rsync daemon" ;;
    rsync_fuzzy) echo "rsync daemon --fuzzy" ;;
    rsync_z_fuzzy) echo "rsync daemon -z --fuzzy" ;;
    casync) echo "casync extract (HTTP store)" ;;
    zsync) echo "zsync (per file)" ;;
    *) echo "$1" ;;
  esac
}

incremental_command_text() {
  case "$1" in
    tiersync) echo "tiersync --json node sync NODE" ;;
    tiersync_proxy) echo "tiersync --json node sync NODE (its node.toml pointing at the proxy on PORT+53)" ;;
    rsync*) echo "rsync $(incremental_rsync_options "$1") --stats rsync://127.0.0.1:PORT/m/ DEST/" ;;
    casync) echo "casync extract --store=http://127.0.0.1:PORT/r2.castr --seed=R1COPY http://127.0.0.1:PORT/r2.caidx DEST" ;;
    zsync) echo "sh -c 'for each r2 file: zsync -q [-i R1COPY/<id>/<old name>] -o DEST/<id>/<name> http://127.0.0.1:PORT/zs/<id>/<name>.zsync'" ;;
  esac
}

# incremental_rsync_options ID: rsync's options in the rsync rows (--fuzzy needs --delete-after:
# with --delete the old name of a renamed file is gone before it could serve as a basis).
incremental_rsync_options() {
  case "$1" in
    rsync) echo "-a --delete" ;;
    rsync_fuzzy) echo "-a --delete-after --fuzzy" ;;
    rsync_z_fuzzy) echo "-az --delete-after --fuzzy" ;;
  esac
}

# incremental_sizes TOTAL MIN MAX SEED [COUNT]: file sizes, one a line, log-uniform between MIN
# and MAX (the Park-Miller generator of replicate_sizes, started at SEED: the same list on every
# machine). Without COUNT they sum to exactly TOTAL (the last file takes the rest); with COUNT,
# exactly COUNT sizes and TOTAL is ignored.
incremental_sizes() {
  awk -v total="$1" -v lo="$2" -v hi="$3" -v x="$4" -v count="${5:-0}" 'BEGIN {
    sum = 0; n = 0
    while (count > 0 ? n < count : sum < total) {
      x = (x * 16807) % 2147483647
      s = int(exp(log(lo) + (x / 2147483647) * (log(hi) - log(lo))))
      if (count == 0 && total - sum - s < lo) s = total - sum
      printf "%d\n", s
      sum += s; n++
    }
  }'
}

# incremental_mib BYTES -> MiB, 2 decimals.
incremental_mib() { awk -v b="$1" 'BEGIN { printf "%.2f", b / 1048576 }'; }

# incremental_sha FILE: its SHA-256 (openssl: SHA-NI; sha256sum is 4x slower here).
incremental_sha() { openssl dgst -sha256 -r "$1" | cut -d ' ' -f 1; }

# incremental_add_file DIR LIST KIND NUMBER SIZE SEED: one new resource in the publishing input
# DIR: `tiersync demo media` writes its file, its record follows; appends "id name kind size
# media_type title" to LIST. Media (kind media, video-like, incompressible) are
# k12-incr-v-NNNNN/lesson.mp4; documents (kind text) k12-incr-d-NNNNN/textbook.pdf (odd NUMBER)
# or notes.txt (even).
incremental_add_file() {
  local dir="$1" list="$2" kind="$3" number="$4" size="$5" seed="$6" id name type title file
  case "$kind" in
    media) id="$(printf 'k12-incr-v-%05d' "$number")"; name=lesson.mp4; type=video/mp4; title="bench lesson $number" ;;
    text)
      id="$(printf 'k12-incr-d-%05d' "$number")"
      title="bench document $number"
      if [ $((number % 2)) -eq 1 ]; then name=textbook.pdf; type=application/pdf; else name=notes.txt; type=text/plain; fi
      ;;
  esac
  mkdir -p "$dir/media/$id"
  file="$dir/media/$id/$name"
  "$TIERSYNC" demo media "$file" --kind "$kind" --size "$size" --seed "$seed" >/dev/null ||
    bench_die "tiersync demo media failed for $file"
  bench_record "$dir" "$id" "$name" "$type" "$size" "$(incremental_sha "$file")" "$title" false
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$name" "$kind" "$size" "$type" "$title" >>"$list"
}

# incremental_release1 DIR LIST TOTAL: release r1's publishing input in DIR (resources/, media/):
# TOTAL bytes, (100 - INCREMENTAL_TEXT_PERCENT)% video-like media of 1-50 MiB (log-uniform,
# generator seed 1: replicate's list for that total) and the rest text-like documents of
# 100 KiB-2 MiB (seed 2). Media file i: `demo media --kind media --seed i`; document j:
# `--kind text --seed 10000+j`. LIST gets one line per file (see incremental_add_file).
incremental_release1() {
  local dir="$1" list="$2" total="$3" text_total media_total i=0 size
  text_total=$((total * INCREMENTAL_TEXT_PERCENT / 100))
  media_total=$((total - text_total))
  mkdir -p "$dir/resources" "$dir/media"
  : >"$list"
  while read -r size; do
    i=$((i + 1))
    incremental_add_file "$dir" "$list" media "$i" "$size" "$i"
  done < <(incremental_sizes "$media_total" 1048576 $((50 * 1048576)) 1)
  i=0
  while read -r size; do
    i=$((i + 1))
    incremental_add_file "$dir" "$list" text "$i" "$size" $((10000 + i))
  done < <(incremental_sizes "$text_total" 102400 $((2 * 1048576)) 2)
  find "$dir/media" -type f -exec touch -d "$INCREMENTAL_R1_DATE" {} +
}

# incremental_release2 R1 R2 LIST1 LIST2 CHANGES: release r2 = a copy of r1 (cp -a, so unchanged
# files keep their mtime for rsync's quick check) with a realistic next release applied. Files
# are numbered per kind in LIST1's order (j = 1, 2, ...); by j % 10:
#   1 edited in place: 2 MiB (media) / 32 KiB (documents), at most a quarter of the file,
#     overwritten at a third of the file (dd conv=notrunc; size unchanged);
#   3 inserted into: 1 MiB / 16 KiB (at most a quarter) inserted at the middle (head + new + tail);
#   5 appended to: 4 MiB / 64 KiB;
#   7 renamed: same resource id, the file gets a new name (lesson.mp4 -> lesson-r2.mp4), same bytes;
#   9 retired: "retired": true in its record (hub publish refuses a removed record), file deleted;
#   others unchanged.
# New bytes come from `demo media --kind KIND --seed 20000+k`. Then ceil(n/20) new resources of
# each kind (media sizes from generator seed 3, documents seed 4; demo media seeds 30000+k for
# media, 31000+k for documents). Changed and new files get mtime INCREMENTAL_R2_DATE.
# LIST2 lists r2's served files; CHANGES gets "change id old_name new_name kind new_bytes" per
# changed file.
incremental_release2() {
  local r1="$1" r2="$2" list1="$3" list2="$4" changes="$5"
  local id name kind size type title jm=0 jt=0 j n off newname newsize k=0 tmp file retired change
  rm -rf "$r2"
  cp -a "$r1" "$r2"
  : >"$list2"
  : >"$changes"
  tmp="$r2.newbytes"
  while IFS=$'\t' read -r id name kind size type title <&3; do
    if [ "$kind" = media ]; then jm=$((jm + 1)); j=$jm; else jt=$((jt + 1)); j=$jt; fi
    file="$r2/media/$id/$name"
    newname="$name"
    newsize="$size"
    retired=false
    n=0
    case $((j % 10)) in
      1 | 3 | 5)
        k=$((k + 1))
        case "$((j % 10))$kind" in
          1media) change=edited; n=$((2 * 1048576)) ;;
          1text) change=edited; n=32768 ;;
          3media) change=inserted; n=1048576 ;;
          3text) change=inserted; n=16384 ;;
          5media) change=appended; n=$((4 * 1048576)) ;;
          5text) change=appended; n=65536 ;;
        esac
        if [ "$change" != appended ] && [ "$n" -gt $((size / 4)) ]; then n=$((size / 4)); fi
        "$TIERSYNC" demo media "$tmp" --kind "$kind" --size "$n" --seed $((20000 + k)) >/dev/null ||
          bench_die "tiersync demo media failed for $tmp"
        case "$change" in
          edited)
            off=$((size / 3))
            dd if="$tmp" of="$file" bs=1M seek="$off" oflag=seek_bytes conv=notrunc status=none ||
              bench_die "dd into $file failed"
            ;;
          inserted)
            off=$((size / 2))
            { head -c "$off" "$file" && cat "$tmp" && tail -c +$((off + 1)) "$file"; } >"$file.new" ||
              bench_die "inserting into $file failed"
            mv "$file.new" "$file"
            newsize=$((size + n))
            ;;
          appended)
            cat "$tmp" >>"$file"
            newsize=$((size + n))
            ;;
        esac
        rm -f "$tmp"
        touch -d "$INCREMENTAL_R2_DATE" "$file"
        ;;
      7)
        change=renamed
        newname="${name%.*}-r2.${name##*.}"
        mv "$file" "$r2/media/$id/$newname"
        ;;
      9)
        change=retired
        retired=true
        rm -f "$file"
        ;;
      *) change="" ;;
    esac
    if [ -n "$change" ]; then
      if [ "$retired" = true ]; then
        bench_record "$r2" "$id" "$name" "$type" "$size" "$(awk -F '"' '/"sha256"/ { print $4 }' "$r1/resources/$id.json")" "$title" true
      else
        bench_record "$r2" "$id" "$newname" "$type" "$newsize" "$(incremental_sha "$r2/media/$id/$newname")" "$title" false
      fi
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$change" "$id" "$name" "$newname" "$kind" "$n" >>"$changes"
    fi
    [ "$retired" = true ] || printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$newname" "$kind" "$newsize" "$type" "$title" >>"$list2"
  done 3<"$list1"
  # New resources, numbered after r1's of the same kind.
  local newlist="$r2.new" i
  : >"$newlist"
  i=0
  while read -r size; do
    i=$((i + 1))
    incremental_add_file "$r2" "$newlist" media $((jm + i)) "$size" $((30000 + i))
  done < <(incremental_sizes 0 1048576 $((50 * 1048576)) 3 $(((jm + 19) / 20)))
  i=0
  while read -r size; do
    i=$((i + 1))
    incremental_add_file "$r2" "$newlist" text $((jt + i)) "$size" $((31000 + i))
  done < <(incremental_sizes 0 102400 $((2 * 1048576)) 4 $(((jt + 19) / 20)))
  while IFS=$'\t' read -r id name kind size type title; do
    touch -d "$INCREMENTAL_R2_DATE" "$r2/media/$id/$name"
    printf 'added\t%s\t-\t%s\t%s\t%s\n' "$id" "$name" "$kind" "$size" >>"$changes"
  done <"$newlist"
  cat "$newlist" >>"$list2"
  rm -f "$newlist"
}

# incremental_tree_sums DIR: "sha256 relative/path" of every file under DIR, sorted by path.
incremental_tree_sums() {
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 -r openssl dgst -sha256 -r) |
    sed 's/ \*\.\// /'
}

# incremental_hub_counters URL: "response_body_bytes requests" summed over every endpoint of
# the hub's /metrics (tiersync_http_response_bytes_total, tiersync_http_requests_total).
incremental_hub_counters() {
  curl -sf --max-time 5 "$1/metrics" | awk '
    /^tiersync_http_response_bytes_total/ { b += $NF }
    /^tiersync_http_requests_total/ { r += $NF }
    END { printf "%.0f %.0f\n", b, r }' || bench_die "could not read $1/metrics"
}


# Puts every server side in the page cache: the hub's directory (what tiersync is served from),
# r2's media (rsync), the nginx root (casync store and index, .zsync files; the zsync targets
# are hard links to r2's media).
incremental_warm() {
  find "$INCREMENTAL_WORK/hub" "$INCREMENTAL_WORK/r2/media" "$INCREMENTAL_WORK/www" -type f \
    -exec cat {} + >/dev/null
}

# Checks that DIR holds exactly r2's media tree (same paths, same SHA-256).
incremental_check_tree() {
  local id="$1" dir="$2"
  incremental_tree_sums "$dir" >"$INCREMENTAL_WORK/run.sums"
  cmp -s "$INCREMENTAL_WORK/run.sums" "$INCREMENTAL_WORK/r2.sums" || {
    diff "$INCREMENTAL_WORK/r2.sums" "$INCREMENTAL_WORK/run.sums" | head -n 10 >&2 || true
    bench_die "$(incremental_label "$id"): the result differs from r2's media tree (first differences above: < r2, > result)"
  }
}

# One timed run of ID: restore the r1 state (untimed), sync, warm the servers, run, check the
# result is r2, count the bytes on the wire; appends one line to the runs file.
incremental_run_one() {
  local runs="$1" id="$2" run="$3" w="$INCREMENTAL_WORK"
  local base="$w/run" raw="$w/measure.tsv" out="$w/run.out" before after wire=0 to_client=0 to_server=0 requests=0 fetched=0
  rm -rf "$base"
  mkdir -p "$base"
  : >"$raw"
  case "$id" in
    tiersync | tiersync_proxy)
      cp -a "$w/node-r1" "$base/node"
      if [ "$id" = tiersync_proxy ]; then
        # The same node, its sources pointed at the counting proxy instead of the hub.
        sed -i "s|$INCREMENTAL_HUB_URL|$INCREMENTAL_PROXY_URL|g" "$base/node/node.toml"
        grep -q "$INCREMENTAL_PROXY_URL" "$base/node/node.toml" ||
          bench_die "could not point the node's node.toml at the proxy"
      fi
      ;;
    *) cp -a "$w/r1/media" "$base/r1" ;;
  esac
  case "$id" in zsync) mkdir -p "$base/dest" ;; esac
  sync
  incremental_warm
  : >"$w/www-nginx/access.log"
  : >"$w/proxy/access.log"
  local reqs_before
  read -r before reqs_before < <(incremental_hub_counters "$INCREMENTAL_HUB_URL")
  case "$id" in
    tiersync | tiersync_proxy)
      # shellcheck disable=SC2016 # $0.. are sh's arguments
      bench_measure "$raw" incremental "$id" "$run" -- sh -c '"$0" --json node sync "$1" >"$2"' \
        "$TIERSYNC" "$base/node" "$out"
      ;;
    rsync | rsync_fuzzy | rsync_z_fuzzy)
      # shellcheck disable=SC2016,SC2086 # $0.. are sh's arguments; the options split on purpose
      bench_measure "$raw" incremental "$id" "$run" -- sh -c 'rsync $3 --stats "$0" "$1" >"$2"' \
        "rsync://127.0.0.1:$INCREMENTAL_RSYNC_PORT/m/" "$base/r1/" "$out" "$(incremental_rsync_options "$id")"
      ;;
    casync)
      bench_measure "$raw" incremental "$id" "$run" -- casync extract \
        "--store=$INCREMENTAL_WWW_URL/r2.castr" "--seed=$base/r1" "$INCREMENTAL_WWW_URL/r2.caidx" "$base/dest"
      ;;
    zsync)
      # One shell runs every zsync, so one /usr/bin/time covers the whole update; paths in the
      # list are relative to the run directory.
      # shellcheck disable=SC2016
      bench_measure "$raw" incremental "$id" "$run" -- sh -c '
        cd "$0" || exit 1
        while IFS="	" read -r url new old; do
          mkdir -p "${new%/*}" || exit 1
          if [ -n "$old" ]; then zsync -q -i "$old" -o "$new" "$url" || exit 1
          else zsync -q -o "$new" "$url" || exit 1; fi
        done <"$1"' "$base" "$w/zsync.list"
      ;;
  esac
  local line
  line="$(tail -n 1 "$raw")"
  # nginx logs a request once it has handed the last byte to the kernel, which can be just after
  # the client has read it and exited: give it a moment before the logs are added up.
  sleep 0.2
  [ -n "$line" ] || bench_die "no measurement recorded for $id run $run"
  after="$(incremental_hub_counters "$INCREMENTAL_HUB_URL")"
  # Check the result and count the bytes.
  case "$id" in
    tiersync | tiersync_proxy)
      grep -q '"release": "r2"' "$out" ||
        bench_die "$(incremental_label "$id") did not end at r2: $(tr -d '\n' <"$out")"
      local files
      files="$(bench_json_int "$out" files)"
      [ "${files:-0}" = "$INCREMENTAL_R2_FILES" ] ||
        bench_die "$(incremental_label "$id") serves ${files:-no} files, r2 has $INCREMENTAL_R2_FILES: $(tr -d '\n' <"$out")"
      fetched="$(bench_json_int "$out" fetched_bytes)"
      # The hub's own counters: response bodies of the /v1 repository endpoints (not the git
      # endpoints, not headers, not request bodies: see the report).
      to_client=$((${after% *} - before))
      requests=$((${after#* } - reqs_before))
      to_server=0
      wire="$to_client"
      if [ "$id" = tiersync_proxy ]; then
        # Every HTTP byte through the proxy, both ways, headers and bodies (this script reads
        # /metrics from the hub directly, not through the proxy).
        read -r to_client to_server requests < <(bench_nginx_bytes "$w/proxy/access.log")
        wire=$((to_client + to_server))
        # Kept for the reader: every request tiersync made (the last round's).
        cp "$w/proxy/access.log" "$BENCH_OUT/incremental-tiersync-requests.log"
      fi
      ;;
    rsync | rsync_fuzzy | rsync_z_fuzzy)
      incremental_check_tree "$id" "$base/r1"
      # rsync's own count of its protocol bytes (client side): sent = to the daemon.
      to_server="$(awk -F ':' '/^Total bytes sent:/ { gsub(/[^0-9]/, "", $2); print $2 }' "$out")"
      to_client="$(awk -F ':' '/^Total bytes received:/ { gsub(/[^0-9]/, "", $2); print $2 }' "$out")"
      if [ -z "$to_server" ] || [ -z "$to_client" ]; then
        bench_die "no --stats in rsync's output: $(head -c 2000 "$out")"
      fi
      wire=$((to_client + to_server))
      requests=1
      ;;
    casync | zsync)
      incremental_check_tree "$id" "$base/dest"
      read -r to_client to_server requests < <(bench_nginx_bytes "$w/www-nginx/access.log")
      wire=$((to_client + to_server))
      if grep -qv '^20[06] ' "$w/www-nginx/access.log"; then
        grep -v '^20[06] ' "$w/www-nginx/access.log" | head -n 5 >&2
        bench_die "$(incremental_label "$id"): nginx answered requests with errors (above)"
      fi
      ;;
  esac
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$line" "$wire" "$to_client" "$to_server" "$requests" "$fetched" >>"$runs"
  bench_log "    wire bytes $wire (to the client $to_client, to the server $to_server, $requests requests)"
  rm -rf "$base" "$out"
}

bench_incremental() {
  local runs_tsv="$BENCH_OUT/incremental-runs.tsv" tsv="$BENCH_OUT/incremental.tsv" md="$BENCH_OUT/incremental.md"
  local w="$BENCH_WORK/incremental" run id
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  INCREMENTAL_WORK="$w"
  local hub_port=$((BENCH_PORT_BASE + 50)) www_port=$((BENCH_PORT_BASE + 52)) proxy_port=$((BENCH_PORT_BASE + 53))
  INCREMENTAL_RSYNC_PORT=$((BENCH_PORT_BASE + 51))
  INCREMENTAL_HUB_URL="http://127.0.0.1:$hub_port"
  INCREMENTAL_WWW_URL="http://127.0.0.1:$www_port"
  INCREMENTAL_PROXY_URL="http://127.0.0.1:$proxy_port"
  local total
  total="$(bench_size_bytes "$BENCH_SIZE")"

  # r1, r2, the hub's store, the node at r1, the casync store, and during a run one node copy
  # or one r1 copy plus one destination: about 8.5x --size; ask for 9x.
  local need_kib=$((total * 9 / 1024)) avail_kib
  avail_kib="$(df -Pk "$BENCH_WORK" | awk 'NR == 2 { print $4 }')"
  [ "$avail_kib" -ge "$need_kib" ] ||
    bench_die "incremental: not enough disk space in $BENCH_WORK: need $((need_kib / 1024)) MiB, have $((avail_kib / 1024)) MiB"
  local port
  for port in "$hub_port" "$INCREMENTAL_RSYNC_PORT" "$www_port" "$proxy_port"; do bench_port_free "$port"; done

  rm -rf "$w"
  mkdir -p "$w/logs" "$w/www-nginx" "$w/proxy" "$w/www/zs"

  # --- Data: r1 and r2 (untimed). -------------------------------------------------------------
  bench_log "incremental: generating release r1 ($BENCH_SIZE: media of 1-50 MiB, ${INCREMENTAL_TEXT_PERCENT}% documents of 100 KiB-2 MiB)"
  incremental_release1 "$w/r1" "$w/r1.list" "$total"
  bench_log "incremental: generating release r2 (edits, inserts, appends, renames, retirements, new files)"
  incremental_release2 "$w/r1" "$w/r2" "$w/r1.list" "$w/r2.list" "$w/changes.tsv"
  local r1_files r2_files r1_bytes r2_bytes changed_bytes
  r1_files="$(wc -l <"$w/r1.list")"
  r2_files="$(wc -l <"$w/r2.list")"
  INCREMENTAL_R2_FILES="$r2_files"
  r1_bytes="$(awk -F '\t' '{ s += $4 } END { printf "%.0f", s }' "$w/r1.list")"
  r2_bytes="$(awk -F '\t' '{ s += $4 } END { printf "%.0f", s }' "$w/r2.list")"
  changed_bytes="$(awk -F '\t' '{ s += $6 } END { printf "%.0f", s }' "$w/changes.tsv")"
  [ "$changed_bytes" -gt 0 ] || bench_die "incremental: r2 changed nothing"
  # Per change and kind: files and new bytes.
  declare -A change_files=() change_bytes=()
  local change kind n
  while IFS=$'\t' read -r change _ _ _ kind n; do
    change_files[$change.$kind]=$((${change_files[$change.$kind]:-0} + 1))
    change_bytes[$change.$kind]=$((${change_bytes[$change.$kind]:-0} + n))
  done <"$w/changes.tsv"
  local summary=""
  for change in edited inserted appended renamed retired added; do
    summary+=" $change ${change_files[$change.media]:-0}+${change_files[$change.text]:-0}"
  done
  bench_log "incremental: changed files (media+documents):$summary"
  incremental_tree_sums "$w/r2/media" >"$w/r2.sums"
  [ "$(wc -l <"$w/r2.sums")" = "$r2_files" ] || bench_die "incremental: r2's media tree does not hold its $r2_files files"
  bench_log "incremental: r1 $r1_files files ($r1_bytes bytes), r2 $r2_files files ($r2_bytes bytes), $changed_bytes new bytes"

  # --- tiersync: hub with r1, a province node synced to r1, then r2 published (untimed). --------
  bench_log "incremental: hub init, hub publish r1, node sync to r1, hub publish r2"
  bench_keys_and_hub "$w"
  "$TIERSYNC" hub publish "$w/hub" --input "$w/r1" "${BENCH_SIGN[@]}" -m r1 >"$w/logs/publish-r1.log" 2>&1 ||
    { tail -n 20 "$w/logs/publish-r1.log" >&2; bench_die "tiersync hub publish of r1 failed"; }
  bench_spawn "$w/logs/hub.log" "$TIERSYNC" hub serve "$w/hub" --listen "127.0.0.1:$hub_port"
  local pids=("$BENCH_SPAWNED")
  bench_wait_http "$INCREMENTAL_HUB_URL/v1/status" 30 "$BENCH_SPAWNED" "$w/logs/hub.log"
  "$TIERSYNC" node init "$w/node-r1" --name 浙江省教育厅 --tier province --region 330000 \
    --listen "127.0.0.1:$((BENCH_PORT_BASE + 54))" --upstream "$INCREMENTAL_HUB_URL" --national "$INCREMENTAL_HUB_URL" \
    --root "$w/hub/tuf/metadata/1.root.json" --subscription all >/dev/null || bench_die "tiersync node init failed"
  "$TIERSYNC" --json node sync "$w/node-r1" >"$w/sync-r1.json" 2>"$w/logs/sync-r1.log" ||
    { tail -n 20 "$w/logs/sync-r1.log" >&2; bench_die "tiersync node sync to r1 failed"; }
  grep -q '"release": "r1"' "$w/sync-r1.json" || bench_die "the node did not reach r1: $(tr -d '\n' <"$w/sync-r1.json")"
  "$TIERSYNC" hub publish "$w/hub" --input "$w/r2" "${BENCH_SIGN[@]}" -m r2 >"$w/logs/publish-r2.log" 2>&1 ||
    { tail -n 20 "$w/logs/publish-r2.log" >&2; bench_die "tiersync hub publish of r2 failed"; }
  # The hub serve re-reads the newest release every second; wait until its git endpoint
  # advertises r2 so the first timed run does not race it.
  local i
  for ((i = 0; i < 100; i++)); do
    curl -sf --max-time 2 "$INCREMENTAL_HUB_URL/v1/catalog.git/info/refs?service=git-upload-pack" |
      grep -aq 'refs/tags/r2' && break
    sleep 0.1
  done
  [ "$i" -lt 100 ] || bench_die "the hub does not advertise r2 10 s after publishing it"
  local hub_bytes
  hub_bytes="$(du -sb "$w/hub" | cut -f 1)"
  bench_nginx_proxy "$w/proxy" "$hub_port" "$proxy_port"
  pids+=("$BENCH_SPAWNED")

  # --- Peers (untimed): rsync daemon on r2's media; casync store and index and .zsync files
  # under one nginx root. ---------------------------------------------------------------------
  bench_log "incremental: rsync daemon, casync make, zsyncmake, nginx"
  bench_rsyncd "$w" rsyncd "$w/r2/media" "$INCREMENTAL_RSYNC_PORT"
  pids+=("$BENCH_SPAWNED")
  casync make "--store=$w/www/r2.castr" "$w/www/r2.caidx" "$w/r2/media" >"$w/logs/casync-make.log" 2>&1 ||
    { tail -n 20 "$w/logs/casync-make.log" >&2; bench_die "casync make failed"; }
  # zsync: each r2 file hard-linked under www/zs/<id>/<name> with its .zsync beside it (relative
  # URL); the list gives, per r2 file, its .zsync URL, its destination and its r1 seed (the file
  # of the same resource in r1, under its old name if renamed; none for a new resource).
  : >"$w/zsync.list"
  local name size type title old
  while IFS=$'\t' read -r id name kind size type title <&3; do
    mkdir -p "$w/www/zs/$id"
    ln "$w/r2/media/$id/$name" "$w/www/zs/$id/$name"
    (cd "$w/www/zs/$id" && zsyncmake -u "$name" -o "$name.zsync" "$name") >>"$w/logs/zsyncmake.log" 2>&1 ||
      { tail -n 20 "$w/logs/zsyncmake.log" >&2; bench_die "zsyncmake failed for $id/$name"; }
    old="$(awk -F '\t' -v id="$id" '$1 == id { print $2; exit }' "$w/r1.list")"
    [ -n "$old" ] && old="r1/$id/$old"
    printf '%s\t%s\t%s\n' "$INCREMENTAL_WWW_URL/zs/$id/$name.zsync" "dest/$id/$name" "$old" >>"$w/zsync.list"
  done 3<"$w/r2.list"
  local castr_bytes caidx_bytes zsync_meta_bytes
  castr_bytes="$(du -sb "$w/www/r2.castr" | cut -f 1)"
  caidx_bytes="$(stat -c %s "$w/www/r2.caidx")"
  zsync_meta_bytes="$(find "$w/www/zs" -name '*.zsync' -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f", s }')"
  bench_nginx "$w/www-nginx" "$w/www" "$www_port"
  pids+=("$BENCH_SPAWNED")

  # --- Timed runs, interleaved. -----------------------------------------------------------------
  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\twire_bytes\tto_client_bytes\tto_server_bytes\trequests\ttiersync_fetched_bytes\n' >"$runs_tsv"
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    bench_log "incremental: round $run of $BENCH_RUNS"
    for id in "${INCREMENTAL_IDS[@]}"; do
      incremental_run_one "$runs_tsv" "$id" "$run"
    done
  done
  local i_pid
  for ((i_pid = ${#pids[@]} - 1; i_pid >= 0; i_pid--)); do bench_stop "${pids[$i_pid]}"; done

  # --- Summary. ---------------------------------------------------------------------------------
  declare -A med=() wire=()
  local line m lo hi r
  printf 'command\truns\tmedian_s\tmin_s\tmax_s\twire_bytes\tpeak_rss_kib\tto_client_bytes\tto_server_bytes\trequests\ttiersync_fetched_bytes\tchanged_bytes\twire_per_changed\n' >"$tsv"
  for id in "${INCREMENTAL_IDS[@]}"; do
    line="$(bench_summarise "$runs_tsv" incremental "$id" 1)"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    IFS=$'\t' read -r n m lo hi _ r <<<"$line"
    med[$id]="$m"
    wire[$id]="$(bench_column_median "$runs_tsv" "$id" 6)"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$n" "$m" "$lo" "$hi" "${wire[$id]}" "$r" \
      "$(bench_column_median "$runs_tsv" "$id" 7)" "$(bench_column_median "$runs_tsv" "$id" 8)" \
      "$(bench_column_median "$runs_tsv" "$id" 9)" "$(bench_column_median "$runs_tsv" "$id" 10)" "$changed_bytes" \
      "$(awk -v a="${wire[$id]}" -v b="$changed_bytes" 'BEGIN { printf "%.3f", a / b }')" >>"$tsv"
  done
  local best="" p
  for p in "${INCREMENTAL_PEERS[@]}"; do
    if [ -z "$best" ] || [ "${wire[$p]}" -lt "${wire[$best]}" ]; then best="$p"; fi
  done
  local tiersync_metrics_wire="${wire[tiersync]}" tiersync_wire="${wire[tiersync_proxy]}"
  local fetched_med
  fetched_med="$(bench_column_median "$runs_tsv" tiersync 10)"

  {
    echo "# tiersync incremental benchmark"
    echo
    echo "Syncing the next release (r1 -> r2) of the same catalog, bytes on the wire and time:" \
      "\`tiersync node sync\` of a province node at r1 from the hub (HTTP) against rsync in daemon" \
      "mode, casync (an HTTP chunk store behind nginx) and zsync (one .zsync per file behind nginx)," \
      "each starting from r1, all over TCP on loopback in the same run: $BENCH_SIZE of data" \
      "($r1_files files), $BENCH_RUNS interleaved runs per command. Wall-clock seconds and peak RSS" \
      "(of the client only: the servers run throughout) from \`/usr/bin/time -f '%e %M'\`. Only the" \
      "ratios compare; absolute figures on these shared machines vary by up to 2x between runs."
    echo
    bench_machine_md
    echo
    echo "## Data"
    echo
    echo "- r1 ($r1_files files, $r1_bytes bytes): $((100 - INCREMENTAL_TEXT_PERCENT))% of" \
      "\`--size\` in video-like media (\`tiersync demo media FILE --kind media --size BYTES --seed i\`," \
      "incompressible, 1-50 MiB log-uniform as in replicate), $INCREMENTAL_TEXT_PERCENT% in text-like" \
      "documents (\`--kind text --seed 10000+j\`, 100 KiB-2 MiB log-uniform, \`textbook.pdf\` or" \
      "\`notes.txt\`); one national resource record per file (\`resources/<id>.json\`," \
      "docs/formats/catalog.md)."
    echo "- r2 ($r2_files files, $r2_bytes bytes): r1 copied with \`cp -a\` (unchanged files keep their" \
      "mtime), then files numbered per kind in r1's order, by number mod 10: 1 edited in place, 3" \
      "inserted into, 5 appended to, 7 renamed, 9 retired; ceil(n/20) new resources per kind. New" \
      "bytes are \`tiersync demo media --kind KIND --seed 20000+k\` (new files: 30000+k media," \
      "31000+k documents). r1's files have mtime $INCREMENTAL_R1_DATE, the files r2 changes or" \
      "adds $INCREMENTAL_R2_DATE (a renamed file keeps r1's)."
    echo
    echo "| change | media files | media new bytes | document files | document new bytes | how |"
    echo "|---|---:|---:|---:|---:|---|"
    local how
    for change in edited inserted appended renamed retired added; do
      case "$change" in
        edited) how="2 MiB (media) / 32 KiB (documents), at most a quarter of the file, overwritten at a third of it: \`dd of=FILE bs=1M seek=OFFSET oflag=seek_bytes conv=notrunc\`" ;;
        inserted) how="1 MiB / 16 KiB (at most a quarter) inserted at the middle: \`head -c OFF; cat NEW; tail -c +OFF+1\`" ;;
        appended) how="4 MiB / 64 KiB appended: \`cat NEW >>FILE\`" ;;
        renamed) how="same resource id, the file renamed (\`lesson.mp4\` -> \`lesson-r2.mp4\`, \`notes.txt\` -> \`notes-r2.txt\`), same bytes" ;;
        retired) how="\`\"retired\": true\` in the record (hub publish refuses a removed record), the file deleted" ;;
        added) how="new resources (media sizes log-uniform 1-50 MiB, documents 100 KiB-2 MiB)" ;;
      esac
      printf '| %s | %s | %s | %s | %s | %s |\n' "$change" "${change_files[$change.media]:-0}" \
        "${change_bytes[$change.media]:-0}" "${change_files[$change.text]:-0}" "${change_bytes[$change.text]:-0}" "$how"
    done
    echo
    echo "**Changed bytes: $changed_bytes ($(incremental_mib "$changed_bytes") MiB)**, the sum of the new bytes" \
      "r2 introduced (overwritten, inserted, appended, new files; renames and retirements add" \
      "none): what a perfect delta would have to move (before compression: the documents' text" \
      "compresses, so a compressing transfer can move less). The \"x changed\" column below is" \
      "wire bytes / changed bytes."
    echo
    echo "## Setup (untimed)"
    echo
    echo "- tiersync: \`tiersync keys gen\` x4, \`tiersync hub init\`, \`tiersync hub publish HUB --input R1" \
      "-k ... -m r1\`, \`tiersync hub serve HUB --listen 127.0.0.1:$hub_port\`; a province node" \
      "\`tiersync node init NODE --tier province --region 330000 --upstream HUB_URL --national" \
      "HUB_URL --root HUB/tuf/metadata/1.root.json --subscription all\`, \`tiersync node sync NODE\`" \
      "(r1), kept as the pristine r1 node; then \`tiersync hub publish HUB --input R2 -k ... -m r2\`" \
      "(a separate input directory: the whole r2 catalog; the hub directory then holds $hub_bytes" \
      "bytes). The proxy row uses the same node with its \`node.toml\` sources pointed at nginx" \
      "on port $proxy_port, a reverse proxy to the hub (HTTP/1.1 keep-alive, no buffering)."
    echo "- rsync: \`rsync --daemon --no-detach --address=127.0.0.1 --port=$INCREMENTAL_RSYNC_PORT\`," \
      "module \`m\` = r2's \`media/\` directory (throwaway rsyncd.conf, read-only, no auth)."
    echo "- casync: \`casync make --store=WWW/r2.castr WWW/r2.caidx R2/media\` (defaults: 64 KiB average" \
      "chunks, zstd-compressed chunk files; the store holds $castr_bytes bytes, the index" \
      "$caidx_bytes)."
    echo "- zsync: every r2 file hard-linked as \`WWW/zs/<id>/<name>\` and \`zsyncmake -u <name> -o" \
      "<name>.zsync <name>\` beside it (defaults; the .zsync files hold $zsync_meta_bytes bytes)."
    echo "- nginx (\`bench_nginx\`: static files, sendfile) serves WWW on port $www_port and logs" \
      "every request's \`\$bytes_sent\` and \`\$request_length\`."
    echo
    echo "## Commands"
    echo
    echo "Before every timed run, untimed: the client's r1 state is restored (tiersync: \`cp -a\` of" \
      "the pristine r1 node directory; the peers: \`cp -a\` of r1's media tree as R1COPY/DEST), \`sync\`," \
      "and every file the servers read (the hub directory, r2's media, the nginx root) is read with" \
      "\`cat\` into the page cache. The runs are interleaved: round 1 runs every command once, then" \
      "round 2, ..."
    echo
    echo "| label | command | bytes on the wire counted as |"
    echo "|---|---|---|"
    for id in "${INCREMENTAL_IDS[@]}"; do
      case "$id" in
        tiersync) how="the hub's \`/metrics\`, before and after: \`tiersync_http_response_bytes_total\` summed over all endpoints (response bodies of the /v1 repository endpoints only; see below)" ;;
        tiersync_proxy) how="the proxy's access log: \`\$bytes_sent\` + \`\$request_length\` of every request (all HTTP bytes both ways, headers, git smart HTTP and request bodies included); **the tiersync figure used in the ratios and goals**" ;;
        rsync | rsync_fuzzy | rsync_z_fuzzy) how="rsync's \`--stats\`: Total bytes sent + Total bytes received (its protocol stream both ways)" ;;
        casync | zsync) how="nginx's access log: \`\$bytes_sent\` + \`\$request_length\` of every request" ;;
      esac
      echo "| $(incremental_label "$id") | \`$(incremental_command_text "$id")\` | $how |"
    done
    echo
    echo "Each run's result is checked: tiersync's \`--json\` output must say release r2 with r2's" \
      "$r2_files files; the peers' trees must equal r2's media tree (a sorted \`openssl dgst -sha256\`" \
      "list of every path), and nginx must have answered every casync and zsync request with 200 or 206." \
      "rsync updates R1COPY in place (\`--delete\`; \`--fuzzy\` looks for a" \
      "similar file in the same directory as a basis, so it finds a renamed file; it needs" \
      "\`--delete-after\`, else the old name is deleted first; \`-z\` compresses the stream, as" \
      "tiersync sends chunks it stores compressed as zstd frames). casync extracts r2 into a new DEST," \
      "reusing chunks of R1COPY (\`--seed\`). zsync runs once per r2 file in one \`sh -c\`, each seeded" \
      "(\`-i\`) with the r1 file of the same resource (a renamed file's old name: zsync is told about" \
      "renames, which rsync is not) and writing DEST/<id>/<name>; new files have no seed and are" \
      "fetched whole; retired files are simply not produced."
    echo
    echo "What the hub's /metrics does not count: \`tiersync_http_response_bytes_total\` counts the" \
      "response bodies of the repository endpoints (/v1/metadata, /v1/targets, /v1/chunks," \
      "/v1/chunks/batch, /v1/indexes, /v1/status); the catalog over git smart HTTP" \
      "(/v1/catalog.git/...) and /v1/events are answered outside that counter, response headers" \
      "are not counted, and there is no counter of request bytes (the chunk ids POSTed to" \
      "/v1/chunks/batch, the git negotiation). Hence the proxy row."
    echo
    echo "## Results"
    echo
    echo "Wire bytes are medians over the runs; \"x changed\" = wire bytes / $changed_bytes changed bytes."
    echo
    echo "| command | median s | min s | max s | spread | wire bytes | MiB | x changed | requests | peak RSS MiB (median) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    local reqs spread
    while IFS=$'\t' read -r id _ m lo hi p r _ _ reqs _ _ _; do
      spread="$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { if (m > 0) printf "%.0f%%", (hi - lo) / m * 100; else print "n/a" }')"
      printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$(incremental_label "$id")" "$m" "$lo" "$hi" \
        "$spread" "$p" "$(incremental_mib "$p")" "$(awk -v a="$p" -v b="$changed_bytes" 'BEGIN { printf "%.2f", a / b }')" "$reqs" \
        "$(awk -v r="$r" 'BEGIN { printf "%.1f", r / 1024 }')"
    done < <(tail -n +2 "$tsv")
    echo
    echo "tiersync's own figures (its \`--json\` output, median): fetched_bytes $fetched_med (verified" \
      "chunk bytes received). The hub's /metrics counted $tiersync_metrics_wire response body bytes" \
      "per sync; through the proxy the same sync moved $tiersync_wire HTTP bytes" \
      "($(awk -v a="$tiersync_wire" -v b="$tiersync_metrics_wire" 'BEGIN { printf "%.0f", a - b }') more:" \
      "git, headers, requests)."
    echo
    echo "## Ratios"
    echo
    echo "Time: throughput ratio = t_peer / t_tiersync (medians; above 1 tiersync is faster)." \
      "Bytes: tiersync's wire bytes (the proxy's count) / the peer's (below 1 tiersync moves less)."
    echo
    echo "| tiersync vs | time (throughput ratio) | bytes (tiersync / peer) |"
    echo "|---|---:|---:|"
    for p in "${INCREMENTAL_PEERS[@]}"; do
      printf '| %s | %sx | %s |\n' "$(incremental_label "$p")" "$(bench_ratio "${med[$p]}" "${med[tiersync]}")" \
        "$(awk -v a="$tiersync_wire" -v b="${wire[$p]}" 'BEGIN { printf "%.3f", a / b }')"
    done
    printf '| best peer by bytes: %s | %sx | %s |\n' "$(incremental_label "$best")" \
      "$(bench_ratio "${med[$best]}" "${med[tiersync]}")" \
      "$(awk -v a="$tiersync_wire" -v b="${wire[$best]}" 'BEGIN { printf "%.3f", a / b }')"
    echo
    echo "## Goals"
    echo
    local rb rt
    rb="$(awk -v a="$tiersync_wire" -v b="${wire[$best]}" 'BEGIN { printf "%.3f", a / b }')"
    rt="$(bench_ratio "${med[rsync]}" "${med[tiersync]}")"
    echo "| goal | measured | result |"
    echo "|---|---:|---|"
    printf '| tiersync wire bytes <= %sx the best peer (%s) | %s | %s |\n' "$INCREMENTAL_GOAL_BYTES" \
      "$(incremental_label "$best")" "$rb" "$(bench_goal_at_most "$rb" "$INCREMENTAL_GOAL_BYTES")"
    printf '| tiersync node sync time <= rsync daemon (throughput ratio >= %sx) | %sx | %s |\n' \
      "$INCREMENTAL_GOAL_TIME" "$rt" "$(bench_goal "$rt" "$INCREMENTAL_GOAL_TIME")"
    bench_goal_record incremental "wire bytes of the next release <= ${INCREMENTAL_GOAL_BYTES}x the best peer ($(incremental_label "$best"))" \
      "${rb}x" "$(bench_goal_at_most "$rb" "$INCREMENTAL_GOAL_BYTES")"
    bench_goal_record incremental "time of the next release <= rsync daemon's (throughput ratio >= ${INCREMENTAL_GOAL_TIME}x)" \
      "${rt}x" "$(bench_goal "$rt" "$INCREMENTAL_GOAL_TIME")"
    echo
    echo "A missed bytes goal is \"missed by X%\" where X = how far the ratio is above 1.1, relative" \
      "to 1.1; a missed time goal as in the other reports. Raw runs: \`incremental-runs.tsv\`;" \
      "summary: \`incremental.tsv\`; every request of the last proxied tiersync sync (status," \
      "bytes sent, request bytes, request line): \`incremental-tiersync-requests.log\`."
  } >"$md"
  rm -rf "$w"
  bench_log "incremental: wrote $md, $tsv, $runs_tsv"
}
