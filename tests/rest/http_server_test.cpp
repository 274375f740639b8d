// The HTTP server over real sockets: 127.0.0.1 port 0, its io_context on a thread, a Beast
// client. Keep-alive, limits, malformed requests, stop().
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <future>
#include <string>
#include <thread>

#include "rest/http_server.hpp"
#include "rest/response.hpp"

namespace dirfeed::rest {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    ServerOptions options;
    options.body_limit = 1024;
    server_ = std::make_unique<HttpServer>(io_, options, [this](const Request& request) {
      ++handled_;
      if (request.target() == "/throw") throw std::runtime_error("boom");
      return json_response(http::status::ok, "{\"target\":\"" + std::string(request.target()) +
                                                 "\",\"body\":" +
                                                 std::to_string(request.body().size()) + "}");
    });
    server_->start();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~HttpServerTest() override {
    stop_server();
    work_.reset();
    thread_.join();
  }

  // Stops the server on its own thread. The work guard keeps that thread running after the
  // server's last connection is gone, so a second call still has a thread to run on.
  void stop_server() {
    std::promise<void> done;
    asio::post(io_, [&] {
      server_->stop();
      done.set_value();
    });
    done.get_future().wait();
  }

  tcp::socket connect() {
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  Response exchange(tcp::socket& socket, Request request) {
    request.set(http::field::host, "localhost");
    request.prepare_payload();
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    Response response;
    http::read(socket, buffer, response);
    return response;
  }

  // Sends raw bytes and reads one response.
  Response raw(const std::string& bytes) {
    tcp::socket socket = connect();
    asio::write(socket, asio::buffer(bytes));
    boost::beast::flat_buffer buffer;
    Response response;
    http::read(socket, buffer, response);
    return response;
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_{io_.get_executor()};
  asio::io_context client_io_;
  std::atomic<int> handled_{0};
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

TEST_F(HttpServerTest, BindsAnEphemeralPort) { EXPECT_NE(server_->port(), 0); }

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  tcp::socket socket = connect();
  for (const char* target : {"/one", "/two?x=1", "/three"}) {
    Response response = exchange(socket, Request(http::verb::get, target, 11));
    EXPECT_EQ(response.result(), http::status::ok);
    EXPECT_TRUE(response.keep_alive());
    EXPECT_EQ(response.body(), std::string("{\"target\":\"") + target + "\",\"body\":0}");
  }
  EXPECT_EQ(handled_, 3);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  tcp::socket socket = connect();
  Request request(http::verb::get, "/bye", 11);
  request.keep_alive(false);
  Response response = exchange(socket, request);
  EXPECT_FALSE(response.keep_alive());
  char byte;
  boost::system::error_code error;
  asio::read(socket, asio::buffer(&byte, 1), error);
  EXPECT_EQ(error, asio::error::eof);
}

TEST_F(HttpServerTest, BodyWithinTheLimitIsRead) {
  tcp::socket socket = connect();
  Request request(http::verb::post, "/x", 11);
  request.body() = std::string(1024, 'a');
  EXPECT_EQ(exchange(socket, request).body(), "{\"target\":\"/x\",\"body\":1024}");
}

TEST_F(HttpServerTest, OversizedBodyIs413) {
  Response response = raw("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n" +
                          std::string(1025, 'a'));
  EXPECT_EQ(response.result(), http::status::payload_too_large);
  EXPECT_EQ(response.body(), R"({"error":"request body too large"})");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  Response response =
      raw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20'000, 'b') + "\r\n\r\n");
  EXPECT_EQ(response.result(), http::status::request_header_fields_too_large);
}

TEST_F(HttpServerTest, MalformedRequestLineIs400) {
  for (const std::string line : {"GARBAGE\r\n\r\n", "GET /x HTTP/9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n"}) {
    Response response = raw(line);
    EXPECT_EQ(response.result(), http::status::bad_request) << line;
    EXPECT_TRUE(response.body().starts_with(R"({"error":"malformed HTTP request)")) << line;
  }
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, HandlerExceptionIs500) {
  tcp::socket socket = connect();
  Response response = exchange(socket, Request(http::verb::get, "/throw", 11));
  EXPECT_EQ(response.result(), http::status::internal_server_error);
  EXPECT_EQ(response.body(), R"({"error":"boom"})");
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndTheListener) {
  tcp::socket socket = connect();
  EXPECT_EQ(exchange(socket, Request(http::verb::get, "/", 11)).result(), http::status::ok);
  stop_server();
  char byte;
  boost::system::error_code error;
  asio::read(socket, asio::buffer(&byte, 1), error);
  EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error;

  tcp::socket late(client_io_);
  late.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()), error);
  EXPECT_EQ(error, asio::error::connection_refused);
}

}  // namespace
}  // namespace dirfeed::rest
