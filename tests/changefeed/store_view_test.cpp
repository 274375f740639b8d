// Store::view(): reads frozen at one state across calls, and the feed's bounds.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

TEST_F(StoreTest, ViewNeverSeesLaterWrites) {
  const auto names_in = [&](const StoreView& view, pb::ObjectKind kind,
                            const std::string& after_guid = "") {
    std::vector<std::string> names;
    view.objects_after(kind, "", after_guid, [&](const pb::DirectoryObject& object) {
      names.push_back(name_of(object.guid()));
      return true;
    });
    return names;
  };
  apply({user("alice"), user("bob"), group("staff", {"alice"})});
  const std::unique_ptr<StoreView> view = store_->view();
  const FeedBounds before = view->feed_bounds();

  apply({deleted("bob"), user("carol")});
  apply({group("staff", {})});

  EXPECT_EQ(names_in(*view, pb::USER), (std::vector<std::string>{"alice", "bob"}));
  EXPECT_EQ(names_in(*view, pb::USER, guid("alice")), std::vector<std::string>{"bob"});
  EXPECT_EQ(names_in(*view, pb::GROUP), std::vector<std::string>{"staff"});
  std::vector<std::string> feed;
  view->changes_after_time(0, {}, [&](const pb::Change& change) {
    feed.push_back(describe(change));
    return true;
  });
  EXPECT_EQ(feed, (std::vector<std::string>{"ADD USER alice", "ADD USER bob", "ADD GROUP staff",
                                            "MEMBERSHIP ADD alice->staff"}));
  EXPECT_EQ(view->feed_bounds().newest_sequence, 4u);
  EXPECT_EQ(before.newest_sequence, 4u);
  EXPECT_EQ(before.newest_timestamp_us, changes_after(3).front().timestamp_us());

  // A new view sees the writes.
  EXPECT_EQ(names_in(*store_->view(), pb::USER),
            (std::vector<std::string>{"alice", "carol"}));
}

TEST_F(StoreTest, FeedBoundsFollowAppendsAndPruning) {
  EXPECT_EQ(store_->view()->feed_bounds().newest_sequence, 0u);
  EXPECT_EQ(store_->view()->feed_bounds().oldest_sequence, 0u);

  apply({user("alice"), user("bob")});
  clock_.advance(10'000'000);
  apply({user("carol")});
  const std::vector<pb::Change> all = changes_after(0);
  FeedBounds bounds = store_->view()->feed_bounds();
  EXPECT_EQ(bounds.oldest_sequence, 1u);
  EXPECT_EQ(bounds.oldest_timestamp_us, all[0].timestamp_us());
  EXPECT_EQ(bounds.newest_sequence, 3u);
  EXPECT_EQ(bounds.newest_timestamp_us, all[2].timestamp_us());

  ASSERT_TRUE(store_->prune_feed(all[2].timestamp_us()).is_ok());
  bounds = store_->view()->feed_bounds();
  EXPECT_EQ(bounds.oldest_sequence, 3u);
  EXPECT_EQ(bounds.oldest_timestamp_us, all[2].timestamp_us());

  ASSERT_TRUE(store_->prune_feed(all[2].timestamp_us() + 1).is_ok());
  reopen();
  bounds = store_->view()->feed_bounds();
  EXPECT_EQ(bounds.oldest_sequence, 0u) << "none retained";
  EXPECT_EQ(bounds.newest_sequence, 3u) << "the newest is remembered";
  EXPECT_EQ(bounds.newest_timestamp_us, all[2].timestamp_us());
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
