// Scoped API keys (rest/credentials.hpp): a Directory Changes key, a Directory Sync key, and a
// key limited to some tenants and products, against the routing table over a real store.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <chrono>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::StoreTest;

constexpr char kBase[] = "/api/v1/directory-sync";

struct Reply {
  http::status status;
  std::string body;
};

class KeyScopeTest : public StoreTest {
 protected:
  KeyScopeTest() {
    apply({user("alice")});
    const std::vector<KeyEntry> keys = {
        {"admin", api_key_hash(admin_)},
        {"feed", api_key_hash(changes_), KeyScope::kChanges},
        {"sync", api_key_hash(dsync_), KeyScope::kDsync},
        {"acme", api_key_hash(acme_), KeyScope::kDsync, {"acme"}},
        {"acme-crm", api_key_hash(acme_crm_), KeyScope::kAll, {"acme"}, {"crm"}},
    };
    const std::string file = temp_.write("api-keys", format_keys(keys));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", file,
                                                     std::chrono::milliseconds(0));
    context_ = testing::test_context(*store_, credentials_.get(), &clock_);
    router_ = std::make_unique<Router>(make_router(*context_));
    acme_crm_dir_ = create(admin_, "acme", "crm");
    acme_hr_dir_ = create(admin_, "acme", "hr");
    globex_dir_ = create(admin_, "globex", "crm");
  }

  Reply call(const std::string& key, http::verb method, const std::string& target,
             const std::string& body = "") {
    Request request(method, target, 11);
    request.set(http::field::authorization, "Api-Key " + key);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
      request.prepare_payload();
    }
    Response response = router_->handle(request);
    std::string text;
    for (const std::string& piece : testing::response_pieces(response)) text += piece;
    return {response.result(), std::move(text)};
  }

  // Creates a directory with a webhook secret as `key` (201 expected); its id.
  std::string create(const std::string& key, const std::string& tenant,
                     const std::string& product) {
    const Reply reply = call(key, http::verb::post, kBase,
                             R"({"tenant":")" + tenant + R"(","product":")" + product +
                                 R"(","webhook_url":"https://hooks.example/x",)"
                                 R"("webhook_secret":"s3cret-)" + tenant + R"("})");
    EXPECT_EQ(reply.status, http::status::created) << reply.body;
    std::smatch match;
    return std::regex_search(reply.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))
               ? match[1].str()
               : "";
  }

  const std::string admin_ = generate_api_key();
  const std::string changes_ = generate_api_key();
  const std::string dsync_ = generate_api_key();
  const std::string acme_ = generate_api_key();
  const std::string acme_crm_ = generate_api_key();
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
  std::string acme_crm_dir_, acme_hr_dir_, globex_dir_;
};

TEST_F(KeyScopeTest, ATenantKeySeesOnlyItsTenantsDirectories) {
  const std::string own = std::string(kBase) + "/" + acme_hr_dir_;
  const std::string other = std::string(kBase) + "/" + globex_dir_;
  // Its own: readable, with the webhook secret it may manage.
  const Reply mine = call(acme_, http::verb::get, own);
  EXPECT_EQ(mine.status, http::status::ok);
  EXPECT_NE(mine.body.find("s3cret-acme"), std::string::npos) << mine.body;
  // Another tenant's: absent, whatever the verb, and nothing changes.
  for (http::verb verb : {http::verb::get, http::verb::patch, http::verb::delete_}) {
    const Reply reply = call(acme_, verb, other, verb == http::verb::patch
                                                     ? R"({"webhook_url":"https://evil.example/"})"
                                                     : "");
    EXPECT_EQ(reply.status, http::status::not_found) << reply.body;
    EXPECT_EQ(reply.body.find("s3cret-globex"), std::string::npos);
  }
  const Reply untouched = call(admin_, http::verb::get, other);
  EXPECT_EQ(untouched.status, http::status::ok);
  EXPECT_NE(untouched.body.find("https://hooks.example/x"), std::string::npos) << untouched.body;
  // Users and groups of another tenant's directory: absent by id, 403 by tenant and product.
  EXPECT_EQ(call(acme_, http::verb::get, std::string(kBase) + "/users?directoryId=" + globex_dir_)
                .status,
            http::status::not_found);
  EXPECT_EQ(call(acme_, http::verb::get, std::string(kBase) + "/users?tenant=globex&product=crm")
                .status,
            http::status::forbidden);
  EXPECT_EQ(call(acme_, http::verb::get, std::string(kBase) + "/users?directoryId=" + acme_hr_dir_)
                .status,
            http::status::ok);
}

TEST_F(KeyScopeTest, CreatesAndListsForOtherTenantsAre403) {
  const Reply create_other = call(acme_, http::verb::post, kBase,
                                  R"({"tenant":"globex","product":"crm"})");
  EXPECT_EQ(create_other.status, http::status::forbidden);
  EXPECT_EQ(create_other.body,
            R"({"data":null,"error":{"message":"this API key does not cover that tenant and product"}})");
  EXPECT_EQ(call(acme_, http::verb::get, std::string(kBase) + "?tenant=globex&product=crm").status,
            http::status::forbidden);
  EXPECT_EQ(call(acme_, http::verb::get, std::string(kBase) + "?tenant=acme&product=crm").status,
            http::status::ok);
  EXPECT_EQ(call(acme_, http::verb::post, kBase, R"({"tenant":"acme","product":"new"})").status,
            http::status::created);
  // Tenants and products both narrow: acme-crm covers acme's crm only.
  EXPECT_EQ(call(acme_crm_, http::verb::get, std::string(kBase) + "/" + acme_crm_dir_).status,
            http::status::ok);
  EXPECT_EQ(call(acme_crm_, http::verb::get, std::string(kBase) + "/" + acme_hr_dir_).status,
            http::status::not_found);
  EXPECT_EQ(call(acme_crm_, http::verb::post, kBase, R"({"tenant":"acme","product":"hr"})").status,
            http::status::forbidden);
}

TEST_F(KeyScopeTest, EachScopeOpensOnlyItsApi) {
  const std::string changes =
      "/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true";
  EXPECT_EQ(call(admin_, http::verb::get, changes).status, http::status::ok);
  EXPECT_EQ(call(changes_, http::verb::get, changes).status, http::status::ok);
  EXPECT_EQ(call(acme_crm_, http::verb::get, changes).status, http::status::ok);  // scope all
  const Reply refused = call(dsync_, http::verb::get, changes);
  EXPECT_EQ(refused.status, http::status::forbidden);
  EXPECT_EQ(refused.body,
            R"({"message":"this API key is for the Directory Sync API only","statusCode":403})");
  EXPECT_EQ(call(acme_, http::verb::get, changes).status, http::status::forbidden);

  const std::string directory = std::string(kBase) + "/" + globex_dir_;
  EXPECT_EQ(call(dsync_, http::verb::get, directory).status, http::status::ok);
  const Reply not_dsync = call(changes_, http::verb::get, directory);
  EXPECT_EQ(not_dsync.status, http::status::forbidden);
  EXPECT_EQ(not_dsync.body,
            R"({"data":null,"error":{"message":"this API key is for the Directory Changes API only"}})");
}

TEST(KeyScopeFileTest, ScopesTenantsAndProductsRoundTripThroughTheKeysFile) {
  const std::vector<KeyEntry> keys = {
      {"all", std::string(64, 'a')},
      {"feed", std::string(64, 'b'), KeyScope::kChanges},
      {"odd", std::string(64, 'c'), KeyScope::kDsync, {"a,b", "100%", "caf\xc3\xa9"}, {"x y"}},
  };
  const std::string text = format_keys(keys);
  // A key for everything keeps the three-field form.
  EXPECT_EQ(text.substr(0, text.find('\n')), "all:sha256:" + std::string(64, 'a'));
  const ParsedCredentials<KeyEntry> parsed = parse_keys(text);
  ASSERT_TRUE(parsed.errors.empty()) << parsed.errors[0].message;
  ASSERT_EQ(parsed.entries.size(), 3u);
  EXPECT_EQ(parsed.entries[1].scope, KeyScope::kChanges);
  EXPECT_TRUE(parsed.entries[1].tenants.empty());
  EXPECT_EQ(parsed.entries[2].scope, KeyScope::kDsync);
  EXPECT_EQ(parsed.entries[2].tenants, (std::vector<std::string>{"a,b", "100%", "caf\xc3\xa9"}));
  EXPECT_EQ(parsed.entries[2].products, std::vector<std::string>{"x y"});
  EXPECT_TRUE(parsed.entries[2].covers("a,b", "x y"));
  EXPECT_FALSE(parsed.entries[2].covers("a", "x y"));

  const std::string hash(64, 'd');
  EXPECT_EQ(parse_keys("k:sha256:" + hash + ":root::\n").errors.at(0).message,
            "unknown scope \"root\"");
  EXPECT_EQ(parse_keys("k:sha256:" + hash + ":dsync:a,,b:\n").errors.at(0).message, "bad tenants");
  EXPECT_EQ(parse_keys("k:sha256:" + hash + ":dsync::%zz\n").errors.at(0).message,
            "bad products");
  EXPECT_EQ(parse_keys("k:sha256:" + hash + ":dsync\n").errors.size(), 1u);
}

}  // namespace
}  // namespace dirfeed::rest
