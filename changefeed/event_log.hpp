#pragma once
// Internal to changefeed/: the webhook event log in the state table (keys in keys.hpp), for
// the Store methods of the same names. Writes are single WriteBatches (WAL on); the caller
// serialises them (the store's write lock), so the per-directory count stays exact.
#include <string>
#include <vector>

#include "changefeed/database.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {

Status log_webhook_event(const Database& database, const pb::WebhookEvent& event,
                         size_t max_per_directory);
void webhook_events(const Database& database, const std::string& directory_id,
                    const Visitor<pb::WebhookEvent>& visit);
std::optional<pb::WebhookEvent> webhook_event(const Database& database, const std::string& id);
Status delete_webhook_events(const Database& database, const std::string& directory_id,
                             size_t* deleted);
Status prune_webhook_events(const Database& database, int64_t before_us, size_t* dropped);
// The state keys of every logged event of the directory (its records, id index and count),
// for a delete of the directory in another batch.
std::vector<std::string> webhook_event_keys(const Database& database,
                                            const std::string& directory_id);

}  // namespace dirfeed::changefeed
