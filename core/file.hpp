#pragma once
// Reading a whole file, the one way: config files, credential files, CA files, secrets.
#include <string>

#include "core/status.hpp"

namespace dirfeed {

// The bytes of the file at `path`. kNotFound when it does not exist, kUnavailable when it
// cannot be read; the message is "cannot read PATH: REASON" (strerror's text).
Result<std::string> read_file(const std::string& path);

}  // namespace dirfeed
