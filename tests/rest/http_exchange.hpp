#pragma once
// Test support for server-level tests: one request written to a connected socket and its
// response read back, as a client sees it.
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include "rest/http_server.hpp"

namespace dirfeed::rest::testing {

// A response as the client reads it.
using Received = boost::beast::http::response<boost::beast::http::string_body>;

// Sends `request` (Host set, Content-Length or chunking prepared) and reads one response.
// Throws boost::system::system_error when the connection fails.
inline Received exchange(boost::asio::ip::tcp::socket& socket, Request request) {
  namespace http = boost::beast::http;
  request.set(http::field::host, "localhost");
  request.prepare_payload();
  http::write(socket, request);
  boost::beast::flat_buffer buffer;
  Received response;
  http::read(socket, buffer, response);
  return response;
}

}  // namespace dirfeed::rest::testing
