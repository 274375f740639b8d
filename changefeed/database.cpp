#include "changefeed/database.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <system_error>
#include <vector>

#include <rocksdb/cache.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/table.h>

namespace dirfeed::changefeed {
namespace {

// Creates `path` and its missing parents, each owner-only (0700) whatever the umask: outside
// systemd's StateDirectory= nobody else may read the feed. Existing directories keep their
// mode (systemd's StateDirectoryMode=, an admin's choice).
void create_private_directories(const std::filesystem::path& path, std::error_code& ec) {
  if (std::filesystem::exists(path, ec) || ec) return;
  if (path.has_relative_path() && path.has_parent_path() && path.parent_path() != path) {
    create_private_directories(path.parent_path(), ec);
    if (ec) return;
  }
  if (::mkdir(path.c_str(), 0700) != 0) {
    if (errno != EEXIST) ec.assign(errno, std::generic_category());
    return;
  }
  if (::chmod(path.c_str(), 0700) != 0) ec.assign(errno, std::generic_category());
}

}  // namespace

std::unique_ptr<Database> Database::open(const std::string& path, bool read_only,
                                         std::string* error) {
  std::error_code ec;
  if (!read_only) create_private_directories(path, ec);
  if (ec) {
    *error = "cannot create database directory " + path + ": " + ec.message();
    return nullptr;
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  // Memory stays bounded whatever the directory size: the memtables of all tables share one
  // budget (the fullest is flushed when it is used up), the WAL is capped the same way, and
  // reads share one small block cache.
  options.db_write_buffer_size = 16 << 20;
  options.max_total_wal_size = 64 << 20;
  options.keep_log_file_num = 5;
  rocksdb::BlockBasedTableOptions table_options;
  table_options.block_cache = rocksdb::NewLRUCache(8 << 20);
  rocksdb::ColumnFamilyOptions table_family;
  table_family.write_buffer_size = 4 << 20;
  table_family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table_options));
  // The rendered records are read one by one (GET /user/{guid}): a Bloom filter keeps those
  // reads from searching every file that cannot hold the key. Listings read them in long
  // runs: larger blocks, fewer block lookups, and few sorted runs to merge.
  rocksdb::ColumnFamilyOptions rendered_family = table_family;
  rocksdb::BlockBasedTableOptions rendered_options = table_options;
  rendered_options.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  rendered_options.block_size = 32 << 10;
  // Each flush goes straight into the one sorted run below: a listing then merges the memtable
  // and that run instead of several files that each span every key.
  rendered_family.level0_file_num_compaction_trigger = 1;
  rendered_family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(rendered_options));

  // Read-write, a table missing from an older database is created
  // (create_missing_column_families). Read-only cannot create one, and RocksDB refuses to
  // open a family that does not exist: only the existing ones are opened, the others have no
  // handle (see Database::table).
  std::vector<std::string> existing;
  if (read_only) {
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(options, path, &existing);
    if (!listed.ok()) {
      *error = "cannot open database " + path + ": " + listed.ToString();
      return nullptr;
    }
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  std::vector<size_t> opened;  // table index of families[i + 1]
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, table_family);
  for (size_t i = 0; i < kTableCount; ++i) {
    const char* name = table_name(static_cast<Table>(i));
    if (read_only && std::find(existing.begin(), existing.end(), name) == existing.end()) continue;
    families.emplace_back(name, static_cast<Table>(i) == Table::kRendered ? rendered_family
                                                                         : table_family);
    opened.push_back(i);
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status =
      read_only ? rocksdb::DB::OpenForReadOnly(options, path, families, &handles, &raw_db)
                : rocksdb::DB::Open(options, path, families, &handles, &raw_db);
  if (!status.ok()) {
    *error = "cannot open database " + path + ": " + status.ToString();
    return nullptr;
  }

  std::unique_ptr<Database> database(new Database());
  database->db_.reset(raw_db);
  database->default_handle_ = handles[0];
  for (size_t i = 0; i < opened.size(); ++i) database->handles_[opened[i]] = handles[i + 1];
  return database;
}

Database::~Database() {
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    if (handle != nullptr) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  }
  if (default_handle_ != nullptr) {
    db_->DestroyColumnFamilyHandle(default_handle_).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

}  // namespace dirfeed::changefeed
