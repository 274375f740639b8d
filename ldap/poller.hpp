#pragma once
// Polls one AD domain: one pass reads what changed since the stored cursor (or everything,
// when a full sync is due) and hands it to a PassSink page by page.
//
// Threading: one DomainPoller per domain; run_pass() blocks and must not run concurrently
// with itself. `stop` is checked between pages: a stopped pass commits nothing partial.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ldap/connection.hpp"
#include "ldap/options.hpp"
#include "ldap/sink.hpp"
#include "proto/clock.hpp"

namespace dirfeed::ldap {

struct PassResult {
  bool ok = false;           // committed to the end (or nothing to do)
  bool stopped = false;      // `stop` was raised; the pass ended early
  bool full_sync = false;    // this pass was a full sync
  std::string controller;    // the DC that served it (ok) or the last one tried
  std::string error;         // why it failed on the last DC tried
  size_t objects = 0;        // entries read
  size_t pages = 0;          // pages committed
  size_t held_back = 0;      // deletes held back by max_deletes
};

// Per-DC health: failures back off exponentially so a dead DC is not hammered while the next
// one in the list serves.
struct ControllerState {
  std::string uri;
  int failures = 0;
  int64_t retry_after_us = 0;  // do not try before this time (Clock::now_us)
  std::string last_error;
};

class DomainPoller {
 public:
  DomainPoller(DomainOptions options, PassSink& sink, const Clock& clock);

  // Runs one pass on the first controller that is not backing off (or, when all are, the one
  // whose backoff ends first), failing over in order. Logs each DC failure with its URI.
  PassResult run_pass(const std::atomic<bool>& stop);

  const DomainOptions& options() const { return options_; }
  const std::vector<ControllerState>& controllers() const { return controllers_; }

  // Backoff after the n-th consecutive failure of a DC: 5 s doubling, capped at 5 min.
  static std::chrono::milliseconds backoff(int failures);

 private:
  PassResult run_on(Connection& connection, const std::atomic<bool>& stop);

  DomainOptions options_;
  PassSink& sink_;
  const Clock& clock_;
  std::vector<ControllerState> controllers_;
  std::unique_ptr<Connection> connection_;  // kept between passes; dropped on any error
};

}  // namespace dirfeed::ldap
