#pragma once
// The Directory Sync API (../shared/specs/directory-sync-api.md) over the store. A directory
// is a named view of one configured AD domain for one tenant and product, optionally
// narrowed to OUs or to a group, or (a SCIM type) what an identity provider pushes to its
// SCIM endpoint (rest/scim_api.hpp), with an optional webhook (rest/webhooks delivers it); the
// users and groups a directory shows are the stored objects in its view (in_directory of
// rest/dsync_model.hpp), in the JSON shapes of rest/dsync_model.hpp.
//
// Authentication: every route needs an API key from api.keys_file (`Authorization: Api-Key
// KEY` or `x-api-key: KEY`), checked here (route access Access::kApiKey); missing or unknown:
// 401. Every answer has the document's shape: {"data": ..., "error": null}, or
// {"data": null, "error": {"message": "..."}} with 400 (bad parameters or body), 401, 404
// (unknown directory, user or group), 500 (store failure, or no writable store).
//
// Directories, as JSON: {"id", "name", "tenant", "product", "type", "log_webhook_events",
// "deactivated", "scim": {"path", "secret", "endpoint"} (null for active-directory; a SCIM
// directory's secret only in its create answer, null after), "webhook": {"endpoint", "secret"}
// (the secret is echoed, as the reference implementation does), and ours: "domain" (null for
// SCIM), "base_dns", "group" (GUID string form, null when not narrowed), "webhook_batch_size",
// "include_api_users"}.
#include <cstddef>
#include <cstdint>

#include "rest/api.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

// Objects read from the store per piece of a streamed list.
inline constexpr size_t kDsyncObjectsPerPiece = 256;
// Largest webhook_batch_size accepted.
inline constexpr uint32_t kMaxWebhookBatchSize = 1000;

// POST /api/v1/directory-sync -> 201 with the new directory. JSON object body:
//   tenant, product   required strings, non-empty, without ':'
//   name              string; default "<tenant>-<product>"
//   type              "active-directory" (the default) or a SCIM type (is_scim_directory_type;
//                     then domain, base_dns and group are 400): its bearer secret is made here
//   domain            FQDN or base DN of a configured domain (case-insensitive); may be
//                     omitted when exactly one domain is configured
//   base_dns          array of DNs, each the domain's base DN or under it: only objects at or
//                     under one of them (stored without spaces around ',' and '=')
//   group             a stored group of the domain, by objectGUID (string form or base64) or
//                     DN: only that group and its direct members (primary group included)
//   webhook_url       "" (no webhook) or an http:// or https:// URL
//   webhook_secret    string ("": events are not signed)
//   webhook_batch_size  integer 0..kMaxWebhookBatchSize (0 or 1: one event per POST)
//   log_webhook_events  boolean: log every webhook POST (rest/dsync_events.hpp)
//   deactivated       boolean: no webhooks, and a SCIM directory drops pushes (200 {})
// Other members are ignored; null counts as absent. The id is a random UUID (RAND_bytes).
Response dsync_create_directory(const Call& call, const ApiContext& context);

// GET /api/v1/directory-sync?tenant=T&product=P -> the directories of that tenant and product
// (exact, case-sensitive), oldest first; 400 unless both are given.
Response dsync_list_directories(const Call& call, const ApiContext& context);

// GET /api/v1/directory-sync/{id} -> the directory; 404 when unknown.
Response dsync_get_directory(const Call& call, const ApiContext& context);

// PATCH /api/v1/directory-sync/{id} -> 200 with the changed directory. JSON object body with
// any of name, webhook_url, webhook_secret, webhook_batch_size, log_webhook_events,
// include_api_users, deactivated, validated
// as for POST; members given replace the stored values, absent ones (and an empty name) keep
// them. Other members (tenant, product, type, domain, base_dns, group included) are
// ignored, as the reference ignores them: a view is not re-scoped, create a new directory.
// Where webhook delivery stands is kept.
Response dsync_update_directory(const Call& call, const ApiContext& context);

// DELETE /api/v1/directory-sync/{id} -> 200 {"data": {}, "error": null}: the directory, its
// webhook state and event log are gone, so its webhook stops (the dispatcher reads the
// directories each round), and a SCIM directory's pushed objects are deleted (feed DELETE
// entries, Store::delete_directory). 404 when unknown.
Response dsync_delete_directory(const Call& call, const ApiContext& context);

// The directory of the users and groups routes: ?directoryId=ID, else ?tenant=T&product=P
// naming the oldest directory of that tenant and product (the reference keeps one directory
// per tenant and product in practice; pass directoryId to choose among several). With both,
// the directory must also have that tenant and product. 400 when neither is given, 404 when
// no directory matches.
//
// GET /api/v1/directory-sync/users -> the users in the directory's view, GET .../groups ->
// its groups (raw.members: their user members in the view), GUID order, streamed in pieces
// of kDsyncObjectsPerPiece objects read (each piece its own read of the store); users, when
// the store keeps their records (rest/stored_shapes.hpp), from one view of the store for the
// whole list, in pieces of about kStoredPieceBytes. pageOffset
// (objects in the view to skip, default 0) and pageLimit (at most that many, default all) are optional
// non-negative integers; anything else is 400.
Response dsync_users(const Call& call, const ApiContext& context);
Response dsync_groups(const Call& call, const ApiContext& context);

// GET /api/v1/directory-sync/users/{id} and .../groups/{id} (objectGUID string form or
// base64) -> the user, or the group with "members": [{"group_id", "user_id"}] (its user
// members in the view); 404 when it is not a stored user/group in the directory's view.
Response dsync_user(const Call& call, const ApiContext& context);
Response dsync_group(const Call& call, const ApiContext& context);

// GET /api/v1/directory-sync/groups/{id}/members -> {"data": [{"user_id"}], "error": null}:
// the group's user members in the view (the reference's route); pageOffset, pageLimit.
Response dsync_group_members(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
