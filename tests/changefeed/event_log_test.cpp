// The webhook event log in the store (log_webhook_events): newest first, bounded per
// directory, pruned by age, deleted with its directory.
#include <gtest/gtest.h>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

pb::WebhookEvent event(const std::string& directory, const std::string& id, int64_t created_us) {
  pb::WebhookEvent result;
  result.set_id(id);
  result.set_directory_id(directory);
  result.set_payload(R"({"event":"user.created"})");
  result.set_created_us(created_us);
  result.set_status_code(200);
  result.set_delivered(true);
  return result;
}

std::vector<std::string> ids(const Store& store, const std::string& directory) {
  std::vector<std::string> found;
  store.webhook_events(directory, [&](const pb::WebhookEvent& logged) {
    found.push_back(logged.id());
    return true;
  });
  return found;
}

using Ids = std::vector<std::string>;

TEST_F(StoreTest, WebhookEventsNewestFirstBoundedPerDirectory) {
  ASSERT_TRUE(store_->log_webhook_event(event("d1", "e1", 100), 2).is_ok());
  ASSERT_TRUE(store_->log_webhook_event(event("d1", "e2", 200), 2).is_ok());
  ASSERT_TRUE(store_->log_webhook_event(event("d2", "f1", 150), 2).is_ok());
  EXPECT_EQ(ids(*store_, "d1"), (Ids{"e2", "e1"}));
  ASSERT_TRUE(store_->log_webhook_event(event("d1", "e3", 300), 2).is_ok());
  EXPECT_EQ(ids(*store_, "d1"), (Ids{"e3", "e2"})) << "the oldest went";
  EXPECT_FALSE(store_->webhook_event("e1"));
  ASSERT_TRUE(store_->webhook_event("e3"));
  EXPECT_EQ(store_->webhook_event("e3")->created_us(), 300);
  EXPECT_EQ(ids(*store_, "d2"), (Ids{"f1"}));
  EXPECT_EQ(store_->last_sequence(), 0u) << "not feed entries";
  reopen();
  EXPECT_EQ(ids(*store_, "d1"), (Ids{"e3", "e2"}));
}

TEST_F(StoreTest, WebhookEventsPrunedByAgeAndDeleted) {
  for (int i = 1; i <= 4; ++i) {
    ASSERT_TRUE(store_->log_webhook_event(event("d1", "e" + std::to_string(i), i * 100), 10).is_ok());
  }
  ASSERT_TRUE(store_->log_webhook_event(event("d2", "f1", 100), 10).is_ok());
  size_t dropped = 0;
  ASSERT_TRUE(store_->prune_webhook_events(250, &dropped).is_ok());
  EXPECT_EQ(dropped, 3u);
  EXPECT_EQ(ids(*store_, "d1"), (Ids{"e4", "e3"}));
  EXPECT_TRUE(ids(*store_, "d2").empty());
  EXPECT_FALSE(store_->webhook_event("e1"));
  // The count followed the prune: two more fit under a bound of 4 without dropping e3.
  ASSERT_TRUE(store_->log_webhook_event(event("d1", "e5", 500), 4).is_ok());
  ASSERT_TRUE(store_->log_webhook_event(event("d1", "e6", 600), 4).is_ok());
  EXPECT_EQ(ids(*store_, "d1"), (Ids{"e6", "e5", "e4", "e3"}));

  size_t deleted = 0;
  ASSERT_TRUE(store_->delete_webhook_events("d1", &deleted).is_ok());
  EXPECT_EQ(deleted, 4u);
  EXPECT_TRUE(ids(*store_, "d1").empty());
  EXPECT_FALSE(store_->webhook_event("e6"));

  pb::Directory directory;
  directory.set_id("d3");
  ASSERT_TRUE(store_->put_directory(directory).is_ok());
  ASSERT_TRUE(store_->log_webhook_event(event("d3", "g1", 100), 10).is_ok());
  bool existed = false;
  ASSERT_TRUE(store_->delete_directory("d3", &existed).is_ok());
  EXPECT_TRUE(ids(*store_, "d3").empty());
  EXPECT_FALSE(store_->webhook_event("g1"));
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
