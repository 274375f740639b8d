#include "rest/auth.hpp"

#include <boost/asio/ip/address_v6.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <cctype>

#include "core/base64.hpp"
#include "core/text.hpp"
#include "rest/response.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

// The credentials after `scheme ` in an Authorization value (scheme case-insensitive).
std::optional<std::string_view> after_scheme(std::string_view value, std::string_view scheme) {
  value = trim(value);
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || !iequals(value.substr(0, space), scheme)) {
    return std::nullopt;
  }
  return trim(value.substr(space + 1));
}

}  // namespace

std::optional<std::pair<std::string, std::string>> parse_basic_authorization(
    std::string_view value) {
  std::optional<std::string_view> token = after_scheme(value, "Basic");
  if (!token) return std::nullopt;
  std::optional<std::string> decoded = base64_decode(*token, /*padding_optional=*/true);
  if (!decoded) return std::nullopt;
  const size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

Response unauthorized_response(std::string_view message) {
  Response response = error_response(http::status::unauthorized, message);
  response.set(http::field::www_authenticate, "Basic realm=\"" + std::string(kRealm) + "\"");
  return response;
}

std::string login_client_key(const ClientAddress& client) {
  if (!client.is_v6()) return client.to_string();
  boost::asio::ip::address_v6::bytes_type bytes = client.to_v6().to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

std::optional<Response> check_access(const Request& request, Access access,
                                     const ClientAddress& client, CredentialStore* credentials,
                                     bool anonymous_read) {
  if (access == Access::kPublic || access == Access::kApiKey ||
      (access == Access::kRead && anonymous_read)) {
    return std::nullopt;
  }
  const auto header = request.find(http::field::authorization);
  if (header == request.end()) return unauthorized_response("authentication required");
  const std::string_view value(header->value().data(), header->value().size());
  std::optional<std::pair<std::string, std::string>> basic = parse_basic_authorization(value);
  if (!basic) return unauthorized_response("HTTP Basic authentication required");
  if (credentials == nullptr) return unauthorized_response("wrong user name or password");
  const LoginCheck login =
      credentials->check_password(basic->first, basic->second, login_client_key(client));
  switch (login.result) {
    case LoginResult::kOk:
      return std::nullopt;
    case LoginResult::kWrong:
      return unauthorized_response("wrong user name or password");
    case LoginResult::kLimited:
    case LoginResult::kBusy: {
      const bool limited = login.result == LoginResult::kLimited;
      Response response = error_response(
          limited ? http::status::too_many_requests : http::status::service_unavailable,
          limited ? "too many failed logins from this address; try again later"
                  : "busy checking passwords; try again shortly");
      response.set(http::field::retry_after, std::to_string(login.retry_after.count()));
      return response;
    }
  }
  return unauthorized_response("wrong user name or password");
}

std::optional<std::string> request_api_key(const Request& request) {
  if (auto it = request.find("x-api-key"); it != request.end()) {
    const std::string_view key = trim({it->value().data(), it->value().size()});
    if (!key.empty()) return std::string(key);
  }
  if (auto it = request.find(http::field::authorization); it != request.end()) {
    std::optional<std::string_view> key =
        after_scheme({it->value().data(), it->value().size()}, "Api-Key");
    if (key && !key->empty()) return std::string(*key);
  }
  return std::nullopt;
}

std::optional<KeyEntry> check_request_api_key(const Request& request,
                                              CredentialStore& credentials) {
  std::optional<std::string> key = request_api_key(request);
  if (!key) return std::nullopt;
  return credentials.check_api_key(*key);
}

}  // namespace dirfeed::rest
