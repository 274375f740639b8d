// The Directory Sync API's users and groups: the documents' shapes, the views base DNs and a
// group narrow, paging, and long lists streamed in pieces.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/base64.hpp"
#include "tests/rest/dsync_api_fixture.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using testing::DsyncApiTest;
using testing::kBase;
using testing::kPeople;
using testing::kStaff;
using testing::Reply;

// ---- users and groups ----------------------------------------------------------------------

TEST_F(DsyncApiTest, UsersOfAWholeDomainInTheDocumentsShape) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string users = ok(std::string(kBase) + "/users?tenant=acme&product=crm");
  EXPECT_EQ(names(users), (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
  EXPECT_TRUE(users.starts_with(R"({"data":[)" + alice_json(id) + ",{")) << users;
  EXPECT_TRUE(users.ends_with(R"(}],"error":null})")) << users;
  // bob: disabled, no mail or UPN.
  EXPECT_NE(users.find(R"("first_name":"","last_name":"","email":"","active":false,)"
                       R"("directoryId":")" + id + R"(","raw":{"schemas":)"),
            std::string::npos)
      << users;
  EXPECT_NE(users.find(R"("userName":"EXAMPLE\\bob","name":{},"displayName":"bob Display",)"
                       R"("active":false,)"),
            std::string::npos)
      << users;
}

TEST_F(DsyncApiTest, OneUserInTheDocumentsShape) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string expected = R"({"data":)" + alice_json(id) + R"(,"error":null})";
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + id_of("alice") + "?tenant=acme&product=crm"),
            expected);
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + id_of("alice") + "?directoryId=" + id), expected);
  std::string base64;
  for (char c : base64_encode(guid("alice"))) {
    base64 += c == '+' ? "%2B" : c == '/' ? "%2F" : c == '=' ? "%3D" : std::string(1, c);
  }
  EXPECT_EQ(ok(std::string(kBase) + "/users/" + base64 + "?directoryId=" + id), expected);

  for (const std::string& missing : {id_of("staff"), std::string("nope"), guid_to_string(std::string(16, 'x'))}) {
    const Reply reply = get(std::string(kBase) + "/users/" + missing + "?directoryId=" + id);
    EXPECT_EQ(reply.status, http::status::not_found) << missing;
    EXPECT_EQ(reply.body, error_body("user not found"));
  }
}

TEST_F(DsyncApiTest, GroupsListAndOneGroupWithMembers) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string groups = ok(std::string(kBase) + "/groups?directoryId=" + id);
  EXPECT_EQ(names(groups), (std::vector<std::string>{"Domain Users", "staff", "admins"}));
  const std::string staff_members =
      member("alice", "alice@example.test") + "," + member("bob", "EXAMPLE\\\\bob") + "," +
      member("carol", "carol@example.test");
  EXPECT_NE(groups.find("," + staff_json(staff_members, id) + ","), std::string::npos) << groups;

  const std::string one = ok(std::string(kBase) + "/groups/" + id_of("staff") + "?directoryId=" + id);
  std::string pairs;
  for (const char* name : {"alice", "bob", "carol"}) {
    if (!pairs.empty()) pairs += ",";
    pairs += R"({"group_id":")" + id_of("staff") + R"(","user_id":")" + id_of(name) + R"("})";
  }
  std::string expected = staff_json(staff_members, id);
  expected.pop_back();
  EXPECT_EQ(one, R"({"data":)" + expected + R"(,"members":[)" + pairs + R"(]},"error":null})")
      << "user members only: admins is a group";

  EXPECT_EQ(get(std::string(kBase) + "/groups/" + id_of("alice") + "?directoryId=" + id).body,
            error_body("group not found"));
}

TEST_F(DsyncApiTest, BaseDnsNarrowTheView) {
  // OU=Staff, not its sibling OU=OldStaff; a user's own DN is an exact base; OU=Groups for
  // the groups, whose members show only when in the view too.
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "base_dns":
      ["ou=staff,DC=EXAMPLE,dc=test", "CN=bob,OU=People,DC=example,DC=test",
       "OU=Groups, DC=example, DC=test"]})");
  const std::string query = "?directoryId=" + id;
  EXPECT_EQ(names(ok(std::string(kBase) + "/users" + query)),
            (std::vector<std::string>{"bob", "carol"}));
  const std::string groups = ok(std::string(kBase) + "/groups" + query);
  EXPECT_EQ(names(groups), (std::vector<std::string>{"Domain Users", "staff", "admins"}));
  EXPECT_NE(groups.find(staff_json(member("bob", "EXAMPLE\\\\bob") + "," +
                                       member("carol", "carol@example.test"),
                                   id)),
            std::string::npos)
      << groups;
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("alice") + query).status,
            http::status::not_found);
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("dave") + query).status,
            http::status::not_found);
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("carol") + query).status,
            http::status::ok);
  const std::string staff = ok(std::string(kBase) + "/groups/" + id_of("staff") + query);
  EXPECT_EQ(staff.find(id_of("alice")), std::string::npos) << staff;

  const std::string staff_only = create(R"({"tenant": "a", "product": "b", "base_dns": [")" +
                                        std::string(kStaff) + R"("]})");
  EXPECT_EQ(ok(std::string(kBase) + "/groups?directoryId=" + staff_only),
            R"({"data":[],"error":null})");
}

TEST_F(DsyncApiTest, AGroupNarrowsTheViewToItselfAndItsDirectMembers) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm", "group": ")" +
                                id_of("staff") + R"("})");
  const std::string query = "?directoryId=" + id;
  EXPECT_EQ(names(ok(std::string(kBase) + "/users" + query)),
            (std::vector<std::string>{"alice", "bob", "carol"}));
  EXPECT_EQ(names(ok(std::string(kBase) + "/groups" + query)),
            (std::vector<std::string>{"staff", "admins"}))
      << "admins is a member of staff";
  EXPECT_EQ(get(std::string(kBase) + "/users/" + id_of("dave") + query).status,
            http::status::not_found);

  // Primary group members count: Domain Users lists nobody, every user is in it by RID.
  const std::string everyone = create(R"({"tenant": "acme", "product": "crm", "group":
      "cn=domain users, ou=groups, dc=example, dc=test"})");
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + everyone)),
            (std::vector<std::string>{"alice", "bob", "carol", "dave"}));
}

TEST_F(DsyncApiTest, TenantAndProductNameTheOldestDirectory) {
  const std::string staff = create(R"({"tenant": "acme", "product": "crm", "base_dns": [")" +
                                   std::string(kStaff) + R"("]})");
  clock_.advance(1);
  const std::string all = create(R"({"tenant": "acme", "product": "crm"})");
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?tenant=acme&product=crm")),
            std::vector<std::string>{"carol"});
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + all)).size(), 4u);
  EXPECT_EQ(names(ok(std::string(kBase) + "/users?directoryId=" + all +
                     "&tenant=acme&product=crm")).size(),
            4u)
      << "directoryId chooses";

  for (const std::string& query :
       {"?directoryId=" + all + "&tenant=other", "?directoryId=" + all + "&product=other",
        std::string("?tenant=acme&product=nothing"), "?directoryId=" + std::string(40, '0')}) {
    for (const char* route : {"/users", "/groups", "/users/x", "/groups/x"}) {
      const Reply reply = get(std::string(kBase) + route + query);
      EXPECT_EQ(reply.status, http::status::not_found) << route << query;
      EXPECT_EQ(reply.body, error_body("directory not found")) << route << query;
    }
  }
  for (const char* query : {"", "?tenant=acme", "?product=crm"}) {
    EXPECT_EQ(get(std::string(kBase) + "/users" + query).status, http::status::bad_request);
    EXPECT_EQ(get(std::string(kBase) + "/groups/" + id_of("staff") + query).status,
              http::status::bad_request);
  }
}

TEST_F(DsyncApiTest, PageOffsetAndPageLimitSliceTheView) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const std::string users = std::string(kBase) + "/users?directoryId=" + id;
  const auto page = [&](const std::string& query) { return names(ok(users + query)); };
  EXPECT_EQ(page("&pageOffset=1&pageLimit=2"), (std::vector<std::string>{"bob", "carol"}));
  EXPECT_EQ(page("&pageOffset=3"), (std::vector<std::string>{"dave"}));
  EXPECT_EQ(page("&pageLimit=1"), (std::vector<std::string>{"alice"}));
  EXPECT_EQ(page("&pageOffset=0&pageLimit=18446744073709551615").size(), 4u);
  EXPECT_EQ(page("&pageOffset=4"), std::vector<std::string>{});
  EXPECT_EQ(page("&pageLimit=0"), std::vector<std::string>{});
  EXPECT_EQ(names(ok(std::string(kBase) + "/groups?directoryId=" + id + "&pageOffset=2")),
            std::vector<std::string>{"admins"});

  for (const std::string query : {"pageOffset=-1", "pageOffset=", "pageLimit=1.5", "pageLimit=ten",
                                  "pageLimit=+1", "pageOffset=18446744073709551616"}) {
    const Reply reply = get(users + "&" + query);
    EXPECT_EQ(reply.status, http::status::bad_request) << query;
    const std::string name = query.substr(0, query.find('='));
    EXPECT_EQ(reply.body, error_body(name + " must be a non-negative integer")) << query;
  }
}

// Enough users for several pieces of a streamed list.
class DsyncLongListTest : public DsyncApiTest {
 protected:
  static constexpr int kUsers = 700;
  DsyncLongListTest() {
    // Not through the fixture's user(): its GUIDs are numbered by one byte.
    std::vector<pb::ObservedObject> page;
    for (int i = 0; i < kUsers; ++i) {
      pb::ObservedObject observed;
      pb::DirectoryObject& object = *observed.mutable_object();
      object.set_guid(std::string(14, '\x7f') + static_cast<char>(i / 256) +
                      static_cast<char>(i % 256));
      object.set_kind(pb::USER);
      object.set_dn("CN=u" + std::to_string(i) + "," + (i % 2 ? kStaff : kPeople));
      object.set_sam_account_name("u" + std::to_string(i));
      page.push_back(std::move(observed));
    }
    apply(page);
  }
};

TEST_F(DsyncLongListTest, UsersAreStreamedInPieces) {
  const std::string id = create(R"({"tenant": "acme", "product": "crm"})");
  const Reply all = get(std::string(kBase) + "/users?directoryId=" + id);
  ASSERT_EQ(all.status, http::status::ok);
  EXPECT_EQ(names(all.body).size(), kUsers + 4u);
  EXPECT_GE(all.pieces, (kUsers + 4) / kDsyncObjectsPerPiece + 1) << "streamed, not built whole";

  // Narrowed and sliced across pieces: the staff half, from the 300th on.
  const std::string staff = create(R"({"tenant": "acme", "product": "erp", "base_dns": [")" +
                                   std::string(kStaff) + R"("]})");
  const Reply sliced =
      get(std::string(kBase) + "/users?directoryId=" + staff + "&pageOffset=300&pageLimit=40");
  const std::vector<std::string> page = names(sliced.body);
  ASSERT_EQ(page.size(), 40u);
  const Reply whole = get(std::string(kBase) + "/users?directoryId=" + staff);
  const std::vector<std::string> every = names(whole.body);
  ASSERT_EQ(every.size(), kUsers / 2 + 1u) << "carol and the odd ones";
  EXPECT_EQ(page, std::vector<std::string>(every.begin() + 300, every.begin() + 340));
}

}  // namespace
}  // namespace dirfeed::rest
