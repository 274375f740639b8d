#pragma once
// The HTTP/1.1 server under the REST APIs (Beast). Sessions only move bytes: each complete
// request goes to a Handler, whose Response is written back (STYLE.md "REST handlers are
// functions").
//
// Plain HTTP, or HTTPS when ServerOptions::tls names a certificate and key: one session
// template runs the read/handle/write loop over beast::tcp_stream or over
// beast::ssl_stream<beast::tcp_stream> (TLS 1.2 and newer only, after a handshake bounded by
// handshake_timeout). A failed handshake closes that connection (debug log) and nothing else.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace dirfeed::rest {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// Turns a request into a response. Runs on the io_context thread; should not block long.
// An exception it throws becomes a 500.
using Handler = std::function<Response(const Request&)>;

// PEM files: the certificate chain (server certificate first) and its private key.
struct TlsFiles {
  std::string cert_file;
  std::string key_file;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // IP literal; IPv6 without brackets
  uint16_t port = 0;               // 0: any free port (see HttpServer::port)
  size_t header_limit = 16 * 1024;     // larger request headers: 431
  size_t body_limit = 1024 * 1024;     // larger bodies: 413
  std::chrono::seconds io_timeout{30};  // per request read and per response write
  size_t max_connections = 256;         // beyond this, new connections wait in the backlog
  std::optional<TlsFiles> tls;          // nullopt: plain HTTP
  std::chrono::seconds handshake_timeout{10};  // TLS only
};

// The certificate or key in ServerOptions::tls cannot be loaded; what() names the file.
class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class HttpServer {
 public:
  // Loads the TLS files (TlsSetupError when it cannot), then binds and listens on host:port at
  // once. Throws boost::system::system_error when it cannot (start-up time: the caller reports
  // it and exits). Accepting starts with start().
  HttpServer(boost::asio::io_context& io, const ServerOptions& options, Handler handler);
  // Calls stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Accepts connections on the io_context. Call once, on the io_context's thread or before it
  // runs.
  void start();
  // Closes the listening socket and every open connection (responses being written are cut
  // off). Idempotent. Call on the io_context's thread or when it is not running; pending
  // handlers then finish with operation_aborted as the io_context runs on.
  void stop();

  // The bound address (the real port when options.port was 0).
  const boost::asio::ip::tcp::endpoint& local_endpoint() const { return endpoint_; }
  uint16_t port() const { return endpoint_.port(); }

 private:
  class Listener;
  class Session;  // the stream-independent part, known to the Listener
  template <class Stream>
  class BasicSession;
  std::shared_ptr<Listener> listener_;
  boost::asio::ip::tcp::endpoint endpoint_;
};

}  // namespace dirfeed::rest
