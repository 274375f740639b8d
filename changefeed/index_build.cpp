#include "changefeed/index_build.hpp"

#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace dirfeed::changefeed {

rocksdb::Status write_from_objects(const Database& database, rocksdb::WriteBatch& batch,
                                   std::string_view marker, std::string_view marker_value,
                                   const ObjectEntries& entries) {
  constexpr size_t kEntriesPerBatch = 10000;
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.table(Table::kObjects)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    pb::DirectoryObject object;
    if (!object.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      continue;
    }
    rocksdb::Status status = entries(object, batch);
    if (!status.ok()) return status;
    if (static_cast<size_t>(batch.Count()) >= kEntriesPerBatch) {
      status = database.db()->Write(rocksdb::WriteOptions(), &batch);
      if (!status.ok()) return status;
      batch.Clear();
    }
  }
  if (!it->status().ok()) return it->status();
  rocksdb::Status status = batch.Put(database.table(Table::kState), marker, marker_value);
  if (status.ok()) status = database.db()->Write(rocksdb::WriteOptions(), &batch);
  return status;
}

namespace {

// Builds an index from the stored objects unless its marker is there.
rocksdb::Status index_objects(const Database& database, std::string_view marker,
                              const ObjectEntries& entries) {
  std::string value;
  rocksdb::Status status =
      database.db()->Get(rocksdb::ReadOptions(), database.table(Table::kState), marker, &value);
  if (!status.IsNotFound()) return status;
  rocksdb::WriteBatch batch;
  return write_from_objects(database, batch, marker, "", entries);
}

}  // namespace

rocksdb::Status build_api_group_index(const Database& database) {
  rocksdb::ColumnFamilyHandle* index = database.table(Table::kApiGroupMembers);
  return index_objects(database, keys::kApiGroupIndexKey,
                       [&](const pb::DirectoryObject& object, rocksdb::WriteBatch& batch) {
                         if (object.kind() != pb::USER) return rocksdb::Status::OK();
                         for (const std::string& group : object.api_groups()) {
                           rocksdb::Status status =
                               batch.Put(index, keys::edge(group, object.guid()), "");
                           if (!status.ok()) return status;
                         }
                         return rocksdb::Status::OK();
                       });
}

rocksdb::Status build_upn_index(const Database& database) {
  rocksdb::ColumnFamilyHandle* index = database.table(Table::kUpnIndex);
  return index_objects(database, keys::kUpnIndexKey,
                       [&](const pb::DirectoryObject& object, rocksdb::WriteBatch& batch) {
                         if (object.user_principal_name().empty()) return rocksdb::Status::OK();
                         return batch.Put(index, keys::upn(object.user_principal_name()),
                                          object.guid());
                       });
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
