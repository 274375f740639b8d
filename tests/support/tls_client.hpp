#pragma once
// A TLS client as the HTTPS tests use one: a context trusting one CA file and offering a range
// of TLS versions, and a Beast ssl_stream connected to 127.0.0.1 with its handshake done,
// verifying the certificate for the name "localhost" (as make_self_signed_cert makes it).
// Link OpenSSL::SSL.
#include <openssl/ssl.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <string>

namespace dirfeed::testing {

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// A client context that verifies the server against `ca_file` only (none: an empty
// `ca_file`, so that every server is untrusted) and offers the versions [min_version,
// max_version] (TLS1_2_VERSION and the like). Below TLS 1.2 it lowers OpenSSL's security
// level, which otherwise refuses to offer TLS 1.1 at all, so that the server is the one that
// says no.
inline boost::asio::ssl::context tls_client_context(const std::string& ca_file, int min_version,
                                                    int max_version) {
  namespace ssl = boost::asio::ssl;
  ssl::context context(ssl::context::tls_client);
  if (!ca_file.empty()) context.load_verify_file(ca_file);
  context.set_verify_mode(ssl::verify_peer);
  SSL_CTX_set_min_proto_version(context.native_handle(), min_version);
  SSL_CTX_set_max_proto_version(context.native_handle(), max_version);
  if (max_version < TLS1_2_VERSION) {
    SSL_CTX_set_security_level(context.native_handle(), 0);
    SSL_CTX_set_cipher_list(context.native_handle(), "DEFAULT:@SECLEVEL=0");
  }
  return context;
}

// Connects `stream` to 127.0.0.1:port and handshakes (10 s at the most), sending and verifying
// the name "localhost"; the connect's or the handshake's error (none: connected).
inline boost::system::error_code tls_connect(TlsStream& stream, uint16_t port) {
  namespace ssl = boost::asio::ssl;
  boost::system::error_code error;
  boost::beast::get_lowest_layer(stream).connect({boost::asio::ip::make_address("127.0.0.1"), port},
                                                 error);
  if (error) return error;
  boost::beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(10));
  SSL_set_tlsext_host_name(stream.native_handle(), "localhost");
  stream.set_verify_callback(ssl::host_name_verification("localhost"));
  stream.handshake(ssl::stream_base::client, error);
  return error;
}

}  // namespace dirfeed::testing
