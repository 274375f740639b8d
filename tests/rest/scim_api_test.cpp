// The SCIM 2.0 service provider (rest/scim_api.hpp) through the routing table over a real
// store: a SCIM directory created with the Directory Sync API, then pushes with its secret.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <memory>
#include <regex>
#include <string>

#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/json.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::StoreTest;

struct Reply {
  http::status status;
  std::string body;
  std::string content_type;
};

class ScimApiTest : public StoreTest {
 protected:
  ScimApiTest() {
    const std::string key_file = temp_.write("api-keys", format_keys({{"app", api_key_hash(key_)}}));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", key_file);
    context_ = testing::test_context(*store_, credentials_.get(), &clock_);
    router_ = std::make_unique<Router>(make_router(*context_));
    const Reply created = dsync(http::verb::post, "",
                                R"({"tenant":"acme","product":"crm","type":"okta-scim-v2"})");
    EXPECT_EQ(created.status, http::status::created) << created.body;
    std::smatch match;
    EXPECT_TRUE(std::regex_search(created.body, match,
                                  std::regex(R"re("id":"([0-9a-f-]{36})")re")));
    directory_ = match[1].str();
    EXPECT_TRUE(std::regex_search(created.body, match,
                                  std::regex(R"re("secret":"([A-Za-z0-9_-]{43})")re")))
        << created.body;
    secret_ = match[1].str();
    base_ = "/api/scim/v2.0/" + directory_;
  }

  Reply send(http::verb method, const std::string& target, const std::string& body,
             const std::string& authorization) {
    Request request(method, target, 11);
    request.set(http::field::host, "dirfeed.example:5000");
    if (!authorization.empty()) request.set(http::field::authorization, authorization);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/scim+json");
      request.body() = body;
    }
    Response response = router_->handle(request);
    return {response.result(), testing::response_text(response),
            std::string(response[http::field::content_type])};
  }
  Reply dsync(http::verb method, const std::string& path, const std::string& body = "") {
    return send(method, "/api/v1/directory-sync" + path, body, "Api-Key " + key_);
  }
  Reply scim(http::verb method, const std::string& path, const std::string& body = "") {
    return send(method, base_ + path, body, "Bearer " + secret_);
  }

  // POSTs a user; its id.
  std::string create_user(const std::string& user_name, bool active = true) {
    const Reply reply = scim(http::verb::post, "/Users",
                             R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                             R"("userName":")" + user_name + R"(","externalId":"ext-)" + user_name +
                                 R"(","name":{"givenName":"G","familyName":"F"},"active":)" +
                                 (active ? "true" : "false") + "}");
    EXPECT_EQ(reply.status, http::status::created) << reply.body;
    return id_in(reply.body);
  }

  static std::string id_in(const std::string& body) {
    std::smatch match;
    if (!std::regex_search(body, match, std::regex(R"re(^\{"id":"([0-9a-f-]{36})")re"))) {
      ADD_FAILURE() << "no id first in " << body;
      return "";
    }
    return match[1].str();
  }

  const std::string key_ = generate_api_key();
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
  std::string directory_, secret_, base_;
};

constexpr char kErrorSchema[] = R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],)";

TEST_F(ScimApiTest, TheDirectoryShowsItsScimEndpointAndTheSecretOnlyOnce) {
  const Reply shown = dsync(http::verb::get, "/" + directory_);
  EXPECT_NE(shown.body.find(R"("type":"okta-scim-v2")"), std::string::npos) << shown.body;
  EXPECT_NE(shown.body.find(R"("scim":{"path":"/api/scim/v2.0/)" + directory_ +
                            R"(","secret":null,"endpoint":"http://dirfeed.example:5000/api/scim/v2.0/)" +
                            directory_ + R"("})"),
            std::string::npos)
      << shown.body;
  EXPECT_NE(shown.body.find(R"("domain":null)"), std::string::npos) << shown.body;
  const std::optional<pb::Directory> stored = store_->directory(directory_);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->scim_secret_hash().size(), 32u);
  EXPECT_EQ(stored->SerializeAsString().find(secret_), std::string::npos) << "stored hashed";

  const Reply azure = dsync(http::verb::post, "",
                            R"({"tenant":"acme","product":"crm","type":"azure-scim-v2"})");
  EXPECT_NE(azure.body.find(R"(?aadOptscim062020","secret":")"), std::string::npos) << azure.body;
  EXPECT_EQ(dsync(http::verb::post, "",
                  R"({"tenant":"acme","product":"crm","type":"okta-scim-v2","domain":"example.test"})")
                .status,
            http::status::bad_request);
}

TEST_F(ScimApiTest, AuthenticationAndUnknownDirectories) {
  Reply reply = send(http::verb::get, base_ + "/Users", "", "Bearer wrong");
  EXPECT_EQ(reply.status, http::status::unauthorized);
  EXPECT_EQ(reply.body, std::string(kErrorSchema) + R"("detail":"Unauthorized","status":"401"})");
  EXPECT_EQ(reply.content_type, "application/scim+json");
  EXPECT_EQ(send(http::verb::get, base_ + "/Users", "", "").status, http::status::unauthorized);
  EXPECT_EQ(send(http::verb::get, base_ + "/Users", "", "Basic " + secret_).status,
            http::status::unauthorized);
  reply = send(http::verb::get, "/api/scim/v2.0/0f8fad5b-d9cb-469f-a165-70867728950e/Users", "",
               "Bearer " + secret_);
  EXPECT_EQ(reply.status, http::status::not_found);
  EXPECT_EQ(reply.body, std::string(kErrorSchema) + R"("detail":"directory not found","status":"404"})");
  EXPECT_EQ(scim(http::verb::get, "/Things").status, http::status::not_found);
  // An active-directory directory has no SCIM endpoint.
  const Reply ad = dsync(http::verb::post, "", R"({"tenant":"acme","product":"crm"})");
  const std::string ad_id = id_in(ad.body.substr(8));
  EXPECT_EQ(send(http::verb::get, "/api/scim/v2.0/" + ad_id + "/Users", "", "Bearer x").status,
            http::status::not_found);
}

TEST_F(ScimApiTest, UsersCreateGetFilterReplaceDelete) {
  const std::string id = create_user("alice@corp.example");
  Reply reply = scim(http::verb::get, "/Users/" + id);
  ASSERT_EQ(reply.status, http::status::ok);
  EXPECT_EQ(reply.body, R"({"id":")" + id + R"(","schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                        R"("userName":"alice@corp.example","externalId":"ext-alice@corp.example",)"
                        R"("name":{"givenName":"G","familyName":"F"},"active":true,)"
                        R"("meta":{"resourceType":"User","location":"/api/scim/v2.0/)" + directory_ +
                            "/Users/" + id + R"("}})");
  // 409 on the same userName in any case.
  reply = scim(http::verb::post, "/Users", R"({"userName":"ALICE@corp.example"})");
  EXPECT_EQ(reply.status, http::status::conflict);
  EXPECT_EQ(reply.body, std::string(kErrorSchema) +
                            R"("detail":"User already exists","status":"409","scimType":"uniqueness"})");
  EXPECT_EQ(scim(http::verb::post, "/Users", R"({"name":{}})").status, http::status::bad_request);
  EXPECT_EQ(scim(http::verb::post, "/Users", R"({"userName":"a",})").status, http::status::bad_request)
      << "strict JSON";

  create_user("bob@corp.example");
  reply = scim(http::verb::get, "/Users?filter=userName%20eq%20%22Alice%40corp.example%22");
  EXPECT_TRUE(reply.body.starts_with(R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)"
                                     R"("totalResults":1,"startIndex":1,"itemsPerPage":1,"Resources":[{"id":")" +
                                     id))
      << reply.body;
  reply = scim(http::verb::get, "/Users?filter=externalId+eq+%22ext-bob%40corp.example%22");
  EXPECT_NE(reply.body.find(R"("totalResults":1,)"), std::string::npos) << reply.body;
  reply = scim(http::verb::get, "/Users?filter=userName%20eq%20%22nobody%22");
  EXPECT_EQ(reply.body, R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],)"
                        R"("totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]})");
  reply = scim(http::verb::get, "/Users?startIndex=2&count=5");
  EXPECT_NE(reply.body.find(R"("totalResults":2,"startIndex":2,"itemsPerPage":1,)"), std::string::npos)
      << reply.body;
  EXPECT_EQ(scim(http::verb::get, "/Users?filter=userName%20sw%20%22a%22").status,
            http::status::bad_request);
  EXPECT_EQ(scim(http::verb::get, "/Users?count=x").status, http::status::bad_request);

  reply = scim(http::verb::put, "/Users/" + id, R"({"userName":"alice@corp.example","active":false})");
  ASSERT_EQ(reply.status, http::status::ok) << reply.body;
  EXPECT_NE(reply.body.find(R"("active":false)"), std::string::npos);
  EXPECT_EQ(store_->object_by_guid(*guid_from_text(id))->user_account_control(), 0x2u);

  EXPECT_EQ(scim(http::verb::delete_, "/Users/" + id).status, http::status::no_content);
  EXPECT_EQ(scim(http::verb::get, "/Users/" + id).status, http::status::not_found);
  EXPECT_EQ(scim(http::verb::delete_, "/Users/" + id).status, http::status::not_found);
  EXPECT_EQ(scim(http::verb::get, "/Users/nope").status, http::status::not_found);
}

TEST_F(ScimApiTest, PatchesAndGroupMembers) {
  const std::string alice = create_user("alice@corp.example");
  const std::string bob = create_user("bob@corp.example");
  Reply reply = scim(http::verb::patch, "/Users/" + alice,
                     R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
                     R"("Operations":[{"op":"Replace","path":"active","value":"False"}]})");
  ASSERT_EQ(reply.status, http::status::ok) << reply.body;
  EXPECT_NE(reply.body.find(R"("active":false)"), std::string::npos) << reply.body;

  reply = scim(http::verb::post, "/Groups",
               R"({"displayName":"Staff","members":[{"value":")" + alice + R"("}]})");
  ASSERT_EQ(reply.status, http::status::created) << reply.body;
  const std::string staff = id_in(reply.body);
  EXPECT_NE(reply.body.find(R"("members":[{"value":")" + alice + R"(","display":"alice@corp.example"}])"),
            std::string::npos)
      << reply.body;
  EXPECT_EQ(scim(http::verb::post, "/Groups", R"({"displayName":"staff"})").status,
            http::status::conflict);
  reply = scim(http::verb::patch, "/Groups/" + staff,
               R"({"Operations":[{"op":"add","path":"members","value":[{"value":")" + bob +
                   R"("}]},{"op":"remove","path":"members[value eq \")" + alice + R"(\"]"}]})");
  ASSERT_EQ(reply.status, http::status::ok) << reply.body;
  EXPECT_NE(reply.body.find(R"("members":[{"value":")" + bob + R"(","display":"bob@corp.example"}])"),
            std::string::npos)
      << reply.body;
  reply = scim(http::verb::get, "/Groups?filter=displayName%20eq%20%22STAFF%22");
  EXPECT_NE(reply.body.find(R"("totalResults":1,)"), std::string::npos) << reply.body;

  // The Directory Sync API shows them, with raw as pushed and directoryId.
  reply = dsync(http::verb::get, "/users/" + bob + "?directoryId=" + directory_);
  EXPECT_NE(reply.body.find(R"("email":"bob@corp.example","active":true,"directoryId":")" + directory_ +
                            R"(","raw":{"id":")" + bob + R"(","schemas")"),
            std::string::npos)
      << reply.body;
  reply = dsync(http::verb::get, "/groups/" + staff + "?directoryId=" + directory_);
  EXPECT_NE(reply.body.find(R"("members":[{"group_id":")" + staff + R"(","user_id":")" + bob + R"("}])"),
            std::string::npos)
      << reply.body;

  // Deactivated: pushes are accepted and dropped.
  ASSERT_EQ(dsync(http::verb::patch, "/" + directory_, R"({"deactivated":true})").status,
            http::status::ok);
  const uint64_t sequence = store_->last_sequence();
  reply = scim(http::verb::post, "/Users", R"({"userName":"carol@corp.example"})");
  EXPECT_EQ(reply.status, http::status::ok);
  EXPECT_EQ(reply.body, "{}");
  EXPECT_EQ(store_->last_sequence(), sequence);
}

TEST_F(ScimApiTest, DeletingTheDirectoryDeletesWhatWasPushed) {
  const std::string alice = create_user("alice@corp.example");
  ASSERT_EQ(dsync(http::verb::delete_, "/" + directory_).status, http::status::ok);
  EXPECT_FALSE(store_->object_by_guid(*guid_from_text(alice)));
  std::vector<pb::Change> entries = changes_after(0);
  ASSERT_FALSE(entries.empty());
  EXPECT_EQ(entries.back().type(), pb::DELETE);
  EXPECT_FALSE(entries.back().from_directory());
}

TEST_F(ScimApiTest, GroupMembersRouteAndTheWebhookEventLog) {
  const std::string alice = create_user("alice@corp.example");
  const std::string bob = create_user("bob@corp.example");
  Reply reply = scim(http::verb::post, "/Groups",
                     R"({"displayName":"Staff","members":[{"value":")" + alice + R"("},{"value":")" +
                         bob + R"("}]})");
  const std::string staff = id_in(reply.body);
  reply = dsync(http::verb::get, "/groups/" + staff + "/members?directoryId=" + directory_);
  ASSERT_EQ(reply.status, http::status::ok) << reply.body;
  // GUID order: the UUIDs' wire bytes, not their text; compare as the store orders them.
  const bool alice_first = *guid_from_text(alice) < *guid_from_text(bob);
  const std::string a = alice_first ? alice : bob;
  const std::string b = alice_first ? bob : alice;
  EXPECT_EQ(reply.body, R"({"data":[{"user_id":")" + a + R"("},{"user_id":")" + b + R"("}],"error":null})");
  reply = dsync(http::verb::get, "/groups/" + staff + "/members?directoryId=" + directory_ +
                                     "&pageOffset=1&pageLimit=5");
  EXPECT_EQ(reply.body, R"({"data":[{"user_id":")" + b + R"("}],"error":null})");
  EXPECT_EQ(dsync(http::verb::get, "/groups/" + alice + "/members?directoryId=" + directory_).status,
            http::status::not_found);

  for (int i = 1; i <= 3; ++i) {
    pb::WebhookEvent event;
    event.set_id("e" + std::to_string(i));
    event.set_directory_id(directory_);
    event.set_payload(R"({"event":"user.created"})");
    event.set_webhook_endpoint("https://app.example/hook");
    event.set_created_us(1'700'000'000'000'000 + i);
    event.set_status_code(i == 3 ? 500 : 200);
    event.set_delivered(i != 3);
    ASSERT_TRUE(store_->log_webhook_event(event, 100).is_ok());
  }
  reply = dsync(http::verb::get, "/events?directoryId=" + directory_ + "&pageLimit=1");
  EXPECT_EQ(reply.body, R"({"data":[{"id":"e3","webhook_endpoint":"https://app.example/hook",)"
                        R"("created_at":"2023-11-14T22:13:20.000003Z","status_code":500,)"
                        R"("delivered":false,"payload":{"event":"user.created"}}],"error":null})");
  reply = dsync(http::verb::get, "/events/e1");
  EXPECT_TRUE(reply.body.starts_with(R"({"data":{"id":"e1",)")) << reply.body;
  EXPECT_EQ(dsync(http::verb::get, "/events/nope").status, http::status::not_found);
  EXPECT_EQ(dsync(http::verb::get, "/events").status, http::status::bad_request);
  reply = dsync(http::verb::delete_, "/events?directoryId=" + directory_);
  EXPECT_EQ(reply.body, R"({"data":null,"error":null})");
  EXPECT_EQ(dsync(http::verb::get, "/events?directoryId=" + directory_).body,
            R"({"data":[],"error":null})");
}

}  // namespace
}  // namespace dirfeed::rest
