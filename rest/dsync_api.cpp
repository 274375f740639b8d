#include "rest/dsync_api.hpp"

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/dn.hpp"
#include "core/guid.hpp"
#include "rest/body_fields.hpp"
#include "rest/credentials.hpp"
#include "rest/dsync_common.hpp"
#include "rest/dsync_model.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/scim_api.hpp"
#include "rest/scim_model.hpp"
#include "rest/scim_secret.hpp"
#include "rest/webhook_client.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kType = "active-directory";

// ---- DNs and domains -----------------------------------------------------------------------

std::string domain_names(const ApiContext& context) {
  std::string names;
  for (const DomainInfo& domain : context.domains) {
    if (!names.empty()) names += ", ";
    names += domain.name;
  }
  return names;
}

// ---- request bodies ------------------------------------------------------------------------

// A create's or update's key (dsync_write_key) and its JSON object body.
struct WriteRequest {
  KeyEntry key;
  JsonValue body;
};

// The write request `call` makes; nullopt and the 401/403/500, or the 400 naming what is wrong
// with the body, in *refusal.
std::optional<WriteRequest> write_request(const Call& call, const ApiContext& context,
                                          Response* refusal) {
  std::optional<KeyEntry> key = dsync_write_key(call, context, refusal);
  if (!key) return std::nullopt;
  if (call.request.body().empty()) {
    *refusal = bad_request("a JSON object body is required");
    return std::nullopt;
  }
  std::string problem;
  std::optional<JsonValue> value = parse_json(call.request.body(), &problem);
  if (!value) {
    *refusal = bad_request(problem);
    return std::nullopt;
  }
  if (!value->is_object()) {
    *refusal = bad_request("the JSON body must be an object");
    return std::nullopt;
  }
  return WriteRequest{std::move(*key), std::move(*value)};
}

// Applies the members POST and PATCH share (name, webhook_url, webhook_secret,
// webhook_batch_size, log_webhook_events, include_api_users) that `body` gives to
// `directory`; an empty name keeps the current one. Returns what is wrong, "" when nothing is.
std::string apply_settings(const JsonValue& body, pb::Directory& directory) {
  BodyFields fields(body);
  const std::optional<std::string> name = fields.string("name");
  const std::optional<std::string> url = fields.string("webhook_url");
  const std::optional<std::string> secret = fields.string("webhook_secret");
  const std::optional<uint32_t> batch = fields.count("webhook_batch_size", kMaxWebhookBatchSize);
  const std::optional<bool> log = fields.boolean("log_webhook_events");
  const std::optional<bool> api_users = fields.boolean("include_api_users");
  const std::optional<bool> deactivated = fields.boolean("deactivated");
  if (!fields.problem().empty()) return fields.problem();
  if (url && !url->empty()) {
    // The grammar the webhook client sends to (rest/webhook_client.hpp).
    std::string error;
    if (!WebhookUrl::parse(*url, &error)) return "webhook_url: " + error;
  }
  if (name && !name->empty()) directory.set_name(*name);
  if (url) directory.set_webhook_url(*url);
  if (secret) directory.set_webhook_secret(*secret);
  if (batch) directory.set_webhook_batch_size(*batch);
  if (log) directory.set_log_webhook_events(*log);
  if (api_users) directory.set_include_api_users(*api_users);
  if (deactivated) directory.set_deactivated(*deactivated);
  return "";
}

// What refuses the receiver that `body`'s webhook_url names (rest/webhook_target.hpp), ""
// when nothing does or there is no such URL (a malformed one is apply_settings' to report).
// Resolves the host: call it outside the store's lock.
std::string webhook_target_problem(const JsonValue& body, const ApiContext& context) {
  const JsonValue* url = body.find("webhook_url");
  if (url == nullptr || !url->is_string() || url->text().empty()) return "";
  std::string error;
  const std::optional<WebhookUrl> parsed = WebhookUrl::parse(url->text(), &error);
  if (!parsed) return "";
  const std::string refusal = webhook_host_refusal(parsed->host, context.webhook_targets);
  return refusal.empty() ? "" : "webhook_url: " + refusal;
}

std::string new_directory_id() { return guid_to_string(new_uuid_guid()); }

// ---- directories ---------------------------------------------------------------------------

// What a directory's "scim" shows beyond its stored record: the secret (only in the answer to
// its creation) and the scheme and host of scim.endpoint.
struct ScimShown {
  std::string_view secret;
  std::string base_url;  // "<scheme>://<host>", "" without a Host header
};

ScimShown scim_shown(const Call& call, const ApiContext& context, std::string_view secret = "") {
  const auto host = call.request.find(http::field::host);
  std::string base;
  if (host != call.request.end() && !host->value().empty()) {
    base = context.scheme + "://" + std::string(host->value());
  }
  return ScimShown{secret, std::move(base)};
}

void write_directory(JsonWriter& json, const pb::Directory& directory, const ScimShown& shown) {
  const bool scim = is_scim_directory_type(directory.type());
  json.begin_object();
  json.member("id", directory.id());
  json.member("name", directory.name());
  json.member("tenant", directory.tenant());
  json.member("product", directory.product());
  json.member("type", directory.type());
  json.key("log_webhook_events");
  json.boolean(directory.log_webhook_events());
  json.key("deactivated");
  json.boolean(directory.deactivated());
  json.key("scim");
  json.begin_object();
  const auto string_or_null = [&](std::string_view name, const std::string& text) {
    json.key(name);
    if (text.empty()) {
      json.null();
    } else {
      json.string(text);
    }
  };
  const std::string path = scim ? scim_path(directory) : "";
  string_or_null("path", path);
  string_or_null("secret", std::string(scim ? shown.secret : ""));
  string_or_null("endpoint", scim && !shown.base_url.empty() ? shown.base_url + path : "");
  json.end_object();
  json.key("webhook");
  json.begin_object();
  json.member("endpoint", directory.webhook_url());
  json.member("secret", directory.webhook_secret());
  json.end_object();
  json.key("domain");
  if (scim) {
    json.null();
  } else {
    json.string(directory.domain());
  }
  json.key("base_dns");
  json.begin_array();
  for (const std::string& dn : directory.base_dns()) json.string(dn);
  json.end_array();
  json.key("group");
  if (directory.group_guid().empty()) {
    json.null();
  } else {
    json.string(guid_to_string(directory.group_guid()));
  }
  json.key("webhook_batch_size");
  json.number(directory.webhook_batch_size());
  json.key("include_api_users");
  json.boolean(directory.include_api_users());
  json.end_object();
}

Response directory_response(http::status status, const pb::Directory& directory,
                            const ScimShown& shown) {
  return success(status, [&](JsonWriter& json) { write_directory(json, directory, shown); });
}

}  // namespace

Response dsync_create_directory(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<WriteRequest> request = write_request(call, context, &refusal);
  if (!request) return refusal;

  BodyFields fields(request->body);
  const std::optional<std::string> tenant = fields.string("tenant");
  const std::optional<std::string> product = fields.string("product");
  const std::optional<std::string> type = fields.string("type");
  const std::optional<std::string> domain_name = fields.string("domain");
  const std::optional<std::vector<std::string>> base_dns = fields.strings("base_dns");
  const std::optional<std::string> group = fields.string("group");
  if (!fields.problem().empty()) return bad_request(fields.problem());
  if (!tenant || tenant->empty() || !product || product->empty()) {
    return bad_request("tenant and product are required");
  }
  if (tenant->find(':') != std::string::npos || product->find(':') != std::string::npos) {
    return bad_request("tenant and product must not contain ':'");
  }
  if (!request->key.covers(*tenant, *product)) return outside_scope();
  const bool scim = type && is_scim_directory_type(*type);
  if (type && *type != kType && !scim) {
    return bad_request("unsupported type \"" + *type + "\": the accepted types are \"" +
                       std::string(kType) +
                       "\", okta-scim-v2, azure-scim-v2, onelogin-scim-v2, jumpcloud-scim-v2 "
                       "and generic-scim-v2");
  }
  if (scim && (domain_name || base_dns || group)) {
    return bad_request("domain, base_dns and group are for active-directory directories: a SCIM "
                       "directory holds what its identity provider pushes");
  }

  const DomainInfo* domain = nullptr;
  if (scim) {
    // No AD domain: the directory's objects are its source's.
  } else if (domain_name) {
    domain = find_domain(context, *domain_name);
    if (domain == nullptr) {
      return bad_request("unknown domain \"" + *domain_name + "\"; configured: " +
                         domain_names(context));
    }
  } else if (context.domains.size() == 1) {
    domain = &context.domains.front();
  } else {
    return bad_request("domain is required; configured: " + domain_names(context));
  }

  pb::Directory directory;
  directory.set_id(new_directory_id());
  directory.set_tenant(*tenant);
  directory.set_product(*product);
  directory.set_type(scim ? *type : std::string(kType));
  std::string secret;
  if (scim) {
    directory.set_domain(changefeed::scim_source(directory.id()));
    secret = new_scim_secret();
    directory.set_scim_secret_hash(scim_secret_hash(secret));
  } else {
    directory.set_domain(domain->name);
  }
  if (base_dns) {
    const std::optional<std::vector<std::string>> domain_base = dn_parts(domain->base_dn);
    for (const std::string& dn : *base_dns) {
      const std::optional<std::vector<std::string>> parts = dn_parts(dn);
      if (!parts) return bad_request("base_dns: \"" + dn + "\" is not a DN");
      if (!domain_base || !ends_with_rdns(*parts, *domain_base)) {
        return bad_request("base_dns: \"" + dn + "\" is not under " + domain->base_dn);
      }
      directory.add_base_dns(join_dn(*parts));
    }
  }
  if (group) {
    std::optional<pb::DirectoryObject> found;
    if (std::optional<std::string> guid = guid_from_text(*group)) {
      found = context.store.object_by_guid(*guid);
    } else if (std::optional<std::vector<std::string>> parts = dn_parts(*group)) {
      found = context.store.object_by_dn(join_dn(*parts));
    }
    if (!found || found->kind() != pb::GROUP || found->domain() != domain->name) {
      return bad_request("group: no group \"" + *group + "\" in " + domain->name);
    }
    directory.set_group_guid(found->guid());
  }
  std::string problem = webhook_target_problem(request->body, context);
  if (problem.empty()) problem = apply_settings(request->body, directory);
  if (!problem.empty()) return bad_request(problem);
  if (directory.name().empty()) directory.set_name(*tenant + "-" + *product);
  static const SystemClock kSystemClock;
  directory.set_created_us((context.clock != nullptr ? *context.clock : kSystemClock).now_us());

  // One create at a time, so that concurrent ones cannot pass the cap together. 409 Conflict:
  // the request is valid and allowed but conflicts with the current state (the cap is reached),
  // and deleting a directory resolves it; not 403 (nothing is wrong with who asks) nor 429
  // (no rate is exceeded: asking again later does not help).
  static std::mutex creating;
  const std::lock_guard lock(creating);
  size_t count = 0;
  context.store.directories(
      [&](const pb::Directory&) { return ++count < context.max_directories; });
  if (count >= context.max_directories) {
    return failure(http::status::conflict,
                   "there are already " + std::to_string(count) +
                       " directories, the most api.max_directories allows: delete one first");
  }
  const Status status = context.sync_writes->put_directory(directory);
  if (!status.is_ok()) return store_failure(status);
  return directory_response(http::status::created, directory, scim_shown(call, context, secret));
}

Response dsync_list_directories(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<KeyEntry> key = dsync_key(call, context, &refusal);
  if (!key) return refusal;
  const std::optional<std::string_view> tenant = call.query_param("tenant");
  const std::optional<std::string_view> product = call.query_param("product");
  if (!tenant || tenant->empty() || !product || product->empty()) {
    return bad_request("tenant and product are required");
  }
  if (!key->covers(*tenant, *product)) return outside_scope();
  const std::vector<pb::Directory> found = directories_of(context.store, *tenant, *product);
  return success(http::status::ok, [&](JsonWriter& json) {
    json.begin_array();
    const ScimShown shown = scim_shown(call, context);
    for (const pb::Directory& directory : found) write_directory(json, directory, shown);
    json.end_array();
  });
}

Response dsync_get_directory(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<KeyEntry> key = dsync_key(call, context, &refusal);
  if (!key) return refusal;
  const std::optional<pb::Directory> directory =
      visible_directory(context, *key, call.path_param("id"));
  if (!directory) return directory_not_found();
  return directory_response(http::status::ok, *directory, scim_shown(call, context));
}

Response dsync_update_directory(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<WriteRequest> request = write_request(call, context, &refusal);
  if (!request) return refusal;
  std::string problem = webhook_target_problem(request->body, context);
  if (!problem.empty()) {
    return context.store.directory(call.path_param("id")) ? bad_request(problem)
                                                          : directory_not_found();
  }
  // Read, changed and written under the store's lock: a concurrent PATCH or DELETE cannot
  // interleave (no lost field, no deleted directory brought back).
  pb::Directory updated;
  bool found = false;
  bool hidden = false;
  const Status status = context.sync_writes->update_directory(
      call.path_param("id"),
      [&](pb::Directory& directory) {
        if (!request->key.covers(directory.tenant(), directory.product())) {
          hidden = true;  // as absent: see visible_directory
          return false;
        }
        problem = apply_settings(request->body, directory);
        updated = directory;
        return problem.empty();
      },
      &found);
  if (!status.is_ok()) return store_failure(status);
  if (!found || hidden) return directory_not_found();
  if (!problem.empty()) return bad_request(problem);
  return directory_response(http::status::ok, updated, scim_shown(call, context));
}

Response dsync_delete_directory(const Call& call, const ApiContext& context) {
  Response refusal;
  const std::optional<KeyEntry> key = dsync_write_key(call, context, &refusal);
  if (!key) return refusal;
  // Tenant and product never change, so the check before the delete stays true.
  if (!visible_directory(context, *key, call.path_param("id"))) return directory_not_found();
  bool existed = false;
  const Status status = context.sync_writes->delete_directory(call.path_param("id"), &existed);
  if (!status.is_ok()) return store_failure(status);
  if (!existed) return directory_not_found();
  return success(http::status::ok, [](JsonWriter& json) {
    json.begin_object();
    json.end_object();
  });
}

}  // namespace dirfeed::rest
