#include "changefeed/feed_consumer.hpp"

#include <boost/log/trivial.hpp>

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <random>
#include <stop_token>
#include <thread>
#include <utility>

#include "core/backoff.hpp"

namespace dirfeed::changefeed {

using std::chrono::milliseconds;

namespace {

// Entries between the cursor and `first_sequence` were pruned before they were confirmed.
uint64_t skip_lost(const std::string& log_name, pb::FeedConsumerState& state,
                   uint64_t first_sequence) {
  if (first_sequence <= state.after_sequence() + 1) return 0;
  const uint64_t lost = first_sequence - state.after_sequence() - 1;
  BOOST_LOG_TRIVIAL(error) << log_name << ": " << lost << " entries (sequence "
                           << state.after_sequence() + 1 << " to " << first_sequence - 1
                           << ") left the feed (feed.retention) before they were delivered";
  state.set_lost(state.lost() + lost);
  state.set_after_sequence(first_sequence - 1);
  return lost;
}

void record_failure(const std::string& log_name, const Clock& clock, const std::string& error,
                    pb::FeedConsumerState& state) {
  if (state.failures() == 0) {
    BOOST_LOG_TRIVIAL(warning) << log_name << ": " << error << "; retrying with backoff";
  } else {
    BOOST_LOG_TRIVIAL(debug) << log_name << ": attempt " << state.failures() + 1
                             << " failed: " << error;
  }
  state.set_failures(state.failures() + 1);
  state.set_last_error(error);
  state.set_last_error_us(clock.now_us());
}

}  // namespace

AttemptResult attempt_delivery(const StoreReads& store, const Clock& clock, FeedSink& sink,
                               const std::string& log_name, size_t max_batch,
                               pb::FeedConsumerState& state) {
  AttemptResult result;
  std::vector<pb::Change> entries;
  FeedQuery query;
  query.limit = std::max<size_t>(1, max_batch);
  bool sink_full = false;
  store.changes_after_sequence(state.after_sequence(), query, [&](const pb::Change& entry) {
    entries.push_back(entry);
    sink_full = !sink.accept(entry);
    return !sink_full;
  });
  result.read = entries.size();
  if (entries.empty()) return result;
  const pb::FeedConsumerState before = state;
  result.lost = skip_lost(log_name, state, entries.front().sequence());
  const Delivery delivery = sink.deliver(entries);
  if (delivery.aborted) {
    state = before;
    result.outcome = Attempt::kStopped;
    return result;
  }
  result.delivered = delivery.delivered;
  const uint64_t through = std::min(delivery.confirmed_through, entries.back().sequence());
  if (through > state.after_sequence()) state.set_after_sequence(through);
  if (delivery.delivered > 0) state.set_last_success_us(clock.now_us());
  for (const pb::Change& entry : entries) {
    if (entry.sequence() <= state.after_sequence()) continue;
    result.lag_seconds =
        std::max<double>(0, static_cast<double>(clock.now_us() - entry.timestamp_us()) / 1e6);
    break;
  }
  if (!delivery.error.empty()) {
    record_failure(log_name, clock, delivery.error, state);
    result.outcome = Attempt::kFailed;
    return result;
  }
  if (state.failures() > 0) {
    BOOST_LOG_TRIVIAL(info) << log_name << ": delivered again after " << state.failures()
                            << " failed attempts";
  }
  state.set_failures(0);
  result.outcome = state.after_sequence() < entries.back().sequence() || sink_full ||
                           entries.size() >= max_batch
                       ? Attempt::kMore
                       : Attempt::kCaughtUp;
  return result;
}

class FeedConsumer::Impl {
 public:
  Impl(Store& store, const Clock& clock, FeedSink& sink, FeedConsumerOptions options,
       std::function<void(const FeedConsumerProgress&)> on_progress)
      : store_(store),
        clock_(clock),
        sink_(sink),
        options_(std::move(options)),
        on_progress_(std::move(on_progress)) {
    options_.max_batch = std::max<size_t>(1, options_.max_batch);
    if (!options_.jitter) {
      options_.jitter = [engine = std::make_shared<std::mt19937_64>(std::random_device{}())] {
        return std::uniform_real_distribution<double>(0, 1)(*engine);
      };
    }
  }

  ~Impl() { stop(); }

  void start() {
    listener_ = store_.add_commit_listener([this] {
      std::lock_guard lock(mutex_);
      signalled_ = true;
      wake_.notify_all();
    });
    thread_ = std::jthread([this](std::stop_token stop) { run(stop); });
  }

  void stop() {
    if (!thread_.joinable()) return;
    thread_.request_stop();
    sink_.abort();
    {
      std::lock_guard lock(mutex_);
      wake_.notify_all();
    }
    thread_.join();
    store_.remove_commit_listener(listener_);
  }

 private:
  void run(std::stop_token stop) {
    pb::FeedConsumerState state = initial_state();
    const std::string log_name = "feed consumer " + options_.name;
    while (!stop.stop_requested()) {
      {
        std::lock_guard lock(mutex_);
        signalled_ = false;  // a commit after the read below wakes the wait
      }
      const AttemptResult result =
          attempt_delivery(store_, clock_, sink_, log_name, options_.max_batch, state);
      if (result.outcome == Attempt::kStopped) break;
      if (result.read > 0) store_state(state);
      delivered_ += result.delivered;
      lost_ += result.lost;
      if (result.outcome == Attempt::kFailed) ++failed_attempts_;
      report(state, result.lag_seconds);
      if (result.outcome == Attempt::kCaughtUp) {
        wait(stop, options_.idle_check, /*on_signal=*/true);
      } else if (result.outcome == Attempt::kFailed) {
        wait(stop,
             retry_delay(state.failures(), options_.retry_base, options_.retry_cap,
                         options_.jitter()),
             /*on_signal=*/false);
      }
    }
  }

  pb::FeedConsumerState initial_state() {
    if (std::optional<pb::FeedConsumerState> stored = store_.consumer_state(options_.name)) {
      return *stored;
    }
    pb::FeedConsumerState state;
    state.set_name(options_.name);
    const FeedBounds bounds = store_.view()->feed_bounds();
    // From the oldest entry held: what was pruned before this consumer existed is not lost.
    const uint64_t first = bounds.oldest_sequence != 0 ? bounds.oldest_sequence
                                                       : bounds.newest_sequence + 1;
    state.set_after_sequence(first - 1);
    return state;
  }

  void store_state(const pb::FeedConsumerState& state) {
    // When this fails, the confirmed entries are delivered again after a restart (at least
    // once; the far side drops them by their message id).
    if (Status status = store_.put_consumer_state(state); !status.is_ok()) {
      BOOST_LOG_TRIVIAL(error) << "feed consumer " << options_.name << ": " << status.message();
    }
  }

  void report(const pb::FeedConsumerState& state, double lag_seconds) {
    if (!on_progress_) return;
    FeedConsumerProgress progress;
    progress.after_sequence = state.after_sequence();
    const uint64_t last = store_.last_sequence();
    progress.backlog = last > state.after_sequence() ? last - state.after_sequence() : 0;
    progress.lag_seconds = progress.backlog > 0 ? lag_seconds : 0;
    progress.delivered = delivered_;
    progress.failed_attempts = failed_attempts_;
    progress.lost = lost_;
    progress.failing = state.failures() > 0;
    on_progress_(progress);
  }

  // Until `timeout` passed or stop; with on_signal, also until a commit signal.
  void wait(std::stop_token& stop, milliseconds timeout, bool on_signal) {
    std::unique_lock lock(mutex_);
    wake_.wait_for(lock, stop, timeout, [&] { return on_signal && signalled_; });
  }

  Store& store_;
  const Clock& clock_;
  FeedSink& sink_;
  FeedConsumerOptions options_;
  std::function<void(const FeedConsumerProgress&)> on_progress_;
  uint64_t listener_ = 0;
  std::mutex mutex_;
  std::condition_variable_any wake_;
  bool signalled_ = false;  // mutex_: a commit since the last read of the feed
  // The consumer thread's own counters since start().
  uint64_t delivered_ = 0;
  uint64_t failed_attempts_ = 0;
  uint64_t lost_ = 0;
  std::jthread thread_;
};

FeedConsumer::FeedConsumer(Store& store, const Clock& clock, FeedSink& sink,
                           FeedConsumerOptions options,
                           std::function<void(const FeedConsumerProgress&)> on_progress)
    : impl_(std::make_unique<Impl>(store, clock, sink, std::move(options),
                                   std::move(on_progress))) {}

FeedConsumer::~FeedConsumer() = default;

void FeedConsumer::start() { impl_->start(); }

void FeedConsumer::stop() { impl_->stop(); }

}  // namespace dirfeed::changefeed
