#include "changefeed/index_build.hpp"

#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/write_batch.h>

namespace dirfeed::changefeed {

// Reads the objects once and writes in batches of bounded size, the last one with the marker
// (no other write comes in between: it runs at open).
rocksdb::Status build_api_group_index(const Database& database) {
  rocksdb::ColumnFamilyHandle* state = database.table(Table::kState);
  std::string value;
  rocksdb::Status status =
      database.db()->Get(rocksdb::ReadOptions(), state, keys::kApiGroupIndexKey, &value);
  if (!status.IsNotFound()) return status;

  constexpr size_t kEntriesPerBatch = 10000;
  rocksdb::ColumnFamilyHandle* index = database.table(Table::kApiGroupMembers);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.table(Table::kObjects)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    pb::DirectoryObject object;
    if (!object.ParseFromArray(it->value().data(), static_cast<int>(it->value().size())) ||
        object.kind() != pb::USER) {
      continue;
    }
    for (const std::string& group : object.api_groups()) {
      status = batch.Put(index, keys::edge(group, object.guid()), "");
      if (!status.ok()) return status;
    }
    if (static_cast<size_t>(batch.Count()) >= kEntriesPerBatch) {
      status = database.db()->Write(rocksdb::WriteOptions(), &batch);
      if (!status.ok()) return status;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return it->status();
  status = batch.Put(state, keys::kApiGroupIndexKey, "");
  if (status.ok()) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  return status;
}

rocksdb::Status build_ip_owner_index(const Database& database) {
  rocksdb::ColumnFamilyHandle* state = database.table(Table::kState);
  std::string value;
  rocksdb::Status status =
      database.db()->Get(rocksdb::ReadOptions(), state, keys::kIpOwnerIndexKey, &value);
  if (!status.IsNotFound()) return status;

  // Oldest expiry first: the last Put of an IP wins.
  rocksdb::ColumnFamilyHandle* owners = database.table(Table::kIpOwners);
  rocksdb::WriteBatch batch;
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.table(Table::kIpExpiry)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() <= 8 + kGuidSize) continue;
    status = batch.Put(owners, key.substr(8 + kGuidSize), key.substr(8, kGuidSize));
    if (!status.ok()) return status;
  }
  if (!it->status().ok()) return it->status();
  status = batch.Put(state, keys::kIpOwnerIndexKey, "");
  if (status.ok()) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  return status;
}

}  // namespace dirfeed::changefeed
