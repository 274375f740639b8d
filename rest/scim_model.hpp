#pragma once
// SCIM 2.0 resources (RFC 7643) as dirfeed stores them, for the SCIM service provider of
// rest/scim_api: a User or Group resource into a pb::DirectoryObject of a SCIM directory's
// source and back, the list filters identity providers send, and PATCH operations as Okta and
// Entra ID send them. Pure functions, no store writes.
//
// A stored object keeps the resource as pushed (source_resource: the JSON object, with the
// "id" dirfeed assigned, without "meta", a group's without "members" (those are the store's
// membership edges), `active` made a JSON boolean where Entra sent "True"/"False"); the
// attributes the other APIs serve are copied out of it:
//   userName -> user_principal_name   externalId -> external_id    displayName -> display_name
//   name.givenName / familyName -> given_name / surname            title -> title
//   emails: the primary one, else the first -> mail                phoneNumbers[0] -> telephone_number
//   active false -> user_account_control 0x2 (disabled)            enterprise department -> department
// Attribute names compare case-insensitively (RFC 7643 section 2.1).
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "changefeed/store.hpp"
#include "dirfeed.pb.h"
#include "rest/credentials.hpp"
#include "rest/json.hpp"

namespace dirfeed::rest {

inline constexpr std::string_view kScimUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
inline constexpr std::string_view kScimGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
inline constexpr std::string_view kScimEnterpriseSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
inline constexpr std::string_view kScimListSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
inline constexpr std::string_view kScimErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error";

// Longest userName, displayName or externalId accepted (bytes).
inline constexpr size_t kMaxScimNameLength = 1024;
// Most members one request may name.
inline constexpr size_t kMaxScimMembersPerRequest = 10000;

// A list filter: `<attribute> eq "<value>"`. attribute is one of userName, externalId,
// displayName, id (any case; returned lower-case); the value is a JSON string literal.
struct ScimFilter {
  std::string attribute;
  std::string value;
};
std::optional<ScimFilter> parse_scim_filter(std::string_view text, std::string* problem);

// A User resource (POST or PUT body, or a patched resource) into `user`: kind USER, the
// attributes above and source_resource (`id` set to guid_to_string(user->guid()), which the
// caller sets first). false and *problem when it is not an object, userName is missing or
// empty, a name is too long, or active is neither a boolean nor "true"/"false".
bool user_from_scim(JsonValue resource, pb::DirectoryObject* user, std::string* problem);

// A Group resource into `group` (kind GUID, display_name, external_id, source_resource) and
// the GUIDs its members[].value name in *members (nullopt when it has no "members": PUT keeps
// them then). false and *problem when it is not an object, displayName is missing or empty,
// or a member value is not an id.
bool group_from_scim(JsonValue resource, pb::DirectoryObject* group,
                     std::optional<std::vector<std::string>>* members, std::string* problem);

// What a PATCH does to a group's members, apart from the resource.
struct ScimMemberChange {
  std::optional<std::vector<std::string>> replaced;  // the whole new list
  std::vector<std::string> added;                    // GUIDs
  std::vector<std::string> removed;
};

// Applies a PatchOp body ({"Operations": [{"op", "path", "value"}]}) to `resource` in order:
// op add, replace or remove (any case); without path, value is an object whose members are
// set (dotted names "name.givenName" and extension attributes
// "urn:...:enterprise:2.0:User:department" included); path "a", "a.b", "urn:...:attr",
// "a[b eq \"v\"]" and "a[b eq \"v\"].c" (a multi-valued attribute's matching element).
// add appends to a multi-valued attribute, replace sets, remove deletes. Paths naming
// "members" go to *members instead (value [{"value": id}], or "members[value eq \"id\"]").
// false and *problem (400 invalidSyntax / invalidPath) when the body or an operation is
// malformed.
bool apply_scim_patch(const JsonValue& body, JsonValue& resource, ScimMemberChange* members,
                      std::string* problem);

// The stored resource of a pushed user, with "meta": {"resourceType": "User", "location"}
// (`location`: the resource's URL, "" to leave it out).
void write_scim_user(JsonWriter& json, const pb::DirectoryObject& user, std::string_view location);
// The stored resource of a pushed group with "members": [{"value", "display"}] (its user
// members: their userName) and "meta".
void write_scim_group(JsonWriter& json, const pb::DirectoryObject& group,
                      const changefeed::Store& store, std::string_view location);

}  // namespace dirfeed::rest
