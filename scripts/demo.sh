#!/usr/bin/env bash
# The README's main command: installs, builds and runs the demo. Today (foundation issue) the
# demo stores sample lesson media in a chunk store and restores it; the five-tier federation
# demo replaces it when nodes exist.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
exec ./deploy/demo/store-demo.sh "${TIERSYNC_BUILD_DIR:-build}/cli/tiersync" "${1:-demo-out}"
