#pragma once
// The fields of one event record, flattened: a JSON object's scalar members by dotted path
// ("winlog.event_data.IpAddress"), or the pairs of a key=value record (NXLog's xm_kvp form).
// Pure, any thread.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dirfeed::ipsource {

class Fields {
 public:
  // The value of `path` (compared ASCII case-insensitively), or nullptr.
  const std::string* find(std::string_view path) const;
  // find(), or "" when absent.
  std::string_view get(std::string_view path) const;
  void add(std::string path, std::string value) {
    entries_.emplace_back(std::move(path), std::move(value));
  }
  size_t size() const { return entries_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

// Flattens the JSON object that starts at the first '{' of `text`: strings unescaped (\u
// escapes as UTF-8), numbers and booleans as written, nulls left out, arrays left out.
// False when there is no object or it is malformed (nesting is limited to 16 levels).
bool parse_json_fields(std::string_view text, Fields* fields);

// Key=value pairs: keys of letters, digits, '_', '.', '-'; values bare (up to a space, ',' or
// ';') or quoted with " or ' (backslash escapes the quote). False when there is none.
bool parse_kv_fields(std::string_view text, Fields* fields);

}  // namespace dirfeed::ipsource
