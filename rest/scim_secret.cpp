#include "rest/scim_secret.hpp"

#include <openssl/sha.h>

#include "core/base64.hpp"
#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/credentials.hpp"

namespace dirfeed::rest {

std::string new_scim_secret() { return base64_encode(random_bytes(kScimSecretBytes), /*url=*/true); }

std::string scim_secret_hash(std::string_view secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

bool scim_bearer_matches(const Request& request, std::string_view stored_hash) {
  if (stored_hash.empty()) return false;
  const auto header = request.find(boost::beast::http::field::authorization);
  if (header == request.end()) return false;
  const std::string_view value = trim({header->value().data(), header->value().size()});
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size() || !iequals(value.substr(0, kScheme.size()), kScheme)) {
    return false;
  }
  const std::string_view secret = trim(value.substr(kScheme.size()));
  return constant_time_equal(scim_secret_hash(secret), stored_hash);
}

}  // namespace dirfeed::rest
