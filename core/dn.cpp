#include "core/dn.hpp"

#include <algorithm>

#include "core/text.hpp"

namespace dirfeed {
namespace {

// Whether text[pos] is escaped: an odd number of backslashes before it.
bool escaped_at(std::string_view text, size_t pos) {
  size_t backslashes = 0;
  while (pos > 0 && text[--pos] == '\\') ++backslashes;
  return backslashes % 2 == 1;
}

constexpr bool is_alnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// An attribute type: a name (letters, digits, '-') or a dotted OID.
bool attribute_type(std::string_view type) {
  return !type.empty() && is_alnum(type.front()) &&
         std::all_of(type.begin(), type.end(),
                     [](char c) { return is_alnum(c) || c == '-' || c == '.'; });
}

}  // namespace

bool dn_within(std::string_view dn, std::string_view base) {
  if (base.empty()) return true;
  if (dn.size() < base.size() || !iequals(dn.substr(dn.size() - base.size()), base)) return false;
  if (dn.size() == base.size()) return true;
  const size_t comma = dn.size() - base.size() - 1;
  return dn[comma] == ',' && !escaped_at(dn, comma);
}

std::string parent_dn(std::string_view dn) {
  for (size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\') {
      ++i;
    } else if (dn[i] == ',') {
      return std::string(dn.substr(i + 1));
    }
  }
  return {};
}

std::string escape_dn_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    const char ch = value[i];
    const bool leading = i == 0 && (ch == ' ' || ch == '#');
    const bool trailing = i + 1 == value.size() && ch == ' ';
    if (ch == 0) {
      out += "\\00";
    } else if (leading || trailing || ch == '"' || ch == '+' || ch == ',' || ch == ';' ||
               ch == '<' || ch == '>' || ch == '\\' || ch == '=') {
      out.push_back('\\');
      out.push_back(ch);
    } else {
      out.push_back(ch);
    }
  }
  return out;
}

std::optional<std::vector<std::string>> dn_parts(std::string_view dn) {
  std::vector<std::string_view> rdns;
  size_t start = 0;
  for (size_t i = 0; i <= dn.size(); ++i) {
    if (i == dn.size() || dn[i] == ',') {
      rdns.push_back(dn.substr(start, i - start));
      start = i + 1;
    } else if (dn[i] == '\\' && ++i == dn.size()) {
      return std::nullopt;
    }
  }
  std::vector<std::string> parts;
  for (std::string_view rdn : rdns) {
    // Attribute types hold no escapes, so the first '=' ends the type.
    const size_t equals = rdn.find('=');
    if (equals == std::string_view::npos) return std::nullopt;
    std::string_view type = rdn.substr(0, equals);
    std::string_view value = rdn.substr(equals + 1);
    while (!type.empty() && type.front() == ' ') type.remove_prefix(1);
    while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ' && !escaped_at(value, value.size() - 1)) {
      value.remove_suffix(1);
    }
    if (!attribute_type(type) || value.empty()) return std::nullopt;
    parts.push_back(std::string(type) + "=" + std::string(value));
  }
  return parts;
}

std::string join_dn(const std::vector<std::string>& parts) {
  std::string dn;
  for (const std::string& part : parts) {
    if (!dn.empty()) dn.push_back(',');
    dn += part;
  }
  return dn;
}

bool ends_with_rdns(const std::vector<std::string>& dn, const std::vector<std::string>& base) {
  return base.size() <= dn.size() &&
         std::equal(base.rbegin(), base.rend(), dn.rbegin(),
                    [](const std::string& a, const std::string& b) { return iequals(a, b); });
}

}  // namespace dirfeed
