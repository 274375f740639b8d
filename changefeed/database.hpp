#pragma once
// Internal to changefeed/: the open RocksDB database and its column family handles.
#include <array>
#include <memory>
#include <optional>
#include <string>

#include <rocksdb/db.h>

#include "changefeed/keys.hpp"
#include "changefeed/renderer.hpp"
#include "dirfeed.pb.h"

namespace dirfeed::changefeed {

class Database {
 public:
  // Opens (creating when missing, with every table) the database in directory `path`; with
  // `read_only`, an existing one for reads only (DB::OpenForReadOnly: no lock, so another
  // process may have it open for writing). On failure returns nullptr and sets *error to a
  // message naming the path and the cause.
  static std::unique_ptr<Database> open(const std::string& path, bool read_only,
                                        std::string* error);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  // The table's handle. Never nullptr read-write; read-only, nullptr for a table the database
  // does not have yet (written by an older dirfeed and not opened read-write since): readers
  // of such a table find it empty.
  rocksdb::ColumnFamilyHandle* table(Table table) const {
    return handles_[static_cast<size_t>(table)];
  }

  // The renderer of the kRendered records (StoreOptions::renderer): nullptr when the store
  // keeps none. Set once by Store::open, before any write.
  const Renderer* renderer() const { return renderer_; }
  void set_renderer(const Renderer* renderer) { renderer_ = renderer; }

 private:
  Database() = default;

  std::unique_ptr<rocksdb::DB> db_;
  rocksdb::ColumnFamilyHandle* default_handle_ = nullptr;
  std::array<rocksdb::ColumnFamilyHandle*, kTableCount> handles_{};
  const Renderer* renderer_ = nullptr;
};

// One consistent view of the database for the duration of one query.
class SnapshotReader {
 public:
  explicit SnapshotReader(const Database& database)
      : database_(database), snapshot_(database.db()->GetSnapshot()) {
    options_.snapshot = snapshot_;
  }
  ~SnapshotReader() { database_.db()->ReleaseSnapshot(snapshot_); }
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // nullopt when absent or unreadable: queries have no error channel, and a read error of
  // one record must not hide the others.
  std::optional<std::string> get(Table table, const rocksdb::Slice& key) const {
    std::string value;
    rocksdb::ColumnFamilyHandle* family = database_.table(table);
    if (family == nullptr || !database_.db()->Get(options_, family, key, &value).ok()) {
      return std::nullopt;
    }
    return value;
  }

  template <typename Message>
  std::optional<Message> get_message(Table table, const rocksdb::Slice& key) const {
    std::optional<std::string> value = get(table, key);
    Message message;
    if (!value || !message.ParseFromString(*value)) return std::nullopt;
    return message;
  }

  std::optional<pb::DirectoryObject> object(const rocksdb::Slice& guid) const {
    return get_message<pb::DirectoryObject>(Table::kObjects, guid);
  }

  // The object a name index maps `key` to.
  std::optional<pb::DirectoryObject> object_by_index(Table index, const std::string& key) const {
    std::optional<std::string> guid = get(index, key);
    if (!guid) return std::nullopt;
    return object(*guid);
  }

  const Database& database() const { return database_; }

  // Over an empty table when the database does not have it (Database::table).
  std::unique_ptr<rocksdb::Iterator> iterator(Table table) const {
    rocksdb::ColumnFamilyHandle* family = database_.table(table);
    if (family == nullptr) return std::unique_ptr<rocksdb::Iterator>(rocksdb::NewEmptyIterator());
    return std::unique_ptr<rocksdb::Iterator>(database_.db()->NewIterator(options_, family));
  }

 private:
  const Database& database_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions options_;
};

}  // namespace dirfeed::changefeed
