// Rendered records (changefeed/renderer.hpp): written with every change that alters them, in
// the same commit, group renames and membership included; made again at open when stale.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed::testing {
namespace {

// Shape 0 (every object): "dn [group DNs of member_of] {group DNs of api_groups} ips", "?"
// for a GUID that names no live object. Shape 1: users with a mail address only, their mail
// (it names no groups).
class TestRenderer final : public Renderer {
 public:
  size_t shape_count() const override { return 2; }
  std::string fingerprint() const override { return "test " + version; }
  bool render(size_t shape, const pb::DirectoryObject& object, const GroupDn& group_dn,
              std::string& out) const override {
    ++renders;
    if (shape == 1) {
      if (object.kind() != pb::USER || object.mail().empty()) return false;
      out += object.mail();
      return true;
    }
    const auto names = [&](const auto& guids) {
      std::string text;
      for (const std::string& guid : guids) {
        const std::string* dn = group_dn(guid);
        text += (text.empty() ? "" : ";") + (dn != nullptr ? *dn : std::string("?"));
      }
      return text;
    };
    out += version + object.dn() + " [" + names(object.member_of()) + "] {" +
           names(object.api_groups()) + "}";
    for (const std::string& ip : object.ipv4_addresses()) out += " " + ip;
    return true;
  }

  bool names_groups(size_t shape) const override { return shape == 0; }

  std::string version = "";
  mutable size_t renders = 0;
};

class RenderedTest : public StoreTest {
 protected:
  RenderedTest() {
    renderer_ = &renderer;
    reopen();
  }
  ~RenderedTest() override { store_.reset(); }

  // The record of `name` in `shape`, "-" when it has none.
  std::string record(const std::string& name, size_t shape = 0) {
    return store_->rendered(shape, guid(name)).value_or("-");
  }
  // Every record of a shape in a view, as "name=record".
  std::vector<std::string> records(const StoreView& view, size_t shape = 0,
                                   const std::string& after = "") {
    std::vector<std::string> found;
    view.rendered_after(shape, after, [&](std::string_view guid, std::string_view record) {
      found.push_back(name_of(std::string(guid)) + "=" + std::string(record));
      return true;
    });
    return found;
  }
  std::string dn_of_group(const std::string& name) { return "CN=" + name + ",OU=Groups,DC=example,DC=test"; }
  std::string dn_of_user(const std::string& name) { return "CN=" + name + ",OU=People,DC=example,DC=test"; }
  pb::ObservedObject renamed(pb::ObservedObject group, const std::string& cn) {
    group.mutable_object()->set_dn("CN=" + cn + ",OU=Groups,DC=example,DC=test");
    return group;
  }
  // Puts `name` into the API groups `groups` (PUT /user add).
  void api_add(const std::string& name, const std::vector<std::string>& groups) {
    UserChange change;
    change.op = UserChange::Op::kAdd;
    change.groups.emplace();
    for (const std::string& group : groups) change.groups->push_back(guid(group));
    ApiOutcome outcome;
    ASSERT_TRUE(store_->change_user(guid(name), change, &outcome).is_ok());
    ASSERT_EQ(outcome, ApiOutcome::kDone);
  }

  TestRenderer renderer;
};

TEST_F(RenderedTest, EveryStoredObjectHasItsRecordsAndLosesThemWhenDeleted) {
  EXPECT_TRUE(store_->has_rendered_records());
  apply({group("staff", {"alice"}), user("alice"), user("bob")});
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [" + dn_of_group("staff") + "] {}");
  EXPECT_EQ(record("alice", 1), "alice@example.test");
  EXPECT_EQ(record("staff"), dn_of_group("staff") + " [] {}");
  EXPECT_EQ(record("staff", 1), "-");  // a shape may leave an object out

  // An attribute change re-renders; a change that takes the object out of a shape removes it.
  pb::ObservedObject bob = user("bob");
  bob.mutable_object()->clear_mail();
  bob.mutable_object()->set_dn("CN=bob,OU=Moved,DC=example,DC=test");
  apply({bob});
  EXPECT_EQ(record("bob"), "CN=bob,OU=Moved,DC=example,DC=test [] {}");
  EXPECT_EQ(record("bob", 1), "-");

  apply({deleted("alice")});
  EXPECT_EQ(record("alice"), "-");
  EXPECT_EQ(record("alice", 1), "-");
  EXPECT_EQ(records(*store_->view()),
            (std::vector<std::string>{"staff=" + dn_of_group("staff") + " [] {}",
                                      "bob=CN=bob,OU=Moved,DC=example,DC=test [] {}"}));
}

TEST_F(RenderedTest, ReadingAnUnchangedObjectAgainRendersNothing) {
  apply({group("staff", {"alice"}), user("alice")});
  const size_t before = renderer.renders;
  apply({group("staff", {"alice"}), user("alice")});
  EXPECT_EQ(renderer.renders, before);
}

TEST_F(RenderedTest, GroupRenameRerendersEveryKindOfMemberInTheSameCommit) {
  // alice is listed in `member`, bob has staff as primary group, carol was put in it through
  // the API, dave is in no group; team (a group) is nested in staff.
  const pb::ObservedObject staff = group("staff", {"alice", "team"});
  apply({staff, group("team", {}), user("alice"), user("bob", "staff"), user("carol"),
         user("dave")});
  api_add("carol", {"staff"});
  const std::string old_dn = dn_of_group("staff");
  EXPECT_EQ(record("bob"), dn_of_user("bob") + " [" + old_dn + "] {}");
  EXPECT_EQ(record("carol"), dn_of_user("carol") + " [] {" + old_dn + "}");
  const std::unique_ptr<StoreView> before = store_->view();
  const size_t renders_before = renderer.renders;

  apply({renamed(staff, "crew")});
  const std::string new_dn = dn_of_group("crew");
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [" + new_dn + "] {}");
  EXPECT_EQ(record("bob"), dn_of_user("bob") + " [" + new_dn + "] {}");
  EXPECT_EQ(record("carol"), dn_of_user("carol") + " [] {" + new_dn + "}");
  EXPECT_EQ(record("team"), dn_of_group("team") + " [" + new_dn + "] {}");
  EXPECT_EQ(record("staff"), new_dn + " [] {}");
  // Made again: the group's two records and its four members' records of shape 0 (shape 1
  // names no groups).
  EXPECT_EQ(renderer.renders - renders_before, 2u + 4);
  // A view from before the rename shows the old DN everywhere: never half a rename.
  for (const std::string& line : records(*before)) {
    EXPECT_EQ(line.find("crew"), std::string::npos) << line;
  }
  for (const std::string& line : records(*store_->view())) {
    EXPECT_EQ(line.find("CN=staff"), std::string::npos) << line;
  }
}

TEST_F(RenderedTest, MembershipAddAndRemoveRerenderTheMember) {
  apply({group("staff", {"alice"}), user("alice"), user("bob")});
  apply({group("staff", {"bob"})});
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [] {}");
  EXPECT_EQ(record("bob"), dn_of_user("bob") + " [" + dn_of_group("staff") + "] {}");

  // Primary group changes too.
  pb::ObservedObject alice = user("alice", "staff");
  apply({alice});
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [" + dn_of_group("staff") + "] {}");
  // A DirSync delta.
  pb::ObservedObject delta = group("staff", {});
  delta.set_members_known(false);
  delta.set_members_delta(true);
  delta.add_members_removed(guid("bob"));
  apply({delta});
  EXPECT_EQ(record("bob"), dn_of_user("bob") + " [] {}");
}

TEST_F(RenderedTest, DeletedGroupLeavesItsMembersRecordsAndComesBackToThem) {
  const pb::ObservedObject staff = group("staff", {"alice"});
  apply({staff, user("alice"), user("carol")});
  api_add("carol", {"staff"});
  apply({deleted("staff")});
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [] {}");
  // The API member keeps the GUID in api_groups; its record no longer finds a DN for it.
  EXPECT_EQ(record("carol"), dn_of_user("carol") + " [] {?}");

  apply({staff});  // the group comes back with its GUID
  EXPECT_EQ(record("carol"), dn_of_user("carol") + " [] {" + dn_of_group("staff") + "}");
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [" + dn_of_group("staff") + "] {}");
}

TEST_F(RenderedTest, IpMappingsAndTheirExpiryRerender) {
  apply({user("alice")});
  const std::vector<IpEvent> logon = {{IpEvent::Kind::kLogon, guid("alice"), "192.0.2.7", 60'000'000}};
  ASSERT_TRUE(store_->apply_ip_events(logon).is_ok());
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [] {} 192.0.2.7");
  clock_.advance(61'000'000);
  ASSERT_TRUE(store_->expire_ip_mappings(clock_.now_us()).is_ok());
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [] {}");
}

TEST_F(RenderedTest, SourceWritesAndApiUsersAreRendered) {
  pb::Directory directory;
  directory.set_id("d1");
  ASSERT_TRUE(store_->put_directory(directory).is_ok());
  pb::ObservedObject pushed = user("ann");
  pushed.mutable_object()->set_dn("");
  SourceOutcome outcome;
  ASSERT_TRUE(store_->write_source(scim_source("d1"), {{SourceChange::Expect::kNew, pushed}},
                                   &outcome)
                  .is_ok());
  ASSERT_EQ(outcome, SourceOutcome::kDone);
  EXPECT_EQ(record("ann", 1), "ann@example.test");

  pb::DirectoryObject api_user = user("zed").object();
  ApiOutcome created;
  ASSERT_TRUE(store_->create_user(api_user, 1'000'000, &created).is_ok());
  EXPECT_EQ(record("zed", 1), "zed@example.test");
  ASSERT_TRUE(store_->delete_user(guid("zed"), &created).is_ok());
  EXPECT_EQ(record("zed", 1), "-");

  bool existed = false;
  ASSERT_TRUE(store_->delete_directory("d1", &existed).is_ok());
  EXPECT_EQ(record("ann", 1), "-");
}

TEST_F(RenderedTest, ListingResumesAfterAGuidAndAViewIsFrozen) {
  apply({user("alice"), user("bob"), user("carol")});
  const std::unique_ptr<StoreView> view = store_->view();
  apply({deleted("bob")});
  EXPECT_EQ(records(*view, 1, guid("alice")),
            (std::vector<std::string>{"bob=bob@example.test", "carol=carol@example.test"}));
  EXPECT_EQ(records(*store_->view(), 1, guid("alice")),
            std::vector<std::string>{"carol=carol@example.test"});
}

TEST_F(RenderedTest, OpenMakesStaleRecordsAgain) {
  apply({group("staff", {"alice"}), user("alice")});
  // Another renderer (a new format, other configuration): everything is made again.
  renderer.version = "v2 ";
  reopen();
  EXPECT_EQ(record("alice"), "v2 " + dn_of_user("alice") + " [" + dn_of_group("staff") + "] {}");
}

TEST_F(RenderedTest, WritesWithoutARendererAreCaughtUpAtTheNextOpen) {
  apply({group("staff", {"alice"}), user("alice")});
  renderer_ = nullptr;
  reopen();
  EXPECT_FALSE(store_->has_rendered_records());
  EXPECT_EQ(record("alice"), "-");
  apply({renamed(group("staff", {"alice"}), "crew"), user("bob")});
  const size_t renders = renderer.renders;

  renderer_ = &renderer;
  reopen();  // same fingerprint, but the writes in between were not rendered
  EXPECT_GT(renderer.renders, renders);
  EXPECT_EQ(record("alice"), dn_of_user("alice") + " [" + dn_of_group("crew") + "] {}");
  EXPECT_EQ(record("bob", 1), "bob@example.test");

  const size_t after_rebuild = renderer.renders;
  reopen();  // records and fingerprint agree: nothing to do
  EXPECT_EQ(renderer.renders, after_rebuild);
}

}  // namespace
}  // namespace dirfeed::changefeed::testing
