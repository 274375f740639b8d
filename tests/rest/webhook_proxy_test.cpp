// Webhooks through an HTTP proxy (rest/webhook_proxy.hpp): the settings from the environment
// and from the config, the no-proxy rules, and posts through a real tinyproxy on 127.0.0.1,
// http:// forwarded and https:// tunnelled (CONNECT), with the address policy still applied.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "rest/webhook_client.hpp"
#include "rest/webhook_proxy.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tinyproxy.hpp"

namespace dirfeed::rest {
namespace {

using dirfeed::testing::read_text;
using dirfeed::testing::ReceivedRequest;
using dirfeed::testing::Tinyproxy;
using dirfeed::testing::WebhookReceiver;

// The environment from_environment() reads in these tests.
std::map<std::string, std::string> environment;
const char* fake_getenv(const char* name) {
  const auto it = environment.find(name);
  return it == environment.end() ? nullptr : it->second.c_str();
}

WebhookProxy from(std::map<std::string, std::string> variables) {
  environment = std::move(variables);
  Result<WebhookProxy> proxy = WebhookProxy::from_environment(fake_getenv);
  EXPECT_TRUE(proxy.is_ok()) << proxy.status().message();
  return proxy.is_ok() ? *proxy : WebhookProxy();
}

TEST(WebhookProxyTest, EnvironmentNamesAProxyPerSchemeAndTheHostsReachedDirectly) {
  EXPECT_EQ(from({}).proxy_for(true, "hooks.example.com"), "");
  EXPECT_EQ(from({}).describe(), "none");

  WebhookProxy proxy = from({{"HTTPS_PROXY", "proxy.corp:3128"},
                             {"http_proxy", "http://plain.corp:8080/"},
                             {"NO_PROXY", " .internal.corp, 10.0.0.0/8,[fd00::1], localhost "}});
  EXPECT_EQ(proxy.proxy_for(true, "hooks.example.com"), "http://proxy.corp:3128");
  EXPECT_EQ(proxy.proxy_for(false, "hooks.example.com"), "http://plain.corp:8080");
  for (const char* direct :
       {"internal.corp", "app.Internal.CORP", "10.1.2.3", "fd00::1", "localhost"}) {
    EXPECT_EQ(proxy.proxy_for(true, direct), "") << direct;
  }
  for (const char* proxied : {"notinternal.corp", "11.0.0.1", "fd00::2", "internal.corp.evil"}) {
    EXPECT_EQ(proxy.proxy_for(true, proxied), "http://proxy.corp:3128") << proxied;
  }
  EXPECT_EQ(proxy.describe(),
            "https:// via http://proxy.corp:3128, http:// via http://plain.corp:8080 (not for "
            "internal.corp 10.0.0.0/8 fd00::1 localhost)");

  // The upper-case name wins; an empty one counts as unset; "*" bypasses every host.
  EXPECT_EQ(
      from({{"HTTPS_PROXY", "http://a:1"}, {"https_proxy", "http://b:1"}}).proxy_for(true, "x"),
      "http://a:1");
  EXPECT_EQ(from({{"HTTPS_PROXY", ""}, {"https_proxy", "http://b:1"}}).proxy_for(true, "x"),
            "http://b:1");
  EXPECT_EQ(from({{"HTTPS_PROXY", "http://a:1"}, {"no_proxy", "*"}}).proxy_for(true, "x"), "");
}

TEST(WebhookProxyTest, ABadProxyUrlIsAnErrorNamingWhereItCameFrom) {
  for (const auto& [value, message] : std::map<std::string, std::string>{
           {"socks5://proxy:1080", "HTTPS_PROXY: scheme socks5 is not http or https"},
           {"http://user:pw@proxy:3128", "HTTPS_PROXY: credentials in the URL are not supported"},
           {"http://proxy:3128/path", "HTTPS_PROXY: a proxy URL has no path or query"},
           {"http://proxy:99999", "HTTPS_PROXY: bad port"}}) {
    environment = {{"HTTPS_PROXY", value}};
    const Result<WebhookProxy> proxy = WebhookProxy::from_environment(fake_getenv);
    ASSERT_FALSE(proxy.is_ok()) << value;
    EXPECT_EQ(proxy.status().message(), message) << value;
  }
  const Result<WebhookProxy> configured = WebhookProxy::configured("proxy:3128", {"a", " "});
  ASSERT_FALSE(configured.is_ok());
  EXPECT_EQ(configured.status().message(), "an empty no-proxy entry");
  const Result<WebhookProxy> one = WebhookProxy::configured("https://[::1]:3129", {".corp"});
  ASSERT_TRUE(one.is_ok()) << one.status().message();
  EXPECT_EQ(one->proxy_for(false, "x.example"), "https://[::1]:3129");
  EXPECT_EQ(one->proxy_for(true, "hooks.corp"), "");
}

// ---- through a real proxy ------------------------------------------------------------------

class ProxiedClientTest : public ::testing::Test {
 protected:
  // Options that allow the loopback receivers and send everything through the proxy at `url`.
  static ClientOptions through(const std::string& url, std::vector<std::string> no_proxy = {}) {
    std::string error;
    ClientOptions options;
    options.targets = WebhookTargetPolicy({*IpNetwork::parse("127.0.0.0/8", &error)});
    Result<WebhookProxy> proxy = WebhookProxy::configured(url, no_proxy);
    EXPECT_TRUE(proxy.is_ok()) << proxy.status().message();
    if (proxy.is_ok()) options.proxy = *proxy;
    return options;
  }
  static WebhookUrl url(const std::string& text) {
    std::string error;
    std::optional<WebhookUrl> parsed = WebhookUrl::parse(text, &error);
    EXPECT_TRUE(parsed) << error;
    return parsed.value_or(WebhookUrl());
  }

  dirfeed::testing::TempDir dir_;
  Tinyproxy proxy_{dir_.path() + "/proxy"};
};

TEST_F(ProxiedClientTest, HttpIsForwardedByTheProxy) {
  WebhookReceiver receiver;
  WebhookClient client(through(proxy_.url()));
  for (int i = 0; i < 2; ++i) {
    const PostResult result = client.post(url(receiver.url("/hook")), "{\"n\":1}", "t=1,s=ab");
    EXPECT_TRUE(result.ok()) << result.error;
  }
  ASSERT_EQ(receiver.count(), 2u);
  const ReceivedRequest request = receiver.received()[0];
  EXPECT_EQ(request.target, "/hook");
  EXPECT_EQ(request.body, "{\"n\":1}");
  EXPECT_EQ(request.signature, "t=1,s=ab");
  EXPECT_EQ(request.user_agent, "dirfeed");
  EXPECT_NE(request.via.find("tinyproxy"), std::string::npos) << request.via;
  const std::vector<std::string> served = proxy_.requests();
  ASSERT_EQ(served.size(), 2u) << read_text(proxy_.log_path());
  EXPECT_NE(served[0].find("POST " + receiver.url("/hook")), std::string::npos) << served[0];
}

TEST_F(ProxiedClientTest, HttpsIsTunnelledAndVerifiedEndToEnd) {
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(dir_.path());
  WebhookReceiver receiver({}, cert.cert_file, cert.key_file);
  ClientOptions options = through(proxy_.url());
  options.ca_file = cert.cert_file;
  WebhookClient client(options);
  for (int i = 0; i < 2; ++i) {
    const PostResult result = client.post(url(receiver.url()), "{}", "");
    EXPECT_TRUE(result.ok()) << result.error;
  }
  EXPECT_EQ(receiver.count(), 2u);
  EXPECT_EQ(receiver.connections(), 1u) << "the tunnel is kept between posts";
  const std::vector<std::string> served = proxy_.requests();
  ASSERT_EQ(served.size(), 1u) << read_text(proxy_.log_path());
  EXPECT_NE(served[0].find("CONNECT 127.0.0.1:" + std::to_string(receiver.port())),
            std::string::npos)
      << served[0];
  EXPECT_EQ(receiver.received()[0].via, "") << "the proxy saw only the tunnel";

  // The receiver's certificate is still checked through the tunnel: this one does not name
  // 127.0.0.2.
  WebhookReceiver elsewhere({}, cert.cert_file, cert.key_file, true, "127.0.0.2");
  const PostResult wrong = client.post(url(elsewhere.url()), "{}", "");
  EXPECT_NE(wrong.error.find("certificate verify failed"), std::string::npos) << wrong.error;
  EXPECT_EQ(elsewhere.count(), 0u);
}

TEST_F(ProxiedClientTest, RefusedReceiversAreRefusedBeforeTheProxyIsAsked) {
  WebhookReceiver receiver;
  ClientOptions options = through(proxy_.url());
  options.targets = WebhookTargetPolicy();  // loopback refused
  WebhookClient client(options);
  const PostResult result = client.post(url(receiver.url()), "{}", "");
  EXPECT_EQ(result.error,
            "refused: 127.0.0.1 is a loopback address: webhooks are not sent there unless "
            "api.webhook_allowed_networks allows it");
  const std::string by_name = "http://localhost:" + std::to_string(receiver.port()) + "/";
  EXPECT_TRUE(client.post(url(by_name), "{}", "").error.starts_with("refused: localhost resolves"));
  EXPECT_TRUE(proxy_.requests().empty()) << read_text(proxy_.log_path());
  EXPECT_EQ(receiver.count(), 0u);
}

TEST_F(ProxiedClientTest, NoProxyHostsGoDirectlyAndADeadProxyIsAConnectError) {
  WebhookReceiver receiver;
  const std::string dead =
      "http://127.0.0.1:" + std::to_string(dirfeed::testing::free_loopback_port());
  WebhookClient bypassing(through(dead, {"127.0.0.0/8"}));
  const PostResult direct = bypassing.post(url(receiver.url()), "{}", "");
  EXPECT_TRUE(direct.ok()) << direct.error;
  EXPECT_EQ(receiver.count(), 1u);
  EXPECT_EQ(receiver.received()[0].via, "");

  WebhookClient through_dead(through(dead));
  const PostResult failed = through_dead.post(url(receiver.url()), "{}", "");
  EXPECT_EQ(failed.status, 0u);
  EXPECT_TRUE(failed.error.starts_with("connect: ")) << failed.error;
  EXPECT_EQ(receiver.count(), 1u);
}

}  // namespace
}  // namespace dirfeed::rest
