// The Directory Sync API's directories (create, list, update, delete), its API keys and routes.
#include <gtest/gtest.h>

#include <regex>
#include <string>
#include <vector>

#include "core/base64.hpp"
#include "tests/rest/dsync_api_fixture.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using testing::DsyncApiTest;
using testing::kBase;
using testing::kStaff;
using testing::Reply;

// ---- directories ---------------------------------------------------------------------------

TEST_F(DsyncApiTest, CreateAnswers201InTheDocumentsShape) {
  const Reply reply = post(R"({"name": "App", "tenant": "boxyhq", "product": "jackson",
      "type": "active-directory", "webhook_url": "https://app.example/webhook",
      "webhook_secret": "my-secret", "domain": "EXAMPLE.test",
      "base_dns": ["ou=Staff, dc=example, DC=test"], "group": "CN=staff,OU=Groups,DC=example,DC=test",
      "webhook_batch_size": 20, "log_webhook_events": true, "deactivated": false})");
  ASSERT_EQ(reply.status, http::status::created) << reply.body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(reply.body, match, std::regex(R"re(^\{"data":\{"id":"([0-9a-f-]{36})")re")))
      << reply.body;
  const std::string id = match[1].str();
  const std::string directory =
      R"({"id":")" + id + R"(","name":"App","tenant":"boxyhq","product":"jackson",)"
      R"("type":"active-directory","log_webhook_events":true,"deactivated":false,)"
      R"("scim":{"path":null,"secret":null,"endpoint":null},)"
      R"("webhook":{"endpoint":"https://app.example/webhook","secret":"my-secret"},)"
      R"("domain":"example.test","base_dns":["ou=Staff,dc=example,DC=test"],"group":")" +
      id_of("staff") + R"(","webhook_batch_size":20,"include_api_users":false})";
  EXPECT_EQ(reply.body, R"({"data":)" + directory + R"(,"error":null})");

  // Stored as answered, stamped with the clock, its webhook starting at the feed's end.
  const std::optional<pb::Directory> stored = store_->directory(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->created_us(), clock_.now_us());
  EXPECT_EQ(stored->group_guid(), guid("staff"));
  ASSERT_TRUE(store_->webhook_state(id));
  EXPECT_EQ(store_->webhook_state(id)->after_sequence(), store_->last_sequence());
  EXPECT_EQ(ok(std::string(kBase) + "/" + id), R"({"data":)" + directory + R"(,"error":null})");
}

TEST_F(DsyncApiTest, CreateNeedsOnlyTenantAndProductWithOneDomain) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "group": null})");
  const std::optional<pb::Directory> stored = store_->directory(id);
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->name(), "acme-crm");
  EXPECT_EQ(stored->type(), "active-directory");
  EXPECT_EQ(stored->domain(), kDomain);
  EXPECT_EQ(stored->base_dns_size(), 0);
  EXPECT_EQ(stored->group_guid(), "");
  EXPECT_EQ(stored->webhook_url(), "");
  EXPECT_NE(create(R"({"tenant": "acme", "product": "crm"})"), id) << "ids are random";
}

TEST_F(DsyncApiTest, CreateAcceptsTheDomainAsBaseDnAndTheGroupAsGuidOrBase64) {
  const std::string by_dn = create(R"({"tenant": "t", "product": "p",
      "domain": "dc=EXAMPLE, dc=test", "group": ")" + id_of("admins") + R"("})");
  EXPECT_EQ(store_->directory(by_dn)->group_guid(), guid("admins"));
  const std::string by_base64 = create(R"({"tenant": "t", "product": "p", "group": ")" +
                                       base64_encode(guid("admins")) + R"("})");
  EXPECT_EQ(store_->directory(by_base64)->group_guid(), guid("admins"));
}

TEST_F(DsyncApiTest, CreateRefusesBadBodiesWith400) {
  const std::string ok_base = R"("tenant": "t", "product": "p")";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "a JSON object body is required"},
      {"[1]", "the JSON body must be an object"},
      {R"({"product": "p"})", "tenant and product are required"},
      {R"({"tenant": "", "product": "p"})", "tenant and product are required"},
      {R"({"tenant": "t"})", "tenant and product are required"},
      {R"({"tenant": "a:b", "product": "p"})", "tenant and product must not contain ':'"},
      {R"({"tenant": "t", "product": "p:"})", "tenant and product must not contain ':'"},
      {R"({"tenant": 5, "product": "p"})", "tenant must be a string"},
      {"{" + ok_base + R"(, "type": "google"})",
       R"(unsupported type \"google\": the accepted types are \"active-directory\", okta-scim-v2, )"
       R"(azure-scim-v2, onelogin-scim-v2, jumpcloud-scim-v2 and generic-scim-v2)"},
      {"{" + ok_base + R"(, "type": "okta-scim-v2", "base_dns": []})",
       "domain, base_dns and group are for active-directory directories: a SCIM directory "
       "holds what its identity provider pushes"},
      {"{" + ok_base + R"(, "domain": "other.test"})",
       R"(unknown domain \"other.test\"; configured: example.test)"},
      {"{" + ok_base + R"(, "base_dns": "OU=Staff,DC=example,DC=test"})",
       "base_dns must be an array of strings"},
      {"{" + ok_base + R"(, "base_dns": ["Staff"]})", R"(base_dns: \"Staff\" is not a DN)"},
      {"{" + ok_base + R"(, "base_dns": ["OU=Staff,DC=example,DC=test\\"]})",
       R"(base_dns: \"OU=Staff,DC=example,DC=test\\\" is not a DN)"},
      {"{" + ok_base + R"(, "base_dns": ["OU=Staff,DC=other,DC=test"]})",
       R"(base_dns: \"OU=Staff,DC=other,DC=test\" is not under DC=example,DC=test)"},
      {"{" + ok_base + R"(, "base_dns": ["OU=Staff,DC=example,DC=test,DC=org"]})",
       R"(base_dns: \"OU=Staff,DC=example,DC=test,DC=org\" is not under DC=example,DC=test)"},
      {"{" + ok_base + R"(, "group": "CN=nobody,DC=example,DC=test"})",
       R"(group: no group \"CN=nobody,DC=example,DC=test\" in example.test)"},
      {"{" + ok_base + R"(, "group": "CN=alice,OU=People,DC=example,DC=test"})",
       R"(group: no group \"CN=alice,OU=People,DC=example,DC=test\" in example.test)"},
      {"{" + ok_base + R"(, "webhook_url": "ftp://app.example/hook"})",
       "webhook_url: scheme ftp is not http or https"},
      {"{" + ok_base + R"(, "webhook_url": "https://"})", "webhook_url: no host"},
      {"{" + ok_base + R"(, "webhook_url": "http://app.example/a b"})",
       "webhook_url: a space or control character in the URL (percent-encode it)"},
      {"{" + ok_base + R"(, "webhook_url": "app.example/hook"})",
       "webhook_url: not an http:// or https:// URL"},
      {"{" + ok_base + R"(, "webhook_url": "https://user:pw@app.example/hook"})",
       "webhook_url: credentials in the URL are not supported"},
      {"{" + ok_base + R"(, "webhook_secret": 1})", "webhook_secret must be a string"},
      {"{" + ok_base + R"(, "webhook_batch_size": -1})",
       "webhook_batch_size must be a whole number from 0 to 1000"},
      {"{" + ok_base + R"(, "webhook_batch_size": 1.5})",
       "webhook_batch_size must be a whole number from 0 to 1000"},
      {"{" + ok_base + R"(, "webhook_batch_size": "10"})",
       "webhook_batch_size must be a whole number from 0 to 1000"},
      {"{" + ok_base + R"(, "webhook_batch_size": 1001})",
       "webhook_batch_size must be a whole number from 0 to 1000"},
      {"{" + ok_base + R"(, "log_webhook_events": "yes"})", "log_webhook_events must be true or false"},
      {"{" + ok_base + R"(, "name": ["App"]})", "name must be a string"},
  };
  for (const auto& [body, message] : cases) {
    const Reply reply = post(body);
    EXPECT_EQ(reply.status, http::status::bad_request) << body;
    EXPECT_EQ(reply.body, error_body(message)) << body;
  }
  const Reply malformed = post(R"({"tenant": "t",})");
  EXPECT_EQ(malformed.status, http::status::bad_request);
  EXPECT_TRUE(malformed.body.starts_with(R"({"data":null,"error":{"message":")")) << malformed.body;
  bool stored = false;
  store_->directories([&](const pb::Directory&) {
    stored = true;
    return false;
  });
  EXPECT_FALSE(stored);
}

TEST_F(DsyncApiTest, CreateNeedsTheDomainWhenSeveralAreConfigured) {
  domains_.push_back({"other.test", "DC=other,DC=test", "OTHER"});
  connect();
  EXPECT_EQ(post(R"({"tenant": "t", "product": "p"})").body,
            error_body("domain is required; configured: example.test, other.test"));
  const std::string id = create(R"({"tenant": "t", "product": "p", "domain": "DC=other,DC=test"})");
  EXPECT_EQ(store_->directory(id)->domain(), "other.test");
  EXPECT_EQ(post(R"({"tenant": "t", "product": "p", "domain": "other.test",
                     "group": "CN=staff,OU=Groups,DC=example,DC=test"})").status,
            http::status::bad_request)
      << "the group is in another domain";
}

TEST_F(DsyncApiTest, ListsTheDirectoriesOfATenantAndProductOldestFirst) {
  const std::string second = create(R"({"tenant": "acme", "product": "crm", "name": "B"})");
  clock_.advance(1000);
  create(R"({"tenant": "acme", "product": "erp"})");
  create(R"({"tenant": "ACME", "product": "crm"})");
  clock_.advance(-5000);
  const std::string first = create(R"({"tenant": "acme", "product": "crm", "name": "A"})");
  EXPECT_EQ(names(ok(std::string(kBase) + "?tenant=acme&product=crm")),
            (std::vector<std::string>{first, second}));
  EXPECT_EQ(ok(std::string(kBase) + "?tenant=nobody&product=crm"), R"({"data":[],"error":null})");
  for (const std::string query : {"", "?tenant=acme", "?product=crm", "?tenant=&product=crm"}) {
    const Reply reply = get(std::string(kBase) + query);
    EXPECT_EQ(reply.status, http::status::bad_request) << query;
    EXPECT_EQ(reply.body, error_body("tenant and product are required"));
  }
}

TEST_F(DsyncApiTest, UnknownDirectoryIs404) {
  const std::string missing = std::string(kBase) + "/" + std::string(40, 'a');
  for (http::verb method : {http::verb::get, http::verb::patch, http::verb::delete_}) {
    const Reply reply = call(method, missing, R"({"name": "x"})");
    EXPECT_EQ(reply.status, http::status::not_found) << method;
    EXPECT_EQ(reply.body, error_body("directory not found"));
  }
}

TEST_F(DsyncApiTest, PatchChangesNameAndWebhookAndKeepsTheRest) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "name": "App",
      "webhook_url": "http://old.example/hook", "webhook_secret": "old", "base_dns": [")" +
                                std::string(kStaff) + R"("]})");
  pb::WebhookState state = *store_->webhook_state(id);
  state.set_after_sequence(state.after_sequence() + 7);
  ASSERT_TRUE(store_->put_webhook_state(state).is_ok());
  const std::string target = std::string(kBase) + "/" + id;

  const Reply patched = call(http::verb::patch, target, R"({"name": "Renamed",
      "webhook_url": "https://new.example/hook", "webhook_secret": "new",
      "webhook_batch_size": 50, "log_webhook_events": true,
      "tenant": "other", "product": "other", "type": "x", "domain": "x", "base_dns": []})");
  ASSERT_EQ(patched.status, http::status::ok) << patched.body;
  pb::Directory stored = *store_->directory(id);
  EXPECT_EQ(stored.name(), "Renamed");
  EXPECT_EQ(stored.webhook_url(), "https://new.example/hook");
  EXPECT_EQ(stored.webhook_secret(), "new");
  EXPECT_EQ(stored.webhook_batch_size(), 50u);
  EXPECT_TRUE(stored.log_webhook_events());
  EXPECT_EQ(stored.tenant(), "acme") << "not changed by PATCH";
  EXPECT_EQ(stored.product(), "crm");
  EXPECT_EQ(stored.base_dns_size(), 1);
  EXPECT_EQ(patched.body, ok(target)) << "answers the stored directory";
  EXPECT_EQ(store_->webhook_state(id)->after_sequence(), state.after_sequence())
      << "delivery goes on where it stood";

  // Absent members (and an empty name) keep their values; "" removes the webhook.
  ASSERT_EQ(call(http::verb::patch, target, R"({"name": "", "webhook_url": ""})").status,
            http::status::ok);
  stored = *store_->directory(id);
  EXPECT_EQ(stored.name(), "Renamed");
  EXPECT_EQ(stored.webhook_url(), "");
  EXPECT_EQ(stored.webhook_secret(), "new");

  // Validated as POST; a refused PATCH changes nothing.
  for (const std::string body : {R"({"webhook_url": "mailto:a@b"})", R"({"webhook_batch_size": 5000})",
                                 R"({"name": 1})", "[]", ""}) {
    EXPECT_EQ(call(http::verb::patch, target, body).status, http::status::bad_request) << body;
  }
  EXPECT_EQ(store_->directory(id)->SerializeAsString(), stored.SerializeAsString());
}

TEST_F(DsyncApiTest, DeleteRemovesTheDirectoryAndItsWebhookState) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string kept = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string target = std::string(kBase) + "/" + id;
  const Reply deleted = call(http::verb::delete_, target);
  EXPECT_EQ(deleted.status, http::status::ok);
  EXPECT_EQ(deleted.body, R"({"data":{},"error":null})");
  EXPECT_FALSE(store_->directory(id));
  EXPECT_FALSE(store_->webhook_state(id));
  EXPECT_EQ(get(target).status, http::status::not_found);
  EXPECT_EQ(call(http::verb::delete_, target).status, http::status::not_found);
  EXPECT_EQ(names(ok(std::string(kBase) + "?tenant=acme&product=crm")),
            std::vector<std::string>{kept});
}

TEST_F(DsyncApiTest, DirectoriesSurviveAStoreReopen) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "base_dns": [")" +
                                std::string(kStaff) + R"("], "webhook_secret": "s"})");
  const std::string before = ok(std::string(kBase) + "/" + id);
  reopen();
  connect();
  EXPECT_EQ(ok(std::string(kBase) + "/" + id), before);
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + id)),
            std::vector<std::string>{"carol"});
}

TEST_F(DsyncApiTest, WritesNeedAWritableStore) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  context_->sync_writes = nullptr;
  const std::string target = std::string(kBase) + "/" + id;
  for (const auto& [method, path] : {std::pair(http::verb::post, std::string(kBase)),
                                     std::pair(http::verb::patch, target),
                                     std::pair(http::verb::delete_, target)}) {
    const Reply reply = call(method, path, R"({"tenant": "acme", "product": "crm"})");
    EXPECT_EQ(reply.status, http::status::internal_server_error) << method;
    EXPECT_EQ(reply.body, error_body("the store is read-only"));
  }
  EXPECT_EQ(get(target).status, http::status::ok) << "reads need none";
}

// ---- authentication and routing ------------------------------------------------------------

TEST_F(DsyncApiTest, EveryRouteNeedsAKnownApiKey) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string query = "?tenant=acme&product=crm";
  const std::vector<std::pair<http::verb, std::string>> routes = {
      {http::verb::post, kBase},
      {http::verb::get, kBase + query},
      {http::verb::get, std::string(kBase) + "/" + id},
      {http::verb::patch, std::string(kBase) + "/" + id},
      {http::verb::delete_, std::string(kBase) + "/" + id},
      {http::verb::get, std::string(kBase) + "/users" + query},
      {http::verb::get, std::string(kBase) + "/users/" + id_of("alice") + query},
      {http::verb::get, std::string(kBase) + "/groups" + query},
      {http::verb::get, std::string(kBase) + "/groups/" + id_of("staff") + query},
  };
  const std::string body = R"({"tenant": "acme", "product": "crm"})";
  for (const auto& [method, target] : routes) {
    const Reply none = call(method, target, body, "");
    EXPECT_EQ(none.status, http::status::unauthorized) << method << " " << target;
    EXPECT_EQ(none.body, error_body("an API key is required (Authorization: Api-Key KEY)"));
    const Reply wrong = call(method, target, body, "Api-Key dfk_wrong");
    EXPECT_EQ(wrong.status, http::status::unauthorized) << method << " " << target;
    EXPECT_EQ(wrong.body, error_body("unknown API key"));
    EXPECT_EQ(call(method, target, body, "Bearer " + key_).status, http::status::unauthorized);
  }
  EXPECT_TRUE(store_->directory(id)) << "the refused DELETE did nothing";

  Request request(http::verb::get, std::string(kBase) + query, 11);
  request.set("x-api-key", key_);
  EXPECT_EQ(router_->handle(request).result(), http::status::ok);

  credentials_.reset();
  connect();
  EXPECT_EQ(get(std::string(kBase) + query).status, http::status::unauthorized)
      << "no keys without a credential store";
}

TEST_F(DsyncApiTest, UsersAndGroupsRoutesAreNotTakenForDirectoryIds) {
  EXPECT_EQ(get(std::string(kBase) + "/users").body,
            error_body("give directoryId, or tenant and product"));
  EXPECT_EQ(get(std::string(kBase) + "/groups").body,
            error_body("give directoryId, or tenant and product"));
  EXPECT_EQ(call(http::verb::post, std::string(kBase) + "/users").status,
            http::status::method_not_allowed);
}

}  // namespace
}  // namespace dirfeed::rest
