#!/usr/bin/env bash
# Sync benchmark against a local Samba AD DC (issue: core speed targets).
#
#   tests/bench/sync_bench.sh [USERS] [GROUPS]      (as root; default 5000 users, 200 groups)
#   MEMBER_RANGE_STEP=0 tests/bench/sync_bench.sh   (sync.member_range_step for dirfeed)
#
# Seeds the DC (cached: the seeded DC is kept as a template under build/bench/), then times,
# in one run and on the same DC:
#   a) ldapsearch paging the attributes dirfeed reads (groups, then users) -- the baseline
#   b) dirfeed's first full sync into an empty store, per strategy
#   c) dirfeed's incremental pass after 50 changes, per strategy, in a running daemon (its
#      connection stays open between passes, as in production)
# and prints b/a, c/b and dirfeed's peak RSS (from /usr/bin/time). b and c are the pass
# durations the daemon logs ("... done on DC in N ms"); for b the whole `dirfeed run --once`
# process (start, RocksDB open, pass, close) is shown next to it; c sums the passes that read
# the 50 changes (a pass may start while they are being made). Each number is the median of
# RUNS runs (default 3).
#
#   BASELINE=/path/to/older/dirfeed tests/bench/sync_bench.sh
# also times b with that binary, alternating with build/dirfeed run by run, and prints
# b(build/dirfeed) / b(BASELINE): a write-path change measured against the build before it.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/bench/seeded_dc.sh
USERS=${1:-5000}
NGROUPS=${2:-200}
RUNS=${RUNS:-3}
BENCH=$ROOT/build/bench
DC_DIR=$BENCH/dc
DC_IP=${BENCH_DC_IP:-127.0.0.13}
SAMBA_DC=$ROOT/tests/samba/samba-dc.sh
OU="OU=Bench,DC=example,DC=test"
export LDAPTLS_CACERT=$DC_DIR/private/tls/ca.pem
LDAP_ARGS=(-x -H ldaps://dc1.example.test -D Administrator@example.test -y "$DC_DIR/admin.password")

command -v /usr/bin/time >/dev/null && command -v bc >/dev/null ||
  apt-get install -y --no-install-recommends time bc >/dev/null
cmake --build build --target dirfeed >/dev/null
mkdir -p "$BENCH"
lock_dc
trap '"$SAMBA_DC" stop "$DC_DIR" >/dev/null 2>&1 || true' EXIT

start_seeded_dc

ATTRS=(objectGUID objectClass isDeleted otherTelephone sAMAccountName objectSid displayName givenName
       sn mail department title userPrincipalName description mailNickname userAccountControl
       primaryGroupID whenCreated groupType telephoneNumber member)
baseline() {  # the same two paged searches dirfeed's usn strategy makes, with the same controls
  for filter in '(objectClass=group)' '(&(objectCategory=person)(objectClass=user))'; do
    ldapsearch "${LDAP_ARGS[@]}" -LLL -E pr=1000/noprompt -E 1.2.840.113556.1.4.529 \
      -b DC=example,DC=test "$filter" "${ATTRS[@]}" >/dev/null
  done
}

write_config() {  # $1 strategy, $2 state dir: $BENCH/$1.yaml
  bench_config "$BENCH/$1.yaml" "$2" info "strategy: $1, page_size: 1000, interval: 3s, \
notifications: false${MEMBER_RANGE_STEP:+, member_range_step: $MEMBER_RANGE_STEP}"
}

# "PASS_SECONDS PROCESS_SECONDS PEAK_RSS_KIB" of one `dirfeed run --once`; fails when it does
measure() {
  /usr/bin/time -o "$BENCH/time.out" -f '%e %M' "$@" >/dev/null 2>"$BENCH/run.log" ||
    { echo "failed: $* (see $BENCH/run.log)" >&2; exit 1; }
  local pass_ms
  pass_ms=$(sed -n 's/.* done on .* in \([0-9]*\) ms:.*/\1/p' "$BENCH/run.log" | tail -n 1)
  [ -n "$pass_ms" ] || { echo "no pass summary in $BENCH/run.log" >&2; exit 1; }
  read -r wall rss < "$BENCH/time.out"
  echo "$(echo "$pass_ms / 1000" | bc -l) $wall $rss"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

echo "== baseline: ldapsearch, $RUNS runs" >&2
a=$(for _ in $(seq "$RUNS"); do s=$(date +%s.%N); baseline; echo "$(date +%s.%N) - $s" | bc; done | median)

modify_50() {
  local ldif="" i
  for i in $(seq 1 50); do
    ldif+="dn: CN=user$(printf %05d $((i * 37)) ),$OU"$'\n'"changetype: modify"$'\n'"replace: title"$'\n'"title: changed $RANDOM"$'\n\n'
  done
  ldapmodify "${LDAP_ARGS[@]}" >/dev/null <<<"$ldif"
}

# "MS OBJECTS" summed over the passes logged in $1 after its first $2 passes.
passes_after() {
  sed -n 's/.*pass done on .* in \([0-9]*\) ms: \([0-9]*\) objects read.*/\1 \2/p' "$1" |
    tail -n "+$(($2 + 1))" | awk '{ ms += $1; objects += $2 } END { print ms + 0, objects + 0 }'
}

# Runs the daemon on an already synced state; after its first pass, makes 50 changes and
# prints "PASS_SECONDS PEAK_RSS_KIB" of the passes that read them.
incremental_in_daemon() {  # $1 config
  local log=$BENCH/daemon.log deadline pid pass_ms objects before
  /usr/bin/time -o "$BENCH/daemon.time" -f '%M' build/dirfeed run --config "$1" 2>"$log" &
  local time_pid=$!
  deadline=$((SECONDS + 60))
  until grep -q "pass done" "$log"; do
    [ $SECONDS -lt $deadline ] || { echo "daemon made no pass (see $log)" >&2; exit 1; }
    sleep 0.1
  done
  before=$(grep -c "pass done" "$log")
  modify_50
  while read -r pass_ms objects < <(passes_after "$log" "$before") && [ "$objects" -lt 50 ]; do
    [ $SECONDS -lt $deadline ] || { echo "no passes read the 50 changes (see $log)" >&2; exit 1; }
    sleep 0.1
  done
  pid=$(pgrep -P "$time_pid" dirfeed)
  kill -TERM "$pid"
  wait "$time_pid"
  echo "$(echo "$pass_ms / 1000" | bc -l) $(cat "$BENCH/daemon.time")"
}

printf '\n%-8s %8s %16s %8s %8s %8s %12s%s\n' strategy "a (s)" "b (s) [process]" "b/a" \
  "c (s)" "c/b" "peak RSS MB" "${BASELINE:+   b baseline (s)  b/b baseline}"
for strategy in usn dirsync; do
  full=() full_process=() incr=() base=() rss=0
  for _ in $(seq "$RUNS"); do
    rm -rf "$BENCH/state-$strategy"
    write_config "$strategy" "$BENCH/state-$strategy"
    if [ -n "${BASELINE:-}" ]; then
      read -r t w m < <(measure "$BASELINE" run --once --config "$BENCH/$strategy.yaml")
      base+=("$t")
      rm -rf "$BENCH/state-$strategy"
    fi
    read -r t w m < <(measure build/dirfeed run --once --config "$BENCH/$strategy.yaml")
    full+=("$t"); full_process+=("$w"); [ "$m" -gt "$rss" ] && rss=$m
    read -r t m < <(incremental_in_daemon "$BENCH/$strategy.yaml")
    incr+=("$t"); [ "$m" -gt "$rss" ] && rss=$m
  done
  b=$(printf '%s\n' "${full[@]}" | median); bp=$(printf '%s\n' "${full_process[@]}" | median)
  c=$(printf '%s\n' "${incr[@]}" | median)
  printf '%-8s %8.2f %7.2f [%5.2f]  %8.2f %8.3f %8.3f %12.1f' "$strategy" "$a" "$b" "$bp" \
    "$(echo "$b / $a" | bc -l)" "$c" "$(echo "$c / $b" | bc -l)" "$(echo "$rss / 1024" | bc -l)"
  if [ -n "${BASELINE:-}" ]; then
    bb=$(printf '%s\n' "${base[@]}" | median)
    printf '   %15.3f  %12.3f   (runs:%s | baseline:%s)' "$bb" "$(echo "$b / $bb" | bc -l)" \
      "$(printf ' %.3f' "${full[@]}")" "$(printf ' %.3f' "${base[@]}")"
  fi
  printf '\n'
done
