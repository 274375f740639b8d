// A wrong bind password must not lock the service account (issue 16): a DC that
// refused the bind is left alone for at least 5 minutes, by the poller and the
// notifier alike, and tried again at once when the password file changes. The
// failed logons are counted on the Samba DC itself, from its JSON
// authentication audit (one record per logon, eventId 4625).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "daemon/store_sink.hpp"
#include "ldap/notifier.hpp"
#include "ldap/poller.hpp"
#include "tests/integration/harness.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

class CredentialsTest : public ::testing::Test {
protected:
  void SetUp() override {
    dc().set_options({"log level=1 auth_json_audit:3"});  // one log line per logon
    dc().reset();
  }
  void TearDown() override { dc().set_options({}); }
  static SambaDc &dc() { return shared_dc(); }
  TempDir dir_;
};

// Ten minutes of fake time with a wrong password: the poller is asked for a
// pass every 20 s (three times as often as the default interval) and the
// notifier runs beside it. The DC sees at most 3 failed logons (expected: 2, at
// 0 and 5 minutes); then the password file is fixed and the very next pass
// succeeds.
TEST_F(CredentialsTest, WrongPasswordCostsAtMostThreeFailedLogonsInTenMinutes) {
  const std::string password_file = dir_.path() + "/bind.password";
  write_text(password_file, "not-the-password\n", 0600);
  ldap::DomainOptions options = domain_options(dc(), ldap::Strategy::kUsn);
  options.bind.password_file = password_file;
  options.sync.notifications = true;

  ManualClock clock;
  const int64_t start = clock.now_us();
  std::string error;
  auto store = changefeed::Store::open({dir_.path() + "/feed"}, clock, &error);
  ASSERT_TRUE(store) << error;
  daemon::StoreSink sink(*store, false);
  ldap::DomainPoller poller(options, sink, clock);
  std::atomic<int> notifications{0};
  auto notifier = std::make_unique<ldap::ChangeNotifier>(
      options, poller.health(), [&] { ++notifications; });
  const int before = dc().failed_logons();
  std::atomic<bool> stop{false};
  std::string first_error;
  for (int64_t t = 0; t <= 600; t += 20) {
    clock.set(start + t * 1'000'000);
    ldap::PassResult result = poller.run_pass(stop);
    EXPECT_FALSE(result.ok) << "t=" << t;
    if (first_error.empty() && !result.waiting)
      first_error = result.error;
    // The notifier looks at the health view every kStepTimeout of real time.
    std::this_thread::sleep_for(ldap::ChangeNotifier::kStepTimeout + 100ms);
  }
  const int failed = dc().failed_logons() - before;
  std::cout << "failed logons in 10 minutes (fake time), poller and notifier: "
            << failed << '\n';
  EXPECT_GE(failed, 1);
  EXPECT_LE(failed, 3);
  auto states = poller.controllers();
  ASSERT_EQ(states.size(), 1u);
  EXPECT_EQ(states[0].credential_problem, "wrong password for Administrator");
  EXPECT_NE(states[0].last_error.find("data 52e"), std::string::npos)
      << states[0].last_error;
  // For `dirfeed status`: the problem is in the stored cursor.
  std::optional<pb::Cursor> cursor = store->cursor(options.name);
  ASSERT_TRUE(cursor);
  ASSERT_EQ(cursor->controller_problems_size(), 1);
  EXPECT_EQ(cursor->controller_problems(0).problem(),
            "wrong password for Administrator");

  write_text(password_file, dc().admin_password(), 0600);
  ldap::PassResult fixed = poller.run_pass(stop);
  EXPECT_TRUE(fixed.ok) << fixed.error;
  EXPECT_TRUE(fixed.full_sync);
  EXPECT_EQ(dc().failed_logons() - before, failed);
  cursor = store->cursor(options.name);
  ASSERT_TRUE(cursor);
  EXPECT_EQ(cursor->controller_problems_size(), 0);
  notifier.reset();
}

// The real daemon: a wrong password is one failed logon (poller and notifier
// share it), logged in words and shown by `dirfeed status`; fixing the password
// file makes the next pass run within seconds, not after the 5-minute backoff.
TEST_F(CredentialsTest, DaemonRetriesAtOnceWhenThePasswordFileChanges) {
  const std::string password_file = dir_.path() + "/bind.password";
  write_text(password_file, "not-the-password", 0600);
  const std::string config = dir_.path() + "/dirfeed.yaml";
  write_text(
      config,
      "state_dir: " + yaml_string(dir_.path() + "/state") + "\n" +
          "domains:\n  - name: " + dc().domain() + "\n" + "    controllers: [" +
          yaml_string(dc().uri()) + "]\n" +
          "    tls:\n      ca_file: " + yaml_string(dc().ca_file()) + "\n" +
          "    bind:\n      dn: " + yaml_string(dc().admin_dn()) + "\n" +
          "      password_file: " + yaml_string(password_file) + "\n" +
          "    sync:\n      interval: 5s\n      notifications: true\n" +
          "api:\n  listen: 127.0.0.1:0\n" +
          "  users_file: " + yaml_string(dir_.path() + "/api-users") + "\n" +
          "  keys_file: " + yaml_string(dir_.path() + "/api-keys") + "\n");
  const std::string log_path = dir_.path() + "/run.log";
  const int before = dc().failed_logons();
  auto daemon = std::make_unique<Process>(
      std::vector<std::string>{DIRFEED_BINARY, "run", "--config", config},
      log_path, log_path);
  ASSERT_TRUE(wait_until(
      [&] {
        return read_text(log_path).find("wrong password for "
                                        "Administrator") != std::string::npos;
      },
      30s))
      << read_text(log_path);
  // Three intervals and many notifier steps later, still one failed logon.
  std::this_thread::sleep_for(15s);
  EXPECT_EQ(dc().failed_logons() - before, 1) << read_text(log_path);
  EXPECT_TRUE(lines_with(read_text(log_path), {"full sync done"}).empty());

  Process status({DIRFEED_BINARY, "status", "--config", config},
                 dir_.path() + "/status.out", dir_.path() + "/status.err");
  ASSERT_EQ(status.wait_for(30s), 0) << read_text(dir_.path() + "/status.err");
  EXPECT_NE(read_text(dir_.path() + "/status.out")
                .find("bind refused:     " + dc().uri() +
                      ": wrong password for Administrator"),
            std::string::npos)
      << read_text(dir_.path() + "/status.out");

  write_text(password_file, dc().admin_password(), 0600);
  auto fixed = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until(
      [&] {
        return !lines_with(read_text(log_path), {"full sync done"}).empty();
      },
      10s))
      << read_text(log_path);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - fixed);
  std::cout << "first pass done " << took.count()
            << " ms after the password file was fixed\n";
  EXPECT_NE(read_text(log_path).find("password file changed; trying again now"),
            std::string::npos);
  EXPECT_EQ(dc().failed_logons() - before, 1);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0);
}

} // namespace
} // namespace dirfeed::testing
