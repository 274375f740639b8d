#pragma once
// The delete guard (sync.max_deletes, sync.max_delete_percent): a pass that would delete more
// objects than allowed commits nothing of itself, its cursor stays where it was, and the
// domain is "held" until an admin allows the deletes (`dirfeed deletes allow`) or the limit
// is raised. Entra Connect's export deletion threshold, for every pass.
//
// An incremental pass cannot know how many it deletes before it has read everything, so its
// pages are kept here instead of committed, then committed in order, or dropped. Memory: at
// most kMaxKeptObjects observed objects; past that the guard only counts, and a pass within
// the limit is read again and committed page by page (the poller does that).
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "dirfeed.pb.h"
#include "ldap/options.hpp"
#include "ldap/sink.hpp"

namespace dirfeed::ldap {

class DeleteGuard {
 public:
  static constexpr size_t kMaxKeptObjects = 50'000;
  static constexpr size_t kMaxListed = 10'000;  // GUIDs kept for `dirfeed deletes show`

  // `max_kept`: observed objects kept before the guard only counts (tests lower it).
  DeleteGuard(PassSink& sink, std::string domain, size_t max_kept = kMaxKeptObjects)
      : sink_(sink), domain_(std::move(domain)), max_kept_(max_kept) {}

  // Takes one page of the pass and the cursor to commit it with; counts the objects it
  // deletes (deleted or out-of-scope observations of objects the store holds).
  void keep(std::vector<pb::ObservedObject> page, const pb::Cursor& cursor);

  size_t deletes() const { return deletes_; }
  const std::vector<std::string>& listed() const { return listed_; }  // the first kMaxListed
  // More than max_kept came: the pages were dropped, only counted.
  bool overflowed() const { return overflowed_; }

  // Commits the kept pages in order; false when one failed (the sink logged it). Precondition:
  // !overflowed().
  bool commit();

 private:
  PassSink& sink_;
  std::string domain_;
  size_t max_kept_;
  std::vector<std::pair<std::vector<pb::ObservedObject>, pb::Cursor>> pages_;
  size_t kept_objects_ = 0;
  size_t deletes_ = 0;
  std::vector<std::string> listed_;
  bool overflowed_ = false;
};

// The number of deletes a pass may make: sync.max_deletes, lowered to max_delete_percent of
// `objects` (the domain's objects in the store) when that is set, raised to what an admin
// allowed.
size_t delete_limit(const SyncOptions& sync, size_t objects, size_t allowed);

// The setting that makes delete_limit(sync, objects, 0), for messages:
// "sync.max_deletes (500)" or "sync.max_delete_percent (5% of 1000 objects)".
std::string delete_limit_words(const SyncOptions& sync, size_t objects);

// Writes into `cursor` that a pass would have deleted `deletes` objects (the first of them in
// `listed`) and was held, why, since when (kept from an earlier hold).
void record_hold(pb::Cursor& cursor, size_t deletes, std::vector<std::string> listed,
                 std::string reason, int64_t now_us);
void clear_hold(pb::Cursor& cursor);

}  // namespace dirfeed::ldap
