#include "changefeed/change_writer.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dirfeed::changefeed {
namespace {

// Appends the puts and deletes of one batch to another.
class BatchCopier final : public rocksdb::WriteBatch::Handler {
 public:
  BatchCopier(const Database& database, rocksdb::WriteBatch& target)
      : database_(database), target_(target) {}

  rocksdb::Status PutCF(uint32_t family_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    rocksdb::ColumnFamilyHandle* handle = family(family_id);
    return handle != nullptr ? target_.Put(handle, key, value) : unknown_family();
  }
  rocksdb::Status DeleteCF(uint32_t family_id, const rocksdb::Slice& key) override {
    rocksdb::ColumnFamilyHandle* handle = family(family_id);
    return handle != nullptr ? target_.Delete(handle, key) : unknown_family();
  }

 private:
  rocksdb::ColumnFamilyHandle* family(uint32_t family_id) const {
    for (size_t i = 0; i < kTableCount; ++i) {
      rocksdb::ColumnFamilyHandle* handle = database_.table(static_cast<Table>(i));
      if (handle != nullptr && handle->GetID() == family_id) return handle;
    }
    return nullptr;
  }
  static rocksdb::Status unknown_family() {
    return rocksdb::Status::InvalidArgument("batch record for a column family not ours");
  }

  const Database& database_;
  rocksdb::WriteBatch& target_;
};
// A feed entry about `object`, without the object itself, not yet stamped.
pb::Change object_change(pb::ChangeType type, const pb::DirectoryObject& object) {
  pb::Change change;
  change.set_kind(object.kind());
  change.set_type(type);
  change.set_domain(object.domain());
  change.set_from_directory(object.from_directory());
  return change;
}
// A write to a table a read-only database does not have (Database::table).
rocksdb::Status missing_table(Table table) {
  return rocksdb::Status::NotSupported("table not in the database", table_name(table));
}

}  // namespace

// ---- feed ------------------------------------------------------------------------------

void ChangeWriter::emit_ip(pb::ChangeType type, pb::DirectoryObject& user) {
  pb::Change change = object_change(type, user);
  stamp(change);
  stamp_last_change(user, change);
  *change.mutable_object() = user;
  write(change);
}

void ChangeWriter::mark_modified(const std::string& guid) {
  if (pending_adds_.count(guid) != 0) return;  // its ADD will carry the final state
  if (modified_.insert(guid).second) modified_order_.push_back(guid);
}

void ChangeWriter::stamp(pb::Change& change) {
  position_.sequence += 1;
  position_.timestamp_us = std::max(now_us_, position_.timestamp_us + 1);
  change.set_sequence(position_.sequence);
  change.set_timestamp_us(position_.timestamp_us);
  ++changes_;
}

void ChangeWriter::stamp_last_change(pb::DirectoryObject& object, const pb::Change& change) {
  object.set_last_change(change.type());
  object.set_last_change_us(change.timestamp_us());
  cached(object.guid()).needs_write = true;
}

void ChangeWriter::write(const pb::Change& change) {
  put_unindexed(Table::kFeedBySequence, keys::sequence(change.sequence()),
                change.SerializeAsString());
  put_unindexed(Table::kFeedByTime, keys::time(change.timestamp_us(), change.sequence()), "");
}

void ChangeWriter::emit(pb::Change change) {
  stamp(change);
  write(change);
}

void ChangeWriter::emit_object(pb::ChangeType type, const pb::DirectoryObject& object) {
  pb::Change change = object_change(type, object);
  if (type == pb::ADD) {
    // Its place in the feed is taken now; the object is filled in at commit, so changes later
    // in this write (groups it joins further down the page) are part of the ADD.
    stamp(change);
    pending_adds_.emplace(object.guid(), std::move(change));
    return;
  }
  *change.mutable_object() = object;
  emit(std::move(change));
}

void ChangeWriter::emit_membership(pb::ChangeType type, const std::string& user,
                                   const std::string& group) {
  pb::Change change;
  change.set_kind(pb::MEMBERSHIP);
  change.set_type(type);
  change.set_domain(domain_);
  change.set_from_directory(from_directory_);
  change.mutable_membership()->set_user_guid(user);
  change.mutable_membership()->set_group_guid(group);
  emit(std::move(change));
}

void ChangeWriter::put_cursor(const pb::Cursor& cursor) {
  put_unindexed(Table::kState, keys::cursor(domain_), cursor.SerializeAsString());
}

Status ChangeWriter::commit(CommitStats* stats) {
  for (auto& [guid, change] : pending_adds_) {
    pb::DirectoryObject* object = live(guid);
    // A later entry of this write (IP_ADD) stays the object's newest.
    if (object->last_change_us() < change.timestamp_us()) stamp_last_change(*object, change);
    *change.mutable_object() = *object;
    write(change);
  }
  for (const std::string& guid : modified_order_) {
    if (modified_.erase(guid) == 0) continue;  // deleted meanwhile, or already emitted
    pb::DirectoryObject* object = live(guid);
    if (object == nullptr) continue;
    pb::Change change = object_change(pb::MODIFY, *object);
    stamp(change);
    stamp_last_change(*object, change);
    *change.mutable_object() = *object;
    write(change);
  }
  render_changes();
  for (const auto& [guid, entry] : objects_) {
    if (!entry.needs_write) continue;
    if (entry.live) {
      put_unindexed(Table::kObjects, guid, entry.live->SerializeAsString());
    } else {
      erase_unindexed(Table::kObjects, guid);
    }
  }
  if (changes_ > 0) {
    put_unindexed(Table::kState, std::string(keys::kFeedPositionKey),
                  keys::encode_position(position_));
  }
  BatchCopier copier(database_, unindexed_);
  note(indexed_.GetWriteBatch()->Iterate(&copier));

  if (!failure_.ok()) return Status::error("store write not attempted: " + failure_.ToString());
  rocksdb::WriteOptions options;  // WAL on; the OS flushes it (sync = false)
  rocksdb::Status status = database_.db()->Write(options, &unindexed_);
  if (!status.ok()) return Status::error("store write failed: " + status.ToString());
  if (stats != nullptr) stats->changes = changes_;
  return Status::ok();
}

// ---- reads and writes through the batch -------------------------------------------------

ChangeWriter::CachedObject& ChangeWriter::cached(const std::string& guid) {
  auto [it, inserted] = objects_.try_emplace(guid);
  if (inserted) {
    std::string value;
    rocksdb::Status status =
        database_.db()->Get(rocksdb::ReadOptions(), database_.table(Table::kObjects), guid, &value);
    load(it->second, status, value);
  }
  return it->second;
}

void ChangeWriter::prefetch(const std::vector<std::string>& guids) {
  std::vector<const std::string*> missing;
  std::unordered_set<std::string_view> listed;
  for (const std::string& guid : guids) {
    if (!objects_.contains(guid) && listed.insert(guid).second) missing.push_back(&guid);
  }
  if (missing.empty()) return;
  std::vector<rocksdb::Slice> keys;
  keys.reserve(missing.size());
  for (const std::string* guid : missing) keys.emplace_back(*guid);
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  database_.db()->MultiGet(rocksdb::ReadOptions(), database_.table(Table::kObjects), keys.size(),
                           keys.data(), values.data(), statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    load(objects_[*missing[i]], statuses[i], values[i].ToStringView());
  }
}

void ChangeWriter::load(CachedObject& entry, const rocksdb::Status& status,
                        std::string_view value) {
  if (status.IsNotFound()) return;
  if (!status.ok()) {
    note(status);
    return;
  }
  pb::DirectoryObject object;
  if (!object.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    note(rocksdb::Status::Corruption("unreadable stored object"));
    return;
  }
  entry.live = std::move(object);
}

pb::DirectoryObject* ChangeWriter::live(const std::string& guid) {
  CachedObject& entry = cached(guid);
  return entry.live ? &*entry.live : nullptr;
}

std::optional<std::string> ChangeWriter::group_by_sid(const std::string& sid) {
  if (sid.empty()) return std::nullopt;
  std::optional<std::string> guid = get(Table::kSidIndex, sid);
  if (!guid) return std::nullopt;
  const pb::DirectoryObject* object = live(*guid);
  if (object == nullptr || object->kind() != pb::GROUP) return std::nullopt;
  return guid;
}

std::optional<std::string> ChangeWriter::get(Table table, const std::string& key) {
  std::string value;
  rocksdb::Status status = indexed_.GetFromBatchAndDB(database_.db(), rocksdb::ReadOptions(),
                                                    database_.table(table), key, &value);
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) {
    note(status);
    return std::nullopt;
  }
  return value;
}

bool ChangeWriter::exists(Table table, const std::string& key) {
  return get(table, key).has_value();
}

std::vector<std::string> ChangeWriter::suffixes(Table table, const std::string& prefix) {
  const rocksdb::ReadOptions options;
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  std::unique_ptr<rocksdb::Iterator> it(
      indexed_.NewIteratorWithBase(family, database_.db()->NewIterator(options, family)));
  std::vector<std::string> result;
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    rocksdb::Slice rest = it->key();
    rest.remove_prefix(prefix.size());
    result.push_back(rest.ToString());
  }
  note(it->status());
  return result;
}

void ChangeWriter::put(Table table, const std::string& key, const std::string& value) {
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  note(family != nullptr ? indexed_.Put(family, key, value) : missing_table(table));
}

void ChangeWriter::erase(Table table, const std::string& key) {
  rocksdb::ColumnFamilyHandle* family = database_.table(table);
  note(family != nullptr ? indexed_.Delete(family, key) : missing_table(table));
}

void ChangeWriter::put_unindexed(Table table, const std::string& key, const std::string& value) {
  note(unindexed_.Put(database_.table(table), key, value));
}

void ChangeWriter::erase_unindexed(Table table, const std::string& key) {
  note(unindexed_.Delete(database_.table(table), key));
}

void ChangeWriter::note(const rocksdb::Status& status) {
  if (!status.ok() && failure_.ok()) failure_ = status;
}

}  // namespace dirfeed::changefeed
