// Store::object_by_upn: the UPN index follows changes of userPrincipalName (case-insensitive
// lookups, renames, partial reads, deletes) and is built on open for a database without it.
#include <gtest/gtest.h>

#include <string>

#include "changefeed/database.hpp"
#include "tests/changefeed/store_fixture.hpp"

namespace dirfeed::changefeed {
namespace {

using testing::StoreTest;

class UpnIndexTest : public StoreTest {
 protected:
  pb::ObservedObject user_with_upn(const std::string& name, const std::string& upn) {
    pb::ObservedObject observed = user(name);
    observed.mutable_object()->set_user_principal_name(upn);
    return observed;
  }

  // The name (sam) of the object stored under `upn`, or "" when none.
  std::string by_upn(const std::string& upn) {
    std::optional<pb::DirectoryObject> object = store_->object_by_upn(upn);
    return object ? object->sam_account_name() : "";
  }
};

TEST_F(UpnIndexTest, LookupIgnoresCaseAndFollowsRenamesPartialReadsAndDeletes) {
  apply({user_with_upn("alice", "Alice.Smith@Corp.Example.com"), user("bob")});
  EXPECT_EQ(by_upn("alice.smith@corp.example.COM"), "alice");
  EXPECT_EQ(by_upn("alice@example.test"), "") << "no implicit UPN: only what is stored";
  EXPECT_EQ(by_upn(""), "");

  apply({user_with_upn("alice", "asmith@corp.example.com")});
  EXPECT_EQ(by_upn("Alice.Smith@Corp.Example.com"), "") << "the old UPN is gone";
  EXPECT_EQ(by_upn("ASMITH@corp.example.com"), "alice");

  pb::ObservedObject title = partial("alice", {"title"});
  title.mutable_object()->set_title("Engineer");
  apply({title});
  EXPECT_EQ(by_upn("asmith@corp.example.com"), "alice") << "a partial read without it keeps it";

  pb::ObservedObject cleared = partial("alice", {"user_principal_name"});
  apply({cleared});
  EXPECT_EQ(by_upn("asmith@corp.example.com"), "") << "named but empty clears it";

  apply({user_with_upn("bob", "bob@corp.example.com")});
  apply({deleted("bob")});
  EXPECT_EQ(by_upn("bob@corp.example.com"), "");
}

TEST_F(UpnIndexTest, OlderDatabaseGetsTheUpnIndexBuiltOnOpen) {
  apply({user_with_upn("alice", "alice.smith@corp.example.com"), user("bob")});
  store_.reset();
  {  // What a dirfeed without the index left: no such table, no marker.
    std::string error;
    std::unique_ptr<Database> database = Database::open(temp_.path() + "/db", false, &error);
    ASSERT_NE(database, nullptr) << error;
    ASSERT_TRUE(database->db()->DropColumnFamily(database->table(Table::kUpnIndex)).ok());
    ASSERT_TRUE(database->db()
                    ->Delete(rocksdb::WriteOptions(), database->table(Table::kState),
                             keys::kUpnIndexKey)
                    .ok());
  }
  {  // Read-only cannot create the table: it opens, and finds no UPN.
    std::string error;
    std::unique_ptr<Store> reader =
        Store::open(StoreOptions{temp_.path() + "/db", /*read_only=*/true}, clock_, &error);
    ASSERT_NE(reader, nullptr) << error;
    EXPECT_TRUE(reader->object_by_guid(guid("alice")).has_value());
    EXPECT_FALSE(reader->object_by_upn("alice.smith@corp.example.com").has_value());
  }
  open();
  EXPECT_EQ(by_upn("Alice.Smith@corp.example.com"), "alice");
}

}  // namespace
}  // namespace dirfeed::changefeed
