#!/usr/bin/env bash
# Two replicating Samba 4 AD DCs of one domain, for failover tests.
#
#   two-dcs.sh setup DIR     provision DC1, join DC2, replicate once each way (~20 s)
#   two-dcs.sh start DIR N   start DC N (1 or 2) with its current data
#   two-dcs.sh stop  DIR N   stop DC N (its data stays); returns when its ports are free
#   two-dcs.sh replicate DIR TO FROM   pull the domain NC from DC FROM into DC TO now
#   two-dcs.sh teardown DIR  stop both DCs
#
# The domain is fixed: realm PAIR.TEST, NetBIOS PAIR, base DN DC=pair,DC=test; DC1 is
# dc1.pair.test on 127.0.0.31, DC2 dc2.pair.test on 127.0.0.32. Clients bind over LDAPS as
# Administrator@pair.test with the password in DIR/admin.password, verifying certificates
# against DIR/ca.pem (both DCs' CAs: each DC makes its own). Each DC's log, with one JSON line
# per logon (auth_json_audit), is DIR/dcN/samba.out.
#
# Replication: DC2 pulls from DC1 and back by change notification within seconds. To keep a
# change on DC1 from reaching DC2 (a DC that dies before it replicated), a test sets
# DISABLE_OUTBOUND_REPL on DC1 (samba-tool drs options), see tests/support/samba_pair.cpp.
#
# Side effects outside DIR (needs root): the two addresses on `lo`, /etc/hosts lines tagged
# "# dirfeed-two-dcs" (the DC names and each DC's <NTDS GUID>._msdcs.pair.test, since no DNS
# server runs). KRB5_CONFIG is set to DIR/krb5.conf for Samba's tools and daemons.
# Callers serialise on /run/lock/dirfeed-samba-dc.lock (tests/support/samba_pair.cpp does).
set -euo pipefail

readonly REALM=PAIR.TEST NETBIOS=PAIR DNSDOM=pair.test BASEDN=DC=pair,DC=test
readonly PASS=${SAMBA_ADMIN_PASS:-'Passw0rd!Pair1'}
readonly IP1=127.0.0.31 IP2=127.0.0.32
readonly TAG='# dirfeed-two-dcs'

die() { printf 'two-dcs: error: %s\n' "$*" >&2; exit 1; }
log() { printf 'two-dcs: %s\n' "$*" >&2; }

[ $# -ge 2 ] || die "usage: two-dcs.sh setup|start|stop|replicate|teardown DIR [N]"
CMD=$1
DIR=$(realpath -m -- "$2")
[ "$DIR" != / ] || die "DIR must not be /"
[ ${#DIR} -le 70 ] || die "DIR is too long for Samba's unix sockets: $DIR"
export KRB5_CONFIG=$DIR/krb5.conf

ip_of() { [ "$1" = 1 ] && echo $IP1 || echo $IP2; }

dc_opts() {  # $1 = dir, $2 = ip: the per-DC options of provision and join
  printf '%s\n' \
    "--option=interfaces=$2" \
    "--option=bind interfaces only=yes" \
    "--option=pid directory=$1" \
    "--option=ncalrpc dir=$1/ncalrpc" \
    "--option=winbindd socket directory=$1/winbindd" \
    "--option=ntp signd socket directory=$1/ntp_signd" \
    "--option=log file=$1/log.%m" \
    "--option=server services=rpc, ldap, cldap, kdc, drepl, kcc"
}

add_host() {  # $1 = ip, $2 = name
  grep -q "^$1 $2 $TAG\$" /etc/hosts || echo "$1 $2 $TAG" >> /etc/hosts
}

ntds_guid() {  # $1 = N
  ldbsearch -H "$DIR/dc$1/private/sam.ldb" \
    -b "CN=NTDS Settings,CN=DC$1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,$BASEDN" \
    -s base objectGUID 2>/dev/null | sed -n 's/^objectGUID: //p'
}

wait_ldaps() {  # $1 = N
  local ip
  ip=$(ip_of "$1")
  for _ in $(seq 1 240); do
    LDAPTLS_REQCERT=never ldapsearch -LLL -x -o nettimeout=2 -H "ldaps://$ip" \
      -D "Administrator@$DNSDOM" -w "$PASS" -b '' -s base dn >/dev/null 2>&1 && return 0
    sleep 0.25
  done
  die "DC$1 on $ip did not answer LDAPS; see $DIR/dc$1/samba.out"
}

listeners() { ss -Hltnu "src $1" 2>/dev/null || true; }

start_dc() {  # $1 = N
  local d=$DIR/dc$1 pgid
  if [ -f "$d/samba.pgid" ] && pgrep -g "$(cat "$d/samba.pgid")" >/dev/null 2>&1; then
    log "DC$1 already runs"; return 0
  fi
  [ -z "$(listeners "$(ip_of "$1")")" ] || die "something listens on $(ip_of "$1") already"
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" -ne 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    cd "$d"
    exec setsid samba -i -s "$d/etc/smb.conf" --option="log level=1 auth_json_audit:3" \
      < /dev/null >> "$d/samba.out" 2>&1
  ) &
  pgid=$!
  echo "$pgid" > "$d/samba.pgid"
  wait_ldaps "$1"
}

stop_dc() {  # $1 = N
  local d=$DIR/dc$1 pgid deadline
  [ -f "$d/samba.pgid" ] || return 0
  pgid=$(cat "$d/samba.pgid")
  # SIGKILL: a DC that dies, not one that shuts down cleanly
  kill -KILL -- "-$pgid" 2>/dev/null || true
  deadline=$((SECONDS + 15))
  while [ -n "$(listeners "$(ip_of "$1")")" ]; do
    [ $SECONDS -lt $deadline ] || die "ports of DC$1 still in use"
    sleep 0.05
  done
  rm -f "$d/samba.pgid"
}

replicate() {  # $1 = to, $2 = from, $3 = NC
  local ok=0
  for _ in $(seq 1 15); do
    if samba-tool drs replicate "dc$1.$DNSDOM" "dc$2.$DNSDOM" "$3" -U "$NETBIOS\\Administrator" \
        --password="$PASS" >> "$DIR/replicate.log" 2>&1; then ok=1; break; fi
    sleep 1
  done
  [ $ok = 1 ] || die "replicate DC$2 -> DC$1 of $3 failed, see $DIR/replicate.log"
}

setup() {
  local t0=$SECONDS
  stop_dc 1; stop_dc 2
  rm -rf "$DIR"; mkdir -p "$DIR/dc1" "$DIR/dc2"
  for ip in $IP1 $IP2; do
    grep -q "inet $ip/" <<<"$(ip -4 addr show dev lo)" || ip addr add "$ip/8" dev lo
  done
  # drop the _msdcs lines of an earlier setup: the NTDS GUIDs are new each time
  sed -i "/_msdcs.$DNSDOM $TAG\$/d" /etc/hosts
  add_host $IP1 dc1.$DNSDOM
  add_host $IP2 dc2.$DNSDOM
  cat > "$KRB5_CONFIG" <<EOF
[libdefaults]
	default_realm = $REALM
	dns_lookup_realm = false
	dns_lookup_kdc = false
	rdns = false
[realms]
$REALM = {
	kdc = $IP1
	kdc = $IP2
	default_domain = $DNSDOM
}
[domain_realm]
	.$DNSDOM = $REALM
	$DNSDOM = $REALM
EOF
  local -a o1 o2
  mapfile -t o1 < <(dc_opts "$DIR/dc1" $IP1)
  mapfile -t o2 < <(dc_opts "$DIR/dc2" $IP2)
  samba-tool domain provision --realm=$REALM --domain=$NETBIOS --server-role=dc \
    --dns-backend=NONE --adminpass="$PASS" --targetdir="$DIR/dc1" --host-name=dc1 "${o1[@]}" \
    > "$DIR/provision-dc1.log" 2>&1 || die "provision failed, see $DIR/provision-dc1.log"
  samba-tool user setexpiry Administrator --noexpiry -H "$DIR/dc1/private/sam.ldb" \
    >> "$DIR/provision-dc1.log" 2>&1
  samba_spnupdate -s "$DIR/dc1/etc/smb.conf" >> "$DIR/provision-dc1.log" 2>&1 || true
  add_host $IP1 "$(ntds_guid 1)._msdcs.$DNSDOM"
  start_dc 1
  samba-tool domain join $DNSDOM DC --server=dc1.$DNSDOM -U "$NETBIOS\\Administrator" \
    --password="$PASS" --targetdir="$DIR/dc2" --dns-backend=NONE --option="netbios name=DC2" \
    "${o2[@]}" > "$DIR/join-dc2.log" 2>&1 || die "join failed, see $DIR/join-dc2.log"
  samba_spnupdate -s "$DIR/dc2/etc/smb.conf" >> "$DIR/join-dc2.log" 2>&1 || true
  add_host $IP2 "$(ntds_guid 2)._msdcs.$DNSDOM"
  start_dc 2
  for nc in "$BASEDN" "CN=Configuration,$BASEDN" "CN=Schema,CN=Configuration,$BASEDN"; do
    replicate 2 1 "$nc"
    replicate 1 2 "$nc"
  done
  cat "$DIR/dc1/private/tls/ca.pem" "$DIR/dc2/private/tls/ca.pem" > "$DIR/ca.pem"
  printf '%s' "$PASS" > "$DIR/admin.password"
  chmod 600 "$DIR/admin.password"
  log "two DCs of $DNSDOM up in $((SECONDS - t0)) s"
}

case $CMD in
  setup) setup ;;
  start) [ $# -eq 3 ] || die "start DIR N"; start_dc "$3" ;;
  stop) [ $# -eq 3 ] || die "stop DIR N"; stop_dc "$3" ;;
  replicate) [ $# -eq 4 ] || die "replicate DIR TO FROM"; replicate "$3" "$4" "$BASEDN" ;;
  teardown) stop_dc 1; stop_dc 2 ;;
  *) die "unknown command $CMD" ;;
esac
