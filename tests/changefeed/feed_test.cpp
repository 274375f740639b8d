// Feed numbering, queries, cursors, full-sync reconciliation and durability across reopen.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include "changefeed/keys.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

using Lines = std::vector<std::string>;

// ---- numbering ---------------------------------------------------------------------------

TEST_F(StoreTest, SequencesAreGapFreeAndTimestampsStrictlyIncrease) {
  const int64_t start = clock_.now_us();
  apply({user("alice"), user("bob"), group("staff", {"alice", "bob"})});
  apply({user("carol")});   // the clock has not moved
  clock_.advance(-60'000'000);  // nor does a clock going back move timestamps back
  apply({deleted("bob")});
  clock_.advance(3'600'000'000);
  apply({deleted("carol")});

  const std::vector<pb::Change> changes = changes_after(0);
  // 3 ADDs + 2 MEMBERSHIP ADDs, carol's ADD, bob's DELETE + MEMBERSHIP DELETE, carol's DELETE
  ASSERT_EQ(changes.size(), 9u);
  EXPECT_EQ(changes.front().timestamp_us(), start);
  for (size_t i = 0; i < changes.size(); ++i) {
    EXPECT_EQ(changes[i].sequence(), i + 1);
    if (i > 0) {
      EXPECT_GT(changes[i].timestamp_us(), changes[i - 1].timestamp_us());
    }
  }
  EXPECT_EQ(changes.back().timestamp_us(), clock_.now_us()) << "catches up with the clock";
  EXPECT_EQ(store_->last_sequence(), 9u);
}

TEST_F(StoreTest, EmptyStoreHasEmptyFeed) {
  EXPECT_EQ(store_->last_sequence(), 0u);
  EXPECT_FALSE(store_->cursor(kDomain));
  EXPECT_EQ(describe_after(0), Lines());
}

// ---- cursors and durability --------------------------------------------------------------

TEST_F(StoreTest, CursorIsStoredWithThePage) {
  pb::Cursor cursor = cursor_for(kDomain, 4711);
  cursor.set_dirsync_cookie(std::string("\x00\x01\x02", 3));
  ASSERT_TRUE(store_->apply_page(kDomain, {user("alice")}, cursor).is_ok());

  std::optional<pb::Cursor> stored_cursor = store_->cursor("EXAMPLE.test");
  ASSERT_TRUE(stored_cursor);
  EXPECT_EQ(stored_cursor->SerializeAsString(), cursor.SerializeAsString());
  EXPECT_FALSE(store_->cursor("other.test"));

  // A page with no change still moves the cursor.
  ASSERT_TRUE(store_->apply_page(kDomain, {}, cursor_for(kDomain, 4712)).is_ok());
  EXPECT_EQ(store_->cursor(kDomain)->usn(), 4712);
}

TEST_F(StoreTest, ReopenKeepsEverythingAndReapplyProducesNothing) {
  const std::vector<pb::ObservedObject> page = {group("domain-users", {}),
                                                user("alice", "domain-users"), user("bob"),
                                                group("staff", {"alice", "bob"})};
  apply(page);
  const uint64_t last = store_->last_sequence();
  const int64_t last_time = changes_after(last - 1).at(0).timestamp_us();

  reopen();
  EXPECT_EQ(store_->last_sequence(), last);
  ASSERT_TRUE(store_->cursor(kDomain));
  EXPECT_EQ(store_->cursor(kDomain)->strategy(), "usn");
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users", "staff"}));
  EXPECT_EQ(members_of("domain-users"), Lines({"alice"}));

  clock_.advance(-1'000);
  EXPECT_EQ(apply(page), Lines());
  EXPECT_EQ(apply({deleted("bob")}),
            Lines({"DELETE USER bob", "MEMBERSHIP DELETE bob->staff"}));
  const std::vector<pb::Change> after_reopen = changes_after(last);
  EXPECT_EQ(after_reopen.front().sequence(), last + 1);
  EXPECT_GT(after_reopen.front().timestamp_us(), last_time);
}

TEST(StoreOpenTest, MissingDirectoriesAreCreatedOwnerOnlyWhateverTheUmask) {
  dirfeed::testing::TempDir temp;
  const std::string state_dir = temp.path() + "/state";
  const mode_t saved = ::umask(0);  // the laxest umask an admin's shell could have
  ManualClock clock;
  std::string error;
  std::unique_ptr<Store> store = Store::open({state_dir + "/feed"}, clock, &error);
  ::umask(saved);
  ASSERT_NE(store, nullptr) << error;
  for (const std::string& dir : {state_dir, state_dir + "/feed"}) {
    struct stat st {};
    ASSERT_EQ(::stat(dir.c_str(), &st), 0) << dir;
    EXPECT_EQ(st.st_mode & 07777, 0700u) << dir;
  }
  // An existing directory keeps its mode (systemd's StateDirectoryMode=0750).
  store.reset();
  ASSERT_EQ(::chmod(state_dir.c_str(), 0750), 0);
  store = Store::open({state_dir + "/feed"}, clock, &error);
  ASSERT_NE(store, nullptr) << error;
  struct stat st {};
  ASSERT_EQ(::stat(state_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
}

TEST_F(StoreTest, PruneDropsOnlyEntriesOlderThanTheCutoff) {
  apply({user("alice"), user("bob")});  // 1, 2
  clock_.advance(10'000'000);
  const int64_t cutoff = clock_.now_us();
  apply({user("carol")});  // 3
  uint64_t dropped = 0;
  ASSERT_TRUE(store_->prune_feed(cutoff, &dropped).is_ok());
  EXPECT_EQ(dropped, 2u);
  std::vector<uint64_t> left;
  for (const pb::Change& change : changes_after(0)) left.push_back(change.sequence());
  EXPECT_EQ(left, std::vector<uint64_t>({3}));
  std::vector<uint64_t> by_time;
  store_->changes_after_time(0, {}, [&](const pb::Change& change) {
    by_time.push_back(change.sequence());
    return true;
  });
  EXPECT_EQ(by_time, std::vector<uint64_t>({3})) << "the time index is pruned too";
  EXPECT_EQ(store_->last_sequence(), 3u) << "numbering goes on";
  EXPECT_TRUE(store_->object_by_guid(guid("alice"))) << "objects stay";
  ASSERT_TRUE(store_->prune_feed(cutoff, &dropped).is_ok());
  EXPECT_EQ(dropped, 0u);
  apply({user("dave")});
  EXPECT_EQ(changes_after(0).back().sequence(), 4u);
}

// ---- full sync ---------------------------------------------------------------------------

TEST_F(StoreTest, FinishFullSyncDeletesUnseenObjectsOfTheDomain) {
  apply({user("alice"), user("bob"), group("staff", {"alice", "bob"})});
  apply({user("zed")}, "other.test");
  CommitStats stats;

  EXPECT_EQ(finish({"alice", "staff"}, 10, &stats),
            Lines({"DELETE USER bob", "MEMBERSHIP DELETE bob->staff"}));
  EXPECT_EQ(stats.changes, 2u);
  EXPECT_EQ(stats.held_back, 0u);
  EXPECT_FALSE(store_->object_by_guid(guid("bob")));
  EXPECT_TRUE(store_->object_by_guid(guid("zed"))) << "other domains are not reconciled";
  EXPECT_EQ(members_of("staff"), Lines({"alice"}));
  EXPECT_EQ(store_->cursor(kDomain)->usn(), 99);
}

TEST_F(StoreTest, FinishFullSyncHoldsBackTooManyDeletes) {
  apply({user("alice"), user("bob"), user("carol")});
  CommitStats stats;

  EXPECT_EQ(finish({"alice"}, 1, &stats), Lines());
  EXPECT_EQ(stats.held_back, 2u);
  EXPECT_TRUE(store_->object_by_guid(guid("bob")));
  EXPECT_TRUE(store_->object_by_guid(guid("carol")));
  EXPECT_EQ(store_->cursor(kDomain)->usn(), 99) << "the cursor is stored either way";

  EXPECT_EQ(finish({"alice"}, 2, &stats), Lines({"DELETE USER bob", "DELETE USER carol"}));
  EXPECT_EQ(stats.held_back, 0u);
}

TEST_F(StoreTest, FinishFullSyncFromABehindDcKeepsUnseenObjectsAsUnconfirmed) {
  apply({user("alice"), user("bob"), group("staff", {"alice", "bob"})});
  CommitStats stats;

  EXPECT_EQ(finish({"alice", "staff"}, 10, &stats, /*confirmed=*/false), Lines())
      << "nothing is deleted";
  EXPECT_EQ(stats.unconfirmed, 1u);
  EXPECT_EQ(stats.changes, 0u);
  EXPECT_TRUE(store_->object_by_guid(guid("bob")));
  EXPECT_EQ(members_of("staff"), Lines({"alice", "bob"}));
  std::optional<pb::Cursor> cursor = store_->cursor(kDomain);
  ASSERT_TRUE(cursor);
  ASSERT_EQ(cursor->unconfirmed_size(), 1);
  EXPECT_EQ(cursor->unconfirmed(0), guid("bob"));
  EXPECT_EQ(cursor->usn(), 99);

  // A later full sync that sees bob again confirms him: the list is emptied, nothing recorded.
  EXPECT_EQ(finish({"alice", "bob", "staff"}, 10, &stats), Lines());
  EXPECT_EQ(store_->cursor(kDomain)->unconfirmed_size(), 0);

  // One that is confirmed and does not see him deletes him.
  finish({"alice", "staff"}, 10, &stats, /*confirmed=*/false);
  EXPECT_EQ(finish({"alice", "staff"}, 10, &stats),
            Lines({"DELETE USER bob", "MEMBERSHIP DELETE bob->staff"}));
  EXPECT_EQ(store_->cursor(kDomain)->unconfirmed_size(), 0);
}

// ---- queries -----------------------------------------------------------------------------

TEST_F(StoreTest, ObjectsListsByKindAndDomainInGuidOrder) {
  apply({user("alice"), group("staff", {}), user("bob")});
  apply({user("zed")}, "other.test");

  auto list = [&](pb::ObjectKind kind, const std::string& domain) {
    Lines names;
    store_->objects(kind, domain, [&](const pb::DirectoryObject& object) {
      names.push_back(name_of(object.guid()));
      return true;
    });
    return names;
  };
  EXPECT_EQ(list(pb::USER, kDomain), Lines({"alice", "bob"}));
  EXPECT_EQ(list(pb::USER, "Example.Test"), Lines({"alice", "bob"}));
  EXPECT_EQ(list(pb::GROUP, kDomain), Lines({"staff"}));
  EXPECT_EQ(list(pb::USER, ""), Lines({"alice", "bob", "zed"}));
  EXPECT_EQ(list(pb::USER, "other.test"), Lines({"zed"}));

  Lines first;
  store_->objects(pb::USER, "", [&](const pb::DirectoryObject& object) {
    first.push_back(name_of(object.guid()));
    return false;
  });
  EXPECT_EQ(first, Lines({"alice"})) << "the visitor stops the walk";
}

TEST_F(StoreTest, ObjectsAfterResumesAListingAfterAGuid) {
  apply({user("alice"), group("staff", {}), user("bob"), user("carol")});
  apply({user("zed")}, "other.test");
  auto after = [&](const std::string& domain, const std::string& from) {
    Lines names;
    store_->objects_after(pb::USER, domain, from.empty() ? "" : guid(from),
                          [&](const pb::DirectoryObject& object) {
                            names.push_back(name_of(object.guid()));
                            return true;
                          });
    return names;
  };
  EXPECT_EQ(after(kDomain, ""), Lines({"alice", "bob", "carol"}));
  EXPECT_EQ(after(kDomain, "alice"), Lines({"bob", "carol"}));
  EXPECT_EQ(after(kDomain, "carol"), Lines());
  EXPECT_EQ(after("", "bob"), Lines({"carol", "zed"}));
  EXPECT_EQ(after("", "staff"), Lines({"bob", "carol", "zed"})) << "a group's GUID is a position too";
}

TEST_F(StoreTest, FeedQueriesFilterAndLimit) {
  apply({user("alice"), group("staff", {})});  // 1 ADD alice, 2 ADD staff
  apply({group("staff", {"alice"})});  // 3 MEMBERSHIP ADD, 4 MODIFY alice, 5 MODIFY staff
  clock_.advance(1'000'000);
  apply({user("bob")});  // 6 ADD

  auto query = [](std::optional<pb::ObjectKind> kind, std::optional<bool> from_directory,
                  size_t limit = SIZE_MAX) {
    FeedQuery result;
    result.kind = kind;
    result.from_directory = from_directory;
    result.limit = limit;
    return result;
  };
  auto sequences = [&](uint64_t after, const FeedQuery& query) {
    std::vector<uint64_t> result;
    for (const pb::Change& change : changes_after(after, query)) {
      result.push_back(change.sequence());
    }
    return result;
  };
  using Seqs = std::vector<uint64_t>;
  EXPECT_EQ(sequences(0, {}), Seqs({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(sequences(3, {}), Seqs({4, 5, 6}));
  EXPECT_EQ(sequences(6, {}), Seqs());
  EXPECT_EQ(sequences(0, query(pb::USER, std::nullopt)), Seqs({1, 4, 6}));
  EXPECT_EQ(sequences(0, query(pb::MEMBERSHIP, std::nullopt)), Seqs({3}));
  EXPECT_EQ(sequences(0, query(pb::USER, std::nullopt, 2)), Seqs({1, 4}));
  EXPECT_EQ(sequences(0, query(std::nullopt, false)), Seqs());
  EXPECT_EQ(sequences(0, query(std::nullopt, true, 1)), Seqs({1}));
  EXPECT_EQ(sequences(0, query(std::nullopt, std::nullopt, 0)), Seqs());

  const std::vector<pb::Change> all = changes_after(0);
  auto after_time = [&](int64_t after_us, const FeedQuery& query) {
    Seqs result;
    store_->changes_after_time(after_us, query, [&](const pb::Change& change) {
      result.push_back(change.sequence());
      return true;
    });
    return result;
  };
  EXPECT_EQ(after_time(0, {}), Seqs({1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(after_time(all[1].timestamp_us(), {}), Seqs({3, 4, 5, 6}));
  EXPECT_EQ(after_time(all[3].timestamp_us(), {}), Seqs({5, 6}));
  EXPECT_EQ(after_time(all[5].timestamp_us(), {}), Seqs());
  EXPECT_EQ(after_time(all[0].timestamp_us(), query(pb::GROUP, std::nullopt)), Seqs({2, 5}));
  EXPECT_EQ(after_time(0, query(pb::USER, std::nullopt, 1)), Seqs({1}));
}

TEST_F(StoreTest, FeedVisitorStopsEarly) {
  apply({user("alice"), user("bob"), user("carol")});
  size_t visited = 0;
  store_->changes_after_sequence(0, {}, [&](const pb::Change&) { return ++visited < 2; });
  EXPECT_EQ(visited, 2u);
  visited = 0;
  store_->changes_after_time(0, {}, [&](const pb::Change&) { return ++visited < 1; });
  EXPECT_EQ(visited, 1u);
}

TEST_F(StoreTest, MembersOfUnknownOrNonGroupIsEmpty) {
  apply({user("alice")});
  EXPECT_EQ(members_of("alice"), Lines());
  EXPECT_EQ(members_of("nobody"), Lines());
}

// ---- key encoding ------------------------------------------------------------------------

TEST(KeysTest, TimeKeysSortByTimestampThenSequence) {
  EXPECT_LT(keys::time(-5, 9), keys::time(3, 1));
  EXPECT_LT(keys::time(3, 1), keys::time(3, 2));
  EXPECT_LT(keys::time(3, 9), keys::time(4, 0));
  EXPECT_EQ(keys::decode_time(keys::time(-5, 9)), -5);
  EXPECT_EQ(keys::decode_time_sequence(keys::time(-5, 9)), 9u);
  EXPECT_LT(keys::sequence(255), keys::sequence(256));
  EXPECT_EQ(keys::decode_sequence(keys::sequence(1ull << 40)), 1ull << 40);
}

TEST(KeysTest, NtlmNameIsDomainBackslashAccountLowerCased) {
  pb::DirectoryObject object;
  object.set_netbios_domain("EXAMPLE");
  EXPECT_FALSE(keys::ntlm_of(object));
  object.set_sam_account_name("Alice");
  EXPECT_EQ(keys::ntlm_of(object), "example\\alice");
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
