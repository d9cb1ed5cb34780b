#!/usr/bin/env bash
# The one entry point of bench/: installs the peers, builds tiersync, generates the data and
# runs each comparison, writing OUT/<comparison>.md and .tsv and printing the markdown.
#
# Usage: bench/run.sh [--size 1G] [--runs 3] [--out bench/out] [--only ingest[,...]] [--no-setup]
#
# Each comparison NAME lives in bench/NAME.sh, which defines bench_NAME and writes
# $BENCH_OUT/NAME.md; add it to COMPARISONS below. Helpers are in bench/lib.sh.
set -euo pipefail

COMPARISONS=(ingest publish replicate incremental propagate serve memory)

usage() {
  cat <<'EOF'
Usage: bench/run.sh [--size 1G] [--runs 3] [--out bench/out] [--only NAME[,NAME...]] [--no-setup]

  --size SIZE    bytes of data per kind, as tiersync accepts them (e.g. 256M, 1G); default 1G
  --runs N       timed runs per command; default 3
  --out DIR      report directory; default bench/out in the repository
  --only LIST    comma-separated comparisons to run (available: ingest, publish, replicate,
                 incremental, propagate, serve, memory); default all
  --no-setup     skip ./scripts/install-deps.sh and ./scripts/build.sh
EOF
}

caller_dir="$PWD"
BENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$BENCH_ROOT"
# shellcheck source=bench/lib.sh
source bench/lib.sh

BENCH_SIZE=1G
BENCH_RUNS=3
BENCH_OUT=bench/out
only=""
setup=1
while [ $# -gt 0 ]; do
  case "$1" in
    --size) [ $# -ge 2 ] || bench_die "--size needs a value"; BENCH_SIZE="$2"; shift 2 ;;
    --runs) [ $# -ge 2 ] || bench_die "--runs needs a value"; BENCH_RUNS="$2"; shift 2 ;;
    --out)
      [ $# -ge 2 ] || bench_die "--out needs a value"
      case "$2" in /*) BENCH_OUT="$2" ;; *) BENCH_OUT="$caller_dir/$2" ;; esac
      shift 2
      ;;
    --only) [ $# -ge 2 ] || bench_die "--only needs a value"; only="$2"; shift 2 ;;
    --no-setup) setup=0; shift ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; bench_die "unknown argument: $1" ;;
  esac
done
[[ "$BENCH_RUNS" =~ ^[1-9][0-9]*$ ]] || bench_die "--runs must be a positive integer, got '$BENCH_RUNS'"
[[ "$BENCH_SIZE" =~ ^[1-9][0-9]*[KMGkmg]?$ ]] || bench_die "--size must look like 256M or 1G, got '$BENCH_SIZE'"
if [ -n "$only" ]; then
  IFS=',' read -r -a selected <<<"$only"
  for name in "${selected[@]}"; do
    [[ " ${COMPARISONS[*]} " == *" $name "* ]] || bench_die "unknown comparison '$name' (available: ${COMPARISONS[*]})"
  done
  COMPARISONS=("${selected[@]}")
fi

if [ "$setup" -eq 1 ]; then
  bench_log "installing peers: ./scripts/install-deps.sh casync time rsync wrk nginx zsync hyperfine"
  ./scripts/install-deps.sh casync time rsync wrk nginx zsync hyperfine || bench_die "./scripts/install-deps.sh casync time rsync wrk nginx zsync hyperfine failed"
  bench_log "building tiersync: ./scripts/build.sh"
  ./scripts/build.sh >&2 || bench_die "./scripts/build.sh failed"
fi
case "${TIERSYNC_BUILD_DIR:-build}" in
  /*) TIERSYNC="$TIERSYNC_BUILD_DIR/cli/tiersync" ;;
  *) TIERSYNC="$BENCH_ROOT/${TIERSYNC_BUILD_DIR:-build}/cli/tiersync" ;;
esac
[ -x "$TIERSYNC" ] || bench_die "no tiersync binary at $TIERSYNC (run ./scripts/build.sh)"
for tool in /usr/bin/time casync rsync zsync zsyncmake nginx wrk hyperfine curl openssl dd awk; do
  command -v "$tool" >/dev/null || bench_die "$tool is missing (./scripts/install-deps.sh casync time rsync wrk nginx zsync hyperfine)"
done

mkdir -p "$BENCH_OUT"
BENCH_OUT="$(cd "$BENCH_OUT" && pwd)"
BENCH_WORK=""
BENCH_SHM=""
cleanup() {
  bench_stop_all # servers started by a comparison (bench_spawn), before their directories go
  [ -n "$BENCH_WORK" ] && rm -rf "$BENCH_WORK"
  [ -n "$BENCH_SHM" ] && rm -rf "$BENCH_SHM"
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
BENCH_WORK="$(mktemp -d "$BENCH_OUT/work.XXXXXX")"
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
  BENCH_SHM="$(mktemp -d /dev/shm/tiersync-bench.XXXXXX 2>/dev/null)" || BENCH_SHM=""
fi

# Room for one data file plus one output of the same size (with some slack), on disk and tmpfs.
size_bytes="$(awk -v s="$BENCH_SIZE" 'BEGIN {
  u = toupper(substr(s, length(s))); n = s + 0
  m = (u == "K") ? 1024 : (u == "M") ? 1048576 : (u == "G") ? 1073741824 : 1
  printf "%.0f", n * m }')"
need_kib=$((size_bytes * 5 / 2 / 1024))
avail_kib="$(df -Pk "$BENCH_WORK" | awk 'NR == 2 { print $4 }')"
[ "$avail_kib" -ge "$need_kib" ] ||
  bench_die "not enough disk space in $BENCH_WORK: need $((need_kib / 1024)) MiB, have $((avail_kib / 1024)) MiB"
if [ -n "$BENCH_SHM" ]; then
  shm_kib="$(df -Pk "$BENCH_SHM" | awk 'NR == 2 { print $4 }')"
  if [ "$shm_kib" -lt $((size_bytes * 3 / 2 / 1024)) ]; then
    bench_log "not enough room in /dev/shm for a store of $BENCH_SIZE; skipping the tmpfs runs"
    rm -rf "$BENCH_SHM"
    BENCH_SHM=""
  fi
fi

export BENCH_ROOT BENCH_SIZE BENCH_RUNS BENCH_OUT BENCH_WORK BENCH_SHM TIERSYNC
printf 'comparison\tgoal\tmeasured\tresult\n' >"$BENCH_OUT/goals.tsv"
started="$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
for name in "${COMPARISONS[@]}"; do
  # shellcheck source=/dev/null
  source "bench/$name.sh"
  bench_log "running comparison: $name (size $BENCH_SIZE, $BENCH_RUNS runs)"
  "bench_$name"
done

# The one report of this run: report.md (the goals, then every comparison's report) and
# report.json (the same figures for machines: the goals and every comparison's TSV files).
command_line="bench/run.sh --size $BENCH_SIZE --runs $BENCH_RUNS --only $(IFS=,; echo "${COMPARISONS[*]}")"
{
  echo "# tiersync benchmark report"
  echo
  echo "\`$command_line\`, started $started, finished $(date -u '+%Y-%m-%d %H:%M:%S UTC')." \
    "Each comparison ran its commands and its peers interleaved, on the same data, in this run;" \
    "only the ratios compare (see bench/README.md)."
  echo
  bench_machine_md
  echo
  echo "## Goals"
  echo
  echo "| comparison | goal | measured | result |"
  echo "|---|---|---:|---|"
  tail -n +2 "$BENCH_OUT/goals.tsv" | awk -F '\t' '{ printf "| %s | %s | %s | %s |\n", $1, $2, $3, $4 }'
  echo
  for name in "${COMPARISONS[@]}"; do
    echo "- [$name]($name.md): \`$name.md\`, \`$name.tsv\`$([ -f "$BENCH_OUT/$name-runs.tsv" ] && echo ", \`$name-runs.tsv\`")"
  done
  echo
  for name in "${COMPARISONS[@]}"; do
    cat "$BENCH_OUT/$name.md"
    echo
  done
} >"$BENCH_OUT/report.md"
{
  printf '{\n  "command": "%s",\n  "started": "%s",\n' "$command_line" "$started"
  printf '  "commit": "%s",\n' "$(git -C "$BENCH_ROOT" rev-parse HEAD 2>/dev/null || echo unknown)"
  printf '  "machine": {"cores": %s, "cpu": "%s", "memory_kib": %s},\n' "$(nproc)" \
    "$(lscpu 2>/dev/null | grep 'Model name' | head -n 1 | sed 's/^Model name:[[:space:]]*//; s/"//g')" \
    "$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
  printf '  "goals": %s,\n  "comparisons": {\n' "$(bench_tsv_json "$BENCH_OUT/goals.tsv")"
  sep=""
  for name in "${COMPARISONS[@]}"; do
    printf '%s    "%s": {"summary": %s' "$sep" "$name" "$(bench_tsv_json "$BENCH_OUT/$name.tsv")"
    [ -f "$BENCH_OUT/$name-runs.tsv" ] && printf ', "runs": %s' "$(bench_tsv_json "$BENCH_OUT/$name-runs.tsv")"
    printf '}'
    sep=$',\n'
  done
  printf '\n  }\n}\n'
} >"$BENCH_OUT/report.json"
cat "$BENCH_OUT/report.md"
bench_log "report: $BENCH_OUT/report.md, $BENCH_OUT/report.json"
