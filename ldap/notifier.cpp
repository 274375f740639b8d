#include "ldap/notifier.hpp"

#include <boost/log/trivial.hpp>

#include <algorithm>
#include <vector>

namespace dirfeed::ldap {
namespace {

using std::chrono::milliseconds;

// A watch that lasted this long was healthy: when it ends, the backoff starts afresh.
constexpr auto kHealthyWatch = std::chrono::minutes(1);

}  // namespace

ChangeNotifier::ChangeNotifier(DomainOptions options, ControllerHealth& health,
                               std::function<void()> on_change, DirectoryOpener open,
                               const MonotonicClock& clock)
    : options_(std::move(options)),
      base_dn_(options_.base_dn.empty() ? base_dn_from_domain(options_.name) : options_.base_dn),
      health_(health),
      on_change_(std::move(on_change)),
      open_(std::move(open)),
      clock_(clock),
      thread_([this] { run(); }) {}

ChangeNotifier::~ChangeNotifier() {
  stop();
  thread_.join();
}

void ChangeNotifier::stop() {
  std::lock_guard lock(mutex_);
  stopping_ = true;
  wake_.notify_all();
}

void ChangeNotifier::prefer(const std::string& uri) {
  std::lock_guard lock(mutex_);
  if (uri == preferred_) return;
  preferred_ = uri;
  preferred_changed_ = true;
}

bool ChangeNotifier::stopping() {
  std::lock_guard lock(mutex_);
  return stopping_;
}

bool ChangeNotifier::switch_due(const std::string& uri) {
  std::lock_guard lock(mutex_);
  if (!preferred_changed_) return false;
  preferred_changed_ = false;
  return preferred_ != uri;
}

void ChangeNotifier::wait(milliseconds delay) {
  std::unique_lock lock(mutex_);
  clock_.wait_for(lock, wake_, delay, [this] { return stopping_; });
}

void ChangeNotifier::run() {
  int failures = 0;
  bool watched_before = false;
  bool waiting = false;  // no DC could be claimed last time (logged once)
  while (!stopping()) {
    bool tried = false;
    if (auto connection = connect(tried)) {
      waiting = false;
      if (watched_before) on_change_();
      watched_before = true;
      const MonotonicClock::TimePoint started = clock_.now();
      Error error = watch(*connection);
      if (!error) continue;
      if (clock_.now() - started >= kHealthyWatch) failures = 0;
      ++failures;
      BOOST_LOG_TRIVIAL(warning) << "domain " << options_.name << ": change notifications from DC "
                                 << connection->uri() << " stopped (retry in "
                                 << network_backoff(failures).count() / 1000
                                 << " s): " << error.message;
    } else {
      if (stopping()) return;
      if (!tried) {
        // Every DC backs off (or the poller is binding to it): nothing was sent. Look again
        // soon; a changed password file or keytab ends a credential backoff at once.
        if (!waiting) {
          BOOST_LOG_TRIVIAL(info) << "domain " << options_.name
                                  << ": change notifications wait: every controller is backing "
                                  << "off";
        }
        waiting = true;
        health_.refresh();
        wait(kStepTimeout);
        continue;
      }
      ++failures;
      BOOST_LOG_TRIVIAL(warning) << "domain " << options_.name
                                 << ": change notifications unavailable on every controller; "
                                 << "retry in " << network_backoff(failures).count() / 1000
                                 << " s";
    }
    wait(network_backoff(failures));
  }
}

std::unique_ptr<Directory> ChangeNotifier::connect(bool& tried) {
  tried = false;
  std::vector<std::string> order;
  {
    std::lock_guard lock(mutex_);
    preferred_changed_ = false;
    if (!preferred_.empty()) order.push_back(preferred_);
  }
  for (const auto& uri : options_.controllers) {
    if (std::find(order.begin(), order.end(), uri) == order.end()) order.push_back(uri);
  }
  const milliseconds timeout = std::min<milliseconds>(options_.sync.timeout, kStepTimeout);
  for (const auto& uri : order) {
    if (stopping()) return nullptr;
    if (!health_.claim(uri)) continue;
    tried = true;
    Error error;
    auto connection =
        open_(uri, options_.tls, options_.bind, timeout, error, health_.kerberos());
    if (connection) {
      health_.release(uri, true);
      error = connection->start_notification(base_dn_, Scope::kSubtree);
    } else {
      // A refused bind is the DC's answer for the poller too: it does not bind there either
      // until the backoff ends. A network failure is the notifier's own (its step timeout is
      // shorter than the poller's).
      if (!credential_problem(error, bind_account(options_.bind)).empty()) {
        health_.failed(uri, error);
      }
      health_.release(uri, false);
    }
    if (!error) {
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name
                              << ": watching for change notifications on DC " << uri;
      return connection;
    }
    std::string problem = credential_problem(error, bind_account(options_.bind));
    BOOST_LOG_TRIVIAL(warning) << "domain " << options_.name << ": change notifications: DC "
                               << uri << " failed: "
                               << (problem.empty() ? "" : problem + " (the poller waits too): ")
                               << error.message;
  }
  return nullptr;
}

Error ChangeNotifier::watch(Directory& connection) {
  bool pending = false;  // a notification came; on_change() is due at `due`
  MonotonicClock::TimePoint due;
  while (!stopping() && !switch_due(connection.uri())) {
    milliseconds timeout = kStepTimeout;
    if (pending) {
      auto left = std::chrono::duration_cast<milliseconds>(due - clock_.now());
      timeout = std::clamp(left, milliseconds(0), kStepTimeout);
    }
    bool changed = false;
    if (Error error = connection.next_notification(timeout, changed)) return error;
    if (changed && !pending) {
      pending = true;
      due = clock_.now() + kDebounce;
    }
    if (pending && clock_.now() >= due) {
      pending = false;
      on_change_();
    }
  }
  return {};
}

}  // namespace dirfeed::ldap
