#pragma once
// Turning AD entries into ObservedObjects (DESIGN.md section 4: values, names, membership).
#include <optional>
#include <string>
#include <vector>

#include "dirfeed.pb.h"
#include "ldap/directory.hpp"

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

// The range of `member` values an entry held (`member;range=START-END`, END a number or '*'),
// and where an incomplete ranged read must continue. Whether the DC's range follows on from
// the previous one is for MemberRangeGuard (ldap/loop_guard.hpp) to say.
struct MemberRange {
  bool ranged = false;     // the values came as a range: the fields below describe it
  bool valid = true;       // START and END are numbers (END may be '*')
  std::string text;        // "START-END" as the DC wrote it, for messages
  int64_t start = 0;       // START
  bool complete = true;    // no range was used, or END is '*'
  int64_t next_start = 0;  // END + 1 when !complete
};

// Appends the GUIDs of the `member` values of `entry` (read with the extended DN control; plain,
// ranged, or DirSync's present values) to `observed.members` and describes their range (ranged
// retrieval must continue unless it is complete). Values without a GUID (no extended DN) are
// skipped.
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

}  // namespace dirfeed::ldap
