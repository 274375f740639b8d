// The User ID Service API read endpoints and health checks, handler level: a real store in a
// temp dir, filled through apply_page, and requests through the routing table.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <string>
#include <vector>

#include "proto/guid.hpp"
#include "rest/api.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;

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
    return response.body();
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
  changefeed::testing::FakeClock clock;
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
