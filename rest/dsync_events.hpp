#pragma once
// The Directory Sync API's webhook event log (the reference's, for directories with
// log_webhook_events): every POST of the directory's webhook, kept api.webhook_event_retention
// (default 7 days) and at most api.max_webhook_events per directory (rest/webhooks.hpp).
// API keys as the rest of the Directory Sync API (rest/dsync_api.hpp); a directory outside the
// key's scope is absent.
//
// An event: {"id", "webhook_endpoint", "created_at" (ISO 8601), "status_code" (0: no answer),
// "delivered", "payload": the body as sent}.
//
// GET /api/v1/directory-sync/events?directoryId=ID -> {"data": [events, newest first],
//   "error": null}; pageOffset, pageLimit as for users. 400 without directoryId, 404 unknown.
// GET /api/v1/directory-sync/events/{id} -> {"data": event}; 404 when unknown, or of a
//   directory the key does not see.
// DELETE /api/v1/directory-sync/events?directoryId=ID -> {"data": null, "error": null}, the
//   directory's events deleted.
#include "rest/api.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

Response dsync_events(const Call& call, const ApiContext& context);
Response dsync_event(const Call& call, const ApiContext& context);
Response dsync_delete_events(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
