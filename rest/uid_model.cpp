#include "rest/uid_model.hpp"

#include <algorithm>
#include <cstdio>
#include <string_view>

#include "core/guid.hpp"

namespace dirfeed::rest {
namespace {

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

int64_t timestamp_us(const pb::DirectoryObject& object) {
  return object.last_change_us() != 0 ? object.last_change_us() : object.last_read_us();
}

void ntlm_identity(JsonWriter& json, const pb::DirectoryObject& object,
                   const std::vector<DomainInfo>& domains) {
  std::string netbios = object.netbios_domain();
  if (netbios.empty()) {
    for (const DomainInfo& domain : domains) {
      if (domain.name == object.domain()) netbios = domain.netbios_name;
    }
  }
  const std::string identity = netbios + "\\" + object.sam_account_name();
  json.member("NTLMIdentity", identity);
  json.member("NTLMIIdentity", identity);
}

void address_list(JsonWriter& json, std::string_view name,
                  const google::protobuf::RepeatedPtrField<std::string>& list) {
  if (list.empty()) return;
  json.key(name);
  json.begin_array();
  for (const std::string& entry : list) json.string(entry);
  json.end_array();
}

void groups(JsonWriter& json, const pb::DirectoryObject& object, const GroupDn& group_dn) {
  // Writes the DN of the group with that GUID, unless there is no such group.
  const auto write_dn = [&](const std::string& guid) {
    const std::string* dn = group_dn(guid);
    if (dn != nullptr && !dn->empty()) json.string(*dn);
  };
  json.key("groups");
  json.begin_array();
  // Its groups from AD, then those the API added that AD does not list.
  const auto& ad = object.member_of();
  const auto& api = object.api_groups();
  for (const std::string& guid : ad) write_dn(guid);
  for (auto it = api.begin(); it != api.end(); ++it) {
    if (std::find(ad.begin(), ad.end(), *it) == ad.end() &&
        std::find(api.begin(), it, *it) == it) {
      write_dn(*it);
    }
  }
  json.end_array();
}

}  // namespace

void write_uid_user(JsonWriter& json, const pb::DirectoryObject& object,
                    const std::vector<DomainInfo>& domains, const GroupDn& group_dn) {
  json.begin_object();
  json.member("dn", object.dn());
  json.member("changetype", changetype_name(object.last_change()));
  json.member("sAMAccountName", object.sam_account_name());
  ntlm_identity(json, object, domains);
  json.member("mail", object.mail());
  address_list(json, "ipv4_addresses", object.ipv4_addresses());
  address_list(json, "ipv6_addresses", object.ipv6_addresses());
  json.member("objectGUID", guid_to_string(object.guid()));
  groups(json, object, group_dn);
  json.member("timestamp", epoch_seconds(timestamp_us(object)));
  json.end_object();
}

void write_uid_group(JsonWriter& json, const pb::DirectoryObject& object,
                     const std::vector<DomainInfo>& domains, const GroupDn& group_dn) {
  json.begin_object();
  json.member("dn", object.dn());
  json.member("sAMAccountName", object.sam_account_name());
  ntlm_identity(json, object, domains);
  json.member("objectGUID", guid_to_string(object.guid()));
  groups(json, object, group_dn);
  json.member("objectClass", "Group");
  json.member("changetype", changetype_name(object.last_change()));
  json.member("timestamp", epoch_seconds(timestamp_us(object)));
  json.end_object();
}

}  // namespace dirfeed::rest
