#!/usr/bin/env bash
# Installs dependencies, configures, builds and runs every test (unit and integration tests
# against a real Samba AD DC; those need root). Exits non-zero on any failure.
#   BUILD_DIR (default build), CMAKE_ARGS (extra configure arguments), CTEST_ARGS (extra
#   ctest arguments, e.g. "-L integration" or "-LE integration")
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=$(nproc)

scripts/deps.sh
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIRFEED_WERROR=ON ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j"$JOBS"
# Samba tests carry RESOURCE_LOCK samba, so they run one at a time; the rest in parallel.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" ${CTEST_ARGS:-}
