#include "changefeed/state_records.hpp"

#include <cstdio>
#include <memory>
#include <random>

#include "changefeed/keys.hpp"

namespace dirfeed::changefeed {
namespace {

// 32 random hex digits.
std::string new_store_id() {
  std::random_device random;
  std::string id;
  for (int i = 0; i < 8; ++i) {
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(random()));
    id += hex;
  }
  return id;
}

// One Put of its own (no feed position involved, so the store's write lock is not needed).
Status put_record(const Database& database, const std::string& key,
                  const google::protobuf::MessageLite& record, const std::string& what) {
  rocksdb::Status status = database.db()->Put(rocksdb::WriteOptions(),
                                              database.table(Table::kState), key,
                                              record.SerializeAsString());
  if (!status.ok()) return Status::error("storing " + what + " failed: " + status.ToString());
  return Status::ok();
}

}  // namespace

Status put_ip_source_state(const Database& database, const pb::IpSourceState& state) {
  return put_record(database, keys::ip_source_state(state.name()), state,
                    "the state of IP source " + state.name());
}

std::optional<pb::IpSourceState> ip_source_state(const Database& database,
                                               const std::string& name) {
  return SnapshotReader(database).get_message<pb::IpSourceState>(Table::kState,
                                                                   keys::ip_source_state(name));
}

Status put_consumer_state(const Database& database, const pb::FeedConsumerState& state) {
  return put_record(database, keys::consumer_state(state.name()), state,
                    "the state of feed consumer " + state.name());
}

std::optional<pb::FeedConsumerState> consumer_state(const Database& database,
                                                   const std::string& name) {
  return SnapshotReader(database).get_message<pb::FeedConsumerState>(
      Table::kState, keys::consumer_state(name));
}

void consumer_states(const Database& database, const Visitor<pb::FeedConsumerState>& visit) {
  SnapshotReader reader(database);
  std::unique_ptr<rocksdb::Iterator> it = reader.iterator(Table::kState);
  for (it->Seek(keys::kConsumerStatePrefix);
       it->Valid() && it->key().starts_with(keys::kConsumerStatePrefix); it->Next()) {
    pb::FeedConsumerState state;
    if (!state.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      continue;
    }
    if (!visit(state)) return;
  }
}

std::optional<pb::Directory> directory(const Database& database, const std::string& id) {
  return SnapshotReader(database).get_message<pb::Directory>(Table::kState, keys::directory(id));
}

void directories(const Database& database, const Visitor<pb::Directory>& visit) {
  SnapshotReader reader(database);
  std::unique_ptr<rocksdb::Iterator> it = reader.iterator(Table::kState);
  for (it->Seek(keys::kDirectoryPrefix);
       it->Valid() && it->key().starts_with(keys::kDirectoryPrefix); it->Next()) {
    pb::Directory directory;
    if (!directory.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      continue;
    }
    if (!visit(directory)) return;
  }
}

Status update_directory(const Database& database, const std::string& id,
                        const std::function<bool(pb::Directory&)>& change, bool* found) {
  std::optional<pb::Directory> stored = directory(database, id);
  *found = stored.has_value();
  if (!stored || !change(*stored)) return Status::ok();
  stored->set_id(id);
  rocksdb::Status status = database.db()->Put(rocksdb::WriteOptions(),
                                              database.table(Table::kState), keys::directory(id),
                                              stored->SerializeAsString());
  if (!status.ok()) {
    return Status::error("storing directory " + id + " failed: " + status.ToString());
  }
  return Status::ok();
}

std::optional<pb::WebhookState> webhook_state(const Database& database, const std::string& id) {
  return SnapshotReader(database).get_message<pb::WebhookState>(Table::kState,
                                                                keys::webhook_state(id));
}

Status put_webhook_state(const Database& database, const pb::WebhookState& webhook) {
  const std::string& id = webhook.directory_id();
  if (!SnapshotReader(database).get(Table::kState, keys::directory(id))) return Status::ok();
  rocksdb::Status status =
      database.db()->Put(rocksdb::WriteOptions(), database.table(Table::kState),
                         keys::webhook_state(id), webhook.SerializeAsString());
  if (!status.ok()) {
    return Status::error("storing the webhook state of directory " + id +
                         " failed: " + status.ToString());
  }
  return Status::ok();
}

Status read_store_id(const Database& database, bool read_only, std::string* id) {
  rocksdb::Status status = database.db()->Get(rocksdb::ReadOptions(),
                                              database.table(Table::kState), keys::kStoreIdKey, id);
  if (status.IsNotFound() && !read_only) {
    *id = new_store_id();
    status = database.db()->Put(rocksdb::WriteOptions(), database.table(Table::kState),
                                keys::kStoreIdKey, *id);
  } else if (status.IsNotFound()) {
    id->clear();
    return Status::ok();
  }
  if (!status.ok()) return Status::error("the store id: " + status.ToString());
  return Status::ok();
}

}  // namespace dirfeed::changefeed
