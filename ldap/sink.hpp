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

// How a full sync ends: what may happen to the objects it did not see.
struct Reconcile {
  size_t max_deletes = 0;  // more would go: none is deleted (held back)
  // false: the DC was behind what the store holds (issue 16): none is deleted, their GUIDs
  // are kept in the committed cursor's `unconfirmed` list.
  bool deletes_confirmed = true;
};

struct ReconcileResult {
  size_t held_back = 0;    // over max_deletes
  size_t unconfirmed = 0;  // kept as unconfirmed
};

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
  // than `how.max_deletes` objects would go, none is deleted, the cursor is still committed
  // and the number held back is returned; when the deletes are not confirmed, none is deleted
  // and their GUIDs become the committed cursor's `unconfirmed` list.
  virtual bool finish_full_sync(const std::string& domain, const GuidSet& seen,
                                const pb::Cursor& cursor, const Reconcile& how,
                                ReconcileResult& result) = 0;

  // ---- the delete guard (issue 12) and its admin decisions --------------------------------

  // The number of deletes an admin allowed for `domain`'s next pass with `dirfeed deletes
  // allow`, or 0; allowance_used() withdraws it once a pass made use of it.
  virtual size_t deletes_allowed(const std::string& domain) = 0;
  virtual void allowance_used(const std::string& domain) = 0;

  // Those of `guids` that the store holds as objects of `domain` from AD.
  virtual std::vector<std::string> known_objects(const std::string& domain,
                                                 const std::vector<std::string>& guids) = 0;
  // How many objects of `domain` from AD are not in `seen` (what a full sync that saw `seen`
  // deletes), the first `keep` of their GUIDs into `kept`; nullopt when the store failed.
  virtual std::optional<size_t> unseen_objects(const std::string& domain, const GuidSet& seen,
                                               size_t keep, std::vector<std::string>& kept) = 0;
};

}  // namespace dirfeed::ldap
