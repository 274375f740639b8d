#pragma once
// Internal to ldap/: what a pass reads about the DC and the domain before it reads objects.
#include <cstdint>
#include <string>

#include "ldap/ad_object.hpp"
#include "ldap/directory.hpp"
#include "ldap/options.hpp"
#include "ldap/replication.hpp"

namespace dirfeed::ldap {

// What the DC says about itself at the start of a pass.
struct ControllerInfo {
  std::string ds_service_name;  // DN of its NTDS Settings object
  std::string invocation_id;    // 16 bytes
  int64_t highest_usn = 0;
  std::string configuration_nc;
  ReplicationVector up_to_date;  // the domain NC head's replUpToDateVector (not the DC itself)
};

// The DC's highestCommittedUSN now (rootDSE).
Error read_highest_usn(Directory& connection, int64_t& highest_usn);
// Its rootDSE and NTDS Settings: service name, invocationId, highest USN.
Error read_controller_info(Directory& connection, ControllerInfo& info);
// The domain object (SID, up-to-dateness vector into `info`) and its NetBIOS name.
Error read_domain_context(Directory& connection, const DomainOptions& options,
                          ControllerInfo& info, DomainContext& context);

}  // namespace dirfeed::ldap
