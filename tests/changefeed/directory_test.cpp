// Directory Sync API directories and their webhook delivery state in the store.
#include <gtest/gtest.h>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

pb::Directory directory(const std::string& id, const std::string& name) {
  pb::Directory result;
  result.set_id(id);
  result.set_name(name);
  result.set_tenant("acme");
  result.set_product("crm");
  result.set_type("active-directory");
  result.set_domain(kDomain);
  result.set_webhook_url("http://127.0.0.1:9/hook");
  result.set_webhook_secret("s3cret");
  return result;
}

std::vector<std::string> directory_ids(const Store& store) {
  std::vector<std::string> ids;
  store.directories([&](const pb::Directory& found) {
    ids.push_back(found.id());
    return true;
  });
  return ids;
}

TEST_F(StoreTest, DirectoriesAreStoredListedInIdOrderAndSurviveReopen) {
  ASSERT_TRUE(store_->put_directory(directory("bb", "Second")).is_ok());
  ASSERT_TRUE(store_->put_directory(directory("aa", "First")).is_ok());
  EXPECT_EQ(directory_ids(*store_), (std::vector<std::string>{"aa", "bb"}));
  reopen();
  std::optional<pb::Directory> stored = store_->directory("bb");
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->SerializeAsString(), directory("bb", "Second").SerializeAsString());
  EXPECT_FALSE(store_->directory("cc"));
  EXPECT_EQ(store_->last_sequence(), 0u) << "directories are not feed entries";
}

TEST_F(StoreTest, NewDirectoryDeliversChangesAfterItsCreation) {
  apply({user("alice"), user("bob")});
  const uint64_t before = store_->last_sequence();
  ASSERT_TRUE(store_->put_directory(directory("aa", "App")).is_ok());
  ASSERT_TRUE(store_->webhook_state("aa"));
  EXPECT_EQ(store_->webhook_state("aa")->after_sequence(), before);

  // Replacing it (a rename) keeps where its delivery stands.
  pb::WebhookState state = *store_->webhook_state("aa");
  apply({user("carol")});
  state.set_after_sequence(store_->last_sequence());
  state.set_last_error("HTTP 500");
  ASSERT_TRUE(store_->put_webhook_state(state).is_ok());
  ASSERT_TRUE(store_->put_directory(directory("aa", "Renamed")).is_ok());
  EXPECT_EQ(store_->directory("aa")->name(), "Renamed");
  EXPECT_EQ(store_->webhook_state("aa")->SerializeAsString(), state.SerializeAsString());
}

TEST_F(StoreTest, UpdateDirectoryChangesInPlaceAndNeverCreates) {
  ASSERT_TRUE(store_->put_directory(directory("aa", "App")).is_ok());
  bool found = false;
  ASSERT_TRUE(store_
                  ->update_directory("aa",
                                     [](pb::Directory& stored) {
                                       stored.set_name("Renamed");
                                       return true;
                                     },
                                     &found)
                  .is_ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(store_->directory("aa")->name(), "Renamed");
  EXPECT_EQ(store_->directory("aa")->tenant(), "acme") << "other fields kept";

  // A change that declines writes nothing.
  ASSERT_TRUE(store_
                  ->update_directory("aa",
                                     [](pb::Directory& stored) {
                                       stored.set_name("Dropped");
                                       return false;
                                     },
                                     &found)
                  .is_ok());
  EXPECT_EQ(store_->directory("aa")->name(), "Renamed");

  // A deleted directory is not brought back.
  bool existed = false;
  ASSERT_TRUE(store_->delete_directory("aa", &existed).is_ok());
  bool called = false;
  ASSERT_TRUE(store_
                  ->update_directory("aa",
                                     [&](pb::Directory&) {
                                       called = true;
                                       return true;
                                     },
                                     &found)
                  .is_ok());
  EXPECT_FALSE(found);
  EXPECT_FALSE(called);
  EXPECT_FALSE(store_->directory("aa"));
  EXPECT_FALSE(store_->webhook_state("aa"));
}

TEST_F(StoreTest, DeletedDirectoryTakesItsWebhookStateAndLateWritesDoNotRevive) {
  ASSERT_TRUE(store_->put_directory(directory("aa", "App")).is_ok());
  bool existed = false;
  ASSERT_TRUE(store_->delete_directory("aa", &existed).is_ok());
  EXPECT_TRUE(existed);
  EXPECT_FALSE(store_->directory("aa"));
  EXPECT_FALSE(store_->webhook_state("aa"));

  pb::WebhookState late;
  late.set_directory_id("aa");
  late.set_after_sequence(7);
  ASSERT_TRUE(store_->put_webhook_state(late).is_ok());
  EXPECT_FALSE(store_->webhook_state("aa"));

  ASSERT_TRUE(store_->delete_directory("aa", &existed).is_ok());
  EXPECT_FALSE(existed);
  EXPECT_TRUE(directory_ids(*store_).empty());
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
