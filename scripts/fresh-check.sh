#!/usr/bin/env bash
# Proves the install on a fresh Debian 12 (bookworm) machine, as a newcomer and an admin meet it.
#
#   scripts/fresh-check.sh        as root; needs mmdebstrap (scripts/deps.sh installs it)
#
# 1. The base: a bookworm root with apt only (mmdebstrap --variant=apt), plus the /etc/hosts
#    that the Debian installer writes. It is made once and cached as a tarball in FRESH_CACHE;
#    every run unpacks a pristine copy of it (and one more for step 3).
# 2. The build root: the repository's HEAD (what is committed) cloned into /src/dirfeed, then
#    the README's commands: scripts/deps.sh, scripts/test.sh (FRESH_CTEST_ARGS, default all
#    tests), scripts/demo.sh up to its first completed sync, scripts/package.sh (the .deb).
# 3. The package root: `apt-get install ./dirfeed_*.deb` (the packages it pulls in are
#    listed), `dirfeed --version`, `dirfeed check-config` on a config made from the installed
#    example, an API user added by root, then the daemon run as the dirfeed user with the
#    unit's own ExecStart against a Samba DC (started in the build root: both roots share this
#    machine's network) until /readyz is 200 and an authenticated write is accepted; and
#    `systemd-analyze verify` of the installed unit.
#
# Everything runs in a private mount namespace, so the roots' mounts vanish with this script;
# the roots are deleted at the end (FRESH_KEEP=1 keeps them). Downloaded .debs are kept in
# FRESH_CACHE/archives between runs to spare the mirror (apt still resolves and installs
# every package in every run).
#   FRESH_CACHE (default /var/cache/dirfeed-fresh), FRESH_BASE_MAX_AGE_DAYS (default 7),
#   FRESH_MIRROR (default http://deb.debian.org), FRESH_CTEST_ARGS, FRESH_KEEP, FRESH_CCACHE_DIR
#   (a ccache directory of this machine for the build root's compiles; installs ccache there
#   after deps.sh)
set -euo pipefail
SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(dirname "$(dirname "$SELF")")

[ "$(id -u)" -eq 0 ] || { echo "fresh-check: must run as root" >&2; exit 1; }
if [ -z "${FRESH_CHECK_NS:-}" ]; then
  FRESH_CHECK_NS=1 exec unshare --mount --propagation private -- "$SELF" "$@"
fi

CACHE=${FRESH_CACHE:-/var/cache/dirfeed-fresh}
MAX_AGE=${FRESH_BASE_MAX_AGE_DAYS:-7}
MIRROR=${FRESH_MIRROR:-http://deb.debian.org}
BASE=$CACHE/bookworm-apt.tar
DC_IP=127.0.0.41
API=127.0.0.1:5041
START=$(date +%s)

step() { printf '\n== fresh-check [%ss]: %s\n' "$(($(date +%s) - START))" "$*"; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 1; }

command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (scripts/deps.sh installs it)"
mkdir -p "$CACHE/archives/partial"

if [ ! -f "$BASE" ] || [ -n "$(find "$BASE" -mtime +"$MAX_AGE")" ]; then
  step "making the base bookworm root (mmdebstrap --variant=apt)"
  hosts=$(mktemp)
  printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' >"$hosts"
  mmdebstrap --variant=apt --format=tar --customize-hook="upload $hosts /etc/hosts" bookworm "$BASE.new" \
    "deb $MIRROR/debian bookworm main" "deb $MIRROR/debian bookworm-updates main" \
    "deb $MIRROR/debian-security bookworm-security main"
  rm -f "$hosts"
  mv "$BASE.new" "$BASE"
fi

WORK=$(mktemp -d /var/tmp/dirfeed-fresh.XXXXXX)
BUILD_ROOT=$WORK/build
PKG_ROOT=$WORK/package
cleanup() {
  local rc=$?
  trap - EXIT
  if [ -x "$BUILD_ROOT/src/dirfeed/tests/samba/samba-dc.sh" ] && [ -d "$BUILD_ROOT/proc/1" ]; then
    chroot "$BUILD_ROOT" /src/dirfeed/tests/samba/samba-dc.sh stop /var/tmp/dc >/dev/null 2>&1 || true
  fi
  [ -n "${DAEMON_PID:-}" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
  for root in "$BUILD_ROOT" "$PKG_ROOT"; do
    [ -d "$root" ] && umount -R "$root/proc" "$root/sys" "$root/dev" "$root/run" \
      "$root/var/cache/apt/archives" "$root/var/cache/dirfeed-ccache" 2>/dev/null || true
    # (umount fails for the ones a root does not have; what stays mounted is caught below)
  done
  if [ "${FRESH_KEEP:-0}" = 1 ]; then
    echo "fresh-check: roots kept in $WORK"
  elif grep -q " $WORK/" /proc/self/mountinfo; then
    # rm -rf would go through a bind mount into this machine's /dev or apt cache.
    echo "fresh-check: something is still mounted under $WORK; left in place" >&2
  else
    rm -rf "$WORK"
  fi
  [ "$rc" -eq 0 ] && step "passed" || echo "fresh-check: FAILED (exit $rc)" >&2
  exit "$rc"
}
trap cleanup EXIT

# A pristine root from the base tarball, with the kernel file systems a real machine has.
make_root() {
  local root=$1
  mkdir -p "$root"
  tar -xf "$BASE" -C "$root"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mount -t proc proc "$root/proc"
  mount --rbind /sys "$root/sys"
  mount --rbind /dev "$root/dev"
  mount -t tmpfs -o mode=0755 tmpfs "$root/run"
  # The host's /run/lock: the Samba DC lock (tests/support/samba_dc.cpp, demo.sh) is then one
  # for the host and the roots, which share the loopback addresses the DCs listen on.
  mkdir -p "$root/run/lock"
  mount --bind /run/lock "$root/run/lock"
  mount --bind "$CACHE/archives" "$root/var/cache/apt/archives"
}
in_root() { local root=$1; shift; chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 "$@"; }

step "build root: pristine copy of the base, repository cloned into /src/dirfeed"
make_root "$BUILD_ROOT"
git clone --quiet --no-hardlinks "$REPO" "$BUILD_ROOT/src/dirfeed"
git -C "$BUILD_ROOT/src/dirfeed" log -1 --format='   at %h %s'

step "build root: scripts/deps.sh"
in_root "$BUILD_ROOT" /src/dirfeed/scripts/deps.sh

ccache_env=()
if [ -n "${FRESH_CCACHE_DIR:-}" ]; then
  # After deps.sh, so that it proves the dependencies alone: ccache only accelerates the build
  # (scripts/test.sh says why a cache hit never hides a missing package).
  step "build root: ccache with the cache $FRESH_CCACHE_DIR (FRESH_CCACHE_DIR)"
  mkdir -p "$FRESH_CCACHE_DIR" "$BUILD_ROOT/var/cache/dirfeed-ccache"
  mount --bind "$FRESH_CCACHE_DIR" "$BUILD_ROOT/var/cache/dirfeed-ccache"
  in_root "$BUILD_ROOT" DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends ccache >/dev/null
  ccache_env=(DIRFEED_CCACHE_DIR=/var/cache/dirfeed-ccache)
fi

step "build root: scripts/test.sh ${FRESH_CTEST_ARGS:-}"
in_root "$BUILD_ROOT" "${ccache_env[@]}" CTEST_ARGS="${FRESH_CTEST_ARGS:-}" /src/dirfeed/scripts/test.sh 2>&1 |
  sed -E '/^\[[0-9]+\/[0-9]+\] /d' || die "scripts/test.sh failed in the fresh root"

step "build root: scripts/demo.sh up to its first completed sync"
in_root "$BUILD_ROOT" DEMO_UNTIL_SYNCED=1 /src/dirfeed/scripts/demo.sh >"$WORK/demo.log" 2>&1 || {
  tail -n 40 "$WORK/demo.log"; die "scripts/demo.sh did not reach its first completed sync"; }
grep -E '^== ' "$WORK/demo.log"

step "build root: scripts/package.sh"
in_root "$BUILD_ROOT" /src/dirfeed/scripts/package.sh >"$WORK/package.log" 2>&1 || {
  tail -n 40 "$WORK/package.log"; die "scripts/package.sh failed"; }
deb=$(tail -n 1 "$WORK/package.log")
[[ $deb == /src/dirfeed/*/dirfeed_*_amd64.deb ]] || die "package.sh printed '$deb', not a .deb"
deb=$BUILD_ROOT$deb
printf '   %s: %s bytes\n' "$(basename "$deb")" "$(stat -c %s "$deb")"
dpkg-deb -f "$deb" Depends | sed 's/^/   Depends: /'

step "package root: apt-get install ./$(basename "$deb")"
make_root "$PKG_ROOT"
cp "$deb" "$PKG_ROOT/root/"
in_root "$PKG_ROOT" dpkg-query -W -f='${Package}\n' | sort >"$WORK/before"
in_root "$PKG_ROOT" apt-get update -qq
in_root "$PKG_ROOT" DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "/root/$(basename "$deb")" >"$WORK/install.log" 2>&1 || { tail -n 40 "$WORK/install.log"; die "apt-get install of the .deb failed"; }
in_root "$PKG_ROOT" dpkg-query -W -f='${Package}\n' | sort >"$WORK/after"
echo "   packages pulled in: $(comm -13 "$WORK/before" "$WORK/after" | grep -vx dirfeed | wc -l)"
comm -13 "$WORK/before" "$WORK/after" | tr '\n' ' ' | fold -s -w 96 | sed 's/^/     /'; echo

step "package root: what the package installed"
in_root "$PKG_ROOT" /usr/bin/dirfeed --version
in_root "$PKG_ROOT" getent passwd dirfeed >/dev/null || die "no dirfeed user after install"
# Owners by name as the package root knows them (its ids are not this machine's).
owner() { in_root "$PKG_ROOT" stat -c '%U:%G %a' "$1"; }
[ "$(owner /etc/dirfeed)" = "root:dirfeed 750" ] ||
  die "/etc/dirfeed is $(owner /etc/dirfeed), not root:dirfeed 750"
[ "$(owner /var/lib/dirfeed)" = "dirfeed:dirfeed 750" ] ||
  die "/var/lib/dirfeed is $(owner /var/lib/dirfeed), not dirfeed:dirfeed 750"
in_root "$PKG_ROOT" systemd-analyze verify /usr/lib/systemd/system/dirfeed.service
echo "   systemd-analyze verify: ok"

step "package root: config from the example, against a Samba DC started in the build root"
in_root "$BUILD_ROOT" SAMBA_DC_OWNER_PID=1 /src/dirfeed/tests/samba/samba-dc.sh reset /var/tmp/dc "$DC_IP"
printf '%s\tdc1.example.test\n' "$DC_IP" >>"$PKG_ROOT/etc/hosts"
install -m 0644 "$BUILD_ROOT/var/tmp/dc/private/tls/ca.pem" "$PKG_ROOT/etc/dirfeed/ad-ca.pem"
install -m 0640 -g "$(in_root "$PKG_ROOT" getent group dirfeed | cut -d: -f3)" \
  "$BUILD_ROOT/var/tmp/dc/admin.password" "$PKG_ROOT/etc/dirfeed/example.test.password"
# The example, made to fit: one DC, the domain's admin, plain HTTP on a test port.
sed -e '/ldaps:\/\/dc2.example.test/d' \
    -e 's|dn: svc-dirfeed@example.test|dn: Administrator@example.test|' \
    -e "s|listen: 0.0.0.0:5000|listen: $API|" \
    -e '/^  tls:  /,/^    key_file:/d' \
    "$PKG_ROOT/etc/dirfeed/dirfeed.yaml.example" >"$PKG_ROOT/etc/dirfeed/dirfeed.yaml"
in_root "$PKG_ROOT" /usr/bin/dirfeed check-config --config /etc/dirfeed/dirfeed.yaml
# As an admin would: root adds the API user; the daemon (user dirfeed) must be able to read it.
in_root "$PKG_ROOT" sh -c 'echo fresh-check-pass | dirfeed api add-user --user ops'
exec_start=$(sed -n 's/^ExecStart=//p' "$PKG_ROOT/usr/lib/systemd/system/dirfeed.service")
echo "   as dirfeed: $exec_start"
# shellcheck disable=SC2086  # the unit's command line, split as systemd splits it (no quotes in it)
chroot --userspec=dirfeed:dirfeed "$PKG_ROOT" /usr/bin/env -i PATH=/usr/bin:/bin $exec_start \
  >"$WORK/daemon.log" 2>&1 &
DAEMON_PID=$!
ready=
for _ in $(seq 1 120); do
  kill -0 "$DAEMON_PID" 2>/dev/null || { cat "$WORK/daemon.log"; die "the daemon exited"; }
  code=$(in_root "$BUILD_ROOT" curl -s -o /dev/null -w '%{http_code}' "http://$API/readyz" || true)
  [ "$code" = 200 ] && { ready=1; break; }
  sleep 1
done
[ -n "$ready" ] || { tail -n 40 "$WORK/daemon.log"; die "/readyz did not answer 200 within 120 s"; }
echo "   /readyz: 200"
code=$(in_root "$BUILD_ROOT" curl -s -o /dev/null -w '%{http_code}' -u ops:fresh-check-pass \
  -H 'Content-Type: application/json' -X PUT \
  -d '{"changetype": "add", "ipv4_addresses": ["192.0.2.10"]}' \
  "http://$API/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5CAdministrator")
[ "$code" = 200 ] || { tail -n 20 "$WORK/daemon.log"; die "an authenticated PUT /user answered $code"; }
echo "   PUT /user as ops: 200 (the users file root made is readable by the daemon)"
[ "$(owner /var/lib/dirfeed/feed)" = "dirfeed:dirfeed 700" ] ||
  die "the feed is $(owner /var/lib/dirfeed/feed), not dirfeed:dirfeed 700"
[ "$(owner /etc/dirfeed/api-users)" = "root:dirfeed 640" ] ||
  die "the users file root made is $(owner /etc/dirfeed/api-users), not root:dirfeed 640"
