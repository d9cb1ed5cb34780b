#!/usr/bin/env bash
# The README's main command: installs what is missing, builds, and starts the five-tier demo
# federation on loopback (deploy/demo/federation.sh): national hub → 浙江省 → 杭州市 → 西湖区 →
# a school, with sample content. Ctrl-C stops all of it. The earlier walk-throughs of a chunk
# store and of the hub's publishing run with `scripts/demo.sh store` and `scripts/demo.sh hub`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
./scripts/build.sh
bin="${TIERSYNC_BUILD_DIR:-build}/cli/tiersync"
out="${DEMO_OUT:-demo-out}"
case "${1:-federation}" in
  store) exec ./deploy/demo/store-demo.sh "$bin" "$out/store" ;;
  hub) exec ./deploy/demo/hub-demo.sh "$bin" "$out/hub" ;;
  federation) exec ./deploy/demo/federation.sh "$bin" "$out/federation" ;;
  *) echo "usage: scripts/demo.sh [federation|store|hub]" >&2; exit 2 ;;
esac
