// The change semantics of apply_page (DESIGN.md section 5), one rule per test.
#include <gtest/gtest.h>

#include <utility>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

using Lines = std::vector<std::string>;

// ---- objects -----------------------------------------------------------------------------

TEST_F(StoreTest, AddStoresObjectWithDerivedFields) {
  CommitStats stats;
  EXPECT_EQ(apply({user("alice")}, kDomain, &stats), Lines({"ADD USER alice"}));
  EXPECT_EQ(stats.changes, 1u);

  const pb::DirectoryObject alice = stored("alice");
  EXPECT_TRUE(alice.from_directory());
  EXPECT_EQ(alice.domain(), kDomain);
  EXPECT_EQ(alice.last_read_us(), clock_.now_us());
  EXPECT_EQ(alice.display_name(), "alice Display");

  const pb::Change add = changes_after(0).at(0);
  EXPECT_EQ(add.domain(), kDomain);
  EXPECT_TRUE(add.from_directory());
  EXPECT_EQ(add.object().SerializeAsString(), alice.SerializeAsString());
}

TEST_F(StoreTest, RereadingUnchangedObjectWritesNothing) {
  apply({user("alice"), group("staff", {"alice"})});
  const int64_t first_read = stored("alice").last_read_us();
  clock_.advance(5'000'000);

  EXPECT_EQ(apply({user("alice"), group("staff", {"alice"})}), Lines());
  EXPECT_EQ(stored("alice").last_read_us(), first_read);
}

TEST_F(StoreTest, ChangedAttributeEmitsModifyWithNewState) {
  apply({user("alice")});
  clock_.advance(1'000);
  pb::ObservedObject changed = user("alice");
  changed.mutable_object()->set_title("Engineer");

  EXPECT_EQ(apply({changed}), Lines({"MODIFY USER alice"}));
  EXPECT_EQ(stored("alice").title(), "Engineer");
  EXPECT_EQ(stored("alice").last_read_us(), clock_.now_us());
  EXPECT_EQ(changes_after(1).at(0).object().title(), "Engineer");
}

TEST_F(StoreTest, FullObservationKeepsDerivedFields) {
  apply({group("staff", {}), user("alice")});
  apply({group("staff", {"alice"})});
  // A full read of alice without a kind still keeps kind, domain and member_of.
  pb::ObservedObject reread = user("alice");
  reread.mutable_object()->set_kind(pb::OBJECT_KIND_UNSPECIFIED);
  reread.mutable_object()->set_domain("other.test");

  EXPECT_EQ(apply({reread}), Lines());
  EXPECT_EQ(stored("alice").kind(), pb::USER);
  EXPECT_EQ(stored("alice").domain(), kDomain);
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
}

TEST_F(StoreTest, DeleteRemovesObjectAndIndexesKeepingLastState) {
  pb::ObservedObject alice = user("alice");
  alice.mutable_object()->set_title("Engineer");
  apply({alice});

  EXPECT_EQ(apply({deleted("alice")}), Lines({"DELETE USER alice"}));
  EXPECT_EQ(changes_after(1).at(0).object().title(), "Engineer");
  EXPECT_FALSE(store_->object_by_guid(guid("alice")));
  EXPECT_FALSE(store_->object_by_dn("CN=alice,OU=People,DC=example,DC=test"));
  EXPECT_FALSE(store_->object_by_ntlm("EXAMPLE\\alice"));
  size_t users = 0;
  store_->objects(pb::USER, kDomain, [&](const pb::DirectoryObject&) { return ++users, true; });
  EXPECT_EQ(users, 0u);

  EXPECT_EQ(apply({deleted("alice"), deleted("never-seen")}), Lines());
}

TEST_F(StoreTest, UnknownObjectWithoutKindIsIgnored) {
  pb::ObservedObject no_kind = partial("alice", {"display_name"});
  no_kind.mutable_object()->set_display_name("Alice");
  pb::ObservedObject bad_guid = user("bob");
  bad_guid.mutable_object()->set_guid("short");
  CommitStats stats;

  EXPECT_EQ(apply({no_kind, bad_guid}, kDomain, &stats), Lines());
  EXPECT_EQ(stats.ignored, 2u);
  EXPECT_FALSE(store_->object_by_guid(guid("alice")));
}

TEST_F(StoreTest, DnRenameMovesTheIndexEntry) {
  apply({user("alice")});
  pb::ObservedObject renamed = user("alice");
  renamed.mutable_object()->set_dn("CN=Alice Smith\\, Jr,OU=Staff,DC=example,DC=test");

  EXPECT_EQ(apply({renamed}), Lines({"MODIFY USER alice"}));
  EXPECT_FALSE(store_->object_by_dn("CN=alice,OU=People,DC=example,DC=test"));
  ASSERT_TRUE(store_->object_by_dn("cn=alice smith\\, jr,ou=staff,dc=EXAMPLE,dc=test"));
  EXPECT_EQ(store_->object_by_dn("CN=Alice Smith\\, Jr,OU=Staff,DC=example,DC=test")->guid(),
            guid("alice"));
}

TEST_F(StoreTest, DnSwapWithinOnePageKeepsBothIndexEntries) {
  apply({user("alice"), user("bob")});
  pb::ObservedObject alice = user("alice");
  pb::ObservedObject bob = user("bob");
  alice.mutable_object()->set_dn(user("bob").object().dn());
  bob.mutable_object()->set_dn(user("alice").object().dn());

  EXPECT_EQ(apply({alice, bob}), Lines({"MODIFY USER alice", "MODIFY USER bob"}));
  EXPECT_EQ(store_->object_by_dn("CN=bob,OU=People,DC=example,DC=test")->guid(), guid("alice"));
  EXPECT_EQ(store_->object_by_dn("CN=alice,OU=People,DC=example,DC=test")->guid(), guid("bob"));
}

TEST_F(StoreTest, SamRenameMovesTheNtlmIndexEntry) {
  apply({user("alice")});
  pb::ObservedObject renamed = user("alice");
  renamed.mutable_object()->set_sam_account_name("asmith");

  EXPECT_EQ(apply({renamed}), Lines({"MODIFY USER alice"}));
  EXPECT_FALSE(store_->object_by_ntlm("EXAMPLE\\alice"));
  ASSERT_TRUE(store_->object_by_ntlm("example\\ASMITH"));
  EXPECT_EQ(store_->object_by_ntlm("example\\ASMITH")->guid(), guid("alice"));
}

TEST_F(StoreTest, LookupsIgnoreCase) {
  apply({user("alice"), group("Staff", {"alice"})});

  ASSERT_TRUE(store_->object_by_dn("cn=ALICE,ou=people,DC=Example,DC=Test"));
  EXPECT_EQ(store_->object_by_dn("cn=ALICE,ou=people,DC=Example,DC=Test")->guid(), guid("alice"));
  ASSERT_TRUE(store_->object_by_ntlm("example\\ALICE"));
  EXPECT_EQ(store_->object_by_ntlm("Example\\Alice")->guid(), guid("alice"));
  ASSERT_TRUE(store_->object_by_ntlm("EXAMPLE\\staff"));
  ASSERT_TRUE(store_->group_by_sid(sid("Staff")));
  EXPECT_EQ(store_->group_by_sid(sid("Staff"))->guid(), guid("Staff"));
  EXPECT_FALSE(store_->group_by_sid(sid("alice"))) << "a user's SID is not a group";
  EXPECT_FALSE(store_->object_by_dn("CN=nobody,DC=example,DC=test"));
}

// ---- partial (DirSync) observations ------------------------------------------------------

TEST_F(StoreTest, PartialObservationOverwritesOnlyPresentFields) {
  pb::ObservedObject alice = user("alice");
  alice.mutable_object()->set_title("Engineer");
  alice.mutable_object()->set_telephone_number("+1 555 0100");
  alice.mutable_object()->add_other_telephones("+1 555 0199");
  apply({alice});

  pb::ObservedObject update = partial("alice", {"display_name", "other_telephones"});
  update.mutable_object()->set_display_name("Alice Smith");  // other_telephones cleared
  update.mutable_object()->set_title("ignored: not present");

  EXPECT_EQ(apply({update}), Lines({"MODIFY USER alice"}));
  const pb::DirectoryObject merged = stored("alice");
  EXPECT_EQ(merged.display_name(), "Alice Smith");
  EXPECT_EQ(merged.other_telephones_size(), 0);
  EXPECT_EQ(merged.telephone_number(), "+1 555 0100");
  EXPECT_EQ(merged.title(), "Engineer");
  EXPECT_EQ(merged.mail(), "alice@example.test");
  EXPECT_EQ(merged.kind(), pb::USER);
}

TEST_F(StoreTest, PartialObservationCannotOverwriteDerivedFields) {
  apply({group("staff", {}), user("alice")});
  apply({group("staff", {"alice"})});
  pb::ObservedObject update = partial("alice", {"member_of", "domain", "from_directory"});
  update.mutable_object()->set_domain("other.test");

  EXPECT_EQ(apply({update}), Lines());
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
  EXPECT_EQ(stored("alice").domain(), kDomain);
  EXPECT_TRUE(stored("alice").from_directory());
}

TEST_F(StoreTest, PartialObservationWithSameValuesWritesNothing) {
  apply({user("alice")});
  pb::ObservedObject update = partial("alice", {"display_name"});
  update.mutable_object()->set_display_name("alice Display");

  EXPECT_EQ(apply({update}), Lines());
}

// ---- membership edges --------------------------------------------------------------------

TEST_F(StoreTest, EdgeAddAndRemoveEmitMembershipAndOneModifyPerObject) {
  apply({user("alice"), user("bob"), group("staff", {"alice"})});
  pb::ObservedObject staff = group("staff", {"bob"});
  staff.mutable_object()->set_description("renamed description");

  EXPECT_EQ(apply({staff}), Lines({"MEMBERSHIP DELETE alice->staff", "MEMBERSHIP ADD bob->staff",
                                   "MODIFY GROUP staff", "MODIFY USER alice", "MODIFY USER bob"}));
  EXPECT_EQ(groups_of("alice"), Lines());
  EXPECT_EQ(groups_of("bob"), Lines({"staff"}));
  EXPECT_EQ(members_of("staff"), Lines({"bob"}));

  // The MODIFY entries carry the final state.
  const std::vector<pb::Change> changes = changes_after(store_->last_sequence() - 3);
  EXPECT_EQ(changes.at(0).object().description(), "renamed description");
  EXPECT_EQ(changes.at(1).object().member_of_size(), 0);
  EXPECT_EQ(changes.at(2).object().member_of_size(), 1);
}

TEST_F(StoreTest, SeveralEdgesOfOneMemberInOnePageGiveOneModify) {
  apply({user("alice"), group("staff", {}), group("admins", {})});

  EXPECT_EQ(apply({group("staff", {"alice"}), group("admins", {"alice"})}),
            Lines({"MEMBERSHIP ADD alice->staff", "MEMBERSHIP ADD alice->admins",
                   "MODIFY USER alice", "MODIFY GROUP staff", "MODIFY GROUP admins"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff", "admins"}));
  EXPECT_EQ(changes_after(store_->last_sequence() - 3).at(0).object().member_of_size(), 2);
}

TEST_F(StoreTest, EmptyKnownMemberListRemovesAllEdges) {
  apply({user("alice"), user("bob"), group("staff", {"alice", "bob"})});

  EXPECT_EQ(apply({group("staff", {})}),
            Lines({"MEMBERSHIP DELETE alice->staff", "MEMBERSHIP DELETE bob->staff",
                   "MODIFY USER alice", "MODIFY GROUP staff", "MODIFY USER bob"}));
  EXPECT_EQ(members_of("staff"), Lines());
}

TEST_F(StoreTest, UnknownMemberListKeepsEdges) {
  apply({user("alice"), group("staff", {"alice"})});
  pb::ObservedObject staff = group("staff", {}, /*members_known=*/false);
  staff.mutable_object()->set_description("new description");

  EXPECT_EQ(apply({staff}), Lines({"MODIFY GROUP staff"}));
  EXPECT_EQ(members_of("staff"), Lines({"alice"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
}

TEST_F(StoreTest, MemberDeltaAddsAndRemovesOnlyTheNamedEdges) {
  apply({user("alice"), user("bob"), user("carol"), group("staff", {"alice", "bob"})});
  pb::ObservedObject delta = partial("staff", {});
  delta.set_members_delta(true);
  delta.add_members(guid("carol"));
  delta.add_members(guid("alice"));  // already a member: no change
  delta.add_members_removed(guid("bob"));

  EXPECT_EQ(apply({delta}), Lines({"MEMBERSHIP DELETE bob->staff", "MEMBERSHIP ADD carol->staff",
                                   "MODIFY USER bob", "MODIFY GROUP staff", "MODIFY USER carol"}));
  EXPECT_EQ(members_of("staff"), Lines({"alice", "carol"}));
}

TEST_F(StoreTest, MembershipChangeAloneRefreshesGroupReadTime) {
  apply({user("alice"), group("staff", {})});
  clock_.advance(1'000);

  EXPECT_EQ(apply({group("staff", {"alice"})}),
            Lines({"MEMBERSHIP ADD alice->staff", "MODIFY USER alice", "MODIFY GROUP staff"}));
  EXPECT_EQ(stored("staff").last_read_us(), clock_.now_us());
  EXPECT_LT(stored("alice").last_read_us(), clock_.now_us()) << "alice itself was not read";
}

TEST_F(StoreTest, NestedGroupGetsMemberOfButNoMembershipEntry) {
  apply({group("staff", {}), group("everyone", {})});

  EXPECT_EQ(apply({group("everyone", {"staff"})}),
            Lines({"MODIFY GROUP staff", "MODIFY GROUP everyone"}));
  EXPECT_EQ(groups_of("staff"), Lines({"everyone"}));
  EXPECT_EQ(members_of("everyone"), Lines({"staff"}));
}

TEST_F(StoreTest, MemberListedBeforeItExistsJoinsOnItsAdd) {
  EXPECT_EQ(apply({group("staff", {"carol"})}), Lines({"ADD GROUP staff"}));
  EXPECT_EQ(members_of("staff"), Lines());

  EXPECT_EQ(apply({user("carol")}), Lines({"ADD USER carol", "MEMBERSHIP ADD carol->staff"}));
  EXPECT_EQ(changes_after(store_->last_sequence() - 2).at(0).object().member_of(0), guid("staff"));
  EXPECT_EQ(members_of("staff"), Lines({"carol"}));
}

TEST_F(StoreTest, GroupListingAMemberAddedEarlierInThePage) {
  EXPECT_EQ(apply({user("alice"), group("staff", {"alice"})}),
            Lines({"ADD USER alice", "ADD GROUP staff", "MEMBERSHIP ADD alice->staff"}))
      << "the ADD carries what happened to alice later in the same page";
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
}

TEST_F(StoreTest, MemberAddedLaterInThePageCarriesItsGroupInItsAdd) {
  EXPECT_EQ(apply({group("staff", {"alice"}), user("alice")}),
            Lines({"ADD GROUP staff", "ADD USER alice", "MEMBERSHIP ADD alice->staff"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
}

TEST_F(StoreTest, GroupRenameDoesNotTouchItsMembers) {
  apply({user("alice"), group("staff", {"alice"})});
  pb::ObservedObject renamed = group("staff", {"alice"});
  renamed.mutable_object()->set_dn("CN=Employees,OU=Groups,DC=example,DC=test");
  renamed.mutable_object()->set_sam_account_name("employees");

  EXPECT_EQ(apply({renamed}), Lines({"MODIFY GROUP staff"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
  EXPECT_TRUE(store_->object_by_ntlm("EXAMPLE\\employees"));
}

TEST_F(StoreTest, GroupDeleteCascadesToMembers) {
  apply({group("admins", {}), user("alice"), user("bob"), group("staff", {})});
  apply({group("staff", {"alice", "bob", "admins"})});

  EXPECT_EQ(apply({deleted("staff")}),
            Lines({"DELETE GROUP staff", "MEMBERSHIP DELETE alice->staff",
                   "MEMBERSHIP DELETE bob->staff", "MODIFY GROUP admins", "MODIFY USER alice",
                   "MODIFY USER bob"}));
  EXPECT_EQ(groups_of("alice"), Lines());
  EXPECT_EQ(groups_of("admins"), Lines());
  EXPECT_EQ(members_of("staff"), Lines());
  EXPECT_FALSE(store_->group_by_sid(sid("staff")));

  // The edges went with the group: a new group with the same GUID starts empty.
  EXPECT_EQ(apply({group("staff", {}, /*members_known=*/false)}), Lines({"ADD GROUP staff"}));
  EXPECT_EQ(members_of("staff"), Lines());
}

TEST_F(StoreTest, MemberDeleteRemovesItsEdges) {
  apply({user("alice"), group("staff", {"alice"})});

  EXPECT_EQ(apply({deleted("alice")}), Lines({"DELETE USER alice",
                                              "MEMBERSHIP DELETE alice->staff"}))
      << "a member's delete does not modify its groups";
  EXPECT_EQ(members_of("staff"), Lines());
  // Re-created with the same GUID, it is in no group until a group lists it again.
  EXPECT_EQ(apply({user("alice")}), Lines({"ADD USER alice"}));
  EXPECT_EQ(groups_of("alice"), Lines());
}

TEST_F(StoreTest, ObjectModifiedThenDeletedInOnePageGetsOnlyItsDelete) {
  apply({user("alice"), group("staff", {})});

  EXPECT_EQ(apply({group("staff", {"alice"}), deleted("alice")}),
            Lines({"MEMBERSHIP ADD alice->staff", "DELETE USER alice",
                   "MEMBERSHIP DELETE alice->staff", "MODIFY GROUP staff"}));
  EXPECT_EQ(changes_after(store_->last_sequence() - 3).at(0).object().member_of_size(), 1)
      << "the DELETE carries the state reached within the page";
}

// ---- primary group -----------------------------------------------------------------------

TEST_F(StoreTest, PrimaryGroupStoredBeforeUser) {
  apply({group("domain-users", {})});

  EXPECT_EQ(apply({user("alice", "domain-users")}),
            Lines({"ADD USER alice", "MEMBERSHIP ADD alice->domain-users"}));
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users"}));
  EXPECT_EQ(members_of("domain-users"), Lines({"alice"}));
}

TEST_F(StoreTest, PrimaryGroupStoredAfterUser) {
  EXPECT_EQ(apply({user("alice", "domain-users")}), Lines({"ADD USER alice"}));
  EXPECT_EQ(groups_of("alice"), Lines());

  EXPECT_EQ(apply({group("domain-users", {})}),
            Lines({"ADD GROUP domain-users", "MEMBERSHIP ADD alice->domain-users",
                   "MODIFY USER alice"}));
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users"}));
  EXPECT_EQ(members_of("domain-users"), Lines({"alice"}));
}

TEST_F(StoreTest, PrimaryGroupChangeMovesMembership) {
  apply({group("domain-users", {}), group("staff", {}), user("alice", "domain-users")});

  EXPECT_EQ(apply({user("alice", "staff")}),
            Lines({"MEMBERSHIP DELETE alice->domain-users", "MEMBERSHIP ADD alice->staff",
                   "MODIFY USER alice", "MODIFY GROUP domain-users", "MODIFY GROUP staff"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
  EXPECT_EQ(stored("alice").primary_group_id(), rid("staff"));
  EXPECT_EQ(members_of("domain-users"), Lines());
  EXPECT_EQ(members_of("staff"), Lines({"alice"}));
}

TEST_F(StoreTest, PartialWithoutPrimaryGroupKeepsIt) {
  apply({group("domain-users", {}), user("alice", "domain-users")});
  pb::ObservedObject update = partial("alice", {"title"});
  update.mutable_object()->set_title("Engineer");

  EXPECT_EQ(apply({update}), Lines({"MODIFY USER alice"}));
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users"}));
  EXPECT_EQ(members_of("domain-users"), Lines({"alice"}));
}

TEST_F(StoreTest, PartialNamingPrimaryGroupChangesIt) {
  apply({group("domain-users", {}), group("staff", {}), user("alice", "domain-users")});
  pb::ObservedObject update = partial("alice", {"primary_group_id"});
  update.mutable_object()->set_primary_group_id(rid("staff"));
  update.set_primary_group_sid(sid("staff"));

  EXPECT_EQ(apply({update}),
            Lines({"MEMBERSHIP DELETE alice->domain-users", "MEMBERSHIP ADD alice->staff",
                   "MODIFY USER alice", "MODIFY GROUP domain-users", "MODIFY GROUP staff"}));
  EXPECT_EQ(groups_of("alice"), Lines({"staff"}));
}

TEST_F(StoreTest, PrimaryGroupAndMemberEdgeCountOnce) {
  apply({group("domain-users", {}), user("alice", "domain-users")});

  EXPECT_EQ(apply({group("domain-users", {"alice"})}), Lines());
  EXPECT_EQ(members_of("domain-users"), Lines({"alice"}));
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users"}));

  EXPECT_EQ(apply({group("domain-users", {})}), Lines()) << "still in it as primary group";
  EXPECT_EQ(groups_of("alice"), Lines({"domain-users"}));
}

TEST_F(StoreTest, PrimaryGroupDeleteRemovesItFromUsers) {
  apply({group("domain-users", {}), user("alice", "domain-users")});

  EXPECT_EQ(apply({deleted("domain-users")}),
            Lines({"DELETE GROUP domain-users", "MEMBERSHIP DELETE alice->domain-users",
                   "MODIFY USER alice"}));
  EXPECT_EQ(groups_of("alice"), Lines());

  // The user keeps its primary SID: the group rejoins when it comes back.
  EXPECT_EQ(apply({group("domain-users", {})}),
            Lines({"ADD GROUP domain-users", "MEMBERSHIP ADD alice->domain-users",
                   "MODIFY USER alice"}));
}

// ---- last change (User ID API changetype and timestamp) -----------------------------------

TEST_F(StoreTest, AddRecordsItsTypeAndTimestampOnTheObject) {
  apply({group("staff", {}), user("alice")});
  const std::vector<pb::Change> changes = changes_after(0);

  for (const auto& [name, index] : {std::pair{"staff", 0}, std::pair{"alice", 1}}) {
    const pb::DirectoryObject object = stored(name);
    EXPECT_EQ(object.last_change(), pb::ADD) << name;
    EXPECT_EQ(object.last_change_us(), changes.at(index).timestamp_us()) << name;
    EXPECT_EQ(changes.at(index).object().SerializeAsString(), object.SerializeAsString()) << name;
  }
}

TEST_F(StoreTest, AddAbsorbingLaterChangesOfThePageKeepsItsOwnTimestamp) {
  // alice's ADD is stamped first; staff listing her later in the page changes her member_of.
  EXPECT_EQ(apply({user("alice"), group("staff", {"alice"})}),
            Lines({"ADD USER alice", "ADD GROUP staff", "MEMBERSHIP ADD alice->staff"}));
  const pb::Change add = changes_after(0).at(0);
  const pb::DirectoryObject alice = stored("alice");
  EXPECT_EQ(alice.last_change(), pb::ADD);
  EXPECT_EQ(alice.last_change_us(), add.timestamp_us());
  EXPECT_EQ(add.object().SerializeAsString(), alice.SerializeAsString());
}

TEST_F(StoreTest, ModifyRecordsItsTypeAndTimestampOnTheObject) {
  apply({user("alice"), group("staff", {})});
  clock_.advance(1'000);
  const uint64_t before = store_->last_sequence();
  pb::ObservedObject changed = user("alice");
  changed.mutable_object()->set_title("Engineer");
  EXPECT_EQ(apply({changed}), Lines({"MODIFY USER alice"}));

  const pb::Change modify = changes_after(before).at(0);
  const pb::DirectoryObject alice = stored("alice");
  EXPECT_EQ(alice.last_change(), pb::MODIFY);
  EXPECT_EQ(alice.last_change_us(), modify.timestamp_us());
  EXPECT_EQ(alice.last_change_us(), clock_.now_us());
  EXPECT_EQ(modify.object().SerializeAsString(), alice.SerializeAsString());
}

TEST_F(StoreTest, MembershipModifyStampsUserAndGroup) {
  apply({user("alice"), group("staff", {})});
  clock_.advance(1'000);
  const uint64_t before = store_->last_sequence();
  EXPECT_EQ(apply({group("staff", {"alice"})}),
            Lines({"MEMBERSHIP ADD alice->staff", "MODIFY USER alice", "MODIFY GROUP staff"}));
  const std::vector<pb::Change> changes = changes_after(before);
  EXPECT_EQ(stored("alice").last_change(), pb::MODIFY);
  EXPECT_EQ(stored("alice").last_change_us(), changes.at(1).timestamp_us());
  EXPECT_EQ(stored("staff").last_change(), pb::MODIFY);
  EXPECT_EQ(stored("staff").last_change_us(), changes.at(2).timestamp_us());
}

TEST_F(StoreTest, LastChangeIsNotPartOfTheDiff) {
  apply({user("alice")});
  const pb::DirectoryObject first = stored("alice");
  clock_.advance(5'000'000);
  // An observation carrying other last_change values (a poller never sets them) is unchanged.
  pb::ObservedObject full = user("alice");
  full.mutable_object()->set_last_change(pb::DELETE);
  full.mutable_object()->set_last_change_us(42);
  pb::ObservedObject part = partial("alice", {"last_change", "last_change_us"});
  part.mutable_object()->set_last_change(pb::IP_ADD);

  EXPECT_EQ(apply({full}), Lines());
  EXPECT_EQ(apply({part}), Lines());
  EXPECT_EQ(stored("alice").SerializeAsString(), first.SerializeAsString());
}

TEST_F(StoreTest, DeletedUserLeavesPrimaryIndex) {
  apply({group("domain-users", {}), user("alice", "domain-users")});

  EXPECT_EQ(apply({deleted("alice")}),
            Lines({"DELETE USER alice", "MEMBERSHIP DELETE alice->domain-users"}));
  EXPECT_EQ(members_of("domain-users"), Lines());
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
