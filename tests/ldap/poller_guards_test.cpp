// The poller's DirSync cookies, loop guards (loop_guard.hpp) and delete guard
// (delete_guard.hpp) against the fake domain (poller_fixture.hpp); the same against Samba:
// tests/integration/dsync_test.cpp, delete_guard_test.cpp.
#include <gtest/gtest.h>

#include <set>

#include "tests/ldap/poller_fixture.hpp"

namespace dirfeed::ldap::testing {
namespace {

// ---- DirSync ---------------------------------------------------------------------------------

TEST_F(DirSyncPollerTest, CookieIsHandedBackAndUsed) {
  add_staff();
  PassResult first = pass();
  ASSERT_TRUE(first.ok) << first.error;
  EXPECT_TRUE(first.full_sync);
  EXPECT_EQ(dc1_.dirsync_cookies(), (std::vector<std::string>{"", ""}))
      << "groups, then users, from no cookie";
  EXPECT_EQ(sink_.changes, (Changes{"add staff", "add alice", "add bob"}));
  const pb::Cursor after_first = *sink_.cursor;
  ASSERT_FALSE(after_first.dirsync_group_cookie().empty());
  ASSERT_FALSE(after_first.dirsync_cookie().empty());

  dc1_.set(bob_, "title", "Engineer");
  PassResult second = pass();
  ASSERT_TRUE(second.ok) << second.error;
  EXPECT_FALSE(second.full_sync);
  std::vector<std::string> sent = dc1_.dirsync_cookies();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[2], after_first.dirsync_group_cookie());
  EXPECT_EQ(sent[3], after_first.dirsync_cookie());
  EXPECT_EQ(sink_.changes, (Changes{"modify bob"}));
  EXPECT_EQ(committed_names(), std::vector<std::string>{"bob"});
  EXPECT_NE(sink_.cursor->dirsync_cookie(), after_first.dirsync_cookie());
}

TEST_F(DirSyncPollerTest, EachRoundGoesOnFromTheCookieOfTheLast) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  const pb::Cursor before = *sink_.cursor;
  dc1_.set_dirsync_round_size(1);
  for (const char* name : {"g1", "g2", "g3"}) dc1_.add_user(name);
  const size_t sent_before = dc1_.dirsync_cookies().size();
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  std::vector<std::string> sent = dc1_.dirsync_cookies();
  sent.erase(sent.begin(), sent.begin() + static_cast<std::ptrdiff_t>(sent_before));
  // One groups' round (nothing changed), then one users' round per user: 3 rounds, the first
  // from the stored cookie, each next from the one the last round answered.
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0], before.dirsync_group_cookie());
  EXPECT_EQ(sent[1], before.dirsync_cookie());
  EXPECT_EQ(sink_.changes, (Changes{"add g1", "add g2", "add g3"}));
  // Each round's objects are committed with the cookie that round answered.
  std::vector<std::string> committed;
  for (const auto& commit : sink_.commits) {
    if (committed.empty() || committed.back() != commit.cursor.dirsync_cookie()) {
      committed.push_back(commit.cursor.dirsync_cookie());
    }
  }
  EXPECT_EQ(committed,
            (std::vector<std::string>{sent[1], sent[2], sent[3], sink_.cursor->dirsync_cookie()}));
  EXPECT_NE(sent[2], sent[3]);
  EXPECT_NE(sink_.cursor->dirsync_cookie(), sent[3]);
}

TEST_F(DirSyncPollerTest, DcWithoutTheCookieOfAnotherRecordsNoUnchangedObject) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.add_user("gina");
  dc2_.replicate_from(dc1_);
  // DC1 dies on the users' round of the incremental pass (after the rootDSE, the NTDS
  // Settings, the domain head, the Partitions container and the groups' round).
  dc1_.fail_operation(6);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc2_.uri());
  EXPECT_FALSE(result.full_sync);
  // DC2 does not know DC1's cookies and sends everything: taken as partial objects equal to
  // what the store holds, only gina is new.
  EXPECT_EQ(sink_.changes, (Changes{"add gina"}));
  for (const auto& commit : sink_.commits) EXPECT_EQ(commit.cursor.controller(), dc2_.uri());
}

TEST_F(DirSyncPollerTest, CookieTheDcRefusesIsAFullResyncOnItInTheSamePass) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.add_user("gina");
  dc1_.set_refuse_cookies(true);
  sink_.changes.clear();
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc1_.uri()) << "the DC is fine; its answer to the cookie is not";
  EXPECT_TRUE(result.full_sync);
  EXPECT_EQ(sink_.changes, (Changes{"add gina"}));
  EXPECT_EQ(dc1_.dirsync_cookies().back(), "") << "read again from no cookie";
  dc1_.set_refuse_cookies(false);
  sink_.changes.clear();
  ASSERT_TRUE(pass().ok);
  EXPECT_EQ(sink_.changes, Changes{});
  EXPECT_FALSE(dc1_.dirsync_cookies().back().empty()) << "the new cookie is used";
}

// ---- the loop guards (loop_guard.hpp) ----------------------------------------------------------

TEST_F(DirSyncPollerTest, DirSyncThatAlwaysSaysMoreDataFailsThePassCommittingNothing) {
  options_.controllers = {dc1_.uri()};
  add_staff();
  ASSERT_TRUE(pass().ok);
  const pb::Cursor before = *sink_.cursor;
  dc1_.set_dirsync_stuck(true);
  dc1_.add_user("hugo");
  PassResult result = pass();
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.error.find(dc1_.uri() + ": DirSync asked for another round with the cookie "
                                           "it was sent (no progress)"),
            std::string::npos)
      << result.error;
  EXPECT_TRUE(committed_names().empty());
  EXPECT_TRUE(sink_.changes.empty());
  EXPECT_EQ(sink_.cursor->dirsync_cookie(), before.dirsync_cookie());
  // The first pass's two rounds; then the groups' stream fails on its first round, on the open
  // connection and once more on a fresh one (the first failure might have been a connection
  // closed while idle).
  EXPECT_EQ(dc1_.dirsync_cookies().size(), 2u + 1u + 1u);
}

TEST_F(PollerTest, RangedMembersAreFollowedToTheEnd) {
  options_.sync.member_range_step = 2;
  std::vector<std::string> members;
  for (const char* name : {"m1", "m2", "m3", "m4", "m5"}) members.push_back(dc1_.add_user(name));
  const std::string big = dc1_.add_group("big", members);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  const auto& stored = sink_.objects.at(big).members();
  EXPECT_EQ(std::set<std::string>(stored.begin(), stored.end()),
            std::set<std::string>(members.begin(), members.end()));
}

TEST_F(PollerTest, ServerDrivenRangesAreFollowedToTheEnd) {
  options_.sync.member_range_step = 0;  // plain `member`: the DC ranges it (MaxValRange)
  dc1_.set_max_val_range(2);
  std::vector<std::string> members;
  for (const char* name : {"m1", "m2", "m3", "m4", "m5"}) members.push_back(dc1_.add_user(name));
  const std::string big = dc1_.add_group("big", members);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(sink_.objects.at(big).members_size(), 5);
}

TEST_F(PollerTest, RangeThatNeverAdvancesFailsThePassWithoutCommittingTheGroup) {
  options_.controllers = {dc1_.uri()};
  options_.sync.member_range_step = 2;
  std::vector<std::string> members;
  for (const char* name : {"m1", "m2", "m3", "m4", "m5"}) members.push_back(dc1_.add_user(name));
  dc1_.add_group("big", members);
  dc1_.set_member_range_stuck(true);
  PassResult result = pass();
  EXPECT_FALSE(result.ok);
  EXPECT_EQ(result.error, dc1_.uri() + ": group CN=big,CN=Users,DC=example,DC=test: asked for "
                                       "member values from 2, got member;range=0-1 (a range "
                                       "already read)");
  EXPECT_TRUE(sink_.full_syncs.empty());
  for (const std::string& name : committed_names()) EXPECT_NE(name, "big");
  EXPECT_FALSE(sink_.cursor && sink_.cursor->full_sync_done());
}

// ---- the delete guard (delete_guard.hpp) -------------------------------------------------------

TEST_F(PollerTest, IncrementalPassOverMaxDeletesIsHeldUntilAllowed) {
  options_.sync.max_deletes = 2;
  add_staff();
  const std::string carol = dc1_.add_user("carol");
  ASSERT_TRUE(pass().ok);
  const int64_t usn_before = sink_.cursor->usn();
  dc1_.remove(alice_);
  dc1_.remove(bob_);
  dc1_.remove(carol);
  dc1_.add_user("ivan");

  PassResult held = pass();
  ASSERT_TRUE(held.ok) << held.error;
  EXPECT_EQ(held.held_back, 3u);
  EXPECT_TRUE(sink_.changes.empty()) << "nothing of the pass, not even ivan";
  ASSERT_EQ(sink_.commits.size(), 1u) << "only the hold";
  EXPECT_TRUE(sink_.commits[0].objects.empty());
  EXPECT_EQ(sink_.cursor->held_deletes(), 3);
  EXPECT_EQ(sink_.cursor->held_guids_size(), 3);
  EXPECT_EQ(sink_.cursor->usn(), usn_before) << "the cursor stays where it was";

  EXPECT_EQ(pass().held_back, 3u) << "held again by the next pass";

  sink_.allowed = 3;
  PassResult allowed = pass();
  ASSERT_TRUE(allowed.ok) << allowed.error;
  EXPECT_EQ(allowed.held_back, 0u);
  EXPECT_EQ(sink_.changes,
            (Changes{"delete alice", "delete bob", "delete carol", "modify staff", "add ivan"}));
  EXPECT_EQ(sink_.allowances_used, 1);
  EXPECT_EQ(sink_.cursor->held_deletes(), 0);
  EXPECT_EQ(sink_.cursor->usn(), dc1_.highest_usn());
}

TEST_F(PollerTest, FullResyncOverMaxDeletesIsHeldBeforeReadingObjects) {
  options_.sync.max_deletes = 2;
  add_staff();
  const std::string carol = dc1_.add_user("carol");
  ASSERT_TRUE(pass().ok);
  const pb::Cursor before = *sink_.cursor;
  dc1_.remove(alice_);
  dc1_.remove(bob_);
  dc1_.remove(carol);
  dc1_.restore_from_backup();  // a resync is due
  PassResult held = pass();
  ASSERT_TRUE(held.ok) << held.error;
  EXPECT_FALSE(held.full_sync) << "the prescan held it before it began";
  EXPECT_EQ(held.held_back, 3u);
  EXPECT_TRUE(sink_.changes.empty());
  EXPECT_TRUE(sink_.full_syncs.empty());
  EXPECT_TRUE(committed_names().empty());
  EXPECT_EQ(sink_.cursor->held_deletes(), 3);
  EXPECT_EQ(sink_.cursor->invocation_id(), before.invocation_id()) << "the cursor stays";
}

TEST_F(PollerTest, IncrementalPassWithinMaxDeletesCommits) {
  options_.sync.max_deletes = 2;
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.remove(alice_);
  dc1_.remove(bob_);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.held_back, 0u);
  EXPECT_EQ(sink_.changes, (Changes{"delete alice", "delete bob", "modify staff"}));
  EXPECT_EQ(sink_.allowances_used, 0);
}

// ---- stopping --------------------------------------------------------------------------------

TEST_F(PollerTest, StoppedBeforeAnyDcIsTriedCommitsNothing) {
  add_staff();
  std::atomic<bool> stop{true};
  PassResult result = poller().run_pass(stop);
  EXPECT_TRUE(result.stopped);
  EXPECT_FALSE(result.ok);
  EXPECT_TRUE(sink_.commits.empty());
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{});
}
}  // namespace
}  // namespace dirfeed::ldap::testing
