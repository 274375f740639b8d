// The Directory Changes API (rest/changes_api.hpp), handler level: a real store in a temp dir
// filled through apply_page and the User ID API writes, a real keys file, and requests through
// the routing table, their streamed bodies read piece by piece.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "proto/guid.hpp"
#include "rest/api.hpp"
#include "rest/changes_api.hpp"
#include "rest/credentials.hpp"
#include "rest/iso_time.hpp"
#include "rest/json.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::ApiOutcome;
using changefeed::FeedQuery;
using changefeed::UserChange;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;

constexpr char kPath[] = "/public/directory-changes?";
constexpr char kDeltaMessage[] = "Delta changes fetched successfully";

// More records than two pieces hold (kChangesPieceSize).
constexpr int kManyUsers = 1'200;
static_assert(static_cast<size_t>(kManyUsers) > 2 * kChangesPieceSize);

// A new key stored in `dir`/keys under the name "consumer"; returns the key.
std::string make_keys_file(const std::string& dir) {
  const std::string key = generate_api_key();
  write_file_atomically(dir + "/keys", format_keys({{"consumer", api_key_hash(key)}}));
  return key;
}

// GUIDs for bulk users: the fixture's names give at most 255 distinct ones.
std::string bulk_guid(int number) {
  std::string guid(16, '\x77');
  for (int i = 0; i < 4; ++i) guid[i] = static_cast<char>(number >> (24 - 8 * i));
  return guid;
}

std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

// An answer with its streamed body read to the end.
struct Answer {
  unsigned status = 0;
  std::string content_type;
  std::string body;
  size_t pieces = 0;  // stream calls that produced text (0: not streamed)
};

Answer drain(Response response) {
  Answer answer{response.result_int(), std::string(response[http::field::content_type]), "", 0};
  if (!response.body().stream) {
    answer.body = response.body();
    return answer;
  }
  bool more = true;
  while (more) {
    std::string piece;
    more = response.body().stream(piece);
    if (!piece.empty()) ++answer.pieces;
    answer.body += piece;
  }
  return answer;
}

class ChangesApiTest : public StoreTest {
 protected:
  // The records of a 200 answer: "created user alice", "deleted membership bob>staff", with
  // their timestamps and the answer's message.
  struct Listing {
    std::vector<std::string> records;
    std::vector<std::string> timestamps;
    std::vector<bool> on_premises;
    std::string message;
    size_t pieces = 0;
  };

  Request request(const std::string& query) {
    Request request(http::verb::get, kPath + query, 11);
    request.set("x-api-key", key_);
    return request;
  }

  Answer get(const std::string& query) { return drain(router_.handle(request(query))); }

  Listing list(const std::string& query) {
    const Answer answer = get(query);
    EXPECT_EQ(answer.status, 200u) << query << ": " << answer.body;
    EXPECT_EQ(answer.content_type, "application/json");
    return parse(answer);
  }

  Listing parse(const Answer& answer) {
    Listing listing;
    listing.pieces = answer.pieces;
    std::string error;
    const std::optional<JsonValue> json = parse_json(answer.body, &error, {.max_size = 1 << 30});
    if (!json) {
      ADD_FAILURE() << error << ": " << answer.body.substr(0, 2000);
      return listing;
    }
    // Keys in the document's order.
    EXPECT_EQ(json->object().size(), 3u);
    EXPECT_EQ(json->object()[0].first, "data");
    EXPECT_EQ(json->object()[1].first, "message");
    EXPECT_EQ(json->object()[2].first, "statusCode");
    EXPECT_EQ(json->find("statusCode")->text(), "200");
    listing.message = json->find("message")->text();
    for (const JsonValue& record : json->find("data")->array()) {
      const JsonValue& resource = *record.find("resource");
      const std::string type = record.find("resourceType")->text();
      std::string subject;
      if (type == "membership") {
        subject = name(resource.find("userId")->text()) + ">" +
                  name(resource.find("groupId")->text());
      } else {
        subject = name(resource.find("id")->text());
      }
      listing.records.push_back(record.find("changeType")->text() + " " + type + " " + subject);
      listing.timestamps.push_back(record.find("timestamp")->text());
      listing.on_premises.push_back(record.find("onPremisesSyncEnabled")->as_bool());
    }
    return listing;
  }

  // The fixture's name of a GUID in string form ("?" for bulk users).
  std::string name(const std::string& guid_text) {
    std::optional<std::string> bytes = guid_from_text(guid_text);
    return bytes ? name_of(*bytes) : "bad GUID " + guid_text;
  }
  std::string id(const std::string& name) { return guid_to_string(guid(name)); }

  // The timestamp of the newest feed entry, as the API writes it.
  std::string newest_timestamp() {
    std::string text;
    store_->changes_after_sequence(store_->last_sequence() - 1, {},
                                   [&](const pb::Change& change) {
                                     text = format_iso8601_us(change.timestamp_us());
                                     return false;
                                   });
    return text;
  }

  // Timestamps of the feed entries of `kind`, oldest first.
  std::vector<int64_t> feed_times(pb::ObjectKind kind) {
    std::vector<int64_t> times;
    FeedQuery query;
    query.kind = kind;
    for (const pb::Change& change : changes_after(0, query)) {
      if (change.type() != pb::IP_ADD && change.type() != pb::IP_DELETE) {
        times.push_back(change.timestamp_us());
      }
    }
    return times;
  }

  // A user created through the User ID API (onPremisesSyncEnabled false).
  void create_api_user(const std::string& name) {
    pb::DirectoryObject user;
    user.set_guid(guid(name));
    user.set_kind(pb::USER);
    user.set_domain(kDomain);
    user.set_sam_account_name(name);
    user.set_netbios_domain("EXAMPLE");
    user.set_display_name(name + " API");
    ApiOutcome outcome;
    ASSERT_TRUE(store_->create_user(user, 3'600'000'000, &outcome).is_ok());
    ASSERT_EQ(outcome, ApiOutcome::kDone);
  }

  // Maps an IP address to a user: an IP_ADD entry, which is no directory change.
  void map_ip(const std::string& name, const std::string& ip) {
    UserChange change;
    change.ipv4 = std::vector<std::string>{ip};
    change.default_lifetime_us = 3'600'000'000;
    ApiOutcome outcome;
    ASSERT_TRUE(store_->change_user(guid(name), change, &outcome).is_ok());
    ASSERT_EQ(outcome, ApiOutcome::kDone);
  }

  static pb::ObservedObject bulk_user(int number, const std::string& primary_group_sid = "") {
    pb::ObservedObject observed;
    observed.set_primary_group_sid(primary_group_sid);
    pb::DirectoryObject& user = *observed.mutable_object();
    user.set_guid(bulk_guid(number));
    user.set_kind(pb::USER);
    user.set_sam_account_name("bulk" + std::to_string(number));
    user.set_dn("CN=bulk" + std::to_string(number) + ",OU=Bulk,DC=example,DC=test");
    return observed;
  }

  static pb::ObservedObject deleted_bulk_user(int number) {
    pb::ObservedObject observed;
    observed.mutable_object()->set_guid(bulk_guid(number));
    observed.set_deleted(true);
    return observed;
  }

  void add_bulk_users(int first, int count, const std::string& primary_group_sid = "") {
    std::vector<pb::ObservedObject> page;
    for (int n = first; n < first + count; ++n) page.push_back(bulk_user(n, primary_group_sid));
    ASSERT_TRUE(store_->apply_page(kDomain, page, cursor_for(kDomain)).is_ok());
  }

  std::string key_ = make_keys_file(temp_.path());
  CredentialStore credentials_{temp_.path() + "/users", temp_.path() + "/keys"};
  ApiContext context_{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}, &credentials_};
  Router router_ = make_router(context_);
};

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

// ---- snapshots -----------------------------------------------------------------------------

TEST_F(ChangesApiTest, WithoutLastSyncDateASnapshotOfCurrentResourcesContinuesWithTheFeed) {
  apply({user("alice"), user("bob"), user("carol")});
  apply({deleted("bob")});
  map_ip("alice", "192.0.2.7");
  const std::string snapshot_time = newest_timestamp();

  const Listing snapshot = list("resourceType=user&onPremisesSyncEnabled=true&limit=1");
  EXPECT_EQ(snapshot.message, "Snapshot of current resources: no lastSyncDate given");
  EXPECT_EQ(snapshot.records,
            (std::vector<std::string>{"created user alice", "created user carol"}))
      << "a snapshot is never cut by limit";
  EXPECT_EQ(snapshot.timestamps, std::vector<std::string>(2, snapshot_time))
      << "every record carries the newest entry's timestamp, the IP_ADD here";

  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time)
                .records,
            std::vector<std::string>{});
  apply({deleted("carol"), user("dave")});
  EXPECT_EQ(list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time)
                .records,
            (std::vector<std::string>{"deleted user carol", "created user dave"}));
}

TEST_F(ChangesApiTest, EmptyStoreGivesAnEmptySnapshotAndEmptyChanges) {
  const Answer snapshot = get("resourceType=group&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.body, R"({"data":[],"message":"Snapshot of current resources: )"
                           R"(no lastSyncDate given","statusCode":200})");
  const Answer changes =
      get("resourceType=group&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  EXPECT_EQ(changes.body, R"({"data":[],"message":"Delta changes fetched successfully",)"
                          R"("statusCode":200})");
}

TEST_F(ChangesApiTest, LastSyncDateBeforeTheRetainedHistoryGetsASnapshot) {
  apply({user("alice"), user("bob")});
  clock_.advance(10'000'000);
  apply({user("carol")});
  const int64_t oldest_kept = feed_times(pb::USER).back();
  uint64_t dropped = 0;
  ASSERT_TRUE(store_->prune_feed(oldest_kept, &dropped).is_ok());
  ASSERT_EQ(dropped, 2u);

  // alice's and bob's entries are gone: carol's is the oldest kept.
  const std::string query = "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=";
  const Listing at_edge = list(query + format_iso8601_us(oldest_kept - 1));
  EXPECT_EQ(at_edge.message, kDeltaMessage) << "no dropped entry can be after oldest - 1 µs";
  EXPECT_EQ(at_edge.records, std::vector<std::string>{"created user carol"});

  const Listing beyond = list(query + format_iso8601_us(oldest_kept - 2));
  EXPECT_EQ(beyond.message,
            "Snapshot of current resources: lastSyncDate is older than the retained history");
  EXPECT_EQ(beyond.records, (std::vector<std::string>{"created user alice", "created user bob",
                                                      "created user carol"}));
  EXPECT_EQ(beyond.timestamps, std::vector<std::string>(3, format_iso8601_us(oldest_kept)));

  // Every entry pruned: only lastSyncDate at or after the newest one is known to miss nothing.
  ASSERT_TRUE(store_->prune_feed(oldest_kept + 1, &dropped).is_ok());
  ASSERT_EQ(dropped, 1u);
  EXPECT_EQ(list(query + format_iso8601_us(oldest_kept)).message, kDeltaMessage);
  EXPECT_EQ(list(query + format_iso8601_us(oldest_kept - 1)).records.size(), 3u);
}

TEST_F(ChangesApiTest, AnUnprunedFeedAnswersAnyOldLastSyncDateWithItsChanges) {
  apply({user("alice")});
  apply({deleted("alice")});
  const Listing listing =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=1999-12-31T23:00:00-01:00");
  EXPECT_EQ(listing.message, kDeltaMessage);
  EXPECT_EQ(listing.records,
            (std::vector<std::string>{"created user alice", "deleted user alice"}));
}

// ---- streaming -----------------------------------------------------------------------------

TEST_F(ChangesApiTest, LongAnswersStreamInPieces) {
  add_bulk_users(0, kManyUsers);
  const Listing changes =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z");
  EXPECT_EQ(changes.records.size(), static_cast<size_t>(kManyUsers));
  EXPECT_EQ(changes.pieces, 3u) << "500 + 500 + 200 records";
  EXPECT_EQ(std::set<std::string>(changes.timestamps.begin(), changes.timestamps.end()).size(),
            static_cast<size_t>(kManyUsers));

  const Listing snapshot = list("resourceType=user&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.records.size(), static_cast<size_t>(kManyUsers));
  EXPECT_EQ(snapshot.pieces, 3u);

  const Listing limited = list(
      "resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=2023-01-01T00:00:00Z&limit=501");
  EXPECT_EQ(limited.records.size(), 501u);
  EXPECT_EQ(limited.timestamps.back(), changes.timestamps[500]);
}

TEST_F(ChangesApiTest, MembershipSnapshotsStreamInPiecesToo) {
  apply({group("Domain Users", {})});
  add_bulk_users(0, kManyUsers, sid("Domain Users"));
  const Listing snapshot = list("resourceType=membership&onPremisesSyncEnabled=true");
  EXPECT_EQ(snapshot.records,
            std::vector<std::string>(kManyUsers, "created membership ?>Domain Users"));
  EXPECT_EQ(snapshot.pieces, 3u);
}

TEST_F(ChangesApiTest, AStreamingSnapshotIsOneStateAndContinuesWithLaterWrites) {
  add_bulk_users(0, kManyUsers);
  const std::string snapshot_time = newest_timestamp();
  Response response = router_.handle(request("resourceType=user&onPremisesSyncEnabled=true"));
  ASSERT_TRUE(response.body().stream);
  std::string body;
  ASSERT_TRUE(response.body().stream(body));  // the first piece: 500 records

  // While it streams: a user it has not reached yet is deleted, one it has sent is changed,
  // a new one is added.
  pb::ObservedObject renamed = bulk_user(0);
  renamed.mutable_object()->set_display_name("renamed");
  ASSERT_TRUE(store_->apply_page(kDomain, {deleted_bulk_user(kManyUsers - 1), renamed},
                                 cursor_for(kDomain)).is_ok());
  add_bulk_users(kManyUsers, 1);

  for (bool more = true; more;) {
    std::string piece;
    more = response.body().stream(piece);
    body += piece;
  }
  const Listing snapshot = parse(Answer{200, "application/json", body, 0});
  EXPECT_EQ(snapshot.records.size(), static_cast<size_t>(kManyUsers)) << "as it was";
  EXPECT_EQ(snapshot.timestamps, std::vector<std::string>(kManyUsers, snapshot_time));
  EXPECT_EQ(body.find("renamed"), std::string::npos);

  const Listing after =
      list("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate=" + snapshot_time);
  EXPECT_EQ(after.records, (std::vector<std::string>{"deleted user ?", "updated user ?",
                                                     "created user ?"}));
}

}  // namespace
}  // namespace dirfeed::rest
