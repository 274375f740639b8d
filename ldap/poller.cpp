#include "ldap/poller.hpp"

#include <boost/log/trivial.hpp>

#include <sstream>

#include "ldap/pass.hpp"

namespace dirfeed::ldap {


DomainPoller::DomainPoller(DomainOptions options, PassSink& sink, const Clock& clock,
                           DirectoryOpener open)
    : options_(std::move(options)), sink_(sink), clock_(clock), open_(std::move(open)),
      health_(options_.controllers, options_.bind, clock) {}

PassResult DomainPoller::run_pass(const std::atomic<bool>& stop) {
  health_.refresh();  // a changed password file or keytab ends the backoffs of the DCs refusing it
  PassResult result;
  result.waiting = true;
  std::string last_error;
  for (const std::string& uri : options_.controllers) {
    if (stop.load()) {
      result = PassResult();
      result.stopped = true;
      return result;
    }
    Error error;
    bool tried = false;
    // The connection of the last pass is reused when it is to this DC. A reused connection
    // that fails may just have been closed while idle: one more try on a fresh one decides.
    // Every connect-and-bind holds the DC's claim, so the notifier does not bind at once;
    // an attempt of the notifier's under way is awaited (its outcome decides), not skipped.
    for (bool reused = connection_ && connection_->uri() == uri;; reused = false) {
      if (!health_.claim(uri, /*wait=*/true)) {
        if (tried) health_.failed(uri, error);  // the reused connection's failure
        break;
      }
      tried = true;
      result = PassResult();
      result.controller = uri;
      if (!reused) {
        connection_ = open_(uri, options_.tls, options_.bind, options_.sync.timeout, error,
                            health_.kerberos());
      }
      if (!connection_) {
        health_.failed(uri, error);
        health_.release(uri, false);
        break;
      }
      health_.release(uri, true);
      error = run_pass_on(options_, sink_, health_, *connection_, stop, result);
      if (!error) break;
      if (stop.load()) {  // whatever failed while stopping is not the DC's fault
        result.stopped = true;
        return result;
      }
      if (result.store_failed) {  // nor is the store's: the next pass tries this DC again
        health_.succeeded(uri);
        result.error = error.message;
        return result;
      }
      connection_.reset();
      if (!reused) {
        health_.failed(uri, error);
        break;
      }
      BOOST_LOG_TRIVIAL(info) << "domain " << options_.name << ": open connection to " << uri
                              << " failed (" << error.message << "); reconnecting";
    }
    if (!tried) continue;
    if (!error) {
      result.stopped = stop.load();
      result.ok = !result.stopped;
      health_.succeeded(uri);
      return result;
    }
    result.error = error.message;
    last_error = error.message;
    log_failure(uri);
  }
  if (result.waiting) {
    result = PassResult();
    result.waiting = true;
    std::string problems;
    for (const ControllerState& state : health_.snapshot()) {
      if (state.credential_problem.empty()) continue;
      problems += (problems.empty() ? " (" : "; ") + state.uri + ": " + state.credential_problem;
    }
    if (!problems.empty()) problems += ")";
    result.error = "every controller is backing off or being connected to" + problems +
                   "; next try in " +
                   std::to_string((health_.wait_time().count() + 999) / 1000) + " s";
  } else {
    result.error = last_error;
  }
  store_problems();
  return result;
}

void DomainPoller::store_problems() {
  std::optional<pb::Cursor> stored = sink_.load_cursor(options_.name);
  pb::Cursor cursor = stored.value_or(pb::Cursor());
  cursor.set_domain(options_.name);
  if (!set_problems(cursor, health_.snapshot())) return;
  // An empty page: only the cursor is written (the store logs a failure).
  (void)sink_.commit_page(options_.name, {}, cursor);
}

void DomainPoller::log_failure(const std::string& uri) const {
  for (const ControllerState& state : health_.snapshot()) {
    if (state.uri != uri) continue;
    int64_t retry_s = (state.retry_after_us - clock_.now_us() + 999'999) / 1'000'000;
    std::ostringstream line;
    line << "domain " << options_.name << ": DC " << uri << " failed (attempt " << state.failures
         << ", retry in " << retry_s << " s): ";
    if (!state.credential_problem.empty()) {
      line << state.credential_problem << " (not retried before the backoff ends or the "
           << secret_file_kind(options_.bind) << " changes): ";
    }
    line << state.last_error;
    BOOST_LOG_TRIVIAL(warning) << line.str();
  }
}

}  // namespace dirfeed::ldap
