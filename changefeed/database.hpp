#pragma once
// Internal to changefeed/: the open RocksDB database and its column family handles.
#include <array>
#include <memory>
#include <string>

#include <rocksdb/db.h>

#include "changefeed/keys.hpp"
#include "changefeed/renderer.hpp"

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

}  // namespace dirfeed::changefeed
