#pragma once
// Request authentication (DESIGN.md sections 8-9): HTTP Basic against the users file for the
// routes that need it, and API keys (`x-api-key: KEY` or `Authorization: Api-Key KEY`) against
// the keys file for the APIs that use them.
//
// Rule (applied by the Router to every matched route, see rest/router.hpp): kPublic routes
// (/healthz, /readyz) never need credentials; kWrite routes (POST, PUT, DELETE, ...) always
// need valid Basic credentials; kRead routes (GET) need them only when api.anonymous_read is
// false; kApiKey routes are left to their handler, which checks the API key. Missing or wrong
// credentials: 401 with `WWW-Authenticate: Basic realm="dirfeed"` and
// a JSON error body. Without a CredentialStore there are no users: protected routes are 401.
// Failed logins are limited per client and password hashing is bounded (CredentialStore).
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "rest/credentials.hpp"
#include "rest/http_server.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

inline constexpr std::string_view kRealm = "dirfeed";

// The user and password of an `Authorization: Basic ...` value; nullopt when it is not one
// (other scheme, bad base64, no ':').
std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view value);

// 401 {"error": message} with WWW-Authenticate: Basic realm="dirfeed".
Response unauthorized_response(std::string_view message);

// nullopt when the request from `client` may proceed to a route of class `access`, else the
// response: 401 (no or wrong credentials), 429 with Retry-After (too many failed logins from
// this client), 503 with Retry-After (every password-hashing slot busy).
std::optional<Response> check_access(const Request& request, Access access,
                                     const ClientAddress& client, CredentialStore* credentials,
                                     bool anonymous_read);

// The key under which failed logins of `client` are counted: the address, IPv6 by its /64
// (one host usually holds a whole /64).
std::string login_client_key(const ClientAddress& client);

// The API key a request carries: the `x-api-key` header, else `Authorization: Api-Key KEY`.
std::optional<std::string> request_api_key(const Request& request);
// The entry (name, scope, tenants, products) of the valid key the request carries, nullopt
// when none or unknown.
std::optional<KeyEntry> check_request_api_key(const Request& request,
                                              CredentialStore& credentials);

}  // namespace dirfeed::rest
