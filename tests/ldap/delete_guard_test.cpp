// The delete guard's bookkeeping (ldap/delete_guard.hpp) with a sink that records commits;
// the guard against a real DC is tests/integration/delete_guard_test.cpp.
#include "ldap/delete_guard.hpp"

#include <gtest/gtest.h>

#include <set>

namespace dirfeed::ldap {
namespace {

// Knows the GUIDs in `known`; records the pages committed.
class RecordingSink final : public PassSink {
 public:
  std::set<std::string> known;
  std::vector<size_t> committed;  // page sizes, in order
  bool fail = false;

  std::optional<pb::Cursor> load_cursor(const std::string&) override { return std::nullopt; }
  bool commit_page(const std::string&, const std::vector<pb::ObservedObject>& objects,
                   const pb::Cursor&) override {
    if (fail) return false;
    committed.push_back(objects.size());
    return true;
  }
  bool finish_full_sync(const std::string&, const GuidSet&, const pb::Cursor&, const Reconcile&,
                        ReconcileResult&) override {
    return true;
  }
  size_t deletes_allowed(const std::string&) override { return 0; }
  void allowance_used(const std::string&) override {}
  std::vector<std::string> known_objects(const std::string&,
                                         const std::vector<std::string>& guids) override {
    std::vector<std::string> out;
    for (const std::string& guid : guids) {
      if (known.contains(guid)) out.push_back(guid);
    }
    return out;
  }
  std::optional<size_t> unseen_objects(const std::string&, const GuidSet&, size_t,
                                       std::vector<std::string>&) override {
    return 0;
  }
};

pb::ObservedObject observed(char id, bool deleted) {
  pb::ObservedObject object;
  object.mutable_object()->set_guid(std::string(16, id));
  object.set_deleted(deleted);
  return object;
}

TEST(DeleteGuardTest, CountsOnlyDeletesOfKnownObjectsAndCommitsPagesInOrder) {
  RecordingSink sink;
  sink.known = {std::string(16, 'a'), std::string(16, 'b')};
  DeleteGuard guard(sink, "example.test");
  guard.keep({observed('a', true), observed('x', true), observed('c', false)}, pb::Cursor());
  guard.keep({observed('b', true)}, pb::Cursor());
  guard.keep({}, pb::Cursor());
  EXPECT_EQ(guard.deletes(), 2u) << "x is a tombstone of an object the store never had";
  EXPECT_EQ(guard.listed(), (std::vector<std::string>{std::string(16, 'a'), std::string(16, 'b')}));
  EXPECT_TRUE(sink.committed.empty()) << "nothing before the pass ends";
  EXPECT_FALSE(guard.overflowed());
  ASSERT_TRUE(guard.commit());
  EXPECT_EQ(sink.committed, (std::vector<size_t>{3, 1, 0}));
}

TEST(DeleteGuardTest, PastItsBoundItOnlyCounts) {
  RecordingSink sink;
  sink.known = {std::string(16, 'a'), std::string(16, 'b')};
  DeleteGuard guard(sink, "example.test", /*max_kept=*/2);
  guard.keep({observed('a', true), observed('c', false)}, pb::Cursor());
  EXPECT_FALSE(guard.overflowed());
  guard.keep({observed('b', true)}, pb::Cursor());
  EXPECT_TRUE(guard.overflowed());
  EXPECT_EQ(guard.deletes(), 2u) << "still counted";
}

TEST(DeleteGuardTest, ACommitThatFailsSaysSo) {
  RecordingSink sink;
  sink.fail = true;
  DeleteGuard guard(sink, "example.test");
  guard.keep({observed('c', false)}, pb::Cursor());
  EXPECT_FALSE(guard.commit());
}

TEST(DeleteGuardTest, LimitIsTheCountOrThePercentWhicheverIsLowerRaisedByTheAllowance) {
  SyncOptions sync;
  sync.max_deletes = 500;
  EXPECT_EQ(delete_limit(sync, 100, 0), 500u);
  sync.max_delete_percent = 10;
  EXPECT_EQ(delete_limit(sync, 1000, 0), 100u);
  EXPECT_EQ(delete_limit(sync, 100'000, 0), 500u);
  EXPECT_EQ(delete_limit(sync, 1000, 700), 700u);
}

TEST(DeleteGuardTest, TheLimitsWordsNameTheSettingThatMadeIt) {
  SyncOptions sync;
  sync.max_deletes = 500;
  EXPECT_EQ(delete_limit_words(sync, 1000), "sync.max_deletes (500)");
  sync.max_delete_percent = 10;
  EXPECT_EQ(delete_limit_words(sync, 1000), "sync.max_delete_percent (10% of 1000 objects)");
  EXPECT_EQ(delete_limit_words(sync, 100'000), "sync.max_deletes (500)");
}

TEST(DeleteGuardTest, AHoldKeepsWhenItBegan) {
  pb::Cursor cursor;
  record_hold(cursor, 7, {std::string(16, 'a')}, "why", 100);
  EXPECT_EQ(cursor.held_since_us(), 100);
  record_hold(cursor, 9, {}, "again", 200);
  EXPECT_EQ(cursor.held_since_us(), 100);
  EXPECT_EQ(cursor.held_deletes(), 9);
  EXPECT_EQ(cursor.held_guids_size(), 0);
  clear_hold(cursor);
  EXPECT_EQ(cursor.held_deletes(), 0);
  EXPECT_EQ(cursor.held_since_us(), 0);
}

}  // namespace
}  // namespace dirfeed::ldap
