// The feed published to NATS JetStream (issue 15) by the real `dirfeed run` against the Samba
// AD DC and real nats-server processes: a first sync of 3,000 users and their memberships
// arrives as exactly the feed's entries, in order, each once; the pollers go on while the
// server is down and the backlog follows in order when it is back; a SIGKILL of dirfeed in
// the middle of publishing leaves every entry in the stream once; a 3-server cluster whose
// stream leader is killed during the first sync keeps every entry once.
#include <gtest/gtest.h>

#include <csignal>
#include <cstdio>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "publish/jetstream.hpp"
#include "tests/integration/daemon_client.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/process.hpp"
#include "tests/support/samba_dc.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::testing {
namespace {

using namespace std::chrono_literals;

const std::string kBulk = "OU=Bulk,DC=example,DC=test";
constexpr int kBulkUsers = 3000;

// The feed as the store holds it: each entry's sequence and the subject it must have.
struct FeedEntry {
  uint64_t sequence = 0;
  std::string subject;
  bool operator==(const FeedEntry&) const = default;
};

// The feed of the store in `state_dir` (as `dirfeed run` keeps it), read-only, so also beside
// the running daemon; empty when it cannot be opened (a failure unless `may_be_absent`).
std::vector<FeedEntry> feed_of(const std::string& state_dir, bool may_be_absent = false) {
  SystemClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store =
      changefeed::Store::open({state_dir + "/feed", /*read_only=*/true}, clock, &error);
  if (!may_be_absent) {
    EXPECT_NE(store, nullptr) << error;
  }
  std::vector<FeedEntry> feed;
  if (!store) return feed;
  store->changes_after_sequence(0, {}, [&](const pb::Change& change) {
    feed.push_back({change.sequence(), publish::feed_subject("dirfeed", change)});
    return true;
  });
  return feed;
}

// The stream's messages as feed entries (the sequence from the message id), checking that
// each body is the JSON of its own entry.
std::vector<FeedEntry> stream_of(StreamReader& reader) {
  std::vector<FeedEntry> out;
  for (const StreamMessage& m : reader.messages("DIRFEED")) {
    const uint64_t sequence = std::stoull(m.msg_id.substr(m.msg_id.rfind('-') + 1));
    EXPECT_EQ(m.data.rfind("{\"seq\":" + std::to_string(sequence) + ",", 0), 0u) << m.data;
    out.push_back({sequence, m.subject});
  }
  return out;
}

// The number in `metrics` of the series line that starts with `series` ("name{labels}").
std::optional<double> metric(const std::string& metrics, const std::string& series) {
  const size_t at = metrics.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(metrics.substr(at + series.size() + 2));
}

class NatsIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    seeded_ = false;
    dc().reset();
    dc().ldif("dn: " + kBulk + "\nchangetype: add\nobjectClass: organizationalUnit\n");
    dc().add_users(kBulk, "pub", kBulkUsers);
    std::string ldif = "dn: CN=Bulk Group," + kBulk + "\nchangetype: add\nobjectClass: group\n"
                       "sAMAccountName: bulkgroup\n";
    for (int i = 1; i <= kBulkUsers; i += 3) {
      char name[16];
      std::snprintf(name, sizeof name, "pub%04d", i);
      ldif += "member: CN=" + std::string(name) + "," + kBulk + "\n";
    }
    dc().ldif(ldif);
    seeded_ = true;
  }

  static SambaDc& dc() { return shared_dc(); }

  void SetUp() override { ASSERT_TRUE(seeded_) << "seeding the DC failed (see above)"; }

  // The daemon's config: the DC with notifications (and a pass every 2 s, for changes made
  // before a restarted daemon watches again), and publish.nats to `servers`.
  std::string config(const std::vector<std::string>& servers, int replicas = 1) {
    std::string yaml =
        read_text(write_config(dir_, dc(), {.interval = "2s", .notifications = true}));
    yaml += "publish:\n  nats:\n    servers:\n";
    for (const std::string& url : servers) yaml += "      - " + url + "\n";
    yaml += "    replicas: " + std::to_string(replicas) + "\n    ack_timeout: 3s\n";
    const std::string path = dir_.path() + "/dirfeed.yaml";
    write_text(path, yaml);
    return path;
  }

  // Waits (at most `timeout`) until the stream holds as many messages as the feed has entries
  // (the store read beside the running daemon) and the daemon's /metrics say the consumer has
  // no backlog and is not failing.
  bool caught_up(uint16_t port, StreamReader& reader, std::chrono::seconds timeout = 120s) {
    return wait_until(
        [&] {
          const std::string metrics =
              call(port, boost::beast::http::verb::get, "/metrics").body;
          if (metric(metrics, "dirfeed_feed_consumer_backlog{consumer=\"nats\"}") != 0.0 ||
              metric(metrics, "dirfeed_feed_consumer_failing{consumer=\"nats\"}") != 0.0) {
            return false;
          }
          const size_t feed = feed_of(dir_.path() + "/state", /*may_be_absent=*/true).size();
          return feed > 0 && reader.count("DIRFEED") == feed;
        },
        timeout, 200ms);
  }

  void stop_daemon() {
    daemon_->signal(SIGTERM);
    EXPECT_EQ(daemon_->wait_for(30s), 0) << read_text(log_);
  }

  static inline bool seeded_ = false;
  TempDir dir_;
  std::string log_ = dir_.path() + "/run.log";
  std::optional<Process> daemon_;
};

TEST_F(NatsIntegrationTest, FirstSyncServerDownAndSigkillKeepEveryEntryOnceInOrder) {
  NatsServer server(dir_.path() + "/nats");
  const std::string path = config({server.url()});
  uint16_t port = start(daemon_, path, log_);
  ASSERT_NE(port, 0) << read_text(log_);

  // 1. The first sync: 3,000 users, their Domain Users memberships, the group and its 1,000.
  StreamReader reader({server.url()});
  ASSERT_TRUE(caught_up(port, reader)) << read_text(log_);
  stop_daemon();
  std::vector<FeedEntry> feed = feed_of(dir_.path() + "/state");
  ASSERT_GE(feed.size(), static_cast<size_t>(2 * kBulkUsers + 1000));
  EXPECT_EQ(stream_of(reader), feed);

  // 2. nats-server down: the daemon syncs on (the API shows the new users) and its backlog
  //    grows; when the server is back, the backlog goes out in order.
  port = start(daemon_, path, log_);
  ASSERT_NE(port, 0) << read_text(log_);
  server.stop();
  dc().add_users(kBulk, "down", 20);
  ASSERT_TRUE(wait_until(
      [&] {
        return call(port, boost::beast::http::verb::get,
                    "/api/uid/v1.0/users?ip_only=false&domain=example.test")
                   .body.find("CN=down0020," + kBulk) != std::string::npos;
      },
      30s, 100ms))
      << read_text(log_);
  ASSERT_TRUE(wait_until(
      [&] {
        const std::string metrics = call(port, boost::beast::http::verb::get, "/metrics").body;
        return metric(metrics, "dirfeed_feed_consumer_backlog{consumer=\"nats\"}") >= 40.0 &&
               metric(metrics, "dirfeed_feed_consumer_failing{consumer=\"nats\"}") == 1.0;
      },
      30s, 100ms))
      << call(port, boost::beast::http::verb::get, "/metrics").body;
  server.start();
  ASSERT_TRUE(caught_up(port, reader)) << read_text(log_);

  // 3. SIGKILL while publishing a backlog of 1,000 users: after a restart every entry is in
  //    the stream once (what was published but not yet acknowledged to the cursor is
  //    published again and dropped by the stream as a duplicate).
  server.stop();
  const uint64_t before = feed_of(dir_.path() + "/state").size();  // read-only, beside it
  dc().add_users(kBulk, "kill", 1000);
  ASSERT_TRUE(wait_until(
      [&] {
        return call(port, boost::beast::http::verb::get,
                    "/api/uid/v1.0/users?ip_only=false&domain=example.test")
                   .body.find("CN=kill1000," + kBulk) != std::string::npos;
      },
      60s, 100ms))
      << read_text(log_);
  server.start();
  StreamReader during({server.url()});
  ASSERT_TRUE(wait_until([&] { return during.count("DIRFEED").value_or(0) > before + 50; },
                         120s, 1ms))
      << read_text(log_);
  daemon_->signal(SIGKILL);
  daemon_->wait_for(10s);
  const uint64_t at_kill = during.count("DIRFEED").value_or(0);
  port = start(daemon_, path, log_);
  ASSERT_NE(port, 0) << read_text(log_);
  ASSERT_TRUE(caught_up(port, during)) << read_text(log_);
  stop_daemon();
  feed = feed_of(dir_.path() + "/state");
  ASSERT_GE(feed.size(), before + 2000);
  EXPECT_LT(at_kill, feed.size()) << "the kill came after everything was published";
  EXPECT_EQ(stream_of(during), feed);
}

TEST_F(NatsIntegrationTest, AClusterLosingItsStreamLeaderDuringTheFirstSyncKeepsEveryEntryOnce) {
  NatsCluster cluster(dir_.path() + "/cluster");
  const std::string path = config(cluster.urls(), /*replicas=*/3);
  const uint16_t port = launch(daemon_, path, log_);
  ASSERT_NE(port, 0) << read_text(log_);
  StreamReader reader(cluster.urls());
  ASSERT_TRUE(wait_until([&] { return reader.count("DIRFEED").value_or(0) >= 500; }, 60s, 1ms))
      << read_text(log_);
  jsStreamInfo* info = reader.info("DIRFEED");
  ASSERT_NE(info, nullptr);
  ASSERT_NE(info->Cluster, nullptr);
  ASSERT_NE(info->Cluster->Leader, nullptr);
  const size_t leader = static_cast<size_t>(info->Cluster->Leader[1] - '1');  // "n1".."n3"
  jsStreamInfo_Destroy(info);
  ASSERT_LT(leader, 3u);
  cluster.server(leader).kill();
  std::vector<std::string> alive;
  for (size_t i = 0; i < 3; ++i) {
    if (i != leader) alive.push_back(cluster.server(i).url());
  }
  StreamReader survivors(alive);
  ASSERT_TRUE(caught_up(port, survivors)) << read_text(log_);
  stop_daemon();
  const std::vector<FeedEntry> feed = feed_of(dir_.path() + "/state");
  ASSERT_GE(feed.size(), static_cast<size_t>(2 * kBulkUsers + 1000));
  EXPECT_EQ(stream_of(survivors), feed);
}

}  // namespace
}  // namespace dirfeed::testing
