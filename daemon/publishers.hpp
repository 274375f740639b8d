#pragma once
// The feed's sinks beyond this machine (the config's publish section), each one
// changefeed::FeedConsumer with its sink: today publish.nats (consumer "nats", a
// publish::JetStreamSink whose messages carry rest::feed_entry_json). Their progress goes to
// /metrics, by consumer (label consumer=<name>):
//   dirfeed_feed_consumer_delivered_total, dirfeed_feed_consumer_failed_attempts_total,
//   dirfeed_feed_consumer_lost_total (entries pruned before they were delivered),
//   dirfeed_feed_consumer_backlog, dirfeed_feed_consumer_lag_seconds,
//   dirfeed_feed_consumer_failing (1 while the last attempt failed).
#include <memory>
#include <vector>

#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "daemon/config.hpp"
#include "rest/metrics.hpp"

namespace dirfeed::daemon {

class Publishers {
 public:
  // `store`, `clock` and `metrics` must outlive it. Nothing starts before start().
  Publishers(const Config& config, changefeed::Store& store, const Clock& clock,
             rest::Metrics& metrics);
  ~Publishers();  // stop()

  void start();
  void stop();  // idempotent; what was confirmed is kept, the rest goes again after a restart

 private:
  struct Publisher;
  std::vector<std::unique_ptr<Publisher>> publishers_;
};

}  // namespace dirfeed::daemon
