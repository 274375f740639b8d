#pragma once
// Secrets (passwords, tokens) come from files, never from the config text or the command line.
#include <optional>
#include <string>

namespace dirfeed {

// The content of the file at `path` without its trailing newlines (CR or LF), as `echo` or an
// editor leaves them; nullopt with `error` set ("cannot read password file PATH") when it
// cannot be read.
std::optional<std::string> read_secret_file(const std::string& path, std::string& error);

}  // namespace dirfeed
