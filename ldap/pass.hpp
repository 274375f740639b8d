#pragma once
// Internal to ldap/: one pass of a DomainPoller (poller.hpp) on one open connection.
#include <atomic>
#include <vector>

#include "ldap/directory.hpp"
#include "ldap/controller_health.hpp"
#include "ldap/options.hpp"
#include "ldap/poller.hpp"
#include "ldap/sink.hpp"

namespace dirfeed::ldap {

// Reads what changed since the stored cursor (or everything, when a full sync is due) from
// the DC behind `connection` and hands it to `sink`, filling `result`. An error means the DC failed (the
// caller fails over); a stopped pass commits nothing partial.
Error run_pass_on(const DomainOptions& options, PassSink& sink, const ControllerHealth& health,
                  Directory& connection, const std::atomic<bool>& stop, PassResult& result);

// The failing DCs of `states` into `cursor` (for `dirfeed status`). True when that changed
// the cursor.
bool set_problems(pb::Cursor& cursor, const std::vector<ControllerState>& states);

}  // namespace dirfeed::ldap
