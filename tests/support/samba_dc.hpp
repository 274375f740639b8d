#pragma once
// A real Active Directory for integration tests: a Samba 4 AD DC run by
// tests/samba/samba-dc.sh (by default domain example.test, DC dc1.example.test, base DN
// DC=example,DC=test, clients on ldaps://dc1.example.test with certificate verification on;
// another realm gives dc1.<realm>).
//
// Never skips: when the DC cannot be started, the calling test fails with the script's output
// (gtest ADD_FAILURE, then std::runtime_error, which gtest also reports).
//
// Needs root (the script adds the DC's address to `lo` and a line to /etc/hosts), and the
// Debian packages samba and ldap-utils. Only one DC named dc1.example.test can resolve at a
// time, so a process that starts a DC first takes a machine-wide lock
// (/run/lock/dirfeed-samba-dc.lock) and keeps it until it exits: test binaries of different
// build trees wait for each other instead of stealing the name (give up after
// $DIRFEED_SAMBA_LOCK_TIMEOUT seconds, default 900). Within one build, ctest's
// RESOURCE_LOCK samba keeps them serial anyway.
//
// Use from a test's CMakeLists.txt:
//   target_link_libraries(my_integration_test PRIVATE dirfeed_test_support GTest::gtest_main)
//   add_test(NAME my_integration_test COMMAND my_integration_test)   # or gtest_discover_tests
//   set_tests_properties(my_integration_test PROPERTIES RESOURCE_LOCK samba LABELS integration)
// (With gtest_discover_tests, pass PROPERTIES RESOURCE_LOCK samba LABELS integration; every
// test case then runs in its own process and resets the DC once, ~1-2 s.)
#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace dirfeed::testing {

// Runs `argv` (argv[0] searched in PATH, no shell) with `env` added to our environment and
// returns its stdout; on a non-zero exit fails the test (ADD_FAILURE, then
// std::runtime_error) with the command and its output. With `samba_lock`, first takes the
// machine-wide Samba lock (see SambaDc; held until the process exits).
std::string run_checked(const std::vector<std::string>& argv,
                        const std::map<std::string, std::string>& env,
                        std::chrono::seconds timeout, bool samba_lock);

class SambaDc {
 public:
  // dir: folder for the DC (under the build tree, e.g. CMAKE_BINARY_DIR/samba/<name>; at most
  // 75 bytes, a limit of Samba's unix sockets); ip: 127.0.0.N; realm: the Kerberos realm,
  // which names the domain (OTHER.TEST: domain other.test, NetBIOS OTHER, dc1.other.test).
  // Starts nothing. DCs of different realms (and dirs and IPs) can run at once.
  SambaDc(std::string dir, std::string ip, std::string realm = "EXAMPLE.TEST");
  ~SambaDc();  // stops the DC (errors are printed, not thrown)
  SambaDc(const SambaDc&) = delete;
  SambaDc& operator=(const SambaDc&) = delete;

  // smb.conf settings ("name=value", e.g. "log level=1 auth_json_audit:3") that later
  // reset() and start() give samba on its command line (never the template); {} for none.
  void set_options(std::vector<std::string> options) { options_ = std::move(options); }

  // Fresh domain from the cached template (provisioned on first use, ~6 s; then ~1 s), started.
  void reset();
  // Starts the DC with its current data (creates it from the template when dir is missing).
  void start();
  // Stops it; data stays for a later start(). Returns when no process is left and the ports
  // are free.
  void stop();

  const std::string& uri() const { return uri_; }   // "ldaps://dc1.example.test"
  const std::string& realm() const { return realm_; }  // "EXAMPLE.TEST"
  std::string ca_file() const;                      // DIR/private/tls/ca.pem
  std::string admin_dn() const;                     // "Administrator@example.test"
  std::string password_file() const;                // DIR/admin.password (no newline)
  std::string admin_password() const;               // its content
  std::string base_dn() const;                      // "DC=example,DC=test"
  std::string domain() const;                       // "example.test"
  std::string netbios_name() const;                 // "EXAMPLE"
  const std::string& dir() const { return dir_; }
  const std::string& ip() const { return ip_; }

  // Failed logons (bad password, locked account...) the DC recorded since it last started,
  // when started with set_options({"log level=1 auth_json_audit:3"}):
  // the records of Samba's JSON authentication audit (one per logon, in samba.out) with
  // "eventId": 4625, as Windows counts them for a lockout policy.
  int failed_logons() const;

  // Applies LDIF with ldapmodify -x over LDAPS as admin (changetype records: add, modify,
  // delete, modrdn). Stops at the first failing record. Throws std::runtime_error with
  // ldapmodify's output on failure.
  void ldif(const std::string& text) const;

  // Runs ldapsearch (subtree, paged, no line wrapping) as admin; returns the entries as LDIF
  // (records separated by blank lines; ldapsearch's comment lines, e.g. referrals, removed).
  // attrs empty = all user attributes. show_deleted adds the Show Deleted control
  // (1.2.840.113556.1.4.417). Throws std::runtime_error on failure (also "no such object").
  std::string search(const std::string& base, const std::string& filter,
                     const std::vector<std::string>& attrs, bool show_deleted = false) const;

  // Adds `count` users CN=<prefix>0001.. (at least 4 digits) under `ou_dn` (which must exist)
  // with one ldapmodify run (~140/s). Each user: objectClass user, sAMAccountName and
  // givenName = the name, sn "Test", displayName "<name> Test", userPrincipalName
  // <name>@example.test, userAccountControl 544 (enabled, NORMAL_ACCOUNT|PASSWD_NOTREQD), no
  // password (setting one costs ~5x: add unicodePwd via ldif() and unicode_pwd()).
  void add_users(const std::string& ou_dn, const std::string& prefix, int count) const;

  // The LDIF value for `unicodePwd:: ` (base64 of the UTF-16LE, double-quoted password).
  static std::string unicode_pwd(const std::string& password);

 private:
  void run_script(const char* command);

  std::string dir_;
  std::string ip_;
  std::string realm_;
  std::string uri_;
  bool used_ = false;  // start/reset/stop ran: the destructor stops the DC
  std::vector<std::string> options_;
};

// The DC shared by one test binary: reset once at first use (lazily), stopped at exit.
// dir = <build>/samba/<binary-name> (or /tmp/dirfeed-samba/<binary-name>-<hash> when that
// is too long for Samba), ip = $DIRFEED_SAMBA_IP or 127.0.0.11. If the first reset fails,
// every later call fails at once with the same message.
SambaDc& shared_dc();

}  // namespace dirfeed::testing
