#pragma once
// A small JSON writer that appends to a caller-owned std::string, so a large document can be
// produced piece by piece (and, later, sent in chunks as the string fills).
#include <cstdint>
#include <string>
#include <string_view>
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

  std::string& out() { return out_; }

 private:
  // Before any value: a comma when it is not the first in its array or object.
  void separate();

  std::string& out_;
  std::vector<bool> first_;  // per open array/object: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace dirfeed::rest
