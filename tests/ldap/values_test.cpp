#include "ldap/values.hpp"

#include <gtest/gtest.h>

#include "ldap/options.hpp"

namespace dirfeed::ldap {
namespace {

TEST(Sid, DecodesDomainSid) {
  // S-1-5-21-111668381-1668034328-678415164-513
  std::string bytes("\x01\x05\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\x9d\xec\xa7\x06"
                    "\x18\x2f\x6c\x63\x3c\xcb\x6f\x28\x01\x02\x00\x00", 28);
  EXPECT_EQ(sid_to_string(bytes), "S-1-5-21-111668381-1668034328-678415164-513");
}

TEST(Sid, DecodesBuiltinSidAndRejectsGarbage) {
  std::string builtin("\x01\x02\x00\x00\x00\x00\x00\x05\x20\x00\x00\x00\x20\x02\x00\x00", 16);
  EXPECT_EQ(sid_to_string(builtin), "S-1-5-32-544");
  EXPECT_EQ(sid_to_string("short"), "");
  EXPECT_EQ(sid_to_string(std::string("\x01\x05\x00\x00\x00\x00\x00\x05\x15", 9)), "");
}

TEST(GeneralizedTime, BecomesIso8601) {
  EXPECT_EQ(generalized_time_to_iso("20261123013638.0Z"), "2026-11-23T01:36:38Z");
  EXPECT_EQ(generalized_time_to_iso("20261123013638Z"), "2026-11-23T01:36:38Z");
  EXPECT_FALSE(generalized_time_to_iso("2026112301363.0Z"));
  EXPECT_FALSE(generalized_time_to_iso("20261123013638.0"));
}

TEST(Escaping, FilterValuesPerRfc4515) {
  EXPECT_EQ(escape_filter_value("a*b(c)d\\e"), "a\\2ab\\28c\\29d\\5ce");
  EXPECT_EQ(escape_filter_value(std::string("x\0y", 3)), "x\\00y");
  EXPECT_EQ(escape_filter_value("CN=Smith\\, John"), "CN=Smith\\5c, John");
}

TEST(ExtendedDn, SplitsGuidAndDn) {
  auto parsed = parse_extended_dn(
      "<GUID=d1073b284a5b6c7d8e9fa0b1c2d3e4f5>;<SID=0105>;CN=Smith\\, John,DC=x");
  EXPECT_EQ(parsed.dn, "CN=Smith\\, John,DC=x");
  EXPECT_EQ(parsed.guid, std::string("\xd1\x07\x3b\x28\x4a\x5b\x6c\x7d\x8e\x9f\xa0\xb1\xc2\xd3\xe4\xf5", 16));
  auto plain = parse_extended_dn("CN=a,DC=x");
  EXPECT_EQ(plain.dn, "CN=a,DC=x");
  EXPECT_TRUE(plain.guid.empty());
  EXPECT_TRUE(parse_extended_dn("<GUID=zz>;CN=a").guid.empty());
}

TEST(Numbers, ParsesSignedAdFlagsAsUnsigned) {
  EXPECT_EQ(parse_u32("-2147483646"), 2147483650u);
  EXPECT_EQ(parse_u32("512"), 512u);
  EXPECT_FALSE(parse_u32("12a"));
  EXPECT_FALSE(parse_u32(""));
}

TEST(Options, BaseDnFromDomainName) {
  EXPECT_EQ(base_dn_from_domain("example.test"), "DC=example,DC=test");
  EXPECT_EQ(base_dn_from_domain("corp"), "DC=corp");
}

}  // namespace
}  // namespace dirfeed::ldap

namespace dirfeed::ldap {
namespace {

// Controller URIs as libldap reads them (ldap_url_parse), with nothing but scheme, host, port.
TEST(ControllerHost, IsTheHostOfAPlainLdapOrLdapsUri) {
  EXPECT_EQ(controller_host("ldaps://dc1.example.test"), "dc1.example.test");
  EXPECT_EQ(controller_host("LDAP://dc1.example.test:389/"), "dc1.example.test");
  EXPECT_EQ(controller_host("ldaps://10.0.0.5:636"), "10.0.0.5");
  EXPECT_EQ(controller_host("ldaps://[2001:db8::1]:636"), "2001:db8::1");
  EXPECT_EQ(controller_host("ldaps://[2001:db8::1]"), "2001:db8::1");
  for (const char* bad : {"http://dc1", "ldaps://", "ldaps://:636", "ldaps://dc1:0", "ldaps://dc1:",
                          "ldaps://dc1:70000", "ldaps://dc1:63x", "ldaps://dc1/DC=example,DC=test",
                          "ldaps://dc1/??sub", "ldaps://dc1?cn", "ldaps://dc 1", "dc1.example.test"}) {
    EXPECT_EQ(controller_host(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace dirfeed::ldap
