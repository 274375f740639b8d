#pragma once
// Directory Sync API webhooks (../shared/specs/directory-sync-api.md, issue 5): the events a
// feed entry means for a directory, their signature, and the dispatcher that delivers them:
// one feed consumer per directory, each attempt the feed-consumer engine's step
// (changefeed::attempt_delivery, with the directory's webhook as its sink and its WebhookState
// as its cursor), scheduled on a pool of delivery threads (DESIGN.md section 2).
//
// Events and their `data`:
//   USER ADD / MODIFY / DELETE         user.created / user.updated / user.deleted: the user
//                                      (write_dsync_user) as the entry carries it (after the
//                                      change; a delete: as it was)
//   GROUP ADD / MODIFY / DELETE        group.created / group.updated / group.deleted: the group
//                                      (write_dsync_group, without members)
//   MEMBERSHIP ADD / DELETE            group.user_added / group.user_removed: the user plus a
//                                      "group" member holding the group (without members)
//   IP_ADD / IP_DELETE                 none (user-to-IP mappings are not directory data)
// An entry gives an event only when its object is in the directory's view (in_directory; a
// membership: when its user, as a member of that group, is), so a user removed from the group
// a directory is narrowed to still gets its group.user_removed. A MODIFY that takes an object
// out of the view gives no event (the entry holds only the state after it); one that brings
// an object in gives an updated event, not a created one.
//
// A membership event shows the user and the group as the store has them when the event is
// built (the feed entry names them only by GUID). One of them may be gone by then: a deleted
// user's or group's memberships are removed (MEMBERSHIP DELETE entries right after its DELETE
// entry), and an object may be deleted by a later write before a lagging directory reaches an
// entry. The event then shows the object's last state from the feed: the newest USER/GROUP
// entry of it up to the membership entry (searched 10,000 entries either way), else the first after
// it (its DELETE entry, which carries the state it had). Only when the feed no longer holds any entry of it (pruned by
// feed.retention) is the event left out.
//
// Payload: {"event", "tenant", "product", "directory_id", "data"}; with webhook_batch_size > 1,
// a JSON array of up to that many payloads per POST.
//
// Signature (as BoxyHQ jackson signs): headers `BoxyHQ-Signature` and `Ory-Polis-Signature`,
// both `t=<ms since the epoch>,s=<hex HMAC-SHA256 of "<t>.<body>" keyed by webhook_secret>`,
// over the exact body bytes sent; no header when the secret is empty (the reference sends no
// webhook then; dirfeed sends it unsigned, README says why). A deactivated directory sends
// nothing, and the changes made while it is are never sent.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "changefeed/feed_consumer.hpp"
#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "dirfeed.pb.h"
#include "rest/metrics.hpp"
#include "rest/webhook_client.hpp"

namespace dirfeed::rest {

// Builds the events of feed entries for directories. Remembers the last states of deleted
// objects it meets (a bounded number), so that reading the feed in order through one builder
// finds them without searching the feed. Not thread-safe; the store must outlive it.
class EventBuilder {
 public:
  explicit EventBuilder(const changefeed::Store& store) : store_(store) {}

  // The payload (one JSON object) `change` means for `directory`, or nullopt when it means
  // none.
  std::optional<std::string> event(const pb::Directory& directory, const pb::Change& change);

 private:
  // The user or group `guid` as stored, else its last state in the feed around `sequence`.
  std::optional<pb::DirectoryObject> object(const std::string& guid, uint64_t sequence);
  void remember(const pb::DirectoryObject& object);

  const changefeed::Store& store_;
  std::unordered_map<std::string, pb::DirectoryObject> last_states_;  // by GUID
};

// The value of the BoxyHQ-Signature header for `body` sent at `timestamp_ms`:
// "t=<timestamp_ms>,s=<hex HMAC-SHA256 of "<timestamp_ms>.<body>" keyed by `secret`>".
std::string webhook_signature(std::string_view secret, std::string_view body,
                              int64_t timestamp_ms);

// api.max_webhook_events when the config says nothing.
inline constexpr size_t kDefaultMaxLoggedEvents = 10000;

struct DispatcherOptions {
  size_t threads = 4;                                    // deliveries in parallel (directories)
  std::chrono::milliseconds poll{200};                   // how often the feed and the
                                                         // directories are looked at
  std::chrono::milliseconds retry_base{1000};            // first retry delay
  std::chrono::milliseconds retry_cap{5 * 60 * 1000};    // longest retry delay
  size_t max_entries_per_read = 1000;                    // feed entries read per batch
  // Timeout, CA file (read once, at construction), allowed networks: one ClientContext for
  // every directory's client.
  ClientOptions client;
  // api.metrics_detail: series by directory (label directory=<id>); false: totals only, since
  // /metrics is public (see Metrics below).
  bool metrics_detail = false;
  // Directories with log_webhook_events keep at most this many logged POSTs each (the oldest
  // go first; api.max_webhook_events).
  size_t max_logged_events = kDefaultMaxLoggedEvents;
  // Jitter source in [0, 1), called from delivery threads (must be thread-safe); empty: a
  // random number generator of its own.
  std::function<double()> jitter;
};

// Delivers the webhooks of every directory with a webhook_url: per directory, in feed order,
// at least once. A directory's consumer reads the feed entries after its stored
// after_sequence, POSTs the events they mean (batches of webhook_batch_size, or one at a
// time), and stores the new after_sequence (with last_success_us) only after a 2xx answer;
// entries that mean no event for it move the cursor without a POST (directories without a
// webhook_url follow the feed that way, so a webhook set later starts from then). A failed
// attempt (connection, TLS, timeout, non-2xx) stores last_error, last_error_us and failures
// (consecutive) and is retried, the same batch again, after retry_delay(failures); a directory
// in its retry delay takes no thread, and the feed's writers never wait for deliveries; a
// receiver that hangs holds one of options.threads until the client's timeout.
//
// The scheduler thread looks at the feed when the store signals a commit, and every
// options.poll at the store's directories and feed; new and
// deleted directories (and changed URLs, secrets, batch sizes) are picked up there, and a
// delivery finishing after a DELETE does not bring the directory's state back
// (Store::put_webhook_state). A restart resumes from the stored states.
//
// Metrics, without labels by default (totals over the directories, so /metrics names no
// directory, tenant, product or URL): dirfeed_webhook_events_delivered_total,
// dirfeed_webhook_failed_attempts_total, dirfeed_webhook_backlog (feed entries after the
// cursors, summed: an upper bound of the events waiting, since not every entry is an event for
// a directory), and dirfeed_webhook_directories_failing (directories whose last attempt
// failed). With options.metrics_detail the first three are by directory (label
// directory=<id>), plus dirfeed_webhook_last_success_timestamp_seconds by directory.
//
// Threads: start() starts the scheduler thread and options.threads delivery threads; stop()
// (any thread but those) ends them: a delivery in flight is abandoned without storing
// anything (its batch is sent again after a restart).
class WebhookDispatcher {
 public:
  // `store`, `clock` (timestamps), `metrics` (nullptr: none) and `monotonic` (the feed look,
  // retry delays, job slices) must outlive the dispatcher.
  WebhookDispatcher(changefeed::Store& store, const Clock& clock, Metrics* metrics,
                    DispatcherOptions options = {},
                    const MonotonicClock& monotonic = steady_clock());
  ~WebhookDispatcher();  // stop()
  WebhookDispatcher(const WebhookDispatcher&) = delete;
  WebhookDispatcher& operator=(const WebhookDispatcher&) = delete;

  void start();  // once
  void stop();   // idempotent

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace dirfeed::rest
