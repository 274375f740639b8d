#pragma once
// Connects pollers to the store: the ldap::PassSink that daemon/ hands to each DomainPoller.
#include <atomic>
#include <cstdint>

#include "changefeed/store.hpp"
#include "ldap/sink.hpp"

namespace dirfeed::daemon {

class StoreSink final : public ldap::PassSink {
 public:
  // `log_changes`: log every change this sink commits at debug level (one line each).
  StoreSink(changefeed::Store& store, bool log_changes) : store_(store), log_changes_(log_changes) {}

  std::optional<pb::Cursor> load_cursor(const std::string& domain) override;
  bool commit_page(const std::string& domain, const std::vector<pb::ObservedObject>& objects,
                   const pb::Cursor& cursor) override;
  bool finish_full_sync(const std::string& domain, const ldap::GuidSet& seen,
                        const pb::Cursor& cursor, size_t max_deletes, size_t& held_back) override;

  // Changes committed since the last call (thread-safe).
  uint64_t take_change_count() { return changes_.exchange(0); }

 private:
  void log_changes_after(const std::string& domain, uint64_t sequence) const;

  changefeed::Store& store_;
  bool log_changes_;
  std::atomic<uint64_t> changes_{0};
};

// One line describing a feed entry, e.g. "add user CN=Smith\, John,... (283b07d1-...)";
// membership entries name the user and group by DN when the store still has them.
std::string describe(const pb::Change& change, const changefeed::Store& store);

}  // namespace dirfeed::daemon
