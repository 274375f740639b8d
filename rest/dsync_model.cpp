#include "rest/dsync_model.hpp"

#include <algorithm>
#include <cctype>
#include <functional>
#include <string_view>

#include "core/base64.hpp"
#include "core/dn.hpp"
#include "core/guid.hpp"
#include "core/text.hpp"
#include "proto/account.hpp"

namespace dirfeed::rest {
namespace {

constexpr std::string_view kUserSchema = "urn:ietf:params:scim:schemas:core:2.0:User";
constexpr std::string_view kEnterpriseSchema =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
constexpr std::string_view kAdUserSchema = "urn:dirfeed:params:scim:schemas:extension:ad:1.0:User";
constexpr std::string_view kGroupSchema = "urn:ietf:params:scim:schemas:core:2.0:Group";
constexpr std::string_view kAdGroupSchema =
    "urn:dirfeed:params:scim:schemas:extension:ad:1.0:Group";

// A member only when `text` is not empty (SCIM omits unset attributes).
void optional_member(JsonWriter& json, std::string_view name, std::string_view text) {
  if (!text.empty()) json.member(name, text);
}

std::string user_name(const pb::DirectoryObject& user) {
  if (!user.user_principal_name().empty()) return user.user_principal_name();
  if (user.netbios_domain().empty()) return user.sam_account_name();
  return user.netbios_domain() + "\\" + user.sam_account_name();
}

// in_directory over what both forms of an object give; in_group(g): g is in its member_of.
template <typename InGroup>
bool in_directory_view(const pb::Directory& directory, std::string_view guid, bool from_directory,
                       std::string_view domain, std::string_view dn, const InGroup& in_group) {
  // A SCIM directory shows what its identity provider pushed, nothing else.
  if (changefeed::is_source_domain(directory.domain()) || changefeed::is_source_domain(domain)) {
    return domain == directory.domain();
  }
  if (!from_directory && !directory.include_api_users()) return false;
  if (!iequals(domain, directory.domain())) return false;
  if (directory.base_dns_size() > 0 &&
      std::none_of(directory.base_dns().begin(), directory.base_dns().end(),
                   [&](const std::string& base) { return dn_within(dn, base); })) {
    return false;
  }
  if (!directory.group_guid().empty()) {
    return guid == directory.group_guid() || in_group(directory.group_guid());
  }
  return true;
}

}  // namespace

bool in_directory(const pb::Directory& directory, const pb::DirectoryObject& object) {
  return in_directory_view(directory, object.guid(), object.from_directory(), object.domain(),
                           object.dn(), [&](const std::string& group) {
                             return std::find(object.member_of().begin(), object.member_of().end(),
                                              group) != object.member_of().end();
                           });
}

bool in_directory(const pb::Directory& directory, std::string_view guid, bool from_directory,
                  std::string_view domain, std::string_view dn, std::string_view member_of) {
  return in_directory_view(directory, guid, from_directory, domain, dn,
                           [&](const std::string& group) {
                             constexpr size_t kGuidSize = 16;
                             for (size_t at = 0; at + kGuidSize <= member_of.size();
                                  at += kGuidSize) {
                               if (member_of.substr(at, kGuidSize) == group) return true;
                             }
                             return false;
                           });
}

std::string user_email(const pb::DirectoryObject& user) {
  return !user.mail().empty() ? user.mail() : user.user_principal_name();
}

void write_dsync_user(JsonWriter& json, const pb::DirectoryObject& user,
                      std::string_view directory_id, size_t* directory_id_at) {
  const std::string id = guid_to_string(user.guid());
  const std::string email = user_email(user);
  const bool active = account_enabled(user);
  json.begin_object();
  json.member("id", id);
  json.member("first_name", user.given_name());
  json.member("last_name", user.surname());
  json.member("email", email);
  json.key("active");
  json.boolean(active);
  if (!directory_id.empty()) {
    json.member("directoryId", directory_id);
  } else if (directory_id_at != nullptr) {
    *directory_id_at = json.out().size();
  }

  json.key("raw");
  if (!user.source_resource().empty()) {  // pushed by an identity provider: as it pushed it
    json.raw(user.source_resource());
    json.end_object();
    return;
  }
  json.begin_object();
  json.key("schemas");
  json.begin_array();
  json.string(kUserSchema);
  json.string(kEnterpriseSchema);
  json.string(kAdUserSchema);
  json.end_array();
  json.member("id", id);
  json.member("externalId", base64_encode(user.guid()));
  json.member("userName", user_name(user));
  json.key("name");
  json.begin_object();
  optional_member(json, "givenName", user.given_name());
  optional_member(json, "familyName", user.surname());
  json.end_object();
  optional_member(json, "displayName", user.display_name());
  if (!email.empty()) {
    json.key("emails");
    json.begin_array();
    json.begin_object();
    json.key("primary");
    json.boolean(true);
    json.member("value", email);
    json.member("type", "work");
    json.end_object();
    json.end_array();
  }
  if (!user.telephone_number().empty() || user.other_telephones_size() > 0) {
    json.key("phoneNumbers");
    json.begin_array();
    auto phone = [&](const std::string& number) {
      json.begin_object();
      json.member("value", number);
      json.member("type", "work");
      json.end_object();
    };
    if (!user.telephone_number().empty()) phone(user.telephone_number());
    for (const std::string& number : user.other_telephones()) phone(number);
    json.end_array();
  }
  optional_member(json, "title", user.title());
  json.key("active");
  json.boolean(active);
  json.key("groups");
  json.begin_array();
  for (const std::string& group : user.member_of()) {
    json.begin_object();
    json.member("value", guid_to_string(group));
    json.end_object();
  }
  json.end_array();
  json.key(kEnterpriseSchema);
  json.begin_object();
  optional_member(json, "department", user.department());
  json.end_object();
  json.key(kAdUserSchema);
  json.begin_object();
  optional_member(json, "distinguishedName", user.dn());
  optional_member(json, "sAMAccountName", user.sam_account_name());
  optional_member(json, "objectSid", user.sid());
  optional_member(json, "userPrincipalName", user.user_principal_name());
  optional_member(json, "domain", user.domain());
  optional_member(json, "netbiosDomain", user.netbios_domain());
  optional_member(json, "whenCreated", user.when_created());
  json.end_object();
  json.end_object();  // raw

  json.end_object();
}

void write_dsync_group(JsonWriter& json, const pb::DirectoryObject& group,
                       std::string_view directory_id, const changefeed::Store* store,
                       const pb::Directory* directory, bool member_pairs) {
  const std::string id = guid_to_string(group.guid());
  // Calls `write` with each user member the group shows.
  const auto for_each_member = [&](const std::function<void(const pb::DirectoryObject&)>& write) {
    store->members(group.guid(), [&](const pb::DirectoryObject& member) {
      if (member.kind() == pb::USER && (directory == nullptr || in_directory(*directory, member))) {
        write(member);
      }
      return true;
    });
  };
  // raw.members (only with a store).
  const auto write_members = [&](JsonWriter& out) {
    out.key("members");
    out.begin_array();
    for_each_member([&](const pb::DirectoryObject& member) {
      out.begin_object();
      out.member("value", guid_to_string(member.guid()));
      const std::string email = user_email(member);
      out.member("display", !email.empty() ? email : user_name(member));
      out.end_object();
    });
    out.end_array();
  };
  const std::string& name =
      !group.display_name().empty() ? group.display_name() : group.sam_account_name();
  json.begin_object();
  json.member("id", id);
  json.member("name", name);
  if (!directory_id.empty()) json.member("directoryId", directory_id);

  json.key("raw");
  const std::string& pushed = group.source_resource();
  if (pushed.size() >= 2 && pushed.back() == '}') {
    // Pushed by an identity provider: as it pushed it (an object), members from the store.
    if (store == nullptr) {
      json.raw(pushed);
    } else {
      json.raw(std::string_view(pushed).substr(0, pushed.size() - 1));
      if (pushed.size() > 2) json.out().push_back(',');
      JsonWriter inner(json.out());
      write_members(inner);
      json.out().push_back('}');
    }
  } else {
    json.begin_object();
    json.key("schemas");
    json.begin_array();
    json.string(kGroupSchema);
    json.string(kAdGroupSchema);
    json.end_array();
    json.member("id", id);
    json.member("displayName", name);
    if (store != nullptr) write_members(json);
    json.key(kAdGroupSchema);
    json.begin_object();
    optional_member(json, "distinguishedName", group.dn());
    optional_member(json, "sAMAccountName", group.sam_account_name());
    optional_member(json, "objectSid", group.sid());
    optional_member(json, "description", group.description());
    optional_member(json, "mail", group.mail());
    optional_member(json, "domain", group.domain());
    json.end_object();
    json.end_object();  // raw
  }

  if (store != nullptr && member_pairs) {
    json.key("members");
    json.begin_array();
    for_each_member([&](const pb::DirectoryObject& member) {
      json.begin_object();
      json.member("group_id", id);
      json.member("user_id", guid_to_string(member.guid()));
      json.end_object();
    });
    json.end_array();
  }
  json.end_object();
}

}  // namespace dirfeed::rest
