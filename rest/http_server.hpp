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
#include <utility>

namespace dirfeed::rest {

using Request = boost::beast::http::request<boost::beast::http::string_body>;

// The body of a Response (a Beast Body type): a string, as with http::string_body, or a
// stream that produces the body piece by piece, for long lists whose text should never be
// in memory at once. A streamed body is sent with chunked transfer encoding (HTTP/1.0
// clients: until the connection closes).
struct ResponseBody {
  // Appends the next piece of the body to `out` (which arrives empty) and returns true while
  // more may follow, false once it has appended the last one. Called on the session's thread,
  // one call at a time, after the status line and headers are sent: a failure then can only
  // cut the response short, so it should throw (the connection is closed mid-body and the
  // client sees an incomplete chunked response, never a complete-looking wrong one).
  using Stream = std::function<bool(std::string& out)>;

  // The body text, as a std::string (so handlers and tests use it as one), plus the stream.
  class value_type : public std::string {
   public:
    using std::string::string;
    using std::string::operator=;
    value_type() = default;
    value_type(std::string text) : std::string(std::move(text)) {}  // NOLINT: implicit on purpose
    // Set: the body is what this produces (the string is ignored).
    Stream stream;
  };

  class writer;  // http_server.cpp
};

using Response = boost::beast::http::response<ResponseBody>;

// A response whose body `stream` produces: status and headers as given, chunked body.
Response streamed_response(boost::beast::http::status status, std::string content_type,
                           ResponseBody::Stream stream);

// The address a connection comes from (IPv4-mapped IPv6 addresses as IPv4).
using ClientAddress = boost::asio::ip::address;

// Turns a request into a response. Runs on the connection's strand, on one of the threads
// running the io_context: while it blocks (store reads, a PBKDF2 check), that connection
// waits and the other threads serve the others. An exception it throws becomes a 500 with a
// generic message (the exception's text goes to the log only).
using Handler = std::function<Response(const Request&, const ClientAddress&)>;

// Screens a request once its header is read, before its body is (the Request's body is still
// empty): nullopt reads the body and calls the Handler; a response is sent instead, without
// reading the body, and the connection closes after it (the unread body cannot be skipped
// safely). So an unauthenticated client cannot make the server read a large body.
using Screen = std::function<std::optional<Response>(const Request&, const ClientAddress&)>;

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
  // Reading a request's header, from the first byte (or the end of the previous response on
  // a kept-alive connection) to its end: short, so idle or trickling clients do not hold
  // connection slots.
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds io_timeout{30};  // per request body read, and per piece of a response written
  // A whole response must be written within this, however steadily the client reads (a
  // streamed answer may hold a store snapshot until it is written); then the connection closes.
  std::chrono::seconds response_timeout{600};
  size_t max_connections = 256;         // beyond this, new connections wait in the backlog
  // Open connections one client address may hold; more are closed at once, so one client
  // cannot take every slot.
  size_t max_connections_per_client = 32;
  std::optional<TlsFiles> tls;          // nullopt: plain HTTP
  std::chrono::seconds handshake_timeout{10};  // TLS only
  // Counts requests answered before any handler saw them (400 malformed, 413, 431), by
  // status code. Called on the session's thread.
  std::function<void(unsigned status)> on_rejected;
};

// The certificate or key in ServerOptions::tls cannot be loaded; what() names the file.
class TlsSetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Threads: the server works on the io_context it is given, which may be run by several
// threads. Each connection has its own strand (its reads, handler calls and writes never
// overlap), so connections are served in parallel by as many threads as run the io_context.
class HttpServer {
 public:
  // Loads the TLS files (TlsSetupError when it cannot), then binds and listens on host:port at
  // once. Throws boost::system::system_error when it cannot (start-up time: the caller reports
  // it and exits). Accepting starts with start().
  HttpServer(boost::asio::io_context& io, const ServerOptions& options, Handler handler,
             Screen screen = {});
  // Calls stop().
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Accepts connections on the io_context. Call once. Any thread.
  void start();
  // Closes the listening socket and every open connection (responses being written are cut
  // off; the closing runs on each connection's strand, so the io_context must run on for it).
  // Idempotent. Any thread.
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
