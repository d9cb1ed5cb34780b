#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test — unit,
# multi-process integration, interoperability (tuf-js, git), real clients (curl, wget, aria2c,
# nginx), Prometheus scraping a federation (promtool checking its rules) and the browser test
# (Debian chromium driven by playwright-core) — in one AddressSanitizer +
# UndefinedBehaviorSanitizer build (build-asan/), so that every test also checks memory and
# undefined behaviour. One build instead of a plain and a sanitizer one keeps the whole run
# within CI's 40 minutes on 2 cores. The sanitizer build is a unity build (a few sources per
# compiler run), which cuts its compile time about 2.5x.
# TIERSYNC_SKIP_SANITIZERS=1 runs the suite in the plain build (build/) instead. Then every fuzz
# target runs for TIERSYNC_FUZZ_SECONDS (default 10) in its own clang build (scripts/fuzz.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
# The peers and clients the tests drive, beyond what building needs (a CJK font only so that
# the browser test's screenshots show Chinese).
./scripts/install-deps.sh chromium fonts-wqy-microhei nginx wget aria2 strace faketime nftables iproute2 \
  debhelper help2man lintian systemd man-db procps prometheus lld
# npm packages of the interoperability and browser tests, exactly as locked.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
if [ "${TIERSYNC_SKIP_SANITIZERS:-0}" = 1 ]; then
  build="${TIERSYNC_BUILD_DIR:-build}"
  ./scripts/build.sh
else
  build=build-asan
  echo "== building with ASan + UBSan"
  TIERSYNC_BUILD_DIR=build-asan ./scripts/build.sh -DTIERSYNC_SANITIZE=ON -DCMAKE_UNITY_BUILD=ON
  # ASan's allocator is most of a sanitizer test's CPU. Allocation stacks of 8 frames instead
  # of 30, a 32 MB quarantine of freed memory instead of 256 MB, and no 0xbe fill of new
  # blocks cut the simulation's CPU time by 15% and its memory by half (measured on one seed);
  # use-after-free, overflows and leaks are still found. Every process a test starts inherits
  # these; a test that sets ASAN_OPTIONS appends to them.
  export ASAN_OPTIONS="${ASAN_OPTIONS:-malloc_context_size=8:quarantine_size_mb=32:max_malloc_fill_size=0}"
fi
# Twice as many tests as cores: the multi-process tests spend most of their time waiting on
# sockets and rate limits.
jobs=$(($(nproc) * 2))
ctest --test-dir "$build" -j "$jobs" --output-on-failure --timeout 900
# The package test: the package made from this checkout with the binary the suite just tested
# (TIERSYNC_PACKAGE_BUILD=prebuilt: compiling the same sources again would take a third of
# the run), installed, its units verified and its node unit's ExecStart run as the package's
# user, then removed and purged (tests/package/package_test.sh; needs root or sudo). It runs
# beside the fuzz targets' build (it mostly waits on dpkg, lintian and its node); its output
# goes to build-deb/package-test.log, shown after.
package_pid=""
if [ "${TIERSYNC_SKIP_PACKAGE:-0}" != 1 ]; then
  mkdir -p build-deb
  TIERSYNC_PACKAGE_BUILD=prebuilt TIERSYNC_PACKAGE_BINARY="$build/cli/tiersync" \
    ./tests/package/package_test.sh >build-deb/package-test.log 2>&1 &
  package_pid=$!
fi
# Every fuzz target briefly (clang, ASan + UBSan): a crash or sanitizer report fails the run.
fuzz_status=0
./scripts/fuzz.sh "${TIERSYNC_FUZZ_SECONDS:-10}" || fuzz_status=$?
if [ -n "$package_pid" ]; then
  if wait "$package_pid"; then
    grep -E "^== |passed" build-deb/package-test.log
  else
    tail -n 80 build-deb/package-test.log
    echo "the package test failed (build-deb/package-test.log)"
    exit 1
  fi
fi
exit "$fuzz_status"
