// Webhook delivery benchmark: changes fanned out to several directories, each with a webhook
// to one local receiver (127.0.0.1, plain HTTP, keep-alive), through the real
// WebhookDispatcher with its daemon defaults (4 delivery threads, 200 ms feed poll). The changes
// are user ADDs written through the Store (apply_page), not read from AD: this measures the
// dispatcher, not the pollers. Two phases:
//   burst  all changes written as fast as the store takes them: events/s, and the latency
//          from a change's commit to its event's receipt (mostly queueing)
//   paced  changes written at a steady rate the dispatcher keeps up with: the latency alone
// Run (not part of ctest):
//   build/tests/bench/webhook_bench [--changes 10000] [--directories 10] [--batch 1]
//                                   [--page 100] [--paced 1000] [--rate 200]
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "rest/webhooks.hpp"
#include "tests/rest/webhook_receiver.hpp"

namespace {

using namespace dirfeed;
using SteadyClock = std::chrono::steady_clock;
using std::chrono::duration;

struct Settings {
  int changes = 10'000;
  int directories = 10;
  int batch = 1;
  int page = 100;    // changes per Store write
  int paced = 1'000;  // changes in the paced phase
  int rate = 200;     // changes per second in the paced phase
};

std::string user_guid(int number) {
  std::string guid(16, '\x42');
  for (int i = 0; i < 4; ++i) guid[i] = static_cast<char>(number >> (24 - 8 * i));
  return guid;
}

pb::ObservedObject user(int number) {
  pb::ObservedObject observed;
  pb::DirectoryObject& object = *observed.mutable_object();
  const std::string name = "u" + std::to_string(number);
  object.set_guid(user_guid(number));
  object.set_kind(pb::USER);
  object.set_dn("CN=" + name + ",OU=People,DC=example,DC=test");
  object.set_sam_account_name(name);
  object.set_netbios_domain("EXAMPLE");
  object.set_given_name("Bench");
  object.set_surname(name);
  object.set_user_principal_name(name + "@example.test");
  return observed;
}

// Commit times by user number, and receipt latencies, filled from the receiver's threads.
class Tracker {
 public:
  explicit Tracker(int users) : committed_(static_cast<size_t>(users)) {}

  void committed(int from, int to, SteadyClock::time_point at) {
    std::lock_guard lock(mutex_);
    for (int u = from; u < to; ++u) committed_[static_cast<size_t>(u)] = at;
  }

  // Every "sAMAccountName":"u<N>" in a received body is one event of user N.
  void received(const std::string& body, SteadyClock::time_point at) {
    static constexpr std::string_view kKey = "\"sAMAccountName\":\"u";
    std::lock_guard lock(mutex_);
    for (size_t pos = body.find(kKey); pos != std::string::npos; pos = body.find(kKey, pos)) {
      pos += kKey.size();
      const int number = std::atoi(body.c_str() + pos);
      latencies_.push_back(duration<double>(at - committed_[static_cast<size_t>(number)]).count());
      last_receipt_ = std::max(last_receipt_, at);
    }
  }

  // Latencies of the events received since the last call, sorted; and when the last came.
  std::vector<double> take(SteadyClock::time_point* last_receipt) {
    std::lock_guard lock(mutex_);
    std::vector<double> out = std::move(latencies_);
    latencies_.clear();
    std::sort(out.begin(), out.end());
    *last_receipt = last_receipt_;
    return out;
  }

 private:
  std::mutex mutex_;
  std::vector<SteadyClock::time_point> committed_;
  std::vector<double> latencies_;
  SteadyClock::time_point last_receipt_{};
};

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const size_t index = std::min(sorted.size() - 1, static_cast<size_t>(p * sorted.size()));
  return sorted[index];
}

bool parse_args(int argc, char** argv, Settings& settings) {
  std::map<std::string, int*> flags{{"--changes", &settings.changes},
                                    {"--directories", &settings.directories},
                                    {"--batch", &settings.batch},
                                    {"--page", &settings.page},
                                    {"--paced", &settings.paced},
                                    {"--rate", &settings.rate}};
  for (int i = 1; i < argc; i += 2) {
    auto it = flags.find(argv[i]);
    if (it == flags.end() || i + 1 >= argc || std::atoi(argv[i + 1]) <= 0) return false;
    *it->second = std::atoi(argv[i + 1]);
  }
  return true;
}

// Writes users [from, to) in pages, each page one Store write; `interval` between pages.
void write_users(changefeed::Store& store, Tracker& tracker, int from, int to, int page,
                 std::chrono::microseconds interval) {
  pb::Cursor cursor;
  cursor.set_domain("example.test");
  cursor.set_strategy("usn");
  auto next = SteadyClock::now();
  for (int start = from; start < to; start += page) {
    const int end = std::min(to, start + page);
    std::vector<pb::ObservedObject> objects;
    for (int u = start; u < end; ++u) objects.push_back(user(u));
    std::this_thread::sleep_until(next);
    next += interval;
    // Stamped just before the write: the dispatcher may see it as soon as it is committed.
    tracker.committed(start, end, SteadyClock::now());
    if (!store.apply_page("example.test", objects, cursor).is_ok()) {
      std::fprintf(stderr, "apply_page failed\n");
      std::exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Settings settings;
  if (!parse_args(argc, argv, settings)) {
    std::fprintf(stderr,
                 "usage: webhook_bench [--changes N] [--directories N] [--batch N] [--page N] "
                 "[--paced N] [--rate N]\n");
    return 2;
  }
  std::string dir = (std::filesystem::temp_directory_path() / "webhook-bench-XXXXXX").string();
  if (mkdtemp(dir.data()) == nullptr) return 1;

  SystemClock clock;
  std::string error;
  std::unique_ptr<changefeed::Store> store = changefeed::Store::open({dir + "/feed"}, clock, &error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  const int total_users = settings.changes + settings.paced;
  Tracker tracker(total_users);
  dirfeed::testing::WebhookReceiver receiver(
      [&](const dirfeed::testing::ReceivedRequest& request, size_t) {
        tracker.received(request.body, request.at);
        return 200u;
      },
      "", "", /*keep_requests=*/false);
  for (int d = 0; d < settings.directories; ++d) {
    pb::Directory directory;
    directory.set_id("bench" + std::to_string(d));
    directory.set_name("Bench " + std::to_string(d));
    directory.set_tenant("bench");
    directory.set_product("p" + std::to_string(d));
    directory.set_domain("example.test");
    directory.set_webhook_url(receiver.url("/d" + std::to_string(d)));
    directory.set_webhook_secret("bench-secret");
    directory.set_webhook_batch_size(static_cast<uint32_t>(settings.batch));
    if (!store->put_directory(directory).is_ok()) return 1;
  }
  rest::DispatcherOptions options;  // the receiver is on 127.0.0.1, refused by default
  options.client.targets =
      rest::WebhookTargetPolicy({*rest::IpNetwork::parse("127.0.0.0/8", &error)});
  rest::WebhookDispatcher dispatcher(*store, clock, nullptr, options);
  dispatcher.start();
  std::printf("webhook_bench: %d directories, batch size %d, %d changes per Store write\n",
              settings.directories, settings.batch, settings.page);

  // Burst.
  const size_t burst_events = static_cast<size_t>(settings.changes) * settings.directories;
  const auto started = SteadyClock::now();
  write_users(*store, tracker, 0, settings.changes, settings.page, {});
  const double write_s = duration<double>(SteadyClock::now() - started).count();
  std::vector<double> latencies;
  SteadyClock::time_point last{};
  const auto burst_deadline = SteadyClock::now() + std::chrono::minutes(10);
  while (latencies.size() < burst_events && SteadyClock::now() < burst_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::vector<double> more = tracker.take(&last);
    latencies.insert(latencies.end(), more.begin(), more.end());
  }
  std::sort(latencies.begin(), latencies.end());
  bool complete = latencies.size() == burst_events;
  const double burst_s = duration<double>(last - started).count();
  std::printf("burst: %d changes written in %.2f s; %zu of %zu events received in %.2f s: "
              "%.0f events/s (%zu requests); latency change->receipt p50 %.3f s, p99 %.3f s, "
              "max %.3f s\n",
              settings.changes, write_s, latencies.size(), burst_events, burst_s,
              static_cast<double>(latencies.size()) / burst_s, receiver.count(),
              percentile(latencies, 0.50), percentile(latencies, 0.99),
              latencies.empty() ? 0 : latencies.back());

  // Paced.
  const size_t paced_events = static_cast<size_t>(settings.paced) * settings.directories;
  const int pages_per_second = std::max(1, settings.rate / settings.page);
  const int paced_page = std::max(1, settings.rate / pages_per_second);
  write_users(*store, tracker, settings.changes, total_users, paced_page,
              std::chrono::microseconds(1'000'000 / pages_per_second));
  latencies.clear();
  const auto paced_deadline = SteadyClock::now() + std::chrono::minutes(5);
  while (latencies.size() < paced_events && SteadyClock::now() < paced_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::vector<double> more = tracker.take(&last);
    latencies.insert(latencies.end(), more.begin(), more.end());
  }
  std::sort(latencies.begin(), latencies.end());
  complete = complete && latencies.size() == paced_events;
  std::printf("paced: %d changes at %d/s (%d per write): %zu of %zu events; latency "
              "change->receipt p50 %.3f s, p99 %.3f s, max %.3f s\n",
              settings.paced, pages_per_second * paced_page, paced_page, latencies.size(),
              paced_events, percentile(latencies, 0.50), percentile(latencies, 0.99),
              latencies.empty() ? 0 : latencies.back());

  dispatcher.stop();
  receiver.stop();
  store.reset();
  std::filesystem::remove_all(dir);
  return complete ? 0 : 1;
}
