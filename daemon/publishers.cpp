#include "daemon/publishers.hpp"

#include <mutex>
#include <string>
#include <utility>

#include "changefeed/feed_consumer.hpp"
#include "publish/jetstream.hpp"
#include "rest/change_resource.hpp"

namespace dirfeed::daemon {
namespace {

using namespace std::chrono_literals;

// The longest wait between two attempts of a publisher whose server is down.
constexpr std::chrono::milliseconds kRetryCap = 30s;

void describe_metrics(rest::Metrics& metrics) {
  using Type = rest::Metrics::Type;
  metrics.describe("dirfeed_feed_consumer_delivered_total", Type::kCounter,
                   "Feed entries the consumer's sink confirmed (a NATS PubAck).");
  metrics.describe("dirfeed_feed_consumer_failed_attempts_total", Type::kCounter,
                   "Deliveries that did not confirm their whole batch (retried with backoff).");
  metrics.describe("dirfeed_feed_consumer_lost_total", Type::kCounter,
                   "Feed entries pruned (feed.retention) before the consumer delivered them.");
  metrics.describe("dirfeed_feed_consumer_backlog", Type::kGauge,
                   "Feed entries after the consumer's cursor.");
  metrics.describe("dirfeed_feed_consumer_lag_seconds", Type::kGauge,
                   "Age of the oldest entry the consumer has not delivered (0: caught up).");
  metrics.describe("dirfeed_feed_consumer_failing", Type::kGauge,
                   "1 while the consumer's last attempt failed.");
}

}  // namespace

struct Publishers::Publisher {
  Publisher(std::string name, std::unique_ptr<changefeed::FeedSink> sink_in,
            changefeed::Store& store, const Clock& clock, rest::Metrics& metrics)
      : consumer_name(name),
        sink(std::move(sink_in)),
        consumer(store, clock, *sink, options(std::move(name)),
                 [this, &metrics](const changefeed::FeedConsumerProgress& progress) {
                   publish_metrics(metrics, progress);
                 }) {}

  static changefeed::FeedConsumerOptions options(std::string name) {
    changefeed::FeedConsumerOptions options;
    options.name = std::move(name);
    // A sink's server is back within seconds of a restart: its backlog should not wait
    // minutes for the next try.
    options.retry_cap = kRetryCap;
    return options;
  }

  // The consumer's thread.
  void publish_metrics(rest::Metrics& metrics, const changefeed::FeedConsumerProgress& progress) {
    const rest::Metrics::Labels labels{{"consumer", consumer_name}};
    metrics.add("dirfeed_feed_consumer_delivered_total", labels,
                static_cast<double>(progress.delivered - last.delivered));
    metrics.add("dirfeed_feed_consumer_failed_attempts_total", labels,
                static_cast<double>(progress.failed_attempts - last.failed_attempts));
    metrics.add("dirfeed_feed_consumer_lost_total", labels,
                static_cast<double>(progress.lost - last.lost));
    metrics.set("dirfeed_feed_consumer_backlog", labels, static_cast<double>(progress.backlog));
    metrics.set("dirfeed_feed_consumer_lag_seconds", labels, progress.lag_seconds);
    metrics.set("dirfeed_feed_consumer_failing", labels, progress.failing ? 1 : 0);
    last = progress;
  }

  const std::string consumer_name;
  std::unique_ptr<changefeed::FeedSink> sink;
  changefeed::FeedConsumerProgress last;  // the consumer's thread
  changefeed::FeedConsumer consumer;
};

Publishers::Publishers(const Config& config, changefeed::Store& store, const Clock& clock,
                       rest::Metrics& metrics) {
  if (!config.publish.nats) return;
  describe_metrics(metrics);
  auto sink = std::make_unique<publish::JetStreamSink>(
      *config.publish.nats, store.store_id(),
      [domains = api_domains(config)](const pb::Change& change) {
        return rest::feed_entry_json(change, domains);
      });
  publishers_.push_back(
      std::make_unique<Publisher>("nats", std::move(sink), store, clock, metrics));
}

Publishers::~Publishers() { stop(); }

void Publishers::start() {
  for (auto& publisher : publishers_) publisher->consumer.start();
}

void Publishers::stop() {
  for (auto& publisher : publishers_) publisher->consumer.stop();
}

}  // namespace dirfeed::daemon
