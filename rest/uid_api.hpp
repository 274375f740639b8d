#pragma once
// The read endpoints of the User ID Service API (specs/user-id-service-api.txt), as functions
// over the store. Single objects are one JSON string. The lists (GET /users, GET /groups) are
// streamed (ResponseBody::Stream, chunked): each piece resumes the store's GUID-ordered
// listing after the last object of the previous one (objects_after) and holds about 32 KiB of
// JSON (at most 256 objects), so a response's memory does not grow with the directory. The
// pieces are separate snapshots: an object changed while a list is sent shows up at most once,
// as it was when its piece was read. The bytes are the same as one string would be.
// When the store keeps the users' records (rest/stored_shapes.hpp), GET /users without
// `group` or `networks` copies them instead, from one view of the store for the whole list
// (the list is one state of the store), in pieces of about kStoredPieceBytes; and GET
// /user/{guid} answers with the user's record. The bytes are the same either way.
//
// Object fields (the spec's attribute tables):
//   user:  dn, changetype, sAMAccountName, NTLMIdentity and NTLMIIdentity (both spellings,
//          the spec uses both; value NETBIOS\sam), mail ("" when none), ipv4_addresses and
//          ipv6_addresses (omitted when empty, as the spec marks them optional), objectGUID
//          (string form), groups (DNs of its direct groups, primary group included, then the
//          groups added through PUT/POST /user, looked up by GUID so renames show), timestamp.
//   group: dn, sAMAccountName, NTLMIdentity, NTLMIIdentity (NETBIOS\name), objectGUID, groups
//          (its parent groups' DNs, as a JSON array), objectClass "Group", changetype,
//          timestamp.
// changetype is the type of the object's newest ADD/MODIFY feed entry ("add" for objects
// stored before that was recorded); timestamp is that entry's time (else the last read) as
// epoch seconds with 6 decimals, a string ("1494892106.333844").
//
// Errors: 400 for bad parameters, 404 for unknown objects, JSON bodies {"error": ...}.
#include "rest/api.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

// GET /domains -> {"domains": [base DNs of the configured domains]}.
Response uid_domains(const Call& call, const ApiContext& context);

// GET /users -> {"users": [user objects]}. Query parameters, all optional, combined:
//   domain    FQDN or base DN of a configured domain (case-insensitive; spaces after commas
//             ignored); an unknown domain gives an empty list.
//   group     DN of a group: only its direct members (primary group members included); an
//             unknown group gives an empty list. Members are read once, at the first piece;
//             the response then holds the GUIDs of those that match (16 bytes each: 1.6 MB
//             for a 100,000-member group) and reads their objects piece by piece.
//   ip_only   "true" (default) or "false": only users with IP addresses (POST/PUT /user).
//   networks  "a.b.c.d-e.f.g.h[,...]" (IPv6 ranges too): only users with an address in one
//             of the ranges. 400 when malformed, mixed families, or end < start.
// An ip_only other than "true"/"false" (any case): 400.
Response uid_users(const Call& call, const ApiContext& context);

// GET /user/{guid} (string form or base64 of the 16 bytes; 400 when neither),
// /user/dn/{dn...}, /user/ntlm-identity/{DOMAIN\user} (both case-insensitive) -> the user
// object; 404 when no live user matches (a group does not).
Response uid_user_by_guid(const Call& call, const ApiContext& context);
Response uid_user_by_dn(const Call& call, const ApiContext& context);
Response uid_user_by_ntlm(const Call& call, const ApiContext& context);

// GET /groups[?domain=DN or FQDN] -> {"groups": [group objects]}.
Response uid_groups(const Call& call, const ApiContext& context);

// GET /status -> {"status": {"Last update": HTTP date of the newest feed entry (when the
// feed is empty: of the newest completed pass; null when neither), "Total domains count",
// "Total users count", "Users count per domain": {FQDN: count}}} over the configured domains.
Response uid_status(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
