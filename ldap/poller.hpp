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

#include "core/clock.hpp"
#include "ldap/connection.hpp"
#include "ldap/controller_health.hpp"
#include "ldap/options.hpp"
#include "ldap/sink.hpp"

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
  size_t unconfirmed = 0;    // objects the store keeps unconfirmed after the pass (issue 16)
  bool waiting = false;      // no DC was tried: every one is backing off (or being bound)
  // The store refused a write (PassSink returned false): the DC did its part, so it is
  // neither failed over nor backed off; nothing of the pass is lost (the cursor did not move).
  bool store_failed = false;
};

class DomainPoller {
 public:
  // `open` connects and binds to a DC (the real libldap Connection unless a test gives
  // another); the poller calls it from run_pass() only.
  DomainPoller(DomainOptions options, PassSink& sink, const Clock& clock,
               DirectoryOpener open = open_ldap_directory);

  // Runs one pass on the first controller that is not backing off, failing over in order. A
  // DC in backoff is not tried (health()); when every one is, nothing is tried and the result
  // is `waiting`. Logs each DC failure with its URI, a refused bind in words. A store failure
  // ends the pass at once (`store_failed`), with no DC blamed.
  PassResult run_pass(const std::atomic<bool>& stop);

  const DomainOptions& options() const { return options_; }
  std::vector<ControllerState> controllers() const { return health_.snapshot(); }
  // The domain's controllers as the poller sees them; share it with the domain's notifier.
  ControllerHealth& health() { return health_; }

 private:
  // After a failed pass: writes the DCs' credential problems into the stored cursor, when
  // they changed (for `dirfeed status`).
  void store_problems();
  // Logs the failure of `uri` just recorded in health_, with its backoff.
  void log_failure(const std::string& uri) const;

  DomainOptions options_;
  PassSink& sink_;
  const Clock& clock_;
  const DirectoryOpener open_;
  ControllerHealth health_;
  std::unique_ptr<Directory> connection_;  // kept between passes; dropped on any error
};

}  // namespace dirfeed::ldap
