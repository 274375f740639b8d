#pragma once
// Decoding of AD attribute values and escaping for filters (DESIGN.md section 4; DNs are
// core/dn.hpp).
#include <optional>
#include <string>
#include <string_view>

namespace dirfeed::ldap {

// objectSid bytes -> "S-1-5-21-...". Empty string when the bytes are not a SID.
std::string sid_to_string(std::string_view bytes);

// "20261123013638.0Z" -> "2026-11-23T01:36:38Z". nullopt when malformed.
std::optional<std::string> generalized_time_to_iso(std::string_view value);

// RFC 4515 escaping of a value placed inside a search filter: * ( ) \ NUL and non-ASCII.
std::string escape_filter_value(std::string_view value);

// A DN returned under the extended DN control (hex form):
// "<GUID=d1073b28...>;<SID=0105...>;CN=x,DC=y" -> GUID bytes and the plain DN.
struct ExtendedDn {
  std::string guid;  // 16 bytes, empty when the value had no GUID part
  std::string dn;
};
ExtendedDn parse_extended_dn(std::string_view value);

// Unsigned 32-bit value of a decimal LDAP integer (AD sends flags such as groupType as
// negative signed numbers); nullopt when not a number.
std::optional<uint32_t> parse_u32(std::string_view value);

}  // namespace dirfeed::ldap
