// SCIM 2.0 intake end to end: the real `dirfeed run` binary (polling the Samba AD DC fixture,
// which plays no part here beyond being its configured domain) with a SCIM directory, driven
// over HTTP with the request sequences Okta and Entra ID send (create a user, get it by
// filter, deactivate it, add it to a group, remove it, delete it). What comes out is checked
// in order: the directory's lists, the Directory Changes records (onPremisesSyncEnabled=false)
// and the signed webhook events at a receiver on 127.0.0.1; a restart and a SIGKILL in the
// middle of the sequence lose nothing.
#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "rest/json.hpp"
#include "tests/integration/daemon_client.hpp"
#include "tests/support/process.hpp"
#include "tests/rest/webhook_receiver.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

constexpr char kSecret[] = "whsec-scim";
const DaemonConfig kConfig{.interval = "60s", .notifications = false,
                           .webhook_allowed_networks = {"127.0.0.0/8"}};

rest::JsonValue parse(const std::string& text) {
  std::string error;
  std::optional<rest::JsonValue> value = rest::parse_json(text, &error);
  EXPECT_TRUE(value) << error << ": " << text;
  return value.value_or(rest::JsonValue());
}

std::string text_at(const rest::JsonValue& value, std::initializer_list<const char*> path) {
  const rest::JsonValue* at = &value;
  for (const char* name : path) {
    at = at->find(name);
    if (at == nullptr) return "";
  }
  return at->is_string() ? at->text() : at->is_bool() ? (at->as_bool() ? "true" : "false") : "";
}

// A daemon with a SCIM directory of `type` whose webhook goes to `receiver`.
class ScimDaemon {
 public:
  ScimDaemon(const std::string& type, const WebhookReceiver& receiver) {
    SambaDc& dc = shared_dc();
    dc.reset();
    config_ = write_config(dir_, dc, kConfig);
    log_ = dir_.path() + "/run.log";
    key_ = add_key(config_, "app", log_);
    EXPECT_FALSE(key_.empty()) << read_text(log_);
    restart();
    const Reply created = call(port_, http::verb::post, "/api/v1/directory-sync", api_key(key_),
                               R"({"tenant":"acme","product":"crm","type":")" + type +
                                   R"(","webhook_url":")" + receiver.url() +
                                   R"(","webhook_secret":")" + kSecret + R"("})");
    EXPECT_EQ(created.status, 201) << created.body;
    const rest::JsonValue json = parse(created.body);
    id_ = text_at(json, {"data", "id"});
    secret_ = text_at(json, {"data", "scim", "secret"});
    path_ = text_at(json, {"data", "scim", "path"});
    EXPECT_FALSE(secret_.empty()) << created.body;
    EXPECT_TRUE(path_.starts_with("/api/scim/v2.0/" + id_)) << path_;
  }
  ~ScimDaemon() {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      EXPECT_EQ(daemon_->wait_for(30s), 0) << read_text(log_);
    }
  }

  // Stops a running daemon (SIGTERM) and starts it again.
  void restart() {
    if (daemon_) {
      daemon_->signal(SIGTERM);
      ASSERT_EQ(daemon_->wait_for(30s), 0) << read_text(log_);
    }
    port_ = start(daemon_, config_, log_);
    ASSERT_NE(port_, 0) << read_text(log_);
  }
  void kill() {
    daemon_->signal(SIGKILL);
    ASSERT_EQ(daemon_->wait_for(10s), 128 + SIGKILL);
    daemon_.reset();
  }

  // A SCIM request to <scim.path without its query>/<resource>, the query of the directory's
  // path (Entra's ?aadOptscim062020) kept.
  Reply scim(http::verb verb, const std::string& resource, const std::string& body = "") {
    const size_t query = path_.find('?');
    std::string target = path_.substr(0, query) + "/" + resource;
    if (query != std::string::npos) {
      target += (resource.find('?') == std::string::npos ? "?" : "&") + path_.substr(query + 1);
    }
    return call(port_, verb, target, authorization("Bearer " + secret_), body);
  }
  Reply get(const std::string& target) { return call(port_, http::verb::get, target); }
  Reply dsync(const std::string& target) {
    return call(port_, http::verb::get, "/api/v1/directory-sync" + target, api_key(key_));
  }
  // The Directory Changes records of `type` (user, group, membership) for off-premises
  // objects, as "changeType name" lines.
  Strings changes(const std::string& type) {
    const Reply reply = call(port_, http::verb::get,
                             "/public/directory-changes?onPremisesSyncEnabled=false&resourceType=" +
                                 type + "&lastSyncDate=2000-01-01T00:00:00Z",
                             x_api_key(key_));
    EXPECT_EQ(reply.status, 200) << reply.body;
    Strings lines;
    const rest::JsonValue json = parse(reply.body);
    for (const rest::JsonValue& record : json.find("data")->array()) {
      std::string name = text_at(record, {"resource", "userPrincipalName"});
      if (name.empty()) name = text_at(record, {"resource", "displayName"});
      if (type == "membership") name = text_at(record, {"resource", "userId"}) + ">" + text_at(record, {"resource", "groupId"});
      EXPECT_EQ(text_at(record, {"onPremisesSyncEnabled"}), "false");
      lines.push_back(text_at(record, {"changeType"}) + " " + name);
    }
    return lines;
  }

  const std::string& id() const { return id_; }
  const std::string& log() const { return log_; }

 private:
  TempDir dir_;
  std::string config_, log_, key_, id_, secret_, path_;
  std::optional<Process> daemon_;
  uint16_t port_ = 0;
};

// Each event as "event userName-or-displayName" ("event user>group" for memberships), its
// envelope and both signatures checked; bodies received twice in a row (redelivered after a
// kill: at least once) count once.
Strings events(const WebhookReceiver& receiver, const std::string& directory_id) {
  Strings lines;
  std::string previous;
  for (const ReceivedRequest& request : receiver.received()) {
    if (request.body == previous) continue;
    previous = request.body;
    EXPECT_TRUE(request.signature && signature_valid(*request.signature, request.body, kSecret))
        << request.body;
    EXPECT_EQ(request.ory_signature, request.signature);
    const rest::JsonValue json = parse(request.body);
    EXPECT_EQ(text_at(json, {"directory_id"}), directory_id);
    const rest::JsonValue* data = json.find("data");
    if (data == nullptr) continue;
    EXPECT_EQ(data->find("directoryId"), nullptr) << "webhook data has none, as the reference's";
    std::string name = text_at(*data, {"raw", "userName"});
    if (name.empty()) name = text_at(*data, {"name"});
    if (const rest::JsonValue* group = data->find("group")) name += ">" + text_at(*group, {"name"});
    lines.push_back(text_at(json, {"event"}) + " " + name);
  }
  return lines;
}

std::string id_of(const Reply& reply) { return text_at(parse(reply.body), {"id"}); }

// The Okta sequence (developer.okta.com "SCIM 2.0 protocol reference"): a user looked up by
// userName, created, read, deactivated with a path-less replace; a group pushed, the user
// added and removed with member PATCHes; the user deleted. Restart after the create, SIGKILL
// after the deactivation.
TEST(ScimIntegrationTest, OktaSequenceIntoListsChangesAndSignedWebhooksInOrder) {
  WebhookReceiver receiver;
  ScimDaemon daemon("okta-scim-v2", receiver);
  Reply reply = daemon.scim(http::verb::get,
                            "Users?filter=userName%20eq%20%22alice%40corp.example%22&startIndex=1&count=100");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_NE(reply.body.find(R"("totalResults":0)"), std::string::npos) << reply.body;

  reply = daemon.scim(http::verb::post, "Users",
                      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],)"
                      R"("userName":"alice@corp.example","name":{"givenName":"Alice","familyName":"Able"},)"
                      R"("emails":[{"primary":true,"value":"alice@corp.example","type":"work"}],)"
                      R"("displayName":"Alice Able","locale":"en-US","externalId":"00u1abcd",)"
                      R"("groups":[],"password":"not-stored","active":true})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string alice = id_of(reply);
  EXPECT_EQ(reply.body.find("not-stored"), std::string::npos) << "passwords are dropped";
  EXPECT_EQ(daemon.scim(http::verb::post, "Users", R"({"userName":"Alice@corp.example"})").status, 409);

  daemon.restart();
  reply = daemon.scim(http::verb::get, "Users/" + alice);
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(text_at(parse(reply.body), {"userName"}), "alice@corp.example");
  reply = daemon.scim(http::verb::get, "Users?filter=userName%20eq%20%22alice%40corp.example%22");
  EXPECT_NE(reply.body.find(R"("totalResults":1,)"), std::string::npos) << reply.body;

  reply = daemon.scim(http::verb::patch, "Users/" + alice,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
                      R"("Operations":[{"op":"replace","value":{"active":false}}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(text_at(parse(reply.body), {"active"}), "false");
  daemon.kill();
  daemon.restart();

  reply = daemon.scim(http::verb::post, "Groups",
                      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)"
                      R"("displayName":"Engineers","members":[]})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string engineers = id_of(reply);
  reply = daemon.scim(http::verb::patch, "Groups/" + engineers,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
                      R"("Operations":[{"op":"add","path":"members","value":[{"value":")" + alice +
                          R"(","display":"alice@corp.example"}]}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string members = daemon.dsync("/groups/" + engineers + "?directoryId=" + daemon.id()).body;
  EXPECT_NE(members.find(R"("members":[{"group_id":")" + engineers + R"(","user_id":")" + alice + R"("}])"),
            std::string::npos)
      << members;
  reply = daemon.scim(http::verb::patch, "Groups/" + engineers,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],)"
                      R"("Operations":[{"op":"remove","path":"members[value eq \")" + alice + R"(\"]"}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  // Never in the User ID API.
  EXPECT_EQ(daemon.get("/api/uid/v1.0/user/" + alice).status, 404);
  EXPECT_EQ(daemon.get("/api/uid/v1.0/users?ip_only=false").body.find(alice), std::string::npos);
  EXPECT_EQ(daemon.scim(http::verb::delete_, "Users/" + alice).status, 204);
  EXPECT_EQ(daemon.scim(http::verb::get, "Users/" + alice).status, 404);

  const Strings expected = {"user.created alice@corp.example", "user.updated alice@corp.example",
                            "group.created Engineers",
                            "group.user_added alice@corp.example>Engineers",
                            "user.updated alice@corp.example", "group.updated Engineers",
                            "group.user_removed alice@corp.example>Engineers",
                            "user.updated alice@corp.example", "group.updated Engineers",
                            "user.deleted alice@corp.example"};
  EXPECT_TRUE(wait_until([&] { return events(receiver, daemon.id()).size() >= expected.size(); }, 20s))
      << read_text(daemon.log());
  EXPECT_EQ(events(receiver, daemon.id()), expected);

  EXPECT_EQ(daemon.changes("user"),
            (Strings{"created alice@corp.example", "updated alice@corp.example",
                     "updated alice@corp.example", "updated alice@corp.example",
                     "deleted alice@corp.example"}));
  EXPECT_EQ(daemon.changes("group"),
            (Strings{"created Engineers", "updated Engineers", "updated Engineers"}));
  EXPECT_EQ(daemon.changes("membership"),
            (Strings{"created " + alice + ">" + engineers, "deleted " + alice + ">" + engineers}));
  const std::string users = daemon.dsync("/users?directoryId=" + daemon.id()).body;
  EXPECT_EQ(users, R"({"data":[],"error":null})");
  const std::string groups = daemon.dsync("/groups?directoryId=" + daemon.id()).body;
  EXPECT_NE(groups.find(R"("name":"Engineers")"), std::string::npos) << groups;
}

// The Entra ID sequence (learn.microsoft.com "Tutorial: Develop and plan provisioning for a
// SCIM endpoint"): requests on the ?aadOptscim062020 path, capitalised ops, string booleans,
// member removal with a value list.
TEST(ScimIntegrationTest, EntraSequenceWithStringBooleansAndMemberLists) {
  WebhookReceiver receiver;
  ScimDaemon daemon("azure-scim-v2", receiver);
  Reply reply = daemon.scim(http::verb::get, "Users?filter=userName+eq+%22bob%40corp.example%22");
  ASSERT_EQ(reply.status, 200) << reply.body;
  reply = daemon.scim(http::verb::post, "Users",
                      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:User",)"
                      R"("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],)"
                      R"("externalId":"bob","userName":"bob@corp.example","active":true,)"
                      R"("emails":[{"primary":true,"type":"work","value":"bob@corp.example"}],)"
                      R"("meta":{"resourceType":"User"},"name":{"formatted":"Bob B","familyName":"B","givenName":"Bob"},)"
                      R"("roles":[],"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Ops"}})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string bob = id_of(reply);
  reply = daemon.scim(http::verb::get, "Users?filter=externalId+eq+%22bob%22");
  EXPECT_NE(reply.body.find(R"("totalResults":1,)"), std::string::npos) << reply.body;
  reply = daemon.scim(http::verb::patch, "Users/" + bob,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                      R"({"op":"Replace","path":"active","value":"False"},)"
                      R"({"op":"Add","path":"name.givenName","value":"Robert"}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  const std::string user = daemon.dsync("/users/" + bob + "?directoryId=" + daemon.id()).body;
  EXPECT_NE(user.find(R"("first_name":"Robert","last_name":"B","email":"bob@corp.example","active":false,)"),
            std::string::npos)
      << user;
  reply = daemon.scim(http::verb::post, "Groups",
                      R"({"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],)"
                      R"("externalId":"g1","displayName":"Ops","meta":{"resourceType":"Group"}})");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const std::string ops = id_of(reply);
  reply = daemon.scim(http::verb::patch, "Groups/" + ops,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                      R"({"op":"Add","path":"members","value":[{"value":")" + bob + R"("}]}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  daemon.kill();
  daemon.restart();
  reply = daemon.scim(http::verb::patch, "Groups/" + ops,
                      R"({"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[)"
                      R"({"op":"Remove","path":"members","value":[{"value":")" + bob + R"("}]}]})");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(daemon.scim(http::verb::delete_, "Users/" + bob).status, 204);

  const Strings expected = {"user.created bob@corp.example", "user.updated bob@corp.example",
                            "group.created Ops", "group.user_added bob@corp.example>Ops",
                            "user.updated bob@corp.example", "group.updated Ops",
                            "group.user_removed bob@corp.example>Ops",
                            "user.updated bob@corp.example", "group.updated Ops",
                            "user.deleted bob@corp.example"};
  EXPECT_TRUE(wait_until([&] { return events(receiver, daemon.id()).size() >= expected.size(); }, 20s))
      << read_text(daemon.log());
  EXPECT_EQ(events(receiver, daemon.id()), expected);
  EXPECT_EQ(daemon.changes("membership").size(), 2u);
}

}  // namespace
}  // namespace dirfeed::testing
