// The webhook client alone (rest/webhook_client.hpp): URLs, HTTP and HTTPS to a real receiver
// on 127.0.0.1, timeouts, abort, the shared TLS context, and the address policy applied to
// the addresses connected to.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include "rest/webhook_client.hpp"
#include "rest/webhook_target.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::rest {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::ReceivedRequest;
using dirfeed::testing::WebhookReceiver;

// Client options that allow this host's loopback addresses, where the test receivers listen.
ClientOptions on_this_host() {
  std::string error;
  ClientOptions options;
  options.targets = WebhookTargetPolicy(
      {*IpNetwork::parse("127.0.0.0/8", &error), *IpNetwork::parse("::1", &error)});
  return options;
}

TEST(WebhookUrlTest, ParsesHttpAndHttpsUrls) {
  std::string error;
  std::optional<WebhookUrl> url =
      WebhookUrl::parse("HTTPS://Hooks.example.com/in?x=1#frag", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_TRUE(url->tls);
  EXPECT_EQ(url->host, "Hooks.example.com");
  EXPECT_EQ(url->port, "443");
  EXPECT_EQ(url->target, "/in?x=1");
  EXPECT_EQ(url->text, "https://Hooks.example.com/in?x=1");

  url = WebhookUrl::parse("http://127.0.0.1:8080", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, "8080");
  EXPECT_EQ(url->target, "/");
  EXPECT_EQ(url->text, "http://127.0.0.1:8080/");

  url = WebhookUrl::parse("http://[::1]:9/x", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->port, "9");
  EXPECT_EQ(url->text, "http://[::1]:9/x");

  url = WebhookUrl::parse("https://example.com?q", &error);
  ASSERT_TRUE(url) << error;
  EXPECT_EQ(url->target, "/?q");

  for (const char* bad : {"ftp://example.com/", "example.com/hook", "http://user:pw@example.com/",
                          "http:///path", "http://example.com:0/", "http://example.com:99999/",
                          "http://example.com:8x/", "http://[::1/"}) {
    EXPECT_FALSE(WebhookUrl::parse(bad, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST(WebhookUrlTest, RedactionHidesUserinfoAndQuery) {
  EXPECT_EQ(redact_url("https://u:p@hooks.example.com/in?token=abc#x"),
            "https://...@hooks.example.com/in?...");
  EXPECT_EQ(redact_url("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
}

// ---- the client alone --------------------------------------------------------------------

TEST(WebhookClientTest, HttpsNeedsTheCertificateToNameTheHost) {
  dirfeed::testing::TempDir dir;
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(dir.path());
  ClientOptions options = on_this_host();
  options.ca_file = cert.cert_file;
  WebhookClient client(options);
  std::string error;
  {
    // Trusted, and names 127.0.0.1 and localhost (the name is sent as SNI).
    WebhookReceiver receiver({}, cert.cert_file, cert.key_file);
    EXPECT_TRUE(client.post(*WebhookUrl::parse(receiver.url(), &error), "{}", "").ok());
    const std::string by_name = "https://localhost:" + std::to_string(receiver.port()) + "/";
    EXPECT_TRUE(client.post(*WebhookUrl::parse(by_name, &error), "{}", "").ok());
  }
  // Trusted, but it does not name 127.0.0.2.
  WebhookReceiver elsewhere({}, cert.cert_file, cert.key_file, true, "127.0.0.2");
  const PostResult result = client.post(*WebhookUrl::parse(elsewhere.url(), &error), "{}", "");
  EXPECT_FALSE(result.ok());
  EXPECT_NE(result.error.find("certificate verify failed"), std::string::npos) << result.error;
  EXPECT_EQ(elsewhere.count(), 0u);
}

TEST(WebhookClientTest, ReportsHttpStatusesConnectionErrorsAndTimeouts) {
  WebhookReceiver* self = nullptr;
  WebhookReceiver receiver([&](const ReceivedRequest& request, size_t) {
    if (request.target == "/slow") self->wait_released();
    return request.target == "/missing" ? 404u : 204u;
  });
  self = &receiver;
  std::string error;
  ClientOptions options = on_this_host();
  options.timeout = 300ms;
  WebhookClient client(options);
  auto url = [&](const std::string& path) {
    return *WebhookUrl::parse(receiver.url(path), &error);
  };
  PostResult result = client.post(url("/ok"), "{}", "");
  EXPECT_TRUE(result.ok());
  EXPECT_EQ(result.status, 204u);
  result = client.post(url("/missing"), "{}", "");
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.error, "HTTP 404");
  EXPECT_EQ(receiver.connections(), 1u);

  const auto started = std::chrono::steady_clock::now();
  result = client.post(url("/slow"), "{}", "");
  EXPECT_EQ(result.status, 0u);
  EXPECT_EQ(result.error, "timeout after 300 ms");
  EXPECT_LT(std::chrono::steady_clock::now() - started, 5s);
  receiver.release();
  // The timed-out connection is dropped; the next request opens a new one.
  EXPECT_TRUE(client.post(url("/ok"), "{}", "").ok());
  EXPECT_EQ(receiver.connections(), 2u);

  const uint16_t port = receiver.port();
  receiver.stop();
  result = client.post(*WebhookUrl::parse("http://127.0.0.1:" + std::to_string(port) + "/", &error),
                       "{}", "");
  EXPECT_EQ(result.status, 0u);
  EXPECT_NE(result.error.find("connect: "), std::string::npos) << result.error;
}

TEST(WebhookClientTest, AbortEndsAPostInFlightAndEveryLaterOne) {
  WebhookReceiver* self = nullptr;
  WebhookReceiver receiver([&](const ReceivedRequest&, size_t) {
    self->wait_released();
    return 200u;
  });
  self = &receiver;
  std::string error;
  WebhookClient client(on_this_host());
  std::thread aborter([&] {
    receiver.wait_for_count(1, 10s);
    client.abort();
  });
  const PostResult result = client.post(*WebhookUrl::parse(receiver.url(), &error), "{}", "");
  aborter.join();
  EXPECT_TRUE(result.aborted);
  EXPECT_TRUE(client.post(*WebhookUrl::parse(receiver.url(), &error), "{}", "").aborted);
  receiver.release();
}

TEST(WebhookClientTest, RefusedAddressesAreNeverConnectedTo) {
  WebhookReceiver receiver;
  std::string error;
  WebhookClient client;  // the default policy: loopback refused
  PostResult result = client.post(*WebhookUrl::parse(receiver.url(), &error), "{}", "");
  EXPECT_EQ(result.status, 0u);
  EXPECT_EQ(result.error,
            "refused: 127.0.0.1 is a loopback address: webhooks are not sent there unless "
            "api.webhook_allowed_networks allows it");
  // A name is checked on what it resolves to; an IPv4-mapped address as the IPv4 one.
  const std::string port = std::to_string(receiver.port());
  result = client.post(*WebhookUrl::parse("http://localhost:" + port + "/", &error), "{}", "");
  EXPECT_TRUE(result.error.starts_with("refused: localhost resolves to ")) << result.error;
  EXPECT_NE(result.error.find("a loopback address"), std::string::npos) << result.error;
  result = client.post(*WebhookUrl::parse("http://[::ffff:127.0.0.1]:" + port + "/", &error),
                       "{}", "");
  EXPECT_TRUE(result.error.starts_with("refused: 127.0.0.1 is a loopback address"))
      << result.error;
  EXPECT_EQ(receiver.connections(), 0u) << "refused before connecting";

  WebhookClient allowed(on_this_host());
  EXPECT_TRUE(allowed.post(*WebhookUrl::parse(receiver.url(), &error), "{}", "").ok());
  EXPECT_EQ(receiver.count(), 1u);
}

TEST(WebhookClientTest, ClientsOfOneContextShareItsCaStore) {
  dirfeed::testing::TempDir dir;
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(dir.path());
  ClientOptions options = on_this_host();
  options.ca_file = dir.path() + "/ca.pem";
  std::filesystem::copy_file(cert.cert_file, options.ca_file);
  const auto context = std::make_shared<const ClientContext>(options);
  std::filesystem::remove(options.ca_file);  // read once, when the context was made
  WebhookReceiver receiver({}, cert.cert_file, cert.key_file);
  std::string error;
  const WebhookUrl url = *WebhookUrl::parse(receiver.url(), &error);
  WebhookClient first(context);
  WebhookClient second(context);
  EXPECT_TRUE(first.post(url, "{}", "").ok());
  const PostResult result = second.post(url, "{}", "");
  EXPECT_TRUE(result.ok()) << result.error;
  // A client with a context of its own reads the CA file itself (gone now).
  WebhookClient alone(options);
  const std::string alone_error = alone.post(url, "{}", "").error;
  EXPECT_TRUE(alone_error.starts_with("cannot load CA file")) << alone_error;
}

}  // namespace
}  // namespace dirfeed::rest
