// Change notifications end to end (DESIGN.md section 4): the real `dirfeed run` with a 60 s
// poll interval against the Samba DC. With sync.notifications on, a change in AD must reach
// the feed (the daemon's debug log, one line per committed change) within seconds; with it
// off, the same change must wait for the interval, which proves the notifier made the
// difference. Prints the latency from ldapmodify returning to the change's log line.
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/integration/harness.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

const std::string kDeep = "OU=Deep,OU=Staff,DC=example,DC=test";
const std::string kAlice = "CN=Alice Deep," + kDeep;
const std::string kBob = "CN=Bob Deep," + kDeep;
const std::string kTeam = "CN=Team,OU=Staff,DC=example,DC=test";
// How soon a change must show with notifications on, and must not show with them off.
constexpr milliseconds kPrompt = 3s;

std::string seed_ldif() {
  return "dn: OU=Staff,DC=example,DC=test\nchangetype: add\nobjectClass: organizationalUnit\n\n"
         "dn: " + kDeep + "\nchangetype: add\nobjectClass: organizationalUnit\n\n"
         "dn: " + kAlice + "\nchangetype: add\nobjectClass: user\nsAMAccountName: alice\n\n"
         "dn: " + kBob + "\nchangetype: add\nobjectClass: user\nsAMAccountName: bob\n\n"
         "dn: " + kTeam + "\nchangetype: add\nobjectClass: group\nsAMAccountName: team\n";
}

std::string set_description(const std::string& dn, const std::string& value) {
  return "dn: " + dn + "\nchangetype: modify\nreplace: description\ndescription: " + value +
         "\n";
}

// Samba's LDAP server runs prefork workers (4 by default). A notification search held by one
// worker learns of a write made through another only when it re-runs its searches, every 5 s
// (ldapsrv_notification_retry_setup, source4/ldap_server/ldap_server.c); a write through the
// same worker wakes it at once. AD has no such split, so the test DC gets one worker: Samba
// then notifies within milliseconds, and what the test measures is dirfeed's own latency.
void use_one_ldap_worker(SambaDc& dc) {
  dc.stop();
  const std::string path = dc.dir() + "/etc/smb.conf";
  std::string conf = read_text(path);
  const std::string global = "[global]\n";
  size_t at = conf.find(global);
  if (at == std::string::npos) throw std::runtime_error("no [global] section in " + path);
  conf.insert(at + global.size(), "\tprefork children = 1\n");
  write_text(path, conf);
  dc.start();
}

class NotifyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dc().reset();
    use_one_ldap_worker(dc());
    dc().ldif(seed_ldif());
  }

  static SambaDc& dc() { return shared_dc(); }

  std::string log() const { return read_text(log_path()); }
  std::string log_path() const { return dir_.path() + "/run.log"; }

  // Lines of the daemon's log that contain `needle`.
  size_t count(const std::string& needle) const { return lines_with(log(), {needle}).size(); }

  // Starts `dirfeed run` (DirSync, interval 60 s, debug log) and waits for its first full sync
  // and, with notifications, for the notifier to watch the DC.
  void start_daemon(bool notifications) {
    const std::string password_file = dir_.path() + "/bind.password";
    write_text(password_file, dc().admin_password(), 0600);
    const std::string config = dir_.path() + "/dirfeed.yaml";
    write_text(config,
               "state_dir: " + yaml_string(dir_.path() + "/state") + "\n" +
                   "log:\n  level: debug\n" +
                   "domains:\n  - name: " + dc().domain() + "\n" +
                   "    controllers: [" + yaml_string(dc().uri()) + "]\n" +
                   "    tls:\n      ca_file: " + yaml_string(dc().ca_file()) + "\n" +
                   "    bind:\n      dn: " + yaml_string(dc().admin_dn()) + "\n" +
                   "      password_file: " + yaml_string(password_file) + "\n" +
                   "    sync:\n      interval: 60s\n" +
                   "      notifications: " + (notifications ? "true" : "false") + "\n" +
                   "api:\n  listen: 127.0.0.1:0\n" +
                   "  users_file: " + yaml_string(dir_.path() + "/api-users") + "\n" +
                   "  keys_file: " + yaml_string(dir_.path() + "/api-keys") + "\n");
    daemon_ = std::make_unique<Process>(
        std::vector<std::string>{DIRFEED_BINARY, "run", "--config", config}, log_path(),
        log_path());
    bool ready = wait_until(
        [&] {
          return count("full sync done on") > 0 &&
                 (!notifications || count("watching for change notifications on DC") > 0);
        },
        60s);
    ASSERT_TRUE(ready) << log();
  }

  // Applies `ldif` and returns the time from ldapmodify's return until one more log line
  // holds `needle`; nullopt when none came within `timeout`.
  std::optional<milliseconds> latency(const std::string& ldif, const std::string& needle,
                                      milliseconds timeout) {
    size_t before = count(needle);
    dc().ldif(ldif);
    auto applied = SteadyClock::now();
    if (!wait_until([&] { return count(needle) > before; }, timeout, 5ms)) return std::nullopt;
    return std::chrono::duration_cast<milliseconds>(SteadyClock::now() - applied);
  }

  TempDir dir_;
  std::unique_ptr<Process> daemon_;
};

TEST_F(NotifyTest, ChangesReachTheFeedWithinSeconds) {
  ASSERT_NO_FATAL_FAILURE(start_daemon(true));

  // A user deep in an OU, several times: the subtree search at the domain head covers it.
  std::vector<milliseconds> latencies;
  for (int i = 1; i <= 5; ++i) {
    auto took = latency(set_description(kAlice, "change " + std::to_string(i)),
                        "modify user " + kAlice, kPrompt);
    ASSERT_TRUE(took) << "change " << i << " not in the feed within " << kPrompt.count()
                      << " ms\n" << log();
    latencies.push_back(*took);
  }
  // Membership: only the group changes in AD (memberOf is a back-link).
  auto membership = latency("dn: " + kTeam + "\nchangetype: modify\nadd: member\nmember: " +
                                kAlice + "\n",
                            "add membership " + kAlice + " in " + kTeam, kPrompt);
  ASSERT_TRUE(membership) << "membership not in the feed within " << kPrompt.count() << " ms\n"
                          << log();
  latencies.push_back(*membership);
  // A delete moves the object to CN=Deleted Objects; the search's Show Deleted control sees it.
  auto deleted = latency("dn: " + kBob + "\nchangetype: delete\n", "delete user " + kBob, kPrompt);
  ASSERT_TRUE(deleted) << "delete not in the feed within " << kPrompt.count() << " ms\n" << log();
  latencies.push_back(*deleted);

  std::cout << "[latency] ms from ldapmodify to the feed (5 modifies, membership, delete):";
  for (auto took : latencies) std::cout << ' ' << took.count();
  std::sort(latencies.begin(), latencies.begin() + 5);
  std::cout << "; median of the modifies " << latencies[2].count() << " ms" << std::endl;

  // The notifier never holds up shutdown for long.
  auto signalled = SteadyClock::now();
  daemon_->signal(SIGTERM);
  EXPECT_EQ(daemon_->wait_for(10s), 0) << log();
  auto shutdown = std::chrono::duration_cast<milliseconds>(SteadyClock::now() - signalled);
  std::cout << "[shutdown] " << shutdown.count() << " ms after SIGTERM" << std::endl;
  EXPECT_LT(shutdown, 2500ms) << log();
}

TEST_F(NotifyTest, ReconnectsAndCatchesUpAfterTheDcRestarts) {
  ASSERT_NO_FATAL_FAILURE(start_daemon(true));
  dc().stop();
  ASSERT_TRUE(wait_until([&] { return count("change notifications from DC") > 0; }, 10s))
      << log();
  dc().start();
  // Made while the notifier is still disconnected (it retries after 5 s): only the pass that
  // follows its reconnect can bring this one in before the 60 s interval.
  auto missed = latency(set_description(kAlice, "while disconnected"), "modify user " + kAlice,
                        15s);
  ASSERT_TRUE(missed) << log();
  EXPECT_EQ(count("watching for change notifications on DC"), 2u) << log();
  EXPECT_TRUE(latency(set_description(kAlice, "after the reconnect"), "modify user " + kAlice,
                      kPrompt))
      << log();
}

TEST_F(NotifyTest, WithoutNotificationsTheIntervalDecides) {
  ASSERT_NO_FATAL_FAILURE(start_daemon(false));
  EXPECT_FALSE(latency(set_description(kAlice, "unnoticed"), "modify user " + kAlice, kPrompt))
      << log();
  EXPECT_EQ(count("change notification"), 0u) << log();
}

}  // namespace
}  // namespace dirfeed::testing
