#include "core/utf8.hpp"

#include <gtest/gtest.h>

namespace dirfeed {
namespace {

TEST(Utf8, SequenceLengthAcceptsOnlyWellFormedMultiByteSequences) {
  EXPECT_EQ(utf8_sequence_length("\xC3\x9C", 0), 2u);          // Ü
  EXPECT_EQ(utf8_sequence_length("x\xE2\x82\xAC", 1), 3u);     // €
  EXPECT_EQ(utf8_sequence_length("\xF0\x9F\x98\x80", 0), 4u);  // U+1F600
  EXPECT_EQ(utf8_sequence_length("a", 0), 0u) << "ASCII is no multi-byte sequence";
  EXPECT_EQ(utf8_sequence_length("\xC0\xAF", 0), 0u) << "overlong '/'";
  EXPECT_EQ(utf8_sequence_length("\xE0\x80\xAF", 0), 0u) << "overlong '/'";
  EXPECT_EQ(utf8_sequence_length("\xED\xA0\x80", 0), 0u) << "surrogate U+D800";
  EXPECT_EQ(utf8_sequence_length("\xF4\x90\x80\x80", 0), 0u) << "above U+10FFFF";
  EXPECT_EQ(utf8_sequence_length("\xE2\x82", 0), 0u) << "cut short";
  EXPECT_EQ(utf8_sequence_length("\xE2\x28\xAC", 0), 0u) << "no continuation byte";
}

TEST(Utf8, AppendEncodesEachLength) {
  std::string out;
  for (uint32_t code_point : {0x41u, 0xDCu, 0x20ACu, 0x1F600u}) append_utf8(out, code_point);
  EXPECT_EQ(out, "A\xC3\x9C\xE2\x82\xAC\xF0\x9F\x98\x80");
  for (size_t i = 1; i < out.size();) {
    const size_t length = utf8_sequence_length(out, i);
    ASSERT_GT(length, 0u) << "at " << i;
    i += length;
  }
}

// `escape` (the text after a backslash) read: what it appends, or "error: " and the problem.
std::string escape(std::string_view text) {
  size_t pos = 0;
  std::string out;
  const std::string_view problem = read_json_escape(text, pos, out);
  if (!problem.empty()) return "error: " + std::string(problem);
  EXPECT_EQ(pos, text.size()) << text;
  return out;
}

TEST(JsonEscape, ReadsEveryEscapeOfRfc8259) {
  EXPECT_EQ(escape("\""), "\"");
  EXPECT_EQ(escape("\\"), "\\");
  EXPECT_EQ(escape("/"), "/");
  EXPECT_EQ(escape("n"), "\n");
  EXPECT_EQ(escape("t"), "\t");
  EXPECT_EQ(escape("u00dC"), "\xC3\x9C");
  EXPECT_EQ(escape("ud83d\\ude00"), "\xF0\x9F\x98\x80") << "a surrogate pair is one code point";
}

TEST(JsonEscape, NamesWhatIsWrong) {
  EXPECT_EQ(escape(""), "error: unterminated escape");
  EXPECT_EQ(escape("x"), "error: invalid escape in a string");
  EXPECT_EQ(escape("u12"), "error: incomplete \\u escape");
  EXPECT_EQ(escape("u12g4"), "error: invalid hex digit in a \\u escape");
  EXPECT_EQ(escape("ude00"), "error: unpaired low surrogate in a \\u escape");
  EXPECT_EQ(escape("ud83dx"), "error: unpaired high surrogate in a \\u escape");
  EXPECT_EQ(escape("ud83d\\u0041"), "error: high surrogate not followed by a low one");
}

}  // namespace
}  // namespace dirfeed
