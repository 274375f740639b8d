#include "rest/response.hpp"

#include <boost/beast/http/field.hpp>

#include <utility>

#include "rest/json.hpp"

namespace dirfeed::rest {

namespace http = boost::beast::http;

Response json_response(http::status status, std::string body) {
  Response response(status, 11);
  response.set(http::field::content_type, "application/json");
  response.body() = std::move(body);
  return response;
}

Response error_response(http::status status, std::string_view message) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.member("error", message);
  json.end_object();
  return json_response(status, std::move(body));
}

}  // namespace dirfeed::rest
