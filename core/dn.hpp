#pragma once
// Distinguished names (RFC 4514), the one place their rules live. Two forms reach dirfeed:
// - DNs as AD writes them (no spaces around ',' and '=', case as stored): an object's DN,
//   a configured search base. dn_within and parent_dn work on that text directly.
// - DNs as people type them into requests ("OU=Staff, DC=example"): dn_parts splits them
//   into RDNs, which compare with ends_with_rdns and join back with join_dn.
// Case rules are ASCII, as AD's. Nothing here builds an LDAP filter (see escape_filter_value).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dirfeed {

// Whether `dn` is `base` or an entry under it, ignoring ASCII case. The ',' before `base` must
// separate RDNs: an escaped one ("CN=a\,OU=x,...") is part of a value. An empty `base`
// contains every DN.
bool dn_within(std::string_view dn, std::string_view base);

// The DN's parent ("OU=Sales,DC=example,DC=test" for "CN=Ann\, B,OU=Sales,..."): what follows
// the first unescaped comma; "" for a DN of one RDN.
std::string parent_dn(std::string_view dn);

// RFC 4514 escaping of an attribute value placed inside a DN.
std::string escape_dn_value(std::string_view value);

// The RDNs of a DN as "type=value", without the spaces people type around ',' and '='
// ("OU=Staff, DC=example"), case and escapes kept; nullopt when `dn` is not a DN (empty, an
// RDN without a type, '=' or value, a dangling '\').
std::optional<std::vector<std::string>> dn_parts(std::string_view dn);

// The RDNs joined with ','.
std::string join_dn(const std::vector<std::string>& parts);

// Whether the RDNs `base` end `dn` (ignoring ASCII case): dn is base or under it.
bool ends_with_rdns(const std::vector<std::string>& dn, const std::vector<std::string>& base);

}  // namespace dirfeed
