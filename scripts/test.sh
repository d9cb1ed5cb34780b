#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test — then the
# same suite again in an AddressSanitizer + UndefinedBehaviorSanitizer build (build-asan/),
# except the 1 GiB store test (too slow under ASan; it runs in the first pass).
# TIERSYNC_SKIP_SANITIZERS=1 skips the second pass for a quick local run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# npm packages of the interoperability tests, exactly as locked.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
./scripts/build.sh
build="${TIERSYNC_BUILD_DIR:-build}"
# Twice as many tests as cores: the multi-process tests spend most of their time waiting on
# sockets and rate limits.
jobs=$(($(nproc) * 2))
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 900

if [ "${TIERSYNC_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== the same suite under ASan + UBSan"
  TIERSYNC_BUILD_DIR=build-asan ./scripts/build.sh -DTIERSYNC_SANITIZE=ON
  ctest --test-dir build-asan -j "$jobs" --output-on-failure --timeout 900 -E Gibibyte
fi
