#pragma once
// The IP sources of the daemon: their listeners (syslog over UDP, TCP or TLS), a bounded queue
// and the writer that turns what they receive into IP mappings (ipsource/pipeline.hpp).
//
// Threads: listeners run on an io_context of their own (kReceiveThreads threads), the writer
// on one thread; neither ever waits for the pollers or the APIs, and they never wait for the
// writer: when the queue is full the oldest message goes (counted as dropped). A burst is
// written in batches of up to kBatchMessages messages, one store write per source and batch.
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "ipsource/options.hpp"
#include "ipsource/pipeline.hpp"

namespace dirfeed::ipsource {

// Limits (DESIGN.md: every limit named).
inline constexpr size_t kReceiveThreads = 2;
inline constexpr size_t kQueueMessages = 100'000;        // queued messages, all sources
inline constexpr size_t kQueueBytes = 64 * 1024 * 1024;  // their text, all sources
inline constexpr size_t kBatchMessages = 10'000;         // messages per writer round
inline constexpr size_t kMaxConnections = 1024;          // open TCP/TLS connections per source
inline constexpr int kUdpReceiveBuffer = 8 * 1024 * 1024;  // SO_RCVBUF asked for UDP sockets

// A snapshot of one source for metrics and status.
struct SourceStatus {
  std::string name;
  std::string listen;  // "tcp://127.0.0.1:6514", with the port actually bound
  uint64_t received = 0, parsed = 0, mapped = 0, unknown_user = 0, ignored = 0, dropped = 0;
};

class IpSources {
 public:
  // `default_lifetime_us`: api.ip_mapping_timeout, for sources without a timeout. Every
  // SourceOptions must have passed config validation (names unique, regexes checked).
  IpSources(std::vector<SourceOptions> sources, int64_t default_lifetime_us,
            changefeed::Store& store, std::vector<DomainName> domains);
  ~IpSources();  // stop()
  IpSources(const IpSources&) = delete;
  IpSources& operator=(const IpSources&) = delete;

  // Opens every listener and starts the threads. False (each failure logged) when a listener
  // cannot be opened (address in use, unreadable TLS files); then nothing runs.
  bool start();
  // Closes the listeners and connections, writes what is queued, joins the threads.
  void stop();

  std::vector<SourceStatus> status() const;

 private:
  class Listener;
  struct Message {
    size_t source;
    std::string text;
  };

  // Any receiving thread: queues one message of source `source` (drops the oldest when full).
  void push(size_t source, std::string_view text);
  void write_loop();

  changefeed::Store& store_;
  UserResolver resolver_;
  std::vector<std::unique_ptr<SourceCounters>> counters_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;  // the writer thread's
  struct Io;
  std::unique_ptr<Io> io_;  // before listeners_: their sockets close while it lives
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::thread> receive_threads_;
  std::thread writer_;

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Message> queue_;  // guarded by mutex_
  size_t queued_bytes_ = 0;    // guarded by mutex_
  bool stopping_ = false;      // guarded by mutex_
  bool started_ = false;
};

}  // namespace dirfeed::ipsource
