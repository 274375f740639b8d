#pragma once
// What the end-to-end latency benchmarks against the Samba DC share: the DC prepared, the
// daemon configured and started, users created one ldapmodify at a time, their arrivals noted,
// and the latency percentiles from each user's creation to its arrival. The including target
// defines DIRFEED_BINARY (tests/integration/daemon_client.hpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {

using BenchClock = std::chrono::steady_clock;

// Samba's LDAP server notifies across its prefork workers only every 5 s; one worker notifies
// at once, as AD does (see tests/integration/notify_test.cpp). Restarts the DC with one.
inline void use_one_ldap_worker(SambaDc& dc) {
  dc.stop();
  const std::string path = dc.dir() + "/etc/smb.conf";
  std::string conf = read_text(path);
  conf.insert(conf.find("[global]\n") + 9, "\tprefork children = 1\n");
  write_text(path, conf);
  dc.start();
}

// Creates users b1000, b1001, ... (`count` of them) under `ou`, one ldapmodify each, as fast as
// it runs. Returns when each one's ldapmodify returned, by sAMAccountName; *seconds: the
// time all took.
inline std::map<std::string, BenchClock::time_point> create_users(const SambaDc& dc,
                                                                  const std::string& ou, int count,
                                                                  double* seconds) {
  std::map<std::string, BenchClock::time_point> applied;
  const auto started = BenchClock::now();
  for (int i = 0; i < count; ++i) {
    const std::string name = "b" + std::to_string(1000 + i);
    dc.ldif("dn: CN=" + name + "," + ou + "\nchangetype: add\nobjectClass: user\n"
            "sAMAccountName: " + name + "\n");
    applied.emplace(name, BenchClock::now());
  }
  *seconds = std::chrono::duration<double>(BenchClock::now() - started).count();
  return applied;
}

// The shared DC, reset, with one LDAP worker and the OU `ou` made.
inline SambaDc& bench_dc(const std::string& ou) {
  SambaDc& dc = shared_dc();
  dc.reset();
  use_one_ldap_worker(dc);
  dc.ldif("dn: " + ou + "\nchangetype: add\nobjectClass: organizationalUnit\n");
  return dc;
}

// The number of users in the environment variable `name`, else 300.
inline int bench_users(const char* name) {
  const char* value = std::getenv(name);
  return value != nullptr ? std::atoi(value) : 300;
}

// Whether the daemon logging to `log_path` watches for change notifications within 60 s.
inline bool daemon_watching(const std::string& log_path) {
  return wait_until(
      [&] {
        return read_text(log_path).find("watching for change notifications") != std::string::npos;
      },
      std::chrono::seconds(60), std::chrono::milliseconds(100));
}

// When each bench user arrived, by sAMAccountName; noted from any thread.
class Arrivals {
 public:
  void note(const std::string& name, BenchClock::time_point at) {
    std::lock_guard lock(mutex_);
    at_.emplace(name, at);
  }
  std::map<std::string, BenchClock::time_point> taken() const {
    std::lock_guard lock(mutex_);
    return at_;
  }
  size_t size() const {
    std::lock_guard lock(mutex_);
    return at_.size();
  }

 private:
  mutable std::mutex mutex_;
  std::map<std::string, BenchClock::time_point> at_;
};

struct Latencies {
  double p50 = 0, p99 = 0, max = 0;  // seconds
};

// From each user's creation (`applied`) to its arrival (`arrived`, which holds every one).
inline Latencies latencies(const std::map<std::string, BenchClock::time_point>& applied,
                           const std::map<std::string, BenchClock::time_point>& arrived) {
  std::vector<double> values;
  for (const auto& [name, at] : applied) {
    values.push_back(std::chrono::duration<double>(arrived.at(name) - at).count());
  }
  std::sort(values.begin(), values.end());
  auto percentile = [&](double p) {
    return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
  };
  return {percentile(0.50), percentile(0.99), values.back()};
}

// Creates `count` users under `ou` (create_users), waits up to 60 s for each one's arrival and
// prints "`bench`: N users created ...; AD change -> `arrival`: p50, p99, max". False (nothing
// printed) when some did not arrive.
inline bool measure_latency(const char* bench, const char* arrival, const SambaDc& dc,
                            const std::string& ou, int count, const Arrivals& arrivals) {
  double writing = 0;
  const std::map<std::string, BenchClock::time_point> applied =
      create_users(dc, ou, count, &writing);
  if (!wait_until([&] { return arrivals.size() == applied.size(); }, std::chrono::seconds(60))) {
    return false;
  }
  const Latencies latency = latencies(applied, arrivals.taken());
  std::printf("%s: %d users created one ldapmodify at a time in %.1f s (%.0f/s); "
              "AD change -> %s: p50 %.3f s, p99 %.3f s, max %.3f s\n",
              bench, count, writing, count / writing, arrival, latency.p50, latency.p99,
              latency.max);
  return true;
}

// One latency bench's run: the user count from the environment variable `users_variable`
// (bench_users), the shared DC prepared with OU=Bench (bench_dc), and the daemon's config in a
// temp dir (write_config: the daemon's default strategy, polls every 60 s, change
// notifications on, webhooks allowed to `webhook_allowed_networks`). The bench appends to the
// config what else it needs, then calls start_daemon(), measure() and stop_daemon().
struct LatencyBench {
  explicit LatencyBench(const char* users_variable,
                        std::vector<std::string> webhook_allowed_networks = {})
      : users(bench_users(users_variable)),
        dc(bench_dc(kOu)),
        config(write_config(dir, dc,
                            {.strategy = "",
                             .interval = "60s",
                             .notifications = true,
                             .webhook_allowed_networks = std::move(webhook_allowed_networks)})) {}

  // Starts `dirfeed run` (first sync done) and waits until it watches for change
  // notifications; a fatal failure, with the log, when it does not get there. Sets `port`.
  void start_daemon() {
    port = start(daemon, config, log_path);
    ASSERT_NE(port, 0) << log();
    ASSERT_TRUE(daemon_watching(log_path)) << log();
  }

  // measure_latency() of `users` users under OU=Bench; a fatal failure, with the log, when
  // some did not arrive.
  void measure(const char* bench, const char* arrival, const Arrivals& arrivals) {
    ASSERT_TRUE(measure_latency(bench, arrival, dc, kOu, users, arrivals)) << log();
  }

  // SIGTERM, and a clean exit expected.
  void stop_daemon() {
    daemon->signal(SIGTERM);
    EXPECT_EQ(daemon->wait_for(std::chrono::seconds(30)), 0);
  }

  std::string log() const { return read_text(log_path); }

  static inline const std::string kOu = "OU=Bench,DC=example,DC=test";
  const int users;
  SambaDc& dc;
  TempDir dir;
  const std::string log_path = dir.path() + "/run.log";
  const std::string config;
  std::optional<Process> daemon;
  uint16_t port = 0;
};

}  // namespace dirfeed::testing
