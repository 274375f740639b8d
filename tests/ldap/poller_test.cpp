// The poller's decisions (DomainPoller over ldap::Directory) against a scripted fake domain
// (fake_directory.hpp) and a sink that stores as the store does (recording_sink.hpp): full
// sync or incremental, resyncs on rollback, restore and change of DC, DirSync cookies,
// failover and backoff, the loop guards and the delete guard. Each test runs in milliseconds;
// how a real DC behaves is for the Samba tests (tests/integration/sync_test.cpp,
// failover_test.cpp, delete_guard_test.cpp, dsync_test.cpp).
#include "ldap/poller.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "tests/ldap/fake_directory.hpp"
#include "tests/ldap/recording_sink.hpp"

namespace dirfeed::ldap::testing {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public Clock {
 public:
  int64_t now_us() const override { return now_us_; }
  void advance(std::chrono::milliseconds by) { now_us_ += by.count() * 1000; }

 private:
  int64_t now_us_ = 1'700'000'000'000'000;
};

using Changes = std::vector<std::string>;

class PollerTest : public ::testing::Test {
 protected:
  PollerTest() : dc1_(domain_.add_dc("dc1")), dc2_(domain_.add_dc("dc2")) {
    options_.name = domain_.domain();
    options_.controllers = {dc1_.uri(), dc2_.uri()};
    options_.bind.dn = "svc-dirfeed@example.test";
    options_.sync.strategy = Strategy::kUsn;
    options_.sync.page_size = 2;
  }

  // The poller, made on first use (so that a test may change options_ before).
  DomainPoller& poller() {
    if (!poller_) {
      poller_ = std::make_unique<DomainPoller>(options_, sink_, clock_, domain_.opener());
    }
    return *poller_;
  }

  // One pass; the records of the sink and the DCs opened are those of this pass only.
  PassResult pass() {
    sink_.clear_records();
    domain_.take_opened();
    std::atomic<bool> stop{false};
    return poller().run_pass(stop);
  }

  // alice and bob, and the group staff of both, on DC1; the two DCs replicate both ways.
  void add_staff() {
    alice_ = dc1_.add_user("alice");
    bob_ = dc1_.add_user("bob");
    staff_ = dc1_.add_group("staff", {alice_, bob_});
    dc2_.replicate_from(dc1_);
    dc1_.replicate_from(dc2_);
  }

  // The objects of every page committed in the last pass, by name.
  std::vector<std::string> committed_names() const {
    std::vector<std::string> names;
    for (const auto& commit : sink_.commits) {
      for (const auto& observed : commit.objects) {
        names.push_back(observed.object().sam_account_name());
      }
    }
    return names;
  }

  FakeDomain domain_;
  FakeDc& dc1_;
  FakeDc& dc2_;
  FakeClock clock_;
  RecordingSink sink_;
  DomainOptions options_;
  std::unique_ptr<DomainPoller> poller_;
  std::string alice_, bob_, staff_;
};

// ---- usn: what a pass reads ------------------------------------------------------------------

TEST_F(PollerTest, FirstPassIsAFullSyncOfGroupsThenUsers) {
  add_staff();
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.full_sync);
  EXPECT_EQ(result.controller, dc1_.uri());
  EXPECT_EQ(result.objects, 3u);
  EXPECT_EQ(sink_.changes, (Changes{"add staff", "add alice", "add bob"}));
  ASSERT_EQ(sink_.full_syncs.size(), 1u);
  EXPECT_EQ(sink_.full_syncs[0].seen, (GuidSet{alice_, bob_, staff_}));
  EXPECT_EQ(sink_.objects.at(staff_).members_size(), 2);
  EXPECT_EQ(sink_.objects.at(alice_).object().netbios_domain(), "EXAMPLE")
      << "read from the Partitions crossRef";
  EXPECT_EQ(sink_.objects.at(alice_).primary_group_sid(), "S-1-5-21-1111-2222-3333-513");
  ASSERT_TRUE(sink_.cursor);
  const pb::Cursor& cursor = *sink_.cursor;
  EXPECT_EQ(cursor.strategy(), "usn");
  EXPECT_TRUE(cursor.full_sync_done());
  EXPECT_EQ(cursor.usn(), dc1_.highest_usn());
  EXPECT_EQ(cursor.ds_service_name(), dc1_.ds_service_name());
  EXPECT_EQ(cursor.invocation_id(), dc1_.invocation_id());
  EXPECT_EQ(cursor.controller(), dc1_.uri());
  EXPECT_EQ(cursor.domain_sid(), "S-1-5-21-1111-2222-3333");
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{dc1_.uri()});
}

TEST_F(PollerTest, IncrementalPassReadsOnlyWhatChangedSinceTheCursorsUsn) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.set(alice_, "title", "Boss");
  const std::string carol = dc1_.add_user("carol");
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_FALSE(result.full_sync);
  EXPECT_EQ(result.objects, 2u) << "alice and carol; bob and staff did not change";
  EXPECT_EQ(committed_names(), (std::vector<std::string>{"alice", "carol"}));
  EXPECT_EQ(sink_.changes, (Changes{"modify alice", "add carol"}));
  EXPECT_TRUE(sink_.full_syncs.empty());
  EXPECT_EQ(sink_.objects.at(alice_).object().title(), "Boss");
  EXPECT_EQ(sink_.cursor->usn(), dc1_.highest_usn());
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{}) << "the connection is reused";
  EXPECT_EQ(dc1_.opens(), 1);
}

TEST_F(PollerTest, PassWithNothingChangedCommitsOnlyTheCursor) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_FALSE(result.full_sync);
  EXPECT_EQ(result.objects, 0u);
  ASSERT_EQ(sink_.commits.size(), 1u);
  EXPECT_TRUE(sink_.commits[0].objects.empty());
  EXPECT_TRUE(sink_.changes.empty());
}

TEST_F(PollerTest, TombstoneIsADeleteBeforeTheGroupItLeft) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.remove(bob_);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_FALSE(result.full_sync);
  EXPECT_EQ(sink_.changes, (Changes{"delete bob", "modify staff"}));
  EXPECT_EQ(sink_.objects.at(staff_).members_size(), 1);
  EXPECT_FALSE(sink_.objects.contains(bob_));
}

// ---- usn: when the cursor cannot be trusted ----------------------------------------------------

TEST_F(PollerTest, UsnRollbackOnTheSameDcIsAFullResync) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  const int64_t before_dave = dc1_.highest_usn();
  dc1_.add_user("dave");
  ASSERT_TRUE(pass().ok);
  ASSERT_EQ(sink_.changes, (Changes{"add dave"}));
  // A VM snapshot reverted: the DC lost dave and counts from an older USN, under the same
  // invocationId. An incremental pass from the cursor's USN would miss every change it makes
  // until it passes that USN again.
  dc1_.roll_back_to(before_dave);
  ASSERT_LT(dc1_.highest_usn(), sink_.cursor->usn());
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.full_sync);
  EXPECT_EQ(sink_.changes, (Changes{"delete dave"})) << "unchanged objects record nothing";
  EXPECT_EQ(sink_.cursor->usn(), before_dave);
}

TEST_F(PollerTest, InvocationIdChangeIsAFullResync) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  const std::string old_invocation = dc1_.invocation_id();
  dc1_.restore_from_backup();
  dc1_.set(bob_, "title", "restored");
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_TRUE(result.full_sync);
  EXPECT_EQ(sink_.changes, (Changes{"modify bob"}));
  EXPECT_NE(sink_.cursor->invocation_id(), old_invocation);
  EXPECT_EQ(sink_.cursor->invocation_id(), dc1_.invocation_id());
}

TEST_F(PollerTest, ChangeOfDcIsAResyncThatRecordsNoUnchangedObject) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.set_down(true);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc2_.uri());
  EXPECT_TRUE(result.full_sync) << "DC2's USNs say nothing about DC1's";
  EXPECT_EQ(domain_.take_opened(), (std::vector<std::string>{dc1_.uri(), dc2_.uri()}));
  // Every object handed over again, complete and as the store holds it: nothing to record,
  // nothing deleted.
  EXPECT_EQ(committed_names(), (std::vector<std::string>{"staff", "alice", "bob"}));
  for (const auto& commit : sink_.commits) {
    EXPECT_EQ(commit.cursor.controller(), dc2_.uri());
    for (const auto& observed : commit.objects) EXPECT_FALSE(observed.partial());
  }
  EXPECT_TRUE(sink_.changes.empty()) << sink_.changes.front();
  ASSERT_EQ(sink_.full_syncs.size(), 1u);
  EXPECT_EQ(sink_.full_syncs[0].seen, (GuidSet{alice_, bob_, staff_}));
  EXPECT_TRUE(sink_.full_syncs[0].how.deletes_confirmed) << "DC2 replicated all of DC1";
  EXPECT_EQ(sink_.cursor->ds_service_name(), dc2_.ds_service_name());
  EXPECT_EQ(sink_.cursor->usn(), dc2_.highest_usn());
  ASSERT_EQ(sink_.cursor->controller_problems_size(), 1);
  EXPECT_EQ(sink_.cursor->controller_problems(0).uri(), dc1_.uri());
}

TEST_F(PollerTest, ResyncOnADcThatIsBehindKeepsWhatItLacksUnconfirmed) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.add_user("erin");  // not replicated to DC2
  ASSERT_TRUE(pass().ok);
  dc1_.set_down(true);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc2_.uri());
  EXPECT_EQ(result.unconfirmed, 1u);
  EXPECT_TRUE(sink_.changes.empty()) << "erin is not deleted: " << sink_.changes.front();
  ASSERT_EQ(sink_.full_syncs.size(), 1u);
  EXPECT_FALSE(sink_.full_syncs[0].how.deletes_confirmed);
  EXPECT_NE(sink_.cursor->unconfirmed_reason().find(dc2_.uri() + " has not replicated"),
            std::string::npos)
      << sink_.cursor->unconfirmed_reason();
}

// ---- failover and backoff --------------------------------------------------------------------

TEST_F(PollerTest, DcFailingMidPassFailsOverInOrderAndCommitsNothingPartial) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  for (const char* name : {"u1", "u2", "u3", "u4"}) dc1_.add_user(name);
  dc2_.replicate_from(dc1_);
  // An incremental pass on DC1 reads the rootDSE, the NTDS Settings, the domain head, the
  // Partitions container, then the changes in pages of 2: DC1 dies on the second page.
  dc1_.fail_operation(6);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc2_.uri());
  EXPECT_EQ(domain_.take_opened(), (std::vector<std::string>{dc1_.uri(), dc2_.uri()}))
      << "the open connection to DC1 failed, so did a fresh one; DC2 is next in order";
  for (const auto& commit : sink_.commits) {
    EXPECT_EQ(commit.cursor.controller(), dc2_.uri()) << "nothing of DC1's pass is committed";
  }
  EXPECT_EQ(sink_.changes, (Changes{"add u1", "add u2", "add u3", "add u4"}))
      << "each once, from DC2's resync";
  ASSERT_EQ(sink_.cursor->controller_problems_size(), 1);
  EXPECT_EQ(sink_.cursor->controller_problems(0).uri(), dc1_.uri());
  EXPECT_NE(sink_.cursor->controller_problems(0).problem().find("Can't contact LDAP server"),
            std::string::npos);
}

TEST_F(PollerTest, FailedDcIsNotTriedUntilItsBackoffEndsThenPreferredAgain) {
  add_staff();
  dc1_.set_down(true);
  ASSERT_EQ(pass().controller, dc2_.uri());
  dc1_.set_down(false);

  clock_.advance(network_backoff(1) - 1ms);
  PassResult during = pass();
  ASSERT_TRUE(during.ok) << during.error;
  EXPECT_EQ(during.controller, dc2_.uri());
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{}) << "DC1 backs off; DC2 reused";

  clock_.advance(1ms);
  PassResult after = pass();
  ASSERT_TRUE(after.ok) << after.error;
  EXPECT_EQ(after.controller, dc1_.uri());
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{dc1_.uri()});
  EXPECT_TRUE(after.full_sync) << "back on DC1 with usn: a resync";
  EXPECT_TRUE(sink_.changes.empty()) << "that records nothing: " << sink_.changes.front();
  for (const ControllerState& state : poller().controllers()) {
    EXPECT_EQ(state.failures, 0) << state.uri;
  }
}

TEST_F(PollerTest, RefusedBindBacksOffForTheCredentialBackoffNotTheNetworkOne) {
  add_staff();
  dc1_.set_refuse_bind(true);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc2_.uri());
  ASSERT_EQ(sink_.cursor->controller_problems_size(), 1);
  EXPECT_TRUE(sink_.cursor->controller_problems(0).bind_refused());
  EXPECT_EQ(sink_.cursor->controller_problems(0).problem(), "wrong password for svc-dirfeed");

  clock_.advance(network_backoff(1));
  pass();
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{})
      << "one failed logon per credential backoff, not per network backoff";
  clock_.advance(kCredentialBackoff - network_backoff(1));
  pass();
  // DC1 again once its backoff ends; it refuses again, and DC2 serves on a new connection
  // (the attempt on DC1 replaced the poller's connection to DC2).
  EXPECT_EQ(domain_.take_opened(), (std::vector<std::string>{dc1_.uri(), dc2_.uri()}));
}

TEST_F(PollerTest, EveryDcDownFailsNamingTheLastThenWaitsWithoutTrying) {
  add_staff();
  dc1_.set_down(true);
  dc2_.set_down(true);
  PassResult failed = pass();
  EXPECT_FALSE(failed.ok);
  EXPECT_FALSE(failed.waiting);
  EXPECT_EQ(failed.controller, dc2_.uri());
  EXPECT_NE(failed.error.find(dc2_.uri()), std::string::npos) << failed.error;
  EXPECT_EQ(domain_.take_opened(), (std::vector<std::string>{dc1_.uri(), dc2_.uri()}));

  PassResult waiting = pass();
  EXPECT_FALSE(waiting.ok);
  EXPECT_TRUE(waiting.waiting);
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{});
  EXPECT_NE(waiting.error.find("next try in 5 s"), std::string::npos) << waiting.error;
}

TEST_F(PollerTest, ConnectionClosedWhileIdleIsReopenedOnTheSameDcWithoutFailingIt) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.close_connections();
  dc1_.add_user("frank");
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc1_.uri());
  EXPECT_FALSE(result.full_sync);
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{dc1_.uri()});
  EXPECT_EQ(sink_.changes, (Changes{"add frank"}));
  EXPECT_EQ(poller().controllers()[0].failures, 0);
}

// ---- DirSync ---------------------------------------------------------------------------------

class DirSyncPollerTest : public PollerTest {
 protected:
  DirSyncPollerTest() { options_.sync.strategy = Strategy::kDirSync; }
};

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
