#pragma once
// An admin's decision to let the deletes a domain holds back go through (`dirfeed deletes
// allow`): a file <state_dir>/deletes-allowed/<domain> holding the number of deletes allowed.
// A file, not the store, so the CLI can write it while the daemon holds the store open; it
// survives restarts. The daemon's next full sync of the domain may delete up to that many
// objects, whatever the DCs' replication state, and then the file is removed.
#include <cstddef>
#include <string>

namespace dirfeed::daemon {

class DeleteAllowance {
 public:
  explicit DeleteAllowance(std::string state_dir) : state_dir_(std::move(state_dir)) {}

  // The number allowed for `domain`, 0 when none (a file that does not hold a number counts
  // as none and is logged).
  size_t allowed(const std::string& domain) const;
  // Allows `count` deletes (replacing an earlier allowance); throws std::runtime_error naming
  // the file when it cannot be written.
  void allow(const std::string& domain, size_t count) const;
  // Withdraws the allowance of `domain` (none is fine); logs when it cannot.
  void withdraw(const std::string& domain) const;

  std::string path(const std::string& domain) const;

 private:
  std::string state_dir_;
};

}  // namespace dirfeed::daemon
