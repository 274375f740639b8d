// The Directory Sync API handlers: a real store in a temp dir filled through apply_page, an
// API key in a keys file, and requests through the routing table.
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
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;
using testing::response_pieces;

constexpr char kBase[] = "/api/v1/directory-sync";
constexpr char kPeople[] = "OU=People,DC=example,DC=test";
constexpr char kStaff[] = "OU=Staff,DC=example,DC=test";

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
    pb::DirectoryObject& a = *alice.mutable_object();
    a.set_given_name("Alice");
    a.set_surname("Liddell");
    a.set_user_principal_name("alice@example.test");
    a.set_title("Engineer");
    a.set_department("R&D");
    a.set_telephone_number("+1 555 0100");
    a.add_other_telephones("+1 555 0199");
    a.set_when_created("2026-01-02T03:04:05Z");
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
    context_ = std::make_unique<ApiContext>(ApiContext{
        .store = *store_,
        .domains = domains_,
        .credentials = credentials_.get(),
        .writable_store = store_.get(),
        .clock = &clock_,
    });
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
  context_->writable_store = nullptr;
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

// ---- users and groups ----------------------------------------------------------------------

TEST_F(DsyncApiTest, UsersOfAWholeDomainInTheDocumentsShape) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string users = ok(std::string(kBase) + "/users?tenant=acme&product=crm");
  EXPECT_EQ(names(users), (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
  EXPECT_TRUE(users.starts_with(R"({"data":[)" + alice_json(id) + ",{")) << users;
  EXPECT_TRUE(users.ends_with(R"(}],"error":null})")) << users;
  // bob: disabled, no mail or UPN.
  EXPECT_NE(users.find(R"("first_name":"","last_name":"","email":"","active":false,)"
                       R"("directoryId":")" + id + R"(","raw":{"schemas":)"),
            std::string::npos)
      << users;
  EXPECT_NE(users.find(R"("userName":"EXAMPLE\\bob","name":{},"displayName":"bob Display",)"
                       R"("active":false,)"),
            std::string::npos)
      << users;
}

TEST_F(DsyncApiTest, OneUserInTheDocumentsShape) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string expected = R"({"data":)" + alice_json(id) + R"(,"error":null})";
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + id_of("alice") + "?tenant=acme&product=crm"),
            expected);
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + id_of("alice") + "?directoryId=" + id), expected);
  std::string base64;
  for (char c : base64_encode(guid("alice"))) {
    base64 += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  }
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + base64 + "?directoryId=" + id), expected);

  for (const std::string& missing : {id_of("staff"), std::string("nope"), guid_to_string(std::string(16, 'x'))}) {
    const Reply reply = get(std::string(kBase) + "/users/" + missing + "?directoryId=" + id);
    EXPECT_EQ(reply.status, http::status::not_found) << missing;
    EXPECT_EQ(reply.body, error_body("user not found"));
  }
}

TEST_F(DsyncApiTest, GroupsListAndOneGroupWithMembers) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string groups = ok(std::string(kBase) + "/groups?directoryId=" + id);
  EXPECT_EQ(names(groups), (std::vector<std::string>{"Domain Users", "staff", "admins"}));
  const std::string staff_members =
      member("alice", "alice@example.test") + "," + member("bob", "EXAMPLE\\\\bob") + "," +
      member("carol", "carol@example.test");
  EXPECT_NE(groups.find("," + staff_json(staff_members, id) + ","), std::string::npos) << groups;

  const std::string one = ok(std::string(kBase) + "/groups/" + id_of("staff") + "?directoryId=" + id);
  std::string pairs;
  for (const char* name : {"alice", "bob", "carol"}) {
    if (!pairs.empty()) pairs += ",";
    pairs += R"({"group_id":")" + id_of("staff") + R"(","user_id":")" + id_of(name) + R"("})";
  }
  std::string expected = staff_json(staff_members, id);
  expected.pop_back();
  EXPECT_EQ(one, R"({"data":)" + expected + R"(,"members":[)" + pairs + R"(]},"error":null})")
      << "user members only: admins is a group";

  EXPECT_EQ(get(std::string(kBase) + "/groups/" + id_of("alice") + "?directoryId=" + id).body,
            error_body("group not found"));
}

TEST_F(DsyncApiTest, BaseDnsNarrowTheView) {
  // OU=Staff, not its sibling OU=OldStaff; a user's own DN is an exact base; OU=Groups for
  // the groups, whose members show only when in the view too.
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "base_dns":
      ["ou=staff,DC=EXAMPLE,dc=test", "CN=bob,OU=People,DC=example,DC=test",
       "OU=Groups, DC=example, DC=test"]})");
  const std::string query = "?directoryId=" + id;
  EXPECT_EQ(names(ok(std::string(kBase) + "/users" + query)),
            (std::vector<std::string>{"bob", "carol"}));
  const std::string groups = ok(std::string(kBase) + "/groups" + query);
  EXPECT_EQ(names(groups), (std::vector<std::string>{"Domain Users", "staff", "admins"}));
  EXPECT_NE(groups.find(staff_json(member("bob", "EXAMPLE\\\\bob") + "," +
                                       member("carol", "carol@example.test"),
                                   id)),
            std::string::npos)
      << groups;
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("alice") + query).status,
            http::status::not_found);
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("dave") + query).status,
            http::status::not_found);
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("carol") + query).status,
            http::status::ok);
  const std::string staff = ok(std::string(kBase) + "/groups/" + id_of("staff") + query);
  EXPECT_EQ(staff.find(id_of("alice")), std::string::npos) << staff;

  const std::string staff_only = create(R"({"tenant": "a", "product": "b", "base_dns": [")" +
                                        std::string(kStaff) + R"("]})");
  EXPECT_EQ(ok(std::string(kBase) + "/groups?directoryId=" + staff_only),
            R"({"data":[],"error":null})");
}

TEST_F(DsyncApiTest, AGroupNarrowsTheViewToItselfAndItsDirectMembers) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "group": ")" +
                                id_of("staff") + R"("})");
  const std::string query = "?directoryId=" + id;
  EXPECT_EQ(names(ok(std::string(kBase) + "/users" + query)),
            (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(names(ok(std::string(kBase) + "/groups" + query)),
            (std::vector<std::string>{"staff", "admins"}))
      << "admins is a member of staff";
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("dave") + query).status,
            http::status::not_found);

  // Primary group members count: Domain Users lists nobody, every user is in it by RID.
  const std::string everyone = create(R"({"tenant": "acme", "product": "crm", "group":
      "cn=domain users, ou=groups, dc=example, dc=test"})");
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + everyone)),
            (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
}

TEST_F(DsyncApiTest, TenantAndProductNameTheOldestDirectory) {
  const std::string staff = create(R"({"tenant": "acme", "product": "crm", "base_dns": [")" +
                                   std::string(kStaff) + R"("]})");
  clock_.advance(1);
  const std::string all = create(R"({"tenant": "acme", "product": "crm"})");
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?tenant=acme&product=crm")),
            std::vector<std::string>{"carol"});
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + all)).size(), 4u);
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + all +
                     "&tenant=acme&product=crm")).size(),
            4u)
      << "directoryId chooses";

  for (const std::string& query :
       {"?directoryId=" + all + "&tenant=other", "?directoryId=" + all + "&product=other",
        std::string("?tenant=acme&product=nothing"), "?directoryId=" + std::string(40, '0')}) {
    for (const char* route : {"/users", "/groups", "/users/x", "/groups/x"}) {
      const Reply reply = get(std::string(kBase) + route + query);
      EXPECT_EQ(reply.status, http::status::not_found) << route << query;
      EXPECT_EQ(reply.body, error_body("directory not found")) << route << query;
    }
  }
  for (const char* query : {"", "?tenant=acme", "?product=crm"}) {
    EXPECT_EQ(get(std::string(kBase) + "/users" + query).status, http::status::bad_request);
    EXPECT_EQ(get(std::string(kBase) + "/groups/" + id_of("staff") + query).status,
              http::status::bad_request);
  }
}

TEST_F(DsyncApiTest, PageOffsetAndPageLimitSliceTheView) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string users = std::string(kBase) + "/users?directoryId=" + id;
  const auto page = [&](const std::string& query) { return names(ok(users + query)); };
  EXPECT_EQ(page("&pageOffset=1&pageLimit=2"), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(page("&pageOffset=3"), (std::vector<std::string>{"dave"}));
  EXPECT_EQ(page("&pageLimit=1"), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(page("&pageOffset=0&pageLimit=18446744073709551615").size(), 4u);
  EXPECT_EQ(page("&pageOffset=4"), std::vector<std::string>{});
  EXPECT_EQ(page("&pageLimit=0"), std::vector<std::string>{});
  EXPECT_EQ(names(ok(std::string(kBase) + "/groups?directoryId=" + id + "&pageOffset=2")),
            std::vector<std::string>{"admins"});

  for (const std::string query : {"pageOffset=-1", "pageOffset=", "pageLimit=1.5", "pageLimit=ten",
                                  "pageLimit=+1", "pageOffset=18446744073709551616"}) {
    const Reply reply = get(users + "&" + query);
    EXPECT_EQ(reply.status, http::status::bad_request) << query;
    const std::string name = query.substr(0, query.find('='));
    EXPECT_EQ(reply.body, error_body(name + " must be a non-negative integer")) << query;
  }
}

// Enough users for several pieces of a streamed list.
class DsyncLongListTest : public DsyncApiTest {
 protected:
  static constexpr int kUsers = 700;
  DsyncLongListTest() {
    // Not through the fixture's user(): its GUIDs are numbered by one byte.
    std::vector<pb::ObservedObject> page;
    for (int i = 0; i < kUsers; ++i) {
      pb::ObservedObject observed;
      pb::DirectoryObject& object = *observed.mutable_object();
      object.set_guid(std::string(14, '\x7f') + static_cast<char>(i / 256) +
                      static_cast<char>(i % 256));
      object.set_kind(pb::USER);
      object.set_dn("CN=u" + std::to_string(i) + "," + (i % 2 ? kStaff : kPeople));
      object.set_sam_account_name("u" + std::to_string(i));
      page.push_back(std::move(observed));
    }
    apply(page);
  }
};

TEST_F(DsyncLongListTest, UsersAreStreamedInPieces) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const Reply all = get(std::string(kBase) + "/users?directoryId=" + id);
  ASSERT_EQ(all.status, http::status::ok);
  EXPECT_EQ(names(all.body).size(), kUsers + 4u);
  EXPECT_GE(all.pieces, (kUsers + 4) / kDsyncObjectsPerPiece + 1) << "streamed, not built whole";

  // Narrowed and sliced across pieces: the staff half, from the 300th on.
  const std::string staff = create(R"({"tenant": "acme", "product": "erp", "base_dns": [")" +
                                   std::string(kStaff) + R"("]})");
  const Reply sliced =
      get(std::string(kBase) + "/users?directoryId=" + staff + "&pageOffset=300&pageLimit=40");
  const std::vector<std::string> page = names(sliced.body);
  ASSERT_EQ(page.size(), 40u);
  const Reply whole = get(std::string(kBase) + "/users?directoryId=" + staff);
  const std::vector<std::string> every = names(whole.body);
  ASSERT_EQ(every.size(), kUsers / 2 + 1u) << "carol and the odd ones";
  EXPECT_EQ(page, std::vector<std::string>(every.begin() + 300, every.begin() + 340));
}

}  // namespace
}  // namespace dirfeed::rest
