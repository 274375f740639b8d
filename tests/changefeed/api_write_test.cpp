// User ID API writes in the store: API users, IP mappings (add/modify/delete, expiry, restart)
// and API groups, and that an AD re-poll keeps what the API set.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "changefeed/database.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed {
namespace {

using testing::StoreTest;
using Strings = std::vector<std::string>;

constexpr int64_t kHour = 3'600'000'000;

class ApiWriteTest : public StoreTest {
 protected:
  ApiWriteTest() { apply({group("staff", {"alice"}), group("devs", {}), user("alice")}); }

  pb::DirectoryObject api_user(const std::string& name) {
    pb::DirectoryObject object;
    object.set_guid(guid(name));
    object.set_kind(pb::USER);
    object.set_domain("example.test");
    object.set_dn("CN=" + name + ",OU=Api,DC=example,DC=test");
    object.set_sam_account_name(name);
    object.set_netbios_domain("EXAMPLE");
    return object;
  }

  ApiOutcome create(const pb::DirectoryObject& object, Strings* entries = nullptr) {
    const uint64_t before = store_->last_sequence();
    ApiOutcome outcome{};
    const Status status = store_->create_user(object, kHour, &outcome);
    EXPECT_TRUE(status.is_ok()) << status.message();
    if (entries != nullptr) *entries = describe_after(before);
    return outcome;
  }

  Strings change(const std::string& name, UserChange change, ApiOutcome expected = ApiOutcome::kDone) {
    const uint64_t before = store_->last_sequence();
    change.default_lifetime_us = kHour;
    ApiOutcome outcome{};
    const Status status = store_->change_user(guid(name), change, &outcome);
    EXPECT_TRUE(status.is_ok()) << status.message();
    EXPECT_EQ(outcome, expected);
    return describe_after(before);
  }

  static UserChange ips(UserChange::Op op, Strings v4, Strings v6 = {}) {
    UserChange change;
    change.op = op;
    change.ipv4 = std::move(v4);
    if (!v6.empty()) change.ipv6 = std::move(v6);
    return change;
  }

  Strings v4(const std::string& name) {
    const pb::DirectoryObject object = stored(name);
    return Strings(object.ipv4_addresses().begin(), object.ipv4_addresses().end());
  }
  Strings api_groups(const std::string& name) {
    Strings names;
    const pb::DirectoryObject object = stored(name);
    for (const std::string& g : object.api_groups()) names.push_back(name_of(g));
    return names;
  }
  // Names of the users the API put in the group, in visiting order.
  Strings api_members_of(const std::string& group_name) {
    Strings names;
    store_->api_members(guid(group_name), [&](const pb::DirectoryObject& member) {
      names.push_back(name_of(member.guid()));
      return true;
    });
    return names;
  }
  void put_in(const std::string& name, UserChange::Op op, const Strings& group_names) {
    UserChange change;
    change.op = op;
    change.groups.emplace();
    for (const std::string& g : group_names) change.groups->push_back(guid(g));
    this->change(name, change);
  }
  Strings expire(int64_t now_us) {
    const uint64_t before = store_->last_sequence();
    const Status status = store_->expire_ip_mappings(now_us);
    EXPECT_TRUE(status.is_ok()) << status.message();
    return describe_after(before);
  }
};

TEST_F(ApiWriteTest, CreateStoresAnApiUserWithAddEntryThenIpAdd) {
  pb::DirectoryObject bob = api_user("bob");
  bob.add_ipv4_addresses("192.0.2.1");
  bob.add_ipv6_addresses("2001:db8::1");
  bob.add_api_groups(guid("staff"));
  bob.add_api_groups(guid("nogroup"));  // not stored: dropped
  Strings entries;
  EXPECT_EQ(create(bob, &entries), ApiOutcome::kDone);
  EXPECT_EQ(entries, (Strings{"ADD USER bob", "IP_ADD USER bob"}));
  const pb::DirectoryObject stored_bob = stored("bob");
  EXPECT_FALSE(stored_bob.from_directory());
  EXPECT_EQ(v4("bob"), Strings{"192.0.2.1"});
  EXPECT_EQ(stored_bob.ipv6_addresses_size(), 1);
  EXPECT_EQ(api_groups("bob"), Strings{"staff"});
  EXPECT_EQ(stored_bob.last_change(), pb::IP_ADD);
  const std::vector<pb::Change> feed = changes_after(store_->last_sequence() - 2);
  EXPECT_FALSE(feed[0].from_directory());
  EXPECT_EQ(feed[0].object().ipv4_addresses_size(), 1) << "the ADD carries the final state";
  EXPECT_EQ(stored_bob.last_change_us(), feed[1].timestamp_us());
  ASSERT_TRUE(store_->object_by_ntlm("example\\BOB").has_value());
}

TEST_F(ApiWriteTest, CreateRefusesDuplicateGuidDnOrNtlmIdentity) {
  EXPECT_EQ(create(api_user("bob")), ApiOutcome::kDone);
  EXPECT_EQ(create(api_user("bob")), ApiOutcome::kDuplicate) << "same GUID";
  pb::DirectoryObject same_dn = api_user("carol");
  same_dn.set_dn(stored("alice").dn());
  EXPECT_EQ(create(same_dn), ApiOutcome::kDuplicate);
  pb::DirectoryObject same_ntlm = api_user("dave");
  same_ntlm.set_dn("");
  same_ntlm.set_sam_account_name("ALICE");
  EXPECT_EQ(create(same_ntlm), ApiOutcome::kDuplicate);
  EXPECT_FALSE(store_->object_by_guid(guid("dave")).has_value());
}

TEST_F(ApiWriteTest, AddModifyDeleteIpsOnAnAdUser) {
  using Op = UserChange::Op;
  EXPECT_EQ(change("alice", ips(Op::kAdd, {"192.0.2.2", "192.0.2.1"})), Strings{"IP_ADD USER alice"});
  EXPECT_EQ(v4("alice"), (Strings{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(stored("alice").last_change(), pb::IP_ADD);
  EXPECT_EQ(change("alice", ips(Op::kAdd, {"192.0.2.1"})), Strings{}) << "renewal only";
  EXPECT_EQ(change("alice", ips(Op::kModify, {"192.0.2.2", "192.0.2.3"})),
            (Strings{"IP_DELETE USER alice", "IP_ADD USER alice"}));
  EXPECT_EQ(v4("alice"), (Strings{"192.0.2.2", "192.0.2.3"}));
  EXPECT_EQ(change("alice", ips(Op::kDelete, {"192.0.2.3", "198.51.100.9"})),
            Strings{"IP_DELETE USER alice"}) << "an absent address is ignored";
  EXPECT_EQ(change("alice", ips(Op::kDelete, {"198.51.100.9"})), Strings{});
  EXPECT_EQ(stored("alice").last_change(), pb::IP_DELETE);
  EXPECT_EQ(change("nobody", ips(Op::kAdd, {"192.0.2.1"}), ApiOutcome::kNotFound), Strings{});
  EXPECT_EQ(change("staff", ips(Op::kAdd, {"192.0.2.1"}), ApiOutcome::kNotFound), Strings{})
      << "a group is not a user";
}

TEST_F(ApiWriteTest, GroupsAddModifyDeleteEmitModifyAndKeepAdGroups) {
  UserChange add;
  add.op = UserChange::Op::kAdd;
  add.groups = Strings{guid("devs")};
  EXPECT_EQ(change("alice", add), Strings{"MODIFY USER alice"});
  EXPECT_EQ(api_groups("alice"), Strings{"devs"});
  EXPECT_EQ(groups_of("alice"), Strings{"staff"}) << "AD membership untouched";
  EXPECT_EQ(change("alice", add), Strings{}) << "already in it";
  UserChange remove;
  remove.op = UserChange::Op::kDelete;
  remove.groups = Strings{guid("devs"), guid("staff")};
  EXPECT_EQ(change("alice", remove), Strings{"MODIFY USER alice"});
  EXPECT_EQ(api_groups("alice"), Strings{});
  EXPECT_EQ(groups_of("alice"), Strings{"staff"}) << "AD groups are not the API's to remove";
}

TEST_F(ApiWriteTest, RepollKeepsApiIpsAndGroups) {
  UserChange add = ips(UserChange::Op::kAdd, {"192.0.2.1"});
  add.groups = Strings{guid("devs")};
  change("alice", add);
  pb::ObservedObject again = user("alice");
  again.mutable_object()->set_title("Engineer");
  EXPECT_EQ(apply({again, group("staff", {"alice"})}), Strings{"MODIFY USER alice"});
  EXPECT_EQ(apply({user("alice")}), Strings{"MODIFY USER alice"});
  pb::ObservedObject part = partial("alice", {"title", "ipv4_addresses", "api_groups"});
  part.mutable_object()->set_title("Boss");
  EXPECT_EQ(apply({part}), Strings{"MODIFY USER alice"});
  EXPECT_EQ(apply({user("alice")}), Strings{"MODIFY USER alice"});
  EXPECT_EQ(apply({user("alice")}), Strings{}) << "unchanged re-read: no entry";
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.1"});
  EXPECT_EQ(api_groups("alice"), Strings{"devs"});
}

TEST_F(ApiWriteTest, ExpiryEmitsIpDeleteAndSurvivesRestart) {
  change("alice", ips(UserChange::Op::kAdd, {"192.0.2.1"}));
  clock_.advance(kHour / 2);
  change("alice", ips(UserChange::Op::kAdd, {"192.0.2.2"}));
  pb::DirectoryObject bob = api_user("bob");
  bob.set_ip_timeout_s(60);
  bob.add_ipv4_addresses("192.0.2.9");
  create(bob);
  reopen();
  EXPECT_EQ(expire(clock_.now_us()), Strings{});
  EXPECT_EQ(expire(clock_.now_us() + 60'000'000), Strings{"IP_DELETE USER bob"})
      << "the user's own timeout";
  EXPECT_EQ(v4("alice"), (Strings{"192.0.2.1", "192.0.2.2"}));
  EXPECT_EQ(expire(clock_.now_us() + kHour / 2), Strings{"IP_DELETE USER alice"});
  EXPECT_EQ(v4("alice"), Strings{"192.0.2.2"});
  EXPECT_EQ(expire(clock_.now_us() + kHour), Strings{"IP_DELETE USER alice"});
  EXPECT_EQ(v4("alice"), Strings{});
  EXPECT_EQ(expire(clock_.now_us() + 10 * kHour), Strings{});
}

TEST_F(ApiWriteTest, RenewalMovesTheExpiry) {
  change("alice", ips(UserChange::Op::kAdd, {"192.0.2.1"}));
  clock_.advance(kHour / 2);
  change("alice", ips(UserChange::Op::kAdd, {"192.0.2.1"}));
  EXPECT_EQ(expire(clock_.now_us() + kHour / 2), Strings{});
  EXPECT_EQ(expire(clock_.now_us() + kHour), Strings{"IP_DELETE USER alice"});
}

TEST_F(ApiWriteTest, DeleteApiUserDeletesItAdUserLosesOnlyApiData) {
  pb::DirectoryObject bob = api_user("bob");
  bob.add_ipv4_addresses("192.0.2.9");
  create(bob);
  ApiOutcome outcome{};
  uint64_t before = store_->last_sequence();
  ASSERT_TRUE(store_->delete_user(guid("bob"), &outcome).is_ok());
  EXPECT_EQ(outcome, ApiOutcome::kDone);
  EXPECT_EQ(describe_after(before), Strings{"DELETE USER bob"});
  EXPECT_FALSE(store_->object_by_guid(guid("bob")).has_value());
  EXPECT_EQ(expire(clock_.now_us() + 10 * kHour), Strings{}) << "its mappings went with it";
  ASSERT_TRUE(store_->delete_user(guid("bob"), &outcome).is_ok());
  EXPECT_EQ(outcome, ApiOutcome::kNotFound);

  UserChange add = ips(UserChange::Op::kAdd, {"192.0.2.1"});
  add.groups = Strings{guid("devs")};
  change("alice", add);
  before = store_->last_sequence();
  ASSERT_TRUE(store_->delete_user(guid("alice"), &outcome).is_ok());
  EXPECT_EQ(outcome, ApiOutcome::kDone);
  EXPECT_EQ(describe_after(before), (Strings{"IP_DELETE USER alice", "MODIFY USER alice"}));
  EXPECT_EQ(v4("alice"), Strings{});
  EXPECT_EQ(api_groups("alice"), Strings{});
  EXPECT_EQ(groups_of("alice"), Strings{"staff"});
}

TEST_F(ApiWriteTest, AdDeleteDropsTheMappings) {
  change("alice", ips(UserChange::Op::kAdd, {"192.0.2.1"}));
  EXPECT_EQ(apply({deleted("alice")}), (Strings{"DELETE USER alice", "MEMBERSHIP DELETE alice->staff"}));
  EXPECT_EQ(expire(clock_.now_us() + 10 * kHour), Strings{});
}

TEST_F(ApiWriteTest, ApiMembersFollowCreateAddModifyDelete) {
  pb::DirectoryObject bob = api_user("bob");
  bob.add_api_groups(guid("devs"));
  create(bob);
  EXPECT_EQ(api_members_of("devs"), Strings{"bob"});
  using Op = UserChange::Op;
  put_in("alice", Op::kAdd, {"devs", "staff"});
  // GUID order: alice's GUID number is lower than bob's.
  EXPECT_EQ(api_members_of("devs"), (Strings{"alice", "bob"}));
  EXPECT_EQ(api_members_of("staff"), Strings{"alice"}) << "AD member too: listed here as well";
  EXPECT_EQ(members_of("staff"), Strings{"alice"}) << "members() stays AD only";
  EXPECT_EQ(members_of("devs"), Strings{});
  put_in("alice", Op::kModify, {"staff"});
  EXPECT_EQ(api_members_of("devs"), Strings{"bob"});
  EXPECT_EQ(api_members_of("staff"), Strings{"alice"});
  put_in("alice", Op::kDelete, {"staff"});
  EXPECT_EQ(api_members_of("staff"), Strings{});
  put_in("bob", Op::kModify, {});
  EXPECT_EQ(api_members_of("devs"), Strings{});
  EXPECT_EQ(api_members_of("nogroup"), Strings{});
  EXPECT_EQ(api_members_of("alice"), Strings{}) << "a user is not a group";
}

TEST_F(ApiWriteTest, ApiMembersLoseDeletedUsersForGood) {
  pb::DirectoryObject bob = api_user("bob");
  bob.add_api_groups(guid("devs"));
  create(bob);
  put_in("alice", UserChange::Op::kAdd, {"devs"});
  ApiOutcome outcome{};
  ASSERT_TRUE(store_->delete_user(guid("bob"), &outcome).is_ok());
  EXPECT_EQ(api_members_of("devs"), Strings{"alice"}) << "DELETE of an API user";
  create(api_user("bob"));
  EXPECT_EQ(api_members_of("devs"), Strings{"alice"}) << "created again without groups";
  ASSERT_TRUE(store_->delete_user(guid("alice"), &outcome).is_ok());
  EXPECT_EQ(api_members_of("devs"), Strings{}) << "DELETE of an AD user drops its API groups";

  put_in("alice", UserChange::Op::kAdd, {"devs"});
  apply({deleted("alice")});
  EXPECT_EQ(api_members_of("devs"), Strings{}) << "deleted in AD";
  apply({user("alice")});
  EXPECT_EQ(api_groups("alice"), Strings{});
  EXPECT_EQ(api_members_of("devs"), Strings{}) << "back in AD with the same GUID: no API groups";

  put_in("alice", UserChange::Op::kAdd, {"devs"});
  EXPECT_EQ(finish({"staff", "devs"}, 10), (Strings{"DELETE USER alice"}));
  EXPECT_EQ(api_members_of("devs"), Strings{}) << "deleted by a full sync";
}

TEST_F(ApiWriteTest, DeletedGroupHasNoApiMembersUntilItComesBack) {
  put_in("alice", UserChange::Op::kAdd, {"devs"});
  apply({deleted("devs")});
  EXPECT_EQ(api_members_of("devs"), Strings{});
  EXPECT_EQ(api_groups("alice"), Strings{"devs"}) << "the user keeps naming it";
  apply({group("devs", {})});
  EXPECT_EQ(api_members_of("devs"), Strings{"alice"}) << "restored with its GUID";
  put_in("alice", UserChange::Op::kDelete, {"devs"});
  EXPECT_EQ(api_members_of("devs"), Strings{});
}

TEST_F(ApiWriteTest, ApiMembersSurviveReopen) {
  put_in("alice", UserChange::Op::kAdd, {"devs"});
  reopen();
  EXPECT_EQ(api_members_of("devs"), Strings{"alice"});
  put_in("alice", UserChange::Op::kDelete, {"devs"});
  reopen();
  EXPECT_EQ(api_members_of("devs"), Strings{});
}

TEST_F(ApiWriteTest, OlderDatabaseGetsTheApiGroupIndexBuiltOnOpen) {
  pb::DirectoryObject bob = api_user("bob");
  bob.add_api_groups(guid("devs"));
  create(bob);
  put_in("alice", UserChange::Op::kAdd, {"devs", "staff"});
  store_.reset();
  {  // What a dirfeed without the index left: no such table, no marker.
    std::string error;
    std::unique_ptr<Database> database = Database::open(temp_.path() + "/db", false, &error);
    ASSERT_NE(database, nullptr) << error;
    ASSERT_TRUE(database->db()->DropColumnFamily(database->table(Table::kApiGroupMembers)).ok());
    ASSERT_TRUE(database->db()
                    ->Delete(rocksdb::WriteOptions(), database->table(Table::kState),
                             keys::kApiGroupIndexKey)
                    .ok());
  }
  {  // Read-only cannot create the table: it opens, and has no API members.
    std::string error;
    std::unique_ptr<Store> reader =
        Store::open(StoreOptions{temp_.path() + "/db", /*read_only=*/true}, clock_, &error);
    ASSERT_NE(reader, nullptr) << error;
    EXPECT_TRUE(reader->object_by_guid(guid("bob")).has_value());
    size_t visited = 0;
    reader->api_members(guid("devs"), [&](const pb::DirectoryObject&) {
      ++visited;
      return true;
    });
    EXPECT_EQ(visited, 0u);
  }
  open();
  EXPECT_EQ(api_members_of("devs"), (Strings{"alice", "bob"}));
  EXPECT_EQ(api_members_of("staff"), Strings{"alice"});
  put_in("alice", UserChange::Op::kModify, {"staff"});
  reopen();  // built once: the marker is there now
  EXPECT_EQ(api_members_of("devs"), Strings{"bob"});
}

}  // namespace
}  // namespace dirfeed::changefeed
