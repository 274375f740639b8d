#pragma once
// The Directory Changes API tests' fixture (changes_api_test.cpp, changes_snapshot_test.cpp):
// a real store in a temp dir filled through apply_page and the User ID API writes, a real
// keys file, and requests through the routing table, their streamed bodies read piece by
// piece.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/changes_api.hpp"
#include "rest/credentials.hpp"
#include "rest/iso_time.hpp"
#include "rest/json.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest::testing {

namespace http = boost::beast::http;
using changefeed::ApiOutcome;
using changefeed::FeedQuery;
using changefeed::UserChange;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;

inline constexpr char kPath[] = "/public/directory-changes?";
inline constexpr char kDeltaMessage[] = "Delta changes fetched successfully";

// More records than two pieces hold (kChangesPieceSize).
inline constexpr int kManyUsers = 1'200;
static_assert(static_cast<size_t>(kManyUsers) > 2 * kChangesPieceSize);

// A new key stored in `dir`/keys under the name "consumer"; returns the key.
inline std::string make_keys_file(const std::string& dir) {
  const std::string key = generate_api_key();
  write_file_atomically(dir + "/keys", format_keys({{"consumer", api_key_hash(key)}}));
  return key;
}

// GUIDs for bulk users: the fixture's names give at most 255 distinct ones.
inline std::string bulk_guid(int number) {
  std::string guid(16, '\x77');
  for (int i = 0; i < 4; ++i) guid[i] = static_cast<char>(number >> (24 - 8 * i));
  return guid;
}

inline std::vector<std::string> sorted(std::vector<std::string> lines) {
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

inline Answer drain(const Response& response) {
  Answer answer{response.result_int(), std::string(response[http::field::content_type]), "", 0};
  for (const std::string& piece : response_pieces(response)) {
    if (response.body().stream && !piece.empty()) ++answer.pieces;
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

}  // namespace dirfeed::rest::testing
