#include "core/secret_file.hpp"

#include "core/file.hpp"

namespace dirfeed {

Result<std::string> read_secret_file(const std::string& path) {
  Result<std::string> content = read_file(path);
  if (!content.is_ok()) {
    return Status::error("cannot read password file " + path, StatusCode::kUnavailable);
  }
  std::string secret = std::move(*content);
  while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
  return secret;
}

}  // namespace dirfeed
