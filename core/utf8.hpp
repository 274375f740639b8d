#pragma once
// UTF-8 as the JSON readers (rest/json, ipsource/fields) need it: validating a sequence,
// encoding a code point (RFC 3629: no overlong forms, no surrogates, at most U+10FFFF), and
// reading a string's escapes (RFC 8259 section 7).
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

// Reads the escape after a '\\' of a JSON string, text[pos] being the character after the
// backslash: appends what it stands for, as UTF-8, to `out` and moves `pos` past it. A \\u
// high surrogate must be followed by a \\u low one (the pair is one code point); a lone
// surrogate is an error. Returns "" or what is wrong (then `pos` and `out` are unspecified).
std::string_view read_json_escape(std::string_view text, size_t& pos, std::string& out);

}  // namespace dirfeed
