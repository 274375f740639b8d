#include "core/guid.hpp"

#include <array>

#include "core/base64.hpp"
#include "core/text.hpp"

namespace dirfeed {
namespace {

// Byte order of the string form: Data1 (4 bytes LE), Data2 (2 LE), Data3 (2 LE), then 8 as is.
constexpr std::array<int, 16> kStringOrder = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};

std::optional<std::string> guid_from_string_form(std::string_view text) {
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') text = text.substr(1, 36);
  if (text.size() != 36) return std::nullopt;
  std::string ordered;  // the 16 bytes in string-form order
  for (size_t i = 0; i < text.size();) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int high = hex_value(text[i]), low = hex_value(text[i + 1]);
    if (high < 0 || low < 0) return std::nullopt;
    ordered.push_back(static_cast<char>(high * 16 + low));
    i += 2;
  }
  std::string bytes(16, '\0');
  for (size_t i = 0; i < 16; ++i) bytes[kStringOrder[i]] = ordered[i];
  return bytes;
}

}  // namespace

std::string guid_to_string(std::string_view bytes) {
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    append_hex(out, static_cast<unsigned char>(bytes[kStringOrder[i]]));
  }
  return out;
}

std::optional<std::string> guid_from_text(std::string_view text) {
  if (auto bytes = guid_from_string_form(text)) return bytes;
  auto decoded = base64_decode(text);
  if (decoded && decoded->size() == 16) return decoded;
  return std::nullopt;
}

}  // namespace dirfeed
