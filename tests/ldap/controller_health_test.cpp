// The shared per-DC view of the poller and the notifier: backoff, claims,
// refused binds.
#include "ldap/controller_health.hpp"

#include <gtest/gtest.h>
#include <ldap.h>

#include <chrono>
#include <fstream>

#include "tests/support/temp_dir.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::ldap {
namespace {

using dirfeed::testing::ManualClock;

using namespace std::chrono_literals;

// What AD (and Samba) say for a refused simple bind.
Error refused(const std::string &data) {
  return {LDAP_INVALID_CREDENTIALS,
          "ldaps://dc1: bind as svc-dirfeed@example.test failed: Invalid "
          "credentials "
          "(80090308: LdapErr: DSID-0C0903A9, comment: AcceptSecurityContext "
          "error, data " +
              data + ", v1db1)"};
}

const Error kDown{LDAP_SERVER_DOWN,
                  "ldaps://dc1: bind failed: Can't contact LDAP server"};

TEST(CredentialProblem, NamesTheReasonAndTheAccount) {
  const std::string dn = "svc-dirfeed@example.test";
  EXPECT_EQ(credential_problem(refused("52e"), dn),
            "wrong password for svc-dirfeed");
  EXPECT_EQ(credential_problem(refused("775"), dn),
            "account svc-dirfeed locked");
  EXPECT_EQ(credential_problem(refused("532"), dn),
            "password of svc-dirfeed expired");
  EXPECT_EQ(credential_problem(refused("773"), dn),
            "password of svc-dirfeed must be changed");
  EXPECT_EQ(credential_problem(refused("533"), dn),
            "account svc-dirfeed disabled");
  EXPECT_EQ(
      credential_problem({LDAP_INVALID_CREDENTIALS, "Invalid credentials"}, dn),
      "bind as svc-dirfeed refused (invalid credentials)");
  EXPECT_EQ(credential_problem(kDown, dn), "");
  EXPECT_EQ(credential_problem({LDAP_TIMEOUT, "timed out, data 52e"}, dn), "");
}

TEST(CredentialProblem, AccountNameFromEachBindDnForm) {
  EXPECT_EQ(account_name("svc-dirfeed@example.test"), "svc-dirfeed");
  EXPECT_EQ(account_name("EXAMPLE\\svc-dirfeed"), "svc-dirfeed");
  EXPECT_EQ(account_name("CN=svc-dirfeed,OU=Service,DC=example,DC=test"),
            "svc-dirfeed");
  EXPECT_EQ(account_name("CN=Smith\\, John,OU=x"), "Smith\\, John");
}

TEST(Backoff, NetworkAndCredentialSchedules) {
  EXPECT_EQ(network_backoff(1), 5s);
  EXPECT_EQ(network_backoff(2), 10s);
  EXPECT_EQ(network_backoff(20), 5min);
  EXPECT_EQ(credential_backoff(1), 5min);
  EXPECT_EQ(credential_backoff(2), 10min);
  EXPECT_EQ(credential_backoff(3), 20min);
  EXPECT_EQ(credential_backoff(50), 30min);
}

class HealthTest : public ::testing::Test {
protected:
  HealthTest() {
    write_password("wrong");
    bind_.dn = "svc-dirfeed@example.test";
    bind_.password_file = dir_.path() + "/password";
  }
  void write_password(const std::string &text) {
    std::ofstream(dir_.path() + "/password", std::ios::trunc) << text;
  }

  testing::TempDir dir_;
  BindOptions bind_;
  ManualClock clock_;
};

TEST_F(HealthTest, ABackingOffDcCannotBeClaimedUntilItsBackoffEnds) {
  ControllerHealth health({"ldaps://dc1", "ldaps://dc2"}, bind_, clock_);
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  EXPECT_EQ(health.failed("ldaps://dc1", kDown), 5s);
  health.release("ldaps://dc1", false);
  EXPECT_FALSE(health.claim("ldaps://dc1"));
  EXPECT_EQ(health.wait_time(), 0ms) << "dc2 is ready";
  ASSERT_TRUE(health.claim("ldaps://dc2"));
  health.failed("ldaps://dc2", kDown);
  health.release("ldaps://dc2", false);
  EXPECT_EQ(health.wait_time(), 5s);
  clock_.advance(4999ms);
  EXPECT_FALSE(health.claim("ldaps://dc1"));
  clock_.advance(1ms);
  EXPECT_TRUE(health.claim("ldaps://dc1"));
  EXPECT_FALSE(health.claim("ldaps://dc3")) << "not a configured DC";
}

TEST_F(HealthTest, OneClaimAtATimeSoThePollerAndTheNotifierDoNotBothBind) {
  ControllerHealth health({"ldaps://dc1"}, bind_, clock_);
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  EXPECT_FALSE(health.claim("ldaps://dc1"));
  health.release("ldaps://dc1", true);
  EXPECT_TRUE(health.claim("ldaps://dc1"));
}

TEST_F(HealthTest,
       ARefusedBindBacksOffFiveMinutesAtOnceUntilThePasswordFileChanges) {
  ControllerHealth health({"ldaps://dc1"}, bind_, clock_);
  EXPECT_FALSE(health.refresh()) << "no credential problem yet";
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  EXPECT_EQ(health.failed("ldaps://dc1", refused("52e")), 5min);
  health.release("ldaps://dc1", false);
  EXPECT_TRUE(health.any_credential_problem());
  EXPECT_EQ(health.snapshot()[0].credential_problem,
            "wrong password for svc-dirfeed");
  EXPECT_FALSE(health.refresh()) << "the file did not change";
  clock_.advance(4min);
  EXPECT_FALSE(health.claim("ldaps://dc1"));
  write_password("right");
  EXPECT_TRUE(health.refresh());
  EXPECT_FALSE(health.any_credential_problem());
  EXPECT_TRUE(health.claim("ldaps://dc1"));
  // refused again with the new password: the count goes on, no quicker retry
  EXPECT_EQ(health.failed("ldaps://dc1", refused("775")), 5min);
  health.release("ldaps://dc1", false);
  EXPECT_EQ(health.snapshot()[0].credential_problem,
            "account svc-dirfeed locked");
  clock_.advance(5min);
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  EXPECT_EQ(health.failed("ldaps://dc1", refused("775")), 10min);
  health.release("ldaps://dc1", false);
}

TEST_F(HealthTest, ASuccessfulBindClearsTheCredentialProblem) {
  ControllerHealth health({"ldaps://dc1"}, bind_, clock_);
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  health.failed("ldaps://dc1", refused("52e"));
  health.release("ldaps://dc1", false);
  clock_.advance(5min);
  ASSERT_TRUE(health.claim("ldaps://dc1"));
  health.release("ldaps://dc1", true);
  EXPECT_FALSE(health.any_credential_problem());
  EXPECT_EQ(health.snapshot()[0].failures, 0);
}

} // namespace
} // namespace dirfeed::ldap
