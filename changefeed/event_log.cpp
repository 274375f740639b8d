#include "changefeed/event_log.hpp"

#include <memory>

namespace dirfeed::changefeed {
namespace {

rocksdb::ColumnFamilyHandle* state(const Database& database) {
  return database.table(Table::kState);
}

std::unique_ptr<rocksdb::Iterator> iterator(const Database& database) {
  return std::unique_ptr<rocksdb::Iterator>(
      database.db()->NewIterator(rocksdb::ReadOptions(), state(database)));
}

uint64_t decode_count(const std::string& value) {
  uint64_t count = 0;
  for (unsigned char c : value) count = count << 8 | c;
  return count;
}

std::string encode_count(uint64_t count) {
  std::string value(8, '\0');
  for (int i = 7; i >= 0; --i, count >>= 8) value[static_cast<size_t>(i)] = static_cast<char>(count & 0xff);
  return value;
}

std::optional<pb::WebhookEvent> parse(const rocksdb::Slice& value) {
  pb::WebhookEvent event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) return std::nullopt;
  return event;
}

Status failed(const std::string& what, const rocksdb::Status& status) {
  return Status::error(what + " failed: " + status.ToString());
}

}  // namespace

Status log_webhook_event(const Database& database, const pb::WebhookEvent& event,
                         size_t max_per_directory) {
  // The store-wide log sequence orders events logged in the same microsecond.
  std::string value;
  rocksdb::Status status =
      database.db()->Get(rocksdb::ReadOptions(), state(database), keys::kEventSequenceKey, &value);
  if (!status.ok() && !status.IsNotFound()) return failed("logging a webhook event", status);
  const uint64_t sequence = (status.ok() ? decode_count(value) : 0) + 1;
  const std::string key =
      keys::webhook_event(event.directory_id(), event.created_us(), sequence, event.id());
  const std::string count_key = keys::webhook_event_count(event.directory_id());
  status = database.db()->Get(rocksdb::ReadOptions(), state(database), count_key, &value);
  if (!status.ok() && !status.IsNotFound()) return failed("logging a webhook event", status);
  uint64_t count = status.ok() ? decode_count(value) : 0;

  rocksdb::WriteBatch batch;
  status = batch.Put(state(database), keys::kEventSequenceKey, encode_count(sequence));
  if (status.ok()) status = batch.Put(state(database), key, event.SerializeAsString());
  if (status.ok()) status = batch.Put(state(database), keys::webhook_event_id(event.id()), key);
  ++count;
  if (count > max_per_directory) {  // the oldest goes (keys sort by time)
    const std::string prefix = keys::webhook_event_prefix(event.directory_id());
    std::unique_ptr<rocksdb::Iterator> it = iterator(database);
    it->Seek(prefix);
    if (it->Valid() && it->key().starts_with(prefix)) {
      if (std::optional<pb::WebhookEvent> oldest = parse(it->value())) {
        if (status.ok()) status = batch.Delete(state(database), keys::webhook_event_id(oldest->id()));
      }
      if (status.ok()) status = batch.Delete(state(database), it->key());
      --count;
    }
  }
  if (status.ok()) status = batch.Put(state(database), count_key, encode_count(count));
  if (status.ok()) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  return status.ok() ? Status::ok() : failed("logging a webhook event", status);
}

void webhook_events(const Database& database, const std::string& directory_id,
                    const Visitor<pb::WebhookEvent>& visit) {
  const std::string prefix = keys::webhook_event_prefix(directory_id);
  std::string end = prefix;
  end.back() = '\1';  // the first key after every key of the prefix
  std::unique_ptr<rocksdb::Iterator> it = iterator(database);
  for (it->SeekForPrev(end); it->Valid() && it->key().starts_with(prefix); it->Prev()) {
    if (it->key() == rocksdb::Slice(end)) continue;
    if (std::optional<pb::WebhookEvent> event = parse(it->value()); event && !visit(*event)) return;
  }
}

std::optional<pb::WebhookEvent> webhook_event(const Database& database, const std::string& id) {
  std::string key;
  if (!database.db()->Get(rocksdb::ReadOptions(), state(database), keys::webhook_event_id(id), &key).ok()) {
    return std::nullopt;
  }
  std::string value;
  if (!database.db()->Get(rocksdb::ReadOptions(), state(database), key, &value).ok()) return std::nullopt;
  return parse(value);
}

std::vector<std::string> webhook_event_keys(const Database& database,
                                            const std::string& directory_id) {
  std::vector<std::string> keys;
  const std::string prefix = keys::webhook_event_prefix(directory_id);
  std::unique_ptr<rocksdb::Iterator> it = iterator(database);
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    keys.push_back(it->key().ToString());
    if (std::optional<pb::WebhookEvent> event = parse(it->value())) {
      keys.push_back(keys::webhook_event_id(event->id()));
    }
  }
  keys.push_back(keys::webhook_event_count(directory_id));
  return keys;
}

Status delete_webhook_events(const Database& database, const std::string& directory_id,
                             size_t* deleted) {
  const std::vector<std::string> keys = webhook_event_keys(database, directory_id);
  rocksdb::WriteBatch batch;
  rocksdb::Status status;
  size_t events = 0;
  for (const std::string& key : keys) {
    if (key.starts_with("event/")) ++events;
    if (status.ok()) status = batch.Delete(state(database), key);
  }
  if (status.ok()) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  if (deleted != nullptr) *deleted = status.ok() ? events : 0;
  return status.ok() ? Status::ok() : failed("deleting webhook events", status);
}

Status prune_webhook_events(const Database& database, int64_t before_us, size_t* dropped) {
  const std::string all = "event/";
  const std::string cutoff = keys::encode_time(before_us);
  rocksdb::WriteBatch batch;
  rocksdb::Status status;
  size_t count = 0;
  std::string directory;         // the one whose events are being read
  uint64_t directory_drops = 0;  // of `directory`
  const auto settle = [&] {      // lowers the count of `directory` by its drops
    if (directory_drops == 0 || !status.ok()) return;
    std::string value;
    const std::string count_key = keys::webhook_event_count(directory);
    if (database.db()->Get(rocksdb::ReadOptions(), state(database), count_key, &value).ok()) {
      const uint64_t logged = decode_count(value);
      status = batch.Put(state(database), count_key,
                         encode_count(logged > directory_drops ? logged - directory_drops : 0));
    }
  };
  std::unique_ptr<rocksdb::Iterator> it = iterator(database);
  for (it->Seek(all); it->Valid() && it->key().starts_with(all); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const size_t zero = key.find('\0');
    if (zero == std::string_view::npos || key.size() < zero + 9) continue;
    const std::string_view id = key.substr(all.size(), zero - all.size());
    if (id != directory) {
      settle();
      directory = std::string(id);
      directory_drops = 0;
    }
    if (key.substr(zero + 1, 8) >= cutoff) continue;
    if (std::optional<pb::WebhookEvent> event = parse(it->value()); event && status.ok()) {
      status = batch.Delete(state(database), keys::webhook_event_id(event->id()));
    }
    if (status.ok()) status = batch.Delete(state(database), it->key());
    ++directory_drops;
    ++count;
  }
  settle();
  if (status.ok() && count > 0) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  if (dropped != nullptr) *dropped = status.ok() ? count : 0;
  return status.ok() ? Status::ok() : failed("pruning webhook events", status);
}

}  // namespace dirfeed::changefeed
