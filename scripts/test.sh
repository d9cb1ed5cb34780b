#!/usr/bin/env bash
# The README's test command: installs what is missing, builds, and runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# npm packages of the interoperability tests, exactly as locked.
npm ci --prefix tests/interop --no-audit --no-fund --loglevel=error
./scripts/build.sh
build="${TIERSYNC_BUILD_DIR:-build}"
ctest --test-dir "$build" -j "$(nproc)" --output-on-failure --timeout 900
