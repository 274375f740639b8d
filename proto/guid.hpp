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

// Standard base64 with padding; `url`: the base64url alphabet without padding.
std::string base64_encode(std::string_view bytes, bool url = false);
// Standard base64, nullopt on malformed input. Padding is required unless
// `padding_optional`, which accepts text with no '=' at all (as HTTP clients send); '=' in
// the wrong place or number is malformed either way.
std::optional<std::string> base64_decode(std::string_view text, bool padding_optional = false);

}  // namespace dirfeed
