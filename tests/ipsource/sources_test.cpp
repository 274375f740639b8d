// IP sources over real sockets: TCP (octet counting and LF, split across writes), UDP, TLS
// with and without a client certificate, allowed_senders, order per connection with two
// connections at once, and that stop() writes what was queued.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "ipsource/sources.hpp"
#include "tests/ipsource/ipsource_fixture.hpp"
#include "tests/support/self_signed_cert.hpp"

namespace dirfeed::ipsource {
namespace {

namespace asio = boost::asio;
using Strings = std::vector<std::string>;
constexpr int64_t kHour = 3'600'000'000;

SourceOptions source(const std::string& name, Transport transport) {
  SourceOptions options;
  options.name = name;
  options.transport = transport;
  options.host = "127.0.0.1";
  options.format = Format::kRegex;
  options.regex = R"(login (?<user>\S+) from (?<ip>\S+))";
  return options;
}

uint16_t port_of(const SourceStatus& status) {
  return static_cast<uint16_t>(std::stoi(status.listen.substr(status.listen.rfind(':') + 1)));
}

class SourcesTest : public testing::IpSourceStoreTest {
 protected:
  bool wait_for(const std::string& user, const Strings& expected) {
    for (int i = 0; i < 500; ++i) {
      if (ips(user) == expected) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

  std::unique_ptr<IpSources> start(std::vector<SourceOptions> options) {
    auto sources = std::make_unique<IpSources>(std::move(options), kHour, *store_,
                                               std::vector<DomainName>{{"example.test", ""}});
    EXPECT_TRUE(sources->start());
    return sources;
  }
};

TEST_F(SourcesTest, TcpOctetCountingAndLfSplitAcrossWrites) {
  auto sources = start({source("tcp", Transport::kTcp)});
  const uint16_t port = port_of(sources->status()[0]);
  EXPECT_EQ(sources->status()[0].listen, "tcp://127.0.0.1:" + std::to_string(port));
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  const std::string one = "<13>1 2024-05-02T10:15:32Z host app - - - login alice from 10.0.0.1";
  const std::string stream = std::to_string(one.size()) + " " + one +
                             "<13>May  2 10:15:32 host app: login bob from 10.0.0.2\n";
  for (size_t i = 0; i < stream.size(); i += 7) {
    asio::write(socket, asio::buffer(stream.substr(i, 7)));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  EXPECT_TRUE(wait_for("alice", {"10.0.0.1"}));
  EXPECT_TRUE(wait_for("bob", {"10.0.0.2"}));
  const SourceStatus status = sources->status()[0];
  EXPECT_EQ(status.received, 2u);
  EXPECT_EQ(status.parsed, 2u);
  EXPECT_EQ(status.mapped, 2u);
}

TEST_F(SourcesTest, UdpDatagramsAndAllowedSenders) {
  SourceOptions open = source("udp", Transport::kUdp);
  SourceOptions closed = source("closed", Transport::kUdp);
  closed.allowed_senders = {*parse_network("10.0.0.0/8")};
  auto sources = start({open, closed});
  asio::io_context io;
  asio::ip::udp::socket socket(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const auto to = [&](size_t i) {
    return asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"),
                                   port_of(sources->status()[i]));
  };
  socket.send_to(asio::buffer(std::string("<13>May  2 10:15:32 h a: login alice from 10.0.0.7\n")),
                 to(0));
  socket.send_to(asio::buffer(std::string("login bob from 10.0.0.8")), to(1));
  EXPECT_TRUE(wait_for("alice", {"10.0.0.7"}));
  for (int i = 0; i < 100 && sources->status()[1].dropped == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(sources->status()[1].dropped, 1u) << "127.0.0.1 is not an allowed sender";
  EXPECT_EQ(sources->status()[1].received, 0u);
  EXPECT_EQ(ips("bob"), Strings{});
}

TEST_F(SourcesTest, UdpAccountsForEveryDatagramTheKernelDropsToo) {
  auto sources = start({source("udp", Transport::kUdp)});
  asio::io_context io;
  asio::ip::udp::socket socket(io, asio::ip::udp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"),
                                   port_of(sources->status()[0]));
  // Faster than a regex over 8 KiB can be run: the socket's buffer fills and the kernel
  // drops datagrams, which the next read reports (the last one is sent after a pause).
  constexpr int kBurst = 5000;
  const std::string padding(8000, 'x');
  for (int i = 0; i < kBurst; ++i) {
    socket.send_to(asio::buffer("login alice from 10.3.0." + std::to_string(i % 250 + 1) + " " +
                                padding),
                   to);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  socket.send_to(asio::buffer(std::string("login bob from 10.3.1.1")), to);
  SourceStatus status;
  for (int i = 0; i < 1000; ++i) {
    status = sources->status()[0];
    if (status.received + status.dropped >= kBurst + 1 && ips("bob") == Strings{"10.3.1.1"}) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(status.received + status.dropped, kBurst + 1u)
      << "received " << status.received << ", dropped " << status.dropped;
  EXPECT_EQ(status.mapped, status.received) << "the queue dropped none of what was received";
  std::cerr << "[udp] " << status.dropped << " of " << kBurst + 1
            << " datagrams dropped by the kernel\n";
}

TEST_F(SourcesTest, TcpRefusesSendersNotAllowed) {
  SourceOptions options = source("tcp", Transport::kTcp);
  options.allowed_senders = {*parse_network("::1")};
  auto sources = start({options});
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port_of(sources->status()[0])});
  boost::system::error_code error;
  asio::write(socket, asio::buffer(std::string("login alice from 10.0.0.1\n")), error);
  char byte;
  socket.read_some(asio::buffer(&byte, 1), error);
  EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error.message();
  EXPECT_EQ(sources->status()[0].dropped, 1u);
  EXPECT_EQ(ips("alice"), Strings{});
}

TEST_F(SourcesTest, TlsWithAndWithoutClientCertificate) {
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(temp_.path());
  SourceOptions plain = source("tls", Transport::kTls);
  plain.tls = {cert.cert_file, cert.key_file, ""};
  SourceOptions mutual = source("mtls", Transport::kTls);
  mutual.tls = {cert.cert_file, cert.key_file, cert.cert_file};
  auto sources = start({plain, mutual});

  auto send = [&](size_t index, bool with_certificate, const std::string& text) {
    asio::io_context io;
    asio::ssl::context context(asio::ssl::context::tls_client);
    // TLS 1.2: a refused client certificate fails the handshake itself, and nothing is left
    // unread when the client closes (TLS 1.3 sends tickets after it).
    SSL_CTX_set_max_proto_version(context.native_handle(), TLS1_2_VERSION);
    context.load_verify_file(cert.cert_file);
    context.set_verify_mode(asio::ssl::verify_peer);
    if (with_certificate) {
      context.use_certificate_chain_file(cert.cert_file);
      context.use_private_key_file(cert.key_file, asio::ssl::context::pem);
    }
    asio::ssl::stream<asio::ip::tcp::socket> stream(io, context);
    stream.lowest_layer().connect(
        {asio::ip::make_address("127.0.0.1"), port_of(sources->status()[index])});
    boost::system::error_code error;
    stream.handshake(asio::ssl::stream_base::client, error);
    if (!error) asio::write(stream, asio::buffer(text), error);
    return error;
  };
  EXPECT_FALSE(send(0, false, "login alice from 10.0.0.1\n"));
  EXPECT_TRUE(wait_for("alice", {"10.0.0.1"}));
  EXPECT_TRUE(send(1, false, "login bob from 10.0.0.2\n")) << "no client certificate";
  EXPECT_FALSE(send(1, true, "login bob from 10.0.0.3\n"));
  EXPECT_TRUE(wait_for("bob", {"10.0.0.3"})) << "only the client with a certificate got through";
}

TEST_F(SourcesTest, EachConnectionKeepsItsOrderWhileConnectionsRunInParallel) {
  auto sources = start({source("tcp", Transport::kTcp)});
  const uint16_t port = port_of(sources->status()[0]);
  // Two senders at once, each moving one address between alice and bob 500 times: the last
  // logon of each wins, whichever receiving thread parsed it.
  auto send = [&](const std::string& ip, const std::string& last) {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});
    const std::string first = last == "alice" ? "bob" : "alice";
    std::string burst;
    for (int i = 0; i < 250; ++i) {
      burst += "login " + first + " from " + ip + "\nlogin " + last + " from " + ip + "\n";
    }
    asio::write(socket, asio::buffer(burst));
  };
  std::thread one([&] { send("10.2.0.1", "bob"); });
  std::thread two([&] { send("10.2.0.2", "alice"); });
  one.join();
  two.join();
  for (int i = 0; i < 500 && sources->status()[0].mapped < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(sources->status()[0].mapped, 1000u);
  EXPECT_EQ(ips("alice"), Strings{"10.2.0.2"});
  EXPECT_EQ(ips("bob"), Strings{"10.2.0.1"});
}

TEST_F(SourcesTest, StopWritesWhatIsQueued) {
  auto sources = start({source("tcp", Transport::kTcp)});
  {
    asio::io_context io;
    asio::ip::tcp::socket socket(io);
    socket.connect({asio::ip::make_address("127.0.0.1"), port_of(sources->status()[0])});
    std::string burst;
    for (int i = 1; i <= 200; ++i) burst += "login alice from 10.1.0." + std::to_string(i) + "\n";
    asio::write(socket, asio::buffer(burst));
  }
  for (int i = 0; i < 500 && sources->status()[0].received < 200; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  sources->stop();
  EXPECT_EQ(ips("alice").size(), 200u);
  EXPECT_EQ(sources->status()[0].mapped, 200u);
}

}  // namespace
}  // namespace dirfeed::ipsource
