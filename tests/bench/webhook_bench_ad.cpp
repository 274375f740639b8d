// Webhook latency from an AD change to its receipt, end to end: the real `dirfeed run`
// (change notifications on) against the Samba AD DC fixture, one directory with a webhook to a
// receiver on 127.0.0.1. Creates users one ldapmodify at a time (as fast as ldapmodify runs)
// and measures, per user, from ldapmodify's return to the receipt of its user.created event.
// Needs what the integration tests need (root, samba, ldap-utils). Run (not part of ctest):
//   build/tests/bench/webhook_bench_ad [--gtest_also_run_disabled_tests]
// with WEBHOOK_BENCH_USERS=N to change the number of users (default 300).
#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/integration/daemon_client.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/bench/latency.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;

TEST(WebhookAdBench, LatencyFromAdChangeToReceipt) {
  LatencyBench bench("WEBHOOK_BENCH_USERS", {"127.0.0.0/8"});
  const std::string key = add_key(bench.config, "bench", "/dev/null");
  ASSERT_FALSE(key.empty());
  ASSERT_NO_FATAL_FAILURE(bench.start_daemon());

  // Receipt of each user's user.created.
  Arrivals arrivals;
  WebhookReceiver receiver([&](const ReceivedRequest& request, size_t) {
    static const std::regex created(R"re("event":"user\.created".*"sAMAccountName":"(b\d+)")re");
    std::smatch match;
    if (std::regex_search(request.body, match, created)) arrivals.note(match[1].str(), request.at);
    return 200u;
  });
  const Reply created = call(bench.port, http::verb::post, "/api/v1/directory-sync", api_key(key),
                             R"({"tenant": "bench", "product": "ad", "base_dns": [")" + bench.kOu +
                                 R"("], "webhook_url": ")" + receiver.url() + "\"}");
  ASSERT_EQ(created.status, 201) << created.body;

  ASSERT_NO_FATAL_FAILURE(bench.measure("webhook_bench_ad", "user.created receipt", arrivals));
  bench.stop_daemon();
}

}  // namespace
}  // namespace dirfeed::testing
