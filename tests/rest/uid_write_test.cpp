// POST, PUT and DELETE /user at handler level (called directly, so they hold whatever the
// router's authentication does), over a real store in a temp dir.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/guid.hpp"
#include "rest/uid_api.hpp"
#include "rest/uid_write.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;
using testing::response_text;

constexpr char kGuid[] = "d8e3d58f-fbc9-4ba9-8206-925c3083ed7d";

class UidWriteTest : public StoreTest {
 protected:
  UidWriteTest() {
    apply({group("staff", {"alice"}), group("devs", {}), user("alice")});
    context_.api_writes = store_.get();
  }

  using Handler = Response (*)(const Call&, const ApiContext&);
  Response call(Handler handler, Call::Parameters path, const std::string& body,
                http::verb method = http::verb::post, std::string query = "") {
    Request request(method, "/", 11);
    request.body() = body;
    Call c{request, std::move(path), {}};
    if (!query.empty()) c.query.emplace_back("ip_only", query);
    return handler(c, context_);
  }
  Response post(const std::string& guid, const std::string& body) {
    return call(uid_create_user, {{"guid", guid}}, body);
  }
  Response post_ntlm(const std::string& identity, const std::string& body) {
    return call(uid_create_user, {{"identity", identity}}, body);
  }
  Response put(const std::string& guid, const std::string& body) {
    return call(uid_change_user, {{"guid", guid}}, body, http::verb::put);
  }
  Response del(const std::string& guid) {
    return call(uid_delete_user, {{"guid", guid}}, "", http::verb::delete_);
  }
  std::string get_user(const std::string& guid) {
    Response response = call(uid_user_by_guid, {{"guid", guid}}, "", http::verb::get);
    EXPECT_EQ(response.result(), http::status::ok) << response.body();
    return response.body();
  }
  std::string alice() { return guid_to_string(guid("alice")); }

  ApiContext context_{*store_, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}};
};

TEST_F(UidWriteTest, PostByGuidCreatesAnApiUser) {
  Response response = post(kGuid, R"({"dn": "CN=Jane Doe,OU=x,DC=US,DC=Example,DC=com",
      "sAMAccountName": "jdoe", "NTLMIdentity": "US1\\jdoe", "mail": "jdoe@us.example.com",
      "ipv4_addresses": ["192.0.2.12"], "ipv6_addresses": ["2001:DB8::1"],
      "objectGUID": "d8e3d58f-fbc9-4ba9-8206-925c3083ed7d",
      "groups": ["CN=staff,OU=Groups,DC=example,DC=test"], "timeout": "120"})");
  ASSERT_EQ(response.result(), http::status::ok) << response.body();
  EXPECT_EQ(response.body(), std::string(R"({"objectGUID":")") + kGuid + R"("})");
  const pb::DirectoryObject stored_user = *store_->object_by_guid(*guid_from_text(kGuid));
  EXPECT_FALSE(stored_user.from_directory());
  EXPECT_EQ(stored_user.domain(), "us.example.com");
  EXPECT_EQ(stored_user.ip_timeout_s(), 120);
  EXPECT_EQ(stored_user.ipv6_addresses(0), "2001:db8::1") << "canonical form";
  const std::string json = get_user(kGuid);
  EXPECT_NE(json.find(R"("NTLMIdentity":"US1\\jdoe","NTLMIIdentity":"US1\\jdoe")"),
            std::string::npos) << json;
  EXPECT_NE(json.find(R"("ipv4_addresses":["192.0.2.12"],"ipv6_addresses":["2001:db8::1"])"),
            std::string::npos) << json;
  EXPECT_NE(json.find(R"("groups":["CN=staff,OU=Groups,DC=example,DC=test"])"), std::string::npos);
  EXPECT_NE(json.find(R"("changetype":"ip-add")"), std::string::npos) << json;
}

TEST_F(UidWriteTest, PostByNtlmIdentityGeneratesTheGuidAndTakesDomainFromMail) {
  Response response = post_ntlm("EX2\\bob", R"({"NTLMIIdentity": "ex2\\BOB", "mail": "bob@Mail.Test"})");
  ASSERT_EQ(response.result(), http::status::ok) << response.body();
  const std::string text = response.body().substr(15, 36);
  std::optional<std::string> generated = guid_from_text(text);
  ASSERT_TRUE(generated.has_value()) << response.body();
  const pb::DirectoryObject bob = *store_->object_by_guid(*generated);
  EXPECT_EQ(bob.domain(), "mail.test");
  EXPECT_EQ(bob.sam_account_name(), "bob");
  EXPECT_TRUE(store_->object_by_ntlm("EX2\\bob").has_value());
  // Without any GUID in the URL (POST /user) too.
  Response plain = call(uid_create_user, {}, R"({"dn": "CN=carol,DC=example,DC=test"})");
  EXPECT_EQ(plain.result(), http::status::ok) << plain.body();
}

TEST_F(UidWriteTest, PostDuplicatesAre409) {
  ASSERT_EQ(post(kGuid, R"({"NTLMIdentity": "US1\\jdoe"})").result(), http::status::ok);
  EXPECT_EQ(post(kGuid, R"({"NTLMIdentity": "US1\\other"})").result(), http::status::conflict);
  EXPECT_EQ(post_ntlm("us1\\JDOE", R"({"mail": "x@y"})").result(), http::status::conflict);
  EXPECT_EQ(post(alice(), R"({"dn": "CN=new,DC=example,DC=test"})").result(), http::status::conflict)
      << "an AD user's GUID";
  EXPECT_EQ(post_ntlm("US1\\x", R"({"dn": "cn=ALICE,OU=People,DC=example,DC=test"})").result(),
            http::status::conflict);
}

TEST_F(UidWriteTest, PostBadRequestsAre400AndStoreNothing) {
  const uint64_t before = store_->last_sequence();
  for (const auto& [guid, body] : std::vector<std::pair<std::string, std::string>>{
           {kGuid, ""},
           {kGuid, "[]"},
           {kGuid, R"({"mail": "a@b"})"},                         // neither dn nor identity
           {kGuid, R"({"dn": "CN=x", "objectGUID": "9a151180-3cbe-4379-b109-494332bc5b03"})"},
           {kGuid, R"({"NTLMIdentity": "nobackslash"})"},
           {kGuid, R"({"NTLMIdentity": "A\\b", "NTLMIIdentity": "A\\c"})"},
           {kGuid, R"({"dn": "CN=x", "ipv4_addresses": ["192.0.2.1", "192.0.2.256"]})"},
           {kGuid, R"({"dn": "CN=x", "ipv4_addresses": ["2001:db8::1"]})"},
           {kGuid, R"({"dn": "CN=x", "ipv6_addresses": ["2001:dn8::1"]})"},
           {kGuid, R"({"dn": "CN=x", "ipv4_addresses": "192.0.2.1"})"},
           {kGuid, R"({"dn": "CN=x", "groups": ["CN=nosuch,DC=example,DC=test"]})"},
           {kGuid, R"({"dn": 5})"},
           {kGuid, R"({"dn": "CN=x", "timeout": "-1"})"},
           {kGuid, R"({"dn": "CN=x", "timeout": 1.5})"},
           {kGuid, R"({"dn": "CN=x",})"},
           {"not-a-guid", R"({"dn": "CN=x"})"}}) {
    Response response = post(guid, body);
    EXPECT_EQ(response.result(), http::status::bad_request) << body << " -> " << response.body();
    EXPECT_TRUE(response.body().starts_with(R"({"error":")")) << response.body();
  }
  EXPECT_EQ(post_ntlm("US1\\jdoe", "{}").result(), http::status::bad_request);
  EXPECT_EQ(post_ntlm("US1\\jdoe", R"({"NTLMIdentity": "US1\\other"})").result(),
            http::status::bad_request);
  EXPECT_EQ(store_->last_sequence(), before);
  EXPECT_EQ(post(kGuid, R"({"dn": "CN=x", "ipv4_addresses": ["192.0.2.256"]})").body(),
            R"({"error":"malformed IPv4 address \"192.0.2.256\" in ipv4_addresses"})");
}

TEST_F(UidWriteTest, PutAddModifyDeleteOnAnAdUser) {
  Response added = put(alice(), R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1", "192.0.2.2"],
      "groups": ["CN=devs,OU=Groups,DC=example,DC=test"]})");
  ASSERT_EQ(added.result(), http::status::ok) << added.body();
  EXPECT_EQ(added.body(), R"({"objectGUID":")" + alice() + R"("})");
  std::string json = get_user(alice());
  EXPECT_NE(json.find(R"("ipv4_addresses":["192.0.2.1","192.0.2.2"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"(OU=Groups,DC=example,DC=test","CN=devs,)"), std::string::npos) << json;

  ASSERT_EQ(put(alice(), R"({"changetype": "modify", "ipv4_addresses": ["192.0.2.3"]})").result(),
            http::status::ok);
  json = get_user(alice());
  EXPECT_NE(json.find(R"("ipv4_addresses":["192.0.2.3"])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("changetype":"ip-add")"), std::string::npos) << json;

  ASSERT_EQ(put(alice(), R"({"changetype": "delete", "ipv4_addresses": ["192.0.2.3", "203.0.113.1"],
      "groups": ["CN=nosuch,DC=example,DC=test"]})").result(), http::status::ok)
      << "absent values: 200";
  json = get_user(alice());
  EXPECT_EQ(json.find("ipv4_addresses"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("changetype":"ip-delete")"), std::string::npos) << json;

  Response by_ntlm = call(uid_change_user, {{"identity", "example\\ALICE"}},
                          R"({"changetype": "add", "ipv6_addresses": ["2001:db8::5"]})", http::verb::put);
  EXPECT_EQ(by_ntlm.result(), http::status::ok) << by_ntlm.body();
}

TEST_F(UidWriteTest, PutStatusCodes) {
  const uint64_t before = store_->last_sequence();
  for (const std::string body :
       {"", R"({"ipv4_addresses": ["192.0.2.1"]})", R"({"changetype": "replace", "ipv4_addresses": ["192.0.2.1"]})",
        R"({"changetype": "add"})", R"({"changetype": "add", "ipv4_addresses": []})",
        R"({"changetype": "delete", "groups": []})",
        R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1", "bad"]})",
        R"({"changetype": "add", "groups": ["CN=nosuch"]})"}) {
    Response response = put(alice(), body);
    EXPECT_EQ(response.result(), http::status::bad_request) << body << " -> " << response.body();
  }
  EXPECT_EQ(store_->last_sequence(), before) << "a 400 changes nothing";
  EXPECT_EQ(put(guid_to_string(guid("nobody")), R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1"]})").result(),
            http::status::not_found);
  EXPECT_EQ(put(guid_to_string(guid("staff")), R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1"]})").result(),
            http::status::not_found);
  EXPECT_EQ(call(uid_change_user, {{"identity", "EXAMPLE\\nobody"}},
                 R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1"]})", http::verb::put).result(),
            http::status::not_found);
  EXPECT_EQ(put("zz", R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1"]})").result(),
            http::status::bad_request);
  EXPECT_EQ(put(alice(), R"({"changetype": "modify", "ipv4_addresses": []})").result(), http::status::ok)
      << "modify with an empty list clears";
}

TEST_F(UidWriteTest, DeleteStatusCodes) {
  ASSERT_EQ(post(kGuid, R"({"NTLMIdentity": "US1\\jdoe", "ipv4_addresses": ["192.0.2.1"]})").result(),
            http::status::ok);
  Response deleted = del(kGuid);
  EXPECT_EQ(deleted.result(), http::status::ok);
  EXPECT_EQ(deleted.body(), std::string(R"({"objectGUID":")") + kGuid + R"("})");
  EXPECT_EQ(del(kGuid).result(), http::status::not_found) << "already deleted";
  EXPECT_EQ(del(guid_to_string(guid("nobody"))).result(), http::status::not_found);
  EXPECT_EQ(del("not-a-guid").result(), http::status::bad_request);
  ASSERT_EQ(put(alice(), R"({"changetype": "add", "ipv4_addresses": ["192.0.2.1"]})").result(), http::status::ok);
  EXPECT_EQ(del(alice()).result(), http::status::ok);
  EXPECT_TRUE(store_->object_by_guid(guid("alice")).has_value()) << "AD users stay";
  EXPECT_EQ(get_user(alice()).find("ipv4_addresses"), std::string::npos);
}

TEST_F(UidWriteTest, UsersIpOnlyAndNetworksSeeMappings) {
  ASSERT_EQ(put(alice(), R"({"changetype": "add", "ipv4_addresses": ["192.0.2.7"]})").result(), http::status::ok);
  Request request(http::verb::get, "/", 11);
  Call ip_only{request, {}, {}};
  std::string users = response_text(uid_users(ip_only, context_));
  EXPECT_NE(users.find(R"("sAMAccountName":"alice")"), std::string::npos) << users;
  Call in_range{request, {}, {{"networks", "192.0.2.1-192.0.2.10"}}};
  EXPECT_NE(response_text(uid_users(in_range, context_)).find("alice"), std::string::npos);
  Call out_of_range{request, {}, {{"networks", "192.0.2.8-192.0.2.10"}}};
  EXPECT_EQ(response_text(uid_users(out_of_range, context_)), R"({"users":[]})");
}

TEST_F(UidWriteTest, UsersByGroupIncludeApiMembersOnce) {
  Request request(http::verb::get, "/", 11);
  auto members = [&](const std::string& group_name) {
    Call call{request, {}, {{"ip_only", "false"},
                            {"group", "CN=" + group_name + ",OU=Groups,DC=example,DC=test"}}};
    return response_text(uid_users(call, context_));
  };
  auto count = [](const std::string& text, const std::string& what) {
    size_t found = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
      ++found;
    }
    return found;
  };
  const std::string kAlice = R"("sAMAccountName":"alice")";
  const std::string kJdoe = R"("sAMAccountName":"jdoe")";
  ASSERT_EQ(members("devs"), R"({"users":[]})");

  ASSERT_EQ(put(alice(), R"({"changetype": "add", "groups": ["CN=staff,OU=Groups,DC=example,DC=test",
      "CN=devs,OU=Groups,DC=example,DC=test"]})").result(), http::status::ok);
  ASSERT_EQ(post(kGuid, R"({"NTLMIdentity": "US1\\jdoe",
      "groups": ["CN=devs,OU=Groups,DC=example,DC=test"]})").result(), http::status::ok);
  std::string devs = members("devs");
  EXPECT_EQ(count(devs, kAlice), 1u) << devs;
  EXPECT_EQ(count(devs, kJdoe), 1u) << devs;
  EXPECT_LT(devs.find(kAlice), devs.find(kJdoe)) << "GUID order (bytes unsigned)";
  const std::string staff = members("staff");
  EXPECT_EQ(count(staff, kAlice), 1u) << "AD and API member: listed once; " << staff;

  ASSERT_EQ(put(alice(), R"({"changetype": "delete",
      "groups": ["CN=devs,OU=Groups,DC=example,DC=test", "CN=staff,OU=Groups,DC=example,DC=test"]})")
                .result(), http::status::ok);
  devs = members("devs");
  EXPECT_EQ(count(devs, kAlice), 0u) << devs;
  EXPECT_EQ(count(devs, kJdoe), 1u) << devs;
  EXPECT_EQ(count(members("staff"), kAlice), 1u) << "still in it through AD";
  ASSERT_EQ(del(kGuid).result(), http::status::ok);
  EXPECT_EQ(members("devs"), R"({"users":[]})");
}

}  // namespace
}  // namespace dirfeed::rest
