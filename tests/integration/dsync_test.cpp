// The Directory Sync API served by the real `dirfeed run` binary over real HTTP, with the
// Samba AD DC fixture as the directory: a directory created over HTTP shows the users and
// groups seeded in AD (ids as ldapsearch reads them), narrowing by OU, and directories
// surviving a restart.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "proto/guid.hpp"
#include "tests/integration/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

#ifndef DIRFEED_BINARY
#error "DIRFEED_BINARY must be defined (tests/integration/CMakeLists.txt)"
#endif

namespace dirfeed::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

const std::string kStaff = "OU=Staff,DC=example,DC=test";
const std::string kOldStaff = "OU=OldStaff,DC=example,DC=test";
const std::string kApi = "/api/v1/directory-sync";

struct Reply {
  int status = 0;  // 0: no connection
  std::string body;
};

// One request on a new connection to 127.0.0.1:port, with `Authorization: Api-Key key` when
// a key is given and a JSON body when one is.
Reply call(uint16_t port, http::verb verb, const std::string& target, const std::string& key,
           const std::string& body = "") {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return {};
  http::request<http::string_body> request(verb, target, 11);
  request.set(http::field::host, "127.0.0.1");
  if (!key.empty()) request.set(http::field::authorization, "Api-Key " + key);
  if (!body.empty()) {
    request.set(http::field::content_type, "application/json");
    request.body() = body;
    request.prepare_payload();
  }
  http::write(socket, request, error);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!error) http::read(socket, buffer, response, error);
  if (error) return {};
  return {static_cast<int>(response.result_int()), response.body()};
}

// The GUID string form of the one entry under `base` that ldapsearch finds with `filter`.
std::string ldap_guid(const SambaDc& dc, const std::string& base, const std::string& filter) {
  const std::string ldif = dc.search(base, filter, {"objectGUID"});
  std::smatch match;
  if (!std::regex_search(ldif, match, std::regex("objectGUID:: (\\S+)"))) return "";
  std::optional<std::string> bytes = guid_from_text(match[1].str());
  return bytes ? guid_to_string(*bytes) : "";
}

// The daemon's config in `dir`: the DC with the usn strategy, the API on an ephemeral
// loopback port with its keys file in `dir`. Returns the config's path.
std::string write_config(const TempDir& dir, const SambaDc& dc) {
  const std::string password_file = dir.path() + "/bind.password";
  write_text(password_file, dc.admin_password(), 0600);
  const std::string config = dir.path() + "/dirfeed.yaml";
  write_text(config, "state_dir: " + dir.path() + "/state\nlog:\n  level: info\ndomains:\n"
                     "  - name: " + dc.domain() + "\n    controllers:\n      - " + dc.uri() +
                     "\n    tls:\n      ca_file: " + dc.ca_file() + "\n    bind:\n      dn: " +
                     dc.admin_dn() + "\n      password_file: " + password_file +
                     "\n    sync:\n      strategy: usn\n      interval: 60s\n"
                     "api:\n  listen: 127.0.0.1:0\n  users_file: " + dir.path() +
                     "/api-users\n  keys_file: " + dir.path() + "/api-keys\n");
  return config;
}

// `dirfeed api add-key --config CONFIG --name NAME`: the key it prints ("" on failure).
std::string add_key(const std::string& config, const std::string& name,
                    const std::string& log_path) {
  const std::string command = std::string(DIRFEED_BINARY) + " api add-key --config " + config +
                              " --name " + name + " 2>>" + log_path;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return "";
  char line[256] = {};
  const bool read = std::fgets(line, sizeof line, pipe) != nullptr;
  const int status = ::pclose(pipe);
  if (!read || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return "";
  std::string key(line);
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r')) key.pop_back();
  return key;
}

// Starts `dirfeed run` and waits until it listens and has completed its first sync; returns
// its port (0 when it did not get there within 60 s).
uint16_t start(std::optional<Process>& daemon, const std::string& config,
               const std::string& log_path) {
  const size_t logged = read_text(log_path).size();  // a restart appends to the same log
  daemon.emplace(std::vector<std::string>{DIRFEED_BINARY, "run", "--config", config}, log_path,
                 log_path);
  const std::regex listening("api: listening on http://127\\.0\\.0\\.1:(\\d+)");
  uint16_t port = 0;
  wait_until(
      [&] {
        std::smatch match;
        const std::string log = read_text(log_path).substr(logged);
        if (!std::regex_search(log, match, listening)) return false;
        port = static_cast<uint16_t>(std::stoi(match[1].str()));
        return true;
      },
      30s);
  if (port == 0) return 0;
  const bool ready = wait_until(
      [&] { return call(port, http::verb::get, "/readyz", "").status == 200; }, 30s, 100ms);
  return ready ? port : 0;
}

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
  dc.ldif("dn: " + kStaff + "\nchangetype: add\nobjectClass: organizationalUnit\n\n"
          "dn: " + kOldStaff + "\nchangetype: add\nobjectClass: organizationalUnit\n\n"
          "dn: CN=Smith\\, John," + kStaff + "\nchangetype: add\nobjectClass: user\n"
          "sAMAccountName: jsmith\ngivenName: John\nsn: Smith\nmail: john.smith@example.test\n\n"
          "dn: CN=Old Timer," + kOldStaff + "\nchangetype: add\nobjectClass: user\n"
          "sAMAccountName: otimer\n\n"
          "dn: CN=Engineers," + kStaff + "\nchangetype: add\nobjectClass: group\n"
          "sAMAccountName: engineers\nmember: CN=Smith\\, John," + kStaff + "\n"
          "member: CN=Old Timer," + kOldStaff + "\n");
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
  std::optional<Process> daemon;
  uint16_t port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);

  EXPECT_EQ(call(port, http::verb::get, kApi + "?tenant=acme&product=crm", "").status, 401);
  EXPECT_EQ(call(port, http::verb::post, kApi, key, R"({"tenant": "a:b", "product": "crm"})").status,
            400);

  // The whole domain, and OU=Staff only, for the same tenant and product.
  const Reply whole = call(port, http::verb::post, kApi, key,
                           R"({"name": "All", "tenant": "acme", "product": "crm",
                               "type": "active-directory", "domain": "example.test"})");
  ASSERT_EQ(whole.status, 201) << whole.body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(whole.body, match, std::regex(R"re("id":"([0-9a-f]{40})")re")));
  const std::string whole_id = match[1].str();
  const Reply staff = call(port, http::verb::post, kApi, key,
                           R"({"name": "Staff", "tenant": "acme", "product": "crm",
                               "base_dns": ["ou=staff, dc=example, dc=test"]})");
  ASSERT_EQ(staff.status, 201) << staff.body;
  ASSERT_TRUE(std::regex_search(staff.body, match, std::regex(R"re("id":"([0-9a-f]{40})")re")));
  const std::string staff_id = match[1].str();

  // Users and groups seeded in AD, with the ids ldapsearch reads.
  const Reply users = call(port, http::verb::get, kApi + "/users?directoryId=" + whole_id, key);
  ASSERT_EQ(users.status, 200) << users.body;
  const std::vector<std::string> all_users = ids(users.body);
  for (const std::string& guid : {jsmith, otimer, admin}) {
    EXPECT_TRUE(contains(all_users, guid)) << guid << " in " << users.body;
  }
  EXPECT_FALSE(contains(all_users, engineers)) << "a group is no user";
  const Reply john = call(port, http::verb::get,
                          kApi + "/users/" + jsmith + "?tenant=acme&product=crm", key);
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
                           kApi + "/groups/" + engineers + "?directoryId=" + whole_id, key);
  ASSERT_EQ(group.status, 200) << group.body;
  EXPECT_NE(group.body.find(R"("members":[{"group_id":")" + engineers + R"(","user_id":")"),
            std::string::npos)
      << group.body;
  EXPECT_NE(group.body.find(R"("user_id":")" + jsmith + "\""), std::string::npos) << group.body;
  EXPECT_NE(group.body.find(R"("user_id":")" + otimer + "\""), std::string::npos) << group.body;

  // Narrowed to OU=Staff: John and Engineers, whose members there are John only.
  const Reply staff_users =
      call(port, http::verb::get, kApi + "/users?directoryId=" + staff_id, key);
  EXPECT_EQ(ids(staff_users.body), std::vector<std::string>{jsmith}) << staff_users.body;
  const Reply staff_groups =
      call(port, http::verb::get, kApi + "/groups?directoryId=" + staff_id, key);
  EXPECT_EQ(ids(staff_groups.body), std::vector<std::string>{engineers}) << staff_groups.body;
  EXPECT_EQ(staff_groups.body.find(otimer), std::string::npos) << staff_groups.body;
  EXPECT_EQ(call(port, http::verb::get, kApi + "/users/" + otimer + "?directoryId=" + staff_id,
                 key).status,
            404);
  const Reply paged = call(port, http::verb::get,
                           kApi + "/users?directoryId=" + whole_id + "&pageOffset=1&pageLimit=1",
                           key);
  ASSERT_EQ(ids(paged.body).size(), 1u) << paged.body;
  EXPECT_EQ(ids(paged.body).front(), all_users.at(1));

  // A restart keeps both directories.
  const Reply listed = call(port, http::verb::get, kApi + "?tenant=acme&product=crm", key);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find(staff_id), std::string::npos);
  daemon->signal(SIGTERM);
  ASSERT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
  port = start(daemon, config, log_path);
  ASSERT_NE(port, 0) << read_text(log_path);
  EXPECT_EQ(call(port, http::verb::get, kApi + "?tenant=acme&product=crm", key).body, listed.body);
  EXPECT_EQ(ids(call(port, http::verb::get, kApi + "/users?directoryId=" + staff_id, key).body),
            std::vector<std::string>{jsmith});

  EXPECT_EQ(call(port, http::verb::delete_, kApi + "/" + staff_id, key).status, 200);
  EXPECT_EQ(call(port, http::verb::get, kApi + "/" + staff_id, key).status, 404);
  daemon->signal(SIGTERM);
  EXPECT_EQ(daemon->wait_for(30s), 0) << read_text(log_path);
}

}  // namespace
}  // namespace dirfeed::testing
