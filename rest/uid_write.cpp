#include "rest/uid_write.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/guid.hpp"
#include "core/text.hpp"
#include "rest/json.hpp"
#include "rest/response.hpp"

namespace dirfeed::rest {
namespace {

namespace http = boost::beast::http;
using changefeed::ApiOutcome;
using changefeed::UserChange;

// A handler's early answer: a 4xx/5xx response.
struct Refusal {
  http::status status;
  std::string message;
};

Response refuse(const Refusal& refusal) { return error_response(refusal.status, refusal.message); }
Refusal bad_request(std::string message) { return {http::status::bad_request, std::move(message)}; }

Response guid_response(const std::string& guid) {
  std::string body;
  JsonWriter json(body);
  json.begin_object();
  json.member("objectGUID", guid_to_string(guid));
  json.end_object();
  return json_response(http::status::ok, std::move(body));
}

Response storage_failure(const Status& status) {
  return error_response(http::status::internal_server_error, "store write failed: " + status.message());
}

// The parsed payload: a JSON object, or a refusal.
std::optional<JsonValue> payload(const Call& call, Refusal* refusal) {
  std::string error;
  std::optional<JsonValue> value = parse_json(call.request.body(), &error);
  if (!value) {
    *refusal = bad_request(call.request.body().empty() ? "a JSON payload is required" : error);
    return std::nullopt;
  }
  if (!value->is_object()) {
    *refusal = bad_request("the JSON payload must be an object");
    return std::nullopt;
  }
  return value;
}

// An optional string attribute; sets *refusal on a wrong type.
std::optional<std::string> string_attribute(const JsonValue& object, std::string_view name,
                                            Refusal* refusal) {
  const JsonValue* value = object.find(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_string()) {
    *refusal = bad_request(std::string(name) + " must be a string");
    return std::nullopt;
  }
  return value->text();
}

// An optional array of strings; sets *refusal on a wrong type.
std::optional<std::vector<std::string>> list_attribute(const JsonValue& object,
                                                       std::string_view name, Refusal* refusal) {
  const JsonValue* value = object.find(name);
  if (value == nullptr || value->is_null()) return std::nullopt;
  if (!value->is_array()) {
    *refusal = bad_request(std::string(name) + " must be an array of strings");
    return std::nullopt;
  }
  std::vector<std::string> list;
  for (const JsonValue& element : value->array()) {
    if (!element.is_string()) {
      *refusal = bad_request(std::string(name) + " must be an array of strings");
      return std::nullopt;
    }
    list.push_back(element.text());
  }
  return list;
}

// NTLMIdentity or NTLMIIdentity (both accepted; given twice they must agree, ignoring case).
std::optional<std::string> ntlm_attribute(const JsonValue& object, Refusal* refusal) {
  std::optional<std::string> one = string_attribute(object, "NTLMIdentity", refusal);
  std::optional<std::string> two = string_attribute(object, "NTLMIIdentity", refusal);
  if (one && two && lower(*one) != lower(*two)) {
    *refusal = bad_request("NTLMIdentity and NTLMIIdentity differ");
    return std::nullopt;
  }
  return one ? one : two;
}

// Canonical addresses of one family; sets *refusal on the first malformed one.
std::optional<std::vector<std::string>> addresses(const JsonValue& object, std::string_view name,
                                                  int family, Refusal* refusal) {
  std::optional<std::vector<std::string>> list = list_attribute(object, name, refusal);
  if (!list) return std::nullopt;
  for (std::string& text : *list) {
    unsigned char binary[16];
    char canonical[INET6_ADDRSTRLEN];
    if (inet_pton(family, text.c_str(), binary) != 1 ||
        inet_ntop(family, binary, canonical, sizeof canonical) == nullptr) {
      *refusal = bad_request("malformed " + std::string(family == AF_INET ? "IPv4" : "IPv6") +
                             " address \"" + text + "\" in " + std::string(name));
      return std::nullopt;
    }
    text = canonical;
  }
  std::sort(list->begin(), list->end());
  list->erase(std::unique(list->begin(), list->end()), list->end());
  return list;
}

// Group DNs -> GUIDs of stored groups. Unknown DNs are a 400 unless skip_unknown.
std::optional<std::vector<std::string>> group_guids(const ApiContext& context,
                                                    const std::vector<std::string>& dns,
                                                    bool skip_unknown, Refusal* refusal) {
  std::vector<std::string> guids;
  for (const std::string& dn : dns) {
    std::optional<pb::DirectoryObject> group = context.store.object_by_dn(dn);
    if (group && group->kind() == pb::GROUP) {
      guids.push_back(group->guid());
    } else if (!skip_unknown) {
      *refusal = bad_request("no such group: " + dn);
      return std::nullopt;
    }
  }
  return guids;
}

// "NETBIOS\sam" -> (NETBIOS, sam); nullopt unless both parts are non-empty.
std::optional<std::pair<std::string, std::string>> split_identity(std::string_view identity) {
  const size_t slash = identity.find('\\');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 >= identity.size()) {
    return std::nullopt;
  }
  return std::pair(std::string(identity.substr(0, slash)), std::string(identity.substr(slash + 1)));
}

// The DNS domain of a DN's DC= parts ("CN=x,DC=Us,DC=Example" -> "us.example"), or "".
std::string domain_of_dn(std::string_view dn) {
  std::string domain;
  size_t start = 0;
  while (start < dn.size()) {
    size_t comma = start;
    while (comma < dn.size() && dn[comma] != ',') comma += dn[comma] == '\\' ? 2 : 1;
    std::string_view part = dn.substr(start, std::min(comma, dn.size()) - start);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.size() > 3 && lower(part.substr(0, 3)) == "dc=") {
      if (!domain.empty()) domain.push_back('.');
      domain += lower(part.substr(3));
    }
    start = comma + 1;
  }
  return domain;
}

std::string random_guid() {
  std::random_device device;
  std::string bytes(16, '\0');
  for (char& byte : bytes) byte = static_cast<char>(device() & 0xff);
  bytes[7] = static_cast<char>((bytes[7] & 0x0f) | 0x40);  // version 4 (wire order: byte 7)
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  return bytes;
}

// The user a PUT/DELETE URL names: {guid} or {identity}. nullopt with a refusal when
// malformed (400) or not a live user (404).
std::optional<std::string> target_user(const Call& call, const ApiContext& context,
                                       Refusal* refusal) {
  std::optional<pb::DirectoryObject> user;
  if (const std::string& identity = call.path_param("identity"); !identity.empty()) {
    user = context.store.object_by_ntlm(identity);
  } else {
    std::optional<std::string> guid = guid_from_text(call.path_param("guid"));
    if (!guid) {
      *refusal = bad_request("not an object GUID (string form or base64 of 16 bytes)");
      return std::nullopt;
    }
    user = context.store.object_by_guid(*guid);
  }
  // A SCIM directory's users are its identity provider's, not the User ID API's.
  if (!user || user->kind() != pb::USER || changefeed::is_source_domain(user->domain())) {
    *refusal = {http::status::not_found, "no such user"};
    return std::nullopt;
  }
  return user->guid();
}

}  // namespace

Response uid_create_user(const Call& call, const ApiContext& context) {
  if (context.api_writes == nullptr) {
    return error_response(http::status::internal_server_error, "the store is read-only");
  }
  Refusal refusal{http::status::ok, ""};
  const auto failed = [&] { return refusal.status != http::status::ok; };
  const std::string& url_identity = call.path_param("identity");
  const std::string& url_guid = call.path_param("guid");

  std::optional<JsonValue> body = payload(call, &refusal);
  if (!body) return refuse(refusal);
  if (!url_identity.empty() && body->object().empty()) {
    return refuse(bad_request("the JSON payload is empty"));
  }
  std::optional<std::string> dn = string_attribute(*body, "dn", &refusal);
  std::optional<std::string> sam = string_attribute(*body, "sAMAccountName", &refusal);
  std::optional<std::string> mail = string_attribute(*body, "mail", &refusal);
  std::optional<std::string> display = string_attribute(*body, "displayName", &refusal);
  std::optional<std::string> payload_guid = string_attribute(*body, "objectGUID", &refusal);
  std::optional<std::string> identity = ntlm_attribute(*body, &refusal);
  std::optional<std::vector<std::string>> v4 = addresses(*body, "ipv4_addresses", AF_INET, &refusal);
  std::optional<std::vector<std::string>> v6 = addresses(*body, "ipv6_addresses", AF_INET6, &refusal);
  std::optional<std::vector<std::string>> group_dns = list_attribute(*body, "groups", &refusal);
  if (failed()) return refuse(refusal);

  int64_t timeout_s = 0;
  if (const JsonValue* timeout = body->find("timeout"); timeout != nullptr && !timeout->is_null()) {
    const std::string& text = timeout->text();
    const bool digits = (timeout->is_number() || timeout->is_string()) && !text.empty() &&
                        text.size() <= 12 &&
                        std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || std::stoll(text) <= 0) {
      return refuse(bad_request("timeout must be a positive whole number of seconds"));
    }
    timeout_s = std::stoll(text);
  }

  // The NTLM identity: the URL's when given (a payload one must match it).
  if (!url_identity.empty()) {
    if (identity && lower(*identity) != lower(url_identity)) {
      return refuse(bad_request("the NTLMIdentity of the payload differs from the URL's"));
    }
    identity = url_identity;
  }
  if ((!dn || dn->empty()) && (!identity || identity->empty())) {
    return refuse(bad_request("the payload must give a dn or an NTLMIdentity"));
  }
  std::optional<std::pair<std::string, std::string>> parts;
  if (identity && !identity->empty()) {
    parts = split_identity(*identity);
    if (!parts) return refuse(bad_request("NTLM identity must be DOMAIN\\UserName"));
  }

  // The GUID: the URL's, else the payload's, else generated.
  std::optional<std::string> guid;
  if (!url_guid.empty()) {
    guid = guid_from_text(url_guid);
    if (!guid) return refuse(bad_request("not an object GUID (string form or base64 of 16 bytes)"));
  }
  if (payload_guid) {
    std::optional<std::string> given = guid_from_text(*payload_guid);
    if (!given) return refuse(bad_request("objectGUID of the payload is not a GUID"));
    if (guid && *guid != *given) {
      return refuse(bad_request("the objectGUID of the payload differs from the URL's"));
    }
    guid = given;
  }
  if (!guid) guid = random_guid();

  pb::DirectoryObject user;
  user.set_guid(*guid);
  user.set_kind(pb::USER);
  if (dn) user.set_dn(*dn);
  if (parts) {
    user.set_netbios_domain(parts->first);
    user.set_sam_account_name(parts->second);
  }
  if (sam && user.sam_account_name().empty()) user.set_sam_account_name(*sam);
  if (mail) user.set_mail(*mail);
  if (display) user.set_display_name(*display);
  std::string domain = dn ? domain_of_dn(*dn) : "";
  if (domain.empty() && mail) {
    const size_t at = mail->rfind('@');
    if (at != std::string::npos) domain = lower(mail->substr(at + 1));
  }
  user.set_domain(domain);
  user.set_ip_timeout_s(timeout_s);
  if (v4) user.mutable_ipv4_addresses()->Assign(v4->begin(), v4->end());
  if (v6) user.mutable_ipv6_addresses()->Assign(v6->begin(), v6->end());
  if (group_dns) {
    std::optional<std::vector<std::string>> guids = group_guids(context, *group_dns, false, &refusal);
    if (!guids) return refuse(refusal);
    user.mutable_api_groups()->Assign(guids->begin(), guids->end());
  }

  ApiOutcome outcome{};
  Status status = context.api_writes->create_user(user, context.ip_mapping_timeout_us, &outcome);
  if (!status.is_ok()) return storage_failure(status);
  if (outcome == ApiOutcome::kDuplicate) {
    return error_response(http::status::conflict,
                          "a user with this objectGUID, dn or NTLMIdentity exists");
  }
  return guid_response(*guid);
}

Response uid_change_user(const Call& call, const ApiContext& context) {
  if (context.api_writes == nullptr) {
    return error_response(http::status::internal_server_error, "the store is read-only");
  }
  Refusal refusal{http::status::ok, ""};
  const auto failed = [&] { return refusal.status != http::status::ok; };
  std::optional<JsonValue> body = payload(call, &refusal);
  if (!body) return refuse(refusal);

  UserChange change;
  std::optional<std::string> type = string_attribute(*body, "changetype", &refusal);
  if (failed()) return refuse(refusal);
  if (type == "add") {
    change.op = UserChange::Op::kAdd;
  } else if (type == "modify") {
    change.op = UserChange::Op::kModify;
  } else if (type == "delete") {
    change.op = UserChange::Op::kDelete;
  } else {
    return refuse(bad_request("changetype must be add, modify or delete"));
  }
  change.ipv4 = addresses(*body, "ipv4_addresses", AF_INET, &refusal);
  change.ipv6 = addresses(*body, "ipv6_addresses", AF_INET6, &refusal);
  std::optional<std::vector<std::string>> group_dns = list_attribute(*body, "groups", &refusal);
  if (failed()) return refuse(refusal);
  const bool none = !change.ipv4 && !change.ipv6 && !group_dns;
  const bool all_empty = (!change.ipv4 || change.ipv4->empty()) &&
                         (!change.ipv6 || change.ipv6->empty()) &&
                         (!group_dns || group_dns->empty());
  if (none || (change.op != UserChange::Op::kModify && all_empty)) {
    return refuse(bad_request("no IP address or group given"));
  }

  std::optional<std::string> guid = target_user(call, context, &refusal);
  if (!guid) return refuse(refusal);
  if (group_dns) {
    change.groups = group_guids(context, *group_dns, change.op == UserChange::Op::kDelete, &refusal);
    if (!change.groups) return refuse(refusal);
  }
  change.default_lifetime_us = context.ip_mapping_timeout_us;
  ApiOutcome outcome{};
  Status status = context.api_writes->change_user(*guid, change, &outcome);
  if (!status.is_ok()) return storage_failure(status);
  if (outcome == ApiOutcome::kNotFound) return error_response(http::status::not_found, "no such user");
  return guid_response(*guid);
}

Response uid_delete_user(const Call& call, const ApiContext& context) {
  if (context.api_writes == nullptr) {
    return error_response(http::status::internal_server_error, "the store is read-only");
  }
  Refusal refusal{http::status::ok, ""};
  std::optional<std::string> guid = target_user(call, context, &refusal);
  if (!guid) return refuse(refusal);
  ApiOutcome outcome{};
  Status status = context.api_writes->delete_user(*guid, &outcome);
  if (!status.is_ok()) return storage_failure(status);
  if (outcome == ApiOutcome::kNotFound) return error_response(http::status::not_found, "no such user");
  return guid_response(*guid);
}

}  // namespace dirfeed::rest
