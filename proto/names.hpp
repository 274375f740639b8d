#pragma once
// The words the feed's records go by outside the store: in logs, in NATS subjects and in the
// JSON of a feed entry.
#include <string_view>

#include "dirfeed.pb.h"

namespace dirfeed {

// "user", "group" or "membership" (an unspecified kind reads as "user").
inline std::string_view kind_name(pb::ObjectKind kind) {
  switch (kind) {
    case pb::GROUP: return "group";
    case pb::MEMBERSHIP: return "membership";
    default: return "user";
  }
}

// "add", "modify", "delete", "ip-add", "ip-delete" ("unknown" for anything else).
inline std::string_view change_type_name(pb::ChangeType type) {
  switch (type) {
    case pb::ADD: return "add";
    case pb::MODIFY: return "modify";
    case pb::DELETE: return "delete";
    case pb::IP_ADD: return "ip-add";
    case pb::IP_DELETE: return "ip-delete";
    default: return "unknown";
  }
}

}  // namespace dirfeed
