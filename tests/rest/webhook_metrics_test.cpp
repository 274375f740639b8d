// What the public /metrics tells of webhooks (rest/webhooks.hpp, issue 10): totals without a
// directory id, tenant, product or URL by default; the series by directory only with
// metrics_detail. Directories created through the Directory Sync API (real ids), delivered to
// real receivers on 127.0.0.1, /metrics scraped through the routing table.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <chrono>
#include <memory>
#include <regex>
#include <string>

#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/metrics.hpp"
#include "rest/webhook_target.hpp"
#include "rest/webhooks.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/support/process.hpp"
#include "tests/rest/webhook_receiver.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using dirfeed::testing::ReceivedRequest;
using dirfeed::testing::wait_until;
using dirfeed::testing::WebhookReceiver;

class WebhookMetricsTest : public changefeed::testing::StoreTest {
 protected:
  WebhookMetricsTest() {
    const std::string key_file =
        temp_.write("api-keys", format_keys({{"app", api_key_hash(key_)}}));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", key_file);
    std::string error;
    loopback_ = WebhookTargetPolicy({*IpNetwork::parse("127.0.0.0/8", &error)});
    context_ = testing::test_context(*store_, credentials_.get(), &clock_);
    context_->metrics = &metrics_;
    context_->webhook_targets = loopback_;
    router_ = std::make_unique<Router>(make_router(*context_));
  }

  // POSTs a directory of `tenant` with a webhook to `url`; its id.
  std::string create(const std::string& tenant, const std::string& url) {
    Request request(http::verb::post, "/api/v1/directory-sync", 11);
    request.set(http::field::authorization, "Api-Key " + key_);
    request.body() = R"({"tenant": ")" + tenant + R"(", "product": "product-9c2e", )"
                     R"("webhook_url": ")" + url + R"("})";
    const Response response = router_->handle(request);
    EXPECT_EQ(response.result(), http::status::created) << response.body();
    std::smatch match;
    const std::string body = response.body();
    if (!std::regex_search(body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))) return "";
    return match[1].str();
  }

  // Runs a dispatcher until `up_id` delivered the feed and `down_id` failed twice; then
  // GET /metrics (public: no credentials).
  std::string scrape_after_deliveries(bool detail, const std::string& up_id,
                                      const std::string& down_id) {
    DispatcherOptions options;
    options.poll = 10ms;
    options.retry_base = 20ms;
    options.retry_cap = 100ms;
    options.client.targets = loopback_;
    options.metrics_detail = detail;
    WebhookDispatcher dispatcher(*store_, clock_, &metrics_, options);
    dispatcher.start();
    apply({user("u1"), user("u2")});
    EXPECT_TRUE(wait_until(
        [&] {
          return store_->webhook_state(up_id)->after_sequence() == store_->last_sequence() &&
                 store_->webhook_state(down_id)->failures() >= 2 &&
                 metrics_.value("dirfeed_webhook_directories_failing", {}) == 1;
        },
        10s))
        << metrics_.render();
    return router_->handle(Request(http::verb::get, "/metrics", 11)).body();
  }

  const std::string key_ = generate_api_key();
  std::unique_ptr<CredentialStore> credentials_;
  WebhookTargetPolicy loopback_;
  Metrics metrics_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
  WebhookReceiver up_;
  WebhookReceiver down_{[](const ReceivedRequest&, size_t) { return 503u; }};
};

TEST_F(WebhookMetricsTest, DefaultOutputNamesNoDirectory) {
  const std::string up_id = create("tenant-7f3a", up_.url());
  const std::string down_id = create("tenant-5d1b", down_.url());
  ASSERT_FALSE(up_id.empty());
  ASSERT_FALSE(down_id.empty());
  const std::string text = scrape_after_deliveries(false, up_id, down_id);
  for (const std::string& secret : {up_id, down_id, std::string("tenant-7f3a"),
                                    std::string("tenant-5d1b"), std::string("product-9c2e"),
                                    up_.url(), down_.url(), std::string("directory=")}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in\n" << text;
  }
  // Totals: what the one receiver got (one event per POST), the other's failures, one failing.
  EXPECT_NE(text.find("\ndirfeed_webhook_events_delivered_total " +
                      std::to_string(up_.count()) + "\n"),
            std::string::npos)
      << text;
  EXPECT_GE(metrics_.value("dirfeed_webhook_failed_attempts_total", {}), 2);
  EXPECT_NE(text.find("\ndirfeed_webhook_directories_failing 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ndirfeed_webhook_backlog "), std::string::npos) << text;
  EXPECT_EQ(text.find("dirfeed_webhook_last_success_timestamp_seconds"), std::string::npos)
      << "a per-directory series only";
}

TEST_F(WebhookMetricsTest, MetricsDetailHasTheSeriesByDirectory) {
  const std::string up_id = create("tenant-7f3a", up_.url());
  const std::string down_id = create("tenant-5d1b", down_.url());
  const std::string text = scrape_after_deliveries(true, up_id, down_id);
  const std::string up = "{directory=\"" + up_id + "\"}";
  const std::string down = "{directory=\"" + down_id + "\"}";
  EXPECT_NE(text.find("\ndirfeed_webhook_events_delivered_total" + up + " " +
                      std::to_string(up_.count()) + "\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndirfeed_webhook_failed_attempts_total" + down + " "), std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndirfeed_webhook_backlog" + up + " 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ndirfeed_webhook_last_success_timestamp_seconds" + up + " "),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("\ndirfeed_webhook_directories_failing 1\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("\ndirfeed_webhook_backlog "), std::string::npos) << "no unlabelled total";
}

}  // namespace
}  // namespace dirfeed::rest
