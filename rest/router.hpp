#pragma once
// Routing: a table of (method, path pattern, handler function), matched in order.
//
// Patterns are '/'-separated segments: a literal matches itself exactly (no decoding);
// "{name}" matches one non-empty segment; "{name...}", only as the last segment, matches the
// non-empty rest of the path, '/' included (DNs may hold '/'). Parameter values and the query
// string are percent-decoded after matching; in the query, '+' also means a space.
//
// Outcomes: no pattern matches -> 404; a pattern matches but not for this method -> 405 with
// Allow; malformed percent-encoding in a parameter or the query -> 400. All with JSON error
// bodies (DESIGN.md section 9).
//
// Access: every route has an Access class; unless a route says otherwise, GET and HEAD routes
// are kRead and every other method kWrite, so new write routes need credentials without
// anything to remember. Once a route matched (method and path), the router's AuthCheck
// decides; its response (401) is returned instead of calling the handler. Paths no route
// matches stay 404, and wrong methods 405, with or without credentials: routes are
// documented, so nothing is revealed, and a client learns nothing more by authenticating.
//
// Metrics: with a registry, every answer counts in dirfeed_http_requests_total{route,method,
// status}, route being the pattern that matched the path (the first one, for a 405) or
// "unmatched", so the label's values stay bounded whatever clients send; requests the server
// refused before routing count as "unparsed" (count_rejected).
#include <boost/beast/http/verb.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rest/http_server.hpp"
#include "rest/metrics.hpp"

namespace dirfeed::rest {

// A request as a handler sees it.
struct Call {
  using Parameters = std::vector<std::pair<std::string, std::string>>;

  const Request& request;
  Parameters path;   // pattern names (without braces and dots) -> decoded values
  Parameters query;  // decoded names and values, in request order
  ClientAddress client = {};  // where the request came from (unspecified: tests without one)

  // The value of a path parameter ("" when the pattern has none of that name).
  const std::string& path_param(std::string_view name) const;
  // The first value of a query parameter, nullopt when absent.
  std::optional<std::string_view> query_param(std::string_view name) const;
};

using RouteHandler = std::function<Response(const Call&)>;

// Who may call a route (see above). kByMethod: kRead for GET/HEAD, else kWrite. kApiKey:
// the route's API authenticates itself (API keys, check_request_api_key; SCIM bearer secrets,
// rest/scim_secret.hpp) and answers 401 in its own JSON shape, so the router lets the request
// through and the handler checks.
enum class Access { kByMethod, kPublic, kRead, kWrite, kApiKey };

struct Route {
  boost::beast::http::verb method;
  std::string pattern;
  RouteHandler handler;
  Access access = Access::kByMethod;
};

// kPublic, kRead or kWrite for a route (resolves kByMethod).
Access route_access(const Route& route);

// Asked before a matched route's handler runs, with the route's resolved Access and the
// client's address: nullopt lets the request through, a response (401, 429, 503) is sent
// instead. Sees the header only when called by screen().
using AuthCheck =
    std::function<std::optional<Response>(const Request&, Access, const ClientAddress&)>;

// Whether the request announces a body (Content-Length above 0, or chunked).
bool has_body(const Request& request);

// Decodes %XX escapes (and '+' as space when plus_is_space). nullopt when a '%' is not
// followed by two hex digits.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

class Router {
 public:
  // Without an AuthCheck every matched route is called (for tests of routing alone).
  // With `metrics` (which must outlive the router), requests are counted as described above.
  explicit Router(std::vector<Route> routes, AuthCheck auth = {}, Metrics* metrics = nullptr);

  // Dispatches to the first route whose method and pattern match, or answers 404/405/400 as
  // described above; a body on a route that is not kPublic or kRead must be JSON
  // (Content-Type application/json or application/...+json), else 415. Thread-safe (const):
  // handlers must be too when called concurrently.
  Response handle(const Request& request, const ClientAddress& client = {}) const;
  // For HttpServer's Screen: the answer handle() would give before calling a handler (404,
  // 405, 400, the AuthCheck's 401/429/503, 415), decided on the header alone, or nullopt
  // when the request may go on to have its body read. Counted like handle()'s answers.
  std::optional<Response> screen(const Request& header, const ClientAddress& client) const;

  // Counts a request the HTTP server answered before routing (ServerOptions::on_rejected:
  // malformed, too large) under route "unparsed" and an empty method.
  void count_rejected(unsigned status) const;

 private:
  // handle() without the counting; `route` is set to the pattern that matched the path. With
  // screen_only, returns nullopt where handle() would call the handler.
  std::optional<Response> dispatch(const Request& request, const ClientAddress& client,
                                   bool screen_only, const std::string*& route) const;
  void count(const Request& request, const std::string* route, const Response& response) const;

  // A pattern's segment, parsed once (see the patterns above).
  struct Segment {
    enum class Kind { kLiteral, kParameter, kRest };
    Kind kind;
    std::string text;  // the literal, or the parameter's name
  };
  using RawParameters = std::vector<std::pair<std::string_view, std::string_view>>;
  // Whether `path` (split at '/' into `have`) matches `pattern`; its raw parameter values in
  // *parameters (cleared first).
  static bool match(const std::vector<Segment>& pattern, const std::vector<std::string_view>& have,
                    std::string_view path, RawParameters* parameters);

  std::vector<Route> routes_;
  std::vector<std::vector<Segment>> patterns_;  // routes_[i].pattern, parsed
  AuthCheck auth_;
  Metrics* metrics_;
};

}  // namespace dirfeed::rest
