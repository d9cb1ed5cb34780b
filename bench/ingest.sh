# shellcheck shell=bash
# Ingest comparison: `tiersync store add` against casync, SHA-256 alone and dd + fdatasync on
# the same generated files. Sourced by bench/run.sh, which sets:
#   BENCH_ROOT  repository root          TIERSYNC   the tiersync binary
#   BENCH_SIZE  data size (e.g. 1G)      BENCH_RUNS timed runs per command
#   BENCH_OUT   report directory         BENCH_WORK scratch directory on disk
#   BENCH_SHM   scratch directory on tmpfs, or empty when /dev/shm is not writable
# Writes BENCH_OUT/ingest.md, BENCH_OUT/ingest.tsv and BENCH_OUT/ingest-runs.tsv.

# Goals from the issue (throughput ratios, tiersync / peer).
INGEST_GOAL_SHA=0.7   # tiersync (disk) >= 0.7x SHA-256 alone, on media
INGEST_GOAL_CASYNC=5  # tiersync (disk) >= 5x casync

INGEST_KINDS=(media text)
INGEST_IDS=(tiersync_disk tiersync_tmpfs casync sha256 dd_fdatasync)

ingest_label() {
  case "$1" in
    tiersync_disk) echo "tiersync (disk, fsync)" ;;
    tiersync_tmpfs) echo "tiersync (tmpfs)" ;;
    casync) echo "casync make (disk)" ;;
    sha256) echo "SHA-256 alone (openssl)" ;;
    dd_fdatasync) echo "dd + fdatasync (disk)" ;;
    *) echo "$1" ;;
  esac
}

# The exact command of one id, with FILE and DIR as placeholders (for the report).
ingest_command_text() {
  case "$1" in
    tiersync_disk) echo "tiersync store init DIR/store (untimed); tiersync store add -s DIR/store FILE" ;;
    tiersync_tmpfs) echo "tiersync store init SHM/store (untimed); tiersync store add -s SHM/store FILE" ;;
    casync) echo "casync make --store=DIR/store DIR/x.caibx FILE" ;;
    sha256) echo "openssl dgst -sha256 FILE" ;;
    dd_fdatasync) echo "dd if=FILE of=DIR/copy bs=4M conv=fdatasync status=none" ;;
  esac
}

ingest_seed() { case "$1" in media) echo 1 ;; text) echo 2 ;; esac; }

# One timed run of command ID on FILE; every run starts on a fresh empty output directory,
# with the input in the page cache and no dirty pages left from the previous run.
ingest_run_one() {
  local raw="$1" kind="$2" id="$3" run="$4" file="$5"
  local dir="$BENCH_WORK/run"
  rm -rf "$dir" && mkdir -p "$dir"
  local shmdir=""
  if [ -n "$BENCH_SHM" ]; then
    shmdir="$BENCH_SHM/run"
    rm -rf "$shmdir" && mkdir -p "$shmdir"
  fi
  case "$id" in
    tiersync_disk)
      "$TIERSYNC" store init "$dir/store" >/dev/null || bench_die "tiersync store init $dir/store failed"
      ;;
    tiersync_tmpfs)
      "$TIERSYNC" store init "$shmdir/store" >/dev/null || bench_die "tiersync store init $shmdir/store failed"
      ;;
  esac
  sync
  cat "$file" >/dev/null
  case "$id" in
    tiersync_disk) bench_measure "$raw" "$kind" "$id" "$run" -- "$TIERSYNC" store add -s "$dir/store" "$file" ;;
    tiersync_tmpfs) bench_measure "$raw" "$kind" "$id" "$run" -- "$TIERSYNC" store add -s "$shmdir/store" "$file" ;;
    casync) bench_measure "$raw" "$kind" "$id" "$run" -- casync make --store="$dir/store" "$dir/x.caibx" "$file" ;;
    sha256) bench_measure "$raw" "$kind" "$id" "$run" -- openssl dgst -sha256 "$file" ;;
    dd_fdatasync) bench_measure "$raw" "$kind" "$id" "$run" -- dd if="$file" of="$dir/copy" bs=4M conv=fdatasync status=none ;;
    *) bench_die "unknown ingest command id: $id" ;;
  esac
  rm -rf "$dir"
  [ -n "$shmdir" ] && rm -rf "$shmdir"
  return 0
}

bench_ingest() {
  local raw="$BENCH_OUT/ingest-runs.tsv" tsv="$BENCH_OUT/ingest.tsv" md="$BENCH_OUT/ingest.md"
  local ids=() id kind run file bytes
  for id in "${INGEST_IDS[@]}"; do
    if [ "$id" = tiersync_tmpfs ] && [ -z "$BENCH_SHM" ]; then
      bench_log "ingest: /dev/shm is not writable, skipping tiersync (tmpfs)"
      continue
    fi
    ids+=("$id")
  done

  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\n' >"$raw"
  declare -A size_of=()
  for kind in "${INGEST_KINDS[@]}"; do
    file="$BENCH_WORK/$kind.bin"
    bench_log "ingest: generating $kind data ($BENCH_SIZE, seed $(ingest_seed "$kind"))"
    "$TIERSYNC" demo media "$file" --kind "$kind" --size "$BENCH_SIZE" --seed "$(ingest_seed "$kind")" >/dev/null ||
      bench_die "tiersync demo media failed for kind $kind"
    bytes="$(stat -c %s "$file")"
    size_of[$kind]="$bytes"
    # Runs are interleaved (round r runs every command once), so slow phases of a shared
    # machine hit every command alike instead of one of them.
    for ((run = 1; run <= BENCH_RUNS; run++)); do
      bench_log "ingest: $kind, round $run of $BENCH_RUNS"
      for id in "${ids[@]}"; do
        ingest_run_one "$raw" "$kind" "$id" "$run" "$file"
      done
    done
    rm -f "$file"
  done

  # Summary TSV: one line per kind/command.
  declare -A med=()
  printf 'kind\tcommand\truns\tmedian_s\tmin_s\tmax_s\tmibps\tpeak_rss_kib\tbytes\n' >"$tsv"
  local line m lo hi mibps rss k
  for kind in "${INGEST_KINDS[@]}"; do
    for id in "${ids[@]}"; do
      line="$(bench_summarise "$raw" "$kind" "$id" "${size_of[$kind]}")"
      [ -n "$line" ] || bench_die "no runs recorded for $kind $id"
      printf '%s\t%s\t%s\t%s\n' "$kind" "$id" "$line" "${size_of[$kind]}" >>"$tsv"
      med["$kind/$id"]="$(cut -f 2 <<<"$line")"
    done
  done

  # Markdown report.
  {
    echo "# tiersync ingest benchmark"
    echo
    echo "Data: $BENCH_SIZE per kind, generated by tiersync itself; $BENCH_RUNS runs per command," \
      "interleaved, input in the page cache, each run on a fresh empty output directory."
    echo "Wall-clock seconds and peak RSS from \`/usr/bin/time -f '%e %M'\`. Only the ratios below" \
      "compare; absolute figures on these shared machines vary by up to 2x between runs."
    echo
    bench_machine_md
    echo
    echo "## Commands"
    echo
    echo "| data | generated by |"
    echo "|---|---|"
    for kind in "${INGEST_KINDS[@]}"; do
      echo "| $kind (${size_of[$kind]} bytes) | \`tiersync demo media FILE --kind $kind --size $BENCH_SIZE --seed $(ingest_seed "$kind")\` |"
    done
    echo
    echo "Each timed command runs as \`/usr/bin/time -f '%e %M' COMMAND\` after \`sync; cat FILE >/dev/null\`" \
      "(untimed). DIR = \`$BENCH_WORK/run\` (disk), SHM = \`${BENCH_SHM:-n/a}/run\` (tmpfs);" \
      "both are emptied before and deleted after every run. tiersync = \`$TIERSYNC\`."
    echo
    echo "| label | command |"
    echo "|---|---|"
    for id in "${ids[@]}"; do
      echo "| $(ingest_label "$id") | \`$(ingest_command_text "$id")\` |"
    done
    for kind in "${INGEST_KINDS[@]}"; do
      echo
      echo "## Results: $kind"
      echo
      echo "| command | median s | min s | max s | spread | MiB/s (at median) | peak RSS MiB (median) |"
      echo "|---|---:|---:|---:|---:|---:|---:|"
      while IFS=$'\t' read -r k id _ m lo hi mibps rss _; do
        [ "$k" = "$kind" ] || continue
        local spread
        spread="$(awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { if (m > 0) printf "%.0f%%", (hi - lo) / m * 100; else print "n/a" }')"
        printf '| %s | %s | %s | %s | %s | %s | %s |\n' "$(ingest_label "$id")" "$m" "$lo" "$hi" "$spread" "$mibps" \
          "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
      done < <(tail -n +2 "$tsv")
    done
    echo
    echo "## Ratios"
    echo
    echo "Throughput ratio = throughput of tiersync / throughput of the other = t_other / t_tiersync" \
      "(medians). Above 1: tiersync is faster."
    echo
    echo "| data | comparison | ratio |"
    echo "|---|---|---:|"
    local pair ours other
    for kind in "${INGEST_KINDS[@]}"; do
      for pair in tiersync_disk:sha256 tiersync_tmpfs:sha256 tiersync_disk:casync tiersync_disk:dd_fdatasync; do
        ours="${pair%%:*}"
        other="${pair##*:}"
        if [ -z "${med[$kind/$ours]:-}" ] || [ -z "${med[$kind/$other]:-}" ]; then continue; fi
        printf '| %s | %s vs %s | %sx |\n' "$kind" "$(ingest_label "$ours")" "$(ingest_label "$other")" \
          "$(bench_ratio "${med[$kind/$other]}" "${med[$kind/$ours]}")"
      done
    done
    echo
    echo "## Goals"
    echo
    echo "\"missed by X%\": the ratio is X% below the goal."
    echo
    echo "| goal | data | measured | result |"
    echo "|---|---|---:|---|"
    local r
    for ours in tiersync_disk tiersync_tmpfs; do
      [ -n "${med[media/$ours]:-}" ] || continue
      r="$(bench_ratio "${med[media/sha256]}" "${med[media/$ours]}")"
      printf '| %s >= %sx SHA-256 alone | media | %sx | %s |\n' "$(ingest_label "$ours")" "$INGEST_GOAL_SHA" "$r" \
        "$(bench_goal "$r" "$INGEST_GOAL_SHA")"
      bench_goal_record ingest "media: $(ingest_label "$ours") >= ${INGEST_GOAL_SHA}x SHA-256 alone" "${r}x" \
        "$(bench_goal "$r" "$INGEST_GOAL_SHA")"
    done
    for kind in "${INGEST_KINDS[@]}"; do
      r="$(bench_ratio "${med[$kind/casync]}" "${med[$kind/tiersync_disk]}")"
      printf '| %s >= %sx casync | %s | %sx | %s |\n' "$(ingest_label tiersync_disk)" "$INGEST_GOAL_CASYNC" "$kind" "$r" \
        "$(bench_goal "$r" "$INGEST_GOAL_CASYNC")"
      bench_goal_record ingest "$kind: $(ingest_label tiersync_disk) >= ${INGEST_GOAL_CASYNC}x casync make" "${r}x" \
        "$(bench_goal "$r" "$INGEST_GOAL_CASYNC")"
    done
    # When the disk alone cannot write + flush at the goal's speed, say so: then only the
    # tmpfs row can show whether the pipeline itself meets the SHA-256 goal.
    local dd_vs_sha
    dd_vs_sha="$(bench_ratio "${med[media/sha256]}" "${med[media/dd_fdatasync]}")"
    if [ "$(bench_goal "$dd_vs_sha" "$INGEST_GOAL_SHA")" != met ]; then
      echo
      echo "Note: on this disk, dd + fdatasync alone reaches only ${dd_vs_sha}x SHA-256 alone on media," \
        "below the ${INGEST_GOAL_SHA}x goal, so the disk row cannot meet it here; the tmpfs row shows" \
        "whether the ingest pipeline itself does."
    fi
    echo
    echo "Raw runs: \`ingest-runs.tsv\`; summary: \`ingest.tsv\` (seconds, MiB/s = MiB / median s, peak RSS in KiB)."
  } >"$md"
  bench_log "ingest: wrote $md, $tsv, $raw"
}
