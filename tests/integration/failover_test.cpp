// Failing over between two replicating Samba DCs without harm (issue 16): users added on DC1
// that DC1 had no time to replicate before it died are not deleted by the resync on DC2;
// they wait as unconfirmed until a DC that is up to date decides them, or an admin does.
// Runs the poller and the store as the daemon wires them (daemon::StoreSink).
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "daemon/delete_allowance.hpp"
#include "daemon/store_sink.hpp"
#include "ldap/poller.hpp"
#include "tests/integration/harness.hpp"
#include "tests/support/samba_pair.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

// One replicating pair for the whole program (setting it up takes ~20 s), torn down at exit;
// each test uses users of its own names, and leaves both DCs running and replicating.
class FailoverTest : public ::testing::TestWithParam<ldap::Strategy> {
 protected:
  static void SetUpTestSuite() {
    // As `dirfeed run` does: a connection to a DC that was killed fails with EPIPE.
    std::signal(SIGPIPE, SIG_IGN);
    if (pair_) return;
    pair_ = std::make_unique<SambaPair>(pair_dir_.path() + "/p");
    pair_->setup();
  }

  void SetUp() override {
    ldap::DomainOptions options;
    options.name = pair_->domain();
    options.controllers = {pair_->uri(1), pair_->uri(2)};
    options.tls.ca_file = pair_->ca_file();
    options.bind.dn = pair_->admin_dn();
    options.bind.password_file = pair_->password_file();
    options.sync.strategy = GetParam();
    options.sync.page_size = 200;
    harness_.emplace(std::move(options));
  }

  void TearDown() override {
    // Both DCs up and replicating again for the next test.
    pair_->start(1);
    pair_->set_outbound_replication(1, true);
    pair_->replicate(2, 1);
    pair_->replicate(1, 2);
  }

  daemon::DeleteAllowance allowance() { return daemon::DeleteAllowance(harness_->state_dir()); }

  ldap::PassResult pass() { return harness_->run_pass(); }

  // Passes until `done` holds (or 90 s pass), one a second: DC1 is preferred again only once
  // its backoff ends.
  template <typename Done>
  void pass_until(Done done, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + 90s;
    while (!done()) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "timed out waiting: " << what;
      std::atomic<bool> stop{false};
      harness_->poller().run_pass(stop);
      std::this_thread::sleep_for(1s);
    }
  }

  // Adds `count` users named PREFIX-N on DC `dc`.
  std::vector<std::string> add_users(int dc, const std::string& prefix, int count) {
    std::vector<std::string> names;
    std::string text;
    for (int i = 1; i <= count; ++i) {
      std::string name = prefix + "-" + std::to_string(i);
      names.push_back(name);
      text += "dn: CN=" + name + ",CN=Users," + pair_->base_dn() +
              "\nchangetype: add\nobjectClass: user\nsAMAccountName: " + name + "\n\n";
    }
    pair_->ldif(dc, text);
    return names;
  }

  // "add user NAME" / "delete user NAME" for every feed entry about a user named PREFIX-*.
  std::map<std::string, std::vector<std::string>> user_history(const std::string& prefix) {
    std::map<std::string, std::vector<std::string>> history;
    harness_->store().changes_after_sequence(0, {}, [&](const pb::Change& change) {
      if (change.kind() != pb::USER) return true;
      const std::string& dn = change.object().dn();
      if (dn.rfind("CN=" + prefix + "-", 0) != 0) return true;
      std::string name = dn.substr(3, dn.find(',') - 3);
      history[name].push_back(change.type() == pb::ADD      ? "add"
                              : change.type() == pb::DELETE ? "delete"
                                                            : "modify");
      return true;
    });
    return history;
  }

  pb::Cursor cursor() { return harness_->store().cursor(name()).value_or(pb::Cursor()); }
  const std::string& name() { return harness_->options().name; }

  static std::string prefix() {
    return GetParam() == ldap::Strategy::kUsn ? "usn" : "dirsync";
  }

  static inline TempDir pair_dir_;
  static inline std::unique_ptr<SambaPair> pair_;  // destroyed before pair_dir_
  std::optional<SyncHarness> harness_;
};

// DC1 dies before it replicated 20 new users; dirfeed fails over to DC2 (which lacks them),
// then DC1 comes back and replicates. Every consumer sees each user added once, never
// deleted.
TEST_P(FailoverTest, UsersDc1DidNotReplicateBeforeDyingAreAddedOnceAndNeverDeleted) {
  ASSERT_EQ(pass().controller, pair_->uri(1));
  pair_->set_outbound_replication(1, false);
  const std::vector<std::string> users = add_users(1, prefix() + "-phantom", 20);
  ASSERT_EQ(pass().controller, pair_->uri(1));
  ASSERT_EQ(user_history(prefix() + "-phantom").size(), 20u);

  pair_->stop(1);
  ldap::PassResult on_dc2 = pass();
  EXPECT_EQ(on_dc2.controller, pair_->uri(2));
  // `dirfeed status` says which DC serves (controller) and why the other is out.
  EXPECT_EQ(cursor().controller(), pair_->uri(2));
  ASSERT_EQ(cursor().controller_problems_size(), 1);
  EXPECT_EQ(cursor().controller_problems(0).uri(), pair_->uri(1));
  EXPECT_FALSE(cursor().controller_problems(0).bind_refused());
  EXPECT_NE(cursor().controller_problems(0).problem().find("Can't contact LDAP server"),
            std::string::npos)
      << cursor().controller_problems(0).problem();
  if (GetParam() == ldap::Strategy::kUsn) {
    EXPECT_TRUE(on_dc2.full_sync) << "a change of DC is a resync with usn";
    EXPECT_EQ(on_dc2.unconfirmed, 20u);
    EXPECT_EQ(cursor().unconfirmed_size(), 20);
    EXPECT_NE(cursor().unconfirmed_reason().find(pair_->uri(2) + " has not replicated"),
              std::string::npos)
        << cursor().unconfirmed_reason();
  }
  for (const auto& [name, history] : user_history(prefix() + "-phantom")) {
    EXPECT_EQ(history, std::vector<std::string>{"add"}) << name << " after failing over";
  }

  pair_->start(1);
  pair_->set_outbound_replication(1, true);
  pair_->replicate(2, 1);
  pass_until([&] { return cursor().unconfirmed_size() == 0 && cursor().controller() == pair_->uri(1); },
             "DC1 serving again, nothing unconfirmed");
  const auto history = user_history(prefix() + "-phantom");
  EXPECT_EQ(history.size(), 20u);
  for (const std::string& name : users) {
    auto it = history.find(name);
    ASSERT_NE(it, history.end()) << name;
    EXPECT_EQ(it->second, std::vector<std::string>{"add"}) << name;
  }
}

// Passes everything to the daemon's sink, and runs `cut` once right after commit number
// `after` returned: a DC killed in the middle of a pass.
class CuttingSink final : public ldap::PassSink {
 public:
  CuttingSink(ldap::PassSink& sink, int after, std::function<void()> cut)
      : sink_(sink), after_(after), cut_(std::move(cut)) {}

  std::optional<pb::Cursor> load_cursor(const std::string& domain) override {
    return sink_.load_cursor(domain);
  }
  bool commit_page(const std::string& domain, const std::vector<pb::ObservedObject>& objects,
                   const pb::Cursor& cursor) override {
    const bool ok = sink_.commit_page(domain, objects, cursor);
    if (++commits_ == after_) cut_();
    return ok;
  }
  bool finish_full_sync(const std::string& domain, const ldap::GuidSet& seen,
                        const pb::Cursor& cursor, const ldap::Reconcile& how,
                        ldap::ReconcileResult& result) override {
    return sink_.finish_full_sync(domain, seen, cursor, how, result);
  }
  size_t deletes_allowed(const std::string& domain) override {
    return sink_.deletes_allowed(domain);
  }
  void allowance_used(const std::string& domain) override { sink_.allowance_used(domain); }
  std::vector<std::string> known_objects(const std::string& domain,
                                         const std::vector<std::string>& guids) override {
    return sink_.known_objects(domain, guids);
  }
  std::optional<size_t> unseen_objects(const std::string& domain, const ldap::GuidSet& seen,
                                       size_t keep, std::vector<std::string>& kept) override {
    return sink_.unseen_objects(domain, seen, keep, kept);
  }
  int commits() const { return commits_; }

 private:
  ldap::PassSink& sink_;
  int after_;
  std::function<void()> cut_;
  int commits_ = 0;
};

// DC1 dies in the middle of a (first, full) pass, after its first page was committed: the
// same pass goes on on DC2. Then changes are made on DC2 while DC1 is down, and on DC1 once
// it is back; DC1 serves again after its backoff. Every user is recorded exactly once: no
// gap, no duplicate, through both changes of DC.
TEST_P(FailoverTest, Dc1KilledInTheMiddleOfAPassEveryChangeOnEitherDcIsRecordedOnce) {
  const std::string mid = prefix() + "-mid", down = prefix() + "-down",
                    back = prefix() + "-back";
  add_users(1, mid, 600);  // the first sync reads them in 3 pages of 200 (usn) or 2 streams
  pair_->replicate(2, 1);
  CuttingSink cutter(harness_->sink(), 1, [&] { pair_->stop(1); });
  harness_->set_sink(cutter);
  ldap::PassResult cut = pass();
  EXPECT_GT(cutter.commits(), 1) << "DC1 was killed after the first commit, the pass went on";
  EXPECT_EQ(cut.controller, pair_->uri(2)) << "the same pass went on on DC2";
  EXPECT_TRUE(cut.full_sync);
  auto each_added_once = [&](const std::string& name_prefix, size_t count) {
    const auto history = user_history(name_prefix);
    EXPECT_EQ(history.size(), count) << name_prefix;
    for (const auto& [name, events] : history) {
      EXPECT_EQ(events, std::vector<std::string>{"add"}) << name;
    }
  };
  each_added_once(mid, 600);

  add_users(2, down, 5);
  ldap::PassResult on_dc2 = pass();
  EXPECT_EQ(on_dc2.controller, pair_->uri(2));
  each_added_once(down, 5);
  each_added_once(mid, 600);

  pair_->start(1);
  pair_->replicate(1, 2);
  add_users(1, back, 5);
  pair_->replicate(2, 1);
  pass_until([&] { return cursor().controller() == pair_->uri(1) && user_history(back).size() == 5; },
             "DC1 serving again with the users added on it");
  pass();
  each_added_once(mid, 600);
  each_added_once(down, 5);
  each_added_once(back, 5);
  EXPECT_EQ(cursor().controller_problems_size(), 0) << "DC1 serves, DC2 is fine";
  harness_.reset();  // its poller refers to `cutter`
}

// DC1 is gone for good: the users it did not replicate stay unconfirmed (reported, never
// deleted) through every pass on DC2, until DC2 has them (DC1 came back long enough to
// replicate) or an admin allows the deletes.
// (With `usn` only: there the change of DC is a resync, the case that leaves them unconfirmed.)
class UnconfirmedTest : public FailoverTest {};

TEST_P(UnconfirmedTest, UnconfirmedObjectsWaitUntilTheDcCatchesUpOrAnAdminAllows) {
  pass();
  pair_->set_outbound_replication(1, false);
  const std::vector<std::string> replicated_later = add_users(1, "late", 3);
  pass();
  pair_->stop(1);
  EXPECT_EQ(pass().unconfirmed, 3u);
  EXPECT_EQ(pass().controller, pair_->uri(2));
  EXPECT_EQ(cursor().unconfirmed_size(), 3) << "still waiting: DC2 is still behind";

  // DC1 is back just long enough to replicate to DC2; the next pass on DC2 finds DC2 up to
  // date, resyncs, sees the users: confirmed, nothing recorded.
  pair_->start(1);
  pair_->set_outbound_replication(1, true);
  pair_->replicate(2, 1);
  pair_->stop(1);
  ldap::PassResult caught_up = pass();
  EXPECT_EQ(caught_up.controller, pair_->uri(2));
  EXPECT_TRUE(caught_up.full_sync);
  EXPECT_EQ(cursor().unconfirmed_size(), 0);
  for (const auto& [name, history] : user_history("late")) {
    EXPECT_EQ(history, std::vector<std::string>{"add"}) << name;
  }

  // Now users DC1 never replicates: an admin says DC1 is gone, and they are deleted once.
  pair_->start(1);
  pair_->set_outbound_replication(1, false);
  const std::vector<std::string> lost = add_users(1, "lost", 2);
  pass_until([&] { return user_history("lost").size() == 2; }, "DC1 serving the lost users");
  pair_->stop(1);
  EXPECT_EQ(pass().unconfirmed, 2u);
  allowance().allow(name(), 2);
  ldap::PassResult allowed = pass();
  EXPECT_TRUE(allowed.full_sync);
  EXPECT_EQ(cursor().unconfirmed_size(), 0);
  EXPECT_EQ(allowance().allowed(name()), 0u) << "the allowance is used up";
  for (const auto& [name, history] : user_history("lost")) {
    EXPECT_EQ(history, (std::vector<std::string>{"add", "delete"})) << name;
  }
}

std::string strategy_name(const ::testing::TestParamInfo<ldap::Strategy>& info) {
  return info.param == ldap::Strategy::kUsn ? "usn" : "dirsync";
}
INSTANTIATE_TEST_SUITE_P(Strategies, FailoverTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         strategy_name);
INSTANTIATE_TEST_SUITE_P(Usn, UnconfirmedTest, ::testing::Values(ldap::Strategy::kUsn),
                         strategy_name);

}  // namespace
}  // namespace dirfeed::testing
