// The Directory Changes API of the real `dirfeed run` binary over real HTTP, with the Samba
// AD DC fixture as the directory and an API key made by `dirfeed api add-key`: the exact
// records each query returns after changes in AD and through the User ID API, and a consumer
// that passes back the newest timestamp it received while AD changes run concurrently.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "core/guid.hpp"
#include "rest/iso_time.hpp"
#include "rest/json.hpp"
#include "tests/integration/daemon_client.hpp"
#include "tests/support/ldif.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

namespace http = boost::beast::http;
using namespace std::chrono_literals;

const std::string kChanges = "OU=Changes,DC=example,DC=test";
const std::string kLoad = "OU=Load,DC=example,DC=test";
constexpr char kPath[] = "/public/directory-changes?";

// One record of an answer.
struct Record {
  std::string change_type;
  std::string resource_type;
  std::string id;  // user or group GUID; "USER>GROUP" GUIDs for a membership
  std::string timestamp;
  bool on_premises = false;
  rest::JsonValue resource;
};

struct Answer {
  int status = 0;
  std::string message;
  std::vector<Record> records;
  std::string body;
};

// The daemon under test, its API key and its Basic user.
class Daemon {
 public:
  // usn polled every second.
  explicit Daemon(const SambaDc& dc) : config_(write_config(dir_, dc, {.interval = "1s"})) {
    const std::string cli_log = dir_.path() + "/cli.log";
    key_ = add_key(config_, "consumer", cli_log);
    EXPECT_FALSE(key_.empty()) << read_text(cli_log);
    EXPECT_EQ(add_user(config_, "ops", "opspw", cli_log), 0) << read_text(cli_log);
    port_ = launch(process_, config_, log_path());
  }

  ~Daemon() { stop(); }

  // SIGTERM, and a clean exit expected.
  void stop() {
    if (!process_) return;
    process_->signal(SIGTERM);
    EXPECT_EQ(process_->wait_for(30s), 0) << log();
    process_.reset();
  }

  bool ready() { return port_ != 0 && call(port_, http::verb::get, "/readyz").status == 200; }

  Answer changes(const std::string& query, const std::string& key) {
    Answer answer;
    const Reply reply = call(port_, http::verb::get, kPath + query, x_api_key(key));
    answer.status = reply.status;
    answer.body = reply.body;
    if (reply.status != 200) return answer;
    std::string error;
    std::optional<rest::JsonValue> json = rest::parse_json(reply.body, &error, {256 << 20, 64});
    if (!json || json->find("data") == nullptr || json->find("message") == nullptr) {
      ADD_FAILURE() << query << ": " << error << ": " << reply.body.substr(0, 1000);
      return answer;
    }
    answer.message = json->find("message")->text();
    for (const rest::JsonValue& item : json->find("data")->array()) {
      Record record;
      record.change_type = item.find("changeType")->text();
      record.resource_type = item.find("resourceType")->text();
      record.timestamp = item.find("timestamp")->text();
      record.on_premises = item.find("onPremisesSyncEnabled")->as_bool();
      record.resource = *item.find("resource");
      record.id = record.resource_type == "membership"
                      ? record.resource.find("userId")->text() + ">" +
                            record.resource.find("groupId")->text()
                      : record.resource.find("id")->text();
      answer.records.push_back(std::move(record));
    }
    return answer;
  }
  Answer changes(const std::string& query) { return changes(query, key_); }

  Reply post(const std::string& target, const std::string& body) {
    return call(port_, http::verb::post, target, ops_, body);
  }
  Reply put(const std::string& target, const std::string& body) {
    return call(port_, http::verb::put, target, ops_, body);
  }
  Reply remove(const std::string& target) {
    return call(port_, http::verb::delete_, target, ops_);
  }

  uint16_t port() const { return port_; }
  const std::string& key() const { return key_; }
  std::string log() const { return read_text(log_path()); }
  std::string state_dir() const { return dir_.path() + "/state"; }

 private:
  std::string log_path() const { return dir_.path() + "/run.log"; }

  TempDir dir_;
  std::string config_;
  std::string key_;
  Headers ops_ = basic_auth("ops", "opspw");
  std::optional<Process> process_;
  uint16_t port_ = 0;
};

// objectGUID (string form) -> sAMAccountName of every user and group of the domain, from
// ldapsearch; names of objects deleted since stay known.
class Names {
 public:
  void refresh(const SambaDc& dc) {
    const std::string ldif = dc.search(dc.base_dn(), "(|(objectClass=user)(objectClass=group))",
                                       {"objectGUID", "sAMAccountName"});
    std::string guid, name;
    auto flush = [&] {
      if (!guid.empty() && !name.empty()) names_[guid] = name;
      guid.clear();
      name.clear();
    };
    std::istringstream in(ldif);
    for (std::string line; std::getline(in, line);) {
      if (line.empty()) flush();
      if (line.rfind("objectGUID:: ", 0) == 0) {
        if (auto bytes = guid_from_text(line.substr(13))) guid = guid_to_string(*bytes);
      }
      if (line.rfind("sAMAccountName: ", 0) == 0) name = line.substr(16);
    }
    flush();
  }

  void add(const std::string& guid, const std::string& name) { names_[guid] = name; }

  std::string operator()(const std::string& guid) const {
    auto it = names_.find(guid);
    return it == names_.end() ? guid : it->second;
  }
  std::string guid(const std::string& name) const {
    for (const auto& [guid, known] : names_) {
      if (known == name) return guid;
    }
    return "";
  }

  // "created user alice", "deleted membership bob>Domain Users".
  std::string summary(const Record& record) const {
    std::string subject;
    if (record.resource_type == "membership") {
      const size_t split = record.id.find('>');
      subject = (*this)(record.id.substr(0, split)) + ">" + (*this)(record.id.substr(split + 1));
    } else {
      subject = (*this)(record.id);
    }
    return record.change_type + " " + record.resource_type + " " + subject;
  }

 private:
  std::map<std::string, std::string> names_;
};

std::vector<std::string> sorted(std::vector<std::string> lines) {
  std::sort(lines.begin(), lines.end());
  return lines;
}

bool strictly_increasing(const std::vector<Record>& records) {
  for (size_t i = 1; i < records.size(); ++i) {
    if (!(records[i - 1].timestamp < records[i].timestamp)) return false;
  }
  return true;
}

// The six queries: every resourceType with both onPremisesSyncEnabled values.
const std::vector<std::string> kQueries = {
    "resourceType=user&onPremisesSyncEnabled=true",
    "resourceType=group&onPremisesSyncEnabled=true",
    "resourceType=membership&onPremisesSyncEnabled=true",
    "resourceType=user&onPremisesSyncEnabled=false",
    "resourceType=group&onPremisesSyncEnabled=false",
    "resourceType=membership&onPremisesSyncEnabled=false",
};

// A consumer of all six queries, one lastSyncDate each, checking that a step of changes
// gives exactly the records expected.
class Steps {
 public:
  Steps(Daemon& daemon, Names& names, const std::string& since)
      : daemon_(daemon), names_(names) {
    for (const std::string& query : kQueries) since_[query] = since;
  }

  // Waits (up to 30 s) until the six queries give, after their lastSyncDate, exactly
  // `expected` (query -> summaries in any order; absent queries: none), then moves each
  // lastSyncDate to the newest record it got. Records of one query must be oldest first,
  // with unique timestamps, and carry the query's onPremisesSyncEnabled.
  void expect(const std::string& step, const std::map<std::string, std::vector<std::string>>&
                                           expected) {
    std::map<std::string, std::vector<std::string>> seen;
    std::map<std::string, Answer> answers;
    const bool matched = wait_until(
        [&] {
          seen.clear();
          for (const std::string& query : kQueries) {
            Answer answer = daemon_.changes(query + "&lastSyncDate=" + since_[query]);
            EXPECT_EQ(answer.status, 200) << answer.body;
            EXPECT_EQ(answer.message, "Delta changes fetched successfully");
            std::vector<std::string> lines;
            for (const Record& record : answer.records) lines.push_back(names_.summary(record));
            seen[query] = sorted(lines);
            answers[query] = std::move(answer);
          }
          for (const std::string& query : kQueries) {
            auto it = expected.find(query);
            const std::vector<std::string> want =
                it == expected.end() ? std::vector<std::string>{} : sorted(it->second);
            if (seen[query] != want) return false;
          }
          return true;
        },
        30s, 200ms);
    for (const std::string& query : kQueries) {
      auto it = expected.find(query);
      EXPECT_EQ(seen[query], it == expected.end() ? std::vector<std::string>{}
                                                  : sorted(it->second))
          << step << ": " << query;
      const std::vector<Record>& records = answers[query].records;
      EXPECT_TRUE(strictly_increasing(records)) << step << ": " << query;
      const bool on_premises = query.ends_with("true");
      for (const Record& record : records) EXPECT_EQ(record.on_premises, on_premises) << query;
      if (!records.empty()) since_[query] = records.back().timestamp;
      last_[query] = records;
    }
    ASSERT_TRUE(matched) << step;
  }

  // The records the last expect() got for `query`.
  const std::vector<Record>& last(const std::string& query) { return last_[query]; }

 private:
  Daemon& daemon_;
  Names& names_;
  std::map<std::string, std::string> since_;
  std::map<std::string, std::vector<Record>> last_;
};

std::string seed_ldif() {
  return ldif_ou(kChanges) +
         ldif_user("Alice", kChanges, "alice", "title: Engineer\nuserAccountControl: 544\n") +
         ldif_user("Bob", kChanges, "bob", "userAccountControl: 546\n") +
         ldif_group("Engineers", kChanges, "engineers", {"CN=Alice," + kChanges}) +
         ldif_group("Nested", kChanges, "nested", {"CN=Engineers," + kChanges});
}

const std::string kUser = kQueries[0];
const std::string kGroup = kQueries[1];
const std::string kMembership = kQueries[2];
const std::string kApiUser = kQueries[3];

TEST(ChangesIntegrationTest, EachQueryReturnsExactlyTheChangesMadeInAdAndThroughTheApi) {
  SambaDc& dc = shared_dc();
  dc.ldif(seed_ldif());
  Daemon daemon(dc);
  ASSERT_NE(daemon.port(), 0) << daemon.log();
  ASSERT_TRUE(wait_until([&] { return daemon.ready(); }, 60s, 100ms)) << daemon.log();
  Names names;
  names.refresh(dc);

  // The document's three curl examples, unchanged (the key aside).
  for (const std::string query :
       {"onPremisesSyncEnabled=true&resourceType=user&lastSyncDate=2023-05-01T00:00:00Z",
        "onPremisesSyncEnabled=false&resourceType=group",
        "onPremisesSyncEnabled=true&resourceType=membership&lastSyncDate=2023-06-01T00:00:00Z"}) {
    EXPECT_EQ(daemon.changes(query).status, 200) << query;
  }
  // 401 and 400 over real HTTP, in the document's shape.
  const Reply anonymous = call(daemon.port(), http::verb::get, kPath + kUser);
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.body,
            R"({"message":"missing API key: send it as x-api-key","statusCode":401})");
  EXPECT_EQ(daemon.changes(kUser, "dfk_unknown").status, 401);
  const Answer bad = daemon.changes("resourceType=user&onPremisesSyncEnabled=true&lastSyncDate="
                                    "2023-05-01");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find(R"("statusCode":400)"), std::string::npos) << bad.body;

  // Snapshots: every user and group of the domain, and the user-in-group edges of ours.
  const Answer users = daemon.changes(kUser);
  ASSERT_EQ(users.status, 200);
  EXPECT_EQ(users.message, "Snapshot of current resources: no lastSyncDate given");
  std::set<std::string> user_ids;
  for (const Record& record : users.records) user_ids.insert(names(record.id));
  std::set<std::string> ad_users;
  const std::string all_users = dc.search(
      dc.base_dn(), "(&(objectCategory=person)(objectClass=user))", {"sAMAccountName"});
  for (const std::string& line : lines_with(all_users, {"sAMAccountName: "})) {
    ad_users.insert(line.substr(16));
  }
  EXPECT_EQ(user_ids, ad_users);
  EXPECT_TRUE(user_ids.contains("alice") && user_ids.contains("bob") &&
              user_ids.contains("Administrator"));
  const std::string snapshot_time = users.records.at(0).timestamp;
  for (const Record& record : users.records) {
    EXPECT_EQ(record.change_type, "created");
    EXPECT_EQ(record.timestamp, snapshot_time) << "one timestamp for the whole snapshot";
  }
  std::set<std::string> group_names;
  for (const Record& record : daemon.changes(kGroup).records) group_names.insert(names(record.id));
  EXPECT_TRUE(group_names.contains("engineers") && group_names.contains("nested") &&
              group_names.contains("Domain Users"));
  std::vector<std::string> ours;
  for (const Record& record : daemon.changes(kMembership).records) {
    const std::string line = names.summary(record);
    EXPECT_EQ(line.find(" engineers>"), std::string::npos) << "a group is no member: " << line;
    if (line.find(" alice>") != std::string::npos || line.find(" bob>") != std::string::npos) {
      ours.push_back(line);
    }
  }
  EXPECT_EQ(sorted(ours), sorted({"created membership alice>Domain Users",
                                  "created membership alice>engineers",
                                  "created membership bob>Domain Users"}));
  for (const std::string& query : {kApiUser, kQueries[4], kQueries[5]}) {
    EXPECT_TRUE(daemon.changes(query).records.empty()) << query;
  }

  Steps steps(daemon, names, snapshot_time);
  steps.expect("nothing changed", {});

  dc.ldif(ldif_user("Carol", kChanges, "carol",
                    "givenName: Carol\nsn: Clark\ndisplayName: Carol Clark\n"
                    "title: Analyst\ndepartment: Finance\ntelephoneNumber: +1 555 0100\n"
                    "otherTelephone: +1 555 0101\nuserPrincipalName: carol@example.test\n"
                    "userAccountControl: 544\n"));
  names.refresh(dc);
  steps.expect("user added", {{kUser, {"created user carol"}},
                              {kMembership, {"created membership carol>Domain Users"}}});
  const rest::JsonValue& carol = steps.last(kUser).at(0).resource;
  EXPECT_EQ(carol.find("displayName")->text(), "Carol Clark");
  EXPECT_EQ(carol.find("givenName")->text(), "Carol");
  EXPECT_EQ(carol.find("surname")->text(), "Clark");
  EXPECT_EQ(carol.find("jobTitle")->text(), "Analyst");
  EXPECT_EQ(carol.find("department")->text(), "Finance");
  ASSERT_EQ(carol.find("businessPhones")->array().size(), 2u);
  EXPECT_EQ(carol.find("businessPhones")->array()[0].text(), "+1 555 0100");
  EXPECT_EQ(carol.find("businessPhones")->array()[1].text(), "+1 555 0101");
  EXPECT_TRUE(carol.find("accountEnabled")->as_bool());
  EXPECT_EQ(carol.find("userPrincipalName")->text(), "carol@example.test");
  EXPECT_EQ(carol.find("onPremisesUserPrincipalName")->text(), "carol@example.test");
  EXPECT_EQ(carol.find("onPremisesDomainName")->text(), "example.test");
  EXPECT_EQ(carol.find("onPremisesSamAccountName")->text(), "carol");
  EXPECT_TRUE(std::regex_match(carol.find("onPremisesSecurityIdentifier")->text(),
                               std::regex(R"(S-1-5-21-\d+-\d+-\d+-\d+)")));
  EXPECT_TRUE(rest::parse_iso8601_us(carol.find("onPremisesLastSyncDateTime")->text()));
  EXPECT_EQ(carol.object().size(), 14u) << "the document's user fields, no more";

  dc.ldif("dn: CN=Alice," + kChanges + "\nchangetype: modify\nreplace: title\ntitle: Manager\n");
  steps.expect("user modified", {{kUser, {"updated user alice"}}});
  EXPECT_EQ(steps.last(kUser).at(0).resource.find("jobTitle")->text(), "Manager");

  dc.ldif(ldif_group("Ops", kChanges, "ops", {"CN=Carol," + kChanges},
                     "description: runs things\nmail: ops@example.test\n"));
  names.refresh(dc);
  steps.expect("group added with a member", {{kGroup, {"created group ops"}},
                                             {kUser, {"updated user carol"}},
                                             {kMembership, {"created membership carol>ops"}}});
  const rest::JsonValue& ops = steps.last(kGroup).at(0).resource;
  EXPECT_EQ(ops.find("description")->text(), "runs things");
  EXPECT_TRUE(ops.find("mailNickname")->is_null()) << "not in Samba's schema";
  EXPECT_TRUE(ops.find("mailEnabled")->as_bool());
  EXPECT_TRUE(ops.find("onPremisesSyncEnabled")->as_bool());
  EXPECT_EQ(ops.find("onPremisesNetBiosName")->text(), "EXAMPLE");
  EXPECT_EQ(ops.find("onPremisesSamAccountName")->text(), "ops");
  EXPECT_TRUE(rest::parse_iso8601_us(ops.find("created")->text()));
  EXPECT_EQ(ops.object().size(), 12u) << "the document's group fields, no more";

  dc.ldif("dn: CN=Engineers," + kChanges + "\nchangetype: modify\nadd: member\nmember: CN=Carol," +
          kChanges + "\n-\ndelete: member\nmember: CN=Alice," + kChanges + "\n");
  steps.expect("members added and removed",
               {{kGroup, {"updated group engineers"}},
                {kUser, {"updated user alice", "updated user carol"}},
                {kMembership,
                 {"created membership carol>engineers", "deleted membership alice>engineers"}}});

  dc.ldif("dn: CN=Engineers," + kChanges + "\nchangetype: modify\nadd: member\nmember: CN=Ops," +
          kChanges + "\n");
  steps.expect("a group added to a group: no membership",
               {{kGroup, {"updated group engineers", "updated group ops"}}});

  dc.ldif("dn: CN=Bob," + kChanges + "\nchangetype: delete\n");
  steps.expect("user deleted", {{kUser, {"deleted user bob"}},
                                {kMembership, {"deleted membership bob>Domain Users"}}});
  EXPECT_FALSE(steps.last(kUser).at(0).resource.find("accountEnabled")->as_bool())
      << "a deleted record carries the last state";

  dc.ldif("dn: CN=Ops," + kChanges + "\nchangetype: delete\n");
  steps.expect("group deleted", {{kGroup, {"deleted group ops"}},
                                 {kUser, {"updated user carol"}},
                                 {kMembership, {"deleted membership carol>ops"}}});

  // Through the User ID API: a user that is not in AD (onPremisesSyncEnabled false), an IP
  // mapped to an AD user (no directory change), the API user deleted.
  const Reply created = daemon.post(
      "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cvisitor",
      R"({"dn": "CN=Visitor,CN=Users,DC=example,DC=test", "sAMAccountName": "visitor",)"
      R"( "ipv4_addresses": ["192.0.2.20"]})");
  ASSERT_EQ(created.status, 200) << created.body;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(created.body, match,
                                std::regex(R"re("objectGUID":"([0-9a-f-]{36})")re")));
  names.add(match[1].str(), "visitor");
  EXPECT_EQ(daemon.put("/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Calice",
                       R"({"changetype": "add", "ipv4_addresses": ["192.0.2.21"]})")
                .status,
            200);
  steps.expect("API user created, IP mapped", {{kApiUser, {"created user visitor"}}});
  EXPECT_TRUE(steps.last(kApiUser).at(0).resource.find("onPremisesLastSyncDateTime")->is_null());
  EXPECT_EQ(daemon.remove("/api/uid/v1.0/user/" + match[1].str()).status, 200);
  steps.expect("API user deleted", {{kApiUser, {"deleted user visitor"}}});

  daemon.stop();
}

// A consumer that stores the newest timestamp it received and passes it back (with a small
// limit, so it continues often) while AD changes run: it must get every feed entry of its
// kind exactly once, in feed order, compared with the store itself once the daemon stopped.
TEST(ChangesIntegrationTest, ConsumerPassingBackTheNewestTimestampNeverMissesOrRepeats) {
  SambaDc& dc = shared_dc();
  dc.ldif(ldif_ou(kLoad));
  Daemon daemon(dc);
  ASSERT_NE(daemon.port(), 0) << daemon.log();
  ASSERT_TRUE(wait_until([&] { return daemon.ready(); }, 60s, 100ms)) << daemon.log();

  const std::vector<std::string> kinds = {"user", "group", "membership"};
  const Answer snapshot = daemon.changes(kUser);
  ASSERT_FALSE(snapshot.records.empty());
  const std::string start = snapshot.records[0].timestamp;

  // kind -> "TIMESTAMP changeType ID", as received.
  std::map<std::string, std::vector<std::string>> received;
  std::atomic<bool> changes_done{false};
  std::atomic<int> requests{0};
  std::thread consumer([&] {
    std::map<std::string, std::string> since;
    for (const std::string& kind : kinds) since[kind] = start;
    int quiet_rounds = 0;  // rounds without a record since the changes were done
    while (quiet_rounds < 3) {
      const bool done = changes_done.load();
      bool got_any = false;
      for (const std::string& kind : kinds) {
        const Answer answer = daemon.changes("resourceType=" + kind +
                                             "&onPremisesSyncEnabled=true&limit=25&lastSyncDate=" +
                                             since[kind]);
        ++requests;
        if (answer.status != 200) {
          ADD_FAILURE() << answer.body;
          return;
        }
        for (const Record& record : answer.records) {
          received[kind].push_back(record.timestamp + " " + record.change_type + " " + record.id);
        }
        if (!answer.records.empty()) {
          since[kind] = answer.records.back().timestamp;
          got_any = true;
        }
      }
      quiet_rounds = done && !got_any ? quiet_rounds + 1 : 0;
      if (!got_any) std::this_thread::sleep_for(100ms);
    }
  });

  // The changes, while the consumer reads, in steps that each wait until the feed has them
  // (AD operations that fall into one poll would merge: an add and a change of the same user
  // are one `created`): 120 users; 60 of them modified; a group of 40 of them; 10 of those
  // removed from it; 20 users deleted.
  const auto count_since_start = [&](const std::string& query, const std::string& type) {
    const Answer answer = daemon.changes(query + "&lastSyncDate=" + start);
    return std::count_if(answer.records.begin(), answer.records.end(),
                         [&](const Record& record) { return record.change_type == type; });
  };
  const auto load_user = [&](int i) {
    const std::string number = std::to_string(i);
    return "CN=load" + std::string(4 - number.size(), '0') + number + "," + kLoad;
  };
  const auto make_changes = [&] {
    dc.add_users(kLoad, "load", 120);
    if (!wait_until([&] { return count_since_start(kUser, "created") == 120; }, 30s, 100ms)) {
      return false;
    }
    std::string ldif;
    for (int i = 1; i <= 60; ++i) {
      ldif += "dn: " + load_user(i) + "\nchangetype: modify\nreplace: title\ntitle: T" +
              std::to_string(i) + "\n\n";
    }
    dc.ldif(ldif);
    if (!wait_until([&] { return count_since_start(kUser, "updated") == 60; }, 30s, 100ms)) {
      return false;
    }
    ldif = "dn: CN=LoadGroup," + kLoad + "\nchangetype: add\nobjectClass: group\n"
           "sAMAccountName: loadgroup\n";
    for (int i = 1; i <= 40; ++i) ldif += "member: " + load_user(i) + "\n";
    dc.ldif(ldif);
    if (!wait_until([&] { return count_since_start(kGroup, "created") == 1; }, 30s, 100ms)) {
      return false;
    }
    ldif = "dn: CN=LoadGroup," + kLoad + "\nchangetype: modify\ndelete: member\n";
    for (int i = 1; i <= 10; ++i) ldif += "member: " + load_user(i) + "\n";
    dc.ldif(ldif);
    if (!wait_until([&] { return count_since_start(kGroup, "updated") == 1; }, 30s, 100ms)) {
      return false;
    }
    ldif.clear();
    for (int i = 101; i <= 120; ++i) ldif += "dn: " + load_user(i) + "\nchangetype: delete\n\n";
    dc.ldif(ldif);
    return wait_until([&] { return count_since_start(kUser, "deleted") == 20; }, 30s, 100ms);
  };
  const bool changed = make_changes();
  changes_done = true;
  consumer.join();
  ASSERT_TRUE(changed) << daemon.log();
  daemon.stop();

  // The feed itself, read from the store of the stopped daemon.
  SystemClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store =
      changefeed::Store::open({daemon.state_dir() + "/feed"}, clock, &error);
  ASSERT_TRUE(store) << error;
  const int64_t start_us = *rest::parse_iso8601_us(start);
  const std::map<std::string, pb::ObjectKind> kind_of = {
      {"user", pb::USER}, {"group", pb::GROUP}, {"membership", pb::MEMBERSHIP}};
  for (const std::string& kind : kinds) {
    std::vector<std::string> feed;
    changefeed::FeedQuery query;
    query.kind = kind_of.at(kind);
    query.from_directory = true;
    store->changes_after_time(start_us, query, [&](const pb::Change& change) {
      const char* type = change.type() == pb::ADD      ? "created"
                         : change.type() == pb::MODIFY ? "updated"
                         : change.type() == pb::DELETE ? "deleted"
                                                       : nullptr;
      if (type == nullptr) return true;
      const std::string id =
          change.kind() == pb::MEMBERSHIP
              ? guid_to_string(change.membership().user_guid()) + ">" +
                    guid_to_string(change.membership().group_guid())
              : guid_to_string(change.object().guid());
      feed.push_back(rest::format_iso8601_us(change.timestamp_us()) + " " + type + " " + id);
      return true;
    });
    EXPECT_EQ(received[kind], feed) << kind;
  }
  // The consumer got them all (and continued many times).
  std::map<std::string, size_t> counts;  // "user created" -> records
  for (const auto& [kind, lines] : received) {
    for (const std::string& line : lines) {
      ++counts[kind + " " + line.substr(28, line.find(' ', 28) - 28)];
    }
  }
  EXPECT_EQ(counts, (std::map<std::string, size_t>{{"user created", 120},
                                                   {"user updated", 60 + 40 + 10},
                                                   {"user deleted", 20},
                                                   {"group created", 1},
                                                   {"group updated", 1},
                                                   {"membership created", 120 + 40},
                                                   {"membership deleted", 10 + 20}}));
  EXPECT_GT(requests.load(), 30);
}

}  // namespace
}  // namespace dirfeed::testing
