#!/usr/bin/env bash
# Installs dependencies, configures, builds and runs every test (unit and integration tests
# against a real Samba AD DC; those need root). Exits non-zero on any failure.
#   BUILD_DIR (default build), CMAKE_ARGS (extra configure arguments), CTEST_ARGS (extra
#   ctest arguments, e.g. "-L integration" or "-LE integration"), DIRFEED_CCACHE_DIR (below)
set -euo pipefail
cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.."

BUILD_DIR=${BUILD_DIR:-build}
JOBS=$(nproc)

scripts/deps.sh
# DIRFEED_CCACHE_DIR set and ccache installed: compile through ccache (an accelerator, not a
# dependency). Its keys are the sources and headers as compiled and the compiler's content, not
# paths or times, so a clean checkout or a fresh root reuses what another build compiled, and
# a missing header still fails the build. .ci/run keeps one such cache on the machine.
launcher=()
if [ -n "${DIRFEED_CCACHE_DIR:-}" ]; then
  if command -v ccache >/dev/null; then
    export CCACHE_DIR=$DIRFEED_CCACHE_DIR CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
    export CCACHE_COMPILERCHECK=content
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  else
    echo "test.sh: DIRFEED_CCACHE_DIR is set but ccache is not installed; building without it" >&2
  fi
fi
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDIRFEED_WERROR=ON \
  "${launcher[@]}" ${CMAKE_ARGS:-}
cmake --build "$BUILD_DIR" -j"$JOBS"
# Samba tests carry RESOURCE_LOCK samba, so they run one at a time; the rest in parallel.
# shellcheck disable=SC2086
ctest --test-dir "$BUILD_DIR" --output-on-failure -j"$JOBS" ${CTEST_ARGS:-}
