#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/) with clang, ASan and UBSan into build-fuzz/ — only
# the targets and the libraries they need, plus replication/ and node/ checked by clang's
# -Wthread-safety (syntax only: the thread_safety_check target) — and runs each for SECONDS
# (default 60), as many at a time as there are cores, on its committed seed corpus plus what
# earlier runs found. Any crash, sanitizer report or leak fails the run (the input is kept as
# build-fuzz/crash-*). The test command runs it briefly (scripts/test.sh); run it longer on
# demand. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
./scripts/install-deps.sh clang libclang-rt-14-dev
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTIERSYNC_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz
targets=(json tuf_metadata chunk_index chunk_batch subscription catalog_record
         http_range http_conditional request_path node_config git_pkt_line git_pack_scan)
# The targets run side by side, one per core; each one's verdict goes to fuzz-TARGET.rc.
fuzz_one() {
  local target="$1" rc=0
  mkdir -p "build-fuzz/corpus/$target"
  (cd build-fuzz && "tests/fuzz/${target}_fuzz" "corpus/$target" "../tests/fuzz/corpus/$target" \
     -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 >"fuzz-$target.log" 2>&1) ||
    rc=$?
  echo "$rc" >"build-fuzz/fuzz-$target.rc"
}
parallel="$(nproc)"
for target in "${targets[@]}"; do
  rm -f "build-fuzz/fuzz-$target.rc"
  while [ "$(jobs -rp | wc -l)" -ge "$parallel" ]; do wait -n || true; done
  fuzz_one "$target" &
done
wait
passed=0
failed=0
for target in "${targets[@]}"; do
  echo "== fuzz $target: ${seconds}s"
  if [ "$(cat "build-fuzz/fuzz-$target.rc" 2>/dev/null)" = 0 ]; then
    grep -E "stat::number_of_executed_units|stat::peak_rss_mb" "build-fuzz/fuzz-$target.log" || true
    passed=$((passed + 1))
  else
    tail -n 40 "build-fuzz/fuzz-$target.log"
    echo "fuzz $target FAILED (input kept in build-fuzz/crash-*)"
    failed=$((failed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
