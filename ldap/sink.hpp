#pragma once
// The seam between pollers and the store: ldap/ produces pages, whoever implements PassSink
// (daemon/ wires it to changefeed::Store) commits them. ldap/ never sees the store itself.
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "dirfeed.pb.h"

namespace dirfeed::ldap {

// GUIDs (16 raw bytes) of the objects a full sync has seen so far.
using GuidSet = std::unordered_set<std::string>;

class PassSink {
 public:
  virtual ~PassSink() = default;

  // The cursor last committed for `domain`, or nullopt when the domain was never synced.
  virtual std::optional<pb::Cursor> load_cursor(const std::string& domain) = 0;

  // Commits one page of observed objects together with `cursor` in one atomic write.
  // Returns false (and logs why) when the write failed; nothing of the page is then stored.
  virtual bool commit_page(const std::string& domain,
                           const std::vector<pb::ObservedObject>& objects,
                           const pb::Cursor& cursor) = 0;

  // Ends a full sync of `domain`: every object of the domain that came from AD and whose GUID
  // is not in `seen` is deleted, and `cursor` is committed, in one atomic write. When more
  // than `max_deletes` objects would go, none is deleted, the cursor is still committed and
  // the number held back is returned in `held_back`.
  virtual bool finish_full_sync(const std::string& domain, const GuidSet& seen,
                                const pb::Cursor& cursor, size_t max_deletes,
                                size_t& held_back) = 0;
};

}  // namespace dirfeed::ldap
