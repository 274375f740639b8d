#pragma once
// Turning AD entries into ObservedObjects (DESIGN.md section 4: values, names, membership).
#include <optional>
#include <string>
#include <vector>

#include "dirfeed.pb.h"
#include "ldap/connection.hpp"

namespace dirfeed::ldap {

// What decoding needs to know about the domain an entry came from.
struct DomainContext {
  std::string domain;        // DNS name, lower case
  std::string base_dn;
  std::string netbios_name;
  std::string domain_sid;    // S-1-5-21-...
  std::vector<std::string> search_bases;  // empty: the whole domain is in scope
};

// The attributes dirfeed reads for users and groups. `member_range_step` > 0 asks for
// `member;range=0-(step-1)` instead of plain `member` (ranged retrieval).
std::vector<std::string> object_attributes(int member_range_step);

// Where an incomplete ranged `member` read must continue.
struct MemberRange {
  bool complete = true;  // the last range ended in '*' (or no range was used)
  int next_start = 0;    // first index of the next range when !complete
};

// Appends the GUIDs of the `member` values of `entry` (read with the extended DN control; plain,
// ranged, or DirSync's present values) to `observed.members` and tells whether ranged
// retrieval must continue. Values without a GUID (no extended DN) are skipped.
MemberRange take_members(const Entry& entry, pb::ObservedObject& observed);

// How an entry was read.
enum class ReadMode {
  kComplete,             // a normal search: every attribute asked for that has a value came back
  kDirSyncIncremental,   // DirSync with a cookie: only changed attributes; member deltas
};

// Decodes one entry read with the extended DN control. kDirSyncIncremental: only attributes
// present in the entry are named in present_fields, and `member;range=1-1` / `range=0-0`
// become a members delta.
// Returns nullopt for entries without a usable objectGUID. An entry outside the context's
// search bases comes back as `deleted` (it left the scope). `range` (optional) receives where
// a ranged `member` read must continue.
std::optional<pb::ObservedObject> decode_object(const Entry& entry, const DomainContext& context,
                                                ReadMode mode, MemberRange* range = nullptr);

// True when `dn` equals or lies under `base` (case-insensitive, on an RDN boundary).
bool dn_is_under(const std::string& dn, const std::string& base);

}  // namespace dirfeed::ldap
