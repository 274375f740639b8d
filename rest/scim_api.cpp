#include "rest/scim_api.hpp"

#include <array>
#include <charconv>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/json.hpp"
#include "rest/scim_model.hpp"
#include "rest/scim_secret.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

constexpr char kContentType[] = "application/scim+json";
constexpr std::array<std::string_view, 5> kScimTypes = {
    "okta-scim-v2", "azure-scim-v2", "onelogin-scim-v2", "jumpcloud-scim-v2", "generic-scim-v2"};

Response scim_response(http::status status, std::string body) {
  Response response(status, 11);
  response.set(http::field::content_type, kContentType);
  response.body() = std::move(body);
  return response;
}

// RFC 7644 section 3.12; `scim_type` "" leaves scimType out.
Response scim_error(http::status status, std::string_view detail, std::string_view scim_type = "") {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("schemas");
  json.begin_array();
  json.string(kScimErrorSchema);
  json.end_array();
  json.member("detail", detail);
  json.member("status", std::to_string(static_cast<unsigned>(status)));
  if (!scim_type.empty()) json.member("scimType", scim_type);
  json.end_object();
  return scim_response(status, std::move(body));
}

Response invalid(std::string_view detail, std::string_view scim_type = "invalidValue") {
  return scim_error(http::status::bad_request, detail, scim_type);
}

Response store_failure(const Status& status) {
  return scim_error(http::status::internal_server_error, "store write failed: " + status.message());
}

// What a SCIM request is about, once its directory and secret were checked.
struct Target {
  pb::Directory directory;
  std::string source;  // scim_source(directory.id())
  pb::ObjectKind kind = pb::USER;
  std::string base;    // "/api/scim/v2.0/<id>/Users" (or Groups): meta.location's prefix
};

// The directory, kind and authentication of a request; nullopt and *refusal (404, 401, the
// deactivated 200 {}) when it goes no further.
std::optional<Target> target(const Call& call, const ApiContext& context, Response* refusal) {
  const std::string& kind = call.path_param("kind");
  const bool users = iequals(kind, "Users");
  if (!users && !iequals(kind, "Groups")) {
    *refusal = scim_error(http::status::not_found, "unknown resource type \"" + kind + "\"");
    return std::nullopt;
  }
  std::optional<pb::Directory> directory = context.store.directory(call.path_param("directory"));
  if (!directory || !is_scim_directory_type(directory->type())) {
    *refusal = scim_error(http::status::not_found, "directory not found");
    return std::nullopt;
  }
  if (!scim_bearer_matches(call.request, directory->scim_secret_hash())) {
    *refusal = scim_error(http::status::unauthorized, "Unauthorized");
    return std::nullopt;
  }
  if (directory->deactivated()) {
    *refusal = scim_response(http::status::ok, "{}");
    return std::nullopt;
  }
  if (context.sync_writes == nullptr && call.request.method() != http::verb::get) {
    *refusal = scim_error(http::status::internal_server_error, "the store is read-only");
    return std::nullopt;
  }
  Target result;
  result.source = changefeed::scim_source(directory->id());
  result.base = "/api/scim/v2.0/" + directory->id() + (users ? "/Users" : "/Groups");
  result.directory = std::move(*directory);
  result.kind = users ? pb::USER : pb::GROUP;
  return result;
}

std::string location(const Target& target, const pb::DirectoryObject& object) {
  return target.base + "/" + guid_to_string(object.guid());
}

std::string resource_body(const Target& target, const pb::DirectoryObject& object,
                          const ApiContext& context) {
  std::string body;
  JsonWriter json(body);
  if (object.kind() == pb::USER) {
    write_scim_user(json, object, location(target, object));
  } else {
    write_scim_group(json, object, context.store, location(target, object));
  }
  return body;
}

// The live object of the target's source and kind that {id} names, or nullopt.
std::optional<pb::DirectoryObject> addressed(const Call& call, const ApiContext& context,
                                             const Target& target) {
  std::optional<std::string> guid = guid_from_text(call.path_param("id"));
  if (!guid) return std::nullopt;
  std::optional<pb::DirectoryObject> object = context.store.object_by_guid(*guid);
  if (!object || object->domain() != target.source || object->kind() != target.kind) {
    return std::nullopt;
  }
  return object;
}

Response not_found(const Target& target) {
  return scim_error(http::status::not_found,
                    target.kind == pb::USER ? "User not found" : "Group not found");
}

// The target and the object {id} names, for the calls on one resource; nullopt with the
// answer to give (the target's refusal, or 404) in `refusal`.
struct Resource {
  Target target;
  pb::DirectoryObject object;
};
std::optional<Resource> resource_of(const Call& call, const ApiContext& context,
                                    Response* refusal) {
  std::optional<Target> found = target(call, context, refusal);
  if (!found) return std::nullopt;
  std::optional<pb::DirectoryObject> object = addressed(call, context, *found);
  if (!object) {
    *refusal = not_found(*found);
    return std::nullopt;
  }
  return Resource{std::move(*found), std::move(*object)};
}

std::optional<JsonValue> body_json(const Call& call, Response* refusal) {
  std::string problem;
  std::optional<JsonValue> value = parse_json(call.request.body(), &problem);
  if (!value || !value->is_object()) {
    *refusal = invalid(value ? "the body must be a JSON object" : problem, "invalidSyntax");
    return std::nullopt;
  }
  // A password is never stored (as the reference drops it).
  auto& members = value->object();
  std::erase_if(members, [](const auto& member) { return iequals(member.first, "password"); });
  return value;
}

// The resource `body` as an object with `guid` of the target's kind, with its members (groups;
// nullopt: not named) into *observed; "" or what is wrong.
std::string read_resource(JsonValue body, const Target& target, const std::string& guid,
                          pb::ObservedObject* observed) {
  pb::DirectoryObject& object = *observed->mutable_object();
  object.set_guid(guid);
  std::string problem;
  if (target.kind == pb::USER) {
    user_from_scim(std::move(body), &object, &problem);
    return problem;
  }
  std::optional<std::vector<std::string>> members;
  if (!group_from_scim(std::move(body), &object, &members, &problem)) return problem;
  if (members) {
    observed->set_members_known(true);
    for (std::string& member : *members) observed->add_members(std::move(member));
  }
  return "";
}

// Writes one change; the answer for a failed expectation or storage, else nullopt.
std::optional<Response> write(const ApiContext& context, const Target& target,
                              changefeed::SourceChange change) {
  changefeed::SourceOutcome outcome = changefeed::SourceOutcome::kDone;
  const Status status =
      context.sync_writes->write_source(target.source, {std::move(change)}, &outcome);
  if (!status.is_ok()) return store_failure(status);
  if (outcome == changefeed::SourceOutcome::kNotFound) return not_found(target);
  if (outcome == changefeed::SourceOutcome::kDuplicate) {
    return scim_error(http::status::conflict,
                      target.kind == pb::USER ? "User already exists" : "Group already exists",
                      "uniqueness");
  }
  return std::nullopt;
}

// Writes `change` (write()), then answers with the stored object and `status`.
Response written(const ApiContext& context, const Target& target,
                 changefeed::SourceChange change, http::status status) {
  const std::string guid = change.observed.object().guid();
  if (std::optional<Response> failed = write(context, target, std::move(change))) return *failed;
  std::optional<pb::DirectoryObject> object = context.store.object_by_guid(guid);
  if (!object) return not_found(target);  // deleted by a concurrent request meanwhile
  Response response = scim_response(status, resource_body(target, *object, context));
  if (status == http::status::created) response.set(http::field::location, location(target, *object));
  return response;
}

// A positive integer query parameter, `fallback` when absent; nullopt when malformed.
std::optional<uint64_t> positive(const Call& call, std::string_view name, uint64_t fallback) {
  const std::optional<std::string_view> text = call.query_param(name);
  if (!text) return fallback;
  uint64_t value = 0;
  const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (text->empty() || error != std::errc() || end != text->data() + text->size()) return std::nullopt;
  return value;
}

bool filter_matches(const ScimFilter& filter, const pb::DirectoryObject& object) {
  if (filter.attribute == "externalid") return object.external_id() == filter.value;
  if (filter.attribute == "id") return iequals(guid_to_string(object.guid()), filter.value);
  if (filter.attribute == "username") return iequals(object.user_principal_name(), filter.value);
  return iequals(object.display_name(), filter.value);
}

}  // namespace

bool is_scim_directory_type(std::string_view type) {
  for (std::string_view known : kScimTypes) {
    if (type == known) return true;
  }
  return false;
}

std::string scim_path(const pb::Directory& directory) {
  std::string path = "/api/scim/v2.0/" + directory.id();
  if (directory.type() == "azure-scim-v2") path += "?aadOptscim062020";
  return path;
}

// Writes the resource in the request's body as the object `guid` (`expect`: a new one, or the
// existing one it replaces) and answers `status` with it.
Response write_body_resource(const Call& call, const ApiContext& context, const Target& found,
                             const std::string& guid, changefeed::SourceChange::Expect expect,
                             http::status status) {
  Response refusal;
  std::optional<JsonValue> body = body_json(call, &refusal);
  if (!body) return refusal;
  changefeed::SourceChange change;
  change.expect = expect;
  if (std::string problem = read_resource(std::move(*body), found, guid, &change.observed);
      !problem.empty()) {
    return invalid(problem);
  }
  return written(context, found, std::move(change), status);
}

Response scim_create(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Target> found = target(call, context, &refusal);
  if (!found) return refusal;
  return write_body_resource(call, context, *found, new_uuid_guid(),
                             changefeed::SourceChange::Expect::kNew, http::status::created);
}

Response scim_list(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Target> found = target(call, context, &refusal);
  if (!found) return refusal;
  const std::optional<uint64_t> start = positive(call, "startIndex", 1);
  const std::optional<uint64_t> count = positive(call, "count", kScimMaxPageSize);
  if (!start || !count) return invalid("startIndex and count must be non-negative integers");
  const uint64_t first = std::max<uint64_t>(*start, 1);  // RFC 7644: below 1 means 1
  const uint64_t limit = std::min<uint64_t>(*count, kScimMaxPageSize);
  std::optional<ScimFilter> filter;
  if (std::optional<std::string_view> text = call.query_param("filter")) {
    std::string problem;
    filter = parse_scim_filter(*text, &problem);
    if (!filter) return invalid(problem, "invalidFilter");
    const std::string& attribute = filter->attribute;
    if (attribute != "externalid" && attribute != "id" && attribute != "displayname" &&
        !(found->kind == pb::USER && attribute == "username")) {
      return invalid(found->kind == pb::USER
                         ? "filters name userName, externalId, displayName or id"
                         : "filters name displayName, externalId or id",
                     "invalidFilter");
    }
  }

  std::vector<pb::DirectoryObject> page;
  uint64_t total = 0;
  auto consider = [&](const pb::DirectoryObject& object) {
    if (filter && !filter_matches(*filter, object)) return;
    ++total;
    if (total >= first && page.size() < limit) page.push_back(object);
  };
  if (filter && filter->attribute == (found->kind == pb::USER ? "username" : "displayname")) {
    if (auto object = context.store.source_object_by_name(found->source, found->kind, filter->value)) {
      consider(*object);
    }
  } else {
    context.store.objects(found->kind, found->source, [&](const pb::DirectoryObject& object) {
      consider(object);
      return true;
    });
  }

  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("schemas");
  json.begin_array();
  json.string(kScimListSchema);
  json.end_array();
  json.key("totalResults");
  json.number(static_cast<int64_t>(total));
  json.key("startIndex");
  json.number(static_cast<int64_t>(first));
  json.key("itemsPerPage");
  json.number(static_cast<int64_t>(page.size()));
  json.key("Resources");
  json.begin_array();
  for (const pb::DirectoryObject& object : page) {
    if (object.kind() == pb::USER) {
      write_scim_user(json, object, location(*found, object));
    } else {
      write_scim_group(json, object, context.store, location(*found, object));
    }
  }
  json.end_array();
  json.end_object();
  return scim_response(http::status::ok, std::move(body));
}

Response scim_get(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Resource> at = resource_of(call, context, &refusal);
  if (!at) return refusal;
  const Target* found = &at->target;
  const pb::DirectoryObject* object = &at->object;
  return scim_response(http::status::ok, resource_body(*found, *object, context));
}

Response scim_replace(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Resource> at = resource_of(call, context, &refusal);
  if (!at) return refusal;
  return write_body_resource(call, context, at->target, at->object.guid(),
                             changefeed::SourceChange::Expect::kExisting, http::status::ok);
}

Response scim_patch(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Resource> at = resource_of(call, context, &refusal);
  if (!at) return refusal;
  const Target* found = &at->target;
  const pb::DirectoryObject* object = &at->object;
  std::optional<JsonValue> body = body_json(call, &refusal);
  if (!body) return refusal;
  std::string problem;
  std::optional<JsonValue> resource = parse_json(object->source_resource(), &problem);
  if (!resource || !resource->is_object()) resource = JsonValue::make_object();
  ScimMemberChange members;
  if (!apply_scim_patch(*body, *resource, &members, &problem)) return invalid(problem, "invalidPath");

  changefeed::SourceChange change;
  change.expect = changefeed::SourceChange::Expect::kExisting;
  problem = read_resource(std::move(*resource), *found, object->guid(), &change.observed);
  if (!problem.empty()) return invalid(problem);
  pb::ObservedObject& observed = change.observed;
  if (members.replaced) {
    observed.set_members_known(true);
    observed.clear_members();
    for (const std::string& member : *members.replaced) observed.add_members(member);
  } else if (!members.added.empty() || !members.removed.empty()) {
    observed.set_members_delta(true);
    for (const std::string& member : members.added) observed.add_members(member);
    for (const std::string& member : members.removed) observed.add_members_removed(member);
  }
  return written(context, *found, std::move(change), http::status::ok);
}

Response scim_delete(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<Resource> at = resource_of(call, context, &refusal);
  if (!at) return refusal;
  const Target* found = &at->target;
  const pb::DirectoryObject* object = &at->object;
  changefeed::SourceChange change;
  change.expect = changefeed::SourceChange::Expect::kDelete;
  change.observed.mutable_object()->set_guid(object->guid());
  if (std::optional<Response> failed = write(context, *found, std::move(change))) return *failed;
  Response response(http::status::no_content, 11);
  return response;
}

}  // namespace dirfeed::rest
