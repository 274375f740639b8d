#pragma once
// Secrets (passwords, tokens) come from files, never from the config text or the command line.
#include <string>

#include "core/status.hpp"

namespace dirfeed {

// The content of the file at `path` without its trailing newlines (CR or LF), as `echo` or an
// editor leaves them; kUnavailable ("cannot read password file PATH") when it cannot be read.
Result<std::string> read_secret_file(const std::string& path);

}  // namespace dirfeed
