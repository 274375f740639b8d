#include "rest/router.hpp"

#include <boost/beast/http/field.hpp>

#include <algorithm>

#include "core/text.hpp"
#include "rest/response.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

const std::string kHttpRequestsMetric = "dirfeed_http_requests_total";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// application/json or application/<anything>+json, parameters (charset) ignored.
bool is_json_media_type(boost::beast::string_view value) {
  const std::string_view text(value.data(), value.size());
  const std::string type = lower(trim(text.substr(0, text.find(';'))));
  return type == "application/json" ||
         (type.starts_with("application/") && type.ends_with("+json"));
}

std::optional<Call::Parameters> parse_query(std::string_view query) {
  Call::Parameters parameters;
  if (query.empty()) return parameters;
  for (std::string_view pair : split(query, '&')) {
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    const std::string_view raw_name = pair.substr(0, equals);
    const std::string_view raw_value =
        equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1);
    std::optional<std::string> name = percent_decode(raw_name, true);
    std::optional<std::string> value = percent_decode(raw_value, true);
    if (!name || !value) return std::nullopt;
    parameters.emplace_back(std::move(*name), std::move(*value));
  }
  return parameters;
}

}  // namespace

const std::string& Call::path_param(std::string_view name) const {
  static const std::string kEmpty;
  for (const auto& [key, value] : path) {
    if (key == name) return value;
  }
  return kEmpty;
}

std::optional<std::string_view> Call::query_param(std::string_view name) const {
  for (const auto& [key, value] : query) {
    if (key == name) return value;
  }
  return std::nullopt;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

Access route_access(const Route& route) {
  if (route.access != Access::kByMethod) return route.access;
  return route.method == http::verb::get || route.method == http::verb::head ? Access::kRead
                                                                              : Access::kWrite;
}

Router::Router(std::vector<Route> routes, AuthCheck auth, Metrics* metrics)
    : routes_(std::move(routes)), auth_(std::move(auth)), metrics_(metrics) {
  for (const Route& route : routes_) {
    std::vector<Segment>& pattern = patterns_.emplace_back();
    const std::vector<std::string_view> segments = split(route.pattern, '/');
    for (size_t i = 0; i < segments.size(); ++i) {
      const std::string_view segment = segments[i];
      const bool is_parameter =
          segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
      if (is_parameter && segment.ends_with("...}") && i + 1 == segments.size()) {
        pattern.push_back({Segment::Kind::kRest, std::string(segment.substr(1, segment.size() - 5))});
      } else if (is_parameter) {
        pattern.push_back(
            {Segment::Kind::kParameter, std::string(segment.substr(1, segment.size() - 2))});
      } else {
        pattern.push_back({Segment::Kind::kLiteral, std::string(segment)});
      }
    }
  }
  if (metrics_ != nullptr) {
    metrics_->describe(kHttpRequestsMetric, Metrics::Type::kCounter,
                       "HTTP requests answered, by route pattern, method and status.");
  }
}

bool Router::match(const std::vector<Segment>& pattern, const std::vector<std::string_view>& have,
                   std::string_view path, RawParameters* parameters) {
  parameters->clear();
  for (size_t i = 0; i < pattern.size(); ++i) {
    const Segment& segment = pattern[i];
    if (i >= have.size()) return false;
    switch (segment.kind) {
      case Segment::Kind::kRest: {
        // The rest of the path, from the start of have[i] to the end.
        const std::string_view rest = path.substr(static_cast<size_t>(have[i].data() - path.data()));
        if (rest.empty()) return false;
        parameters->emplace_back(segment.text, rest);
        return true;
      }
      case Segment::Kind::kParameter:
        if (have[i].empty()) return false;
        parameters->emplace_back(segment.text, have[i]);
        break;
      case Segment::Kind::kLiteral:
        if (segment.text != have[i]) return false;
        break;
    }
  }
  return pattern.size() == have.size();
}

bool has_body(const Request& request) {
  const auto length = request.find(http::field::content_length);
  return request.chunked() ||
         (length != request.end() && length->value().find_first_not_of("0") !=
                                         boost::beast::string_view::npos);
}

Response Router::handle(const Request& request, const ClientAddress& client) const {
  const std::string* route = nullptr;
  Response response = *dispatch(request, client, /*screen_only=*/false, route);
  count(request, route, response);
  return response;
}

std::optional<Response> Router::screen(const Request& header, const ClientAddress& client) const {
  const std::string* route = nullptr;
  std::optional<Response> response = dispatch(header, client, /*screen_only=*/true, route);
  if (response) count(header, route, *response);
  return response;
}

void Router::count(const Request& request, const std::string* route,
                   const Response& response) const {
  if (metrics_ == nullptr) return;
  const auto method = http::to_string(request.method());
  metrics_->add(kHttpRequestsMetric,
                {{"route", route != nullptr ? *route : std::string("unmatched")},
                 {"method", std::string(method.data(), method.size())},
                 {"status", std::to_string(response.result_int())}});
}

void Router::count_rejected(unsigned status) const {
  if (metrics_ == nullptr) return;
  metrics_->add(kHttpRequestsMetric,
                {{"route", "unparsed"}, {"method", ""}, {"status", std::to_string(status)}});
}

std::optional<Response> Router::dispatch(const Request& request, const ClientAddress& client,
                                         bool screen_only, const std::string*& matched) const {
  const std::string_view target(request.target().data(), request.target().size());
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);

  const std::vector<std::string_view> have = split(path, '/');
  RawParameters raw;
  std::vector<http::verb> allowed;
  for (size_t index = 0; index < routes_.size(); ++index) {
    const Route& route = routes_[index];
    if (!match(patterns_[index], have, path, &raw)) continue;
    if (matched == nullptr) matched = &route.pattern;
    if (route.method != request.method()) {
      if (std::find(allowed.begin(), allowed.end(), route.method) == allowed.end()) {
        allowed.push_back(route.method);
      }
      continue;
    }
    matched = &route.pattern;
    const Access access = route_access(route);
    if (auth_) {
      if (std::optional<Response> refused = auth_(request, access, client)) {
        return std::move(*refused);
      }
    }
    if (access != Access::kPublic && access != Access::kRead && has_body(request) &&
        !is_json_media_type(request[http::field::content_type])) {
      // A cross-site form can POST with cached credentials, but not as JSON.
      return error_response(http::status::unsupported_media_type,
                            "the body must be JSON (Content-Type: application/json)");
    }
    if (screen_only) return std::nullopt;
    Call call{request, {}, {}, client};
    for (const auto& [name, value] : raw) {
      std::optional<std::string> decoded = percent_decode(value, false);
      if (!decoded) {
        return error_response(http::status::bad_request,
                              "malformed percent-encoding in the path");
      }
      call.path.emplace_back(std::string(name), std::move(*decoded));
    }
    std::optional<Call::Parameters> parameters = parse_query(query);
    if (!parameters) {
      return error_response(http::status::bad_request, "malformed percent-encoding in the query");
    }
    call.query = std::move(*parameters);
    return route.handler(call);
  }
  if (!allowed.empty()) {
    std::string allow;
    for (http::verb method : allowed) {
      if (!allow.empty()) allow += ", ";
      const auto name = http::to_string(method);
      allow.append(name.data(), name.size());
    }
    Response response = error_response(http::status::method_not_allowed, "method not allowed");
    response.set(http::field::allow, allow);
    return response;
  }
  return error_response(http::status::not_found, "no such resource");
}

}  // namespace dirfeed::rest
