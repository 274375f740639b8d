#include "ldap/values.hpp"

#include <charconv>
#include <cstdint>

#include "core/text.hpp"

namespace dirfeed::ldap {
namespace {

std::string hex_to_bytes(std::string_view hex) {
  std::string out;
  if (hex.size() % 2 != 0) return out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int high = hex_value(hex[i]), low = hex_value(hex[i + 1]);
    if (high < 0 || low < 0) return {};
    out.push_back(static_cast<char>(high * 16 + low));
  }
  return out;
}

void append_hex_escape(std::string& out, unsigned char c) {
  out.push_back('\\');
  append_hex(out, c);
}

}  // namespace

std::string sid_to_string(std::string_view bytes) {
  if (bytes.size() < 8) return {};
  auto byte = [&](size_t i) { return static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])); };
  size_t sub_count = byte(1);
  if (bytes.size() != 8 + 4 * sub_count) return {};
  uint64_t authority = 0;
  for (size_t i = 2; i < 8; ++i) authority = (authority << 8) | byte(i);  // big-endian
  std::string out = "S-" + std::to_string(byte(0)) + "-" + std::to_string(authority);
  for (size_t k = 0; k < sub_count; ++k) {
    size_t at = 8 + 4 * k;  // little-endian sub-authorities
    uint64_t sub = byte(at) | byte(at + 1) << 8 | byte(at + 2) << 16 | byte(at + 3) << 24;
    out += "-" + std::to_string(sub);
  }
  return out;
}

std::optional<std::string> generalized_time_to_iso(std::string_view value) {
  // YYYYMMDDHHMMSS[.fraction]Z
  if (value.size() < 15 || value.back() != 'Z') return std::nullopt;
  for (size_t i = 0; i < 14; ++i) {
    if (value[i] < '0' || value[i] > '9') return std::nullopt;
  }
  std::string out;
  out.append(value.substr(0, 4)).push_back('-');
  out.append(value.substr(4, 2)).push_back('-');
  out.append(value.substr(6, 2)).push_back('T');
  out.append(value.substr(8, 2)).push_back(':');
  out.append(value.substr(10, 2)).push_back(':');
  out.append(value.substr(12, 2));
  out.push_back('Z');
  return out;
}

std::string escape_filter_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char ch : value) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '*' || c == '(' || c == ')' || c == '\\' || c == 0 || c >= 0x80) {
      append_hex_escape(out, c);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

ExtendedDn parse_extended_dn(std::string_view value) {
  ExtendedDn result;
  while (value.size() > 1 && value.front() == '<') {
    size_t end = value.find('>');
    if (end == std::string_view::npos) break;
    std::string_view part = value.substr(1, end - 1);
    if (part.substr(0, 5) == "GUID=") result.guid = hex_to_bytes(part.substr(5));
    value.remove_prefix(end + 1);
    if (!value.empty() && value.front() == ';') value.remove_prefix(1);
  }
  result.dn = std::string(value);
  if (result.guid.size() != 16) result.guid.clear();
  return result;
}

std::optional<uint32_t> parse_u32(std::string_view value) {
  int64_t number = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), number);
  if (ec != std::errc() || end != value.data() + value.size()) return std::nullopt;
  if (number < INT32_MIN || number > UINT32_MAX) return std::nullopt;
  return static_cast<uint32_t>(number);
}

}  // namespace dirfeed::ldap
