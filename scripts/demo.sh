#!/usr/bin/env bash
# The README's main command: installs, builds and runs the demo. Today: a node's chunk store
# (store-demo.sh), then the hub publishing and revising a national catalog (hub-demo.sh); the
# five-tier federation demo replaces them when nodes exist.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin="${TIERSYNC_BUILD_DIR:-build}/cli/tiersync"
out="${1:-demo-out}"
./deploy/demo/store-demo.sh "$bin" "$out/store"
exec ./deploy/demo/hub-demo.sh "$bin" "$out/hub"
