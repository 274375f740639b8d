// The lists served from the store's records (rest/stored_shapes.hpp) are byte for byte what
// the handlers write from the objects: one store is filled with a StoredShapes renderer
// (renames, membership and IP changes, deletes, API and SCIM users included), every request
// is answered from its records, then again after reopening it without a renderer (from the
// objects), and the answers are compared.
#include <gtest/gtest.h>

#include <boost/beast/http/field.hpp>

#include <map>
#include <memory>
#include <regex>
#include <string>
#include <vector>

#include "core/guid.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/stored_shapes.hpp"
#include "tests/changefeed/store_fixture.hpp"
#include "tests/rest/api_context.hpp"
#include "tests/rest/response_text.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::testing::kDomain;
using changefeed::testing::StoreTest;
using testing::response_pieces;

constexpr char kOther[] = "other.test";

struct Reply {
  unsigned status = 0;
  std::string body;
  std::vector<size_t> piece_sizes;
};

class StoredShapesTest : public StoreTest {
 protected:
  StoredShapesTest() {
    renderer_ = &shapes_;
    reopen();
    const std::string key_file = temp_.write("api-keys", format_keys({{"app", api_key_hash(key_)}}));
    credentials_ = std::make_unique<CredentialStore>(temp_.path() + "/api-users", key_file);
    connect();
  }
  ~StoredShapesTest() override {
    router_.reset();
    context_.reset();
    store_.reset();
  }

  void connect() {
    router_.reset();
    context_ = testing::test_context(*store_, credentials_.get(), &clock_, domains_);
    router_ = std::make_unique<Router>(make_router(*context_));
  }

  Reply call(http::verb method, const std::string& target, const std::string& body = "") {
    Request request(method, target, 11);
    request.set(http::field::authorization, "Api-Key " + key_);
    if (!body.empty()) {
      request.set(http::field::content_type, "application/json");
      request.body() = body;
    }
    const Response response = router_->handle(request);
    Reply reply{response.result_int(), "", {}};
    for (const std::string& piece : response_pieces(response)) {
      reply.body += piece;
      reply.piece_sizes.push_back(piece.size());
    }
    return reply;
  }

  // Creates a Directory Sync directory; returns its id.
  std::string directory(const std::string& fields) {
    const Reply reply = call(http::verb::post, "/api/v1/directory-sync",
                             R"({"tenant":"t","product":"p",)" + fields + "}");
    EXPECT_EQ(reply.status, 201u) << fields << ": " << reply.body;
    std::smatch match;
    if (!std::regex_search(reply.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))) {
      ADD_FAILURE() << "no id in " << reply.body;
      return "";
    }
    return match[1].str();
  }

  void change(const std::string& name, changefeed::UserChange change) {
    changefeed::ApiOutcome outcome;
    ASSERT_TRUE(store_->change_user(guid(name), change, &outcome).is_ok());
    ASSERT_EQ(outcome, changefeed::ApiOutcome::kDone) << name;
  }

  // Every request of the comparison, answered by the store as it is opened now.
  std::map<std::string, Reply> answers(const std::vector<std::string>& targets) {
    std::map<std::string, Reply> replies;
    for (const std::string& target : targets) replies[target] = call(http::verb::get, target);
    return replies;
  }

  // The targets to compare: the lists, every user by GUID, and the directories' lists.
  std::vector<std::string> targets(const std::vector<std::string>& directories) {
    std::vector<std::string> list = {
        "/api/uid/v1.0/users",
        "/api/uid/v1.0/users?ip_only=false",
        "/api/uid/v1.0/users?ip_only=false&domain=example.test",
        "/api/uid/v1.0/users?ip_only=FALSE&domain=DC=other,DC=test",
        "/api/uid/v1.0/users?domain=example.test",
        "/api/uid/v1.0/users?ip_only=false&domain=nowhere.test",
        "/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true",
        "/public/directory-changes?resourceType=user&onPremisesSyncEnabled=false",
    };
    for (const auto& [name, guid] : guids_) {
      list.push_back("/api/uid/v1.0/user/" + guid_to_string(guid));
    }
    list.push_back("/api/uid/v1.0/user/" + guid_to_string(std::string(16, '\x7f')));
    for (const std::string& id : directories) {
      list.push_back("/api/v1/directory-sync/users?directoryId=" + id);
      list.push_back("/api/v1/directory-sync/users?directoryId=" + id + "&pageOffset=1&pageLimit=2");
      list.push_back("/api/v1/directory-sync/users?directoryId=" + id + "&pageLimit=0");
    }
    return list;
  }

  // Answers from the records, then from the objects (reopened without a renderer): equal.
  void expect_same_answers(const std::vector<std::string>& directories) {
    ASSERT_TRUE(store_->has_rendered_records());
    const std::vector<std::string> list = targets(directories);
    const std::map<std::string, Reply> stored = answers(list);
    EXPECT_NE(stored.at("/api/uid/v1.0/users?ip_only=false").body.find("objectGUID"),
              std::string::npos);
    for (const std::string& id : directories) {
      EXPECT_NE(stored.at("/api/v1/directory-sync/users?directoryId=" + id).body.find(id),
                std::string::npos);
    }
    renderer_ = nullptr;
    reopen();
    connect();
    ASSERT_FALSE(store_->has_rendered_records());
    const std::map<std::string, Reply> formatted = answers(list);
    for (const std::string& target : list) {
      EXPECT_EQ(stored.at(target).status, formatted.at(target).status) << target;
      EXPECT_EQ(stored.at(target).body, formatted.at(target).body) << target;
    }
    // Reopened with the renderer, the records are made again from the objects: still equal.
    renderer_ = &shapes_;
    reopen();
    connect();
    const std::map<std::string, Reply> rebuilt = answers(list);
    for (const std::string& target : list) {
      EXPECT_EQ(rebuilt.at(target).body, formatted.at(target).body) << target;
    }
  }

  std::vector<DomainInfo> domains_ = {{kDomain, "DC=example,DC=test", "EXAMPLE"},
                                      {kOther, "DC=other,DC=test", "OTHER"}};
  StoredShapes shapes_{domains_};
  std::string key_ = generate_api_key();
  std::unique_ptr<CredentialStore> credentials_;
  std::unique_ptr<ApiContext> context_;
  std::unique_ptr<Router> router_;
};

TEST_F(StoredShapesTest, ListsFromRecordsEqualListsFromObjects) {
  pb::ObservedObject alice = user("alice", "Domain Users");
  pb::DirectoryObject& a = *alice.mutable_object();
  a.set_display_name("Alice \"Ally\" Liddell \xC3\xA9");
  changefeed::testing::set_alice_profile(a);
  a.set_user_account_control(0x200);
  pb::ObservedObject bob = user("bob", "Domain Users");
  bob.mutable_object()->clear_mail();
  bob.mutable_object()->set_user_account_control(0x202);
  pb::ObservedObject smith = user("smith");
  smith.mutable_object()->set_dn("CN=Smith\\, John,OU=Staff,DC=example,DC=test");
  pb::ObservedObject plain = user("plain");
  plain.mutable_object()->clear_netbios_domain();  // NTLM identity from the configured name
  const pb::ObservedObject staff = group("staff", {"alice", "team", "smith"});
  apply({group("Domain Users", {}), staff, group("team", {"bob"}), group("admins", {"plain"}),
         alice, bob, smith, plain, user("gone")});
  apply({user("olga"), group("others", {"olga"})}, kOther);

  // The User ID API: a user of its own with IPs and groups; IPs and groups on an AD user.
  pb::DirectoryObject api_user = user("zed").object();
  api_user.clear_netbios_domain();
  api_user.set_domain(kDomain);
  api_user.add_api_groups(guid("admins"));
  api_user.add_ipv4_addresses("192.0.2.9");
  changefeed::ApiOutcome outcome;
  ASSERT_TRUE(store_->create_user(api_user, 3'600'000'000, &outcome).is_ok());
  changefeed::UserChange add;
  add.op = changefeed::UserChange::Op::kAdd;
  add.ipv4 = std::vector<std::string>{"192.0.2.1"};
  add.ipv6 = std::vector<std::string>{"2001:db8::1"};
  add.groups = std::vector<std::string>{guid("admins"), guid("staff")};
  change("alice", add);
  const std::vector<changefeed::IpEvent> logon = {
      {changefeed::IpEvent::Kind::kLogon, guid("bob"), "192.0.2.2", 3'600'000'000}};
  ASSERT_TRUE(store_->apply_ip_events(logon).is_ok());

  // A SCIM directory and what its identity provider pushed.
  const std::string scim = directory(R"("type":"okta-scim-v2")");
  pb::ObservedObject pushed = user("ann");
  pushed.mutable_object()->set_dn("");
  pushed.mutable_object()->set_source_resource(R"({"userName":"ann@idp.test","active":true})");
  changefeed::SourceOutcome pushed_outcome;
  ASSERT_TRUE(store_
                  ->write_source(changefeed::scim_source(scim),
                                 {{changefeed::SourceChange::Expect::kNew, pushed}},
                                 &pushed_outcome)
                  .is_ok());

  // Changes after the records were first written: a rename, a move in and out of groups, a
  // deleted user, a deleted group that API users name, the nested group renamed.
  clock_.advance(1'000'000);
  pb::ObservedObject renamed = group("staff", {"alice", "team", "bob"});
  renamed.mutable_object()->set_dn("CN=Crew,OU=Groups,DC=example,DC=test");
  pb::ObservedObject team = group("team", {"bob"});
  team.mutable_object()->set_dn("CN=Squad,OU=Groups,DC=example,DC=test");
  apply({renamed, team, deleted("gone"), deleted("admins")});

  const std::vector<std::string> directories = {
      directory(R"("domain":"example.test")"),
      directory(R"("domain":"example.test","base_dns":["OU=People,DC=example,DC=test"])"),
      directory(R"("domain":"example.test","group":")" + guid_to_string(guid("staff")) + R"(")"),
      directory(R"("domain":"example.test","include_api_users":true)"),
      directory(R"("domain":"other.test")"),
      scim,
  };
  expect_same_answers(directories);
}

TEST_F(StoredShapesTest, LongListsStreamInBoundedPieces) {
  // (The fixture's GUIDs are distinct for up to 255 names.)
  std::vector<pb::ObservedObject> page;
  const std::string ou = ",OU=" + std::string(400, 'o') + ",DC=example,DC=test";
  for (int i = 0; i < 240; ++i) {
    page.push_back(user("user" + std::to_string(i)));
    page.back().mutable_object()->set_dn("CN=user" + std::to_string(i) + ou);
  }
  apply(page);
  const std::string dsync = directory(R"("domain":"example.test")");
  for (const std::string& target :
       {std::string("/api/uid/v1.0/users?ip_only=false"),
        std::string("/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true"),
        "/api/v1/directory-sync/users?directoryId=" + dsync}) {
    const Reply reply = call(http::verb::get, target);
    EXPECT_EQ(reply.status, 200u) << target;
    EXPECT_GT(reply.piece_sizes.size(), 2u) << target;
    for (size_t size : reply.piece_sizes) EXPECT_LT(size, kStoredPieceBytes + 4096) << target;
  }
  expect_same_answers({dsync});
}

TEST_F(StoredShapesTest, ARenameShowsInEveryEntryOfTheNextList) {
  std::vector<pb::ObservedObject> page = {group("staff", {})};
  std::vector<std::string> members;
  for (int i = 0; i < 240; ++i) {
    members.push_back("user" + std::to_string(i));
    page.push_back(user(members.back(), "staff"));
  }
  apply(page);
  // A list started before the rename shows the old DN in every entry, even when the rename
  // commits while it streams; the next list shows the new one in every entry.
  Request request(http::verb::get, "/api/uid/v1.0/users?ip_only=false", 11);
  const Response before = router_->handle(request);
  pb::ObservedObject renamed = group("staff", {});
  renamed.mutable_object()->set_dn("CN=Crew,OU=Groups,DC=example,DC=test");
  apply({renamed});
  const std::string old_text = testing::response_text(before);
  const std::string new_text = call(http::verb::get, "/api/uid/v1.0/users?ip_only=false").body;
  const auto count = [](const std::string& text, const std::string& what) {
    size_t n = 0;
    for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count(old_text, "CN=staff,OU=Groups"), 240u);
  EXPECT_EQ(count(old_text, "CN=Crew"), 0u);
  EXPECT_EQ(count(new_text, "CN=Crew,OU=Groups"), 240u);
  EXPECT_EQ(count(new_text, "CN=staff,"), 0u);
}

}  // namespace
}  // namespace dirfeed::rest
