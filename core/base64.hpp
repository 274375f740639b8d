#pragma once
// Base64 (RFC 4648): API keys, GUIDs in requests, webhook signatures.
#include <optional>
#include <string>
#include <string_view>

namespace dirfeed {

// Standard base64 with padding; `url`: the base64url alphabet without padding.
std::string base64_encode(std::string_view bytes, bool url = false);
// Standard base64, nullopt on malformed input. Padding is required unless
// `padding_optional`, which accepts text with no '=' at all (as HTTP clients send); '=' in
// the wrong place or number is malformed either way.
std::optional<std::string> base64_decode(std::string_view text, bool padding_optional = false);

}  // namespace dirfeed
