#pragma once
// Internal to rest/: what the Directory Sync API's handler files share (rest/dsync_api.cpp,
// rest/dsync_events.cpp): answers in the document's {data, error} shape, the API key check,
// the directories a key sees, pageOffset/pageLimit.
#include <boost/beast/http/status.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rest/api.hpp"
#include "rest/credentials.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"
#include "rest/router.hpp"

namespace dirfeed::rest {

// {"data": null, "error": {"message": message}} with `status`.
Response failure(boost::beast::http::status status, std::string_view message);
Response bad_request(std::string_view message);
Response directory_not_found();
Response read_only();  // 500: no writable store
Response store_failure(const Status& status);
// 403 for a create or list naming a tenant/product the key does not cover.
Response outside_scope();

// {"data": what write_data writes, "error": null} with `status`.
template <typename WriteData>
Response success(boost::beast::http::status status, const WriteData& write_data) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("data");
  write_data(json);
  json.key("error");
  json.null();
  json.end_object();
  return json_response(status, std::move(body));
}


// The valid API key the request carries when it may use the Directory Sync API; else nullopt
// and the 401 (no key, unknown key) or 403 (a Directory Changes key) in *refusal.
std::optional<KeyEntry> dsync_key(const Call& call, const ApiContext& context, Response* refusal);

// The prelude of every Directory Sync write: dsync_key, then a store that takes writes (else
// nullopt and read_only() in *refusal).
std::optional<KeyEntry> dsync_write_key(const Call& call, const ApiContext& context,
                                        Response* refusal);

// The directory of `id` when it exists and `key` covers it: outside its scope a directory is
// absent, so a key learns nothing of other tenants' directories.
std::optional<pb::Directory> visible_directory(const ApiContext& context, const KeyEntry& key,
                                               const std::string& id);

// pageOffset and pageLimit as the items of a list to write: indexes [offset, end).
struct Page {
  uint64_t offset = 0;
  uint64_t end = UINT64_MAX;
};

// nullopt and *problem when pageOffset or pageLimit is given but not a non-negative integer.
std::optional<Page> requested_page(const Call& call, std::string* problem);

// The directories of `tenant` and `product`, oldest first (then by id).
std::vector<pb::Directory> directories_of(const changefeed::SyncState& store,
                                          std::string_view tenant, std::string_view product);

// The directory a users or groups request names (directoryId, or tenant and product;
// see dsync_api.hpp) when `key` sees it; nullopt and the 400/403/404 in *refusal otherwise.
std::optional<pb::Directory> requested_directory(const Call& call, const ApiContext& context,
                                                 const KeyEntry& key, Response* refusal);

}  // namespace dirfeed::rest
