# shellcheck shell=bash
# Propagate comparison: how long a small incremental release takes from the start of
# `tiersync hub publish` until the school, the fifth tier, serves it (push on, a five-tier chain
# hub -> province -> city -> county -> school on loopback), against the same change carried by a
# chain of four rsync daemons (what an operator would otherwise script). Sourced by
# bench/run.sh (see ingest.sh for the variables it sets). Writes BENCH_OUT/propagate.md,
# propagate.tsv and propagate-runs.tsv.
#
# Ports (127.0.0.1): $BENCH_PORT_BASE (default 19100) +10 the hub, +11..+14 the four nodes,
# +20..+23 the rsync daemons. Tests use 18100-18199.

PROPAGATE_RESOURCES="${PROPAGATE_RESOURCES:-600}"
PROPAGATE_SCALE="${PROPAGATE_SCALE:-0.0003}"
PROPAGATE_TIERS=(province city county school)
PROPAGATE_TIMEOUT=120 # seconds for one release to reach the school

# Waits until every tier serves release $1, polling each one's /v1/status every 50 ms; records
# per tier the time it was first seen (seconds since the epoch) in PROPAGATE_SEEN[tier].
# Fails after PROPAGATE_TIMEOUT seconds.
declare -A PROPAGATE_SEEN=()
propagate_wait() {
  local release="$1" deadline tier left body
  deadline="$(awk -v n="$(bench_now)" -v t="$PROPAGATE_TIMEOUT" 'BEGIN { printf "%.0f", n + t }')"
  PROPAGATE_SEEN=()
  while :; do
    left=0
    for tier in "${PROPAGATE_TIERS[@]}"; do
      [ -n "${PROPAGATE_SEEN[$tier]:-}" ] && continue
      body="$(curl -sf --max-time 1 "${PROPAGATE_URL[$tier]}/v1/status" || true)"
      if [[ "$body" == *"\"release\": \"$release\""* ]]; then
        PROPAGATE_SEEN[$tier]="$(bench_now)"
      else
        left=$((left + 1))
      fi
    done
    [ "$left" -eq 0 ] && return 0
    if [ "$(date +%s)" -ge "$deadline" ]; then
      for tier in "${PROPAGATE_TIERS[@]}"; do
        bench_log "propagate: $tier ${PROPAGATE_SEEN[$tier]:+saw $release}${PROPAGATE_SEEN[$tier]:-did not see $release}; last log lines:"
        tail -n 5 "$PROPAGATE_WORK/logs/$tier.log" >&2 || true
      done
      return 1
    fi
    sleep 0.05
  done
}

# The rsync chain: hop i copies tier i-1's tree into tier i's (hop 1 from the hub's input).
propagate_rsync_chain() {
  local raw="$1" run="$2" i=0 t0 tier prev_port
  t0="$(bench_now)"
  for tier in "${PROPAGATE_TIERS[@]}"; do
    prev_port=$((BENCH_PORT_BASE + 20 + i))
    rsync -a --delete "rsync://127.0.0.1:$prev_port/m/" "$PROPAGATE_WORK/rsync/$tier/" ||
      bench_die "rsync hop $((i + 1)) (to $tier) failed"
    printf 'release\trsync_%s\t%s\t%s\t0\n' "$tier" "$run" "$(bench_elapsed "$t0" "$(bench_now)")" >>"$raw"
    i=$((i + 1))
  done
}

propagate_label() {
  case "$1" in
    publish) echo "tiersync hub publish alone" ;;
    after_publish) echo "tiersync: publish end -> school serves (4 hops, push)" ;;
    tiersync_school) echo "tiersync: publish start -> school serves (end to end)" ;;
    rsync_school) echo "rsync chain, 4 hops (hub input -> school)" ;;
    *) echo "$1" ;;
  esac
}

bench_propagate() {
  local raw="$BENCH_OUT/propagate-runs.tsv" tsv="$BENCH_OUT/propagate.tsv" md="$BENCH_OUT/propagate.md"
  local work="$BENCH_WORK/propagate" releases="${PROPAGATE_RELEASES:-$BENCH_RUNS}"
  [[ "$releases" =~ ^[1-9][0-9]*$ ]] || bench_die "PROPAGATE_RELEASES must be a positive integer"
  BENCH_PORT_BASE="${BENCH_PORT_BASE:-19100}"
  PROPAGATE_WORK="$work"
  declare -gA PROPAGATE_URL=()
  local hub_url="http://127.0.0.1:$((BENCH_PORT_BASE + 10))" p tier i k
  for ((p = 10; p <= 14; p++)); do bench_port_free $((BENCH_PORT_BASE + p)); done
  for ((p = 20; p <= 23; p++)); do bench_port_free $((BENCH_PORT_BASE + p)); done

  rm -rf "$work"
  mkdir -p "$work/logs" "$work/rsync"
  bench_log "propagate: a catalog of $PROPAGATE_RESOURCES resources (size scale $PROPAGATE_SCALE), hub, release r1"
  "$TIERSYNC" demo generate "$work/catalog" --resources "$PROPAGATE_RESOURCES" --seed 11 \
    --size-scale "$PROPAGATE_SCALE" >/dev/null || bench_die "tiersync demo generate failed"
  bench_keys_and_hub "$work"
  "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m r1 >"$work/logs/publish.log" 2>&1 ||
    { tail -n 20 "$work/logs/publish.log" >&2; bench_die "tiersync hub publish failed"; }
  local catalog_bytes
  catalog_bytes="$(du -sb "$work/catalog" | cut -f 1)"
  bench_spawn "$work/logs/hub.log" "$TIERSYNC" hub serve "$work/hub" --listen "127.0.0.1:$((BENCH_PORT_BASE + 10))"
  local pids=("$BENCH_SPAWNED")
  bench_wait_http "$hub_url/v1/status" 30 "$BENCH_SPAWNED" "$work/logs/hub.log"

  # Four nodes, each attached to the tier above (then the further ancestors, then national),
  # subscribing to everything (so each tier moves the same bytes as the rsync chain), backstop
  # poll an hour away: only push moves a release.
  declare -A region=([province]=330000 [city]=330100 [county]=330106 [school]=330106)
  declare -A name=([province]=浙江省教育厅 [city]=杭州市教育局 [county]=西湖区教育局 [school]=西湖区文三街小学)
  local parents=() ups
  i=0
  for tier in "${PROPAGATE_TIERS[@]}"; do
    i=$((i + 1))
    ups=()
    for ((k = ${#parents[@]} - 1; k >= 0; k--)); do ups+=(--upstream "${parents[$k]}"); done
    PROPAGATE_URL[$tier]="http://127.0.0.1:$((BENCH_PORT_BASE + 10 + i))"
    "$TIERSYNC" node init "$work/$tier" --name "${name[$tier]}" --tier "$tier" --region "${region[$tier]}" \
      --listen "127.0.0.1:$((BENCH_PORT_BASE + 10 + i))" "${ups[@]}" --national "$hub_url" \
      --root "$work/hub/tuf/metadata/1.root.json" --subscription all --poll-seconds 3600 >/dev/null ||
      bench_die "tiersync node init $tier failed"
    bench_spawn "$work/logs/$tier.log" "$TIERSYNC" node serve "$work/$tier"
    pids+=("$BENCH_SPAWNED")
    parents+=("${PROPAGATE_URL[$tier]}")
  done
  bench_log "propagate: waiting for the four tiers to serve r1"
  propagate_wait r1 || bench_die "the tiers did not all reach r1 within $PROPAGATE_TIMEOUT s"

  # The rsync chain: daemon 0 serves the hub's input, daemon i tier i's copy.
  bench_rsyncd "$work" rsyncd0 "$work/catalog" $((BENCH_PORT_BASE + 20))
  pids+=("$BENCH_SPAWNED")
  i=0
  for tier in province city county; do
    i=$((i + 1))
    mkdir -p "$work/rsync/$tier"
    bench_rsyncd "$work" "rsyncd$i" "$work/rsync/$tier" $((BENCH_PORT_BASE + 20 + i))
    pids+=("$BENCH_SPAWNED")
  done
  bench_log "propagate: the rsync chain copies r1 (untimed)"
  propagate_rsync_chain /dev/null 0

  printf 'kind\tcommand\trun\tseconds\tpeak_rss_kib\n' >"$raw"
  local run rel t0 t1 changes=()
  for ((run = 1; run <= releases; run++)); do
    rel="r$((run + 1))"
    "$TIERSYNC" --json demo generate "$work/catalog" --next-release >"$work/changes.json" ||
      bench_die "tiersync demo generate --next-release failed"
    changes+=("$(bench_json_int "$work/changes.json" bytes_written)")
    sync
    bench_log "propagate: release $rel ($run of $releases)"
    t0="$(bench_now)"
    "$TIERSYNC" hub publish "$work/hub" --input "$work/catalog" "${BENCH_SIGN[@]}" -m "$rel" >"$work/logs/publish.log" 2>&1 ||
      { tail -n 20 "$work/logs/publish.log" >&2; bench_die "tiersync hub publish of $rel failed"; }
    t1="$(bench_now)"
    propagate_wait "$rel" || bench_die "$rel did not reach every tier within $PROPAGATE_TIMEOUT s (logs: $work/logs)"
    printf 'release\tpublish\t%s\t%s\t0\n' "$run" "$(bench_elapsed "$t0" "$t1")" >>"$raw"
    for tier in "${PROPAGATE_TIERS[@]}"; do
      printf 'release\ttiersync_%s\t%s\t%s\t0\n' "$tier" "$run" "$(bench_elapsed "$t0" "${PROPAGATE_SEEN[$tier]}")" >>"$raw"
    done
    printf 'release\tafter_publish\t%s\t%s\t0\n' "$run" "$(bench_elapsed "$t1" "${PROPAGATE_SEEN[school]}")" >>"$raw"
    bench_log "  publish $(bench_elapsed "$t0" "$t1") s, school serves $rel $(bench_elapsed "$t0" "${PROPAGATE_SEEN[school]}") s after publish started"
    sync
    propagate_rsync_chain "$raw" "$run"
    bench_log "  rsync chain $(tail -n 1 "$raw" | cut -f 4) s"
  done
  # The rsync chain must have carried the change whole.
  diff -r -q "$work/catalog" "$work/rsync/school" >/dev/null ||
    bench_die "the rsync chain's school copy differs from the hub's input"
  local school_status
  school_status="$("$TIERSYNC" node status "$work/school" 2>&1 | head -n 3 || true)"
  # Newest first: the school before its parent, ..., the hub last. (node serve at f9ea73b can
  # segfault in its push loop when its source goes away while it is shutting down.)
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do bench_stop "${pids[$i]}"; done
  rm -rf "$work"

  # Summary: every id, medians; per tier arrival times since publish start (tiersync) and since
  # chain start (rsync).
  local ids=(publish after_publish tiersync_province tiersync_city tiersync_county tiersync_school
    rsync_province rsync_city rsync_county rsync_school)
  declare -A med=() lo_of=() hi_of=()
  local id line n m lo hi
  printf 'command\truns\tmedian_s\tmin_s\tmax_s\n' >"$tsv"
  for id in "${ids[@]}"; do
    line="$(bench_summarise "$raw" release "$id" 1)"
    [ -n "$line" ] || bench_die "no runs recorded for $id"
    IFS=$'\t' read -r n m lo hi _ _ <<<"$line"
    printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$n" "$m" "$lo" "$hi" >>"$tsv"
    med[$id]="$m"
    lo_of[$id]="$lo"
    hi_of[$id]="$hi"
  done
  local changed_kib
  changed_kib="$(printf '%s\n' "${changes[@]}" | awk '{ s += $1; n++ } END { printf "%.0f", s / n / 1024 }')"

  {
    echo "# tiersync propagate benchmark"
    echo
    echo "Time from the start of \`tiersync hub publish\` of a small incremental release until the" \
      "school (fifth tier) serves it, on a five-tier chain on loopback with push, against the same" \
      "change carried down a chain of four rsync daemons, in the same run: $releases successive" \
      "releases (r2 to r$((releases + 1))). Seconds from \`date +%s.%N\`; each tier's" \
      "\`/v1/status\` is polled every 50 ms, so tiersync's arrival times are late by up to about" \
      "60 ms. Only the ratios compare; absolute figures on these shared machines vary by up to" \
      "2x between runs."
    echo
    bench_machine_md
    echo
    echo "## Data and setup"
    echo
    echo "- catalog: \`tiersync demo generate CAT --resources $PROPAGATE_RESOURCES --seed 11" \
      "--size-scale $PROPAGATE_SCALE\` ($catalog_bytes bytes with its media), published as r1;" \
      "each timed release is \`tiersync demo generate CAT --next-release\` (untimed; it rewrote" \
      "$changed_kib KiB of media on average: ~2% added, 1% edited, 0.5% each inserted into," \
      "appended to, moved, retired);"
    echo "- tiersync: \`tiersync hub serve\` on port $((BENCH_PORT_BASE + 10)) and four" \
      "\`tiersync node serve\`: 浙江省 province 330000, 杭州市 city 330100, 西湖区 county 330106, a" \
      "school in 330106 (ports $((BENCH_PORT_BASE + 11))-$((BENCH_PORT_BASE + 14))), each with" \
      "\`--upstream\` its parent then further ancestors, \`--national\` the hub, \`--subscription all\`" \
      "(every tier moves the same bytes as the rsync chain) and \`--poll-seconds 3600\` (only push" \
      "moves a release). Timed: \`tiersync hub publish HUB --input CAT -k ... -m rN\`, then until every" \
      "tier's \`GET /v1/status\` shows \`\"release\": \"rN\"\`;"
    echo "- rsync: four \`rsync --daemon\` on ports $((BENCH_PORT_BASE + 20))-$((BENCH_PORT_BASE + 23))" \
      "(throwaway rsyncd.conf, read-only module, no auth): daemon 0 serves the hub's input CAT," \
      "daemon i the copy of tier i. Timed: the four hops back to back," \
      "\`rsync -a --delete rsync://127.0.0.1:PORT_{i-1}/m/ TIER_i/\` (province, city, county, school)," \
      "started right after the tiersync run of the same release. The school's copy is checked" \
      "against CAT at the end (\`diff -r\`)."
    echo
    echo "rsync does no signing or verification and no fsync, and its hops are back to back, as" \
      "if the operator's script knew when to run (a cron job would add its period). tiersync's" \
      "time includes signing the release at the hub, and at every tier verifying the TUF" \
      "metadata and catalog against the national root, fetching the catalog over git, checking" \
      "every chunk's SHA-256, committing (fsync) and switching the served release atomically," \
      "then announcing it to the tier below."
    echo
    echo "## Results"
    echo
    echo "| what | median s | min s | max s |"
    echo "|---|---:|---:|---:|"
    for id in publish after_publish tiersync_school rsync_school; do
      printf '| %s | %s | %s | %s |\n' "$(propagate_label "$id")" "${med[$id]}" "${lo_of[$id]}" "${hi_of[$id]}"
    done
    echo
    echo "Arrival at each tier (median seconds): tiersync since \`hub publish\` started and since it" \
      "ended; rsync since the chain started."
    echo
    echo "| tier | tiersync, since publish start | tiersync, since publish end | rsync chain |"
    echo "|---|---:|---:|---:|"
    for tier in "${PROPAGATE_TIERS[@]}"; do
      printf '| %s | %s | %s | %s |\n' "$tier" "${med[tiersync_$tier]}" \
        "$(awk -v a="${med[tiersync_$tier]}" -v b="${med[publish]}" 'BEGIN { printf "%.3f", a - b }')" \
        "${med[rsync_$tier]}"
    done
    echo
    echo "## Ratios"
    echo
    echo "Speed ratios are t_rsync / t_tiersync (medians): above 1, tiersync is faster."
    echo
    echo "| comparison | ratio |"
    echo "|---|---:|"
    printf '| tiersync publish end -> school vs rsync chain (replication alone) | %sx |\n' \
      "$(bench_ratio "${med[rsync_school]}" "${med[after_publish]}")"
    printf '| tiersync publish start -> school vs rsync chain (end to end) | %sx |\n' \
      "$(bench_ratio "${med[rsync_school]}" "${med[tiersync_school]}")"
    echo
    echo "Time ratio, publish start -> school / hub publish alone:" \
      "$(bench_ratio "${med[tiersync_school]}" "${med[publish]}")x (the four hops take" \
      "$(awk -v a="${med[after_publish]}" 'BEGIN { printf "%.3f", a }') s on top of the publish)."
    echo
    echo "School's status at the end (\`tiersync node status\`, first lines):"
    echo
    echo '```'
    echo "$school_status"
    echo '```'
    echo
    echo "Raw runs: \`propagate-runs.tsv\` (peak RSS not measured: 0); summary: \`propagate.tsv\`."
  } >"$md"
  bench_log "propagate: wrote $md, $tsv, $raw"
}
