#include "ldap/delete_guard.hpp"

#include <algorithm>
#include <cmath>

namespace dirfeed::ldap {

void DeleteGuard::keep(std::vector<pb::ObservedObject> page, const pb::Cursor& cursor) {
  std::vector<std::string> deleted;
  for (const pb::ObservedObject& observed : page) {
    if (observed.deleted()) deleted.push_back(observed.object().guid());
  }
  if (!deleted.empty()) {
    for (std::string& guid : sink_.known_objects(domain_, deleted)) {
      ++deletes_;
      if (listed_.size() < kMaxListed) listed_.push_back(std::move(guid));
    }
  }
  kept_objects_ += page.size();
  if (kept_objects_ > max_kept_) overflowed_ = true;
  if (overflowed_) {
    pages_.clear();
    return;
  }
  pages_.emplace_back(std::move(page), cursor);
}

bool DeleteGuard::commit() {
  for (const auto& [page, cursor] : pages_) {
    if (!sink_.commit_page(domain_, page, cursor)) return false;
  }
  pages_.clear();
  return true;
}

size_t delete_limit(const SyncOptions& sync, size_t objects, size_t allowed) {
  size_t limit = sync.max_deletes;
  if (sync.max_delete_percent > 0) {
    limit = std::min(limit, static_cast<size_t>(std::floor(static_cast<double>(objects) *
                                                           sync.max_delete_percent / 100.0)));
  }
  return std::max(limit, allowed);
}

std::string delete_limit_words(const SyncOptions& sync, size_t objects) {
  if (sync.max_delete_percent > 0 && delete_limit(sync, objects, 0) < sync.max_deletes) {
    return "sync.max_delete_percent (" + std::to_string(int(sync.max_delete_percent)) + "% of " +
           std::to_string(objects) + " objects)";
  }
  return "sync.max_deletes (" + std::to_string(sync.max_deletes) + ")";
}

void record_hold(pb::Cursor& cursor, size_t deletes, std::vector<std::string> listed,
                 std::string reason, int64_t now_us) {
  if (cursor.held_deletes() == 0) cursor.set_held_since_us(now_us);
  cursor.set_held_deletes(static_cast<int64_t>(deletes));
  cursor.set_held_reason(std::move(reason));
  cursor.clear_held_guids();
  for (std::string& guid : listed) cursor.add_held_guids(std::move(guid));
}

void clear_hold(pb::Cursor& cursor) {
  cursor.clear_held_deletes();
  cursor.clear_held_reason();
  cursor.clear_held_since_us();
  cursor.clear_held_guids();
}

}  // namespace dirfeed::ldap
