// The poller's decisions (DomainPoller over ldap::Directory) against a scripted fake domain
// (fake_directory.hpp) and a sink that stores as the store does (recording_sink.hpp): full
// sync or incremental, resyncs on rollback, restore and change of DC, failover and backoff.
// DirSync cookies and the guards are in poller_guards_test.cpp. Each test runs in
// milliseconds; how a real DC behaves is for the Samba tests (tests/integration/sync_test.cpp,
// failover_test.cpp, delete_guard_test.cpp, dsync_test.cpp).
#include <gtest/gtest.h>

#include <fstream>

#include "tests/ldap/poller_fixture.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::ldap::testing {
namespace {

using namespace std::chrono_literals;

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

TEST_F(PollerTest, RefusingDcIsTriedAtOnceWhenThePasswordFileChanges) {
  dirfeed::testing::TempDir dir;
  options_.bind.password_file = dir.path() + "/password";
  std::ofstream(options_.bind.password_file) << "old\n";
  add_staff();
  dc1_.set_refuse_bind(true);
  ASSERT_EQ(pass().controller, dc2_.uri());
  ASSERT_EQ(pass().controller, dc2_.uri());
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{}) << "not while the file is the same";
  std::ofstream(options_.bind.password_file) << "new\n";
  dc1_.set_refuse_bind(false);
  PassResult result = pass();
  ASSERT_TRUE(result.ok) << result.error;
  EXPECT_EQ(result.controller, dc1_.uri()) << "no clock moved: the new password ended the backoff";
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

// A store that refuses a write is not the DC's fault: the pass ends at once without trying
// DC2, no DC backs off, and the next pass (the store back) goes on on DC1 from the cursor that
// did not move, losing nothing.
TEST_F(PollerTest, StoreFailureBlamesNoDcAndLosesNothing) {
  add_staff();
  ASSERT_TRUE(pass().ok);
  dc1_.add_user("gina");
  sink_.fail_commits = true;
  PassResult failed = pass();
  EXPECT_FALSE(failed.ok);
  EXPECT_TRUE(failed.store_failed);
  EXPECT_EQ(failed.controller, dc1_.uri());
  EXPECT_EQ(failed.error, "domain example.test: writing to the store failed");
  EXPECT_EQ(domain_.take_opened(), std::vector<std::string>{}) << "DC2 not tried";
  for (const ControllerState& state : poller().controllers()) {
    EXPECT_EQ(state.failures, 0) << state.uri;
  }

  sink_.fail_commits = false;
  PassResult next = pass();
  ASSERT_TRUE(next.ok) << next.error;
  EXPECT_EQ(next.controller, dc1_.uri());
  EXPECT_EQ(sink_.changes, (Changes{"add gina"}));
}

}  // namespace
}  // namespace dirfeed::ldap::testing
