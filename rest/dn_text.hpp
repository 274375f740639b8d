#pragma once
// Distinguished names as the Directory Sync API takes them from requests (base_dns, group):
// split into RDNs, joined back, compared RDN by RDN. Never used to build LDAP filters.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirfeed::rest {

// The RDNs of a DN as "type=value", without the spaces people type around ',' and '='
// ("OU=Staff, DC=example"), case and escapes kept; nullopt when `dn` is not a DN (empty, an
// RDN without a type, '=' or value, a dangling '\').
std::optional<std::vector<std::string>> dn_parts(std::string_view dn);

// The RDNs joined with ','.
std::string join_dn(const std::vector<std::string>& parts);

// Whether the RDNs `base` end `dn` (case-insensitive): dn is base or under it.
bool ends_with_rdns(const std::vector<std::string>& dn, const std::vector<std::string>& base);

}  // namespace dirfeed::rest
