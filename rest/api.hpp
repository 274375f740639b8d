#pragma once
// The REST surface of dirfeed: what the handlers need (ApiContext) and the routing table of
// every endpoint (make_router), health checks included.
#include <string>
#include <string_view>
#include <vector>

#include "changefeed/store.hpp"
#include "core/clock.hpp"
#include "rest/credentials.hpp"
#include "rest/metrics.hpp"
#include "rest/router.hpp"
#include "rest/webhook_target.hpp"

namespace dirfeed::rest {

// A monitored domain as the APIs name it (from the daemon's config, not YAML).
struct DomainInfo {
  std::string name;          // DNS name, lower case
  std::string base_dn;       // e.g. DC=example,DC=test
  std::string netbios_name;  // may be empty (then read from AD; objects carry their own)
};

// api.max_directories when the config says nothing.
inline constexpr size_t kDefaultMaxDirectories = 1000;

// Read-only state shared by the handlers; must outlive the router made from it.
struct ApiContext {
  const changefeed::Store& store;
  std::vector<DomainInfo> domains;
  // Users and keys (rest/auth.hpp); nullptr: none, so routes needing credentials answer 401.
  CredentialStore* credentials = nullptr;
  bool anonymous_read = true;  // api.anonymous_read: GET routes without credentials
  // Where the writes go (the store `store` reads); nullptr: those requests answer 500.
  // User ID Service writes (POST/PUT/DELETE /user):
  changefeed::ApiWrites* api_writes = nullptr;
  // Directory Sync directories, their webhook event log, and SCIM intake:
  changefeed::SyncState* sync_writes = nullptr;
  int64_t ip_mapping_timeout_us = int64_t{6} * 3600 * 1'000'000;  // api.ip_mapping_timeout
  // Served by GET /metrics, and where the router counts requests; nullptr: /metrics shows only
  // what it reads from the store. Read by make_router: set it before.
  Metrics* metrics = nullptr;
  // Stamps Directory Sync API directories when they are created (created_us orders them);
  // nullptr: the system clock.
  const Clock* clock = nullptr;
  // Where a directory's webhook_url may point (api.webhook_allowed_networks); checked at
  // create and PATCH, after resolving the host.
  WebhookTargetPolicy webhook_targets{};
  // Directories the Directory Sync API holds at most (api.max_directories): each has its
  // delivery state, consumer and client in the dispatcher.
  size_t max_directories = kDefaultMaxDirectories;
  // The scheme of this API's own URLs ("https" with api.tls): a SCIM directory's scim.endpoint
  // is <scheme>://<the request's Host><scim.path>.
  std::string scheme = "http";
};

// The configured domain that `name` names: its DNS name or its base DN, case-insensitive,
// with or without the spaces people type around ',' and '=' ("dc=us, dc=company, dc=com").
// nullptr for none.
const DomainInfo* find_domain(const ApiContext& context, std::string_view name);

// Every endpoint, in one table, with the access rule of rest/auth.hpp (health checks public).
Router make_router(const ApiContext& context);

// GET /healthz: 200 {"status": "ok"} while the process serves requests.
Response healthz(const Call& call, const ApiContext& context);
// GET /readyz: 200 {"status": "ready"} once every configured domain has completed a first
// full sync (its cursor has full_sync_done, or a completed pass even while a later full
// resync runs); else 503 {"error": ..., "pending": [names]}.
Response readyz(const Call& call, const ApiContext& context);

// GET /metrics: context.metrics in the Prometheus text format, plus dirfeed_feed_last_sequence
// read from the store at each scrape.
Response metrics(const Call& call, const ApiContext& context);

}  // namespace dirfeed::rest
