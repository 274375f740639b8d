#include "rest/change_resource.hpp"

#include <string_view>

#include "changefeed/store.hpp"
#include "core/guid.hpp"
#include "proto/account.hpp"
#include "proto/names.hpp"
#include "rest/iso_time.hpp"

namespace dirfeed::rest {
namespace {

// `value`, or null when AD gave none.
void string_or_null(JsonWriter& json, std::string_view name, std::string_view value) {
  json.key(name);
  if (value.empty()) {
    json.null();
  } else {
    json.string(value);
  }
}

// Its AD domain: none for the objects of a SCIM directory (their domain names the source).
std::string_view on_premises_domain(const pb::DirectoryObject& object) {
  return changefeed::is_source_domain(object.domain()) ? std::string_view() : object.domain();
}

void last_sync(JsonWriter& json, const pb::DirectoryObject& object) {
  json.key("onPremisesLastSyncDateTime");
  if (object.from_directory() && object.last_read_us() != 0) {
    json.string(format_iso8601_us(object.last_read_us()));
  } else {
    json.null();
  }
}

// The object's NetBIOS domain name, else the configured one of its domain.
std::string_view netbios_name(const pb::DirectoryObject& object,
                              const std::vector<DomainInfo>& domains) {
  if (!object.netbios_domain().empty()) return object.netbios_domain();
  for (const DomainInfo& domain : domains) {
    if (domain.name == object.domain()) return domain.netbios_name;
  }
  return {};
}


void user(JsonWriter& json, const pb::DirectoryObject& user) {
  json.begin_object();
  json.member("id", guid_to_string(user.guid()));
  string_or_null(json, "displayName", user.display_name());
  string_or_null(json, "department", user.department());
  string_or_null(json, "jobTitle", user.title());
  json.key("businessPhones");
  json.begin_array();
  if (!user.telephone_number().empty()) json.string(user.telephone_number());
  for (const std::string& phone : user.other_telephones()) json.string(phone);
  json.end_array();
  string_or_null(json, "surname", user.surname());
  string_or_null(json, "givenName", user.given_name());
  json.key("accountEnabled");
  json.boolean(account_enabled(user));
  string_or_null(json, "userPrincipalName", user.user_principal_name());
  string_or_null(json, "onPremisesDomainName", on_premises_domain(user));
  string_or_null(json, "onPremisesSamAccountName", user.sam_account_name());
  string_or_null(json, "onPremisesSecurityIdentifier", user.sid());
  last_sync(json, user);
  string_or_null(json, "onPremisesUserPrincipalName",
                 changefeed::is_source_domain(user.domain()) ? std::string_view()
                                                             : user.user_principal_name());
  json.end_object();
}

void group(JsonWriter& json, const pb::DirectoryObject& group,
           const std::vector<DomainInfo>& domains) {
  json.begin_object();
  json.member("id", guid_to_string(group.guid()));
  string_or_null(json, "displayName", group.display_name());
  string_or_null(json, "created", group.when_created());
  string_or_null(json, "description", group.description());
  string_or_null(json, "mailNickname", group.mail_nickname());
  json.key("mailEnabled");
  json.boolean(!group.mail().empty());
  json.key("onPremisesSyncEnabled");
  json.boolean(group.from_directory());
  string_or_null(json, "onPremisesSamAccountName", group.sam_account_name());
  string_or_null(json, "onPremisesNetBiosName", netbios_name(group, domains));
  string_or_null(json, "onPremisesDomainName", on_premises_domain(group));
  string_or_null(json, "onPremisesSecurityIdentifier", group.sid());
  last_sync(json, group);
  json.end_object();
}

// "ad", the SCIM directory's id, or "api" (see feed_entry_json).
std::string_view source_name(const pb::Change& change) {
  if (change.from_directory()) return "ad";
  if (changefeed::is_source_domain(change.domain())) {
    return std::string_view(change.domain()).substr(changefeed::kScimSourcePrefix.size());
  }
  return "api";
}

void string_list(JsonWriter& json, std::string_view name,
                 const google::protobuf::RepeatedPtrField<std::string>& values) {
  json.key(name);
  json.begin_array();
  for (const std::string& value : values) json.string(value);
  json.end_array();
}

}  // namespace

void write_change_resource(JsonWriter& json, const pb::DirectoryObject& object,
                           const std::vector<DomainInfo>& domains) {
  if (object.kind() == pb::GROUP) {
    group(json, object, domains);
  } else {
    user(json, object);
  }
}

void write_change_membership(JsonWriter& json, const std::string& user_guid,
                             const std::string& group_guid) {
  json.begin_object();
  json.member("userId", guid_to_string(user_guid));
  json.member("groupId", guid_to_string(group_guid));
  json.end_object();
}

std::string feed_entry_json(const pb::Change& change, const std::vector<DomainInfo>& domains) {
  std::string out;
  JsonWriter json(out);
  json.begin_object();
  json.key("seq");
  json.number(static_cast<int64_t>(change.sequence()));
  json.member("timestamp", format_iso8601_us(change.timestamp_us()));
  json.member("domain", change.domain());
  json.member("kind", kind_name(change.kind()));
  json.member("type", change_type_name(change.type()));
  json.member("source", source_name(change));
  json.key("object");
  if (change.kind() == pb::MEMBERSHIP) {
    write_change_membership(json, change.membership().user_guid(),
                            change.membership().group_guid());
  } else {
    write_change_resource(json, change.object(), domains);
  }
  if (change.type() == pb::IP_ADD || change.type() == pb::IP_DELETE) {
    string_list(json, "ipv4", change.object().ipv4_addresses());
    string_list(json, "ipv6", change.object().ipv6_addresses());
  }
  json.end_object();
  return out;
}

}  // namespace dirfeed::rest
