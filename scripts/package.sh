#!/usr/bin/env bash
# Builds the Debian package of tiersync from this checkout (debhelper, debian/): prints the
# path of build-deb/tiersync_<version>_<arch>.deb. Installs the build dependencies that are
# missing (scripts/install-deps.sh). Operators: docs/operators/package.md.
#
# TIERSYNC_PACKAGE_BUILD=release (default) builds as Debian does (-O2 -g, hardening, a
# -dbgsym package); =fast (the package test in scripts/test.sh) builds -O0 without debug
# information — about half the compile time, the same files — and no -dbgsym package.
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
  *) echo "TIERSYNC_PACKAGE_BUILD must be release or fast" >&2; exit 2 ;;
esac
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
