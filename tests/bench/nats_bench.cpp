// NATS JetStream publishing (issue 15): entries published per second from a feed of 100,000
// entries to one local nats-server with file storage, against the server's own ceiling measured
// in the same run: a plain libnats publisher sending the same messages (subjects, bodies,
// message ids, pre-rendered) with asynchronous acks and the same window of outstanding acks.
// Each round starts a fresh server (new store), runs the ceiling publisher, then a fresh
// server again and dirfeed's FeedConsumer + JetStreamSink on a store holding the feed (bodies
// rendered by rest::feed_entry_json, as the daemon does). Rounds alternate; medians printed.
// Needs nats-server. Run (not part of ctest):
//   build/tests/bench/nats_bench [ENTRIES [ROUNDS]]        (defaults 100000 and 3)
#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/feed_consumer.hpp"
#include "changefeed/store.hpp"
#include "publish/jetstream.hpp"
#include "rest/change_resource.hpp"
#include "tests/support/nats_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using namespace dirfeed;
using SteadyClock = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr size_t kMaxPending = 1000;  // the daemon's default publish.nats.max_pending

// A user as a first sync reads it: the attributes a Directory Changes resource shows.
pb::ObservedObject bench_user(size_t i) {
  pb::ObservedObject observed;
  pb::DirectoryObject& user = *observed.mutable_object();
  std::string guid(16, '\x42');
  for (int b = 0; b < 4; ++b) guid[static_cast<size_t>(b)] = static_cast<char>((i >> (8 * b)) & 0xff);
  user.set_guid(guid);
  user.set_kind(pb::USER);
  const std::string name = "bench" + std::to_string(100000 + i);
  user.set_dn("CN=" + name + ",OU=Bench,DC=example,DC=test");
  user.set_sam_account_name(name);
  user.set_user_principal_name(name + "@example.test");
  user.set_display_name("Bench User " + std::to_string(i));
  user.set_given_name("Bench");
  user.set_surname("User " + std::to_string(i));
  user.set_department("Engineering");
  user.set_title("Engineer");
  user.set_telephone_number("+1 555 0100");
  user.set_sid("S-1-5-21-1004336348-1177238915-682003330-" + std::to_string(20000 + i));
  user.set_user_account_control(512);
  return observed;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

// The ceiling: the same messages from a plain publisher, async acks, kMaxPending window.
double ceiling_rate(const std::string& url, const std::vector<std::string>& subjects,
                    const std::vector<std::string>& bodies, const std::vector<std::string>& ids) {
  natsConnection* connection = nullptr;
  jsCtx* js = nullptr;
  if (natsConnection_ConnectTo(&connection, url.c_str()) != NATS_OK) return 0;
  jsOptions options;
  jsOptions_Init(&options);
  options.PublishAsync.MaxPending = kMaxPending;
  natsConnection_JetStream(&js, connection, &options);
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subject_list[] = {"dirfeed.>"};
  config.Name = "DIRFEED";
  config.Subjects = subject_list;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  jsStreamInfo* info = nullptr;
  js_AddStream(&info, js, &config, nullptr, nullptr);
  jsStreamInfo_Destroy(info);
  const auto started = SteadyClock::now();
  for (size_t i = 0; i < bodies.size(); ++i) {
    natsMsg* msg = nullptr;
    natsMsg_Create(&msg, subjects[i].c_str(), nullptr, bodies[i].data(),
                   static_cast<int>(bodies[i].size()));
    jsPubOptions pub;
    jsPubOptions_Init(&pub);
    pub.MsgId = ids[i].c_str();
    js_PublishMsgAsync(js, &msg, &pub);
    natsMsg_Destroy(msg);
  }
  jsPubOptions wait;
  jsPubOptions_Init(&wait);
  wait.MaxWait = 60'000;
  const natsStatus done = js_PublishAsyncComplete(js, &wait);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  jsCtx_Destroy(js);
  natsConnection_Destroy(connection);
  return done == NATS_OK ? static_cast<double>(bodies.size()) / seconds : 0;
}

// dirfeed: a FeedConsumer with the JetStreamSink publishing the store's feed from the start.
double dirfeed_rate(const std::string& url, changefeed::Store& store,
                    const std::vector<rest::DomainInfo>& domains, uint64_t entries,
                    const std::string& consumer_name) {
  publish::NatsOptions options;
  options.servers = {url};
  options.max_pending = kMaxPending;
  publish::JetStreamSink sink(options, store.store_id(), [&](const pb::Change& change) {
    return rest::feed_entry_json(change, domains);
  });
  SystemClock clock;
  changefeed::FeedConsumerOptions consumer_options;
  consumer_options.name = consumer_name;
  changefeed::FeedConsumer consumer(store, clock, sink, consumer_options);
  const auto started = SteadyClock::now();
  consumer.start();
  while (true) {
    std::optional<pb::FeedConsumerState> state = store.consumer_state(consumer_name);
    if (state && state->after_sequence() >= entries) break;
    std::this_thread::sleep_for(1ms);
  }
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - started).count();
  consumer.stop();
  return static_cast<double>(entries) / seconds;
}

}  // namespace

int main(int argc, char** argv) {
  const size_t entries = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 100000;
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  dirfeed::testing::TempDir dir;
  SystemClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store =
      changefeed::Store::open({dir.path() + "/feed"}, clock, &error);
  if (!store) {
    std::fprintf(stderr, "nats_bench: %s\n", error.c_str());
    return 1;
  }
  for (size_t i = 0; i < entries; i += 1000) {
    std::vector<pb::ObservedObject> page;
    for (size_t j = i; j < std::min(entries, i + 1000); ++j) page.push_back(bench_user(j));
    if (!store->apply_page("example.test", page, pb::Cursor()).is_ok()) return 1;
  }
  const std::vector<rest::DomainInfo> domains = {
      {"example.test", "DC=example,DC=test", "EXAMPLE"}};
  std::vector<std::string> subjects, bodies, ids;
  size_t bytes = 0;
  store->changes_after_sequence(0, {}, [&](const pb::Change& change) {
    subjects.push_back(publish::feed_subject("dirfeed", change));
    bodies.push_back(rest::feed_entry_json(change, domains));
    ids.push_back(store->store_id() + "-" + std::to_string(change.sequence()));
    bytes += bodies.back().size();
    return true;
  });
  if (bodies.size() != entries) {
    std::fprintf(stderr, "nats_bench: the feed has %zu entries, not %zu\n", bodies.size(), entries);
    return 1;
  }
  std::printf("nats_bench: %zu entries, mean body %zu bytes, max_pending %zu, file storage\n",
              entries, bytes / entries, kMaxPending);

  std::vector<double> ceiling, ours;
  for (int round = 0; round < rounds; ++round) {
    {
      dirfeed::testing::NatsServer server(dir.path() + "/ceiling" + std::to_string(round));
      ceiling.push_back(ceiling_rate(server.url(), subjects, bodies, ids));
    }
    {
      dirfeed::testing::NatsServer server(dir.path() + "/dirfeed" + std::to_string(round));
      ours.push_back(dirfeed_rate(server.url(), *store, domains, entries,
                                  "bench" + std::to_string(round)));
    }
    std::printf("round %d: ceiling %.0f msg/s, dirfeed %.0f entries/s (%.2fx)\n", round + 1,
                ceiling.back(), ours.back(), ours.back() / ceiling.back());
  }
  std::printf("median: ceiling %.0f msg/s, dirfeed %.0f entries/s, dirfeed/ceiling %.2f\n",
              median(ceiling), median(ours), median(ours) / median(ceiling));
  return 0;
}
