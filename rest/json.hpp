#pragma once
// A small JSON writer that appends to a caller-owned std::string, so a large document can be
// produced piece by piece (and, later, sent in chunks as the string fills); and a small strict
// parser for request bodies (parse_json).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace dirfeed::rest {

// Appends `text` as a JSON string literal (quotes included). Quotes, backslashes and control
// characters are escaped; valid UTF-8 passes through unchanged; each byte that is not part of
// a valid UTF-8 sequence (overlong forms, surrogates, > U+10FFFF included) becomes U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// Writes one JSON value into `out`, inserting commas itself. The caller keeps the nesting
// valid (a key before each value inside an object, ends matching begins); misuse produces
// invalid JSON, it is not detected. Not thread-safe; `out` must outlive the writer.
class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);

  void string(std::string_view text);
  void number(int64_t value);
  void boolean(bool value);
  void null();

  // key(name) then string(text).
  void member(std::string_view name, std::string_view text);
  // One value given as JSON text, written as it is (the caller vouches that it is valid JSON).
  void raw(std::string_view json);
  // A parsed value (numbers as their literal).
  void value(const class JsonValue& value);

  std::string& out() { return out_; }

 private:
  // Before any value: a comma when it is not the first in its array or object.
  void separate();

  std::string& out_;
  std::vector<bool> first_;  // per open array/object: nothing written in it yet
  bool after_key_ = false;
};

// A parsed JSON value. Objects keep their members in document order; duplicate names are
// rejected by the parser, so find() is unambiguous.
class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Array = std::vector<JsonValue>;
  using Object = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;
  static JsonValue make_bool(bool value);
  static JsonValue make_number(double value, std::string text);
  static JsonValue make_string(std::string value);
  static JsonValue make_array();
  static JsonValue make_object();

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const { return bool_; }
  double as_number() const { return number_; }
  // Numbers: the literal as written (e.g. "120", "1e3"); strings: the decoded UTF-8 value.
  const std::string& text() const { return text_; }
  const Array& array() const { return array_; }
  Array& array() { return array_; }
  const Object& object() const { return object_; }
  Object& object() { return object_; }

  // The member `name` of an object (nullptr when absent or not an object).
  const JsonValue* find(std::string_view name) const;

 private:
  Type type_ = Type::kNull;
  bool bool_ = false;
  double number_ = 0;
  std::string text_;
  Array array_;
  Object object_;
};

struct JsonLimits {
  size_t max_size = 1 << 20;  // bytes of input
  size_t max_depth = 64;      // nesting of arrays and objects
};

// Parses one JSON document (RFC 8259, strict: no comments, no trailing commas, no duplicate
// object member names, no NaN/Infinity, strings must be valid UTF-8 and \u escapes must pair
// surrogates correctly). Whitespace may surround the value. On failure returns nullopt and
// sets *error to a message naming what was wrong and the byte offset. Recursion is bounded by
// limits.max_depth.
std::optional<JsonValue> parse_json(std::string_view text, std::string* error,
                                    const JsonLimits& limits = {});

}  // namespace dirfeed::rest
