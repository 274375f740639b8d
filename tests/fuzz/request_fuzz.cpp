// libFuzzer target: arbitrary bytes as an HTTP/1.1 request stream, parsed by Beast's
// request_parser with the server's limits (rest/http_server.hpp ServerOptions: 16 KiB of
// header, 1 MiB of body), then every complete request is dispatched by a Router with the real
// route patterns of rest/api.cpp (handlers that only echo what they were given, and parse a
// PUT/POST body with parse_json), with and without the authentication check of rest/auth.hpp.
// Checks: nothing throws, and the outcome is one the router documents (200 from a handler,
// 400, 401, 404, or 405 with an Allow header). Built and run by tests/fuzz/run.sh.
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/asio/buffer.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/auth.hpp"
#include "rest/http_server.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/router.hpp"

namespace {

namespace http = boost::beast::http;
using dirfeed::rest::Access;
using dirfeed::rest::Call;
using dirfeed::rest::ClientAddress;
using dirfeed::rest::JsonWriter;
using dirfeed::rest::Request;
using dirfeed::rest::Response;
using dirfeed::rest::Route;
using dirfeed::rest::Router;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "request_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

const dirfeed::rest::ServerOptions kServer;

// Echoes the decoded parameters; for bodies, whether they parse as JSON.
Response echo(const Call& call) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("path");
  json.begin_object();
  for (const auto& [name, value] : call.path) json.member(name, value);
  json.end_object();
  json.key("query");
  json.begin_array();
  for (const auto& [name, value] : call.query) {
    json.begin_array();
    json.string(name);
    json.string(value);
    json.end_array();
  }
  json.end_array();
  if (call.request.method() == http::verb::post || call.request.method() == http::verb::put) {
    std::string error;
    json.key("body_parses");
    json.boolean(dirfeed::rest::parse_json(call.request.body(), &error).has_value());
  }
  (void)call.query_param("ip_only");
  (void)call.path_param("guid");
  json.end_object();
  // The echo must itself be valid JSON (the writer escapes whatever the decoding produced).
  std::string error;
  if (!dirfeed::rest::parse_json(body, &error)) fail("handler wrote invalid JSON", error + ": " + body);
  return dirfeed::rest::json_response(http::status::ok, std::move(body));
}

std::vector<Route> routes() {
  using http::verb;
  const std::string uid = "/api/uid/v1.0";
  return {
      {verb::get, "/healthz", echo, Access::kPublic},
      {verb::get, "/readyz", echo, Access::kPublic},
      {verb::get, uid + "/domains", echo},
      {verb::get, uid + "/users", echo},
      {verb::get, uid + "/user/dn/{dn...}", echo},
      {verb::get, uid + "/user/ntlm-identity/{identity...}", echo},
      {verb::get, uid + "/user/{guid}", echo},
      {verb::get, uid + "/groups", echo},
      {verb::get, uid + "/status", echo},
      {verb::post, uid + "/user", echo},
      {verb::post, uid + "/user/ntlm-identity/{identity...}", echo},
      {verb::post, uid + "/user/{guid}", echo},
      {verb::put, uid + "/user/ntlm-identity/{identity...}", echo},
      {verb::put, uid + "/user/{guid}", echo},
      {verb::delete_, uid + "/user/{guid}", echo},
  };
}

const Router& open_router() {
  static const Router router(routes());
  return router;
}

// No users (CredentialStore nullptr): every protected route is 401 after the header is read.
const Router& guarded_router() {
  static const Router router(routes(), [](const Request& request, Access access,
                                          const ClientAddress& client) {
    return dirfeed::rest::check_access(request, access, client, nullptr,
                                       /*anonymous_read=*/false);
  });
  return router;
}

void check(const Response& response, bool guarded) {
  switch (response.result()) {
    case http::status::ok:
    case http::status::bad_request:
    case http::status::not_found:
      break;
    case http::status::unauthorized:
      if (!guarded) fail("401 without an AuthCheck", std::string(response.body()));
      if (response[http::field::www_authenticate].empty()) fail("401 without WWW-Authenticate", "");
      break;
    case http::status::method_not_allowed:
      if (response[http::field::allow].empty()) fail("405 without Allow", "");
      break;
    case http::status::unsupported_media_type:  // a write body that is not JSON
      break;
    default:
      fail("unexpected status", std::to_string(response.result_int()));
  }
  std::string error;
  if (!dirfeed::rest::parse_json(response.body(), &error)) fail("response body is not JSON", error);
}

void route(const Request& request) {
  try {
    for (const Router* router : {&open_router(), &guarded_router()}) {
      const Response response = router->handle(request);
      check(response, router == &guarded_router());
      // The server's screen (header only) refuses exactly as handle() would before routing on.
      if (std::optional<Response> refused = router->screen(request, {})) {
        if (refused->result() != response.result()) {
          fail("screen and handle disagree", std::to_string(refused->result_int()) + " vs " +
                                                 std::to_string(response.result_int()));
        }
      }
    }
    // Header parsing the auth code does on its own.
    const auto authorization = request[http::field::authorization];
    (void)dirfeed::rest::parse_basic_authorization(
        std::string_view(authorization.data(), authorization.size()));
    (void)dirfeed::rest::request_api_key(request);
  } catch (const std::exception& e) {
    fail("exception escaped the router", e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  // The first byte picks how many bytes each "read" from the socket adds (1-256), so requests
  // also arrive split at odd places, as over TCP; the rest is the byte stream.
  const size_t step = size_t{data[0]} + 1;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Like the server's session (http::async_read into a flat_buffer): the parser sees the
  // unconsumed bytes read so far; on need_more, one more read appends `step` bytes. Requests
  // follow each other (keep-alive) until the bytes run out or one is malformed (the server
  // answers 400/413/431 then and closes).
  while (!input.empty()) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(kServer.header_limit));
    parser.body_limit(kServer.body_limit);
    boost::beast::error_code error;
    size_t used = 0;                                  // consumed by the parser
    size_t available = std::min(step, input.size());  // read from the "socket"
    while (!parser.is_done()) {
      if (used == available) {  // like Beast's read_some: never put() an empty buffer
        if (available == input.size()) {
          error = http::error::need_more;
          break;
        }
        available = std::min(available + step, input.size());
      }
      const size_t n =
          parser.put(boost::asio::buffer(input.data() + used, available - used), error);
      used += n;
      if (error == http::error::need_more) {
        if (available == input.size()) break;  // the peer sent nothing more
        error = {};
        available = std::min(available + step, input.size());
        continue;
      }
      if (error) break;
    }
    if (error == http::error::need_more) {
      error = {};
      parser.put_eof(error);  // the peer closed: only a message that may end at EOF completes
    }
    if (error || !parser.is_done()) return 0;
    if (used == 0) fail("a request parsed from no bytes", "");
    route(parser.get());
    input.remove_prefix(used);
  }
  return 0;
}
