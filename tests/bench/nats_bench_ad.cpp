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

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/bench/latency.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

const std::string kOu = "OU=Bench,DC=example,DC=test";

TEST(NatsAdBench, LatencyFromAdChangeToMessage) {
  const char* users_env = std::getenv("NATS_BENCH_USERS");
  const int users = users_env != nullptr ? std::atoi(users_env) : 300;
  SambaDc& dc = shared_dc();
  dc.reset();
  use_one_ldap_worker(dc);
  dc.ldif("dn: " + kOu + "\nchangetype: add\nobjectClass: organizationalUnit\n");

  TempDir dir;
  const std::string log_path = dir.path() + "/run.log";
  NatsServer server(dir.path() + "/nats");
  // The daemon's default strategy, change notifications on, publish.nats to the server.
  const std::string config =
      write_config(dir, dc, {.strategy = "", .interval = "60s", .notifications = true});
  write_text(config, read_text(config) + "publish:\n  nats:\n    servers: [" + server.url() + "]\n");

  // Arrival time of each user's add message, by sAMAccountName.
  std::mutex mutex;
  std::map<std::string, SteadyClock::time_point> received;
  natsConnection* connection = nullptr;
  natsSubscription* subscription = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&connection, server.url().c_str()), NATS_OK);
  struct Arrivals {
    std::mutex* mutex;
    std::map<std::string, SteadyClock::time_point>* received;
  } arrivals{&mutex, &received};
  ASSERT_EQ(natsConnection_Subscribe(
                &subscription, connection, "dirfeed.example_test.user.add",
                [](natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
                  const auto at = SteadyClock::now();
                  static const std::regex name(R"re("onPremisesSamAccountName":"(b\d+)")re");
                  const std::string body(natsMsg_GetData(msg),
                                         static_cast<size_t>(natsMsg_GetDataLength(msg)));
                  std::smatch match;
                  if (std::regex_search(body, match, name)) {
                    auto* a = static_cast<Arrivals*>(closure);
                    std::lock_guard lock(*a->mutex);
                    a->received->emplace(match[1].str(), at);
                  }
                  natsMsg_Destroy(msg);
                },
                &arrivals),
            NATS_OK);

  std::optional<Process> daemon;
  const uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  ASSERT_TRUE(wait_until(
      [&] {
        return read_text(log_path).find("watching for change notifications") != std::string::npos;
      },
      60s, 100ms))
      << read_text(log_path);

  double writing = 0;
  const std::map<std::string, SteadyClock::time_point> applied =
      create_users(dc, kOu, users, &writing);
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return received.size() == applied.size();
      },
      60s))
      << read_text(log_path);

  const Latencies latency = latencies(applied, received);
  std::printf("nats_bench_ad: %d users created one ldapmodify at a time in %.1f s (%.0f/s); "
              "AD change -> message at a subscriber: p50 %.3f s, p99 %.3f s, max %.3f s\n",
              users, writing, users / writing, latency.p50, latency.p99, latency.max);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0);
  natsSubscription_Destroy(subscription);
  natsConnection_Destroy(connection);
}

}  // namespace
}  // namespace dirfeed::testing
