// The User ID Service API served by the real `dirfeed run` binary, read over real HTTP and
// HTTPS, with the Samba AD DC fixture as the directory (DESIGN.md sections 1 and 9).
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/ldif.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_client.hpp"

namespace dirfeed::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = asio::ssl;
using namespace std::chrono_literals;

const std::string kStaff = "OU=Staff,DC=example,DC=test";

// call() over HTTPS (TLS 1.2 or 1.3), trusting only `ca_file`.
Reply call_https(uint16_t port, const std::string& ca_file, http::verb verb,
                 const std::string& target, const Headers& headers = {},
                 const std::string& body = "") {
  asio::io_context io;
  ssl::context context = tls_client_context(ca_file, TLS1_2_VERSION, TLS1_3_VERSION);
  TlsStream stream(io, context);
  if (tls_connect(stream, port)) return {};
  return exchange(stream, verb, target, headers, body);
}

Reply get(uint16_t port, const std::string& target, const Headers& headers = {}) {
  return call(port, http::verb::get, target, headers);
}

TEST(ApiIntegrationTest, ServesUsersAfterTheFirstSync) {
  SambaDc& dc = shared_dc();
  dc.reset();
  dc.ldif(ldif_ou(kStaff) +
          ldif_user("Smith\\, John", kStaff, "jsmith", "mail: john.smith@example.test\n") +
          ldif_group("Engineers", kStaff, "engineers", {"CN=Smith\\, John," + kStaff}));
  const std::string guid = ldap_guid(dc, kStaff, "(sAMAccountName=jsmith)");
  ASSERT_EQ(guid.size(), 36u);

  TempDir dir;
  const std::string config = write_config(dir, dc, {.anonymous_read = true});

  // With the DC down the first sync cannot finish: /readyz must say so.
  dc.stop();
  const std::string log_path = dir.path() + "/run.log";
  std::optional<Process> daemon;
  const uint16_t port = launch(daemon, config, log_path);
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
  EXPECT_TRUE(users.chunked) << "lists are streamed";
  EXPECT_NE(users.body.find(by_guid.body), std::string::npos) << users.body;
  EXPECT_EQ(get(port, "/api/uid/v1.0/domains").body, R"({"domains":["DC=example,DC=test"]})");
  EXPECT_EQ(get(port, "/api/uid/v1.0/user/dn/CN%3Dnobody").status, 404);

  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

// Basic auth for reads with api.anonymous_read: false, and users added by `dirfeed api
// add-user` while the daemon runs (no restart). (Anonymous reads, the default, are what
// ServesUsersAfterTheFirstSync does.)
TEST(ApiIntegrationTest, BasicAuthForReadsWithoutAnonymousRead) {
  SambaDc& dc = shared_dc();
  TempDir dir;
  const std::string config = write_config(dir, dc, {.anonymous_read = false});
  const std::string cli_log = dir.path() + "/cli.log";
  ASSERT_EQ(add_user(config, "alice", "s3cret", cli_log), 0) << read_text(cli_log);

  const std::string log_path = dir.path() + "/run.log";
  std::optional<Process> daemon;
  const uint16_t port = launch(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);

  const std::string domains = "/api/uid/v1.0/domains";
  EXPECT_EQ(get(port, "/healthz").status, 200);  // health checks need no credentials
  const Reply anonymous = get(port, domains);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_NE(anonymous.body.find(R"("error")"), std::string::npos) << anonymous.body;
  EXPECT_EQ(get(port, domains, basic_auth("alice", "wrong")).status, 401);
  const Reply alice = get(port, domains, basic_auth("alice", "s3cret"));
  EXPECT_EQ(alice.status, 200);
  EXPECT_EQ(alice.body, R"({"domains":["DC=example,DC=test"]})");

  // A user added while the daemon runs can read within a few seconds, without a restart.
  EXPECT_EQ(get(port, domains, basic_auth("bob", "pw2")).status, 401);
  ASSERT_EQ(add_user(config, "bob", "pw2", cli_log), 0) << read_text(cli_log);
  EXPECT_TRUE(wait_until(
      [&] { return get(port, domains, basic_auth("bob", "pw2")).status == 200; }, 10s, 100ms));
  EXPECT_EQ(get(port, domains, basic_auth("alice", "s3cret")).status, 200);

  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

// Writes over real HTTP: IP mappings on an AD user (kept across an AD re-poll), a user created
// through the API, its delete, and the status codes clients rely on.
TEST(ApiIntegrationTest, WritesMapIpsAndCreateUsers) {
  SambaDc& dc = shared_dc();
  TempDir dir;
  const std::string config =
      write_config(dir, dc, {.log_level = "debug", .anonymous_read = true});
  const std::string cli_log = dir.path() + "/cli.log";
  ASSERT_EQ(add_user(config, "ops", "opspw", cli_log), 0) << read_text(cli_log);
  const Headers ops = basic_auth("ops", "opspw");

  const std::string log_path = dir.path() + "/run.log";
  std::optional<Process> daemon;
  const uint16_t port = launch(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  ASSERT_TRUE(wait_until([&] { return get(port, "/readyz").status == 200; }, 60s))
      << read_text(log_path);

  const std::string admin = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5CAdministrator";
  const std::string add_ips =
      R"({"changetype": "add", "ipv4_addresses": ["192.0.2.10"], "ipv6_addresses": ["2001:db8::1"]})";
  EXPECT_EQ(call(port, http::verb::put, admin, {}, add_ips).status, 401);
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

  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}


// api.tls: the daemon serves HTTPS with the configured certificate (self-signed, made here).
// A client verifying it reads the streamed user list and maps an IP with Basic auth; a client
// offering only TLS 1.1 and plain HTTP are refused, and the daemon serves on.
TEST(ApiIntegrationTest, ServesHttpsWithTheConfiguredCertificate) {
  SambaDc& dc = shared_dc();
  TempDir dir;
  const CertFiles cert = make_self_signed_cert(dir.path());
  const std::string config = write_config(
      dir, dc,
      {.anonymous_read = true, .tls_cert_file = cert.cert_file, .tls_key_file = cert.key_file});
  const std::string cli_log = dir.path() + "/cli.log";
  ASSERT_EQ(add_user(config, "ops", "opspw", cli_log), 0) << read_text(cli_log);

  const std::string log_path = dir.path() + "/run.log";
  std::optional<Process> daemon;
  const uint16_t port = launch(daemon, config, log_path, "https");
  ASSERT_NE(port, 0) << read_text(log_path);
  const auto https = [&](http::verb verb, const std::string& target, const Headers& headers = {},
                         const std::string& body = "") {
    return call_https(port, cert.cert_file, verb, target, headers, body);
  };
  ASSERT_TRUE(wait_until([&] { return https(http::verb::get, "/readyz").status == 200; }, 60s))
      << read_text(log_path);

  const Reply all = https(http::verb::get, "/api/uid/v1.0/users?ip_only=false");
  EXPECT_EQ(all.status, 200);
  EXPECT_TRUE(all.chunked);
  EXPECT_NE(all.body.find(R"("NTLMIdentity":"EXAMPLE\\Administrator")"), std::string::npos)
      << all.body;

  const std::string admin = "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5CAdministrator";
  const std::string add_ip = R"({"changetype": "add", "ipv4_addresses": ["192.0.2.44"]})";
  EXPECT_EQ(https(http::verb::put, admin, {}, add_ip).status, 401);
  const Reply put = https(http::verb::put, admin, basic_auth("ops", "opspw"), add_ip);
  ASSERT_EQ(put.status, 200) << put.body;
  const Reply mapped = https(http::verb::get, "/api/uid/v1.0/users");  // ip_only=true
  EXPECT_EQ(mapped.status, 200);
  EXPECT_NE(mapped.body.find(R"("ipv4_addresses":["192.0.2.44"])"), std::string::npos)
      << mapped.body;

  {
    asio::io_context io;
    ssl::context tls11 = tls_client_context(cert.cert_file, TLS1_VERSION, TLS1_1_VERSION);
    TlsStream stream(io, tls11);
    EXPECT_TRUE(tls_connect(stream, port)) << "TLS 1.1 handshake accepted";
  }
  EXPECT_EQ(call(port, http::verb::get, "/healthz").status, 0) << "plain HTTP answered";
  EXPECT_EQ(https(http::verb::get, "/healthz").status, 200);

  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

}  // namespace
}  // namespace dirfeed::testing
