#pragma once
// Building responses: JSON bodies, and the JSON error bodies every API uses (DESIGN.md 9).
#include <boost/beast/http/status.hpp>

#include <string>
#include <string_view>

#include "rest/http_server.hpp"

namespace dirfeed::rest {

// `body` (a complete JSON document) with Content-Type application/json, HTTP/1.1.
Response json_response(boost::beast::http::status status, std::string body);

// {"error": message} with `status`.
Response error_response(boost::beast::http::status status, std::string_view message);

}  // namespace dirfeed::rest
