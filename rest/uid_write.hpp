#pragma once
// The write endpoints of the User ID Service API (specs/user-id-service-api.txt): POST, PUT
// and DELETE /user. Authentication is the router's (rest/auth.hpp); these handlers assume the
// caller may write. Bodies are parsed with parse_json (strict: a trailing comma, as in one of
// the spec's examples, is a 400).
//
// Payload attributes read: dn, sAMAccountName, NTLMIdentity or NTLMIIdentity (either
// spelling; both given must agree), mail, displayName, ipv4_addresses, ipv6_addresses,
// objectGUID, groups, timeout (seconds, a number or a string of digits, > 0), changetype (PUT).
// Other attributes are ignored. A wrong type (e.g. groups not an array of strings) is a 400.
// Every address is validated with inet_pton for its family and stored in inet_ntop form; one
// malformed address is a 400 and nothing changes. Group DNs must name stored groups (400
// otherwise), except in PUT delete, where an unknown group is simply not there.
//
// POST /user, /user/{guid}, /user/ntlm-identity/{DOMAIN\user}: creates a user that is not
// from AD (onPremisesSyncEnabled false) -> 200 {"objectGUID": "..."}. The GUID is the URL's,
// else the payload's objectGUID, else generated (random, version 4). The domain is the DC=
// parts of dn, else the part after '@' of mail, else none. 409 when the GUID, dn or NTLM
// identity is taken. 400: empty or non-object payload; neither dn nor NTLM identity; a
// payload objectGUID or NTLM identity different from the URL's; malformed GUID/identity.
//
// PUT /user/{guid}, /user/ntlm-identity/{id}: changetype add / modify / delete of
// ipv4_addresses, ipv6_addresses and groups (Store::change_user) -> 200 {"objectGUID"}.
// 404 unknown user; 400 when changetype is missing or other, or when none of the three
// lists is given (add/delete: or all given ones are empty; modify: an empty list clears).
//
// DELETE /user/{guid}: Store::delete_user (an API user is deleted; a user from AD keeps
// existing, loses its API-added IPs and groups) -> 200 {"objectGUID"}; 404 unknown or already
// deleted; 400 malformed GUID.
#include "rest/api.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

Response uid_create_user(const Call& call, const ApiContext& context);
Response uid_change_user(const Call& call, const ApiContext& context);
Response uid_delete_user(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
