// The Directory Sync API served by the real `dirfeed run` binary over real HTTP, with the
// Samba AD DC fixture as the directory: a directory created over HTTP shows the users and
// groups seeded in AD (ids as ldapsearch reads them), narrowing by OU, and directories
// surviving a restart.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "tests/integration/daemon_client.hpp"
#include "tests/support/ldif.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

const std::string kStaff = "OU=Staff,DC=example,DC=test";
const std::string kOldStaff = "OU=OldStaff,DC=example,DC=test";
const std::string kApi = "/api/v1/directory-sync";

// The "id" members of a {"data": [...]} answer, in order.
std::vector<std::string> ids(const std::string& body) {
  std::vector<std::string> found;
  const std::regex id(R"re("id":"([0-9a-f-]{36})","(?:first_name|name)")re");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), id); it != std::sregex_iterator();
       ++it) {
    found.push_back((*it)[1].str());
  }
  return found;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
}

TEST(DsyncIntegrationTest, DirectoriesViewAdAndSurviveARestart) {
  SambaDc& dc = shared_dc();
  dc.reset();
  dc.ldif(ldif_ou(kStaff) + ldif_ou(kOldStaff) +
          ldif_user("Smith\\, John", kStaff, "jsmith",
                    "givenName: John\nsn: Smith\nmail: john.smith@example.test\n") +
          ldif_user("Old Timer", kOldStaff, "otimer") +
          ldif_group("Engineers", kStaff, "engineers",
                     {"CN=Smith\\, John," + kStaff, "CN=Old Timer," + kOldStaff}));
  const std::string jsmith = ldap_guid(dc, kStaff, "(sAMAccountName=jsmith)");
  const std::string otimer = ldap_guid(dc, kOldStaff, "(sAMAccountName=otimer)");
  const std::string engineers = ldap_guid(dc, kStaff, "(sAMAccountName=engineers)");
  const std::string admin = ldap_guid(dc, dc.base_dn(), "(sAMAccountName=Administrator)");
  for (const std::string* guid : {&jsmith, &otimer, &engineers, &admin}) {
    ASSERT_EQ(guid->size(), 36u);
  }

  TempDir dir;
  const std::string config = write_config(dir, dc);
  const std::string log_path = dir.path() + "/run.log";
  const std::string key = add_key(config, "app", log_path);
  ASSERT_TRUE(key.starts_with("dfk_")) << read_text(log_path);
  const Headers auth = api_key(key);
  std::optional<Process> daemon;
  uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);

  EXPECT_EQ(call(port, http::verb::get, kApi + "?tenant=acme&product=crm", {}).status, 401);
  EXPECT_EQ(
      call(port, http::verb::post, kApi, auth, R"({"tenant": "a:b", "product": "crm"})").status,
      400);

  // The whole domain, and OU=Staff only, for the same tenant and product.
  const Reply whole = call(port, http::verb::post, kApi, auth,
                           R"({"name": "All", "tenant": "acme", "product": "crm",
                               "type": "active-directory", "domain": "example.test"})");
  ASSERT_EQ(whole.status, 201) << whole.body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(whole.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re")));
  const std::string whole_id = match[1].str();
  const Reply staff = call(port, http::verb::post, kApi, auth,
                           R"({"name": "Staff", "tenant": "acme", "product": "crm",
                               "base_dns": ["ou=staff, dc=example, dc=test"]})");
  ASSERT_EQ(staff.status, 201) << staff.body;
  ASSERT_TRUE(std::regex_search(staff.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re")));
  const std::string staff_id = match[1].str();

  // Users and groups seeded in AD, with the ids ldapsearch reads.
  const Reply users = call(port, http::verb::get, kApi + "/users?directoryId=" + whole_id, auth);
  ASSERT_EQ(users.status, 200) << users.body;
  const std::vector<std::string> all_users = ids(users.body);
  for (const std::string& guid : {jsmith, otimer, admin}) {
    EXPECT_TRUE(contains(all_users, guid)) << guid << " in " << users.body;
  }
  EXPECT_FALSE(contains(all_users, engineers)) << "a group is no user";
  const Reply john = call(port, http::verb::get,
                          kApi + "/users/" + jsmith + "?tenant=acme&product=crm", auth);
  ASSERT_EQ(john.status, 200) << john.body;
  EXPECT_TRUE(john.body.starts_with(R"({"data":{"id":")" + jsmith +
                                    R"(","first_name":"John","last_name":"Smith",)"
                                    R"("email":"john.smith@example.test","active":)"))
      << john.body;
  EXPECT_NE(john.body.find(R"("distinguishedName":"CN=Smith\\, John,OU=Staff,DC=example,DC=test")"),
            std::string::npos)
      << john.body;
  EXPECT_NE(john.body.find(R"({"value":")" + engineers + R"("})"), std::string::npos)
      << "raw.groups names Engineers: " << john.body;

  const Reply group = call(port, http::verb::get,
                           kApi + "/groups/" + engineers + "?directoryId=" + whole_id, auth);
  ASSERT_EQ(group.status, 200) << group.body;
  EXPECT_NE(group.body.find(R"("members":[{"group_id":")" + engineers + R"(","user_id":")"),
            std::string::npos)
      << group.body;
  EXPECT_NE(group.body.find(R"("user_id":")" + jsmith + "\""), std::string::npos) << group.body;
  EXPECT_NE(group.body.find(R"("user_id":")" + otimer + "\""), std::string::npos) << group.body;

  // Narrowed to OU=Staff: John and Engineers, whose members there are John only.
  const Reply staff_users =
      call(port, http::verb::get, kApi + "/users?directoryId=" + staff_id, auth);
  EXPECT_EQ(ids(staff_users.body), std::vector<std::string>{jsmith}) << staff_users.body;
  const Reply staff_groups =
      call(port, http::verb::get, kApi + "/groups?directoryId=" + staff_id, auth);
  EXPECT_EQ(ids(staff_groups.body), std::vector<std::string>{engineers}) << staff_groups.body;
  EXPECT_EQ(staff_groups.body.find(otimer), std::string::npos) << staff_groups.body;
  EXPECT_EQ(call(port, http::verb::get, kApi + "/users/" + otimer + "?directoryId=" + staff_id,
                 auth).status,
            404);
  const Reply paged = call(port, http::verb::get,
                           kApi + "/users?directoryId=" + whole_id + "&pageOffset=1&pageLimit=1",
                           auth);
  ASSERT_EQ(ids(paged.body).size(), 1u) << paged.body;
  EXPECT_EQ(ids(paged.body).front(), all_users.at(1));

  // A restart keeps both directories.
  const Reply listed = call(port, http::verb::get, kApi + "?tenant=acme&product=crm", auth);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find(staff_id), std::string::npos);
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
  port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  EXPECT_EQ(call(port, http::verb::get, kApi + "?tenant=acme&product=crm", auth).body, listed.body);
  EXPECT_EQ(ids(call(port, http::verb::get, kApi + "/users?directoryId=" + staff_id, auth).body),
            std::vector<std::string>{jsmith});

  EXPECT_EQ(call(port, http::verb::delete_, kApi + "/" + staff_id, auth).status, 200);
  EXPECT_EQ(call(port, http::verb::get, kApi + "/" + staff_id, auth).status, 404);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

}  // namespace
}  // namespace dirfeed::testing
