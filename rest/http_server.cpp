#include "rest/http_server.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <exception>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "rest/response.hpp"

namespace dirfeed::rest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// Owns the acceptor and knows the open sessions (to close them on stop). Shared with the
// sessions, so it outlives every pending handler. io_context thread only.
class HttpServer::Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, const ServerOptions& options, Handler handler);

  void accept();
  void stop();
  void forget(HttpServer::Session* session);

  const ServerOptions& options() const { return options_; }
  const Handler& handler() const { return handler_; }
  tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  void on_accept(beast::error_code error, tcp::socket socket);

  asio::io_context& io_;
  const ServerOptions options_;
  const Handler handler_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  std::unordered_map<HttpServer::Session*, std::weak_ptr<HttpServer::Session>> sessions_;
  bool paused_ = false;  // at max_connections: accept() again when one closes
  bool stopped_ = false;
};

// One connection: read a request, hand it to the handler, write the response, repeat while
// keep-alive. Errors end the connection; parse errors and limits get a response first.
class HttpServer::Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServer::Listener> listener)
      : stream_(std::move(socket)), listener_(std::move(listener)) {}
  ~Session() { listener_->forget(this); }

  void run() { read(); }
  void close() { stream_.close(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(listener_->options().header_limit));
    parser_->body_limit(listener_->options().body_limit);
    stream_.expires_after(listener_->options().io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code error, size_t) {
    if (error == http::error::end_of_stream) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    if (error == http::error::body_limit) {
      return write(error_response(http::status::payload_too_large, "request body too large"),
                   false);
    }
    if (error == http::error::header_limit) {
      return write(error_response(http::status::request_header_fields_too_large,
                                  "request header too large"),
                   false);
    }
    if (error && error.category() == http::make_error_code(http::error::bad_target).category() &&
        error != http::error::partial_message) {
      return write(error_response(http::status::bad_request,
                                  "malformed HTTP request: " + error.message()),
                   false);
    }
    if (error) return;  // timeout, reset, or closed by stop()

    const Request& request = parser_->get();
    Response response;
    try {
      response = listener_->handler()(request);
    } catch (const std::exception& e) {
      response = error_response(http::status::internal_server_error, e.what());
    }
    response.version(request.version());
    write(std::move(response), request.keep_alive());
  }

  void write(Response response, bool keep_alive) {
    response.keep_alive(keep_alive);
    response.prepare_payload();
    response_ = std::move(response);
    stream_.expires_after(listener_->options().io_timeout);
    http::async_write(stream_, *response_,
                      beast::bind_front_handler(&Session::on_write, shared_from_this(),
                                                keep_alive));
  }

  void on_write(bool keep_alive, beast::error_code error, size_t) {
    if (error) return;
    if (!keep_alive) {
      stream_.socket().shutdown(tcp::socket::shutdown_send, error);
      return;
    }
    response_.reset();
    read();
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<Response> response_;
  std::shared_ptr<HttpServer::Listener> listener_;
};

HttpServer::Listener::Listener(asio::io_context& io, const ServerOptions& options,
                               Handler handler)
    : io_(io),
      options_(options),
      handler_(std::move(handler)),
      acceptor_(io),
      retry_timer_(io) {
  const tcp::endpoint endpoint(asio::ip::make_address(options.host), options.port);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(asio::socket_base::max_listen_connections);
}

void HttpServer::Listener::accept() {
  if (stopped_) return;
  if (sessions_.size() >= options_.max_connections) {
    paused_ = true;
    return;
  }
  acceptor_.async_accept(io_, beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
}

void HttpServer::Listener::on_accept(beast::error_code error, tcp::socket socket) {
  if (stopped_ || error == asio::error::operation_aborted) return;
  if (error) {
    // Out of file descriptors and the like: try again shortly instead of spinning.
    retry_timer_.expires_after(std::chrono::milliseconds(100));
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_error) {
      if (!wait_error) self->accept();
    });
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), shared_from_this());
  sessions_.emplace(session.get(), session);
  session->run();
  accept();
}

void HttpServer::Listener::forget(HttpServer::Session* session) {
  sessions_.erase(session);
  if (paused_ && !stopped_) {
    paused_ = false;
    accept();
  }
}

void HttpServer::Listener::stop() {
  if (stopped_) return;
  stopped_ = true;
  beast::error_code ignored;
  acceptor_.close(ignored);
  retry_timer_.cancel();
  // Locked first: dropping a last reference inside the loop would erase from sessions_.
  std::vector<std::shared_ptr<Session>> open;
  for (auto& [raw, weak] : sessions_) {
    if (auto session = weak.lock()) open.push_back(std::move(session));
  }
  for (auto& session : open) session->close();
}

HttpServer::HttpServer(asio::io_context& io, const ServerOptions& options, Handler handler)
    : listener_(std::make_shared<Listener>(io, options, std::move(handler))),
      endpoint_(listener_->local_endpoint()) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::start() { listener_->accept(); }

void HttpServer::stop() { listener_->stop(); }


}  // namespace dirfeed::rest
