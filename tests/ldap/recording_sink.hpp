#pragma once
// A PassSink that keeps objects and the cursor in memory as changefeed::Store does, as far as
// a poller can tell, and records what each call received, so that a test asserts the exact
// outcome of a pass: the pages handed over, the full syncs ended, and the changes a store
// would have recorded from them.
//
// Simplified from the store: a change is an object added, deleted, or whose DirectoryObject
// fields, complete member set or primary group differ from what is held (partial objects
// update only their present fields; member deltas apply). Feed sequence numbers, indexes and
// memberships are the store's own tests' business.
//
// Threading: the poller hands pages over on another thread but waits for each commit before
// run_pass() returns, so a test reads the fields after the pass.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ldap/sink.hpp"

namespace dirfeed::ldap::testing {

class RecordingSink final : public PassSink {
 public:
  struct Commit {
    std::vector<pb::ObservedObject> objects;
    pb::Cursor cursor;
  };
  struct FullSync {
    GuidSet seen;
    pb::Cursor cursor;
    Reconcile how;
  };

  // ---- what was handed over (clear_records() forgets it, not the stored state) ----------------
  std::vector<Commit> commits;
  std::vector<FullSync> full_syncs;
  // Changes the store would have recorded, in order: "add NAME", "modify NAME", "delete NAME"
  // (NAME: the sAMAccountName).
  std::vector<std::string> changes;
  void clear_records();

  // ---- the stored state ----------------------------------------------------------------------
  std::optional<pb::Cursor> cursor;
  std::map<std::string, pb::ObservedObject> objects;  // by GUID
  size_t allowed = 0;         // what deletes_allowed() answers; allowance_used() clears it
  int allowances_used = 0;
  bool fail_commits = false;  // commit_page and finish_full_sync fail, storing nothing

  std::optional<pb::Cursor> load_cursor(const std::string& domain) override;
  bool commit_page(const std::string& domain, const std::vector<pb::ObservedObject>& objects,
                   const pb::Cursor& cursor) override;
  bool finish_full_sync(const std::string& domain, const GuidSet& seen, const pb::Cursor& cursor,
                        const Reconcile& how, ReconcileResult& result) override;
  size_t deletes_allowed(const std::string& domain) override;
  void allowance_used(const std::string& domain) override;
  std::vector<std::string> known_objects(const std::string& domain,
                                         const std::vector<std::string>& guids) override;
  std::optional<size_t> unseen_objects(const std::string& domain, const GuidSet& seen,
                                       size_t keep, std::vector<std::string>& kept) override;

 private:
  void apply(const pb::ObservedObject& observed);
};

}  // namespace dirfeed::ldap::testing
