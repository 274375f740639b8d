#pragma once
// Test support for changefeed/: a fake clock, a temp dir per test, and a fixture that builds
// observed objects by name and reads the feed back as readable lines such as
// "ADD USER alice" or "MEMBERSHIP DELETE alice->staff".
#include <gtest/gtest.h>

#include "tests/support/temp_dir.hpp"
#include <stdlib.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "tests/support/manual_clock.hpp"

namespace dirfeed::changefeed::testing {

using dirfeed::testing::ManualClock;

inline constexpr char kDomain[] = "example.test";
inline constexpr char kNetbios[] = "EXAMPLE";
inline constexpr char kDomainSid[] = "S-1-5-21-100-200-300";

// Gives `user` Alice Liddell's profile: every optional attribute the APIs show of a user.
inline void set_alice_profile(pb::DirectoryObject& user) {
  user.set_given_name("Alice");
  user.set_surname("Liddell");
  user.set_user_principal_name("alice@example.test");
  user.set_title("Engineer");
  user.set_department("R&D");
  user.set_telephone_number("+1 555 0100");
  user.add_other_telephones("+1 555 0199");
  user.set_when_created("2026-01-02T03:04:05Z");
}

using dirfeed::testing::TempDir;

class StoreTest : public ::testing::Test {
 protected:
  StoreTest() { open(); }

  void open() {
    std::string error;
    store_ = Store::open(StoreOptions{.path = temp_.path() + "/db", .renderer = renderer_},
                         clock_, &error);
    ASSERT_NE(store_, nullptr) << error;
  }

  void reopen() {
    store_.reset();
    open();
  }

  // Stable 16-byte GUID per name.
  std::string guid(const std::string& name) {
    auto [it, inserted] = guids_.try_emplace(name);
    if (inserted) {
      const auto number = static_cast<unsigned char>(guids_.size());
      it->second = std::string(16, '\x5a');
      it->second[0] = static_cast<char>(number);
      it->second[15] = static_cast<char>(number);
      names_[it->second] = name;
    }
    return it->second;
  }

  std::string name_of(const std::string& guid) const {
    auto it = names_.find(guid);
    return it == names_.end() ? "?" : it->second;
  }

  // The SID given to `name` (its RID is 1000 + its GUID number).
  std::string sid(const std::string& name) {
    return std::string(kDomainSid) + "-" + std::to_string(1000 + guid(name)[0]);
  }
  uint32_t rid(const std::string& name) { return 1000 + static_cast<uint32_t>(guid(name)[0]); }

  // An object of the fixture's domain: `name` as its CN and account name, its GUID and SID.
  pb::ObservedObject observed_object(const std::string& name, pb::ObjectKind kind,
                                     const std::string& ou) {
    pb::ObservedObject observed;
    pb::DirectoryObject& object = *observed.mutable_object();
    object.set_guid(guid(name));
    object.set_kind(kind);
    object.set_dn("CN=" + name + "," + ou);
    object.set_sam_account_name(name);
    object.set_netbios_domain(kNetbios);
    object.set_sid(sid(name));
    return observed;
  }

  pb::ObservedObject user(const std::string& name, const std::string& primary_group = "") {
    pb::ObservedObject observed = observed_object(name, pb::USER, "OU=People,DC=example,DC=test");
    pb::DirectoryObject& object = *observed.mutable_object();
    object.set_display_name(name + " Display");
    object.set_mail(name + "@example.test");
    if (!primary_group.empty()) {
      object.set_primary_group_id(rid(primary_group));
      observed.set_primary_group_sid(sid(primary_group));
    }
    return observed;
  }

  pb::ObservedObject group(const std::string& name, const std::vector<std::string>& members,
                           bool members_known = true) {
    pb::ObservedObject observed = observed_object(name, pb::GROUP, "OU=Groups,DC=example,DC=test");
    pb::DirectoryObject& object = *observed.mutable_object();
    object.set_description(name + " group");
    observed.set_members_known(members_known);
    for (const std::string& member : members) observed.add_members(guid(member));
    return observed;
  }

  pb::ObservedObject deleted(const std::string& name) {
    pb::ObservedObject observed;
    observed.mutable_object()->set_guid(guid(name));
    observed.set_deleted(true);
    return observed;
  }

  // A DirSync-style partial read of `name` naming `present` fields (values set by caller).
  pb::ObservedObject partial(const std::string& name, const std::vector<std::string>& present) {
    pb::ObservedObject observed;
    observed.mutable_object()->set_guid(guid(name));
    observed.set_partial(true);
    for (const std::string& field : present) observed.add_present_fields(field);
    return observed;
  }

  pb::Cursor cursor_for(const std::string& domain, int64_t usn = 0) {
    pb::Cursor cursor;
    cursor.set_domain(domain);
    cursor.set_strategy("usn");
    cursor.set_usn(usn);
    return cursor;
  }

  // Applies one page and returns the feed entries it appended, described.
  std::vector<std::string> apply(const std::vector<pb::ObservedObject>& page,
                                 const std::string& domain = kDomain,
                                 CommitStats* stats = nullptr) {
    const uint64_t before = store_->last_sequence();
    const Status status = store_->apply_page(domain, page, cursor_for(domain), stats);
    EXPECT_TRUE(status.is_ok()) << status.message();
    return describe_after(before);
  }

  std::vector<std::string> finish(const std::vector<std::string>& seen_names, size_t max_deletes,
                                  CommitStats* stats = nullptr, bool confirmed = true) {
    std::unordered_set<std::string> seen;
    for (const std::string& name : seen_names) seen.insert(guid(name));
    const uint64_t before = store_->last_sequence();
    const Status status = store_->finish_full_sync(kDomain, seen, cursor_for(kDomain, 99),
                                                   {max_deletes, confirmed}, stats);
    EXPECT_TRUE(status.is_ok()) << status.message();
    return describe_after(before);
  }

  std::vector<pb::Change> changes_after(uint64_t sequence, const FeedQuery& query = {}) {
    std::vector<pb::Change> changes;
    store_->changes_after_sequence(sequence, query, [&](const pb::Change& change) {
      changes.push_back(change);
      return true;
    });
    return changes;
  }

  std::vector<std::string> describe_after(uint64_t sequence) {
    std::vector<std::string> lines;
    for (const pb::Change& change : changes_after(sequence)) lines.push_back(describe(change));
    return lines;
  }

  std::string describe(const pb::Change& change) const {
    const std::string type = pb::ChangeType_Name(change.type());
    if (change.kind() == pb::MEMBERSHIP) {
      return "MEMBERSHIP " + type + " " + name_of(change.membership().user_guid()) + "->" +
             name_of(change.membership().group_guid());
    }
    return type + " " + pb::ObjectKind_Name(change.kind()) + " " + name_of(change.object().guid());
  }

  pb::DirectoryObject stored(const std::string& name) {
    std::optional<pb::DirectoryObject> object = store_->object_by_guid(guid(name));
    EXPECT_TRUE(object.has_value()) << name << " is not stored";
    return object.value_or(pb::DirectoryObject());
  }

  // Names of the groups in member_of of a stored object, in stored order.
  std::vector<std::string> groups_of(const std::string& name) {
    const pb::DirectoryObject object = stored(name);
    std::vector<std::string> groups;
    for (const std::string& group : object.member_of()) groups.push_back(name_of(group));
    return groups;
  }

  std::vector<std::string> members_of(const std::string& group_name) {
    std::vector<std::string> members;
    store_->members(guid(group_name), [&](const pb::DirectoryObject& member) {
      members.push_back(name_of(member.guid()));
      return true;
    });
    return members;
  }

  TempDir temp_;
  ManualClock clock_;
  // What open() gives StoreOptions::renderer (set it, then reopen()); must outlive store_.
  const Renderer* renderer_ = nullptr;
  std::unique_ptr<Store> store_;
  std::map<std::string, std::string> guids_;  // name -> GUID
  std::map<std::string, std::string> names_;  // GUID -> name
};

}  // namespace dirfeed::changefeed::testing
