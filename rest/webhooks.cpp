#include "rest/webhooks.hpp"

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/log/trivial.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <utility>
#include <vector>

#include "core/backoff.hpp"
#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/credentials.hpp"
#include "rest/dsync_model.hpp"
#include "rest/json.hpp"

namespace dirfeed::rest {
namespace {

using std::chrono::milliseconds;

// How far before a membership entry the feed is searched for the last state of a deleted
// object (its DELETE entry and the membership entries it caused are written together).
constexpr uint64_t kLookAround = 10'000;  // entries searched either side for a last state
// Deleted objects' states an EventBuilder keeps at most (then it starts over).
constexpr size_t kRememberedStates = 10'000;
// A delivery job sends batches for one directory for at most this long, then lets the others
// have the thread.
constexpr milliseconds kJobSlice{1000};

const char* event_name(pb::ObjectKind kind, pb::ChangeType type) {
  switch (kind) {
    case pb::USER:
      return type == pb::ADD      ? "user.created"
             : type == pb::MODIFY ? "user.updated"
             : type == pb::DELETE ? "user.deleted"
                                  : nullptr;
    case pb::GROUP:
      return type == pb::ADD      ? "group.created"
             : type == pb::MODIFY ? "group.updated"
             : type == pb::DELETE ? "group.deleted"
                                  : nullptr;
    case pb::MEMBERSHIP:
      return type == pb::ADD      ? "group.user_added"
             : type == pb::DELETE ? "group.user_removed"
                                  : nullptr;
    default:
      return nullptr;
  }
}

// {"event", "tenant", "product", "directory_id", "data"} with `data` (JSON) as given.
std::string payload(std::string_view event, const pb::Directory& directory,
                    std::string_view data) {
  std::string out = "{\"event\":";
  append_json_string(out, event);
  out += ",\"tenant\":";
  append_json_string(out, directory.tenant());
  out += ",\"product\":";
  append_json_string(out, directory.product());
  out += ",\"directory_id\":";
  append_json_string(out, directory.id());
  out += ",\"data\":";
  out += data;
  out += '}';
  return out;
}

// `user` as it is while in `group`: member_of (sorted bytewise) with the group in it.
pb::DirectoryObject as_member(pb::DirectoryObject user, const std::string& group) {
  auto* member_of = user.mutable_member_of();
  auto position = std::lower_bound(member_of->begin(), member_of->end(), group);
  if (position == member_of->end() || *position != group) {
    const auto index = position - member_of->begin();
    member_of->Add(std::string(group));
    std::rotate(member_of->begin() + index, member_of->end() - 1, member_of->end());
  }
  return user;
}

}  // namespace

std::optional<std::string> EventBuilder::event(const pb::Directory& directory,
                                               const pb::Change& change) {
  const char* name = event_name(change.kind(), change.type());
  if (name == nullptr) return std::nullopt;
  std::string data;
  JsonWriter json(data);
  if (change.kind() != pb::MEMBERSHIP) {
    if (change.type() == pb::DELETE) remember(change.object());
    if (!in_directory(directory, change.object())) return std::nullopt;
    if (change.kind() == pb::USER) {
      write_dsync_user(json, change.object(), "");
    } else {
      write_dsync_group(json, change.object(), "", nullptr);
    }
    return payload(name, directory, data);
  }

  const std::string& group_guid = change.membership().group_guid();
  std::optional<pb::DirectoryObject> user = object(change.membership().user_guid(),
                                                   change.sequence());
  if (!user || !in_directory(directory, as_member(*user, group_guid))) return std::nullopt;
  std::optional<pb::DirectoryObject> group = object(group_guid, change.sequence());
  if (!group) return std::nullopt;
  // The user's object with one more member, "group": write_dsync_user closes its object, so
  // the group goes in before that last '}'.
  write_dsync_user(json, *user, "");
  data.pop_back();
  data += ",\"group\":";
  JsonWriter group_json(data);
  write_dsync_group(group_json, *group, "", nullptr);
  data += '}';
  return payload(name, directory, data);
}

std::optional<pb::DirectoryObject> EventBuilder::object(const std::string& guid,
                                                        uint64_t sequence) {
  if (std::optional<pb::DirectoryObject> live = store_.object_by_guid(guid)) return live;
  if (auto it = last_states_.find(guid); it != last_states_.end()) return it->second;
  // The newest entry of it up to `sequence`, else the first after (kLookAround either way).
  std::optional<pb::DirectoryObject> found;
  const uint64_t from = sequence > kLookAround ? sequence - kLookAround : 0;
  store_.changes_after_sequence(from, {}, [&](const pb::Change& entry) {
    if (entry.sequence() > sequence && (found || entry.sequence() > sequence + kLookAround)) {
      return false;
    }
    if (entry.kind() != pb::USER && entry.kind() != pb::GROUP) return true;
    if (entry.object().guid() != guid) return true;
    found = entry.object();
    return entry.sequence() <= sequence;
  });
  if (found) remember(*found);
  return found;
}

void EventBuilder::remember(const pb::DirectoryObject& object) {
  if (last_states_.size() >= kRememberedStates) last_states_.clear();
  last_states_[object.guid()] = object;
}

std::string webhook_signature(std::string_view secret, std::string_view body,
                              int64_t timestamp_ms) {
  const std::string t = std::to_string(timestamp_ms);
  std::string message;
  message.reserve(t.size() + 1 + body.size());
  message.append(t).append(".").append(body);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), digest, &length);
  return "t=" + t + ",s=" + to_hex({reinterpret_cast<const char*>(digest), length});
}

// ---- the dispatcher ---------------------------------------------------------------------

class WebhookDispatcher::Impl {
 public:
  Impl(changefeed::Store& store, const Clock& clock, Metrics* metrics, DispatcherOptions options,
       const MonotonicClock& monotonic)
      : store_(store),
        clock_(clock),
        monotonic_(monotonic),
        metrics_(metrics),
        options_(std::move(options)),
        client_context_(std::make_shared<const ClientContext>(options_.client)),
        pool_(std::max<size_t>(1, options_.threads)) {
    if (!options_.jitter) {
      options_.jitter = [random = std::make_shared<Random>()] { return random->next(); };
    }
    if (metrics_ != nullptr) {
      describe_metrics(*metrics_, options_.metrics_detail);
      metrics_->set("dirfeed_webhook_directories_failing", {}, 0);
      if (!options_.metrics_detail) metrics_->set("dirfeed_webhook_backlog", {}, 0);
    }
  }

  ~Impl() { stop(); }

  void start() {
    // New feed entries are looked at when committed, not at the next poll.
    commit_listener_ = store_.add_commit_listener([this] {
      std::lock_guard lock(mutex_);
      woken_ = true;
      wake_.notify_all();
    });
    scheduler_ = std::jthread([this] { schedule(); });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
      stopping_ = true;
      for (auto& [id, consumer] : consumers_) consumer->client.abort();
      wake_.notify_all();
    }
    if (scheduler_.joinable()) {
      scheduler_.join();
      store_.remove_commit_listener(commit_listener_);
    }
    pool_.join();
  }

 private:
  struct Random {
    double next() {
      std::lock_guard lock(mutex);
      return std::uniform_real_distribution<double>(0, 1)(engine);
    }
    std::mutex mutex;
    std::mt19937_64 engine{std::random_device{}()};
  };

  // One directory's delivery. `client` and `events` are used only by the job running for it
  // (one at a time: `busy`); the rest is guarded by mutex_.
  struct Consumer {
    Consumer(const std::string& id, std::shared_ptr<const ClientContext> context,
             const changefeed::Store& store)
        : id(id), client(std::move(context)), events(store) {}
    const std::string id;
    WebhookClient client;
    EventBuilder events;
    bool busy = false;
    bool removed = false;  // the directory is gone
    MonotonicClock::TimePoint next_attempt{};
    uint64_t backlog = 0;  // feed entries after the cursor, when last looked at
    bool failing = false;  // the last attempt failed
  };

  enum class Outcome { kCaughtUp, kMore, kFailed, kStopped };

  static void describe_metrics(Metrics& metrics, bool detail) {
    using Type = Metrics::Type;
    const std::string by = detail ? ", by directory" : "";
    metrics.describe("dirfeed_webhook_events_delivered_total", Type::kCounter,
                     "Webhook events delivered (answered 2xx)" + by + ".");
    metrics.describe("dirfeed_webhook_failed_attempts_total", Type::kCounter,
                     "Webhook deliveries that failed (refused address, connection, TLS, timeout "
                     "or non-2xx)" + by + ".");
    metrics.describe("dirfeed_webhook_backlog", Type::kGauge,
                     "Feed entries after the webhook cursors" + by +
                         ": an upper bound of the events waiting (not every entry is an event "
                         "for a directory).");
    metrics.describe("dirfeed_webhook_directories_failing", Type::kGauge,
                     "Directories whose last webhook attempt failed.");
    if (detail) {
      metrics.describe("dirfeed_webhook_last_success_timestamp_seconds", Type::kGauge,
                       "When the directory's receiver last answered 2xx (Unix time).");
    }
  }

  // The labels of a directory's series: none unless options.metrics_detail.
  Metrics::Labels labels(const std::string& id) const {
    return options_.metrics_detail ? Metrics::Labels{{"directory", id}} : Metrics::Labels{};
  }

  // mutex_ held. Record a live consumer's backlog and whether it is failing, in the totals
  // and the gauges (its backlog series with metrics_detail).
  void set_backlog(Consumer& consumer, uint64_t backlog) {
    if (consumer.removed) return;
    total_backlog_ = total_backlog_ - consumer.backlog + backlog;
    consumer.backlog = backlog;
    if (metrics_ == nullptr) return;
    metrics_->set("dirfeed_webhook_backlog", labels(consumer.id),
                  static_cast<double>(options_.metrics_detail ? backlog : total_backlog_));
  }
  void set_failing(Consumer& consumer, bool failing) {
    if (consumer.removed || consumer.failing == failing) return;
    consumer.failing = failing;
    if (failing) {
      ++failing_directories_;
    } else {
      --failing_directories_;
    }
    if (metrics_ == nullptr) return;
    metrics_->set("dirfeed_webhook_directories_failing", {},
                  static_cast<double>(failing_directories_));
  }

  // The scheduler thread: every poll (or when a job finishes) starts a job for each directory
  // that has entries to read, is not busy, and is not waiting out a retry delay.
  void schedule() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      std::vector<pb::Directory> directories;
      store_.directories([&](const pb::Directory& directory) {
        directories.push_back(directory);
        return true;
      });
      const uint64_t last = store_.last_sequence();
      lock.lock();
      if (stopping_) break;
      round(directories, last);
      monotonic_.wait_for(lock, wake_, options_.poll, [this] { return woken_ || stopping_; });
      woken_ = false;
    }
  }

  // mutex_ held.
  void round(const std::vector<pb::Directory>& directories, uint64_t last_sequence) {
    std::map<std::string, std::shared_ptr<Consumer>> current;
    for (const pb::Directory& directory : directories) {
      auto it = consumers_.find(directory.id());
      current[directory.id()] =
          it != consumers_.end() && !it->second->removed
              ? it->second
              : std::make_shared<Consumer>(directory.id(), client_context_, store_);
    }
    for (auto& [id, consumer] : consumers_) {
      if (current.count(id) != 0) continue;
      if (!consumer->removed) {
        set_backlog(*consumer, 0);  // out of the totals
        set_failing(*consumer, false);
        consumer->removed = true;  // its running job, if any, stops after its batch
        if (metrics_ != nullptr) remove_metrics(id);
      }
      if (consumer->busy) current.emplace(id, consumer);  // for stop() to abort
    }
    consumers_ = std::move(current);

    const MonotonicClock::TimePoint now = monotonic_.now();
    for (auto& [id, consumer] : consumers_) {
      if (consumer->busy || consumer->removed) continue;
      std::optional<pb::WebhookState> state = store_.webhook_state(id);
      if (!state) continue;
      const uint64_t backlog =
          last_sequence > state->after_sequence() ? last_sequence - state->after_sequence() : 0;
      set_backlog(*consumer, backlog);
      set_failing(*consumer, state->failures() > 0);
      if (backlog == 0 || now < consumer->next_attempt) continue;
      consumer->busy = true;
      boost::asio::post(pool_, [this, consumer] { run_job(consumer); });
    }
  }

  // The series of a deleted directory (with metrics_detail; totals keep what it counted).
  void remove_metrics(const std::string& id) {
    if (!options_.metrics_detail) return;
    for (const char* name :
         {"dirfeed_webhook_events_delivered_total", "dirfeed_webhook_failed_attempts_total",
          "dirfeed_webhook_backlog", "dirfeed_webhook_last_success_timestamp_seconds"}) {
      metrics_->remove(name, {{"directory", id}});
    }
  }

  // A delivery thread: batches for one directory until it caught up, failed, or had its slice.
  void run_job(const std::shared_ptr<Consumer>& consumer) {
    const MonotonicClock::TimePoint started = monotonic_.now();
    Outcome outcome = Outcome::kMore;
    uint32_t failures = 0;
    try {
      while (outcome == Outcome::kMore && monotonic_.now() - started < kJobSlice &&
             !should_stop(*consumer)) {
        outcome = deliver_batch(*consumer, failures);
      }
    } catch (const std::exception& e) {
      // A store or memory failure: this directory retries later like after a failed POST;
      // the thread, the other directories and the daemon go on.
      BOOST_LOG_TRIVIAL(error) << "webhook " << consumer->id << ": " << e.what();
      outcome = Outcome::kFailed;
      failures = std::max<uint32_t>(failures, 1);
    }
    std::lock_guard lock(mutex_);
    consumer->busy = false;
    // A batch finishing after the directory went may have set its series again.
    if (consumer->removed && metrics_ != nullptr) remove_metrics(consumer->id);
    consumer->next_attempt =
        outcome == Outcome::kFailed
            ? monotonic_.now() +
                  retry_delay(failures, options_.retry_base, options_.retry_cap, options_.jitter())
            : MonotonicClock::TimePoint{};
    if (outcome != Outcome::kStopped) set_failing(*consumer, outcome == Outcome::kFailed);
    woken_ = true;  // more to send (kMore), or a new look at the feed is due soon anyway
    wake_.notify_all();
  }

  // Logs one POST in the directory's webhook event log (the reference's, log_webhook_events).
  void log_event(const pb::Directory& directory, const std::string& body, const PostResult& result) {
    pb::WebhookEvent event;
    event.set_id(guid_to_string(new_uuid_guid()));
    event.set_directory_id(directory.id());
    event.set_payload(body);
    event.set_webhook_endpoint(directory.webhook_url());
    event.set_created_us(clock_.now_us());
    event.set_status_code(result.status);
    event.set_delivered(result.ok());
    if (Status status = store_.log_webhook_event(event, options_.max_logged_events);
        !status.is_ok()) {
      BOOST_LOG_TRIVIAL(error) << "webhook " << directory.id() << ": " << status.message();
    }
  }

  bool should_stop(const Consumer& consumer) {
    std::lock_guard lock(mutex_);
    return stopping_ || consumer.removed;
  }

  // The engine's state of a directory's delivery, and back (the same fields).
  static pb::FeedConsumerState consumer_state(const pb::WebhookState& webhook) {
    pb::FeedConsumerState state;
    state.set_name(webhook.directory_id());
    state.set_after_sequence(webhook.after_sequence());
    state.set_last_success_us(webhook.last_success_us());
    state.set_last_error_us(webhook.last_error_us());
    state.set_last_error(webhook.last_error());
    state.set_failures(webhook.failures());
    return state;
  }
  static pb::WebhookState webhook_state(const pb::FeedConsumerState& state) {
    pb::WebhookState webhook;
    webhook.set_directory_id(state.name());
    webhook.set_after_sequence(state.after_sequence());
    webhook.set_last_success_us(state.last_success_us());
    webhook.set_last_error_us(state.last_error_us());
    webhook.set_last_error(state.last_error());
    webhook.set_failures(state.failures());
    return webhook;
  }

  // One directory's webhook as the engine's sink: the events the entries mean for it, up to
  // one batch (webhook_batch_size, or one event), in one POST; confirms the entries up to the
  // one that filled the batch (all of them when they mean no event, or when it has no webhook
  // or is deactivated: what changes meanwhile is not sent later either, as the reference
  // drops it).
  class Sink final : public changefeed::FeedSink {
   public:
    Sink(Impl& dispatcher, Consumer& consumer, const pb::Directory& directory)
        : dispatcher_(dispatcher),
          consumer_(consumer),
          directory_(directory),
          batch_size_(std::max<uint32_t>(1, directory.webhook_batch_size())),
          has_webhook_(!directory.webhook_url().empty() && !directory.deactivated()) {}

    // The read ends at the entry that fills the batch.
    bool accept(const pb::Change& entry) override {
      covered_ = entry.sequence();
      if (!has_webhook_) return true;
      if (std::optional<std::string> event = consumer_.events.event(directory_, entry)) {
        events_.push_back(std::move(*event));
      }
      return events_.size() < batch_size_;
    }

    changefeed::Delivery deliver(const std::vector<pb::Change>&) override {
      changefeed::Delivery delivery;
      delivery.confirmed_through = covered_;
      if (events_.empty()) return delivery;
      const PostResult result = post(events_, batch_size_ > 1);
      if (result.aborted) {
        delivery.aborted = true;
      } else if (!result.ok()) {
        delivery.confirmed_through = 0;
        delivery.error = result.error;
      } else {
        delivery.delivered = events_.size();
      }
      return delivery;
    }

   private:
    PostResult post(const std::vector<std::string>& events, bool as_array) {
      std::string error;
      std::optional<WebhookUrl> url = WebhookUrl::parse(directory_.webhook_url(), &error);
      PostResult result;
      if (!url) {
        result.error = "bad webhook URL: " + error;
        return result;
      }
      std::string body = as_array ? "[" : "";
      for (size_t i = 0; i < events.size(); ++i) {
        if (i > 0) body += ',';
        body += events[i];
      }
      if (as_array) body += ']';
      const std::string signature =
          directory_.webhook_secret().empty()
              ? std::string()
              : webhook_signature(directory_.webhook_secret(), body,
                                  dispatcher_.clock_.now_us() / 1000);
      result = consumer_.client.post(*url, body, signature);
      if (directory_.log_webhook_events() && !result.aborted) {
        dispatcher_.log_event(directory_, body, result);
      }
      return result;
    }

    Impl& dispatcher_;
    Consumer& consumer_;
    const pb::Directory& directory_;
    const size_t batch_size_;
    const bool has_webhook_;
    std::vector<std::string> events_;  // of the entries accepted
    uint64_t covered_ = 0;             // the last entry accepted
  };

  // One attempt of the engine (changefeed::attempt_delivery) for the directory: reads the
  // entries after its cursor, sends the events they mean (one batch), and stores the state.
  // `failures`: the consecutive failures after a failed attempt.
  Outcome deliver_batch(Consumer& consumer, uint32_t& failures) {
    std::optional<pb::Directory> directory = store_.directory(consumer.id);
    std::optional<pb::WebhookState> stored = store_.webhook_state(consumer.id);
    if (!directory || !stored) return Outcome::kCaughtUp;  // deleted
    pb::FeedConsumerState state = consumer_state(*stored);
    Sink sink(*this, consumer, *directory);
    const std::string log_name =
        "webhook " + consumer.id + " (" + redact_url(directory->webhook_url()) + ")";
    const changefeed::AttemptResult result = changefeed::attempt_delivery(
        store_, clock_, sink, log_name, options_.max_entries_per_read, state);
    if (result.outcome == changefeed::Attempt::kStopped) return Outcome::kStopped;
    if (result.read == 0) return Outcome::kCaughtUp;
    if (Status status = store_.put_webhook_state(webhook_state(state)); !status.is_ok()) {
      // What went out goes again after a restart (at least once).
      BOOST_LOG_TRIVIAL(error) << "webhook " << consumer.id << ": " << status.message();
      failures = std::max<uint32_t>(1, state.failures());
      return Outcome::kFailed;
    }
    if (metrics_ != nullptr) {
      if (result.outcome == changefeed::Attempt::kFailed) {
        metrics_->add("dirfeed_webhook_failed_attempts_total", labels(consumer.id));
      }
      if (result.delivered > 0) {
        metrics_->add("dirfeed_webhook_events_delivered_total", labels(consumer.id),
                      static_cast<double>(result.delivered));
        if (options_.metrics_detail) {
          metrics_->set("dirfeed_webhook_last_success_timestamp_seconds", labels(consumer.id),
                        static_cast<double>(state.last_success_us()) / 1e6);
        }
      }
    }
    {
      const uint64_t last = store_.last_sequence();
      std::lock_guard lock(mutex_);
      set_backlog(consumer, last > state.after_sequence() ? last - state.after_sequence() : 0);
    }
    failures = state.failures();
    switch (result.outcome) {
      case changefeed::Attempt::kFailed: return Outcome::kFailed;
      case changefeed::Attempt::kMore: return Outcome::kMore;
      default: return Outcome::kCaughtUp;
    }
  }

  changefeed::Store& store_;
  const Clock& clock_;
  const MonotonicClock& monotonic_;
  Metrics* metrics_;
  DispatcherOptions options_;
  const std::shared_ptr<const ClientContext> client_context_;  // every consumer's client's
  std::mutex mutex_;
  std::condition_variable wake_;
  uint64_t commit_listener_ = 0;
  bool woken_ = false;     // mutex_: a job finished, or the feed has new entries
  bool stopping_ = false;  // mutex_
  std::map<std::string, std::shared_ptr<Consumer>> consumers_;  // mutex_; by directory id
  uint64_t total_backlog_ = 0;      // mutex_; of the consumers not removed
  size_t failing_directories_ = 0;  // mutex_; likewise
  boost::asio::thread_pool pool_;
  std::jthread scheduler_;
};

WebhookDispatcher::WebhookDispatcher(changefeed::Store& store, const Clock& clock, Metrics* metrics,
                                     DispatcherOptions options, const MonotonicClock& monotonic)
    : impl_(std::make_unique<Impl>(store, clock, metrics, std::move(options), monotonic)) {}

WebhookDispatcher::~WebhookDispatcher() = default;

void WebhookDispatcher::start() { impl_->start(); }

void WebhookDispatcher::stop() { impl_->stop(); }

}  // namespace dirfeed::rest
