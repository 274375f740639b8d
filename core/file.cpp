#include "core/file.hpp"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace dirfeed {

Result<std::string> read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    const int error = errno;
    return Status::error("cannot read " + path + ": " + std::strerror(error),
                         error == ENOENT ? StatusCode::kNotFound : StatusCode::kUnavailable);
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Status::error("cannot read " + path + ": I/O error", StatusCode::kUnavailable);
  }
  return content.str();
}

}  // namespace dirfeed
