// NATS latency from an AD change to its message, end to end: the real `dirfeed run` (change
// notifications on) against the Samba AD DC fixture, publishing to a nats-server on loopback
// (JetStream, file storage). Creates users one ldapmodify at a time (as fast as ldapmodify
// runs) and measures, per user, from ldapmodify's return to the arrival of its
// dirfeed.example_test.user.add message at a subscriber (the PubAck follows within the same
// round trip). Needs what the integration tests need (root, samba, ldap-utils) and
// nats-server. Run (not part of ctest):
//   build/tests/bench/nats_bench_ad
// with NATS_BENCH_USERS=N to change the number of users (default 300).
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/bench/latency.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

const std::string kOu = "OU=Bench,DC=example,DC=test";

TEST(NatsAdBench, LatencyFromAdChangeToMessage) {
  const int users = bench_users("NATS_BENCH_USERS");
  SambaDc& dc = bench_dc(kOu);
  TempDir dir;
  const std::string log_path = dir.path() + "/run.log";
  NatsServer server(dir.path() + "/nats");
  // The daemon's default strategy, change notifications on, publish.nats to the server.
  const std::string config =
      write_config(dir, dc, {.strategy = "", .interval = "60s", .notifications = true});
  write_text(config, read_text(config) + "publish:\n  nats:\n    servers: [" + server.url() + "]\n");

  // Arrival of each user's add message at a subscriber.
  Arrivals arrivals;
  natsConnection* connection = nullptr;
  natsSubscription* subscription = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&connection, server.url().c_str()), NATS_OK);
  ASSERT_EQ(natsConnection_Subscribe(
                &subscription, connection, "dirfeed.example_test.user.add",
                [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
                  const auto at = BenchClock::now();
                  static const std::regex name(R"re("onPremisesSamAccountName":"(b\d+)")re");
                  const std::string body(natsMsg_GetData(msg),
                                         static_cast<size_t>(natsMsg_GetDataLength(msg)));
                  std::smatch match;
                  if (std::regex_search(body, match, name)) {
                    static_cast<Arrivals*>(closure)->note(match[1].str(), at);
                  }
                  natsMsg_Destroy(msg);
                },
                &arrivals),
            NATS_OK);

  std::optional<Process> daemon;
  const uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  ASSERT_TRUE(daemon_watching(log_path)) << read_text(log_path);
  ASSERT_TRUE(measure_latency("nats_bench_ad", "message at a subscriber", dc, kOu, users,
                              arrivals))
      << read_text(log_path);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0);
  natsSubscription_Destroy(subscription);
  natsConnection_Destroy(connection);
}

}  // namespace
}  // namespace dirfeed::testing
