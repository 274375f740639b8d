#pragma once
// Internal to changefeed/: indexes a database written by an older dirfeed lacks, built once
// when it is opened read-write (Store::open), before any other write. Each builder returns at
// once when its marker key in kState says the index is there, and writes that key last: a
// crash halfway leaves it absent, and the next open builds again.
#include <functional>
#include <string_view>

#include <rocksdb/status.h>
#include <rocksdb/write_batch.h>

#include "changefeed/database.hpp"

namespace dirfeed::changefeed {

// Adds what one stored object contributes (index entries, records) to the batch.
using ObjectEntries =
    std::function<rocksdb::Status(const pb::DirectoryObject&, rocksdb::WriteBatch&)>;

// Reads every stored object once and writes what `entries` makes of them, after what `batch`
// already holds, in batches of bounded size; the last one also puts `marker` = `marker_value`
// into kState. Runs at open, when no other write comes in between.
rocksdb::Status write_from_objects(const Database& database, rocksdb::WriteBatch& batch,
                                   std::string_view marker, std::string_view marker_value,
                                   const ObjectEntries& entries);

// kApiGroupMembers from the stored users' api_groups (marker kApiGroupIndexKey).
rocksdb::Status build_api_group_index(const Database& database);

// kUpnIndex from the stored objects' user_principal_name (marker kUpnIndexKey).
rocksdb::Status build_upn_index(const Database& database);

// kIpOwners from kIpMappings (marker kIpOwnerIndexKey): an IP mapped to several users
// (possible before the index) is owned by the one whose mapping expires last.
rocksdb::Status build_ip_owner_index(const Database& database);

}  // namespace dirfeed::changefeed
