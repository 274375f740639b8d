#!/usr/bin/env bash
# Builds the libFuzzer targets in tests/fuzz/ with clang (the main build uses g++) and runs
# each for SECONDS (default 20) from its seed corpus; exits non-zero on any crash, leak,
# sanitizer report or build failure, and when clang or libFuzzer is missing (never skips).
#   tests/fuzz/run.sh [SECONDS [CMAKE_BUILD_DIR]]
# CMAKE_BUILD_DIR (default build) is the g++ build tree: uid_body_fuzz links its store
# libraries (changefeed, proto: RocksDB and protobuf stay uninstrumented). FUZZ_TARGETS
# (e.g. "json request") picks targets; FUZZ_ARGS adds libFuzzer flags (e.g. -jobs=4).
# Binaries go to CMAKE_BUILD_DIR/fuzz/, crash inputs to its artifacts/; the corpus in the tree is
# only read (new inputs go to CMAKE_BUILD_DIR/fuzz/corpus/<target>/).
set -euo pipefail
ROOT=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
SECONDS_EACH=${1:-20}
CMAKE_BUILD=$(readlink -f "${2:-$ROOT/build}")
OUT=$CMAKE_BUILD/fuzz
TARGETS=${FUZZ_TARGETS:-json request uid_body ipsource}
CXX=${FUZZ_CXX:-clang++}

if ! command -v "$CXX" >/dev/null; then
  echo "fuzz: error: $CXX not found; install clang and libclang-rt-14-dev (scripts/deps.sh)" >&2
  exit 1
fi
mkdir -p "$OUT/artifacts"

# -DNDEBUG as in the shipped (RelWithDebInfo) build: Beast 1.74's parser has a debug-only
# BOOST_ASSERT(n >= 5) in parse_chunk_header that fires when a chunked request arrives a
# byte at a time (found by request_fuzz; harmless without asserts, which ASan/UBSan check).
FLAGS=(-std=c++20 -g -O1 -DNDEBUG -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined
       -fno-sanitize-recover=all -I"$ROOT")
REST=$ROOT/rest
# core/ (std only): every module's shared helpers.
CORE=$(echo "$ROOT"/core/*.cpp)
# The router's own dependencies (rest/metrics.cpp: the request counter, when present).
ROUTER="$REST/router.cpp $REST/response.cpp $REST/json.cpp $CORE"
[ -f "$REST/metrics.cpp" ] && ROUTER="$ROUTER $REST/metrics.cpp"

build() {  # name, sources and libraries...
  local name=$1; shift
  "$CXX" "${FLAGS[@]}" "$@" -o "$OUT/${name}_fuzz" 2> "$OUT/${name}_fuzz.build.log" || {
    cat "$OUT/${name}_fuzz.build.log" >&2
    echo "fuzz: error: building ${name}_fuzz failed" >&2
    return 1
  }
}

declare -A SOURCES
SOURCES[json]="$ROOT/tests/fuzz/json_fuzz.cpp $REST/json.cpp $CORE"
SOURCES[request]="$ROOT/tests/fuzz/request_fuzz.cpp $ROUTER $REST/auth.cpp $REST/credentials.cpp -lcrypto"
SOURCES[uid_body]="$ROOT/tests/fuzz/uid_body_fuzz.cpp $ROUTER $REST/uid_write.cpp -I$CMAKE_BUILD/proto
  $CMAKE_BUILD/changefeed/libdirfeed_changefeed.a $CMAKE_BUILD/proto/libdirfeed_proto.a
  -lrocksdb -lprotobuf"

IPS=$ROOT/ipsource
SOURCES[ipsource]="$ROOT/tests/fuzz/ipsource_fuzz.cpp $IPS/syslog.cpp $IPS/fields.cpp $IPS/parsers.cpp
  $IPS/windows_security.cpp $IPS/network.cpp $IPS/options.cpp $CORE -lboost_regex"

started=$(date +%s)
pids=()
for t in $TARGETS; do
  [ -n "${SOURCES[$t]:-}" ] || { echo "fuzz: error: unknown target $t" >&2; exit 1; }
  if [ "$t" = uid_body ] && [ ! -f "$CMAKE_BUILD/changefeed/libdirfeed_changefeed.a" ]; then
    echo "fuzz: error: uid_body needs the g++ build in $CMAKE_BUILD (cmake --build it first)" >&2
    exit 1
  fi
  # shellcheck disable=SC2086
  build "$t" ${SOURCES[$t]} &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid" || exit 1; done
echo "fuzz: built $TARGETS in $(( $(date +%s) - started )) s"

status=0
for t in $TARGETS; do
  corpus=$OUT/corpus/$t
  mkdir -p "$corpus"
  echo "fuzz: running ${t}_fuzz for ${SECONDS_EACH} s"
  # shellcheck disable=SC2086
  if ! "$OUT/${t}_fuzz" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$OUT/artifacts/${t}-" -print_final_stats=1 ${FUZZ_ARGS:-} \
       "$corpus" "$ROOT/tests/fuzz/corpus/$t" > "$OUT/${t}_fuzz.log" 2>&1; then
    tail -n 60 "$OUT/${t}_fuzz.log" >&2
    echo "fuzz: FAILED: ${t}_fuzz (log $OUT/${t}_fuzz.log, input in $OUT/artifacts/)" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^Done' "$OUT/${t}_fuzz.log" | sed "s/^/fuzz: $t: /"
  fi
done
exit $status
