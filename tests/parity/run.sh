#!/usr/bin/env bash
# Parity with the reference Directory Sync implementation: installs @boxyhq/saml-jackson
# (tests/parity/package.json, from npm) into tests/parity/node_modules, starts `dirfeed run`
# (BUILD_DIR/dirfeed, default build/) with a configured domain whose DC is unreachable (the
# SCIM intake needs none), and runs parity.mjs against both. Arguments after BUILD_DIR go to
# parity.mjs (--bench N: N SCIM creates against each). Exits non-zero on an unknown difference.
#
# usage: tests/parity/run.sh [BUILD_DIR] [--bench N]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
shift || true
binary=$(cd "$build" && pwd)/dirfeed
[ -x "$binary" ] || { echo "no $binary: build the dirfeed target first" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed (apt-get install nodejs npm)" >&2; exit 1; }
[ -d "$here/node_modules/@boxyhq/saml-jackson" ] ||
  (cd "$here" && npm install --no-audit --no-fund --silent >/dev/null)

work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
echo unused > "$work/bind.password"
chmod 600 "$work/bind.password"
cat > "$work/dirfeed.yaml" <<YAML
state_dir: $work/state
log:
  level: info
domains:
  - name: example.test
    controllers: [ldaps://127.0.0.1:9]
    tls:
      ca_file: /etc/ssl/certs/ca-certificates.crt
    bind:
      dn: svc@example.test
      password_file: $work/bind.password
api:
  listen: 127.0.0.1:0
  users_file: $work/api-users
  keys_file: $work/api-keys
  webhook_allowed_networks: [127.0.0.0/8]
YAML
key=$("$binary" api add-key --config "$work/dirfeed.yaml" --name parity 2>/dev/null | head -1)
"$binary" run --config "$work/dirfeed.yaml" >"$work/run.log" 2>&1 &
pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'api: listening on http://127.0.0.1:[0-9]*' "$work/run.log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/run.log" >&2; exit 1; }
DO_NOT_TRACK=1 BOXYHQ_NO_ANALYTICS=1 node "$here/parity.mjs" "$port" "$key" "$@"
