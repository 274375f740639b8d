// The real `dirfeed` binary with a Kerberos bind (bind.method gssapi) against the Samba DC's
// KDC: it syncs over sealed plain ldap:// and follows changes; a stale keytab is said in
// words in the log and `dirfeed status`, and a keytab exported anew is tried at once; a
// clock too far from the KDC's is said as such.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"
#include "tests/integration/kerberos_fixture.hpp"
#include "tests/support/process.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

class KerberosDaemonTest : public KerberosFixture {
 protected:
  // The config: one domain on plain ldap:// (no TLS settings at all), bound with the keytab.
  std::string write_config(const std::string& strategy = "usn") const {
    const std::string config = dir_.path() + "/dirfeed.yaml";
    write_text(config,
               "state_dir: " + yaml_string(dir_.path() + "/state") + "\n" +
                   "log:\n  level: debug\n" +
                   "domains:\n  - name: " + dc().domain() + "\n" +
                   "    controllers: [" + kPlainUri + "]\n" +
                   "    bind:\n      method: gssapi\n" +
                   "      principal: " + yaml_string(principal_) + "\n" +
                   "      keytab: " + yaml_string(keytab_) + "\n" +
                   "    sync:\n      strategy: " + strategy + "\n      interval: 5s\n" +
                   "      notifications: true\n" +
                   "api:\n  listen: 127.0.0.1:0\n" +
                   "  users_file: " + yaml_string(dir_.path() + "/api-users") + "\n" +
                   "  keys_file: " + yaml_string(dir_.path() + "/api-keys") + "\n");
    return config;
  }
  std::string log() const { return read_text(log_path()); }
  std::string log_path() const { return dir_.path() + "/run.log"; }
  bool logged(const std::string& needle) const {
    return log().find(needle) != std::string::npos;
  }
};

TEST_F(KerberosDaemonTest, SyncsOverSealedLdapAndFollowsChanges) {
  const std::string config = write_config();
  Process check({DIRFEED_BINARY, "check-config", "--config", config}, dir_.path() + "/check.out",
                dir_.path() + "/check.out");
  ASSERT_EQ(check.wait_for(30s), 0) << read_text(dir_.path() + "/check.out");
  EXPECT_EQ(read_text(dir_.path() + "/check.out").find("warning"), std::string::npos)
      << "sealed ldap:// is not cleartext";

  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path(), log_path());
  ASSERT_TRUE(wait_until(
      [&] {
        return logged("full sync done on ldap://dc1.example.test") &&
               logged("watching for change notifications on DC ldap://dc1.example.test");
      },
      60s))
      << log();
  kerberos_->add_user("bob", kPassword);
  // Notified by the DC over the notifier's own sealed connection (Samba may hold a
  // notification up to 5 s when the change came through another of its LDAP workers).
  EXPECT_TRUE(wait_until([&] { return logged("add user CN=bob,CN=Users,DC=example,DC=test"); },
                         15s))
      << log();
  std::vector<std::string> sessions = authorizations("svc-dirfeed");
  ASSERT_GE(sessions.size(), 2u) << "poller and notifier";
  for (const std::string& protection : sessions) EXPECT_EQ(protection, "SEAL");
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0);
}

// Issue 16 for keytabs: one refused logon, said in words (log and status), no retry before
// the 5-minute backoff, and an immediate one when the keytab changes.
TEST_F(KerberosDaemonTest, StaleKeytabIsSaidAndANewOneIsTriedAtOnce) {
  kerberos_->set_password("svc-dirfeed", "Another!Passw0rd2");
  const std::string config = write_config();
  const std::string words = "wrong key for svc-dirfeed@EXAMPLE.TEST in keytab " + keytab_;
  const int before = dc().failed_logons();
  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path(), log_path());
  ASSERT_TRUE(wait_until([&] { return logged(words); }, 30s)) << log();
  std::this_thread::sleep_for(12s);  // two intervals and many notifier steps
  EXPECT_FALSE(logged("full sync done")) << log();
  const int failed = dc().failed_logons() - before;
  std::cout << "failed logons on the DC while the keytab was stale: " << failed << "\n";
  EXPECT_EQ(failed, 1) << "poller and notifier share the refusal\n" << log();

  Process status({DIRFEED_BINARY, "status", "--config", config}, dir_.path() + "/status.out",
                 dir_.path() + "/status.err");
  ASSERT_EQ(status.wait_for(30s), 0) << read_text(dir_.path() + "/status.err");
  const std::string shown = read_text(dir_.path() + "/status.out");
  EXPECT_NE(shown.find("bind refused:     ldap://dc1.example.test: " + words), std::string::npos)
      << shown;
  EXPECT_NE(shown.find("or at once when the keytab changes)"), std::string::npos) << shown;

  kerberos_->export_keytab(principal_, keytab_);
  EXPECT_TRUE(wait_until([&] { return logged("full sync done on ldap://dc1.example.test"); },
                         15s))
      << log();
  EXPECT_TRUE(logged("keytab changed; trying again now")) << log();
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0);
}

// MIT Kerberos corrects for a KDC's clock by default (kdc_timesync); without that, a host an
// hour ahead (faketime) is refused by the KDC, and dirfeed says why.
TEST_F(KerberosDaemonTest, ClockSkewIsSaid) {
  const std::string conf = dir_.path() + "/krb5-no-timesync.conf";
  write_text(conf, read_text(kerberos_->krb5_conf()) + "[libdefaults]\n  kdc_timesync = 0\n");
  setenv("KRB5_CONFIG", conf.c_str(), 1);
  const std::string config = write_config();
  Process once({"/usr/bin/faketime", "-f", "+1h", DIRFEED_BINARY, "run", "--once", "--config",
                config},
               log_path(), log_path());
  EXPECT_EQ(once.wait_for(60s), 1) << log();
  EXPECT_TRUE(logged("ldap://dc1.example.test: Kerberos: the clocks of this host and of the KDC "
                     "differ by more than the KDC allows (5 minutes in AD): synchronise them "
                     "(NTP) (Clock skew too great)"))
      << log();
}

}  // namespace
}  // namespace dirfeed::testing
