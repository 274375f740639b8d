#pragma once
// Internal to changefeed/: the writes of sources other than AD (Store::write_source and the
// objects of a deleted SCIM directory), applied to one ChangeWriter made for the source
// (domain: the source name, from_directory false).
#include <string>
#include <vector>

#include "changefeed/change_writer.hpp"
#include "changefeed/store.hpp"

namespace dirfeed::changefeed {

// Checks every change's expectation and applies the changes in order; on kNotFound or
// kDuplicate the writer holds a partial write that the caller must not commit.
SourceOutcome apply_source_changes(ChangeWriter& writer, const std::string& source,
                                   const std::vector<SourceChange>& changes);

// Deletes every live object of `source` (groups first, so users leave them as members of a
// deleted group: one MEMBERSHIP DELETE each, then their own DELETE).
void remove_source_objects(ChangeWriter& writer, const std::string& source);

}  // namespace dirfeed::changefeed
