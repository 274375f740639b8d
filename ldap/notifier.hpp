#pragma once
// Change notifications for one AD domain (DESIGN.md section 4): a long-running search with
// the change notification control on the domain naming context (subtree), whose entries only
// say "something changed", so that the daemon runs an incremental pass at once instead of
// waiting for the next interval. Never a data source: what changes while the notifier is not
// connected goes unnoticed here, so the interval passes must go on regardless.
//
// Threading: the constructor starts one thread that owns the notifier's own Directory and
// calls `on_change` on it; on_change must be quick (post the work elsewhere). stop() and
// prefer() may be called from any thread. Every blocking step of that thread (connect, TLS,
// bind, one wait for a message) takes at most kStepTimeout, which bounds how long the
// destructor waits for it.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.hpp"
#include "ldap/connection.hpp"
#include "ldap/controller_health.hpp"
#include "ldap/options.hpp"

namespace dirfeed::ldap {

class ChangeNotifier {
 public:
  static constexpr std::chrono::milliseconds kStepTimeout{1000};
  // Notifications that arrive within this window after the first one make one on_change().
  static constexpr std::chrono::milliseconds kDebounce{200};

  // Starts watching the domain (options.base_dn, else derived from options.name) on the
  // preferred controller (see prefer()), else on the first of options.controllers that
  // works, with options.tls and options.bind. Calls `on_change` kDebounce after the first
  // notification of a burst, and once after every reconnect (changes made in between were not
  // seen). On failure logs the domain, the DC URI and the cause, and retries after
  // network_backoff(). Connects only to DCs that `health` (the poller's, which must outlive
  // this) lets it claim, and records its bind failures there: a DC that refused the poller's
  // bind is not asked again by the notifier, and the other way round. When no DC may be tried,
  // checks again every kStepTimeout. `open` connects and binds to a DC (the real libldap
  // Connection unless a test gives another), on the notifier's thread. `clock` times the
  // debounce, the retry waits and the watch's health (it must outlive this).
  ChangeNotifier(DomainOptions options, ControllerHealth& health, std::function<void()> on_change,
                 DirectoryOpener open = open_ldap_directory,
                 const MonotonicClock& clock = steady_clock());
  // stop(), then waits for the thread (at most about kStepTimeout).
  ~ChangeNotifier();
  ChangeNotifier(const ChangeNotifier&) = delete;
  ChangeNotifier& operator=(const ChangeNotifier&) = delete;

  // Asks the thread to end and returns at once; on_change may still run until the destructor
  // returns. Stopping several notifiers first and destroying them after lets them end in
  // parallel.
  void stop();

  // The controller whose passes succeed. A notification is only useful from the DC the pass
  // reads (another DC learns of the change by replication, later), so when the notifier
  // watches a different DC it reconnects to this one within kStepTimeout.
  void prefer(const std::string& uri);

 private:
  void run();
  // A connection to the preferred, else the first working controller, with the notification
  // search started; nullptr when every one failed (each failure logged), none could be
  // claimed, or on stop. `tried`: some DC was connected to.
  std::unique_ptr<Directory> connect(bool& tried);
  // Reads notifications and calls on_change until stop(), a switch to the preferred
  // controller (both: no error), or a failure.
  Error watch(Directory& connection);
  bool stopping();
  // True when prefer() named another DC than `uri` since the last connect.
  bool switch_due(const std::string& uri);
  // Sleeps for `delay` or until stop().
  void wait(std::chrono::milliseconds delay);

  const DomainOptions options_;
  const std::string base_dn_;
  ControllerHealth& health_;
  const std::function<void()> on_change_;
  const DirectoryOpener open_;
  const MonotonicClock& clock_;
  std::mutex mutex_;  // guards the members below
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string preferred_;
  bool preferred_changed_ = false;
  std::thread thread_;  // last: starts once everything above is set up
};

}  // namespace dirfeed::ldap
