#include "rest/changes_api.hpp"

#include <cctype>
#include <charconv>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/auth.hpp"
#include "rest/change_resource.hpp"
#include "rest/iso_time.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/stored_shapes.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;


constexpr std::string_view kChangesMessage = "Delta changes fetched successfully";
constexpr std::string_view kSnapshotMessage =
    "Snapshot of current resources: no lastSyncDate given";
constexpr std::string_view kExpiredSnapshotMessage =
    "Snapshot of current resources: lastSyncDate is older than the retained history";

// {"message": ..., "statusCode": ...}: the document's shape without "data".
Response changes_error(http::status status, std::string_view message) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.member("message", message);
  json.key("statusCode");
  json.number(static_cast<int64_t>(status));
  json.end_object();
  return json_response(status, std::move(body));
}

// A request whose parameters are valid.
struct ChangesRequest {
  pb::ObjectKind kind = pb::USER;
  bool on_premises = true;
  std::optional<int64_t> last_sync_us;
  size_t limit = SIZE_MAX;
};

// The request's parameters, or nullopt with *error saying what is wrong.
std::optional<ChangesRequest> parse_request(const Call& call, std::string* error) {
  ChangesRequest request;
  const std::optional<std::string_view> type = call.query_param("resourceType");
  if (type == "user") {
    request.kind = pb::USER;
  } else if (type == "group") {
    request.kind = pb::GROUP;
  } else if (type == "membership") {
    request.kind = pb::MEMBERSHIP;
  } else {
    *error = type ? "resourceType must be user, group or membership"
                  : "resourceType is required: user, group or membership";
    return std::nullopt;
  }

  const std::optional<std::string_view> sync = call.query_param("onPremisesSyncEnabled");
  if (sync && (iequals(*sync, "true") || iequals(*sync, "false"))) {
    request.on_premises = iequals(*sync, "true");
  } else {
    *error = sync ? "onPremisesSyncEnabled must be true or false"
                  : "onPremisesSyncEnabled is required: true or false";
    return std::nullopt;
  }

  if (const std::optional<std::string_view> date = call.query_param("lastSyncDate")) {
    request.last_sync_us = parse_iso8601_us(*date);
    if (!request.last_sync_us) {
      *error = "lastSyncDate must be an ISO 8601 date-time with Z or an offset, e.g. "
               "2023-05-01T00:00:00Z or 2023-05-01T02:00:00.5+02:00";
      return std::nullopt;
    }
  }

  if (const std::optional<std::string_view> limit = call.query_param("limit")) {
    size_t value = 0;
    const char* const last = limit->data() + limit->size();
    const auto [end, failure] = std::from_chars(limit->data(), last, value);
    if (failure != std::errc() || end != last || value == 0) {
      *error = "limit must be a positive integer";
      return std::nullopt;
    }
    request.limit = value;
  }
  return request;
}

// Whether the feed still holds every entry after `after_us` (see the header).
bool history_complete_after(const changefeed::FeedBounds& bounds, int64_t after_us) {
  if (bounds.newest_sequence == 0 || bounds.oldest_sequence == 1) return true;  // none pruned
  if (bounds.oldest_sequence == 0) return after_us >= bounds.newest_timestamp_us;  // all pruned
  return after_us >= bounds.oldest_timestamp_us - 1;
}

// Appends change records to pieces of the body, with the commas between them.
class RecordWriter {
 public:
  explicit RecordWriter(const ApiContext& context) : context_(context) {}

  // A feed entry; false (nothing written) when it is no directory change (IP mappings).
  bool change(std::string& out, const pb::Change& change) {
    const char* type = change_type(change.type());
    if (type == nullptr) return false;
    JsonWriter json = begin(out, change.kind());
    if (change.kind() == pb::MEMBERSHIP) {
      write_change_membership(json, change.membership().user_guid(),
                              change.membership().group_guid());
    } else {
      write_change_resource(json, change.object(), context_.domains);
    }
    end(json, type, change.timestamp_us(), change.from_directory());
    return true;
  }

  // A snapshot record of a user or group.
  void created(std::string& out, const pb::DirectoryObject& object, int64_t timestamp_us) {
    JsonWriter json = begin(out, object.kind());
    write_change_resource(json, object, context_.domains);
    end(json, "created", timestamp_us, object.from_directory());
  }

  // The record created() writes for a user whose resource is `resource` (its stored
  // kChangesUser JSON, rest/stored_shapes.hpp).
  void created_user(std::string& out, std::string_view resource, bool on_premises,
                    int64_t timestamp_us) {
    if (tail_us_ != timestamp_us || tail_.empty()) {
      tail_us_ = timestamp_us;
      tail_ = R"(,"changeType":"created","timestamp":)";
      append_json_string(tail_, format_iso8601_us(timestamp_us));
      tail_ += R"(,"onPremisesSyncEnabled":)";
    }
    if (!first_) out.push_back(',');
    first_ = false;
    out += R"({"resourceType":"user","resource":)";
    out += resource;
    out += tail_;
    out += on_premises ? "true}" : "false}";
  }

  // A snapshot record of a membership (read from AD, so onPremisesSyncEnabled).
  void created_membership(std::string& out, const std::string& user_guid,
                          const std::string& group_guid, int64_t timestamp_us) {
    JsonWriter json = begin(out, pb::MEMBERSHIP);
    write_change_membership(json, user_guid, group_guid);
    end(json, "created", timestamp_us, true);
  }

 private:
  static const char* change_type(pb::ChangeType type) {
    switch (type) {
      case pb::ADD: return "created";
      case pb::MODIFY: return "updated";
      case pb::DELETE: return "deleted";
      default: return nullptr;
    }
  }

  static const char* resource_type(pb::ObjectKind kind) {
    switch (kind) {
      case pb::USER: return "user";
      case pb::GROUP: return "group";
      default: return "membership";
    }
  }

  JsonWriter begin(std::string& out, pb::ObjectKind kind) {
    if (!first_) out.push_back(',');
    first_ = false;
    JsonWriter json(out);
    json.begin_object();
    json.member("resourceType", resource_type(kind));
    json.key("resource");
    return json;
  }

  static void end(JsonWriter& json, const char* change_type, int64_t timestamp_us,
                  bool on_premises) {
    json.member("changeType", change_type);
    json.member("timestamp", format_iso8601_us(timestamp_us));
    json.key("onPremisesSyncEnabled");
    json.boolean(on_premises);
    json.end_object();
  }


  const ApiContext& context_;
  bool first_ = true;
  std::string tail_;     // created_user: what follows the resource, up to its flag
  int64_t tail_us_ = 0;  // the timestamp in tail_
};

// The body of a 200 answer, produced piece by piece from one StoreView (see the header).
class ChangeListing {
 public:
  ChangeListing(const ApiContext& context, const ChangesRequest& request,
                std::unique_ptr<changefeed::StoreView> view)
      : request_(request),
        view_(std::move(view)),
        records_(context),
        stored_(context.store.has_rendered_records()) {
    const changefeed::FeedBounds bounds = view_->feed_bounds();
    if (!request.last_sync_us) {
      message_ = kSnapshotMessage;
    } else if (!history_complete_after(bounds, *request.last_sync_us)) {
      message_ = kExpiredSnapshotMessage;
    } else {
      snapshot_ = false;
      message_ = kChangesMessage;
      after_us_ = *request.last_sync_us;
    }
    snapshot_us_ = bounds.newest_timestamp_us;
  }

  // ResponseBody::Stream: appends the next piece; false once the body is complete.
  bool next(std::string& out) {
    if (!started_) {
      out += R"({"data":[)";
      started_ = true;
    }
    if (next_records(out)) return true;
    out += R"(],"message":)";
    append_json_string(out, message_);
    out += R"(,"statusCode":200})";
    return false;
  }

 private:
  // Appends up to one piece of records; false once there are no more.
  bool next_records(std::string& out) {
    if (!snapshot_) return next_changes(out);
    if (request_.kind == pb::MEMBERSHIP) return next_snapshot_memberships(out);
    return next_snapshot_objects(out);
  }

  bool next_changes(std::string& out) {
    changefeed::FeedQuery query;
    query.kind = request_.kind;
    query.from_directory = request_.on_premises;
    query.limit = kChangesPieceSize;
    size_t read = 0;
    view_->changes_after_time(after_us_, query, [&](const pb::Change& change) {
      ++read;
      after_us_ = change.timestamp_us();
      if (records_.change(out, change)) ++sent_;
      return sent_ < request_.limit;
    });
    return read == kChangesPieceSize && sent_ < request_.limit;
  }

  // From the users' stored records: pieces of about kStoredPieceBytes (or kChangesPieceSize
  // records read).
  bool next_snapshot_stored_users(std::string& out) {
    size_t read = 0;
    bool more = false;
    view_->rendered_after(static_cast<size_t>(StoredShape::kChangesUser), after_guid_,
                          [&](std::string_view guid, std::string_view record) {
                            after_guid_.assign(guid);
                            const std::optional<StoredUser> user =
                                read_stored_user(StoredShape::kChangesUser, record);
                            if (user && user->from_directory == request_.on_premises) {
                              records_.created_user(out, user->json, user->from_directory,
                                                    snapshot_us_);
                            }
                            more = ++read == kChangesPieceSize || out.size() >= kStoredPieceBytes;
                            return !more;
                          });
    return more;
  }

  bool next_snapshot_objects(std::string& out) {
    if (request_.kind == pb::USER && stored_) return next_snapshot_stored_users(out);
    size_t read = 0;
    bool more = false;
    view_->objects_after(request_.kind, "", after_guid_, [&](const pb::DirectoryObject& object) {
      after_guid_ = object.guid();
      if (object.from_directory() == request_.on_premises) {
        records_.created(out, object, snapshot_us_);
      }
      more = ++read == kChangesPieceSize;
      return !more;
    });
    return more;
  }

  // Each user's member_of: its direct groups from AD, the primary group included, and never
  // groups in groups (member_of of groups is not read). A piece ends after the user that
  // brought it to kChangesPieceSize records.
  bool next_snapshot_memberships(std::string& out) {
    size_t written = 0;
    bool more = false;
    view_->objects_after(pb::USER, "", after_guid_, [&](const pb::DirectoryObject& user) {
      after_guid_ = user.guid();
      // onPremisesSyncEnabled=false: the memberships of SCIM directories (users created with
      // the User ID API have none: their api_groups are not memberships).
      if (user.from_directory() != request_.on_premises) return true;
      for (const std::string& group : user.member_of()) {
        records_.created_membership(out, user.guid(), group, snapshot_us_);
        ++written;
      }
      more = written >= kChangesPieceSize;
      return !more;
    });
    return more;
  }

  const ChangesRequest request_;
  const std::unique_ptr<changefeed::StoreView> view_;
  RecordWriter records_;
  const bool stored_;           // users' records are in the store (rest/stored_shapes.hpp)
  bool snapshot_ = true;        // a snapshot, or the changes after lastSyncDate
  std::string_view message_;
  int64_t snapshot_us_ = 0;     // the timestamp of every snapshot record
  int64_t after_us_ = 0;        // changes: the timestamp of the last entry read
  std::string after_guid_;      // snapshot: the GUID of the last object read
  size_t sent_ = 0;             // records written
  bool started_ = false;
};

}  // namespace

Response directory_changes(const Call& call, const ApiContext& context) {
  if (!request_api_key(call.request)) {
    return changes_error(http::status::unauthorized, "missing API key: send it as x-api-key");
  }
  const std::optional<KeyEntry> key = context.credentials == nullptr
                                          ? std::nullopt
                                          : check_request_api_key(call.request, *context.credentials);
  if (!key) return changes_error(http::status::unauthorized, "invalid API key");
  if (!key->reads_changes()) {
    return changes_error(http::status::forbidden,
                         "this API key is for the Directory Sync API only");
  }
  std::string error;
  const std::optional<ChangesRequest> request = parse_request(call, &error);
  if (!request) return changes_error(http::status::bad_request, error);

  auto listing = std::make_shared<ChangeListing>(context, *request, context.store.view());
  return streamed_response(http::status::ok, "application/json",
                           [listing](std::string& out) { return listing->next(out); });
}

}  // namespace dirfeed::rest
