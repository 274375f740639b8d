#pragma once
// The feed-consumer engine (DESIGN.md section 2): one named consumer of the feed with a durable
// cursor in the store, handing the entries after it, in feed order, to a sink (the NATS
// JetStream publisher), and advancing only over what the sink confirmed.
//
// Contract, per consumer:
// - Order and at-least-once: entries go to the sink in feed order, in batches of at most
//   max_batch consecutive entries after the cursor; the cursor (the FeedConsumerState record
//   named options.name; the webhook dispatcher keeps its own in WebhookState) moves to the
//   sink's Delivery::confirmed_through and nowhere else, so an entry not confirmed is handed
//   over again (after a failure, or after a restart).
// - Failures: an attempt that does not confirm the whole batch is logged (the first of a run
//   at warning, the rest at debug), stored in the state (last_error, failures) and retried,
//   from the first entry not confirmed, after retry_delay(failures) with jitter.
// - New entries: the store's commit signal wakes the consumer at once; options.idle_check is
//   only a safety net.
// - A new consumer (no state stored) starts at the oldest entry the feed still holds. Entries
//   the feed dropped (feed.retention) before the consumer confirmed them are skipped, counted
//   in `lost` and logged: never silently.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "dirfeed.pb.h"

namespace dirfeed::changefeed {

// What a sink confirmed of one batch.
struct Delivery {
  // Every entry of the batch with a sequence <= confirmed_through is done for good (the far
  // side confirmed it, or it meant nothing to this sink); below the batch's first sequence:
  // none is. Less than the whole batch without an error: the sink took what it takes at once
  // (a full webhook batch), the rest comes in the next attempt.
  uint64_t confirmed_through = 0;
  std::string error;     // empty: no failure; else why not all was confirmed
  size_t delivered = 0;  // what the far side took (messages, events); 0: no success to record
  bool aborted = false;  // abort() cut it short: the attempt records nothing
};

class FeedSink {
 public:
  virtual ~FeedSink() = default;
  // Called for each entry as an attempt reads it, before deliver(): false ends the read after
  // this entry (the sink has all it can send at once: a full webhook batch), so an attempt
  // reads no more than it uses. Default: read up to the attempt's max_batch.
  virtual bool accept(const pb::Change& entry) {
    (void)entry;
    return true;
  }
  // Delivers `entries` (not empty; consecutive feed entries in feed order, from the first
  // after the consumer's cursor; the ones accept() saw). One call at a time.
  virtual Delivery deliver(const std::vector<pb::Change>& entries) = 0;
  // Makes a deliver() in flight return soon (any thread; FeedConsumer::stop calls it).
  virtual void abort() {}
};

// The engine's one step, for FeedConsumer's thread and for schedulers of many consumers (the
// webhook dispatcher): reads at most `max_batch` entries after state.after_sequence(), skips
// (counts and logs) what was pruned before it, hands the rest to `sink` and updates `state`:
// the cursor to what the sink confirmed, last_success_us when it delivered something, or a
// failure (failures + 1, last_error, last_error_us; logged "<log_name>: <error>; retrying
// with backoff", later ones at debug). The caller stores `state` unless the outcome is
// kStopped, and retries a kFailed after retry_delay(state.failures()).
enum class Attempt {
  kCaughtUp,  // the read found nothing more after the cursor
  kMore,      // more may follow at once (a full read, a read the sink ended, a sink that
              // took part)
  kFailed,
  kStopped,   // the sink was aborted: nothing changed
};
struct AttemptResult {
  Attempt outcome = Attempt::kCaughtUp;
  size_t read = 0;         // entries read (0: the state is unchanged)
  size_t delivered = 0;    // Delivery::delivered
  uint64_t lost = 0;       // entries pruned before the consumer got to them
  double lag_seconds = 0;  // age of the oldest entry read and not confirmed; 0 when none
};
AttemptResult attempt_delivery(const StoreReads& store, const Clock& clock, FeedSink& sink,
                               const std::string& log_name, size_t max_batch,
                               pb::FeedConsumerState& state);

struct FeedConsumerOptions {
  std::string name;                                    // its state record's name, e.g. "nats"
  size_t max_batch = 1000;                             // entries per deliver()
  std::chrono::milliseconds retry_base{1000};          // first retry delay
  std::chrono::milliseconds retry_cap{5 * 60 * 1000};  // longest retry delay
  std::chrono::milliseconds idle_check{5000};          // a look at the feed without a signal
  std::function<double()> jitter;                      // in [0, 1); empty: a random generator
};

// Where a consumer stands, handed to on_progress after every attempt and every look at an
// empty feed (metrics).
struct FeedConsumerProgress {
  uint64_t after_sequence = 0;
  uint64_t backlog = 0;           // feed entries after the cursor
  double lag_seconds = 0;         // age of the oldest entry not confirmed; 0 when caught up
  uint64_t delivered = 0;         // Delivery::delivered, summed since start()
  uint64_t failed_attempts = 0;   // since start()
  uint64_t lost = 0;              // since start(): entries pruned before they were confirmed
  bool failing = false;           // the last attempt failed
};

class FeedConsumer {
 public:
  // `store`, `clock` and `sink` must outlive the consumer. `on_progress` (may be empty) runs on
  // the consumer's thread.
  FeedConsumer(Store& store, const Clock& clock, FeedSink& sink, FeedConsumerOptions options,
               std::function<void(const FeedConsumerProgress&)> on_progress = {});
  ~FeedConsumer();  // stop()
  FeedConsumer(const FeedConsumer&) = delete;
  FeedConsumer& operator=(const FeedConsumer&) = delete;

  void start();  // once: starts the consumer's thread
  void stop();   // idempotent; aborts a delivery in flight (what it confirmed is kept)

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dirfeed::changefeed
