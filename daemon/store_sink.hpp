#pragma once
// Connects pollers to the store: the ldap::PassSink that daemon/ hands to each DomainPoller.
#include <atomic>
#include <cstdint>
#include <optional>

#include "changefeed/store.hpp"
#include "daemon/delete_allowance.hpp"
#include "ldap/sink.hpp"

namespace dirfeed::daemon {

class StoreSink final : public ldap::PassSink {
 public:
  // `log_changes`: log every change this sink commits at debug level (one line each).
  // `allowance`: where admins allow held-back deletes; none: no admin ever allows any.
  StoreSink(changefeed::Store& store, bool log_changes,
            std::optional<DeleteAllowance> allowance = std::nullopt)
      : store_(store), allowance_(std::move(allowance)), log_changes_(log_changes) {}

  std::optional<pb::Cursor> load_cursor(const std::string& domain) override;
  bool commit_page(const std::string& domain, const std::vector<pb::ObservedObject>& objects,
                   const pb::Cursor& cursor) override;
  bool finish_full_sync(const std::string& domain, const ldap::GuidSet& seen,
                        const pb::Cursor& cursor, const ldap::Reconcile& how,
                        ldap::ReconcileResult& result) override;
  size_t deletes_allowed(const std::string& domain) override;
  void allowance_used(const std::string& domain) override;
  std::vector<std::string> known_objects(const std::string& domain,
                                         const std::vector<std::string>& guids) override;
  std::optional<size_t> unseen_objects(const std::string& domain, const ldap::GuidSet& seen,
                                       size_t keep, std::vector<std::string>& kept) override;

  // Changes committed since the last call (thread-safe).
  uint64_t take_change_count() { return changes_.exchange(0); }

 private:
  void log_changes_after(const std::string& domain, uint64_t sequence) const;

  changefeed::Store& store_;
  std::optional<DeleteAllowance> allowance_;
  bool log_changes_;
  std::atomic<uint64_t> changes_{0};
};

// One line describing a feed entry, e.g. "add user CN=Smith\, John,... (283b07d1-...)";
// membership entries name the user and group by DN when the store still has them.
std::string describe(const pb::Change& change, const changefeed::StoreReads& store);

}  // namespace dirfeed::daemon
