// The HTTP server with ServerOptions::tls: a self-signed certificate made at test time,
// 127.0.0.1 port 0, Beast ssl clients. TLS 1.2 and 1.3 served with the certificate verified;
// TLS 1.1, plain HTTP and untrusting clients fail without harming the server; bad files fail
// start-up naming the file.
#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <atomic>
#include <string>
#include <thread>

#include "rest/http_server.hpp"
#include "rest/response.hpp"
#include "tests/rest/running_server.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tls_client.hpp"

namespace dirfeed::rest {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Received = http::response<http::string_body>;  // as the client reads it
using dirfeed::testing::CertFiles;
using dirfeed::testing::TempDir;
using dirfeed::testing::tls_client_context;
using dirfeed::testing::tls_connect;
using dirfeed::testing::TlsStream;
using testing::RunningServer;

class HttpsServerTest : public ::testing::Test {
 protected:
  HttpsServerTest() : cert_(dirfeed::testing::make_self_signed_cert(dir_.path())) {
    ServerOptions options;
    options.tls = TlsFiles{cert_.cert_file, cert_.key_file};
    options.handshake_timeout = std::chrono::seconds(5);
    server_ = std::make_unique<RunningServer>(options, [this](const Request& request,
                                                              const ClientAddress&) {
      ++handled_;
      return json_response(http::status::ok,
                           "{\"target\":\"" + std::string(request.target()) + "\"}");
    });
  }

  // A client context trusting the test certificate (or nothing), limited to [min, max]
  // versions (tls_client_context).
  ssl::context client_context(int min_version, int max_version, bool trust = true) {
    return tls_client_context(trust ? cert_.cert_file : "", min_version, max_version);
  }

  // Connects to the server and handshakes (tls_connect); the handshake's error.
  beast::error_code handshake(TlsStream& stream) { return tls_connect(stream, server_->port()); }

  Received get(TlsStream& stream, const std::string& target) {
    Request request(http::verb::get, target, 11);
    request.set(http::field::host, "localhost");
    http::write(stream, request);
    beast::flat_buffer buffer;
    Received response;
    http::read(stream, buffer, response);
    return response;
  }

  // A good TLS 1.3 client still gets its answer.
  void expect_still_serving() {
    ssl::context context = client_context(TLS1_2_VERSION, TLS1_3_VERSION);
    TlsStream stream(client_io_, context);
    ASSERT_FALSE(handshake(stream));
    EXPECT_EQ(get(stream, "/still").body(), R"({"target":"/still"})");
  }

  TempDir dir_;
  CertFiles cert_;
  asio::io_context client_io_;
  std::atomic<int> handled_{0};
  std::unique_ptr<RunningServer> server_;
};

TEST_F(HttpsServerTest, ServesTls12And13WithTheCertificateVerified) {
  for (auto [version, name] : {std::pair{TLS1_2_VERSION, "TLSv1.2"},
                               std::pair{TLS1_3_VERSION, "TLSv1.3"}}) {
    ssl::context context = client_context(version, version);
    TlsStream stream(client_io_, context);
    beast::error_code error = handshake(stream);
    ASSERT_FALSE(error) << name << ": " << error.message();
    EXPECT_STREQ(SSL_get_version(stream.native_handle()), name);
    // Keep-alive: two requests on the connection.
    for (const char* target : {"/one", "/two"}) {
      Received response = get(stream, target);
      EXPECT_EQ(response.result(), http::status::ok) << name;
      EXPECT_EQ(response.body(), std::string("{\"target\":\"") + target + "\"}") << name;
    }
    stream.shutdown(error);  // close_notify both ways
    EXPECT_TRUE(!error || error == ssl::error::stream_truncated) << name << ": " << error.message();
  }
  EXPECT_EQ(handled_, 4);
}

TEST_F(HttpsServerTest, Tls11ClientFailsTheHandshake) {
  // The client offers TLS 1.1 (tls_client_context lowers OpenSSL 3's security level for it),
  // so the server is the one that says no.
  ssl::context context = client_context(TLS1_VERSION, TLS1_1_VERSION);
  TlsStream stream(client_io_, context);
  EXPECT_TRUE(handshake(stream));
  EXPECT_EQ(handled_, 0);
  expect_still_serving();
}

TEST_F(HttpsServerTest, ClientNotTrustingTheCertificateFails) {
  ssl::context context = client_context(TLS1_2_VERSION, TLS1_3_VERSION, /*trust=*/false);
  TlsStream stream(client_io_, context);
  EXPECT_TRUE(handshake(stream));
  expect_still_serving();
}

TEST_F(HttpsServerTest, PlainHttpGetsNoHttpResponse) {
  tcp::socket socket(client_io_);
  socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  asio::write(socket, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: a\r\n\r\n")));
  beast::flat_buffer buffer;
  Received response;
  beast::error_code error;
  http::read(socket, buffer, response, error);
  EXPECT_TRUE(error) << "got an HTTP response: " << response.result_int();
  // The server closed the connection (after its TLS alert, if any).
  std::string rest(64, '\0');
  for (int i = 0; i < 10 && !error; ++i) socket.read_some(asio::buffer(rest), error);
  EXPECT_TRUE(error);
  EXPECT_EQ(handled_, 0);
  expect_still_serving();
}

TEST_F(HttpsServerTest, SilentClientDoesNotBlockOthers) {
  tcp::socket idle(client_io_);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server_->port()));
  expect_still_serving();
}

TEST(HttpsTimeoutTest, SilentClientIsDroppedAfterTheHandshakeTimeout) {
  TempDir dir;
  const CertFiles cert = dirfeed::testing::make_self_signed_cert(dir.path());
  asio::io_context io;
  ServerOptions options;
  options.tls = TlsFiles{cert.cert_file, cert.key_file};
  options.handshake_timeout = std::chrono::seconds(1);
  HttpServer server(io, options, [](const Request&, const ClientAddress&) { return Response(); });
  server.start();
  std::thread thread([&] { io.run_for(std::chrono::seconds(5)); });
  asio::io_context client_io;
  tcp::socket idle(client_io);
  idle.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.port()));
  const auto start = std::chrono::steady_clock::now();
  char byte;
  beast::error_code error;
  asio::read(idle, asio::buffer(&byte, 1), error);  // the server closes it
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(error == asio::error::eof || error == asio::error::connection_reset) << error;
  EXPECT_LT(waited, std::chrono::seconds(4));
  asio::post(io, [&] { server.stop(); });
  thread.join();
}

// Start-up with bad files ------------------------------------------------------------------

std::string start_up_error(const TlsFiles& files) {
  asio::io_context io;
  ServerOptions options;
  options.tls = files;
  try {
    HttpServer server(io, options, [](const Request&, const ClientAddress&) { return Response(); });
  } catch (const TlsSetupError& e) {
    return e.what();
  }
  return "";
}

TEST(HttpsStartUpTest, BadCertificateOrKeyFailsNamingTheFile) {
  TempDir dir;
  const CertFiles good = dirfeed::testing::make_self_signed_cert(dir.path(), "good");
  const CertFiles other = dirfeed::testing::make_self_signed_cert(dir.path(), "other");
  const std::string garbage = dir.write("garbage.pem", "not a PEM file\n");
  const std::string missing = dir.path() + "/missing.pem";

  std::string error = start_up_error({missing, good.key_file});
  EXPECT_NE(error.find("certificate chain " + missing), std::string::npos) << error;
  error = start_up_error({garbage, good.key_file});
  EXPECT_NE(error.find("certificate chain " + garbage), std::string::npos) << error;
  error = start_up_error({good.cert_file, missing});
  EXPECT_NE(error.find("private key " + missing), std::string::npos) << error;
  error = start_up_error({good.cert_file, garbage});
  EXPECT_NE(error.find("private key " + garbage), std::string::npos) << error;
  error = start_up_error({good.cert_file, other.key_file});
  EXPECT_NE(error.find("private key " + other.key_file + " does not match the certificate " +
                       good.cert_file),
            std::string::npos)
      << error;
  EXPECT_EQ(start_up_error({good.cert_file, good.key_file}), "");
}

}  // namespace
}  // namespace dirfeed::rest
