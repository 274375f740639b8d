#pragma once
// Up-to-dateness vectors (MS-DRSR REPL_CURSOR): what a DC has replicated, per originating DC.
// Used to decide whether a resync on a DC may delete the objects the DC lacks (issue 16): only
// when the DC has applied every change the store may already hold.
#include <string>
#include <string_view>
#include <vector>

#include "dirfeed.pb.h"

namespace dirfeed::ldap {

using ReplicationVector = std::vector<pb::ReplicationCursor>;

// Decodes the `replUpToDateVector` attribute of a naming context head (UPTODATE_VECTOR_V2_EXT:
// version 2, reserved, count, reserved, then per cursor a 16-byte invocationId, the USN and a
// sync time). An empty value is an empty vector. Returns an error in words, or "".
std::string parse_up_to_date_vector(std::string_view value, ReplicationVector& vector);

// The DC's view of itself and of its partners: its up-to-dateness vector (which does not
// list the DC itself) plus its own invocationId at `highest_usn`.
ReplicationVector controller_vector(ReplicationVector up_to_date,
                                    const std::string& invocation_id, int64_t highest_usn);

// "" when the DC whose up-to-dateness vector is `up_to_date` and whose own invocationId is
// `invocation_id` has applied every change of `required`; otherwise the first entry it lacks,
// in words ("invocation 1b2c... up to USN 3952, the DC has 3950").
std::string uncovered(const ReplicationVector& up_to_date, const std::string& invocation_id,
                      const google::protobuf::RepeatedPtrField<pb::ReplicationCursor>& required);

// The entry-wise maximum of `into` and `other`, into `into` (ordered by invocationId).
void merge_vector(google::protobuf::RepeatedPtrField<pb::ReplicationCursor>& into,
                  const ReplicationVector& other);

}  // namespace dirfeed::ldap
