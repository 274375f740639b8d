// The fake domain itself (fake_directory.hpp): it must answer as the poller tests assume, or
// their assertions say nothing about the poller.
#include "tests/ldap/fake_directory.hpp"

#include <gtest/gtest.h>
#include <ldap.h>

#include "tests/ldap/fake_filter.hpp"

namespace dirfeed::ldap::testing {
namespace {

TEST(FakeFilterTest, EvaluatesThePassesFilters) {
  std::map<std::string, std::vector<std::string>> user = {
      {"objectclass", {"top", "person", "organizationalPerson", "user"}},
      {"objectcategory", {"CN=Person,CN=Schema,CN=Configuration,DC=example,DC=test"}},
      {"usnchanged", {"1005"}}};
  std::string error;
  auto changed = parse_filter(
      "(&(uSNChanged>=1005)(|(objectClass=group)(&(objectCategory=person)(objectClass=user))"
      "(isDeleted=TRUE)))",
      error);
  ASSERT_TRUE(changed) << error;
  EXPECT_TRUE(matches(*changed, user));
  user["usnchanged"] = {"1004"};
  EXPECT_FALSE(matches(*changed, user)) << "1004 < 1005 as numbers";
  auto absent = parse_filter("(!(isDeleted=*))", error);
  ASSERT_TRUE(absent) << error;
  EXPECT_TRUE(matches(*absent, user));
  auto escaped = parse_filter("(name=a\\2ab)", error);
  ASSERT_TRUE(escaped) << error;
  EXPECT_EQ(escaped->value, "a*b");
}

TEST(FakeFilterTest, RefusesWhatItCannotEvaluate) {
  std::string error;
  EXPECT_FALSE(parse_filter("(cn=ali*)", error));
  EXPECT_EQ(error, "substring matches are not supported in (cn=ali*)");
  EXPECT_FALSE(parse_filter("(userAccountControl:1.2.840.113556.1.4.803:=2)", error));
  EXPECT_FALSE(parse_filter("(&(a=b)", error));
  EXPECT_FALSE(parse_filter("(a=b))", error));
}

class FakeDcTest : public ::testing::Test {
 protected:
  FakeDcTest() : dc_(domain_.add_dc("dc1")) {
    Error error;
    directory_ = domain_.opener()(dc_.uri(), {}, {}, std::chrono::seconds(1), error, nullptr);
    EXPECT_TRUE(directory_) << error.message;
  }

  std::vector<Entry> search(SearchRequest request) {
    std::vector<Entry> entries;
    Error error = directory_->paged_search(
        request, 10, [&](Entry&& entry) { entries.push_back(std::move(entry)); return true; },
        [] { return true; });
    EXPECT_FALSE(error) << error.message;
    return entries;
  }

  FakeDomain domain_;
  FakeDc& dc_;
  std::unique_ptr<Directory> directory_;
};

TEST_F(FakeDcTest, TombstonesOnlyWithShowDeletedAndWithoutObjectCategory) {
  const std::string alice = dc_.add_user("alice");
  dc_.remove(alice);
  SearchRequest request{dc_.base_dn(), Scope::kSubtree, "(objectClass=user)", {}};
  EXPECT_TRUE(search(request).empty());
  request.show_deleted = true;
  std::vector<Entry> found = search(request);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].first("isdeleted"), "TRUE");
  EXPECT_EQ(found[0].find("objectcategory"), nullptr);
  EXPECT_NE(found[0].dn.find("\\0ADEL:"), std::string::npos) << found[0].dn;
}

TEST_F(FakeDcTest, RangedMemberReadsAndMaxValRange) {
  std::vector<std::string> members;
  for (const char* name : {"a", "b", "c"}) members.push_back(dc_.add_user(name));
  dc_.add_group("g", members);
  dc_.set_max_val_range(2);
  std::optional<Entry> entry;
  const std::string dn = "CN=g,CN=Users," + dc_.base_dn();
  ASSERT_FALSE(directory_->read_entry({dn, Scope::kBase, "(objectClass=*)", {"member"}}, entry));
  ASSERT_TRUE(entry);
  ASSERT_NE(entry->find("member;range=0-1"), nullptr);
  EXPECT_EQ(entry->find("member;range=0-1")->values.size(), 2u);
  ASSERT_FALSE(
      directory_->read_entry({dn, Scope::kBase, "(objectClass=*)", {"member;range=2-*"}}, entry));
  ASSERT_NE(entry->find("member;range=2-*"), nullptr);
  EXPECT_EQ(entry->find("member;range=2-*")->values,
            std::vector<std::string>{"CN=c,CN=Users," + dc_.base_dn()});
}

TEST_F(FakeDcTest, ScriptedFailureAndDown) {
  dc_.fail_operation(2);
  std::optional<Entry> root;
  SearchRequest request{"", Scope::kBase, "(objectClass=*)", {"highestCommittedUSN"}};
  EXPECT_FALSE(directory_->read_entry(request, root));
  EXPECT_EQ(root->first("highestcommittedusn"), std::to_string(dc_.highest_usn()));
  Error failed = directory_->read_entry(request, root);
  EXPECT_EQ(failed.code, LDAP_SERVER_DOWN);
  Error error;
  EXPECT_FALSE(domain_.opener()(dc_.uri(), {}, {}, std::chrono::seconds(1), error, nullptr));
  EXPECT_EQ(error.message, dc_.uri() + ": connect failed: Can't contact LDAP server");
}

}  // namespace
}  // namespace dirfeed::ldap::testing
