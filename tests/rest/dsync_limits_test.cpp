// The Directory Sync API's guards (issue 10): webhook_url receivers on refused addresses
// (rest/webhook_target.hpp) are 400 at create and PATCH unless allowed, and creates beyond
// max_directories are 409. A real store in a temp dir, an API key in a keys file, requests
// through the routing table.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <memory>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/webhook_target.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

constexpr char kBase[] = "/api/v1/directory-sync";
constexpr char kNotSent[] =
    ": webhooks are not sent there unless api.webhook_allowed_networks allows it";

struct Reply {
  http::status status;
  std::string body;
};

class DsyncLimitsTest : public changefeed::testing::StoreTest {
 protected:
  DsyncLimitsTest() {
    const std::string key_file =
        temp_.write("api-keys", format_keys({{"app", api_key_hash(key_)}}));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", key_file);
    connect();
  }

  // (Re)builds the context and router with targets_ and max_directories_.
  void connect() {
    router_.reset();
    context_ = testing::test_context(*store_, credentials_.get(), &clock_);
    context_->webhook_targets = targets_;
    context_->max_directories = max_directories_;
    router_ = std::make_unique<Router>(make_router(*context_));
  }

  Reply call(http::verb method, const std::string& target, const std::string& body) {
    Request request(method, target, 11);
    request.set(http::field::authorization, "Api-Key " + key_);
    request.body() = body;
    Response response = router_->handle(request);
    std::string text;
    for (const std::string& piece : testing::response_pieces(response)) text += piece;
    return {response.result(), std::move(text)};
  }

  Reply create_hooked(const std::string& url) {
    return call(http::verb::post, kBase,
                R"({"tenant": "acme", "product": "crm", "webhook_url": ")" + url + R"("})");
  }

  // The id of a directory created (201), "" when it was not.
  std::string id_of(const Reply& reply) {
    EXPECT_EQ(reply.status, http::status::created) << reply.body;
    std::smatch match;
    if (!std::regex_search(reply.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))) {
      return "";
    }
    return match[1].str();
  }

  size_t directory_count() {
    size_t count = 0;
    store_->directories([&](const pb::Directory&) {
      ++count;
      return true;
    });
    return count;
  }

  static std::string error_body(const std::string& message) {
    return R"({"data":null,"error":{"message":")" + message + R"("}})";
  }

  static IpNetwork network(const std::string& text) {
    std::string error;
    return *IpNetwork::parse(text, &error);
  }

  const std::string key_ = generate_api_key();
  std::unique_ptr<CredentialStore> credentials_;
  WebhookTargetPolicy targets_;
  size_t max_directories_ = kDefaultMaxDirectories;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
};

const std::string kMetadata =
    "a cloud metadata address (AWS, Azure, Google Cloud, Oracle Cloud, OpenStack, DigitalOcean)";

TEST_F(DsyncLimitsTest, WebhooksToLoopbackOrMetadataAre400UnlessAllowed) {
  const std::vector<std::pair<std::string, std::string>> refused = {
      {"http://127.0.0.1:9/x", "127.0.0.1 is a loopback address"},
      {"http://169.254.169.254/latest", "169.254.169.254 is " + kMetadata},
      {"https://[::1]:9/x", "::1 is a loopback address"},
      {"http://[::ffff:127.0.0.1]/x", "127.0.0.1 is a loopback address"},
      {"http://0.0.0.0:9/x", "0.0.0.0 is an unspecified address"},
      {"http://[fe80::1]/x", "fe80::1 is a link-local address"},
  };
  for (const auto& [url, message] : refused) {
    const Reply reply = create_hooked(url);
    EXPECT_EQ(reply.status, http::status::bad_request) << url;
    EXPECT_EQ(reply.body, error_body("webhook_url: " + message + kNotSent)) << url;
  }
  // A name is refused for what it resolves to.
  const Reply by_name = create_hooked("http://localhost:9/x");
  EXPECT_EQ(by_name.status, http::status::bad_request);
  EXPECT_TRUE(by_name.body.starts_with(
      R"({"data":null,"error":{"message":"webhook_url: localhost resolves to )"))
      << by_name.body;
  EXPECT_EQ(directory_count(), 0u);

  // Private networks are where on-premises receivers live: allowed by default.
  EXPECT_FALSE(id_of(create_hooked("http://10.0.0.5:8080/hook")).empty());
  EXPECT_FALSE(id_of(create_hooked("https://[fd12::5]/hook")).empty());

  targets_ = WebhookTargetPolicy(
      {network("127.0.0.0/8"), network("::1"), network("169.254.169.254")});
  connect();
  for (const std::string url : {"http://127.0.0.1:9/x", "http://169.254.169.254/latest",
                                "https://[::1]:9/x", "http://localhost:9/x"}) {
    EXPECT_FALSE(id_of(create_hooked(url)).empty()) << url;
  }
  EXPECT_EQ(create_hooked("http://0.0.0.0:9/x").status, http::status::bad_request)
      << "only what is allowed";
}

TEST_F(DsyncLimitsTest, PatchChecksTheWebhookUrlToo) {
  const std::string id = id_of(create_hooked("http://10.0.0.5/hook"));
  const std::string target = std::string(kBase) + "/" + id;
  const Reply refused =
      call(http::verb::patch, target, R"({"name": "x", "webhook_url": "http://127.0.0.1:9/x"})");
  EXPECT_EQ(refused.status, http::status::bad_request);
  EXPECT_EQ(refused.body,
            error_body(std::string("webhook_url: 127.0.0.1 is a loopback address") + kNotSent));
  EXPECT_EQ(store_->directory(id)->webhook_url(), "http://10.0.0.5/hook");
  EXPECT_EQ(store_->directory(id)->name(), "acme-crm") << "a refused PATCH changes nothing";
  EXPECT_EQ(call(http::verb::patch, std::string(kBase) + "/" + std::string(40, 'a'),
                 R"({"webhook_url": "http://127.0.0.1:9/x"})")
                .status,
            http::status::not_found);

  targets_ = WebhookTargetPolicy({network("127.0.0.0/8")});
  connect();
  EXPECT_EQ(call(http::verb::patch, target, R"({"webhook_url": "http://127.0.0.1:9/x"})").status,
            http::status::ok);
  EXPECT_EQ(store_->directory(id)->webhook_url(), "http://127.0.0.1:9/x");
}

TEST_F(DsyncLimitsTest, CreatesBeyondMaxDirectoriesAre409) {
  max_directories_ = 2;
  connect();
  const std::string first = id_of(create_hooked(""));
  id_of(create_hooked(""));
  const Reply refused = create_hooked("");
  EXPECT_EQ(refused.status, http::status::conflict);
  EXPECT_EQ(refused.body, error_body("there are already 2 directories, the most "
                                     "api.max_directories allows: delete one first"));
  EXPECT_EQ(directory_count(), 2u);
  // Deleting one makes room.
  ASSERT_EQ(call(http::verb::delete_, std::string(kBase) + "/" + first, "").status,
            http::status::ok);
  EXPECT_FALSE(id_of(create_hooked("")).empty());
  EXPECT_EQ(directory_count(), 2u);
}

TEST_F(DsyncLimitsTest, ConcurrentCreatesStopAtTheCap) {
  max_directories_ = 3;
  connect();
  std::vector<std::thread> threads;
  std::vector<http::status> statuses(8);
  for (size_t i = 0; i < statuses.size(); ++i) {
    threads.emplace_back([&, i] { statuses[i] = create_hooked("").status; });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), http::status::created), 3);
  EXPECT_EQ(std::count(statuses.begin(), statuses.end(), http::status::conflict), 5);
  EXPECT_EQ(directory_count(), 3u);
}

}  // namespace
}  // namespace dirfeed::rest
