// The User ID Service API served by the real `dirfeed run` binary, read over real HTTP, with
// the Samba AD DC fixture as the directory (DESIGN.md sections 1 and 9).
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <regex>
#include <string>

#include "proto/guid.hpp"
#include "rest/credentials.hpp"
#include "tests/integration/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

#ifndef DIRFEED_BINARY
#error "DIRFEED_BINARY must be defined (tests/integration/CMakeLists.txt)"
#endif

namespace dirfeed::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

const std::string kStaff = "OU=Staff,DC=example,DC=test";

struct Reply {
  int status = 0;  // 0: no connection
  std::string body;
};

// One request on a new connection to 127.0.0.1:port, with an Authorization header and a
// JSON body when given.
Reply call(uint16_t port, http::verb verb, const std::string& target,
           const std::string& authorization = "", const std::string& body = "") {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return {};
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!authorization.empty()) request.set(http::field::authorization, authorization);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  http::write(socket, request, error);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!error) http::read(socket, buffer, response, error);
  if (error) return {};
  return {static_cast<int>(response.result_int()), response.body()};
}

Reply get(uint16_t port, const std::string& target, const std::string& authorization = "") {
  return call(port, http::verb::get, target, authorization);
}

// The GUID string form of the entry ldapsearch finds, from its base64 objectGUID.
std::string ldap_guid(const SambaDc& dc, const std::string& filter) {
  const std::string ldif = dc.search(kStaff, filter, {"objectGUID"});
  std::smatch match;
  if (!std::regex_search(ldif, match, std::regex("objectGUID:: (\\S+)"))) return "";
  std::optional<std::string> bytes = guid_from_text(match[1].str());
  return bytes ? guid_to_string(*bytes) : "";
}

// Writes the daemon's config (and the bind password file) into `dir`: the DC, usn, the API on
// an ephemeral loopback port with users and keys files in `dir`. Returns the config's path.
std::string write_config(const TempDir& dir, const SambaDc& dc, const std::string& log_level,
                         bool anonymous_read) {
  const std::string password_file = dir.path() + "/bind.password";
  write_text(password_file, dc.admin_password(), 0600);
  const std::string config = dir.path() + "/dirfeed.yaml";
  write_text(config, "state_dir: " + dir.path() + "/state\nlog:\n  level: " + log_level +
                         "\ndomains:\n  - name: " + dc.domain() + "\n    controllers:\n"
                         "      - " + dc.uri() + "\n    tls:\n      ca_file: " + dc.ca_file() +
                         "\n    bind:\n      dn: " + dc.admin_dn() +
                         "\n      password_file: " + password_file +
                         "\n    sync:\n      strategy: usn\n      interval: 60s\n"
                         "api:\n  listen: 127.0.0.1:0\n  anonymous_read: " +
                         (anonymous_read ? "true" : "false") + "\n"
                         "  users_file: " + dir.path() + "/api-users\n"
                         "  keys_file: " + dir.path() + "/api-keys\n");
  return config;
}

// The port the daemon logging to `log_path` listens on, once it says so (0 after 30 s).
uint16_t api_port(const std::string& log_path) {
  const std::regex listening("api: listening on http://127\\.0\\.0\\.1:(\\d+)");
  uint16_t port = 0;
  wait_until(
      [&] {
        std::smatch match;
        const std::string log = read_text(log_path);
        if (!std::regex_search(log, match, listening)) return false;
        port = static_cast<uint16_t>(std::stoi(match[1].str()));
        return true;
      },
      30s);
  return port;
}

TEST(ApiIntegrationTest, ServesUsersAfterTheFirstSync) {
  SambaDc& dc = shared_dc();
  dc.reset();
  dc.ldif("dn: " + kStaff + "\nchangetype: add\nobjectClass: organizationalUnit\n\n"
          "dn: CN=Smith\\, John," + kStaff + "\nchangetype: add\nobjectClass: user\n"
          "sAMAccountName: jsmith\nmail: john.smith@example.test\n\n"
          "dn: CN=Engineers," + kStaff + "\nchangetype: add\nobjectClass: group\n"
          "sAMAccountName: engineers\nmember: CN=Smith\\, John," + kStaff + "\n");
  const std::string guid = ldap_guid(dc, "(sAMAccountName=jsmith)");
  ASSERT_EQ(guid.size(), 36u);

  TempDir dir;
  const std::string config = write_config(dir, dc, "info", /*anonymous_read=*/true);

  // With the DC down the first sync cannot finish: /readyz must say so.
  dc.stop();
  const std::string log_path = dir.path() + "/run.log";
  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path, log_path);
  const uint16_t port = api_port(log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  EXPECT_EQ(get(port, "/healthz").status, 200);
  const Reply pending = get(port, "/readyz");
  EXPECT_EQ(pending.status, 503);
  EXPECT_EQ(pending.body, R"({"error":"first sync not complete","pending":["example.test"]})");

  // The DC comes back; the retry (after a 5 s backoff) completes the first sync.
  dc.start();
  ASSERT_TRUE(wait_until([&] { return get(port, "/readyz").status == 200; }, 90s, 200ms))
      << read_text(log_path);

  // /metrics (public): the failed and the successful pass, the failing DC, the serving DC.
  const Reply metrics = get(port, "/metrics");
  ASSERT_EQ(metrics.status, 200);
  std::smatch passes;
  ASSERT_TRUE(std::regex_search(
      metrics.body, passes,
      std::regex(R"(\ndirfeed_passes_total\{domain="example\.test",result="ok"\} (\d+)\n)")))
      << metrics.body;
  EXPECT_GE(std::stoi(passes[1].str()), 1);
  EXPECT_NE(metrics.body.find("\ndirfeed_current_dc{domain=\"example.test\",dc=\"" + dc.uri() +
                              "\"} 1\n"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("\ndirfeed_passes_total{domain=\"example.test\",result=\"error\"} "),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("\ndirfeed_dc_errors_total{domain=\"example.test\",dc=\"" +
                              dc.uri() + "\"} "),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("\ndirfeed_full_syncs_total{domain=\"example.test\"} 1\n"),
            std::string::npos)
      << metrics.body;
  EXPECT_NE(metrics.body.find("dirfeed_http_requests_total{route=\"/readyz\",method=\"GET\","
                              "status=\"200\"} 1\n"),
            std::string::npos)
      << metrics.body;

  const std::string dn = "CN=Smith\\\\, John," + kStaff;  // as JSON escapes it
  const std::string expected_identity = R"("NTLMIdentity":"EXAMPLE\\jsmith")";
  const Reply by_guid = get(port, "/api/uid/v1.0/user/" + guid);
  ASSERT_EQ(by_guid.status, 200) << by_guid.body;
  EXPECT_NE(by_guid.body.find(R"("dn":")" + dn + "\""), std::string::npos) << by_guid.body;
  EXPECT_NE(by_guid.body.find(expected_identity), std::string::npos) << by_guid.body;
  EXPECT_NE(by_guid.body.find(R"("objectGUID":")" + guid + "\""), std::string::npos);
  EXPECT_NE(by_guid.body.find(R"("mail":"john.smith@example.test")"), std::string::npos);
  EXPECT_NE(by_guid.body.find(R"("CN=Domain Users,CN=Users,DC=example,DC=test")"),
            std::string::npos)
      << by_guid.body;
  EXPECT_NE(by_guid.body.find(R"("CN=Engineers,)" + kStaff + "\""), std::string::npos);

  EXPECT_EQ(get(port, "/api/uid/v1.0/user/ntlm-identity/example%5CJSMITH").body, by_guid.body);
  EXPECT_EQ(get(port, "/api/uid/v1.0/user/dn/CN%3DSmith%5C%2C%20John%2COU%3DStaff%2CDC%3Dexample"
                      "%2CDC%3Dtest").body,
            by_guid.body);
  const Reply users = get(port, "/api/uid/v1.0/users?ip_only=false&domain=example.test");
  EXPECT_EQ(users.status, 200);
  EXPECT_NE(users.body.find(by_guid.body), std::string::npos) << users.body;
  EXPECT_EQ(get(port, "/api/uid/v1.0/domains").body, R"({"domains":["DC=example,DC=test"]})");
  EXPECT_EQ(get(port, "/api/uid/v1.0/user/dn/CN%3Dnobody").status, 404);

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0) << read_text(log_path);
}

// `dirfeed api add-user --config CONFIG --user USER` with `password` on stdin; the exit code.
int add_user(const std::string& config, const std::string& user, const std::string& password,
             const std::string& log_path) {
  const std::string command = std::string(DIRFEED_BINARY) + " api add-user --config " + config +
                              " --user " + user + " >>" + log_path + " 2>&1";
  FILE* pipe = ::popen(command.c_str(), "w");
  if (pipe == nullptr) return -1;
  std::fputs((password + "\n").c_str(), pipe);
  const int status = ::pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string basic(const std::string& user, const std::string& password) {
  return "Basic " + base64_encode(user + ":" + password);
}

// Basic auth for reads with api.anonymous_read: false, and users added by `dirfeed api
// add-user` while the daemon runs (no restart). (Anonymous reads, the default, are what
// ServesUsersAfterTheFirstSync does.)
TEST(ApiIntegrationTest, BasicAuthForReadsWithoutAnonymousRead) {
  SambaDc& dc = shared_dc();
  TempDir dir;
  const std::string config = write_config(dir, dc, "info", /*anonymous_read=*/false);
  const std::string cli_log = dir.path() + "/cli.log";
  ASSERT_EQ(add_user(config, "alice", "s3cret", cli_log), 0) << read_text(cli_log);

  const std::string log_path = dir.path() + "/run.log";
  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path, log_path);
  const uint16_t port = api_port(log_path);
  ASSERT_NE(port, 0) << read_text(log_path);

  const std::string domains = "/api/uid/v1.0/domains";
  EXPECT_EQ(get(port, "/healthz").status, 200);  // health checks need no credentials
  const Reply anonymous = get(port, domains);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find(R"("error")"), std::string::npos) << anonymous.body;
  EXPECT_EQ(get(port, domains, basic("alice", "wrong")).status, 401);
  const Reply alice = get(port, domains, basic("alice", "s3cret"));
  EXPECT_EQ(alice.status, 200);
  EXPECT_EQ(alice.body, R"({"domains":["DC=example,DC=test"]})");

  // A user added while the daemon runs can read within a few seconds, without a restart.
  EXPECT_EQ(get(port, domains, basic("bob", "pw2")).status, 401);
  ASSERT_EQ(add_user(config, "bob", "pw2", cli_log), 0) << read_text(cli_log);
  EXPECT_TRUE(wait_until([&] { return get(port, domains, basic("bob", "pw2")).status == 200; },
                         10s, 100ms));
  EXPECT_EQ(get(port, domains, basic("alice", "s3cret")).status, 200);

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0) << read_text(log_path);
}

// Writes over real HTTP: IP mappings on an AD user (kept across an AD re-poll), a user created
// through the API, its delete, and the status codes clients rely on.
TEST(ApiIntegrationTest, WritesMapIpsAndCreateUsers) {
  SambaDc& dc = shared_dc();
  TempDir dir;
  const std::string config = write_config(dir, dc, "debug", /*anonymous_read=*/true);
  const std::string cli_log = dir.path() + "/cli.log";
  ASSERT_EQ(add_user(config, "ops", "opspw", cli_log), 0) << read_text(cli_log);
  const std::string ops = basic("ops", "opspw");

  const std::string log_path = dir.path() + "/run.log";
  Process daemon({DIRFEED_BINARY, "run", "--config", config}, log_path, log_path);
  const uint16_t port = api_port(log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  ASSERT_TRUE(wait_until([&] { return get(port, "/readyz").status == 200; }, 60s))
      << read_text(log_path);

  const std::string admin = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5CAdministrator";
  const std::string add_ips =
      R"({"changetype": "add", "ipv4_addresses": ["192.0.2.10"], "ipv6_addresses": ["2001:db8::1"]})";
  EXPECT_EQ(call(port, http::verb::put, admin, "", add_ips).status, 401);
  EXPECT_EQ(call(port, http::verb::put, admin, ops,
                 R"({"changetype": "add", "ipv4_addresses": ["192.0.2.300"]})").status, 400);
  const Reply put = call(port, http::verb::put, admin, ops, add_ips);
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_NE(put.body.find("objectGUID"), std::string::npos) << put.body;

  // ip_only defaults to true: the mapped user shows, with its addresses.
  Reply users = get(port, "/api/uid/v1.0/users");
  EXPECT_EQ(users.status, 200);
  EXPECT_NE(users.body.find("Administrator"), std::string::npos) << users.body;
  EXPECT_NE(users.body.find("192.0.2.10"), std::string::npos) << users.body;
  EXPECT_NE(get(port, "/api/uid/v1.0/users?networks=192.0.2.0-192.0.2.255").body.find("192.0.2.10"),
            std::string::npos);
  EXPECT_EQ(get(port, "/api/uid/v1.0/users?networks=198.51.100.0-198.51.100.255").body,
            R"({"users":[]})");
  EXPECT_EQ(get(port, "/api/uid/v1.0/users?networks=10.0.0.9-10.0.0.1").status, 400);

  // An AD change to the user is re-polled (change notification) and keeps the API's IPs.
  dc.ldif("dn: CN=Administrator,CN=Users,DC=example,DC=test\nchangetype: modify\n"
          "replace: description\ndescription: changed by the api test\n");
  ASSERT_TRUE(wait_until(
      [&] { return read_text(log_path).find("modify user CN=Administrator") != std::string::npos; },
      70s))
      << read_text(log_path);
  EXPECT_NE(get(port, admin).body.find("192.0.2.10"), std::string::npos);

  // A user that is not in AD: created, found, refused twice, deleted once.
  const std::string visitor = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cvisitor";
  const std::string create = R"({"dn": "CN=Visitor,CN=Users,DC=example,DC=test",
      "sAMAccountName": "visitor", "NTLMIdentity": "EXAMPLE\\visitor",
      "ipv4_addresses": ["192.0.2.20"]})";
  const Reply created = call(port, http::verb::post, visitor, ops, create);
  ASSERT_EQ(created.status, 200) << created.body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(created.body, match, std::regex(R"re("objectGUID":"([0-9a-f-]{36})")re")))
      << created.body;
  const std::string guid = match[1].str();
  EXPECT_EQ(get(port, visitor).status, 200);
  EXPECT_EQ(call(port, http::verb::post, visitor, ops, create).status, 409);
  EXPECT_EQ(call(port, http::verb::delete_, "/api/uid/v1.0/user/" + guid, ops).status, 200);
  EXPECT_EQ(call(port, http::verb::delete_, "/api/uid/v1.0/user/" + guid, ops).status, 404);
  EXPECT_EQ(get(port, visitor).status, 404);

  daemon.signal(SIGTERM);
  EXPECT_EQ(daemon.wait_for(30s), 0) << read_text(log_path);
}

}  // namespace
}  // namespace dirfeed::testing
