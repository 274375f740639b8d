#include "rest/http_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/log/trivial.hpp>
#include <boost/optional/optional.hpp>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rest/response.hpp"

namespace dirfeed::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace ssl = asio::ssl;

namespace {

// The ssl error's reason (OpenSSL's text) when there is one.
std::string describe(const beast::error_code& error) {
  std::string text = error.message();
  if (error.category() == asio::error::get_ssl_category()) {
    char reason[256];
    ERR_error_string_n(static_cast<unsigned long>(error.value()), reason, sizeof reason);
    text = reason;
  }
  return text;
}

// TLS 1.2 and newer, the certificate chain and the key from PEM files. TlsSetupError naming
// the file when one cannot be loaded or the key does not match the certificate.
ssl::context make_tls_context(const TlsFiles& files) {
  ssl::context context(ssl::context::tls_server);
  context.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                      ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
  if (SSL_CTX_set_min_proto_version(context.native_handle(), TLS1_2_VERSION) != 1) {
    throw TlsSetupError("TLS: cannot require TLS 1.2 or newer");
  }
  // An encrypted key would make OpenSSL prompt on the terminal: fail instead.
  context.set_password_callback([](size_t, ssl::context::password_purpose) { return ""; });
  beast::error_code error;
  context.use_certificate_chain_file(files.cert_file, error);
  if (error) {
    ERR_clear_error();
    throw TlsSetupError("TLS: cannot load the certificate chain " + files.cert_file + ": " +
                        describe(error));
  }
  context.use_private_key_file(files.key_file, ssl::context::pem, error);
  if (error && error.category() == asio::error::get_ssl_category() &&
      ERR_GET_REASON(static_cast<unsigned long>(error.value())) == X509_R_KEY_VALUES_MISMATCH) {
    ERR_clear_error();
    throw TlsSetupError("TLS: the private key " + files.key_file +
                        " does not match the certificate " + files.cert_file);
  }
  if (error) {
    ERR_clear_error();
    throw TlsSetupError("TLS: cannot load the private key " + files.key_file + ": " +
                        describe(error));
  }
  if (SSL_CTX_check_private_key(context.native_handle()) != 1) {
    ERR_clear_error();
    throw TlsSetupError("TLS: the private key " + files.key_file +
                        " does not match the certificate " + files.cert_file);
  }
  return context;
}

// IPv4-mapped IPv6 (a dual-stack listener) as IPv4, so one client is one key.
ClientAddress client_address(const tcp::endpoint& peer) {
  const ClientAddress address = peer.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

}  // namespace

// Serializes a ResponseBody: the string in one piece, or the stream's pieces as they come.
class ResponseBody::writer {
 public:
  using const_buffers_type = asio::const_buffer;

  template <bool isRequest, class Fields>
  writer(const http::header<isRequest, Fields>&, const value_type& body) : body_(body) {}

  void init(beast::error_code& error) { error = {}; }

  boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& error) {
    error = {};
    if (!body_.stream) return {{asio::const_buffer(body_.data(), body_.size()), false}};
    if (done_) return boost::none;
    piece_.clear();
    bool more = true;
    try {
      // An empty piece would end a chunked body: ask again until there is text or the end.
      while (more && piece_.empty()) more = body_.stream(piece_);
    } catch (const std::exception& e) {
      BOOST_LOG_TRIVIAL(error) << "api: response cut short: " << e.what();
      error = asio::error::operation_aborted;
      return boost::none;
    }
    done_ = !more;
    if (piece_.empty()) return boost::none;
    return {{asio::const_buffer(piece_.data(), piece_.size()), more}};
  }

 private:
  const value_type& body_;
  std::string piece_;  // the piece being written (the serializer holds a view of it)
  bool done_ = false;
};

Response streamed_response(http::status status, std::string content_type,
                           ResponseBody::Stream stream) {
  Response response(status, 11);
  response.set(http::field::content_type, std::move(content_type));
  response.body().stream = std::move(stream);
  return response;
}

// Owns the acceptor and knows the open sessions (to close them on stop). Shared with the
// sessions, so it outlives every pending handler. Thread-safe: sessions end on any thread.
class HttpServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const ServerOptions& options, Handler handler, Screen screen);

  void accept();
  void stop();
  void forget(HttpServer::Session* session, const ClientAddress& client);
  // Counts a request answered before the handler (ServerOptions::on_rejected).
  void rejected(http::status status) const {
    if (options_.on_rejected) options_.on_rejected(static_cast<unsigned>(status));
  }

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  const Screen& screen() const { return screen_; }
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void on_accept(beast::error_code error, tcp::socket socket);
  void accept_locked();  // accept() with mutex_ held

  asio::io_context& io_;
  std::mutex mutex_;  // guards what follows

  const ServerOptions options_;
  const Handler handler_;
  const Screen screen_;
  std::optional<ssl::context> tls_context_;  // set: HTTPS
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  std::unordered_map<HttpServer::Session*, std::weak_ptr<HttpServer::Session>> sessions_;
  std::map<ClientAddress, size_t> per_client_;  // open sessions by client address
  bool paused_ = false;  // at max_connections: accept() again when one closes
  bool stopped_ = false;
};

// What the Listener needs of a connection, whatever its stream. Both run on the session's
// strand (they post themselves there), so they may be called from any thread.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  virtual ~Session() = default;
  virtual void run() = 0;
  virtual void close() = 0;
};

// One connection: (TLS: handshake first) read a request, hand it to the handler, write the
// response, repeat while keep-alive. Errors end the connection; parse errors and limits get a
// response first. Stream: PlainStream or TlsStream.
template <class Stream>
class HttpServer::BasicSession final : public HttpServer::Session {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... StreamArgs>
  BasicSession(std::shared_ptr<HttpServer::Listener> listener, const tcp::endpoint& peer,
               StreamArgs&&... stream_args)
      : stream_(std::forward<StreamArgs>(stream_args)...),
        peer_(peer),
        client_(client_address(peer)),
        listener_(std::move(listener)) {}
  ~BasicSession() override { listener_->forget(this, client_); }

  void run() override {
    asio::dispatch(lowest().get_executor(), beast::bind_front_handler(&BasicSession::start, self()));
  }
  void close() override {
    asio::post(lowest().get_executor(), [self = self()] { self->lowest().close(); });
  }

 private:
  std::shared_ptr<BasicSession> self() {
    return std::static_pointer_cast<BasicSession>(shared_from_this());
  }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  void start() {
    if constexpr (kTls) {
      lowest().expires_after(listener_->options().handshake_timeout);
      stream_.async_handshake(ssl::stream_base::server,
                              beast::bind_front_handler(&BasicSession::on_handshake, self()));
    } else {
      read();
    }
  }

  void on_handshake(beast::error_code error) {
    if (error) {
      // Plain HTTP on the HTTPS port, an old protocol version, a scanner, a timeout. Not
      // logged when stop() closed the connection.
      if (error != asio::error::operation_aborted) {
        BOOST_LOG_TRIVIAL(debug) << "api: TLS handshake with " << peer_
                                 << " failed: " << describe(error);
      }
      return;  // the socket closes with the session
    }
    read();
  }

  // Reads the next request's header (within header_timeout), then screens it, then reads its
  // body (within io_timeout).
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(listener_->options().header_limit));
    parser_->body_limit(listener_->options().body_limit);
    lowest().expires_after(listener_->options().header_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            beast::bind_front_handler(&BasicSession::on_header, self()));
  }

  void on_header(beast::error_code error, size_t) {
    if (error) return on_read(error, 0);
    if (const Screen& screen = listener_->screen()) {
      std::optional<Response> refused;
      try {
        refused = screen(parser_->get(), client_);
      } catch (const std::exception& e) {
        refused = internal_error(e);
      }
      if (refused) {
        refused->version(parser_->get().version());
        return write(std::move(*refused), false);
      }
    }
    if (parser_->is_done()) return on_read({}, 0);
    lowest().expires_after(listener_->options().io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&BasicSession::on_read, self()));
  }

  // A 500 whose body says nothing of the cause; the cause goes to the log.
  Response internal_error(const std::exception& e) {
    BOOST_LOG_TRIVIAL(error) << "api: request from " << peer_ << " failed: " << e.what();
    return error_response(http::status::internal_server_error, "internal error");
  }

  void on_read(beast::error_code error, size_t) {
    if (error == http::error::end_of_stream) return finish();
    if (error == http::error::body_limit) {
      return reject(error_response(http::status::payload_too_large, "request body too large"));
    }
    if (error == http::error::header_limit) {
      return reject(error_response(http::status::request_header_fields_too_large,
                                   "request header too large"));
    }
    if (error && error.category() == http::make_error_code(http::error::bad_target).category() &&
        error != http::error::partial_message) {
      return reject(error_response(http::status::bad_request,
                                   "malformed HTTP request: " + error.message()));
    }
    if (error) return;  // timeout, reset, or closed by stop()

    const Request& request = parser_->get();
    Response response;
    try {
      response = listener_->handler()(request, client_);
    } catch (const std::exception& e) {
      response = internal_error(e);
    }
    response.version(request.version());
    write(std::move(response), request.keep_alive());
  }

  // Answers a request the handler never saw, then closes.
  void reject(Response response) {
    listener_->rejected(response.result());
    write(std::move(response), false);
  }

  // Sends the response piece by piece; io_timeout bounds each piece, so a long streamed list
  // reaches a slow but live client while a stalled one is cut off, and response_timeout the
  // whole response.
  void write(Response response, bool keep_alive) {
    if (!response.body().stream) {
      response.content_length(response.body().size());
    } else if (response.version() >= 11) {
      response.chunked(true);
    } else {
      keep_alive = false;  // HTTP/1.0 has no chunks: the body ends when the connection does
    }
    response.keep_alive(keep_alive);
    response_ = std::move(response);
    serializer_.emplace(*response_);
    response_deadline_ = std::chrono::steady_clock::now() + listener_->options().response_timeout;
    write_some(keep_alive);
  }

  void write_some(bool keep_alive) {
    lowest().expires_at(std::min(std::chrono::steady_clock::now() + listener_->options().io_timeout,
                                 response_deadline_));
    http::async_write_some(stream_, *serializer_,
                           beast::bind_front_handler(&BasicSession::on_write, self(), keep_alive));
  }

  void on_write(bool keep_alive, beast::error_code error, size_t) {
    if (error) return;
    if (!serializer_->is_done()) {
      // Past the deadline: drop the connection (the session ends, the socket closes). The
      // stream's expiry alone would not do: a write that completes at once outruns it.
      if (std::chrono::steady_clock::now() >= response_deadline_) return;
      return write_some(keep_alive);
    }
    serializer_.reset();
    response_.reset();
    if (!keep_alive) return finish();
    read();
  }

  // The connection is done: TLS close_notify, or a TCP half-close.
  void finish() {
    if constexpr (kTls) {
      lowest().expires_after(listener_->options().io_timeout);
      stream_.async_shutdown([self = self()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Stream stream_;
  const tcp::endpoint peer_;    // for the log
  const ClientAddress client_;  // for the handlers and the per-client cap
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;
  std::optional<http::response_serializer<ResponseBody>> serializer_;
  std::chrono::steady_clock::time_point response_deadline_;
  std::shared_ptr<HttpServer::Listener> listener_;
};

HttpServer::Listener::Listener(asio::io_context& io, const ServerOptions& options,
                               Handler handler, Screen screen)
    : io_(io),
      options_(options),
      handler_(std::move(handler)),
      screen_(std::move(screen)),
      tls_context_(options.tls ? std::optional<ssl::context>(make_tls_context(*options.tls))
                               : std::nullopt),
      acceptor_(io),
      retry_timer_(io) {
  const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void HttpServer::Listener::accept() {
  std::lock_guard lock(mutex_);
  accept_locked();
}

void HttpServer::Listener::accept_locked() {
  if (stopped_) return;
  if (sessions_.size() >= options_.max_connections) {
    paused_ = true;
    return;
  }
  // Each connection gets its own strand.
  acceptor_.async_accept(asio::make_strand(io_),
                         beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void HttpServer::Listener::on_accept(beast::error_code error, tcp::socket socket) {
  std::shared_ptr<Session> session;
  {
    std::lock_guard lock(mutex_);
    if (stopped_ || error == asio::error::operation_aborted) return;
    if (error) {
      // Out of file descriptors and the like: try again shortly instead of spinning.
      retry_timer_.expires_after(std::chrono::milliseconds(100));
      retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_error) {
        if (!wait_error) self->accept();
      });
      return;
    }
    beast::error_code ignored;
    const tcp::endpoint peer = socket.remote_endpoint(ignored);
    size_t& open = per_client_[client_address(peer)];
    if (open >= options_.max_connections_per_client) {
      // Closed at once (the socket goes out of scope): this client holds its share.
      BOOST_LOG_TRIVIAL(debug) << "api: " << peer << " has " << open
                               << " connections open; refused another";
      accept_locked();
      return;
    }
    ++open;
    if (tls_context_) {
      session = std::make_shared<BasicSession<TlsStream>>(shared_from_this(), peer,
                                                          std::move(socket), *tls_context_);
    } else {
      session = std::make_shared<BasicSession<PlainStream>>(shared_from_this(), peer,
                                                            std::move(socket));
    }
    sessions_.emplace(session.get(), session);
    accept_locked();
  }
  session->run();
}

void HttpServer::Listener::forget(HttpServer::Session* session, const ClientAddress& client) {
  std::lock_guard lock(mutex_);
  sessions_.erase(session);
  if (auto it = per_client_.find(client); it != per_client_.end() && --it->second == 0) {
    per_client_.erase(it);
  }
  if (paused_ && !stopped_) {
    paused_ = false;
    accept_locked();
  }
}

void HttpServer::Listener::stop() {
  std::vector<std::shared_ptr<Session>> open;
  {
    std::lock_guard lock(mutex_);
    if (stopped_) return;
    stopped_ = true;
    beast::error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    // Locked first: dropping a last reference inside the loop would erase from sessions_.
    for (auto& [raw, weak] : sessions_) {
      if (auto session = weak.lock()) open.push_back(std::move(session));
    }
  }
  // Outside the lock: a session dropped here runs forget(), which takes it.
  for (auto& session : open) session->close();
}

HttpServer::HttpServer(asio::io_context& io, const ServerOptions& options, Handler handler,
                       Screen screen)
    : listener_(std::make_shared<Listener>(io, options, std::move(handler), std::move(screen))),
      endpoint_(listener_->local_endpoint()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() { listener_->accept(); }

void HttpServer::stop() { listener_->stop(); }

}  // namespace dirfeed::rest
