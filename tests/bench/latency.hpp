#pragma once
// What the end-to-end latency benchmarks against the Samba DC share: users created one
// ldapmodify at a time, and the latency percentiles from each user's creation to its arrival.
#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"

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

}  // namespace dirfeed::testing
