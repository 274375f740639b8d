#pragma once
// objectGUID text forms, shared by every module that names objects (DESIGN.md section 4).
#include <optional>
#include <string>
#include <string_view>

namespace dirfeed {

// The 16 wire bytes of an objectGUID as AD's string form: the first three fields are
// little-endian, so bytes d1 07 3b 28 ... give "283b07d1-...". Precondition: 16 bytes.
std::string guid_to_string(std::string_view bytes);

// Parses either the string form (case-insensitive, optional braces) or base64 of the 16
// bytes (as in "0CjIDqJm10aFwiTUc0094w=="); returns the 16 wire bytes, or nullopt.
std::optional<std::string> guid_from_text(std::string_view text);

}  // namespace dirfeed
