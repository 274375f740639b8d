// IP sources under load (docs/benchmarks.md): a generator sends Windows 4624 logon events
// (Winlogbeat JSON in RFC 5424, ~1.3 KiB each) over TCP (octet counting) and UDP at increasing
// rates to the daemon's IP source code (ipsource::IpSources, a store on disk with 10,000 AD
// users), and the User ID API serves that store over real HTTP. Per rate it reports mapped
// logons per second, UDP loss, the latency from sending a logon to seeing its IP in
// GET /api/uid/v1.0/user/ntlm-identity/... (p50, p99; probe users, a few per second) and RSS;
// then the same TCP stream at full speed into rsyslog (imtcp -> omfile) as the baseline, and
// the ratio. Each row also shows the machine's load average (other work on the cores).
//   ipsource_bench [DIR]   (DIR: where the store and rsyslog's files go; default ./ipsource-bench)
//   ipsource_bench --count N [DIR]: for callgrind (valgrind --tool=callgrind
//     --instr-atstart=no): the event pool once unpaced over TCP (first logons: new mappings),
//     then N more (the steady state: renewals and moves); only these phases are instrumented,
//     each dumped on its own ("first", "steady"). No API, no baseline. How the work falls into
//     store writes depends on how the threads were scheduled, so the counts do too; hence:
//   ipsource_bench --stages N B [DIR]: the same two phases on one thread without sockets or
//     queue: parsing and resolving every message (ipsource::Pipeline::add), then storing the
//     events B per store write (Pipeline::write), each dumped on its own ("first-parse",
//     "first-store", "steady-parse", "steady-store"): counts that depend on the code only.
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include "changefeed/store.hpp"
#include "ipsource/sources.hpp"
#include "rest/api.hpp"
#include "rest/http_server.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_START_INSTRUMENTATION
#define CALLGRIND_STOP_INSTRUMENTATION
#define CALLGRIND_ZERO_STATS
#define CALLGRIND_DUMP_STATS_AT(name)
#endif

extern char** environ;

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace dirfeed;
using Steady = std::chrono::steady_clock;

constexpr int kUsers = 10000;
constexpr int kProbes = 20;  // probe users: one logon each per probe round, to time visibility
constexpr auto kRun = std::chrono::seconds(4);  // per rate and transport
constexpr int kFullSpeed = 100000;              // logons of the unpaced run and the baseline

std::string guid(int n, char tag) {
  std::string bytes(16, tag);
  for (int i = 0; i < 4; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return bytes;
}

std::string event(const std::string& user, const std::string& ip, int n) {
  const std::string json =
      R"({"@timestamp":"2024-05-02T10:15:32.123Z","event":{"code":"4624","kind":"event",)"
      R"("provider":"Microsoft-Windows-Security-Auditing","action":"logged-in","outcome":"success"},)"
      R"("winlog":{"channel":"Security","computer_name":"DC1.example.test","event_id":"4624",)"
      R"("record_id":)" + std::to_string(n) + R"(,"event_data":{"SubjectUserSid":"S-1-0-0",)"
      R"("SubjectUserName":"-","SubjectDomainName":"-","SubjectLogonId":"0x0",)"
      R"("TargetUserSid":"S-1-5-21-3623811015-3361044348-30300820-1013","TargetUserName":")" +
      user + R"(","TargetDomainName":"EXAMPLE","TargetLogonId":"0x)" + std::to_string(n) +
      R"(","LogonType":"3","LogonProcessName":"Kerberos","AuthenticationPackageName":"Kerberos",)"
      R"("WorkstationName":"-","LogonGuid":"{6a0f1f5e-2c34-5b9e-8f3a-1c2d3e4f5a6b}",)"
      R"("TransmittedServices":"-","LmPackageName":"-","KeyLength":"0","ProcessId":"0x0",)"
      R"("ProcessName":"-","IpAddress":")" + ip + R"(","IpPort":"50123"}},)"
      R"("host":{"name":"DC1.example.test"},"agent":{"type":"winlogbeat","version":"8.13.2"}})";
  return "<14>1 2024-05-02T10:15:32.123Z DC1.example.test winlogbeat - - - " + json;
}

// Addresses of 10.0.0.0/16 in a scrambled order (distinct for n < 65536).
std::string scrambled_ip(uint64_t n) {
  const uint64_t k = (n * 2654435761u) & 0xffff;
  return "10.0." + std::to_string(k >> 8) + "." + std::to_string(k & 0xff);
}

std::string ip_of(uint64_t n) {
  return "10." + std::to_string((n >> 16) & 0xff) + "." + std::to_string((n >> 8) & 0xff) + "." +
         std::to_string(n & 0xff);
}

double load_average() {
  double load = 0;
  std::ifstream("/proc/loadavg") >> load;
  return load;
}

long rss_kib() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

std::string get(uint16_t port, const std::string& target) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  boost::system::error_code error;
  socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
  if (error) return "";
  http::request<http::empty_body> request(http::verb::get, target, 11);
  request.set(http::field::host, "127.0.0.1");
  http::write(socket, request, error);
  boost::beast::flat_buffer buffer;
  http::response<http::string_body> response;
  if (!error) http::read(socket, buffer, response, error);
  return error ? "" : response.body();
}

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * values.size()))];
}

// Logons of kUsers users from kPoolAddresses addresses of 10.0.0.0/16, made once: the
// generator's cost stays out of the numbers. Event n is user n % kUsers at address
// n % kPoolAddresses: sent round and round, 9 in 10 renew their user's mapping and 1 in 10
// (the last 4,000 of a round and the first 4,000 of the next) moves an address from one user to
// another (ip-delete and ip-add); the first round maps 36,000 new addresses.
constexpr int kPoolEvents = 4 * kUsers;
constexpr int kPoolAddresses = 36000;
const std::vector<std::string>& pool() {
  static const std::vector<std::string> events = [] {
    std::vector<std::string> list;
    for (int n = 0; n < kPoolEvents; ++n) {
      list.push_back(event("u" + std::to_string(n % kUsers), scrambled_ip(n % kPoolAddresses), n));
    }
    return list;
  }();
  return events;
}

struct Probe {
  int user = -1;
  std::string ip;
  Steady::time_point sent;
};

// Sends `rate` logons per second for kRun through `send`, one probe logon every 50 ms whose
// visibility in the API a second thread times. Returns the latencies in ms.
template <class Send>
std::vector<double> drive(int rate, uint64_t& counter, uint16_t api_port, Send send) {
  std::mutex mutex;
  std::vector<Probe> pending;
  std::vector<double> latencies;
  bool done = false;  // guarded by mutex
  // Probes become visible in the order sent (one queue, one writer): only the oldest pending
  // one is polled, so polling stays light however many wait.
  std::thread checker([&] {
    while (true) {
      Probe probe;
      {
        std::lock_guard lock(mutex);
        if (done) return;
        if (pending.empty()) {
          probe.user = -1;
        } else {
          probe = pending.front();
        }
      }
      if (probe.user >= 0) {
        const std::string body =
            get(api_port, "/api/uid/v1.0/user/ntlm-identity/EXAMPLE%5Cprobe" +
                              std::to_string(probe.user));
        if (body.find("\"" + probe.ip + "\"") != std::string::npos) {
          const double ms =
              std::chrono::duration<double, std::milli>(Steady::now() - probe.sent).count();
          std::lock_guard lock(mutex);
          latencies.push_back(ms);
          pending.erase(pending.begin());
          continue;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  const auto start = Steady::now();
  const auto end = start + kRun;
  auto next_probe = start;
  uint64_t sent = 0;
  int probe_user = 0;
  while (Steady::now() < end) {
    const auto elapsed = std::chrono::duration<double>(Steady::now() - start).count();
    const uint64_t due = static_cast<uint64_t>(elapsed * rate);
    for (; sent < due; ++sent) send(pool()[++counter % pool().size()]);
    if (Steady::now() >= next_probe) {
      const uint64_t n = ++counter;
      Probe probe{probe_user++ % kProbes, ip_of(n | 0x800000), Steady::now()};  // 10.128+
      {
        std::lock_guard lock(mutex);
        pending.push_back(probe);
      }
      send(event("probe" + std::to_string(probe.user), probe.ip, static_cast<int>(n)));
      next_probe += std::chrono::milliseconds(50);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  const auto give_up = Steady::now() + std::chrono::seconds(10);
  while (Steady::now() < give_up) {
    {
      std::lock_guard lock(mutex);
      if (pending.empty()) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  {
    std::lock_guard lock(mutex);
    done = true;
  }
  checker.join();
  return latencies;
}

// rsyslogd receiving the same octet-counted TCP stream into a file: lines per second.
double rsyslog_baseline(const std::string& dir, const std::vector<std::string>& lines) {
  std::filesystem::create_directories(dir + "/rsyslog");
  const std::string out = dir + "/rsyslog/received.log";
  std::filesystem::remove(out);
  const uint16_t port = 20514;
  std::ofstream(dir + "/rsyslog.conf")
      << "global(workDirectory=\"" << dir << "/rsyslog\" maxMessageSize=\"64k\")\n"
      << "module(load=\"imtcp\")\ninput(type=\"imtcp\" address=\"127.0.0.1\" port=\"" << port
      << "\")\naction(type=\"omfile\" file=\"" << out << "\" asyncWriting=\"on\")\n";
  const std::string conf = dir + "/rsyslog.conf", pid = dir + "/rsyslog/pid";
  std::vector<const char*> argv{"/usr/sbin/rsyslogd", "-n", "-f", conf.c_str(), "-i", pid.c_str(),
                                nullptr};
  pid_t child = 0;
  if (posix_spawn(&child, argv[0], nullptr, nullptr, const_cast<char**>(argv.data()), environ) !=
      0) {
    return 0;
  }
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  for (int i = 0; i < 100; ++i) {
    boost::system::error_code error;
    socket.connect({asio::ip::make_address("127.0.0.1"), port}, error);
    if (!error) break;
    socket = asio::ip::tcp::socket(io);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  std::string stream;
  for (const std::string& line : lines) stream += std::to_string(line.size()) + " " + line;
  const auto start = Steady::now();
  asio::write(socket, asio::buffer(stream));
  socket.close();
  size_t count = 0;
  while (Steady::now() - start < std::chrono::seconds(60)) {
    std::ifstream in(out);
    count = static_cast<size_t>(std::count(std::istreambuf_iterator<char>(in),
                                           std::istreambuf_iterator<char>(), '\n'));
    if (count >= lines.size()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  kill(child, SIGTERM);
  waitpid(child, nullptr, 0);
  return static_cast<double>(count) / seconds;
}

// Samples source `index` every 5 ms from construction to settle(): the rate of a row ends
// when its last logon was handled (mapped, unknown, ignored or dropped), whatever the row
// waited for afterwards (probes, the settle time).
class Watch {
 public:
  Watch(ipsource::IpSources& sources, size_t index)
      : sources_(sources), index_(index), last_(sources.status()[index]),
        last_handled_(Steady::now()), thread_([this] { run(); }) {}
  ~Watch() {
    stop_ = true;
    thread_.join();
  }

  // Waits until everything received is handled and nothing more comes in for 300 ms (60 s at
  // most); returns the source's status then and when its handled count last changed.
  ipsource::SourceStatus settle(Steady::time_point* last_handled) {
    const auto deadline = Steady::now() + std::chrono::seconds(60);
    while (Steady::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (handled(last_) >= last_.received &&
            Steady::now() - last_received_ > std::chrono::milliseconds(300)) {
          break;
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::lock_guard lock(mutex_);
    *last_handled = last_handled_;
    return last_;
  }

 private:
  static uint64_t handled(const ipsource::SourceStatus& s) {
    return s.mapped + s.unknown_user + s.ignored + s.dropped;
  }

  void run() {
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const ipsource::SourceStatus now = sources_.status()[index_];
      std::lock_guard lock(mutex_);
      if (handled(now) != handled(last_)) last_handled_ = Steady::now();
      if (now.received != last_.received) last_received_ = Steady::now();
      last_ = now;
    }
  }

  ipsource::IpSources& sources_;
  const size_t index_;
  std::mutex mutex_;
  ipsource::SourceStatus last_;       // guarded by mutex_
  Steady::time_point last_handled_;   // guarded by mutex_
  Steady::time_point last_received_;  // guarded by mutex_
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Sends `count` logons of the pool unpaced over one new TCP connection to `port` and waits
// until the source (status index 0) has handled them: mapped logons per second, *lines gets
// the lines sent (for the baseline).
double full_speed(ipsource::IpSources& sources, uint16_t port, int count, uint64_t& counter,
                  std::vector<std::string>* lines, uint64_t* dropped) {
  for (int i = 0; i < count; ++i) lines->push_back(pool()[++counter % pool().size()]);
  std::string stream_bytes;
  for (const std::string& line : *lines) stream_bytes += std::to_string(line.size()) + " " + line;
  const ipsource::SourceStatus before = sources.status()[0];
  asio::io_context io;
  asio::ip::tcp::socket stream(io);
  stream.connect({asio::ip::make_address("127.0.0.1"), port});
  const auto start = Steady::now();
  asio::write(stream, asio::buffer(stream_bytes));
  ipsource::SourceStatus after = before;
  while (Steady::now() - start < std::chrono::seconds(600)) {
    after = sources.status()[0];
    if (after.mapped + after.unknown_user + after.ignored + after.dropped - before.mapped -
            before.unknown_user - before.ignored - before.dropped >=
        lines->size()) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  *dropped = after.dropped - before.dropped;
  return static_cast<double>(after.mapped - before.mapped) / seconds;
}

// --stages (see the top of the file): returns the exit code.
int stages(changefeed::Store& store, int count, size_t batch) {
  ipsource::SourceOptions options;
  options.name = "stages";
  options.format = ipsource::Format::kWindowsSecurity;
  ipsource::SourceCounters counters;
  ipsource::UserResolver resolver(store, {{"example.test", "EXAMPLE"}});
  ipsource::Pipeline pipeline(options, int64_t{3600} * 1'000'000, resolver, counters);
  uint64_t counter = 0;
  for (auto [phase, n] : {std::pair{std::string("first"), kPoolEvents},
                          std::pair{std::string("steady"), count}}) {
    std::vector<std::string> lines;
    for (int i = 0; i < n; ++i) lines.push_back(pool()[++counter % pool().size()]);
    std::vector<changefeed::IpEvent> events;
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    for (const std::string& line : lines) pipeline.add(line, &events);
    CALLGRIND_DUMP_STATS_AT((phase + "-parse").c_str());
    CALLGRIND_STOP_INSTRUMENTATION;
    std::vector<std::vector<changefeed::IpEvent>> batches;
    for (size_t i = 0; i < events.size(); i += batch) {
      const auto from = events.begin() + static_cast<std::ptrdiff_t>(i);
      const size_t size = std::min(batch, events.size() - i);
      batches.emplace_back(from, from + static_cast<std::ptrdiff_t>(size));
    }
    const uint64_t mapped_before = counters.mapped;
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
    for (std::vector<changefeed::IpEvent>& one : batches) pipeline.write(store, &one);
    CALLGRIND_DUMP_STATS_AT((phase + "-store").c_str());
    CALLGRIND_STOP_INSTRUMENTATION;
    std::printf("%s: %d messages, %zu events in %zu store writes, mapped %llu\n", phase.c_str(),
                n, events.size(), batches.size(),
                static_cast<unsigned long long>(counters.mapped - mapped_before));
  }
  return counters.mapped == static_cast<uint64_t>(kPoolEvents + count) ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  // --count N: only N unpaced logons over TCP, no API and no baseline (for callgrind).
  int count_only = 0;
  int stage_count = 0;
  size_t stage_batch = 0;
  if (argc > 2 && std::string(argv[1]) == "--count") {
    count_only = std::stoi(argv[2]);
    argc -= 2;
    argv += 2;
  } else if (argc > 3 && std::string(argv[1]) == "--stages") {
    stage_count = std::stoi(argv[2]);
    stage_batch = std::stoul(argv[3]);
    argc -= 3;
    argv += 3;
  }
  const std::string dir = std::filesystem::absolute(argc > 1 ? argv[1] : "ipsource-bench");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  SystemClock clock;
  std::string error;
  auto store = changefeed::Store::open({dir + "/db"}, clock, &error);
  if (!store) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  {
    std::vector<pb::ObservedObject> page;
    auto add = [&](const std::string& name, const std::string& id) {
      pb::ObservedObject observed;
      pb::DirectoryObject& user = *observed.mutable_object();
      user.set_guid(id);
      user.set_kind(pb::USER);
      user.set_dn("CN=" + name + ",OU=Bench,DC=example,DC=test");
      user.set_sam_account_name(name);
      user.set_netbios_domain("EXAMPLE");
      page.push_back(observed);
    };
    for (int i = 0; i < kUsers; ++i) add("u" + std::to_string(i), guid(i, 'u'));
    for (int i = 0; i < kProbes; ++i) add("probe" + std::to_string(i), guid(i, 'p'));
    pb::Cursor cursor;
    cursor.set_domain("example.test");
    cursor.set_netbios_name("EXAMPLE");
    cursor.set_full_sync_done(true);
    if (!store->apply_page("example.test", page, cursor).is_ok()) return 1;
  }

  if (stage_count > 0 && stage_batch > 0) return stages(*store, stage_count, stage_batch);

  std::vector<ipsource::SourceOptions> options(2);
  options[0].name = "tcp";
  options[0].transport = ipsource::Transport::kTcp;
  options[1].name = "udp";
  options[1].transport = ipsource::Transport::kUdp;
  for (auto& o : options) {
    o.host = "127.0.0.1";
    o.format = ipsource::Format::kWindowsSecurity;
  }
  ipsource::IpSources sources(options, int64_t{3600} * 1'000'000, *store,
                              {{"example.test", "EXAMPLE"}});
  if (!sources.start()) return 1;
  auto port = [&](size_t i) {
    const std::string listen = sources.status()[i].listen;
    return static_cast<uint16_t>(std::stoi(listen.substr(listen.rfind(':') + 1)));
  };

  uint64_t counter = 0;
  if (count_only > 0) {
    for (auto [phase, count] : {std::pair{"first", kPoolEvents}, std::pair{"steady", count_only}}) {
      std::vector<std::string> lines;
      uint64_t dropped = 0;
      const uint64_t mapped_before = sources.status()[0].mapped;
      CALLGRIND_START_INSTRUMENTATION;
      CALLGRIND_ZERO_STATS;
      const double rate = full_speed(sources, port(0), count, counter, &lines, &dropped);
      CALLGRIND_DUMP_STATS_AT(phase);
      CALLGRIND_STOP_INSTRUMENTATION;
      std::printf("%s: %d logons over TCP, mapped %llu, dropped %llu, %.0f mapped/s\n", phase,
                  count,
                  static_cast<unsigned long long>(sources.status()[0].mapped - mapped_before),
                  static_cast<unsigned long long>(dropped), rate);
    }
    return 0;
  }

  rest::ApiContext context{.store = *store, .domains = {{"example.test", "DC=example,DC=test", "EXAMPLE"}}};
  rest::Router router = rest::make_router(context);
  asio::io_context api_io;
  rest::HttpServer server(api_io, rest::ServerOptions{},
                          [&](const rest::Request& request, const rest::ClientAddress& client) {
                            return router.handle(request, client);
                          });
  server.start();
  std::vector<std::thread> api_threads;
  for (int i = 0; i < 2; ++i) api_threads.emplace_back([&] { api_io.run(); });
  const uint16_t api_port = server.local_endpoint().port();

  std::printf("%-5s %8s %10s %12s %9s %9s %9s %9s %9s %6s\n", "proto", "rate/s", "sent",
              "mapped/s", "udp loss", "dropped", "p50 ms", "p99 ms", "RSS MiB", "load");
  pool();
  std::printf("(RSS of the bench before any logon, its event pool included: %.1f MiB)\n",
              rss_kib() / 1024.0);
  asio::io_context io;
  for (const char* proto : {"tcp", "udp"}) {
    const bool tcp = std::string(proto) == "tcp";
    const size_t index = tcp ? 0 : 1;
    asio::ip::tcp::socket stream(io);
    asio::ip::udp::socket datagrams(io, asio::ip::udp::v4());
    if (tcp) stream.connect({asio::ip::make_address("127.0.0.1"), port(0)});
    const asio::ip::udp::endpoint to(asio::ip::make_address("127.0.0.1"), port(1));
    std::string pending;
    auto send = [&](const std::string& line) {
      if (tcp) {
        pending += std::to_string(line.size()) + " " + line;
        if (pending.size() > 16 * 1024) {
          asio::write(stream, asio::buffer(pending));
          pending.clear();
        }
      } else {
        datagrams.send_to(asio::buffer(line), to);
      }
    };
    for (int rate : {5000, 10000, 20000, 40000, 80000}) {
      const ipsource::SourceStatus before = sources.status()[index];
      const auto start = Steady::now();
      Watch watch(sources, index);
      const uint64_t sent_before = counter;
      const double load = load_average();
      std::vector<double> latencies = drive(rate, counter, api_port, send);
      if (tcp && !pending.empty()) {
        asio::write(stream, asio::buffer(pending));
        pending.clear();
      }
      const uint64_t sent = counter - sent_before;
      Steady::time_point last_handled;
      const ipsource::SourceStatus after = watch.settle(&last_handled);
      const double seconds = std::chrono::duration<double>(last_handled - start).count();
      const double mapped = static_cast<double>(after.mapped - before.mapped) / seconds;
      const double loss =
          tcp ? 0 : 1.0 - static_cast<double>(after.received - before.received) / sent;
      const uint64_t dropped = after.dropped - before.dropped;
      std::printf("%-5s %8d %10llu %12.0f %8.2f%% %9llu %9.1f %9.1f %9.1f %6.1f\n", proto, rate,
                  static_cast<unsigned long long>(sent), mapped, loss * 100,
                  static_cast<unsigned long long>(dropped), percentile(latencies, 0.5),
                  percentile(latencies, 0.99), rss_kib() / 1024.0,
                  (load + load_average()) / 2);
      std::fflush(stdout);
    }
  }

  // Full speed over TCP: what dirfeed maps per second when the sender is not paced.
  {
    std::vector<std::string> lines;
    uint64_t dropped = 0;
    const double dirfeed_rate = full_speed(sources, port(0), kFullSpeed, counter, &lines, &dropped);
    const double rsyslog_rate = rsyslog_baseline(dir, lines);
    std::printf("\nfull speed, %d logons over one TCP connection (load average %.1f):\n",
                kFullSpeed, load_average());
    std::printf("  dirfeed mapped:      %10.0f /s (dropped %llu)\n", dirfeed_rate,
                static_cast<unsigned long long>(dropped));
    std::printf("  rsyslog to a file:   %10.0f /s\n", rsyslog_rate);
    std::printf("  ratio dirfeed/rsyslog: %.2f\n", rsyslog_rate > 0 ? dirfeed_rate / rsyslog_rate : 0);
    std::printf("  RSS: %.1f MiB\n", rss_kib() / 1024.0);
  }
  sources.stop();
  server.stop();
  api_io.stop();
  for (std::thread& t : api_threads) t.join();
  return 0;
}
