#include "core/dn.hpp"

#include <gtest/gtest.h>

namespace dirfeed {
namespace {

TEST(DnWithin, RespectsRdnBoundariesAndEscapes) {
  EXPECT_TRUE(dn_within("CN=a,OU=x,DC=t", "OU=x,DC=t"));
  EXPECT_TRUE(dn_within("OU=x,DC=t", "ou=X,dc=T"));
  EXPECT_FALSE(dn_within("CN=a,OU=xx,DC=t", "OU=x,DC=t"));
  EXPECT_FALSE(dn_within("CN=a\\,OU=x,DC=t", "OU=x,DC=t"));   // escaped comma is no boundary
  EXPECT_TRUE(dn_within("CN=a\\\\,OU=x,DC=t", "OU=x,DC=t"));  // escaped backslash then comma
  EXPECT_FALSE(dn_within("DC=t", "OU=x,DC=t"));
}

TEST(DnWithin, AnEmptyBaseHoldsEveryDn) {
  EXPECT_TRUE(dn_within("CN=a,DC=t", ""));
  EXPECT_TRUE(dn_within("", ""));
  EXPECT_FALSE(dn_within("", "DC=t"));
}

TEST(ParentDn, IsAfterTheFirstUnescapedComma) {
  EXPECT_EQ(parent_dn("CN=Smith\\, John,OU=Sales,DC=example,DC=test"),
            "OU=Sales,DC=example,DC=test");
  EXPECT_EQ(parent_dn("CN=a\\\\,DC=test"), "DC=test")
      << "an escaped backslash ends before the comma";
  EXPECT_EQ(parent_dn("DC=test"), "");
  EXPECT_EQ(parent_dn(""), "");
}

TEST(EscapeDnValue, EscapesPerRfc4514) {
  EXPECT_EQ(escape_dn_value("Smith, John"), "Smith\\, John");
  EXPECT_EQ(escape_dn_value("#lead"), "\\#lead");
  EXPECT_EQ(escape_dn_value(" trail "), "\\ trail\\ ");
  EXPECT_EQ(escape_dn_value("a+b=c<d>;\"e\\"), "a\\+b\\=c\\<d\\>\\;\\\"e\\\\");
  EXPECT_EQ(escape_dn_value(std::string("x\0y", 3)), "x\\00y");
  EXPECT_EQ(escape_dn_value("mid#dle"), "mid#dle") << "'#' is special only in front";
}

TEST(DnParts, SplitsRdnsWithoutTheSpacesPeopleType) {
  using Parts = std::vector<std::string>;
  EXPECT_EQ(dn_parts("OU=Staff, DC=example ,DC = test"),
            (Parts{"OU=Staff", "DC=example", "DC=test"}));
  EXPECT_EQ(dn_parts("CN=Smith\\, John,DC=t"), (Parts{"CN=Smith\\, John", "DC=t"}));
  EXPECT_EQ(dn_parts("CN=trail\\ ,DC=t"), (Parts{"CN=trail\\ ", "DC=t"}))
      << "an escaped trailing space is part of the value";
  EXPECT_EQ(dn_parts("1.2.840.113556.1.4.1=x"), (Parts{"1.2.840.113556.1.4.1=x"}));
}

TEST(DnParts, RejectsWhatIsNoDn) {
  EXPECT_FALSE(dn_parts(""));
  EXPECT_FALSE(dn_parts("alice"));
  EXPECT_FALSE(dn_parts("=x,DC=t"));
  EXPECT_FALSE(dn_parts("CN=,DC=t"));
  EXPECT_FALSE(dn_parts("CN=a,,DC=t"));
  EXPECT_FALSE(dn_parts("C N=a"));
  EXPECT_FALSE(dn_parts("CN=a\\"));
}

TEST(DnParts, JoinAndCompareByRdns) {
  const auto dn = dn_parts("CN=a, OU=Staff, DC=example");
  const auto base = dn_parts("ou=staff,dc=EXAMPLE");
  ASSERT_TRUE(dn && base);
  EXPECT_EQ(join_dn(*dn), "CN=a,OU=Staff,DC=example");
  EXPECT_TRUE(ends_with_rdns(*dn, *base));
  EXPECT_TRUE(ends_with_rdns(*base, *base));
  EXPECT_FALSE(ends_with_rdns(*base, *dn));
  EXPECT_FALSE(ends_with_rdns(*dn_parts("CN=a,OU=Staff2,DC=example"), *base));
}

}  // namespace
}  // namespace dirfeed
