#!/usr/bin/env bash
# dirfeed against a throwaway Samba AD DC on this machine, in the foreground.
#
#   scripts/demo.sh            as root on Debian 12
#
# Installs missing Debian packages, builds, provisions a Samba AD DC for EXAMPLE.TEST on
# 127.0.0.12 with sample users and groups (nested groups, a disabled user, a name with a
# comma), writes a config and runs `dirfeed run`, which logs every change it records.
# Ctrl-C stops dirfeed and the DC and leaves nothing running. Everything lives under
# build/demo/ (delete it to start over). DEMO_UNTIL_SYNCED=1 stops it all once the first
# sync has completed (/readyz 200) and exits 0.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEMO=$ROOT/build/demo
DC_DIR=$DEMO/dc
DC_IP=${DEMO_DC_IP:-127.0.0.12}
SAMBA_DC=$ROOT/tests/samba/samba-dc.sh

scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build --target dirfeed -j"$(nproc)"

mkdir -p "$DEMO"
# One example.test DC resolves at a time (/etc/hosts): wait for tests or other runs to finish.
mkdir -p /run/lock
exec 9>/run/lock/dirfeed-samba-dc.lock
flock -w 900 9 || { echo "another Samba DC user holds /run/lock/dirfeed-samba-dc.lock" >&2; exit 1; }
cleanup() {
  trap - EXIT INT TERM
  [ -n "${DIRFEED_PID:-}" ] && kill "$DIRFEED_PID" 2>/dev/null && wait "$DIRFEED_PID" 2>/dev/null
  "$SAMBA_DC" stop "$DC_DIR" || true
}
trap cleanup EXIT INT TERM

echo "== starting a Samba AD DC (dc1.example.test on $DC_IP)"
SAMBA_DC_OWNER_PID=$$ "$SAMBA_DC" reset "$DC_DIR" "$DC_IP"

echo "== adding sample users and groups"
export LDAPTLS_CACERT=$DC_DIR/private/tls/ca.pem
OU="OU=Demo,DC=example,DC=test"
ldapmodify -x -H ldaps://dc1.example.test -D Administrator@example.test -y "$DC_DIR/admin.password" >/dev/null <<EOF
dn: $OU
changetype: add
objectClass: organizationalUnit

dn: CN=Alice Able,$OU
changetype: add
objectClass: user
sAMAccountName: alice
givenName: Alice
sn: Able
displayName: Alice Able
mail: alice@example.test
userPrincipalName: alice@example.test
title: Engineer
department: Engineering

dn: CN=Smith\, John,$OU
changetype: add
objectClass: user
sAMAccountName: jsmith
displayName: Smith, John
mail: john.smith@example.test

dn: CN=Carol Disabled,$OU
changetype: add
objectClass: user
sAMAccountName: carol
userAccountControl: 514

dn: CN=Engineers,$OU
changetype: add
objectClass: group
sAMAccountName: engineers
description: People who build things
member: CN=Alice Able,$OU
member: CN=Smith\, John,$OU

dn: CN=All Staff,$OU
changetype: add
objectClass: group
sAMAccountName: allstaff
member: CN=Engineers,$OU
member: CN=Carol Disabled,$OU
EOF

cat > "$DEMO/example.test.password" < "$DC_DIR/admin.password"
chmod 600 "$DEMO/example.test.password"
cat > "$DEMO/dirfeed.yaml" <<EOF
state_dir: $DEMO/state
log:
  level: debug
domains:
  - name: example.test
    controllers:
      - ldaps://dc1.example.test
    tls:
      ca_file: $DC_DIR/private/tls/ca.pem
    bind:
      method: simple
      dn: Administrator@example.test
      password_file: $DEMO/example.test.password
    sync:
      strategy: ${DEMO_STRATEGY:-dirsync}
      interval: 10s
api:
  listen: 127.0.0.1:5000
  users_file: $DEMO/api-users
  keys_file: $DEMO/api-keys
EOF

build/dirfeed check-config --config "$DEMO/dirfeed.yaml"
# An API key for the Directory Changes and Directory Sync APIs (a new one each run).
rm -f "$DEMO/api-keys"
KEY=$(build/dirfeed api add-key --config "$DEMO/dirfeed.yaml" --name demo)
cat <<EOF
== running dirfeed (Ctrl-C stops it and the DC)
   Read it over the three APIs (more in README.md, "APIs"):
     curl 'http://127.0.0.1:5000/api/uid/v1.0/users?ip_only=false'
     curl -H 'x-api-key: $KEY' \\
       'http://127.0.0.1:5000/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true'
     curl -H 'Authorization: Api-Key $KEY' -H 'Content-Type: application/json' \\
       -d '{"name":"Demo","tenant":"acme","product":"crm"}' http://127.0.0.1:5000/api/v1/directory-sync
   Try, in another shell, and watch the next pass pick it up:
     LDAPTLS_CACERT=$LDAPTLS_CACERT ldapmodify -x -H ldaps://dc1.example.test \\
       -D Administrator@example.test -y $DC_DIR/admin.password <<'LDIF'
     dn: CN=Alice Able,$OU
     changetype: modify
     replace: title
     title: Principal Engineer
     LDIF
EOF
build/dirfeed run --config "$DEMO/dirfeed.yaml" &
DIRFEED_PID=$!
if [ "${DEMO_UNTIL_SYNCED:-0}" = 1 ]; then
  # For scripts/fresh-check.sh: stop once /readyz says the first sync completed.
  for _ in $(seq 1 120); do
    kill -0 "$DIRFEED_PID" 2>/dev/null || { echo "dirfeed exited before its first sync" >&2; exit 1; }
    if curl -fsS -o /dev/null http://127.0.0.1:5000/readyz 2>/dev/null; then
      echo "== first sync completed: $(curl -fsS http://127.0.0.1:5000/api/uid/v1.0/status)"
      exit 0
    fi
    sleep 1
  done
  echo "no completed sync within 120 s" >&2
  exit 1
fi
wait "$DIRFEED_PID" || true
