// The JSON writer: string escaping (DESIGN.md 4: DNs with escaped commas, quotes, non-ASCII)
// and comma placement.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

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


// ---- parse_json ----------------------------------------------------------------------------

std::string parse_error(std::string_view text, const JsonLimits& limits = {}) {
  std::string error;
  std::optional<JsonValue> value = parse_json(text, &error, limits);
  EXPECT_FALSE(value.has_value()) << text;
  return error;
}

TEST(JsonParseTest, ParsesEveryValueType) {
  std::string error;
  std::optional<JsonValue> value = parse_json(
      R"( {"s": "a\"b\\c\/\n\u00e9", "n": -12.5e1, "z": 0, "t": true, "f": false, "x": null,
           "a": [1, [], {}], "o": {"k": "v"}} )", &error);
  ASSERT_TRUE(value.has_value()) << error;
  ASSERT_TRUE(value->is_object());
  EXPECT_EQ(value->object().size(), 8u);
  EXPECT_EQ(value->find("s")->text(), "a\"b\\c/\n\xC3\xA9");
  EXPECT_EQ(value->find("n")->as_number(), -125.0);
  EXPECT_EQ(value->find("n")->text(), "-12.5e1");
  EXPECT_EQ(value->find("z")->text(), "0");
  EXPECT_TRUE(value->find("t")->as_bool());
  EXPECT_TRUE(value->find("f")->is_bool());
  EXPECT_TRUE(value->find("x")->is_null());
  EXPECT_EQ(value->find("a")->array().size(), 3u);
  EXPECT_TRUE(value->find("a")->array()[1].is_array());
  EXPECT_EQ(value->find("o")->find("k")->text(), "v");
  EXPECT_EQ(value->find("missing"), nullptr);
}

TEST(JsonParseTest, DecodesSurrogatePairsAndRejectsUnpairedOnes) {
  std::string error;
  std::optional<JsonValue> value = parse_json(R"("\ud83d\ude00 Zoë")", &error);
  ASSERT_TRUE(value.has_value()) << error;
  EXPECT_EQ(value->text(), "\xF0\x9F\x98\x80 Zo\xC3\xAB");
  EXPECT_NE(parse_error(R"("\ud83d")").find("unpaired high surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ude00")").find("unpaired low surrogate"), std::string::npos);
  EXPECT_NE(parse_error(R"("\ud83d\u0041")").find("not followed by a low"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12G4")").find("invalid hex digit"), std::string::npos);
  EXPECT_NE(parse_error(R"("\u12")").find("incomplete"), std::string::npos);
}

TEST(JsonParseTest, RejectsMalformedDocumentsWithTheReason) {
  EXPECT_EQ(parse_error(""), "malformed JSON at offset 0: unexpected end of input, expected a value");
  EXPECT_EQ(parse_error("{\"a\": 1,}"), "malformed JSON at offset 8: expected a member name string");
  EXPECT_NE(parse_error("[1,]").find("expected a value"), std::string::npos);
  EXPECT_NE(parse_error("{\"a\": 1, \"a\": 2}").find("duplicate member name \"a\""),
            std::string::npos);
  EXPECT_NE(parse_error("{} x").find("unexpected data after"), std::string::npos);
  EXPECT_NE(parse_error("{\"a\" 1}").find("expected ':'"), std::string::npos);
  EXPECT_NE(parse_error("\"abc").find("unterminated string"), std::string::npos);
  EXPECT_NE(parse_error("\"a\tb\"").find("control character"), std::string::npos);
  EXPECT_NE(parse_error("\"\\x\"").find("invalid escape"), std::string::npos);
  EXPECT_NE(parse_error("\"\xC3\x28\"").find("invalid UTF-8"), std::string::npos);
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "+1", "NaN", "Infinity", "tru", "nul",
                          "[1 2]", "{\"a\":1 \"b\":2}", "// c\n{}", "'a'", "[", "{"}) {
    parse_error(bad);
  }
}

// {"k0": 0, "k1": 1, ...} with `count` members; `duplicate_at` >= 0 names that member "k0"
// again (0: "k0" twice at the start). `offset` receives where the parser must stop: after the
// closing quote of the second "k0".
std::string large_object(int count, int duplicate_at = -1, size_t* offset = nullptr) {
  std::string text = "{";
  for (int i = 0; i < count; ++i) {
    if (i > 0) text += ", ";
    const int key = i == duplicate_at + 1 && duplicate_at >= 0 ? 0 : i;
    text += "\"k" + std::to_string(key) + "\"";
    if (i == duplicate_at + 1 && offset) *offset = text.size();
    text += ": " + std::to_string(i);
  }
  return text + "}";
}

TEST(JsonParseTest, DuplicateNamesAnywhereInALargeObjectAreRejected) {
  constexpr int kMembers = 40'000;
  std::string error;
  ASSERT_TRUE(parse_json(large_object(kMembers), &error).has_value()) << error;
  for (int at : {0, kMembers / 2, kMembers - 2}) {
    SCOPED_TRACE(at);
    size_t offset = 0;
    const std::string text = large_object(kMembers, at, &offset);
    EXPECT_EQ(parse_error(text), "malformed JSON at offset " + std::to_string(offset) +
                                     ": duplicate member name \"k0\"");
  }
  // Names are compared decoded; the first problem found is the one reported.
  EXPECT_EQ(parse_error(R"({"a": 1, "\u0061": 2, "b" 3})"),
            "malformed JSON at offset 17: duplicate member name \"a\"");
  EXPECT_EQ(parse_error(R"({"a": 1, "b": 2, "a" 3})"),
            "malformed JSON at offset 20: duplicate member name \"a\"");
  // Prefixes and case differ: not duplicates.
  EXPECT_TRUE(parse_json(R"({"a": 1, "ab": 2, "A": 3, "": 4, "a ": 5})", &error)) << error;
}

TEST(JsonParseTest, DuplicateNamesAreCheckedPerObject) {
  std::string error;
  EXPECT_TRUE(parse_json(R"({"a": {"a": 1, "b": {"a": 2}}, "b": [{"a": 3}, {"a": 4}]})", &error))
      << error;
  EXPECT_EQ(parse_error(R"({"a": {"b": 1, "c": {"d": 2, "d": 3}}})"),
            "malformed JSON at offset 32: duplicate member name \"d\"");
  EXPECT_EQ(parse_error(R"([{"x": 1}, {"y": 1, "y": 2}])"),
            "malformed JSON at offset 23: duplicate member name \"y\"");
  EXPECT_EQ(parse_error(R"({"a": {"b": 1}, "a": 2})"),
            "malformed JSON at offset 19: duplicate member name \"a\"");
}

TEST(JsonParseTest, MembersKeepTheirDocumentOrder) {
  std::string error;
  std::optional<JsonValue> value =
      parse_json(R"({"z": 1, "a": {"y": 2, "b": 3}, "m": 4, "": 5})", &error);
  ASSERT_TRUE(value.has_value()) << error;
  std::vector<std::string> names;
  for (const auto& [name, member] : value->object()) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"z", "a", "m", ""}));
  EXPECT_EQ(value->find("a")->object()[0].first, "y");
  EXPECT_EQ(value->find("a")->object()[1].second.text(), "3");
  EXPECT_EQ(value->find("m")->text(), "4");

  const std::optional<JsonValue> large = parse_json(large_object(10'000), &error);
  ASSERT_TRUE(large.has_value()) << error;
  ASSERT_EQ(large->object().size(), 10'000u);
  for (int i : {0, 1, 9, 10, 4'999, 9'999}) {
    EXPECT_EQ(large->object()[i].first, "k" + std::to_string(i));
    EXPECT_EQ(large->object()[i].second.text(), std::to_string(i));
  }
}

TEST(JsonParseTest, EnforcesDepthAndSizeLimits) {
  JsonLimits limits;
  limits.max_depth = 3;
  std::string error;
  EXPECT_TRUE(parse_json("[[[1]]]", &error, limits).has_value()) << error;
  EXPECT_NE(parse_error("[[[[1]]]]", limits).find("nesting deeper"), std::string::npos);
  EXPECT_NE(parse_error("[{\"a\":[{}]}]", limits).find("nesting deeper"), std::string::npos);
  // The default limit stops a deep document long before the stack would.
  EXPECT_NE(parse_error(std::string(100000, '[')).find("nesting deeper"), std::string::npos);
  limits.max_size = 4;
  EXPECT_NE(parse_error("[1, 2]", limits).find("too large"), std::string::npos);
}

}  // namespace
}  // namespace dirfeed::rest
