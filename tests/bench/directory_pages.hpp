#pragma once
// The synthetic directory the store benchmarks write through Store::apply_page: numbered users
// and groups of example.test as the poller observes them (no LDAP).
#include <cstdint>
#include <string>

#include "dirfeed.pb.h"

namespace dirfeed::testing {

inline constexpr char kBenchDomain[] = "example.test";
inline constexpr char kBenchNetbios[] = "EXAMPLE";
inline constexpr char kBenchDomainSid[] = "S-1-5-21-100-200-300";

// 16 bytes: `kind` (1 users, 2 groups) then `number`, big-endian, then zeros.
inline std::string numbered_guid(uint32_t kind, uint32_t number) {
  std::string guid(16, '\0');
  for (int i = 0; i < 4; ++i) {
    guid[i] = static_cast<char>(kind >> (24 - 8 * i));
    guid[4 + i] = static_cast<char>(number >> (24 - 8 * i));
  }
  return guid;
}

// User `u` (user<u> in OU=People) with the attributes an AD user usually has; primary group
// Domain Users (RID 513).
inline pb::ObservedObject bench_user(int u) {
  pb::ObservedObject observed;
  pb::DirectoryObject& user = *observed.mutable_object();
  const std::string name = "user" + std::to_string(u);
  user.set_guid(numbered_guid(1, u));
  user.set_kind(pb::USER);
  user.set_dn("CN=" + name + ",OU=People,DC=example,DC=test");
  user.set_sam_account_name(name);
  user.set_netbios_domain(kBenchNetbios);
  user.set_sid(std::string(kBenchDomainSid) + "-" + std::to_string(10'000 + u));
  user.set_display_name("User " + std::to_string(u));
  user.set_given_name("Given" + std::to_string(u));
  user.set_surname("Sur" + std::to_string(u));
  user.set_mail(name + "@example.test");
  user.set_title("Title " + std::to_string(u % 50));
  user.set_department("Dept " + std::to_string(u % 20));
  user.set_telephone_number("+1 555 " + std::to_string(10'000 + u));
  user.set_user_principal_name(name + "@example.test");
  user.set_primary_group_id(513);
  observed.set_primary_group_sid(std::string(kBenchDomainSid) + "-513");
  return observed;
}

// Group `g` named `cn` (in OU=Groups; group 0 is Domain Users, RID 513) with its members known:
// the users member(0) .. member(members - 1).
template <typename Member>
pb::ObservedObject bench_group(int g, const std::string& cn, int members, Member member) {
  pb::ObservedObject observed;
  pb::DirectoryObject& group = *observed.mutable_object();
  group.set_guid(numbered_guid(2, g));
  group.set_kind(pb::GROUP);
  group.set_dn("CN=" + cn + ",OU=Groups,DC=example,DC=test");
  group.set_sam_account_name("group" + std::to_string(g));
  group.set_netbios_domain(kBenchNetbios);
  group.set_sid(std::string(kBenchDomainSid) + "-" + std::to_string(g == 0 ? 513 : 20'000 + g));
  observed.set_members_known(true);
  for (int m = 0; m < members; ++m) observed.add_members(numbered_guid(1, member(m)));
  return observed;
}

}  // namespace dirfeed::testing
