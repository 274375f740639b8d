#!/usr/bin/env bash
# A throwaway Samba 4 Active Directory domain controller for integration tests.
#
#   samba-dc.sh start  DIR IP   start the DC kept in DIR (created from the template if missing)
#   samba-dc.sh stop   DIR      stop it; returns once no process is left and its ports are free
#   samba-dc.sh reset  DIR IP   stop, replace DIR by a fresh copy of the template, start
#   samba-dc.sh status DIR      exit 0: running and answering LDAPS; 1: running, not answering;
#                               3: stopped
#
# The domain is realm $SAMBA_DC_REALM (default EXAMPLE.TEST: NetBIOS name EXAMPLE, DC
# dc1.example.test, base DN DC=example,DC=test; for another realm the NetBIOS name is its first
# label and the DC dc1.<realm in lower case>). Clients bind over ldaps://dc1.example.test as
# Administrator@example.test
# with the password in DIR/admin.password (no trailing newline: `ldapsearch -y` reads it as
# is) and verify the server certificate against DIR/private/tls/ca.pem.
# The admin password is $SAMBA_ADMIN_PASS, or 'Passw0rd!Test1'.
#
# Provisioning takes seconds, so it happens once: into DIR itself (smb.conf holds absolute
# paths to DIR; the .ldb files hold none), started once so Samba generates its TLS CA and
# certificate, stopped, then moved to DIR.template. `reset` copies the template back: a fresh
# domain in about a second, with the same CA every time. The template is rebuilt when this
# script, the IP, the password or the Samba version change (hash in DIR.template/.dirfeed-dc).
#
# Side effects outside DIR (needs root): the address IP on `lo` (ip addr add IP/8 dev lo), and
# one /etc/hosts line "IP dc1.example.test # dirfeed-samba-dc" (any other mapping of that name
# is removed, so only one such DC resolves at a time). Several DCs can run at once on
# different IPs (own pid, socket and log directories), but the name points at one of them.
#
# A DC records the process that started it (DIR/owner: $SAMBA_DC_OWNER_PID, default the
# caller). Starting a DC on an IP held by another DC of this script stops that one when its
# owner has exited (a crashed test), and fails while its owner still runs.
#
# Environment: SAMBA_DC_REALM, SAMBA_ADMIN_PASS, SAMBA_DC_START_TIMEOUT (seconds, default 60),
# SAMBA_DC_OWNER_PID, SAMBA_DC_OPTIONS: smb.conf settings for this start of the DC only, one
# "name=value" per line, given to samba as --option (e.g. "log level=1 auth_json_audit:3");
# never used for the template.
set -euo pipefail

REALM=${SAMBA_DC_REALM:-EXAMPLE.TEST}
REALM=${REALM^^}
[[ $REALM =~ ^[A-Z][A-Z0-9-]{0,14}(\.[A-Z0-9-]+)+$ ]] || { echo "samba-dc: error: bad realm '$REALM'" >&2; exit 2; }
readonly REALM NETBIOS=${REALM%%.*} HOST=dc1 DOMAIN=${REALM,,}
readonly FQDN=$HOST.$DOMAIN   # base DN: DC=example,DC=test for the default realm
readonly ADMIN=Administrator@$DOMAIN
readonly PASS=${SAMBA_ADMIN_PASS:-'Passw0rd!Test1'}
readonly TAG='# dirfeed-samba-dc'
readonly START_TIMEOUT=${SAMBA_DC_START_TIMEOUT:-60}
readonly STAMP_FILE=.dirfeed-dc
# the process on whose behalf the DC runs (a test binary, or the shell that ran this script)
readonly OWNER_PID=${SAMBA_DC_OWNER_PID:-$PPID}
SELF=$(readlink -f "${BASH_SOURCE[0]}")
readonly SELF

log() { printf 'samba-dc: %s\n' "$*" >&2; }
die() { printf 'samba-dc: error: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

usage() {
  sed -n '2,10p' "$SELF" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- arguments ---------------------------------------------------------------------------
[ $# -ge 2 ] || usage
CMD=$1
case $CMD in
  start|reset) [ $# -eq 3 ] || usage ;;
  stop|status) [ $# -eq 2 ] || usage ;;
  *) usage ;;
esac
[ -n "$2" ] || die "DIR is empty"
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die "DIR must not be /"
TPL=$DIR.template
IP=
if [ $# -eq 3 ]; then
  IP=$3
  [[ $IP =~ ^127\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] || die "IP must be a loopback address 127.x.y.z, got '$IP'"
  for o in "${BASH_REMATCH[@]:1}"; do [ "$o" -le 255 ] || die "bad IP '$IP'"; done
  [ "$IP" != 127.0.0.1 ] || die "use a dedicated address such as 127.0.0.11, not 127.0.0.1"
fi
# Unix socket paths are limited to 108 bytes; Samba puts sockets up to ~30 bytes below DIR.
[ ${#DIR} -le 75 ] || die "DIR is too long for Samba's unix sockets (${#DIR} > 75 bytes): $DIR"

# ---- helpers -----------------------------------------------------------------------------
expected_stamp() {
  { sha256sum < "$SELF"; printf '%s\n' "$IP" "$PASS" "$REALM"; samba --version; } | sha256sum | cut -d' ' -f1
}

dir_ip() {  # the IP a DC directory was provisioned for
  [ -f "$1/etc/smb.conf" ] || return 0
  sed -n 's/^[[:space:]]*interfaces = //p' "$1/etc/smb.conf" | head -n1
}

# (ip's output is captured first: `ip | grep -q` fails under pipefail when grep exits early
# and ip gets SIGPIPE.)
has_ip() { grep -q "inet $IP/" <<<"$(ip -4 addr show dev lo)"; }

ensure_ip() {
  has_ip && return 0
  ip addr add "$IP/8" dev lo 2>/dev/null || has_ip \
    || die "cannot add $IP to lo (ip addr add $IP/8 dev lo; are we root?)"
}

ensure_hosts() {
  local line="$IP $FQDN $TAG"
  grep -qxF -- "$line" /etc/hosts && return 0
  mkdir -p /run/lock
  (
    flock -w 30 8 || die "cannot lock /etc/hosts"
    local tmp
    tmp=$(mktemp /etc/.hosts.dirfeed.XXXXXX)
    # drop FQDN from every other line (and the line when no other name is left), then append
    awk -v name="$FQDN" '
      /^[[:space:]]*(#|$)/ { print; next }
      {
        out = $1; kept = 0; dropped = 0; comment = ""
        for (i = 2; i <= NF; i++) {
          if ($i ~ /^#/) { for (j = i; j <= NF; j++) comment = comment " " $j; break }
          if (tolower($i) == name) { dropped = 1 } else { out = out " " $i; kept++ }
        }
        if (!dropped) print
        else if (kept > 0) print out comment
      }' /etc/hosts > "$tmp"
    printf '%s\n' "$line" >> "$tmp"
    chmod 644 "$tmp"
    # rename is atomic; a bind-mounted /etc/hosts (containers) cannot be renamed over
    mv -f "$tmp" /etc/hosts 2>/dev/null || { cat "$tmp" > /etc/hosts; rm -f "$tmp"; }
  ) 8>>/run/lock/dirfeed-samba-dc.hosts.lock
}

# Members of process group $1 whose working directory is $2 (we start samba with cwd DIR).
group_members_in() {
  local p
  for p in $(pgrep -g "$1" 2>/dev/null); do
    [ "$(readlink "/proc/$p/cwd" 2>/dev/null)" = "$2" ] && echo "$p"
  done
  return 0
}

running_pgid() {  # prints the pgid of the DC in DIR, or fails
  local pgid
  pgid=$(cat "$DIR/samba.pgid" 2>/dev/null) || return 1
  [[ $pgid =~ ^[0-9]+$ ]] || return 1
  [ -n "$(group_members_in "$pgid" "$DIR")" ] || return 1
  echo "$pgid"
}

listeners() {  # sockets still bound to $1
  ss -Hltnu "src $1" 2>/dev/null || true
}

wait_ports_free() {
  local ip=$1 deadline=$((SECONDS + 15))
  while [ -n "$(listeners "$ip")" ]; do
    [ $SECONDS -lt $deadline ] || die "ports on $ip still in use after stop:"$'\n'"$(ss -Hltnup "src $ip")"
    sleep 0.1
  done
}

live_members() {  # processes of group $1 that are not zombies
  local p st
  for p in $(pgrep -g "$1" 2>/dev/null); do
    st=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | cut -d' ' -f1) || continue
    [ -n "$st" ] && [ "$st" != Z ] && echo "$p"
  done
  return 0
}

# $1 = pgid; TERM, then KILL after 15 s; waits until no live process is left in the group.
# (Zombies are not waited for: samba's processes are reparented to init once this script
# exits, and init may take a second or two to reap them; they hold no ports or files.)
kill_group() {
  local pgid=$1 deadline=$((SECONDS + 15))
  kill -TERM -- "-$pgid" 2>/dev/null || true
  while [ -n "$(live_members "$pgid")" ]; do
    if [ $SECONDS -ge $deadline ]; then
      log "samba (pgid $pgid) ignored SIGTERM for 15 s, sending SIGKILL"
      kill -KILL -- "-$pgid" 2>/dev/null || true
      deadline=$((SECONDS + 15))
    fi
    sleep 0.05
  done
}

stop_dc() {
  local pgid ip
  ip=$(dir_ip "$DIR")
  if pgid=$(running_pgid); then
    kill_group "$pgid"
    [ -z "$ip" ] || wait_ports_free "$ip"
  fi
  rm -f "$DIR/samba.pgid" "$DIR/samba.pid"
}

proc_start_time() {  # field 22 of /proc/PID/stat: tells a live process from a reused pid
  sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f20
}

owner_alive() {  # $1 = DC dir; true when the process that started it still runs
  local pid st
  read -r pid st 2>/dev/null < "$1/owner" || return 1
  [ -n "$pid" ] && [ "$(proc_start_time "$pid")" = "$st" ] \
    && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ]
}

# If something listens on IP: another test DC of this script is stopped when the process that
# started it is gone (a crashed test); a DC whose owner still runs, or anything else, is an
# error.
free_ip() {
  [ -n "$(listeners "$IP")" ] || return 0
  local pids p cwd pgid opid
  pids=$(ss -Hltnup "src $IP" | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u)
  for p in $pids; do
    cwd=$(readlink "/proc/$p/cwd" 2>/dev/null) || continue
    if [ -f "$cwd/$STAMP_FILE" ] && [ "$cwd" != "$DIR" ]; then
      if owner_alive "$cwd"; then
        read -r opid _ < "$cwd/owner"
        [ "$opid" = "$OWNER_PID" ] \
          || die "$IP is used by the test DC in $cwd, started by process $opid ($(tr '\0' ' ' < "/proc/$opid/cmdline" 2>/dev/null | cut -c1-200)), which still runs; stop it or use another IP"
      fi
      pgid=$(ps -o pgid= -p "$p" | tr -d ' ')
      log "stopping the test DC from $cwd (pgid $pgid) that holds $IP"
      kill_group "$pgid"
      rm -f "$cwd/samba.pgid" "$cwd/samba.pid"
    fi
  done
  local deadline=$((SECONDS + 10))
  while [ -n "$(listeners "$IP")" ]; do
    [ $SECONDS -lt $deadline ] || die "$IP is in use by something else; pick another IP:"$'\n'"$(ss -Hltnup "src $IP")"
    sleep 0.1
  done
}

probe() {  # reads the rootDSE over LDAPS with verification on, as Administrator
  LDAPTLS_CACERT="$DIR/private/tls/ca.pem" LDAPTLS_REQCERT=demand \
    ldapsearch -LLL -x -o nettimeout=5 -H "ldaps://$FQDN" -D "$ADMIN" -y "$DIR/admin.password" \
      -b '' -s base dnsHostName > "$DIR/probe.out" 2>&1 \
    && grep -qi "^dnsHostName: $FQDN\$" "$DIR/probe.out"
}

fail_start() {
  local msg=$1
  {
    printf 'samba-dc: error: %s\n' "$msg"
    printf -- '--- last LDAPS probe (ldaps://%s, CA %s):\n' "$FQDN" "$DIR/private/tls/ca.pem"
    cat "$DIR/probe.out" 2>/dev/null || true
    printf -- '--- tail of %s:\n' "$DIR/samba.out"
    tail -n 40 "$DIR/samba.out" 2>/dev/null || true
  } >&2
  exit 1
}

start_samba() {  # starts samba for DIR and waits until LDAPS answers; $1 extra: with SAMBA_DC_OPTIONS
  local t0 pgid deadline line
  local options=()
  if [ "${1:-}" = extra ]; then
    while IFS= read -r line; do
      [ -z "$line" ] || options+=("--option=$line")
    done <<<"${SAMBA_DC_OPTIONS:-}"
  fi
  t0=$(now)
  free_ip
  rm -f "$DIR/samba.pid" "$DIR/samba.pgid" "$DIR/probe.out"
  echo "$OWNER_PID $(proc_start_time "$OWNER_PID")" > "$DIR/owner"
  printf '%s' "$PASS" > "$DIR/admin.password"
  chmod 600 "$DIR/admin.password"
  (
    # close inherited descriptors (our lock, a caller's pipes) so samba holds none of them
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd "$DIR"
    # not a process group leader here, so setsid(1) execs samba without forking:
    # $! is samba's pid and its process group id
    exec setsid samba -i -s "$DIR/etc/smb.conf" "${options[@]}" < /dev/null > "$DIR/samba.out" 2>&1
  ) &
  pgid=$!
  echo "$pgid" > "$DIR/samba.pgid"
  deadline=$(awk -v a="$t0" -v t="$START_TIMEOUT" 'BEGIN { printf "%d", a + t }')
  while :; do
    if probe; then
      log "ldaps://$FQDN ($IP) up in $(elapsed "$t0") s (pgid $pgid, dir $DIR)"
      return 0
    fi
    if [ -z "$(group_members_in "$pgid" "$DIR")" ]; then
      rm -f "$DIR/samba.pgid"
      fail_start "samba exited during startup"
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill_group "$pgid"
      rm -f "$DIR/samba.pgid"
      fail_start "ldaps://$FQDN did not answer within $START_TIMEOUT s; samba stopped"
    fi
    sleep 0.1
  done
}

build_template() {
  local t0 stamp
  t0=$(now)
  stamp=$(expected_stamp)
  log "provisioning $REALM into $DIR (template $TPL)"
  rm -rf "$DIR" "$TPL"
  mkdir -p "$DIR"
  # keep the per-DC directories inside DIR so several DCs can run at once
  if ! samba-tool domain provision --realm="$REALM" --domain="$NETBIOS" --server-role=dc \
      --dns-backend=NONE --adminpass="$PASS" --targetdir="$DIR" --host-name="$HOST" \
      --option="interfaces=$IP" --option="bind interfaces only=yes" \
      --option="pid directory=$DIR" --option="ncalrpc dir=$DIR/ncalrpc" \
      --option="winbindd socket directory=$DIR/winbindd" \
      --option="ntp signd socket directory=$DIR/ntp_signd" \
      --option="log file=$DIR/log.%m" \
      --option="server services=ldap, cldap, kdc" \
      > "$DIR.provision.log" 2>&1; then
    tail -n 30 "$DIR.provision.log" >&2
    die "samba-tool domain provision failed (full log: $DIR.provision.log)"
  fi
  # a template may live for months: the admin password must not expire (AD default: 42 days)
  samba-tool user setexpiry Administrator --noexpiry -H "$DIR/private/sam.ldb" \
    >> "$DIR.provision.log" 2>&1 || die "setexpiry failed (see $DIR.provision.log)"
  log "provisioned in $(elapsed "$t0") s"
  echo "$stamp" > "$DIR/$STAMP_FILE"   # marks DIR as ours (free_ip) before first start
  # first start generates the TLS CA and certificate (private/tls); keep them in the template
  start_samba
  stop_dc
  rm -rf "$DIR/samba.out" "$DIR/probe.out" "$DIR/owner" "$DIR/msg.lock" "$DIR/msg.sock" "$DIR"/log.*
  mv "$DIR" "$TPL"
  log "template ready in $(elapsed "$t0") s"
}

ensure_template() {
  local want have
  want=$(expected_stamp)
  have=$(cat "$TPL/$STAMP_FILE" 2>/dev/null || true)
  [ "$want" = "$have" ] && return 0
  [ -z "$have" ] || log "template $TPL is stale (script, IP, password or Samba changed)"
  build_template
}

fresh_copy() {
  rm -rf "$DIR"
  cp -a "$TPL" "$DIR"
}

# ---- commands ----------------------------------------------------------------------------
mkdir -p "$(dirname "$DIR")"
exec 9>>"$DIR.lock"
flock -w 600 9 || die "timed out waiting for $DIR.lock"

case $CMD in
  start)
    ensure_ip
    ensure_hosts
    if pgid=$(running_pgid); then
      [ "$(dir_ip "$DIR")" = "$IP" ] || die "the DC in $DIR is running on $(dir_ip "$DIR"), not $IP"
      probe || fail_start "samba (pgid $pgid) is running but ldaps://$FQDN does not answer"
      echo "$OWNER_PID $(proc_start_time "$OWNER_PID")" > "$DIR/owner"
      log "already running (pgid $pgid)"
      exit 0
    fi
    free_ip   # fail early, before a long provision
    ensure_template
    if [ "$(cat "$DIR/$STAMP_FILE" 2>/dev/null || true)" != "$(cat "$TPL/$STAMP_FILE")" ]; then
      [ ! -e "$DIR" ] || log "$DIR was made by another script version or for another IP: replacing it"
      fresh_copy
    fi
    start_samba extra
    ;;
  stop)
    stop_dc
    ;;
  reset)
    t0=$(now)
    stop_dc
    ensure_ip
    ensure_hosts
    free_ip
    ensure_template
    fresh_copy
    start_samba extra
    log "reset done in $(elapsed "$t0") s"
    ;;
  status)
    if pgid=$(running_pgid); then
      if probe; then
        echo "running (pgid $pgid, $(dir_ip "$DIR")), ldaps://$FQDN answers"
        exit 0
      fi
      echo "running (pgid $pgid, $(dir_ip "$DIR")), ldaps://$FQDN does NOT answer"
      exit 1
    fi
    echo "stopped"
    exit 3
    ;;
esac
