// ChangeWriter's User ID API and IP source writes (change_writer.hpp): API users, their IP
// mappings (one user per IP, expiry) and API groups. The AD diff is in change_writer.cpp.
#include "changefeed/change_writer.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "changefeed/keys.hpp"

namespace dirfeed::changefeed {

// ---- User ID API writes ----------------------------------------------------------------

void ChangeWriter::create_user(pb::DirectoryObject user, int64_t lifetime_us) {
  std::vector<std::string> addresses(user.ipv4_addresses().begin(), user.ipv4_addresses().end());
  addresses.insert(addresses.end(), user.ipv6_addresses().begin(), user.ipv6_addresses().end());
  user.clear_ipv4_addresses();
  user.clear_ipv6_addresses();
  std::vector<std::string> groups(user.api_groups().begin(), user.api_groups().end());
  user.clear_api_groups();
  user.clear_member_of();
  user.set_kind(pb::USER);
  user.set_from_directory(false);
  user.set_last_read_us(now_us_);
  user.clear_last_change();
  user.clear_last_change_us();
  const std::string guid = user.guid();

  CachedObject& entry = cached(guid);
  entry.live = std::move(user);
  entry.needs_write = true;
  update_indexes(nullptr, &*entry.live);
  emit_object(pb::ADD, *entry.live);
  change_api_data(guid, addresses, {}, now_us_ + lifetime_us, groups);
}

void ChangeWriter::change_api_data(const std::string& guid, const std::vector<std::string>& add,
                                   const std::vector<std::string>& remove, int64_t expires_us,
                                   const std::optional<std::vector<std::string>>& groups) {
  pb::DirectoryObject* user = live(guid);
  if (user == nullptr) return;
  auto list_of = [&](const std::string& ip) {
    return ip.find(':') != std::string::npos ? user->mutable_ipv6_addresses()
                                             : user->mutable_ipv4_addresses();
  };

  bool removed = false;
  for (const std::string& ip : remove) {
    const bool mapped = unmap_ip(guid, ip);
    auto* list = list_of(ip);
    auto position = std::find(list->begin(), list->end(), ip);
    if (position != list->end()) {
      list->erase(position);
      removed = true;
    } else {
      removed |= mapped;
    }
  }
  if (removed) emit_ip(pb::IP_DELETE, *user);

  bool added = false;
  for (const std::string& ip : add) {
    // One user per IP: mapping it here takes it from the user that had it.
    std::optional<std::string> owner = ip_owner(ip);
    if (owner && *owner != guid) {
      if (live(*owner) != nullptr) {
        change_api_data(*owner, {}, {ip}, 0, std::nullopt);
      } else {
        unmap_ip(*owner, ip);
      }
      user = live(guid);
    }
    map_ip(guid, ip, expires_us, owner && *owner == guid);
    auto* list = list_of(ip);
    auto position = std::lower_bound(list->begin(), list->end(), ip);
    if (position != list->end() && *position == ip) continue;  // renewed
    const auto index = position - list->begin();
    list->Add(std::string(ip));
    std::rotate(list->begin() + index, list->end() - 1, list->end());
    added = true;
  }
  if (added) emit_ip(pb::IP_ADD, *user);

  if (groups) {
    std::vector<std::string> wanted;
    for (const std::string& group : *groups) {
      const pb::DirectoryObject* stored_group = live(group);
      if (stored_group != nullptr && stored_group->kind() == pb::GROUP) wanted.push_back(group);
    }
    user = live(guid);  // live() may have grown the cache: re-fetch
    std::sort(wanted.begin(), wanted.end());
    wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
    if (!std::equal(wanted.begin(), wanted.end(), user->api_groups().begin(),
                    user->api_groups().end())) {
      const google::protobuf::RepeatedPtrField<std::string> before = user->api_groups();
      user->mutable_api_groups()->Assign(wanted.begin(), wanted.end());
      update_api_group_index(guid, before, user->api_groups());
      cached(guid).needs_write = true;
      mark_modified(guid);
    }
  }
}

size_t ChangeWriter::expire_ip_mappings(int64_t now_us, size_t limit) {
  // Oldest first; grouped per user so each gets one IP_DELETE. An entry may be due before its
  // mapping's expiry (a renewal leaves the earlier entry, see map_ip): it moves to the expiry
  // then; an entry whose mapping is gone is dropped.
  std::vector<std::string> order;
  std::unordered_map<std::string, std::vector<std::string>> per_user;
  size_t scanned = 0;
  size_t count = 0;
  {
    rocksdb::ColumnFamilyHandle* family = database_.table(Table::kIpExpiry);
    std::unique_ptr<rocksdb::Iterator> it(
        database_.db()->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid() && scanned < limit; it->Next(), ++scanned) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() < 8 + kGuidSize) continue;
      const int64_t due_us = keys::decode_time_value(key.substr(0, 8));
      if (due_us > now_us) break;
      std::string user(key.substr(8, kGuidSize));
      std::string ip(key.substr(8 + kGuidSize));
      std::optional<std::string> mapping = get(Table::kIpMappings, keys::ip_mapping(user, ip));
      const int64_t expires_us = mapping ? keys::decode_time_value(*mapping) : 0;
      if (!mapping || expires_us > now_us || expires_us != due_us) {
        erase_unindexed(Table::kIpExpiry, std::string(key));
      }
      if (mapping && expires_us > now_us) {
        put_unindexed(Table::kIpExpiry, keys::ip_expiry(expires_us, user, ip), "");
      }
      if (!mapping || expires_us > now_us) continue;
      auto [entry, inserted] = per_user.try_emplace(user);
      if (inserted) order.push_back(user);
      std::vector<std::string>& ips = entry->second;
      if (std::find(ips.begin(), ips.end(), ip) != ips.end()) continue;  // a second entry of it
      ips.push_back(std::move(ip));
      ++count;
    }
    note(it->status());
  }
  for (const std::string& user : order) {
    if (live(user) == nullptr) {
      for (const std::string& ip : per_user[user]) unmap_ip(user, ip);
    } else {
      change_api_data(user, {}, per_user[user], 0, std::nullopt);
    }
  }
  return count;
}

std::optional<std::string> ChangeWriter::ip_owner(const std::string& ip) {
  auto it = ip_owners_.find(ip);
  if (it == ip_owners_.end()) it = ip_owners_.emplace(ip, get(Table::kIpOwners, ip)).first;
  return it->second;
}

bool ChangeWriter::renew_ip(const std::string& guid, const std::string& ip, int64_t expires_us) {
  // The owner row names a user only while that user is live and lists the IP (both change
  // with it in change_api_data, and a deleted user's mappings go with it).
  if (ip_owner(ip) != guid) return false;
  map_ip(guid, ip, expires_us, /*owned=*/true);
  return true;
}

void ChangeWriter::map_ip(const std::string& user, const std::string& ip, int64_t expires_us,
                          bool owned) {
  // Every mapping has an expiry entry due at or before its expiry. A renewal that extends it
  // leaves the earlier entry (expire_ip_mappings moves it on when it is due), so the renewal
  // of a logon writes only the mapping row.
  const std::string key = keys::ip_mapping(user, ip);
  std::optional<std::string> old = get(Table::kIpMappings, key);
  if (!old || keys::decode_time_value(*old) > expires_us) {
    put_unindexed(Table::kIpExpiry, keys::ip_expiry(expires_us, user, ip), "");
  }
  put(Table::kIpMappings, key, keys::encode_time(expires_us));
  if (!owned) {
    put(Table::kIpOwners, ip, user);
    ip_owners_.insert_or_assign(ip, user);
  }
}

bool ChangeWriter::unmap_ip(const std::string& user, const std::string& ip) {
  const std::string key = keys::ip_mapping(user, ip);
  std::optional<std::string> old = get(Table::kIpMappings, key);
  if (!old) return false;
  erase_unindexed(Table::kIpExpiry, keys::ip_expiry(keys::decode_time_value(*old), user, ip));
  erase(Table::kIpMappings, key);
  if (ip_owner(ip) == user) {
    erase(Table::kIpOwners, ip);
    ip_owners_.insert_or_assign(ip, std::nullopt);
  }
  return true;
}

}  // namespace dirfeed::changefeed
