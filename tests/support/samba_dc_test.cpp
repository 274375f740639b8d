// The Samba AD DC fixture itself: reset gives a fresh domain, LDIF and searches work over
// LDAPS with certificate verification, stop/start keeps data.
#include <gtest/gtest.h>

#include <string>

#include "tests/support/samba_dc.hpp"

namespace {

using dirfeed::testing::SambaDc;
using dirfeed::testing::shared_dc;

int count_entries(const std::string& ldif) {
  int n = 0;
  for (std::size_t pos = 0; (pos = ldif.find("dn: ", pos)) != std::string::npos; pos += 4) {
    if (pos == 0 || ldif[pos - 1] == '\n') ++n;
  }
  return n;
}

const std::string kOu = "OU=Fixture,DC=example,DC=test";

void add_ou_and_users(const SambaDc& dc) {
  dc.ldif("dn: " + kOu + "\nchangetype: add\nobjectClass: organizationalUnit\n");
  dc.add_users(kOu, "fixt", 3);
}

TEST(SambaFixture, AccessorsDescribeTheDomain) {
  SambaDc& dc = shared_dc();
  EXPECT_EQ(dc.uri(), "ldaps://dc1.example.test");
  EXPECT_EQ(dc.base_dn(), "DC=example,DC=test");
  EXPECT_EQ(dc.domain(), "example.test");
  EXPECT_EQ(dc.admin_dn(), "Administrator@example.test");
  EXPECT_EQ(dc.ca_file(), dc.dir() + "/private/tls/ca.pem");
  EXPECT_FALSE(dc.admin_password().empty());
  const std::string root = dc.search(dc.base_dn(), "(objectClass=domain)", {"dc"});
  EXPECT_NE(root.find("dn: DC=example,DC=test\n"), std::string::npos) << root;
  EXPECT_EQ(root.find('#'), std::string::npos) << "comments must be stripped:\n" << root;
}

TEST(SambaFixture, AddsUsersAndResetRemovesThem) {
  SambaDc& dc = shared_dc();
  dc.reset();
  add_ou_and_users(dc);

  const std::string users =
      dc.search(kOu, "(&(objectClass=user)(sAMAccountName=fixt*))",
                {"sAMAccountName", "userAccountControl", "userPrincipalName"});
  EXPECT_EQ(count_entries(users), 3) << users;
  for (const char* name : {"fixt0001", "fixt0002", "fixt0003"}) {
    EXPECT_NE(users.find(std::string("dn: CN=") + name + "," + kOu + "\n"), std::string::npos)
        << users;
    EXPECT_NE(users.find(std::string("userPrincipalName: ") + name + "@example.test\n"),
              std::string::npos);
  }
  EXPECT_NE(users.find("userAccountControl: 544\n"), std::string::npos) << "enabled users";

  dc.reset();
  EXPECT_THROW(dc.search(kOu, "(objectClass=*)", {"dn"}), std::runtime_error)
      << "the OU must be gone after reset";
  EXPECT_EQ(count_entries(dc.search(dc.base_dn(), "(sAMAccountName=fixt*)", {"dn"})), 0);
}

TEST(SambaFixture, ShowDeletedFindsTombstones) {
  SambaDc& dc = shared_dc();
  dc.reset();
  add_ou_and_users(dc);
  dc.ldif("dn: CN=fixt0002," + kOu + "\nchangetype: delete\n");
  EXPECT_EQ(count_entries(dc.search(dc.base_dn(), "(sAMAccountName=fixt0002)", {"dn"})), 0);
  const std::string deleted = dc.search(dc.base_dn(), "(&(sAMAccountName=fixt0002)(isDeleted=TRUE))",
                                        {"isDeleted", "objectGUID"}, /*show_deleted=*/true);
  EXPECT_EQ(count_entries(deleted), 1) << deleted;
  EXPECT_NE(deleted.find("CN=Deleted Objects,DC=example,DC=test"), std::string::npos) << deleted;
  EXPECT_NE(deleted.find("isDeleted: TRUE"), std::string::npos) << deleted;
}

TEST(SambaFixture, LdifErrorsThrowWithTheServerMessage) {
  SambaDc& dc = shared_dc();
  try {
    dc.ldif("dn: CN=nobody,OU=Missing,DC=example,DC=test\nchangetype: delete\n");
    FAIL() << "expected an exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("No such object"), std::string::npos) << e.what();
  }
}

TEST(SambaFixture, StopAndStartKeepData) {
  SambaDc& dc = shared_dc();
  dc.reset();
  add_ou_and_users(dc);
  dc.stop();
  EXPECT_THROW(dc.search(kOu, "(objectClass=user)", {"dn"}), std::runtime_error)
      << "a stopped DC must not answer";
  dc.start();
  EXPECT_EQ(count_entries(dc.search(kOu, "(objectClass=user)", {"dn"})), 3);
}

TEST(SambaFixture, UnicodePwdEncodesQuotedUtf16le) {
  // "\"abc\"" as UTF-16LE = 22 00 61 00 62 00 63 00 22 00
  EXPECT_EQ(SambaDc::unicode_pwd("abc"), "IgBhAGIAYwAiAA==");
}

TEST(SambaFixture, AddsUserWithPassword) {
  SambaDc& dc = shared_dc();
  dc.ldif("dn: CN=svc-dirfeed,CN=Users,DC=example,DC=test\nchangetype: add\n"
          "objectClass: user\nsAMAccountName: svc-dirfeed\n"
          "unicodePwd:: " + SambaDc::unicode_pwd("Svc!Passw0rd-1") + "\nuserAccountControl: 512\n");
  const std::string svc = dc.search(dc.base_dn(), "(sAMAccountName=svc-dirfeed)", {"pwdLastSet"});
  EXPECT_EQ(svc.find("pwdLastSet: 0\n"), std::string::npos) << svc;
  EXPECT_NE(svc.find("pwdLastSet: "), std::string::npos) << svc;
}

}  // namespace
