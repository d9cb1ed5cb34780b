# shellcheck shell=bash
# Helpers shared by the comparisons under bench/. Sourced by bench/run.sh, not run directly.
#
# A comparison records every timed run as one line of a raw TSV file
#   kind <TAB> command-id <TAB> run <TAB> seconds <TAB> peak-rss-KiB
# with bench_measure, then summarises it with bench_summarise and bench_ratio.

bench_log() { printf '[bench] %s\n' "$*" >&2; }

bench_die() {
  printf '[bench] error: %s\n' "$*" >&2
  exit 1
}

# bench_measure RAW_TSV KIND CMD_ID RUN -- COMMAND...
# Runs COMMAND under `/usr/bin/time -f '%e %M'` (wall seconds, peak RSS in KiB) with its own
# output discarded, and appends one line to RAW_TSV. On failure prints the command and the
# tail of its output and exits.
bench_measure() {
  local raw="$1" kind="$2" id="$3" run="$4"
  shift 4
  [ "${1:-}" = "--" ] && shift
  local tfile log rc=0
  tfile="$(mktemp -p "${BENCH_WORK:-${TMPDIR:-/tmp}}")"
  log="$(mktemp -p "${BENCH_WORK:-${TMPDIR:-/tmp}}")"
  /usr/bin/time -f '%e %M' -o "$tfile" "$@" >"$log" 2>&1 || rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '[bench] error: %s (%s, run %s) failed with exit status %s:\n  %s\n' \
      "$id" "$kind" "$run" "$rc" "$*" >&2
    printf '[bench] last lines of its output:\n' >&2
    tail -n 20 "$log" >&2 || true
    rm -f "$tfile" "$log"
    exit 1
  fi
  local secs rss
  # GNU time may print a status line first; the figures are on the last line.
  read -r secs rss < <(tail -n 1 "$tfile")
  rm -f "$tfile" "$log"
  [[ "$secs" =~ ^[0-9]+(\.[0-9]+)?$ && "$rss" =~ ^[0-9]+$ ]] ||
    bench_die "could not parse /usr/bin/time output for $id: '$secs $rss'"
  printf '%s\t%s\t%s\t%s\t%s\n' "$kind" "$id" "$run" "$secs" "$rss" >>"$raw"
  bench_log "  $kind $id run $run: ${secs} s, peak RSS ${rss} KiB"
}

# bench_summarise RAW_TSV KIND CMD_ID BYTES
# Prints "runs median min max MiB/s-at-median median-peak-RSS-KiB" (tab-separated) for one
# command, or nothing if it has no runs.
bench_summarise() {
  local raw="$1" kind="$2" id="$3" bytes="$4"
  awk -F '\t' -v kind="$kind" -v id="$id" -v bytes="$bytes" '
    function median(a, n,   i, j, t) {
      for (i = 2; i <= n; i++) {            # insertion sort, n is small
        t = a[i]
        for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]
        a[j + 1] = t
      }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    $1 == kind && $2 == id { n++; s[n] = $4 + 0; r[n] = $5 + 0 }
    END {
      if (n == 0) exit
      for (i = 1; i <= n; i++) { c[i] = s[i] }
      med = median(c, n); lo = c[1]; hi = c[n]
      rss = median(r, n)
      mibps = (med > 0) ? sprintf("%.1f", bytes / 1048576 / med) : "inf"
      printf "%d\t%.3f\t%.2f\t%.2f\t%s\t%d\n", n, med, lo, hi, mibps, rss
    }' "$raw"
}

# bench_ratio T_PEER T_OURS -> throughput ratio ours/peer (= t_peer / t_ours), 2 decimals.
bench_ratio() {
  awk -v p="$1" -v o="$2" 'BEGIN { if (o > 0) printf "%.2f", p / o; else print "n/a" }'
}

# bench_goal RATIO GOAL -> "met" or "missed by X%" (X = how far the ratio is below the goal,
# relative to the goal).
bench_goal() {
  awk -v r="$1" -v g="$2" 'BEGIN {
    if (r == "n/a" || r == "") { print "not measured"; exit }
    if (r + 0 >= g + 0) print "met"
    else printf "missed by %.0f%%\n", (1 - r / g) * 100
  }'
}

# bench_machine_md: the machine section of a report (markdown).
bench_machine_md() {
  local model commit
  model="$(lscpu 2>/dev/null | grep 'Model name' | head -n 1 | sed 's/^Model name:[[:space:]]*//')"
  commit="$(git -C "$BENCH_ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
  # bench/ itself does not change what is measured.
  if [ -n "$(git -C "$BENCH_ROOT" status --porcelain -- . ':!bench' 2>/dev/null)" ]; then
    commit="$commit (work tree has uncommitted changes)"
  fi
  echo "## Machine"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo "- cores (\`nproc\`): $(nproc)"
  echo "- CPU (\`lscpu | grep 'Model name'\`): ${model:-unknown}"
  echo "- tiersync: commit $commit, build type ${TIERSYNC_BUILD_TYPE:-RelWithDebInfo}"
  echo "- peers: $(casync --version 2>/dev/null | head -n 1), $(openssl version 2>/dev/null), $(dd --version 2>/dev/null | head -n 1)"
  echo "- disk directory: \`$BENCH_WORK\` on $(df -P "$BENCH_WORK" | awk 'NR == 2 { print $1 }');" \
    "tmpfs directory: \`${BENCH_SHM:-none}\`"
  echo
  echo "\`free -g\`:"
  echo
  echo '```'
  free -g
  echo '```'
}
