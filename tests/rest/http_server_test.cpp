// The HTTP server over real sockets: 127.0.0.1 port 0, its io_context on a thread, a Beast
// client. Keep-alive, limits, malformed requests, stop().
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "rest/http_server.hpp"
#include "rest/response.hpp"
#include "tests/rest/http_exchange.hpp"
#include "tests/rest/running_server.hpp"

namespace dirfeed::rest {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using testing::exchange;
using testing::Received;
using testing::RunningServer;

class HttpServerTest : public ::testing::Test {
 protected:
  HttpServerTest() {
    ServerOptions options;
    options.body_limit = 1024;
    options.on_rejected = [this](unsigned status) { rejected_.push_back(status); };
    server_ = std::make_unique<RunningServer>(options, [this](const Request& request,
                                                              const ClientAddress&) {
      ++handled_;
      if (request.target() == "/throw") throw std::runtime_error("boom");
      if (request.target() == "/stream") return counting_stream(false);
      if (request.target() == "/stream-throws") return counting_stream(true);
      return json_response(http::status::ok, "{\"target\":\"" + std::string(request.target()) +
                                                 "\",\"body\":" +
                                                 std::to_string(request.body().size()) + "}");
    });
  }

  tcp::socket connect() {
    tcp::socket socket(client_io_);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
    return socket;
  }

  // Sends raw bytes and reads one response.
  Received raw(const std::string& bytes) {
    tcp::socket socket = connect();
    asio::write(socket, asio::buffer(bytes));
    boost::beast::flat_buffer buffer;
    Received response;
    http::read(socket, buffer, response);
    return response;
  }

  // A streamed body: "[0,1,...,9999]" produced 1,000 numbers per call, with an empty piece
  // after the first (which must not end the body); or, when `fail`, one piece and a throw.
  static Response counting_stream(bool fail) {
    auto next = std::make_shared<int>(0);
    return streamed_response(http::status::ok, "application/json",
                             [next, fail, calls = 0](std::string& out) mutable {
                               if (++calls == 2) return true;  // nothing this time
                               if (fail && calls > 2) throw std::runtime_error("store gone");
                               out += *next == 0 ? "[" : ",";
                               for (int end = *next + 1000; *next < end; ++*next) {
                                 out += std::to_string(*next);
                                 if (*next + 1 < end) out += ",";
                               }
                               if (*next < 10'000) return true;
                               out += "]";
                               return false;
                             });
  }
  static std::string counting_text() {
    std::string text = "[";
    for (int i = 0; i < 10'000; ++i) text += (i > 0 ? "," : "") + std::to_string(i);
    return text + "]";
  }

  std::vector<unsigned> rejected_;  // ServerOptions::on_rejected (read after the response)
  asio::io_context client_io_;
  std::atomic<int> handled_{0};
  std::unique_ptr<RunningServer> server_;
};

TEST_F(HttpServerTest, BindsAnEphemeralPort) { EXPECT_NE(server_->port(), 0); }

TEST_F(HttpServerTest, ServesSeveralRequestsOnOneKeepAliveConnection) {
  tcp::socket socket = connect();
  for (const char* target : {"/one", "/two?x=1", "/three"}) {
    Received response = exchange(socket, Request(http::verb::get, target, 11));
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
  Received response = exchange(socket, request);
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
  Received response = raw("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n" +
                          std::string(1025, 'a'));
  EXPECT_EQ(response.result(), http::status::payload_too_large);
  EXPECT_EQ(response.body(), R"({"error":"request body too large"})");
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, OversizedHeaderIs431) {
  Received response =
      raw("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(20'000, 'b') + "\r\n\r\n");
  EXPECT_EQ(response.result(), http::status::request_header_fields_too_large);
}

TEST_F(HttpServerTest, MalformedRequestLineIs400) {
  for (const std::string line : {"GARBAGE\r\n\r\n", "GET /x HTTP/9\r\n\r\n", "GET  HTTP/1.1\r\n\r\n"}) {
    Received response = raw(line);
    EXPECT_EQ(response.result(), http::status::bad_request) << line;
    EXPECT_TRUE(response.body().starts_with(R"({"error":"malformed HTTP request)")) << line;
  }
  EXPECT_EQ(handled_, 0);
}

TEST_F(HttpServerTest, HandlerExceptionIs500) {
  tcp::socket socket = connect();
  Received response = exchange(socket, Request(http::verb::get, "/throw", 11));
  EXPECT_EQ(response.result(), http::status::internal_server_error);
  EXPECT_EQ(response.body(), R"({"error":"internal error"})");  // "boom" goes to the log only
}

TEST_F(HttpServerTest, RequestsRejectedBeforeTheHandlerAreReported) {
  EXPECT_EQ(raw("GARBAGE\r\n\r\n").result(), http::status::bad_request);
  EXPECT_EQ(raw("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1025\r\n\r\n" +
                std::string(1025, 'a')).result(),
            http::status::payload_too_large);
  EXPECT_EQ(rejected_, (std::vector<unsigned>{400, 413}));
}

TEST_F(HttpServerTest, StreamedBodyIsSentChunkedAndKeepsTheConnection) {
  tcp::socket socket = connect();
  Received response = exchange(socket, Request(http::verb::get, "/stream", 11));
  EXPECT_EQ(response.result(), http::status::ok);
  EXPECT_TRUE(response.chunked());
  EXPECT_EQ(response[http::field::content_type], "application/json");
  EXPECT_EQ(response.body(), counting_text());
  // The connection goes on after the last chunk.
  EXPECT_EQ(exchange(socket, Request(http::verb::get, "/after", 11)).result(), http::status::ok);
}

TEST_F(HttpServerTest, StreamedBodyToHttp10EndsWithTheConnection) {
  tcp::socket socket = connect();
  Received response = exchange(socket, Request(http::verb::get, "/stream", 10));
  EXPECT_FALSE(response.chunked());
  EXPECT_FALSE(response.keep_alive());
  EXPECT_EQ(response.body(), counting_text());
}

TEST_F(HttpServerTest, StreamThatFailsCutsTheResponseShort) {
  tcp::socket socket = connect();
  Request request(http::verb::get, "/stream-throws", 11);
  request.set(http::field::host, "localhost");
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  Received response;
  boost::system::error_code error;
  http::read(socket, buffer, response, error);
  // The headers said 200, so the only honest signal left is an incomplete chunked body.
  EXPECT_TRUE(error == http::error::partial_message || error == asio::error::eof ||
              error == asio::error::connection_reset)
      << error.message();
}

// With two threads running the io_context, a handler that blocks holds up only its own
// connection: /fast is answered while /slow waits for it.
TEST(HttpServerThreads, BlockedHandlerDoesNotHoldUpOtherConnections) {
  asio::io_context io;
  std::promise<void> fast_served;
  std::shared_future<void> fast_done = fast_served.get_future().share();
  std::promise<void> slow_entered;
  HttpServer server(io, ServerOptions{}, [&](const Request& request, const ClientAddress&) {
    if (request.target() == "/slow") {
      slow_entered.set_value();
      const bool released =
          fast_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
      return json_response(http::status::ok, released ? "\"released\"" : "\"timed out\"");
    }
    fast_served.set_value();
    return json_response(http::status::ok, "\"fast\"");
  });
  server.start();
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) threads.emplace_back([&] { io.run(); });

  auto get = [&](const char* target) {
    asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
    Request request(http::verb::get, target, 11);
    request.set(http::field::host, "localhost");
    http::write(socket, request);
    boost::beast::flat_buffer buffer;
    Received response;
    http::read(socket, buffer, response);
    return response.body();
  };
  std::future<std::string> slow = std::async(std::launch::async, get, "/slow");
  // /fast is asked only once /slow is in its handler: a server serving one request at a time
  // would then leave /fast waiting until /slow gives up ("timed out").
  slow_entered.get_future().wait();
  EXPECT_EQ(get("/fast"), "\"fast\"");
  EXPECT_EQ(slow.get(), "\"released\"");
  server.stop();
  for (auto& thread : threads) thread.join();
}

// A client reading an endless streamed body as fast as it can is still cut off once
// response_timeout has passed (a streamed answer may hold a store snapshot).
TEST(HttpServerResponseTimeout, EndlessStreamIsCutOffAfterTheResponseTimeout) {
  asio::io_context io;
  ServerOptions options;
  options.response_timeout = std::chrono::seconds(1);
  HttpServer server(io, options, [](const Request&, const ClientAddress&) {
    return streamed_response(http::status::ok, "text/plain", [](std::string& out) {
      out.assign(16 * 1024, 'x');
      return true;
    });
  });
  server.start();
  std::thread thread([&] { io.run(); });

  asio::io_context client_io;
  tcp::socket socket(client_io);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  Request request(http::verb::get, "/endless", 11);
  request.set(http::field::host, "localhost");
  http::write(socket, request);
  const auto started = std::chrono::steady_clock::now();
  std::vector<char> buffer(64 * 1024);
  boost::system::error_code error;
  size_t received = 0;
  while (!error && std::chrono::steady_clock::now() - started < std::chrono::seconds(20)) {
    received += socket.read_some(asio::buffer(buffer), error);
  }
  const auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_TRUE(error) << "still streaming after 20 s";
  EXPECT_GE(elapsed, std::chrono::milliseconds(900));
  EXPECT_LT(elapsed, std::chrono::seconds(10));
  EXPECT_GT(received, 16u * 1024) << "the body did flow until then";
  server.stop();
  thread.join();
}

TEST_F(HttpServerTest, StopClosesOpenConnectionsAndTheListener) {
  tcp::socket socket = connect();
  EXPECT_EQ(exchange(socket, Request(http::verb::get, "/", 11)).result(), http::status::ok);
  server_->stop();
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
