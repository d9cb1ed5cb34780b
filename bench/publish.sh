# shellcheck shell=bash
# Publish comparison: `tiersync hub publish` of a generated national catalog (34,000 resources,
# metadata only: media scaled down to tens of bytes) against stock git committing the same
# record files. Sourced by bench/run.sh (see ingest.sh for the variables it sets).
# Writes BENCH_OUT/publish.md, BENCH_OUT/publish.tsv and BENCH_OUT/publish-runs.tsv.
#
# tiersync does more than git here (validates every record against the taxonomy, ingests and
# hashes every media file, verifies the last signed release, signs hash-bin metadata), so the
# ratio is a yardstick, not a goal.

PUBLISH_RESOURCES="${PUBLISH_RESOURCES:-34000}"
PUBLISH_IDS=(tiersync_first tiersync_again tiersync_next git_commit)

publish_label() {
  case "$1" in
    tiersync_first) echo "tiersync hub publish, first release" ;;
    tiersync_again) echo "tiersync hub publish, same input again (no-op)" ;;
    tiersync_next) echo "tiersync hub publish, next release" ;;
    git_commit) echo "git add -A + git commit of the records" ;;
  esac
}

publish_command_text() {
  case "$1" in
    tiersync_first) echo "tiersync hub publish HUB --input CAT -k targets -k snapshot -k timestamp --publisher 'bench <b@x>'" ;;
    tiersync_again) echo "the same command again" ;;
    tiersync_next) echo "tiersync demo generate CAT2 --next-release (untimed), then hub publish HUB --input CAT2 ..." ;;
    git_commit) echo "git init DIR; cp -r CAT/resources DIR (untimed); sh -c 'git add -A && git commit -q -m bench'" ;;
  esac
}

bench_publish() {
  local raw="$BENCH_OUT/publish-runs.tsv" tsv="$BENCH_OUT/publish.tsv" md="$BENCH_OUT/publish.md"
  local work="$BENCH_WORK/publish" cat="$BENCH_WORK/publish/catalog" run role
  mkdir -p "$work/keys"
  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\n' >"$raw"
  bench_log "publish: generating a catalog of $PUBLISH_RESOURCES resources"
  "$TIERSYNC" demo generate "$cat" --resources "$PUBLISH_RESOURCES" --seed 7 --size-scale 0.000001 >/dev/null ||
    bench_die "tiersync demo generate failed"
  for role in root targets snapshot timestamp; do
    "$TIERSYNC" keys gen "$work/keys/$role.key" >/dev/null || bench_die "tiersync keys gen failed"
  done
  local k="$work/keys"
  local sign=(-k "$k/targets.key" -k "$k/snapshot.key" -k "$k/timestamp.key" --publisher "bench <bench@example.edu.cn>")
  for ((run = 1; run <= BENCH_RUNS; run++)); do
    bench_log "publish: round $run of $BENCH_RUNS"
    rm -rf "$work/hub" "$work/next" "$work/git"
    "$TIERSYNC" hub init "$work/hub" --root-key "$k/root.key" --targets-key "$k/targets.key" \
      --snapshot-key "$k/snapshot.key" --timestamp-key "$k/timestamp.key" \
      -k "$k/root.key" -k "$k/targets.key" -k "$k/snapshot.key" -k "$k/timestamp.key" >/dev/null ||
      bench_die "tiersync hub init failed"
    sync
    bench_measure "$raw" catalog tiersync_first "$run" -- "$TIERSYNC" hub publish "$work/hub" --input "$cat" "${sign[@]}"
    bench_measure "$raw" catalog tiersync_again "$run" -- "$TIERSYNC" hub publish "$work/hub" --input "$cat" "${sign[@]}"
    cp -a "$cat" "$work/next"
    "$TIERSYNC" demo generate "$work/next" --next-release >/dev/null || bench_die "next release failed"
    sync
    bench_measure "$raw" catalog tiersync_next "$run" -- "$TIERSYNC" hub publish "$work/hub" --input "$work/next" "${sign[@]}"
    mkdir -p "$work/git"
    git -C "$work/git" init -q
    git -C "$work/git" config user.name bench
    git -C "$work/git" config user.email bench@example.edu.cn
    cp -r "$cat/resources" "$work/git/"
    sync
    bench_measure "$raw" catalog git_commit "$run" -- sh -c "cd '$work/git' && git add -A && git commit -q -m bench"
  done
  rm -rf "$work"

  declare -A med=() rss_of=()
  printf 'command\truns\tmedian_s\tmin_s\tmax_s\tpeak_rss_kib\n' >"$tsv"
  local id line
  for id in "${PUBLISH_IDS[@]}"; do
    line="$(bench_summarise "$raw" catalog "$id" 1)"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    IFS=$'\t' read -r n m lo hi _ rss <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$id" "$n" "$m" "$lo" "$hi" "$rss" >>"$tsv"
    med[$id]="$m"
    rss_of[$id]="$rss"
  done
  {
    echo "# tiersync publish benchmark"
    echo
    echo "A national catalog of $PUBLISH_RESOURCES resources from \`tiersync demo generate --resources" \
      "$PUBLISH_RESOURCES --seed 7 --size-scale 0.000001\` (metadata only: every media file is tens of" \
      "bytes), $BENCH_RUNS rounds, each on a fresh hub. Wall-clock seconds and peak RSS from" \
      "\`/usr/bin/time -f '%e %M'\`."
    echo
    bench_machine_md
    echo
    echo "| command | what | median s | min s | max s | peak RSS MiB |"
    echo "|---|---|---:|---:|---:|---:|"
    for id in "${PUBLISH_IDS[@]}"; do
      IFS=$'\t' read -r _ _ m lo hi rss < <(grep "^$id	" "$tsv")
      printf '| %s | `%s` | %s | %s | %s | %s |\n' "$(publish_label "$id")" "$(publish_command_text "$id")" \
        "$m" "$lo" "$hi" "$(awk -v r="$rss" 'BEGIN { printf "%.1f", r / 1024 }')"
    done
    echo
    echo "Time ratio, tiersync first publish / git commit of the same records:" \
      "$(bench_ratio "${med[tiersync_first]}" "${med[git_commit]}")x" \
      "(tiersync also validates, ingests and hashes media, and signs)."
  } >"$md"
}
