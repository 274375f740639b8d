#pragma once
// Facts the APIs derive from a stored user's AD attributes.
#include <cstdint>

#include "dirfeed.pb.h"

namespace dirfeed {

// Whether the account is enabled: userAccountControl without ACCOUNTDISABLE (0x2).
inline bool account_enabled(const pb::DirectoryObject& user) {
  constexpr uint32_t kAccountDisable = 0x2;
  return (user.user_account_control() & kAccountDisable) == 0;
}

}  // namespace dirfeed
