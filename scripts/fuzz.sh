#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs each for
# SECONDS (default 60) on its committed seed corpus. Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
./scripts/install-deps.sh clang libclang-rt-14-dev
CC=clang CXX=clang++ TIERSYNC_BUILD_DIR=build-fuzz ./scripts/build.sh -DTIERSYNC_FUZZ=ON
for target in json tuf_metadata chunk_index chunk_batch subscription catalog_record; do
  work="build-fuzz/corpus/$target"
  mkdir -p "$work"
  echo "== $target: ${seconds}s"
  "build-fuzz/tests/fuzz/${target}_fuzz" "$work" "tests/fuzz/corpus/$target" \
    -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 2>&1 | tail -4
done
