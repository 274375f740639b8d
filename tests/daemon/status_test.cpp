// `dirfeed status`: reads the store under state_dir read-only while another instance (the
// daemon) holds it open for writing, and prints each domain's sync and each directory's
// webhook delivery.
#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "daemon/cli.hpp"
#include "daemon/delete_allowance.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::daemon {
namespace {

using dirfeed::testing::TempDir;

constexpr int64_t kPassUs = 1'763'926'800'000'000;  // 2025-11-23T19:40:00Z

class StatusTest : public ::testing::Test {
 protected:
  StatusTest() {
    config_ = dir_.write("dirfeed.yaml",
                         "state_dir: " + dir_.path() + "/state\n"
                         "domains:\n"
                         "  - name: example.test\n"
                         "    controllers: [ldaps://dc1.example.test]\n"
                         "    bind: {dn: svc@example.test, password_file: /nonexistent}\n"
                         "  - name: other.test\n"
                         "    controllers: [ldaps://dc.other.test]\n"
                         "    bind: {dn: svc@other.test, password_file: /nonexistent}\n");
  }

  // Opens the store as the daemon does (read-write), and keeps it open.
  changefeed::Store& daemon_store() {
    std::string error;
    store_ = changefeed::Store::open({dir_.path() + "/state/feed"}, clock_, &error);
    EXPECT_TRUE(store_) << error;
    return *store_;
  }

  struct Outcome {
    int code;
    std::string out;
    std::string err;
  };
  Outcome status() {
    std::ostringstream out;
    std::ostringstream err;
    const int code = run_cli({"status", "--config", config_}, out, err);
    return {code, out.str(), err.str()};
  }

  TempDir dir_;
  SystemClock clock_;
  std::string config_;
  std::unique_ptr<changefeed::Store> store_;
};

TEST_F(StatusTest, ShowsDomainsAndWebhooksWhileTheDaemonHoldsTheStore) {
  changefeed::Store& store = daemon_store();
  pb::ObservedObject user;
  user.mutable_object()->set_guid(std::string(16, '\x01'));
  user.mutable_object()->set_kind(pb::USER);
  user.mutable_object()->set_dn("CN=alice,DC=example,DC=test");
  pb::Cursor cursor;
  cursor.set_domain("example.test");
  cursor.set_strategy("usn");
  cursor.set_controller("ldaps://dc1.example.test");
  cursor.set_full_sync_done(true);
  cursor.set_last_pass_us(kPassUs);
  ASSERT_TRUE(store.apply_page("example.test", {user}, cursor).is_ok());

  pb::Directory directory;
  directory.set_id("58b5cd9dfaa39d47eb8f5f88631f9a629a232016");
  directory.set_name("App");
  directory.set_tenant("boxyhq");
  directory.set_product("jackson");
  directory.set_domain("example.test");
  directory.set_webhook_url("https://hooks.example.com/in?token=s3cret");
  directory.set_webhook_secret("never-printed");
  ASSERT_TRUE(store.put_directory(directory).is_ok());  // delivers what comes after: change 1
  pb::Directory quiet = directory;
  quiet.set_id("ff");
  quiet.set_name("No hook");
  quiet.clear_webhook_url();
  ASSERT_TRUE(store.put_directory(quiet).is_ok());
  ASSERT_TRUE(store.apply_page("example.test", {}, cursor).is_ok());
  user.mutable_object()->set_title("Boss");
  ASSERT_TRUE(store.apply_page("example.test", {user}, cursor).is_ok());
  user.mutable_object()->set_title("CEO");
  ASSERT_TRUE(store.apply_page("example.test", {user}, cursor).is_ok());
  pb::WebhookState state;
  state.set_directory_id(directory.id());
  state.set_after_sequence(2);
  state.set_last_success_us(kPassUs + 1'000'000);
  state.set_last_error_us(kPassUs + 61'000'000);
  state.set_last_error("HTTP 503");
  state.set_failures(4);
  ASSERT_TRUE(store.put_webhook_state(state).is_ok());

  const Outcome r = status();
  EXPECT_EQ(r.code, kExitOk) << r.err;
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out,
            "feed: 3 changes so far\n"
            "domain example.test\n"
            "  strategy:         usn\n"
            "  controller:       ldaps://dc1.example.test\n"
            "  last pass:        2025-11-23T19:40:00Z\n"
            "  full sync done:   yes\n"
            "domain other.test\n"
            "  no pass yet\n"
            "directory 58b5cd9dfaa39d47eb8f5f88631f9a629a232016 App\n"
            "  tenant/product:   boxyhq/jackson\n"
            "  domain:           example.test\n"
            "  webhook:          https://hooks.example.com/in?...\n"
            "  delivered up to:  change 2 (backlog <= 1)\n"
            "  last success:     2025-11-23T19:40:01Z\n"
            "  last error:       2025-11-23T19:41:01Z HTTP 503 (failing: 4 attempts in a row)\n"
            "directory ff No hook\n"
            "  tenant/product:   boxyhq/jackson\n"
            "  domain:           example.test\n"
            "  webhook:          none\n"
            "  delivered up to:  change 1 (backlog <= 2)\n"
            "  last success:     never\n"
            "  last error:       none\n");
  EXPECT_EQ(r.out.find("s3cret"), std::string::npos);
  EXPECT_EQ(r.out.find("never-printed"), std::string::npos);
}

// The NATS publisher (publish.nats) is a feed consumer: its cursor, backlog, lost entries and
// last error, also before it first ran.
TEST_F(StatusTest, ShowsTheFeedConsumers) {
  config_ = dir_.write("dirfeed.yaml", dirfeed::testing::read_text(config_) +
                                           "publish:\n  nats:\n"
                                           "    servers: [nats://127.0.0.1:4222]\n");
  changefeed::Store& store = daemon_store();
  const Outcome before = status();
  EXPECT_NE(before.out.find("feed consumer nats\n"
                            "  stream:           DIRFEED (subjects dirfeed.>)\n"
                            "  delivered up to:  change 0 (no backlog)\n"
                            "  last success:     never\n"
                            "  last error:       none\n"),
            std::string::npos)
      << before.out;

  for (int i = 1; i <= 5; ++i) {
    pb::ObservedObject user;
    user.mutable_object()->set_guid(std::string(16, static_cast<char>(i)));
    user.mutable_object()->set_kind(pb::USER);
    ASSERT_TRUE(store.apply_page("example.test", {user}, pb::Cursor()).is_ok());
  }
  pb::FeedConsumerState state;
  state.set_name("nats");
  state.set_after_sequence(3);
  state.set_last_success_us(kPassUs);
  state.set_last_error_us(kPassUs + 60'000'000);
  state.set_last_error("nats: no PubAck within 10000 ms");
  state.set_failures(2);
  state.set_lost(7);
  ASSERT_TRUE(store.put_consumer_state(state).is_ok());
  const Outcome after = status();
  EXPECT_EQ(after.code, kExitOk) << after.err;
  EXPECT_NE(after.out.find("feed consumer nats\n"
                           "  stream:           DIRFEED (subjects dirfeed.>)\n"
                           "  delivered up to:  change 3 (backlog 2)\n"
                           "  lost:             7 entries pruned (feed.retention) before they "
                           "were delivered\n"
                           "  last success:     2025-11-23T19:40:00Z\n"
                           "  last error:       2025-11-23T19:41:00Z nats: no PubAck within "
                           "10000 ms (failing: 2 attempts in a row)\n"),
            std::string::npos)
      << after.out;
}

TEST_F(StatusTest, FailsClearlyWithoutAStore) {
  const Outcome r = status();
  EXPECT_EQ(r.code, kExitFailure);
  EXPECT_EQ(r.out, "");
  EXPECT_NE(r.err.find("dirfeed status: cannot open database " + dir_.path() + "/state/feed"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("has the daemon run with this state_dir?"), std::string::npos) << r.err;
}

// A resync on a DC that was behind left objects unconfirmed (issue 16): status says so,
// `deletes show` lists them by DN and container, `deletes allow` writes the allowance the
// daemon's next full sync uses.
TEST_F(StatusTest, DeletesShowAndAllowTheUnconfirmedObjects) {
  changefeed::Store& store = daemon_store();
  std::vector<pb::ObservedObject> users;
  for (const char* name : {"ann", "bob"}) {
    pb::ObservedObject user;
    user.mutable_object()->set_guid(std::string(16, name[0]));
    user.mutable_object()->set_kind(pb::USER);
    user.mutable_object()->set_dn(std::string("CN=") + name + ",OU=Sales,DC=example,DC=test");
    users.push_back(user);
  }
  pb::Cursor cursor;
  cursor.set_domain("example.test");
  cursor.set_strategy("usn");
  cursor.set_controller("ldaps://dc2.example.test");
  cursor.set_full_sync_done(true);
  cursor.set_last_pass_us(kPassUs);
  cursor.add_unconfirmed(std::string(16, 'a'));
  cursor.add_unconfirmed(std::string(16, 'b'));
  cursor.set_unconfirmed_reason("ldaps://dc2.example.test has not replicated everything");
  cursor.set_unconfirmed_since_us(kPassUs);
  ASSERT_TRUE(store.apply_page("example.test", users, cursor).is_ok());

  Outcome shown = status();
  EXPECT_NE(shown.out.find("unconfirmed:      2 objects missing on a DC that was behind"),
            std::string::npos)
      << shown.out;

  auto run = [&](std::vector<std::string> args) {
    std::ostringstream out, err;
    args.insert(args.end(), {"--config", config_});
    const int code = run_cli(args, out, err);
    return Outcome{code, out.str(), err.str()};
  };
  Outcome listed = run({"deletes", "show", "--domain", "example.test"});
  EXPECT_EQ(listed.code, kExitOk) << listed.err;
  EXPECT_NE(listed.out.find("2 unconfirmed objects since 2025-11-23T19:40:00Z"),
            std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find("  CN=ann,OU=Sales,DC=example,DC=test (61616161-"),
            std::string::npos)
      << listed.out;
  EXPECT_NE(listed.out.find("  2  OU=Sales,DC=example,DC=test\n"), std::string::npos)
      << listed.out;

  Outcome allowed = run({"deletes", "allow", "--domain", "example.test"});
  EXPECT_EQ(allowed.code, kExitOk) << allowed.err;
  EXPECT_EQ(DeleteAllowance(dir_.path() + "/state").allowed("example.test"), 2u);
  EXPECT_NE(run({"deletes", "show", "--domain", "example.test"}).out.find("allowed: 2 deletes"),
            std::string::npos);

  Outcome nothing = run({"deletes", "allow", "--domain", "other.test"});
  EXPECT_EQ(nothing.code, kExitFailure);
  EXPECT_EQ(nothing.err, "dirfeed deletes allow: domain other.test holds back no deletes\n");
  Outcome unknown = run({"deletes", "show", "--domain", "nope.test"});
  EXPECT_EQ(unknown.code, kExitUsage);
  EXPECT_EQ(unknown.err, "dirfeed deletes show: no domain \"nope.test\" in the configuration\n");
}

}  // namespace
}  // namespace dirfeed::daemon
