#include "rest/dsync_common.hpp"

#include <algorithm>
#include <charconv>
#include <utility>
#include <vector>

#include "rest/auth.hpp"

namespace dirfeed::rest {

namespace http = boost::beast::http;

Response failure(http::status status, std::string_view message) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("data");
  json.null();
  json.key("error");
  json.begin_object();
  json.member("message", message);
  json.end_object();
  json.end_object();
  return json_response(status, std::move(body));
}

Response bad_request(std::string_view message) {
  return failure(http::status::bad_request, message);
}

std::optional<KeyEntry> dsync_key(const Call& call, const ApiContext& context,
                                  Response* refusal) {
  if (!request_api_key(call.request)) {
    *refusal = failure(http::status::unauthorized,
                       "an API key is required (Authorization: Api-Key KEY)");
    return std::nullopt;
  }
  std::optional<KeyEntry> key = context.credentials == nullptr
                                    ? std::nullopt
                                    : check_request_api_key(call.request, *context.credentials);
  if (!key) {
    *refusal = failure(http::status::unauthorized, "unknown API key");
  } else if (!key->uses_dsync()) {
    *refusal = failure(http::status::forbidden,
                       "this API key is for the Directory Changes API only");
    key.reset();
  }
  return key;
}

std::optional<KeyEntry> dsync_write_key(const Call& call, const ApiContext& context,
                                        Response* refusal) {
  std::optional<KeyEntry> key = dsync_key(call, context, refusal);
  if (key && context.sync_writes == nullptr) {
    *refusal = read_only();
    key.reset();
  }
  return key;
}

Response outside_scope() {
  return failure(http::status::forbidden, "this API key does not cover that tenant and product");
}

std::optional<pb::Directory> visible_directory(const ApiContext& context, const KeyEntry& key,
                                               const std::string& id) {
  std::optional<pb::Directory> directory = context.store.directory(id);
  if (directory && !key.covers(directory->tenant(), directory->product())) directory.reset();
  return directory;
}

Response directory_not_found() { return failure(http::status::not_found, "directory not found"); }

Response read_only() {
  return failure(http::status::internal_server_error, "the store is read-only");
}

Response store_failure(const Status& status) {
  return failure(http::status::internal_server_error, "store write failed: " + status.message());
}

std::optional<Page> requested_page(const Call& call, std::string* problem) {
  const auto number = [&](std::string_view name, uint64_t fallback) -> std::optional<uint64_t> {
    const std::optional<std::string_view> text = call.query_param(name);
    if (!text) return fallback;
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text->data(), text->data() + text->size(), value);
    if (text->empty() || error != std::errc() || end != text->data() + text->size()) {
      *problem = std::string(name) + " must be a non-negative integer";
      return std::nullopt;
    }
    return value;
  };
  const std::optional<uint64_t> offset = number("pageOffset", 0);
  if (!offset) return std::nullopt;
  const std::optional<uint64_t> limit = number("pageLimit", UINT64_MAX);
  if (!limit) return std::nullopt;
  return Page{*offset, *limit > UINT64_MAX - *offset ? UINT64_MAX : *offset + *limit};
}

std::vector<pb::Directory> directories_of(const changefeed::SyncState& store,
                                          std::string_view tenant, std::string_view product) {
  std::vector<pb::Directory> found;
  store.directories([&](const pb::Directory& directory) {
    if (directory.tenant() == tenant && directory.product() == product) found.push_back(directory);
    return true;
  });
  std::sort(found.begin(), found.end(), [](const pb::Directory& a, const pb::Directory& b) {
    return std::pair(a.created_us(), a.id()) < std::pair(b.created_us(), b.id());
  });
  return found;
}

std::optional<pb::Directory> requested_directory(const Call& call, const ApiContext& context,
                                                 const KeyEntry& key, Response* refusal) {
  const std::optional<std::string_view> id = call.query_param("directoryId");
  const std::optional<std::string_view> tenant = call.query_param("tenant");
  const std::optional<std::string_view> product = call.query_param("product");
  std::optional<pb::Directory> directory;
  if (id) {
    directory = visible_directory(context, key, std::string(*id));
    if (directory && ((tenant && *tenant != directory->tenant()) ||
                      (product && *product != directory->product()))) {
      directory.reset();
    }
  } else if (tenant && product) {
    if (!key.covers(*tenant, *product)) {
      *refusal = outside_scope();
      return std::nullopt;
    }
    std::vector<pb::Directory> found = directories_of(context.store, *tenant, *product);
    if (!found.empty()) directory = std::move(found.front());
  } else {
    *refusal = bad_request("give directoryId, or tenant and product");
    return std::nullopt;
  }
  if (!directory) *refusal = directory_not_found();
  return directory;
}

}  // namespace dirfeed::rest
