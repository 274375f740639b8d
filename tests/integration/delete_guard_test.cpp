// The delete guard against the real Samba AD DC (issue 12): a pass, incremental or full, that
// would delete more than sync.max_deletes commits nothing, keeps the cursor where it was and
// says "held"; an admin's allowance or a higher limit lets it through, once.
#include <gtest/gtest.h>

#include <string>

#include "daemon/delete_allowance.hpp"
#include "tests/integration/harness.hpp"

namespace dirfeed::testing {
namespace {

const std::string kOu = "OU=Wave,DC=example,DC=test";

class DeleteGuardTest : public ::testing::TestWithParam<ldap::Strategy> {
 protected:
  void SetUp() override {
    dc().reset();
    dc().ldif("dn: " + kOu + "\nchangetype: add\nobjectClass: organizationalUnit\n\n");
    dc().add_users(kOu, "wave", 8);
    harness_ = std::make_unique<SyncHarness>(dc(), GetParam());
    harness_->options().sync.max_deletes = 3;
    harness_->reopen();  // the poller takes the options when made
    harness_->pass();
  }

  static SambaDc& dc() { return shared_dc(); }

  void delete_users(int from, int to) {
    std::string text;
    for (int i = from; i <= to; ++i) {
      text += "dn: CN=wave000" + std::to_string(i) + "," + kOu + "\nchangetype: delete\n\n";
    }
    dc().ldif(text);
  }

  // User deletes among `changes` (each also ends its primary group membership).
  size_t deletes(const std::vector<pb::Change>& changes) const {
    size_t count = 0;
    for (const pb::Change& change : changes) {
      count += change.kind() == pb::USER && change.type() == pb::DELETE ? 1 : 0;
    }
    return count;
  }

  size_t user_modifies(const std::vector<pb::Change>& changes) const {
    size_t count = 0;
    for (const pb::Change& change : changes) {
      count += change.kind() == pb::USER && change.type() == pb::MODIFY ? 1 : 0;
    }
    return count;
  }

  ldap::PassResult raw_pass() {
    std::atomic<bool> stop{false};
    ldap::PassResult result = harness_->poller().run_pass(stop);
    EXPECT_TRUE(result.ok) << result.error;
    return result;
  }

  pb::Cursor cursor() { return harness_->store().cursor(harness_->options().name).value(); }
  daemon::DeleteAllowance allowance() { return daemon::DeleteAllowance(harness_->state_dir()); }

  std::unique_ptr<SyncHarness> harness_;
};

TEST_P(DeleteGuardTest, AnIncrementalWaveOverTheLimitCommitsNothingUntilAllowed) {
  const pb::Cursor before = cursor();
  const uint64_t feed_before = harness_->store().last_sequence();
  delete_users(1, 5);
  // Also a change the held pass would have recorded: held with it.
  dc().ldif("dn: CN=wave0006," + kOu + "\nchangetype: modify\nreplace: title\ntitle: Stays\n\n");

  ldap::PassResult held = raw_pass();
  EXPECT_EQ(held.held_back, 5u);
  EXPECT_EQ(harness_->store().last_sequence(), feed_before) << "nothing of the pass committed";
  pb::Cursor after = cursor();
  EXPECT_EQ(after.usn(), before.usn());
  EXPECT_EQ(after.dirsync_cookie(), before.dirsync_cookie());
  EXPECT_EQ(after.dirsync_group_cookie(), before.dirsync_group_cookie());
  EXPECT_EQ(after.held_deletes(), 5);
  EXPECT_EQ(after.held_guids_size(), 5);
  EXPECT_NE(after.held_reason().find("would delete 5 objects, more than sync.max_deletes (3)"),
            std::string::npos)
      << after.held_reason();
  EXPECT_GT(after.held_since_us(), 0);

  EXPECT_EQ(raw_pass().held_back, 5u) << "held again on the next pass";
  EXPECT_EQ(cursor().held_since_us(), after.held_since_us()) << "since the first hold";

  allowance().allow(harness_->options().name, 5);
  std::vector<pb::Change> released = harness_->pass();
  EXPECT_EQ(deletes(released), 5u);
  EXPECT_EQ(user_modifies(released), 1u) << "wave0006's title, held with the deletes";
  EXPECT_EQ(cursor().held_deletes(), 0);
  EXPECT_EQ(allowance().allowed(harness_->options().name), 0u) << "used up";

  // The allowance was for that wave: the next one over the limit is held again.
  delete_users(6, 8);
  dc().add_users(kOu, "more", 1);
  harness_->options().sync.max_deletes = 2;
  harness_->reopen();
  EXPECT_EQ(raw_pass().held_back, 3u);
  // Raising the limit in the config releases it.
  harness_->options().sync.max_deletes = 3;
  harness_->reopen();
  EXPECT_EQ(deletes(harness_->pass()), 3u);
  EXPECT_EQ(cursor().held_deletes(), 0);
}

// A full sync that would delete over the limit (here: search_bases narrowed to an OU that
// holds none of the stored users) is held before it reads anything whole.
TEST_P(DeleteGuardTest, AFullSyncOverTheLimitIsHeldBeforeItCommitsAnything) {
  pb::Cursor forced = cursor();
  forced.set_full_sync_done(false);  // the next pass is a full sync
  ASSERT_TRUE(harness_->store().apply_page(harness_->options().name, {}, forced).is_ok());
  dc().ldif("dn: OU=Empty,DC=example,DC=test\nchangetype: add\nobjectClass: organizationalUnit\n\n");
  harness_->options().sync.search_bases = {"OU=Empty,DC=example,DC=test"};
  harness_->reopen();
  const uint64_t feed_before = harness_->store().last_sequence();

  ldap::PassResult held = raw_pass();
  EXPECT_FALSE(held.full_sync) << "not started";
  EXPECT_GT(held.held_back, 3u);
  EXPECT_EQ(harness_->store().last_sequence(), feed_before);
  EXPECT_NE(cursor().held_reason().find("a full sync on"), std::string::npos)
      << cursor().held_reason();
  EXPECT_FALSE(cursor().full_sync_done());
}

INSTANTIATE_TEST_SUITE_P(Strategies, DeleteGuardTest,
                         ::testing::Values(ldap::Strategy::kUsn, ldap::Strategy::kDirSync),
                         [](const auto& info) {
                           return info.param == ldap::Strategy::kUsn ? "usn" : "dirsync";
                         });

}  // namespace
}  // namespace dirfeed::testing
