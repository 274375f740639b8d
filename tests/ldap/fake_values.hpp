#pragma once
// Internal to the fake domain (fake_directory.cpp, fake_session.cpp): value helpers.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/dn.hpp"
#include "core/text.hpp"
#include "ldap/ad_object.hpp"
#include "ldap/directory.hpp"
#include "ldap/values.hpp"
#include "tests/ldap/fake_directory.hpp"

namespace dirfeed::ldap::testing::fake_detail {

constexpr char kCookiePrefix[] = "fake-dirsync:";
// LDAP_DIRSYNC_INCREMENTAL_VALUES: linked values as deltas (member;range=1-1 / 0-0).
constexpr unsigned kIncrementalValues = 0x80000000u;

inline void put_le(std::string& out, uint64_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out += static_cast<char>((value >> (8 * i)) & 0xff);
}

// A binary SID S-1-5-<sub_authorities...>.
inline std::string sid(const std::vector<uint32_t>& sub_authorities) {
  std::string out;
  out += '\x01';
  out += static_cast<char>(sub_authorities.size());
  out += std::string("\0\0\0\0\0\x05", 6);
  for (uint32_t sub : sub_authorities) put_le(out, sub, 4);
  return out;
}
const std::vector<uint32_t> kDomainSid = {21, 1111, 2222, 3333};

// 16 bytes that no other call returns: GUIDs and invocationIds.
inline std::string unique_id(char kind) {
  static std::atomic<uint64_t> next{1};
  std::string id(8, kind);
  put_le(id, next++, 8);
  return id;
}

inline int64_t number(const std::string& text) {
  int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}


inline bool in_scope(const std::string& dn, const std::string& base, Scope scope) {
  switch (scope) {
    case Scope::kBase:
      return lower(dn) == lower(base);
    case Scope::kOneLevel:
      return lower(parent_dn(dn)) == lower(base);
    case Scope::kSubtree:
      return dn_within(dn, base);
  }
  return false;
}

inline bool is_deleted(const FakeEntry& entry) { return lower(entry.first("isdeleted")) == "true"; }

inline std::string lost_connection(const std::string& uri, const std::string& what) {
  return uri + ": " + what + " failed: Can't contact LDAP server";
}

}  // namespace dirfeed::ldap::testing::fake_detail
