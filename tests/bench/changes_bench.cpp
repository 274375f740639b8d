// Directory Changes API benchmark (not part of ctest; see docs/benchmarks.md). Two claims:
//
//   query     a lastSyncDate query returning the newest 1,000 changes costs about the same on
//             a feed of 1,000,000 changes as on a feed of 1,000 (the feed is indexed by time:
//             one seek, then 1,000 reads). Handler level: GET through the routing table, the
//             streamed body read to the end. Median of --runs, the two feeds alternating.
//   snapshot  a 100,000-user snapshot streams with flat memory: the real HttpServer serves it
//             to a client on 127.0.0.1 that reads and discards it; the process's peak RSS
//             while serving is compared with its RSS before (the peak is reset first through
//             /proc/self/clear_refs). The same for 10,000 and 300,000 users shows whether the
//             growth depends on the size; each in a process of its own (fork).
//
// The changes are written through the Store (apply_page), not read from AD. Run:
//   build/tests/bench/changes_bench build DIR     # the stores (~1 min; 1.3 GB of disk)
//   build/tests/bench/changes_bench query DIR [--runs 30]
//   build/tests/bench/changes_bench snapshot DIR
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "changefeed/store.hpp"
#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/iso_time.hpp"

namespace {

using namespace dirfeed;
using SteadyClock = std::chrono::steady_clock;

constexpr int kSmallFeed = 1'000;
constexpr int kLargeFeed = 1'000'000;
constexpr int kNewest = 1'000;
constexpr int kSnapshotUsers[] = {10'000, 100'000, 300'000};
constexpr int kPage = 1'000;
constexpr char kDomain[] = "example.test";

std::string user_guid(int number) {
  std::string guid(16, '\x42');
  for (int i = 0; i < 4; ++i) guid[i] = static_cast<char>(number >> (24 - 8 * i));
  return guid;
}

// A user with the attributes a directory usually has (records of ~600 bytes).
pb::ObservedObject user(int number, int version) {
  pb::ObservedObject observed;
  pb::DirectoryObject& object = *observed.mutable_object();
  const std::string name = "user" + std::to_string(number);
  object.set_guid(user_guid(number));
  object.set_kind(pb::USER);
  object.set_dn("CN=" + name + ",OU=People,DC=example,DC=test");
  object.set_sam_account_name(name);
  object.set_netbios_domain("EXAMPLE");
  object.set_sid("S-1-5-21-1004336348-1177238915-682003330-" + std::to_string(10'000 + number));
  object.set_display_name("User " + std::to_string(number));
  object.set_given_name("User");
  object.set_surname(std::to_string(number));
  object.set_department("Department " + std::to_string(number % 40));
  object.set_title("Title version " + std::to_string(version));
  object.set_telephone_number("+1 555 " + std::to_string(100'000 + number));
  object.set_user_principal_name(name + "@example.test");
  object.set_user_account_control(0x200);
  return observed;
}

std::unique_ptr<changefeed::Store> open_store(const std::string& path, const Clock& clock) {
  std::string error;
  std::unique_ptr<changefeed::Store> store = changefeed::Store::open({path}, clock, &error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    std::exit(1);
  }
  return store;
}

// Writes `versions` rounds over users [0, users): the first adds them, each later one changes
// every user's title: users * versions feed entries.
void write_feed(const std::string& path, int users, int versions) {
  SystemClock clock;
  std::unique_ptr<changefeed::Store> store = open_store(path, clock);
  pb::Cursor cursor;
  cursor.set_domain(kDomain);
  const auto start = SteadyClock::now();
  for (int version = 0; version < versions; ++version) {
    for (int first = 0; first < users; first += kPage) {
      std::vector<pb::ObservedObject> page;
      for (int n = first; n < std::min(users, first + kPage); ++n) page.push_back(user(n, version));
      const Status status = store->apply_page(kDomain, page, cursor);
      if (!status.is_ok()) {
        std::fprintf(stderr, "%s\n", status.message().c_str());
        std::exit(1);
      }
    }
  }
  std::printf("%s: %llu entries in %.1f s\n", path.c_str(),
              static_cast<unsigned long long>(store->last_sequence()),
              std::chrono::duration<double>(SteadyClock::now() - start).count());
}

// A new API key, the only one in `dir`/keys.
std::string write_key_file(const std::string& dir) {
  const std::string key = rest::generate_api_key();
  rest::write_file_atomically(dir + "/keys",
                              rest::format_keys({{"bench", rest::api_key_hash(key)}}));
  return key;
}

// The routing table of the APIs over `store`.
struct Api {
  Api(const changefeed::Store& store, rest::CredentialStore& credentials, std::string key)
      : key(std::move(key)),
        context{store, {{kDomain, "DC=example,DC=test", "EXAMPLE"}}, &credentials},
        router(rest::make_router(context)) {}

  std::string key;
  rest::ApiContext context;
  rest::Router router;
};

// A lastSyncDate after which the feed holds exactly its newest `count` entries.
std::string before_newest(const changefeed::Store& store, uint64_t count) {
  const uint64_t last = store.last_sequence();
  if (last <= count) return "2000-01-01T00:00:00Z";  // the feed was never pruned
  std::string text;
  store.changes_after_sequence(last - count - 1, {}, [&](const pb::Change& change) {
    text = rest::format_iso8601_us(change.timestamp_us());
    return false;
  });
  return text;
}

// One GET through the router, the body read to the end; returns its length.
size_t get(const Api& api, const std::string& target) {
  rest::Request request(boost::beast::http::verb::get, target, 11);
  request.set("x-api-key", api.key);
  rest::Response response = api.router.handle(request);
  if (response.result_int() != 200 || !response.body().stream) {
    std::fprintf(stderr, "%s: %u %s\n", target.c_str(), response.result_int(),
                 response.body().c_str());
    std::exit(1);
  }
  size_t length = 0;
  for (bool more = true; more;) {
    std::string piece;
    more = response.body().stream(piece);
    length += piece.size();
  }
  return length;
}

size_t count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

void query(const std::string& dir, int runs) {
  SystemClock clock;
  std::unique_ptr<changefeed::Store> small = open_store(dir + "/feed-1k", clock);
  std::unique_ptr<changefeed::Store> large = open_store(dir + "/feed-1m", clock);
  const std::string key = write_key_file(dir);
  rest::CredentialStore credentials(dir + "/users", dir + "/keys");
  const Api small_api(*small, credentials, key);
  const Api large_api(*large, credentials, key);
  const std::string base = "/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true"
                           "&lastSyncDate=";
  const std::string small_target = base + before_newest(*small, kNewest);
  const std::string large_target = base + before_newest(*large, kNewest);

  // Both answers hold exactly the newest 1,000 records.
  for (const auto& [api, target] : {std::pair(&small_api, small_target),
                                    std::pair(&large_api, large_target)}) {
    rest::Request request(boost::beast::http::verb::get, target, 11);
    request.set("x-api-key", api->key);
    rest::Response response = api->router.handle(request);
    std::string body;
    for (bool more = true; more;) more = response.body().stream(body);
    std::printf("%s: %zu records, %zu bytes\n", target.c_str(),
                count(body, "\"resourceType\":\"user\""), body.size());
  }

  std::vector<double> small_ms, large_ms;
  for (int run = 0; run < runs; ++run) {
    for (auto [api, target, times] : {std::tuple(&small_api, &small_target, &small_ms),
                                      std::tuple(&large_api, &large_target, &large_ms)}) {
      const auto start = SteadyClock::now();
      get(*api, *target);
      times->push_back(
          std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    }
  }
  const double small_median = median(small_ms);
  const double large_median = median(large_ms);
  std::printf("newest %d of %d: median %.2f ms (first %.2f ms)\n", kNewest, kSmallFeed,
              small_median, small_ms.front());
  std::printf("newest %d of %d: median %.2f ms (first %.2f ms)\n", kNewest, kLargeFeed,
              large_median, large_ms.front());
  std::printf("ratio large/small: %.2f (target < 2)\n", large_median / small_median);
}

// VmRSS or VmHWM of this process in KiB.
long status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field) + 1);
  }
  return -1;
}

// GET `target` from 127.0.0.1:port, reading the response into a fixed buffer and discarding
// it; returns the bytes received, and how many records (counted across reads) in *records.
size_t fetch_and_discard(uint16_t port, const std::string& key, const std::string& target,
                         size_t* records) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  socket.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  const std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: " +
                              key + "\r\nConnection: close\r\n\r\n";
  boost::asio::write(socket, boost::asio::buffer(request));
  const std::string needle = "\"changeType\":\"created\"";
  std::vector<char> buffer(64 * 1024);
  std::string tail;  // the last bytes of the previous read, for needles split across reads
  size_t total = 0;
  *records = 0;
  for (;;) {
    boost::system::error_code error;
    const size_t got = socket.read_some(boost::asio::buffer(buffer), error);
    total += got;
    std::string window = tail + std::string(buffer.data(), got);
    *records += count(window, needle) - count(tail, needle);
    tail = window.substr(window.size() > needle.size() ? window.size() - needle.size() + 1 : 0);
    if (error) break;
  }
  return total;
}

std::string snapshot_store(const std::string& dir, int users) {
  return dir + "/snapshot-" + std::to_string(users / 1000) + "k";
}

// For comparison: the peak RSS of reading every user of the same store, without the API.
void scan(const std::string& dir, int users) {
  SystemClock clock;
  std::unique_ptr<changefeed::Store> store = open_store(snapshot_store(dir, users), clock);
  const long before_kib = status_kib("VmRSS:");
  std::ofstream("/proc/self/clear_refs") << "5";
  size_t read = 0;
  store->objects(pb::USER, "", [&](const pb::DirectoryObject&) { return ++read > 0; });
  const long peak_kib = status_kib("VmHWM:");
  std::printf("store scan of %zu users alone: RSS before %.1f MB, peak %.1f MB (+%.1f MB)\n",
              read, before_kib / 1024.0, peak_kib / 1024.0, (peak_kib - before_kib) / 1024.0);
}

// Serves the snapshot of the store of `users` users once and prints what it cost.
void snapshot(const std::string& dir, int users) {
  SystemClock clock;
  std::unique_ptr<changefeed::Store> store = open_store(snapshot_store(dir, users), clock);
  const std::string key = write_key_file(dir);
  rest::CredentialStore credentials(dir + "/users", dir + "/keys");
  const Api api(*store, credentials, key);
  boost::asio::io_context io;
  rest::HttpServer server(io, {}, [&](const rest::Request& request, const rest::ClientAddress&) {
    return api.router.handle(request);
  });
  server.start();
  std::thread thread([&] { io.run(); });

  const std::string target =
      "/public/directory-changes?resourceType=user&onPremisesSyncEnabled=true";
  size_t records = 0;
  // Warm-up: a small answer through the same path (threads, buffers, RocksDB's table readers).
  fetch_and_discard(server.port(), api.key, target + "&lastSyncDate=2100-01-01T00:00:00Z",
                    &records);
  const long before_kib = status_kib("VmRSS:");
  std::ofstream("/proc/self/clear_refs") << "5";  // the peak (VmHWM) starts again from here
  const auto start = SteadyClock::now();
  const size_t bytes = fetch_and_discard(server.port(), api.key, target, &records);
  const double seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
  const long peak_kib = status_kib("VmHWM:");
  server.stop();
  thread.join();
  std::printf("snapshot: %zu records, %.1f MB streamed in %.2f s\n", records, bytes / 1e6,
              seconds);
  std::printf("RSS before %.1f MB, peak while serving %.1f MB (+%.1f MB)\n", before_kib / 1024.0,
              peak_kib / 1024.0, (peak_kib - before_kib) / 1024.0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s build|query|snapshot DIR [--runs N]\n", argv[0]);
    return 2;
  }
  const std::string command = argv[1];
  const std::string dir = argv[2];
  if (command == "build") {
    write_feed(dir + "/feed-1k", kSmallFeed, 1);
    write_feed(dir + "/feed-1m", kPage, kLargeFeed / kPage);
    for (const int users : kSnapshotUsers) write_feed(snapshot_store(dir, users), users, 1);
  } else if (command == "query") {
    const int runs = argc >= 5 && std::string(argv[3]) == "--runs" ? std::atoi(argv[4]) : 30;
    query(dir, std::max(1, runs));
  } else if (command == "snapshot") {
    for (const int users : kSnapshotUsers) {
      for (const auto measure : {&snapshot, &scan}) {
        const pid_t child = ::fork();
        if (child == 0) {
          measure(dir, users);
          std::fflush(stdout);
          ::_exit(0);
        }
        int status = 0;
        ::waitpid(child, &status, 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
      }
    }
  } else {
    std::fprintf(stderr, "unknown command %s\n", command.c_str());
    return 2;
  }
  return 0;
}
