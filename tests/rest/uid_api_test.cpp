// The User ID Service API read endpoints and health checks, handler level: a real store in a
// temp dir, filled through apply_page, and requests through the routing table.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/json.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;
using testing::response_pieces;
using testing::response_text;

constexpr char kBase[] = "/api/uid/v1.0";

class UidApiTest : public StoreTest {
 protected:
  UidApiTest() {
    pb::ObservedObject domain_users = group("Domain Users", {});
    pb::ObservedObject staff = group("staff", {"alice", "admins"});
    pb::ObservedObject admins = group("admins", {});
    pb::ObservedObject bob = user("bob", "Domain Users");
    bob.mutable_object()->clear_mail();
    apply({domain_users, admins, staff, user("alice", "Domain Users"), bob});
  }

  Response get(const std::string& target, http::verb method = http::verb::get) {
    Request request(method, target, 11);
    return router_.handle(request);
  }
  std::string body(const std::string& target) {
    Response response = get(target);
    EXPECT_EQ(response.result(), http::status::ok) << target << ": " << response.body();
    EXPECT_EQ(response[http::field::content_type], "application/json");
    return response_text(response);
  }
  std::string users(const std::string& query) { return body(std::string(kBase) + "/users?" + query); }

  std::string guid_text(const std::string& name) { return guid_to_string(guid(name)); }
  std::string dn(const std::string& name) { return stored(name).dn(); }
  // The timestamp field of a stored object.
  std::string stamp(const std::string& name) {
    const int64_t us = stored(name).last_change_us();
    const std::string micros = std::to_string(us % 1'000'000);
    return std::to_string(us / 1'000'000) + "." + std::string(6 - micros.size(), '0') + micros;
  }

  std::string alice_json() {
    return R"({"dn":"CN=alice,OU=People,DC=example,DC=test","changetype":"add",)"
           R"("sAMAccountName":"alice","NTLMIdentity":"EXAMPLE\\alice",)"
           R"("NTLMIIdentity":"EXAMPLE\\alice","mail":"alice@example.test",)"
           R"("objectGUID":")" + guid_text("alice") + R"(","groups":[")" + dn("Domain Users") +
           R"(",")" + dn("staff") + R"("],"timestamp":")" + stamp("alice") + R"("})";
  }

  ApiContext context_{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}};
  Router router_ = make_router(context_);
};

// ---- /domains, /users ----------------------------------------------------------------------

TEST_F(UidApiTest, DomainsListsBaseDns) {
  EXPECT_EQ(body(std::string(kBase) + "/domains"), R"({"domains":["DC=example,DC=test"]})");
}

TEST_F(UidApiTest, UsersDefaultsToIpOnlyWhichIsEmptyWithoutMappings) {
  EXPECT_EQ(body(std::string(kBase) + "/users"), R"({"users":[]})");
  EXPECT_EQ(users("ip_only=TRUE"), R"({"users":[]})");
}

TEST_F(UidApiTest, UsersWithoutIpFilterListsEveryUserWithItsFields) {
  const std::string all = users("ip_only=false");
  // GUID order: the fixture numbers names as they first appear, alice before bob.
  EXPECT_TRUE(all.starts_with(R"({"users":[)" + alice_json() + ",{")) << all;
  EXPECT_NE(all.find(R"("sAMAccountName":"bob","NTLMIdentity":"EXAMPLE\\bob",)"
                     R"("NTLMIIdentity":"EXAMPLE\\bob","mail":"",)"),
            std::string::npos)
      << all;
  EXPECT_EQ(all.find("ipv4_addresses"), std::string::npos) << "omitted while empty";
  EXPECT_EQ(all.find("staff\""), std::string::npos) << "groups are not users";
}

TEST_F(UidApiTest, UsersByDomainAcceptsFqdnOrDnInAnyCase) {
  const std::string all = users("ip_only=false");
  EXPECT_EQ(users("ip_only=false&domain=EXAMPLE.test"), all);
  EXPECT_EQ(users("ip_only=false&domain=dc%3Dexample%2C%20dc%3DTEST"), all);
  EXPECT_EQ(users("ip_only=false&domain=other.test"), R"({"users":[]})");
}

TEST_F(UidApiTest, UsersByGroupListsDirectMembersIncludingPrimaryGroup) {
  const std::string staff = users("ip_only=false&group=cn%3Dstaff%2COU%3DGroups%2CDC%3Dexample%2CDC%3Dtest");
  EXPECT_EQ(staff, R"({"users":[)" + alice_json() + "]}") << "admins is a group, not a user";

  const std::string primary = users("ip_only=false&group=" + dn("Domain Users"));
  EXPECT_NE(primary.find(R"("sAMAccountName":"alice")"), std::string::npos);
  EXPECT_NE(primary.find(R"("sAMAccountName":"bob")"), std::string::npos);

  EXPECT_EQ(users("ip_only=false&group=CN%3Dnobody"), R"({"users":[]})");
  EXPECT_EQ(users("ip_only=false&group=" + dn("alice")), R"({"users":[]})") << "not a group";
  EXPECT_EQ(users("ip_only=false&domain=other.test&group=" + dn("staff")), R"({"users":[]})");
}

TEST_F(UidApiTest, UsersByNetworksFiltersOnAddresses) {
  // Well-formed ranges: no user has an address yet, so none matches.
  EXPECT_EQ(users("ip_only=false&networks=192.0.2.1-192.0.2.55"), R"({"users":[]})");
  EXPECT_EQ(users("ip_only=false&networks=10.0.0.0-10.0.0.0%2C%202001%3Adb8%3A%3A1-2001%3Adb8%3A%3Aff"),
            R"({"users":[]})");
}

TEST_F(UidApiTest, BadUsersParametersAre400) {
  for (const std::string query :
       {"networks=192.0.2.55-192.0.2.1", "networks=2001:db8::ff-2001:db8::1",
        "networks=192.0.2.1", "networks=192.0.2.1-", "networks=", "networks=1.2.3.4-5.6.7.8,",
        "networks=192.0.2.1-2001:db8::1", "networks=192.0.2.300-192.0.2.301",
        "ip_only=maybe", "domain=%ZZ"}) {
    Response response = get(std::string(kBase) + "/users?" + query);
    EXPECT_EQ(response.result(), http::status::bad_request) << query;
    EXPECT_TRUE(response.body().starts_with(R"({"error":")")) << response.body();
  }
  EXPECT_EQ(get(std::string(kBase) + "/users?networks=192.0.2.9-192.0.2.1").body(),
            R"({"error":"network range \"192.0.2.9-192.0.2.1\" ends before it starts"})");
}

// ---- /user ---------------------------------------------------------------------------------

TEST_F(UidApiTest, UserByGuidInStringOrBase64Form) {
  EXPECT_EQ(body(std::string(kBase) + "/user/" + guid_text("alice")), alice_json());
  std::string base64 = base64_encode(guid("alice"));
  // Percent-encoded as a client would ('+', '/' and '=' are all possible in base64).
  std::string encoded;
  for (char c : base64) {
    if (c == '+') encoded += "%2B";
    else if (c == '/') encoded += "%2F";
    else if (c == '=') encoded += "%3D";
    else encoded += c;
  }
  EXPECT_EQ(body(std::string(kBase) + "/user/" + encoded), alice_json());
}

TEST_F(UidApiTest, UserByDnAndNtlmIdentityIgnoreCase) {
  EXPECT_EQ(body(std::string(kBase) + "/user/dn/cn%3DALICE%2Cou%3Dpeople%2Cdc%3Dexample%2Cdc%3Dtest"),
            alice_json());
  EXPECT_EQ(body(std::string(kBase) + "/user/ntlm-identity/example%5CAlice"), alice_json());
}

TEST_F(UidApiTest, UnknownUserIs404) {
  for (const std::string& path : std::vector<std::string>{
           "/user/" + guid_text("nobody"), "/user/" + guid_text("staff"),
        "/user/dn/CN%3Dnobody", "/user/dn/" + dn("staff"), "/user/ntlm-identity/EXAMPLE%5Cnobody",
        "/user/ntlm-identity/EXAMPLE%5Cstaff"}) {
    Response response = get(kBase + path);
    EXPECT_EQ(response.result(), http::status::not_found) << path;
    EXPECT_EQ(response.body(), R"({"error":"no such user"})");
  }
}

TEST_F(UidApiTest, MalformedGuidIs400) {
  EXPECT_EQ(get(std::string(kBase) + "/user/not-a-guid").result(), http::status::bad_request);
  EXPECT_EQ(get(std::string(kBase) + "/user/%GG").result(), http::status::bad_request);
}

TEST_F(UidApiTest, UserShowsRenamedGroupsAndLatestChange) {
  pb::ObservedObject renamed = group("staff", {"alice", "admins"});
  renamed.mutable_object()->set_dn("CN=Personnel,OU=Groups,DC=example,DC=test");
  clock_.advance(2'000'000);
  apply({renamed});
  pb::ObservedObject changed = user("alice", "Domain Users");
  changed.mutable_object()->set_title("Engineer");
  apply({changed});

  const std::string alice = body(std::string(kBase) + "/user/" + guid_text("alice"));
  EXPECT_NE(alice.find(R"("CN=Personnel,OU=Groups,DC=example,DC=test")"), std::string::npos);
  EXPECT_NE(alice.find(R"("changetype":"modify")"), std::string::npos) << alice;
  EXPECT_NE(alice.find(R"("timestamp":"1700000002.)"), std::string::npos) << alice;
}

TEST_F(UidApiTest, EscapesDnsAndPassesNonAsciiThrough) {
  pb::ObservedObject smith = user("smith");
  smith.mutable_object()->set_dn("CN=Smith\\, Zoë \"Z\",OU=People,DC=example,DC=test");
  apply({smith});
  const std::string json = body(std::string(kBase) + "/user/" + guid_text("smith"));
  EXPECT_TRUE(json.starts_with(R"({"dn":"CN=Smith\\, Zoë \"Z\",OU=People,DC=example,DC=test",)"))
      << json;
  EXPECT_EQ(body(std::string(kBase) + "/user/dn/CN%3DSmith%5C%2C%20Zo%C3%AB%20%22Z%22%2COU%3DPeople%2CDC%3Dexample%2CDC%3Dtest"),
            json);
}

// ---- long lists: streamed in pieces --------------------------------------------------------

// 600 more users than fit in two pieces (256 objects each), all listed by the group "many",
// with GUIDs that sort after the fixture's and in creation order.
class LongListTest : public UidApiTest {
 protected:
  static constexpr int kBulk = 600;

  LongListTest() {
    pb::ObservedObject many = group("many", {});
    std::vector<pb::ObservedObject> page;
    for (int i = 0; i < kBulk; ++i) {
      pb::ObservedObject observed;
      pb::DirectoryObject& object = *observed.mutable_object();
      object.set_guid(bulk_guid(i));
      object.set_kind(pb::USER);
      object.set_dn("CN=bulk" + std::to_string(i) + ",OU=People,DC=example,DC=test");
      object.set_sam_account_name("bulk" + std::to_string(i));
      object.set_netbios_domain(changefeed::testing::kNetbios);
      object.set_mail("bulk" + std::to_string(i) + "@example.test");
      page.push_back(observed);
      many.add_members(bulk_guid(i));
    }
    page.push_back(many);
    apply(page);
  }

  static std::string bulk_guid(int i) {
    std::string guid(16, '\x7b');
    guid[1] = static_cast<char>(i >> 8);
    guid[2] = static_cast<char>(i & 0xff);
    return guid;
  }

  // GET /user/{guid} of each, joined as the list {"users":[...]} holds them.
  std::string listed(const std::vector<std::string>& guids) {
    std::string text = R"({"users":[)";
    for (const std::string& guid : guids) {
      if (text.back() != '[') text += ',';
      text += body(std::string(kBase) + "/user/" + guid_to_string(guid));
    }
    return text + "]}";
  }
  std::vector<std::string> bulk_guids() {
    std::vector<std::string> guids;
    for (int i = 0; i < kBulk; ++i) guids.push_back(bulk_guid(i));
    return guids;
  }

  // The pieces of a streamed 200 response; fails the test when it is not streamed or a piece
  // is larger than its bounds (256 objects; the object that takes it past 32 KiB ends it).
  std::vector<std::string> pieces(const std::string& target) {
    Response response = get(target);
    EXPECT_EQ(response.result(), http::status::ok) << target;
    EXPECT_EQ(response[http::field::content_type], "application/json");
    EXPECT_TRUE(response.body().stream) << target << " is not streamed";
    std::vector<std::string> pieces = response_pieces(response);
    for (const std::string& piece : pieces) {
      size_t objects = 0;
      for (size_t at = piece.find("\"objectGUID\""); at != std::string::npos;
           at = piece.find("\"objectGUID\"", at + 1)) {
        ++objects;
      }
      EXPECT_LE(objects, 256u) << target;
      EXPECT_LT(piece.size(), 33u * 1024) << target;
    }
    return pieces;
  }
  static std::string joined(const std::vector<std::string>& pieces) {
    std::string text;
    for (const std::string& piece : pieces) text += piece;
    return text;
  }

  // After the first piece of `query`'s list: bulk10 (sent in it) and bulk500 (not yet) change,
  // bulk400 is deleted. The rest of the list shows bulk500 changed, bulk10 once as it was,
  // and no bulk400.
  void expect_changes_between_pieces_show_once(const std::string& query) {
    const std::string before =
        body(std::string(kBase) + "/user/" + guid_to_string(bulk_guid(10)));
    Response response = get(std::string(kBase) + "/users?" + query);
    ASSERT_TRUE(response.body().stream);
    std::string text;
    ASSERT_TRUE(response.body().stream(text)) << "more pieces follow the first";
    ASSERT_NE(text.find(before), std::string::npos) << "bulk10 is in the first piece";

    for (int i : {10, 500}) {
      pb::ObservedObject changed;
      changed.set_partial(true);
      changed.add_present_fields("mail");
      changed.mutable_object()->set_guid(bulk_guid(i));
      changed.mutable_object()->set_mail("changed" + std::to_string(i) + "@example.test");
      apply({changed});
    }
    pb::ObservedObject gone;
    gone.mutable_object()->set_guid(bulk_guid(400));
    gone.set_deleted(true);
    apply({gone});
    ASSERT_FALSE(store_->object_by_guid(bulk_guid(400)));

    for (bool more = true; more;) {
      std::string piece;
      more = response.body().stream(piece);
      text += piece;
    }
    std::string error;
    ASSERT_TRUE(parse_json(text, &error)) << error;
    EXPECT_EQ(text.find(R"("sAMAccountName":"bulk400")"), std::string::npos);
    EXPECT_NE(text.find(R"("mail":"changed500@example.test")"), std::string::npos);
    EXPECT_EQ(text.find("changed10@"), std::string::npos);
    size_t count = 0;
    for (size_t at = text.find(R"("sAMAccountName":"bulk10")"); at != std::string::npos;
         at = text.find(R"("sAMAccountName":"bulk10")", at + 1)) {
      ++count;
    }
    EXPECT_EQ(count, 1u);
  }
};

TEST_F(LongListTest, UsersAreStreamedInPiecesWithTheBytesOfOneDocument) {
  std::vector<std::string> guids = {guid("alice"), guid("bob")};
  for (const std::string& bulk : bulk_guids()) guids.push_back(bulk);
  for (const std::string query : {"ip_only=false", "ip_only=false&domain=example.test"}) {
    const std::vector<std::string> parts = pieces(std::string(kBase) + "/users?" + query);
    EXPECT_GE(parts.size(), 3u) << query;
    EXPECT_EQ(joined(parts), listed(guids)) << query;
  }
}

TEST_F(LongListTest, GroupMembersAreStreamedInPieces) {
  const std::vector<std::string> parts =
      pieces(std::string(kBase) + "/users?ip_only=false&group=" + dn("many"));
  EXPECT_GE(parts.size(), 3u);
  EXPECT_EQ(joined(parts), listed(bulk_guids()));
}

TEST_F(LongListTest, IpAndNetworkFiltersApplyAcrossPieces) {
  for (const auto& [i, address] : {std::pair{5, "192.0.2.5"}, std::pair{300, "192.0.2.30"},
                                   std::pair{599, "198.51.100.1"}}) {
    changefeed::UserChange change;
    change.ipv4 = std::vector<std::string>{address};
    change.default_lifetime_us = 3'600'000'000;
    changefeed::ApiOutcome outcome;
    ASSERT_TRUE(store_->change_user(bulk_guid(i), change, &outcome).is_ok());
    ASSERT_EQ(outcome, changefeed::ApiOutcome::kDone);
  }
  const std::string mapped = listed({bulk_guid(5), bulk_guid(300), bulk_guid(599)});
  EXPECT_NE(mapped.find(R"("ipv4_addresses":["192.0.2.30"])"), std::string::npos) << mapped;
  EXPECT_EQ(joined(pieces(std::string(kBase) + "/users")), mapped);
  EXPECT_EQ(joined(pieces(std::string(kBase) + "/users?group=" + dn("many"))), mapped);
  EXPECT_EQ(joined(pieces(std::string(kBase) + "/users?networks=192.0.2.0-192.0.2.255")),
            listed({bulk_guid(5), bulk_guid(300)}));
  EXPECT_EQ(joined(pieces(std::string(kBase) + "/users?ip_only=false&group=" + dn("many") +
                          "&networks=198.51.100.0-198.51.100.9")),
            listed({bulk_guid(599)}));
}

TEST_F(LongListTest, ObjectsChangedWhileUsersAreSentShowOnceAsTheirPieceReadThem) {
  expect_changes_between_pieces_show_once("ip_only=false");
}

TEST_F(LongListTest, MembersChangedWhileTheyAreSentShowOnceAsTheirPieceReadThem) {
  expect_changes_between_pieces_show_once("ip_only=false&group=" + dn("many"));
}

TEST_F(LongListTest, GroupsAreStreamedInPieces) {
  std::vector<pb::ObservedObject> page;
  for (int i = 0; i < 300; ++i) {
    pb::ObservedObject observed;
    pb::DirectoryObject& object = *observed.mutable_object();
    std::string guid(16, '\x7c');
    guid[1] = static_cast<char>(i >> 8);
    guid[2] = static_cast<char>(i & 0xff);
    object.set_guid(guid);
    object.set_kind(pb::GROUP);
    object.set_dn("CN=team" + std::to_string(i) + ",OU=Groups,DC=example,DC=test");
    object.set_sam_account_name("team" + std::to_string(i));
    page.push_back(observed);
  }
  apply(page);
  const std::vector<std::string> parts = pieces(std::string(kBase) + "/groups");
  EXPECT_GE(parts.size(), 2u);
  const std::string text = joined(parts);
  std::string error;
  const std::optional<JsonValue> json = parse_json(text, &error);
  ASSERT_TRUE(json) << error;
  const JsonValue* groups = json->find("groups");
  ASSERT_TRUE(groups != nullptr && groups->is_array());
  std::vector<std::string> seen;
  for (const JsonValue& group : groups->array()) seen.push_back(group.find("objectGUID")->text());
  EXPECT_EQ(seen.size(), 4u + 300u) << "Domain Users, staff, admins, many and the teams";
  std::vector<std::string> unique = seen;
  std::sort(unique.begin(), unique.end());
  EXPECT_EQ(std::unique(unique.begin(), unique.end()), unique.end()) << "each group once";
  EXPECT_EQ(body(std::string(kBase) + "/groups?domain=example.test"), text);
}

// ---- /groups, /status ----------------------------------------------------------------------

TEST_F(UidApiTest, GroupsListsGroupObjects) {
  const std::string all = body(std::string(kBase) + "/groups");
  const std::string admins =
      R"({"dn":"CN=admins,OU=Groups,DC=example,DC=test","sAMAccountName":"admins",)"
      R"("NTLMIdentity":"EXAMPLE\\admins","NTLMIIdentity":"EXAMPLE\\admins",)"
      R"("objectGUID":")" + guid_text("admins") + R"(","groups":[")" + dn("staff") +
      R"("],"objectClass":"Group","changetype":"add","timestamp":")" + stamp("admins") + R"("})";
  EXPECT_TRUE(all.starts_with(R"({"groups":[{"dn":"CN=Domain Users,)")) << all;
  EXPECT_TRUE(all.ends_with("," + admins + "]}")) << all;
  EXPECT_EQ(all.find("alice\""), std::string::npos) << "users are not groups";

  EXPECT_EQ(body(std::string(kBase) + "/groups?domain=DC%3Dexample%2CDC%3Dtest"), all);
  EXPECT_EQ(body(std::string(kBase) + "/groups?domain=example.test"), all);
  EXPECT_EQ(body(std::string(kBase) + "/groups?domain=DC%3Dother"), R"({"groups":[]})");
}

TEST_F(UidApiTest, StatusCountsUsersPerDomain) {
  apply({user("carol")}, "other.test");  // not configured: not counted
  context_.domains.push_back({"empty.test", "DC=empty,DC=test", "EMPTY"});
  // The fixture clock starts at 1'700'000'000 s = Tue, 14 Nov 2023 22:13:20 GMT.
  EXPECT_EQ(body(std::string(kBase) + "/status"),
            R"({"status":{"Last update":"Tue, 14 Nov 2023 22:13:20 GMT","Total domains count":2,)"
            R"("Total users count":2,"Users count per domain":{"example.test":2,"empty.test":0}}})");
}

TEST_F(UidApiTest, StatusOfAnEmptyStore) {
  std::string error;
  changefeed::testing::ManualClock clock;
  dirfeed::testing::TempDir dir;
  auto empty = changefeed::Store::open({dir.path() + "/db"}, clock, &error);
  ASSERT_TRUE(empty) << error;
  ApiContext context{*empty, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}};
  Request request(http::verb::get, std::string(kBase) + "/status", 11);
  EXPECT_EQ(make_router(context).handle(request).body(),
            R"({"status":{"Last update":null,"Total domains count":1,"Total users count":0,)"
            R"("Users count per domain":{"example.test":0}}})");
}

// ---- health, errors ------------------------------------------------------------------------

TEST_F(UidApiTest, HealthzAndReadyz) {
  EXPECT_EQ(body("/healthz"), R"({"status":"ok"})");
  Response pending = get("/readyz");
  EXPECT_EQ(pending.result(), http::status::service_unavailable);
  EXPECT_EQ(pending.body(), R"({"error":"first sync not complete","pending":["example.test"]})");

  pb::Cursor done = cursor_for(kDomain);
  done.set_full_sync_done(true);
  done.set_last_pass_us(1'700'000'000'000'000);
  ASSERT_TRUE(store_->apply_page(kDomain, {}, done).is_ok());
  EXPECT_EQ(body("/readyz"), R"({"status":"ready"})");

  // A later full resync (another DC, say) keeps it ready: the first sync completed once.
  pb::Cursor resync = done;
  resync.set_full_sync_done(false);
  ASSERT_TRUE(store_->apply_page(kDomain, {}, resync).is_ok());
  EXPECT_EQ(body("/readyz"), R"({"status":"ready"})");
}

TEST_F(UidApiTest, UnknownPathsAndMethods) {
  EXPECT_EQ(get(std::string(kBase) + "/nothing").result(), http::status::not_found);
  EXPECT_EQ(get("/api/uid/v2.0/users").result(), http::status::not_found);
  Response post = get(std::string(kBase) + "/users", http::verb::post);
  EXPECT_EQ(post.result(), http::status::method_not_allowed);
  EXPECT_EQ(post[http::field::allow], "GET");
  // (DELETE and PUT have routes there now: the User ID API writes, which need credentials.)
  EXPECT_EQ(get(std::string(kBase) + "/user/" + guid_text("alice"), http::verb::patch).result(),
            http::status::method_not_allowed);
  EXPECT_EQ(get(std::string(kBase) + "/user/" + guid_text("alice"), http::verb::delete_).result(),
            http::status::unauthorized);
}

}  // namespace
}  // namespace dirfeed::rest
