#pragma once
// The IP sources of the daemon: their listeners (syslog over UDP, TCP or TLS), which parse
// what they receive into IP events (ipsource/pipeline.hpp), a bounded queue of those events
// and the writer that stores them as IP mappings.
//
// Threads: listeners run on an io_context of their own (kReceiveThreads threads); each
// connection's (and each UDP socket's) messages are framed, parsed and resolved in order on
// whichever of them serves it, so a source's events keep their order per sender. The writer
// runs on one thread and only stores. Neither ever waits for the pollers or the APIs, and the
// receivers never wait for the writer: when the queue is full the oldest event goes (counted
// as dropped). A burst is written in batches of up to kBatchEvents events, one store write per
// source and batch.
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "changefeed/store.hpp"
#include "ipsource/event_queue.hpp"
#include "ipsource/options.hpp"
#include "ipsource/pipeline.hpp"

namespace dirfeed::ipsource {

// Limits (DESIGN.md: every limit named).
inline constexpr size_t kReceiveThreads = 2;
inline constexpr size_t kQueueEvents = 100'000;  // queued events, all sources (~15 MiB)
inline constexpr size_t kBatchEvents = 2'000;    // events per writer round
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

  void write_loop();

  changefeed::Store& store_;
  UserResolver resolver_;
  std::vector<std::unique_ptr<SourceCounters>> counters_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;  // add(): receivers; write(): writer
  struct Io;
  std::unique_ptr<Io> io_;  // before listeners_: their sockets close while it lives
  std::vector<std::unique_ptr<Listener>> listeners_;
  std::vector<std::thread> receive_threads_;
  std::thread writer_;
  EventQueue queue_;
  bool started_ = false;
};

}  // namespace dirfeed::ipsource
