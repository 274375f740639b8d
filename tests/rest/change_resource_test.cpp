// feed_entry_json: the body of a NATS message for each kind of feed entry.
#include "rest/change_resource.hpp"

#include <gtest/gtest.h>

#include <string>

#include "changefeed/store.hpp"

namespace dirfeed::rest {
namespace {

const std::vector<DomainInfo> kDomains = {{"example.test", "DC=example,DC=test", "EXAMPLE"}};
const std::string kGuid = std::string("\xd1\x07\x3b\x28", 4) + std::string(12, '\x11');
const std::string kGroupGuid = std::string(16, '\x22');

pb::Change user_change(pb::ChangeType type) {
  pb::Change change;
  change.set_sequence(42);
  change.set_timestamp_us(1'764'700'000'123'456);  // 2025-12-02T18:26:40.123456Z
  change.set_kind(pb::USER);
  change.set_type(type);
  change.set_domain("example.test");
  change.set_from_directory(true);
  pb::DirectoryObject& user = *change.mutable_object();
  user.set_guid(kGuid);
  user.set_kind(pb::USER);
  user.set_domain("example.test");
  user.set_from_directory(true);
  user.set_display_name("Alice Able");
  user.set_sam_account_name("alice");
  user.set_user_account_control(512);
  return change;
}

TEST(FeedEntryJson, AUserChangeFromAdCarriesTheDirectoryChangesResource) {
  const std::string json = feed_entry_json(user_change(pb::MODIFY), kDomains);
  EXPECT_EQ(json.rfind("{\"seq\":42,\"timestamp\":\"2025-12-02T18:26:40.123456Z\","
                       "\"domain\":\"example.test\",\"kind\":\"user\",\"type\":\"modify\","
                       "\"source\":\"ad\",\"object\":{\"id\":\"283b07d1-1111-1111-1111-"
                       "111111111111\",\"displayName\":\"Alice Able\",",
                       0),
            0u)
      << json;
  EXPECT_NE(json.find("\"onPremisesSamAccountName\":\"alice\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"accountEnabled\":true"), std::string::npos) << json;
  EXPECT_EQ(json.find("ipv4"), std::string::npos) << json;
  EXPECT_EQ(json.back(), '}');
}

TEST(FeedEntryJson, AMembershipCarriesTheTwoIds) {
  pb::Change change;
  change.set_sequence(7);
  change.set_timestamp_us(1'764'700'000'000'000);
  change.set_kind(pb::MEMBERSHIP);
  change.set_type(pb::DELETE);
  change.set_domain("example.test");
  change.set_from_directory(true);
  change.mutable_membership()->set_user_guid(kGuid);
  change.mutable_membership()->set_group_guid(kGroupGuid);
  EXPECT_EQ(feed_entry_json(change, kDomains),
            "{\"seq\":7,\"timestamp\":\"2025-12-02T18:26:40.000000Z\",\"domain\":\"example.test\","
            "\"kind\":\"membership\",\"type\":\"delete\",\"source\":\"ad\",\"object\":{"
            "\"userId\":\"283b07d1-1111-1111-1111-111111111111\","
            "\"groupId\":\"22222222-2222-2222-2222-222222222222\"}}");
}

TEST(FeedEntryJson, AnIpEntryAddsTheUsersAddressesAfterIt) {
  pb::Change change = user_change(pb::IP_ADD);
  change.mutable_object()->add_ipv4_addresses("10.1.2.3");
  change.mutable_object()->add_ipv6_addresses("2001:db8::1");
  const std::string json = feed_entry_json(change, kDomains);
  EXPECT_NE(json.find("\"type\":\"ip-add\""), std::string::npos) << json;
  EXPECT_NE(json.find(",\"ipv4\":[\"10.1.2.3\"],\"ipv6\":[\"2001:db8::1\"]}"), std::string::npos)
      << json;
}

TEST(FeedEntryJson, TheSourceNamesAScimDirectoryOrTheApi) {
  pb::Change scim = user_change(pb::ADD);
  scim.set_from_directory(false);
  scim.set_domain(changefeed::scim_source("0f8fad5b-d9cb-469f-a165-70867728950e"));
  EXPECT_NE(feed_entry_json(scim, kDomains)
                .find("\"source\":\"0f8fad5b-d9cb-469f-a165-70867728950e\""),
            std::string::npos);
  pb::Change api = user_change(pb::ADD);
  api.set_from_directory(false);
  EXPECT_NE(feed_entry_json(api, kDomains).find("\"source\":\"api\""), std::string::npos);
}

}  // namespace
}  // namespace dirfeed::rest
