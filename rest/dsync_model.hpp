#pragma once
// What a Directory Sync API directory shows of the store, shared by the API handlers
// (rest/dsync_api) and the webhook events (rest/webhooks): which objects a directory views,
// and the JSON of a user and of a group in the API document's shapes
// (../shared/specs/directory-sync-api.md), with `raw` holding the AD attributes in a
// SCIM-like form.
#include <string>
#include <string_view>

#include "changefeed/store.hpp"
#include "dirfeed.pb.h"
#include "rest/json.hpp"

namespace dirfeed::rest {

// Whether `object` (a user or group) is in the view of `directory`. A SCIM directory (domain: a
// source name, changefeed/store.hpp) views exactly the objects of its source, and no other
// directory views those. Otherwise: it was read from AD, or
// the directory has include_api_users; it belongs to the directory's domain; when base_dns is set, its DN is one of them or under one (compared
// case-insensitively); when group_guid is set, it is that group or a direct member of it
// (member_of, so the primary group counts).
bool in_directory(const pb::Directory& directory, const pb::DirectoryObject& object);
// The same for a user as its stored record keeps it (rest/stored_shapes.hpp): `member_of`
// holds the GUIDs of its groups, 16 bytes each.
bool in_directory(const pb::Directory& directory, std::string_view guid, bool from_directory,
                  std::string_view domain, std::string_view dn, std::string_view member_of);

// The `email` of a user: mail, else userPrincipalName (AD users often have only the UPN,
// which is mail-shaped). May be empty.
std::string user_email(const pb::DirectoryObject& user);

// {"id", "first_name", "last_name", "email", "active", "directoryId", "raw"} of a user
// ("directoryId" left out when `directory_id` is empty: webhook events, as the reference's). An
// object pushed by an identity provider has its resource as pushed as raw
// (source_resource). Otherwise raw:
//   {"schemas": [core User, enterprise User extension], "id", "externalId" (base64 of the
//    objectGUID bytes, as Entra's immutableId), "userName" (userPrincipalName, else
//    NETBIOS\sam), "name": {"givenName", "familyName"}, "displayName", "emails" (work, primary;
//    absent without an email), "phoneNumbers" (telephoneNumber then otherTelephone, work),
//    "title", "active", "groups": [{"value": group id}] (direct groups, primary included),
//    enterprise extension {"department"}, and "urn:dirfeed:params:scim:schemas:extension:ad:1.0:User":
//    {"distinguishedName", "sAMAccountName", "objectSid", "userPrincipalName", "domain",
//     "netbiosDomain", "whenCreated"}}.
// Strings AD does not set are omitted from raw (SCIM style), and are "" in the top-level
// fields. With an empty `directory_id` and `directory_id_at`, *directory_id_at is set to the
// size json.out() had where `,"directoryId":...` would have gone (after "active").
void write_dsync_user(JsonWriter& json, const pb::DirectoryObject& user,
                      std::string_view directory_id, size_t* directory_id_at = nullptr);

// {"id", "name", "directoryId", "raw"} of a group. A pushed group's raw is its resource as
// pushed plus "members" (with a store). Otherwise raw: {"schemas": [core Group], "id", "displayName"
// (displayName, else sAMAccountName), "members" (only when `store` is given: the group's
// direct user members, only those in the view of `directory` when one is given, as
// {"value": id, "display": email or userName}), and
// "urn:dirfeed:params:scim:schemas:extension:ad:1.0:Group": {"distinguishedName",
// "sAMAccountName", "objectSid", "description", "mail", "domain"}}. `name` is raw's
// displayName. With `member_pairs` (GET /groups/:id; needs `store`), the object ends with
// "members": [{"group_id", "user_id"}] of the same users.
void write_dsync_group(JsonWriter& json, const pb::DirectoryObject& group,
                       std::string_view directory_id, const changefeed::Store* store,
                       const pb::Directory* directory = nullptr, bool member_pairs = false);

}  // namespace dirfeed::rest
