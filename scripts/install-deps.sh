#!/usr/bin/env bash
# Installs the Debian 12 packages tiersync needs to build, test and run its demo.
# Idempotent: asks apt only when something is missing. Extra package names may be passed as
# arguments (the benchmarks add their peers this way).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config clang-format
  libboost1.81-dev libgit2-dev libzstd-dev libxxhash-dev liblmdb-dev lmdb-utils libssl-dev openssl
  libgtest-dev libgmock-dev libcli11-dev nlohmann-json3-dev libtomlplusplus-dev prometheus-cpp-dev
  util-linux time git curl python3 zlib1g-dev libsystemd-dev
  "$@"
)
# Node.js runs the interoperability tests (tuf-js); keep a Node that is already there.
command -v node >/dev/null 2>&1 || packages+=(nodejs)
command -v npm >/dev/null 2>&1 || packages+=(npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
