// The Directory Changes API (rest/changes_api.hpp), handler level: authentication and
// parameters, the record shapes, changes after lastSyncDate, memberships. Snapshots and
// streaming are in changes_snapshot_test.cpp; the fixture in changes_api_fixture.hpp.
#include <algorithm>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "tests/rest/changes_api_fixture.hpp"

namespace dirfeed::rest::testing {
namespace {

// ---- 401 and 400 ---------------------------------------------------------------------------

TEST_F(ChangesApiTest, MissingOrUnknownKeyIs401InTheDocumentsShape) {
  const std::string query = "resourceType=user&onPremisesSyncEnabled=true";
  Request anonymous(http::verb::get, kPath + query, 11);
  Answer answer = drain(router_.handle(anonymous));
  EXPECT_EQ(answer.status, 401u);
  EXPECT_EQ(answer.content_type, "application/json");
  EXPECT_EQ(answer.body, R"({"message":"missing API key: send it as x-api-key","statusCode":401})");

  Request wrong = request(query);
  wrong.set("x-api-key", "dfk_not-a-key");
  answer = drain(router_.handle(wrong));
  EXPECT_EQ(answer.status, 401u);
  EXPECT_EQ(answer.body, R"({"message":"invalid API key","statusCode":401})");

  // A Basic user is no API key; the key is checked before the parameters.
  Request basic(http::verb::get, kPath + std::string("resourceType=bad"), 11);
  basic.set(http::field::authorization, "Basic " + base64_encode("ops:secret"));
  EXPECT_EQ(drain(router_.handle(basic)).status, 401u);
}

TEST_F(ChangesApiTest, WithoutCredentialStoreEveryKeyIs401) {
  ApiContext no_keys{*store_, {}, nullptr};
  Router router = make_router(no_keys);
  const Answer answer =
      drain(router.handle(request("resourceType=user&onPremisesSyncEnabled=true")));
  EXPECT_EQ(answer.status, 401u);
  EXPECT_EQ(answer.body, R"({"message":"invalid API key","statusCode":401})");
}

TEST_F(ChangesApiTest, AuthorizationApiKeyIsAcceptedToo) {
  Request sync_style = request("resourceType=user&onPremisesSyncEnabled=true");
  sync_style.erase("x-api-key");
  sync_style.set(http::field::authorization, "Api-Key " + key_);
  EXPECT_EQ(drain(router_.handle(sync_style)).status, 200u);
}

TEST_F(ChangesApiTest, BadParametersAre400InTheDocumentsShape) {
  const std::string type_required =
      R"({"message":"resourceType is required: user, group or membership","statusCode":400})";
  const std::string type_invalid =
      R"({"message":"resourceType must be user, group or membership","statusCode":400})";
  const std::string sync_required =
      R"({"message":"onPremisesSyncEnabled is required: true or false","statusCode":400})";
  const std::string sync_invalid =
      R"({"message":"onPremisesSyncEnabled must be true or false","statusCode":400})";
  const std::string date_invalid =
      R"({"message":"lastSyncDate must be an ISO 8601 date-time with Z or an offset, e.g. )"
      R"(2023-05-01T00:00:00Z or 2023-05-01T02:00:00.5+02:00","statusCode":400})";
  const std::string limit_invalid =
      R"({"message":"limit must be a positive integer","statusCode":400})";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"onPremisesSyncEnabled=true", type_required},
      {"", type_required},
      {"resourceType=users&onPremisesSyncEnabled=true", type_invalid},
      {"resourceType=User&onPremisesSyncEnabled=true", type_invalid},
      {"resourceType=&onPremisesSyncEnabled=true", type_invalid},
      {"resourceType=groups&onPremisesSyncEnabled=true", type_invalid},
      {"resourceType=user", sync_required},
      {"resourceType=user&onPremisesSyncEnabled=", sync_invalid},
      {"resourceType=user&onPremisesSyncEnabled=yes", sync_invalid},
      {"resourceType=user&onPremisesSyncEnabled=1", sync_invalid},
      {"resourceType=user&onPremisesSyncEnabled=truee", sync_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=", date_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01", date_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01T00:00:00",
       date_invalid},
      {"resourceType=group&onPremisesSyncEnabled=true&lastSyncDate=2023-02-30T00:00:00Z",
       date_invalid},
      {"resourceType=membership&onPremisesSyncEnabled=false&lastSyncDate=yesterday",
       date_invalid},
      // '+' in a query means a space: an offset must be sent as %2B.
      {"resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01T02:00:00+02:00",
       date_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=0", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=-1", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=%2B5", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=1.5", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=ten", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=", limit_invalid},
      {"resourceType=user&onPremisesSyncEnabled=true&limit=99999999999999999999999",
       limit_invalid},
  };
  for (const auto& [query, body] : cases) {
    const Answer answer = get(query);
    EXPECT_EQ(answer.status, 400u) << query;
    EXPECT_EQ(answer.content_type, "application/json") << query;
    EXPECT_EQ(answer.body, body) << query;
  }
}

TEST_F(ChangesApiTest, AcceptsEveryValidForm) {
  for (const std::string query : {
           "resourceType=user&onPremisesSyncEnabled=true",
           "resourceType=group&onPremisesSyncEnabled=false",
           "resourceType=membership&onPremisesSyncEnabled=True",  // Python's str(True)
           "onPremisesSyncEnabled=FALSE&resourceType=user",
           "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01T00:00:00Z",
           "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01T00:00:00.123Z",
           "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-05-01T02:00:00%2B02:00",
           "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-04-30T19:00:00.5-05:00",
           "resourceType=user&onPremisesSyncEnabled=true&limit=1",
           "resourceType=user&onPremisesSyncEnabled=true&limit=007&unknown=ignored",
       }) {
    const Answer answer = get(query);
    EXPECT_EQ(answer.status, 200u) << query << ": " << answer.body;
  }
}

// ---- record shapes -------------------------------------------------------------------------

TEST_F(ChangesApiTest, UserRecordHasTheDocumentsFields) {
  pb::ObservedObject alice = user("alice", "Domain Users");
  pb::DirectoryObject& object = *alice.mutable_object();
  object.set_given_name("Alice");
  object.set_surname("Liddell");
  object.set_department("Research \"R&D\"");
  object.set_title("Engineer");
  object.set_telephone_number("+1 555 0100");
  object.add_other_telephones("+1 555 0101");
  object.add_other_telephones("+1 555 0102");
  object.set_user_principal_name("alice@example.test");
  object.set_user_account_control(0x200);
  apply({group("Domain Users", {}), alice});
  const int64_t added_us = feed_times(pb::USER).at(0);

  const Answer answer =
      get("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  EXPECT_EQ(answer.status, 200u);
  EXPECT_EQ(answer.body,
            R"({"data":[{"resourceType":"user","resource":{"id":")" + id("alice") +
                R"(","displayName":"alice Display","department":"Research \"R&D\"",)"
                R"("jobTitle":"Engineer","businessPhones":["+1 555 0100","+1 555 0101",)"
                R"("+1 555 0102"],"surname":"Liddell","givenName":"Alice",)"
                R"("accountEnabled":true,"userPrincipalName":"alice@example.test",)"
                R"("onPremisesDomainName":"example.test","onPremisesSamAccountName":"alice",)"
                R"("onPremisesSecurityIdentifier":")" + sid("alice") +
                R"(","onPremisesLastSyncDateTime":"2023-11-14T22:13:20.000000Z",)"
                R"("onPremisesUserPrincipalName":"alice@example.test"},"changeType":"created",)"
                R"("timestamp":")" + format_iso8601_us(added_us) +
                R"(","onPremisesSyncEnabled":true}],)"
                R"("message":"Delta changes fetched successfully","statusCode":200})");
  EXPECT_EQ(format_iso8601_us(added_us), "2023-11-14T22:13:20.000001Z")
      << "the group took the clock's microsecond, alice the next one";
}

TEST_F(ChangesApiTest, MissingUserAttributesAreNullAndDisabledAccountsSaySo) {
  pb::ObservedObject bob = user("bob");
  bob.mutable_object()->clear_display_name();
  bob.mutable_object()->clear_sid();
  bob.mutable_object()->set_user_account_control(0x202);
  apply({bob});
  const Answer answer = get("resourceType=user&onPremisesSyncEnabled=true");
  EXPECT_NE(answer.body.find(
                R"("resource":{"id":")" + id("bob") +
                R"(","displayName":null,"department":null,"jobTitle":null,"businessPhones":[],)"
                R"("surname":null,"givenName":null,"accountEnabled":false,)"
                R"("userPrincipalName":null,"onPremisesDomainName":"example.test",)"
                R"("onPremisesSamAccountName":"bob","onPremisesSecurityIdentifier":null,)"
                R"("onPremisesLastSyncDateTime":"2023-11-14T22:13:20.000000Z",)"
                R"("onPremisesUserPrincipalName":null},"changeType":"created")"),
            std::string::npos)
      << answer.body;
}

TEST_F(ChangesApiTest, GroupRecordHasTheDocumentsFields) {
  pb::ObservedObject staff = group("staff", {});
  staff.mutable_object()->set_display_name("Staff");
  staff.mutable_object()->set_when_created("2026-11-23T01:36:38Z");
  staff.mutable_object()->set_mail("staff@example.test");
  staff.mutable_object()->set_mail_nickname("staff");
  pb::ObservedObject bare = group("bare", {});
  bare.mutable_object()->clear_description();
  bare.mutable_object()->clear_netbios_domain();  // the configured NetBIOS name stands in
  apply({staff, bare});

  const Answer answer = get("resourceType=group&onPremisesSyncEnabled=true");
  const std::string snapshot_time = newest_timestamp();
  EXPECT_EQ(answer.body,
            R"({"data":[{"resourceType":"group","resource":{"id":")" + id("staff") +
                R"(","displayName":"Staff","created":"2026-11-23T01:36:38Z",)"
                R"("description":"staff group","mailNickname":"staff","mailEnabled":true,)"
                R"("onPremisesSyncEnabled":true,"onPremisesSamAccountName":"staff",)"
                R"("onPremisesNetBiosName":"EXAMPLE","onPremisesDomainName":"example.test",)"
                R"("onPremisesSecurityIdentifier":")" + sid("staff") +
                R"(","onPremisesLastSyncDateTime":"2023-11-14T22:13:20.000000Z"},)"
                R"("changeType":"created","timestamp":")" + snapshot_time +
                R"(","onPremisesSyncEnabled":true},)"
                R"({"resourceType":"group","resource":{"id":")" + id("bare") +
                R"(","displayName":null,"created":null,"description":null,"mailNickname":null,)"
                R"("mailEnabled":false,"onPremisesSyncEnabled":true,)"
                R"("onPremisesSamAccountName":"bare","onPremisesNetBiosName":"EXAMPLE",)"
                R"("onPremisesDomainName":"example.test","onPremisesSecurityIdentifier":")" +
                sid("bare") + R"(","onPremisesLastSyncDateTime":"2023-11-14T22:13:20.000000Z"},)"
                R"("changeType":"created","timestamp":")" + snapshot_time +
                R"(","onPremisesSyncEnabled":true}],)"
                R"("message":"Snapshot of current resources: no lastSyncDate given",)"
                R"("statusCode":200})");
}

TEST_F(ChangesApiTest, MembershipRecordNamesUserAndGroup) {
  apply({group("staff", {"alice"}), user("alice")});
  const Answer answer =
      get("resourceType=membership&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  const int64_t edge_us = feed_times(pb::MEMBERSHIP).at(0);
  EXPECT_EQ(answer.body, R"({"data":[{"resourceType":"membership","resource":{"userId":")" +
                             id("alice") + R"(","groupId":")" + id("staff") +
                             R"("},"changeType":"created","timestamp":")" +
                             format_iso8601_us(edge_us) +
                             R"(","onPremisesSyncEnabled":true}],)"
                             R"("message":"Delta changes fetched successfully","statusCode":200})");
}

// ---- changes -------------------------------------------------------------------------------

TEST_F(ChangesApiTest, ChangesMapToCreatedUpdatedDeletedOldestFirstWithoutIpEntries) {
  apply({user("alice"), user("bob")});
  map_ip("alice", "192.0.2.10");  // IP_ADD: not a directory change
  pb::ObservedObject renamed = user("alice");
  renamed.mutable_object()->set_title("Manager");
  apply({renamed});
  apply({deleted("bob")});

  const Listing listing = list(
      "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-11-14T22:00:00Z");
  EXPECT_EQ(listing.message, kDeltaMessage);
  EXPECT_EQ(listing.records,
            (std::vector<std::string>{"created user alice", "created user bob",
                                      "updated user alice", "deleted user bob"}));
  std::vector<std::string> expected_times;
  for (const int64_t us : feed_times(pb::USER)) expected_times.push_back(format_iso8601_us(us));
  EXPECT_EQ(listing.timestamps, expected_times);
  EXPECT_TRUE(std::is_sorted(listing.timestamps.begin(), listing.timestamps.end()));

  // The deleted record carries bob's last state, the updated one alice's new title.
  const std::string body =
      get("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + listing.timestamps[1])
          .body;
  EXPECT_NE(body.find(R"("jobTitle":"Manager")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("onPremisesSamAccountName":"bob")"), std::string::npos) << body;
}

TEST_F(ChangesApiTest, LastSyncDateIsExclusiveToTheMicrosecond) {
  // The fake clock stands still: every entry falls in the same second, one microsecond apart.
  apply({user("a"), user("b"), user("c"), user("d")});
  const std::vector<int64_t> times = feed_times(pb::USER);
  ASSERT_EQ(times.size(), 4u);
  ASSERT_EQ(times[3] / 1'000'000, times[0] / 1'000'000);
  const auto after = [&](int64_t us) {
    return list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" +
                format_iso8601_us(us))
        .records;
  };
  EXPECT_EQ(after(times[1]), (std::vector<std::string>{"created user c", "created user d"}));
  EXPECT_EQ(after(times[1] - 1),
            (std::vector<std::string>{"created user b", "created user c", "created user d"}));
  EXPECT_EQ(after(times[3]), std::vector<std::string>{});
  // The same instant written with an offset and with more digits than microseconds.
  const std::string instant = format_iso8601_us(times[1]);  // ...T22:13:20.00000NZ
  const std::string shifted = "2023-11-15T00:13:20" + instant.substr(19, 7) + "%2B02:00";
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + shifted).records,
            after(times[1]));
  const std::string nanos = instant.substr(0, 26) + "999Z";
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + nanos).records,
            after(times[1]));
}

TEST_F(ChangesApiTest, ConsumerPassingBackTheNewestTimestampSeesEveryChangeOnce) {
  std::vector<std::string> expected;
  for (int round = 0; round < 5; ++round) {
    const std::string name = "user" + std::to_string(round);
    apply({user(name)});
    expected.push_back("created user " + name);
    map_ip(name, "192.0.2." + std::to_string(round + 1));
    pb::ObservedObject changed = user(name);
    changed.mutable_object()->set_department("D" + std::to_string(round));
    apply({changed});
    expected.push_back("updated user " + name);
    if (round % 2 == 1) {
      apply({deleted(name)});
      expected.push_back("deleted user " + name);
    }
  }
  for (const size_t limit : {1, 2, 3, 7, 100}) {
    std::vector<std::string> seen;
    std::string last = "2023-01-01T00:00:00Z";
    for (int call = 0; call < 100; ++call) {
      const Listing listing =
          list("resourceType=user&onPremisesSyncEnabled=true&limit=" + std::to_string(limit) +
               "&lastSyncDate=" + last);
      EXPECT_LE(listing.records.size(), limit);
      if (listing.records.empty()) break;
      seen.insert(seen.end(), listing.records.begin(), listing.records.end());
      last = listing.timestamps.back();
    }
    EXPECT_EQ(seen, expected) << "limit " << limit;
  }
}

TEST_F(ChangesApiTest, OnPremisesSyncEnabledSeparatesApiUsersFromAdUsers) {
  apply({group("staff", {"alice"}), user("alice")});
  create_api_user("carol");
  const std::string since = "&lastSyncDate=2023-01-01T00:00:00Z";
  const Listing ad = list("resourceType=user&onPremisesSyncEnabled=true" + since);
  EXPECT_EQ(ad.records, std::vector<std::string>{"created user alice"});
  EXPECT_EQ(ad.on_premises, std::vector<bool>{true});
  const Listing api = list("resourceType=user&onPremisesSyncEnabled=false" + since);
  EXPECT_EQ(api.records, std::vector<std::string>{"created user carol"});
  EXPECT_EQ(api.on_premises, std::vector<bool>{false});
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=false").records, api.records);
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true").records, ad.records);
  EXPECT_EQ(list("resourceType=group&onPremisesSyncEnabled=false" + since).records,
            std::vector<std::string>{});
  EXPECT_EQ(list("resourceType=group&onPremisesSyncEnabled=false").records,
            std::vector<std::string>{});
  EXPECT_EQ(list("resourceType=membership&onPremisesSyncEnabled=false" + since).records,
            std::vector<std::string>{});
  EXPECT_EQ(list("resourceType=membership&onPremisesSyncEnabled=false").records,
            std::vector<std::string>{});

  // An API user is never synced from AD.
  const std::string body = get("resourceType=user&onPremisesSyncEnabled=false").body;
  EXPECT_NE(body.find(R"("displayName":"carol API")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"("onPremisesLastSyncDateTime":null)"), std::string::npos) << body;
}

// ---- memberships ---------------------------------------------------------------------------

TEST_F(ChangesApiTest, MembershipsAreUserInGroupEdgesOnly) {
  // staff holds alice and the group admins; admins holds bob; both users have Domain Users as
  // their primary group.
  apply({group("Domain Users", {}), group("staff", {"alice", "admins"}), group("admins", {"bob"}),
         user("alice", "Domain Users"), user("bob", "Domain Users")});
  const std::vector<std::string> edges = {
      "created membership alice>Domain Users", "created membership alice>staff",
      "created membership bob>Domain Users", "created membership bob>admins"};
  const std::string since = "&lastSyncDate=2023-01-01T00:00:00Z";
  EXPECT_EQ(sorted(list("resourceType=membership&onPremisesSyncEnabled=true" + since).records),
            edges);
  EXPECT_EQ(sorted(list("resourceType=membership&onPremisesSyncEnabled=true").records), edges);

  // alice leaves staff; the group admins leaves it too (not a membership); bob is deleted.
  const std::string before = newest_timestamp();
  apply({group("staff", {})});
  apply({deleted("bob")});
  EXPECT_EQ(list("resourceType=membership&onPremisesSyncEnabled=true&lastSyncDate=" + before)
                .records,
            (std::vector<std::string>{"deleted membership alice>staff",
                                      "deleted membership bob>Domain Users",
                                      "deleted membership bob>admins"}));
  EXPECT_EQ(list("resourceType=membership&onPremisesSyncEnabled=true").records,
            std::vector<std::string>{"created membership alice>Domain Users"});
}

}  // namespace
}  // namespace dirfeed::rest::testing
