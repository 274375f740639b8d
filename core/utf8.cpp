#include "core/utf8.hpp"

#include "core/text.hpp"

namespace dirfeed {
namespace {

// The four hex digits of a \u escape at text[pos] as a number, moving `pos` past them;
// returns "" or what is wrong.
std::string_view read_hex4(std::string_view text, size_t& pos, uint32_t& out) {
  if (text.size() - pos < 4) return "incomplete \\u escape";
  out = 0;
  for (int i = 0; i < 4; ++i) {
    const int digit = hex_value(text[pos++]);
    if (digit < 0) return "invalid hex digit in a \\u escape";
    out = (out << 4) | static_cast<uint32_t>(digit);
  }
  return "";
}

}  // namespace

size_t utf8_sequence_length(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char lead = byte(i);
  size_t length = 0;
  uint32_t code_point = 0;
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
    code_point = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    code_point = lead & 0x0F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    code_point = lead & 0x07;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  for (size_t k = 1; k < length; ++k) {
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
    code_point = (code_point << 6) | (byte(i + k) & 0x3F);
  }
  const bool overlong = (length == 3 && code_point < 0x800) ||
                        (length == 4 && code_point < 0x10000);
  const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
  if (overlong || surrogate || code_point > 0x10FFFF) return 0;
  return length;
}

void append_utf8(std::string& out, uint32_t code_point) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else if (code_point < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (code_point >> 18)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

std::string_view read_json_escape(std::string_view text, size_t& pos, std::string& out) {
  if (pos >= text.size()) return "unterminated escape";
  const char escaped = text[pos++];
  switch (escaped) {
    case '"': case '\\': case '/': out.push_back(escaped); return "";
    case 'b': out.push_back('\b'); return "";
    case 'f': out.push_back('\f'); return "";
    case 'n': out.push_back('\n'); return "";
    case 'r': out.push_back('\r'); return "";
    case 't': out.push_back('\t'); return "";
    case 'u': break;
    default: return "invalid escape in a string";
  }
  uint32_t code_point = 0;
  if (std::string_view problem = read_hex4(text, pos, code_point); !problem.empty()) {
    return problem;
  }
  if (code_point >= 0xDC00 && code_point <= 0xDFFF) {
    return "unpaired low surrogate in a \\u escape";
  }
  if (code_point >= 0xD800 && code_point <= 0xDBFF) {
    if (text.substr(pos, 2) != "\\u") return "unpaired high surrogate in a \\u escape";
    pos += 2;
    uint32_t low = 0;
    if (std::string_view problem = read_hex4(text, pos, low); !problem.empty()) return problem;
    if (low < 0xDC00 || low > 0xDFFF) return "high surrogate not followed by a low one";
    code_point = 0x10000 + ((code_point - 0xD800) << 10) + (low - 0xDC00);
  }
  append_utf8(out, code_point);
  return "";
}

}  // namespace dirfeed
