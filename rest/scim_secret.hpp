#pragma once
// The bearer secret of a SCIM directory: identity providers send it as
// `Authorization: Bearer <secret>` with every push. Generated when the directory is created
// and shown once, in that answer; only its SHA-256 is stored (pb::Directory::scim_secret_hash),
// so neither the database nor an API key holder can read it back (a secret that can be read
// is a credential to write the directory).
#include <string>
#include <string_view>

#include "rest/http_server.hpp"

namespace dirfeed::rest {

// Random bytes in a new secret (base64url: 43 characters).
inline constexpr size_t kScimSecretBytes = 32;

// A new secret from RAND_bytes; throws std::runtime_error when the RNG fails.
std::string new_scim_secret();

// The 32-byte SHA-256 of a secret, as stored.
std::string scim_secret_hash(std::string_view secret);

// Whether the request's `Authorization: Bearer <secret>` (scheme case-insensitive) hashes to
// `stored_hash`; compared in constant time. False without the header, with another scheme or
// with an empty stored hash.
bool scim_bearer_matches(const Request& request, std::string_view stored_hash);

}  // namespace dirfeed::rest
