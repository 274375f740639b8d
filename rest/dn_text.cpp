#include "rest/dn_text.hpp"

#include <algorithm>
#include <cctype>

#include "rest/text.hpp"

namespace dirfeed::rest {
namespace {

// Whether text[pos] is escaped: an odd number of backslashes before it.
bool escaped_at(std::string_view text, size_t pos) {
  size_t backslashes = 0;
  while (pos > 0 && text[--pos] == '\\') ++backslashes;
  return backslashes % 2 == 1;
}

// An attribute type: a name (letters, digits, '-') or a dotted OID.
bool attribute_type(std::string_view type) {
  return !type.empty() && std::isalnum(static_cast<unsigned char>(type.front())) &&
         std::all_of(type.begin(), type.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
         });
}

}  // namespace

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
                    [](const std::string& a, const std::string& b) { return lower(a) == lower(b); });
}

}  // namespace dirfeed::rest
