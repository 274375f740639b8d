#pragma once
// The Directory Sync API tests' fixture (dsync_api_test.cpp: directories, keys and routing;
// dsync_objects_test.cpp: users and groups): a real store in a temp dir filled through
// apply_page, an API key in a keys file, and requests through the routing table.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/dsync_api.hpp"
#include "rest/json.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest::testing {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;

inline constexpr char kBase[] = "/api/v1/directory-sync";
inline constexpr char kPeople[] = "OU=People,DC=example,DC=test";
inline constexpr char kStaff[] = "OU=Staff,DC=example,DC=test";

struct Reply {
  http::status status;
  std::string body;
  size_t pieces;
};

class DsyncApiTest : public StoreTest {
 protected:
  DsyncApiTest() {
    // GUIDs are numbered in order of first use: this fixes the order of lists.
    for (const char* name : {"Domain Users", "staff", "admins", "alice", "bob", "carol", "dave"}) {
      guid(name);
    }
    pb::ObservedObject alice = person("alice", kPeople);
    changefeed::testing::set_alice_profile(*alice.mutable_object());
    pb::ObservedObject bob = person("bob", kPeople);
    bob.mutable_object()->clear_mail();
    bob.mutable_object()->set_user_account_control(0x202);  // disabled
    apply({group("Domain Users", {}), group("staff", {"alice", "bob", "carol", "admins"}),
           group("admins", {}), alice, bob, person("carol", kStaff),
           person("dave", "OU=OldStaff,DC=example,DC=test")});
    const std::string key_file = temp_.write("api-keys", format_keys({{"app", api_key_hash(key_)}}));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", key_file);
    connect();
  }

  // A user of the fixture's domain under `ou`, in Domain Users by its primary group.
  pb::ObservedObject person(const std::string& name, const std::string& ou) {
    pb::ObservedObject observed = user(name, "Domain Users");
    observed.mutable_object()->set_dn("CN=" + name + "," + ou);
    return observed;
  }

  // (Re)builds the context and router over store_ (after reopen()).
  void connect() {
    router_.reset();
    context_ = testing::test_context(*store_, credentials_.get(), &clock_, domains_);
    router_ = std::make_unique<Router>(make_router(*context_));
  }

  // `method` `target` with the API key (as `Authorization: Api-Key`) unless `key` is given.
  Reply call(http::verb method, const std::string& target, const std::string& body = "",
             std::optional<std::string> authorization = std::nullopt) {
    Request request(method, target, 11);
    request.set(http::field::authorization, authorization.value_or("Api-Key " + key_));
    if (!body.empty()) request.body() = body;
    Response response = router_->handle(request);
    EXPECT_EQ(response[http::field::content_type], "application/json") << target;
    const std::vector<std::string> pieces = response_pieces(response);
    std::string text;
    for (const std::string& piece : pieces) text += piece;
    return {response.result(), std::move(text), pieces.size()};
  }
  Reply get(const std::string& target) { return call(http::verb::get, target); }
  Reply post(const std::string& body) { return call(http::verb::post, kBase, body); }

  // The body of a 200 GET.
  std::string ok(const std::string& target) {
    Reply reply = get(target);
    EXPECT_EQ(reply.status, http::status::ok) << target << ": " << reply.body;
    return reply.body;
  }

  // Creates a directory (201) and returns its id.
  std::string create(const std::string& body) {
    Reply reply = post(body);
    EXPECT_EQ(reply.status, http::status::created) << body << ": " << reply.body;
    std::smatch match;
    if (!std::regex_search(reply.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))) {
      ADD_FAILURE() << "no id in " << reply.body;
      return "";
    }
    return match[1].str();
  }

  // The ids in a {"data": [...]} list, as fixture names when they are objects' GUIDs.
  std::vector<std::string> names(const std::string& body) {
    std::string error;
    std::optional<JsonValue> document = parse_json(body, &error);
    EXPECT_TRUE(document) << error << ": " << body;
    std::vector<std::string> found;
    if (!document || document->find("data") == nullptr) return found;
    for (const JsonValue& item : document->find("data")->array()) {
      const std::string& id = item.find("id")->text();
      const std::optional<std::string> bytes = id.size() == 36 ? guid_from_text(id) : std::nullopt;
      const std::string name = bytes ? name_of(*bytes) : "?";
      found.push_back(name != "?" ? name : id);
    }
    return found;
  }

  std::string id_of(const std::string& name) { return guid_to_string(guid(name)); }

  static std::string error_body(const std::string& message) {
    return R"({"data":null,"error":{"message":")" + message + R"("}})";
  }

  // alice as the directory `directory` shows her.
  std::string alice_json(const std::string& directory) {
    return R"({"id":")" + id_of("alice") +
           R"(","first_name":"Alice","last_name":"Liddell","email":"alice@example.test",)"
           R"("active":true,"directoryId":")" + directory + R"(","raw":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
           R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",)"
           R"("urn:dirfeed:params:scim:schemas:extension:ad:1.0:User"],"id":")" +
           id_of("alice") + R"(","externalId":")" + base64_encode(guid("alice")) +
           R"(","userName":"alice@example.test","name":{"givenName":"Alice",)"
           R"("familyName":"Liddell"},"displayName":"alice Display","emails":[{"primary":true,)"
           R"("value":"alice@example.test","type":"work"}],"phoneNumbers":[{"value":"+1 555 0100",)"
           R"("type":"work"},{"value":"+1 555 0199","type":"work"}],"title":"Engineer",)"
           R"("active":true,"groups":[{"value":")" + id_of("Domain Users") + R"("},{"value":")" +
           id_of("staff") + R"("}],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":)"
           R"({"department":"R&D"},"urn:dirfeed:params:scim:schemas:extension:ad:1.0:User":)"
           R"({"distinguishedName":"CN=alice,OU=People,DC=example,DC=test",)"
           R"("sAMAccountName":"alice","objectSid":")" + sid("alice") +
           R"(","userPrincipalName":"alice@example.test","domain":"example.test",)"
           R"("netbiosDomain":"EXAMPLE","whenCreated":"2026-01-02T03:04:05Z"}}})";
  }

  // staff as a group list shows it; `members`: its user members in the view, as
  // {"value", "display"} texts.
  std::string staff_json(const std::string& members, const std::string& directory) {
    return R"({"id":")" + id_of("staff") + R"(","name":"staff","directoryId":")" + directory +
           R"(","raw":{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group",)"
           R"("urn:dirfeed:params:scim:schemas:extension:ad:1.0:Group"],"id":")" + id_of("staff") +
           R"(","displayName":"staff","members":[)" + members +
           R"(],"urn:dirfeed:params:scim:schemas:extension:ad:1.0:Group":)"
           R"({"distinguishedName":"CN=staff,OU=Groups,DC=example,DC=test",)"
           R"("sAMAccountName":"staff","objectSid":")" + sid("staff") +
           R"(","description":"staff group","domain":"example.test"}}})";
  }

  std::string member(const std::string& name, const std::string& display) {
    return R"({"value":")" + id_of(name) + R"(","display":")" + display + R"("})";
  }

  const std::string key_ = generate_api_key();
  std::vector<DomainInfo> domains_{{kDomain, "DC=example,DC=test", "EXAMPLE"}};
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
};

}  // namespace dirfeed::rest::testing
