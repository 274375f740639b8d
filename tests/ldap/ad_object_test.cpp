#include "ldap/ad_object.hpp"

#include <gtest/gtest.h>

namespace dirfeed::ldap {
namespace {

const std::string kUserGuidHex = "d1073b284a5b6c7d8e9fa0b1c2d3e4f5";
const std::string kUserGuid("\xd1\x07\x3b\x28\x4a\x5b\x6c\x7d\x8e\x9f\xa0\xb1\xc2\xd3\xe4\xf5", 16);
const std::string kGroupGuidHex = "00112233445566778899aabbccddeeff";
const std::string kDomainSidBytes("\x01\x04\x00\x00\x00\x00\x00\x05\x15\x00\x00\x00\x01\x00\x00\x00"
                                  "\x02\x00\x00\x00\x03\x00\x00\x00", 24);

DomainContext context() {
  return {"example.test", "DC=example,DC=test", "EXAMPLE", "S-1-5-21-1-2-3", {}};
}

Entry user_entry() {
  Entry entry;
  entry.dn = "<GUID=" + kUserGuidHex + ">;CN=Smith\\, John,OU=Staff,DC=example,DC=test";
  entry.attributes = {
      {"objectguid", {kUserGuid}},
      {"objectclass", {"top", "person", "organizationalPerson", "user"}},
      {"samaccountname", {"jsmith"}},
      {"displayname", {"John Smith"}},
      {"useraccountcontrol", {"514"}},
      {"primarygroupid", {"513"}},
      {"whencreated", {"20261123013638.0Z"}},
      {"telephonenumber", {"+1 555"}},
      {"othertelephone", {"+1 556", "+1 557"}},
  };
  return entry;
}

TEST(DecodeObject, CompleteUser) {
  auto observed = decode_object(user_entry(), context(), ReadMode::kComplete);
  ASSERT_TRUE(observed);
  const auto& object = observed->object();
  EXPECT_EQ(object.guid(), kUserGuid);
  EXPECT_EQ(object.kind(), pb::USER);
  EXPECT_EQ(object.dn(), "CN=Smith\\, John,OU=Staff,DC=example,DC=test");
  EXPECT_EQ(object.domain(), "example.test");
  EXPECT_EQ(object.netbios_domain(), "EXAMPLE");
  EXPECT_EQ(object.sam_account_name(), "jsmith");
  EXPECT_EQ(object.user_account_control(), 514u);
  EXPECT_EQ(object.when_created(), "2026-11-23T01:36:38Z");
  EXPECT_EQ(object.telephone_number(), "+1 555");
  ASSERT_EQ(object.other_telephones_size(), 2);
  EXPECT_TRUE(object.from_directory());
  EXPECT_EQ(observed->primary_group_sid(), "S-1-5-21-1-2-3-513");
  EXPECT_FALSE(observed->partial());
  EXPECT_FALSE(observed->deleted());
  EXPECT_FALSE(observed->members_known());  // users have no members
}

TEST(DecodeObject, GroupWithoutMemberAttributeHasNoMembersWhenComplete) {
  Entry entry;
  entry.dn = "<GUID=" + kGroupGuidHex + ">;CN=Empty,DC=example,DC=test";
  entry.attributes = {{"objectclass", {"top", "group"}}, {"objectsid", {kDomainSidBytes}}};
  auto observed = decode_object(entry, context(), ReadMode::kComplete);
  ASSERT_TRUE(observed);
  EXPECT_EQ(observed->object().kind(), pb::GROUP);
  EXPECT_EQ(observed->object().sid(), "S-1-5-21-1-2-3");
  EXPECT_TRUE(observed->members_known());
  EXPECT_EQ(observed->members_size(), 0);
}

TEST(DecodeObject, RangedMembersReportWhereToContinue) {
  Entry entry;
  entry.dn = "<GUID=" + kGroupGuidHex + ">;CN=Big,DC=example,DC=test";
  entry.attributes = {{"objectclass", {"group"}},
                      {"member;range=0-1", {"<GUID=" + kUserGuidHex + ">;CN=a", "CN=no-guid"}}};
  MemberRange range;
  auto observed = decode_object(entry, context(), ReadMode::kComplete, &range);
  ASSERT_TRUE(observed);
  EXPECT_FALSE(range.complete);
  EXPECT_EQ(range.next_start, 2);
  ASSERT_EQ(observed->members_size(), 1);
  EXPECT_EQ(observed->members(0), kUserGuid);

  Entry last;
  last.attributes = {{"member;range=2-*", {"<GUID=" + kGroupGuidHex + ">;CN=b"}}};
  MemberRange end = take_members(last, *observed);
  EXPECT_TRUE(end.complete);
  EXPECT_EQ(observed->members_size(), 2);
}

TEST(DecodeObject, DirSyncIncrementalIsPartialWithMemberDeltas) {
  Entry entry;
  entry.dn = "<GUID=" + kGroupGuidHex + ">;CN=G,DC=example,DC=test";
  entry.attributes = {{"description", {}},
                      {"member;range=1-1", {"<GUID=" + kUserGuidHex + ">;CN=a"}},
                      {"member;range=0-0", {"<GUID=" + kGroupGuidHex + ">;CN=b"}}};
  auto observed = decode_object(entry, context(), ReadMode::kDirSyncIncremental);
  ASSERT_TRUE(observed);
  EXPECT_TRUE(observed->partial());
  EXPECT_EQ(observed->object().kind(), pb::OBJECT_KIND_UNSPECIFIED);
  std::vector<std::string> present(observed->present_fields().begin(),
                                   observed->present_fields().end());
  EXPECT_NE(std::find(present.begin(), present.end(), "description"), present.end());
  EXPECT_NE(std::find(present.begin(), present.end(), "dn"), present.end());
  EXPECT_EQ(std::find(present.begin(), present.end(), "mail"), present.end());
  EXPECT_FALSE(observed->members_known());
  EXPECT_TRUE(observed->members_delta());
  ASSERT_EQ(observed->members_size(), 1);
  ASSERT_EQ(observed->members_removed_size(), 1);
}

TEST(DecodeObject, DirSyncIncrementalWithoutMemberLeavesMembershipUnknown) {
  Entry entry = user_entry();
  auto observed = decode_object(entry, context(), ReadMode::kDirSyncIncremental);
  ASSERT_TRUE(observed);
  EXPECT_FALSE(observed->members_known());
  EXPECT_FALSE(observed->members_delta());
}

TEST(DecodeObject, TombstoneIsDeleted) {
  Entry entry;
  entry.dn = "<GUID=" + kUserGuidHex + ">;CN=x\\0ADEL:...,CN=Deleted Objects,DC=example,DC=test";
  entry.attributes = {{"isdeleted", {"TRUE"}}};
  auto observed = decode_object(entry, context(), ReadMode::kDirSyncIncremental);
  ASSERT_TRUE(observed);
  EXPECT_TRUE(observed->deleted());
  EXPECT_EQ(observed->object().guid(), kUserGuid);
}

TEST(DecodeObject, OutsideSearchBasesMeansLeftTheScope) {
  DomainContext scoped = context();
  scoped.search_bases = {"OU=Sales,DC=example,DC=test"};
  auto observed = decode_object(user_entry(), scoped, ReadMode::kComplete);
  ASSERT_TRUE(observed);
  EXPECT_TRUE(observed->deleted());
  scoped.search_bases.push_back("ou=staff,dc=EXAMPLE,dc=test");
  observed = decode_object(user_entry(), scoped, ReadMode::kComplete);
  ASSERT_TRUE(observed);
  EXPECT_FALSE(observed->deleted());
}

TEST(DecodeObject, EntryWithoutGuidIsSkipped) {
  Entry entry;
  entry.dn = "CN=x,DC=example,DC=test";
  EXPECT_FALSE(decode_object(entry, context(), ReadMode::kComplete));
}

}  // namespace
}  // namespace dirfeed::ldap
