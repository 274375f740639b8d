// The JetStream sink against real nats-server processes (one, and a cluster of three): subjects,
// message ids, duplicates dropped, the stream created, a server down and back, a replicated
// stream losing a server; and the sink under a FeedConsumer on a real store.
#include "publish/jetstream.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

#include "changefeed/feed_consumer.hpp"
#include "changefeed/store.hpp"
#include "tests/support/manual_clock.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/self_signed_cert.hpp"
#include "tests/support/temp_dir.hpp"

namespace dirfeed::publish {
namespace {

using namespace std::chrono_literals;
using dirfeed::testing::NatsCluster;
using dirfeed::testing::NatsServer;
using dirfeed::testing::StreamMessage;
using dirfeed::testing::StreamReader;
using dirfeed::testing::TempDir;
using dirfeed::testing::wait_until;

constexpr char kStoreId[] = "0123456789abcdef0123456789abcdef";

pb::Change entry(uint64_t sequence, pb::ObjectKind kind = pb::USER, pb::ChangeType type = pb::ADD,
                 const std::string& domain = "example.test") {
  pb::Change change;
  change.set_sequence(sequence);
  change.set_timestamp_us(1'700'000'000'000'000 + static_cast<int64_t>(sequence));
  change.set_kind(kind);
  change.set_type(type);
  change.set_domain(domain);
  return change;
}

std::vector<pb::Change> entries(uint64_t from, uint64_t to) {
  std::vector<pb::Change> out;
  for (uint64_t s = from; s <= to; ++s) out.push_back(entry(s));
  return out;
}

// A body that names the entry, so a test sees which entry a message carries.
std::string body(const pb::Change& change) {
  return "{\"seq\":" + std::to_string(change.sequence()) + "}";
}

NatsOptions options(std::vector<std::string> servers) {
  NatsOptions o;
  o.servers = std::move(servers);
  o.ack_timeout = 3s;
  o.connect_timeout = 500ms;
  return o;
}

// The feed sequences the stream's messages carry, from their message ids, in stream order.
std::vector<uint64_t> sequences(const std::vector<StreamMessage>& messages) {
  std::vector<uint64_t> out;
  for (const StreamMessage& m : messages) {
    const std::string prefix = std::string(kStoreId) + "-";
    EXPECT_EQ(m.msg_id.rfind(prefix, 0), 0u) << m.msg_id;
    out.push_back(std::stoull(m.msg_id.substr(prefix.size())));
  }
  return out;
}

std::vector<uint64_t> range(uint64_t from, uint64_t to) {
  std::vector<uint64_t> out;
  for (uint64_t s = from; s <= to; ++s) out.push_back(s);
  return out;
}

TEST(FeedSubject, IsPrefixDomainKindTypeWithTheDomainOneToken) {
  EXPECT_EQ(feed_subject("dirfeed", entry(1)), "dirfeed.example_test.user.add");
  EXPECT_EQ(feed_subject("acme.ad", entry(1, pb::GROUP, pb::MODIFY, "corp.acme.com")),
            "acme.ad.corp_acme_com.group.modify");
  EXPECT_EQ(feed_subject("dirfeed", entry(1, pb::MEMBERSHIP, pb::DELETE)),
            "dirfeed.example_test.membership.delete");
  EXPECT_EQ(feed_subject("dirfeed", entry(1, pb::USER, pb::IP_ADD)),
            "dirfeed.example_test.user.ip-add");
  EXPECT_EQ(feed_subject("dirfeed", entry(1, pb::USER, pb::IP_DELETE, "")),
            "dirfeed._.user.ip-delete");
  EXPECT_EQ(feed_subject("dirfeed", entry(1, pb::USER, pb::ADD, "scim:a b*>c")),
            "dirfeed.scim:a_b__c.user.add");
}

TEST(JetStreamSink, PublishesEachEntryOnceWithItsMessageIdAndCreatesTheStream) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats");
  NatsOptions o = options({server.url()});
  o.max_age = std::chrono::hours(24);
  JetStreamSink sink(o, kStoreId, body);
  changefeed::Delivery delivery = sink.deliver(
      {entry(1), entry(2, pb::GROUP, pb::MODIFY), entry(3, pb::MEMBERSHIP, pb::DELETE)});
  EXPECT_EQ(delivery.error, "");
  EXPECT_EQ(delivery.confirmed_through, 3u);

  StreamReader reader({server.url()});
  jsStreamInfo* info = reader.info("DIRFEED");
  ASSERT_NE(info, nullptr);
  ASSERT_EQ(info->Config->SubjectsLen, 1);
  EXPECT_STREQ(info->Config->Subjects[0], "dirfeed.>");
  EXPECT_EQ(info->Config->Storage, js_FileStorage);
  EXPECT_EQ(info->Config->MaxAge, std::chrono::nanoseconds(24h).count());
  EXPECT_EQ(info->Config->Duplicates, std::chrono::nanoseconds(2min).count());
  jsStreamInfo_Destroy(info);
  const std::vector<StreamMessage> messages = reader.messages("DIRFEED");
  ASSERT_EQ(messages.size(), 3u);
  EXPECT_EQ(messages[0].subject, "dirfeed.example_test.user.add");
  EXPECT_EQ(messages[1].subject, "dirfeed.example_test.group.modify");
  EXPECT_EQ(messages[2].subject, "dirfeed.example_test.membership.delete");
  EXPECT_EQ(messages[2].msg_id, std::string(kStoreId) + "-3");
  EXPECT_EQ(messages[2].data, "{\"seq\":3}");
}

TEST(JetStreamSink, PublishingAgainIsDroppedByTheStreamAsADuplicate) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats");
  JetStreamSink sink(options({server.url()}), kStoreId, body);
  ASSERT_EQ(sink.deliver(entries(1, 500)).confirmed_through, 500u);
  // As after a crash before the cursor was stored: 401..500 again, then new ones.
  changefeed::Delivery again = sink.deliver(entries(401, 700));
  EXPECT_EQ(again.error, "");
  EXPECT_EQ(again.confirmed_through, 700u);
  StreamReader reader({server.url()});
  EXPECT_EQ(sequences(reader.messages("DIRFEED")), range(1, 700));
}

TEST(JetStreamSink, AnExistingStreamIsUsedAsItIs) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats");
  {
    NatsOptions first = options({server.url()});
    first.max_age = std::chrono::hours(1);
    JetStreamSink sink(first, kStoreId, body);
    ASSERT_EQ(sink.deliver(entries(1, 2)).confirmed_through, 2u);
  }
  NatsOptions second = options({server.url()});
  second.max_age = std::chrono::hours(5);  // for a stream it would create
  JetStreamSink sink(second, kStoreId, body);
  ASSERT_EQ(sink.deliver(entries(3, 4)).confirmed_through, 4u);
  StreamReader reader({server.url()});
  jsStreamInfo* info = reader.info("DIRFEED");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->Config->MaxAge, std::chrono::nanoseconds(1h).count());
  EXPECT_EQ(info->State.Msgs, 4u);
  jsStreamInfo_Destroy(info);
}

// A message the stream refuses (here: over its size limit) ends what the batch stores: each
// message after the first expects the one before it as the stream's last, so the stream
// refuses the rest too and never holds an entry ahead of one it lacks (a failed publish in
// the middle of the window, as when a stream's leader goes, would otherwise be overtaken).
TEST(JetStreamSink, AMessageTheStreamRefusesEndsTheBatchThere) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats");
  const auto third_too_big = [](const pb::Change& change) {
    return change.sequence() == 3 ? std::string(4096, 'x') : body(change);
  };
  JetStreamSink sink(options({server.url()}), kStoreId, third_too_big);
  ASSERT_EQ(sink.deliver(entries(1, 1)).confirmed_through, 1u);  // the stream is made
  StreamReader reader({server.url()});
  ASSERT_TRUE(reader.limit_message_size("DIRFEED", 1024));

  const changefeed::Delivery delivery = sink.deliver(entries(2, 6));
  EXPECT_EQ(delivery.confirmed_through, 2u);
  EXPECT_NE(delivery.error.find("sequence 3 refused"), std::string::npos) << delivery.error;
  EXPECT_EQ(sequences(reader.messages("DIRFEED")), range(1, 2));
}

TEST(JetStreamSink, AServerDownFailsTheBatchAndWhenItIsBackPublishingGoesOn) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats");
  JetStreamSink sink(options({server.url()}), kStoreId, body);
  ASSERT_EQ(sink.deliver(entries(1, 10)).confirmed_through, 10u);
  server.stop();
  changefeed::Delivery down = sink.deliver(entries(11, 20));
  EXPECT_NE(down.error, "");
  EXPECT_LT(down.confirmed_through, 20u);
  server.start();
  changefeed::Delivery back;
  ASSERT_TRUE(wait_until(
      [&] {
        back = sink.deliver(entries(down.confirmed_through < 11 ? 11 : down.confirmed_through + 1, 20));
        return back.error.empty();
      },
      30s, 200ms))
      << back.error;
  EXPECT_EQ(back.confirmed_through, 20u);
  StreamReader reader({server.url()});
  EXPECT_EQ(sequences(reader.messages("DIRFEED")), range(1, 20));
}

TEST(JetStreamSink, NoServerIsAnErrorNamingTheServers) {
  const uint16_t port = dirfeed::testing::free_loopback_port();
  JetStreamSink sink(options({"nats://127.0.0.1:" + std::to_string(port)}), kStoreId, body);
  changefeed::Delivery delivery = sink.deliver(entries(1, 1));
  EXPECT_EQ(delivery.confirmed_through, 0u);
  EXPECT_NE(delivery.error.find("nats: connecting to nats://127.0.0.1:" + std::to_string(port)),
            std::string::npos)
      << delivery.error;
}

// TLS: the server's certificate is checked against the CA file and for the expected name.
TEST(JetStreamSink, TlsChecksTheServersCertificateAndName) {
  TempDir dir;
  const dirfeed::testing::CertFiles cert = dirfeed::testing::make_self_signed_cert(dir.path());
  NatsServer server(dir.path() + "/nats", "n1", dirfeed::testing::free_loopback_port(), 0, {},
                    {"--tls", "--tlscert", cert.cert_file, "--tlskey", cert.key_file});
  const std::string url = "tls://127.0.0.1:" + std::to_string(server.port());
  NatsOptions o = options({url});
  o.ca_file = cert.cert_file;  // self-signed: its own CA
  o.tls_server_name = "127.0.0.1";  // in its SAN, as the config derives it from the URL
  JetStreamSink sink(o, kStoreId, body);
  changefeed::Delivery delivery = sink.deliver(entries(1, 3));
  EXPECT_EQ(delivery.error, "");
  EXPECT_EQ(delivery.confirmed_through, 3u);

  NatsOptions system_roots = options({url});  // the system's bundle: not trusted there
  system_roots.tls_server_name = "127.0.0.1";
  JetStreamSink untrusted(system_roots, kStoreId, body);
  changefeed::Delivery refused = untrusted.deliver(entries(4, 4));
  EXPECT_EQ(refused.confirmed_through, 0u);
  EXPECT_NE(refused.error.find("nats: connecting to " + url), std::string::npos) << refused.error;

  NatsOptions other_name = o;  // trusted chain, but not the name the certificate carries
  other_name.tls_server_name = "nats.example.test";
  JetStreamSink misnamed(other_name, kStoreId, body);
  changefeed::Delivery mismatch = misnamed.deliver(entries(4, 4));
  EXPECT_EQ(mismatch.confirmed_through, 0u);
  EXPECT_NE(mismatch.error.find("nats: connecting to " + url), std::string::npos) << mismatch.error;
}

TEST(JetStreamSink, UserAndPasswordFile) {
  TempDir dir;
  NatsServer server(dir.path() + "/nats", "n1", dirfeed::testing::free_loopback_port(), 0, {},
                    {"--user", "dirfeed", "--pass", "s3cret-pass"});
  const std::string password_file = dir.path() + "/nats.password";
  dirfeed::testing::write_text(password_file, "s3cret-pass\n", 0600);
  NatsOptions o = options({server.url()});
  o.user = "dirfeed";
  o.password_file = password_file;
  JetStreamSink sink(o, kStoreId, body);
  EXPECT_EQ(sink.deliver(entries(1, 2)).confirmed_through, 2u);

  dirfeed::testing::write_text(password_file, "wrong\n", 0600);  // read at each connect
  JetStreamSink wrong(o, kStoreId, body);
  changefeed::Delivery refused = wrong.deliver(entries(3, 3));
  EXPECT_EQ(refused.confirmed_through, 0u);
  EXPECT_NE(refused.error.find("Authorization"), std::string::npos) << refused.error;
  EXPECT_EQ(refused.error.find("wrong"), std::string::npos) << "the password is never logged";
}

// A consumer on a real store publishing what its writers commit, through a 3-server cluster
// with a replicated stream whose leader is SIGKILLed while the consumer publishes.
TEST(JetStreamSink, AReplicatedStreamLosingAServerKeepsEveryEntryOnceInOrder) {
  TempDir dir;
  NatsCluster cluster(dir.path() + "/cluster");
  dirfeed::testing::ManualClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store =
      changefeed::Store::open({dir.path() + "/db"}, clock, &error);
  ASSERT_NE(store, nullptr) << error;
  NatsOptions o = options(cluster.urls());
  o.replicas = 3;
  JetStreamSink sink(o, store->store_id(), body);
  changefeed::FeedConsumerOptions consumer_options;
  consumer_options.name = "nats";
  consumer_options.max_batch = 200;
  consumer_options.retry_base = 100ms;
  consumer_options.retry_cap = 500ms;
  changefeed::FeedConsumer consumer(*store, clock, sink, consumer_options);
  consumer.start();

  // Writers: one user per page, as a poller would commit them.
  auto add_users = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      pb::ObservedObject observed;
      pb::DirectoryObject& user = *observed.mutable_object();
      std::string guid(16, '\0');
      for (int b = 0; b < 4; ++b) guid[b] = static_cast<char>((i >> (8 * b)) & 0xff);
      user.set_guid(guid);
      user.set_kind(pb::USER);
      user.set_sam_account_name("user" + std::to_string(i));
      ASSERT_TRUE(store->apply_page("example.test", {observed}, pb::Cursor()).is_ok());
    }
  };
  auto published = [&](uint64_t count) {
    std::optional<pb::FeedConsumerState> state = store->consumer_state("nats");
    return state && state->after_sequence() >= count;
  };
  add_users(0, 1000);
  ASSERT_TRUE(wait_until([&] { return published(300); }, 60s, 5ms));
  // The stream's leader goes while the consumer is publishing: a new one is elected.
  size_t leader = 0;
  {
    StreamReader reader(cluster.urls());
    jsStreamInfo* info = reader.info("DIRFEED");
    ASSERT_NE(info, nullptr);
    ASSERT_NE(info->Cluster, nullptr);
    ASSERT_NE(info->Cluster->Leader, nullptr);
    leader = static_cast<size_t>(info->Cluster->Leader[1] - '1');  // "n1".."n3"
    jsStreamInfo_Destroy(info);
  }
  ASSERT_LT(leader, 3u);
  cluster.server(leader).kill();
  add_users(1000, 2000);
  ASSERT_TRUE(wait_until([&] { return published(2000); }, 90s, 50ms));
  consumer.stop();

  std::vector<std::string> alive;
  for (size_t i = 0; i < 3; ++i) {
    if (i != leader) alive.push_back(cluster.server(i).url());
  }
  StreamReader reader(alive);
  std::vector<StreamMessage> messages = reader.messages("DIRFEED");
  std::vector<uint64_t> got;
  for (const StreamMessage& m : messages) {
    got.push_back(std::stoull(m.msg_id.substr(m.msg_id.rfind('-') + 1)));
  }
  EXPECT_EQ(got, range(1, 2000));
  jsStreamInfo* info = reader.info("DIRFEED");
  ASSERT_NE(info, nullptr);
  EXPECT_EQ(info->Config->Replicas, 3);
  jsStreamInfo_Destroy(info);
}

}  // namespace
}  // namespace dirfeed::publish
