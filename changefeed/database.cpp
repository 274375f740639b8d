#include "changefeed/database.hpp"

#include <filesystem>
#include <system_error>
#include <vector>

namespace dirfeed::changefeed {

std::unique_ptr<Database> Database::open(const std::string& path, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) {
    *error = "cannot create database directory " + path + ": " + ec.message();
    return nullptr;
  }

  rocksdb::Options options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> families;
  families.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (size_t i = 0; i < kTableCount; ++i) {
    families.emplace_back(table_name(static_cast<Table>(i)), rocksdb::ColumnFamilyOptions());
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status status = rocksdb::DB::Open(options, path, families, &handles, &raw_db);
  if (!status.ok()) {
    *error = "cannot open database " + path + ": " + status.ToString();
    return nullptr;
  }

  std::unique_ptr<Database> database(new Database());
  database->db_.reset(raw_db);
  database->default_handle_ = handles[0];
  for (size_t i = 0; i < kTableCount; ++i) database->handles_[i] = handles[i + 1];
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
