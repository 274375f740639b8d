#include "daemon/run.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/log/trivial.hpp>
#include <systemd/sd-daemon.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <thread>
#include <utility>

#include "daemon/publishers.hpp"
#include "daemon/store_sink.hpp"
#include "ipsource/sources.hpp"
#include "ldap/notifier.hpp"
#include "ldap/poller.hpp"
#include "rest/api.hpp"
#include "rest/http_server.hpp"
#include "rest/stored_shapes.hpp"
#include "rest/webhooks.hpp"

namespace dirfeed::daemon {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

rest::DispatcherOptions dispatcher_options(const Config& config, rest::WebhookProxy proxy) {
  rest::DispatcherOptions options;
  options.client.targets = rest::WebhookTargetPolicy(config.api.webhook_allowed_networks);
  options.client.proxy = std::move(proxy);
  options.metrics_detail = config.api.metrics_detail;
  options.max_logged_events = config.api.max_webhook_events;
  return options;
}

std::vector<ipsource::DomainName> source_domains(const Config& config) {
  std::vector<ipsource::DomainName> domains;
  for (const auto& domain : config.domains) domains.push_back({domain.name, domain.netbios_name});
  return domains;
}

// One monitored domain: its sink and poller, the timer that starts its next pass, and its
// change notifier (when sync.notifications is on). Each domain has a sink of its own, so the
// changes a pass counts are its own domain's even while other domains' passes commit. All
// members but the sink, the poller and the notifier are touched only on the io_context
// thread; the poller runs on the pass pool, the notifier on its own thread.
struct DomainSlot {
  DomainSlot(asio::io_context& io, ldap::DomainOptions options, changefeed::Store& store,
             const Config& config, const Clock& clock)
      : sink(store, config.log.level <= LogLevel::kDebug, DeleteAllowance(config.state_dir)),
        poller(std::move(options), sink, clock),
        timer(io),
        secret_timer(io) {}

  StoreSink sink;
  ldap::DomainPoller poller;
  asio::steady_timer timer;
  asio::steady_timer secret_timer;  // while a DC refuses the bind: watches password file/keytab
  bool running = false;
  bool failing = false;     // the last pass failed: its retry delay stands, notifications wait
  bool pass_again = false;  // a notification came during the running pass: run another after it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> busy;
  std::unique_ptr<ldap::ChangeNotifier> notifier;
  std::map<std::string, int> failures_seen;  // per DC URI, after the last pass (metrics)
};

// Schedules passes: one Asio io_context drives the timers and signals; blocking LDAP passes
// run on a small thread pool (one thread per domain), each domain never twice at once. In
// kForever mode a change notification starts a pass at once (or right after the running one),
// and the REST APIs are served by threads of their own (see api_io_).
class Scheduler {
 public:
  // `proxy`: what webhooks go through (webhook_proxy()).
  Scheduler(const Config& config, RunMode mode, changefeed::Store& store, const Clock& clock,
            rest::WebhookProxy proxy)
      : mode_(mode),
        store_(store),
        clock_(clock),
        retention_(config.feed.retention),
        event_retention_(config.api.webhook_event_retention),
        pool_(std::max<size_t>(1, config.domains.size())),
        signals_(io_, SIGINT, SIGTERM),
        prune_timer_(io_),
        api_options_(config.api),
        credentials_(
            config.api.users_file, config.api.keys_file, std::chrono::seconds(1), steady_clock(),
            [](const std::string& problem) { BOOST_LOG_TRIVIAL(warning) << "api: " << problem; }),
        api_context_{
            .store = store,
            .domains = api_domains(config),
            .credentials = &credentials_,
            .anonymous_read = config.api.anonymous_read,
            .api_writes = &store,
            .sync_writes = &store,
            .ip_mapping_timeout_us =
                std::chrono::duration_cast<std::chrono::microseconds>(config.api.ip_mapping_timeout)
                    .count(),
            .metrics = &metrics_,
            .webhook_targets = rest::WebhookTargetPolicy(config.api.webhook_allowed_networks),
            .max_directories = config.api.max_directories,
            .scheme = config.api.tls ? "https" : "http"},
        api_router_(rest::make_router(api_context_)),
        webhooks_(store, clock, &metrics_, dispatcher_options(config, std::move(proxy))),
        publishers_(config, store, clock, metrics_) {
    describe_pass_metrics(metrics_);
    describe_ip_source_metrics(metrics_);
    if (mode == RunMode::kForever && !config.ip_sources.empty()) {
      ip_sources_ = std::make_unique<ipsource::IpSources>(
          config.ip_sources,
          std::chrono::duration_cast<std::chrono::microseconds>(config.api.ip_mapping_timeout)
              .count(),
          store, source_domains(config));
    }
    for (const auto& domain : config.domains) {
      slots_.push_back(std::make_unique<DomainSlot>(io_, domain, store, config, clock));
    }
  }

  // Runs until SIGINT/SIGTERM (kOnce: until every domain ran one pass); a running pass stops
  // after its current page. Returns false when a kOnce pass failed or the API cannot listen.
  bool run() {
    if (mode_ == RunMode::kForever && !start_api()) return false;
    if (ip_sources_ && !ip_sources_->start()) {
      stop_api();
      return false;
    }
    started_us_ = clock_.now_us();
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (error) return;
      BOOST_LOG_TRIVIAL(info) << "signal " << signal << ": stopping after the current page";
      sd_notify(0, "STOPPING=1");
      stop_ = true;
      prune_timer_.cancel();
      expiry_timer_.cancel();
      if (ip_sources_) {
        ip_sources_->stop();
        publish_ip_source_metrics();
      }
      if (api_server_) api_server_->stop();
      for (auto& slot : slots_) {
        slot->timer.cancel();
        slot->secret_timer.cancel();
        if (slot->notifier) slot->notifier->stop();
      }
    });
    remaining_once_ = slots_.size();
    if (mode_ == RunMode::kForever) {
      webhooks_.start();
      publishers_.start();
      start_notifiers();
      prune_feed();
      expire_ip_mappings();
    }
    for (auto& slot : slots_) start_pass(*slot);
    sd_notify(0, "READY=1");  // for Type=notify; a no-op outside systemd
    io_.run();
    // Deliveries in flight are abandoned: their cursors stay, so they are sent again after a
    // restart (at least once).
    webhooks_.stop();
    publishers_.stop();
    // The signal handler stopped the API server; its threads end once the connections it
    // closed are gone.
    api_work_.reset();
    for (std::thread& thread : api_threads_) thread.join();
    // Every notifier was told to stop by the signal handler; this waits for their threads.
    for (auto& slot : slots_) slot->notifier.reset();
    pool_.join();
    return mode_ == RunMode::kForever || !failed_;
  }

 private:
  // Listens on api.listen and serves the APIs. False (logged) when it cannot.
  bool start_api() {
    rest::ServerOptions options;
    options.host = api_options_.listen_host;
    options.port = api_options_.listen_port;
    if (api_options_.tls) {
      options.tls = rest::TlsFiles{api_options_.tls->cert_file, api_options_.tls->key_file};
    }
    options.on_rejected = [this](unsigned status) { api_router_.count_rejected(status); };
    try {
      api_server_ = std::make_unique<rest::HttpServer>(
          api_io_, options,
          [this](const rest::Request& request, const rest::ClientAddress& client) {
            return api_router_.handle(request, client);
          },
          [this](const rest::Request& header, const rest::ClientAddress& client) {
            return api_router_.screen(header, client);
          });
    } catch (const boost::system::system_error& e) {
      BOOST_LOG_TRIVIAL(error) << "api: cannot listen on " << options.host << " port "
                               << options.port << ": " << e.code().message();
      return false;
    } catch (const rest::TlsSetupError& e) {
      // Never falls back to plain HTTP when the admin asked for TLS.
      BOOST_LOG_TRIVIAL(error) << "api: " << e.what();
      return false;
    }
    api_server_->start();
    for (size_t i = 0; i < kApiThreads; ++i) api_threads_.emplace_back([this] { api_io_.run(); });
    BOOST_LOG_TRIVIAL(info) << "api: listening on " << (options.tls ? "https://" : "http://")
                            << api_server_->local_endpoint();
    return true;
  }

  // Stops a started API before run() gives up.
  void stop_api() {
    api_server_->stop();
    api_work_.reset();
    for (std::thread& thread : api_threads_) thread.join();
  }

  void start_notifiers() {
    for (auto& slot : slots_) {
      const auto& options = slot->poller.options();
      if (!options.sync.notifications) continue;
      DomainSlot* target = slot.get();
      slot->notifier = std::make_unique<ldap::ChangeNotifier>(
          options, slot->poller.health(),
          [this, target] { asio::post(io_, [this, target] { on_notification(*target); }); });
    }
  }

  // Something changed in the domain: pass now, or right after the running pass.
  void on_notification(DomainSlot& slot) {
    if (stop_ || slot.failing) return;
    BOOST_LOG_TRIVIAL(debug) << "domain " << slot.poller.options().name
                             << ": change notification, "
                             << (slot.running ? "pass again after the running one" : "pass now");
    if (slot.running) {
      slot.pass_again = true;
      return;
    }
    slot.timer.cancel();
    start_pass(slot);
  }

  void start_pass(DomainSlot& slot) {
    if (stop_ || slot.running) return;
    slot.running = true;
    slot.busy.emplace(io_.get_executor());
    asio::post(pool_, [this, &slot] {
      const MonotonicClock::TimePoint started = steady_clock().now();
      ldap::PassResult result = slot.poller.run_pass(stop_);
      const auto elapsed = std::chrono::duration_cast<milliseconds>(steady_clock().now() - started);
      asio::post(io_, [this, &slot, result, elapsed] { finish_pass(slot, result, elapsed); });
    });
  }

  void finish_pass(DomainSlot& slot, const ldap::PassResult& result, milliseconds elapsed) {
    slot.running = false;
    slot.failing = !result.ok && !result.stopped;
    bool pass_again = std::exchange(slot.pass_again, false);
    const auto& options = slot.poller.options();
    uint64_t changes = slot.sink.take_change_count();
    record_pass(slot, result, elapsed, changes);
    milliseconds delay = options.sync.interval;
    if (result.ok) {
      BOOST_LOG_TRIVIAL(info) << "domain " << options.name << ": "
                              << (result.full_sync ? "full sync" : "pass") << " done on "
                              << result.controller << " in " << elapsed.count() << " ms: "
                              << result.objects << " objects read, " << changes << " changes"
                              << (result.unconfirmed > 0
                                      ? ", " + std::to_string(result.unconfirmed) +
                                            " objects unconfirmed (dirfeed deletes show)"
                                      : std::string())
                              << (result.held_back > 0
                                      ? ", held: " + std::to_string(result.held_back) +
                                            " deletes, nothing committed (dirfeed deletes show)"
                                      : std::string());
      if (slot.notifier) slot.notifier->prefer(result.controller);
    } else if (result.store_failed) {
      // The store logged why; the DC is fine, so the domain tries again at its interval.
      BOOST_LOG_TRIVIAL(error) << "domain " << options.name << ": pass on " << result.controller
                               << " abandoned: " << result.error << "; nothing of it is lost, "
                               << "next try in " << (delay.count() + 999) / 1000 << " s";
    } else if (!result.stopped) {
      delay = retry_delay(slot);  // when every DC backs off, the domain waits for the earliest
      BOOST_LOG_TRIVIAL(error) << "domain " << options.name
                               << (result.waiting ? ": no controller tried (" + result.error + ")"
                                                  : ": pass failed on every controller")
                               << "; next try in " << (delay.count() + 999) / 1000 << " s";
    }
    if (slot.poller.health().any_credential_problem() && mode_ == RunMode::kForever) {
      watch_secret(slot);
    }
    slot.busy.reset();
    if (!result.ok && !result.stopped) failed_ = true;
    if (mode_ == RunMode::kOnce && --remaining_once_ == 0) {
      signals_.cancel();
      return;
    }
    if (stop_ || mode_ == RunMode::kOnce) return;
    if (pass_again && !slot.failing) {
      start_pass(slot);
      return;
    }
    slot.timer.expires_after(delay);
    slot.timer.async_wait([this, &slot](const boost::system::error_code& error) {
      if (!error) start_pass(slot);
    });
  }

  // While a DC refuses the bind: checks the password file (or keytab) every kSecretCheck and
  // passes at once when it changed (ControllerHealth::refresh ends the credential backoffs).
  static constexpr milliseconds kSecretCheck{1000};
  void watch_secret(DomainSlot& slot) {
    slot.secret_timer.expires_after(kSecretCheck);
    slot.secret_timer.async_wait([this, &slot](const boost::system::error_code& error) {
      if (error || stop_) return;
      ldap::ControllerHealth& health = slot.poller.health();
      // The notifier may have seen the change (or bound) first: then no problem is left.
      if (health.refresh() || !health.any_credential_problem()) {
        BOOST_LOG_TRIVIAL(info) << "domain " << slot.poller.options().name << ": "
                                << ldap::secret_file_kind(slot.poller.options().bind)
                                << " changed; trying again now";
        if (!slot.running) {
          slot.timer.cancel();
          start_pass(slot);
        }
        return;
      }
      watch_secret(slot);
    });
  }

  // The metrics of a finished pass (a stopped one counts as neither ok nor failed).
  void record_pass(DomainSlot& slot, const ldap::PassResult& result, milliseconds elapsed,
                   uint64_t changes) {
    const std::string& domain = slot.poller.options().name;
    const double seconds = static_cast<double>(elapsed.count()) / 1000.0;
    metrics_.add("dirfeed_changes_total", {{"domain", domain}}, static_cast<double>(changes));
    metrics_.add("dirfeed_pass_objects_total", {{"domain", domain}},
                 static_cast<double>(result.objects));
    // Failures per DC: within one pass each DC's count grows by one (it failed) or drops to 0
    // (it served), so the growth since the last pass is what failed in this one.
    for (const ldap::ControllerState& state : slot.poller.controllers()) {
      if (state.credential_problem.empty()) {
        metrics_.remove("dirfeed_dc_bind_refused", {{"domain", domain}, {"dc", state.uri}});
      } else {
        metrics_.set("dirfeed_dc_bind_refused", {{"domain", domain}, {"dc", state.uri}}, 1);
      }
      int& seen = slot.failures_seen[state.uri];
      if (state.failures > seen) {
        metrics_.add("dirfeed_dc_errors_total", {{"domain", domain}, {"dc", state.uri}},
                     state.failures - seen);
      } else if (state.failures < seen && state.failures > 0) {
        metrics_.add("dirfeed_dc_errors_total", {{"domain", domain}, {"dc", state.uri}},
                     state.failures);
      }
      seen = state.failures;
    }
    if (result.stopped && !result.ok) return;
    metrics_.add("dirfeed_passes_total", {{"domain", domain}, {"result", result.ok ? "ok" : "error"}});
    metrics_.observe("dirfeed_pass_duration_seconds", {{"domain", domain}}, seconds);
    metrics_.set("dirfeed_last_pass_duration_seconds", {{"domain", domain}}, seconds);
    metrics_.remove("dirfeed_current_dc", {{"domain", domain}});
    if (result.ok) {
      metrics_.set("dirfeed_current_dc", {{"domain", domain}, {"dc", result.controller}}, 1);
      if (result.full_sync) metrics_.add("dirfeed_full_syncs_total", {{"domain", domain}});
      metrics_.set("dirfeed_unconfirmed_objects", {{"domain", domain}},
                   static_cast<double>(result.unconfirmed));
      metrics_.set("dirfeed_deletes_held", {{"domain", domain}},
                   static_cast<double>(result.held_back));
    }
  }

  static void describe_pass_metrics(rest::Metrics& metrics) {
    using Type = rest::Metrics::Type;
    metrics.describe("dirfeed_unconfirmed_objects", Type::kGauge,
                     "Objects a resync did not find on a DC that was behind the store: "
                     "neither deleted nor confirmed (dirfeed deletes show).");
    metrics.describe("dirfeed_deletes_held", Type::kGauge,
                     "Deletes of the domain's last pass held back by the delete guard "
                     "(sync.max_deletes): nothing of that pass was committed.");
    metrics.describe("dirfeed_passes_total", Type::kCounter,
                     "Sync passes finished, by domain and result (ok, or error: every DC failed).");
    metrics.describe("dirfeed_pass_duration_seconds", Type::kSummary,
                     "Time taken by finished sync passes.");
    metrics.describe("dirfeed_last_pass_duration_seconds", Type::kGauge,
                     "Time taken by the domain's last finished sync pass.");
    metrics.describe("dirfeed_pass_objects_total", Type::kCounter,
                     "Directory entries read by sync passes.");
    metrics.describe("dirfeed_changes_total", Type::kCounter,
                     "Changes written to the feed by sync passes.");
    metrics.describe("dirfeed_full_syncs_total", Type::kCounter,
                     "Successful sync passes that were full syncs.");
    metrics.describe("dirfeed_dc_errors_total", Type::kCounter,
                     "Failed attempts to sync from a domain controller.");
    metrics.describe("dirfeed_dc_bind_refused", Type::kGauge,
                     "1 for a controller that refused the service account's bind (wrong "
                     "password or key, locked or expired account): not retried for at least 5 "
                     "minutes or until the password file or keytab changes.");
    metrics.describe("dirfeed_current_dc", Type::kGauge,
                     "1 for the controller that served the domain's last pass (none after a "
                     "failed pass).");
  }

  // Drops feed entries older than feed.retention, and logged webhook events older than
  // api.webhook_event_retention, now and every hour.
  void prune_feed() {
    uint64_t dropped = 0;
    int64_t before_us = clock_.now_us() -
        std::chrono::duration_cast<std::chrono::microseconds>(retention_).count();
    Status status = store_.prune_feed(before_us, &dropped);
    if (!status.is_ok()) {
      BOOST_LOG_TRIVIAL(error) << "feed retention: " << status.message();
    } else if (dropped > 0) {
      BOOST_LOG_TRIVIAL(info) << "feed retention: dropped " << dropped
                              << " changes older than " << retention_.count() << " s";
    }
    size_t events = 0;
    status = store_.prune_webhook_events(
        clock_.now_us() -
            std::chrono::duration_cast<std::chrono::microseconds>(event_retention_).count(),
        &events);
    if (!status.is_ok()) {
      BOOST_LOG_TRIVIAL(error) << "webhook event log retention: " << status.message();
    } else if (events > 0) {
      BOOST_LOG_TRIVIAL(info) << "webhook event log retention: dropped " << events
                              << " events older than " << event_retention_.count() << " s";
    }
    prune_timer_.expires_after(std::chrono::hours(1));
    prune_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error && !stop_) prune_feed();
    });
  }

  // The IP sources' counters as metrics (totals since start: counters set, not added) and
  // in the store for `dirfeed status`.
  void publish_ip_source_metrics() {
    if (!ip_sources_) return;
    for (const ipsource::SourceStatus& source : ip_sources_->status()) {
      pb::IpSourceState state;
      state.set_name(source.name);
      state.set_listen(source.listen);
      state.set_received(source.received);
      state.set_parsed(source.parsed);
      state.set_mapped(source.mapped);
      state.set_unknown_user(source.unknown_user);
      state.set_ignored(source.ignored);
      state.set_dropped(source.dropped);
      state.set_started_us(started_us_);
      state.set_updated_us(clock_.now_us());
      Status stored = store_.put_ip_source_state(state);
      if (!stored.is_ok()) BOOST_LOG_TRIVIAL(warning) << stored.message();
      for (auto [what, value] : {std::pair{"received", source.received},
                                 std::pair{"parsed", source.parsed},
                                 std::pair{"mapped", source.mapped},
                                 std::pair{"unknown_user", source.unknown_user},
                                 std::pair{"ignored", source.ignored},
                                 std::pair{"dropped", source.dropped}}) {
        metrics_.set(std::string("dirfeed_ip_source_") + what + "_total",
                     {{"source", source.name}}, static_cast<double>(value));
      }
    }
  }

  static void describe_ip_source_metrics(rest::Metrics& metrics) {
    using Type = rest::Metrics::Type;
    for (auto [what, help] : {
             std::pair{"received", "Syslog messages an IP source received."},
             std::pair{"parsed", "Received messages that were a logon or logoff event."},
             std::pair{"mapped", "Logon and logoff events written as IP mappings."},
             std::pair{"unknown_user", "Events naming no user of the store (never created)."},
             std::pair{"ignored", "Events left out by ignore_users or the networks."},
             std::pair{"dropped", "Messages lost: too long, sender not allowed, queue full, "
                                  "store write failed."}}) {
      metrics.describe(std::string("dirfeed_ip_source_") + what + "_total", Type::kCounter,
                       help);
    }
  }

  // Removes expired IP mappings (ip-delete entries) now and every 5 seconds, and publishes the
  // IP sources' metrics as often.
  void expire_ip_mappings() {
    publish_ip_source_metrics();
    size_t expired = 0;
    Status status = store_.expire_ip_mappings(clock_.now_us(), 10000, &expired);
    if (!status.is_ok()) {
      BOOST_LOG_TRIVIAL(error) << "ip mapping expiry: " << status.message();
    } else if (expired > 0) {
      BOOST_LOG_TRIVIAL(debug) << "ip mapping expiry: " << expired << " mappings expired";
    }
    expiry_timer_.expires_after(std::chrono::seconds(5));
    expiry_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error && !stop_) expire_ip_mappings();
    });
  }

  // After a pass failed everywhere: retry when the soonest controller's backoff ends (or
  // after kSecretCheck when one is ready but was being bound by the notifier).
  static milliseconds retry_delay(DomainSlot& slot) {
    return std::max(slot.poller.health().wait_time(), kSecretCheck);
  }

  RunMode mode_;
  changefeed::Store& store_;
  const Clock& clock_;
  std::chrono::seconds retention_;
  std::chrono::seconds event_retention_;
  size_t remaining_once_ = 0;  // kOnce: domains whose pass has not finished
  bool failed_ = false;
  asio::io_context io_;
  asio::thread_pool pool_;
  asio::signal_set signals_;
  asio::steady_timer prune_timer_;
  asio::steady_timer expiry_timer_{io_};
  ApiOptions api_options_;
  rest::CredentialStore credentials_;  // users and keys files, reloaded when they change
  rest::Metrics metrics_;  // served by /metrics; pass metrics written on the io_context thread
  rest::ApiContext api_context_;
  rest::Router api_router_;
  // Directory Sync API webhooks (kForever only): threads of their own, like the APIs.
  rest::WebhookDispatcher webhooks_;
  Publishers publishers_;
  // The APIs run on their own io_context and threads, so a slow request (a long list, a
  // PBKDF2 check) never delays a pass or a timer, and requests are served in parallel.
  static constexpr size_t kApiThreads = 4;
  asio::io_context api_io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> api_work_{
      api_io_.get_executor()};
  std::vector<std::thread> api_threads_;
  std::unique_ptr<rest::HttpServer> api_server_;  // kForever only
  // Logon-event receivers (kForever with ip_sources): threads of their own.
  std::unique_ptr<ipsource::IpSources> ip_sources_;
  int64_t started_us_ = 0;  // when run() started the sources
  std::vector<std::unique_ptr<DomainSlot>> slots_;
  std::atomic<bool> stop_{false};
};

// The proxy webhooks go through: api.webhook_proxy, else the environment's (the service's
// Environment= lines).
Result<rest::WebhookProxy> webhook_proxy(const Config& config) {
  if (config.api.webhook_proxy) return *config.api.webhook_proxy;
  Result<rest::WebhookProxy> proxy = rest::WebhookProxy::from_environment(
      [](const char* name) -> const char* { return std::getenv(name); });
  if (proxy.is_ok()) return proxy;
  return Status::error("webhooks: the environment's " + proxy.status().message(),
                       StatusCode::kInvalid);
}

}  // namespace

int run_daemon(const Config& config, RunMode mode) {
  // libldap writes with write(2): on a connection the DC has closed (a DC restart, an idle
  // timeout) that must fail with EPIPE and be handled, not kill the daemon with SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);
  SystemClock clock;
  Result<rest::WebhookProxy> proxy = webhook_proxy(config);
  if (!proxy.is_ok()) {
    BOOST_LOG_TRIVIAL(error) << proxy.status().message();
    return 1;
  }
  if (const std::string proxies = proxy->describe(); proxies != "none") {
    BOOST_LOG_TRIVIAL(info) << "webhooks: through the proxy " << proxies;
  }
  std::string error;
  // The records the APIs' big lists copy (rest/stored_shapes.hpp), over the API's domains.
  const rest::StoredShapes shapes(api_domains(config));
  // Creates state_dir and its feed owner-only when they are missing.
  auto store = changefeed::Store::open({.path = config.state_dir + "/feed", .renderer = &shapes},
                                       clock, &error);
  if (!store) {
    BOOST_LOG_TRIVIAL(error) << error;
    return 1;
  }
  BOOST_LOG_TRIVIAL(info) << "dirfeed started: " << config.domains.size()
                          << " domain(s), state in " << config.state_dir;
  for (const std::string& warning : config_warnings(config)) {
    BOOST_LOG_TRIVIAL(warning) << warning;
  }
  Scheduler scheduler(config, mode, *store, clock, std::move(*proxy));
  bool ok = scheduler.run();
  BOOST_LOG_TRIVIAL(info) << "dirfeed stopped";
  return ok ? 0 : 1;
}

}  // namespace dirfeed::daemon
