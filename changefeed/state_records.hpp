#pragma once
// Internal to changefeed/: small records of the state table (keys in keys.hpp) that need no
// feed position, for the Store methods of the same names: each a single Put (WAL on) or read.
#include <functional>
#include <optional>
#include <string>

#include "changefeed/database.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {

Status put_ip_source_state(const Database& database, const pb::IpSourceState& state);
std::optional<pb::IpSourceState> ip_source_state(const Database& database,
                                                 const std::string& name);
Status put_consumer_state(const Database& database, const pb::FeedConsumerState& state);
std::optional<pb::FeedConsumerState> consumer_state(const Database& database,
                                                     const std::string& name);
void consumer_states(const Database& database, const Visitor<pb::FeedConsumerState>& visit);

// Directory Sync records. The writes are a caller's part of a write: it holds the store's
// write lock.
std::optional<pb::Directory> directory(const Database& database, const std::string& id);
void directories(const Database& database, const Visitor<pb::Directory>& visit);
// Stores `change` made to the directory `id` when it exists (*found) and change returns true.
Status update_directory(const Database& database, const std::string& id,
                        const std::function<bool(pb::Directory&)>& change, bool* found);
std::optional<pb::WebhookState> webhook_state(const Database& database, const std::string& id);
// Stores the state of an existing directory's webhook; nothing for an unknown directory.
Status put_webhook_state(const Database& database, const pb::WebhookState& webhook);

// The database's store id into *id: read, or (read-write, none stored yet) made and stored;
// empty for a read-only open of a database that has none.
Status read_store_id(const Database& database, bool read_only, std::string* id);

}  // namespace dirfeed::changefeed
