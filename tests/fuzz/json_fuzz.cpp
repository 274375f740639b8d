// libFuzzer target: parse_json (rest/json.hpp) on arbitrary bytes. Whatever parses is written
// back with JsonWriter and parsed again; the second parse must succeed and give the same value
// (types, member order, decoded strings, number literals), and writing that again must give
// the same bytes. Built and run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "rest/json.hpp"

namespace {

using dirfeed::rest::JsonValue;
using dirfeed::rest::JsonWriter;

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "json_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

void write(JsonWriter& json, const JsonValue& value) {
  switch (value.type()) {
    case JsonValue::Type::kNull: json.null(); break;
    case JsonValue::Type::kBool: json.boolean(value.as_bool()); break;
    case JsonValue::Type::kNumber:
      // JsonWriter writes integers only; keep the literal as parsed: let number() place the
      // comma, then swap its "0" for the literal.
      json.number(0);
      json.out().pop_back();
      json.out().append(value.text());
      break;
    case JsonValue::Type::kString: json.string(value.text()); break;
    case JsonValue::Type::kArray:
      json.begin_array();
      for (const JsonValue& element : value.array()) write(json, element);
      json.end_array();
      break;
    case JsonValue::Type::kObject:
      json.begin_object();
      for (const auto& [name, member] : value.object()) {
        json.key(name);
        write(json, member);
      }
      json.end_object();
      break;
  }
}

bool same(const JsonValue& a, const JsonValue& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case JsonValue::Type::kNull: return true;
    case JsonValue::Type::kBool: return a.as_bool() == b.as_bool();
    case JsonValue::Type::kNumber:
    case JsonValue::Type::kString: return a.text() == b.text();
    case JsonValue::Type::kArray:
      if (a.array().size() != b.array().size()) return false;
      for (size_t i = 0; i < a.array().size(); ++i) {
        if (!same(a.array()[i], b.array()[i])) return false;
      }
      return true;
    case JsonValue::Type::kObject:
      if (a.object().size() != b.object().size()) return false;
      for (size_t i = 0; i < a.object().size(); ++i) {
        if (a.object()[i].first != b.object()[i].first) return false;
        if (!same(a.object()[i].second, b.object()[i].second)) return false;
      }
      return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto parsed = dirfeed::rest::parse_json(input, &error);
  if (!parsed) {
    if (error.empty()) fail("rejected without an error message", std::string(input));
    return 0;
  }
  if (!error.empty()) fail("accepted but set an error", error);

  std::string written;
  JsonWriter json(written);
  write(json, *parsed);
  std::string reparse_error;
  const auto reparsed = dirfeed::rest::parse_json(written, &reparse_error);
  if (!reparsed) fail("the written form does not parse", reparse_error + " in " + written);
  if (!same(*parsed, *reparsed)) fail("round trip changed the value", written);

  std::string rewritten;
  JsonWriter again(rewritten);
  write(again, *reparsed);
  if (rewritten != written) fail("writing is not stable", written + " vs " + rewritten);
  return 0;
}
