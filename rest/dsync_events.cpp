#include "rest/dsync_events.hpp"

#include <cstdint>
#include <optional>
#include <string>

#include "rest/dsync_common.hpp"
#include "rest/iso_time.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

void write_event(JsonWriter& json, const pb::WebhookEvent& event) {
  json.begin_object();
  json.member("id", event.id());
  json.member("webhook_endpoint", event.webhook_endpoint());
  json.member("created_at", format_iso8601_us(event.created_us()));
  json.key("status_code");
  json.number(event.status_code());
  json.key("delivered");
  json.boolean(event.delivered());
  json.key("payload");
  json.raw(event.payload());
  json.end_object();
}

// The directory ?directoryId names when the key sees it; else nullopt and the 400/401/404.
std::optional<pb::Directory> named_directory(const Call& call, const ApiContext& context,
                                             Response* refusal) {
  const std::optional<KeyEntry> key = dsync_key(call, context, refusal);
  if (!key) return std::nullopt;
  const std::optional<std::string_view> id = call.query_param("directoryId");
  if (!id || id->empty()) {
    *refusal = bad_request("directoryId is required");
    return std::nullopt;
  }
  std::optional<pb::Directory> directory = visible_directory(context, *key, std::string(*id));
  if (!directory) *refusal = directory_not_found();
  return directory;
}

}  // namespace

Response dsync_events(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<pb::Directory> directory = named_directory(call, context, &refusal);
  if (!directory) return refusal;
  std::string problem;
  const std::optional<Page> page = requested_page(call, &problem);
  if (!page) return bad_request(problem);
  return success(http::status::ok, [&](JsonWriter& json) {
    json.begin_array();
    uint64_t index = 0;
    context.store.webhook_events(directory->id(), [&](const pb::WebhookEvent& event) {
      if (index >= page->offset) write_event(json, event);
      return ++index < page->end;
    });
    json.end_array();
  });
}

Response dsync_event(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<KeyEntry> key = dsync_key(call, context, &refusal);
  if (!key) return refusal;
  const std::optional<pb::WebhookEvent> event = context.store.webhook_event(call.path_param("id"));
  if (!event || !visible_directory(context, *key, event->directory_id())) {
    return failure(http::status::not_found, "event not found");
  }
  return success(http::status::ok, [&](JsonWriter& json) { write_event(json, *event); });
}

Response dsync_delete_events(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<pb::Directory> directory = named_directory(call, context, &refusal);
  if (!directory) return refusal;
  if (context.sync_writes == nullptr) return read_only();
  size_t deleted = 0;
  const Status status = context.sync_writes->delete_webhook_events(directory->id(), &deleted);
  if (!status.is_ok()) return store_failure(status);
  return success(http::status::ok, [](JsonWriter& json) { json.null(); });
}

}  // namespace dirfeed::rest
