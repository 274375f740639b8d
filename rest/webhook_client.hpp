#pragma once
// The HTTP(S) client that POSTs webhook events (rest/webhooks.hpp), on libcurl: one request at
// a time, blocking, with one deadline for the whole request, keeping the connection open
// between requests to the same origin, directly or through a proxy (rest/webhook_proxy.hpp).
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "rest/webhook_proxy.hpp"
#include "rest/webhook_target.hpp"

namespace dirfeed::rest {

// An http:// or https:// URL, split for a request.
struct WebhookUrl {
  std::string text;  // the URL as sent: normalised by libcurl, no fragment
  bool tls = false;
  std::string host;    // name or IP literal (IPv6 without brackets)
  std::string port;    // "80" / "443" unless given
  std::string target;  // path and query, "/" at least

  // Parses scheme://host[:port][/path][?query] (scheme http or https, case-insensitive; a
  // fragment is dropped) with libcurl's URL parser. nullopt and *error set when it is not such
  // a URL, when it holds a space or control character, or when it has userinfo (credentials in
  // URLs are not sent: put a token in the path or query instead).
  static std::optional<WebhookUrl> parse(std::string_view url, std::string* error);
};

// `url` fit for logs and `dirfeed status`: userinfo and query (which may hold credentials)
// replaced by "..." (e.g. "https://...@hooks.example.com/in?...").
std::string redact_url(std::string_view url);

struct ClientOptions {
  // Whole request: resolve, connect (to the proxy too), TLS handshake, write and read the
  // response.
  std::chrono::milliseconds timeout{10'000};
  // PEM file of the CAs that https:// receivers (and an https:// proxy) are verified against,
  // instead of the system's CA store; empty: the system's. Either way the certificate must
  // name the URL's host (SNI is sent for names, not IP literals). TLS 1.2 at least.
  std::string ca_file;
  size_t response_limit = 64 * 1024;  // larger response bodies fail the request
  // The addresses a connection may go to (api.webhook_allowed_networks): of the addresses a
  // host resolves to, only those `targets` does not refuse are tried; none: the post fails
  // before connecting ("refused: ..."). Through a proxy, which resolves the receiver's name
  // itself, the receiver's host is checked before each post as the Directory Sync API checks
  // it (a literal, or what this host resolves the name to); the proxy, which the admin named,
  // is not checked.
  WebhookTargetPolicy targets{};
  WebhookProxy proxy{};  // none: every receiver directly
};

// What the clients of one dispatcher share: their options and the CAs of options.ca_file, read
// once when this is made, not once per directory or connection. Immutable once made: clients
// on any threads use it at once.
class ClientContext {
 public:
  explicit ClientContext(ClientOptions options);

  const ClientOptions& options() const { return options_; }
  // The PEM text of options.ca_file; empty with the system's CA store.
  const std::string& ca_pem() const { return ca_pem_; }
  // Why https:// posts fail at once ("cannot load CA file ..."); empty when they can be tried.
  const std::string& setup_error() const { return setup_error_; }

 private:
  ClientOptions options_;
  std::string ca_pem_;
  std::string setup_error_;
};

// What a POST got: an HTTP status, or an error before there was one.
struct PostResult {
  unsigned status = 0;  // 0: no response (error says why)
  std::string error;    // "HTTP 503", "connect: Connection refused", "timeout", ...
  bool aborted = false;  // abort() ended it
  bool ok() const { return status >= 200 && status < 300; }
};

// Not thread-safe, except abort(). Errors never contain the body or the signature.
class WebhookClient {
 public:
  // `context` must not be null.
  explicit WebhookClient(std::shared_ptr<const ClientContext> context);
  explicit WebhookClient(ClientOptions options = {});  // with a context of its own
  ~WebhookClient();
  WebhookClient(const WebhookClient&) = delete;
  WebhookClient& operator=(const WebhookClient&) = delete;

  // POSTs `body` to `url` with Content-Type application/json, User-Agent dirfeed, and, when
  // `signature` is not empty, BoxyHQ-Signature and Ory-Polis-Signature: signature. Reuses the
  // open connection to the same origin (or proxy) when the other end kept it alive (libcurl
  // tries a request once more on a new connection when a reused one turns out closed). Blocks
  // until the answer, an error, options.timeout or abort(). Redirects are not followed.
  PostResult post(const WebhookUrl& url, const std::string& body, const std::string& signature);

  // Any thread: ends the post in flight, if any, and makes every later one return at once
  // (aborted). For shutting down.
  void abort();

 private:
  class Impl;  // libcurl stays in the .cpp
  std::unique_ptr<Impl> impl_;
};

}  // namespace dirfeed::rest
