// The JSON writer: string escaping (DESIGN.md 4: DNs with escaped commas, quotes, non-ASCII)
// and comma placement.
#include <gtest/gtest.h>

#include <string>

#include "rest/json.hpp"

namespace dirfeed::rest {
namespace {

std::string as_json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonStringTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(as_json(R"(CN=Smith\, John "JJ",DC=example)"),
            R"("CN=Smith\\, John \"JJ\",DC=example")");
  EXPECT_EQ(as_json("a\nb\tc\rd\be\ff"), R"("a\nb\tc\rd\be\ff")");
  EXPECT_EQ(as_json(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
  EXPECT_EQ(as_json(std::string("nul\0byte", 8)), R"("nul\u0000byte")");
  EXPECT_EQ(as_json("/"), R"("/")");
}

TEST(JsonStringTest, PassesValidUtf8Through) {
  EXPECT_EQ(as_json("Zoë Ünal"), "\"Zoë Ünal\"");      // 2-byte sequences
  EXPECT_EQ(as_json("日本"), "\"日本\"");                // 3-byte
  EXPECT_EQ(as_json("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // U+1F600, 4-byte
  EXPECT_EQ(as_json("\xEF\xBF\xBF"), "\"\xEF\xBF\xBF\"");          // U+FFFF
}

TEST(JsonStringTest, ReplacesEachInvalidByteWithReplacementCharacter) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(as_json("a\x80z"), "\"a" + r + "z\"");             // lone continuation byte
  EXPECT_EQ(as_json("a\xC3"), "\"a" + r + "\"");               // truncated at the end
  EXPECT_EQ(as_json("\xC3(x"), "\"" + r + "(x\"");             // bad continuation
  EXPECT_EQ(as_json("\xC0\x80"), "\"" + r + r + "\"");         // overlong NUL
  EXPECT_EQ(as_json("\xE0\x80\xAF"), "\"" + r + r + r + "\""); // overlong '/'
  EXPECT_EQ(as_json("\xED\xA0\x80"), "\"" + r + r + r + "\""); // UTF-16 surrogate
  EXPECT_EQ(as_json("\xF4\x90\x80\x80"), "\"" + r + r + r + r + "\"");  // > U+10FFFF
  EXPECT_EQ(as_json("\xFF"), "\"" + r + "\"");
}

TEST(JsonWriterTest, PlacesCommasAndNests) {
  std::string out = "prefix:";
  JsonWriter json(out);
  json.begin_object();
  json.member("a", "x");
  json.key("list");
  json.begin_array();
  json.number(1);
  json.number(-2);
  json.boolean(true);
  json.null();
  json.begin_object();
  json.end_object();
  json.begin_array();
  json.end_array();
  json.end_array();
  json.key("n");
  json.number(9'007'199'254'740'993);
  json.end_object();
  EXPECT_EQ(out, R"(prefix:{"a":"x","list":[1,-2,true,null,{},[]],"n":9007199254740993})");
}

TEST(JsonWriterTest, AppendsIncrementally) {
  std::string out;
  JsonWriter json(out);
  json.begin_array();
  json.string("one");
  const size_t after_first = out.size();
  json.string("two");
  EXPECT_EQ(out.substr(after_first), R"(,"two")");
  json.end_array();
  EXPECT_EQ(out, R"(["one","two"])");
}

}  // namespace
}  // namespace dirfeed::rest
