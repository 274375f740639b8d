// The real `dirfeed` binary against the Samba AD DC: restarts, SIGKILL and SIGTERM in the
// middle of a first sync, DC failures in the log, failover (DESIGN.md sections 4-6 and 8).
// Each test writes a config to a temp dir, runs the daemon as a child process with its
// stderr in a file there, and opens the store after the daemon has exited.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/harness.hpp"
#include "tests/support/ldif.hpp"
#include "tests/support/process.hpp"

#ifndef DIRFEED_BINARY
#error "DIRFEED_BINARY must be defined (tests/integration/CMakeLists.txt)"
#endif
#ifndef DIRFEED_OTHER_CA
#error "DIRFEED_OTHER_CA must be defined (tests/integration/CMakeLists.txt)"
#endif

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

const std::string kStaff = "OU=Staff,DC=example,DC=test";
const std::string kBulk = "OU=Bulk,DC=example,DC=test";
const std::string kNobodyListens = "ldaps://127.0.0.1:1";
constexpr int kBulkUsers = 3000;
// Feed entries (of ~6,300) a first sync of the bulk DC logs before the test interrupts it: a
// few pages in, far from the end (the whole sync takes about a second here).
constexpr size_t kInterruptAfterChanges = 300;

std::string strategy_name(ldap::Strategy strategy) {
  return strategy == ldap::Strategy::kUsn ? "usn" : "dirsync";
}

// A few users and groups with memberships, for tests that need content but not volume.
std::string small_directory_ldif() {
  return ldif_ou(kStaff) + ldif_user("Alice Able", kStaff, "alice") +
         ldif_user("Bob Baker", kStaff, "bob") +
         ldif_group("Engineers", kStaff, "engineers",
                    {"CN=Alice Able," + kStaff, "CN=Bob Baker," + kStaff});
}

// What the YAML config of one run says.
struct Settings {
  std::vector<std::string> controllers = {};  // empty: the DC
  ldap::Strategy strategy = ldap::Strategy::kUsn;
  std::string log_level = "debug";
  int page_size = 200;
  std::string interval = "60s";
  std::optional<std::string> password = {};  // nullopt: the DC's admin password
  std::string ca_file = {};             // empty: the DC's CA
};

// One daemon installation: a temp dir with the config, the password file, the state dir and
// one stderr log per run.
class Daemon {
 public:
  explicit Daemon(const SambaDc& dc) : dc_(dc) {}

  std::string state_dir() const { return dir_.path() + "/state"; }
  std::string config_path() const { return dir_.path() + "/dirfeed.yaml"; }
  const std::string& log_path() const { return log_path_; }
  std::string log() const { return read_text(log_path_); }

  void configure(const Settings& s) {
    std::string password_file = dir_.path() + "/bind.password";
    write_text(password_file, s.password.value_or(dc_.admin_password()), 0600);
    std::string yaml = "state_dir: " + yaml_string(state_dir()) + "\n" +
                       "log:\n  level: " + s.log_level + "\n" +
                       "domains:\n  - name: " + dc_.domain() + "\n    controllers:\n";
    for (const auto& uri : s.controllers.empty() ? std::vector{dc_.uri()} : s.controllers) {
      yaml += "      - " + yaml_string(uri) + "\n";
    }
    std::string ca_file = s.ca_file.empty() ? dc_.ca_file() : s.ca_file;
    yaml += "    tls:\n      ca_file: " + yaml_string(ca_file) +
            "\n    bind:\n      dn: " + yaml_string(dc_.admin_dn()) +
            "\n      password_file: " + yaml_string(password_file) +
            "\n    sync:\n      strategy: " + strategy_name(s.strategy) +
            "\n      interval: " + s.interval +
            "\n      page_size: " + std::to_string(s.page_size) + "\n" +
            "api:\n  listen: 127.0.0.1:0" +
            "\n  users_file: " + yaml_string(dir_.path() + "/api-users") +
            "\n  keys_file: " + yaml_string(dir_.path() + "/api-keys") + "\n";
    write_text(config_path(), yaml);
  }

  // Starts `dirfeed COMMAND --config FILE [extra...]`; stdout and stderr go to a new log.
  std::unique_ptr<Process> start(const std::string& command,
                                 std::vector<std::string> extra = {}) {
    ++runs_;
    log_path_ = dir_.path() + "/run" + std::to_string(runs_) + ".log";
    std::vector<std::string> argv{DIRFEED_BINARY, command, "--config", config_path()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return std::make_unique<Process>(argv, log_path_, log_path_);
  }

  // `dirfeed run --once` to the end; its exit code (-1: still running after `timeout`).
  int run_once(std::chrono::milliseconds timeout = 120s) {
    auto process = start("run", {"--once"});
    return process->wait_for(timeout).value_or(-1);
  }

 private:
  const SambaDc& dc_;
  TempDir dir_;
  std::string log_path_;
  int runs_ = 0;
};

// Lines the daemon logs (debug level) for each committed feed entry: "domain D: #SEQ ...".
size_t change_lines(const std::string& log) {
  return lines_with(log, {"domain example.test: #"}).size();
}

// Highest "#SEQ" in the log (0: none).
uint64_t last_logged_sequence(const std::string& log) {
  uint64_t last = 0;
  static const std::regex kLine("domain example\\.test: #(\\d+) ");
  for (const auto& line : lines_with(log, {"domain example.test: #"})) {
    std::smatch m;
    if (std::regex_search(line, m, kLine)) last = std::max<uint64_t>(last, std::stoull(m[1]));
  }
  return last;
}

// What a store holds, in comparable form.
struct Snapshot {
  uint64_t last_sequence = 0;
  std::optional<pb::Cursor> cursor;
  std::vector<std::string> objects;  // "GUID DN | groups", sorted
  std::vector<std::string> feed;     // "add user GUID", "add membership U>G", ... sorted
  size_t users = 0;
};

Snapshot snapshot(const std::string& state_dir) {
  Snapshot out;
  SystemClock clock;
  std::string error;
  auto store = changefeed::Store::open({state_dir + "/feed"}, clock, &error);
  EXPECT_TRUE(store) << error;
  if (!store) return out;
  out.last_sequence = store->last_sequence();
  out.cursor = store->cursor("example.test");
  for (auto kind : {pb::USER, pb::GROUP}) {
    store->objects(kind, "", [&](const pb::DirectoryObject& object) {
      std::vector<std::string> groups;
      for (const auto& guid : object.member_of()) groups.push_back(guid_to_string(guid));
      std::string line = guid_to_string(object.guid()) + " " + object.dn() + " |";
      for (const auto& group : sorted(groups)) line += " " + group;
      out.objects.push_back(line);
      if (kind == pb::USER) ++out.users;
      return true;
    });
  }
  store->changes_after_sequence(0, {}, [&](const pb::Change& change) {
    out.feed.push_back(summarize(change, {}));
    return true;
  });
  out.objects = sorted(out.objects);
  out.feed = sorted(out.feed);
  return out;
}

// Entries that occur more often in `a` than in `b` (multiset difference), at most `limit`.
std::vector<std::string> missing_from(const std::vector<std::string>& a,
                                      const std::vector<std::string>& b, size_t limit = 10) {
  std::vector<std::string> out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  if (out.size() > limit) out.resize(limit);
  return out;
}

// Expects `actual` to hold exactly what `expected` holds; prints a few differences.
void expect_same_store(const Snapshot& expected, const Snapshot& actual) {
  EXPECT_EQ(actual.objects.size(), expected.objects.size());
  EXPECT_TRUE(actual.objects == expected.objects)
      << "objects only in the reference run: "
      << ::testing::PrintToString(missing_from(expected.objects, actual.objects))
      << "\nobjects only in the interrupted run: "
      << ::testing::PrintToString(missing_from(actual.objects, expected.objects));
  EXPECT_EQ(actual.feed.size(), expected.feed.size());
  EXPECT_TRUE(actual.feed == expected.feed)
      << "feed entries lost: " << ::testing::PrintToString(missing_from(expected.feed, actual.feed))
      << "\nfeed entries extra or duplicated: "
      << ::testing::PrintToString(missing_from(actual.feed, expected.feed));
  ASSERT_TRUE(actual.cursor);
  EXPECT_TRUE(actual.cursor->full_sync_done());
}

class DaemonTest : public ::testing::TestWithParam<ldap::Strategy> {
 protected:
  static SambaDc& dc() { return shared_dc(); }
};

// ---- 1. restart ------------------------------------------------------------------------

class RestartTest : public DaemonTest {
 protected:
  void SetUp() override {
    dc().reset();
    dc().ldif(small_directory_ldif());
  }
};

TEST_P(RestartTest, SecondRunRecordsNothing) {
  Daemon daemon(dc());
  daemon.configure({.strategy = GetParam(), .log_level = "info"});
  ASSERT_EQ(daemon.run_once(), 0) << daemon.log();
  EXPECT_EQ(lines_with(daemon.log(), {"full sync done on " + dc().uri()}).size(), 1u)
      << daemon.log();
  Snapshot first = snapshot(daemon.state_dir());
  EXPECT_GE(first.users, 3u);  // alice, bob, Administrator, ...
  EXPECT_GT(first.last_sequence, first.objects.size());  // ADDs and memberships

  ASSERT_EQ(daemon.run_once(), 0) << daemon.log();
  EXPECT_EQ(lines_with(daemon.log(), {"pass done on " + dc().uri(), "0 changes"}).size(), 1u)
      << daemon.log();
  Snapshot second = snapshot(daemon.state_dir());
  EXPECT_EQ(second.last_sequence, first.last_sequence);
  EXPECT_EQ(second.objects, first.objects);
}

INSTANTIATE_TEST_SUITE_P(Strategies, RestartTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         [](const auto& info) { return strategy_name(info.param); });

// ---- 2 and 5. SIGKILL and SIGTERM in the middle of a first sync -------------------------

// A DC with kBulkUsers users (seeded once for the whole suite: ~20 s) and a group holding
// some of them, and the store of one uninterrupted `--once` run per strategy to compare with.
class InterruptedSyncTest : public DaemonTest {
 protected:
  static void SetUpTestSuite() {
    seeded_ = false;
    dc().reset();
    dc().ldif(ldif_ou(kBulk));
    dc().add_users(kBulk, "kill", kBulkUsers);
    std::vector<std::string> members;
    for (int i = 1; i <= kBulkUsers; i += 10) {
      char name[16];
      std::snprintf(name, sizeof name, "kill%04d", i);
      members.push_back("CN=" + std::string(name) + "," + kBulk);
    }
    dc().ldif(ldif_group("Bulk Group", kBulk, "bulkgroup", members));
    seeded_ = true;
  }

  void SetUp() override {
    ASSERT_TRUE(seeded_) << "seeding the DC with " << kBulkUsers << " users failed (see above)";
  }

  // Settings that make a first sync take many pages.
  Settings settings() const { return {.strategy = GetParam(), .page_size = 100}; }

  // The store after one uninterrupted `dirfeed run --once` (computed once per strategy).
  const Snapshot& reference() {
    auto it = references_.find(GetParam());
    if (it != references_.end()) return it->second;
    Daemon daemon(dc());
    daemon.configure(settings());
    EXPECT_EQ(daemon.run_once(), 0) << daemon.log();
    Snapshot snap = snapshot(daemon.state_dir());
    EXPECT_GE(snap.users, static_cast<size_t>(kBulkUsers));
    return references_.emplace(GetParam(), std::move(snap)).first->second;
  }

  // Starts `dirfeed run` and waits until it logged `changes` committed feed entries.
  std::unique_ptr<Process> start_and_wait_for_changes(Daemon& daemon, size_t changes,
                                                      std::vector<std::string> extra = {}) {
    auto process = daemon.start("run", std::move(extra));
    bool reached = wait_until(
        [&] { return change_lines(daemon.log()) >= changes || !process->running(); }, 120s, 2ms);
    EXPECT_TRUE(reached) << "no " << changes << " changes logged within 120 s:\n"
                         << daemon.log();
    return process;
  }

  // Fails the test when the first sync had already finished: the interruption then proved
  // nothing (make the sync slower, e.g. a smaller page_size or more users).
  static void expect_interrupted_mid_sync(const Daemon& daemon, const Snapshot& partial) {
    std::string log = daemon.log();
    EXPECT_TRUE(lines_with(log, {"full sync done"}).empty())
        << "the first sync finished before the interruption: nothing was tested\n"
        << log.substr(log.size() > 3000 ? log.size() - 3000 : 0);
    EXPECT_GT(partial.last_sequence, 0u) << "no page was committed before the interruption";
    // Every change the log reported is in the store (pages are committed before logging).
    EXPECT_GE(partial.last_sequence, last_logged_sequence(log));
    ASSERT_TRUE(partial.cursor) << "a committed page stores the cursor with it";
    EXPECT_FALSE(partial.cursor->full_sync_done());
    std::cout << "[interrupted] " << partial.feed.size() << " feed entries stored, "
              << partial.objects.size() << " objects" << std::endl;
  }

  static inline bool seeded_ = false;
  static inline std::map<ldap::Strategy, Snapshot> references_;
};

// Issue test 5: a crash leaves whole pages or nothing; the next run completes the sync
// without losing or repeating a change.
TEST_P(InterruptedSyncTest, SigkillMidFirstSyncThenRestartLosesAndDuplicatesNothing) {
  const Snapshot& expected = reference();
  Daemon daemon(dc());
  daemon.configure(settings());
  auto process = start_and_wait_for_changes(daemon, kInterruptAfterChanges);
  process->signal(SIGKILL);
  ASSERT_EQ(process->wait_for(10s), 128 + SIGKILL) << daemon.log();
  Snapshot partial = snapshot(daemon.state_dir());
  expect_interrupted_mid_sync(daemon, partial);
  EXPECT_LT(partial.feed.size(), expected.feed.size());

  ASSERT_EQ(daemon.run_once(), 0) << daemon.log();
  EXPECT_EQ(lines_with(daemon.log(), {"full sync done on " + dc().uri()}).size(), 1u)
      << daemon.log();
  expect_same_store(expected, snapshot(daemon.state_dir()));
}

TEST_P(InterruptedSyncTest, SigtermMidFirstSyncStopsCleanlyAndRestartCompletes) {
  const Snapshot& expected = reference();
  Daemon daemon(dc());
  daemon.configure(settings());
  auto process = start_and_wait_for_changes(daemon, kInterruptAfterChanges);
  auto signalled = std::chrono::steady_clock::now();
  process->signal(SIGTERM);
  ASSERT_EQ(process->wait_for(10s), 0) << daemon.log();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 5s) << "slow to stop";
  std::string log = daemon.log();
  EXPECT_EQ(lines_with(log, {"signal 15: stopping"}).size(), 1u) << log;
  EXPECT_EQ(lines_with(log, {"dirfeed stopped"}).size(), 1u) << log;
  // Stopping is not a DC failure.
  EXPECT_EQ(lines_with(log, {"failed"}), std::vector<std::string>());
  Snapshot partial = snapshot(daemon.state_dir());
  expect_interrupted_mid_sync(daemon, partial);

  ASSERT_EQ(daemon.run_once(), 0) << daemon.log();
  expect_same_store(expected, snapshot(daemon.state_dir()));
}

// `run --once` stopped by SIGTERM: a stopped pass is not a failed one (exit 0, nothing logged
// as failed).
TEST_P(InterruptedSyncTest, SigtermMidRunOnceExitsZero) {
  Daemon daemon(dc());
  daemon.configure(settings());
  auto process = start_and_wait_for_changes(daemon, kInterruptAfterChanges, {"--once"});
  process->signal(SIGTERM);
  EXPECT_EQ(process->wait_for(10s), 0) << daemon.log();
  EXPECT_EQ(lines_with(daemon.log(), {"failed"}), std::vector<std::string>());
  expect_interrupted_mid_sync(daemon, snapshot(daemon.state_dir()));
}

INSTANTIATE_TEST_SUITE_P(Strategies, InterruptedSyncTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         [](const auto& info) { return strategy_name(info.param); });

// ---- 3. failures are logged with the DC and the cause; the daemon keeps retrying -------

class FailureTest : public ::testing::Test {
 protected:
  static SambaDc& dc() { return shared_dc(); }

  // Runs the daemon with `settings` until it logged two failed attempts on `uri` (network
  // backoff: 5 s) whose lines contain `cause`, checks it still runs, then stops it with SIGTERM.
  // Returns the first failure line.
  std::string expect_failure_logged_and_retried(const Settings& settings, const std::string& uri,
                                                const std::string& cause) {
    Daemon daemon(dc());
    daemon.configure(settings);
    auto process = daemon.start("run");
    auto attempts = [&] {
      return lines_with(daemon.log(), {"DC " + uri + " failed (attempt", cause});
    };
    bool retried = wait_until([&] { return attempts().size() >= 2 || !process->running(); }, 15s);
    std::string log = daemon.log();
    EXPECT_TRUE(retried) << "no two attempts within 15 s:\n" << log;
    EXPECT_TRUE(process->running()) << "the daemon exited:\n" << log;
    EXPECT_EQ(lines_with(log, {"DC " + uri + " failed (attempt 1, retry in 5 s): " + uri}).size(),
              1u) << log;
    EXPECT_EQ(lines_with(log, {"DC " + uri + " failed (attempt 2, retry in 10 s): " + uri}).size(),
              1u) << log;
    EXPECT_FALSE(lines_with(log, {"pass failed on every controller; next try in 5 s"}).empty())
        << log;
    auto signalled = std::chrono::steady_clock::now();
    process->signal(SIGTERM);
    EXPECT_EQ(process->wait_for(10s), 0) << daemon.log();
    EXPECT_LT(std::chrono::steady_clock::now() - signalled, 2s) << "slow to stop";
    auto lines = attempts();
    return lines.empty() ? std::string() : lines.front();
  }
};

// A refused bind is not a network fault (issue 16): it is said in words and not retried for
// 5 minutes (each retry would be one more failed logon towards the account's lockout); the
// retry when the password file changes is credentials_integration_test's.
TEST_F(FailureTest, WrongPasswordIsLoggedInWordsAndNotRetriedForFiveMinutes) {
  Daemon daemon(dc());
  daemon.configure({.password = "not-the-password"});
  auto process = daemon.start("run");
  const std::string uri = dc().uri();
  // The poller's or the notifier's bind, whichever comes first: the other then waits too.
  auto attempts = [&] { return lines_with(daemon.log(), {"DC " + uri + " failed"}); };
  ASSERT_TRUE(wait_until([&] { return !attempts().empty() || !process->running(); }, 15s))
      << daemon.log();
  std::this_thread::sleep_for(8s);  // the old backoff would have retried after 5 s
  const std::string log = daemon.log();
  EXPECT_TRUE(process->running()) << "the daemon exited:\n" << log;
  const std::vector<std::string> lines = attempts();
  ASSERT_EQ(lines.size(), 1u) << "one failed logon, not more:\n" << log;
  EXPECT_NE(lines[0].find("wrong password for Administrator"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("Invalid credentials"), std::string::npos) << lines[0];
  process->signal(SIGTERM);
  EXPECT_EQ(process->wait_for(10s), 0) << daemon.log();
  std::cout << "[libldap] wrong password: " << lines[0] << std::endl;
}

TEST_F(FailureTest, UnreachableDcIsLoggedWithItsUriAndRetried) {
  std::string line = expect_failure_logged_and_retried({.controllers = {kNobodyListens}},
                                                       kNobodyListens, "Can't contact LDAP server");
  std::cout << "[libldap] unreachable: " << line << std::endl;
}

TEST_F(FailureTest, UntrustedCertificateIsLoggedAsSuchAndRetried) {
  std::string line = expect_failure_logged_and_retried({.ca_file = DIRFEED_OTHER_CA}, dc().uri(),
                                                       "certificate");
  std::cout << "[libldap] other CA: " << line << std::endl;
  EXPECT_NE(line.find("could not be verified"), std::string::npos) << line;
  EXPECT_NE(line.find(DIRFEED_OTHER_CA), std::string::npos) << "names the CA file: " << line;
}

TEST_F(FailureTest, CheckConfigNamesTheLineOfABrokenFile) {
  Daemon daemon(dc());
  daemon.configure({});
  std::string yaml = read_text(daemon.config_path());
  // Line 3 is "  level: debug"; indenting it with a tab breaks the YAML there.
  ASSERT_EQ(lines_with(yaml, {"  level: debug"}).size(), 1u) << yaml;
  yaml.replace(yaml.find("  level: debug"), 2, "\t");
  write_text(daemon.config_path(), yaml);
  auto process = daemon.start("check-config");
  EXPECT_EQ(process->wait_for(30s), 1) << daemon.log();
  std::string log = daemon.log();
  EXPECT_NE(log.find(daemon.config_path() + ":3: YAML syntax error"), std::string::npos) << log;
  EXPECT_NE(log.find("YAML does not allow tabs"), std::string::npos) << log;
  std::cout << "[check-config] " << log;

  // And an unknown key is reported with its line and key path.
  yaml.replace(yaml.find("\tlevel: debug"), 6, "  levle");
  write_text(daemon.config_path(), yaml);
  process = daemon.start("check-config");
  EXPECT_EQ(process->wait_for(30s), 1) << daemon.log();
  EXPECT_NE(daemon.log().find(daemon.config_path() + ":3: log.levle: unknown key"),
            std::string::npos)
      << daemon.log();
}

// ---- 4. failover ---------------------------------------------------------------------

class FailoverTest : public DaemonTest {
 protected:
  void SetUp() override {
    dc().reset();
    dc().ldif(small_directory_ldif());
  }
};

TEST_P(FailoverTest, DaemonServesFromTheNextDcAndLogsTheDeadOne) {
  Daemon daemon(dc());
  daemon.configure({.controllers = {kNobodyListens, dc().uri()},
                    .strategy = GetParam(),
                    .log_level = "info",
                    .interval = "1s"});
  auto process = daemon.start("run");
  // The first pass fails over; the second (1 s later, within the dead DC's 5 s backoff)
  // goes straight to the healthy one.
  bool two_passes = wait_until(
      [&] {
        return !lines_with(daemon.log(), {"pass done on " + dc().uri()}).empty() ||
               !process->running();
      },
      30s);
  process->signal(SIGTERM);
  EXPECT_EQ(process->wait_for(10s), 0);
  std::string log = daemon.log();
  ASSERT_TRUE(two_passes) << log;
  auto failures = lines_with(log, {"DC " + kNobodyListens + " failed (attempt"});
  ASSERT_FALSE(failures.empty()) << log;
  EXPECT_NE(failures.front().find("attempt 1, retry in 5 s): " + kNobodyListens +
                                  ": bind as " + dc().admin_dn() +
                                  " failed: Can't contact LDAP server"),
            std::string::npos)
      << failures.front();
  EXPECT_EQ(lines_with(log, {"full sync done on " + dc().uri()}).size(), 1u) << log;
  // Nothing tried the dead DC again between the first and the second pass.
  size_t first_done = log.find("full sync done on " + dc().uri());
  size_t second_done = log.find("pass done on " + dc().uri());
  ASSERT_LT(first_done, second_done);
  EXPECT_EQ(log.find("DC " + kNobodyListens, first_done), std::string::npos) << log;
  EXPECT_TRUE(lines_with(log, {"pass failed"}).empty()) << log;
}

TEST_P(FailoverTest, PollerBacksOffTheDeadDcAndTriesTheHealthyOneFirst) {
  SyncHarness harness(dc(), GetParam());
  harness.options().controllers = {kNobodyListens, dc().uri()};
  harness.reopen();
  std::atomic<bool> stop{false};
  ldap::PassResult first = harness.poller().run_pass(stop);
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.controller, dc().uri());
  const auto& controllers = harness.poller().controllers();  // a snapshot
  ASSERT_EQ(controllers.size(), 2u);
  EXPECT_EQ(controllers[0].uri, kNobodyListens);
  EXPECT_EQ(controllers[0].failures, 1);
  EXPECT_NE(controllers[0].last_error.find("Can't contact LDAP server"), std::string::npos)
      << controllers[0].last_error;
  int64_t now = SystemClock().now_us();
  EXPECT_GT(controllers[0].retry_after_us, now);
  EXPECT_LE(controllers[0].retry_after_us, now + 5'000'000);
  EXPECT_EQ(controllers[1].failures, 0);

  ldap::PassResult second = harness.poller().run_pass(stop);
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_EQ(second.controller, dc().uri());
  EXPECT_FALSE(second.full_sync);
  EXPECT_EQ(harness.poller().controllers()[0].failures, 1)
      << "the dead DC was tried again within its backoff";
}

INSTANTIATE_TEST_SUITE_P(Strategies, FailoverTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         [](const auto& info) { return strategy_name(info.param); });

}  // namespace
}  // namespace dirfeed::testing
