#include "rest/json.hpp"

#include <cstdlib>
#include <set>

#include "core/text.hpp"
#include "core/utf8.hpp"

namespace dirfeed::rest {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out.push_back('"');
  // Characters that need no escaping are appended in runs, not one by one.
  size_t run = 0;  // start of the run not yet appended
  for (size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      if (const size_t length = utf8_sequence_length(text, i); length != 0) {
        i += length;
        continue;
      }
    }
    out.append(text.data() + run, i - run);
    switch (c) {
      case '"': out.append("\\\""); break;
      case '\\': out.append("\\\\"); break;
      case '\b': out.append("\\b"); break;
      case '\f': out.append("\\f"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\t': out.append("\\t"); break;
      default:
        if (c >= 0x80) {
          out.append(kReplacement);
        } else {
          out.append("\\u00");
          append_hex(out, c);
        }
    }
    run = ++i;
  }
  out.append(text.data() + run, text.size() - run);
  out.push_back('"');
}

void JsonWriter::separate() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (first_.empty()) return;
  if (!first_.back()) out_.push_back(',');
  first_.back() = false;
}

void JsonWriter::begin_object() {
  separate();
  out_.push_back('{');
  first_.push_back(true);
}

void JsonWriter::end_object() {
  out_.push_back('}');
  first_.pop_back();
}

void JsonWriter::begin_array() {
  separate();
  out_.push_back('[');
  first_.push_back(true);
}

void JsonWriter::end_array() {
  out_.push_back(']');
  first_.pop_back();
}

void JsonWriter::key(std::string_view name) {
  separate();
  append_json_string(out_, name);
  out_.push_back(':');
  after_key_ = true;
}

void JsonWriter::string(std::string_view text) {
  separate();
  append_json_string(out_, text);
}

void JsonWriter::number(int64_t value) {
  separate();
  out_.append(std::to_string(value));
}

void JsonWriter::boolean(bool value) {
  separate();
  out_.append(value ? "true" : "false");
}

void JsonWriter::null() {
  separate();
  out_.append("null");
}

void JsonWriter::member(std::string_view name, std::string_view text) {
  key(name);
  string(text);
}

void JsonWriter::raw(std::string_view json) {
  separate();
  out_.append(json);
}

void JsonWriter::value(const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull:
      null();
      return;
    case JsonValue::Type::kBool:
      boolean(value.as_bool());
      return;
    case JsonValue::Type::kNumber:
      raw(value.text());
      return;
    case JsonValue::Type::kString:
      string(value.text());
      return;
    case JsonValue::Type::kArray:
      begin_array();
      for (const JsonValue& element : value.array()) this->value(element);
      end_array();
      return;
    case JsonValue::Type::kObject:
      begin_object();
      for (const auto& [name, member] : value.object()) {
        key(name);
        this->value(member);
      }
      end_object();
      return;
  }
}

}  // namespace dirfeed::rest

// ---- parsing -----------------------------------------------------------------------------

namespace dirfeed::rest {

JsonValue JsonValue::make_bool(bool value) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.bool_ = value;
  return v;
}

JsonValue JsonValue::make_number(double value, std::string text) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.number_ = value;
  v.text_ = std::move(text);
  return v;
}

JsonValue JsonValue::make_string(std::string value) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(value);
  return v;
}

JsonValue JsonValue::make_array() {
  JsonValue v;
  v.type_ = Type::kArray;
  return v;
}

JsonValue JsonValue::make_object() {
  JsonValue v;
  v.type_ = Type::kObject;
  return v;
}

const JsonValue* JsonValue::find(std::string_view name) const {
  if (type_ != Type::kObject) return nullptr;
  for (const auto& [key, value] : object_) {
    if (key == name) return &value;
  }
  return nullptr;
}

namespace {

class Parser {
 public:
  Parser(std::string_view text, const JsonLimits& limits) : text_(text), limits_(limits) {}

  std::optional<JsonValue> document(std::string* error) {
    if (text_.size() > limits_.max_size) {
      *error = "JSON body too large (" + std::to_string(text_.size()) + " bytes, limit " +
               std::to_string(limits_.max_size) + ")";
      return std::nullopt;
    }
    skip_space();
    JsonValue result;
    if (!value(result, 0)) {
      *error = error_;
      return std::nullopt;
    }
    skip_space();
    if (pos_ != text_.size()) {
      *error = at("unexpected data after the JSON value");
      return std::nullopt;
    }
    return result;
  }

 private:
  bool fail(std::string_view message) {
    if (error_.empty()) error_ = at(message);
    return false;
  }
  std::string at(std::string_view message) const {
    return "malformed JSON at offset " + std::to_string(pos_) + ": " + std::string(message);
  }

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  bool done() const { return pos_ >= text_.size(); }
  char peek() const { return text_[pos_]; }

  bool literal(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool value(JsonValue& out, size_t depth) {
    if (done()) return fail("unexpected end of input, expected a value");
    switch (peek()) {
      case '{': return object(out, depth + 1);
      case '[': return array(out, depth + 1);
      case '"': {
        std::string s;
        if (!string(s)) return false;
        out = JsonValue::make_string(std::move(s));
        return true;
      }
      case 't':
        if (!literal("true")) return false;
        out = JsonValue::make_bool(true);
        return true;
      case 'f':
        if (!literal("false")) return false;
        out = JsonValue::make_bool(false);
        return true;
      case 'n':
        if (!literal("null")) return false;
        out = JsonValue();
        return true;
      default:
        if (peek() == '-' || (peek() >= '0' && peek() <= '9')) return number(out);
        return fail("unexpected character, expected a value");
    }
  }

  bool object(JsonValue& out, size_t depth) {
    if (depth > limits_.max_depth) return fail("nesting deeper than the limit");
    ++pos_;  // '{'
    out = JsonValue::make_object();
    skip_space();
    if (!done() && peek() == '}') {
      ++pos_;
      return true;
    }
    // The members' indices ordered by name, to find a duplicate name in O(log n) comparisons
    // as soon as it is read (a scan of the members before it made a 1 MiB object take ~20 s).
    // Ordered rather than hashed: a fixed-seed hash can be flooded with colliding names.
    JsonValue::Object& members = out.object();
    const auto by_name = [&members](size_t a, size_t b) {
      return members[a].first < members[b].first;
    };
    std::set<size_t, decltype(by_name)> names(by_name);
    while (true) {
      skip_space();
      if (done() || peek() != '"') return fail("expected a member name string");
      std::string name;
      if (!string(name)) return false;
      members.emplace_back(std::move(name), JsonValue());
      if (!names.insert(members.size() - 1).second) {
        return fail("duplicate member name \"" + members.back().first + "\"");
      }
      skip_space();
      if (done() || peek() != ':') return fail("expected ':' after a member name");
      ++pos_;
      skip_space();
      if (!value(members.back().second, depth)) return false;
      skip_space();
      if (done()) return fail("unexpected end of input in an object");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == '}') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or '}' in an object");
    }
  }

  bool array(JsonValue& out, size_t depth) {
    if (depth > limits_.max_depth) return fail("nesting deeper than the limit");
    ++pos_;  // '['
    out = JsonValue::make_array();
    skip_space();
    if (!done() && peek() == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_space();
      JsonValue element;
      if (!value(element, depth)) return false;
      out.array().push_back(std::move(element));
      skip_space();
      if (done()) return fail("unexpected end of input in an array");
      if (peek() == ',') {
        ++pos_;
        continue;
      }
      if (peek() == ']') {
        ++pos_;
        return true;
      }
      return fail("expected ',' or ']' in an array");
    }
  }

  bool number(JsonValue& out) {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t first = pos_;
      while (!done() && peek() >= '0' && peek() <= '9') ++pos_;
      return pos_ > first;
    };
    if (peek() == '-') ++pos_;
    if (done()) return fail("incomplete number");
    if (peek() == '0') {
      ++pos_;
    } else if (!digits()) {
      return fail("invalid number");
    }
    if (!done() && peek() == '.') {
      ++pos_;
      if (!digits()) return fail("invalid number: digits expected after '.'");
    }
    if (!done() && (peek() == 'e' || peek() == 'E')) {
      ++pos_;
      if (!done() && (peek() == '+' || peek() == '-')) ++pos_;
      if (!digits()) return fail("invalid number: digits expected in the exponent");
    }
    std::string literal_text(text_.substr(start, pos_ - start));
    const double parsed = std::strtod(literal_text.c_str(), nullptr);
    out = JsonValue::make_number(parsed, std::move(literal_text));
    return true;
  }

  bool string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (done()) return fail("unterminated string");
      const auto c = static_cast<unsigned char>(text_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return fail("control character in a string (must be escaped)");
      if (c >= 0x80) {
        const size_t length = utf8_sequence_length(text_, pos_);
        if (length == 0) return fail("invalid UTF-8 in a string");
        out.append(text_.substr(pos_, length));
        pos_ += length;
        continue;
      }
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        ++pos_;
        continue;
      }
      ++pos_;
      if (const std::string_view problem = read_json_escape(text_, pos_, out); !problem.empty()) {
        return fail(problem);
      }
    }
  }

  std::string_view text_;
  const JsonLimits& limits_;
  size_t pos_ = 0;
  std::string error_;
};

}  // namespace

std::optional<JsonValue> parse_json(std::string_view text, std::string* error,
                                    const JsonLimits& limits) {
  return Parser(text, limits).document(error);
}

}  // namespace dirfeed::rest
