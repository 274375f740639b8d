// An API that one client cannot stall (issue 10): the header screened before the body is
// read, the per-client connection cap, the header deadline, JSON-only write bodies, and a
// flood of wrong passwords from 32 clients while a good client and health checks go on.
// Real sockets on loopback; the flood runs the real router and credentials over a real store.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/base64.hpp"
#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/http_server.hpp"
#include "rest/response.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/http_exchange.hpp"
#include "tests/rest/running_server.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::rest {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using testing::exchange;
using testing::Received;
using testing::RunningServer;
using Clock = std::chrono::steady_clock;

// A blocking client socket to 127.0.0.1:port, from `source` (another loopback address).
tcp::socket connect_from(asio::io_context& io, uint16_t port,
                         const std::string& source = "127.0.0.1") {
  tcp::socket socket(io);
  socket.open(tcp::v4());
  socket.bind(tcp::endpoint(asio::ip::make_address(source), 0));
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  return socket;
}

// Whether the server closes `socket` (EOF or reset) within `within`, and how long it took.
std::optional<Clock::duration> closed_within(tcp::socket& socket, std::chrono::seconds within) {
  const auto start = Clock::now();
  socket.non_blocking(true);
  char byte = 0;
  while (Clock::now() - start < within) {
    boost::system::error_code error;
    socket.read_some(asio::buffer(&byte, 1), error);
    if (error == asio::error::eof || error == asio::error::connection_reset) {
      return Clock::now() - start;
    }
    if (error != asio::error::would_block) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return std::nullopt;
}

Response ok_handler(const Request& request, const ClientAddress&) {
  return json_response(http::status::ok, std::to_string(request.body().size()));
}

TEST(ApiProtectionTest, AScreenedRequestIsAnsweredWithoutItsBodyBeingRead) {
  std::atomic<int> handled{0};
  RunningServer server(
      ServerOptions{},
      [&](const Request& request, const ClientAddress& client) {
        ++handled;
        return ok_handler(request, client);
      },
      [](const Request& header, const ClientAddress&) -> std::optional<Response> {
        if (header.target() == "/refuse") {
          return error_response(http::status::unauthorized, "authentication required");
        }
        return std::nullopt;
      });
  asio::io_context io;
  tcp::socket socket = connect_from(io, server.port());
  // 900 KiB announced, none sent: the refusal must come at once, not after a body read.
  const std::string header =
      "POST /refuse HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
      "Content-Length: 921600\r\n\r\n";
  asio::write(socket, asio::buffer(header));
  boost::beast::flat_buffer buffer;
  Received response;
  http::read(socket, buffer, response);
  EXPECT_EQ(response.result(), http::status::unauthorized);
  EXPECT_FALSE(response.keep_alive());  // the unread body cannot be skipped
  EXPECT_EQ(handled, 0);
  // A request the screen lets through has its body read and handled.
  tcp::socket other = connect_from(io, server.port());
  Request post(http::verb::post, "/accept", 11);
  post.body() = "{\"a\":1}";
  EXPECT_EQ(exchange(other, post).body(), "7");
  EXPECT_EQ(handled, 1);
}

TEST(ApiProtectionTest, OneClientAddressGetsItsShareOfConnections) {
  ServerOptions options;
  options.max_connections_per_client = 2;
  RunningServer server(options, ok_handler);
  asio::io_context io;
  tcp::socket first = connect_from(io, server.port());
  tcp::socket second = connect_from(io, server.port());
  EXPECT_EQ(exchange(first, Request(http::verb::get, "/", 11)).result(), http::status::ok);
  EXPECT_EQ(exchange(second, Request(http::verb::get, "/", 11)).result(), http::status::ok);
  tcp::socket third = connect_from(io, server.port());
  EXPECT_TRUE(closed_within(third, std::chrono::seconds(5))) << "a third connection stays open";
  // Another address is not counted with the first.
  tcp::socket elsewhere = connect_from(io, server.port(), "127.0.0.2");
  EXPECT_EQ(exchange(elsewhere, Request(http::verb::get, "/", 11)).result(), http::status::ok);
  // A closed connection frees its slot.
  first.close();
  std::optional<http::status> status;
  for (int attempt = 0; attempt < 50 && !status; ++attempt) {
    tcp::socket again = connect_from(io, server.port());
    boost::system::error_code error;
    Request request(http::verb::get, "/", 11);
    request.set(http::field::host, "localhost");
    http::write(again, request, error);
    boost::beast::flat_buffer buffer;
    Received response;
    if (!error) http::read(again, buffer, response, error);
    if (!error) status = response.result();
    if (!status) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(status, http::status::ok);
}

TEST(ApiProtectionTest, AClientThatSendsNoHeaderIsDroppedAfterTheHeaderTimeout) {
  ServerOptions options;
  options.header_timeout = std::chrono::seconds(1);
  options.io_timeout = std::chrono::seconds(30);
  RunningServer server(options, ok_handler);
  asio::io_context io;
  tcp::socket idle = connect_from(io, server.port());
  const std::optional<Clock::duration> closed = closed_within(idle, std::chrono::seconds(10));
  ASSERT_TRUE(closed) << "an idle connection was kept past the header timeout";
  EXPECT_GE(*closed, std::chrono::milliseconds(900));
  // A trickled header gets no more time: the deadline runs from the start of the header.
  tcp::socket trickle = connect_from(io, server.port());
  asio::write(trickle, asio::buffer(std::string("GET / HTTP/1.1\r\n")));
  EXPECT_TRUE(closed_within(trickle, std::chrono::seconds(10)));
}

// ---- through the real routing table --------------------------------------------------------

class ProtectedApiTest : public changefeed::testing::StoreTest {
 protected:
  ProtectedApiTest() {
    apply({user("alice")});
    // The real cost: new hashes at kPasswordIterations.
    const std::string users =
        temp_.write("api-users", format_users({hash_password("ops", kPassword)}));
    // The failure allowance's clock stands still: no token comes back however long the
    // machine takes for the PBKDF2 runs (the refill itself is CredentialStoreTest's).
    credentials_ = std::make_unique<CredentialStore>(users, temp_.path() + "/api-keys",
                                                     std::chrono::seconds(1), still_);
    context_ = testing::test_context(*store_, credentials_.get(), &clock_);
    router_ = std::make_unique<Router>(make_router(*context_));
    server_ = std::make_unique<RunningServer>(
        ServerOptions{},
        [this](const Request& request, const ClientAddress& client) {
          return router_->handle(request, client);
        },
        [this](const Request& header, const ClientAddress& client) {
          return router_->screen(header, client);
        },
        /*threads=*/4);  // as the daemon runs the API
  }

  // PUT alice's IPs with Basic user:password.
  Request put(const std::string& password, const std::string& content_type = "application/json") {
    Request request(http::verb::put, "/api/uid/v1.0/user/" + guid_to_string(guid("alice")), 11);
    request.set(http::field::authorization, "Basic " + base64_encode("ops:" + password));
    request.set(http::field::content_type, content_type);
    request.body() = R"({"changetype": "add", "ipv4_addresses": ["192.0.2.10"]})";
    return request;
  }

  static constexpr char kPassword[] = "correct horse";
  dirfeed::testing::ManualMonotonicClock still_;  // never advanced
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<RunningServer> server_;
};

TEST_F(ProtectedApiTest, WriteBodiesMustBeJson) {
  asio::io_context io;
  tcp::socket socket = connect_from(io, server_->port());
  // A cross-site form posts text/plain or form-encoded with the browser's cached credentials.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded"}) {
    tcp::socket form = connect_from(io, server_->port());
    const Received refused = exchange(form, put(kPassword, type));
    EXPECT_EQ(refused.result(), http::status::unsupported_media_type) << type;
  }
  EXPECT_EQ(exchange(socket, put(kPassword, "application/json; charset=utf-8")).result(),
            http::status::ok);
  // Without credentials the answer is 401 whatever the body's type.
  tcp::socket anonymous = connect_from(io, server_->port());
  Request request = put("wrong", "text/plain");
  EXPECT_EQ(exchange(anonymous, request).result(), http::status::unauthorized);
}

TEST_F(ProtectedApiTest, WrongPasswordsFromOneClientAreLimitedWith429) {
  asio::io_context io;
  std::optional<Received> limited;
  for (int i = 0; i < kLoginFailureBurst + 1 && !limited; ++i) {
    tcp::socket socket = connect_from(io, server_->port(), "127.0.0.7");
    Received response = exchange(socket, put("wrong"));
    if (response.result() == http::status::too_many_requests) limited = response;
  }
  ASSERT_TRUE(limited) << "no 429 after " << kLoginFailureBurst + 1 << " failures";
  EXPECT_EQ((*limited)[http::field::retry_after], std::to_string(kLoginFailureRefill.count()));
  // The right password from that address waits too; from another one it works.
  tcp::socket same = connect_from(io, server_->port(), "127.0.0.7");
  EXPECT_EQ(exchange(same, put(kPassword)).result(), http::status::too_many_requests);
  tcp::socket other = connect_from(io, server_->port(), "127.0.0.8");
  EXPECT_EQ(exchange(other, put(kPassword)).result(), http::status::ok);
}

TEST_F(ProtectedApiTest, AFloodOfWrongPasswordsDoesNotStallAGoodClient) {
  constexpr int kAttackers = 32;
  constexpr auto kFlood = std::chrono::seconds(10);
  asio::io_context io;
  tcp::socket good = connect_from(io, server_->port());
  ASSERT_EQ(exchange(good, put(kPassword)).result(), http::status::ok);  // logged in once

  std::atomic<bool> stop{false};
  std::mutex mutex;
  std::map<unsigned, int> answers;  // status -> count, over all attackers
  std::vector<std::thread> attackers;
  for (int i = 0; i < kAttackers; ++i) {
    attackers.emplace_back([&, i] {
      asio::io_context attacker_io;
      const std::string source = "127.0.1." + std::to_string(i + 1);
      while (!stop) {
        try {
          tcp::socket socket = connect_from(attacker_io, server_->port(), source);
          const unsigned status = exchange(socket, put("guess-" + std::to_string(i))).result_int();
          std::lock_guard lock(mutex);
          ++answers[status];
        } catch (const std::exception&) {
          // refused or cut off: try again
        }
      }
    });
  }
  const uint64_t runs_before = credentials_->pbkdf2_runs();
  std::vector<double> write_ms, health_ms;
  const auto end = Clock::now() + kFlood;
  while (Clock::now() < end) {
    auto start = Clock::now();
    EXPECT_EQ(exchange(good, put(kPassword)).result(), http::status::ok);
    write_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    start = Clock::now();
    tcp::socket health = connect_from(io, server_->port());
    EXPECT_EQ(exchange(health, Request(http::verb::get, "/healthz", 11)).result(),
              http::status::ok);
    health_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - start).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const uint64_t runs = credentials_->pbkdf2_runs() - runs_before;
  stop = true;
  for (std::thread& attacker : attackers) attacker.join();

  const double worst_write = *std::max_element(write_ms.begin(), write_ms.end());
  const double worst_health = *std::max_element(health_ms.begin(), health_ms.end());
  EXPECT_LT(worst_write, 1000.0) << "the good client's write waited behind the flood";
  EXPECT_LT(worst_health, 1000.0) << "/healthz waited behind the flood";
  EXPECT_GT(answers[401], 0);  // the flood did run password checks
  EXPECT_GT(answers[429] + answers[503], 0);  // and was turned away once over its share
  std::sort(write_ms.begin(), write_ms.end());
  std::printf("flood of %d clients for %llds: %llu PBKDF2 runs (%.1f/s); answers 401=%d 429=%d "
              "503=%d; good writes %zu, p50 %.1f ms, max %.1f ms; /healthz max %.1f ms\n",
              kAttackers, static_cast<long long>(kFlood.count()),
              static_cast<unsigned long long>(runs), runs / static_cast<double>(kFlood.count()),
              answers[401], answers[429], answers[503], write_ms.size(),
              write_ms[write_ms.size() / 2], worst_write, worst_health);
}

}  // namespace
}  // namespace dirfeed::rest
