#!/usr/bin/env bash
# Builds the Debian package of tiersync from this checkout (debhelper, debian/): prints the
# path of build-deb/tiersync_<version>_<arch>.deb. Installs the build dependencies that are
# missing (scripts/install-deps.sh). Operators: docs/operators/package.md.
#
# TIERSYNC_PACKAGE_BUILD=release (default) builds as Debian does (-O2 -g, hardening, a
# -dbgsym package); =fast builds -O0 without debug information — about half the compile
# time, the same files — and no -dbgsym package; =prebuilt compiles nothing and packages the
# binary TIERSYNC_PACKAGE_BINARY built already from this checkout (the package test in
# scripts/test.sh packages the test suite's sanitizer build: what it tests is the packaging —
# units, maintainer scripts, layout, user — and a second compile of the same sources would
# take a third of CI's time).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh debhelper help2man dpkg-dev
mode="${TIERSYNC_PACKAGE_BUILD:-release}"
case "$mode" in
  release) ;;
  fast)
    export DEB_BUILD_OPTIONS="noopt nocheck noddebs ${DEB_BUILD_OPTIONS:-}"
    export DEB_CXXFLAGS_STRIP="-g ${DEB_CXXFLAGS_STRIP:-}"
    ;;
  prebuilt)
    if [ ! -x "${TIERSYNC_PACKAGE_BINARY:-}" ]; then
      echo "TIERSYNC_PACKAGE_BUILD=prebuilt needs TIERSYNC_PACKAGE_BINARY, an executable" >&2
      exit 2
    fi
    TIERSYNC_PACKAGE_BINARY="$(realpath "$TIERSYNC_PACKAGE_BINARY")"
    export TIERSYNC_PACKAGE_BINARY
    export DEB_BUILD_OPTIONS="nocheck noddebs ${DEB_BUILD_OPTIONS:-}"
    ;;
  *) echo "TIERSYNC_PACKAGE_BUILD must be release, fast or prebuilt" >&2; exit 2 ;;
esac
if [ "$mode" != prebuilt ]; then unset TIERSYNC_PACKAGE_BINARY; fi
dpkg-checkbuilddeps
rm -f build-deb/*.deb build-deb/*.ddeb
# The compiler flags are fixed when CMake first configures build-deb/obj: another mode starts
# over; the same mode rebuilds only what changed.
if [ "$(cat build-deb/obj/.package-mode 2>/dev/null)" != "$mode" ]; then rm -rf build-deb/obj; fi
# dpkg-buildpackage -b would do what follows and then write .changes and .buildinfo files to
# the parent directory; a package for this machine or a local repository needs only the .deb.
dh_clean
debian/rules build
echo "$mode" >build-deb/obj/.package-mode
debian/rules binary
ls build-deb/tiersync_*.deb
