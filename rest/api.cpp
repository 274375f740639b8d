#include "rest/api.hpp"

#include <boost/beast/http/field.hpp>

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/dn.hpp"
#include "core/text.hpp"
#include "rest/auth.hpp"
#include "rest/changes_api.hpp"
#include "rest/dsync_api.hpp"
#include "rest/dsync_events.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/scim_api.hpp"
#include "rest/uid_api.hpp"
#include "rest/uid_write.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using http::verb;

using ContextHandler = Response (*)(const Call&, const ApiContext&);

RouteHandler with(const ApiContext& context, ContextHandler handler) {
  return [&context, handler](const Call& call) { return handler(call, context); };
}

}  // namespace

const DomainInfo* find_domain(const ApiContext& context, std::string_view name) {
  const std::string fqdn = lower(name);
  const std::optional<std::vector<std::string>> dn = dn_parts(name);
  for (const DomainInfo& domain : context.domains) {
    if (domain.name == fqdn) return &domain;
    const std::optional<std::vector<std::string>> base = dn_parts(domain.base_dn);
    if (dn && base && dn->size() == base->size() && ends_with_rdns(*dn, *base)) return &domain;
  }
  return nullptr;
}

Router make_router(const ApiContext& context) {
  const std::string uid = "/api/uid/v1.0";
  const std::string dsync = "/api/v1/directory-sync";
  const std::string scim = "/api/scim/v2.0/{directory}/{kind}";
  return Router({
      {verb::get, "/healthz", with(context, healthz), Access::kPublic},
      {verb::get, "/readyz", with(context, readyz), Access::kPublic},
      {verb::get, "/metrics", with(context, metrics), Access::kPublic},
      {verb::get, uid + "/domains", with(context, uid_domains)},
      {verb::get, uid + "/users", with(context, uid_users)},
      {verb::get, uid + "/user/dn/{dn...}", with(context, uid_user_by_dn)},
      {verb::get, uid + "/user/ntlm-identity/{identity...}", with(context, uid_user_by_ntlm)},
      {verb::get, uid + "/user/{guid}", with(context, uid_user_by_guid)},
      {verb::get, uid + "/groups", with(context, uid_groups)},
      {verb::get, uid + "/status", with(context, uid_status)},
      {verb::post, uid + "/user", with(context, uid_create_user)},
      {verb::post, uid + "/user/ntlm-identity/{identity...}", with(context, uid_create_user)},
      {verb::post, uid + "/user/{guid}", with(context, uid_create_user)},
      {verb::put, uid + "/user/ntlm-identity/{identity...}", with(context, uid_change_user)},
      {verb::put, uid + "/user/{guid}", with(context, uid_change_user)},
      {verb::delete_, uid + "/user/{guid}", with(context, uid_delete_user)},
      {verb::get, "/public/directory-changes", with(context, directory_changes), Access::kApiKey},
      // Directory Sync API: the users and groups routes before {id}, which would take them.
      {verb::post, dsync, with(context, dsync_create_directory), Access::kApiKey},
      {verb::get, dsync, with(context, dsync_list_directories), Access::kApiKey},
      {verb::get, dsync + "/users", with(context, dsync_users), Access::kApiKey},
      {verb::get, dsync + "/users/{id}", with(context, dsync_user), Access::kApiKey},
      {verb::get, dsync + "/groups", with(context, dsync_groups), Access::kApiKey},
      {verb::get, dsync + "/groups/{id}", with(context, dsync_group), Access::kApiKey},
      {verb::get, dsync + "/groups/{id}/members", with(context, dsync_group_members),
       Access::kApiKey},
      {verb::get, dsync + "/events", with(context, dsync_events), Access::kApiKey},
      {verb::delete_, dsync + "/events", with(context, dsync_delete_events), Access::kApiKey},
      {verb::get, dsync + "/events/{id}", with(context, dsync_event), Access::kApiKey},
      {verb::get, dsync + "/{id}", with(context, dsync_get_directory), Access::kApiKey},
      {verb::patch, dsync + "/{id}", with(context, dsync_update_directory), Access::kApiKey},
      {verb::delete_, dsync + "/{id}", with(context, dsync_delete_directory), Access::kApiKey},
      // SCIM 2.0 intake: the handlers check the directory's bearer secret.
      {verb::post, scim, with(context, scim_create), Access::kApiKey},
      {verb::get, scim, with(context, scim_list), Access::kApiKey},
      {verb::get, scim + "/{id}", with(context, scim_get), Access::kApiKey},
      {verb::put, scim + "/{id}", with(context, scim_replace), Access::kApiKey},
      {verb::patch, scim + "/{id}", with(context, scim_patch), Access::kApiKey},
      {verb::delete_, scim + "/{id}", with(context, scim_delete), Access::kApiKey},
  }, [&context](const Request& request, Access access, const ClientAddress& client) {
    return check_access(request, access, client, context.credentials, context.anonymous_read);
  }, context.metrics);
}

Response healthz(const Call&, const ApiContext&) {
  return json_response(http::status::ok, R"({"status":"ok"})");
}

Response readyz(const Call&, const ApiContext& context) {
  std::vector<std::string> pending;
  std::vector<std::pair<std::string, int64_t>> held;  // domains whose deletes are held back
  for (const DomainInfo& domain : context.domains) {
    std::optional<pb::Cursor> cursor = context.store.cursor(domain.name);
    if (cursor && cursor->held_deletes() > 0) held.emplace_back(domain.name, cursor->held_deletes());
    // A first sync completed once (last_pass_us) keeps the domain ready during a later full
    // resync: the store still answers, it is being checked, not built.
    if (!cursor || (!cursor->full_sync_done() && cursor->last_pass_us() == 0)) {
      pending.push_back(domain.name);
    }
  }
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  if (pending.empty()) {
    json.member("status", "ready");
  } else {
    json.member("error", "first sync not complete");
    json.key("pending");
    json.begin_array();
    for (const std::string& name : pending) json.string(name);
    json.end_array();
  }
  // Held deletes do not make the daemon unready: the APIs serve the last good state.
  if (!held.empty()) {
    json.key("deletes_held");
    json.begin_object();
    for (const auto& [name, count] : held) {
      json.key(name);
      json.number(count);
    }
    json.end_object();
  }
  json.end_object();
  return json_response(pending.empty() ? http::status::ok : http::status::service_unavailable,
                       std::move(body));
}

Response metrics(const Call&, const ApiContext& context) {
  Metrics local;
  Metrics& registry = context.metrics != nullptr ? *context.metrics : local;
  registry.describe("dirfeed_feed_last_sequence", Metrics::Type::kGauge,
                    "Sequence number of the newest change in the feed (0: none yet).");
  registry.set("dirfeed_feed_last_sequence", {},
               static_cast<double>(context.store.last_sequence()));
  Response response(http::status::ok, 11);
  response.set(http::field::content_type, kMetricsContentType);
  response.body() = registry.render();
  return response;
}

}  // namespace dirfeed::rest
