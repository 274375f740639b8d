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

#include <regex>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/bench/latency.hpp"

namespace dirfeed::testing {
namespace {

TEST(NatsAdBench, LatencyFromAdChangeToMessage) {
  LatencyBench bench("NATS_BENCH_USERS");
  NatsServer server(bench.dir.path() + "/nats");
  // publish.nats to the server.
  write_text(bench.config,
             read_text(bench.config) + "publish:\n  nats:\n    servers: [" + server.url() + "]\n");

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

  ASSERT_NO_FATAL_FAILURE(bench.start_daemon());
  ASSERT_NO_FATAL_FAILURE(bench.measure("nats_bench_ad", "message at a subscriber", arrivals));
  bench.stop_daemon();
  natsSubscription_Destroy(subscription);
  natsConnection_Destroy(connection);
}

}  // namespace
}  // namespace dirfeed::testing
