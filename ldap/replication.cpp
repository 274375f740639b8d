#include "ldap/replication.hpp"

#include <algorithm>
#include <map>

#include "core/guid.hpp"

namespace dirfeed::ldap {
namespace {

constexpr size_t kHeaderSize = 16;  // dwVersion, dwReserved1, cNumCursors, dwReserved2
constexpr size_t kCursorSize = 32;  // uuidDsa (16), usnHighPropUpdate (8), timeLastSyncSuccess (8)
constexpr size_t kGuidSize = 16;

uint32_t read_u32(std::string_view bytes, size_t at) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value |= uint32_t(uint8_t(bytes[at + i])) << (8 * i);
  return value;
}

int64_t read_i64(std::string_view bytes, size_t at) {
  uint64_t value = 0;
  for (size_t i = 0; i < 8; ++i) value |= uint64_t(uint8_t(bytes[at + i])) << (8 * i);
  return static_cast<int64_t>(value);
}

}  // namespace

std::string parse_up_to_date_vector(std::string_view value, ReplicationVector& vector) {
  vector.clear();
  if (value.empty()) return {};
  if (value.size() < kHeaderSize) return "replUpToDateVector is shorter than its header";
  if (uint32_t version = read_u32(value, 0); version != 2) {
    return "replUpToDateVector has version " + std::to_string(version) + ", not 2";
  }
  uint32_t count = read_u32(value, 8);
  if ((value.size() - kHeaderSize) / kCursorSize < count) {
    return "replUpToDateVector announces " + std::to_string(count) + " cursors in " +
           std::to_string(value.size()) + " bytes";
  }
  for (uint32_t i = 0; i < count; ++i) {
    size_t at = kHeaderSize + i * kCursorSize;
    pb::ReplicationCursor cursor;
    cursor.set_invocation_id(std::string(value.substr(at, kGuidSize)));
    cursor.set_usn(read_i64(value, at + kGuidSize));
    vector.push_back(std::move(cursor));
  }
  return {};
}

ReplicationVector controller_vector(ReplicationVector up_to_date,
                                    const std::string& invocation_id, int64_t highest_usn) {
  std::erase_if(up_to_date, [&](const pb::ReplicationCursor& cursor) {
    return cursor.invocation_id() == invocation_id;
  });
  pb::ReplicationCursor self;
  self.set_invocation_id(invocation_id);
  self.set_usn(highest_usn);
  up_to_date.push_back(std::move(self));
  return up_to_date;
}

std::string uncovered(const ReplicationVector& up_to_date, const std::string& invocation_id,
                      const google::protobuf::RepeatedPtrField<pb::ReplicationCursor>& required) {
  for (const pb::ReplicationCursor& need : required) {
    // The DC has every change it made itself.
    if (need.invocation_id() == invocation_id) continue;
    int64_t has = -1;
    for (const pb::ReplicationCursor& cursor : up_to_date) {
      if (cursor.invocation_id() == need.invocation_id()) has = std::max(has, cursor.usn());
    }
    if (has >= need.usn()) continue;
    std::string words = "changes of invocation " + guid_to_string(need.invocation_id()) +
                        " up to USN " + std::to_string(need.usn()) + " are in the store; the DC ";
    return words + (has < 0 ? "has none of them" : "has them up to USN " + std::to_string(has));
  }
  return {};
}

void merge_vector(google::protobuf::RepeatedPtrField<pb::ReplicationCursor>& into,
                  const ReplicationVector& other) {
  std::map<std::string, int64_t> highest;
  for (const pb::ReplicationCursor& cursor : into) {
    auto [it, added] = highest.emplace(cursor.invocation_id(), cursor.usn());
    if (!added) it->second = std::max(it->second, cursor.usn());
  }
  for (const pb::ReplicationCursor& cursor : other) {
    auto [it, added] = highest.emplace(cursor.invocation_id(), cursor.usn());
    if (!added) it->second = std::max(it->second, cursor.usn());
  }
  into.Clear();
  for (const auto& [invocation_id, usn] : highest) {
    pb::ReplicationCursor* cursor = into.Add();
    cursor->set_invocation_id(invocation_id);
    cursor->set_usn(usn);
  }
}

}  // namespace dirfeed::ldap
