// Writes of sources other than AD (Store::write_source): a SCIM directory's users and groups.
#include <gtest/gtest.h>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

const std::string kSource = scim_source("0f8fad5b-d9cb-469f-a165-70867728950e");

class SourceWriteTest : public StoreTest {
 protected:
  pb::ObservedObject scim_user(const std::string& name, const std::string& user_name = "") {
    pb::ObservedObject observed;
    pb::DirectoryObject& object = *observed.mutable_object();
    object.set_guid(guid(name));
    object.set_kind(pb::USER);
    object.set_user_principal_name(user_name.empty() ? name + "@corp.example" : user_name);
    object.set_given_name(name);
    object.set_external_id("ext-" + name);
    object.set_source_resource("{\"userName\":\"" + name + "\"}");
    return observed;
  }

  pb::ObservedObject scim_group(const std::string& name, const std::vector<std::string>& members) {
    pb::ObservedObject observed;
    pb::DirectoryObject& object = *observed.mutable_object();
    object.set_guid(guid(name));
    object.set_kind(pb::GROUP);
    object.set_display_name(name);
    observed.set_members_known(true);
    for (const std::string& member : members) observed.add_members(guid(member));
    return observed;
  }

  static SourceChange change(SourceChange::Expect expect, pb::ObservedObject observed) {
    return SourceChange{expect, std::move(observed)};
  }

  // Writes and returns the entries appended; *outcome_out gets the outcome.
  std::vector<std::string> write(const std::vector<SourceChange>& changes,
                                 SourceOutcome expected = SourceOutcome::kDone,
                                 const std::string& source = kSource) {
    const uint64_t before = store_->last_sequence();
    SourceOutcome outcome = SourceOutcome::kDone;
    const Status status = store_->write_source(source, changes, &outcome);
    EXPECT_TRUE(status.is_ok()) << status.message();
    EXPECT_EQ(outcome, expected);
    return describe_after(before);
  }

  std::vector<std::string> source_users() {
    std::vector<std::string> names;
    store_->objects(pb::USER, kSource, [&](const pb::DirectoryObject& object) {
      names.push_back(name_of(object.guid()));
      return true;
    });
    return names;
  }
};

using Expect = SourceChange::Expect;
using Lines = std::vector<std::string>;

TEST_F(SourceWriteTest, CreatesUsersInTheSourceNotFromDirectoryAndFindsThemByName) {
  EXPECT_EQ(write({change(Expect::kNew, scim_user("alice"))}), Lines{"ADD USER alice"});
  const pb::DirectoryObject alice = stored("alice");
  EXPECT_EQ(alice.domain(), kSource);
  EXPECT_FALSE(alice.from_directory());
  EXPECT_EQ(alice.external_id(), "ext-alice");
  EXPECT_EQ(alice.source_resource(), "{\"userName\":\"alice\"}");
  const std::vector<pb::Change> entries = changes_after(0);
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_FALSE(entries[0].from_directory());
  EXPECT_EQ(entries[0].domain(), kSource);

  std::optional<pb::DirectoryObject> found =
      store_->source_object_by_name(kSource, pb::USER, "ALICE@corp.example");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->guid(), guid("alice"));
  EXPECT_FALSE(store_->source_object_by_name(kSource, pb::GROUP, "alice@corp.example"));
  EXPECT_FALSE(store_->source_object_by_name(scim_source("other"), pb::USER, "alice@corp.example"));
  // Not in the AD name indexes: the User ID API and IP sources never find it.
  EXPECT_FALSE(store_->object_by_upn("alice@corp.example"));
  EXPECT_EQ(source_users(), Lines{"alice"});
  std::vector<std::string> in_ad;
  store_->objects(pb::USER, kDomain, [&](const pb::DirectoryObject& object) {
    in_ad.push_back(name_of(object.guid()));
    return true;
  });
  EXPECT_TRUE(in_ad.empty());
}

TEST_F(SourceWriteTest, DuplicateNamesAndUnknownIdsWriteNothing) {
  write({change(Expect::kNew, scim_user("alice"))});
  const uint64_t sequence = store_->last_sequence();
  // The same userName in another case, in a call that would also create bob: all or nothing.
  EXPECT_TRUE(write({change(Expect::kNew, scim_user("bob")),
                     change(Expect::kNew, scim_user("carol", "Alice@Corp.Example"))},
                    SourceOutcome::kDuplicate)
                  .empty());
  EXPECT_FALSE(store_->object_by_guid(guid("bob")));
  EXPECT_TRUE(write({change(Expect::kNew, scim_user("alice"))}, SourceOutcome::kDuplicate).empty());
  EXPECT_TRUE(write({change(Expect::kExisting, scim_user("nobody"))}, SourceOutcome::kNotFound)
                  .empty());
  pb::ObservedObject gone;
  gone.mutable_object()->set_guid(guid("nobody"));
  EXPECT_TRUE(write({change(Expect::kDelete, gone)}, SourceOutcome::kNotFound).empty());
  // Another source cannot touch alice.
  EXPECT_TRUE(write({change(Expect::kExisting, scim_user("alice"))}, SourceOutcome::kNotFound,
                    scim_source("other"))
                  .empty());
  EXPECT_EQ(store_->last_sequence(), sequence);
  // The name is free again once its holder renamed itself.
  write({change(Expect::kExisting, scim_user("alice", "alice2@corp.example"))});
  EXPECT_EQ(write({change(Expect::kNew, scim_user("carol", "alice@corp.example"))}),
            Lines{"ADD USER carol"});
}

TEST_F(SourceWriteTest, ReplaceRecordsModifyOnlyWhenSomethingChanged) {
  write({change(Expect::kNew, scim_user("alice"))});
  EXPECT_TRUE(write({change(Expect::kExisting, scim_user("alice"))}).empty());
  pb::ObservedObject disabled = scim_user("alice");
  disabled.mutable_object()->set_user_account_control(0x2);
  EXPECT_EQ(write({change(Expect::kExisting, disabled)}), Lines{"MODIFY USER alice"});
  EXPECT_EQ(stored("alice").user_account_control(), 0x2u);
}

TEST_F(SourceWriteTest, GroupMembershipsOfTheSourceOnly) {
  write({change(Expect::kNew, scim_user("alice")), change(Expect::kNew, scim_user("bob"))});
  // An AD user named as a member is dropped: a source never changes AD's objects.
  apply({user("dave")});
  EXPECT_EQ(write({change(Expect::kNew, scim_group("staff", {"alice", "dave"}))}),
            (Lines{"ADD GROUP staff", "MEMBERSHIP ADD alice->staff", "MODIFY USER alice"}));
  EXPECT_EQ(members_of("staff"), Lines{"alice"});
  EXPECT_TRUE(groups_of("dave").empty());

  pb::ObservedObject add_bob = scim_group("staff", {"bob"});
  add_bob.set_members_known(false);
  add_bob.set_members_delta(true);
  EXPECT_EQ(write({change(Expect::kExisting, add_bob)}),
            (Lines{"MEMBERSHIP ADD bob->staff", "MODIFY USER bob", "MODIFY GROUP staff"}));
  pb::ObservedObject remove_alice = scim_group("staff", {});
  remove_alice.set_members_known(false);
  remove_alice.set_members_delta(true);
  remove_alice.add_members_removed(guid("alice"));
  EXPECT_EQ(write({change(Expect::kExisting, remove_alice)}),
            (Lines{"MEMBERSHIP DELETE alice->staff", "MODIFY USER alice", "MODIFY GROUP staff"}));
  EXPECT_EQ(members_of("staff"), Lines{"bob"});
  for (const pb::Change& entry : changes_after(0)) {
    if (entry.kind() == pb::MEMBERSHIP) {
      EXPECT_FALSE(entry.from_directory());
    }
  }

  pb::ObservedObject bob;
  bob.mutable_object()->set_guid(guid("bob"));
  EXPECT_EQ(write({change(Expect::kDelete, bob)}),
            (Lines{"DELETE USER bob", "MEMBERSHIP DELETE bob->staff"}));
  EXPECT_FALSE(store_->source_object_by_name(kSource, pb::USER, "bob@corp.example"));
}

TEST_F(SourceWriteTest, DeletingTheDirectoryDeletesItsObjectsAndSurvivesReopen) {
  pb::Directory directory;
  directory.set_id("0f8fad5b-d9cb-469f-a165-70867728950e");
  directory.set_type("okta-scim-v2");
  ASSERT_TRUE(store_->put_directory(directory).is_ok());
  write({change(Expect::kNew, scim_user("alice")), change(Expect::kNew, scim_group("staff", {"alice"}))});
  reopen();
  EXPECT_EQ(source_users(), Lines{"alice"});
  const uint64_t before = store_->last_sequence();
  bool existed = false;
  ASSERT_TRUE(store_->delete_directory(directory.id(), &existed).is_ok());
  EXPECT_TRUE(existed);
  EXPECT_EQ(describe_after(before),
            (Lines{"DELETE GROUP staff", "MEMBERSHIP DELETE alice->staff", "DELETE USER alice"}));
  EXPECT_FALSE(store_->directory(directory.id()));
  EXPECT_FALSE(store_->webhook_state(directory.id()));
  reopen();
  EXPECT_TRUE(source_users().empty());
  EXPECT_FALSE(store_->source_object_by_name(kSource, pb::GROUP, "staff"));
}

TEST_F(SourceWriteTest, RefusesANameThatIsNotASource) {
  SourceOutcome outcome = SourceOutcome::kDone;
  EXPECT_FALSE(store_->write_source(kDomain, {change(Expect::kNew, scim_user("alice"))}, &outcome)
                   .is_ok());
  EXPECT_FALSE(store_->object_by_guid(guid("alice")));
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
