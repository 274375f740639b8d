#include "core/text.hpp"

#include <gtest/gtest.h>

namespace dirfeed {
namespace {

TEST(Text, CaseRulesAreAsciiOnly) {
  EXPECT_EQ(lower("CN=Ünal,DC=Example"), "cn=Ünal,dc=example");
  EXPECT_TRUE(iequals("Basic", "bASIC"));
  EXPECT_FALSE(iequals("Ünal", "üNAL")) << "non-ASCII letters compare as bytes";
  EXPECT_FALSE(iequals("abc", "abcd"));
  EXPECT_TRUE(starts_with_ci("LDAPS://dc1", "ldaps://"));
  EXPECT_FALSE(starts_with_ci("ldap", "ldaps"));
}

TEST(Text, SplitKeepsEmptyPartsAndTrimTakesSpacesAndTabs) {
  using Parts = std::vector<std::string_view>;
  EXPECT_EQ(split("a::b", ':'), (Parts{"a", "", "b"}));
  EXPECT_EQ(split("", ':'), (Parts{""}));
  EXPECT_EQ(split("a:", ':'), (Parts{"a", ""}));
  EXPECT_EQ(trim(" \tx y\t "), "x y");
  EXPECT_EQ(trim("   "), "");
}

TEST(Text, HexBothWays) {
  EXPECT_EQ(hex_value('7'), 7);
  EXPECT_EQ(hex_value('b'), 11);
  EXPECT_EQ(hex_value('F'), 15);
  EXPECT_EQ(hex_value('g'), -1);
  EXPECT_EQ(to_hex(std::string("\x00\x9f\xff", 3)), "009fff");
}

}  // namespace
}  // namespace dirfeed
