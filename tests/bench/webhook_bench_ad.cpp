// Webhook latency from an AD change to its receipt, end to end: the real `dirfeed run`
// (change notifications on) against the Samba AD DC fixture, one directory with a webhook to a
// receiver on 127.0.0.1. Creates users one ldapmodify at a time (as fast as ldapmodify runs)
// and measures, per user, from ldapmodify's return to the receipt of its user.created event.
// Needs what the integration tests need (root, samba, ldap-utils). Run (not part of ctest):
//   build/tests/bench/webhook_bench_ad [--gtest_also_run_disabled_tests]
// with WEBHOOK_BENCH_USERS=N to change the number of users (default 300).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/bench/latency.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

const std::string kOu = "OU=Bench,DC=example,DC=test";

TEST(WebhookAdBench, LatencyFromAdChangeToReceipt) {
  const int users = bench_users("WEBHOOK_BENCH_USERS");
  SambaDc& dc = bench_dc(kOu);
  TempDir dir;
  const std::string log_path = dir.path() + "/run.log";
  // The daemon's default strategy, change notifications on.
  const std::string config =
      write_config(dir, dc, {.strategy = "",
                             .interval = "60s",
                             .notifications = true,
                             .webhook_allowed_networks = {"127.0.0.0/8"}});
  const std::string key = add_key(config, "bench", "/dev/null");
  ASSERT_FALSE(key.empty());

  std::optional<Process> daemon;
  const uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  ASSERT_TRUE(daemon_watching(log_path)) << read_text(log_path);

  // Receipt of each user's user.created.
  Arrivals arrivals;
  WebhookReceiver receiver([&](const ReceivedRequest& request, size_t) {
    static const std::regex created(R"re("event":"user\.created".*"sAMAccountName":"(b\d+)")re");
    std::smatch match;
    if (std::regex_search(request.body, match, created)) arrivals.note(match[1].str(), request.at);
    return 200u;
  });
  const Reply created = call(port, http::verb::post, "/api/v1/directory-sync", api_key(key),
                             R"({"tenant": "bench", "product": "ad", "base_dns": [")" + kOu +
                                 R"("], "webhook_url": ")" + receiver.url() + "\"}");
  ASSERT_EQ(created.status, 201) << created.body;

  ASSERT_TRUE(measure_latency("webhook_bench_ad", "user.created receipt", dc, kOu, users,
                              arrivals))
      << read_text(log_path);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0);
}

}  // namespace
}  // namespace dirfeed::testing
