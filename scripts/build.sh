#!/usr/bin/env bash
# Configures and builds tiersync into build/ (or $TIERSYNC_BUILD_DIR).
# Extra arguments go to CMake, e.g. -DTIERSYNC_SANITIZE=ON.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${TIERSYNC_BUILD_DIR:-build}"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE="${TIERSYNC_BUILD_TYPE:-RelWithDebInfo}" "$@" >/dev/null
cmake --build "$build" -j "$(nproc)"
