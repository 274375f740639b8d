#include "rest/webhook_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <functional>
#include <vector>

#include "core/text.hpp"

namespace dirfeed::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

bool is_ip_literal(const std::string& host) {
  boost::system::error_code error;
  asio::ip::make_address(host, error);
  return !error;
}

}  // namespace

std::optional<WebhookUrl> WebhookUrl::parse(std::string_view url, std::string* error) {
  auto fail = [&](std::string message) -> std::optional<WebhookUrl> {
    *error = std::move(message);
    return std::nullopt;
  };
  if (std::any_of(url.begin(), url.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; })) {
    return fail("a space or control character in the URL (percent-encode it)");
  }
  const size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return fail("not an http:// or https:// URL");
  WebhookUrl parsed;
  const std::string scheme = lower(url.substr(0, scheme_end));
  if (scheme == "https") {
    parsed.tls = true;
  } else if (scheme != "http") {
    return fail("scheme " + scheme + " is not http or https");
  }
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find('#'));
  const size_t authority_end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, authority_end);
  std::string_view target =
      authority_end == std::string_view::npos ? std::string_view() : rest.substr(authority_end);
  if (authority.find('@') != std::string_view::npos) {
    return fail("credentials in the URL are not supported");
  }
  std::string_view port;
  if (authority.starts_with('[')) {  // [IPv6]
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return fail("unclosed [ in the host");
    parsed.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return fail("bad text after the host");
      port = after.substr(1);
    }
  } else {
    const size_t colon = authority.rfind(':');
    parsed.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (parsed.host.empty()) return fail("no host");
  const std::string default_port = parsed.tls ? "443" : "80";
  if (port.empty()) {
    parsed.port = default_port;
  } else {
    unsigned number = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
    if (ec != std::errc() || end != port.data() + port.size() || number == 0 || number > 65535) {
      return fail("bad port " + std::string(port));
    }
    parsed.port = std::to_string(number);
  }
  parsed.target = target.empty() || target.front() == '?' ? "/" + std::string(target)
                                                          : std::string(target);
  const bool ipv6 = parsed.host.find(':') != std::string::npos;
  parsed.host_header = ipv6 ? "[" + parsed.host + "]" : parsed.host;
  if (parsed.port != default_port) parsed.host_header += ":" + parsed.port;
  return parsed;
}

std::string redact_url(std::string_view url) {
  std::string out(url.substr(0, url.find('#')));
  const size_t scheme_end = out.find("://");
  const size_t authority_start = scheme_end == std::string::npos ? 0 : scheme_end + 3;
  const size_t authority_end = std::min(out.find_first_of("/?", authority_start), out.size());
  const size_t at = out.rfind('@', authority_end);
  if (at != std::string::npos && at >= authority_start) {
    out.replace(authority_start, at - authority_start, "...");
  }
  if (const size_t query = out.find('?'); query != std::string::npos) {
    out.replace(query + 1, std::string::npos, "...");
  }
  return out;
}

struct ClientContext::Tls {
  // Mutable: streams take it by non-const reference, though making an SSL from it (all they
  // do) changes nothing and is thread-safe.
  mutable ssl::context context{ssl::context::tls_client};
  std::string setup_error;  // https:// posts fail with this when set
};

ClientContext::ClientContext(ClientOptions options)
    : options_(std::move(options)), tls_(std::make_unique<Tls>()) {
  ssl::context& context = tls_->context;
  context.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION);
  boost::system::error_code error;
  if (options_.ca_file.empty()) {
    context.set_default_verify_paths(error);
    if (error) tls_->setup_error = "cannot load the system CA store: " + error.message();
  } else {
    context.load_verify_file(options_.ca_file, error);
    if (error) {
      tls_->setup_error = "cannot load CA file " + options_.ca_file + ": " + error.message();
    }
  }
  ERR_clear_error();
}

ClientContext::~ClientContext() = default;

// One connection at a time (plain or TLS), driven by a private io_context that post() runs
// until each step completes. A deadline timer, armed per post, closes the socket when it
// fires, which ends the pending step with an error reported as a timeout.
class WebhookClient::Impl {
 public:
  Impl(std::shared_ptr<const ClientContext> context, const ClientContext::Tls& tls)
      : context_(std::move(context)),
        options_(context_->options()),
        tls_context_(tls.context),
        tls_setup_error_(tls.setup_error),
        resolver_(io_),
        deadline_(io_) {}

  PostResult post(const WebhookUrl& url, const std::string& body, const std::string& signature) {
    if (aborted_) return aborted();
    if (url.tls && !tls_setup_error_.empty()) return {.error = tls_setup_error_};
    http::request<http::string_body> request(http::verb::post, url.target, 11);
    request.set(http::field::host, url.host_header);
    request.set(http::field::user_agent, "dirfeed");
    request.set(http::field::content_type, "application/json");
    if (!signature.empty()) {
      // Both names the reference signs with (Ory Polis is its new name).
      request.set("BoxyHQ-Signature", signature);
      request.set("Ory-Polis-Signature", signature);
    }
    request.keep_alive(true);
    request.body() = body;
    request.prepare_payload();

    timed_out_ = false;
    deadline_.expires_after(options_.timeout);
    deadline_.async_wait([this](const boost::system::error_code& error) {
      if (error) return;
      timed_out_ = true;
      resolver_.cancel();
      close();
    });
    PostResult result = attempt(url, request);
    if (aborted_) return aborted();
    const bool timed_out = timed_out_;
    deadline_.cancel();
    io_.restart();
    io_.poll();  // the timer's handler: cancelled, or expiring just now (closes the connection)
    if (timed_out) {
      close();
      return {.error = "timeout after " + std::to_string(options_.timeout.count()) + " ms"};
    }
    return result;
  }

  void abort() {
    aborted_ = true;
    io_.stop();
  }

 private:
  using Done = std::function<void(const boost::system::error_code&)>;

  static PostResult aborted() { return {.error = "aborted", .aborted = true}; }

  // Starts an operation with `start` (which must call the Done it gets once) and runs the
  // io_context until it completes. After abort() the operation stays pending and the
  // io_context is never run again (its handlers are destroyed with it, not called).
  boost::system::error_code run(const std::function<void(Done)>& start) {
    bool done = false;
    boost::system::error_code result;
    start([&](const boost::system::error_code& error) {
      result = error;
      done = true;
    });
    io_.restart();
    while (!done && !aborted_ && io_.run_one() > 0) {
    }
    if (!done) return asio::error::operation_aborted;
    return result;
  }

  PostResult attempt(const WebhookUrl& url, http::request<http::string_body>& request) {
    const std::string origin = (url.tls ? "https://" : "http://") + url.host + ":" + url.port;
    const bool reused = origin_ == origin;
    if (!reused) {
      close();
      if (std::string error = connect(url); !error.empty()) {
        close();
        return {.error = std::move(error)};
      }
      origin_ = origin;
    }
    bool got_some = false;
    PostResult result = exchange(request, got_some);
    if (result.status == 0 && reused && !got_some && !timed_out_ && !aborted_) {
      // The receiver closed the idle connection (or it broke) before reading this request.
      close();
      if (std::string error = connect(url); !error.empty()) {
        close();
        return {.error = std::move(error)};
      }
      origin_ = origin;
      result = exchange(request, got_some);
    }
    return result;
  }

  // Resolves, connects and, for https, handshakes; "" or what failed. No operation is pending
  // on the old streams (run() only returns once its operation completed).
  std::string connect(const WebhookUrl& url) {
    tcp::resolver::results_type endpoints;
    boost::system::error_code error = run([&](Done done) {
      resolver_.async_resolve(url.host, url.port,
                              [&endpoints, done](const boost::system::error_code& e,
                                                 tcp::resolver::results_type results) {
                                endpoints = std::move(results);
                                done(e);
                              });
    });
    if (error) return "resolve " + url.host + ": " + error.message();
    // Only to the addresses the policy allows: checked on what was resolved, just before the
    // connection, so no byte goes to a refused one.
    std::vector<tcp::endpoint> allowed;
    std::string refused;
    for (const auto& entry : endpoints) {
      const asio::ip::address address = entry.endpoint().address();
      const IpAddress ip = address.is_v4() ? IpAddress::v4(address.to_v4().to_bytes())
                                           : IpAddress::v6(address.to_v6().to_bytes());
      if (std::optional<std::string> reason = options_.targets.refusal(ip)) {
        if (refused.empty()) refused = "refused: " + refusal_message(url.host, ip, *reason);
      } else {
        allowed.push_back(entry.endpoint());
      }
    }
    if (allowed.empty()) return refused.empty() ? "resolve " + url.host + ": no address" : refused;
    plain_.reset();
    tls_.reset();
    beast::tcp_stream* tcp_layer = nullptr;
    if (url.tls) {
      tls_.emplace(io_, tls_context_);
      tcp_layer = &beast::get_lowest_layer(*tls_);
    } else {
      plain_.emplace(io_);
      tcp_layer = &*plain_;
    }
    error = run([&](Done done) {
      tcp_layer->async_connect(
          allowed, [done](const boost::system::error_code& e, const tcp::endpoint&) { done(e); });
    });
    if (error) return "connect: " + error.message();
    if (!url.tls) return "";
    if (!is_ip_literal(url.host) &&
        SSL_set_tlsext_host_name(tls_->native_handle(), url.host.c_str()) != 1) {
      ERR_clear_error();
      return "TLS: cannot set the server name";
    }
    tls_->set_verify_callback(ssl::host_name_verification(url.host));
    error = run([&](Done done) {
      tls_->async_handshake(ssl::stream_base::client,
                            [done](const boost::system::error_code& e) { done(e); });
    });
    ERR_clear_error();
    if (error) return "TLS handshake: " + error.message();
    return "";
  }

  // Writes the request and reads the response on the open connection. `got_some`: whether any
  // byte of a response came. Closes the connection unless it may be used again.
  PostResult exchange(http::request<http::string_body>& request, bool& got_some) {
    http::response_parser<http::string_body> parser;
    parser.body_limit(options_.response_limit);
    buffer_.clear();
    auto io = [&](auto& stream) {
      boost::system::error_code error = run([&](Done done) {
        http::async_write(stream, request,
                          [done](const boost::system::error_code& e, size_t) { done(e); });
      });
      if (error) return "write: " + error.message();
      error = run([&](Done done) {
        http::async_read(stream, buffer_, parser,
                         [done](const boost::system::error_code& e, size_t) { done(e); });
      });
      if (error) return "read: " + error.message();
      return std::string();
    };
    std::string error = tls_ ? io(*tls_) : io(*plain_);
    got_some = parser.got_some();
    if (!error.empty()) {
      close();
      return {.error = std::move(error)};
    }
    const auto& response = parser.get();
    if (!response.keep_alive()) close();
    PostResult result;
    result.status = response.result_int();
    if (!result.ok()) result.error = "HTTP " + std::to_string(result.status);
    return result;
  }

  void close() {
    boost::system::error_code ignored;
    if (plain_) plain_->socket().close(ignored);
    if (tls_) beast::get_lowest_layer(*tls_).socket().close(ignored);
    // The stream objects stay: an operation may be pending on them (the deadline closes the
    // socket mid-operation). connect() replaces them.
    origin_.clear();
  }

  const std::shared_ptr<const ClientContext> context_;  // keeps the references below valid
  const ClientOptions& options_;
  asio::io_context io_;
  ssl::context& tls_context_;
  const std::string& tls_setup_error_;  // https:// posts fail with this when set
  tcp::resolver resolver_;
  asio::steady_timer deadline_;
  bool timed_out_ = false;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
  beast::flat_buffer buffer_;
  std::string origin_;  // "scheme://host:port" of the open connection; empty: none
  std::atomic<bool> aborted_{false};
};

WebhookClient::WebhookClient(std::shared_ptr<const ClientContext> context)
    : impl_(std::make_unique<Impl>(context, *context->tls_)) {}

WebhookClient::WebhookClient(ClientOptions options)
    : WebhookClient(std::make_shared<const ClientContext>(std::move(options))) {}

WebhookClient::~WebhookClient() = default;

PostResult WebhookClient::post(const WebhookUrl& url, const std::string& body,
                               const std::string& signature) {
  return impl_->post(url, body, signature);
}

void WebhookClient::abort() { impl_->abort(); }

}  // namespace dirfeed::rest
