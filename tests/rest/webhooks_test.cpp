// Directory Sync API webhooks (rest/webhooks.hpp): the BoxyHQ signature, and the events of
// each feed entry in each directory's view. Delivery: webhook_dispatcher_test.cpp; the client
// alone: webhook_client_test.cpp.
#include <gtest/gtest.h>

#include <string>

#include "rest/webhooks.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/rest/webhooks_fixture.hpp"

namespace dirfeed::rest {
namespace {

using dirfeed::testing::signature_valid;
using testing::kSecret;
using testing::Strings;
using testing::WebhooksTest;

TEST(WebhookSignature, IsTheHmacOfTimestampDotBodyInHex) {
  // Python: hmac.new(b"my-secret", b'1700000000123.{"event":"user.created"}', sha256)
  EXPECT_EQ(webhook_signature(kSecret, R"({"event":"user.created"})", 1700000000123),
            "t=1700000000123,s=6f19367baa9e721ae9e9183166a12e2c5e433e6da1ef3bf3d08462c688e65b6a");
  EXPECT_TRUE(signature_valid(webhook_signature(kSecret, "[1,2]", 42), "[1,2]", kSecret));
  EXPECT_FALSE(signature_valid(webhook_signature(kSecret, "[1,2]", 42), "[1,3]", kSecret));
  EXPECT_FALSE(signature_valid(webhook_signature("other", "[1,2]", 42), "[1,2]", kSecret));
}

// ---- events ------------------------------------------------------------------------------

TEST_F(WebhooksTest, EveryFeedEntryTypeMapsToItsEvent) {
  apply({user("alice"), user("bob"), group("staff", {"alice"}), group("team", {"bob"})});
  uint64_t mark = store_->last_sequence();
  EXPECT_EQ(events(directory()),
            (Strings{"user.created alice", "user.created bob", "group.created staff",
                     "group.user_added alice>staff", "group.created team",
                     "group.user_added bob>team"}))
      << "an added object's ADD says all (no updated events for it)";

  apply({titled("alice", "Boss")});
  apply({group("staff", {})});
  EXPECT_EQ(events(directory(), mark),
            (Strings{"user.updated alice", "group.user_removed alice>staff", "user.updated alice",
                     "group.updated staff"}));

  // User ID API writes: an API user is an ADD; IP mappings are not directory events.
  mark = store_->last_sequence();
  pb::DirectoryObject api_user;
  api_user.set_guid(guid("carol"));
  api_user.set_kind(pb::USER);
  api_user.set_domain(changefeed::testing::kDomain);
  api_user.set_dn("CN=carol,OU=Api,DC=example,DC=test");
  api_user.set_sam_account_name("carol");
  api_user.add_ipv4_addresses("10.0.0.1");
  changefeed::ApiOutcome outcome{};
  ASSERT_TRUE(store_->create_user(api_user, 3'600'000'000, &outcome).is_ok());
  changefeed::UserChange ips;
  ips.ipv4 = Strings{"10.0.0.2"};
  ASSERT_TRUE(store_->change_user(guid("carol"), ips, &outcome).is_ok());
  EXPECT_EQ(describe_after(mark),
            (Strings{"ADD USER carol", "IP_ADD USER carol", "IP_ADD USER carol"}));
  // An API-created user is an event only for a directory that includes API users.
  EXPECT_EQ(events(directory(), mark), Strings{});
  pb::Directory with_api_users = directory();
  with_api_users.set_include_api_users(true);
  EXPECT_EQ(events(with_api_users, mark), (Strings{"user.created carol"}));

  // Deletes: the group's members and the user's groups are removed after its DELETE entry;
  // those events show the deleted object's last state.
  mark = store_->last_sequence();
  apply({deleted("team")});
  apply({deleted("alice")});
  EXPECT_EQ(describe_after(mark),
            (Strings{"DELETE GROUP team", "MEMBERSHIP DELETE bob->team", "MODIFY USER bob",
                     "DELETE USER alice"}));
  EXPECT_EQ(events(directory(), mark),
            (Strings{"group.deleted team", "group.user_removed bob>team", "user.updated bob",
                     "user.deleted alice"}));
}

TEST_F(WebhooksTest, MembershipOfAnObjectDeletedLaterShowsItsLastState) {
  apply({user("alice"), group("staff", {"alice"})});
  const uint64_t mark = store_->last_sequence();
  apply({group("staff", {})});  // removed while both exist...
  apply({deleted("staff")});    // ...and the group deleted before the webhook got there
  apply({user("bob"), group("devs", {"bob"})});
  apply({deleted("bob")});      // a user deleted with its group memberships
  const Strings expected{"group.user_removed alice>staff", "user.updated alice",
                         "group.updated staff", "group.deleted staff", "user.created bob",
                         "group.created devs", "group.user_added bob>devs", "user.deleted bob",
                         "group.user_removed bob>devs"};
  EXPECT_EQ(events(directory(), mark), expected);

  // A builder starting inside a write (as after a restart) still finds the last state.
  std::vector<pb::Change> changes = changes_after(mark);
  ASSERT_EQ(changes.back().kind(), pb::MEMBERSHIP);
  EventBuilder fresh(*store_);
  std::optional<std::string> payload = fresh.event(directory(), changes.back());
  ASSERT_TRUE(payload);
  EXPECT_EQ(summarize(*payload, directory()), "group.user_removed bob>devs");
  EXPECT_NE(payload->find("\"sAMAccountName\":\"bob\""), std::string::npos) << *payload;
}

TEST_F(WebhooksTest, NarrowedDirectoriesGetTheEventsOfTheirViewOnly) {
  apply({user("alice"), user("bob"), group("staff", {"alice"})});
  const uint64_t mark = store_->last_sequence();
  apply({group("staff", {"bob"})});  // alice leaves, bob joins
  apply({titled("alice", "Boss"), titled("bob", "Dev")});

  // Users live in OU=People, groups in OU=Groups: an OU view has the users and their
  // memberships (a membership needs its user in the view, not its group).
  pb::Directory people = directory();
  people.add_base_dns("ou=people,DC=example,DC=test");
  EXPECT_EQ(events(people, mark),
            (Strings{"group.user_removed alice>staff", "group.user_added bob>staff",
                     "user.updated alice", "user.updated bob", "user.updated alice",
                     "user.updated bob"}));

  // A group view: the group and its members; a user leaving it still gets the removal.
  pb::Directory staff = directory();
  staff.set_group_guid(guid("staff"));
  EXPECT_EQ(events(staff, mark),
            (Strings{"group.user_removed alice>staff", "group.user_added bob>staff",
                     "group.updated staff", "user.updated bob", "user.updated bob"}));

  pb::Directory elsewhere = directory();
  elsewhere.set_domain("other.test");
  EXPECT_EQ(events(elsewhere), Strings{});
}

}  // namespace
}  // namespace dirfeed::rest
