#pragma once
// UTF-8 as the JSON readers (rest/json, ipsource/fields) need it: validating a sequence and
// encoding a code point (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace dirfeed {

// Length (2 to 4) of the valid multi-byte UTF-8 sequence starting at text[i], or 0 when there
// is none there (an ASCII byte included). `i` < text.size().
size_t utf8_sequence_length(std::string_view text, size_t i);

// Appends `code_point` (at most U+10FFFF) encoded as UTF-8.
void append_utf8(std::string& out, uint32_t code_point);

}  // namespace dirfeed
