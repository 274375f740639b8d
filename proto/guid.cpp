#include "proto/guid.hpp"

#include <array>
#include <cctype>

namespace dirfeed {
namespace {

// Byte order of the string form: Data1 (4 bytes LE), Data2 (2 LE), Data3 (2 LE), then 8 as is.
constexpr std::array<int, 16> kStringOrder = {3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
constexpr char kHex[] = "0123456789abcdef";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

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
    auto byte = static_cast<unsigned char>(bytes[kStringOrder[i]]);
    out.push_back(kHex[byte >> 4]);
    out.push_back(kHex[byte & 0xf]);
  }
  return out;
}

std::optional<std::string> guid_from_text(std::string_view text) {
  if (auto bytes = guid_from_string_form(text)) return bytes;
  auto decoded = base64_decode(text);
  if (decoded && decoded->size() == 16) return decoded;
  return std::nullopt;
}

std::string base64_encode(std::string_view bytes, bool url) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t n = (static_cast<unsigned char>(bytes[i]) << 16) |
                 (static_cast<unsigned char>(bytes[i + 1]) << 8) |
                 static_cast<unsigned char>(bytes[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kBase64[(n >> shift) & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest > 0) {
    uint32_t n = static_cast<unsigned char>(bytes[i]) << 16;
    if (rest == 2) n |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    out.push_back(kBase64[(n >> 18) & 63]);
    out.push_back(kBase64[(n >> 12) & 63]);
    out.push_back(rest == 2 ? kBase64[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  if (url) {
    while (!out.empty() && out.back() == '=') out.pop_back();
    for (char& c : out) {
      if (c == '+') c = '-';
      if (c == '/') c = '_';
    }
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool padding_optional) {
  if (padding_optional && text.size() % 4 != 0 && text.find('=') == std::string_view::npos) {
    if (text.size() % 4 == 1) return std::nullopt;
    std::string padded(text);
    padded.append(4 - text.size() % 4, '=');
    return base64_decode(padded);
  }
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t n = 0;
    int padding = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      int value;
      if (c == '=' && i + 4 == text.size() && j >= 2) {
        value = 0;
        ++padding;
      } else if (padding > 0) {
        return std::nullopt;  // data after padding
      } else if (c >= 'A' && c <= 'Z') {
        value = c - 'A';
      } else if (c >= 'a' && c <= 'z') {
        value = c - 'a' + 26;
      } else if (c >= '0' && c <= '9') {
        value = c - '0' + 52;
      } else if (c == '+') {
        value = 62;
      } else if (c == '/') {
        value = 63;
      } else {
        return std::nullopt;
      }
      n = (n << 6) | static_cast<uint32_t>(value);
    }
    out.push_back(static_cast<char>((n >> 16) & 0xff));
    if (padding < 2) out.push_back(static_cast<char>((n >> 8) & 0xff));
    if (padding < 1) out.push_back(static_cast<char>(n & 0xff));
  }
  return out;
}

}  // namespace dirfeed
