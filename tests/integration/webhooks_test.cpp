// Directory Sync API webhooks end to end: the real `dirfeed run` binary polls the Samba AD DC
// fixture, a directory is created over HTTP with a webhook to a receiver started by the test
// on 127.0.0.1, and AD changes arrive there as signed events in feed order; a daemon killed
// (SIGKILL) while a delivery is in flight sends it again after a restart, then the rest; with
// HTTP_PROXY in the daemon's environment, the events go through that proxy (a real tinyproxy).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "core/guid.hpp"
#include "rest/json.hpp"
#include "tests/integration/daemon_client.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/ldif.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tinyproxy.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

const std::string kStaff = "OU=Staff,DC=example,DC=test";
const std::string kAlice = "CN=Alice Example," + kStaff;
const std::string kEngineers = "CN=Engineers," + kStaff;
const std::string kApi = "/api/v1/directory-sync";
constexpr char kSecret[] = "whsec-test";

// The daemon's config: usn polled every second, no change notifications (Samba's come late
// with several LDAP workers, see notify_test.cpp), webhooks allowed to the receivers on
// 127.0.0.1.
const DaemonConfig kConfig{
    .interval = "1s", .notifications = false, .webhook_allowed_networks = {"127.0.0.0/8"}};

// POSTs a directory of OU=Staff with a webhook to `url`; its id ("" on failure, reported).
std::string create_directory(uint16_t port, const std::string& key, const std::string& url,
                             int batch_size = 0) {
  const Reply reply = call(port, http::verb::post, kApi, api_key(key),
                           R"({"name": "Hooks", "tenant": "acme", "product": "crm",
                               "domain": "example.test", "base_dns": [")" + kStaff +
                               R"("], "webhook_url": ")" + url + R"(", "webhook_secret": ")" +
                               kSecret + R"(", "webhook_batch_size": )" +
                               std::to_string(batch_size) + "}");
  EXPECT_EQ(reply.status, 201) << reply.body;
  std::smatch match;
  if (!std::regex_search(reply.body, match, std::regex(R"re("id":"([0-9a-f-]{36})")re"))) {
    return "";
  }
  return match[1].str();
}

// An event as "event sAMAccountName" or "event sAMAccountName>group name", checking the
// envelope; `raw_title`: the user's raw.title, when it has one.
std::string summarize(const std::string& body, const std::string& directory_id,
                      std::string* raw_title = nullptr) {
  std::string error;
  std::optional<rest::JsonValue> json = rest::parse_json(body, &error);
  EXPECT_TRUE(json) << error << ": " << body;
  if (!json || !json->is_object()) return "?";
  EXPECT_EQ(json->find("tenant")->text(), "acme");
  EXPECT_EQ(json->find("product")->text(), "crm");
  EXPECT_EQ(json->find("directory_id")->text(), directory_id);
  const rest::JsonValue* data = json->find("data");
  const rest::JsonValue* raw = data->find("raw");
  const rest::JsonValue* ad = raw->find("urn:dirfeed:params:scim:schemas:extension:ad:1.0:User");
  if (ad == nullptr) ad = raw->find("urn:dirfeed:params:scim:schemas:extension:ad:1.0:Group");
  std::string line = json->find("event")->text() + " " + ad->find("sAMAccountName")->text();
  if (const rest::JsonValue* group = data->find("group")) line += ">" + group->find("name")->text();
  if (raw_title != nullptr && raw->find("title") != nullptr) *raw_title = raw->find("title")->text();
  return line;
}

// Each test's daemon: kConfig for the shared DC in a temp dir, a Directory Sync key "hooks",
// and `dirfeed run` serving on port_ once start_daemon() returns without a failure.
class WebhooksIntegrationTest : public ::testing::Test {
 protected:
  void start_daemon(const SambaDc& dc) {
    config_ = write_config(dir_, dc, kConfig);
    key_ = add_key(config_, "hooks", log_path_);
    ASSERT_FALSE(key_.empty()) << read_text(log_path_);
    port_ = start(daemon_, config_, log_path_);
    ASSERT_NE(port_, 0) << read_text(log_path_);
  }

  // SIGTERM, and a clean exit.
  void stop_daemon() {
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_for(30s), 0) << read_text(log_path_);
  }

  // The shared DC, reset, with OU=Staff.
  static SambaDc& dc_with_staff() {
    SambaDc& dc = shared_dc();
    dc.reset();
    dc.ldif(ldif_ou(kStaff));
    return dc;
  }

  TempDir dir_;
  const std::string log_path_ = dir_.path() + "/run.log";
  std::string config_;
  std::string key_;
  std::optional<Process> daemon_;
  uint16_t port_ = 0;
};

TEST_F(WebhooksIntegrationTest, AdChangesArriveAsSignedEventsInOrder) {
  SambaDc& dc = dc_with_staff();
  dc.ldif(ldif_group("Engineers", kStaff, "engineers", {}));
  ASSERT_NO_FATAL_FAILURE(start_daemon(dc));
  WebhookReceiver receiver;
  const std::string id = create_directory(port_, key_, receiver.url());
  ASSERT_FALSE(id.empty());

  // Each AD change, then the events it must bring (all of them so far, in order).
  Strings expected;
  auto step = [&](const std::string& what, const std::string& ldif, const Strings& events) {
    dc.ldif(ldif);
    expected.insert(expected.end(), events.begin(), events.end());
    const bool arrived = receiver.wait_for_count(expected.size(), 20s);
    Strings got;
    for (const ReceivedRequest& request : receiver.received()) {
      got.push_back(summarize(request.body, id));
    }
    EXPECT_TRUE(arrived) << what << "\n" << read_text(log_path_);
    EXPECT_EQ(got, expected) << what;
  };
  step("add a user",
       "dn: " + kAlice + "\nchangetype: add\nobjectClass: user\nsAMAccountName: alice\n"
       "givenName: Alice\nsn: Example\n",
       {"user.created alice", "group.user_added alice>Domain Users"});
  step("modify it", "dn: " + kAlice + "\nchangetype: modify\nreplace: title\ntitle: Boss\n",
       {"user.updated alice"});
  step("add it to a group",
       "dn: " + kEngineers + "\nchangetype: modify\nadd: member\nmember: " + kAlice + "\n",
       {"group.user_added alice>engineers", "user.updated alice", "group.updated engineers"});
  step("remove it from the group",
       "dn: " + kEngineers + "\nchangetype: modify\ndelete: member\nmember: " + kAlice + "\n",
       {"group.user_removed alice>engineers", "user.updated alice", "group.updated engineers"});
  step("delete it", "dn: " + kAlice + "\nchangetype: delete\n",
       {"user.deleted alice", "group.user_removed alice>Domain Users"});

  const std::vector<ReceivedRequest> requests = receiver.received();
  ASSERT_EQ(requests.size(), expected.size());
  for (const ReceivedRequest& request : requests) {
    ASSERT_TRUE(request.signature) << request.body;
    EXPECT_TRUE(signature_valid(*request.signature, request.body, kSecret)) << *request.signature;
    EXPECT_EQ(request.content_type, "application/json");
    EXPECT_EQ(request.user_agent, "dirfeed");
  }
  std::string title;
  summarize(requests[2].body, id, &title);
  EXPECT_EQ(title, "Boss");

  // `dirfeed status` next to the running daemon.
  const std::string status_command =
      std::string(DIRFEED_BINARY) + " status --config " + config_ + " 2>&1";
  FILE* pipe = ::popen(status_command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string status;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe) != nullptr) status += buffer;
  EXPECT_EQ(::pclose(pipe), 0) << status;
  EXPECT_NE(status.find("directory " + id + " Hooks\n"), std::string::npos) << status;
  EXPECT_NE(status.find("  webhook:          " + receiver.url() + "\n"), std::string::npos)
      << status;
  EXPECT_NE(status.find("  last error:       none\n"), std::string::npos) << status;
  EXPECT_NE(status.find("  full sync done:   yes\n"), std::string::npos) << status;

  stop_daemon();
}

TEST_F(WebhooksIntegrationTest, AKilledDaemonRedeliversFromTheStoredCursor) {
  SambaDc& dc = dc_with_staff();
  ASSERT_NO_FATAL_FAILURE(start_daemon(dc));

  // The third request is held without an answer until the daemon is gone.
  std::atomic<bool> hold{true};
  WebhookReceiver* self = nullptr;
  WebhookReceiver receiver([&](const ReceivedRequest&, size_t index) {
    if (index == 2 && hold) self->wait_released();
    return 200u;
  });
  self = &receiver;
  const std::string id = create_directory(port_, key_, receiver.url());
  ASSERT_FALSE(id.empty());
  dc.add_users(kStaff, "kuser", 4);  // 8 events: each user created, then in Domain Users
  ASSERT_TRUE(receiver.wait_for_count(3, 20s)) << read_text(log_path_);
  daemon_->signal(SIGKILL);
  ASSERT_EQ(daemon_->wait_for(10s), 128 + SIGKILL);
  hold = false;
  receiver.release();

  ASSERT_NE(start(daemon_, config_, log_path_), 0) << read_text(log_path_);
  ASSERT_TRUE(wait_until(
      [&] {
        const std::vector<ReceivedRequest> requests = receiver.received();
        return requests.size() >= 9 && requests.back().answered == 200;
      },
      20s))
      << read_text(log_path_);
  const std::vector<ReceivedRequest> requests = receiver.received();
  ASSERT_EQ(requests.size(), 9u) << "one redelivery only";
  // The request in flight at the kill (its answer came after the daemon was gone) comes again
  // first, the same bytes, then the rest.
  EXPECT_EQ(requests[3].body, requests[2].body);
  Strings delivered;
  for (size_t i = 0; i < requests.size(); ++i) {
    ASSERT_TRUE(requests[i].signature);
    EXPECT_TRUE(signature_valid(*requests[i].signature, requests[i].body, kSecret));
    if (i != 2) delivered.push_back(summarize(requests[i].body, id));
  }
  // At least once, in feed order, no gaps: each user created, then put in its primary group
  // (the users themselves in the order the DC returned them).
  ASSERT_EQ(delivered.size(), 8u);
  Strings users;
  for (size_t i = 0; i < delivered.size(); i += 2) {
    ASSERT_TRUE(delivered[i].starts_with("user.created kuser000")) << delivered[i];
    const std::string user = delivered[i].substr(delivered[i].find(' ') + 1);
    EXPECT_EQ(delivered[i + 1], "group.user_added " + user + ">Domain Users");
    users.push_back(user);
  }
  std::sort(users.begin(), users.end());
  EXPECT_EQ(users, (Strings{"kuser0001", "kuser0002", "kuser0003", "kuser0004"}));

  stop_daemon();
}

TEST_F(WebhooksIntegrationTest, EventsGoThroughTheProxyTheEnvironmentNames) {
  SambaDc& dc = dc_with_staff();
  Tinyproxy proxy(dir_.path() + "/proxy");
  // As a systemd drop-in's Environment= line gives it to the service.
  ::setenv("HTTP_PROXY", proxy.url().c_str(), 1);
  start_daemon(dc);
  ::unsetenv("HTTP_PROXY");
  ASSERT_NE(port_, 0);
  EXPECT_NE(read_text(log_path_).find("webhooks: through the proxy http:// via " + proxy.url()),
            std::string::npos)
      << read_text(log_path_);

  WebhookReceiver receiver;
  const std::string id = create_directory(port_, key_, receiver.url("/via-proxy"));
  ASSERT_FALSE(id.empty());
  dc.add_users(kStaff, "puser", 1);  // 2 events: created, then in Domain Users
  ASSERT_TRUE(receiver.wait_for_count(2, 20s)) << read_text(log_path_);
  for (const ReceivedRequest& request : receiver.received()) {
    EXPECT_NE(request.via.find("tinyproxy"), std::string::npos) << request.via;
    ASSERT_TRUE(request.signature);
    EXPECT_TRUE(signature_valid(*request.signature, request.body, kSecret));
  }
  const std::vector<std::string> served = proxy.requests();
  ASSERT_FALSE(served.empty()) << read_text(proxy.log_path());
  EXPECT_NE(served[0].find("POST " + receiver.url("/via-proxy")), std::string::npos) << served[0];

  stop_daemon();
}

}  // namespace
}  // namespace dirfeed::testing
