#!/usr/bin/env bash
# Installs the Debian 12 packages dirfeed needs to build and test (run as root).
# Runs `apt-get update` and `apt-get install` only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  libldap-dev libboost-dev libboost-log-dev libboost-program-options-dev libboost-regex-dev
  libkrb5-dev libsasl2-dev libsasl2-modules-gssapi-mit
  librocksdb-dev libprotobuf-dev protobuf-compiler libyaml-cpp-dev
  libgtest-dev libssl-dev libsystemd-dev libcurl4-openssl-dev tinyproxy
  clang libclang-rt-14-dev
  lintian mmdebstrap curl
  samba samba-ad-provision samba-dsdb-modules samba-vfs-modules ldap-utils iproute2 rsyslog
  ldb-tools faketime
  libnats-dev nats-server
)

missing=()
for p in "${PACKAGES[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "deps: all ${#PACKAGES[@]} packages installed"
  exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "deps: error: missing packages and not root; run: sudo $0" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${missing[@]}"
