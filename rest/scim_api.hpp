#pragma once
// The SCIM 2.0 service provider (RFC 7644) of Directory Sync directories of the SCIM types
// (okta-scim-v2, azure-scim-v2, onelogin-scim-v2, jumpcloud-scim-v2, generic-scim-v2): the
// identity provider pushes users and groups to /api/scim/v2.0/{directory}/Users and /Groups,
// and they become objects of the directory's source (changefeed/store.hpp, write_source),
// so its lists, webhooks and the Directory Changes API show them.
//
// Authentication: `Authorization: Bearer <scim secret>` (rest/scim_secret.hpp); the routes
// have Access::kApiKey (the handler checks). Order of checks: unknown directory, or one that
// is not of a SCIM type: 404; wrong or missing secret: 401; deactivated directory: 200 {}
// (the reference accepts and drops pushes then); then the request.
//
// Answers are application/scim+json. Errors: {"schemas": [Error], "detail", "status"} (status
// as a string, RFC 7644 section 3.12; "scimType" for 400s of filters, paths and values) with
// 400 (malformed body, filter, startIndex/count), 401, 404 (unknown id), 409 (a user's
// userName or a group's displayName taken in the directory, case-insensitively), 500.
//
// Routes ({kind}: Users or Groups):
//   POST   {kind}        201 with the resource (id assigned: a UUID; meta.location)
//   GET    {kind}        ListResponse {schemas, totalResults, startIndex, itemsPerPage,
//                        Resources}; filter (userName / externalId / displayName / id eq
//                        "..."), startIndex (1-based, default 1), count (default and at most
//                        kScimMaxPageSize)
//   GET    {kind}/{id}   200 the resource
//   PUT    {kind}/{id}   200: the resource replaced (a group's members too when it names them)
//   PATCH  {kind}/{id}   200 with the patched resource (rest/scim_model.hpp apply_scim_patch);
//                        group member changes as deltas; unknown member ids are ignored
//   DELETE {kind}/{id}   204
#include <cstddef>

#include "rest/api.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

inline constexpr size_t kScimMaxPageSize = 1000;

// Whether `type` is one of the SCIM directory types above.
bool is_scim_directory_type(std::string_view type);

// The path of a SCIM directory's endpoint, "/api/scim/v2.0/<id>" ("...?aadOptscim062020" for
// azure-scim-v2, as the reference gives it: Entra ID's flag for RFC-conformant PATCHes).
std::string scim_path(const pb::Directory& directory);

Response scim_create(const Call& call, const ApiContext& context);
Response scim_list(const Call& call, const ApiContext& context);
Response scim_get(const Call& call, const ApiContext& context);
Response scim_replace(const Call& call, const ApiContext& context);
Response scim_patch(const Call& call, const ApiContext& context);
Response scim_delete(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
