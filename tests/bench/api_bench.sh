#!/usr/bin/env bash
# User ID API benchmark against nginx serving the same bytes (issue 3 speed targets).
#
#   tests/bench/api_bench.sh [USERS]              (as root; default 5000 users, 200 groups)
#   WRK_ARGS="-t2 -c16 -d10s" BUILD_DIR=build BENCH_DIR=build/bench tests/bench/api_bench.sh
#
# Seeds a Samba DC as tests/bench/sync_bench.sh does (same generator; a seeded copy is cached
# under BENCH_DIR, and the sync bench's build/bench/seeded-USERS-200.tgz is used when it was
# made by the current samba-dc.sh), runs `dirfeed run` (BUILD_DIR/dirfeed, built first) on a
# fresh store until its first sync is done, saves the bytes of
#   GET /api/uid/v1.0/user/<guid of the 43rd user>
#   GET /api/uid/v1.0/users?ip_only=false&domain=example.test
#   GET /api/v1/directory-sync/users?directoryId=<a directory of the whole domain>
#   GET /public/directory-changes?resourceType=user&onPremisesSyncEnabled=true  (a snapshot)
# (the last two with an API key made by `dirfeed api add-key`; nginx ignores it) and starts
# nginx (1 worker, temp config, loopback) serving them as static files at the same paths
# (checked byte for byte). Then wrk (keep-alive, WRK_ARGS) against dirfeed and nginx back to
# back for each, and prints requests/s and the ratio dirfeed/nginx. The daemon's VmRSS
# (/proc/PID/status) is read after the sync and after one list, and sampled every 0.2 s while
# the User ID list is fetched by one client (wrk -t1 -c1 -d5s), then with WRK_ARGS, then by 64
# concurrent clients (4 source addresses 127.0.0.101-104 with 16 kept-alive connections each:
# the server takes at most 32 per address; python3, RSS_SECONDS, default 10 s); VmHWM at the
# end. Needs wrk, nginx, curl, jq and python3 (installed with apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
. tests/bench/seeded_dc.sh
USERS=${1:-5000}
NGROUPS=200
BUILD_DIR=${BUILD_DIR:-build}
BENCH=${BENCH_DIR:-$ROOT/$BUILD_DIR/bench}
WRK_ARGS=${WRK_ARGS:--t2 -c16 -d10s}
DC_DIR=$BENCH/dc
DC_IP=${BENCH_DC_IP:-127.0.0.13}  # the sync bench's: its seeded DC was provisioned for it
SAMBA_DC=$ROOT/tests/samba/samba-dc.sh
OU="OU=Bench,DC=example,DC=test"
export LDAPTLS_CACERT=$DC_DIR/private/tls/ca.pem
LDAP_ARGS=(-x -H ldaps://dc1.example.test -D Administrator@example.test -y "$DC_DIR/admin.password")

missing=()
for tool in wrk nginx curl jq python3; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null
fi
cmake --build "$BUILD_DIR" --target dirfeed >/dev/null
mkdir -p "$BENCH"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
API_PORT=$(free_port)
NGINX_PORT=$(free_port)
WWW=$(mktemp -d)  # nginx's root and config; its worker (nobody) must read it
chmod 755 "$WWW"
daemon_pid="" nginx_pid=""
cleanup() {
  [ -z "$daemon_pid" ] || kill "$daemon_pid" 2>/dev/null || true
  [ -z "$nginx_pid" ] || kill "$nginx_pid" 2>/dev/null || true
  [ -z "$daemon_pid" ] || wait "$daemon_pid" 2>/dev/null || true
  [ -z "$nginx_pid" ] || wait "$nginx_pid" 2>/dev/null || true
  "$SAMBA_DC" stop "$DC_DIR" >/dev/null 2>&1 || true
  rm -rf "$WWW"
}
lock_dc
trap cleanup EXIT

start_seeded_dc "$ROOT/build/bench/seeded-$USERS-$NGROUPS.tgz"

# The daemon: a fresh store, first sync, then the API on its own 4 threads.
rm -rf "$BENCH/api-state" "$BENCH/api-keys"
bench_config "$BENCH/api.yaml" "$BENCH/api-state" warning \
  "strategy: usn, page_size: 1000, interval: 600s, notifications: false"
cat >> "$BENCH/api.yaml" <<EOF
api:
  listen: 127.0.0.1:$API_PORT
  users_file: $BENCH/api-users
  keys_file: $BENCH/api-keys
EOF
"$BUILD_DIR/dirfeed" run --config "$BENCH/api.yaml" 2>"$BENCH/api-daemon.log" &
daemon_pid=$!
API=http://127.0.0.1:$API_PORT
deadline=$((SECONDS + 180))
until curl -sf "$API/readyz" >/dev/null; do
  kill -0 "$daemon_pid" 2>/dev/null || { echo "dirfeed exited (see $BENCH/api-daemon.log)" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "no first sync (see $BENCH/api-daemon.log)" >&2; exit 1; }
  sleep 0.2
done
rss_kib() { awk -v field="$1:" '$1 == field { print $2 }' "/proc/$daemon_pid/status"; }
mib() { echo "scale=1; $1 / 1024" | bc; }
rss_synced=$(rss_kib VmRSS)

# An API key and a Directory Sync directory of the whole domain.
KEY=$("$BUILD_DIR/dirfeed" api add-key --config "$BENCH/api.yaml" --name bench)
deadline=$((SECONDS + 10))  # the daemon reads the keys file again within a second or so
until DIRECTORY=$(curl -sf -X POST -H "Authorization: Api-Key $KEY" -H 'Content-Type: application/json' \
                    -d '{"tenant":"bench","product":"bench","domain":"example.test"}' \
                    "$API/api/v1/directory-sync" | jq -r .data.id) && [ -n "$DIRECTORY" ]; do
  [ $SECONDS -lt $deadline ] || { echo "cannot create a Directory Sync directory" >&2; exit 1; }
  sleep 0.5
done
DSYNC_PATH="/api/v1/directory-sync/users?directoryId=$DIRECTORY"
CHANGES_PATH="/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true"
AUTH=(-H "Authorization: Api-Key $KEY" -H "x-api-key: $KEY")

# The bytes nginx serves: exactly what dirfeed answered.
LIST_PATH="/api/uid/v1.0/users?ip_only=false&domain=example.test"
curl -sf "$API$LIST_PATH" -o "$WWW/users.json"
rss_one_list=$(rss_kib VmRSS)
listed=$(jq '.users | length' "$WWW/users.json")
[ "$listed" -ge "$USERS" ] || { echo "the list holds $listed users, expected $USERS or more" >&2; exit 1; }
GUID=$(jq -r '.users[42].objectGUID' "$WWW/users.json")
USER_PATH=/api/uid/v1.0/user/$GUID
curl -sf "$API$USER_PATH" -o "$WWW/user.json"
curl -sf "${AUTH[@]}" "$API$DSYNC_PATH" -o "$WWW/dsync-users.json"
curl -sf "${AUTH[@]}" "$API$CHANGES_PATH" -o "$WWW/changes.json"
[ "$(jq '.data | length' "$WWW/dsync-users.json")" -ge "$USERS" ] &&
  [ "$(jq '.data | length' "$WWW/changes.json")" -ge "$USERS" ] ||
  { echo "the Directory Sync or Directory Changes list holds fewer than $USERS users" >&2; exit 1; }
chmod 644 "$WWW"/*.json

cat > "$WWW/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $WWW/nginx.pid;
error_log $WWW/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 65s;
  types { }
  default_type application/json;
  client_body_temp_path $WWW/tmp;
  proxy_temp_path $WWW/tmp;
  fastcgi_temp_path $WWW/tmp;
  uwsgi_temp_path $WWW/tmp;
  scgi_temp_path $WWW/tmp;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $WWW;
    location = /api/uid/v1.0/users { try_files /users.json =404; }
    location = $USER_PATH { try_files /user.json =404; }
    location = /api/v1/directory-sync/users { try_files /dsync-users.json =404; }
    location = /public/directory-changes { try_files /changes.json =404; }
  }
}
EOF
nginx -c "$WWW/nginx.conf" -e "$WWW/error.log" &
nginx_pid=$!
NGINX=http://127.0.0.1:$NGINX_PORT
deadline=$((SECONDS + 10))
until curl -sf "$NGINX$USER_PATH" >/dev/null; do
  [ $SECONDS -lt $deadline ] || { echo "nginx did not start (see $WWW/error.log)" >&2; exit 1; }
  sleep 0.1
done
for path in "$USER_PATH" "$LIST_PATH" "$DSYNC_PATH" "$CHANGES_PATH"; do
  cmp -s <(curl -sf "${AUTH[@]}" "$API$path") <(curl -sf "$NGINX$path") ||
    { echo "nginx and dirfeed differ for $path" >&2; exit 1; }
done

# "REQUESTS_PER_SECOND REQUESTS" of one wrk run on URL ($1) with WRK_ARGS, or with the wrk
# options that follow URL
bench() {
  local url=$1
  shift
  # shellcheck disable=SC2086  # WRK_ARGS is a list of options
  [ $# -gt 0 ] || set -- $WRK_ARGS
  wrk -H "Authorization: Api-Key $KEY" -H "x-api-key: $KEY" "$@" "$url" | awk '/requests in/ { n = $1 } /^Requests\/sec:/ { r = $2 } END { print r, n }'
}
ratio() { echo "scale=3; $1 / $2" | bc; }

read -r user_dirfeed _ < <(bench "$API$USER_PATH")
read -r user_nginx _ < <(bench "$NGINX$USER_PATH")

# The list, one client at a time (wrk -t1 -c1 -d5s), then with WRK_ARGS; VmRSS sampled.
max_rss_while() {  # runs "$@" while sampling; prints "MAX_VMRSS_KIB" then the command's output
  ( while kill -0 "$daemon_pid" 2>/dev/null; do rss_kib VmRSS; sleep 0.2; done ) \
    > "$BENCH/rss.samples" &
  local sampler=$! output
  output=$("$@")
  kill "$sampler"; wait "$sampler" 2>/dev/null || true
  echo "$( (cat "$BENCH/rss.samples"; rss_kib VmRSS) | sort -n | tail -n 1) $output"
}
read -r rss_sequential _ < <(max_rss_while bench "$API$LIST_PATH" -t1 -c1 -d5s)
read -r rss_concurrent list_dirfeed list_count < <(max_rss_while bench "$API$LIST_PATH")
read -r list_nginx _ < <(bench "$NGINX$LIST_PATH")
read -r dsync_dirfeed _ < <(bench "$API$DSYNC_PATH")
read -r dsync_nginx _ < <(bench "$NGINX$DSYNC_PATH")
read -r changes_dirfeed _ < <(bench "$API$CHANGES_PATH")
read -r changes_nginx _ < <(bench "$NGINX$CHANGES_PATH")

# 64 lists at once: "LISTS_COMPLETED" of RSS_SECONDS of 16 connections from each of 4 source
# addresses, each fetching the User ID list again and again.
lists_64() {
  python3 - "$API_PORT" "$LIST_PATH" "${RSS_SECONDS:-10}" <<'PY'
import http.client, sys, threading, time
port, path, seconds = int(sys.argv[1]), sys.argv[2], float(sys.argv[3])
end, done, lock = time.time() + seconds, [0], threading.Lock()
def client(source):
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0), timeout=60)
    while time.time() < end:
        connection.request("GET", path)
        response = connection.getresponse()
        while response.read(65536):
            pass
        with lock:
            done[0] += 1
threads = [threading.Thread(target=client, args=(f"127.0.0.{101 + i % 4}",)) for i in range(64)]
for t in threads: t.start()
for t in threads: t.join()
print(done[0])
PY
}
read -r rss_64 lists_64_count < <(max_rss_while lists_64)
rss_after=$(rss_kib VmRSS)
hwm=$(rss_kib VmHWM)

size=$(stat -c %s "$WWW/users.json")
echo
echo "nproc $(nproc); wrk $WRK_ARGS; $listed users"
printf '%-58s %12s %12s %8s\n' request "dirfeed r/s" "nginx r/s" ratio
printf '%-58s %12s %12s %8s\n' "GET $USER_PATH" "$user_dirfeed" "$user_nginx" \
  "$(ratio "$user_dirfeed" "$user_nginx")"
printf '%-58s %12s %12s %8s\n' "GET $LIST_PATH" "$list_dirfeed" "$list_nginx" \
  "$(ratio "$list_dirfeed" "$list_nginx")"
printf '%-58s %12s %12s %8s\n' "GET /api/v1/directory-sync/users?directoryId=..." \
  "$dsync_dirfeed" "$dsync_nginx" "$(ratio "$dsync_dirfeed" "$dsync_nginx")"
printf '%-58s %12s %12s %8s\n' "GET $CHANGES_PATH" "$changes_dirfeed" "$changes_nginx" \
  "$(ratio "$changes_dirfeed" "$changes_nginx")"
echo "list response: $(mib $((size / 1024))) MiB ($size bytes); served $list_count times by dirfeed under wrk"
echo "Directory Sync users: $(stat -c %s "$WWW/dsync-users.json") bytes; Directory Changes snapshot:" \
  "$(stat -c %s "$WWW/changes.json") bytes"
echo "dirfeed VmRSS MiB: after sync $(mib "$rss_synced"), after one list $(mib "$rss_one_list")," \
  "max with 1 client $(mib "$rss_sequential"), max with wrk $WRK_ARGS $(mib "$rss_concurrent"),"
echo "  max with 64 concurrent lists $(mib "$rss_64") ($lists_64_count lists in ${RSS_SECONDS:-10} s)," \
  "after $(mib "$rss_after"); VmHWM $(mib "$hwm")"
echo "RSS growth from after one list: 1 client $(mib $((rss_sequential - rss_one_list))) MiB," \
  "wrk $WRK_ARGS $(mib $((rss_concurrent - rss_one_list))) MiB (from after sync:" \
  "$(mib $((rss_sequential - rss_synced))), $(mib $((rss_concurrent - rss_synced))));" \
  "64 lists $(mib $((rss_64 - rss_one_list))) MiB"
