// Webhook latency from an AD change to its receipt, end to end: the real `dirfeed run`
// (change notifications on) against the Samba AD DC fixture, one directory with a webhook to a
// receiver on 127.0.0.1. Creates users one ldapmodify at a time (as fast as ldapmodify runs)
// and measures, per user, from ldapmodify's return to the receipt of its user.created event.
// Needs what the integration tests need (root, samba, ldap-utils). Run (not part of ctest):
//   build/tests/bench/webhook_bench_ad [--gtest_also_run_disabled_tests]
// with WEBHOOK_BENCH_USERS=N to change the number of users (default 300).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "tests/integration/process.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

#ifndef DIRFEED_BINARY
#error "DIRFEED_BINARY must be defined (tests/bench/CMakeLists.txt)"
#endif

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using SteadyClock = std::chrono::steady_clock;

const std::string kOu = "OU=Bench,DC=example,DC=test";

// One request to the daemon's API on 127.0.0.1:port; the status and body.
std::pair<int, std::string> call(uint16_t port, http::verb verb, const std::string& target,
                                 const std::string& key, const std::string& body = "") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return {0, ""};
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!key.empty()) request.set(http::field::authorization, "Api-Key " + key);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  http::write(socket, request, error);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!error) http::read(socket, buffer, response, error);
  if (error) return {0, ""};
  return {static_cast<int>(response.result_int()), response.body()};
}

// Samba's LDAP server notifies across its prefork workers only every 5 s; one worker notifies
// at once, as AD does (see tests/integration/notify_test.cpp).
void use_one_ldap_worker(SambaDc& dc) {
  dc.stop();
  const std::string path = dc.dir() + "/etc/smb.conf";
  std::string conf = read_text(path);
  conf.insert(conf.find("[global]\n") + 9, "\tprefork children = 1\n");
  write_text(path, conf);
  dc.start();
}

TEST(WebhookAdBench, LatencyFromAdChangeToReceipt) {
  const char* users_env = std::getenv("WEBHOOK_BENCH_USERS");
  const int users = users_env != nullptr ? std::atoi(users_env) : 300;
  SambaDc& dc = shared_dc();
  dc.reset();
  use_one_ldap_worker(dc);
  dc.ldif("dn: " + kOu + "\nchangetype: add\nobjectClass: organizationalUnit\n");

  TempDir dir;
  const std::string log_path = dir.path() + "/run.log";
  const std::string password_file = dir.path() + "/bind.password";
  write_text(password_file, dc.admin_password(), 0600);
  const std::string config = dir.path() + "/dirfeed.yaml";
  write_text(config, "state_dir: " + dir.path() + "/state\nlog:\n  level: info\ndomains:\n"
                     "  - name: " + dc.domain() + "\n    controllers: [" + dc.uri() + "]\n"
                     "    tls: {ca_file: " + dc.ca_file() + "}\n"
                     "    bind: {dn: " + dc.admin_dn() + ", password_file: " + password_file +
                     "}\n    sync: {interval: 60s, notifications: true}\n"
                     "api:\n  listen: 127.0.0.1:0\n  users_file: " + dir.path() +
                     "/api-users\n  keys_file: " + dir.path() + "/api-keys\n");
  FILE* pipe = ::popen((std::string(DIRFEED_BINARY) + " api add-key --config " + config +
                        " --name bench 2>/dev/null").c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  char line[256] = {};
  ASSERT_NE(std::fgets(line, sizeof line, pipe), nullptr);
  ::pclose(pipe);
  std::string key(line);
  key.erase(key.find_last_not_of("\r\n") + 1);

  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path, log_path);
  uint16_t port = 0;
  ASSERT_TRUE(wait_until(
      [&] {
        std::smatch match;
        const std::string log = read_text(log_path);
        if (!std::regex_search(log, match, std::regex("listening on http://127\\.0\\.0\\.1:(\\d+)")))
          return false;
        port = static_cast<uint16_t>(std::stoi(match[1].str()));
        return call(port, http::verb::get, "/readyz", "").first == 200 &&
               log.find("watching for change notifications") != std::string::npos;
      },
      60s, 100ms))
      << read_text(log_path);

  // Receipt time of each user's user.created, by sAMAccountName.
  std::mutex mutex;
  std::map<std::string, SteadyClock::time_point> received;
  WebhookReceiver receiver([&](const ReceivedRequest& request, size_t) {
    static const std::regex created(R"re("event":"user\.created".*"sAMAccountName":"(b\d+)")re");
    std::smatch match;
    if (std::regex_search(request.body, match, created)) {
      std::lock_guard lock(mutex);
      received.emplace(match[1].str(), request.at);
    }
    return 200u;
  });
  const auto [status, body] = call(port, http::verb::post, "/api/v1/directory-sync", key,
                                   R"({"tenant": "bench", "product": "ad", "base_dns": [")" +
                                       kOu + R"("], "webhook_url": ")" + receiver.url() + "\"}");
  ASSERT_EQ(status, 201) << body;

  std::map<std::string, SteadyClock::time_point> applied;
  const auto started = SteadyClock::now();
  for (int i = 0; i < users; ++i) {
    const std::string name = "b" + std::to_string(1000 + i);
    dc.ldif("dn: CN=" + name + "," + kOu + "\nchangetype: add\nobjectClass: user\n"
            "sAMAccountName: " + name + "\n");
    applied.emplace(name, SteadyClock::now());
  }
  const double writing = std::chrono::duration<double>(SteadyClock::now() - started).count();
  ASSERT_TRUE(wait_until(
      [&] {
        std::lock_guard lock(mutex);
        return received.size() == applied.size();
      },
      60s))
      << read_text(log_path);

  std::vector<double> latencies;
  for (const auto& [name, at] : applied) {
    latencies.push_back(std::chrono::duration<double>(received.at(name) - at).count());
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))];
  };
  std::printf("webhook_bench_ad: %d users created one ldapmodify at a time in %.1f s (%.0f/s); "
              "AD change -> user.created receipt: p50 %.3f s, p99 %.3f s, max %.3f s\n",
              users, writing, users / writing, percentile(0.50), percentile(0.99),
              latencies.back());
  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0);
}

}  // namespace
}  // namespace dirfeed::testing
