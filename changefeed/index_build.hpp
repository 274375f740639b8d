#pragma once
// Internal to changefeed/: indexes a database written by an older dirfeed lacks, built once
// when it is opened read-write (Store::open), before any other write. Each builder returns at
// once when its marker key in kState says the index is there, and writes that key last: a
// crash halfway leaves it absent, and the next open builds again.
#include <rocksdb/status.h>

#include "changefeed/database.hpp"

namespace dirfeed::changefeed {

// kApiGroupMembers from the stored users' api_groups (marker kApiGroupIndexKey).
rocksdb::Status build_api_group_index(const Database& database);

// kUpnIndex from the stored objects' user_principal_name (marker kUpnIndexKey).
rocksdb::Status build_upn_index(const Database& database);

// kIpOwners from kIpMappings (marker kIpOwnerIndexKey): an IP mapped to several users
// (possible before the index) is owned by the one whose mapping expires last.
rocksdb::Status build_ip_owner_index(const Database& database);

}  // namespace dirfeed::changefeed
