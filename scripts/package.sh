#!/usr/bin/env bash
# Builds the Debian package dirfeed_<version>_amd64.deb from this tree and prints its path as
# the last line. Uses the build tree of scripts/test.sh (BUILD_DIR, default build), so after
# the tests only the packaging runs; lintian then checks the package (any error or warning
# fails; see packaging/lintian-overrides for the tags accepted and why).
#   BUILD_DIR (default build), OUT_DIR (default BUILD_DIR)
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

BUILD_DIR=${BUILD_DIR:-build}
OUT_DIR=$(realpath -m "${OUT_DIR:-$BUILD_DIR}")

scripts/deps.sh >&2
# CMAKE_SKIP_INSTALL_ALL_DEPENDENCY: packaging builds the daemon, not the tests.
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >&2
cmake --build "$BUILD_DIR" --target dirfeed -j"$(nproc)" >&2
mkdir -p "$OUT_DIR"
(cd "$BUILD_DIR" && cpack -G DEB -B "$OUT_DIR/cpack") >&2
deb=$(ls -t "$OUT_DIR"/cpack/dirfeed_*_amd64.deb | head -n 1)
mv -f "$deb" "$OUT_DIR/"
deb=$OUT_DIR/$(basename "$deb")
rm -rf "$OUT_DIR/cpack"
lintian --fail-on error,warning --info "$deb" >&2
echo "$deb"
