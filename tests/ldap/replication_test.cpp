// Up-to-dateness vectors (ldap/replication.hpp): decoding what Samba returns, and the
// coverage decision that keeps a resync on a DC that is behind from deleting (issue 16).
#include "ldap/replication.hpp"

#include <gtest/gtest.h>

#include "core/base64.hpp"
#include "core/guid.hpp"

namespace dirfeed::ldap {
namespace {

// replUpToDateVector as Samba 4.17 returned it on DC=pair,DC=test of DC1 (tests/samba/two-dcs.sh):
// one cursor, DC2's invocationId at USN 3717.
const std::string kSambaVector = *base64_decode("AgAAAAAAAAABAAAAAAAAABPwyqTpyz5JsW3NYem7DFKFDgAAAAAAAACAPtXesZ0B");

std::string invocation(char fill) { return std::string(16, fill); }

pb::ReplicationCursor entry(const std::string& invocation_id, int64_t usn) {
  pb::ReplicationCursor cursor;
  cursor.set_invocation_id(invocation_id);
  cursor.set_usn(usn);
  return cursor;
}

google::protobuf::RepeatedPtrField<pb::ReplicationCursor> required(
    std::initializer_list<pb::ReplicationCursor> entries) {
  google::protobuf::RepeatedPtrField<pb::ReplicationCursor> field;
  for (const auto& cursor : entries) *field.Add() = cursor;
  return field;
}

TEST(ReplicationTest, DecodesSambasVector) {
  ReplicationVector vector;
  ASSERT_EQ(parse_up_to_date_vector(kSambaVector, vector), "");
  ASSERT_EQ(vector.size(), 1u);
  EXPECT_EQ(guid_to_string(vector[0].invocation_id()), "a4caf013-cbe9-493e-b16d-cd61e9bb0c52");
  EXPECT_EQ(vector[0].usn(), 3717);
}

TEST(ReplicationTest, RejectsMalformedVectorsInWords) {
  ReplicationVector vector;
  EXPECT_EQ(parse_up_to_date_vector("", vector), "");
  EXPECT_TRUE(vector.empty());
  EXPECT_EQ(parse_up_to_date_vector(kSambaVector.substr(0, 10), vector),
            "replUpToDateVector is shorter than its header");
  std::string version1 = kSambaVector;
  version1[0] = 1;
  EXPECT_EQ(parse_up_to_date_vector(version1, vector), "replUpToDateVector has version 1, not 2");
  EXPECT_EQ(parse_up_to_date_vector(kSambaVector.substr(0, 40), vector),
            "replUpToDateVector announces 1 cursors in 40 bytes");
}

TEST(ReplicationTest, ADcCoversWhatItReplicatedAndWhatItMadeItself) {
  const std::string dc1 = invocation('1'), dc2 = invocation('2'), dc3 = invocation('3');
  ReplicationVector dc2_vector = {entry(dc1, 500), entry(dc3, 70)};

  EXPECT_EQ(uncovered(dc2_vector, dc2, required({entry(dc1, 500), entry(dc2, 9000)})), "")
      << "its own changes are always there";
  EXPECT_EQ(uncovered(dc2_vector, dc2, required({entry(dc1, 499), entry(dc3, 70)})), "");
  EXPECT_EQ(uncovered(dc2_vector, dc2, required({entry(dc1, 520)})),
            "changes of invocation " + guid_to_string(dc1) +
                " up to USN 520 are in the store; the DC has them up to USN 500");
  EXPECT_EQ(uncovered(dc2_vector, dc2, required({entry(invocation('4'), 1)})),
            "changes of invocation " + guid_to_string(invocation('4')) +
                " up to USN 1 are in the store; the DC has none of them");
  EXPECT_EQ(uncovered({}, dc2, required({})), "") << "nothing required";
}

TEST(ReplicationTest, ControllerVectorAddsTheDcItselfAndMergeKeepsTheHighest) {
  const std::string dc1 = invocation('1'), dc2 = invocation('2');
  ReplicationVector dc1_view = controller_vector({entry(dc2, 300), entry(dc1, 5)}, dc1, 800);
  ASSERT_EQ(dc1_view.size(), 2u);
  EXPECT_EQ(dc1_view[1].invocation_id(), dc1);
  EXPECT_EQ(dc1_view[1].usn(), 800) << "a stale entry for the DC itself is replaced";

  auto seen = required({entry(dc2, 400)});
  merge_vector(seen, dc1_view);
  ASSERT_EQ(seen.size(), 2);
  EXPECT_EQ(seen[0].invocation_id(), dc1);
  EXPECT_EQ(seen[0].usn(), 800);
  EXPECT_EQ(seen[1].invocation_id(), dc2);
  EXPECT_EQ(seen[1].usn(), 400) << "the higher of the two";
}

}  // namespace
}  // namespace dirfeed::ldap
