# Sourced by the benchmark scripts, which set ROOT, BENCH, DC_DIR, DC_IP, SAMBA_DC, USERS,
# NGROUPS, OU, LDAP_ARGS and LDAPTLS_CACERT first.

# lock_dc: one example.test DC resolves at a time (/etc/hosts), so waits (15 min at the most)
# for tests or other runs to finish, then holds the DC lock on fd 9 until the script exits.
# Exits when the wait was in vain.
lock_dc() {
  mkdir -p /run/lock
  exec 9>/run/lock/dirfeed-samba-dc.lock
  flock -w 900 9 || { echo "another Samba DC user holds /run/lock/dirfeed-samba-dc.lock" >&2; exit 1; }
}

# bench_config FILE STATE_DIR LEVEL SYNC writes a dirfeed config to FILE: its state in
# STATE_DIR, log level LEVEL, and the seeded DC's one domain (LDAPS with the DC's CA, bound as
# the administrator with the password copied to $BENCH/password) with `sync: {SYNC}`. The
# caller appends anything else (api:).
bench_config() {
  printf '%s' "$(cat "$DC_DIR/admin.password")" > "$BENCH/password"
  chmod 600 "$BENCH/password"
  cat > "$1" <<EOF
state_dir: $2
log:
  level: $3
domains:
  - name: example.test
    controllers: [ldaps://dc1.example.test]
    tls: {ca_file: $LDAPTLS_CACERT}
    bind: {dn: Administrator@example.test, password_file: $BENCH/password}
    sync: {$4}
EOF
}

# start_seeded_dc [CACHED.tgz ...] starts the Samba DC in
# $DC_DIR on $DC_IP holding $USERS users and $NGROUPS groups under $OU (group 0 holds every
# user, every 10th group nests the one before), from a cached copy when one fits, else seeded
# now (about USERS/100 s) and cached as $BENCH/seeded-$USERS-$NGROUPS.tgz.
#
# A cached copy fits when the current tests/samba/samba-dc.sh made it for this IP: its stamp
# (dc/.dirfeed-dc) equals the template's, which the first start makes when missing. Any
# other copy would be replaced by an empty DC on start. The caller holds the DC lock
# (lock_dc).
start_seeded_dc() {
  SAMBA_DC_OWNER_PID=$$ "$SAMBA_DC" start "$DC_DIR" "$DC_IP" >/dev/null  # makes the template
  "$SAMBA_DC" stop "$DC_DIR" >/dev/null
  local cached seeded=""
  for cached in "$BENCH/seeded-$USERS-$NGROUPS.tgz" "$@"; do
    if [ -f "$cached" ] &&
       [ "$(tar -xzOf "$cached" dc/.dirfeed-dc 2>/dev/null)" = "$(cat "$DC_DIR.template/.dirfeed-dc")" ]; then
      seeded=$cached
      break
    fi
  done
  if [ -n "$seeded" ]; then
    rm -rf "$DC_DIR" && tar -C "$BENCH" -xzf "$seeded"
    SAMBA_DC_OWNER_PID=$$ "$SAMBA_DC" start "$DC_DIR" "$DC_IP" >/dev/null
    return
  fi
  echo "seeding $USERS users and $NGROUPS groups (once; about $((USERS / 100)) s)" >&2
  SAMBA_DC_OWNER_PID=$$ "$SAMBA_DC" reset "$DC_DIR" "$DC_IP" >/dev/null
  python3 - "$USERS" "$NGROUPS" "$OU" > "$BENCH/seed.ldif" <<'PY'
import random, sys
users, groups, ou = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
random.seed(7)
print(f"dn: {ou}\nchangetype: add\nobjectClass: organizationalUnit\n")
for i in range(users):
    print(f"dn: CN=user{i:05d},{ou}\nchangetype: add\nobjectClass: user\nsAMAccountName: user{i:05d}\n"
          f"givenName: Given{i}\nsn: Sur{i}\ndisplayName: User {i}\nmail: user{i}@example.test\n"
          f"title: Title {i % 50}\ndepartment: Dept {i % 20}\ntelephoneNumber: +1 555 {i:05d}\n")
for g in range(groups):
    size = users if g == 0 else random.randint(5, 60)   # group 0 holds everyone
    members = range(users) if g == 0 else random.sample(range(users), size)
    lines = "".join(f"member: CN=user{m:05d},{ou}\n" for m in members)
    nested = f"member: CN=group{g - 1:04d},{ou}\n" if g > 1 and g % 10 == 0 else ""
    print(f"dn: CN=group{g:04d},{ou}\nchangetype: add\nobjectClass: group\nsAMAccountName: group{g:04d}\n"
          f"description: bench group {g}\n{lines}{nested}")
PY
  ldapmodify "${LDAP_ARGS[@]}" -f "$BENCH/seed.ldif" >/dev/null
  "$SAMBA_DC" stop "$DC_DIR" >/dev/null
  tar -C "$BENCH" -czf "$BENCH/seeded-$USERS-$NGROUPS.tgz" dc
  SAMBA_DC_OWNER_PID=$$ "$SAMBA_DC" start "$DC_DIR" "$DC_IP" >/dev/null
}
