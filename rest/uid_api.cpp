#include "rest/uid_api.hpp"

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "proto/guid.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using boost::asio::ip::address;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A DN compared loosely: lower case, without spaces around unescaped ',' and '=' (the spec
// writes "dc=us, dc=company, dc=com").
std::string loose_dn(std::string_view dn) {
  std::string out;
  bool escaped = false;
  bool skip_spaces = false;
  for (char c : lower(dn)) {
    if (escaped) {
      out.push_back(c);
      escaped = false;
      skip_spaces = false;
      continue;
    }
    if (c == ' ' && skip_spaces) continue;
    if (c == ',' || c == '=') {
      while (!out.empty() && out.back() == ' ') out.pop_back();
      skip_spaces = true;
    } else {
      skip_spaces = false;
    }
    escaped = c == '\\';
    out.push_back(c);
  }
  return out;
}

// The configured domain a `domain` parameter names (FQDN or base DN), or nullptr.
const DomainInfo* find_domain(const ApiContext& context, std::string_view parameter) {
  const std::string fqdn = lower(parameter);
  const std::string dn = loose_dn(parameter);
  for (const DomainInfo& domain : context.domains) {
    if (domain.name == fqdn || loose_dn(domain.base_dn) == dn) return &domain;
  }
  return nullptr;
}

// IP addresses mapped to a user (POST/PUT /user; expired ones are gone).
struct UserAddresses {
  std::vector<std::string> ipv4;
  std::vector<std::string> ipv6;
  bool empty() const { return ipv4.empty() && ipv6.empty(); }
};
UserAddresses addresses_of(const pb::DirectoryObject& object) {
  return {{object.ipv4_addresses().begin(), object.ipv4_addresses().end()},
          {object.ipv6_addresses().begin(), object.ipv6_addresses().end()}};
}

struct AddressRange {
  address first;
  address last;
  bool contains(const address& a) const {
    return a.is_v4() == first.is_v4() && !(a < first) && !(last < a);
  }
};

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  return text;
}

// Parses "a-b[,c-d...]"; on failure returns nullopt and sets *error.
std::optional<std::vector<AddressRange>> parse_networks(std::string_view text,
                                                        std::string* error) {
  std::vector<AddressRange> ranges;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = trim(text.substr(start, comma - start));
    start = comma + 1;
    const size_t dash = item.find('-');
    boost::system::error_code first_error, last_error;
    const address first =
        boost::asio::ip::make_address(std::string(trim(item.substr(0, dash))), first_error);
    const address last = dash == std::string_view::npos
                             ? address()
                             : boost::asio::ip::make_address(
                                   std::string(trim(item.substr(dash + 1))), last_error);
    if (dash == std::string_view::npos || first_error || last_error) {
      *error = "malformed network range \"" + std::string(item) +
               "\": expected first-last, e.g. 192.0.2.1-192.0.2.55";
      return std::nullopt;
    }
    if (first.is_v4() != last.is_v4()) {
      *error = "network range \"" + std::string(item) + "\" mixes IPv4 and IPv6";
      return std::nullopt;
    }
    if (last < first) {
      *error = "network range \"" + std::string(item) + "\" ends before it starts";
      return std::nullopt;
    }
    ranges.push_back({first, last});
  }
  return ranges;
}

bool in_networks(const UserAddresses& addresses, const std::vector<AddressRange>& ranges) {
  for (const auto* list : {&addresses.ipv4, &addresses.ipv6}) {
    for (const std::string& text : *list) {
      boost::system::error_code parse_error;
      const address a = boost::asio::ip::make_address(text, parse_error);
      if (parse_error) continue;
      for (const AddressRange& range : ranges) {
        if (range.contains(a)) return true;
      }
    }
  }
  return false;
}

const char* changetype_name(pb::ChangeType type) {
  switch (type) {
    case pb::MODIFY: return "modify";
    case pb::DELETE: return "delete";
    case pb::IP_ADD: return "ip-add";
    case pb::IP_DELETE: return "ip-delete";
    default: return "add";
  }
}

// "1494892106.333844"
std::string epoch_seconds(int64_t us) {
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(us / 1'000'000),
                static_cast<long long>(us % 1'000'000));
  return text;
}

// "Fri, 03 Nov 2017 16:22:08 GMT" (RFC 7231 IMF-fixdate)
std::string http_date(int64_t us) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = static_cast<std::time_t>(us / 1'000'000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday],
                tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return text;
}

// Writes objects as the User ID API shows them. Group DNs are looked up by GUID once per
// response and remembered (groups are few next to users).
class ObjectWriter {
 public:
  ObjectWriter(const ApiContext& context, JsonWriter& json) : context_(context), json_(json) {}

  void user(const pb::DirectoryObject& object, const UserAddresses& addresses) {
    json_.begin_object();
    json_.member("dn", object.dn());
    json_.member("changetype", changetype_name(object.last_change()));
    json_.member("sAMAccountName", object.sam_account_name());
    ntlm_identity(object);
    json_.member("mail", object.mail());
    address_list("ipv4_addresses", addresses.ipv4);
    address_list("ipv6_addresses", addresses.ipv6);
    json_.member("objectGUID", guid_to_string(object.guid()));
    groups(object);
    json_.member("timestamp", epoch_seconds(timestamp_us(object)));
    json_.end_object();
  }

  void group(const pb::DirectoryObject& object) {
    json_.begin_object();
    json_.member("dn", object.dn());
    json_.member("sAMAccountName", object.sam_account_name());
    ntlm_identity(object);
    json_.member("objectGUID", guid_to_string(object.guid()));
    groups(object);
    json_.member("objectClass", "Group");
    json_.member("changetype", changetype_name(object.last_change()));
    json_.member("timestamp", epoch_seconds(timestamp_us(object)));
    json_.end_object();
  }

 private:
  static int64_t timestamp_us(const pb::DirectoryObject& object) {
    return object.last_change_us() != 0 ? object.last_change_us() : object.last_read_us();
  }

  void ntlm_identity(const pb::DirectoryObject& object) {
    std::string netbios = object.netbios_domain();
    if (netbios.empty()) {
      for (const DomainInfo& domain : context_.domains) {
        if (domain.name == object.domain()) netbios = domain.netbios_name;
      }
    }
    const std::string identity = netbios + "\\" + object.sam_account_name();
    json_.member("NTLMIdentity", identity);
    json_.member("NTLMIIdentity", identity);
  }

  void address_list(std::string_view name, const std::vector<std::string>& list) {
    if (list.empty()) return;
    json_.key(name);
    json_.begin_array();
    for (const std::string& entry : list) json_.string(entry);
    json_.end_array();
  }

  void groups(const pb::DirectoryObject& object) {
    json_.key("groups");
    json_.begin_array();
    // Its groups from AD, then those the API added that AD does not list.
    std::vector<std::string> guids(object.member_of().begin(), object.member_of().end());
    for (const std::string& guid : object.api_groups()) {
      if (std::find(guids.begin(), guids.end(), guid) == guids.end()) guids.push_back(guid);
    }
    for (const std::string& guid : guids) {
      auto [it, inserted] = group_dns_.try_emplace(guid);
      if (inserted) {
        if (auto group = context_.store.object_by_guid(guid)) it->second = group->dn();
      }
      if (!it->second.empty()) json_.string(it->second);
    }
    json_.end_array();
  }

  const ApiContext& context_;
  JsonWriter& json_;
  std::unordered_map<std::string, std::string> group_dns_;  // GUID -> DN ("" when not found)
};

Response user_response(const ApiContext& context,
                       const std::optional<pb::DirectoryObject>& object) {
  if (!object || object->kind() != pb::USER) {
    return error_response(http::status::not_found, "no such user");
  }
  std::string body;
  JsonWriter json(body);
  ObjectWriter(context, json).user(*object, addresses_of(*object));
  return json_response(http::status::ok, std::move(body));
}

}  // namespace

Response uid_domains(const Call&, const ApiContext& context) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("domains");
  json.begin_array();
  for (const DomainInfo& domain : context.domains) json.string(domain.base_dn);
  json.end_array();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

Response uid_users(const Call& call, const ApiContext& context) {
  bool ip_only = true;
  if (auto value = call.query_param("ip_only")) {
    const std::string text = lower(*value);
    if (text != "true" && text != "false") {
      return error_response(http::status::bad_request, "ip_only must be true or false");
    }
    ip_only = text == "true";
  }
  std::optional<std::vector<AddressRange>> networks;
  if (auto value = call.query_param("networks")) {
    std::string error;
    networks = parse_networks(*value, &error);
    if (!networks) return error_response(http::status::bad_request, error);
  }
  const DomainInfo* domain = nullptr;
  std::optional<pb::DirectoryObject> group;
  bool empty = false;  // a filter names nothing that exists: no users
  if (auto value = call.query_param("domain")) {
    domain = find_domain(context, *value);
    empty = domain == nullptr;
  }
  if (auto value = call.query_param("group")) {
    group = context.store.object_by_dn(std::string(*value));
    empty = empty || !group || group->kind() != pb::GROUP;
  }

  std::string body;
  JsonWriter json(body);
  ObjectWriter writer(context, json);
  json.begin_object();
  json.key("users");
  json.begin_array();
  const auto visit = [&](const pb::DirectoryObject& object) {
    if (object.kind() != pb::USER) return true;
    if (domain != nullptr && object.domain() != domain->name) return true;
    const UserAddresses addresses = addresses_of(object);
    if (ip_only && addresses.empty()) return true;
    if (networks && !in_networks(addresses, *networks)) return true;
    writer.user(object, addresses);
    return true;
  };
  if (!empty && group) {
    context.store.members(group->guid(), visit);
  } else if (!empty) {
    context.store.objects(pb::USER, domain != nullptr ? domain->name : "", visit);
  }
  json.end_array();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

Response uid_user_by_guid(const Call& call, const ApiContext& context) {
  std::optional<std::string> guid = guid_from_text(call.path_param("guid"));
  if (!guid) {
    return error_response(http::status::bad_request,
                          "not an object GUID (string form or base64 of 16 bytes)");
  }
  return user_response(context, context.store.object_by_guid(*guid));
}

Response uid_user_by_dn(const Call& call, const ApiContext& context) {
  return user_response(context, context.store.object_by_dn(call.path_param("dn")));
}

Response uid_user_by_ntlm(const Call& call, const ApiContext& context) {
  return user_response(context, context.store.object_by_ntlm(call.path_param("identity")));
}

Response uid_groups(const Call& call, const ApiContext& context) {
  const DomainInfo* domain = nullptr;
  if (auto value = call.query_param("domain")) domain = find_domain(context, *value);
  const bool empty = call.query_param("domain").has_value() && domain == nullptr;

  std::string body;
  JsonWriter json(body);
  ObjectWriter writer(context, json);
  json.begin_object();
  json.key("groups");
  json.begin_array();
  if (!empty) {
    context.store.objects(pb::GROUP, domain != nullptr ? domain->name : "",
                          [&](const pb::DirectoryObject& object) {
                            writer.group(object);
                            return true;
                          });
  }
  json.end_array();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

Response uid_status(const Call&, const ApiContext& context) {
  int64_t last_update_us = 0;
  if (const uint64_t last = context.store.last_sequence(); last > 0) {
    changefeed::FeedQuery newest;
    newest.limit = 1;
    context.store.changes_after_sequence(last - 1, newest, [&](const pb::Change& change) {
      last_update_us = change.timestamp_us();
      return false;
    });
  }
  if (last_update_us == 0) {
    for (const DomainInfo& domain : context.domains) {
      if (auto cursor = context.store.cursor(domain.name)) {
        last_update_us = std::max(last_update_us, cursor->last_pass_us());
      }
    }
  }

  std::vector<std::pair<std::string, int64_t>> counts;
  int64_t total = 0;
  for (const DomainInfo& domain : context.domains) {
    int64_t count = 0;
    context.store.objects(pb::USER, domain.name, [&](const pb::DirectoryObject&) {
      ++count;
      return true;
    });
    counts.emplace_back(domain.name, count);
    total += count;
  }

  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.key("status");
  json.begin_object();
  json.key("Last update");
  if (last_update_us > 0) {
    json.string(http_date(last_update_us));
  } else {
    json.null();
  }
  json.key("Total domains count");
  json.number(static_cast<int64_t>(context.domains.size()));
  json.key("Total users count");
  json.number(total);
  json.key("Users count per domain");
  json.begin_object();
  for (const auto& [name, count] : counts) {
    json.key(name);
    json.number(count);
  }
  json.end_object();
  json.end_object();
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

}  // namespace dirfeed::rest
