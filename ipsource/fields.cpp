#include "ipsource/fields.hpp"

#include <cctype>
#include <cstdint>

#include "core/text.hpp"
#include "core/utf8.hpp"

namespace dirfeed::ipsource {
namespace {

constexpr int kMaxDepth = 16;

// Reads one JSON object into Fields. The dotted path of the member being read is kept in one
// buffer (path_), extended and cut back as members nest.
class JsonReader {
 public:
  JsonReader(std::string_view text, size_t pos, Fields& fields)
      : text_(text), fields_(fields), pos_(pos) {}

  bool object(int depth) {
    if (depth > kMaxDepth || !take('{')) return false;
    space();
    if (take('}')) return true;
    const size_t prefix = path_.size();
    while (true) {
      space();
      if (prefix > 0) path_.push_back('.');
      if (!string(path_)) return false;
      space();
      if (!take(':')) return false;
      space();
      if (!value(depth)) return false;
      path_.resize(prefix);
      space();
      if (take('}')) return true;
      if (!take(',')) return false;
    }
  }

 private:
  bool value(int depth) {
    if (pos_ >= text_.size()) return false;
    const char c = text_[pos_];
    if (c == '{') return object(depth + 1);
    if (c == '[') return array(depth + 1);
    if (c == '"') {
      std::string s;
      if (!string(s)) return false;
      add(std::move(s));
      return true;
    }
    for (std::string_view word : {"true", "false", "null"}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        if (word != "null") add(std::string(word));
        return true;
      }
    }
    const size_t start = pos_;
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    while (pos_ < text_.size() && (std::isdigit(static_cast<unsigned char>(text_[pos_])) ||
                                   text_[pos_] == '.' || text_[pos_] == 'e' ||
                                   text_[pos_] == 'E' || text_[pos_] == '+' ||
                                   text_[pos_] == '-')) {
      ++pos_;
    }
    if (pos_ == start) return false;
    add(std::string(text_.substr(start, pos_ - start)));
    return true;
  }

  // Arrays are read but not kept: no event field this reads is a list.
  bool array(int depth) {
    if (depth > kMaxDepth || !take('[')) return false;
    ++skipping_;
    space();
    if (!take(']')) {
      while (true) {
        space();
        if (!value(depth)) return false;
        space();
        if (take(']')) break;
        if (!take(',')) return false;
      }
    }
    --skipping_;
    return true;
  }

  void add(std::string value) {
    if (skipping_ == 0) fields_.add(path_, std::move(value));
  }

  // Appends the string at pos_ (unescaped) to `out`.
  bool string(std::string& out) {
    if (!take('"')) return false;
    while (pos_ < text_.size()) {
      size_t run = pos_;  // characters that need no unescaping, appended at once
      while (run < text_.size() && text_[run] != '"' && text_[run] != '\\' &&
             static_cast<unsigned char>(text_[run]) >= 0x20) {
        ++run;
      }
      out.append(text_.substr(pos_, run - pos_));
      pos_ = run;
      if (pos_ >= text_.size()) return false;
      const char c = text_[pos_++];
      if (c == '"') return true;
      if (c != '\\') return false;  // a control character
      if (!read_json_escape(text_, pos_, out).empty()) return false;
    }
    return false;
  }

  void space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool take(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view text_;
  Fields& fields_;
  size_t pos_;
  std::string path_;  // of the member being read
  int skipping_ = 0;  // inside an array
};

bool is_key_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

}  // namespace

const std::string* Fields::find(std::string_view path) const {
  for (const auto& [key, value] : entries_) {
    if (iequals(key, path)) return &value;
  }
  return nullptr;
}

std::string_view Fields::get(std::string_view path) const {
  const std::string* value = find(path);
  return value == nullptr ? std::string_view() : std::string_view(*value);
}

bool parse_json_fields(std::string_view text, Fields* fields) {
  const size_t start = text.find('{');
  if (start == std::string_view::npos) return false;
  Fields parsed;
  JsonReader reader(text, start, parsed);
  if (!reader.object(0)) return false;
  *fields = std::move(parsed);
  return true;
}

bool parse_kv_fields(std::string_view text, Fields* fields) {
  Fields parsed;
  size_t i = 0;
  while (i < text.size()) {
    // A key: a run of key characters right before '='.
    if (!is_key_char(text[i]) || (i > 0 && is_key_char(text[i - 1]))) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && is_key_char(text[end])) ++end;
    if (end >= text.size() || text[end] != '=') {
      i = end;
      continue;
    }
    std::string key(text.substr(i, end - i));
    size_t v = end + 1;
    std::string value;
    if (v < text.size() && (text[v] == '"' || text[v] == '\'')) {
      const char quote = text[v++];
      while (v < text.size() && text[v] != quote) {
        if (text[v] == '\\' && v + 1 < text.size()) ++v;
        value.push_back(text[v++]);
      }
      if (v < text.size()) ++v;
    } else {
      while (v < text.size() && text[v] != ' ' && text[v] != ',' && text[v] != ';' &&
             text[v] != '\t') {
        value.push_back(text[v++]);
      }
    }
    parsed.add(std::move(key), std::move(value));
    i = v;
  }
  if (parsed.size() == 0) return false;
  *fields = std::move(parsed);
  return true;
}

}  // namespace dirfeed::ipsource
