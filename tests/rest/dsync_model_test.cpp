// What a Directory Sync API directory views (in_directory) and the user and group JSON fields
// that follow from AD values; the full shapes are asserted in dsync_api_test.cpp.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "rest/dsync_model.hpp"

namespace dirfeed::rest {
namespace {

pb::Directory view(const std::vector<std::string>& base_dns, const std::string& group_guid = "") {
  pb::Directory directory;
  directory.set_domain("example.test");
  for (const std::string& dn : base_dns) directory.add_base_dns(dn);
  directory.set_group_guid(group_guid);
  return directory;
}

pb::DirectoryObject object(const std::string& dn, const std::vector<std::string>& groups = {},
                           const std::string& domain = "example.test") {
  pb::DirectoryObject result;
  result.set_guid(std::string(16, 'o'));
  result.set_kind(pb::USER);
  result.set_domain(domain);
  result.set_dn(dn);
  result.set_from_directory(true);
  for (const std::string& group : groups) result.add_member_of(group);
  return result;
}

const std::string kStaff = "OU=Staff,DC=example,DC=test";

TEST(InDirectoryTest, ApiCreatedObjectsOnlyWithIncludeApiUsers) {
  pb::DirectoryObject created = object("CN=a,DC=example,DC=test");
  created.set_from_directory(false);  // POST /user: not read from AD
  pb::Directory directory = view({});
  EXPECT_FALSE(in_directory(directory, created));
  directory.set_include_api_users(true);
  EXPECT_TRUE(in_directory(directory, created));
  EXPECT_TRUE(in_directory(directory, object("CN=b,DC=example,DC=test")));
}

TEST(InDirectoryTest, WholeDomainWithoutNarrowing) {
  EXPECT_TRUE(in_directory(view({}), object("CN=a,OU=Anywhere,DC=example,DC=test")));
  EXPECT_TRUE(in_directory(view({}), object("CN=a,DC=example,DC=test", {}, "EXAMPLE.test")))
      << "domains compare case-insensitively";
  EXPECT_FALSE(in_directory(view({}), object("CN=a,DC=other,DC=test", {}, "other.test")));
}

TEST(InDirectoryTest, BaseDnIncludesItselfAndWhatIsUnderIt) {
  EXPECT_TRUE(in_directory(view({kStaff}), object(kStaff)));
  EXPECT_TRUE(in_directory(view({kStaff}), object("CN=a," + kStaff)));
  EXPECT_TRUE(in_directory(view({kStaff}), object("CN=a,OU=Sub," + kStaff)));
  EXPECT_FALSE(in_directory(view({kStaff}), object("CN=a,OU=People,DC=example,DC=test")));
  EXPECT_FALSE(in_directory(view({kStaff}), object("DC=example,DC=test"))) << "its parent";
}

TEST(InDirectoryTest, BaseDnComparesCaseInsensitively) {
  EXPECT_TRUE(in_directory(view({"ou=staff,dc=EXAMPLE,dc=test"}), object("CN=a," + kStaff)));
  EXPECT_TRUE(in_directory(view({kStaff}), object("cn=A,ou=STAFF,dc=example,dc=TEST")));
}

TEST(InDirectoryTest, SiblingWithACommonSuffixIsOutside) {
  EXPECT_FALSE(in_directory(view({kStaff}), object("CN=a,OU=OldStaff,DC=example,DC=test")));
  EXPECT_FALSE(in_directory(view({kStaff}), object("OU=OldStaff,DC=example,DC=test")));
  EXPECT_FALSE(in_directory(view({"CN=bob," + kStaff}), object("CN=jimbob," + kStaff)));
}

TEST(InDirectoryTest, AnEscapedCommaDoesNotEndAnRdn) {
  // "Old,OU=Staff" is one OU's name: its entries are not under OU=Staff.
  EXPECT_FALSE(in_directory(view({kStaff}), object("CN=a,OU=Old\\,OU=Staff,DC=example,DC=test")));
  EXPECT_FALSE(in_directory(view({kStaff}), object("OU=Old\\,OU=Staff,DC=example,DC=test")));
  // An escaped backslash before the comma leaves the comma a separator.
  EXPECT_TRUE(in_directory(view({kStaff}), object("CN=a\\\\,OU=Staff,DC=example,DC=test")));
  // Escaped commas inside the base itself.
  const std::string smith = "CN=Smith\\, John," + kStaff;
  EXPECT_TRUE(in_directory(view({smith}), object(smith)));
  EXPECT_FALSE(in_directory(view({smith}), object("CN=Smith\\, Johnny," + kStaff)));
}

TEST(InDirectoryTest, AnyOfSeveralBaseDns) {
  const pb::Directory directory = view({kStaff, "OU=Groups,DC=example,DC=test"});
  EXPECT_TRUE(in_directory(directory, object("CN=a," + kStaff)));
  EXPECT_TRUE(in_directory(directory, object("CN=g,OU=Groups,DC=example,DC=test")));
  EXPECT_FALSE(in_directory(directory, object("CN=a,OU=People,DC=example,DC=test")));
}

TEST(InDirectoryTest, GroupIsItselfAndItsDirectMembers) {
  const std::string group(16, 'g');
  const std::string other(16, 'h');
  pb::DirectoryObject itself = object("CN=g,OU=Groups,DC=example,DC=test");
  itself.set_kind(pb::GROUP);
  itself.set_guid(group);
  EXPECT_TRUE(in_directory(view({}, group), itself));
  EXPECT_TRUE(in_directory(view({}, group), object("CN=a," + kStaff, {other, group})));
  EXPECT_FALSE(in_directory(view({}, group), object("CN=a," + kStaff, {other})));
  EXPECT_FALSE(in_directory(view({}, group), object("CN=a," + kStaff)));
}

TEST(InDirectoryTest, BaseDnsAndGroupMustBothHold) {
  const std::string group(16, 'g');
  EXPECT_TRUE(in_directory(view({kStaff}, group), object("CN=a," + kStaff, {group})));
  EXPECT_FALSE(in_directory(view({kStaff}, group), object("CN=a,OU=People,DC=example,DC=test", {group})));
  EXPECT_FALSE(in_directory(view({kStaff}, group), object("CN=a," + kStaff)));
}

TEST(DsyncModelTest, EmailFallsBackToTheUserPrincipalName) {
  pb::DirectoryObject user = object("CN=a," + kStaff);
  EXPECT_EQ(user_email(user), "");
  user.set_user_principal_name("a@example.test");
  EXPECT_EQ(user_email(user), "a@example.test");
  user.set_mail("a.mail@example.test");
  EXPECT_EQ(user_email(user), "a.mail@example.test");
}

TEST(DsyncModelTest, ActiveFollowsTheAccountDisableBit) {
  pb::DirectoryObject user = object("CN=a," + kStaff);
  user.set_user_account_control(0x200);
  std::string enabled;
  JsonWriter enabled_json(enabled);
  write_dsync_user(enabled_json, user, "dir");
  EXPECT_NE(enabled.find(R"("active":true,"directoryId":"dir","raw")"), std::string::npos) << enabled;
  user.set_user_account_control(0x202);
  std::string disabled;
  JsonWriter disabled_json(disabled);
  write_dsync_user(disabled_json, user, "dir");
  EXPECT_NE(disabled.find(R"("active":false,"directoryId":"dir","raw")"), std::string::npos) << disabled;
}

TEST(DsyncModelTest, GroupWithoutAStoreHasNoMembers) {
  pb::DirectoryObject group = object("CN=g,OU=Groups,DC=example,DC=test");
  group.set_kind(pb::GROUP);
  group.set_sam_account_name("g");
  std::string text;
  JsonWriter json(text);
  write_dsync_group(json, group, "dir", nullptr);
  EXPECT_EQ(text.find("members"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("name":"g","directoryId":"dir","raw")"), std::string::npos) << "sAMAccountName without displayName";
}

}  // namespace
}  // namespace dirfeed::rest
